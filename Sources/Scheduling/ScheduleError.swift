import Foundation

/// Error thrown when a schedule, cron expression, duration, jitter or date-time text is invalid.
///
/// The description names the rejected text, the field or part that failed and, where one exists, the fix, for example
/// `invalid cron expression "*/0 * * * *": step 0 in minute field must be 1 or more`.
public struct ScheduleError: Error, Sendable, Equatable, CustomStringConvertible, LocalizedError {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }

    public var errorDescription: String? { description }
}

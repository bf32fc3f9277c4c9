import Foundation

/// When a target runs: on a cron expression evaluated in a time zone, or at a fixed interval.
///
/// The text form is a five-field cron expression (`*/5 * * * *`), a cron macro (`@hourly`) or `every DURATION`
/// (`every 30s`, see `DurationText`).
public enum Schedule: Sendable, Equatable, CustomStringConvertible {
    case cron(CronExpression)
    /// Interval that fires at `anchor + k * seconds` for whole numbers k of 0 or more. An interval of zero or less
    /// never fires.
    case interval(seconds: Double)

    /// Parses a cron expression, a macro or `every DURATION`.
    ///
    /// - Throws: `ScheduleError` naming the text, the field and the value, for invalid syntax, for a zero or
    ///   invalid interval, and for a cron expression that never fires (such as `0 0 30 2 *`).
    public static func parse(_ text: String) throws -> Schedule {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else {
            throw ScheduleError(
                "invalid schedule \"\(text)\": empty; use a cron expression such as \"*/5 * * * *\","
                    + " a macro such as \"@hourly\" or an interval such as \"every 30s\""
            )
        }

        let words = trimmed.split(maxSplits: 1, whereSeparator: { $0 == " " || $0 == "\t" })
        if words[0].lowercased() == "every" {
            return .interval(seconds: try parseInterval(words.count == 2 ? String(words[1]) : "", schedule: trimmed))
        }

        let expression = try CronExpression(trimmed)
        guard expression.canFire else {
            throw ScheduleError(
                "cron expression \"\(trimmed)\" never fires: no date matches its day-of-month, month and day-of-week"
                    + " fields; check that the day exists in the month"
            )
        }
        return .cron(expression)
    }

    private static func parseInterval(_ durationText: String, schedule: String) throws -> Double {
        guard !durationText.isEmpty else {
            throw ScheduleError("invalid schedule \"\(schedule)\": missing duration after \"every\", such as every 30s")
        }
        do {
            return try DurationText.parseSeconds(durationText, allowsZero: false)
        } catch let failure as DurationParseFailure {
            throw ScheduleError("invalid schedule \"\(schedule)\": duration \"\(durationText)\" is invalid: \(failure.detail)")
        }
    }

    /// Text that `parse` accepts and that yields an equal schedule, such as `*/5 * * * *` or `every 1m30s`.
    public var description: String {
        switch self {
        case .cron(let expression): return expression.text
        case .interval(let seconds): return "every " + DurationText.format(seconds)
        }
    }

    /// Returns the first fire time strictly after `date`, or nil when there is none.
    ///
    /// - Parameters:
    ///   - timeZone: zone whose wall clock a cron expression is evaluated on. Intervals ignore it.
    ///   - anchor: first fire time of an interval, such as the daemon's start time. Nil means the Unix epoch
    ///     (1970-01-01T00:00:00Z), so an interval that divides a day, such as `every 5m`, fires on UTC clock
    ///     multiples. Before the anchor the next fire time is the anchor itself. Cron expressions ignore it.
    /// - Returns: nil for a cron expression that never fires and for an interval that is not greater than zero.
    public func nextFireDate(after date: Date, in timeZone: TimeZone, anchor: Date? = nil) -> Date? {
        switch self {
        case .cron(let expression):
            return expression.nextDate(after: date, in: timeZone)
        case .interval(let seconds):
            return Self.nextIntervalDate(after: date, seconds: seconds, anchor: anchor ?? Date(timeIntervalSince1970: 0))
        }
    }

    /// Returns up to `count` successive fire times after `date`, fewer when the schedule stops firing.
    public func nextFireDates(after date: Date, in timeZone: TimeZone, count: Int, anchor: Date? = nil) -> [Date] {
        var dates: [Date] = []
        var cursor = date
        for _ in 0..<max(count, 0) {
            guard let next = nextFireDate(after: cursor, in: timeZone, anchor: anchor) else { break }
            dates.append(next)
            cursor = next
        }
        return dates
    }

    private static func nextIntervalDate(after date: Date, seconds: Double, anchor: Date) -> Date? {
        guard seconds > 0, seconds.isFinite else { return nil }
        guard date >= anchor else { return anchor }

        let periods = (date.timeIntervalSince(anchor) / seconds).rounded(.down) + 1
        var next = anchor + periods * seconds
        // Rounding in the division can land one period short, which would not be strictly after `date`.
        if next <= date {
            next = anchor + (periods + 1) * seconds
        }
        return next
    }
}

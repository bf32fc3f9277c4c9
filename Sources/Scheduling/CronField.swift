/// One of the five fields of a cron expression, with the values and names that crontab(5) accepts in it.
enum CronFieldKind: Int, CaseIterable, Sendable {
    case minute
    case hour
    case dayOfMonth
    case month
    case dayOfWeek

    /// Name used in error messages.
    var name: String {
        switch self {
        case .minute: return "minute"
        case .hour: return "hour"
        case .dayOfMonth: return "day-of-month"
        case .month: return "month"
        case .dayOfWeek: return "day-of-week"
        }
    }

    /// Values accepted in the text. Day-of-week accepts 7 as a second spelling of Sunday.
    var acceptedRange: ClosedRange<Int> {
        switch self {
        case .minute: return 0...59
        case .hour: return 0...23
        case .dayOfMonth: return 1...31
        case .month: return 1...12
        case .dayOfWeek: return 0...7
        }
    }

    /// Three-letter English names, in value order starting at `acceptedRange.lowerBound`.
    var valueNames: [String] {
        switch self {
        case .month: return ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
        case .dayOfWeek: return ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
        default: return []
        }
    }

    /// Accepted spellings for error messages, such as `1-12 or jan-dec`.
    var acceptedText: String {
        let numbers = "\(acceptedRange.lowerBound)-\(acceptedRange.upperBound)"
        guard let first = valueNames.first, let last = valueNames.last else { return numbers }
        return "\(numbers) or \(first)-\(last)"
    }
}

/// Set of small non-negative integers (0-63) stored as a bit mask.
struct CronValueSet: Equatable, Sendable {
    private(set) var bits: UInt64 = 0

    var isEmpty: Bool { bits == 0 }

    func contains(_ value: Int) -> Bool {
        value >= 0 && value < 64 && bits & (1 << UInt64(value)) != 0
    }

    mutating func insert(_ value: Int) {
        bits |= 1 << UInt64(value)
    }

    /// Smallest member that is `value` or larger, or nil when there is none.
    func first(atOrAfter value: Int) -> Int? {
        guard value < 64 else { return nil }
        let remaining = bits & (UInt64.max << UInt64(max(value, 0)))
        return remaining == 0 ? nil : remaining.trailingZeroBitCount
    }
}

/// Parsed cron field: the matching values and whether the text starts with `*`.
///
/// Vixie cron decides the day-of-month/day-of-week rule and its daylight saving handling from the first character
/// alone, so `*/2` counts as starting with `*` although it restricts the values.
struct CronField: Equatable, Sendable {
    let values: CronValueSet
    let startsWithStar: Bool
}

/// Detail of a field parse failure, wrapped by `CronExpression` into a `ScheduleError` that quotes the expression.
struct CronFieldParseFailure: Error {
    let detail: String
}

extension CronField {
    /// Parses a comma-separated list of `*`, values, ranges and steps, following crontab(5).
    ///
    /// A single value with a step, such as `5/15`, means the value through the field's maximum (`5-59/15`).
    /// Vixie cron's parser takes a step only after `*` or a range and rejects this form, so it is not portable.
    init(parsing text: Substring, kind: CronFieldKind) throws {
        var values = CronValueSet()
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard !item.isEmpty else {
                throw CronFieldParseFailure(detail: "empty list item in \(kind.name) field \"\(text)\"")
            }
            for value in try Self.parseItem(item, kind: kind) {
                // Day-of-week 7 is Sunday, stored as 0 so that a date's weekday needs one lookup.
                values.insert(kind == .dayOfWeek && value == 7 ? 0 : value)
            }
        }
        self.values = values
        self.startsWithStar = text.first == "*"
    }

    private static func parseItem(_ item: Substring, kind: CronFieldKind) throws -> StrideThrough<Int> {
        let parts = item.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2 else {
            throw CronFieldParseFailure(detail: "invalid item \"\(item)\" in \(kind.name) field; use at most one /")
        }

        let step = parts.count == 2 ? try parseStep(parts[1], kind: kind) : 1
        let base = parts[0]
        let range = kind.acceptedRange

        if base == "*" {
            return stride(from: range.lowerBound, through: range.upperBound, by: step)
        }

        let bounds = base.split(separator: "-", omittingEmptySubsequences: false)
        switch bounds.count {
        case 1:
            let value = try parseValue(bounds[0], kind: kind)
            let end = parts.count == 2 ? range.upperBound : value
            return stride(from: value, through: end, by: step)
        case 2:
            let start = try parseValue(bounds[0], kind: kind)
            let end = try parseValue(bounds[1], kind: kind)
            guard start <= end else {
                throw CronFieldParseFailure(
                    detail: "range \(base) in \(kind.name) field is reversed; put the smaller value first"
                )
            }
            return stride(from: start, through: end, by: step)
        default:
            throw CronFieldParseFailure(
                detail: "invalid range \"\(base)\" in \(kind.name) field; expected start-end such as 1-5"
            )
        }
    }

    private static func parseStep(_ text: Substring, kind: CronFieldKind) throws -> Int {
        guard !text.isEmpty, text.allSatisfy(\.isASCIIDigit) else {
            throw CronFieldParseFailure(
                detail: "invalid step \"\(text)\" in \(kind.name) field; expected a whole number 1 or more"
            )
        }
        // A step longer than any field matches only the start value, so the exact size of a huge step is moot.
        let step = Int(text) ?? Int.max
        guard step >= 1 else {
            throw CronFieldParseFailure(detail: "step \(text) in \(kind.name) field must be 1 or more")
        }
        return step
    }

    private static func parseValue(_ text: Substring, kind: CronFieldKind) throws -> Int {
        let range = kind.acceptedRange

        if !text.isEmpty, text.allSatisfy(\.isASCIIDigit) {
            guard let value = Int(text), range.contains(value) else {
                throw CronFieldParseFailure(
                    detail: "value \(text) in \(kind.name) field is out of range \(range.lowerBound)-\(range.upperBound)"
                )
            }
            return value
        }

        if !kind.valueNames.isEmpty, !text.isEmpty, text.allSatisfy(\.isLetter) {
            guard let index = kind.valueNames.firstIndex(of: text.lowercased()) else {
                throw CronFieldParseFailure(
                    detail: "unknown name \"\(text)\" in \(kind.name) field; use \(kind.acceptedText)"
                )
            }
            return range.lowerBound + index
        }

        throw CronFieldParseFailure(
            detail: "invalid value \"\(text)\" in \(kind.name) field; expected \(kind.acceptedText)"
        )
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

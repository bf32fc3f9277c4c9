import Foundation

/// Five-field cron expression with the semantics of Vixie/ISC cron as documented in Debian's crontab(5).
///
/// Fields are minute (0-59), hour (0-23), day of month (1-31), month (1-12 or `jan`-`dec`) and day of week (0-7 or
/// `sun`-`sat`, where 0 and 7 are Sunday). Each field is a comma-separated list of `*`, values, ranges (`1-5`,
/// `mon-fri`) and steps (`*/15`, `10-50/20`, and `5/15` meaning `5-59/15`). Names are case-insensitive. The macros
/// `@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`, `@midnight` and `@hourly` stand for their usual
/// expressions.
///
/// When both the day-of-month and day-of-week fields are restricted (neither starts with `*`), a day matches if
/// either field matches. Otherwise a day must match both.
///
/// Expressions that are valid but never fire, such as `0 0 30 2 *`, are accepted here and `nextDate` returns nil
/// for them. `Schedule.parse` rejects them.
public struct CronExpression: Sendable, Equatable, CustomStringConvertible {
    /// Expression text as given, without surrounding whitespace.
    public let text: String

    let fields: CronFields

    /// Whether some date in a full 400-year Gregorian cycle matches. The calendar, weekdays included, repeats every
    /// 400 years, so a false value means that the expression never fires.
    public let canFire: Bool

    static let macros: [(name: String, expansion: String)] = [
        ("@yearly", "0 0 1 1 *"),
        ("@annually", "0 0 1 1 *"),
        ("@monthly", "0 0 1 * *"),
        ("@weekly", "0 0 * * 0"),
        ("@daily", "0 0 * * *"),
        ("@midnight", "0 0 * * *"),
        ("@hourly", "0 * * * *"),
    ]

    /// Parses a five-field expression or a macro.
    ///
    /// - Throws: `ScheduleError` naming the expression, the field and the rejected value, for a wrong field count,
    ///   a value out of range, a reversed range, a step of 0, an unknown name or macro, or an empty list item.
    public init(_ text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        self.text = trimmed

        let fieldsText: String
        if trimmed.hasPrefix("@") {
            guard let macro = Self.macros.first(where: { $0.name == trimmed.lowercased() }) else {
                let names = Self.macros.map(\.name).joined(separator: ", ")
                throw ScheduleError("invalid cron expression \"\(trimmed)\": unknown macro; use one of \(names)")
            }
            fieldsText = macro.expansion
        } else {
            fieldsText = trimmed
        }

        let parts = fieldsText.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard parts.count == CronFieldKind.allCases.count else {
            throw ScheduleError(
                "invalid cron expression \"\(trimmed)\": expected 5 fields"
                    + " (minute hour day-of-month month day-of-week) but found \(parts.count)"
            )
        }

        do {
            fields = CronFields(
                minutes: try CronField(parsing: parts[0], kind: .minute),
                hours: try CronField(parsing: parts[1], kind: .hour),
                daysOfMonth: try CronField(parsing: parts[2], kind: .dayOfMonth),
                months: try CronField(parsing: parts[3], kind: .month),
                daysOfWeek: try CronField(parsing: parts[4], kind: .dayOfWeek)
            )
        } catch let failure as CronFieldParseFailure {
            throw ScheduleError("invalid cron expression \"\(trimmed)\": \(failure.detail)")
        }

        let cycleStart = CivilDateTime(year: 2000, month: 1, day: 1).wallSeconds
        let cycleEnd = CivilDateTime(year: 2401, month: 1, day: 1).wallSeconds
        canFire = fields.firstMatchingWallTime(from: cycleStart, before: cycleEnd) != nil
    }

    public var description: String { text }

    /// Compares the parsed fields, so `@daily` equals `0 0 * * *` and `0 0 * * 7` equals `0 0 * * 0`.
    public static func == (lhs: CronExpression, rhs: CronExpression) -> Bool {
        lhs.fields == rhs.fields
    }

    /// Whether the minute or hour field starts with `*`, which Vixie cron calls a wildcard job.
    ///
    /// Wildcard expressions follow real time across daylight saving changes: they fire in both passes of a repeated
    /// hour and do not catch up on wall times skipped by a gap. Other expressions fire once for a repeated time and
    /// fire right after a gap for a skipped time.
    public var hasWildcardTime: Bool {
        fields.minutes.startsWithStar || fields.hours.startsWithStar
    }
}

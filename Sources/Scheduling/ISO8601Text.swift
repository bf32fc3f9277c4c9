import Foundation

/// ISO 8601 extended-format date-times with a UTC offset, as used for fire times on the command line.
public enum ISO8601Text {
    /// Formats `date` on the wall clock of `timeZone` with its offset, such as `2026-03-29T03:00:00+02:00`.
    ///
    /// UTC is written `+00:00`, not `Z`. Milliseconds follow the seconds (`.250`) only when they are not zero.
    ///
    /// NOTE: Offsets that are not whole minutes (local mean time before about 1900) are truncated to minutes, and
    /// the wall time is computed with the truncated offset so that the text still names the same instant.
    public static func format(_ date: Date, timeZone: TimeZone) -> String {
        let offset = timeZone.secondsFromGMT(for: date) / 60 * 60
        let totalMilliseconds = Int((date.timeIntervalSince1970 * 1000).rounded()) + offset * 1000
        let wallSeconds = floorDivide(totalMilliseconds, 1000)
        let milliseconds = totalMilliseconds - wallSeconds * 1000
        let time = CivilDateTime(wallSeconds: wallSeconds)

        var text = String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d", time.year, time.month, time.day, time.hour, time.minute, time.second
        )
        if milliseconds != 0 {
            text += String(format: ".%03d", milliseconds)
        }

        let sign = offset < 0 ? "-" : "+"
        let offsetMinutes = abs(offset) / 60
        text += sign + String(format: "%02d:%02d", offsetMinutes / 60, offsetMinutes % 60)
        return text
    }

    /// Parses `YYYY-MM-DD`, optionally followed by `T` (or `t` or a space) and `HH:MM`, `HH:MM:SS` or
    /// `HH:MM:SS.fraction`, optionally followed by `Z`, `±HH:MM`, `±HHMM` or `±HH`.
    ///
    /// Text without an offset is a wall time in `defaultTimeZone`, and a date alone means its midnight. A wall time
    /// that occurs twice because clocks fall back means its first occurrence.
    ///
    /// - Throws: `ScheduleError` quoting the text for bad syntax, an out-of-range field, an offset without a time,
    ///   and a wall time that `defaultTimeZone` skips because clocks spring forward.
    public static func parse(_ text: String, defaultTimeZone: TimeZone) throws -> Date {
        var scanner = DateTimeScanner(text: text, defaultTimeZone: defaultTimeZone)
        do {
            return try scanner.scanDate()
        } catch let failure as DateTimeParseFailure {
            throw ScheduleError("invalid date-time \"\(text)\": \(failure.detail)")
        }
    }
}

/// Detail of a date-time parse failure, wrapped by `ISO8601Text.parse` into a `ScheduleError`.
struct DateTimeParseFailure: Error {
    let detail: String
}

/// Left-to-right reader over the characters of one date-time text.
private struct DateTimeScanner {
    static let example = "2026-03-29T03:00:00+02:00, 2026-03-29T01:00:00Z or 2026-03-29T03:00"

    let characters: [Character]
    let defaultTimeZone: TimeZone
    var position = 0

    init(text: String, defaultTimeZone: TimeZone) {
        characters = Array(text.trimmingCharacters(in: .whitespacesAndNewlines))
        self.defaultTimeZone = defaultTimeZone
    }

    mutating func scanDate() throws -> Date {
        var time = CivilDateTime(year: 0, month: 1, day: 1)
        time.year = try scanNumber(digits: 4, name: "year")
        try expect("-")
        time.month = try scanNumber(digits: 2, name: "month", range: 1...12)
        try expect("-")
        time.day = try scanNumber(digits: 2, name: "day")
        let daysInMonth = CivilDateTime.daysInMonth(year: time.year, month: time.month)
        guard (1...daysInMonth).contains(time.day) else {
            throw DateTimeParseFailure(
                detail: "day \(time.day) is out of range 1-\(daysInMonth) for \(String(format: "%04d-%02d", time.year, time.month))"
            )
        }

        guard let separator = peek() else {
            return try resolveWallTime(time, fraction: 0)
        }
        guard separator == "T" || separator == "t" || separator == " " else {
            throw unexpected()
        }
        position += 1

        time.hour = try scanNumber(digits: 2, name: "hour", range: 0...23)
        try expect(":")
        time.minute = try scanNumber(digits: 2, name: "minute", range: 0...59)
        var fraction = 0.0
        if peek() == ":" {
            position += 1
            time.second = try scanNumber(digits: 2, name: "second", range: 0...59)
            if peek() == "." || peek() == "," {
                fraction = try scanFraction()
            }
        }

        guard let offset = try scanOffset() else {
            return try resolveWallTime(time, fraction: fraction)
        }
        guard position == characters.count else { throw unexpected() }
        return Date(timeIntervalSince1970: TimeInterval(time.wallSeconds - offset) + fraction)
    }

    private func peek() -> Character? {
        position < characters.count ? characters[position] : nil
    }

    private func unexpected() -> DateTimeParseFailure {
        let found = position < characters.count ? "\"\(characters[position])\"" : "the end"
        return DateTimeParseFailure(
            detail: "unexpected \(found) at character \(position + 1); expected a form such as \(Self.example)"
        )
    }

    private mutating func expect(_ character: Character) throws {
        guard peek() == character else { throw unexpected() }
        position += 1
    }

    private mutating func scanNumber(digits: Int, name: String, range: ClosedRange<Int>? = nil) throws -> Int {
        var value = 0
        for _ in 0..<digits {
            guard let character = peek(), let digit = character.wholeNumberValue, character.isASCII else {
                throw unexpected()
            }
            value = value * 10 + digit
            position += 1
        }
        if let range, !range.contains(value) {
            throw DateTimeParseFailure(
                detail: "\(name) \(value) is out of range \(range.lowerBound)-\(range.upperBound)"
            )
        }
        return value
    }

    private mutating func scanFraction() throws -> Double {
        position += 1
        let start = position
        while let character = peek(), character.isASCIIDigit {
            position += 1
        }
        guard position > start, let fraction = Double("0." + String(characters[start..<position])) else {
            throw unexpected()
        }
        return fraction
    }

    /// Reads `Z`, `±HH:MM`, `±HHMM` or `±HH` and returns the offset in seconds, or nil at the end of the text.
    private mutating func scanOffset() throws -> Int? {
        guard let character = peek() else { return nil }
        if character == "Z" || character == "z" {
            position += 1
            return 0
        }
        guard character == "+" || character == "-" else { throw unexpected() }
        position += 1

        let hours = try scanNumber(digits: 2, name: "offset hour", range: 0...23)
        var minutes = 0
        if peek() == ":" {
            position += 1
            minutes = try scanNumber(digits: 2, name: "offset minute", range: 0...59)
        } else if peek() != nil {
            minutes = try scanNumber(digits: 2, name: "offset minute", range: 0...59)
        }
        let seconds = hours * 3600 + minutes * 60
        return character == "-" ? -seconds : seconds
    }

    private func resolveWallTime(_ time: CivilDateTime, fraction: Double) throws -> Date {
        guard position == characters.count else { throw unexpected() }
        guard let first = defaultTimeZone.instants(forWallSeconds: time.wallSeconds).first else {
            let wallTimeText = String(
                format: "%04d-%02d-%02dT%02d:%02d", time.year, time.month, time.day, time.hour, time.minute
            )
            throw DateTimeParseFailure(
                detail: "local time \(wallTimeText) does not exist in \(defaultTimeZone.identifier) because clocks skip it"
                    + " for daylight saving time; add an offset such as +01:00"
            )
        }
        return first + fraction
    }
}

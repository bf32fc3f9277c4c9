import Foundation

/// Durations written as numbers with units, such as `30s`, `1.5h` or `1h30m`.
///
/// A duration is one or more parts, each an integer or decimal number (`5`, `0.25`, never `.5` or `-5`) followed
/// by a unit: `d` (86,400 s), `h` (3,600 s), `m` (60 s), `s` or `ms`. Parts go from the largest unit to the smallest,
/// each unit at most once, with no spaces between them. Surrounding whitespace is ignored.
public enum DurationText {
    /// Units in the order that parts must follow, with their length in seconds.
    static let units: [(symbol: String, seconds: Double)] = [
        ("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1), ("ms", 0.001),
    ]

    static let acceptedUnitsText = "ms, s, m, h, d"

    /// Parses `text` into seconds.
    ///
    /// - Parameter allowsZero: whether a total of zero, such as `0s`, is valid. It is invalid by default because an
    ///   interval or timeout of zero is almost always a mistake.
    /// - Throws: `ScheduleError` naming the text and the accepted units when the text is empty, negative, lacks a
    ///   unit, has an unknown unit, has units out of order, is zero while `allowsZero` is false, or is too large.
    public static func parse(_ text: String, allowsZero: Bool = false) throws -> Double {
        do {
            return try parseSeconds(text, allowsZero: allowsZero)
        } catch let failure as DurationParseFailure {
            throw ScheduleError("invalid duration \"\(text)\": \(failure.detail)")
        }
    }

    /// Formats `seconds` with the largest units first and zero parts left out, such as `1h30m` or `1d`.
    ///
    /// Whole milliseconds format exactly, so `parse(format(x)) == x` for them (`90` gives `1m30s`, `0.5` gives
    /// `500ms`, `0` gives `0s`). A fraction of a millisecond becomes a decimal part of the `ms` field, rounded to
    /// nanoseconds (`0.0000015` gives `0.0015ms`). Negative values get a leading `-`, which `parse` rejects.
    public static func format(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "\(seconds)s" }
        guard seconds != 0 else { return "0s" }

        let sign = seconds < 0 ? "-" : ""
        let totalMilliseconds = abs(seconds) * 1000
        guard totalMilliseconds < 9.0e15 else {
            // Past 2^53 ms a Double cannot represent every whole millisecond, so only whole seconds are printed.
            return sign + String(format: "%.0fs", abs(seconds))
        }

        var remaining = Int(totalMilliseconds.rounded(.down))
        var fractionNanoseconds = Int(((totalMilliseconds - Double(remaining)) * 1_000_000).rounded())
        if fractionNanoseconds == 1_000_000 {
            remaining += 1
            fractionNanoseconds = 0
        }

        var text = sign
        for unit in units.dropLast() {
            let unitMilliseconds = Int(unit.seconds * 1000)
            let count = remaining / unitMilliseconds
            if count > 0 {
                text += "\(count)\(unit.symbol)"
                remaining -= count * unitMilliseconds
            }
        }

        if fractionNanoseconds > 0 {
            let digits = String(format: "%06d", fractionNanoseconds).reversed().drop(while: { $0 == "0" }).reversed()
            text += "\(remaining).\(String(digits))ms"
        } else if remaining > 0 {
            text += "\(remaining)ms"
        }
        return text == sign ? sign + "0s" : text
    }
}

/// Detail of a duration parse failure, wrapped by callers into a `ScheduleError` that quotes the full text.
struct DurationParseFailure: Error {
    let detail: String
}

extension DurationText {
    /// Parses the grammar described on `DurationText` and throws `DurationParseFailure` with a detail message.
    static func parseSeconds(_ text: String, allowsZero: Bool) throws -> Double {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else {
            throw DurationParseFailure(
                detail: "empty; expected a number followed by a unit (\(acceptedUnitsText)), such as 30s or 1h30m"
            )
        }
        guard !trimmed.hasPrefix("-") else {
            throw DurationParseFailure(detail: "must not be negative")
        }

        var total = 0.0
        var previousUnitIndex = -1
        var rest = Substring(trimmed)
        while !rest.isEmpty {
            let number = rest.prefix(while: { $0.isASCIIDigit || $0 == "." })
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix(while: { !$0.isASCIIDigit && $0 != "." })
            rest = rest.dropFirst(unit.count)

            guard let value = parseNumber(number) else {
                let invalidText = number.isEmpty ? unit : number
                throw DurationParseFailure(
                    detail: "expected a number such as 30 or 1.5 but found \"\(invalidText)\""
                )
            }
            guard !unit.isEmpty else {
                throw DurationParseFailure(
                    detail: "missing unit after \(number); accepted units: \(acceptedUnitsText)"
                )
            }
            guard let unitIndex = units.firstIndex(where: { $0.symbol == unit }) else {
                throw DurationParseFailure(
                    detail: "unknown unit \"\(unit)\"; accepted units: \(acceptedUnitsText)"
                )
            }
            guard unitIndex > previousUnitIndex else {
                throw DurationParseFailure(
                    detail: "units must go from largest to smallest, each at most once (d, h, m, s, ms)"
                )
            }
            previousUnitIndex = unitIndex

            // Dividing for milliseconds keeps 500ms exactly 0.5 s, which multiplying by 0.001 would not.
            total += unit == "ms" ? value / 1000 : value * units[unitIndex].seconds
        }

        guard total.isFinite else {
            throw DurationParseFailure(detail: "too large")
        }
        guard allowsZero || total > 0 else {
            throw DurationParseFailure(detail: "must be greater than zero")
        }
        return total
    }

    private static func parseNumber(_ text: Substring) -> Double? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), parts.allSatisfy({ !$0.isEmpty }) else { return nil }
        return Double(text)
    }
}

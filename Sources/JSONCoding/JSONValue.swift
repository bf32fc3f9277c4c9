import Foundation

/// A JSON document (RFC 8259) whose objects keep their keys in insertion order, so reports and API
/// responses print their fields in a stable, readable order.
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    /// An integer that prints without a fraction; parsed numbers without `.`, `e` or `E` that fit in 64 bits.
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.integer(a), .integer(b)): return a == b
        case let (.number(a), .number(b)): return a == b
        case let (.integer(a), .number(b)), let (.number(b), .integer(a)): return Double(a) == b
        case let (.string(a), .string(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// The value of `key` in an object; nil for a missing key or a value that is not an object.
    /// When a key repeats, the first occurrence wins.
    public subscript(key: String) -> JSONValue? {
        guard case let .object(members) = self else { return nil }
        return members.first(where: { $0.0 == key })?.1
    }

    public var stringValue: String? {
        if case let .string(value) = self { return value }
        return nil
    }

    public var boolValue: Bool? {
        if case let .bool(value) = self { return value }
        return nil
    }

    /// The number as a Double, for both integer and fractional numbers.
    public var doubleValue: Double? {
        switch self {
        case let .integer(value): return Double(value)
        case let .number(value): return value
        default: return nil
        }
    }

    /// The number as an Int64 when it has no fractional part.
    public var integerValue: Int64? {
        switch self {
        case let .integer(value): return value
        case let .number(value):
            guard value.rounded() == value, abs(value) < 9.0e18 else { return nil }
            return Int64(value)
        default: return nil
        }
    }

    public var arrayValue: [JSONValue]? {
        if case let .array(values) = self { return values }
        return nil
    }

    public var objectValue: [(String, JSONValue)]? {
        if case let .object(members) = self { return members }
        return nil
    }

    /// Resolves a JSON Pointer (RFC 6901) such as `/retrieval/fallback` or `/choices/0/text`.
    /// The empty pointer is the whole document.
    public func value(atPointer pointer: String) -> JSONValue? {
        if pointer.isEmpty { return self }
        guard pointer.hasPrefix("/") else { return nil }
        var current = self
        for rawToken in pointer.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            // Most tokens have no escape, and skipping Foundation's replace for them keeps per-response checks cheap.
            let token = rawToken.contains("~")
                ? rawToken.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
                : String(rawToken)
            switch current {
            case .object:
                guard let next = current[token] else { return nil }
                current = next
            case let .array(values):
                guard let index = Int(token), index >= 0, index < values.count else { return nil }
                current = values[index]
            default:
                return nil
            }
        }
        return current
    }
}

extension JSONValue {
    /// Builds a number value from an optional, mapping nil to `null`.
    public static func number(_ value: Double?) -> JSONValue {
        guard let value else { return .null }
        return .number(value)
    }

    public static func integer(_ value: Int) -> JSONValue {
        .integer(Int64(value))
    }
}

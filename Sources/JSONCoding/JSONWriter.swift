import Foundation

extension JSONValue {
    /// Serializes the value as JSON. Non-finite numbers, which JSON cannot represent, print as `null`.
    /// - Parameter pretty: indent nested values by two spaces, one member per line.
    public func serialized(pretty: Bool = false) -> String {
        var output = ""
        write(to: &output, pretty: pretty, indent: 0)
        return output
    }

    private func write(to output: inout String, pretty: Bool, indent: Int) {
        switch self {
        case .null:
            output += "null"
        case let .bool(value):
            output += value ? "true" : "false"
        case let .integer(value):
            output += String(value)
        case let .number(value):
            output += JSONValue.format(value)
        case let .string(value):
            JSONValue.writeEscaped(value, to: &output)
        case let .array(values):
            writeContainer(values.map { (nil as String?, $0) }, open: "[", close: "]", to: &output, pretty: pretty, indent: indent)
        case let .object(members):
            writeContainer(members.map { (Optional($0.0), $0.1) }, open: "{", close: "}", to: &output, pretty: pretty, indent: indent)
        }
    }

    private func writeContainer(
        _ items: [(String?, JSONValue)], open: String, close: String,
        to output: inout String, pretty: Bool, indent: Int
    ) {
        output += open
        if items.isEmpty {
            output += close
            return
        }
        let innerPad = String(repeating: " ", count: (indent + 1) * 2)
        for (position, (key, value)) in items.enumerated() {
            if position > 0 { output += "," }
            if pretty { output += "\n" + innerPad }
            if let key {
                JSONValue.writeEscaped(key, to: &output)
                output += pretty ? ": " : ":"
            }
            value.write(to: &output, pretty: pretty, indent: indent + 1)
        }
        if pretty { output += "\n" + String(repeating: " ", count: indent * 2) }
        output += close
    }

    /// Formats a finite Double with the shortest digits that round-trip; integral values print without `.0`.
    static func format(_ value: Double) -> String {
        guard value.isFinite else { return "null" }
        if value == value.rounded(), abs(value) < 1e15 {
            return String(Int64(value))
        }
        return "\(value)"
    }

    static func writeEscaped(_ text: String, to output: inout String) {
        output += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case "\u{08}": output += "\\b"
            case "\u{0C}": output += "\\f"
            default:
                if scalar.value < 0x20 || scalar.value == 0x2028 || scalar.value == 0x2029 {
                    output += String(format: "\\u%04x", scalar.value)
                } else {
                    output.unicodeScalars.append(scalar)
                }
            }
        }
        output += "\""
    }

    /// Returns `text` as a JSON string literal, quotes included.
    public static func quoted(_ text: String) -> String {
        var output = ""
        writeEscaped(text, to: &output)
        return output
    }
}

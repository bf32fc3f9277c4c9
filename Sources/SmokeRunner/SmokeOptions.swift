import Foundation
import Reporting

/// Everything that defines one smoke run, from the command line or a daemon target. `validate()` checks it before
/// anything is sent.
public struct SmokeOptions: Sendable {
    /// Base URL; requests go to `url` + `path`.
    public var url = "http://localhost:8000"
    public var path = "/chat"
    public var method = "POST"
    public var requests = 50
    public var concurrency = 10
    /// Per-request timeout in seconds.
    public var timeoutSeconds = 30.0
    /// Sent as `Authorization: Bearer KEY`; never printed or stored.
    public var apiKey: String?
    /// Names sent in `X-Simulate-Failure`, comma-separated.
    public var simulate: [String] = []
    public var budgets: [Budget] = Budget.defaults
    /// Extra request headers, in order.
    public var headers: [(name: String, value: String)] = []
    /// A file with one prompt per line; nil uses the built-in prompts.
    public var promptsFile: String?
    public var fallbackHeader = "X-Fallback"
    public var fallbackField = "fallback"
    /// The daemon target's name or `--target-name`.
    public var targetName: String?

    public init() {}

    /// The request URL: the base URL's path (without a trailing slash) followed by `path`.
    public func endpointURL() throws -> URL {
        guard var components = URLComponents(string: url),
              let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = components.host, !host.isEmpty
        else {
            throw SmokeOptionsError(option: "url", value: url, reason: "expected an http:// or https:// URL with a host, such as http://localhost:8000")
        }
        var basePath = components.percentEncodedPath
        while basePath.hasSuffix("/") { basePath.removeLast() }
        components.percentEncodedPath = basePath + path
        guard let endpoint = components.url else {
            throw SmokeOptionsError(option: "path", value: path, reason: "does not form a valid URL with \(url)")
        }
        return endpoint
    }

    /// Checks every field; the error names the option, the value and what is accepted.
    public func validate() throws {
        _ = try endpointURL()
        guard path.hasPrefix("/"), !path.contains(where: { $0.isWhitespace }) else {
            throw SmokeOptionsError(option: "path", value: path, reason: "expected a path starting with /, such as /chat")
        }
        guard requests >= 1 else {
            throw SmokeOptionsError(option: "requests", value: String(requests), reason: "expected a whole number of 1 or more")
        }
        guard concurrency >= 1 else {
            throw SmokeOptionsError(option: "concurrency", value: String(concurrency), reason: "expected a whole number of 1 or more")
        }
        guard timeoutSeconds > 0, timeoutSeconds.isFinite else {
            throw SmokeOptionsError(option: "timeout", value: String(timeoutSeconds), reason: "expected seconds greater than 0, such as 30 or 2.5")
        }
        for budget in budgets {
            guard budget.limit >= 0, budget.limit.isFinite else {
                throw SmokeOptionsError(option: budget.metric.optionName.dropDashes, value: String(budget.limit), reason: "expected a number of 0 or more")
            }
            if budget.metric.unit == "ratio", budget.limit > 1 {
                throw SmokeOptionsError(option: budget.metric.optionName.dropDashes, value: String(budget.limit), reason: "expected a fraction from 0 to 1, such as 0.05 for 5 %")
            }
        }
        for name in simulate where name.isEmpty || name.contains(",") || !name.allSatisfy(\.isHeaderValueSafe) {
            throw SmokeOptionsError(option: "simulate", value: name, reason: "expected a failure name without commas or control characters, such as pinecone")
        }
        for header in headers {
            try HeaderLine.validate(name: header.name, value: header.value)
        }
        guard HeaderLine.isToken(fallbackHeader) else {
            throw SmokeOptionsError(option: "fallback-header", value: fallbackHeader, reason: "expected a header name, such as X-Fallback")
        }
        guard !fallbackField.isEmpty else {
            throw SmokeOptionsError(option: "fallback-field", value: fallbackField, reason: "expected a JSON field name, such as fallback")
        }
        if let apiKey, apiKey.isEmpty || !apiKey.allSatisfy(\.isHeaderValueSafe) {
            // The key is a secret: name the problem, never the value.
            throw SmokeOptionsError(option: "api-key", value: "<redacted>", reason: "the API key is empty or contains control characters")
        }
    }
}

/// An invalid option value, with the fix.
public struct SmokeOptionsError: Error, CustomStringConvertible, Sendable {
    /// The option's long name without dashes, e.g. `requests`; the command line adds `--`, the config file uses it as a key.
    public var option: String
    public var value: String
    public var reason: String

    public init(option: String, value: String, reason: String) {
        self.option = option
        self.value = value
        self.reason = reason
    }

    public var description: String { "invalid value \"\(value)\" for --\(option): \(reason)" }
}

/// Parsing and checks for `Name: value` request headers (RFC 9110 §5.1 field names).
public enum HeaderLine {
    /// Splits `Name: value`, trimming the value.
    public static func parse(_ line: String) throws -> (name: String, value: String) {
        guard let colon = line.firstIndex(of: ":") else {
            throw SmokeOptionsError(option: "header", value: line, reason: "expected 'Name: value', such as 'X-Team: search'")
        }
        let name = String(line[..<colon])
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        try validate(name: name, value: value)
        return (name, value)
    }

    static func validate(name: String, value: String) throws {
        guard isToken(name) else {
            throw SmokeOptionsError(option: "header", value: name, reason: "expected a header name of letters, digits and -, such as X-Team")
        }
        guard value.allSatisfy(\.isHeaderValueSafe) else {
            throw SmokeOptionsError(option: "header", value: name, reason: "the header value contains a line break or control character")
        }
    }

    static func isToken(_ name: String) -> Bool {
        let allowed = CharacterSet(charactersIn: "!#$%&'*+-.^_`|~").union(.alphanumerics)
        return !name.isEmpty && name.unicodeScalars.allSatisfy { $0.isASCII && allowed.contains($0) }
    }

    /// Whether a header's value may carry a credential, so reports show `<redacted>` in its place.
    public static func isSensitive(_ name: String) -> Bool {
        let lower = name.lowercased()
        if ["authorization", "proxy-authorization", "cookie"].contains(lower) { return true }
        return ["token", "secret", "key", "password", "auth", "session"].contains { lower.contains($0) }
    }
}

extension Character {
    /// Printable or tab: the characters allowed in a header value.
    var isHeaderValueSafe: Bool {
        self == "\t" || unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F }
    }
}

extension String {
    var dropDashes: String { String(drop(while: { $0 == "-" })) }
}

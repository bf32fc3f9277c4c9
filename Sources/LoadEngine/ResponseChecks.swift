import Foundation
import JSONCoding

/// Statuses a response may have, as codes (`200`) and classes (`2xx`).
public struct StatusMatcher: Sendable, Equatable, CustomStringConvertible {
    public var codes: Set<Int>
    /// Hundreds digits of accepted classes: 2 for `2xx`.
    public var classes: Set<Int>

    /// Parses a comma-separated list such as `200,204` or `2xx,404`.
    /// - Throws: a message naming the item that is neither a code from 100 to 599 nor a class from 1xx to 5xx.
    public init(parsing text: String) throws {
        codes = []
        classes = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let token = item.trimmingCharacters(in: .whitespaces).lowercased()
            if token.count == 3, token.hasSuffix("xx"), let digit = Int(token.prefix(1)), (1...5).contains(digit) {
                classes.insert(digit)
            } else if let code = Int(token), (100...599).contains(code) {
                codes.insert(code)
            } else {
                throw StatusMatcherError(item: String(item))
            }
        }
    }

    public func matches(_ status: Int) -> Bool {
        codes.contains(status) || classes.contains(status / 100)
    }

    public var description: String {
        (codes.sorted().map(String.init) + classes.sorted().map { "\($0)xx" }).joined(separator: ",")
    }
}

public struct StatusMatcherError: Error, CustomStringConvertible, Sendable {
    public let item: String
    public var description: String { "\"\(item)\" is neither a status code from 100 to 599 nor a class such as 2xx" }
}

/// Conditions a response must meet beyond its status class; a response that misses one fails with kind `check`.
public struct ResponseChecks: Sendable {
    /// nil keeps the default rule: any 2xx succeeds.
    public var expectedStatuses: StatusMatcher?
    /// JSON Pointers that must lead to a non-empty string in the body (non-streamed responses only).
    public var jsonFieldPointers: [String]
    /// Headers that must be present; with a value, it must equal it (case-insensitive).
    public var headers: [(name: String, value: String?)]

    public init(expectedStatuses: StatusMatcher? = nil, jsonFieldPointers: [String] = [], headers: [(name: String, value: String?)] = []) {
        self.expectedStatuses = expectedStatuses
        self.jsonFieldPointers = jsonFieldPointers
        self.headers = headers
    }

    /// Returns every failed body or header check as a reason such as `missing non-empty string at /answer`, or an
    /// empty list when all pass.
    /// - Parameter responseHeader: the response's value of a header name, matched case-insensitively.
    func failedReasons(body: JSONValue?, isBodyComplete: Bool, responseHeader: (String) -> String?) -> [String] {
        var reasons: [String] = []
        for (name, expected) in headers {
            if let actual = responseHeader(name) {
                if let expected, actual.caseInsensitiveCompare(expected) != .orderedSame {
                    reasons.append("header \(name) is \"\(actual.prefix(80))\", expected \"\(expected)\"")
                }
            } else {
                reasons.append("missing header \(name)")
            }
        }
        for pointer in jsonFieldPointers {
            if !isBodyComplete {
                reasons.append("body too large to check \(pointer)")
            } else if let body {
                if (body.value(atPointer: pointer)?.stringValue ?? "").isEmpty {
                    reasons.append("missing non-empty string at \(pointer)")
                }
            } else {
                reasons.append("body is not JSON, expected a string at \(pointer)")
            }
        }
        return reasons
    }
}

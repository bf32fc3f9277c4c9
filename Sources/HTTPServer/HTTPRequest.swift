/// An HTTP protocol version such as HTTP/1.1.
public struct HTTPVersion: Sendable, Equatable, CustomStringConvertible {
    public var major: Int
    public var minor: Int

    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    public static let http1_0 = HTTPVersion(major: 1, minor: 0)
    public static let http1_1 = HTTPVersion(major: 1, minor: 1)

    public var description: String { "HTTP/\(major).\(minor)" }
}

/// One parsed HTTP request, with its body read in full.
public struct HTTPRequest: Sendable {
    /// The method as sent, such as "GET". Methods are case-sensitive (RFC 9110 section 9.1).
    public var method: String
    /// The raw request-target from the request line, such as "/runs?limit=5".
    public var target: String
    /// The percent-decoded path of the target, such as "/runs", or "*" for `OPTIONS *`.
    /// An encoded slash ("%2F") decodes to "/" like any other byte.
    public var path: String
    /// The query parameters in order, percent-decoded with `+` read as a space. A name without `=` has an empty value.
    public var query: [(name: String, value: String)]
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// The client's address as `host:port`, with brackets around an IPv6 host.
    public var remoteAddress: String

    /// Creates a request and decodes `target` into `path` and `query`.
    /// - Throws: `HTTPServerError.invalidRequestTarget` when the target is neither a path, an absolute http(s) URL
    ///   nor `*`, or when a percent-encoding is invalid or does not decode to UTF-8.
    public init(
        method: String,
        target: String,
        version: HTTPVersion = .http1_1,
        headers: HTTPHeaders = [:],
        body: [UInt8] = [],
        remoteAddress: String = ""
    ) throws {
        let components = try RequestTarget.decode(target)
        self.method = method
        self.target = target
        self.path = components.path
        self.query = components.query
        self.version = version
        self.headers = headers
        self.body = body
        self.remoteAddress = remoteAddress
    }

    /// Returns the value of the first query parameter called `name`, or nil when it is absent.
    public func queryValue(_ name: String) -> String? {
        query.first(where: { $0.name == name })?.value
    }

    /// The body decoded as UTF-8, with invalid bytes replaced by U+FFFD.
    public var bodyText: String {
        String(decoding: body, as: UTF8.self)
    }

    /// Whether the client allows the connection to stay open after the response: the default for HTTP/1.1 unless
    /// `Connection: close` is sent, and only with `Connection: keep-alive` for HTTP/1.0 (RFC 9112 section 9.3).
    public var isKeepAliveRequested: Bool {
        let connectionTokens = headers.tokens(for: "Connection")
        if connectionTokens.contains("close") {
            return false
        }
        if version.major == 1 && version.minor == 0 {
            return connectionTokens.contains("keep-alive")
        }
        return true
    }
}

/// Decoding of request-targets (RFC 9112 section 3.2) into a path and query parameters.
enum RequestTarget {
    static func decode(_ target: String) throws -> (path: String, query: [(name: String, value: String)]) {
        if target == "*" {
            return ("*", [])
        }

        var pathAndQuery = Substring(target)
        let lowercased = target.lowercased()
        if lowercased.hasPrefix("http://") || lowercased.hasPrefix("https://") {
            // Absolute form, as sent to proxies: drop the scheme and the authority.
            let afterScheme = pathAndQuery[pathAndQuery.range(of: "://")!.upperBound...]
            if let start = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" }) {
                pathAndQuery = afterScheme[start...]
            } else {
                pathAndQuery = ""
            }
            if !pathAndQuery.hasPrefix("/") {
                pathAndQuery = "/" + pathAndQuery
            }
        } else if !target.hasPrefix("/") {
            throw HTTPServerError.invalidRequestTarget(target, reason: "expected a path starting with /")
        }

        // A fragment is never sent on the wire, so anything after "#" is dropped.
        if let hash = pathAndQuery.firstIndex(of: "#") {
            pathAndQuery = pathAndQuery[..<hash]
        }

        let rawPath: Substring
        let rawQuery: Substring
        if let questionMark = pathAndQuery.firstIndex(of: "?") {
            rawPath = pathAndQuery[..<questionMark]
            rawQuery = pathAndQuery[pathAndQuery.index(after: questionMark)...]
        } else {
            rawPath = pathAndQuery
            rawQuery = ""
        }

        let path = try percentDecode(rawPath, plusIsSpace: false, target: target)
        var query: [(name: String, value: String)] = []
        for parameter in rawQuery.split(separator: "&") {
            let parts = parameter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = try percentDecode(parts[0], plusIsSpace: true, target: target)
            let value = parts.count > 1 ? try percentDecode(parts[1], plusIsSpace: true, target: target) : ""
            query.append((name: name, value: value))
        }
        return (path, query)
    }

    static func percentDecode(_ text: Substring, plusIsSpace: Bool, target: String) throws -> String {
        let input = Array(text.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(input.count)
        var index = 0
        while index < input.count {
            let byte = input[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < input.count,
                      let high = hexValue(input[index + 1]),
                      let low = hexValue(input[index + 2])
                else {
                    throw HTTPServerError.invalidRequestTarget(target, reason: "% must be followed by two hex digits")
                }
                output.append(high << 4 | low)
                index += 3
            } else {
                output.append(plusIsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
                index += 1
            }
        }
        guard let decoded = String(validating: output, as: UTF8.self) else {
            throw HTTPServerError.invalidRequestTarget(target, reason: "the percent-decoded bytes are not UTF-8")
        }
        return decoded
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

/// An HTTP response: a status, header fields and a body that is either complete or streamed.
///
/// The server sets `Content-Length`, `Transfer-Encoding` and `Connection` itself and drops those fields from
/// `headers`, except that `Connection: close` from a handler makes the server close the connection after the response.
public struct HTTPResponse: Sendable {
    public enum Body: Sendable {
        /// A complete body, sent with `Content-Length`.
        case bytes([UInt8])
        /// A body produced while it is sent. The closure runs on the connection's thread and may sleep between
        /// writes. HTTP/1.1 clients receive it with `Transfer-Encoding: chunked`, and HTTP/1.0 clients receive the
        /// raw bytes followed by a close of the connection.
        case stream(@Sendable (HTTPBodyWriter) throws -> Void)
    }

    public var status: Int
    public var headers: HTTPHeaders
    public var body: Body

    public init(status: Int = 200, headers: HTTPHeaders = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = .bytes(body)
    }

    public init(status: Int = 200, headers: HTTPHeaders = [:], stream: @escaping @Sendable (HTTPBodyWriter) throws -> Void) {
        self.status = status
        self.headers = headers
        self.body = .stream(stream)
    }

    /// Returns a `text/plain; charset=utf-8` response.
    public static func text(status: Int = 200, _ text: String) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": "text/plain; charset=utf-8"], body: Array(text.utf8))
    }

    // NOTE: A helper taking JSONValue needs the HTTPServer target to depend on JSONCoding in Package.swift, which
    // it does not yet. Until then callers pass `value.serialized()` here.
    /// Returns an `application/json` response whose body is `serialized`, a JSON document the caller has written.
    public static func json(status: Int = 200, serialized: String) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": "application/json"], body: Array(serialized.utf8))
    }

    /// Returns a JSON error response in the shape the server uses for its own errors:
    /// `{"error": {"status": 404, "message": "..."}}`.
    public static func error(status: Int, message: String) -> HTTPResponse {
        let document = "{\"error\":{\"status\":\(status),\"message\":\(jsonStringLiteral(message))}}"
        return json(status: status, serialized: document)
    }

    /// Returns a 404 JSON error that names the path.
    public static func notFound(path: String) -> HTTPResponse {
        error(status: 404, message: "no resource at \(path)")
    }

    /// Returns a 405 JSON error with an `Allow` header listing `allowedMethods`.
    public static func methodNotAllowed(method: String, path: String, allowedMethods: [String]) -> HTTPResponse {
        let allowed = allowedMethods.joined(separator: ", ")
        var response = error(status: 405, message: "method \(method) is not allowed on \(path). Use \(allowed)")
        response.headers.set("Allow", allowed)
        return response
    }

    /// Returns the reason phrase for `status` (RFC 9110 section 15), or an empty string for a code it does not name.
    public static func reasonPhrase(for status: Int) -> String {
        reasonPhrases[status] ?? ""
    }

    private static let reasonPhrases: [Int: String] = [
        100: "Continue", 101: "Switching Protocols",
        200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 206: "Partial Content",
        301: "Moved Permanently", 302: "Found", 303: "See Other", 304: "Not Modified",
        307: "Temporary Redirect", 308: "Permanent Redirect",
        400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
        406: "Not Acceptable", 408: "Request Timeout", 409: "Conflict", 410: "Gone", 411: "Length Required",
        412: "Precondition Failed", 413: "Content Too Large", 414: "URI Too Long", 415: "Unsupported Media Type",
        417: "Expectation Failed", 422: "Unprocessable Content", 429: "Too Many Requests",
        431: "Request Header Fields Too Large",
        500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable",
        504: "Gateway Timeout", 505: "HTTP Version Not Supported",
    ]
}

/// Writes `text` as a JSON string literal (RFC 8259 section 7), quotes included.
func jsonStringLiteral(_ text: String) -> String {
    var output = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": output += "\\\""
        case "\\": output += "\\\\"
        case "\n": output += "\\n"
        case "\r": output += "\\r"
        case "\t": output += "\\t"
        case _ where scalar.value < 0x20:
            let hex = String(scalar.value, radix: 16)
            output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default:
            output.unicodeScalars.append(scalar)
        }
    }
    return output + "\""
}

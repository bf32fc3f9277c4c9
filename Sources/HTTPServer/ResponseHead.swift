import Glibc

/// The framing of a response body, which tells the client where the body ends.
enum ResponseFraming {
    case contentLength(Int)
    case chunked
    /// The body ends when the server closes the connection, for streams to HTTP/1.0 clients.
    case closeDelimited
    /// No body and no length field, for 204 and 304 responses.
    case noBody
}

/// Serialization of a response's status line and header section (RFC 9112 sections 4 and 5).
enum ResponseHead {
    /// Fields that the server sets from the framing and the connection state, so the handler's values are dropped.
    private static let serverOwnedFields: Set<String> = ["content-length", "transfer-encoding", "connection"]

    /// Serializes the head. Handler fields whose name is not a token or whose value contains CR, LF or NUL are
    /// dropped, because they could split the response, and their names go to `dropped`.
    static func serialize(
        status: Int,
        headers: HTTPHeaders,
        framing: ResponseFraming,
        keepsAlive: Bool,
        requestVersion: HTTPVersion,
        dropped: inout [String]
    ) -> [UInt8] {
        var text = "HTTP/1.1 \(status) \(HTTPResponse.reasonPhrase(for: status))\r\n"
        if !headers.contains("Date") {
            text += "Date: \(httpDate(time(nil)))\r\n"
        }
        for field in headers {
            if serverOwnedFields.contains(field.name.lowercased()) {
                continue
            }
            guard isValidFieldName(field.name), isValidFieldValue(field.value) else {
                dropped.append(field.name)
                continue
            }
            text += "\(field.name): \(field.value)\r\n"
        }

        switch framing {
        case let .contentLength(length):
            text += "Content-Length: \(length)\r\n"
        case .chunked:
            text += "Transfer-Encoding: chunked\r\n"
        case .closeDelimited, .noBody:
            break
        }

        if !keepsAlive {
            text += "Connection: close\r\n"
        } else if requestVersion == .http1_0 {
            text += "Connection: keep-alive\r\n"
        }
        text += "\r\n"
        return Array(text.utf8)
    }

    /// Returns whether a response with `status` must carry no body (RFC 9110 sections 15.3.5 and 15.4.5).
    static func forbidsBody(status: Int) -> Bool {
        status == 204 || status == 304
    }

    /// Formats `time` as an IMF-fixdate such as "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 section 5.6.7).
    /// The names are spelled out because strftime would follow the process locale.
    static func httpDate(_ time: time_t) -> String {
        var seconds = time
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func twoDigits(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(weekdays[Int(parts.tm_wday)]), \(twoDigits(parts.tm_mday)) \(months[Int(parts.tm_mon)]) "
            + "\(parts.tm_year + 1900) \(twoDigits(parts.tm_hour)):\(twoDigits(parts.tm_min)):\(twoDigits(parts.tm_sec)) GMT"
    }

    private static func isValidFieldName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ":") }
    }

    private static func isValidFieldValue(_ value: String) -> Bool {
        !value.utf8.contains { $0 == 0 || $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\n") }
    }
}

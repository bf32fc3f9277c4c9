import Foundation
import JSONCoding
import Glibc

/// A failure of the test client, naming the step that failed.
struct LoopbackHTTPError: Error, CustomStringConvertible {
    let description: String
}

/// One HTTP response as read off the socket.
struct LoopbackHTTPResponse {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    var text: String { String(decoding: body, as: UTF8.self) }

    /// Parses the body as JSON, throwing when it is not a JSON document.
    func json() throws -> JSONValue {
        try JSONValue.parse(body)
    }
}

/// A blocking HTTP/1.1 client for 127.0.0.1 that sends exact bytes on a fresh connection and reads the response
/// until the server closes it. Each read waits at most `receiveTimeoutSeconds`.
enum LoopbackHTTPClient {
    static let receiveTimeoutSeconds = 5

    /// Sends `GET path` (or another method) with `Connection: close` and optional extra header lines.
    static func request(
        port: Int, method: String = "GET", path: String, headers: [String] = []
    ) throws -> LoopbackHTTPResponse {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        for line in headers { head += line + "\r\n" }
        if method == "POST" { head += "Content-Length: 0\r\n" }
        return try exchange(Array((head + "\r\n").utf8), port: port)
    }

    /// Sends `bytes` as they are, then reads and parses whatever the server sends until it closes the connection.
    static func exchange(_ bytes: [UInt8], port: Int) throws -> LoopbackHTTPResponse {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw LoopbackHTTPError(description: "socket failed: errno \(errno)") }
        defer { close(descriptor) }
        var timeout = timeval(tv_sec: receiveTimeoutSeconds, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))

        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port)).bigEndian
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw LoopbackHTTPError(description: "connect to 127.0.0.1:\(port) failed: errno \(errno)") }

        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { throw LoopbackHTTPError(description: "send failed: errno \(errno)") }
            offset += written
        }

        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                // A reset after a complete response still leaves a usable response.
                if errno == ECONNRESET, !received.isEmpty { break }
                throw LoopbackHTTPError(description: "recv failed after \(received.count) bytes: errno \(errno)")
            }
            received += chunk[0..<count]
        }
        return try parse(received)
    }

    /// Parses a response whose body runs to the end of `bytes`, trimmed to `Content-Length` when that is present.
    private static func parse(_ bytes: [UInt8]) throws -> LoopbackHTTPResponse {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard bytes.count >= separator.count,
              let headEnd = (0...(bytes.count - separator.count)).first(where: { bytes[$0..<($0 + separator.count)].elementsEqual(separator) })
        else {
            throw LoopbackHTTPError(description: "no complete response head in \(bytes.count) bytes: \(String(decoding: bytes.prefix(200), as: UTF8.self))")
        }
        let lines = String(decoding: bytes[0..<headEnd], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else {
            throw LoopbackHTTPError(description: "invalid status line \"\(lines[0])\"")
        }
        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        var body = Array(bytes[(headEnd + separator.count)...])
        if let lengthText = headers.first(where: { $0.name.lowercased() == "content-length" })?.value,
           let length = Int(lengthText), length <= body.count {
            body = Array(body.prefix(length))
        }
        return LoopbackHTTPResponse(status: status, headers: headers, body: body)
    }
}

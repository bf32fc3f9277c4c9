import Foundation
import Glibc

/// A failure of the test client, with the step that failed.
struct RawHTTPClientError: Error, CustomStringConvertible {
    let description: String
}

/// One response as the test client read it off the wire.
struct RawHTTPResponse {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: [UInt8]
    /// The data of each chunk in order, for a chunked body; empty otherwise.
    var chunks: [[UInt8]]

    func header(_ name: String) -> String? {
        headers.first(where: { $0.name.lowercased() == name.lowercased() })?.value
    }

    var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// A blocking HTTP/1.1 client on a raw loopback socket, so tests control every byte sent, including malformed
/// and partial requests. Every read waits at most `receiveTimeout`.
final class RawHTTPClient {
    let descriptor: Int32
    private var buffer: [UInt8] = []

    init(host: String = "127.0.0.1", port: Int, receiveTimeout: TimeInterval = 5) throws {
        let isIPv6 = host.contains(":")
        descriptor = socket(isIPv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else {
            throw RawHTTPClientError(description: "socket failed: errno \(errno)")
        }
        var timeout = timeval(tv_sec: Int(receiveTimeout), tv_usec: Int((receiveTimeout - floor(receiveTimeout)) * 1_000_000))
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))

        let result: Int32
        if isIPv6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = in_port_t(UInt16(port)).bigEndian
            inet_pton(AF_INET6, host, &address.sin6_addr)
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port)).bigEndian
            inet_pton(AF_INET, host, &address.sin_addr)
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        guard result == 0 else {
            let code = errno
            Glibc.close(descriptor)
            throw RawHTTPClientError(description: "connect to \(host):\(port) failed: \(String(cString: strerror(code)))")
        }
    }

    deinit {
        Glibc.close(descriptor)
    }

    func send(_ text: String) throws {
        try send(Array(text.utf8))
    }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes {
                Glibc.send(descriptor, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL))
            }
            guard sent > 0 else {
                throw RawHTTPClientError(description: "send failed: errno \(errno)")
            }
            offset += sent
        }
    }

    /// Reads one response. Pass `isHead` for a HEAD request, whose response has no body.
    func readResponse(isHead: Bool = false) throws -> RawHTTPResponse {
        let headEnd = try readUntil(Array("\r\n\r\n".utf8))
        let headText = String(decoding: buffer[0..<headEnd], as: UTF8.self)
        buffer.removeFirst(headEnd + 4)

        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else {
            throw RawHTTPClientError(description: "malformed status line in \(headText)")
        }
        let headers = lines.map { line -> (name: String, value: String) in
            let parts = line.split(separator: ":", maxSplits: 1)
            return (String(parts[0]), parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : "")
        }
        var response = RawHTTPResponse(status: status, headers: headers, body: [], chunks: [])
        if isHead || status < 200 || status == 204 || status == 304 {
            return response
        }

        if response.header("Transfer-Encoding")?.lowercased() == "chunked" {
            while true {
                let chunk = try readChunk()
                guard let chunk else {
                    break
                }
                response.chunks.append(chunk)
                response.body.append(contentsOf: chunk)
            }
        } else if let lengthText = response.header("Content-Length"), let length = Int(lengthText) {
            while buffer.count < length {
                guard try receive() else {
                    throw RawHTTPClientError(description: "connection closed after \(buffer.count) of \(length) body bytes")
                }
            }
            response.body = Array(buffer[0..<length])
            buffer.removeFirst(length)
        } else {
            while try receive() {}
            response.body = buffer
            buffer.removeAll()
        }
        return response
    }

    /// Reads one chunk of a chunked body, or nil for the last chunk, whose trailer must be empty.
    func readChunk() throws -> [UInt8]? {
        let lineEnd = try readUntil(Array("\r\n".utf8))
        let sizeText = String(decoding: buffer[0..<lineEnd], as: UTF8.self)
        buffer.removeFirst(lineEnd + 2)
        guard let size = Int(sizeText, radix: 16) else {
            throw RawHTTPClientError(description: "invalid chunk size \(sizeText)")
        }
        while buffer.count < size + 2 {
            guard try receive() else {
                throw RawHTTPClientError(description: "connection closed inside a chunk")
            }
        }
        if size == 0 {
            buffer.removeFirst(2)
            return nil
        }
        let data = Array(buffer[0..<size])
        buffer.removeFirst(size + 2)
        return data
    }

    /// Reads once and returns whether the server closed the connection (end of stream or reset) with no further bytes, within the
    /// receive timeout.
    func isClosedByServer() -> Bool {
        guard buffer.isEmpty else {
            return false
        }
        var byte: UInt8 = 0
        let count = recv(descriptor, &byte, 1, 0)
        return count == 0 || (count < 0 && errno == ECONNRESET)
    }

    private func readUntil(_ marker: [UInt8]) throws -> Int {
        while true {
            if let index = find(marker) {
                return index
            }
            guard try receive() else {
                throw RawHTTPClientError(description: "connection closed before \(marker) arrived; got \(buffer.count) bytes")
            }
        }
    }

    private func find(_ marker: [UInt8]) -> Int? {
        guard buffer.count >= marker.count else {
            return nil
        }
        for start in 0...(buffer.count - marker.count) where buffer[start..<(start + marker.count)].elementsEqual(marker) {
            return start
        }
        return nil
    }

    /// Receives more bytes; false at the end of the stream.
    private func receive() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        if count > 0 {
            buffer.append(contentsOf: chunk[0..<count])
            return true
        }
        if count == 0 || errno == ECONNRESET {
            return false
        }
        throw RawHTTPClientError(description: "recv failed or timed out: \(String(cString: strerror(errno)))")
    }
}

/// Returns whether a TCP connection to `port` on 127.0.0.1 is refused.
func isConnectionRefused(port: Int) -> Bool {
    do {
        _ = try RawHTTPClient(port: port, receiveTimeout: 1)
        return false
    } catch {
        return "\(error)".contains("refused")
    }
}

import Foundation
import Glibc

/// A loopback TCP server for tests whose every connection follows a script: answer normally, stall, close, reset,
/// or send malformed bytes. It reads one request (headers plus Content-Length body) before acting.
final class ScriptedServer: @unchecked Sendable {
    enum Behavior: Sendable {
        /// Send these raw bytes after each request, keeping the connection open for the next request.
        case respond(String)
        /// Wait this many seconds before answering with the given raw response.
        case delay(Double, String)
        /// Close the connection without answering.
        case close
        /// Abort the connection with a TCP reset (SO_LINGER 0).
        case reset
        /// Send these bytes, then close (for truncated or malformed responses).
        case respondAndClose(String)
        /// Answer with timed steps, for streamed responses.
        case steps([Step])
        /// Answer at once, except that a request arriving between the two times waits until the second one.
        case stall(from: Date, until: Date, String)
    }

    /// One step of a scripted answer.
    enum Step: Sendable {
        case send(String)
        case sleep(Double)
        /// Close the connection; steps after it are not run.
        case close
    }

    let port: Int
    private let listener: Int32
    private let behavior: Behavior
    private let lock = NSLock()
    private var isStopped = false
    private var connections: [Int32] = []
    private var threads: [Thread] = []
    private var receivedRequests: [String] = []
    private var acceptedConnections = 0

    /// Every request received so far, head and body, in arrival order.
    var requests: [String] {
        lock.lock()
        defer { lock.unlock() }
        return receivedRequests
    }

    var connectionCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return acceptedConnections
    }

    init(_ behavior: Behavior) throws {
        self.behavior = behavior
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.listener = listener
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 64) == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        let acceptThread = Thread { [unowned self] in self.acceptLoop() }
        acceptThread.start()
    }

    var url: String { "http://127.0.0.1:\(port)" }

    /// Closes the listener and every connection; safe to call twice (the second call does nothing, so a reused
    /// descriptor number is never closed by mistake).
    func stop() {
        lock.lock()
        guard !isStopped else {
            lock.unlock()
            return
        }
        isStopped = true
        let open = connections
        lock.unlock()
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        for descriptor in open { shutdown(descriptor, Int32(SHUT_RDWR)) }
    }

    deinit { stop() }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                lock.lock()
                let stopped = isStopped
                lock.unlock()
                if stopped || errno == EBADF || errno == EINVAL { return }
                continue
            }
            lock.lock()
            connections.append(client)
            acceptedConnections += 1
            lock.unlock()
            Thread { [unowned self] in self.serve(client) }.start()
        }
    }

    private func serve(_ client: Int32) {
        defer {
            // Forget the descriptor before closing it, so stop() never shuts down a reused number.
            lock.lock()
            connections.removeAll { $0 == client }
            close(client)
            lock.unlock()
        }
        var buffer: [UInt8] = []
        while let request = readRequest(client, buffer: &buffer) {
            lock.lock()
            receivedRequests.append(String(decoding: request, as: UTF8.self))
            lock.unlock()
            switch behavior {
            case let .respond(raw):
                send(raw, to: client)
            case let .delay(seconds, raw):
                Thread.sleep(forTimeInterval: seconds)
                send(raw, to: client)
            case .close:
                return
            case .reset:
                var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                setsockopt(client, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
                return
            case let .respondAndClose(raw):
                send(raw, to: client)
                return
            case let .stall(from, until, raw):
                let now = Date()
                if now >= from, now < until { Thread.sleep(forTimeInterval: until.timeIntervalSince(now)) }
                send(raw, to: client)
            case let .steps(steps):
                for step in steps {
                    switch step {
                    case let .send(raw): send(raw, to: client)
                    case let .sleep(seconds): Thread.sleep(forTimeInterval: seconds)
                    case .close: return
                    }
                }
            }
        }
    }

    /// Reads one request from the connection; nil when the peer closed.
    private func readRequest(_ client: Int32, buffer: inout [UInt8]) -> [UInt8]? {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            if let end = buffer.firstRange(of: separator) {
                let head = String(decoding: buffer[..<end.lowerBound], as: UTF8.self)
                let length = head.split(separator: "\r\n")
                    .first { $0.lowercased().hasPrefix("content-length:") }
                    .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                let total = end.upperBound + length
                if buffer.count >= total {
                    let request = Array(buffer[..<total])
                    buffer.removeFirst(total)
                    return request
                }
            }
            let count = recv(client, &chunk, chunk.count, 0)
            if count <= 0 { return nil }
            buffer += chunk[..<count]
        }
    }

    private func send(_ raw: String, to client: Int32) {
        let bytes = Array(raw.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written <= 0 { return }
            offset += written
        }
    }

    /// Builds a complete HTTP/1.1 response with a Content-Length.
    static func response(status: String = "200 OK", headers: [String] = [], body: String) -> String {
        var lines = ["HTTP/1.1 \(status)", "Content-Type: application/json", "Content-Length: \(body.utf8.count)"] + headers
        lines.append("")
        return lines.joined(separator: "\r\n") + "\r\n" + body
    }

    /// Builds the head of a chunked response, to be followed by `chunk(_:)` steps and `lastChunk`.
    static func chunkedHead(contentType: String = "text/event-stream", headers: [String] = []) -> String {
        (["HTTP/1.1 200 OK", "Content-Type: \(contentType)", "Transfer-Encoding: chunked"] + headers).joined(separator: "\r\n") + "\r\n\r\n"
    }

    static func chunk(_ text: String) -> String {
        String(text.utf8.count, radix: 16) + "\r\n" + text + "\r\n"
    }

    static let lastChunk = "0\r\n\r\n"
}

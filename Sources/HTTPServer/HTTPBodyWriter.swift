import Glibc

/// The sink a streaming response writes its body to.
///
/// Writes collect in a buffer that goes to the client on `flush()` or once it contains 16 KiB, so a handler that
/// sends events calls `flush()` after each one. Every flush sends one chunk to HTTP/1.1 clients.
public final class HTTPBodyWriter: @unchecked Sendable {
    private let descriptor: Int32
    private let isChunked: Bool
    private let isDiscarding: Bool
    private let stopSignal: StopSignal
    private var pending: [UInt8] = []
    private var closedReason: String?

    private static let autoFlushBytes = 16 * 1024

    /// - Parameters:
    ///   - isChunked: frame each flush as a chunk (RFC 9112 section 7.1), or send raw bytes for HTTP/1.0 when false.
    ///   - isDiscarding: drop every write, for a HEAD request.
    init(descriptor: Int32, isChunked: Bool, isDiscarding: Bool, stopSignal: StopSignal) {
        self.descriptor = descriptor
        self.isChunked = isChunked
        self.isDiscarding = isDiscarding
        self.stopSignal = stopSignal
    }

    /// Appends `bytes` to the body and sends the buffer once it contains 16 KiB.
    /// - Throws: `HTTPServerError.streamClosed` when the client disconnected, a send timed out or the server is
    ///   stopping, so a long-running stream can end its loop.
    public func write(_ bytes: [UInt8]) throws {
        try checkOpen()
        pending.append(contentsOf: bytes)
        if pending.count >= Self.autoFlushBytes {
            try flush()
        }
    }

    /// Appends the UTF-8 bytes of `text` to the body.
    public func write(_ text: String) throws {
        try write(Array(text.utf8))
    }

    /// Sends everything written so far to the client. Does nothing when nothing is pending.
    /// - Throws: `HTTPServerError.streamClosed` as `write(_:)` does.
    public func flush() throws {
        try checkOpen()
        guard !pending.isEmpty else {
            return
        }
        let data = pending
        pending.removeAll(keepingCapacity: true)
        if isDiscarding {
            return
        }

        var frame: [UInt8] = []
        if isChunked {
            frame.reserveCapacity(data.count + 16)
            frame.append(contentsOf: Array(String(data.count, radix: 16).utf8))
            frame.append(contentsOf: [13, 10])
            frame.append(contentsOf: data)
            frame.append(contentsOf: [13, 10])
        } else {
            frame = data
        }
        try send(frame)
    }

    /// Flushes the buffer and, for a chunked body, sends the last chunk that ends the body.
    func finish() throws {
        try flush()
        if isChunked && !isDiscarding {
            try send(Array("0\r\n\r\n".utf8))
        }
        closedReason = "the response body is complete"
    }

    private func checkOpen() throws {
        if let closedReason {
            throw HTTPServerError.streamClosed(reason: closedReason)
        }
        if stopSignal.isRaised {
            closedReason = "the server is stopping"
            throw HTTPServerError.streamClosed(reason: "the server is stopping")
        }
    }

    private func send(_ frame: [UInt8]) throws {
        do {
            try sendAll(descriptor, frame)
        } catch let error as SystemCallError {
            let reason = error.errno == EAGAIN ? "the send timed out" : "the client disconnected (\(error.cause))"
            closedReason = reason
            throw HTTPServerError.streamClosed(reason: reason)
        }
    }
}

import Glibc

/// One client connection, served on its own thread. It reads a request, calls the handler and writes the response
/// before it reads the next request, so pipelined requests get their responses in order.
final class Connection {
    private let descriptor: Int32
    private let remoteAddress: String
    private let configuration: HTTPServer.Configuration
    private let handler: @Sendable (HTTPRequest) -> HTTPResponse
    private let stopSignal: StopSignal

    /// Bytes received and not yet consumed, which may hold the start of the next pipelined request.
    private var buffer: [UInt8] = []
    private var receiveBuffer = [UInt8](repeating: 0, count: 64 * 1024)

    init(
        descriptor: Int32,
        remoteAddress: String,
        configuration: HTTPServer.Configuration,
        handler: @escaping @Sendable (HTTPRequest) -> HTTPResponse,
        stopSignal: StopSignal
    ) {
        self.descriptor = descriptor
        self.remoteAddress = remoteAddress
        self.configuration = configuration
        self.handler = handler
        self.stopSignal = stopSignal
    }

    /// Serves requests until the client closes, a timeout expires, a response closes the connection or the server
    /// stops. The caller closes the descriptor afterwards.
    func run() {
        // The first request must arrive in full within readTimeout of the accept.
        var requestDeadline = ContinuousClock.now + configuration.readTimeout
        var servedCount = 0
        while true {
            if buffer.isEmpty {
                let waitDeadline = servedCount == 0 ? requestDeadline : .now + configuration.idleTimeout
                guard receive(until: waitDeadline, wakesOnStop: true) == .received else {
                    return
                }
            }
            if servedCount > 0 {
                requestDeadline = .now + configuration.readTimeout
            }

            let request: HTTPRequest
            do {
                guard let received = try readRequest(until: requestDeadline) else {
                    return
                }
                request = received
            } catch let rejection as RequestRejection {
                reject(rejection)
                return
            } catch {
                return
            }

            servedCount += 1
            guard respond(to: request) else {
                closeAfterResponse()
                return
            }
        }
    }

    // MARK: Reading

    private enum ReceiveOutcome {
        case received
        case endOfStream
        case timedOut
        case stopRequested
        case failed
    }

    /// Waits until bytes arrive or `deadline` passes and appends what arrives to `buffer`.
    /// - Parameter wakesOnStop: return `.stopRequested` when the server stops, which only an idle connection does.
    private func receive(until deadline: ContinuousClock.Instant, wakesOnStop: Bool) -> ReceiveOutcome {
        while true {
            let remaining = deadline - .now
            if remaining <= .zero {
                return .timedOut
            }
            var descriptors = [
                pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0),
                pollfd(fd: stopSignal.readDescriptor, events: Int16(POLLIN), revents: 0),
            ]
            let readyCount: Int32
            do {
                // Rounding up keeps a sub-millisecond remainder from turning into a busy loop of zero timeouts.
                let timeout = Int32(min(remaining.wholeMilliseconds + 1, Int(Int32.max)))
                readyCount = try retryingSystemCall("poll") {
                    poll(&descriptors, nfds_t(wakesOnStop ? 2 : 1), timeout)
                }
            } catch {
                log(["event": "http.receive_failed", "remote": remoteAddress, "cause": "\(error)"])
                return .failed
            }
            if readyCount == 0 {
                continue
            }
            if descriptors[0].revents == 0 {
                return .stopRequested
            }

            do {
                let count = try receiveBuffer.withUnsafeMutableBytes { bytes in
                    try retryingSystemCall("recv") { recv(descriptor, bytes.baseAddress, bytes.count, 0) }
                }
                if count == 0 {
                    return .endOfStream
                }
                buffer.append(contentsOf: receiveBuffer[0..<count])
                return .received
            } catch {
                // A reset from the client is routine, so it ends the connection without a log line.
                if let error = error as? SystemCallError, error.errno == ECONNRESET {
                    return .failed
                }
                log(["event": "http.receive_failed", "remote": remoteAddress, "cause": "\(error)"])
                return .failed
            }
        }
    }

    /// Receives more bytes of a request that has started.
    /// - Returns: false when the client closed the connection or it failed.
    /// - Throws: `RequestRejection` with 408 when `deadline` passes.
    private func receiveMore(until deadline: ContinuousClock.Instant) throws -> Bool {
        switch receive(until: deadline, wakesOnStop: false) {
        case .received:
            return true
        case .timedOut:
            let milliseconds = configuration.readTimeout.wholeMilliseconds
            throw RequestRejection(status: 408, message: "the request timed out: it did not arrive in full within \(milliseconds) ms")
        case .endOfStream, .stopRequested, .failed:
            return false
        }
    }

    /// Reads one request, body included, and leaves any bytes after it in `buffer`.
    /// - Returns: nil when the client closed the connection before the request was complete.
    private func readRequest(until deadline: ContinuousClock.Instant) throws -> HTTPRequest? {
        let maxHeaderBytes = configuration.maxHeaderBytes
        var searchStart = 0
        var foundEnd: (headEnd: Int, bodyStart: Int)?
        while foundEnd == nil {
            // Empty lines before a request line are ignored (RFC 9112 section 2.2).
            let firstContent = buffer.firstIndex { $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") } ?? buffer.count
            if firstContent > 0 {
                buffer.removeFirst(firstContent)
                searchStart = 0
            }

            foundEnd = RequestHead.findEnd(in: buffer, from: searchStart)
            if foundEnd == nil {
                if buffer.count > maxHeaderBytes {
                    throw RequestRejection(status: 431, message: "the request header section exceeds \(maxHeaderBytes) bytes")
                }
                searchStart = max(0, buffer.count - 3)
                guard try receiveMore(until: deadline) else {
                    return nil
                }
            }
        }
        guard let headerEnd = foundEnd, headerEnd.bodyStart <= maxHeaderBytes else {
            throw RequestRejection(status: 431, message: "the request header section exceeds \(maxHeaderBytes) bytes")
        }

        let head = try RequestHead.parse(buffer[0..<headerEnd.headEnd])
        buffer.removeFirst(headerEnd.bodyStart)
        var request: HTTPRequest
        do {
            request = try HTTPRequest(
                method: head.method,
                target: head.target,
                version: head.version,
                headers: head.headers,
                remoteAddress: remoteAddress
            )
        } catch {
            throw RequestRejection(status: 400, message: "\(error)")
        }

        let framing = try head.bodyFraming(maxBodyBytes: configuration.maxBodyBytes)
        if framing != .none && buffer.isEmpty && head.version != .http1_0
            && head.headers.tokens(for: "Expect").contains("100-continue") {
            // The client waits for this interim response before it sends the body (RFC 9110 section 10.1.1).
            _ = try? sendAll(descriptor, Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
        }

        switch framing {
        case .none:
            break
        case let .contentLength(length):
            while buffer.count < length {
                guard try receiveMore(until: deadline) else {
                    return nil
                }
            }
            request.body = Array(buffer[0..<length])
            buffer.removeFirst(length)
        case .chunked:
            var decoder = ChunkedBodyDecoder(maxBodyBytes: configuration.maxBodyBytes, maxTrailerBytes: maxHeaderBytes)
            while true {
                let consumed = try decoder.decode(buffer, from: 0)
                buffer.removeFirst(consumed)
                if decoder.isComplete {
                    break
                }
                guard try receiveMore(until: deadline) else {
                    return nil
                }
            }
            request.body = decoder.body
        }
        return request
    }

    // MARK: Writing

    /// Calls the handler and writes its response.
    /// - Returns: whether the connection stays open for another request.
    private func respond(to request: HTTPRequest) -> Bool {
        var response = handler(request)
        if !(200...599).contains(response.status) {
            log(["event": "http.invalid_status", "status": response.status, "path": request.path])
            response = .error(status: 500, message: "the handler returned the invalid status \(response.status)")
        }

        var keepsAlive = request.isKeepAliveRequested
            && !response.headers.tokens(for: "Connection").contains("close")
            && !stopSignal.isRaised
        let isHead = request.method == "HEAD"
        let hasBody = !ResponseHead.forbidsBody(status: response.status)

        do {
            switch response.body {
            case let .bytes(body):
                let framing: ResponseFraming = hasBody ? .contentLength(body.count) : .noBody
                var message = serializeHead(response, framing: framing, keepsAlive: keepsAlive, request: request)
                if hasBody && !isHead {
                    message.append(contentsOf: body)
                }
                try sendAll(descriptor, message)

            case let .stream(produce):
                let isChunked = request.version != .http1_0
                if !isChunked {
                    keepsAlive = false
                }
                let framing: ResponseFraming = !hasBody ? .noBody : (isChunked ? .chunked : .closeDelimited)
                try sendAll(descriptor, serializeHead(response, framing: framing, keepsAlive: keepsAlive, request: request))
                guard hasBody && !isHead else {
                    break
                }
                let writer = HTTPBodyWriter(descriptor: descriptor, isChunked: isChunked, isDiscarding: false, stopSignal: stopSignal)
                do {
                    try produce(writer)
                    try writer.finish()
                } catch {
                    // The head is out, so the only way left to report the failure is to end the body early.
                    log(["event": "http.stream_failed", "remote": remoteAddress, "path": request.path, "cause": "\(error)"])
                    return false
                }
            }
        } catch {
            log(["event": "http.send_failed", "remote": remoteAddress, "path": request.path, "cause": "\(error)"])
            return false
        }
        return keepsAlive
    }

    private func serializeHead(
        _ response: HTTPResponse,
        framing: ResponseFraming,
        keepsAlive: Bool,
        request: HTTPRequest
    ) -> [UInt8] {
        var dropped: [String] = []
        let head = ResponseHead.serialize(
            status: response.status,
            headers: response.headers,
            framing: framing,
            keepsAlive: keepsAlive,
            requestVersion: request.version,
            dropped: &dropped
        )
        for name in dropped {
            log(["event": "http.header_dropped", "name": name, "path": request.path, "cause": "invalid name or value"])
        }
        return head
    }

    /// Sends the JSON error for a rejected request and closes the sending side.
    private func reject(_ rejection: RequestRejection) {
        log(["event": "http.request_rejected", "remote": remoteAddress, "status": rejection.status, "cause": rejection.message])
        let response = HTTPResponse.error(status: rejection.status, message: rejection.message)
        guard case let .bytes(body) = response.body else {
            return
        }
        var dropped: [String] = []
        var message = ResponseHead.serialize(
            status: rejection.status,
            headers: response.headers,
            framing: .contentLength(body.count),
            keepsAlive: false,
            requestVersion: .http1_1,
            dropped: &dropped
        )
        message.append(contentsOf: body)
        _ = try? sendAll(descriptor, message)
        closeAfterResponse()
    }

    /// Shuts down the sending side and reads what the client still sends for up to 500 ms or 256 KiB.
    ///
    /// Closing a socket with unread input makes the kernel send a reset, which can destroy the response before
    /// the client reads it, for example after a 413 for a body the client is still sending.
    private func closeAfterResponse() {
        _ = shutdown(descriptor, Int32(SHUT_WR))
        let deadline = ContinuousClock.now + .milliseconds(500)
        var drained = 0
        while drained < 256 * 1024 {
            buffer.removeAll(keepingCapacity: true)
            guard receive(until: deadline, wakesOnStop: false) == .received else {
                return
            }
            drained += buffer.count
        }
    }

    private func log(_ fields: KeyValuePairs<String, Any>) {
        configuration.logger?(logLine(fields))
    }
}

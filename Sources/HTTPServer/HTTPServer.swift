import Foundation
import Glibc

/// A minimal HTTP/1.1 server on Glibc sockets with one thread per connection.
///
/// A slow or idle client occupies only its own thread, and handlers run concurrently and may sleep. The server
/// sends its own errors (400, 408, 413, 431, 501, 503, 505) in the JSON shape of `HTTPResponse.error`.
/// A server starts once, so listening again after `stop()` takes a new one.
public final class HTTPServer: @unchecked Sendable {
    public struct Configuration: Sendable {
        /// The IPv4 or IPv6 literal to listen on, such as "127.0.0.1" or "::1". "localhost" means 127.0.0.1.
        public var host: String
        /// The TCP port. 0 lets the kernel pick a free port, which `HTTPServer.port` reports after `start()`.
        public var port: Int
        /// The limit on the request line plus header fields. A larger header section gets 431.
        public var maxHeaderBytes: Int
        /// The limit on a request body after chunked decoding. A larger body gets 413.
        public var maxBodyBytes: Int
        /// The time allowed for the head and body of one request to arrive once it has started. A request that takes longer gets 408.
        public var readTimeout: Duration
        /// The time an open connection may wait for its next request before the server closes it.
        public var idleTimeout: Duration
        /// The time one send may block on a client that does not read before the connection closes.
        public var writeTimeout: Duration
        /// The limit on open connections. A connection over it gets 503 and is closed.
        public var maxConnections: Int
        /// The time `stop()` waits for running handlers before it shuts their connections down.
        public var shutdownGracePeriod: Duration
        /// Receives one `key=value` line per error the server catches, such as
        /// `event=http.accept_failed errno=24 cause="Too many open files"`. Nil logs nothing.
        public var logger: (@Sendable (String) -> Void)?

        public init(
            host: String = "127.0.0.1",
            port: Int = 0,
            maxHeaderBytes: Int = 16 * 1024,
            maxBodyBytes: Int = 1024 * 1024,
            readTimeout: Duration = .seconds(10),
            idleTimeout: Duration = .seconds(30),
            writeTimeout: Duration = .seconds(10),
            maxConnections: Int = 512,
            shutdownGracePeriod: Duration = .seconds(5),
            logger: (@Sendable (String) -> Void)? = nil
        ) {
            self.host = host
            self.port = port
            self.maxHeaderBytes = maxHeaderBytes
            self.maxBodyBytes = maxBodyBytes
            self.readTimeout = readTimeout
            self.idleTimeout = idleTimeout
            self.writeTimeout = writeTimeout
            self.maxConnections = maxConnections
            self.shutdownGracePeriod = shutdownGracePeriod
            self.logger = logger
        }

        /// Checks every field's range.
        /// - Throws: `HTTPServerError.invalidConfiguration` naming the first field out of range.
        public func validate() throws {
            func check(_ isValid: Bool, _ field: String, _ value: Any, _ expected: String) throws {
                if !isValid {
                    throw HTTPServerError.invalidConfiguration(field: field, value: "\(value)", expected: expected)
                }
            }
            try check((0...65535).contains(port), "port", port, "0 to 65535")
            try check(maxHeaderBytes >= 256, "maxHeaderBytes", maxHeaderBytes, "at least 256")
            try check(maxBodyBytes >= 0, "maxBodyBytes", maxBodyBytes, "0 or more")
            try check(readTimeout >= .milliseconds(1), "readTimeout", readTimeout, "at least 1 ms")
            try check(idleTimeout >= .milliseconds(1), "idleTimeout", idleTimeout, "at least 1 ms")
            try check(writeTimeout >= .milliseconds(1), "writeTimeout", writeTimeout, "at least 1 ms")
            try check(maxConnections >= 1, "maxConnections", maxConnections, "at least 1")
            try check(shutdownGracePeriod >= .zero, "shutdownGracePeriod", shutdownGracePeriod, "0 or more")
        }
    }

    private enum State {
        case idle
        case running
        case stopped
    }

    public let configuration: Configuration
    private let handler: @Sendable (HTTPRequest) -> HTTPResponse

    /// Guards every field below and signals when `activeConnectionCount` drops.
    private let condition = NSCondition()
    private var state = State.idle
    private var boundPort = 0
    private var stopSignal: StopSignal?
    private var activeConnectionCount = 0
    private var connectionDescriptors = Set<Int32>()
    private var acceptLoopFinished = DispatchSemaphore(value: 0)
    private var rejectionLog = RepeatedEventLog()

    public init(configuration: Configuration = Configuration(), handler: @escaping @Sendable (HTTPRequest) -> HTTPResponse) {
        self.configuration = configuration
        self.handler = handler
    }

    deinit {
        stop()
    }

    /// The port the server listens on, which is the kernel's choice when the configured port is 0.
    /// 0 before `start()`.
    public var port: Int {
        condition.withLock { boundPort }
    }

    /// Binds, listens and starts the accept thread, and returns once the socket accepts connections.
    /// - Throws: `HTTPServerError.invalidConfiguration` or `.invalidHost` for bad settings, `.listenFailed` naming
    ///   `host:port`, the call and errno (such as "Address already in use"), and `.alreadyStarted` on a second call.
    public func start() throws {
        condition.lock()
        defer { condition.unlock() }
        guard state == .idle else {
            throw HTTPServerError.alreadyStarted
        }
        try configuration.validate()
        let address = try SocketAddress(host: configuration.host, port: configuration.port)
        let displayAddress = SocketAddress.display(host: configuration.host, port: configuration.port)

        let listenDescriptor = try openListeningSocket(address, displayAddress: displayAddress)
        do {
            boundPort = try SocketAddress.boundPort(of: listenDescriptor)
            let signal = try StopSignal()
            stopSignal = signal
            let thread = Thread { [self] in
                acceptLoop(listenDescriptor: listenDescriptor, stopSignal: signal)
            }
            thread.name = "http-accept"
            thread.start()
        } catch {
            closeDescriptor(listenDescriptor)
            throw error
        }
        state = .running
    }

    private func openListeningSocket(_ address: SocketAddress, displayAddress: String) throws -> Int32 {
        func listenFailure(_ error: Error) -> Error {
            guard let error = error as? SystemCallError else {
                return error
            }
            return HTTPServerError.listenFailed(address: displayAddress, call: error.call, errno: error.errno)
        }

        let descriptor: Int32
        do {
            descriptor = try retryingSystemCall("socket") {
                socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            }
        } catch {
            throw listenFailure(error)
        }
        do {
            try setSocketOption(descriptor, level: SOL_SOCKET, option: SO_REUSEADDR, value: 1, name: "SO_REUSEADDR")
            _ = try address.withSocketAddressPointer { pointer, length in
                try retryingSystemCall("bind") { bind(descriptor, pointer, length) }
            }
            try retryingSystemCall("listen") { listen(descriptor, SOMAXCONN) }
            // Non-blocking, so an accept after poll cannot hang when the client vanished in between.
            let flags = try retryingSystemCall("fcntl(F_GETFL)") { fcntl(descriptor, F_GETFL) }
            try retryingSystemCall("fcntl(F_SETFL)") { fcntl(descriptor, F_SETFL, flags | O_NONBLOCK) }
        } catch {
            closeDescriptor(descriptor)
            throw listenFailure(error)
        }
        return descriptor
    }

    /// Stops accepting, lets idle connections close and waits up to `shutdownGracePeriod` for running handlers.
    /// Connections still open after that are shut down, so their handlers' writes fail, and `stop()` returns
    /// without waiting for those handlers to return. Does nothing when the server is not running.
    public func stop() {
        condition.lock()
        guard state == .running, let signal = stopSignal else {
            condition.unlock()
            return
        }
        state = .stopped
        condition.unlock()

        signal.raise()
        // The accept thread wakes on the signal at once, so this wait only bounds a stuck thread.
        _ = acceptLoopFinished.wait(timeout: .now() + .seconds(2))

        condition.lock()
        defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(Double(configuration.shutdownGracePeriod.wholeMilliseconds) / 1000)
        while activeConnectionCount > 0 && condition.wait(until: deadline) {}
        if activeConnectionCount > 0 {
            log(["event": "http.stop_forced", "connections": activeConnectionCount,
                 "cause": "handlers still running after the grace period"])
            for descriptor in connectionDescriptors {
                _ = shutdown(descriptor, Int32(SHUT_RDWR))
            }
        }
    }

    // MARK: Accepting

    private func acceptLoop(listenDescriptor: Int32, stopSignal: StopSignal) {
        defer {
            closeDescriptor(listenDescriptor)
            acceptLoopFinished.signal()
        }
        while !stopSignal.isRaised {
            var descriptors = [
                pollfd(fd: listenDescriptor, events: Int16(POLLIN), revents: 0),
                pollfd(fd: stopSignal.readDescriptor, events: Int16(POLLIN), revents: 0),
            ]
            do {
                try retryingSystemCall("poll") { poll(&descriptors, 2, -1) }
            } catch {
                log(["event": "http.accept_failed", "cause": "\(error)"])
                stopSignal.wait(for: .milliseconds(100))
                continue
            }
            if descriptors[1].revents != 0 {
                return
            }
            if descriptors[0].revents != 0 {
                acceptOne(listenDescriptor: listenDescriptor, stopSignal: stopSignal)
            }
        }
    }

    /// Accepts one pending connection. Every accept error is logged and survived: EMFILE and ENFILE pause
    /// accepting for 100 ms because the descriptor table stays full until connections close, and
    /// ECONNABORTED means only that one client gave up.
    private func acceptOne(listenDescriptor: Int32, stopSignal: StopSignal) {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let descriptor: Int32
        do {
            descriptor = try withUnsafeMutablePointer(to: &storage) { pointer in
                try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                    try retryingSystemCall("accept") { accept(listenDescriptor, address, &length) }
                }
            }
        } catch let error as SystemCallError {
            switch error.errno {
            case EAGAIN, EWOULDBLOCK:
                return
            case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                log(["event": "http.accept_failed", "errno": error.errno, "cause": error.cause, "action": "pause 100 ms"])
                stopSignal.wait(for: .milliseconds(100))
            default:
                log(["event": "http.accept_failed", "errno": error.errno, "cause": error.cause])
            }
            return
        } catch {
            log(["event": "http.accept_failed", "cause": "\(error)"])
            return
        }

        setCloseOnExec(descriptor)
        let remoteAddress = SocketAddress.describe(storage)
        guard admit(descriptor) else {
            rejectOverCapacity(descriptor, remoteAddress: remoteAddress)
            return
        }

        do {
            try setSendTimeout(descriptor, timeout: configuration.writeTimeout)
            // Streamed chunks are small and should leave at once, not wait for Nagle's algorithm.
            try setSocketOption(descriptor, level: Int32(IPPROTO_TCP), option: TCP_NODELAY, value: 1, name: "TCP_NODELAY")
        } catch {
            log(["event": "http.socket_option_failed", "remote": remoteAddress, "cause": "\(error)"])
        }

        let connection = Connection(
            descriptor: descriptor,
            remoteAddress: remoteAddress,
            configuration: configuration,
            handler: handler,
            stopSignal: stopSignal
        )
        let thread = Thread { [self] in
            connection.run()
            release(descriptor)
        }
        thread.name = "http-connection"
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Counts a new connection unless the server is at `maxConnections`.
    private func admit(_ descriptor: Int32) -> Bool {
        condition.withLock {
            guard activeConnectionCount < configuration.maxConnections else {
                return false
            }
            activeConnectionCount += 1
            connectionDescriptors.insert(descriptor)
            return true
        }
    }

    /// Closes a finished connection. The descriptor leaves the set before it is closed, so `stop()` never shuts
    /// down a descriptor number that the kernel has already reused.
    private func release(_ descriptor: Int32) {
        condition.withLock {
            _ = connectionDescriptors.remove(descriptor)
        }
        closeDescriptor(descriptor)
        condition.withLock {
            activeConnectionCount -= 1
            condition.broadcast()
        }
    }

    /// Sends a 503 without blocking the accept thread and closes the connection.
    private func rejectOverCapacity(_ descriptor: Int32, remoteAddress: String) {
        let limit = configuration.maxConnections
        let response = HTTPResponse.error(status: 503, message: "the server has \(limit) open connections, which is its limit. Retry later")
        if case let .bytes(body) = response.body {
            var dropped: [String] = []
            var message = ResponseHead.serialize(
                status: 503, headers: response.headers, framing: .contentLength(body.count),
                keepsAlive: false, requestVersion: .http1_1, dropped: &dropped
            )
            message.append(contentsOf: body)
            _ = message.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
        }
        _ = shutdown(descriptor, Int32(SHUT_WR))
        // Reading what the client already sent avoids the reset that closing with unread input causes.
        var scratch = [UInt8](repeating: 0, count: 16 * 1024)
        _ = scratch.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        closeDescriptor(descriptor)

        let suppressed = condition.withLock { rejectionLog.record(now: .now) }
        if let suppressed {
            log(["event": "http.connection_rejected", "remote": remoteAddress, "limit": limit, "cause": "connection limit reached",
                 "suppressed": suppressed])
        }
    }

    private func log(_ fields: KeyValuePairs<String, Any>) {
        configuration.logger?(logLine(fields))
    }
}

/// Rate limit for a log line that can repeat many times per second: one line per second at most.
struct RepeatedEventLog {
    private var lastLogged: ContinuousClock.Instant?
    private var suppressedCount = 0

    /// Records one event and returns how many were suppressed since the last line when this one should be logged,
    /// or nil when it should be suppressed.
    mutating func record(now: ContinuousClock.Instant) -> Int? {
        if let lastLogged, now - lastLogged < .seconds(1) {
            suppressedCount += 1
            return nil
        }
        lastLogged = now
        defer { suppressedCount = 0 }
        return suppressedCount
    }
}

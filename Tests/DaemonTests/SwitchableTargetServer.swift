import Foundation
import HTTPServer

/// A chat API on 127.0.0.1 whose response the test switches: 200 `{"answer":"ok"}` while healthy, 503 while failing.
final class SwitchableTargetServer: @unchecked Sendable {
    private let lock = NSLock()
    private var failing: Bool
    private var server: HTTPServer!

    /// Starts listening on a free port, responding with 503 when `initiallyFailing` is true.
    init(isFailing initiallyFailing: Bool) throws {
        failing = initiallyFailing
        server = HTTPServer(configuration: HTTPServer.Configuration(host: "127.0.0.1", port: 0)) { [unowned self] _ in
            if self.isFailing {
                return .error(status: 503, message: "the test switched this target to failing")
            }
            return .json(status: 200, serialized: #"{"answer":"ok"}"#)
        }
        try server.start()
    }

    var port: Int { server.port }

    var url: String { "http://127.0.0.1:\(server.port)" }

    var isFailing: Bool {
        get {
            lock.lock()
            defer { lock.unlock() }
            return failing
        }
        set {
            lock.lock()
            failing = newValue
            lock.unlock()
        }
    }

    func stop() {
        server.stop()
    }
}

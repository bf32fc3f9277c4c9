import Dispatch
import Foundation
import Glibc

/// Routes SIGINT, SIGTERM and SIGHUP to replaceable handlers through one dispatch source per signal.
///
/// libdispatch on Linux installs its own process-wide handler the first time a source for a signal is made, and a
/// later `signal()` call silently replaces it. So each source is made once and never cancelled, and the handler
/// behind it is swapped instead. A signal that arrives with no handler set ends the process with status
/// 128 + signal, as the default action would (SIGHUP included).
public final class SignalRouter: @unchecked Sendable {
    public static let shared = SignalRouter()

    private let lock = NSLock()
    private let queue = DispatchQueue(label: "loadsmoke.signals")
    private var sources: [Int32: DispatchSourceSignal] = [:]
    private var handlers: [Int32: @Sendable () -> Void] = [:]

    private init() {}

    /// Sets (or with nil clears) the handler of `signalNumber`; the handler runs on a private serial queue.
    public func setHandler(_ signalNumber: Int32, _ handler: (@Sendable () -> Void)?) {
        lock.lock()
        defer { lock.unlock() }
        handlers[signalNumber] = handler
        guard sources[signalNumber] == nil else { return }
        signal(signalNumber, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: queue)
        source.setEventHandler { [unowned self] in
            lock.lock()
            let handler = handlers[signalNumber]
            lock.unlock()
            guard let handler else { _exit(128 + signalNumber) }
            handler()
        }
        source.resume()
        sources[signalNumber] = source
    }

    /// Blocks until SIGINT or SIGTERM arrives, then clears both handlers.
    public func waitForTermination() {
        let done = DispatchSemaphore(value: 0)
        setHandler(SIGINT) { done.signal() }
        setHandler(SIGTERM) { done.signal() }
        done.wait()
        setHandler(SIGINT, nil)
        setHandler(SIGTERM, nil)
    }
}

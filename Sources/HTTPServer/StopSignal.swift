import Foundation
import Glibc

/// A one-way signal from `HTTPServer.stop()` to the threads that wait in `poll`.
///
/// Raising it writes one byte to a pipe and never reads it back, so the read end stays readable and wakes every
/// present and future `poll` on it. The pipe closes when the last thread releases the signal.
final class StopSignal: @unchecked Sendable {
    let readDescriptor: Int32
    private let writeDescriptor: Int32
    private let lock = NSLock()
    private var raised = false

    init() throws {
        var descriptors: [Int32] = [0, 0]
        try retryingSystemCall("pipe") { pipe(&descriptors) }
        readDescriptor = descriptors[0]
        writeDescriptor = descriptors[1]
        setCloseOnExec(readDescriptor)
        setCloseOnExec(writeDescriptor)
    }

    deinit {
        closeDescriptor(readDescriptor)
        closeDescriptor(writeDescriptor)
    }

    var isRaised: Bool {
        lock.withLock { raised }
    }

    func raise() {
        let isFirst = lock.withLock {
            defer { raised = true }
            return !raised
        }
        guard isFirst else {
            return
        }
        var byte: UInt8 = 1
        // Only the first raise writes, into an empty pipe of at least one page (Linux pipe(7)), so the write cannot block.
        _ = try? retryingSystemCall("write") { Glibc.write(writeDescriptor, &byte, 1) }
    }

    /// Sleeps for up to `duration`, returning early when the signal is raised.
    func wait(for duration: Duration) {
        var descriptor = pollfd(fd: readDescriptor, events: Int16(POLLIN), revents: 0)
        _ = try? retryingSystemCall("poll") { poll(&descriptor, 1, Int32(duration.wholeMilliseconds)) }
    }
}

/// Builds one log line of `key=value` fields, quoting values that contain spaces, quotes or `=`.
func logLine(_ fields: KeyValuePairs<String, Any>) -> String {
    fields.map { key, value in
        let text = "\(value)"
        let needsQuotes = text.isEmpty || text.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" })
        return needsQuotes ? "\(key)=\(jsonStringLiteral(text))" : "\(key)=\(text)"
    }.joined(separator: " ")
}

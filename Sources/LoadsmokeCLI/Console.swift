import Foundation
import Glibc

/// Writes to stdout and stderr without buffering surprises, and knows whether each is a terminal.
final class Console: @unchecked Sendable {
    private let lock = NSLock()
    let environment: [String: String]

    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    func out(_ text: String) { write(text, to: STDOUT_FILENO) }

    /// Writes one line to stderr.
    func error(_ line: String) { write(line.hasSuffix("\n") ? line : line + "\n", to: STDERR_FILENO) }

    func write(_ text: String, to descriptor: Int32) {
        lock.lock()
        defer { lock.unlock() }
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            bytes = bytes.dropFirst(written)
        }
    }

    var isStdoutTerminal: Bool { isatty(STDOUT_FILENO) == 1 }
    var isStderrTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    /// Color only on a terminal and only when NO_COLOR is unset or empty (https://no-color.org).
    var usesColor: Bool {
        guard isStdoutTerminal else { return false }
        return (environment["NO_COLOR"] ?? "").isEmpty
    }
}

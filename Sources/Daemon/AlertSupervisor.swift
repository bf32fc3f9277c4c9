import Foundation
import Glibc

/// Exit status or terminating signal of an alert process, decoded from a `waitpid` status.
struct AlertTermination: Equatable {
    var exitStatus: Int32?
    var signal: Int32?

    /// Termination whose status was lost, because something else in the process reaped the child first. That happens
    /// when the daemon sets `SIGCHLD` to `SIG_IGN`.
    static let unknown = AlertTermination(exitStatus: nil, signal: nil)

    /// Decodes a status without `WUNTRACED` or `WCONTINUED`, so the process either exited or was killed by a signal.
    /// The bit layout is the one glibc's `WIFEXITED`, `WEXITSTATUS` and `WTERMSIG` macros read on Linux.
    init(waitStatus: Int32) {
        let terminatingSignal = waitStatus & 0x7f
        if terminatingSignal == 0 {
            self.init(exitStatus: (waitStatus >> 8) & 0xff, signal: nil)
        } else {
            self.init(exitStatus: nil, signal: terminatingSignal)
        }
    }

    init(exitStatus: Int32?, signal: Int32?) {
        self.exitStatus = exitStatus
        self.signal = signal
    }
}

/// Parent's side of one running alert process: feeds its stdin, collects its output, enforces the deadline and reaps
/// it. All waiting happens in `poll` with a bounded timeout, so no step can block past the deadline plus the grace
/// period, except the final `waitpid` after `SIGKILL`.
struct AlertSupervisor {
    struct Outcome {
        var termination: AlertTermination
        var timedOut: Bool
        var output: AlertOutputBuffer
        /// Whether a write to stdin failed with `EPIPE`, which also raised a `SIGPIPE` in this thread.
        var hasWrittenToClosedPipe: Bool
    }

    /// Bounds for the `poll` timeout while nothing happens. The process's exit is checked between polls, because a
    /// background process that inherited the output pipe can hide it.
    private static let minimumPollMilliseconds = 1.0
    private static let maximumPollMilliseconds = 50.0
    private static let readChunkSize = 64 * 1024
    private static let writeChunkSize = 64 * 1024
    /// Cap on bytes read per wake-up, so a command that writes without pause cannot keep the loop from its deadline.
    private static let readLimitPerWake = 1 << 20
    /// Bytes read after the process exits. It equals Linux's default `/proc/sys/fs/pipe-max-size`, which caps a pipe's
    /// capacity unless an administrator raised it.
    private static let readLimitAfterExit = 1 << 20

    private let pid: pid_t
    private var stdinDescriptor: Int32?
    private var outputDescriptor: Int32?
    private let stdinBytes: [UInt8]
    private var stdinOffset = 0
    private var output: AlertOutputBuffer
    private var readBuffer: [UInt8]
    private var hasWrittenToClosedPipe = false
    /// Monotonic seconds, as returned by `monotonicSeconds()`.
    private let deadline: Double
    private let graceSeconds: Double

    init(process: SpawnedAlertProcess, stdin: [UInt8], maxOutputBytes: Int, timeoutSeconds: Double, graceSeconds: Double) {
        pid = process.pid
        stdinDescriptor = process.stdinWriteEnd
        outputDescriptor = process.outputReadEnd
        stdinBytes = stdin
        output = AlertOutputBuffer(limit: maxOutputBytes)
        readBuffer = [UInt8](repeating: 0, count: Self.readChunkSize)
        deadline = Self.monotonicSeconds() + timeoutSeconds
        self.graceSeconds = graceSeconds
    }

    /// Runs the exchange until the process exits or the deadline passes, then reaps it and closes both pipes.
    mutating func run() -> Outcome {
        if stdinBytes.isEmpty {
            closeStdin()
        }

        var pollMilliseconds = Self.minimumPollMilliseconds
        var termination: AlertTermination?
        while termination == nil {
            termination = reapIfExited()
            if termination != nil { break }

            let remainingMilliseconds = (deadline - Self.monotonicSeconds()) * 1000
            if remainingMilliseconds <= 0 { break }
            let hasActivity = transferData(waitingAtMost: min(pollMilliseconds, remainingMilliseconds))
            pollMilliseconds = hasActivity
                ? Self.minimumPollMilliseconds
                : min(pollMilliseconds * 2, Self.maximumPollMilliseconds)
        }

        closeStdin()
        let timedOut = termination == nil
        if termination == nil {
            termination = terminateProcessGroup()
        }
        // Output the process wrote before it ended is still in the pipe. Output that background processes write
        // later is not collected, because they may hold the pipe open for much longer.
        readOutput(limit: Self.readLimitAfterExit)
        closeOutput()

        return Outcome(
            termination: termination ?? .unknown,
            timedOut: timedOut,
            output: output,
            hasWrittenToClosedPipe: hasWrittenToClosedPipe
        )
    }

    // MARK: - Stopping and reaping

    /// Sends `SIGTERM` to the process group, waits up to the grace period for the leader to exit while still reading
    /// output, then sends `SIGKILL` to the group and reaps the leader.
    private mutating func terminateProcessGroup() -> AlertTermination {
        signalProcessGroup(SIGTERM)

        let graceDeadline = Self.monotonicSeconds() + graceSeconds
        while !hasExitedWithoutReaping() {
            let remainingMilliseconds = (graceDeadline - Self.monotonicSeconds()) * 1000
            if remainingMilliseconds <= 0 { break }
            transferData(waitingAtMost: min(remainingMilliseconds, 10))
        }

        // The leader is not reaped yet, so the group id cannot belong to another process group. SIGKILL also stops
        // background processes that ignore SIGTERM or outlive their leader.
        signalProcessGroup(SIGKILL)
        return reapBlocking()
    }

    private func signalProcessGroup(_ signalNumber: Int32) {
        // The group exists while its leader is unreaped, so this fallback only matters if the spawn attributes change.
        if killpg(pid, signalNumber) != 0 {
            _ = kill(pid, signalNumber)
        }
    }

    private func reapIfExited() -> AlertTermination? {
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid { return AlertTermination(waitStatus: status) }
            if result == 0 { return nil }
            if errno == EINTR { continue }
            return .unknown
        }
    }

    private func reapBlocking() -> AlertTermination {
        var status: Int32 = 0
        while true {
            if waitpid(pid, &status, 0) == pid { return AlertTermination(waitStatus: status) }
            if errno == EINTR { continue }
            return .unknown
        }
    }

    /// Checks with `WNOWAIT` whether the leader has exited, which leaves it a zombie that keeps its group id reserved.
    private func hasExitedWithoutReaping() -> Bool {
        while true {
            var info = siginfo_t()
            let result = waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT)
            if result == 0 { return info.si_signo == SIGCHLD }
            if errno == EINTR { continue }
            return true
        }
    }

    // MARK: - Pipes

    /// Waits up to `milliseconds` for either pipe to become ready, then writes stdin and reads output as far as each
    /// can go without blocking. Returns whether any pipe was ready.
    @discardableResult
    private mutating func transferData(waitingAtMost milliseconds: Double) -> Bool {
        var descriptors: [pollfd] = []
        if let stdinDescriptor {
            descriptors.append(pollfd(fd: stdinDescriptor, events: Int16(POLLOUT), revents: 0))
        }
        if let outputDescriptor {
            descriptors.append(pollfd(fd: outputDescriptor, events: Int16(POLLIN), revents: 0))
        }

        let timeout = Int32(max(1, milliseconds.rounded(.up)))
        let readyCount = poll(&descriptors, nfds_t(descriptors.count), timeout)
        // Zero is a timeout and -1 is EINTR or a transient failure. The caller checks the process and the clock next.
        guard readyCount > 0 else { return false }

        for descriptor in descriptors where descriptor.revents != 0 {
            if descriptor.fd == stdinDescriptor {
                writeStdin()
            } else if descriptor.fd == outputDescriptor {
                readOutput(limit: Self.readLimitPerWake)
            }
        }
        return true
    }

    private mutating func writeStdin() {
        guard let descriptor = stdinDescriptor else { return }
        while stdinOffset < stdinBytes.count {
            let count = min(stdinBytes.count - stdinOffset, Self.writeChunkSize)
            let offset = stdinOffset
            let written = stdinBytes.withUnsafeBytes { bytes in
                write(descriptor, bytes.baseAddress! + offset, count)
            }
            let writeError = errno
            if written > 0 {
                stdinOffset += written
                continue
            }
            if written < 0 && writeError == EINTR { continue }
            if written < 0 && (writeError == EAGAIN || writeError == EWOULDBLOCK) { return }

            // EPIPE means the command closed its stdin early, which is allowed, so the rest of the input is dropped.
            // Other errors, such as EBADF, would be programming errors, and they also end the input.
            if written < 0 && writeError == EPIPE {
                hasWrittenToClosedPipe = true
            }
            break
        }
        closeStdin()
    }

    /// Reads until the pipe has no more data, reaches end-of-file or `limit` bytes have been read.
    private mutating func readOutput(limit: Int) {
        guard let descriptor = outputDescriptor else { return }
        var totalRead = 0
        while totalRead < limit {
            let count = readBuffer.withUnsafeMutableBytes { buffer in
                read(descriptor, buffer.baseAddress!, buffer.count)
            }
            let readError = errno
            if count > 0 {
                readBuffer.withUnsafeBytes { buffer in
                    output.append(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
                }
                totalRead += count
                continue
            }
            if count < 0 && readError == EINTR { continue }
            if count < 0 && (readError == EAGAIN || readError == EWOULDBLOCK) { return }

            // End-of-file means the process and every background process that inherited the pipe have closed it. Other
            // read errors also end collection, because retrying them would spin until the deadline.
            closeOutput()
            return
        }
    }

    private mutating func closeStdin() {
        if let descriptor = stdinDescriptor {
            close(descriptor)
            stdinDescriptor = nil
        }
    }

    private mutating func closeOutput() {
        if let descriptor = outputDescriptor {
            close(descriptor)
            outputDescriptor = nil
        }
    }

    private static func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1_000_000_000
    }
}

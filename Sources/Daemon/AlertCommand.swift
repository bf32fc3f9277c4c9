import Foundation
import Glibc

/// One execution of the configured alert command.
public struct AlertInvocation: Sendable, Equatable {
    /// Program and arguments, passed to the program unchanged and never through a shell. `command[0]` is an absolute
    /// or relative path when it contains a `/`. Otherwise it is a name that `posix_spawnp` looks up in the daemon's
    /// own `PATH`, not in a `PATH` set in `environment`.
    public var command: [String]

    /// Bytes written to the command's standard input, normally the run's JSON report. The runner closes the pipe after
    /// the last byte, so the command reads end-of-file.
    public var stdin: [UInt8]

    /// Variables added to the daemon's environment for the command, replacing inherited variables of the same name.
    public var environment: [String: String]

    /// Limit in seconds on the whole run, from spawn to reaping the command. It must be positive and finite.
    public var timeoutSeconds: Double

    /// Maximum number of bytes of combined stdout and stderr kept in the result. The runner reads and counts later
    /// bytes, then drops them.
    public var maxOutputBytes: Int

    public init(
        command: [String],
        stdin: [UInt8] = [],
        environment: [String: String] = [:],
        timeoutSeconds: Double,
        maxOutputBytes: Int = 4096
    ) {
        self.command = command
        self.stdin = stdin
        self.environment = environment
        self.timeoutSeconds = timeoutSeconds
        self.maxOutputBytes = maxOutputBytes
    }
}

/// Outcome of one alert command run.
public struct AlertCommandResult: Sendable, Equatable {
    /// Exit status passed to `exit`, or nil when a signal ended the command or it never started.
    public var exitStatus: Int32?

    /// Signal that ended the command, such as `SIGTERM` or `SIGKILL` after a timeout, or nil when it exited.
    public var signal: Int32?

    /// Whether the runner stopped the command because it outlived `timeoutSeconds`.
    public var timedOut: Bool

    /// First `maxOutputBytes` bytes of combined stdout and stderr as lossy UTF-8. When the runner dropped bytes, the
    /// kept part ends at a character boundary and a marker such as `"\n[... 12345 more bytes]"` follows it.
    public var output: String

    /// Wall-clock time just before the spawn.
    public var startedAt: Date

    /// Wall-clock time after the command was reaped and its output collected.
    public var finishedAt: Date

    /// Reason the command did not start, such as
    /// `posix_spawn /usr/local/bin/notify-ops failed: No such file or directory`, or nil when it started.
    public var launchError: String?

    public init(
        exitStatus: Int32?,
        signal: Int32?,
        timedOut: Bool,
        output: String,
        startedAt: Date,
        finishedAt: Date,
        launchError: String?
    ) {
        self.exitStatus = exitStatus
        self.signal = signal
        self.timedOut = timedOut
        self.output = output
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.launchError = launchError
    }

    /// Whether the command started, finished within its timeout and exited with status 0.
    public var isSuccessful: Bool {
        launchError == nil && !timedOut && exitStatus == 0
    }
}

/// Runner for alert commands as child processes, without a shell.
public enum AlertCommand {
    /// Seconds between `SIGTERM` and `SIGKILL` to the command's process group after a timeout.
    public static let terminationGraceSeconds = 1.0

    /// Runs the command and blocks until it has finished and been reaped, or until `timeoutSeconds` have passed and
    /// its process group has been killed, whichever comes first.
    ///
    /// The command runs in a new process group with an empty signal mask, default signal dispositions and only
    /// descriptors 0, 1 and 2 open. A timeout sends `SIGTERM` to the group, then `SIGKILL` after
    /// `terminationGraceSeconds`, so the call returns within about `timeoutSeconds + terminationGraceSeconds`.
    /// When the command exits on its own, background processes it started keep running, and the runner stops reading
    /// output at that point, even if they hold the pipe open.
    ///
    /// Failures to start, such as a missing executable or an invalid invocation, are reported in `launchError`.
    /// Safe to call from several threads at once. It neither changes process-wide signal state nor raises `SIGPIPE`
    /// when the command closes its stdin early.
    public static func run(_ invocation: AlertInvocation) -> AlertCommandResult {
        if let problem = validationProblem(in: invocation) {
            let now = Date()
            return failedLaunch(problem, startedAt: now)
        }

        // A write to a stdin pipe that the command closed raises SIGPIPE in this thread. Blocking it here and consuming
        // it before unblocking leaves the process-wide disposition alone, which the daemon sets to ignore.
        let pipeSignalGuard = PipeSignalGuard()
        defer { pipeSignalGuard.restore() }

        let startedAt = Date()
        let process: SpawnedAlertProcess
        do {
            process = try SpawnedAlertProcess.launch(
                command: invocation.command,
                environment: mergedEnvironment(adding: invocation.environment)
            )
        } catch {
            return failedLaunch(error.message, startedAt: startedAt)
        }

        var supervisor = AlertSupervisor(
            process: process,
            stdin: invocation.stdin,
            maxOutputBytes: invocation.maxOutputBytes,
            timeoutSeconds: invocation.timeoutSeconds,
            graceSeconds: terminationGraceSeconds
        )
        let outcome = supervisor.run()
        if outcome.hasWrittenToClosedPipe {
            pipeSignalGuard.discardPendingSignal()
        }

        return AlertCommandResult(
            exitStatus: outcome.termination.exitStatus,
            signal: outcome.termination.signal,
            timedOut: outcome.timedOut,
            output: outcome.output.text(),
            startedAt: startedAt,
            finishedAt: Date(),
            launchError: nil
        )
    }

    private static func failedLaunch(_ message: String, startedAt: Date) -> AlertCommandResult {
        AlertCommandResult(
            exitStatus: nil,
            signal: nil,
            timedOut: false,
            output: "",
            startedAt: startedAt,
            finishedAt: Date(),
            launchError: message
        )
    }

    /// Returns the first reason the invocation cannot be passed to `posix_spawn`, or nil when it can.
    static func validationProblem(in invocation: AlertInvocation) -> String? {
        if invocation.command.isEmpty {
            return "alert command is empty: set it to an argv list such as [\"/usr/local/bin/notify-ops\"]"
        }
        for (index, argument) in invocation.command.enumerated() where argument.utf8.contains(0) {
            return "alert command argument \(index) contains a NUL byte: remove it, because C strings end there"
        }
        for (name, value) in invocation.environment.sorted(by: { $0.key < $1.key }) {
            if name.isEmpty || name.contains("=") || name.utf8.contains(0) {
                return "invalid alert environment variable name \"\(name)\": use a non-empty name without '=' or NUL"
            }
            if value.utf8.contains(0) {
                return "alert environment variable \(name) contains a NUL byte: remove it, because C strings end there"
            }
        }
        let timeout = invocation.timeoutSeconds
        if !timeout.isFinite || timeout <= 0 {
            return "invalid alert timeout \(timeout) seconds: use a positive, finite number of seconds"
        }
        return nil
    }

    /// Returns `NAME=value` entries of the daemon's environment with `additions` replacing variables of the same name,
    /// sorted by name.
    static func mergedEnvironment(adding additions: [String: String]) -> [String] {
        var variables = ProcessInfo.processInfo.environment
        variables.merge(additions) { _, added in added }
        return variables.keys.sorted().map { "\($0)=\(variables[$0] ?? "")" }
    }
}

/// `SIGPIPE` blocked in the calling thread until `restore()`.
private struct PipeSignalGuard {
    private var previousMask = sigset_t()
    private let wasBlocked: Bool

    init() {
        var pipeOnly = sigset_t()
        sigemptyset(&pipeOnly)
        sigaddset(&pipeOnly, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &pipeOnly, &previousMask)
        wasBlocked = sigismember(&previousMask, SIGPIPE) == 1
    }

    /// Consumes a `SIGPIPE` pending on this thread, unless the caller had it blocked before, because then it may be
    /// the caller's own.
    func discardPendingSignal() {
        guard !wasBlocked else { return }
        var pending = sigset_t()
        sigpending(&pending)
        guard sigismember(&pending, SIGPIPE) == 1 else { return }

        var pipeOnly = sigset_t()
        sigemptyset(&pipeOnly)
        sigaddset(&pipeOnly, SIGPIPE)
        var noWait = timespec(tv_sec: 0, tv_nsec: 0)
        while sigtimedwait(&pipeOnly, nil, &noWait) == -1 && errno == EINTR {}
    }

    func restore() {
        var mask = previousMask
        pthread_sigmask(SIG_SETMASK, &mask, nil)
    }
}

import Foundation
import XCTest
import Glibc
@testable import Daemon

final class AlertCommandTests: XCTestCase {
    private var directory: URL!
    /// Background processes that scripts started and reported by pid, stopped in `tearDown`.
    private var backgroundPIDs: [pid_t] = []

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("alert-command-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        for pid in backgroundPIDs where isRunning(pid) {
            kill(pid, SIGKILL)
        }
        try FileManager.default.removeItem(at: directory)
    }

    // MARK: - Input

    func testStdinArrivesIntact() {
        let report = Array(#"{"target":"chat-prod","verdict":"failed"}"#.utf8)

        let result = AlertCommand.run(AlertInvocation(command: ["/bin/cat"], stdin: report, timeoutSeconds: 10))

        XCTAssertNil(result.launchError)
        XCTAssertEqual(result.exitStatus, 0)
        XCTAssertEqual(Array(result.output.utf8), report)
    }

    func testLargeStdinArrivesIntact() throws {
        let report = patternBytes(count: 200 * 1024)
        let copy = directory.appendingPathComponent("copy").path
        let script = try writeScript("copy-stdin", #"cat > "$1""#)

        let result = AlertCommand.run(AlertInvocation(command: [script, copy], stdin: report, timeoutSeconds: 20))

        XCTAssertEqual(result.exitStatus, 0)
        XCTAssertFalse(result.timedOut)
        XCTAssertEqual(FileManager.default.contents(atPath: copy), Data(report))
    }

    func testLargeStdinEchoedWithoutDeadlock() {
        // cat blocks on a full output pipe unless the runner reads while it writes stdin.
        let report = patternBytes(count: 200 * 1024)

        let result = AlertCommand.run(
            AlertInvocation(command: ["/bin/cat"], stdin: report, timeoutSeconds: 20, maxOutputBytes: 300 * 1024)
        )

        XCTAssertEqual(result.exitStatus, 0)
        XCTAssertFalse(result.timedOut)
        XCTAssertEqual(Array(result.output.utf8), report)
    }

    func testStdinClosedEarlyRaisesNoSignal() throws {
        // The script closes stdin at once and stays alive, so the runner's next write fails with EPIPE.
        let script = try writeScript("close-stdin", "exec 0<&-\nsleep 0.3\necho done")

        let result = AlertCommand.run(
            AlertInvocation(command: [script], stdin: patternBytes(count: 1024 * 1024), timeoutSeconds: 10)
        )

        XCTAssertNil(result.launchError)
        XCTAssertEqual(result.exitStatus, 0)
        XCTAssertEqual(result.output, "done\n")
        XCTAssertFalse(isSignalPending(SIGPIPE))
        XCTAssertFalse(isSignalBlocked(SIGPIPE))
    }

    func testUnreadStdinIsDropped() throws {
        let script = try writeScript("ignore-stdin", "exit 0")

        let result = AlertCommand.run(
            AlertInvocation(command: [script], stdin: patternBytes(count: 1024 * 1024), timeoutSeconds: 10)
        )

        XCTAssertEqual(result.exitStatus, 0)
        XCTAssertFalse(result.timedOut)
        XCTAssertFalse(isSignalPending(SIGPIPE))
    }

    // MARK: - Environment and arguments

    func testEnvironmentVariablesArrive() throws {
        let script = try writeScript("print-env", #"printf '%s|%s|%s' "$LOADSMOKE_EVENT" "$LOADSMOKE_TARGET" "$LOADSMOKE_RUN_ID""#)
        let environment = ["LOADSMOKE_EVENT": "failure", "LOADSMOKE_TARGET": "chat-prod", "LOADSMOKE_RUN_ID": "42"]

        let result = AlertCommand.run(AlertInvocation(command: [script], environment: environment, timeoutSeconds: 10))

        XCTAssertEqual(result.output, "failure|chat-prod|42")
    }

    func testParentEnvironmentInherited() throws {
        let script = try writeScript("print-path", #"printf '%s' "$PATH""#)
        let parentPath = try XCTUnwrap(ProcessInfo.processInfo.environment["PATH"])

        let result = AlertCommand.run(AlertInvocation(command: [script], timeoutSeconds: 10))

        XCTAssertEqual(result.output, parentPath)
    }

    func testEnvironmentOverridesInheritedVariable() throws {
        let script = try writeScript("print-home", #"printf '%s' "$HOME""#)

        let result = AlertCommand.run(
            AlertInvocation(command: [script], environment: ["HOME": "/srv/alerts"], timeoutSeconds: 10)
        )

        XCTAssertEqual(result.output, "/srv/alerts")
    }

    func testArgumentsArriveLiterally() throws {
        let marker = directory.appendingPathComponent("substituted").path
        let arguments = [
            "two words",
            #""double" 'single'"#,
            "$(touch \(marker))",
            "`touch \(marker)`",
            "; touch \(marker)",
            "$HOME",
            "*",
            "",
        ]
        let script = try writeScript("print-arguments", #"for argument in "$@"; do printf '<%s>\n' "$argument"; done"#)

        let result = AlertCommand.run(AlertInvocation(command: [script] + arguments, timeoutSeconds: 10))

        let expected = arguments.map { "<\($0)>\n" }.joined()
        XCTAssertEqual(result.output, expected)
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker))
    }

    func testNameLookedUpInPath() {
        let result = AlertCommand.run(AlertInvocation(command: ["printf", "found"], timeoutSeconds: 10))

        XCTAssertNil(result.launchError)
        XCTAssertEqual(result.output, "found")
    }

    // MARK: - Exit and output

    func testExitStatusRecorded() throws {
        let script = try writeScript("fail", "exit 3")

        let result = AlertCommand.run(AlertInvocation(command: [script], timeoutSeconds: 10))

        XCTAssertEqual(result.exitStatus, 3)
        XCTAssertNil(result.signal)
        XCTAssertFalse(result.timedOut)
        XCTAssertFalse(result.isSuccessful)
    }

    func testSuccessfulRunRecorded() throws {
        let script = try writeScript("succeed", "echo sent")

        let result = AlertCommand.run(AlertInvocation(command: [script], timeoutSeconds: 10))

        XCTAssertTrue(result.isSuccessful)
        XCTAssertEqual(result.exitStatus, 0)
        XCTAssertNil(result.signal)
        XCTAssertNil(result.launchError)
        XCTAssertLessThanOrEqual(result.startedAt, result.finishedAt)
    }

    func testStdoutAndStderrCombined() throws {
        let script = try writeScript("both-streams", "echo out\necho err >&2\necho out again")

        let result = AlertCommand.run(AlertInvocation(command: [script], timeoutSeconds: 10))

        XCTAssertEqual(result.output, "out\nerr\nout again\n")
    }

    func testOutputCappedWithMarker() throws {
        let script = try writeScript("chatty", "head -c 10000 /dev/zero | tr '\\000' x")

        let result = AlertCommand.run(AlertInvocation(command: [script], timeoutSeconds: 10, maxOutputBytes: 100))

        XCTAssertEqual(result.exitStatus, 0)
        XCTAssertEqual(result.output, String(repeating: "x", count: 100) + "\n[... 9900 more bytes]")
    }

    func testOutputAtLimitHasNoMarker() throws {
        let script = try writeScript("exact", "printf 12345")

        let result = AlertCommand.run(AlertInvocation(command: [script], timeoutSeconds: 10, maxOutputBytes: 5))

        XCTAssertEqual(result.output, "12345")
    }

    func testOutputCutAtCharacterBoundary() throws {
        // "é" is the two bytes C3 A9, so a 2-byte limit would split it after "a".
        let script = try writeScript("accent", #"printf 'a\303\251'"#)

        let result = AlertCommand.run(AlertInvocation(command: [script], timeoutSeconds: 10, maxOutputBytes: 2))

        XCTAssertEqual(result.output, "a\n[... 2 more bytes]")
    }

    func testZeroOutputLimitKeepsOnlyMarker() throws {
        let script = try writeScript("one-byte", "printf x")

        let result = AlertCommand.run(AlertInvocation(command: [script], timeoutSeconds: 10, maxOutputBytes: 0))

        XCTAssertEqual(result.output, "\n[... 1 more byte]")
    }

    // MARK: - Timeouts and background processes

    func testHangingCommandKilledAfterTimeout() {
        let started = Date()

        let result = AlertCommand.run(AlertInvocation(command: ["/bin/sleep", "30"], timeoutSeconds: 0.5))

        let elapsed = Date().timeIntervalSince(started)
        XCTAssertTrue(result.timedOut)
        XCTAssertEqual(result.signal, SIGTERM)
        XCTAssertNil(result.exitStatus)
        XCTAssertFalse(result.isSuccessful)
        XCTAssertLessThan(elapsed, 0.5 + AlertCommand.terminationGraceSeconds + 3)
    }

    func testCommandIgnoringTermKilledAfterGrace() throws {
        let script = try writeScript("ignore-term", "trap '' TERM\necho waiting\nsleep 30")
        let started = Date()

        let result = AlertCommand.run(AlertInvocation(command: [script], timeoutSeconds: 0.5))

        let elapsed = Date().timeIntervalSince(started)
        XCTAssertTrue(result.timedOut)
        XCTAssertEqual(result.signal, SIGKILL)
        XCTAssertEqual(result.output, "waiting\n")
        XCTAssertLessThan(elapsed, 0.5 + AlertCommand.terminationGraceSeconds + 3)
    }

    func testTimeoutKillsWholeProcessGroup() throws {
        let pidFile = directory.appendingPathComponent("background.pid").path
        let script = try writeScript("background-and-hang", #"sleep 30 & echo $! > "$1"; sleep 30"#)

        let result = AlertCommand.run(AlertInvocation(command: [script, pidFile], timeoutSeconds: 0.5))

        let backgroundPID = try readPID(from: pidFile)
        backgroundPIDs.append(backgroundPID)
        XCTAssertTrue(result.timedOut)
        XCTAssertTrue(waitUntilStopped(backgroundPID, seconds: 5))
    }

    func testBackgroundProcessDoesNotHangRunner() throws {
        let pidFile = directory.appendingPathComponent("background.pid").path
        let script = try writeScript("background", #"sleep 30 & echo $! > "$1"; echo started"#)
        let started = Date()

        let result = AlertCommand.run(AlertInvocation(command: [script, pidFile], timeoutSeconds: 10))

        let elapsed = Date().timeIntervalSince(started)
        backgroundPIDs.append(try readPID(from: pidFile))
        XCTAssertFalse(result.timedOut)
        XCTAssertEqual(result.exitStatus, 0)
        XCTAssertEqual(result.output, "started\n")
        XCTAssertLessThan(elapsed, 5)
    }

    // MARK: - Launch failures

    func testMissingExecutableGivesLaunchError() {
        let path = directory.appendingPathComponent("notify-ops").path

        let result = AlertCommand.run(AlertInvocation(command: [path], timeoutSeconds: 10))

        XCTAssertEqual(
            result.launchError,
            "posix_spawn \(path) failed: No such file or directory. "
                + "Check that the alert command's first element names an executable file."
        )
        XCTAssertNil(result.exitStatus)
        XCTAssertNil(result.signal)
        XCTAssertFalse(result.isSuccessful)
    }

    func testNonExecutableFileGivesLaunchError() throws {
        let path = try writeScript("not-executable", "echo never", permissions: 0o644)

        let result = AlertCommand.run(AlertInvocation(command: [path], timeoutSeconds: 10))

        XCTAssertEqual(result.launchError?.hasPrefix("posix_spawn \(path) failed: Permission denied"), true)
    }

    func testUnknownNameGivesLaunchError() {
        let name = "loadsmoke-missing-alert-command"

        let result = AlertCommand.run(AlertInvocation(command: [name], timeoutSeconds: 10))

        XCTAssertEqual(result.launchError?.hasPrefix("posix_spawnp \(name) failed: No such file or directory"), true)
    }

    func testEmptyCommandGivesLaunchError() {
        let result = AlertCommand.run(AlertInvocation(command: [], timeoutSeconds: 10))

        XCTAssertEqual(result.launchError?.hasPrefix("alert command is empty"), true)
    }

    func testInvalidTimeoutGivesLaunchError() {
        for timeout in [0, -1, Double.nan, Double.infinity] {
            let result = AlertCommand.run(AlertInvocation(command: ["/bin/cat"], timeoutSeconds: timeout))

            XCTAssertEqual(result.launchError?.hasPrefix("invalid alert timeout"), true, "timeout \(timeout)")
        }
    }

    func testNULInArgumentGivesLaunchError() {
        let result = AlertCommand.run(AlertInvocation(command: ["/bin/echo", "a\u{0}b"], timeoutSeconds: 10))

        XCTAssertEqual(result.launchError?.hasPrefix("alert command argument 1 contains a NUL byte"), true)
    }

    func testInvalidEnvironmentNameGivesLaunchError() {
        let result = AlertCommand.run(
            AlertInvocation(command: ["/bin/cat"], environment: ["A=B": "c"], timeoutSeconds: 10)
        )

        XCTAssertEqual(result.launchError?.hasPrefix(#"invalid alert environment variable name "A=B""#), true)
    }

    // MARK: - Process state

    func testCommandLeadsNewProcessGroup() throws {
        let result = AlertCommand.run(AlertInvocation(command: ["/bin/cat", "/proc/self/stat"], timeoutSeconds: 10))

        // /proc/<pid>/stat is "pid (comm) state ppid pgrp ...", and comm here is "cat", without spaces.
        let fields = result.output.split(separator: " ")
        XCTAssertGreaterThan(fields.count, 5)
        XCTAssertEqual(fields.first, fields.dropFirst(4).first)
        XCTAssertNotEqual(fields.first.map(String.init), String(getpid()))
    }

    func testCommandGetsOnlyStandardDescriptors() throws {
        // A descriptor that the parent opens without close-on-exec must still stay out of the command.
        let leakable = open("/dev/null", O_RDONLY)
        XCTAssertGreaterThan(leakable, 2)
        defer { close(leakable) }

        let result = AlertCommand.run(AlertInvocation(command: ["/bin/ls", "/proc/self/fd"], timeoutSeconds: 10))

        // ls itself opens one descriptor, the lowest free one, to read the directory.
        XCTAssertEqual(result.output, "0\n1\n2\n3\n")
    }

    func testSignalMaskAndDispositionsReset() throws {
        var blocked = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGUSR1)
        var previousMask = sigset_t()
        pthread_sigmask(SIG_BLOCK, &blocked, &previousMask)
        defer { pthread_sigmask(SIG_SETMASK, &previousMask, nil) }
        let previousHandler = signal(SIGUSR2, SIG_IGN)
        defer { signal(SIGUSR2, previousHandler) }

        let result = AlertCommand.run(
            AlertInvocation(command: ["/bin/grep", "-E", "^Sig(Blk|Ign):", "/proc/self/status"], timeoutSeconds: 10)
        )

        let masks = signalMasks(fromStatus: result.output)
        XCTAssertEqual(masks["SigBlk"], 0)
        // glibc 2.36's posix_spawn leaves its internal signals 32 and 33 ignored in every child, whatever the flags.
        let glibcInternalSignals: UInt64 = 1 << 31 | 1 << 32
        XCTAssertEqual(masks["SigIgn"].map { $0 & ~glibcInternalSignals }, 0)
    }

    func testConcurrentRunsKeepTheirOwnData() throws {
        let script = try writeScript("echo-target", "cat\nsleep 0.3\nprintf ' %s' \"$LOADSMOKE_TARGET\"")
        let results = ResultList(count: 4)

        DispatchQueue.concurrentPerform(iterations: 4) { index in
            let invocation = AlertInvocation(
                command: [script],
                stdin: Array("report-\(index)".utf8),
                environment: ["LOADSMOKE_TARGET": "target-\(index)"],
                timeoutSeconds: 10
            )
            results.store(AlertCommand.run(invocation), at: index)
        }

        for index in 0..<4 {
            let result = results.result(at: index)
            XCTAssertEqual(result?.exitStatus, 0, "run \(index)")
            XCTAssertEqual(result?.output, "report-\(index) target-\(index)", "run \(index)")
        }
    }

    // MARK: - Helpers

    private func writeScript(_ name: String, _ body: String, permissions: Int = 0o755) throws -> String {
        let path = directory.appendingPathComponent(name).path
        try Data("#!/bin/sh\n\(body)\n".utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: permissions], ofItemAtPath: path)
        return path
    }

    /// Printable ASCII in a repeating pattern, so a dropped or reordered chunk changes the bytes.
    private func patternBytes(count: Int) -> [UInt8] {
        (0..<count).map { index in
            let step: Int = index * 7 + index / 4096
            return UInt8(33 + step % 90)
        }
    }

    private func readPID(from path: String) throws -> pid_t {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try XCTUnwrap(pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    /// Checks the state field of /proc/<pid>/stat for a process that exists and is not a zombie.
    private func isRunning(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let commandEnd = stat.range(of: ") ", options: .backwards)
        else { return false }
        return stat[commandEnd.upperBound...].first != "Z"
    }

    private func waitUntilStopped(_ pid: pid_t, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if !isRunning(pid) { return true }
            usleep(20_000)
        }
        return !isRunning(pid)
    }

    /// Parses lines such as "SigBlk:\t0000000000010000" from /proc/<pid>/status, where bit n - 1 is signal n.
    private func signalMasks(fromStatus status: String) -> [String: UInt64] {
        var masks: [String: UInt64] = [:]
        for line in status.split(separator: "\n") {
            let parts = line.split(separator: ":")
            guard parts.count == 2 else { continue }
            masks[String(parts[0])] = UInt64(parts[1].trimmingCharacters(in: .whitespaces), radix: 16)
        }
        return masks
    }

    private func isSignalPending(_ signalNumber: Int32) -> Bool {
        var pending = sigset_t()
        sigpending(&pending)
        return sigismember(&pending, signalNumber) == 1
    }

    private func isSignalBlocked(_ signalNumber: Int32) -> Bool {
        var mask = sigset_t()
        pthread_sigmask(SIG_BLOCK, nil, &mask)
        return sigismember(&mask, signalNumber) == 1
    }
}

/// Results written by concurrent runs, one slot per run.
private final class ResultList: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [AlertCommandResult?]

    init(count: Int) {
        results = Array(repeating: nil, count: count)
    }

    func store(_ result: AlertCommandResult, at index: Int) {
        lock.lock()
        defer { lock.unlock() }
        results[index] = result
    }

    func result(at index: Int) -> AlertCommandResult? {
        lock.lock()
        defer { lock.unlock() }
        return results[index]
    }
}

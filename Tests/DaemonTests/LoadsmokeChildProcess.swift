import Foundation
import XCTest
import Glibc

/// Output and exit status of a finished `loadsmoke` child process.
struct ChildProcessResult {
    var exitCode: Int32
    var stdout: String
    var stderr: String
}

/// The built `loadsmoke` binary running as a child process, with stdout and stderr collected as they arrive, so a
/// test can wait for a log line while the process keeps running.
///
/// Every wait is bounded. `terminate()` sends SIGKILL to this child's pid only, so tests call it in `tearDown`.
final class LoadsmokeChildProcess: @unchecked Sendable {
    private let process = Process()
    private let stdoutPipe = Pipe()
    private let stderrPipe = Pipe()
    private let condition = NSCondition()
    private var stdoutBytes: [UInt8] = []
    private var stderrBytes: [UInt8] = []
    private var openStreams = 2

    /// The binary sits in the same build folder as the test bundle.
    static var binaryURL: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("loadsmoke")
    }

    /// Starts `loadsmoke ARGUMENTS` with the test's environment plus `environment`.
    init(_ arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = LoadsmokeChildProcess.binaryURL
        process.arguments = arguments
        var merged = ProcessInfo.processInfo.environment
        merged.removeValue(forKey: "LOADSMOKE_API_KEY")
        for (key, value) in environment { merged[key] = value }
        process.environment = merged
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        try process.run()
        startReader(stdoutPipe.fileHandleForReading.fileDescriptor, isStdout: true)
        startReader(stderrPipe.fileHandleForReading.fileDescriptor, isStdout: false)
    }

    var pid: pid_t { process.processIdentifier }

    var isRunning: Bool { process.isRunning }

    var stderr: String {
        condition.lock()
        defer { condition.unlock() }
        return String(decoding: stderrBytes, as: UTF8.self)
    }

    var stdout: String {
        condition.lock()
        defer { condition.unlock() }
        return String(decoding: stdoutBytes, as: UTF8.self)
    }

    /// Stderr lines that contain every one of `fragments`.
    func stderrLines(containing fragments: String...) -> [String] {
        stderr.split(separator: "\n").map(String.init).filter { line in fragments.allSatisfy(line.contains) }
    }

    /// Waits at most `timeout` seconds for a stderr line that contains every one of `fragments`, and returns the
    /// first such line, or nil when none arrived in time or the stream closed.
    func waitForStderrLine(containing fragments: String..., timeout: Double) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while true {
            let text = String(decoding: stderrBytes, as: UTF8.self)
            if let line = text.split(separator: "\n").first(where: { line in fragments.allSatisfy(line.contains) }) {
                return String(line)
            }
            if openStreams == 0 || !condition.wait(until: deadline) { return nil }
        }
    }

    /// Reads the status port from the `event=server.listening url=http://127.0.0.1:PORT` line.
    func waitForStatusPort(timeout: Double) -> Int? {
        guard let line = waitForStderrLine(containing: "event=server.listening", timeout: timeout),
              let urlField = line.split(separator: " ").first(where: { $0.hasPrefix("url=") }),
              let colon = urlField.lastIndex(of: ":")
        else { return nil }
        return Int(urlField[urlField.index(after: colon)...])
    }

    func send(_ signalNumber: Int32) {
        kill(process.processIdentifier, signalNumber)
    }

    /// Waits at most `timeout` seconds for the process to exit. Returns its exit status, or nil while it still runs.
    func waitForExit(timeout: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        guard !process.isRunning else { return nil }
        process.waitUntilExit()
        waitForStreamsToClose(timeout: 5)
        return process.terminationStatus
    }

    /// Kills the process with SIGKILL when it still runs and reaps it.
    func terminate() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Runs `loadsmoke ARGUMENTS` to completion, killing it after `timeout` seconds.
    static func run(_ arguments: [String], environment: [String: String] = [:], timeout: Double = 30) throws -> ChildProcessResult {
        let child = try LoadsmokeChildProcess(arguments, environment: environment)
        guard let exitCode = child.waitForExit(timeout: timeout) else {
            child.terminate()
            XCTFail("loadsmoke \(arguments) did not exit within \(timeout) s")
            return ChildProcessResult(exitCode: -1, stdout: child.stdout, stderr: child.stderr)
        }
        return ChildProcessResult(exitCode: exitCode, stdout: child.stdout, stderr: child.stderr)
    }

    // MARK: - Reading

    private func startReader(_ descriptor: Int32, isStdout: Bool) {
        let thread = Thread { [self] in
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count < 0, errno == EINTR { continue }
                condition.lock()
                if count > 0 {
                    if isStdout {
                        stdoutBytes += chunk[0..<count]
                    } else {
                        stderrBytes += chunk[0..<count]
                    }
                } else {
                    openStreams -= 1
                }
                condition.broadcast()
                condition.unlock()
                if count <= 0 { return }
            }
        }
        thread.name = isStdout ? "child-stdout" : "child-stderr"
        thread.start()
    }

    private func waitForStreamsToClose(timeout: Double) {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while openStreams > 0, condition.wait(until: deadline) {}
    }
}

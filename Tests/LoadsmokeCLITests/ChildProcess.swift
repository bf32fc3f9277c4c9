import Foundation
import XCTest

/// The result of running the built `loadsmoke` binary.
struct ProcessResult {
    var exitCode: Int32
    var stdout: String
    var stderr: String
}

/// Runs the `loadsmoke` binary built next to the test bundle, as a user would from a shell.
final class LoadsmokeProcess {
    let process = Process()
    private let stdoutPipe = Pipe()
    private let stderrPipe = Pipe()
    private var stdoutData = Data()
    private var stderrData = Data()
    private let readers = DispatchGroup()

    /// The binary sits in the same build folder as the test bundle.
    static var binaryURL: URL {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        return bundle.appendingPathComponent("loadsmoke")
    }

    init(_ arguments: [String], environment: [String: String] = [:], workingDirectory: URL? = nil) throws {
        process.executableURL = LoadsmokeProcess.binaryURL
        process.arguments = arguments
        var merged = ProcessInfo.processInfo.environment
        merged.removeValue(forKey: "LOADSMOKE_API_KEY")
        for (key, value) in environment { merged[key] = value }
        process.environment = merged
        if let workingDirectory { process.currentDirectoryURL = workingDirectory }
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        for (pipe, isStdout) in [(stdoutPipe, true), (stderrPipe, false)] {
            readers.enter()
            DispatchQueue.global().async { [self] in
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                if isStdout { stdoutData = data } else { stderrData = data }
                readers.leave()
            }
        }
    }

    var pid: Int32 { process.processIdentifier }

    /// Waits for exit, killing the process after `timeout` seconds so a hung test cannot hang the suite.
    func wait(timeout: Double = 60) -> ProcessResult {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            XCTFail("loadsmoke \(process.arguments ?? []) did not exit within \(timeout) s")
        }
        process.waitUntilExit()
        _ = readers.wait(timeout: .now() + 5)
        return ProcessResult(
            exitCode: process.terminationStatus,
            stdout: String(decoding: stdoutData, as: UTF8.self),
            stderr: String(decoding: stderrData, as: UTF8.self)
        )
    }

    static func run(_ arguments: [String], environment: [String: String] = [:], timeout: Double = 60) throws -> ProcessResult {
        try LoadsmokeProcess(arguments, environment: environment).wait(timeout: timeout)
    }
}

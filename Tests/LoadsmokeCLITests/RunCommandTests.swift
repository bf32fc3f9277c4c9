import DemoAPI
import Foundation
import HTTPServer
import JSONCoding
import XCTest

/// `loadsmoke run` as a child process against servers the tests start on loopback.
final class RunCommandTests: XCTestCase {
    private var demo: DemoChatService!

    override func setUpWithError() throws {
        demo = try DemoChatService(options: DemoOptions(port: 0, latencyMilliseconds: 2, fallbackRate: 0, errorRate: 0, seed: 1))
        try demo.start()
    }

    override func tearDown() {
        demo.stop()
    }

    private var demoURL: String { "http://127.0.0.1:\(demo.port)" }

    private func json(_ result: ProcessResult) throws -> JSONValue {
        try JSONValue.parse(result.stdout)
    }

    func testPassingRunExitsZero() throws {
        let result = try LoadsmokeProcess.run(["run", "--url", demoURL, "-n", "20", "-c", "4", "--json"])
        XCTAssertEqual(result.exitCode, 0, result.stderr)
        let document = try json(result)
        XCTAssertEqual(document["passed"], .bool(true))
        XCTAssertEqual(document["totals"]?["requests"], .integer(Int64(20)))
        XCTAssertEqual(document["totals"]?["succeeded"], .integer(Int64(20)))
        XCTAssertNotNil(document["latency_ms"]?["p99"]?.doubleValue)
    }

    func testHumanReportHasSectionsAndVerdict() throws {
        let result = try LoadsmokeProcess.run(["run", "--url", demoURL, "-n", "5"], environment: ["NO_COLOR": "1"])
        XCTAssertEqual(result.exitCode, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("METRICS"))
        XCTAssertTrue(result.stdout.contains("BUDGET CHECKS"))
        XCTAssertTrue(result.stdout.contains("PASS  p95 latency"))
        XCTAssertTrue(result.stdout.hasSuffix("PASSED: all 5 budgets met (exit 0)\n"), result.stdout)
        XCTAssertFalse(result.stdout.contains("\u{1B}["), "no color when stdout is not a terminal")
    }

    func testPineconeDownGivesFallbackOnEveryRequest() throws {
        let result = try LoadsmokeProcess.run(["run", "--url", demoURL, "-n", "30", "--pinecone-down", "--budget-fallback", "1", "--json"])
        XCTAssertEqual(result.exitCode, 0, result.stderr)
        let document = try json(result)
        XCTAssertEqual(document["totals"]?["fallback_rate"]?.doubleValue, 1)
        XCTAssertEqual(document["totals"]?["failed"], .integer(Int64(0)))
        XCTAssertEqual(document["config"]?["simulate"], .array([.string("pinecone")]))
    }

    func testPineconeDownFailsTheDefaultFallbackBudget() throws {
        let result = try LoadsmokeProcess.run(["run", "--url", demoURL, "-n", "10", "--pinecone-down"])
        XCTAssertEqual(result.exitCode, 1)
        XCTAssertTrue(result.stdout.contains("FAIL  fallback rate"), result.stdout)
        XCTAssertTrue(result.stdout.contains("pass --budget-fallback 1"), result.stdout)
    }

    func testClosedPortIsAllConnectionErrors() throws {
        let port = demo.port
        demo.stop()
        let result = try LoadsmokeProcess.run(["run", "--url", "http://127.0.0.1:\(port)", "-n", "8", "--json"])
        XCTAssertEqual(result.exitCode, 1)
        let document = try json(result)
        XCTAssertEqual(document["totals"]?["error_rate"]?.doubleValue, 1)
        XCTAssertEqual(document["errors"], .object([("connection", .integer(Int64(8)))]))
        XCTAssertEqual(document["latency_ms"], .null)
        XCTAssertNotNil(document["error_examples"]?["connection"]?.stringValue)
    }

    func testOneMillisecondBudgetFails() throws {
        let slow = try DemoChatService(options: DemoOptions(port: 0, latencyMilliseconds: 20, fallbackRate: 0, errorRate: 0, seed: 2))
        try slow.start()
        defer { slow.stop() }
        let result = try LoadsmokeProcess.run(["run", "--url", "http://127.0.0.1:\(slow.port)", "-n", "10", "--budget-p50", "1", "--json"])
        XCTAssertEqual(result.exitCode, 1)
        let budgets = try json(result)["budgets"]?.arrayValue ?? []
        XCTAssertEqual(budgets.first?["name"], .string("p50"))
        XCTAssertEqual(budgets.first?["passed"], .bool(false))
        XCTAssertEqual(budgets.first?["limit"]?.doubleValue, 1)
    }

    func testUnknownOptionExitsTwoWithOneLine() throws {
        let result = try LoadsmokeProcess.run(["run", "--bogus"])
        XCTAssertEqual(result.exitCode, 2)
        XCTAssertEqual(result.stderr, "error: unknown option '--bogus' (see 'loadsmoke run --help')\n")
        XCTAssertEqual(result.stdout, "")
    }

    func testMalformedURLExitsTwo() throws {
        let result = try LoadsmokeProcess.run(["run", "--url", "localhost:8000"])
        XCTAssertEqual(result.exitCode, 2)
        XCTAssertTrue(result.stderr.contains("\"localhost:8000\" for --url"), result.stderr)
    }

    func testUnreadablePromptsFileExitsTwo() throws {
        let result = try LoadsmokeProcess.run(["run", "--prompts", "/nonexistent/prompts.txt"])
        XCTAssertEqual(result.exitCode, 2)
        XCTAssertTrue(result.stderr.hasPrefix("error: invalid value \"/nonexistent/prompts.txt\" for --prompts"), result.stderr)
    }

    func testHelpExitsZero() throws {
        let result = try LoadsmokeProcess.run(["run", "--help"])
        XCTAssertEqual(result.exitCode, 0)
        XCTAssertTrue(result.stdout.hasPrefix("OVERVIEW: "))
        XCTAssertTrue(result.stdout.contains("-n, --requests N"))
    }

    func testUnknownCommandExitsTwo() throws {
        let result = try LoadsmokeProcess.run(["launch"])
        XCTAssertEqual(result.exitCode, 2)
        XCTAssertEqual(result.stderr, "error: unknown command 'launch' (see 'loadsmoke --help')\n")
    }

    func testOutputFileHoldsTheSameDocument() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("loadsmoke-output-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("report.json").path
        let result = try LoadsmokeProcess.run(["run", "--url", demoURL, "-n", "5", "--json", "--output", path])
        XCTAssertEqual(result.exitCode, 0, result.stderr)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), result.stdout)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        XCTAssertEqual(leftovers, ["report.json"], "no temporary file may be left behind")
    }

    func testOutputIntoMissingFolderExitsTwoBeforeSending() throws {
        let result = try LoadsmokeProcess.run(["run", "--url", demoURL, "-n", "5", "--output", "/nonexistent/dir/report.json"])
        XCTAssertEqual(result.exitCode, 2)
        XCTAssertTrue(result.stderr.contains("folder /nonexistent/dir does not exist"), result.stderr)
    }

    func testAPIKeyFromEnvironmentIsSentButNeverPrinted() throws {
        let seen = HeaderLog()
        let server = HTTPServer(configuration: .init(port: 0)) { request in
            seen.append(request.headers["Authorization"] ?? "")
            return .json(serialized: #"{"answer":"ok","fallback":false}"#)
        }
        try server.start()
        defer { server.stop() }
        let key = "sk-test-0123456789"
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("loadsmoke-key-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("report.json").path

        let human = try LoadsmokeProcess.run(["run", "--url", "http://127.0.0.1:\(server.port)", "-n", "3"], environment: ["LOADSMOKE_API_KEY": key])
        let machine = try LoadsmokeProcess.run(["run", "--url", "http://127.0.0.1:\(server.port)", "-n", "3", "--json", "--output", path], environment: ["LOADSMOKE_API_KEY": key])
        XCTAssertEqual(human.exitCode, 0, human.stderr)
        XCTAssertEqual(seen.values, Array(repeating: "Bearer \(key)", count: 6))
        for text in [human.stdout, human.stderr, machine.stdout, machine.stderr, try String(contentsOfFile: path, encoding: .utf8)] {
            XCTAssertFalse(text.contains(key), "the API key leaked into output")
        }
        XCTAssertEqual(try json(machine)["config"]?["api_key"], .bool(true))
    }

    func testInterruptExits130WithPartialResult() throws {
        let server = HTTPServer(configuration: .init(port: 0)) { _ in
            Thread.sleep(forTimeInterval: 8)
            return .json(serialized: "{}")
        }
        try server.start()
        defer { server.stop() }
        let child = try LoadsmokeProcess(["run", "--url", "http://127.0.0.1:\(server.port)", "-n", "10", "-c", "2", "--json"])
        Thread.sleep(forTimeInterval: 1)
        kill(child.pid, SIGINT)
        let started = Date()
        let result = child.wait(timeout: 20)
        XCTAssertEqual(result.exitCode, 130, result.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(started), 6, "stop must not wait for the 8 s responses")
        let document = try json(result)
        XCTAssertEqual(document["interrupted"], .bool(true))
        XCTAssertEqual(document["passed"], .bool(false))
        XCTAssertEqual(document["totals"]?["aborted"], .integer(Int64(2)))
    }

    func testDemoCommandShowsFullReport() throws {
        let result = try LoadsmokeProcess.run(["demo", "--once"])
        XCTAssertTrue([0, 1].contains(result.exitCode), result.stderr)
        XCTAssertTrue(result.stdout.contains("METRICS"), result.stdout)
        XCTAssertTrue(result.stdout.contains("BUDGET CHECKS"))
        XCTAssertTrue(result.stdout.contains("requests        50"))
    }
}

/// Header values seen by a test server, from its connection threads.
final class HeaderLog: @unchecked Sendable {
    private let lock = NSLock()
    private var seen: [String] = []

    func append(_ value: String) {
        lock.lock()
        seen.append(value)
        lock.unlock()
    }

    var values: [String] {
        lock.lock()
        defer { lock.unlock() }
        return seen
    }
}

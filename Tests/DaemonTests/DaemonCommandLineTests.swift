import DemoAPI
import Foundation
import JSONCoding
import Storage
import XCTest

/// The daemon's companion commands (`check-config`, `schedule`, `history`, `run --store`) run as a user runs them:
/// the built binary as a child process, with exact output and exit codes.
final class DaemonCommandLineTests: XCTestCase {
    private var directory: URL!
    private var demo: DemoChatService?

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("daemon-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        demo?.stop()
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    // MARK: - check-config

    func testCheckConfigAcceptsValidFile() throws {
        let path = try write("valid.yaml", """
        storage:
          path: runs.db
        server:
          listen: 127.0.0.1:0
        targets:
          - name: chat
            url: http://127.0.0.1:8000
            schedule: every 30s
          - name: nightly
            url: http://127.0.0.1:8000
            schedule: "0 3 * * *"

        """)

        let result = try LoadsmokeChildProcess.run(["check-config", path])

        XCTAssertEqual(result.exitCode, 0)
        XCTAssertEqual(result.stderr, "")
        XCTAssertTrue(result.stdout.hasPrefix("\(path): valid, 2 targets\n"), result.stdout)
        XCTAssertTrue(result.stdout.contains("  target   chat: POST http://127.0.0.1:8000/chat, \"every 30s\" next "), result.stdout)
    }

    func testCheckConfigRejectsInvalidFile() throws {
        let path = try write("invalid.yaml", """
        storage:
          path: runs.db
        targets:
          - name: chat
            url: http://127.0.0.1:8000
            schedule: "61 * * * *"
            requests: 0

        """)

        let result = try LoadsmokeChildProcess.run(["check-config", path])

        XCTAssertEqual(result.exitCode, 2)
        XCTAssertEqual(result.stdout, "")
        let lines = result.stderr.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 2, result.stderr)
        XCTAssertTrue(lines.first?.hasPrefix("error: \(path):6: targets[chat].schedule: invalid cron expression \"61 * * * *\"") == true, result.stderr)
        XCTAssertTrue(lines.last?.hasPrefix("error: \(path):7: targets[chat].requests: invalid value \"0\"") == true, result.stderr)
    }

    func testCheckConfigReportsMissingFile() throws {
        let path = directory.appendingPathComponent("missing.yaml").path

        let result = try LoadsmokeChildProcess.run(["check-config", path])

        XCTAssertEqual(result.exitCode, 2)
        XCTAssertTrue(result.stderr.hasPrefix("error: \(path): "), result.stderr)
    }

    // MARK: - schedule

    func testScheduleLeapDayNeedsLeapYears() throws {
        let result = try LoadsmokeChildProcess.run(["schedule", "0 0 29 2 *", "--next", "2", "--from", "2026-01-01T00:00:00Z"])

        XCTAssertEqual(result.exitCode, 0)
        XCTAssertEqual(result.stdout, "2028-02-29T00:00:00+00:00\n2032-02-29T00:00:00+00:00\n")
        XCTAssertEqual(result.stderr, "")
    }

    func testScheduleRejectsInvalidExpression() throws {
        let result = try LoadsmokeChildProcess.run(["schedule", "61 * * * *"])

        XCTAssertEqual(result.exitCode, 2)
        XCTAssertEqual(result.stdout, "")
        XCTAssertTrue(result.stderr.contains("61"), result.stderr)
    }

    // MARK: - history

    func testHistoryListsStoredRunsNewestFirst() throws {
        let path = directory.appendingPathComponent("runs.db").path
        let store = try RunStore(path: path)
        let started = Date(timeIntervalSince1970: 1_800_000_000)
        let olderID = try store.insertCompletedRun(target: "chat", startedAt: started, outcome: outcome(.passed, at: started))
        let newerStart = started.addingTimeInterval(60)
        let newerID = try store.insertCompletedRun(target: "chat", startedAt: newerStart, outcome: outcome(.failed, at: newerStart))
        store.close()

        let result = try LoadsmokeChildProcess.run(["history", "--db", path, "--json", "--since", "2020-01-01T00:00:00Z"])

        XCTAssertEqual(result.exitCode, 0, result.stderr)
        let runs = try XCTUnwrap(try JSONValue.parse(result.stdout)["runs"]?.arrayValue)
        XCTAssertEqual(runs.compactMap { $0["id"]?.integerValue }, [newerID, olderID])
        XCTAssertEqual(runs.compactMap { $0["status"]?.stringValue }, ["failed", "passed"])
        XCTAssertEqual(runs.compactMap { $0["target"]?.stringValue }, ["chat", "chat"])
        XCTAssertEqual(runs.first?["started_at"]?.stringValue, "2027-01-15T08:01:00+00:00")
    }

    func testHistoryRejectsMissingDatabase() throws {
        let path = directory.appendingPathComponent("missing.db").path

        let result = try LoadsmokeChildProcess.run(["history", "--db", path])

        XCTAssertEqual(result.exitCode, 2)
        XCTAssertEqual(result.stderr, "error: invalid value \"\(path)\" for --db: the file does not exist (see 'loadsmoke history --help')\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
    }

    func testRunWithStoreAppearsInHistory() throws {
        let service = try DemoChatService(options: DemoOptions(port: 0, latencyMilliseconds: 5, fallbackRate: 0, errorRate: 0, seed: 3))
        try service.start()
        demo = service
        let path = directory.appendingPathComponent("ci.db").path

        let run = try LoadsmokeChildProcess.run([
            "run", "--url", "http://127.0.0.1:\(service.port)", "-n", "3", "-c", "1", "--no-progress",
            "--store", path, "--target-name", "ci",
        ])
        let history = try LoadsmokeChildProcess.run(["history", "--db", path, "--json"])
        let table = try LoadsmokeChildProcess.run(["history", "--db", path, "--target", "ci"])

        XCTAssertEqual(run.exitCode, 0, run.stderr)
        XCTAssertEqual(history.exitCode, 0, history.stderr)
        let runs = try XCTUnwrap(try JSONValue.parse(history.stdout)["runs"]?.arrayValue)
        XCTAssertEqual(runs.count, 1)
        XCTAssertEqual(runs.first?["target"]?.stringValue, "ci")
        XCTAssertEqual(runs.first?["status"]?.stringValue, "passed")
        XCTAssertEqual(runs.first?["totals"]?["requests"]?.integerValue, 3)
        let tableLines = table.stdout.split(separator: "\n")
        XCTAssertEqual(tableLines.count, 2, table.stdout)
        XCTAssertTrue(tableLines.first?.hasPrefix("ID  TARGET  STARTED (UTC)") == true, table.stdout)
        XCTAssertTrue(tableLines.last?.contains(" ci ") == true, table.stdout)
    }

    // MARK: - Helpers

    private func write(_ name: String, _ text: String) throws -> String {
        let path = directory.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private func outcome(_ status: RunStatus, at started: Date) -> RunOutcome {
        RunOutcome(
            status: status, finishedAt: started.addingTimeInterval(2), requests: 3, succeeded: 3,
            durationSeconds: 2, throughputRPS: 1.5,
            latency: LatencySummary(p50: 40, p95: 60, p99: 70, mean: 45, min: 30, max: 70),
            reportJSON: "{\"passed\":\(status == .passed)}"
        )
    }
}

final class HistoryPagingTests: XCTestCase {
    func testBeforeIDPagesThroughRuns() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("loadsmoke-paging-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("runs.db").path
        let store = try RunStore(path: path)
        for offset in 0..<5 {
            let started = Date().addingTimeInterval(Double(offset - 10))
            _ = try store.insertCompletedRun(target: "chat", startedAt: started, outcome: RunOutcome(status: .passed, finishedAt: started))
        }
        store.close()

        let first = try LoadsmokeChildProcess.run(["history", "--db", path, "--limit", "3", "--json"])
        XCTAssertEqual(first.exitCode, 0, first.stderr)
        let firstPage = try JSONValue.parse(first.stdout)
        XCTAssertEqual(firstPage["runs"]?.arrayValue?.compactMap { $0["id"]?.integerValue }, [5, 4, 3])
        XCTAssertEqual(firstPage["next_before_id"]?.integerValue, 3)

        let second = try LoadsmokeChildProcess.run(["history", "--db", path, "--limit", "3", "--before-id", "3", "--json"])
        let secondPage = try JSONValue.parse(second.stdout)
        XCTAssertEqual(secondPage["runs"]?.arrayValue?.compactMap { $0["id"]?.integerValue }, [2, 1])
        XCTAssertEqual(secondPage["next_before_id"], .null)
    }
}

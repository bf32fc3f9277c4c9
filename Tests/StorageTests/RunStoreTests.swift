import Foundation
import XCTest
@testable import Storage

/// Writes of the run store, read back through `run(id:)`.
final class RunStoreTests: XCTestCase {
    private var directory: TemporaryDirectory!
    private var store: RunStore!

    override func setUpWithError() throws {
        directory = try TemporaryDirectory()
        store = try RunStore(path: directory.path("runs.db"))
    }

    override func tearDownWithError() throws {
        if let store, (try? store.schemaVersion()) != nil {
            XCTAssertEqual(try store.integrityCheck(), "ok")
        }
        store?.close()
        directory.remove()
    }

    func testBeginRunStoresRunningRun() throws {
        let id = try store.beginRun(target: "chat", startedAt: time(0))

        let run = try XCTUnwrap(store.run(id: id))
        XCTAssertEqual(run.target, "chat")
        XCTAssertEqual(run.startedAt, time(0))
        XCTAssertEqual(run.status, .running)
        XCTAssertNil(run.finishedAt)
        XCTAssertNil(run.latency)
        XCTAssertEqual(run.reportJSON, "")
        XCTAssertEqual(run.errors, [:])
        XCTAssertEqual(run.budgets, [])
        XCTAssertNil(run.alert)
    }

    func testFinishRunRoundTrip() throws {
        let id = try store.beginRun(target: "chat", startedAt: time(0.25))
        let outcome = sampleOutcome(status: .failed, finishedAt: time(10.5))

        try store.finishRun(id: id, outcome: outcome)

        let expected = RunRecord(
            id: id, target: "chat", startedAt: time(0.25), finishedAt: time(10.5), status: .failed,
            requests: 100, succeeded: 97, failed: 3, fallbacks: 4,
            durationSeconds: 9.5, throughputRPS: 10.25, errorRate: 0.03, fallbackRate: 0.04,
            latency: LatencySummary(p50: 80.25, p95: 120.5, p99: 250.75, mean: 90.5, min: 12.0, max: 300.0),
            errors: ["timeout": 2, "http_503": 1],
            budgets: outcome.budgets,
            reportJSON: outcome.reportJSON, alert: nil
        )
        XCTAssertEqual(try store.run(id: id), expected)
    }

    func testStreamingRoundTrip() throws {
        let id = try store.beginRun(target: "chat", startedAt: time(0))
        var outcome = sampleOutcome()
        outcome.streaming = StreamingSummary(
            timeToFirstToken: LatencyPercentiles(p50: 150.25, p95: 310.5, p99: 420.75),
            interTokenLatency: LatencyPercentiles(p50: 18.5, p95: 42.25, p99: 61),
            tokensPerSecond: 55.5
        )

        try store.finishRun(id: id, outcome: outcome)

        let run = try XCTUnwrap(store.run(id: id))
        XCTAssertEqual(run.streaming, outcome.streaming)
        XCTAssertEqual(try store.latestRuns()["chat"]?.streaming, outcome.streaming)
        XCTAssertEqual(try store.runs(RunQuery(target: "chat")).first?.streaming, outcome.streaming)
    }

    func testStreamingPartialValuesRoundTrip() throws {
        var outcome = sampleOutcome()
        outcome.streaming = StreamingSummary(
            timeToFirstToken: nil, interTokenLatency: LatencyPercentiles(p50: 20, p95: 30, p99: 40), tokensPerSecond: nil
        )

        let id = try store.insertCompletedRun(target: "chat", startedAt: time(0), outcome: outcome)

        XCTAssertEqual(try store.run(id: id)?.streaming, outcome.streaming)
    }

    func testRunWithoutStreamingReadsNil() throws {
        let id = try store.insertCompletedRun(target: "chat", startedAt: time(0), outcome: sampleOutcome())

        XCTAssertNil(try store.run(id: id)?.streaming)
        XCTAssertEqual(try store.integerForTest("SELECT COUNT(*) FROM runs WHERE ttft_p50_ms IS NULL AND tokens_per_s IS NULL"), 1)
    }

    func testEmptyStreamingReadsNil() throws {
        var outcome = sampleOutcome()
        outcome.streaming = StreamingSummary(timeToFirstToken: nil, interTokenLatency: nil, tokensPerSecond: nil)

        let id = try store.insertCompletedRun(target: "chat", startedAt: time(0), outcome: outcome)

        XCTAssertNil(try store.run(id: id)?.streaming)
    }

    func testNegativeStreamingValueRejected() throws {
        var outcome = sampleOutcome()
        outcome.streaming = StreamingSummary(timeToFirstToken: nil, interTokenLatency: nil, tokensPerSecond: -1)

        let error = storageError { _ = try store.insertCompletedRun(target: "chat", startedAt: time(0), outcome: outcome) }

        XCTAssertEqual(error?.kind, .invalidArgument)
        XCTAssertEqual(
            error?.description,
            "invalid run outcome: streaming tokens_per_s is -1.0, expected a finite number of 0 or more; "
                + "fix the outcome before storing it"
        )
        XCTAssertEqual(try store.integerForTest("SELECT COUNT(*) FROM runs"), 0)
    }

    func testFinishRunKeepsBudgetOrder() throws {
        let id = try store.beginRun(target: "chat", startedAt: time(0))
        var outcome = sampleOutcome()
        outcome.budgets = (0..<12).map { BudgetRecord(name: "budget\($0)", actual: Double($0), limit: 5, unit: "ms",
                                                         passed: $0 <= 5) }

        try store.finishRun(id: id, outcome: outcome)

        XCTAssertEqual(try store.run(id: id)?.budgets, outcome.budgets)
    }

    func testFinishRunWithoutLatencyOrReport() throws {
        let id = try store.beginRun(target: "chat", startedAt: time(0))
        var outcome = sampleOutcome(status: .error, p95: nil, errors: ["connection_refused": 100])
        outcome.reportJSON = ""

        try store.finishRun(id: id, outcome: outcome)

        let run = try XCTUnwrap(store.run(id: id))
        XCTAssertEqual(run.status, .error)
        XCTAssertNil(run.latency)
        XCTAssertEqual(run.reportJSON, "")
        XCTAssertEqual(run.errors, ["connection_refused": 100])
    }

    func testFinishRunTwiceRejected() throws {
        let id = try store.beginRun(target: "chat", startedAt: time(0))
        try store.finishRun(id: id, outcome: sampleOutcome(status: .passed))

        let error = storageError { try store.finishRun(id: id, outcome: sampleOutcome(status: .failed)) }
        XCTAssertEqual(error?.kind, .invalidArgument)
        XCTAssertEqual(error?.description.contains("already ended with status passed"), true)
        XCTAssertEqual(try store.run(id: id)?.status, .passed)
    }

    func testFinishUnknownRunRejected() throws {
        let error = storageError { try store.finishRun(id: 99, outcome: sampleOutcome()) }

        XCTAssertEqual(error?.kind, .notFound)
        XCTAssertEqual(error?.description.contains("run 99 not found"), true)
    }

    func testFinishWithRunningStatusRejected() throws {
        let id = try store.beginRun(target: "chat", startedAt: time(0))

        let error = storageError { try store.finishRun(id: id, outcome: sampleOutcome(status: .running)) }
        XCTAssertEqual(error?.kind, .invalidArgument)
        XCTAssertEqual(try store.run(id: id)?.status, .running)
    }

    func testInvalidReportRejectedWithoutWriting() throws {
        let id = try store.beginRun(target: "chat", startedAt: time(0))
        var outcome = sampleOutcome()
        outcome.reportJSON = "{\"verdict\": "

        let error = storageError { try store.finishRun(id: id, outcome: outcome) }
        XCTAssertEqual(error?.kind, .invalidArgument)
        XCTAssertEqual(error?.description.contains("reportJSON is not valid JSON"), true)
        XCTAssertEqual(try store.integerForTest("SELECT COUNT(*) FROM run_errors"), 0)
    }

    func testNegativeCountRejected() throws {
        var outcome = sampleOutcome()
        outcome.requests = -1

        let error = storageError { _ = try store.insertCompletedRun(target: "chat", startedAt: time(0), outcome: outcome) }
        XCTAssertEqual(error?.description.contains("requests is -1, below 0"), true)
        XCTAssertEqual(try store.integerForTest("SELECT COUNT(*) FROM runs"), 0)
    }

    func testEmptyTargetRejected() throws {
        let error = storageError { _ = try store.beginRun(target: "", startedAt: time(0)) }

        XCTAssertEqual(error?.kind, .invalidArgument)
    }

    func testInsertCompletedRun() throws {
        let outcome = sampleOutcome(status: .passed, finishedAt: time(12))

        let id = try store.insertCompletedRun(target: "ci", startedAt: time(2), outcome: outcome)

        let run = try XCTUnwrap(store.run(id: id))
        XCTAssertEqual(run.target, "ci")
        XCTAssertEqual(run.startedAt, time(2))
        XCTAssertEqual(run.finishedAt, time(12))
        XCTAssertEqual(run.status, .passed)
        XCTAssertEqual(run.requests, 100)
        XCTAssertEqual(run.errors, outcome.errors)
        XCTAssertEqual(run.budgets, outcome.budgets)
        XCTAssertEqual(run.reportJSON, outcome.reportJSON)
    }

    func testRunMissingReturnsNil() throws {
        XCTAssertNil(try store.run(id: 12345))
    }

    func testMarkUnfinishedRunsInterrupted() throws {
        let first = try store.beginRun(target: "chat", startedAt: time(0))
        let second = try store.beginRun(target: "search", startedAt: time(1))
        let finished = try store.insertCompletedRun(target: "chat", startedAt: time(2), outcome: sampleOutcome())

        XCTAssertEqual(try store.markUnfinishedRunsInterrupted(at: time(30)), 2)

        XCTAssertEqual(try store.run(id: first)?.status, .interrupted)
        XCTAssertEqual(try store.run(id: first)?.finishedAt, time(30))
        XCTAssertEqual(try store.run(id: second)?.status, .interrupted)
        XCTAssertEqual(try store.run(id: finished)?.status, .passed)
        XCTAssertEqual(try store.run(id: finished)?.finishedAt, time(10))
        XCTAssertEqual(try store.markUnfinishedRunsInterrupted(at: time(40)), 0)
    }

    func testRecordAlertRoundTrip() throws {
        let id = try store.insertCompletedRun(target: "chat", startedAt: time(0), outcome: sampleOutcome(status: .failed))
        let alert = AlertRecord(event: "failure", exitStatus: 0, signal: nil, output: "sent to #oncall\n",
                                startedAt: time(11), finishedAt: time(11.5))

        try store.recordAlert(runID: id, alert: alert)

        XCTAssertEqual(try store.run(id: id)?.alert, alert)
    }

    func testRecordAlertKeepsSignal() throws {
        let id = try store.insertCompletedRun(target: "chat", startedAt: time(0), outcome: sampleOutcome(status: .failed))
        let alert = AlertRecord(event: "failure", exitStatus: nil, signal: 9, output: "",
                                startedAt: time(11), finishedAt: time(41))

        try store.recordAlert(runID: id, alert: alert)

        XCTAssertEqual(try store.run(id: id)?.alert, alert)
    }

    func testRecordAlertTruncatesOutput() throws {
        let id = try store.insertCompletedRun(target: "chat", startedAt: time(0), outcome: sampleOutcome())
        // 1365 three-byte characters fill 4095 bytes, so the next one (bytes 4096-4098) must go.
        let output = String(repeating: "€", count: 1500)
        let alert = AlertRecord(event: "recovery", exitStatus: 0, signal: nil, output: output,
                                startedAt: time(11), finishedAt: time(12))

        try store.recordAlert(runID: id, alert: alert)

        let stored = try XCTUnwrap(store.run(id: id)?.alert?.output)
        XCTAssertEqual(stored.utf8.count, 4095)
        XCTAssertEqual(stored, String(repeating: "€", count: 1365))
    }

    func testOutputPrefixKeepsShortText() {
        XCTAssertEqual(RunStore.prefix(of: "short", maximumBytes: 4096), "short")
        XCTAssertEqual(RunStore.prefix(of: "abcdef", maximumBytes: 4), "abcd")
        XCTAssertEqual(RunStore.prefix(of: "ab€", maximumBytes: 4), "ab")
    }

    func testSecondAlertRejected() throws {
        let id = try store.insertCompletedRun(target: "chat", startedAt: time(0), outcome: sampleOutcome(status: .failed))
        let alert = AlertRecord(event: "failure", exitStatus: 1, signal: nil, output: "first",
                                startedAt: time(11), finishedAt: time(12))
        try store.recordAlert(runID: id, alert: alert)

        var second = alert
        second.output = "second"
        let error = storageError { try store.recordAlert(runID: id, alert: second) }
        XCTAssertEqual(error?.kind, .invalidArgument)
        XCTAssertEqual(try store.run(id: id)?.alert?.output, "first")
    }

    func testAlertForUnknownRunRejected() throws {
        let alert = AlertRecord(event: "failure", exitStatus: 0, signal: nil, output: "",
                                startedAt: time(11), finishedAt: time(12))

        let error = storageError { try store.recordAlert(runID: 77, alert: alert) }
        XCTAssertEqual(error?.kind, .notFound)
    }

    func testPruneRemovesOnlyOldFinishedRuns() throws {
        let oldRunning = try store.beginRun(target: "chat", startedAt: time(0))
        var oldFinished: [Int64] = []
        // More than one batch, so the batch loop runs at least three times.
        for index in 0..<(RunStore.pruneBatchSize * 2 + 3) {
            oldFinished.append(try store.insertCompletedRun(
                target: index % 2 == 0 ? "chat" : "search", startedAt: time(Double(index)), outcome: sampleOutcome()
            ))
        }
        let alert = AlertRecord(event: "failure", exitStatus: 0, signal: nil, output: "",
                                startedAt: time(1), finishedAt: time(2))
        try store.recordAlert(runID: oldFinished[0], alert: alert)
        let cutoff = time(5000)
        let atCutoff = try store.insertCompletedRun(target: "chat", startedAt: cutoff, outcome: sampleOutcome())
        let newer = try store.insertCompletedRun(target: "chat", startedAt: time(6000), outcome: sampleOutcome())

        XCTAssertEqual(try store.prune(olderThan: cutoff), oldFinished.count)

        XCTAssertNotNil(try store.run(id: oldRunning))
        XCTAssertNotNil(try store.run(id: atCutoff))
        XCTAssertNotNil(try store.run(id: newer))
        XCTAssertNil(try store.run(id: oldFinished[0]))
        XCTAssertEqual(try store.integerForTest("SELECT COUNT(*) FROM runs"), 3)
        XCTAssertEqual(try store.integerForTest("SELECT COUNT(*) FROM run_errors"), 4, "2 kinds for each of 2 runs")
        XCTAssertEqual(try store.integerForTest("SELECT COUNT(*) FROM run_budgets"), 6, "3 budgets for each of 2 runs")
        XCTAssertEqual(try store.integerForTest("SELECT COUNT(*) FROM run_alerts"), 0)
        XCTAssertEqual(try store.prune(olderThan: cutoff), 0)
    }

    func testIDsNotReusedAfterPrune() throws {
        let first = try store.insertCompletedRun(target: "chat", startedAt: time(0), outcome: sampleOutcome())
        XCTAssertEqual(try store.prune(olderThan: time(100)), 1)

        let second = try store.insertCompletedRun(target: "chat", startedAt: time(200), outcome: sampleOutcome())
        XCTAssertGreaterThan(second, first)
    }

    func testRunCountsSurvivePrune() throws {
        for index in 0..<3 {
            _ = try store.insertCompletedRun(target: "chat", startedAt: time(Double(index)), outcome: sampleOutcome())
        }
        _ = try store.insertCompletedRun(target: "chat", startedAt: time(3), outcome: sampleOutcome(status: .failed))
        let running = try store.beginRun(target: "search", startedAt: time(4))
        let finishedLater = try store.beginRun(target: "search", startedAt: time(5))
        try store.finishRun(id: finishedLater, outcome: sampleOutcome(status: .error))
        XCTAssertEqual(try store.prune(olderThan: time(100)), 5)

        let counts = try store.runCounts()

        XCTAssertEqual(counts["chat"], [.passed: 3, .failed: 1])
        XCTAssertEqual(counts["search"], [.running: 1, .error: 1])
        XCTAssertNotNil(try store.run(id: running))
    }

    func testRunCountsIncludeInterrupted() throws {
        _ = try store.beginRun(target: "chat", startedAt: time(0))
        _ = try store.markUnfinishedRunsInterrupted(at: time(1))

        XCTAssertEqual(try store.runCounts(), ["chat": [.interrupted: 1]])
    }

    func testAlertCountsPerTargetAndEvent() throws {
        let events = [("chat", "failure"), ("chat", "failure"), ("chat", "recovery"), ("search", "failure")]
        for (index, (target, event)) in events.enumerated() {
            let id = try store.insertCompletedRun(target: target, startedAt: time(Double(index)), outcome: sampleOutcome())
            let alert = AlertRecord(event: event, exitStatus: index == 1 ? 1 : 0, signal: nil, output: "",
                                    startedAt: time(20), finishedAt: time(21))
            try store.recordAlert(runID: id, alert: alert)
        }
        XCTAssertEqual(try store.prune(olderThan: time(1.5)), 2)

        let counts = try store.alertCounts()

        XCTAssertEqual(counts["chat"], ["failure": 2, "recovery": 1])
        XCTAssertEqual(counts["search"], ["failure": 1])
    }

    func testReadOnlyStoreReadsButRejectsWrites() throws {
        let id = try store.insertCompletedRun(target: "chat", startedAt: time(0), outcome: sampleOutcome())
        let readOnly = try RunStore(path: directory.path("runs.db"), readOnly: true)
        defer { readOnly.close() }

        XCTAssertEqual(try readOnly.run(id: id), try store.run(id: id))
        let error = storageError { _ = try readOnly.beginRun(target: "chat", startedAt: time(1)) }
        XCTAssertEqual(error?.kind, .unavailable)
        XCTAssertEqual(error?.description.contains("read-only"), true)
    }

    func testClosedStoreRejectsCalls() throws {
        store.close()

        let error = storageError { _ = try store.targetNames() }
        XCTAssertEqual(error?.kind, .unavailable)
        XCTAssertEqual(error?.description.contains("is closed"), true)
    }
}

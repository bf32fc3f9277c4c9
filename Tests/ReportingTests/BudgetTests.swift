import JSONCoding
import Measurement
import Reporting
import XCTest

/// A summary with the given latencies (ms) as successes plus `failed` connection errors and `fallbacks` fallbacks.
func makeSummary(latencies: [Double], failed: Int = 0, fallbacks: Int = 0) -> MetricsSummary {
    var recorder = MetricsRecorder()
    for (index, latency) in latencies.enumerated() {
        recorder.add(RequestResult(latency: latency, status: 200, isFallback: index < fallbacks))
    }
    for _ in 0..<failed {
        recorder.add(RequestResult(latency: 0, status: 0, failure: RequestFailure(kind: .connection, message: "refused")))
    }
    return recorder.summarize(wallSeconds: 1)
}

final class BudgetTests: XCTestCase {
    func testValueEqualToLimitPasses() {
        let results = BudgetResult.evaluate([Budget(metric: .p50, limit: 100)], against: makeSummary(latencies: [100]))
        XCTAssertEqual(results.first?.passed, true)
        XCTAssertNil(results.first?.overage)
    }

    func testValueAboveLimitFailsWithOverage() {
        let results = BudgetResult.evaluate([Budget(metric: .p99, limit: 1)], against: makeSummary(latencies: [5, 7]))
        XCTAssertEqual(results.first?.passed, false)
        XCTAssertEqual(results.first?.actual, 7)
        XCTAssertEqual(results.first?.overage, 6)
    }

    func testErrorRateBudget() {
        let summary = makeSummary(latencies: Array(repeating: 10, count: 19), failed: 1)
        XCTAssertEqual(BudgetResult.evaluate([Budget(metric: .errorRate, limit: 0.05)], against: summary).first?.passed, true)
        XCTAssertEqual(BudgetResult.evaluate([Budget(metric: .errorRate, limit: 0.04)], against: summary).first?.passed, false)
    }

    func testFallbackRateCountsOverAllRequests() {
        let summary = makeSummary(latencies: [10, 10, 10], failed: 1, fallbacks: 1)
        let result = BudgetResult.evaluate([Budget(metric: .fallbackRate, limit: 0.30)], against: summary).first
        XCTAssertEqual(result?.actual, 0.25)
        XCTAssertEqual(result?.passed, true)
    }

    func testLatencyWithoutSuccessFails() {
        let results = BudgetResult.evaluate(Budget.defaults, against: makeSummary(latencies: [], failed: 3))
        XCTAssertEqual(results.map(\.passed), [false, false, false, false, true])
        XCTAssertNil(results[0].actual)
    }

    func testDefaultsMatchTheDocumentedValues() {
        XCTAssertEqual(Budget.defaults.map(\.limit), [800, 1500, 2500, 0.05, 0.30])
        XCTAssertEqual(Budget.defaults.map(\.metric.rawValue), ["p50", "p95", "p99", "error_rate", "fallback_rate"])
    }
}

final class SmokeReportTests: XCTestCase {
    private let setup = RunSetup(
        url: "http://127.0.0.1:8000/chat", method: "POST", requests: 4, concurrency: 2, timeoutSeconds: 30,
        simulate: ["pinecone"], headers: [(name: "X-Team", value: "search")], promptSource: "built-in", promptCount: 22,
        fallbackHeader: "X-Fallback", fallbackField: "fallback", hasAPIKey: true
    )

    private func report(_ summary: MetricsSummary, budgets: [Budget] = Budget.defaults, interrupted: Bool = false) -> SmokeReport {
        SmokeReport(
            setup: setup, summary: summary, budgets: BudgetResult.evaluate(budgets, against: summary),
            startedAt: Date(timeIntervalSince1970: 0), wasInterrupted: interrupted, abortedInFlight: interrupted ? 2 : 0,
            maxBodyBytes: 256 * 1024
        )
    }

    func testJSONHasTheDocumentedKeys() throws {
        let document = report(makeSummary(latencies: [10, 20, 30], failed: 1, fallbacks: 1)).jsonDocument()
        XCTAssertEqual(document["schema_version"], .integer(Int64(1)))
        XCTAssertEqual(document["passed"], .bool(false), "one failure in four exceeds the 5 % error budget")
        XCTAssertEqual(document["interrupted"], .bool(false))
        let totals = try XCTUnwrap(document["totals"])
        for key in ["requests", "succeeded", "failed", "fallbacks", "duration_s", "throughput_rps", "error_rate", "fallback_rate"] {
            XCTAssertNotNil(totals[key], "totals.\(key)")
        }
        XCTAssertEqual(totals["error_rate"]?.doubleValue, 0.25)
        let latency = try XCTUnwrap(document["latency_ms"])
        for key in ["p50", "p95", "p99", "mean", "min", "max"] {
            XCTAssertNotNil(latency[key]?.doubleValue, "latency_ms.\(key)")
        }
        XCTAssertEqual(document["errors"], .object([("connection", .integer(Int64(1)))]))
        let budgets = try XCTUnwrap(document["budgets"]?.arrayValue)
        XCTAssertEqual(budgets.map { $0["name"]?.stringValue }, ["p50", "p95", "p99", "error_rate", "fallback_rate"])
        XCTAssertEqual(budgets[0]["unit"], .string("ms"))
        XCTAssertEqual(budgets[3]["unit"], .string("ratio"))
    }

    func testJSONLatencyIsNullWithoutSuccess() {
        let document = report(makeSummary(latencies: [], failed: 2)).jsonDocument()
        XCTAssertEqual(document["latency_ms"], .null)
        XCTAssertEqual(document["passed"], .bool(false))
        XCTAssertEqual(document["budgets"]?.arrayValue?.first?["actual"], .null)
    }

    func testJSONConfigHoldsNoAPIKey() {
        let text = report(makeSummary(latencies: [1])).jsonDocument().serialized()
        XCTAssertTrue(text.contains(#""api_key":true"#))
        XCTAssertFalse(text.lowercased().contains("bearer"))
    }

    func testInterruptedRunDoesNotPass() {
        let interrupted = report(makeSummary(latencies: [1, 2]), interrupted: true)
        XCTAssertFalse(interrupted.passed)
        XCTAssertEqual(interrupted.jsonDocument()["interrupted"], .bool(true))
        XCTAssertTrue(interrupted.warnings.contains(.interrupted(completed: 2, planned: 4, aborted: 2)))
    }

    func testTextReportShowsSectionsVerdictAndOverage() {
        let failing = report(makeSummary(latencies: [10, 20]), budgets: [Budget(metric: .p50, limit: 1)])
        let text = failing.renderText(style: .plain, exitCode: 1)
        XCTAssertTrue(text.contains("METRICS"))
        XCTAssertTrue(text.contains("BUDGET CHECKS"))
        XCTAssertTrue(text.contains("FAIL  p50 latency"), text)
        XCTAssertTrue(text.contains("over by 9 ms"), text)
        XCTAssertTrue(text.hasSuffix("FAILED: 1 of 1 budgets failed (exit 1)\n"), text)
        XCTAssertFalse(text.contains("\u{1B}["), "plain style must not contain ANSI escapes")
    }

    func testColoredStyleUsesANSI() {
        let text = report(makeSummary(latencies: [10])).renderText(style: TextStyle(isColored: true), exitCode: 0)
        XCTAssertTrue(text.contains("\u{1B}[32mPASS"))
    }

    func testFewSamplesWarning() {
        XCTAssertEqual(report(makeSummary(latencies: [1, 2, 3])).warnings.map(\.code), ["few_samples"])
        XCTAssertEqual(report(makeSummary(latencies: Array(repeating: 1, count: 100))).warnings, [])
    }
}

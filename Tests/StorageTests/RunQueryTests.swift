import Foundation
import XCTest
@testable import Storage

/// `runs(_:)`, `latestRuns()`, `failingStreak(target:)` and `targetNames()` over a hand-made history.
final class RunQueryTests: XCTestCase {
    private var directory: TemporaryDirectory!
    private var store: RunStore!
    /// Ids of the stored runs, keyed by `target@start offset in seconds`.
    private var ids: [String: Int64] = [:]

    override func setUpWithError() throws {
        directory = try TemporaryDirectory()
        store = try RunStore(path: directory.path("runs.db"))
    }

    override func tearDownWithError() throws {
        XCTAssertEqual(try store.integrityCheck(), "ok")
        store.close()
        directory.remove()
    }

    /// Stores runs in the given order. A nil status leaves the run running.
    private func storeRuns(_ runs: [(target: String, start: Double, status: RunStatus?)]) throws {
        for run in runs {
            let key = "\(run.target)@\(Int(run.start))"
            if let status = run.status, status != .running {
                ids[key] = try store.insertCompletedRun(
                    target: run.target, startedAt: time(run.start),
                    outcome: sampleOutcome(status: status, finishedAt: time(run.start + 5))
                )
            } else {
                ids[key] = try store.beginRun(target: run.target, startedAt: time(run.start))
            }
        }
    }

    private func storeMixedHistory() throws {
        try storeRuns([
            ("chat", 0, .passed), ("search", 10, .failed), ("chat", 20, .failed), ("chat", 30, .error),
            ("search", 40, .passed), ("chat", 50, .passed), ("search", 60, nil), ("chat", 70, .interrupted),
        ])
    }

    private func key(_ target: String, _ start: Int) -> Int64 {
        ids["\(target)@\(start)"] ?? -1
    }

    func testRunsNewestFirst() throws {
        try storeMixedHistory()

        let runs = try store.runs(RunQuery())

        XCTAssertEqual(runs.map(\.id), ids.values.sorted(by: >))
    }

    func testRunsIncludeDetails() throws {
        try storeMixedHistory()

        let run = try XCTUnwrap(store.runs(RunQuery(target: "chat", limit: 1, beforeID: key("chat", 30) + 1)).first)

        XCTAssertEqual(run.id, key("chat", 30))
        XCTAssertEqual(run.errors, ["timeout": 2, "http_503": 1])
        XCTAssertEqual(run.budgets.count, 3)
    }

    func testRunsFilterByTarget() throws {
        try storeMixedHistory()

        let runs = try store.runs(RunQuery(target: "search"))

        XCTAssertEqual(runs.map(\.id), [key("search", 60), key("search", 40), key("search", 10)])
    }

    func testRunsFilterBySinceAndUntil() throws {
        try storeMixedHistory()

        let runs = try store.runs(RunQuery(since: time(20), until: time(50)))

        XCTAssertEqual(runs.map(\.id), [key("search", 40), key("chat", 30), key("chat", 20)],
                       "since is inclusive and until exclusive")
    }

    func testRunsFilterByStatus() throws {
        try storeMixedHistory()

        XCTAssertEqual(try store.runs(RunQuery(status: .passed)).map(\.id),
                       [key("chat", 50), key("search", 40), key("chat", 0)])
        XCTAssertEqual(try store.runs(RunQuery(status: .running)).map(\.id), [key("search", 60)])
        XCTAssertEqual(try store.runs(RunQuery(status: .interrupted)).map(\.id), [key("chat", 70)])
    }

    func testRunsCombineFilters() throws {
        try storeMixedHistory()

        let runs = try store.runs(RunQuery(target: "chat", since: time(10), status: .failed))

        XCTAssertEqual(runs.map(\.id), [key("chat", 20)])
    }

    func testRunsLimit() throws {
        try storeMixedHistory()

        XCTAssertEqual(try store.runs(RunQuery(limit: 3)).count, 3)
        XCTAssertEqual(try store.runs(RunQuery(limit: 1)).first?.id, key("chat", 70))
    }

    func testRunsDefaultLimitIsFifty() throws {
        for index in 0..<60 {
            _ = try store.insertCompletedRun(target: "chat", startedAt: time(Double(index)), outcome: sampleOutcome())
        }

        XCTAssertEqual(try store.runs(RunQuery()).count, RunQuery.defaultLimit)
    }

    func testRunsInvalidLimitRejected() throws {
        for limit in [0, -5, RunQuery.maximumLimit + 1] {
            let error = storageError { _ = try store.runs(RunQuery(limit: limit)) }
            XCTAssertEqual(error?.kind, .invalidArgument, "limit \(limit)")
        }
    }

    func testRunsPaginationWithoutOverlapOrGaps() throws {
        var expected: [Int64] = []
        for index in 0..<23 {
            let target = index % 3 == 0 ? "search" : "chat"
            let id = try store.insertCompletedRun(target: target, startedAt: time(Double(index)), outcome: sampleOutcome())
            if target == "chat" { expected.append(id) }
        }
        // A pruned run leaves a hole in the ids that pages must skip over.
        XCTAssertEqual(try store.prune(olderThan: time(1)), 1)

        var pages: [[Int64]] = []
        var beforeID: Int64?
        // Bounded: 15 chat runs at 4 per page need 4 pages, and the fifth must come back empty.
        for _ in 0..<10 {
            let page = try store.runs(RunQuery(target: "chat", limit: 4, beforeID: beforeID)).map(\.id)
            if page.isEmpty { break }
            pages.append(page)
            beforeID = page.last
        }

        XCTAssertEqual(pages.map(\.count), [4, 4, 4, 3])
        XCTAssertEqual(pages.flatMap { $0 }, expected.sorted(by: >))
    }

    func testLatestRunsSkipRunning() throws {
        try storeMixedHistory()

        let latest = try store.latestRuns()

        XCTAssertEqual(latest.keys.sorted(), ["chat", "search"])
        XCTAssertEqual(latest["chat"]?.id, key("chat", 70))
        XCTAssertEqual(latest["search"]?.id, key("search", 40))
        XCTAssertEqual(latest["search"]?.budgets.count, 3)
    }

    func testLatestRunsEmptyStore() throws {
        XCTAssertEqual(try store.latestRuns(), [:])
    }

    func testFailingStreakCountsFailedAndError() throws {
        try storeRuns([
            ("chat", 0, .failed), ("chat", 10, .passed), ("chat", 20, .failed), ("chat", 30, .error),
            ("chat", 40, .failed),
        ])

        XCTAssertEqual(try store.failingStreak(target: "chat"), 3)
    }

    func testFailingStreakSkipsInterruptedAndRunning() throws {
        try storeRuns([
            ("chat", 0, .passed), ("chat", 10, .failed), ("chat", 20, .interrupted), ("chat", 30, .failed),
            ("chat", 40, nil),
        ])

        XCTAssertEqual(try store.failingStreak(target: "chat"), 2)
    }

    func testFailingStreakZeroAfterPass() throws {
        try storeRuns([("chat", 0, .failed), ("chat", 10, .error), ("chat", 20, .passed)])

        XCTAssertEqual(try store.failingStreak(target: "chat"), 0)
    }

    func testFailingStreakIgnoresOtherTargets() throws {
        try storeRuns([("chat", 0, .failed), ("search", 10, .passed), ("chat", 20, .failed)])

        XCTAssertEqual(try store.failingStreak(target: "chat"), 2)
        XCTAssertEqual(try store.failingStreak(target: "search"), 0)
        XCTAssertEqual(try store.failingStreak(target: "unknown"), 0)
    }

    func testTargetNamesSorted() throws {
        try storeRuns([("search", 0, .passed), ("chat", 10, nil), ("answers", 20, .failed), ("chat", 30, .passed)])

        XCTAssertEqual(try store.targetNames(), ["answers", "chat", "search"])
    }

    func testQueriesUseIndexes() throws {
        let plans: [(String, String)] = [
            ("SELECT id FROM runs WHERE target = 'chat' AND id < 10 ORDER BY id DESC LIMIT 5", "runs_by_target"),
            ("SELECT id FROM runs WHERE status = 'running'", "runs_by_status_id"),
            ("SELECT id FROM runs WHERE started_at < 5 AND status <> 'running' LIMIT 500", "runs_by_started"),
            ("SELECT started_at FROM runs WHERE target = 'chat' AND started_at >= 0 AND started_at < 9 "
                + "AND status IN ('passed', 'failed', 'error') ORDER BY started_at", "runs_by_target"),
        ]
        for (sql, index) in plans {
            let plan = try store.withConnection { connection in
                try connection.query("EXPLAIN QUERY PLAN \(sql)") { $0.text(3) }.joined(separator: " | ")
            }
            XCTAssertTrue(plan.contains(index), "\(sql) uses no \(index) index: \(plan)")
        }
    }
}

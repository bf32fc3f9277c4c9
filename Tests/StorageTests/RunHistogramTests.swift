import Foundation
import Measurement
import XCTest
@testable import Storage

/// Latency histograms stored with runs: writes, reads, corrupt bytes, pruning and `mergedLatency`.
final class RunHistogramTests: XCTestCase {
    private var directory: TemporaryDirectory!
    private var store: RunStore!

    override func setUpWithError() throws {
        directory = try TemporaryDirectory()
        store = try RunStore(path: directory.path("runs.db"))
    }

    override func tearDownWithError() throws {
        XCTAssertEqual(try store.integrityCheck(), "ok")
        store.close()
        directory.remove()
    }

    private func histogram(_ milliseconds: [Double]) -> LatencyHistogram {
        var histogram = LatencyHistogram()
        for value in milliseconds {
            histogram.record(milliseconds: value)
        }
        return histogram
    }

    private func outcome(_ milliseconds: [Double], status: RunStatus = .passed) -> RunOutcome {
        var outcome = sampleOutcome(status: status)
        outcome.latencyHistogram = milliseconds.isEmpty ? nil : histogram(milliseconds)
        return outcome
    }

    @discardableResult
    private func storeRun(_ target: String = "chat", at start: Date, _ milliseconds: [Double],
                          status: RunStatus = .passed) throws -> Int64 {
        try store.insertCompletedRun(target: target, startedAt: start, outcome: outcome(milliseconds, status: status))
    }

    /// Replaces the stored bytes of run `id` with `transform` of them, as a damaged file would.
    private func rewriteBlob(ofRun id: Int64, _ transform: ([UInt8]) -> [UInt8]) throws {
        try store.withConnection { connection in
            let blob = try XCTUnwrap(connection.queryFirst(
                "SELECT histogram FROM run_histograms WHERE run_id = ?", [.integer(id)]
            ) { $0.blob(0) })
            try connection.execute(
                "UPDATE run_histograms SET histogram = ? WHERE run_id = ?", [.blob(transform(blob)), .integer(id)]
            )
        }
    }

    private func storedHistogramCount() throws -> Int {
        try store.integerForTest("SELECT COUNT(*) FROM run_histograms")
    }

    // MARK: - Writes and reads

    func testFinishRunRoundTrip() throws {
        let id = try store.beginRun(target: "chat", startedAt: time(0))
        let written = histogram([12.5, 80.25, 80.25, 250, 3_000_000])

        var finished = sampleOutcome()
        finished.latencyHistogram = written
        try store.finishRun(id: id, outcome: finished)
        let record = try XCTUnwrap(store.run(id: id))

        XCTAssertEqual(record.latencyHistogram, written)
        XCTAssertEqual(record.latencyHistogram?.count, 5)
        XCTAssertEqual(record.latencyHistogram?.max, 3_000_000)
        XCTAssertNil(record.latencyHistogramError)
    }

    func testInsertCompletedRunRoundTrip() throws {
        let id = try storeRun(at: time(0), [1, 2, 3])

        XCTAssertEqual(try store.run(id: id)?.latencyHistogram, histogram([1, 2, 3]))
    }

    func testRunWithoutHistogramReadsNil() throws {
        let id = try storeRun(at: time(0), [])

        let record = try XCTUnwrap(store.run(id: id))

        XCTAssertNil(record.latencyHistogram)
        XCTAssertNil(record.latencyHistogramError)
        XCTAssertEqual(try storedHistogramCount(), 0)
    }

    func testEmptyHistogramStoredAsNil() throws {
        var empty = sampleOutcome()
        empty.latencyHistogram = LatencyHistogram()

        let id = try store.insertCompletedRun(target: "chat", startedAt: time(0), outcome: empty)

        XCTAssertNil(try store.run(id: id)?.latencyHistogram)
        XCTAssertEqual(try storedHistogramCount(), 0)
    }

    func testListingsLeaveHistogramOut() throws {
        try storeRun(at: time(0), [5, 6])

        XCTAssertEqual(try store.runs(RunQuery()).map(\.latencyHistogram), [nil])
        XCTAssertNil(try store.latestRuns()["chat"]?.latencyHistogram)
    }

    func testFailedFinishWritesNoHistogram() throws {
        let id = try store.beginRun(target: "chat", startedAt: time(0))
        var invalid = outcome([5])
        invalid.reportJSON = "{not json"

        _ = storageError { try store.finishRun(id: id, outcome: invalid) }

        XCTAssertEqual(try storedHistogramCount(), 0)
    }

    // MARK: - Corrupt bytes

    func testCorruptHistogramReadsAsError() throws {
        let id = try storeRun(at: time(0), [5, 6, 7])
        // Flipping one bit in the middle of the bytes breaks the CRC-32 that ends the encoding.
        try rewriteBlob(ofRun: id) { blob in
            var damaged = blob
            damaged[damaged.count / 2] ^= 0x01
            return damaged
        }

        let record = try XCTUnwrap(store.run(id: id))

        XCTAssertNil(record.latencyHistogram)
        XCTAssertEqual(record.latencyHistogramError?.kind, .corruptData)
        XCTAssertEqual(record.latencyHistogramError?.step, "run")
        XCTAssertTrue(record.latencyHistogramError?.description.hasPrefix("run \(id) in database ") == true,
                      record.latencyHistogramError?.description ?? "no error")
        XCTAssertEqual(record.latency?.p95, 120.5)
        XCTAssertEqual(record.errors, ["timeout": 2, "http_503": 1])
    }

    func testTruncatedHistogramReadsAsError() throws {
        let id = try storeRun(at: time(0), [5])
        try rewriteBlob(ofRun: id) { Array($0.prefix(3)) }

        let record = try XCTUnwrap(store.run(id: id))

        XCTAssertNil(record.latencyHistogram)
        XCTAssertEqual(record.latencyHistogramError?.kind, .corruptData)
    }

    func testCorruptHistogramLeftOutOfMerges() throws {
        let damagedID = try storeRun(at: time(0), [900])
        try storeRun(at: time(1), [2, 2])
        try rewriteBlob(ofRun: damagedID) { [0xFF] + $0.dropFirst() }

        let window = try XCTUnwrap(store.mergedLatency(target: "chat", since: time(0), until: time(10)))
        let buckets = try store.trend(target: "chat", metric: .p99, bucketSeconds: 3600, since: time(0), until: time(10))

        XCTAssertEqual(window.count, 2)
        XCTAssertEqual(window.max, 2)
        XCTAssertEqual(buckets.map(\.merged), [2])
        XCTAssertEqual(buckets.map(\.mergedRunCount), [1])
        XCTAssertEqual(buckets.map(\.undecodableHistogramRunIDs), [[damagedID]])
    }

    // MARK: - Pruning

    func testPruneDeletesHistograms() throws {
        try storeRun(at: time(0), [5])
        let keptID = try storeRun(at: time(200), [6])

        XCTAssertEqual(try store.prune(olderThan: time(100)), 1)

        XCTAssertEqual(try storedHistogramCount(), 1)
        XCTAssertEqual(try store.integerForTest("SELECT run_id FROM run_histograms"), Int(keptID))
    }

    // MARK: - mergedLatency

    func testMergedLatencyOverWindow() throws {
        // 99 requests at 2 ms and one at 900 ms: the merged p99 is rank 99 of 100, a fast one.
        try storeRun(at: time(0), Array(repeating: 2, count: 99))
        try storeRun(at: time(60), [900], status: .failed)

        let window = try XCTUnwrap(store.mergedLatency(target: "chat", since: time(0), until: time(120)))

        XCTAssertEqual(window.count, 100)
        XCTAssertEqual(window.p50, 2)
        XCTAssertEqual(window.p95, 2)
        XCTAssertEqual(window.p99, 2)
        XCTAssertEqual(window.min, 2)
        XCTAssertEqual(window.max, 900)
        XCTAssertEqual(window.mean, (99 * 2 + 900) / 100, accuracy: 1e-9)
    }

    func testMergedLatencyKeepsOnlyMatchingRuns() throws {
        try storeRun(at: time(10), [4])
        try storeRun("search", at: time(10), [5000])
        try storeRun(at: time(-1), [6000])
        try storeRun(at: time(100), [7000])
        try storeRun(at: time(20), [8000], status: .interrupted)

        let window = try XCTUnwrap(store.mergedLatency(target: "chat", since: time(0), until: time(100)))

        XCTAssertEqual(window.count, 1)
        XCTAssertEqual(window.max, 4)
    }

    func testMergedLatencyWithoutHistogramsIsNil() throws {
        try storeRun(at: time(0), [])

        XCTAssertNil(try store.mergedLatency(target: "chat", since: time(0), until: time(10)))
        XCTAssertNil(try store.mergedLatency(target: "unknown", since: time(0), until: time(10)))
    }
}

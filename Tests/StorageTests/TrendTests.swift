import Foundation
import Measurement
import XCTest
@testable import Storage

/// `RunStore.trend` over a hand-made data set with one-hour buckets.
final class TrendTests: XCTestCase {
    private var directory: TemporaryDirectory!
    private var store: RunStore!
    /// An hour boundary, so buckets start at `hour(0)`, `hour(1)`, ...
    private let epochHour = Date(timeIntervalSince1970: 1_700_002_800)

    override func setUpWithError() throws {
        directory = try TemporaryDirectory()
        store = try RunStore(path: directory.path("runs.db"))
    }

    override func tearDownWithError() throws {
        XCTAssertEqual(try store.integrityCheck(), "ok")
        store.close()
        directory.remove()
    }

    private func hour(_ hours: Double) -> Date {
        epochHour.addingTimeInterval(hours * 3600)
    }

    private func storeRun(_ target: String = "chat", at start: Date, status: RunStatus, p95: Double?) throws {
        _ = try store.insertCompletedRun(
            target: target, startedAt: start, outcome: sampleOutcome(status: status, finishedAt: start, p95: p95)
        )
    }

    private func storeHandMadeData() throws {
        // Hour 0: three runs, p95 values 300, 100, 200 -> median 200, two of three passed.
        try storeRun(at: hour(0), status: .passed, p95: 300)
        try storeRun(at: hour(0.25), status: .failed, p95: 100)
        try storeRun(at: hour(0.99), status: .passed, p95: 200)
        // Hour 1: nothing. Hour 2: four runs, one without latency -> median of 10, 30, 50 = 30.
        try storeRun(at: hour(2), status: .passed, p95: 50)
        try storeRun(at: hour(2.5), status: .error, p95: nil)
        try storeRun(at: hour(2.6), status: .passed, p95: 10)
        try storeRun(at: hour(2.7), status: .passed, p95: 30)
        // Hour 3: two runs -> median is the mean of the middle values, (40 + 60) / 2.
        try storeRun(at: hour(3.1), status: .failed, p95: 60)
        try storeRun(at: hour(3.2), status: .failed, p95: 40)
        // Hour 4: only runs without a value -> median, min and max are nil.
        try storeRun(at: hour(4.5), status: .error, p95: nil)
        // Excluded: another target, a running and an interrupted run, and runs outside the range.
        try storeRun("search", at: hour(0.5), status: .passed, p95: 9999)
        _ = try store.beginRun(target: "chat", startedAt: hour(0.5))
        _ = try store.beginRun(target: "chat", startedAt: hour(0.6))
        _ = try store.markUnfinishedRunsInterrupted(at: hour(0.7))
        _ = try store.beginRun(target: "chat", startedAt: hour(3.5))
        try storeRun(at: hour(-0.5), status: .passed, p95: 7777)
        try storeRun(at: hour(5), status: .passed, p95: 8888)
    }

    func testTrendBuckets() throws {
        try storeHandMadeData()

        let buckets = try store.trend(target: "chat", metric: .p95, bucketSeconds: 3600, since: hour(0), until: hour(5))

        XCTAssertEqual(buckets.map(\.start), [hour(0), hour(2), hour(3), hour(4)])
        XCTAssertEqual(buckets.map(\.runCount), [3, 4, 2, 1])
        XCTAssertEqual(buckets.map(\.passRate), [2.0 / 3.0, 0.75, 0, 0])
        XCTAssertEqual(buckets.map(\.median), [200, 30, 50, nil])
        XCTAssertEqual(buckets.map(\.min), [100, 10, 40, nil])
        XCTAssertEqual(buckets.map(\.max), [300, 50, 60, nil])
    }

    func testTrendOtherMetric() throws {
        try storeHandMadeData()

        let buckets = try store.trend(target: "chat", metric: .errorRate, bucketSeconds: 3600,
                                      since: hour(0), until: hour(1))

        XCTAssertEqual(buckets.count, 1)
        XCTAssertEqual(buckets.first?.median, 0.03)
    }

    func testTrendOverTimeToFirstToken() throws {
        // Hour 0: two streamed runs and one without streaming -> median of 200 and 400 = 300.
        for (offset, ttftP95) in [(0.1, 200.0), (0.2, 400.0), (0.3, nil)] {
            var outcome = sampleOutcome(finishedAt: hour(offset))
            outcome.streaming = ttftP95.map {
                StreamingSummary(timeToFirstToken: LatencyPercentiles(p50: 1, p95: $0, p99: 999), interTokenLatency: nil,
                                 tokensPerSecond: 40)
            }
            _ = try store.insertCompletedRun(target: "chat", startedAt: hour(offset), outcome: outcome)
        }

        let buckets = try store.trend(target: "chat", metric: .ttftP95, bucketSeconds: 3600, since: hour(0), until: hour(1))

        XCTAssertEqual(buckets.map(\.runCount), [3])
        XCTAssertEqual(buckets.map(\.median), [300])
        XCTAssertEqual(buckets.map(\.min), [200])
        XCTAssertEqual(buckets.map(\.max), [400])
        let rates = try store.trend(target: "chat", metric: .tokensPerSecond, bucketSeconds: 3600, since: hour(0), until: hour(1))
        XCTAssertEqual(rates.map(\.median), [40])
    }

    /// Stores a run whose latency summary and histogram both come from `milliseconds`.
    private func storeMeasuredRun(at start: Date, _ milliseconds: [Double]) throws {
        var histogram = LatencyHistogram()
        for value in milliseconds {
            histogram.record(milliseconds: value)
        }
        let distribution = try XCTUnwrap(histogram.distribution())
        var outcome = sampleOutcome(finishedAt: start)
        outcome.latency = LatencySummary(p50: distribution.p50, p95: distribution.p95, p99: distribution.p99,
                                         mean: distribution.mean, min: distribution.min, max: distribution.max)
        outcome.latencyHistogram = histogram
        _ = try store.insertCompletedRun(target: "chat", startedAt: start, outcome: outcome)
    }

    func testMergedPercentileOverAllRequests() throws {
        // One run of 99 requests at 2 ms and one run of a single 900 ms request. Over all 100
        // requests the nearest-rank p99 is rank 99, a 2 ms request, and only p100 is slow. The
        // per-run p99 values are 2 and 900, so their median is 451, which no request took.
        // Values under 2.048 ms fall in 1 µs sub-buckets, so the histogram reports them exactly.
        try storeMeasuredRun(at: hour(0.1), Array(repeating: 2, count: 99))
        try storeMeasuredRun(at: hour(0.2), [900])

        let p99 = try store.trend(target: "chat", metric: .p99, bucketSeconds: 3600, since: hour(0), until: hour(1))
        let window = try XCTUnwrap(store.mergedLatency(target: "chat", since: hour(0), until: hour(1)))

        XCTAssertEqual(p99.count, 1)
        XCTAssertEqual(p99.first?.merged, 2)
        XCTAssertEqual(p99.first?.median, 451)
        XCTAssertEqual(p99.first?.min, 2)
        XCTAssertEqual(p99.first?.max, 900)
        XCTAssertEqual(p99.first?.mergedRunCount, 2)
        XCTAssertEqual(p99.first?.undecodableHistogramRunIDs, [])
        XCTAssertEqual(window.p99, 2)
        XCTAssertEqual(window.max, 900)
        XCTAssertEqual(window.count, 100)
    }

    func testMergedValuePerMetric() throws {
        try storeMeasuredRun(at: hour(0.1), Array(repeating: 2, count: 99))
        try storeMeasuredRun(at: hour(0.2), [900])
        let expected: [(TrendMetric, Double?)] = [
            (.p50, 2), (.p95, 2), (.p99, 2), (.mean, (99 * 2 + 900) / 100),
            (.errorRate, nil), (.throughput, nil), (.ttftP95, nil),
        ]

        for (metric, value) in expected {
            let buckets = try store.trend(target: "chat", metric: metric, bucketSeconds: 3600, since: hour(0), until: hour(1))
            XCTAssertEqual(buckets.first?.merged, value, metric.rawValue)
        }
    }

    func testMergedPerBucket() throws {
        try storeMeasuredRun(at: hour(0.5), [1, 1, 1, 5])
        try storeMeasuredRun(at: hour(1.5), [3])
        // A run without a histogram counts in the bucket but not in the merge.
        try storeRun(at: hour(1.6), status: .passed, p95: 700)

        let buckets = try store.trend(target: "chat", metric: .p95, bucketSeconds: 3600, since: hour(0), until: hour(2))

        XCTAssertEqual(buckets.map(\.merged), [5, 3])
        XCTAssertEqual(buckets.map(\.runCount), [1, 2])
        XCTAssertEqual(buckets.map(\.mergedRunCount), [1, 1])
        XCTAssertEqual(buckets.map(\.median), [5, 351.5])
    }

    func testTrendWithWindowMatchesSeparateCalls() throws {
        try storeMeasuredRun(at: hour(0.5), [1, 1, 1, 5])
        try storeMeasuredRun(at: hour(1.5), [3, 700])
        try storeRun(at: hour(1.6), status: .passed, p95: 700)

        for metric in [TrendMetric.p99, .errorRate] {
            let combined = try store.trendWithMergedLatency(target: "chat", metric: metric, bucketSeconds: 3600,
                                                            since: hour(0), until: hour(2))
            let buckets = try store.trend(target: "chat", metric: metric, bucketSeconds: 3600, since: hour(0), until: hour(2))
            let window = try store.mergedLatency(target: "chat", since: hour(0), until: hour(2))

            XCTAssertEqual(combined.buckets, buckets, metric.rawValue)
            XCTAssertEqual(combined.window, window, metric.rawValue)
            XCTAssertEqual(combined.window?.count, 6, metric.rawValue)
            XCTAssertEqual(combined.window?.max, 700, metric.rawValue)
        }
    }

    func testTrendWithoutHistogramsHasNoMergedValue() throws {
        try storeHandMadeData()

        let buckets = try store.trend(target: "chat", metric: .p95, bucketSeconds: 3600, since: hour(0), until: hour(5))

        XCTAssertEqual(buckets.map(\.merged), [nil, nil, nil, nil])
        XCTAssertEqual(buckets.map(\.mergedRunCount), [0, 0, 0, 0])
    }

    func testTrendBucketsAlignToEpoch() throws {
        try storeRun(at: hour(0.75), status: .passed, p95: 1)

        let buckets = try store.trend(target: "chat", metric: .p95, bucketSeconds: 3600,
                                      since: hour(0.5), until: hour(1))

        XCTAssertEqual(buckets.map(\.start), [hour(0)])
    }

    func testTrendEmptyRange() throws {
        try storeHandMadeData()

        let buckets = try store.trend(target: "chat", metric: .p95, bucketSeconds: 60, since: hour(10), until: hour(11))

        XCTAssertEqual(buckets, [])
    }

    func testTrendInvalidBucketRejected() throws {
        for seconds in [0, -60, Double.infinity, Double.nan] {
            let error = storageError {
                _ = try store.trend(target: "chat", metric: .p95, bucketSeconds: seconds, since: hour(0), until: hour(1))
            }
            XCTAssertEqual(error?.kind, .invalidArgument, "bucket \(seconds)")
        }
    }

    func testRoundingAtBucketEdgeKeepsEverySample() {
        // For these start times floor(x / 0.1) * 0.1 + 0.1 rounds to a value not above x, so the
        // computed bucket end does not lie after the sample itself.
        let samples = [
            TrendSample(startedAt: 43 * 0.1, passed: true, value: 1),
            TrendSample(startedAt: 81 * 0.1, passed: false, value: 2),
        ]

        let buckets = TrendSample.buckets(of: samples, bucketSeconds: 0.1)

        XCTAssertEqual(buckets.map(\.runCount), [1, 1])
        XCTAssertEqual(buckets.map(\.median), [1, 2])
    }

    func testMetricNamesMatchURLParameters() {
        XCTAssertEqual(TrendMetric.allCases.map(\.rawValue),
                       [
            "p50", "p95", "p99", "mean", "error_rate", "fallback_rate", "throughput",
            "ttft_p50", "ttft_p95", "ttft_p99", "itl_p50", "itl_p95", "itl_p99", "tokens_per_s",
        ])
    }
}

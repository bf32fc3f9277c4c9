import Measurement
import XCTest

final class LatencySamplesTests: XCTestCase {
    private func samples(of values: [Double], exactLimit: Int) -> LatencySamples {
        var samples = LatencySamples(exactLimit: exactLimit)
        for value in values { samples.record(milliseconds: value) }
        return samples
    }

    func testDefaultLimitIsHundredThousand() {
        XCTAssertEqual(LatencySamples().exactLimit, 100_000)
    }

    func testExactAtLimitEqualsDistribution() {
        let values = TestLatencies.fractionalMicroseconds(count: 1_000, seed: 21)
        let samples = samples(of: values, exactLimit: 1_000)
        XCTAssertTrue(samples.isExact)
        XCTAssertEqual(samples.distribution(), Distribution(values))
        XCTAssertEqual(samples.exactValues, values)
    }

    func testExactPercentileIsNearestRank() {
        let values = TestLatencies.fractionalMicroseconds(count: 999, seed: 22)
        let samples = samples(of: values, exactLimit: 1_000)
        XCTAssertEqual(samples.percentile(99.9), NearestRank.percentile(99.9, ofSorted: values.sorted()))
    }

    func testHistogramAboveLimit() throws {
        let values = TestLatencies.wholeMicroseconds(count: 1_001, seed: 23)
        let sorted = values.sorted()
        let samples = samples(of: values, exactLimit: 1_000)
        XCTAssertFalse(samples.isExact)
        XCTAssertNil(samples.exactValues)
        XCTAssertEqual(samples.count, 1_001)

        let distribution = try XCTUnwrap(samples.distribution())
        let exact = try XCTUnwrap(Distribution(values))
        XCTAssertEqual(distribution.count, exact.count)
        XCTAssertEqual(distribution.min, exact.min)
        XCTAssertEqual(distribution.max, exact.max)
        XCTAssertEqual(distribution.mean, exact.mean, accuracy: exact.mean * 1e-12)
        for percent in TestLatencies.percents {
            let expected = try XCTUnwrap(NearestRank.percentile(percent, ofSorted: sorted))
            let reported = try XCTUnwrap(samples.percentile(percent))
            XCTAssertLessThanOrEqual(abs(reported - expected) / expected, 0.001, "p\(percent)")
        }
    }

    func testZeroLimitIsNeverExact() {
        let samples = samples(of: [1, 2], exactLimit: 0)
        XCTAssertFalse(samples.isExact)
        XCTAssertEqual(samples.percentile(100), 2)
    }

    func testEmptySamplesHaveNoDistribution() {
        XCTAssertNil(LatencySamples().distribution())
        XCTAssertNil(LatencySamples().percentile(50))
    }

    func testNaNIsIgnored() {
        let samples = samples(of: [.nan, 3], exactLimit: 10)
        XCTAssertEqual(samples.exactValues, [3])
        XCTAssertEqual(samples.count, 1)
    }

    func testMergeWithinLimitStaysExact() {
        var merged = samples(of: [3, 1], exactLimit: 4)
        merged.merge(samples(of: [2, 4], exactLimit: 4))
        XCTAssertTrue(merged.isExact)
        XCTAssertEqual(merged.distribution(), Distribution([3, 1, 2, 4]))
    }

    func testMergeBeyondLimitUsesHistogram() {
        var merged = samples(of: [3, 1, 5], exactLimit: 4)
        merged.merge(samples(of: [2, 4], exactLimit: 4))
        XCTAssertFalse(merged.isExact)
        XCTAssertEqual(merged.count, 5)
        XCTAssertEqual(merged.histogram, samples(of: [3, 1, 5, 2, 4], exactLimit: 0).histogram)
    }

    func testMergeWithInexactSideUsesHistogram() {
        var merged = samples(of: [1], exactLimit: 100)
        merged.merge(samples(of: [2, 3], exactLimit: 1))
        XCTAssertFalse(merged.isExact)
        XCTAssertEqual(merged.count, 3)
    }
}

extension MetricsRecorderTests {
    func testLatencyHistogramCoversSuccessesOnly() throws {
        var recorder = MetricsRecorder()
        recorder.add(RequestResult(latency: 10, status: 200))
        recorder.add(RequestResult(latency: 20, status: 200))
        recorder.add(RequestResult(latency: 999, status: 503, failure: RequestFailure(kind: .http5xx, message: "x")))

        let histogram = try XCTUnwrap(recorder.summarize(wallSeconds: 1).latencyHistogram)
        XCTAssertEqual(histogram.count, 2)
        XCTAssertEqual(histogram.max, 20)
    }

    func testEmptyRunHasNoLatencyHistogram() {
        XCTAssertNil(MetricsRecorder().summarize(wallSeconds: 1).latencyHistogram)
    }

    func testLargeRunLatencyComesFromHistogram() throws {
        var recorder = MetricsRecorder()
        let values = TestLatencies.wholeMicroseconds(count: LatencySamples.defaultExactLimit + 1, seed: 24)
        for value in values { recorder.add(RequestResult(latency: value, status: 200)) }

        let latency = try XCTUnwrap(recorder.summarize(wallSeconds: 1).latency)
        let exact = try XCTUnwrap(Distribution(values))
        XCTAssertEqual(latency.count, exact.count)
        XCTAssertEqual(latency.max, exact.max)
        XCTAssertEqual(latency.p50, exact.p50, accuracy: exact.p50 / 2048)
        XCTAssertEqual(latency.p99, exact.p99, accuracy: exact.p99 / 2048)
    }
}

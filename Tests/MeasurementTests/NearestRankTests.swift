import Measurement
import XCTest

final class NearestRankTests: XCTestCase {
    func testSingleValueIsEveryPercentile() {
        XCTAssertEqual(NearestRank.percentile(50, ofSorted: [7]), 7)
        XCTAssertEqual(NearestRank.percentile(99, ofSorted: [7]), 7)
        XCTAssertEqual(NearestRank.percentile(100, ofSorted: [7]), 7)
    }

    func testEmptySampleHasNoPercentile() {
        XCTAssertNil(NearestRank.percentile(50, ofSorted: []))
    }

    func testRanksOfTenValues() {
        let values = (1...10).map(Double.init)
        // rank = ceil(p / 100 * 10)
        XCTAssertEqual(NearestRank.percentile(10, ofSorted: values), 1)
        XCTAssertEqual(NearestRank.percentile(50, ofSorted: values), 5)
        XCTAssertEqual(NearestRank.percentile(51, ofSorted: values), 6)
        XCTAssertEqual(NearestRank.percentile(95, ofSorted: values), 10)
        XCTAssertEqual(NearestRank.percentile(99, ofSorted: values), 10)
    }

    func testRanksOfHundredValues() {
        let values = (1...100).map(Double.init)
        XCTAssertEqual(NearestRank.percentile(50, ofSorted: values), 50)
        XCTAssertEqual(NearestRank.percentile(95, ofSorted: values), 95)
        XCTAssertEqual(NearestRank.percentile(99, ofSorted: values), 99)
        XCTAssertEqual(NearestRank.percentile(100, ofSorted: values), 100)
    }

    func testTiedValuesReturnTheTie() {
        let values: [Double] = [5, 5, 5, 5, 9]
        XCTAssertEqual(NearestRank.percentile(50, ofSorted: values), 5)
        XCTAssertEqual(NearestRank.percentile(80, ofSorted: values), 5)
        XCTAssertEqual(NearestRank.percentile(81, ofSorted: values), 9)
    }

    func testTwoValuesMedianIsTheLower() {
        // ceil(0.5 * 2) = 1: nearest rank never averages the two middle values.
        XCTAssertEqual(NearestRank.percentile(50, ofSorted: [10, 20]), 10)
    }
}

final class DistributionTests: XCTestCase {
    func testUnsortedInputIsSorted() throws {
        let distribution = try XCTUnwrap(Distribution([30, 10, 20, 40]))
        XCTAssertEqual(distribution.min, 10)
        XCTAssertEqual(distribution.max, 40)
        XCTAssertEqual(distribution.p50, 20)
        XCTAssertEqual(distribution.mean, 25)
        XCTAssertEqual(distribution.count, 4)
    }

    func testEmptyInputGivesNil() {
        XCTAssertNil(Distribution([]))
    }
}

final class MetricsRecorderTests: XCTestCase {
    func testCountsRatesAndLatencyOfSuccessesOnly() throws {
        var recorder = MetricsRecorder()
        recorder.add(RequestResult(latency: 10, status: 200))
        recorder.add(RequestResult(latency: 20, status: 200, isFallback: true))
        recorder.add(RequestResult(latency: 999, status: 503, failure: RequestFailure(kind: .http5xx, message: "HTTP 503 Service Unavailable")))
        recorder.add(RequestResult(latency: 0, status: 0, failure: RequestFailure(kind: .connection, message: "refused")))

        let summary = recorder.summarize(wallSeconds: 2)
        XCTAssertEqual(summary.requests, 4)
        XCTAssertEqual(summary.succeeded, 2)
        XCTAssertEqual(summary.failed, 2)
        XCTAssertEqual(summary.fallbacks, 1)
        XCTAssertEqual(summary.errorRate, 0.5)
        XCTAssertEqual(summary.fallbackRate, 0.25)
        XCTAssertEqual(summary.throughput, 2)
        XCTAssertEqual(summary.latency?.max, 20, "failed requests must not enter the latency distribution")
        XCTAssertEqual(summary.errorCounts, [.http5xx: 1, .connection: 1])
        XCTAssertEqual(summary.statusCounts, [200: 2, 503: 1])
    }

    func testFirstErrorMessageOfEachKindIsKept() {
        var recorder = MetricsRecorder()
        recorder.add(RequestResult(latency: 0, status: 0, failure: RequestFailure(kind: .timeout, message: "first")))
        recorder.add(RequestResult(latency: 0, status: 0, failure: RequestFailure(kind: .timeout, message: "second")))
        XCTAssertEqual(recorder.summarize(wallSeconds: 1).firstErrorMessages[.timeout], "first")
    }

    func testFallbackOnFailedRequestIsNotCounted() {
        var recorder = MetricsRecorder()
        recorder.add(RequestResult(latency: 5, status: 500, failure: RequestFailure(kind: .http5xx, message: "x"), isFallback: true))
        XCTAssertEqual(recorder.summarize(wallSeconds: 1).fallbacks, 0)
    }

    func testEmptyRunHasZeroRatesAndNoLatency() {
        let summary = MetricsRecorder().summarize(wallSeconds: 0)
        XCTAssertEqual(summary.errorRate, 0)
        XCTAssertEqual(summary.throughput, 0)
        XCTAssertNil(summary.latency)
    }
}

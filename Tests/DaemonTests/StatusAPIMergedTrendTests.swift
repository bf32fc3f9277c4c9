@testable import Daemon
import Foundation
import JSONCoding
import Measurement
import Reporting
import XCTest

/// `/trend` with merged latency histograms, requested over loopback HTTP.
final class StatusAPIMergedTrendTests: XCTestCase {
    private var fixture: StatusAPIFixture!
    /// The hour that every stored run starts in, and the window of every request.
    private let window = "since=2026-01-01T00:00:00Z&until=2026-01-01T01:00:00Z"

    override func setUpWithError() throws {
        fixture = try StatusAPIFixture(targetNames: ["chat", "old"])
        // 99 requests at 2 ms in one run and one 900 ms request in another: over all 100 requests
        // p99 is 2 ms, while the median of the two per-run p99 values is 451 ms.
        try storeRun(target: "chat", minute: 10, Array(repeating: 2, count: 99))
        try storeRun(target: "chat", minute: 20, [900])
        try storeRun(target: "old", minute: 30, nil)
    }

    override func tearDown() {
        fixture?.stop()
    }

    /// Stores a report whose latency histogram contains `milliseconds`, or none when nil.
    private func storeRun(target: String, minute: Double, _ milliseconds: [Double]?) throws {
        var report = StreamingReports.report(
            streaming: nil, startedAt: Date(timeIntervalSince1970: 1_767_225_600 + minute * 60)
        )
        if let milliseconds {
            var histogram = LatencyHistogram()
            for value in milliseconds {
                histogram.record(milliseconds: value)
            }
            report.summary.latencyHistogram = histogram
            report.summary.latency = histogram.distribution()
        }
        try fixture.store(report, target: target)
    }

    private func trend(_ query: String) throws -> JSONValue {
        let response = try LoopbackHTTPClient.request(port: fixture.port, path: "/trend?bucket=1h&\(window)&" + query)
        XCTAssertEqual(response.status, 200, response.text)
        return try response.json()
    }

    func testBucketCarriesMergedPercentile() throws {
        let bucket = try trend("target=chat&metric=p99")["buckets"]?.arrayValue?.first

        XCTAssertEqual(bucket?["runs"]?.integerValue, 2)
        XCTAssertEqual(bucket?["merged"]?.doubleValue, 2)
        XCTAssertEqual(bucket?["merged_runs"]?.integerValue, 2)
        XCTAssertEqual(bucket?["median"]?.doubleValue, 451)
        XCTAssertEqual(bucket?["max"]?.doubleValue, 900)
    }

    func testWindowFromMergedHistograms() throws {
        let window = try trend("target=chat&metric=p95")["latency_window"]

        XCTAssertEqual(window?["p50"]?.doubleValue, 2)
        XCTAssertEqual(window?["p95"]?.doubleValue, 2)
        XCTAssertEqual(window?["p99"]?.doubleValue, 2)
        XCTAssertEqual(window?["count"]?.integerValue, 100)
    }

    func testWindowSetForNonLatencyMetric() throws {
        let document = try trend("target=chat&metric=error_rate")

        XCTAssertEqual(document["latency_window"]?["count"]?.integerValue, 100)
        XCTAssertEqual(document["buckets"]?.arrayValue?.first?["merged"], .null)
    }

    func testRunsWithoutHistogramGiveNulls() throws {
        let document = try trend("target=old&metric=p95")
        let bucket = document["buckets"]?.arrayValue?.first

        XCTAssertEqual(document["latency_window"], .null)
        XCTAssertEqual(bucket?["merged"], .null)
        XCTAssertEqual(bucket?["merged_runs"]?.integerValue, 0)
        XCTAssertEqual(bucket?["median"]?.doubleValue, 400)
    }

    func testUnknownTargetIsNotFound() throws {
        let response = try LoopbackHTTPClient.request(port: fixture.port, path: "/trend?bucket=1h&\(window)&target=nobody")
        XCTAssertEqual(response.status, 404, response.text)
    }
}

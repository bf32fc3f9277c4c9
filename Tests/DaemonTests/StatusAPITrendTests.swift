@testable import Daemon
import Foundation
import JSONCoding
import XCTest

/// `/trend` over the streaming metrics, requested over loopback HTTP.
final class StatusAPITrendTests: XCTestCase {
    private var fixture: StatusAPIFixture!

    override func setUpWithError() throws {
        fixture = try StatusAPIFixture(targetNames: ["streamed"])
        try fixture.store(StreamingReports.report(streaming: StreamingReports.fullStreamSummary(), startedAt: Date(timeIntervalSinceNow: -120)),
                          target: "streamed")
    }

    override func tearDown() {
        fixture?.stop()
    }

    private func trend(_ query: String) throws -> LoopbackHTTPResponse {
        try LoopbackHTTPClient.request(port: fixture.port, path: "/trend?target=streamed&bucket=1h&since=1d&" + query)
    }

    func testTrendOverTimeToFirstToken() throws {
        let response = try trend("metric=ttft_p95")
        let document = try response.json()

        XCTAssertEqual(response.status, 200, response.text)
        XCTAssertEqual(document["metric"]?.stringValue, "ttft_p95")
        XCTAssertEqual(document["unit"]?.stringValue, "ms")
        XCTAssertEqual(document["buckets"]?.arrayValue?.first?["median"]?.doubleValue, 300)
    }

    func testTrendUnits() throws {
        let expected = [
            "ttft_p50": "ms", "ttft_p99": "ms", "itl_p50": "ms", "itl_p95": "ms", "itl_p99": "ms", "tokens_per_s": "tokens/s",
        ]
        for (metric, unit) in expected {
            let document = try trend("metric=" + metric).json()
            XCTAssertEqual(document["unit"]?.stringValue, unit, metric)
        }
    }

    func testTrendOverTokensPerSecond() throws {
        let document = try trend("metric=tokens_per_s").json()

        XCTAssertEqual(document["buckets"]?.arrayValue?.first?["median"]?.doubleValue, StreamingReports.tokensPerSecond)
    }

    func testUnknownMetricListsStreamingNames() throws {
        let response = try trend("metric=ttft")

        XCTAssertEqual(response.status, 400)
        XCTAssertEqual(
            try response.json()["error"]?["message"]?.stringValue,
            "invalid metric \"ttft\": expected one of p50, p95, p99, mean, error_rate, fallback_rate, throughput, "
                + "ttft_p50, ttft_p95, ttft_p99, itl_p50, itl_p95, itl_p99, tokens_per_s"
        )
    }
}

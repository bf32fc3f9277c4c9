@testable import Daemon
import Foundation
import XCTest

/// Token timings in `/metrics`, scraped over loopback HTTP.
final class MetricsExpositionTests: XCTestCase {
    private var fixture: StatusAPIFixture!

    override func setUpWithError() throws {
        fixture = try StatusAPIFixture(targetNames: ["streamed", "plain"])
    }

    override func tearDown() {
        fixture?.stop()
    }

    private func scrape() throws -> String {
        let response = try LoopbackHTTPClient.request(port: fixture.port, path: "/metrics")
        XCTAssertEqual(response.status, 200)
        return response.text
    }

    func testStreamedTargetExportsTokenTimings() throws {
        try fixture.store(StreamingReports.report(streaming: StreamingReports.fullStreamSummary()), target: "streamed")
        try fixture.store(StreamingReports.report(streaming: nil), target: "plain")

        let text = try scrape()
        let samples = PrometheusText.samples(in: text)

        XCTAssertEqual(PrometheusText.problems(in: text), [])
        XCTAssertEqual(samples[#"loadsmoke_last_run_ttft_seconds{percentile="50",target="streamed"}"#], 0.12)
        XCTAssertEqual(samples[#"loadsmoke_last_run_ttft_seconds{percentile="95",target="streamed"}"#], 0.3)
        XCTAssertEqual(samples[#"loadsmoke_last_run_ttft_seconds{percentile="99",target="streamed"}"#], 0.3)
        XCTAssertEqual(samples[#"loadsmoke_last_run_itl_seconds{percentile="50",target="streamed"}"#], 0.02)
        XCTAssertEqual(samples[#"loadsmoke_last_run_itl_seconds{percentile="95",target="streamed"}"#], 0.05)
        XCTAssertEqual(samples[#"loadsmoke_last_run_itl_seconds{percentile="99",target="streamed"}"#], 0.05)
        XCTAssertEqual(samples[#"loadsmoke_last_run_tokens_per_second{target="streamed"}"#], StreamingReports.tokensPerSecond)
    }

    func testPlainTargetExportsNoTokenTimings() throws {
        try fixture.store(StreamingReports.report(streaming: nil), target: "plain")

        let text = try scrape()
        let series = PrometheusText.samples(in: text).keys

        XCTAssertEqual(PrometheusText.problems(in: text), [])
        XCTAssertTrue(text.contains("# TYPE loadsmoke_last_run_ttft_seconds gauge\n"))
        XCTAssertEqual(series.filter { $0.hasPrefix("loadsmoke_last_run_ttft_seconds") }, [])
        XCTAssertEqual(series.filter { $0.hasPrefix("loadsmoke_last_run_itl_seconds") }, [])
        XCTAssertEqual(series.filter { $0.hasPrefix("loadsmoke_last_run_tokens_per_second") }, [])
        XCTAssertNotNil(PrometheusText.samples(in: text)[#"loadsmoke_last_run_latency_seconds{percentile="50",target="plain"}"#])
    }

    func testNewestRunDecidesStreamingSeries() throws {
        // The target streamed before, but its newest run did not, so no token timing is current.
        try fixture.store(StreamingReports.report(streaming: StreamingReports.fullStreamSummary(), startedAt: Date(timeIntervalSinceNow: -60)),
                          target: "streamed")
        try fixture.store(StreamingReports.report(streaming: nil), target: "streamed")

        let series = PrometheusText.samples(in: try scrape()).keys

        XCTAssertEqual(series.filter { $0.contains("ttft") || $0.contains("itl") || $0.contains("tokens") }, [])
    }
}

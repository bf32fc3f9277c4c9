@testable import Daemon
import Measurement
import Storage
import XCTest

final class RunRecordingTests: XCTestCase {
    func testOutcomeCarriesStreamingPercentiles() {
        let report = StreamingReports.report(streaming: StreamingReports.fullStreamSummary())

        let streaming = RunRecording.outcome(of: report, finishedAt: Date()).streaming

        XCTAssertEqual(streaming?.timeToFirstToken, LatencyPercentiles(p50: 120, p95: 300, p99: 300))
        XCTAssertEqual(streaming?.interTokenLatency, LatencyPercentiles(p50: 20, p95: 50, p99: 50))
        XCTAssertEqual(streaming?.tokensPerSecond, StreamingReports.tokensPerSecond)
    }

    func testOutcomeCarriesLatencyHistogram() {
        var histogram = LatencyHistogram()
        histogram.record(milliseconds: 200)
        histogram.record(milliseconds: 400)
        var report = StreamingReports.report(streaming: nil)
        report.summary.latencyHistogram = histogram

        XCTAssertEqual(RunRecording.outcome(of: report, finishedAt: Date()).latencyHistogram, histogram)
    }

    func testOutcomeWithoutHistogramIsNil() {
        XCTAssertNil(RunRecording.outcome(of: StreamingReports.report(streaming: nil), finishedAt: Date()).latencyHistogram)
    }

    func testOutcomeWithoutStreamingIsNil() {
        let report = StreamingReports.report(streaming: nil)

        XCTAssertNil(RunRecording.outcome(of: report, finishedAt: Date()).streaming)
    }

    func testOutcomeOfContentlessStreamsIsNil() {
        // Streams that carried no content give no token timing at all.
        let summary = StreamSummary(streams: 3, timeToFirstToken: nil, interTokenLatency: nil, meanTokensPerSecond: nil,
                                    meanEventsPerSecond: nil, streamsWithReportedTokens: 0)

        XCTAssertNil(RunRecording.outcome(of: StreamingReports.report(streaming: summary), finishedAt: Date()).streaming)
    }

    func testOutcomeKeepsPartialStreaming() {
        let summary = StreamSummary(streams: 1, timeToFirstToken: Distribution([90]), interTokenLatency: nil,
                                    meanTokensPerSecond: nil, meanEventsPerSecond: nil, streamsWithReportedTokens: 0)

        let streaming = RunRecording.outcome(of: StreamingReports.report(streaming: summary), finishedAt: Date()).streaming

        XCTAssertEqual(streaming?.timeToFirstToken, LatencyPercentiles(p50: 90, p95: 90, p99: 90))
        XCTAssertNil(streaming?.interTokenLatency)
        XCTAssertNil(streaming?.tokensPerSecond)
    }
}

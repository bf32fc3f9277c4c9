import Foundation
import JSONCoding
import Measurement
import Reporting
import Storage

/// Maps smoke reports to what the run store keeps.
public enum RunRecording {
    /// Returns the stored status of a finished report: `interrupted`, `passed` or `failed`.
    public static func status(of report: SmokeReport) -> RunStatus {
        if report.wasInterrupted { return .interrupted }
        return report.passed ? .passed : .failed
    }

    /// Everything the store keeps of a report, including its full JSON document and the latency histogram of its
    /// successful requests.
    public static func outcome(of report: SmokeReport, finishedAt: Date) -> RunOutcome {
        let summary = report.summary
        return RunOutcome(
            status: status(of: report),
            finishedAt: finishedAt,
            requests: summary.requests,
            succeeded: summary.succeeded,
            failed: summary.failed,
            fallbacks: summary.fallbacks,
            durationSeconds: summary.durationSeconds,
            throughputRPS: summary.throughput,
            errorRate: summary.errorRate,
            fallbackRate: summary.fallbackRate,
            latency: summary.latency.map {
                LatencySummary(p50: $0.p50, p95: $0.p95, p99: $0.p99, mean: $0.mean, min: $0.min, max: $0.max)
            },
            streaming: streaming(of: summary.streaming),
            errors: Dictionary(uniqueKeysWithValues: summary.errorCounts.map { ($0.key.rawValue, $0.value) }),
            budgets: report.budgets.map {
                BudgetRecord(name: $0.metric.rawValue, actual: $0.actual, limit: $0.limit, unit: $0.metric.unit, passed: $0.passed)
            },
            reportJSON: report.jsonDocument().serialized(),
            latencyHistogram: summary.latencyHistogram
        )
    }

    /// Returns the outcome of a run that could not be carried out (invalid prompts file, libcurl setup failure).
    public static func errorOutcome(message: String, finishedAt: Date) -> RunOutcome {
        let document = "{\"schema_version\":1,\"passed\":false,\"interrupted\":false,\"error\":\(JSONValue.quoted(message))}"
        return RunOutcome(status: .error, finishedAt: finishedAt, reportJSON: document)
    }

    /// Returns the token timings the store keeps, or nil when the run did not stream or measured no timing.
    static func streaming(of summary: StreamSummary?) -> StreamingSummary? {
        guard let summary else { return nil }
        let percentiles = { (distribution: Distribution) in
            LatencyPercentiles(p50: distribution.p50, p95: distribution.p95, p99: distribution.p99)
        }
        let streaming = StreamingSummary(
            timeToFirstToken: summary.timeToFirstToken.map(percentiles),
            interTokenLatency: summary.interTokenLatency.map(percentiles),
            tokensPerSecond: summary.meanTokensPerSecond
        )
        return streaming.isEmpty ? nil : streaming
    }
}

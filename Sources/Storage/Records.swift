import Foundation
import Measurement

/// The state of a run. Every status except `running` is final.
public enum RunStatus: String, Sendable, CaseIterable {
    case running
    /// The run finished and met every budget.
    case passed
    /// The run finished and missed at least one budget.
    case failed
    /// The run could not produce a verdict, for example because the target was unreachable.
    case error
    /// The process stopped, or crashed, while the run was still going.
    case interrupted

    /// Whether the run ended with a verdict on its budgets (`passed`, `failed` or `error`).
    public var hasVerdict: Bool {
        self == .passed || self == .failed || self == .error
    }
}

/// The result of one budget check of a run.
public struct BudgetRecord: Sendable, Equatable {
    public var name: String
    /// The measured value, in `unit`; nil when the run produced no value for the metric.
    public var actual: Double?
    /// The budget's limit, in `unit`.
    public var limit: Double
    /// The unit of `actual` and `limit`, such as `ms`, `ratio` or `rps`.
    public var unit: String
    public var passed: Bool

    public init(name: String, actual: Double?, limit: Double, unit: String, passed: Bool) {
        self.name = name
        self.actual = actual
        self.limit = limit
        self.unit = unit
        self.passed = passed
    }
}

/// Latency statistics of a run's requests, in milliseconds.
public struct LatencySummary: Sendable, Equatable {
    public var p50: Double
    public var p95: Double
    public var p99: Double
    public var mean: Double
    public var min: Double
    public var max: Double

    public init(p50: Double, p95: Double, p99: Double, mean: Double, min: Double, max: Double) {
        self.p50 = p50
        self.p95 = p95
        self.p99 = p99
        self.mean = mean
        self.min = min
        self.max = max
    }
}

/// The 50th, 95th and 99th percentiles of a latency, in milliseconds.
public struct LatencyPercentiles: Sendable, Equatable {
    public var p50: Double
    public var p95: Double
    public var p99: Double

    public init(p50: Double, p95: Double, p99: Double) {
        self.p50 = p50
        self.p95 = p95
        self.p99 = p99
    }
}

/// Token timings of a run whose responses were streamed.
///
/// The store keeps the seven values in nullable columns, so a summary whose values are all nil
/// reads back as a nil `streaming`, the same as a run that did not stream.
public struct StreamingSummary: Sendable, Equatable {
    /// Time to first token; nil when no stream carried content.
    public var timeToFirstToken: LatencyPercentiles?
    /// Gaps between consecutive content events; nil when no stream carried two of them.
    public var interTokenLatency: LatencyPercentiles?
    /// Mean over streams of each stream's decode rate, in tokens per second.
    public var tokensPerSecond: Double?

    public init(timeToFirstToken: LatencyPercentiles?, interTokenLatency: LatencyPercentiles?, tokensPerSecond: Double?) {
        self.timeToFirstToken = timeToFirstToken
        self.interTokenLatency = interTokenLatency
        self.tokensPerSecond = tokensPerSecond
    }

    /// Whether no value is set, so the store keeps nothing for it.
    public var isEmpty: Bool {
        timeToFirstToken == nil && interTokenLatency == nil && tokensPerSecond == nil
    }
}

/// The alert command that ran after a run.
public struct AlertRecord: Sendable, Equatable {
    /// The state change that triggered the alert, such as `failure` or `recovery`.
    public var event: String
    /// The command's exit status; nil when a signal ended it or it could not be started.
    public var exitStatus: Int32?
    /// The signal that ended the command; nil when it exited or could not be started.
    public var signal: Int32?
    /// The command's output. `RunStore.recordAlert` keeps only the first
    /// `AlertRecord.maximumOutputBytes` bytes, cut at a character boundary.
    public var output: String
    public var startedAt: Date
    public var finishedAt: Date

    /// The maximum output stored per alert, in bytes of UTF-8.
    public static let maximumOutputBytes = 4096

    public init(event: String, exitStatus: Int32?, signal: Int32?, output: String, startedAt: Date, finishedAt: Date) {
        self.event = event
        self.exitStatus = exitStatus
        self.signal = signal
        self.output = output
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }
}

/// The values a finished run writes to the store.
public struct RunOutcome: Sendable, Equatable {
    /// The final status; `running` is rejected.
    public var status: RunStatus
    public var finishedAt: Date
    public var requests: Int
    public var succeeded: Int
    public var failed: Int
    /// Requests whose response was marked as a fallback response.
    public var fallbacks: Int
    public var durationSeconds: Double
    public var throughputRPS: Double
    /// Failed requests divided by all requests.
    public var errorRate: Double
    /// Fallback responses divided by all requests.
    public var fallbackRate: Double
    /// Nil when no request completed.
    public var latency: LatencySummary?
    /// Nil when the run did not stream or measured no token timing.
    public var streaming: StreamingSummary?
    /// Error kinds with their counts, such as `["timeout": 3]`.
    public var errors: [String: Int]
    /// Budget results in configuration order.
    public var budgets: [BudgetRecord]
    /// The run's full report as JSON text, or the empty string when the run produced none.
    public var reportJSON: String
    /// Latencies of the run's successful requests; nil when none succeeded. The store keeps it as
    /// `LatencyHistogram.encoded()` bytes, and an empty histogram is stored as nil.
    public var latencyHistogram: LatencyHistogram?

    public init(
        status: RunStatus, finishedAt: Date,
        requests: Int = 0, succeeded: Int = 0, failed: Int = 0, fallbacks: Int = 0,
        durationSeconds: Double = 0, throughputRPS: Double = 0, errorRate: Double = 0, fallbackRate: Double = 0,
        latency: LatencySummary? = nil, streaming: StreamingSummary? = nil, errors: [String: Int] = [:],
        budgets: [BudgetRecord] = [], reportJSON: String = "", latencyHistogram: LatencyHistogram? = nil
    ) {
        self.status = status
        self.finishedAt = finishedAt
        self.requests = requests
        self.succeeded = succeeded
        self.failed = failed
        self.fallbacks = fallbacks
        self.durationSeconds = durationSeconds
        self.throughputRPS = throughputRPS
        self.errorRate = errorRate
        self.fallbackRate = fallbackRate
        self.latency = latency
        self.streaming = streaming
        self.errors = errors
        self.budgets = budgets
        self.reportJSON = reportJSON
        self.latencyHistogram = latencyHistogram
    }
}

/// A stored run. Fields after `status` hold zeros and empty values while the run is running and
/// after it was interrupted.
public struct RunRecord: Sendable, Equatable {
    /// The run's id, which grows with every stored run and is never reused, even after pruning.
    public var id: Int64
    public var target: String
    public var startedAt: Date
    /// Nil while the run is running.
    public var finishedAt: Date?
    public var status: RunStatus
    public var requests: Int
    public var succeeded: Int
    public var failed: Int
    public var fallbacks: Int
    public var durationSeconds: Double
    public var throughputRPS: Double
    public var errorRate: Double
    public var fallbackRate: Double
    public var latency: LatencySummary?
    public var errors: [String: Int]
    public var budgets: [BudgetRecord]
    /// The empty string when the run has no report.
    public var reportJSON: String
    public var alert: AlertRecord?
    /// Nil when the run did not stream, measured no token timing, or was stored before schema
    /// version 2.
    public var streaming: StreamingSummary?
    /// Latencies of the run's successful requests. Only `RunStore.run(id:)` reads it, so it is nil
    /// in the results of `runs(_:)` and `latestRuns()`. Also nil when no request succeeded, when the
    /// run was stored before schema version 3, and when the stored bytes fail to decode.
    public var latencyHistogram: LatencyHistogram?
    /// The `corruptData` error, naming the run, of stored histogram bytes that `run(id:)` could not
    /// decode. Nil in every other case, including every result of `runs(_:)` and `latestRuns()`.
    public var latencyHistogramError: StorageError?

    public init(
        id: Int64, target: String, startedAt: Date, finishedAt: Date?, status: RunStatus,
        requests: Int, succeeded: Int, failed: Int, fallbacks: Int,
        durationSeconds: Double, throughputRPS: Double, errorRate: Double, fallbackRate: Double,
        latency: LatencySummary?, errors: [String: Int], budgets: [BudgetRecord],
        reportJSON: String, alert: AlertRecord?, streaming: StreamingSummary? = nil,
        latencyHistogram: LatencyHistogram? = nil, latencyHistogramError: StorageError? = nil
    ) {
        self.id = id
        self.target = target
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.status = status
        self.requests = requests
        self.succeeded = succeeded
        self.failed = failed
        self.fallbacks = fallbacks
        self.durationSeconds = durationSeconds
        self.throughputRPS = throughputRPS
        self.errorRate = errorRate
        self.fallbackRate = fallbackRate
        self.latency = latency
        self.errors = errors
        self.budgets = budgets
        self.reportJSON = reportJSON
        self.alert = alert
        self.streaming = streaming
        self.latencyHistogram = latencyHistogram
        self.latencyHistogramError = latencyHistogramError
    }
}

/// Filters and paging for `RunStore.runs(_:)`. Results come newest first (by descending id).
public struct RunQuery: Sendable, Equatable {
    public static let defaultLimit = 50
    public static let maximumLimit = 1000

    public var target: String?
    /// Keeps runs that started at or after this time.
    public var since: Date?
    /// Keeps runs that started before this time.
    public var until: Date?
    public var status: RunStatus?
    /// The maximum number of runs returned, from 1 to `maximumLimit`; other values are rejected.
    public var limit: Int
    /// Keeps runs whose id is below this one. Pass the last id of a page to get the next page.
    public var beforeID: Int64?

    public init(
        target: String? = nil, since: Date? = nil, until: Date? = nil, status: RunStatus? = nil,
        limit: Int = RunQuery.defaultLimit, beforeID: Int64? = nil
    ) {
        self.target = target
        self.since = since
        self.until = until
        self.status = status
        self.limit = limit
        self.beforeID = beforeID
    }
}

/// A per-run value that `RunStore.trend` aggregates. Raw values are the names used in URLs.
public enum TrendMetric: String, Sendable, CaseIterable {
    case p50, p95, p99, mean
    case errorRate = "error_rate"
    case fallbackRate = "fallback_rate"
    case throughput
    /// Time to first token of streamed runs, in milliseconds.
    case ttftP50 = "ttft_p50"
    case ttftP95 = "ttft_p95"
    case ttftP99 = "ttft_p99"
    /// Inter-token latency of streamed runs, in milliseconds.
    case itlP50 = "itl_p50"
    case itlP95 = "itl_p95"
    case itlP99 = "itl_p99"
    /// Mean decode rate of streamed runs, in tokens per second.
    case tokensPerSecond = "tokens_per_s"

    /// Computes the metric over a merged latency histogram, or nil for the metrics that no histogram holds.
    /// Percentiles are nearest-rank over all merged requests, as `LatencyHistogram.percentile(_:)` reports them.
    var mergedStatistic: ((LatencyHistogram) -> Double?)? {
        switch self {
        case .p50: return { $0.percentile(50) }
        case .p95: return { $0.percentile(95) }
        case .p99: return { $0.percentile(99) }
        case .mean: return { $0.count == 0 ? nil : $0.mean }
        default: return nil
        }
    }

    /// The `runs` column holding the metric. Only these fixed names reach SQL text.
    var column: String {
        switch self {
        case .p50: return "p50_ms"
        case .p95: return "p95_ms"
        case .p99: return "p99_ms"
        case .mean: return "mean_ms"
        case .errorRate: return "error_rate"
        case .fallbackRate: return "fallback_rate"
        case .throughput: return "throughput_rps"
        case .ttftP50: return "ttft_p50_ms"
        case .ttftP95: return "ttft_p95_ms"
        case .ttftP99: return "ttft_p99_ms"
        case .itlP50: return "itl_p50_ms"
        case .itlP95: return "itl_p95_ms"
        case .itlP99: return "itl_p99_ms"
        case .tokensPerSecond: return "tokens_per_s"
        }
    }
}

/// The runs of one target that started within one time bucket, and their metric statistics.
public struct TrendBucket: Sendable, Equatable {
    /// The bucket's start: a whole multiple of the bucket length since the unix epoch.
    public var start: Date
    /// Runs with a verdict (`passed`, `failed` or `error`) that started in the bucket; at least 1.
    public var runCount: Int
    /// The share of those runs that passed, from 0 to 1.
    public var passRate: Double
    /// The median of the metric over runs that have a value; the mean of the two middle values
    /// for an even count. Nil when no run in the bucket has a value.
    public var median: Double?
    public var min: Double?
    public var max: Double?
    /// The metric over all requests of the bucket's runs, computed from their merged latency
    /// histograms: the true percentile, not an average of per-run percentiles. Set only for
    /// p50, p95, p99 and mean, and nil when no run in the bucket has a stored histogram.
    public var merged: Double?
    /// Runs whose histograms `merged` covers, and 0 for metrics without a merged value. Runs without
    /// a successful request, runs stored before schema version 3 and runs in
    /// `undecodableHistogramRunIDs` are left out.
    public var mergedRunCount: Int
    /// Runs whose stored histogram failed to decode, so `merged` leaves them out. Empty for metrics
    /// without a merged value. `RunStore.run(id:)` returns each decoding error in `latencyHistogramError`.
    public var undecodableHistogramRunIDs: [Int64]

    public init(
        start: Date, runCount: Int, passRate: Double, median: Double?, min: Double?, max: Double?,
        merged: Double? = nil, mergedRunCount: Int = 0, undecodableHistogramRunIDs: [Int64] = []
    ) {
        self.start = start
        self.runCount = runCount
        self.passRate = passRate
        self.median = median
        self.min = min
        self.max = max
        self.merged = merged
        self.mergedRunCount = mergedRunCount
        self.undecodableHistogramRunIDs = undecodableHistogramRunIDs
    }
}

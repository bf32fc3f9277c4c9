import Foundation
import Measurement

/// The run's settings, as shown in the report header and the JSON `config` object. It contains no secret: header values
/// that may carry credentials are redacted by the caller before they get here.
public struct RunSetup: Sendable, Equatable {
    /// The target's name in the daemon or `--target-name`; nil for a plain one-shot run.
    public var targetName: String?
    /// The request URL with any password removed.
    public var url: String
    public var method: String
    /// Planned measured requests. A duration run plans rate × duration in the open loop, and 0 in the closed loop
    /// because its count is not known in advance.
    public var requests: Int
    public var concurrency: Int
    public var timeoutSeconds: Double
    /// Failure simulations requested from the service (`X-Simulate-Failure`).
    public var simulate: [String]
    /// Extra request headers; values of credential headers read `<redacted>`.
    public var headers: [(name: String, value: String)]
    /// `built-in` or the prompts file path.
    public var promptSource: String
    public var promptCount: Int
    public var fallbackHeader: String
    public var fallbackField: String
    /// Whether the request carried an API key (never the key itself).
    public var hasAPIKey: Bool
    /// How request bodies were built, whether answers were streamed, and the response checks.
    public var workload = WorkloadSetup()
    /// Closed or open loop, and the run's length and warm-up.
    public var pacing = PacingSetup()

    public init(
        targetName: String? = nil, url: String, method: String, requests: Int, concurrency: Int,
        timeoutSeconds: Double, simulate: [String], headers: [(name: String, value: String)], promptSource: String,
        promptCount: Int, fallbackHeader: String, fallbackField: String, hasAPIKey: Bool
    ) {
        self.targetName = targetName
        self.url = url
        self.method = method
        self.requests = requests
        self.concurrency = concurrency
        self.timeoutSeconds = timeoutSeconds
        self.simulate = simulate
        self.headers = headers
        self.promptSource = promptSource
        self.promptCount = promptCount
        self.fallbackHeader = fallbackHeader
        self.fallbackField = fallbackField
        self.hasAPIKey = hasAPIKey
    }

    public static func == (lhs: RunSetup, rhs: RunSetup) -> Bool {
        lhs.targetName == rhs.targetName && lhs.url == rhs.url && lhs.method == rhs.method
            && lhs.requests == rhs.requests && lhs.concurrency == rhs.concurrency
            && lhs.timeoutSeconds == rhs.timeoutSeconds && lhs.simulate == rhs.simulate
            && lhs.headers.map { "\($0.name): \($0.value)" } == rhs.headers.map { "\($0.name): \($0.value)" }
            && lhs.promptSource == rhs.promptSource && lhs.promptCount == rhs.promptCount
            && lhs.fallbackHeader == rhs.fallbackHeader && lhs.fallbackField == rhs.fallbackField
            && lhs.hasAPIKey == rhs.hasAPIKey && lhs.workload == rhs.workload && lhs.pacing == rhs.pacing
    }
}

/// The pacing part of a run's setup.
public struct PacingSetup: Sendable, Equatable {
    /// Open loop rate in requests per second; nil for the closed loop.
    public var ratePerSecond: Double?
    public var maxInFlight: Int?
    public var durationSeconds: Double?
    public var warmupRequests = 0
    public var warmupSeconds = 0.0

    public init(ratePerSecond: Double? = nil, maxInFlight: Int? = nil, durationSeconds: Double? = nil, warmupRequests: Int = 0, warmupSeconds: Double = 0) {
        self.ratePerSecond = ratePerSecond
        self.maxInFlight = maxInFlight
        self.durationSeconds = durationSeconds
        self.warmupRequests = warmupRequests
        self.warmupSeconds = warmupSeconds
    }

    public var isOpenLoop: Bool { ratePerSecond != nil }
}

/// The workload part of a run's setup.
public struct WorkloadSetup: Sendable, Equatable {
    public var promptOrder = "sequential"
    /// The random order's seed, so a run can be repeated; nil for the sequential order.
    public var seed: UInt64?
    /// `chat`, `prompt objects`, `openai`, `--body` or the body file's path.
    public var body = "chat"
    public var openAIModel: String?
    public var isStreaming = false
    /// Whether `Accept-Encoding` asked for compressed answers.
    public var acceptsCompression = false
    public var streamIdleTimeoutSeconds: Double?
    public var requestIDHeader: String?
    /// Request ids are PREFIX-INDEX, with INDEX counting from 0.
    public var requestIDPrefix: String?
    public var expectedStatus: String?
    public var expectedJSONFields: [String] = []
    public var expectedHeaders: [String] = []

    public init(
        promptOrder: String = "sequential", seed: UInt64? = nil, body: String = "chat", openAIModel: String? = nil,
        isStreaming: Bool = false, acceptsCompression: Bool = false, streamIdleTimeoutSeconds: Double? = nil, requestIDHeader: String? = nil,
        requestIDPrefix: String? = nil, expectedStatus: String? = nil, expectedJSONFields: [String] = [],
        expectedHeaders: [String] = []
    ) {
        self.promptOrder = promptOrder
        self.seed = seed
        self.body = body
        self.openAIModel = openAIModel
        self.isStreaming = isStreaming
        self.acceptsCompression = acceptsCompression
        self.streamIdleTimeoutSeconds = streamIdleTimeoutSeconds
        self.requestIDHeader = requestIDHeader
        self.requestIDPrefix = requestIDPrefix
        self.expectedStatus = expectedStatus
        self.expectedJSONFields = expectedJSONFields
        self.expectedHeaders = expectedHeaders
    }
}

/// A caveat about how far the numbers can be trusted, each with the option that removes it.
public enum ReportWarning: Sendable, Equatable {
    /// Fewer successful requests than a percentile needs to differ from the maximum.
    case fewSamples(count: Int)
    case noSuccess
    case truncatedBodies(count: Int, limitBytes: Int)
    case interrupted(completed: Int, planned: Int?, aborted: Int)
    /// Open loop: requests sent after their due time because the in-flight bound was full.
    case delayedRequests(count: Int, maxInFlight: Int)

    /// Short identifier used in JSON.
    public var code: String {
        switch self {
        case .fewSamples: return "few_samples"
        case .noSuccess: return "no_success"
        case .truncatedBodies: return "truncated_bodies"
        case .interrupted: return "interrupted"
        case .delayedRequests: return "generator_saturated"
        }
    }

    public var message: String {
        switch self {
        case let .fewSamples(count) where count < 20:
            return "only \(count) successful requests: p95 and p99 are the maximum; send at least 100 requests (--requests 100, or a longer --duration) for meaningful tail percentiles"
        case let .fewSamples(count):
            return "only \(count) successful requests: p99 is the maximum; send at least 100 requests (--requests 100, or a longer --duration) for a meaningful p99"
        case .noSuccess:
            return "no request succeeded, so the latency budgets fail without data; check the URL and the error examples above"
        case let .truncatedBodies(count, limitBytes):
            return "\(count) responses were larger than \(limitBytes / 1024) KiB; only their fallback header was checked, not the body field"
        case let .interrupted(completed, planned, aborted):
            let of = planned.map { " of \($0)" } ?? ""
            let inFlight = aborted == 1 ? "1 request in flight was" : "\(aborted) requests in flight were"
            return "interrupted after \(completed)\(of) requests; \(inFlight) aborted and not counted"
        case let .delayedRequests(count, maxInFlight):
            return "\(count) requests were sent late because the in-flight bound (--max-in-flight \(maxInFlight)) was reached; their latency counts from when they were due. Raise --max-in-flight or lower --rate to offer the planned load"
        }
    }
}

/// The full result of a smoke run: what was run, what was measured and each budget's verdict.
public struct SmokeReport: Sendable {
    /// Version of the JSON document's layout; it changes only when a key is removed or changes meaning.
    public static let schemaVersion = 1

    public var setup: RunSetup
    public var summary: MetricsSummary
    public var budgets: [BudgetResult]
    public var startedAt: Date
    public var wasInterrupted: Bool
    public var abortedInFlight: Int
    /// Body bytes kept per response for the fallback check.
    public var maxBodyBytes: Int

    public init(
        setup: RunSetup, summary: MetricsSummary, budgets: [BudgetResult], startedAt: Date,
        wasInterrupted: Bool, abortedInFlight: Int, maxBodyBytes: Int
    ) {
        self.setup = setup
        self.summary = summary
        self.budgets = budgets
        self.startedAt = startedAt
        self.wasInterrupted = wasInterrupted
        self.abortedInFlight = abortedInFlight
        self.maxBodyBytes = maxBodyBytes
    }

    /// True when every budget passed and the run was not interrupted.
    public var passed: Bool { !wasInterrupted && budgets.allSatisfy(\.passed) }

    public var warnings: [ReportWarning] {
        var warnings: [ReportWarning] = []
        if wasInterrupted {
            warnings.append(.interrupted(completed: summary.requests, planned: setup.requests > 0 ? setup.requests : nil, aborted: abortedInFlight))
        }
        if summary.succeeded == 0 && summary.requests > 0 {
            warnings.append(.noSuccess)
        } else if summary.succeeded > 0 && summary.succeeded < 100 {
            warnings.append(.fewSamples(count: summary.succeeded))
        }
        if summary.delayedRequests > 0, let maxInFlight = setup.pacing.maxInFlight {
            warnings.append(.delayedRequests(count: summary.delayedRequests, maxInFlight: maxInFlight))
        }
        if summary.truncatedBodies > 0 {
            warnings.append(.truncatedBodies(count: summary.truncatedBodies, limitBytes: maxBodyBytes))
        }
        return warnings
    }
}

import Foundation
import Measurement

/// A metric that a budget can limit. Raw values are the names used in JSON and storage.
public enum BudgetMetric: String, CaseIterable, Sendable {
    case p50
    case p95
    case p99
    case errorRate = "error_rate"
    case fallbackRate = "fallback_rate"
    /// Time to first token of streamed answers.
    case ttftP50 = "ttft_p50"
    case ttftP95 = "ttft_p95"
    case ttftP99 = "ttft_p99"
    /// Inter-token latency of streamed answers.
    case itlP50 = "itl_p50"
    case itlP95 = "itl_p95"
    case itlP99 = "itl_p99"

    /// `ms` for latencies, `ratio` for rates (a fraction from 0 to 1).
    public var unit: String {
        switch self {
        case .errorRate, .fallbackRate: return "ratio"
        default: return "ms"
        }
    }

    /// Whether the metric exists only for streamed answers.
    public var needsStreaming: Bool {
        switch self {
        case .ttftP50, .ttftP95, .ttftP99, .itlP50, .itlP95, .itlP99: return true
        default: return false
        }
    }

    public var displayName: String {
        switch self {
        case .p50: return "p50 latency"
        case .p95: return "p95 latency"
        case .p99: return "p99 latency"
        case .errorRate: return "error rate"
        case .fallbackRate: return "fallback rate"
        case .ttftP50: return "p50 TTFT"
        case .ttftP95: return "p95 TTFT"
        case .ttftP99: return "p99 TTFT"
        case .itlP50: return "p50 ITL"
        case .itlP95: return "p95 ITL"
        case .itlP99: return "p99 ITL"
        }
    }

    /// The `loadsmoke run` option that sets this budget.
    public var optionName: String {
        switch self {
        case .p50: return "--budget-p50"
        case .p95: return "--budget-p95"
        case .p99: return "--budget-p99"
        case .errorRate: return "--budget-error"
        case .fallbackRate: return "--budget-fallback"
        default: return "--budget-" + rawValue.replacingOccurrences(of: "_", with: "-")
        }
    }

    /// Returns the measured value, or nil when the run has no data for it (no success for latencies, no request for rates).
    public func actual(in summary: MetricsSummary) -> Double? {
        switch self {
        case .p50: return summary.latency?.p50
        case .p95: return summary.latency?.p95
        case .p99: return summary.latency?.p99
        case .errorRate: return summary.requests > 0 ? summary.errorRate : nil
        case .fallbackRate: return summary.requests > 0 ? summary.fallbackRate : nil
        case .ttftP50: return summary.streaming?.timeToFirstToken?.p50
        case .ttftP95: return summary.streaming?.timeToFirstToken?.p95
        case .ttftP99: return summary.streaming?.timeToFirstToken?.p99
        case .itlP50: return summary.streaming?.interTokenLatency?.p50
        case .itlP95: return summary.streaming?.interTokenLatency?.p95
        case .itlP99: return summary.streaming?.interTokenLatency?.p99
        }
    }
}

/// An upper limit on one metric: the run passes the budget when the actual value is at most `limit`.
public struct Budget: Sendable, Equatable {
    public var metric: BudgetMetric
    public var limit: Double

    public init(metric: BudgetMetric, limit: Double) {
        self.metric = metric
        self.limit = limit
    }

    /// The defaults of `loadsmoke run`: p50 800 ms, p95 1500 ms, p99 2500 ms, error rate 0.05, fallback rate 0.30.
    public static let defaults: [Budget] = [
        Budget(metric: .p50, limit: 800),
        Budget(metric: .p95, limit: 1500),
        Budget(metric: .p99, limit: 2500),
        Budget(metric: .errorRate, limit: 0.05),
        Budget(metric: .fallbackRate, limit: 0.30),
    ]
}

/// The verdict of one budget.
public struct BudgetResult: Sendable, Equatable {
    public var metric: BudgetMetric
    /// nil when the run has no data for the metric, which fails the budget.
    public var actual: Double?
    public var limit: Double
    public var passed: Bool

    /// How far the actual value exceeds the limit, in the metric's unit; nil when passed or without data.
    public var overage: Double? {
        guard !passed, let actual else { return nil }
        return actual - limit
    }

    /// Checks every budget against the summary.
    public static func evaluate(_ budgets: [Budget], against summary: MetricsSummary) -> [BudgetResult] {
        budgets.map { budget in
            let actual = budget.metric.actual(in: summary)
            let passed = actual.map { $0 <= budget.limit } ?? false
            return BudgetResult(metric: budget.metric, actual: actual, limit: budget.limit, passed: passed)
        }
    }
}

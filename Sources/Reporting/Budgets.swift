import Measurement

/// A metric that a budget can limit. Raw values are the names used in JSON and storage.
public enum BudgetMetric: String, CaseIterable, Sendable {
    case p50
    case p95
    case p99
    case errorRate = "error_rate"
    case fallbackRate = "fallback_rate"

    /// `ms` for latencies, `ratio` for rates (a fraction from 0 to 1).
    public var unit: String {
        switch self {
        case .p50, .p95, .p99: return "ms"
        case .errorRate, .fallbackRate: return "ratio"
        }
    }

    public var displayName: String {
        switch self {
        case .p50: return "p50 latency"
        case .p95: return "p95 latency"
        case .p99: return "p99 latency"
        case .errorRate: return "error rate"
        case .fallbackRate: return "fallback rate"
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
        }
    }

    /// The measured value, or nil when the run has no data for it (no success for latencies, no request for rates).
    public func actual(in summary: MetricsSummary) -> Double? {
        switch self {
        case .p50: return summary.latency?.p50
        case .p95: return summary.latency?.p95
        case .p99: return summary.latency?.p99
        case .errorRate: return summary.requests > 0 ? summary.errorRate : nil
        case .fallbackRate: return summary.requests > 0 ? summary.fallbackRate : nil
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

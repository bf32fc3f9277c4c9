/// Nearest-rank percentiles: the p-th percentile of n sorted values is the value at rank ceil(p / 100 * n),
/// counting from 1, so it is always one of the observed values (never interpolated).
public enum NearestRank {
    /// The p-th percentile of `sorted`, which must be in ascending order; nil when it is empty.
    /// - Parameter percent: 0 < percent <= 100.
    public static func percentile(_ percent: Double, ofSorted sorted: [Double]) -> Double? {
        guard !sorted.isEmpty else { return nil }
        precondition(percent > 0 && percent <= 100, "percentile out of range: \(percent)")
        let rank = Int((percent / 100 * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }
}

/// Percentiles, mean and extremes of a sample, in the sample's unit.
public struct Distribution: Sendable, Equatable {
    public var count: Int
    public var p50: Double
    public var p95: Double
    public var p99: Double
    public var mean: Double
    public var min: Double
    public var max: Double

    /// nil for an empty sample.
    public init?(_ values: [Double]) {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        count = sorted.count
        p50 = NearestRank.percentile(50, ofSorted: sorted)!
        p95 = NearestRank.percentile(95, ofSorted: sorted)!
        p99 = NearestRank.percentile(99, ofSorted: sorted)!
        mean = sorted.reduce(0, +) / Double(sorted.count)
        min = sorted[0]
        max = sorted[sorted.count - 1]
    }

    public init(count: Int, p50: Double, p95: Double, p99: Double, mean: Double, min: Double, max: Double) {
        self.count = count
        self.p50 = p50
        self.p95 = p95
        self.p99 = p99
        self.mean = mean
        self.min = min
        self.max = max
    }
}

/// Timings in milliseconds that stay exact for small runs and take fixed memory for large ones.
///
/// Every value goes into a `LatencyHistogram`. Up to `exactLimit` values are also kept as recorded, and while they
/// are, percentiles are exact nearest-rank values, equal to `Distribution(values)`. The value after the limit
/// drops the exact values for good, and from then on percentiles come from the histogram (within about 0.05 % of
/// whole-microsecond values, see `LatencyHistogram`). Memory is the histogram's 188_416 bytes plus, while exact,
/// 8 bytes per value and the array's growth reserve.
public struct LatencySamples: Sendable, Equatable {
    /// Values kept exactly by default: 100_000 values take 800_000 bytes.
    public static let defaultExactLimit = 100_000

    /// Maximum number of values kept exactly.
    public let exactLimit: Int
    /// Every recorded value, including the ones kept exactly.
    public private(set) var histogram = LatencyHistogram()
    /// The recorded values in order while there are at most `exactLimit`; nil after that.
    public private(set) var exactValues: [Double]? = []

    /// - Parameter exactLimit: maximum number of values kept exactly; at least 0.
    public init(exactLimit: Int = LatencySamples.defaultExactLimit) {
        precondition(exactLimit >= 0, "exactLimit must be at least 0, got \(exactLimit)")
        self.exactLimit = exactLimit
        if exactLimit == 0 { exactValues = nil }
    }

    /// Number of recorded values.
    public var count: Int { histogram.count }

    /// Whether percentiles are exact: no more than `exactLimit` values were recorded.
    public var isExact: Bool { exactValues != nil }

    /// Records one value in milliseconds. NaN is ignored, as `LatencyHistogram.record(milliseconds:)` does.
    public mutating func record(milliseconds: Double) {
        guard !milliseconds.isNaN else { return }
        histogram.record(milliseconds: milliseconds)
        guard exactValues != nil else { return }
        if histogram.count > exactLimit {
            exactValues = nil
        } else {
            exactValues!.append(milliseconds)
        }
    }

    /// Adds every value recorded in `other`. The exact values stay when both sides are exact and their total fits
    /// this value's `exactLimit`. Otherwise percentiles come from the merged histogram.
    public mutating func merge(_ other: LatencySamples) {
        histogram.merge(other.histogram)
        guard let otherValues = other.exactValues, exactValues != nil, histogram.count <= exactLimit else {
            exactValues = nil
            return
        }
        exactValues!.append(contentsOf: otherValues)
    }

    /// Returns the nearest-rank percentile in milliseconds, exact while `isExact` and else from the histogram, or nil
    /// when empty.
    /// - Parameter percent: 0 < percent <= 100.
    public func percentile(_ percent: Double) -> Double? {
        guard let exactValues else { return histogram.percentile(percent) }
        return NearestRank.percentile(percent, ofSorted: exactValues.sorted())
    }

    /// Returns percentiles, mean and extremes, exact while `isExact` and else from the histogram, or nil when empty.
    public func distribution() -> Distribution? {
        guard let exactValues else { return histogram.distribution() }
        return Distribution(exactValues)
    }
}

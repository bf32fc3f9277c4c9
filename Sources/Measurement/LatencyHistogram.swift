/// A fixed-memory histogram of timings in milliseconds, for runs too large to keep every sample.
///
/// The bucket layout is HdrHistogram's, as the documentation of the Rust `hdrhistogram` crate's `Histogram` describes
/// it. Values are stored as whole microseconds from 0 to 1 hour (3_600_000_000 µs) with 3 significant decimal digits.
/// Bucket 0 counts 0...2047 µs in steps of 1 µs. Each further bucket k covers the next doubling,
/// 1024 · 2^k ... 2048 · 2^k - 1 µs, in 1024 sub-buckets of 2^k µs each. A sub-bucket is therefore never wider than
/// 1/1024 of the values it counts.
///
/// Accuracy: a recorded value is first rounded to whole microseconds (an absolute error of at most 0.5 µs, none for
/// curl's timers, which count whole microseconds). Percentiles between min and max report the midpoint of a
/// sub-bucket, which lies within 1/2048 (about 0.05 %) of every whole-microsecond value in it.
///
/// Memory: the counts array has 23 · 1024 = 23_552 `Int64` entries (188_416 bytes). It is allocated once, in `init`,
/// and never grows. `min`, `max` and the sum behind `mean` are tracked exactly, apart from the bucketed counts.
public struct LatencyHistogram: Sendable, Equatable {
    /// Significant decimal digits kept by every sub-bucket.
    public static let significantDigits = 3
    /// Width of the narrowest sub-buckets (those of bucket 0), in microseconds.
    public static let lowestDiscernibleMicroseconds: Int64 = 1
    /// Largest value counted in its own sub-bucket, in microseconds (1 hour). Larger values are clamped to it.
    public static let highestTrackableMicroseconds: Int64 = 3_600_000_000

    /// Sub-buckets per bucket: 2 · 10^3 rounded up to a power of two.
    static let subBucketCount = 2048
    static let subBucketHalfCount = 1024
    static let subBucketHalfCountMagnitude = 10
    /// Buckets needed until 2048 · 2^(count - 1) exceeds `highestTrackableMicroseconds`: 2048 · 2^21 ≈ 4.3 · 10^9.
    static let bucketCount = 22
    /// Bucket 0 uses all 2048 sub-buckets and every other bucket only its upper 1024.
    static let countsLength = (bucketCount + 1) * subBucketHalfCount

    /// Counts per sub-bucket, indexed by `countsIndex(ofMicroseconds:)`.
    var counts: [Int64]
    var totalCount: Int64 = 0
    /// Values that fell outside 0 µs ... 1 hour and were counted in the lowest or highest sub-bucket.
    var clampedTotal: Int64 = 0
    /// Sum of the recorded values in milliseconds, unrounded.
    var sum: Double = 0
    /// Smallest and largest recorded value in milliseconds; +infinity and -infinity while empty.
    var minimum: Double = .infinity
    var maximum: Double = -.infinity

    /// Creates an empty histogram and allocates its whole counts array (188_416 bytes).
    public init() {
        counts = Array(repeating: 0, count: Self.countsLength)
    }

    /// Number of recorded values, clamped ones included.
    public var count: Int { Int(totalCount) }

    /// Number of recorded values below 0 µs or above 1 hour, counted in the lowest or highest sub-bucket.
    /// `min` and `max` still hold such values exactly.
    public var clampedCount: Int { Int(clampedTotal) }

    /// Smallest recorded value in milliseconds, exact; 0 when empty.
    public var min: Double { totalCount == 0 ? 0 : minimum }

    /// Largest recorded value in milliseconds, exact; 0 when empty.
    public var max: Double { totalCount == 0 ? 0 : maximum }

    /// Sum of the recorded values divided by their count, in milliseconds, exact up to floating-point rounding;
    /// 0 when empty.
    public var mean: Double { totalCount == 0 ? 0 : sum / Double(totalCount) }

    /// Records one value in milliseconds.
    ///
    /// The value is rounded to whole microseconds. A value that rounds below 0 µs is counted at 0 µs and one that
    /// rounds above 1 hour at 1 hour, and both count in `clampedCount`. Infinite values are clamped the same way.
    /// NOTE: NaN is ignored (not counted), because no bucket, minimum or mean can hold it.
    public mutating func record(milliseconds: Double) {
        guard !milliseconds.isNaN else { return }

        let microseconds = (milliseconds * 1000).rounded()
        let storedMicroseconds: Int64
        if microseconds < 0 {
            storedMicroseconds = 0
            clampedTotal += 1
        } else if microseconds > Double(Self.highestTrackableMicroseconds) {
            storedMicroseconds = Self.highestTrackableMicroseconds
            clampedTotal += 1
        } else {
            storedMicroseconds = Int64(microseconds)
        }

        counts[Self.countsIndex(ofMicroseconds: storedMicroseconds)] += 1
        totalCount += 1
        sum += milliseconds
        minimum = Swift.min(minimum, milliseconds)
        maximum = Swift.max(maximum, milliseconds)
    }

    /// Adds every value recorded in `other`, as if both streams had been recorded into this histogram.
    /// Counts, `min`, `max` and `clampedCount` then equal those of one histogram fed both streams. The mean can
    /// differ in its last bits, because the sums are added in another order.
    public mutating func merge(_ other: LatencyHistogram) {
        for index in counts.indices where other.counts[index] != 0 {
            counts[index] += other.counts[index]
        }
        totalCount += other.totalCount
        clampedTotal += other.clampedTotal
        sum += other.sum
        minimum = Swift.min(minimum, other.minimum)
        maximum = Swift.max(maximum, other.maximum)
    }

    /// Returns the nearest-rank percentile in milliseconds, or nil when empty.
    ///
    /// The rank is ceil(percent / 100 · count), counting from 1, as in `NearestRank`. Rank 1 returns `min` and rank
    /// `count` returns `max`, both exact, so p100 is `max` and a single-value histogram returns the value itself.
    /// Any other rank returns the midpoint of the sub-bucket that contains it, clamped into `min ... max`.
    /// - Parameter percent: 0 < percent <= 100.
    public func percentile(_ percent: Double) -> Double? {
        guard totalCount > 0 else { return nil }
        precondition(percent > 0 && percent <= 100, "percentile out of range: \(percent)")

        let rank = Swift.min(Swift.max(Int64((percent / 100 * Double(totalCount)).rounded(.up)), 1), totalCount)
        if rank == 1 { return minimum }
        if rank == totalCount { return maximum }

        var cumulative: Int64 = 0
        var index = 0
        while index < counts.count {
            cumulative += counts[index]
            if cumulative >= rank { break }
            index += 1
        }

        let midpointMilliseconds = Self.midpointMicroseconds(ofIndex: index) / 1000
        return Swift.min(Swift.max(midpointMilliseconds, minimum), maximum)
    }

    /// Returns p50, p95, p99, mean, min and max as `percentile(_:)` and the properties report them, or nil when empty.
    public func distribution() -> Distribution? {
        guard let p50 = percentile(50), let p95 = percentile(95), let p99 = percentile(99) else { return nil }
        return Distribution(count: count, p50: p50, p95: p95, p99: p99, mean: mean, min: min, max: max)
    }

    /// Index into `counts` of a value in 0 ... 2048 · 2^21 - 1 µs.
    static func countsIndex(ofMicroseconds value: Int64) -> Int {
        // The bucket is the number of bits the value has beyond the 11 that bucket 0 covers.
        let bitLength = 64 - (value | Int64(subBucketCount - 1)).leadingZeroBitCount
        let bucketIndex = bitLength - (subBucketHalfCountMagnitude + 1)
        let subBucketIndex = Int(value >> bucketIndex)
        return ((bucketIndex + 1) << subBucketHalfCountMagnitude) + subBucketIndex - subBucketHalfCount
    }

    /// Smallest whole-microsecond value counted at `index`, and the sub-bucket's width in microseconds.
    static func lowestMicrosecondsAndWidth(ofIndex index: Int) -> (lowest: Int64, width: Int64) {
        var bucketIndex = (index >> subBucketHalfCountMagnitude) - 1
        var subBucketIndex = (index & (subBucketHalfCount - 1)) + subBucketHalfCount
        if bucketIndex < 0 {
            // Bucket 0 also uses its lower half, which the index formula places before bucket 1's upper half.
            subBucketIndex -= subBucketHalfCount
            bucketIndex = 0
        }
        return (Int64(subBucketIndex) << bucketIndex, Int64(1) << bucketIndex)
    }

    /// Midpoint of the whole-microsecond values counted at `index`, in microseconds.
    static func midpointMicroseconds(ofIndex index: Int) -> Double {
        let (lowest, width) = lowestMicrosecondsAndWidth(ofIndex: index)
        return Double(lowest) + Double(width - 1) / 2
    }
}

@testable import Measurement
import XCTest

final class LatencyHistogramTests: XCTestCase {
    /// Relative error of a sub-bucket midpoint against any whole-microsecond value in the sub-bucket.
    private let relativeBound = 1.0 / 2048

    private func histogram(of values: [Double]) -> LatencyHistogram {
        var histogram = LatencyHistogram()
        for value in values { histogram.record(milliseconds: value) }
        return histogram
    }

    func testPercentilesWithinBoundOfExactRanks() throws {
        let values = TestLatencies.wholeMicroseconds(count: 100_000, seed: 1)
        let sorted = values.sorted()
        let histogram = histogram(of: values)

        for percent in TestLatencies.percents {
            let exact = try XCTUnwrap(NearestRank.percentile(percent, ofSorted: sorted))
            let reported = try XCTUnwrap(histogram.percentile(percent))
            let error = abs(reported - exact) / exact
            XCTAssertLessThanOrEqual(error, relativeBound, "p\(percent): reported \(reported) ms, exact \(exact) ms")
        }
    }

    func testFractionalMicrosecondsWithinHalfMicrosecond() throws {
        let values = TestLatencies.fractionalMicroseconds(count: 100_000, seed: 2)
        let sorted = values.sorted()
        let histogram = histogram(of: values)

        for percent in TestLatencies.percents {
            let exact = try XCTUnwrap(NearestRank.percentile(percent, ofSorted: sorted))
            let reported = try XCTUnwrap(histogram.percentile(percent))
            // Rounding to whole microseconds adds an absolute error of at most 0.5 µs to the relative one.
            let bound = 0.0005 + (exact + 0.0005) * relativeBound
            XCTAssertLessThanOrEqual(abs(reported - exact), bound * (1 + 1e-12), "p\(percent): exact \(exact) ms")
        }
    }

    func testSingleValueIsEveryPercentile() {
        let histogram = histogram(of: [123.4567])
        XCTAssertEqual(histogram.percentile(1), 123.4567)
        XCTAssertEqual(histogram.percentile(50), 123.4567)
        XCTAssertEqual(histogram.percentile(100), 123.4567)
    }

    func testMinMaxAndMeanAreExact() {
        let histogram = histogram(of: [10.0001, 2_000.5, 0.0123, 77])
        XCTAssertEqual(histogram.min, 0.0123)
        XCTAssertEqual(histogram.max, 2_000.5)
        XCTAssertEqual(histogram.mean, (10.0001 + 2_000.5 + 0.0123 + 77) / 4)
        XCTAssertEqual(histogram.count, 4)
    }

    func testHundredthPercentileIsMax() {
        let values = TestLatencies.fractionalMicroseconds(count: 1_000, seed: 3)
        XCTAssertEqual(histogram(of: values).percentile(100), values.max())
    }

    func testMidpointIsClampedIntoMinMax() {
        // 5000 µs and 5001 µs share the 4 µs wide sub-bucket 5000...5003, whose midpoint 5001.5 µs exceeds max.
        let histogram = histogram(of: [5, 5.001, 5.001])
        XCTAssertEqual(histogram.percentile(50), 5.001)
    }

    func testInteriorRankIsSubBucketMidpoint() {
        // 8000 µs lies in the 4 µs wide sub-bucket 8000...8003, whose midpoint is 8001.5 µs.
        let histogram = histogram(of: [1, 8, 8, 8, 9])
        XCTAssertEqual(histogram.percentile(50), 8.0015)
    }

    func testValueAboveOneHourIsClamped() throws {
        let twoHours = 7_200_000.0
        let histogram = histogram(of: [5, twoHours])
        XCTAssertEqual(histogram.clampedCount, 1)
        XCTAssertEqual(histogram.max, twoHours)
        XCTAssertEqual(histogram.percentile(100), twoHours)
        XCTAssertEqual(histogram.percentile(50), 5)
    }

    func testClampedValueInHighestSubBucket() throws {
        let histogram = histogram(of: [7_200_000, 3_600_000])
        let highestIndex = LatencyHistogram.countsIndex(ofMicroseconds: LatencyHistogram.highestTrackableMicroseconds)
        XCTAssertEqual(histogram.counts[highestIndex], 2)
    }

    func testNegativeValueIsClamped() {
        let histogram = histogram(of: [-1, 3])
        XCTAssertEqual(histogram.clampedCount, 1)
        XCTAssertEqual(histogram.min, -1)
        XCTAssertEqual(histogram.counts[0], 1)
        XCTAssertEqual(histogram.percentile(50), -1, "rank 1 is the exact min")
    }

    func testInfinityIsClamped() {
        let histogram = histogram(of: [.infinity, 1])
        XCTAssertEqual(histogram.clampedCount, 1)
        XCTAssertEqual(histogram.count, 2)
        XCTAssertEqual(histogram.max, .infinity)
    }

    func testZeroIsNotClamped() {
        let histogram = histogram(of: [0, 0])
        XCTAssertEqual(histogram.clampedCount, 0)
        XCTAssertEqual(histogram.percentile(50), 0)
    }

    func testNaNIsIgnored() {
        let histogram = histogram(of: [.nan, 4])
        XCTAssertEqual(histogram.count, 1)
        XCTAssertEqual(histogram.mean, 4)
    }

    func testEmptyHistogramHasNoPercentile() {
        let histogram = LatencyHistogram()
        XCTAssertNil(histogram.percentile(50))
        XCTAssertNil(histogram.distribution())
        XCTAssertEqual(histogram.count, 0)
        XCTAssertEqual(histogram.min, 0)
        XCTAssertEqual(histogram.max, 0)
        XCTAssertEqual(histogram.mean, 0)
    }

    func testDistributionUsesPercentiles() throws {
        let histogram = histogram(of: TestLatencies.wholeMicroseconds(count: 10_000, seed: 4))
        let distribution = try XCTUnwrap(histogram.distribution())
        XCTAssertEqual(distribution.count, 10_000)
        XCTAssertEqual(distribution.p50, histogram.percentile(50))
        XCTAssertEqual(distribution.p95, histogram.percentile(95))
        XCTAssertEqual(distribution.p99, histogram.percentile(99))
        XCTAssertEqual(distribution.mean, histogram.mean)
        XCTAssertEqual(distribution.min, histogram.min)
        XCTAssertEqual(distribution.max, histogram.max)
    }

    func testMergeEqualsOneHistogramFedBothStreams() {
        // Whole milliseconds keep every sum exact, so the merged sum equals the sequential one.
        var generator = SeededGenerator(seed: 5)
        let first = (0..<5_000).map { _ in Double(Int.random(in: 0...3_600_000, using: &generator)) }
        let second = (0..<7_000).map { _ in Double(Int.random(in: 0...100, using: &generator)) } + [-3, 9_000_000]

        var merged = histogram(of: first)
        merged.merge(histogram(of: second))
        XCTAssertEqual(merged, histogram(of: first + second))
        XCTAssertEqual(merged.clampedCount, 2)
    }

    func testMergeOfFractionalValuesKeepsCounts() {
        let first = TestLatencies.fractionalMicroseconds(count: 20_000, seed: 6)
        let second = TestLatencies.fractionalMicroseconds(count: 30_000, seed: 7)
        let combined = histogram(of: first + second)

        var merged = histogram(of: first)
        merged.merge(histogram(of: second))
        XCTAssertEqual(merged.counts, combined.counts)
        XCTAssertEqual(merged.count, combined.count)
        XCTAssertEqual(merged.min, combined.min)
        XCTAssertEqual(merged.max, combined.max)
        XCTAssertEqual(merged.mean, combined.mean, accuracy: combined.mean * 1e-12)
    }

    func testMergeWithEmptyChangesNothing() {
        let original = histogram(of: [1, 2, 3])
        var merged = original
        merged.merge(LatencyHistogram())
        XCTAssertEqual(merged, original)
    }

    func testCountsArraySizeIsFixed() {
        var histogram = LatencyHistogram()
        let capacity = histogram.counts.capacity
        XCTAssertEqual(histogram.counts.count, 23_552)

        var generator = SeededGenerator(seed: 8)
        for _ in 0..<1_000_000 {
            histogram.record(milliseconds: Double.random(in: 0...4_000_000, using: &generator))
        }
        XCTAssertEqual(histogram.count, 1_000_000)
        XCTAssertEqual(histogram.counts.count, 23_552)
        XCTAssertEqual(histogram.counts.capacity, capacity)
    }

    func testOneHourFallsInLastBucket() {
        let index = LatencyHistogram.countsIndex(ofMicroseconds: LatencyHistogram.highestTrackableMicroseconds)
        XCTAssertLessThan(index, LatencyHistogram.countsLength)
        XCTAssertGreaterThanOrEqual(index, LatencyHistogram.countsLength - LatencyHistogram.subBucketHalfCount)
    }

    func testIndexOfBucketBoundaries() {
        XCTAssertEqual(LatencyHistogram.countsIndex(ofMicroseconds: 0), 0)
        XCTAssertEqual(LatencyHistogram.countsIndex(ofMicroseconds: 2_047), 2_047)
        XCTAssertEqual(LatencyHistogram.countsIndex(ofMicroseconds: 2_048), 2_048)
        XCTAssertEqual(LatencyHistogram.countsIndex(ofMicroseconds: 2_049), 2_048)
        XCTAssertEqual(LatencyHistogram.countsIndex(ofMicroseconds: 4_095), 3_071)
        XCTAssertEqual(LatencyHistogram.countsIndex(ofMicroseconds: 4_096), 3_072)
    }

    func testEverySubBucketMapsBackToItsIndex() {
        for index in 0..<LatencyHistogram.countsLength {
            let (lowest, width) = LatencyHistogram.lowestMicrosecondsAndWidth(ofIndex: index)
            XCTAssertEqual(LatencyHistogram.countsIndex(ofMicroseconds: lowest), index)
            XCTAssertEqual(LatencyHistogram.countsIndex(ofMicroseconds: lowest + width - 1), index)
            XCTAssertEqual(LatencyHistogram.countsIndex(ofMicroseconds: lowest + width), index + 1)
            if index >= LatencyHistogram.subBucketCount {
                XCTAssertLessThanOrEqual(width * 1024, lowest, "sub-bucket \(index) is wider than 1/1024 of its values")
            }
        }
    }
}

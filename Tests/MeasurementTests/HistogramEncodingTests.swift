@testable import Measurement
import XCTest

final class HistogramEncodingTests: XCTestCase {
    private func histogram(of values: [Double]) -> LatencyHistogram {
        var histogram = LatencyHistogram()
        for value in values { histogram.record(milliseconds: value) }
        return histogram
    }

    /// Fifty latencies as a small smoke run produces them: 20 to 900 ms in whole microseconds.
    private func fiftyRequestRun() -> LatencyHistogram {
        var generator = SeededGenerator(seed: 11)
        return histogram(of: (0..<50).map { _ in Double(Int.random(in: 20_000...900_000, using: &generator)) / 1000 })
    }

    func testEmptyHistogramRoundTrip() throws {
        let original = LatencyHistogram()
        XCTAssertEqual(try LatencyHistogram(decoding: original.encoded()), original)
    }

    func testSingleValueRoundTrip() throws {
        let original = histogram(of: [42.123])
        let decoded = try LatencyHistogram(decoding: original.encoded())
        XCTAssertEqual(decoded, original)
        XCTAssertEqual(decoded.percentile(50), 42.123)
    }

    func testRandomValuesRoundTrip() throws {
        let original = histogram(of: TestLatencies.fractionalMicroseconds(count: 100_000, seed: 12) + [-2, 9_000_000])
        let decoded = try LatencyHistogram(decoding: original.encoded())
        XCTAssertEqual(decoded, original)
        XCTAssertEqual(decoded.clampedCount, 2)
    }

    func testFiftyRequestRunEncodesSmall() {
        XCTAssertLessThanOrEqual(fiftyRequestRun().encoded().count, 250)
    }

    func testEmptyHistogramEncodesHeaderOnly() {
        XCTAssertEqual(LatencyHistogram().encoded().count, 39)
    }

    func testFirstByteIsVersion() {
        XCTAssertEqual(LatencyHistogram().encoded().first, 1)
    }

    func testWrongVersionIsRejected() {
        var blob = fiftyRequestRun().encoded()
        blob[0] = 2
        XCTAssertThrowsError(try LatencyHistogram(decoding: blob)) { error in
            XCTAssertEqual(error as? HistogramDecodingError, .unsupportedVersion(2))
        }
    }

    func testOtherLayoutIsRejected() {
        var blob = fiftyRequestRun().encoded()
        blob[1] = 2
        XCTAssertThrowsError(try LatencyHistogram(decoding: blob)) { error in
            XCTAssertEqual(
                error as? HistogramDecodingError,
                .unsupportedLayout(significantDigits: 2, lowestMicroseconds: 1, highestMicroseconds: 3_600_000_000)
            )
        }
    }

    func testEmptyBlobIsRejected() {
        XCTAssertThrowsError(try LatencyHistogram(decoding: [])) { error in
            XCTAssertEqual(error as? HistogramDecodingError, .truncated(length: 0))
        }
    }

    func testEveryTruncationIsRejected() {
        let blob = fiftyRequestRun().encoded()
        for length in 0..<blob.count {
            XCTAssertThrowsError(try LatencyHistogram(decoding: Array(blob[0..<length])), "prefix of \(length) bytes")
        }
    }

    func testTruncatedChecksumIsReportedAsTruncated() {
        let blob = fiftyRequestRun().encoded()
        XCTAssertThrowsError(try LatencyHistogram(decoding: Array(blob.dropLast(2)))) { error in
            XCTAssertEqual(error as? HistogramDecodingError, .truncated(length: blob.count - 2))
        }
    }

    func testTrailingByteIsRejected() {
        XCTAssertThrowsError(try LatencyHistogram(decoding: fiftyRequestRun().encoded() + [0])) { error in
            XCTAssertEqual(error as? HistogramDecodingError, .trailingBytes(count: 1))
        }
    }

    func testEveryFlippedByteIsRejected() {
        let blob = fiftyRequestRun().encoded()
        for offset in blob.indices {
            var corrupted = blob
            corrupted[offset] ^= 0x10
            XCTAssertThrowsError(try LatencyHistogram(decoding: corrupted), "flipped bit in byte \(offset)")
        }
    }

    func testFlippedCountIsChecksumMismatch() {
        var blob = fiftyRequestRun().encoded()
        // Byte 8 is the count varint, 50, which stays a one-byte varint when bit 0 flips.
        blob[8] ^= 0x01
        XCTAssertThrowsError(try LatencyHistogram(decoding: blob)) { error in
            guard case .checksumMismatch? = error as? HistogramDecodingError else {
                return XCTFail("expected a checksum mismatch, got \(error)")
            }
        }
    }

    func testOverlongVarintIsRejected() {
        var blob = LatencyHistogram().encoded()
        // Replace the count (byte 8) with 11 continuation bytes.
        blob.replaceSubrange(8...8, with: Array(repeating: 0xFF, count: 11))
        XCTAssertThrowsError(try LatencyHistogram(decoding: blob)) { error in
            XCTAssertEqual(error as? HistogramDecodingError, .invalidVarint(offset: 8))
        }
    }

    func testDecodingErrorNamesValueAndFix() {
        let message = HistogramDecodingError.unsupportedVersion(7).description
        XCTAssertTrue(message.contains("version 7"), message)
        XCTAssertTrue(message.contains("reads version 1"), message)
    }

    func testCRC32CheckValue() {
        XCTAssertEqual(CRC32.checksum(of: Array("123456789".utf8)), 0xCBF4_3926)
    }
}

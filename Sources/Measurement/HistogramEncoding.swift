/// Compact binary form of a `LatencyHistogram`, for storing a run's histogram in one SQLite blob.
///
/// Layout of version 1 (varints are unsigned LEB128, fixed-width fields little-endian):
///
///     UInt8    version, 1
///     UInt8    significant digits, 3
///     varint   lowest discernible value in µs, 1
///     varint   highest trackable value in µs, 3_600_000_000
///     varint   count
///     varint   clamped count
///     8 bytes  min, 8 bytes max, 8 bytes sum: IEEE 754 bit patterns of the millisecond values
///     varint   number of non-zero sub-buckets
///     per non-zero sub-bucket, in index order:
///       varint   zero sub-buckets skipped since the previous non-zero one (or since index 0)
///       varint   count
///     4 bytes  CRC-32 (IEEE 802.3 polynomial, as in zlib) of every byte before it
///
/// Size: 39 bytes of header and checksum (a few more for counts of 128 or more), plus 2 to 4 bytes per non-zero
/// sub-bucket, so 50 values take at most 239 bytes. Measured: 145 bytes for 50 values spread over 20...900 ms,
/// about 44 KB for 10^5 values spread log-uniformly over 1 µs...1 h (16_000 non-zero sub-buckets).
extension LatencyHistogram {
    /// Version byte written by `encoded()`, and the only one `init(decoding:)` accepts.
    public static let encodingVersion: UInt8 = 1

    /// Encodes the histogram in the version 1 layout. `init(decoding:)` restores an equal histogram.
    public func encoded() -> [UInt8] {
        var writer = ByteWriter()
        writer.bytes.append(Self.encodingVersion)
        writer.bytes.append(UInt8(Self.significantDigits))
        writer.appendVarint(UInt64(Self.lowestDiscernibleMicroseconds))
        writer.appendVarint(UInt64(Self.highestTrackableMicroseconds))
        writer.appendVarint(UInt64(totalCount))
        writer.appendVarint(UInt64(clampedTotal))
        writer.appendFixed(minimum.bitPattern)
        writer.appendFixed(maximum.bitPattern)
        writer.appendFixed(sum.bitPattern)

        let nonZeroIndices = counts.indices.filter { counts[$0] != 0 }
        writer.appendVarint(UInt64(nonZeroIndices.count))
        var nextIndex = 0
        for index in nonZeroIndices {
            writer.appendVarint(UInt64(index - nextIndex))
            writer.appendVarint(UInt64(counts[index]))
            nextIndex = index + 1
        }

        writer.appendFixed(CRC32.checksum(of: writer.bytes))
        return writer.bytes
    }

    /// Decodes a histogram written by `encoded()`.
    /// - Throws: `HistogramDecodingError` when the blob has another version or layout, is truncated, carries
    ///   trailing bytes, is inconsistent, or fails its checksum.
    public init(decoding blob: [UInt8]) throws {
        var reader = ByteReader(bytes: blob)

        let version = try reader.readByte()
        guard version == Self.encodingVersion else { throw HistogramDecodingError.unsupportedVersion(version) }
        let significantDigits = try reader.readByte()
        let lowest = try reader.readVarint()
        let highest = try reader.readVarint()
        guard significantDigits == Self.significantDigits,
              lowest == Self.lowestDiscernibleMicroseconds,
              highest == Self.highestTrackableMicroseconds
        else {
            throw HistogramDecodingError.unsupportedLayout(
                significantDigits: Int(significantDigits), lowestMicroseconds: lowest, highestMicroseconds: highest
            )
        }

        self.init()
        totalCount = try reader.readCount()
        clampedTotal = try reader.readCount()
        minimum = Double(bitPattern: try reader.readFixed(UInt64.self))
        maximum = Double(bitPattern: try reader.readFixed(UInt64.self))
        sum = Double(bitPattern: try reader.readFixed(UInt64.self))

        let nonZeroCount = try reader.readVarint()
        guard nonZeroCount <= UInt64(Self.countsLength) else {
            throw HistogramDecodingError.bucketIndexOutOfRange(nonZeroCount)
        }
        var nextIndex: UInt64 = 0
        var bucketTotal: Int64 = 0
        for _ in 0..<nonZeroCount {
            let (index, overflow) = nextIndex.addingReportingOverflow(try reader.readVarint())
            guard !overflow, index < UInt64(Self.countsLength) else {
                throw HistogramDecodingError.bucketIndexOutOfRange(index)
            }
            let count = try reader.readCount()
            counts[Int(index)] = count
            bucketTotal = bucketTotal.addingReportingOverflow(count).partialValue
            nextIndex = index + 1
        }

        // Checked before the totals, so that a corrupted byte is reported as such.
        let checkedLength = reader.offset
        let storedChecksum = try reader.readFixed(UInt32.self)
        guard reader.offset == blob.count else {
            throw HistogramDecodingError.trailingBytes(count: blob.count - reader.offset)
        }
        let computedChecksum = CRC32.checksum(of: blob[0..<checkedLength])
        guard storedChecksum == computedChecksum else {
            throw HistogramDecodingError.checksumMismatch(stored: storedChecksum, computed: computedChecksum)
        }
        guard bucketTotal == totalCount else {
            throw HistogramDecodingError.countMismatch(count: totalCount, bucketTotal: bucketTotal)
        }
    }
}

/// Why `LatencyHistogram(decoding:)` rejected a blob.
public enum HistogramDecodingError: Error, Equatable, CustomStringConvertible {
    /// The first byte names a version that this build cannot read.
    case unsupportedVersion(UInt8)
    /// The blob's parameters describe another bucket layout.
    case unsupportedLayout(significantDigits: Int, lowestMicroseconds: UInt64, highestMicroseconds: UInt64)
    /// The blob ended inside a field; `length` is the blob's size in bytes.
    case truncated(length: Int)
    /// A varint ran past 10 bytes or 64 bits, starting at byte `offset`.
    case invalidVarint(offset: Int)
    /// A sub-bucket index, or the number of sub-buckets, is beyond the layout's 23_552 sub-buckets.
    case bucketIndexOutOfRange(UInt64)
    /// A count does not fit in `Int64`.
    case countOutOfRange(UInt64)
    /// Bytes follow the checksum.
    case trailingBytes(count: Int)
    /// The stored CRC-32 differs from the one computed over the blob.
    case checksumMismatch(stored: UInt32, computed: UInt32)
    /// The sub-bucket counts do not add up to the stored count.
    case countMismatch(count: Int64, bucketTotal: Int64)

    public var description: String {
        let fix = "the stored histogram is unusable, so record the run again"
        switch self {
        case .unsupportedVersion(let version):
            return "unsupported histogram encoding version \(version): this build reads version "
                + "\(LatencyHistogram.encodingVersion), so read it with the loadsmoke version that wrote it"
        case .unsupportedLayout(let digits, let lowest, let highest):
            return "unsupported histogram layout: \(digits) significant digits, \(lowest) µs to \(highest) µs "
                + "(expected \(LatencyHistogram.significantDigits) digits, "
                + "\(LatencyHistogram.lowestDiscernibleMicroseconds) µs to "
                + "\(LatencyHistogram.highestTrackableMicroseconds) µs), so read it with the loadsmoke version that wrote it"
        case .truncated(let length):
            return "histogram blob truncated: it ends inside a field after \(length) bytes; \(fix)"
        case .invalidVarint(let offset):
            return "invalid varint at byte \(offset) of the histogram blob: longer than 64 bits; \(fix)"
        case .bucketIndexOutOfRange(let index):
            return "histogram sub-bucket index \(index) out of range (0 to \(LatencyHistogram.countsLength - 1)); \(fix)"
        case .countOutOfRange(let count):
            return "histogram count \(count) out of range (at most \(Int64.max)); \(fix)"
        case .trailingBytes(let count):
            return "histogram blob has \(count) unexpected bytes after its checksum; \(fix)"
        case .checksumMismatch(let stored, let computed):
            return "histogram blob checksum mismatch: stored CRC-32 \(stored), computed \(computed), "
                + "so the blob is corrupted; \(fix)"
        case .countMismatch(let count, let bucketTotal):
            return "histogram blob inconsistent: count \(count) but sub-bucket counts add up to \(bucketTotal); \(fix)"
        }
    }
}

/// Appends the encoding's fields to a byte array.
private struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func appendVarint(_ value: UInt64) {
        var remaining = value
        while remaining >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: remaining) | 0x80)
            remaining >>= 7
        }
        bytes.append(UInt8(remaining))
    }

    mutating func appendFixed<Value: FixedWidthInteger>(_ value: Value) {
        var remaining = value.littleEndian
        withUnsafeBytes(of: &remaining) { bytes.append(contentsOf: $0) }
    }
}

/// Reads the encoding's fields from a byte array, throwing `HistogramDecodingError` at the first problem.
private struct ByteReader {
    let bytes: [UInt8]
    var offset = 0

    mutating func readByte() throws -> UInt8 {
        guard offset < bytes.count else { throw HistogramDecodingError.truncated(length: bytes.count) }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func readVarint() throws -> UInt64 {
        let start = offset
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try readByte()
            // The 10th byte may carry only the 64th bit.
            guard shift < 63 || (shift == 63 && byte <= 1) else {
                throw HistogramDecodingError.invalidVarint(offset: start)
            }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
    }

    mutating func readCount() throws -> Int64 {
        let value = try readVarint()
        guard value <= UInt64(Int64.max) else { throw HistogramDecodingError.countOutOfRange(value) }
        return Int64(value)
    }

    mutating func readFixed<Value: FixedWidthInteger>(_ type: Value.Type) throws -> Value {
        let size = MemoryLayout<Value>.size
        guard bytes.count - offset >= size else { throw HistogramDecodingError.truncated(length: bytes.count) }
        var value: Value = 0
        for byteIndex in 0..<size {
            value |= Value(bytes[offset + byteIndex]) << (8 * byteIndex)
        }
        offset += size
        return value
    }
}

/// CRC-32 with the IEEE 802.3 polynomial (reflected 0xEDB88320, initial value and final XOR 0xFFFFFFFF), as zlib's
/// `crc32()` computes it. Its check value, over the ASCII bytes "123456789", is 0xCBF43926.
enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { entry in
        var remainder = UInt32(entry)
        for _ in 0..<8 {
            remainder = remainder & 1 == 1 ? (remainder >> 1) ^ 0xEDB8_8320 : remainder >> 1
        }
        return remainder
    }

    static func checksum<Bytes: Sequence>(of bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
        }
        return crc ^ 0xFFFF_FFFF
    }
}

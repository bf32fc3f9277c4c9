/// Combined stdout and stderr of an alert command: the first `limit` bytes, plus a count of the bytes dropped after them.
struct AlertOutputBuffer {
    let limit: Int
    private(set) var keptBytes: [UInt8] = []
    private(set) var droppedByteCount = 0

    init(limit: Int) {
        self.limit = max(0, limit)
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        let room = limit - keptBytes.count
        let keptCount = min(room, bytes.count)
        if keptCount > 0 {
            keptBytes.append(contentsOf: bytes[0..<keptCount])
        }
        droppedByteCount += bytes.count - keptCount
    }

    /// Kept bytes as lossy UTF-8. When bytes were dropped, the text ends at the last complete UTF-8 sequence, and a
    /// marker such as `"\n[... 12345 more bytes]"` gives the number of bytes left out, including a split sequence.
    func text() -> String {
        guard droppedByteCount > 0 else {
            return String(decoding: keptBytes, as: UTF8.self)
        }
        let completeCount = Self.lengthOfCompleteSequences(in: keptBytes)
        let omittedCount = droppedByteCount + keptBytes.count - completeCount
        let unit = omittedCount == 1 ? "byte" : "bytes"
        return String(decoding: keptBytes[0..<completeCount], as: UTF8.self) + "\n[... \(omittedCount) more \(unit)]"
    }

    /// Returns `bytes.count` minus the bytes of a UTF-8 sequence that the cut left incomplete at the end.
    static func lengthOfCompleteSequences(in bytes: [UInt8]) -> Int {
        // A sequence has at most 4 bytes, so its lead byte is among the last 4.
        var index = bytes.count - 1
        while index >= 0 && index >= bytes.count - 4 && bytes[index] & 0b1100_0000 == 0b1000_0000 {
            index -= 1
        }
        guard index >= 0 else { return bytes.count }

        let lead = bytes[index]
        let expectedLength: Int
        if lead & 0b1110_0000 == 0b1100_0000 {
            expectedLength = 2
        } else if lead & 0b1111_0000 == 0b1110_0000 {
            expectedLength = 3
        } else if lead & 0b1111_1000 == 0b1111_0000 {
            expectedLength = 4
        } else {
            // The last sequence is ASCII or invalid UTF-8, so nothing is trimmed and lossy decoding replaces the latter.
            return bytes.count
        }
        return index + expectedLength > bytes.count ? index : bytes.count
    }
}

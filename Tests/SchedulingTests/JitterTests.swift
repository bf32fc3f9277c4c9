import Scheduling
import XCTest

final class JitterTests: XCTestCase {
    func testOffsetForKeyStaysInBounds() throws {
        let jitter = try Jitter(maximumSeconds: 30)
        for index in 0..<1000 {
            let offset = jitter.offset(forKey: "target-\(index)")
            XCTAssertGreaterThanOrEqual(offset, 0)
            XCTAssertLessThan(offset, 30)
        }
    }

    func testOffsetForKeyIsStable() throws {
        let jitter = try Jitter(maximumSeconds: 30)
        XCTAssertEqual(jitter.offset(forKey: "chat-api"), jitter.offset(forKey: "chat-api"))
        XCTAssertEqual(try Jitter(maximumSeconds: 30).offset(forKey: "chat-api"), jitter.offset(forKey: "chat-api"))
    }

    func testOffsetsSpreadAcrossKeys() throws {
        let jitter = try Jitter(maximumSeconds: 60)
        let offsets = (0..<100).map { jitter.offset(forKey: "target-\($0)") }
        XCTAssertEqual(Set(offsets).count, 100)
        XCTAssertLessThan(offsets.min() ?? 60, 10)
        XCTAssertGreaterThan(offsets.max() ?? 0, 50)
    }

    func testStableHashMatchesFNV1aVectors() {
        XCTAssertEqual(Jitter.stableHash(of: ""), 0xcbf2_9ce4_8422_2325)
        XCTAssertEqual(Jitter.stableHash(of: "a"), 0xaf63_dc4c_8601_ec8c)
        XCTAssertEqual(Jitter.stableHash(of: "foobar"), 0x8594_4171_f739_67e8)
    }

    func testRandomOffsetStaysInBounds() throws {
        let jitter = try Jitter(maximumSeconds: 5)
        var generator = SplitMix64(seed: 42)
        for _ in 0..<1000 {
            let offset = jitter.offset(using: &generator)
            XCTAssertGreaterThanOrEqual(offset, 0)
            XCTAssertLessThan(offset, 5)
        }
    }

    func testRandomOffsetBelowMaximumForLargestDraw() throws {
        var generator = ConstantGenerator(value: .max)
        XCTAssertLessThan(try Jitter(maximumSeconds: 5).offset(using: &generator), 5)
    }

    func testZeroMaximumGivesNoDelay() throws {
        let jitter = try Jitter(maximumSeconds: 0)
        XCTAssertEqual(jitter.offset(forKey: "chat-api"), 0)
    }

    func testErrorForNegativeMaximum() {
        XCTAssertThrowsError(try Jitter(maximumSeconds: -1)) { error in
            XCTAssertEqual(
                (error as? ScheduleError)?.description, "invalid jitter -1.0: must be a duration of 0 seconds or more"
            )
        }
    }

    func testErrorForInfiniteMaximum() {
        XCTAssertThrowsError(try Jitter(maximumSeconds: .infinity))
        XCTAssertThrowsError(try Jitter(maximumSeconds: .nan))
    }
}

/// Seeded generator so that random draws repeat between runs (SplitMix64 by Sebastiano Vigna).
private struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xbf58_476d_1ce4_e5b9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94d0_49bb_1331_11eb
        return mixed ^ (mixed >> 31)
    }
}

private struct ConstantGenerator: RandomNumberGenerator {
    let value: UInt64

    mutating func next() -> UInt64 { value }
}

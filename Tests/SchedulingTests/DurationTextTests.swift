import Scheduling
import XCTest

final class DurationTextTests: XCTestCase {
    func testParseEachUnit() throws {
        XCTAssertEqual(try DurationText.parse("250ms"), 0.25)
        XCTAssertEqual(try DurationText.parse("30s"), 30)
        XCTAssertEqual(try DurationText.parse("5m"), 300)
        XCTAssertEqual(try DurationText.parse("2h"), 7200)
        XCTAssertEqual(try DurationText.parse("1d"), 86_400)
    }

    func testParseDecimal() throws {
        XCTAssertEqual(try DurationText.parse("1.5h"), 5400)
        XCTAssertEqual(try DurationText.parse("0.5s"), 0.5)
        XCTAssertEqual(try DurationText.parse("1.5ms"), 0.0015)
    }

    func testParseCombination() throws {
        XCTAssertEqual(try DurationText.parse("1h30m"), 5400)
        XCTAssertEqual(try DurationText.parse("1d2h3m4s5ms"), 86_400 + 7200 + 180 + 4 + 0.005)
    }

    func testParseIgnoresSurroundingWhitespace() throws {
        XCTAssertEqual(try DurationText.parse(" 10s\n"), 10)
    }

    func testParseZeroWhenAllowed() throws {
        XCTAssertEqual(try DurationText.parse("0s", allowsZero: true), 0)
        XCTAssertEqual(try DurationText.parse("0m0s", allowsZero: true), 0)
    }

    func testErrorForZeroByDefault() {
        assertDurationError("0s", #"invalid duration "0s": must be greater than zero"#)
        assertDurationError("0.0ms", #"invalid duration "0.0ms": must be greater than zero"#)
    }

    func testErrorForEmpty() {
        let expected = #"invalid duration "": empty; expected a number followed by a unit (ms, s, m, h, d), such as 30s or 1h30m"#
        assertDurationError("", expected)
        assertDurationError("", expected, allowsZero: true)
    }

    func testErrorForNegative() {
        assertDurationError("-5s", #"invalid duration "-5s": must not be negative"#)
    }

    func testErrorForMissingUnit() {
        assertDurationError("30", #"invalid duration "30": missing unit after 30; accepted units: ms, s, m, h, d"#)
        assertDurationError("1h30", #"invalid duration "1h30": missing unit after 30; accepted units: ms, s, m, h, d"#)
    }

    func testErrorForUnknownUnit() {
        assertDurationError("5x", #"invalid duration "5x": unknown unit "x"; accepted units: ms, s, m, h, d"#)
        assertDurationError("5sec", #"invalid duration "5sec": unknown unit "sec"; accepted units: ms, s, m, h, d"#)
        assertDurationError("5M", #"invalid duration "5M": unknown unit "M"; accepted units: ms, s, m, h, d"#)
        assertDurationError("5 s", #"invalid duration "5 s": unknown unit " s"; accepted units: ms, s, m, h, d"#)
    }

    func testErrorForMissingNumber() {
        assertDurationError("s", #"invalid duration "s": expected a number such as 30 or 1.5 but found "s""#)
        assertDurationError(".5s", #"invalid duration ".5s": expected a number such as 30 or 1.5 but found ".5""#)
        assertDurationError("5.s", #"invalid duration "5.s": expected a number such as 30 or 1.5 but found "5.""#)
        assertDurationError("1.2.3s", #"invalid duration "1.2.3s": expected a number such as 30 or 1.5 but found "1.2.3""#)
    }

    func testErrorForUnitOrder() {
        let expected = "units must go from largest to smallest, each at most once (d, h, m, s, ms)"
        assertDurationError("30m1h", "invalid duration \"30m1h\": \(expected)")
        assertDurationError("5m5m", "invalid duration \"5m5m\": \(expected)")
    }

    func testErrorForTooLarge() {
        let digits = String(repeating: "9", count: 400)
        assertDurationError("\(digits)d", "invalid duration \"\(digits)d\": too large")
    }

    func testFormat() {
        XCTAssertEqual(DurationText.format(0), "0s")
        XCTAssertEqual(DurationText.format(0.5), "500ms")
        XCTAssertEqual(DurationText.format(30), "30s")
        XCTAssertEqual(DurationText.format(90), "1m30s")
        XCTAssertEqual(DurationText.format(3600), "1h")
        XCTAssertEqual(DurationText.format(5400), "1h30m")
        XCTAssertEqual(DurationText.format(86_400), "1d")
        XCTAssertEqual(DurationText.format(90_061.001), "1d1h1m1s1ms")
    }

    func testFormatFractionOfMillisecond() {
        XCTAssertEqual(DurationText.format(0.0015), "1.5ms")
        XCTAssertEqual(DurationText.format(0.0000015), "0.0015ms")
    }

    func testFormatNegative() {
        XCTAssertEqual(DurationText.format(-90), "-1m30s")
    }

    func testFormatThenParseRoundTrip() throws {
        for seconds in [0.001, 0.25, 1, 59, 61, 3599.999, 86_399, 86_401.5, 1_000_000, 0.1, 0.0015] {
            XCTAssertEqual(try DurationText.parse(DurationText.format(seconds)), seconds, accuracy: 1e-12, "\(seconds)")
        }
    }

    private func assertDurationError(_ text: String, _ expected: String, allowsZero: Bool = false, line: UInt = #line) {
        XCTAssertThrowsError(try DurationText.parse(text, allowsZero: allowsZero), line: line) { error in
            XCTAssertEqual((error as? ScheduleError)?.description, expected, line: line)
        }
    }
}

import Foundation
import Scheduling
import XCTest

final class ISO8601TextTests: XCTestCase {
    func testFormatWithDaylightSavingOffset() {
        XCTAssertEqual(ISO8601Text.format(utc("2026-03-29T01:00:00Z"), timeZone: zone("Europe/Berlin")), "2026-03-29T03:00:00+02:00")
        XCTAssertEqual(ISO8601Text.format(utc("2026-03-29T00:59:00Z"), timeZone: zone("Europe/Berlin")), "2026-03-29T01:59:00+01:00")
    }

    func testFormatUTCWithZeroOffset() {
        XCTAssertEqual(ISO8601Text.format(utc("2026-01-01T00:00:00Z"), timeZone: zone("UTC")), "2026-01-01T00:00:00+00:00")
    }

    func testFormatNegativeOffset() {
        XCTAssertEqual(ISO8601Text.format(utc("2026-11-01T06:00:00Z"), timeZone: zone("America/New_York")), "2026-11-01T01:00:00-05:00")
    }

    func testFormatHalfHourOffset() {
        XCTAssertEqual(ISO8601Text.format(utc("2026-01-01T04:00:00Z"), timeZone: zone("Asia/Kolkata")), "2026-01-01T09:30:00+05:30")
    }

    func testFormatMilliseconds() {
        XCTAssertEqual(ISO8601Text.format(utc("2026-01-01T00:00:00.250Z"), timeZone: zone("UTC")), "2026-01-01T00:00:00.250+00:00")
    }

    func testFormatBeforeUnixEpoch() {
        XCTAssertEqual(ISO8601Text.format(utc("1969-12-31T23:59:59Z"), timeZone: zone("UTC")), "1969-12-31T23:59:59+00:00")
        XCTAssertEqual(ISO8601Text.format(utc("1900-03-01T12:00:00.500Z"), timeZone: zone("UTC")), "1900-03-01T12:00:00.500+00:00")
    }

    func testParseUTCDesignator() throws {
        XCTAssertEqual(try ISO8601Text.parse("2026-03-29T01:00:00Z", defaultTimeZone: zone("Europe/Berlin")), utc("2026-03-29T01:00:00Z"))
        XCTAssertEqual(try ISO8601Text.parse("2026-03-29t01:00:00z", defaultTimeZone: zone("Europe/Berlin")), utc("2026-03-29T01:00:00Z"))
    }

    func testParseOffsetForms() throws {
        let expected = utc("2026-01-01T04:00:00Z")
        for text in ["2026-01-01T09:30:00+05:30", "2026-01-01T09:30+05:30", "2026-01-01T09:30:00+0530", "2026-01-01 09:30:00+05:30"] {
            XCTAssertEqual(try ISO8601Text.parse(text, defaultTimeZone: zone("UTC")), expected, text)
        }
        XCTAssertEqual(try ISO8601Text.parse("2026-01-01T01:00:00-03", defaultTimeZone: zone("UTC")), expected)
    }

    func testParseFractionalSeconds() throws {
        let parsed = try ISO8601Text.parse("2026-01-01T00:00:00.25Z", defaultTimeZone: zone("UTC"))
        XCTAssertEqual(parsed.timeIntervalSince(utc("2026-01-01T00:00:00Z")), 0.25, accuracy: 1e-9)
    }

    func testParseWithoutOffsetUsesDefaultZone() throws {
        XCTAssertEqual(try ISO8601Text.parse("2026-07-01T12:00:00", defaultTimeZone: zone("Europe/Berlin")), utc("2026-07-01T10:00:00Z"))
        XCTAssertEqual(try ISO8601Text.parse("2026-07-01T12:00", defaultTimeZone: zone("America/New_York")), utc("2026-07-01T16:00:00Z"))
    }

    func testParseDateOnlyMeansMidnight() throws {
        XCTAssertEqual(try ISO8601Text.parse("2026-07-01", defaultTimeZone: zone("Asia/Kolkata")), utc("2026-06-30T18:30:00Z"))
    }

    func testParseRepeatedTimeMeansFirstOccurrence() throws {
        XCTAssertEqual(try ISO8601Text.parse("2026-10-25T02:30", defaultTimeZone: zone("Europe/Berlin")), utc("2026-10-25T00:30:00Z"))
    }

    func testErrorForSkippedTime() {
        assertDateTimeError(
            "2026-03-29T02:30", zone: "Europe/Berlin",
            #"invalid date-time "2026-03-29T02:30": local time 2026-03-29T02:30 does not exist in Europe/Berlin because clocks skip it for daylight saving time; add an offset such as +01:00"#
        )
    }

    func testErrorForOutOfRangeFields() {
        assertDateTimeError("2026-13-01T00:00Z", #"invalid date-time "2026-13-01T00:00Z": month 13 is out of range 1-12"#)
        assertDateTimeError("2026-02-29", #"invalid date-time "2026-02-29": day 29 is out of range 1-28 for 2026-02"#)
        assertDateTimeError("2026-01-01T24:00Z", #"invalid date-time "2026-01-01T24:00Z": hour 24 is out of range 0-23"#)
        assertDateTimeError("2026-01-01T00:60Z", #"invalid date-time "2026-01-01T00:60Z": minute 60 is out of range 0-59"#)
        assertDateTimeError("2026-01-01T00:00:60Z", #"invalid date-time "2026-01-01T00:00:60Z": second 60 is out of range 0-59"#)
        assertDateTimeError(
            "2026-01-01T00:00+24:00", #"invalid date-time "2026-01-01T00:00+24:00": offset hour 24 is out of range 0-23"#
        )
    }

    func testErrorForMalformedText() {
        let forms = "2026-03-29T03:00:00+02:00, 2026-03-29T01:00:00Z or 2026-03-29T03:00"
        assertDateTimeError(
            "yesterday", "invalid date-time \"yesterday\": unexpected \"y\" at character 1; expected a form such as \(forms)"
        )
        assertDateTimeError(
            "2026-03-29T03", "invalid date-time \"2026-03-29T03\": unexpected the end at character 14; expected a form such as \(forms)"
        )
        assertDateTimeError(
            "2026-03-29T03:00:00Zjunk",
            "invalid date-time \"2026-03-29T03:00:00Zjunk\": unexpected \"j\" at character 21; expected a form such as \(forms)"
        )
        assertDateTimeError(
            "20260329T030000Z", "invalid date-time \"20260329T030000Z\": unexpected \"0\" at character 5; expected a form such as \(forms)"
        )
        assertDateTimeError(
            "2026-03-29Z", "invalid date-time \"2026-03-29Z\": unexpected \"Z\" at character 11; expected a form such as \(forms)"
        )
    }

    func testFormatThenParseRoundTrip() throws {
        let zones = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]
        let start = utc("2026-01-01T00:00:00Z")
        for identifier in zones {
            let timeZone = zone(identifier)
            // Steps of 7h13m visit every hour of the day, and both daylight saving changes, over the year.
            for step in 0..<1200 {
                let date = start + Double(step) * 25_980
                let text = ISO8601Text.format(date, timeZone: timeZone)
                XCTAssertEqual(try ISO8601Text.parse(text, defaultTimeZone: zone("UTC")), date, "\(identifier) \(text)")
            }
        }
    }

    private func assertDateTimeError(_ text: String, zone identifier: String = "UTC", _ expected: String, line: UInt = #line) {
        XCTAssertThrowsError(try ISO8601Text.parse(text, defaultTimeZone: zone(identifier)), line: line) { error in
            XCTAssertEqual((error as? ScheduleError)?.description, expected, line: line)
        }
    }
}

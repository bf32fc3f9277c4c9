import Foundation
import Scheduling
import XCTest

/// Cron fire times on a zone's wall clock, across daylight saving transitions.
///
/// Europe/Berlin changed in 2026 at 01:00Z on March 29 (02:00 CET became 03:00 CEST) and October 25 (03:00 CEST
/// became 02:00 CET). America/New_York changed at 07:00Z on March 8 (02:00 EST became 03:00 EDT) and at 06:00Z on
/// November 1 (02:00 EDT became 01:00 EST).
final class CronTimeZoneTests: XCTestCase {
    func testSkippedTimeFiresAfterGapInBerlin() throws {
        let times = try cronFireTimes("30 2 * * *", after: "2026-03-28T12:00:00Z", in: "Europe/Berlin", count: 2)
        XCTAssertEqual(times, ["2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"])
    }

    func testSkippedTimeFiresAtGapEndInstant() throws {
        let cron = try CronExpression("30 2 * * *")
        let next = cron.nextDate(after: utc("2026-03-29T00:59:00Z"), in: zone("Europe/Berlin"))
        XCTAssertEqual(next, utc("2026-03-29T01:00:00Z"))
    }

    func testSeveralSkippedTimesFireOnce() throws {
        let times = try cronFireTimes("0,30 2 * * *", after: "2026-03-28T12:00:00Z", in: "Europe/Berlin", count: 2)
        XCTAssertEqual(times, ["2026-03-29T03:00:00+02:00", "2026-03-30T02:00:00+02:00"])
    }

    func testRepeatedTimeFiresOnceInBerlin() throws {
        let times = try cronFireTimes("30 2 * * *", after: "2026-10-24T12:00:00Z", in: "Europe/Berlin", count: 2)
        XCTAssertEqual(times, ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"])
    }

    func testRepeatedTimeDoesNotFireInSecondPass() throws {
        // 01:10Z is 02:10 CET, in the second pass, after 02:30 CEST has already fired.
        let times = try cronFireTimes("30 2 * * *", after: "2026-10-25T01:10:00Z", in: "Europe/Berlin", count: 1)
        XCTAssertEqual(times, ["2026-10-26T02:30:00+01:00"])
    }

    func testQuarterHoursThroughSpringForwardInBerlin() throws {
        let times = try cronFireTimes("*/15 * * * *", after: "2026-03-29T00:30:00Z", in: "Europe/Berlin", count: 3)
        XCTAssertEqual(times, ["2026-03-29T01:45:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-29T03:15:00+02:00"])
    }

    func testQuarterHoursThroughFallBackInBerlin() throws {
        let times = try cronFireTimes("*/15 * * * *", after: "2026-10-25T00:30:00Z", in: "Europe/Berlin", count: 6)
        XCTAssertEqual(times, [
            "2026-10-25T02:45:00+02:00", "2026-10-25T02:00:00+01:00", "2026-10-25T02:15:00+01:00",
            "2026-10-25T02:30:00+01:00", "2026-10-25T02:45:00+01:00", "2026-10-25T03:00:00+01:00",
        ])
    }

    func testQuarterHoursAreFifteenRealMinutesApart() throws {
        // Australia/Lord_Howe moves its clocks by 30 minutes, at 15:00Z on 2026-04-04 and 15:30Z on 2026-10-03.
        let windows = [
            ("Europe/Berlin", "2026-03-28T22:00:00Z"), ("Europe/Berlin", "2026-10-24T22:00:00Z"),
            ("America/New_York", "2026-03-08T04:00:00Z"), ("America/New_York", "2026-11-01T03:00:00Z"),
            ("Australia/Lord_Howe", "2026-04-04T12:00:00Z"), ("Australia/Lord_Howe", "2026-10-03T12:00:00Z"),
        ]
        let cron = try CronExpression("*/15 * * * *")
        for (identifier, start) in windows {
            let timeZone = zone(identifier)
            var previous = utc(start)
            for _ in 0..<24 {
                let next = try XCTUnwrap(cron.nextDate(after: previous, in: timeZone))
                XCTAssertEqual(next.timeIntervalSince(previous), 900, "\(identifier) after \(previous)")
                previous = next
            }
        }
    }

    func testHourlyDoesNotCatchUpSkippedHour() throws {
        let times = try cronFireTimes("30 * * * *", after: "2026-03-29T00:00:00Z", in: "Europe/Berlin", count: 2)
        XCTAssertEqual(times, ["2026-03-29T01:30:00+01:00", "2026-03-29T03:30:00+02:00"])
    }

    func testHourlyFiresInBothPassesOfRepeatedHour() throws {
        let times = try cronFireTimes("30 * * * *", after: "2026-10-25T00:00:00Z", in: "Europe/Berlin", count: 3)
        XCTAssertEqual(times, ["2026-10-25T02:30:00+02:00", "2026-10-25T02:30:00+01:00", "2026-10-25T03:30:00+01:00"])
    }

    func testSkippedTimeFiresAfterGapInNewYork() throws {
        let times = try cronFireTimes("30 2 * * *", after: "2026-03-07T12:00:00Z", in: "America/New_York", count: 2)
        XCTAssertEqual(times, ["2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"])
    }

    func testRepeatedTimeFiresOnceInNewYork() throws {
        let times = try cronFireTimes("30 1 * * *", after: "2026-10-31T12:00:00Z", in: "America/New_York", count: 2)
        XCTAssertEqual(times, ["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"])
    }

    func testHalfHoursThroughFallBackInNewYork() throws {
        let times = try cronFireTimes("*/30 * * * *", after: "2026-11-01T05:00:00Z", in: "America/New_York", count: 4)
        XCTAssertEqual(times, [
            "2026-11-01T01:30:00-04:00", "2026-11-01T01:00:00-05:00",
            "2026-11-01T01:30:00-05:00", "2026-11-01T02:00:00-05:00",
        ])
    }

    func testDailyInZoneWithoutDaylightSaving() throws {
        let times = try cronFireTimes("30 9 * * *", after: "2026-01-01T00:00:00Z", in: "Asia/Kolkata", count: 2)
        XCTAssertEqual(times, ["2026-01-01T09:30:00+05:30", "2026-01-02T09:30:00+05:30"])
        let next = try CronExpression("30 9 * * *").nextDate(after: utc("2026-01-01T00:00:00Z"), in: zone("Asia/Kolkata"))
        XCTAssertEqual(next, utc("2026-01-01T04:00:00Z"))
    }

    func testHourlyInHalfHourOffsetZone() throws {
        let next = try CronExpression("0 * * * *").nextDate(after: utc("2026-06-01T10:00:00Z"), in: zone("Asia/Kolkata"))
        XCTAssertEqual(next, utc("2026-06-01T10:30:00Z"))
    }

    func testSameExpressionDiffersByZone() throws {
        let cron = try CronExpression("0 0 * * *")
        let start = utc("2026-06-01T12:00:00Z")
        XCTAssertEqual(cron.nextDate(after: start, in: zone("UTC")), utc("2026-06-02T00:00:00Z"))
        XCTAssertEqual(cron.nextDate(after: start, in: zone("Europe/Berlin")), utc("2026-06-01T22:00:00Z"))
        XCTAssertEqual(cron.nextDate(after: start, in: zone("America/New_York")), utc("2026-06-02T04:00:00Z"))
    }

    func testLeapDayInBerlinAcrossManyTransitions() throws {
        let times = try cronFireTimes("0 0 29 2 */7", after: "2026-01-01T00:00:00Z", in: "Europe/Berlin", count: 1)
        XCTAssertEqual(times, ["2032-02-29T00:00:00+01:00"])
    }
}

import Foundation
import Scheduling
import XCTest

final class ScheduleTests: XCTestCase {
    func testParseCronExpression() throws {
        XCTAssertEqual(try Schedule.parse("*/5 * * * *"), .cron(try CronExpression("*/5 * * * *")))
    }

    func testParseMacros() throws {
        for macro in ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"] {
            XCTAssertEqual(try Schedule.parse(macro), .cron(try CronExpression(macro)), macro)
        }
        XCTAssertEqual(try Schedule.parse("@hourly"), .cron(try CronExpression("0 * * * *")))
    }

    func testParseInterval() throws {
        XCTAssertEqual(try Schedule.parse("every 30s"), .interval(seconds: 30))
        XCTAssertEqual(try Schedule.parse("  every   1h30m "), .interval(seconds: 5400))
        XCTAssertEqual(try Schedule.parse("every 250ms"), .interval(seconds: 0.25))
    }

    func testDescriptionParsesBackToEqualSchedule() throws {
        for text in ["*/5 * * * *", "@daily", "every 30s", "every 1h30m", "every 1d", "every 250ms"] {
            let schedule = try Schedule.parse(text)
            XCTAssertEqual(schedule.description, text)
            XCTAssertEqual(try Schedule.parse(schedule.description), schedule, text)
        }
    }

    func testIntervalDescriptionUsesLargestUnits() {
        XCTAssertEqual(Schedule.interval(seconds: 90).description, "every 1m30s")
    }

    func testErrorForEmptySchedule() {
        assertScheduleError(
            "  ",
            #"invalid schedule "  ": empty; use a cron expression such as "*/5 * * * *", a macro such as "@hourly" or an interval such as "every 30s""#
        )
    }

    func testErrorForIntervalWithoutDuration() {
        assertScheduleError("every", #"invalid schedule "every": missing duration after "every", such as every 30s"#)
    }

    func testErrorForZeroInterval() {
        assertScheduleError("every 0s", #"invalid schedule "every 0s": duration "0s" is invalid: must be greater than zero"#)
    }

    func testErrorForIntervalWithoutUnit() {
        assertScheduleError(
            "every 30",
            #"invalid schedule "every 30": duration "30" is invalid: missing unit after 30; accepted units: ms, s, m, h, d"#
        )
    }

    func testErrorForNeverFiringExpression() {
        assertScheduleError(
            "0 0 30 2 *",
            #"cron expression "0 0 30 2 *" never fires: no date matches its day-of-month, month and day-of-week fields; check that the day exists in the month"#
        )
    }

    func testErrorForInvalidCronNamesField() {
        assertScheduleError(
            "*/0 * * * *", #"invalid cron expression "*/0 * * * *": step 0 in minute field must be 1 or more"#
        )
    }

    // MARK: - Next fire dates

    func testCronNextFireDateUsesTimeZone() throws {
        let schedule = try Schedule.parse("30 2 * * *")
        let next = schedule.nextFireDate(after: utc("2026-03-28T12:00:00Z"), in: zone("Europe/Berlin"))
        XCTAssertEqual(next, utc("2026-03-29T01:00:00Z"))
    }

    func testIntervalFiresOnAnchorGrid() throws {
        let schedule = try Schedule.parse("every 7m")
        let anchor = utc("2026-01-01T00:00:00Z")
        let next = schedule.nextFireDate(after: utc("2026-01-01T00:10:00Z"), in: zone("UTC"), anchor: anchor)
        XCTAssertEqual(next, utc("2026-01-01T00:14:00Z"))
    }

    func testIntervalIsStrictlyAfterGridPoint() throws {
        let schedule = try Schedule.parse("every 7m")
        let anchor = utc("2026-01-01T00:00:00Z")
        let next = schedule.nextFireDate(after: utc("2026-01-01T00:14:00Z"), in: zone("UTC"), anchor: anchor)
        XCTAssertEqual(next, utc("2026-01-01T00:21:00Z"))
    }

    func testIntervalAfterAnchorItself() throws {
        let anchor = utc("2026-01-01T00:00:00Z")
        let next = Schedule.interval(seconds: 30).nextFireDate(after: anchor, in: zone("UTC"), anchor: anchor)
        XCTAssertEqual(next, utc("2026-01-01T00:00:30Z"))
    }

    func testIntervalBeforeAnchorFiresAtAnchor() throws {
        let anchor = utc("2026-01-01T00:00:00Z")
        let next = Schedule.interval(seconds: 30).nextFireDate(after: utc("2025-12-31T23:00:00Z"), in: zone("UTC"), anchor: anchor)
        XCTAssertEqual(next, anchor)
    }

    func testIntervalWithoutAnchorAlignsToEpoch() throws {
        let next = Schedule.interval(seconds: 300).nextFireDate(after: utc("2026-01-01T00:02:30Z"), in: zone("Asia/Kolkata"))
        XCTAssertEqual(next, utc("2026-01-01T00:05:00Z"))
    }

    func testIntervalIgnoresDaylightSaving() throws {
        let anchor = utc("2026-03-29T00:00:00Z")
        let dates = Schedule.interval(seconds: 3600).nextFireDates(
            after: anchor, in: zone("Europe/Berlin"), count: 3, anchor: anchor
        )
        XCTAssertEqual(dates, [utc("2026-03-29T01:00:00Z"), utc("2026-03-29T02:00:00Z"), utc("2026-03-29T03:00:00Z")])
    }

    func testSubSecondIntervalStaysOnGrid() throws {
        let anchor = utc("2026-01-01T00:00:00Z")
        let schedule = Schedule.interval(seconds: 0.1)
        let next = try XCTUnwrap(
            schedule.nextFireDate(after: anchor + 86_400 * 365 + 0.05, in: zone("UTC"), anchor: anchor)
        )
        XCTAssertEqual(next.timeIntervalSince(anchor), 86_400 * 365 + 0.1, accuracy: 1e-6)
    }

    func testNonPositiveIntervalNeverFires() {
        XCTAssertNil(Schedule.interval(seconds: 0).nextFireDate(after: utc("2026-01-01T00:00:00Z"), in: zone("UTC")))
        XCTAssertNil(Schedule.interval(seconds: -5).nextFireDate(after: utc("2026-01-01T00:00:00Z"), in: zone("UTC")))
    }

    func testNextFireDatesReturnsCount() throws {
        let dates = try Schedule.parse("@hourly").nextFireDates(after: utc("2026-01-01T00:30:00Z"), in: zone("UTC"), count: 3)
        XCTAssertEqual(dates, [utc("2026-01-01T01:00:00Z"), utc("2026-01-01T02:00:00Z"), utc("2026-01-01T03:00:00Z")])
    }

    func testNextFireDatesStopsWhenScheduleNeverFires() throws {
        let schedule = Schedule.cron(try CronExpression("0 0 30 2 *"))
        XCTAssertEqual(schedule.nextFireDates(after: utc("2026-01-01T00:00:00Z"), in: zone("UTC"), count: 5), [])
    }

    private func assertScheduleError(_ text: String, _ expected: String, line: UInt = #line) {
        XCTAssertThrowsError(try Schedule.parse(text), line: line) { error in
            XCTAssertEqual((error as? ScheduleError)?.description, expected, line: line)
        }
    }
}

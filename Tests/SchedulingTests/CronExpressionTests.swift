import Foundation
import Scheduling
import XCTest

/// Syntax, field values and day rules of cron expressions, evaluated in UTC.
final class CronExpressionTests: XCTestCase {
    func testEveryMinute() throws {
        let times = try cronFireTimes("* * * * *", after: "2026-01-01T00:00:30Z", count: 2)
        XCTAssertEqual(times, ["2026-01-01T00:01:00+00:00", "2026-01-01T00:02:00+00:00"])
    }

    func testNextDateIsStrictlyAfterMatchingDate() throws {
        let times = try cronFireTimes("0 * * * *", after: "2026-01-01T05:00:00Z", count: 1)
        XCTAssertEqual(times, ["2026-01-01T06:00:00+00:00"])
    }

    func testNextDateAfterFractionalSecond() throws {
        let times = try cronFireTimes("* * * * *", after: "2026-01-01T00:00:59.900Z", count: 1)
        XCTAssertEqual(times, ["2026-01-01T00:01:00+00:00"])
    }

    func testStarStep() throws {
        let times = try cronFireTimes("*/15 * * * *", after: "2026-01-01T00:07:00Z", count: 4)
        XCTAssertEqual(times, [
            "2026-01-01T00:15:00+00:00", "2026-01-01T00:30:00+00:00",
            "2026-01-01T00:45:00+00:00", "2026-01-01T01:00:00+00:00",
        ])
    }

    func testRangeWithStep() throws {
        let times = try cronFireTimes("10-50/20 * * * *", after: "2026-01-01T00:00:00Z", count: 4)
        XCTAssertEqual(times, [
            "2026-01-01T00:10:00+00:00", "2026-01-01T00:30:00+00:00",
            "2026-01-01T00:50:00+00:00", "2026-01-01T01:10:00+00:00",
        ])
    }

    func testSingleValueStepRunsToFieldMaximum() throws {
        XCTAssertEqual(try CronExpression("5/15 * * * *"), try CronExpression("5-59/15 * * * *"))
        let times = try cronFireTimes("5/15 * * * *", after: "2026-01-01T00:00:00Z", count: 5)
        XCTAssertEqual(times, [
            "2026-01-01T00:05:00+00:00", "2026-01-01T00:20:00+00:00", "2026-01-01T00:35:00+00:00",
            "2026-01-01T00:50:00+00:00", "2026-01-01T01:05:00+00:00",
        ])
    }

    func testList() throws {
        let times = try cronFireTimes("1,15 * * * *", after: "2026-01-01T00:00:00Z", count: 3)
        XCTAssertEqual(times, ["2026-01-01T00:01:00+00:00", "2026-01-01T00:15:00+00:00", "2026-01-01T01:01:00+00:00"])
    }

    func testListOfRangesAndValues() throws {
        let times = try cronFireTimes("0 1-2,23 * * *", after: "2026-01-01T00:00:00Z", count: 4)
        XCTAssertEqual(times, [
            "2026-01-01T01:00:00+00:00", "2026-01-01T02:00:00+00:00",
            "2026-01-01T23:00:00+00:00", "2026-01-02T01:00:00+00:00",
        ])
    }

    func testWeekdayRangeByName() throws {
        // 2026-01-02 is a Friday, so the next weekday after it is Monday 2026-01-05.
        let times = try cronFireTimes("0 9 * * mon-fri", after: "2026-01-02T10:00:00Z", count: 2)
        XCTAssertEqual(times, ["2026-01-05T09:00:00+00:00", "2026-01-06T09:00:00+00:00"])
    }

    func testNamesAreCaseInsensitive() throws {
        XCTAssertEqual(try CronExpression("0 0 1 JAN,Jul *"), try CronExpression("0 0 1 1,7 *"))
        XCTAssertEqual(try CronExpression("0 0 * * SUN-Tue"), try CronExpression("0 0 * * 0-2"))
    }

    func testMonthNames() throws {
        let times = try cronFireTimes("0 0 1 jan,jul *", after: "2026-02-01T00:00:00Z", count: 2)
        XCTAssertEqual(times, ["2026-07-01T00:00:00+00:00", "2027-01-01T00:00:00+00:00"])
    }

    func testSundayAsSevenEqualsZero() throws {
        XCTAssertEqual(try CronExpression("0 0 * * 7"), try CronExpression("0 0 * * 0"))
        XCTAssertEqual(try CronExpression("0 0 * * 5-7"), try CronExpression("0 0 * * 0,5,6"))
    }

    func testMacrosEqualTheirExpansions() throws {
        let expansions = [
            "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
            "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
        ]
        for (macro, expansion) in expansions {
            XCTAssertEqual(try CronExpression(macro), try CronExpression(expansion), macro)
        }
    }

    func testWeeklyMacroFiresOnSunday() throws {
        // 2026-01-01 is a Thursday.
        let times = try cronFireTimes("@weekly", after: "2026-01-01T00:00:00Z", count: 1)
        XCTAssertEqual(times, ["2026-01-04T00:00:00+00:00"])
    }

    func testTextKeepsInputWithoutSurroundingWhitespace() throws {
        let cron = try CronExpression("  */5  *\t* * *  ")
        XCTAssertEqual(cron.text, "*/5  *\t* * *")
        XCTAssertEqual(cron.description, cron.text)
    }

    // MARK: - Day-of-month and day-of-week rule

    func testCronWhenBothDayFieldsRestricted() throws {
        // In April 2026 the Fridays are the 3rd, 10th, 17th and 24th, and the 13th is a Monday.
        let times = try cronFireTimes("0 0 13 * fri", after: "2026-04-01T00:00:00Z", count: 5)
        XCTAssertEqual(times, [
            "2026-04-03T00:00:00+00:00", "2026-04-10T00:00:00+00:00", "2026-04-13T00:00:00+00:00",
            "2026-04-17T00:00:00+00:00", "2026-04-24T00:00:00+00:00",
        ])
    }

    func testCronWhenOnlyDayOfMonthRestricted() throws {
        let times = try cronFireTimes("0 0 13 * *", after: "2026-04-01T00:00:00Z", count: 2)
        XCTAssertEqual(times, ["2026-04-13T00:00:00+00:00", "2026-05-13T00:00:00+00:00"])
    }

    func testCronWhenOnlyDayOfWeekRestricted() throws {
        let times = try cronFireTimes("0 0 * * fri", after: "2026-04-01T00:00:00Z", count: 2)
        XCTAssertEqual(times, ["2026-04-03T00:00:00+00:00", "2026-04-10T00:00:00+00:00"])
    }

    func testStarStepDayFieldRequiresBoth() throws {
        // `*/2` starts with `*`, so Vixie cron requires both fields: odd days that are Mondays. The Mondays of
        // March 2026 are the 2nd, 9th, 16th, 23rd and 30th.
        let times = try cronFireTimes("0 0 */2 * mon", after: "2026-03-01T00:00:00Z", count: 2)
        XCTAssertEqual(times, ["2026-03-09T00:00:00+00:00", "2026-03-23T00:00:00+00:00"])
    }

    func testDayOfWeekSavesImpossibleDayOfMonth() throws {
        // Both fields are restricted, so Mondays in February fire although February has no 31st.
        let cron = try CronExpression("0 0 31 2 mon")
        XCTAssertTrue(cron.canFire)
        let times = try cronFireTimes("0 0 31 2 mon", after: "2026-01-01T00:00:00Z", count: 1)
        XCTAssertEqual(times, ["2026-02-02T00:00:00+00:00"])
    }

    // MARK: - Rare and impossible dates

    func testLeapDayFromNonLeapYear() throws {
        let times = try cronFireTimes("0 0 29 2 *", after: "2026-01-01T00:00:00Z", count: 2)
        XCTAssertEqual(times, ["2028-02-29T00:00:00+00:00", "2032-02-29T00:00:00+00:00"])
    }

    func testLeapDaySkipsCenturyNonLeapYear() throws {
        // 2100 is not a leap year, so the gap after 2096 is eight years.
        let times = try cronFireTimes("0 0 29 2 *", after: "2096-03-01T00:00:00Z", count: 1)
        XCTAssertEqual(times, ["2104-02-29T00:00:00+00:00"])
    }

    func testLeapDayOnSunday() throws {
        // `*/7` in day-of-week is {0, 7}, Sunday, and starts with `*`, so both day fields must match.
        let times = try cronFireTimes("0 0 29 2 */7", after: "2026-01-01T00:00:00Z", count: 2)
        XCTAssertEqual(times, ["2032-02-29T00:00:00+00:00", "2060-02-29T00:00:00+00:00"])
    }

    func testImpossibleDateReturnsNil() throws {
        for expression in ["0 0 30 2 *", "0 0 31 4,6,9,11 *", "0 0 31 2 */7"] {
            let cron = try CronExpression(expression)
            XCTAssertFalse(cron.canFire, expression)
            XCTAssertNil(cron.nextDate(after: utc("2026-01-01T00:00:00Z"), in: zone("Europe/Berlin")), expression)
        }
    }

    func testPossibleExpressionCanFire() throws {
        XCTAssertTrue(try CronExpression("0 0 29 2 *").canFire)
        XCTAssertTrue(try CronExpression("* * * * *").canFire)
    }

    // MARK: - Equality and wildcard time

    func testEqualityComparesFields() throws {
        XCTAssertEqual(try CronExpression("@daily"), try CronExpression("0 0 * * *"))
        XCTAssertNotEqual(try CronExpression("0 0 1-31 * 1"), try CronExpression("0 0 * * 1"))
        XCTAssertNotEqual(try CronExpression("0-59 * * * *"), try CronExpression("* * * * *"))
    }

    func testWildcardTimeFromFirstCharacter() throws {
        XCTAssertTrue(try CronExpression("*/15 2 * * *").hasWildcardTime)
        XCTAssertTrue(try CronExpression("30 * * * *").hasWildcardTime)
        XCTAssertFalse(try CronExpression("30 2 * * *").hasWildcardTime)
        XCTAssertFalse(try CronExpression("0-59 0-23 * * *").hasWildcardTime)
    }

    // MARK: - Errors

    func testErrorForStepZero() {
        assertCronError(
            "*/0 * * * *", #"invalid cron expression "*/0 * * * *": step 0 in minute field must be 1 or more"#
        )
    }

    func testErrorForFieldCount() {
        assertCronError(
            "* * * *",
            #"invalid cron expression "* * * *": expected 5 fields (minute hour day-of-month month day-of-week) but found 4"#
        )
        assertCronError(
            "0 * * * * *",
            #"invalid cron expression "0 * * * * *": expected 5 fields (minute hour day-of-month month day-of-week) but found 6"#
        )
        assertCronError(
            "",
            #"invalid cron expression "": expected 5 fields (minute hour day-of-month month day-of-week) but found 0"#
        )
    }

    func testErrorForValueOutOfRange() {
        assertCronError("60 * * * *", #"invalid cron expression "60 * * * *": value 60 in minute field is out of range 0-59"#)
        assertCronError("0 24 * * *", #"invalid cron expression "0 24 * * *": value 24 in hour field is out of range 0-23"#)
        assertCronError(
            "0 0 0 * *", #"invalid cron expression "0 0 0 * *": value 0 in day-of-month field is out of range 1-31"#
        )
        assertCronError("0 0 * 13 *", #"invalid cron expression "0 0 * 13 *": value 13 in month field is out of range 1-12"#)
        assertCronError(
            "0 0 * * 8", #"invalid cron expression "0 0 * * 8": value 8 in day-of-week field is out of range 0-7"#
        )
        assertCronError(
            "99999999999999999999 * * * *",
            #"invalid cron expression "99999999999999999999 * * * *": value 99999999999999999999 in minute field is out of range 0-59"#
        )
    }

    func testErrorForReversedRange() {
        assertCronError(
            "0 5-1 * * *", #"invalid cron expression "0 5-1 * * *": range 5-1 in hour field is reversed; put the smaller value first"#
        )
        assertCronError(
            "0 0 * * sat-sun",
            #"invalid cron expression "0 0 * * sat-sun": range sat-sun in day-of-week field is reversed; put the smaller value first"#
        )
    }

    func testErrorForUnknownName() {
        assertCronError(
            "0 0 * foo *", #"invalid cron expression "0 0 * foo *": unknown name "foo" in month field; use 1-12 or jan-dec"#
        )
        assertCronError(
            "0 0 * * monday",
            #"invalid cron expression "0 0 * * monday": unknown name "monday" in day-of-week field; use 0-7 or sun-sat"#
        )
    }

    func testErrorForNameInNumericField() {
        assertCronError(
            "0 noon * * *", #"invalid cron expression "0 noon * * *": invalid value "noon" in hour field; expected 0-23"#
        )
    }

    func testErrorForEmptyListItem() {
        assertCronError("1,,2 * * * *", #"invalid cron expression "1,,2 * * * *": empty list item in minute field "1,,2""#)
        assertCronError("0 1, * * *", #"invalid cron expression "0 1, * * *": empty list item in hour field "1,""#)
    }

    func testErrorForMalformedStepAndRange() {
        assertCronError(
            "*/x * * * *",
            #"invalid cron expression "*/x * * * *": invalid step "x" in minute field; expected a whole number 1 or more"#
        )
        assertCronError(
            "*/ * * * *",
            #"invalid cron expression "*/ * * * *": invalid step "" in minute field; expected a whole number 1 or more"#
        )
        assertCronError(
            "1/2/3 * * * *", #"invalid cron expression "1/2/3 * * * *": invalid item "1/2/3" in minute field; use at most one /"#
        )
        assertCronError(
            "1-2-3 * * * *",
            #"invalid cron expression "1-2-3 * * * *": invalid range "1-2-3" in minute field; expected start-end such as 1-5"#
        )
        assertCronError("-5 * * * *", #"invalid cron expression "-5 * * * *": invalid value "" in minute field; expected 0-59"#)
    }

    func testErrorForUnknownMacro() {
        assertCronError(
            "@reboot",
            #"invalid cron expression "@reboot": unknown macro; use one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly"#
        )
    }

    private func assertCronError(_ text: String, _ expected: String, line: UInt = #line) {
        XCTAssertThrowsError(try CronExpression(text), line: line) { error in
            XCTAssertEqual((error as? ScheduleError)?.description, expected, line: line)
        }
    }
}

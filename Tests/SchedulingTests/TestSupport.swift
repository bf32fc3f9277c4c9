import Foundation
import Scheduling
import XCTest

/// Parses a UTC instant such as `2026-03-29T01:00:00Z` with Foundation's own formatter, independent of the module.
func utc(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> Date {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    if let date = formatter.date(from: text) {
        return date
    }
    formatter.formatOptions = [.withInternetDateTime]
    guard let date = formatter.date(from: text) else {
        XCTFail("test date \(text) is not an RFC 3339 instant", file: file, line: line)
        return Date(timeIntervalSince1970: 0)
    }
    return date
}

/// Looks up an IANA zone that the tests rely on, failing the test when the system lacks it.
func zone(_ identifier: String, file: StaticString = #filePath, line: UInt = #line) -> TimeZone {
    guard let timeZone = TimeZone(identifier: identifier) else {
        XCTFail("time zone \(identifier) is not installed", file: file, line: line)
        return TimeZone(secondsFromGMT: 0)!
    }
    return timeZone
}

/// Returns the next `count` fire times of a cron expression, formatted on the zone's wall clock with its offset.
func cronFireTimes(
    _ expression: String, after start: String, in zoneIdentifier: String = "UTC", count: Int,
    file: StaticString = #filePath, line: UInt = #line
) throws -> [String] {
    let cron = try CronExpression(expression)
    let timeZone = zone(zoneIdentifier, file: file, line: line)
    var cursor = utc(start, file: file, line: line)
    var times: [String] = []
    for _ in 0..<count {
        guard let next = cron.nextDate(after: cursor, in: timeZone) else { break }
        times.append(ISO8601Text.format(next, timeZone: timeZone))
        cursor = next
    }
    return times
}

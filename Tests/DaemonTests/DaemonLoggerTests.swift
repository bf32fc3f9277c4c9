import Foundation
import XCTest
@testable import Daemon

final class DaemonLoggerTests: XCTestCase {
    private var lines: LineCollector!
    private var logger: DaemonLogger!

    override func setUp() {
        lines = LineCollector()
        let collector = lines!
        logger = DaemonLogger(sink: { collector.append($0) })
    }

    // MARK: - Line format

    func testLineHasTimestampLevelEventAndFields() throws {
        logger.info("run.finished", [("target", "chat"), ("run_id", 42), ("verdict", "failed")])

        let line = try XCTUnwrap(lines.all.first)
        XCTAssertEqual(lines.all.count, 1)
        let fields = line.split(separator: " ", maxSplits: 1)
        XCTAssertTrue(isTimestampField(fields[0]), line)
        XCTAssertEqual(fields.last, "level=info event=run.finished target=chat run_id=42 verdict=failed")
    }

    func testLevelsNamed() {
        logger.warn("a")
        logger.log(.error, "b")

        XCTAssertEqual(lines.all.map(Self.withoutTimestamp), ["level=warn event=a", "level=error event=b"])
    }

    func testNilFieldsLeftOut() {
        logger.info("daemon.starting", [("config", nil as String?), ("targets", 2)])

        XCTAssertEqual(lines.all.map(Self.withoutTimestamp), ["level=info event=daemon.starting targets=2"])
    }

    func testDebugOnlyWhenEnabled() {
        let debugLines = LineCollector()
        let debugLogger = DaemonLogger(isDebugEnabled: true, sink: { debugLines.append($0) })

        logger.debug("prune.finished", [("deleted", 0)])
        debugLogger.debug("prune.finished", [("deleted", 0)])

        XCTAssertEqual(lines.all, [])
        XCTAssertEqual(debugLines.all.map(Self.withoutTimestamp), ["level=debug event=prune.finished deleted=0"])
    }

    // MARK: - Values

    func testNumbersFormatted() {
        XCTAssertEqual(DaemonLogger.format(42), "42")
        XCTAssertEqual(DaemonLogger.format(2.0), "2")
        XCTAssertEqual(DaemonLogger.format(0.25), "0.250")
        XCTAssertEqual(DaemonLogger.format(1234.5678), "1234.568")
        XCTAssertEqual(DaemonLogger.format(true), "true")
    }

    func testPlainValueUnquoted() {
        XCTAssertEqual(DaemonLogger.format("http://127.0.0.1:9790/status?x"), "http://127.0.0.1:9790/status?x")
        XCTAssertEqual(DaemonLogger.format("München"), "München")
    }

    func testValuesQuotedAndEscaped() {
        let cases: [(String, String)] = [
            ("", #""""#),
            ("two words", #""two words""#),
            ("a=b", #""a=b""#),
            (#"say "hi""#, #""say \"hi\"""#),
            (#"C:\temp"#, #""C:\\temp""#),
            ("line\nbreak", #""line\nbreak""#),
            ("cr\rtab\t", #""cr\rtab\t""#),
            ("bell\u{7}", #""bell\u0007""#),
        ]
        for (value, expected) in cases {
            XCTAssertEqual(DaemonLogger.format(value), expected, "value \(value.debugDescription)")
        }
    }

    func testQuotedValueInLine() {
        logger.info("config.kept", [("reason", "the new file is invalid")])

        XCTAssertEqual(lines.all.map(Self.withoutTimestamp), [#"level=info event=config.kept reason="the new file is invalid""#])
    }

    // MARK: - Repeated errors

    func testErrorLoggedWithCause() {
        logger.error("store.write_failed", cause: "disk I/O error", key: "chat", [("target", "chat")])

        XCTAssertEqual(lines.all.map(Self.withoutTimestamp), [#"level=error event=store.write_failed target=chat cause="disk I/O error""#])
    }

    func testIdenticalErrorSuppressed() {
        for _ in 1...3 {
            logger.error("run.error", cause: "connection refused", key: "chat", [("target", "chat")])
        }

        XCTAssertEqual(lines.all.count, 1)
    }

    func testDistinctErrorsEachLogged() {
        logger.error("run.error", cause: "connection refused", key: "chat")
        logger.error("run.error", cause: "timed out", key: "chat")
        logger.error("run.error", cause: "connection refused", key: "search")
        logger.error("store.write_failed", cause: "connection refused", key: "chat")

        XCTAssertEqual(lines.all.count, 4)
    }

    func testResolveReportsRepeats() {
        for _ in 1...3 {
            logger.error("run.error", cause: "connection refused", key: "chat", [("target", "chat")])
        }

        logger.resolve("run.error", key: "chat", [("target", "chat")])

        XCTAssertEqual(lines.all.count, 2)
        XCTAssertEqual(lines.all.last.map(Self.withoutTimestamp), "level=info event=run.error.resolved target=chat repeats=3")
    }

    func testResolveAfterSingleErrorSilent() {
        logger.error("run.error", cause: "connection refused", key: "chat")

        logger.resolve("run.error", key: "chat")

        XCTAssertEqual(lines.all.count, 1)
    }

    func testResolveLeavesOtherKeys() {
        logger.error("run.error", cause: "connection refused", key: "chat")
        logger.error("run.error", cause: "connection refused", key: "search")

        logger.resolve("run.error", key: "chat")
        logger.error("run.error", cause: "connection refused", key: "search")

        XCTAssertEqual(lines.all.count, 2)
    }

    func testErrorLoggedAgainAfterResolve() {
        logger.error("run.error", cause: "connection refused", key: "chat")
        logger.resolve("run.error", key: "chat")

        logger.error("run.error", cause: "connection refused", key: "chat")

        XCTAssertEqual(lines.all.count, 2)
        XCTAssertFalse(lines.all.last?.contains("repeats=") ?? true)
    }

    // NOTE: the once-a-minute `repeats=N` summary of a still-repeating error is not covered, because
    // `DaemonLogger.repeatSummaryInterval` is a fixed 60 s and the logger reads the system clock.

    // MARK: - Helpers

    /// Drops the leading `ts=... ` field, whose value changes with every call.
    private static func withoutTimestamp(_ line: String) -> String {
        String(line.split(separator: " ", maxSplits: 1).last ?? "")
    }

    /// Checks `ts=` followed by an ISO 8601 UTC time with milliseconds, such as `ts=2026-12-04T20:00:00.123Z`.
    private func isTimestampField(_ field: Substring) -> Bool {
        guard field.hasPrefix("ts=") else { return false }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let value = String(field.dropFirst(3))
        return value.hasSuffix("Z") && value.count == 24 && formatter.date(from: value) != nil
    }
}

/// Lines a logger sent to its sink, safe to append from any thread.
private final class LineCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []

    func append(_ line: String) {
        lock.lock()
        lines.append(line)
        lock.unlock()
    }

    var all: [String] {
        lock.lock()
        defer { lock.unlock() }
        return lines
    }
}

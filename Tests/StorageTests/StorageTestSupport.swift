import Foundation
import XCTest
@testable import Storage

/// A directory under the system temporary directory that the test deletes in tearDown.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("loadsmoke-storage-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
    }

    func path(_ name: String) -> String {
        url.appendingPathComponent(name).path
    }

    func remove() {
        try? FileManager.default.removeItem(at: url)
    }
}

/// A fixed point in time whose offsets in quarter seconds survive the Date round trip exactly.
let referenceTime = Date(timeIntervalSince1970: 1_700_000_000)

func time(_ seconds: Double) -> Date {
    referenceTime.addingTimeInterval(seconds)
}

func sampleOutcome(
    status: RunStatus = .passed, finishedAt: Date = time(10), p95: Double? = 120.5,
    errors: [String: Int] = ["timeout": 2, "http_503": 1]
) -> RunOutcome {
    RunOutcome(
        status: status, finishedAt: finishedAt,
        requests: 100, succeeded: 97, failed: 3, fallbacks: 4,
        durationSeconds: 9.5, throughputRPS: 10.25, errorRate: 0.03, fallbackRate: 0.04,
        latency: p95.map { LatencySummary(p50: 80.25, p95: $0, p99: 250.75, mean: 90.5, min: 12.0, max: 300.0) },
        errors: errors,
        budgets: [
            BudgetRecord(name: "p95", actual: 120.5, limit: 200, unit: "ms", passed: true),
            BudgetRecord(name: "error_rate", actual: 0.03, limit: 0.01, unit: "ratio", passed: false),
            BudgetRecord(name: "first_token", actual: nil, limit: 500, unit: "ms", passed: false),
        ],
        reportJSON: #"{"target":"chat","verdict":"passed","requests":100}"#
    )
}

extension RunStore {
    /// Runs raw SQL for tests that need to reach past the public API.
    func executeForTest(_ sql: String) throws {
        try withConnection { try $0.executeScript(sql, step: "test SQL") }
    }

    func integerForTest(_ sql: String) throws -> Int {
        try withConnection { connection in
            try connection.queryFirst(sql) { $0.int(0) } ?? -1
        }
    }

    func textForTest(_ sql: String) throws -> String {
        try withConnection { connection in
            try connection.queryFirst(sql) { $0.text(0) } ?? ""
        }
    }
}

/// Runs `body` and returns the StorageError it throws, or records a failure when it throws none.
func storageError(
    _ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line
) -> StorageError? {
    do {
        try body()
        XCTFail("expected a StorageError, but the call succeeded", file: file, line: line)
    } catch let error as StorageError {
        return error
    } catch {
        XCTFail("expected a StorageError, got \(error)", file: file, line: line)
    }
    return nil
}

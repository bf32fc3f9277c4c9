import Foundation
import Measurement
import XCTest
@testable import Storage

final class MigratorTests: XCTestCase {
    private var directory: TemporaryDirectory!

    override func setUpWithError() throws {
        directory = try TemporaryDirectory()
    }

    override func tearDown() {
        directory.remove()
    }

    func testOpenAppliesAndRecordsMigrations() throws {
        let store = try RunStore(path: directory.path("runs.db"))
        defer { store.close() }

        let recorded = try store.integerForTest("SELECT COUNT(*) FROM schema_migrations")
        XCTAssertEqual(recorded, Migration.embedded.count)
        XCTAssertEqual(try store.schemaVersion(), RunStore.supportedSchemaVersion)
        XCTAssertEqual(try store.textForTest("SELECT name FROM schema_migrations WHERE version = 1"), "initial")
        XCTAssertEqual(try store.integerForTest("SELECT COUNT(*) FROM schema_migrations WHERE applied_at > 0"),
                       Migration.embedded.count)
    }

    func testReopenDoesNotReapply() throws {
        let path = directory.path("runs.db")
        let first = try RunStore(path: path)
        let appliedAt = try first.textForTest("SELECT group_concat(applied_at) FROM schema_migrations")
        _ = try first.beginRun(target: "chat", startedAt: time(0))
        first.close()

        let second = try RunStore(path: path)
        defer { second.close() }
        XCTAssertEqual(try second.textForTest("SELECT group_concat(applied_at) FROM schema_migrations"), appliedAt)
        XCTAssertEqual(try second.integerForTest("SELECT COUNT(*) FROM schema_migrations"), Migration.embedded.count)
        XCTAssertEqual(try second.integerForTest("SELECT COUNT(*) FROM runs"), 1)
    }

    func testMigrateTwiceAppliesNothing() throws {
        let connection = try SQLiteConnection(path: directory.path("runs.db"), readOnly: false)
        defer { connection.close() }
        let migrator = Migrator(migrations: Migration.embedded)

        XCTAssertEqual(try migrator.migrate(connection), Migration.embedded.map(\.version))
        XCTAssertEqual(try migrator.migrate(connection), [])
    }

    func testNewerSchemaRejected() throws {
        let path = directory.path("runs.db")
        let store = try RunStore(path: path)
        try store.executeForTest("INSERT INTO schema_migrations (version, name, applied_at) VALUES (7, 'future', 0)")
        store.close()

        let error = storageError { _ = try RunStore(path: path) }
        XCTAssertEqual(error?.kind, .unsupportedSchema)
        XCTAssertEqual(
            error?.description,
            "database \(path) has schema version 7, newer than this loadsmoke supports "
                + "(\(RunStore.supportedSchemaVersion)); upgrade loadsmoke"
        )
    }

    func testNewerSchemaRejectedReadOnly() throws {
        let path = directory.path("runs.db")
        let store = try RunStore(path: path)
        try store.executeForTest("INSERT INTO schema_migrations (version, name, applied_at) VALUES (7, 'future', 0)")
        store.close()

        let error = storageError { _ = try RunStore(path: path, readOnly: true) }
        XCTAssertEqual(
            error?.description,
            "database \(path) has schema version 7, newer than this loadsmoke supports "
                + "(\(RunStore.supportedSchemaVersion)); upgrade loadsmoke"
        )
    }

    func testTextFileRejected() throws {
        let path = directory.path("notes.txt")
        let text = String(repeating: "These are notes, not a database.\n", count: 200)
        try text.write(toFile: path, atomically: true, encoding: .utf8)

        let error = storageError { _ = try RunStore(path: path) }
        XCTAssertEqual(error?.kind, .notADatabase)
        XCTAssertEqual(error?.description.hasPrefix("file \(path) is not a SQLite database"), true)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), text)
    }

    func testForeignSQLiteDatabaseRejected() throws {
        let path = directory.path("other.db")
        let connection = try SQLiteConnection(path: path, readOnly: false)
        try connection.execute("CREATE TABLE contacts (name TEXT)")
        connection.close()

        let error = storageError { _ = try RunStore(path: path) }
        XCTAssertEqual(error?.kind, .unsupportedSchema)
        XCTAssertEqual(error?.description.contains("not a loadsmoke database"), true)
    }

    func testMissingDirectoryRejected() throws {
        let path = directory.path("missing/runs.db")

        let error = storageError { _ = try RunStore(path: path) }
        XCTAssertEqual(error?.kind, .sqlite)
        XCTAssertEqual(error?.step, "open")
        XCTAssertEqual(error?.description.contains(path), true)
    }

    func testReadOnlyMissingFileRejected() throws {
        let path = directory.path("runs.db")

        let error = storageError { _ = try RunStore(path: path, readOnly: true) }
        XCTAssertEqual(error?.kind, .notFound)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
    }

    func testReadOnlyEmptyFileRejected() throws {
        let path = directory.path("runs.db")
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data()))

        let error = storageError { _ = try RunStore(path: path, readOnly: true) }
        XCTAssertEqual(error?.kind, .unsupportedSchema)
        XCTAssertEqual(error?.description.contains("has no loadsmoke schema"), true)
    }

    func testConnectionSettings() throws {
        let store = try RunStore(path: directory.path("runs.db"))
        defer { store.close() }

        XCTAssertEqual(try store.textForTest("PRAGMA journal_mode"), "wal")
        XCTAssertEqual(try store.integerForTest("PRAGMA foreign_keys"), 1)
        XCTAssertEqual(try store.integerForTest("PRAGMA synchronous"), 1, "1 is NORMAL")
        XCTAssertEqual(try store.integerForTest("PRAGMA busy_timeout"), Int(RunStore.busyTimeoutMilliseconds))
    }

    func testMigrationsApplyInVersionOrder() throws {
        let migrations = [
            Migration(version: 2, name: "add_notes", sql: "ALTER TABLE items ADD COLUMN note TEXT;"),
            Migration(version: 1, name: "create_items", sql: "CREATE TABLE items (id INTEGER PRIMARY KEY);"),
        ]
        let connection = try SQLiteConnection(path: directory.path("custom.db"), readOnly: false)
        defer { connection.close() }

        XCTAssertEqual(try Migrator(migrations: migrations).migrate(connection), [1, 2])
        let names = try connection.query("SELECT name FROM schema_migrations ORDER BY version") { $0.text(0) }
        XCTAssertEqual(names, ["create_items", "add_notes"])
        let columns = try connection.query("SELECT name FROM pragma_table_info('items')") { $0.text(0) }
        XCTAssertEqual(columns, ["id", "note"])
    }

    func testUpgradeAppliesOnlyNewMigrations() throws {
        let first = Migration(version: 1, name: "create_items", sql: "CREATE TABLE items (id INTEGER PRIMARY KEY);")
        let second = Migration(version: 2, name: "create_tags", sql: "CREATE TABLE tags (id INTEGER PRIMARY KEY);")
        let connection = try SQLiteConnection(path: directory.path("custom.db"), readOnly: false)
        defer { connection.close() }

        XCTAssertEqual(try Migrator(migrations: [first]).migrate(connection), [1])
        XCTAssertEqual(try Migrator(migrations: [first, second]).migrate(connection), [2])
        XCTAssertEqual(try Migrator(migrations: [first, second]).currentVersion(connection), 2)
    }

    func testVersionOneDatabaseUpgradesKeepingRuns() throws {
        let path = directory.path("runs.db")
        let versionOne = try RunStore(path: path, readOnly: false, migrations: [Migration.embedded[0]])
        XCTAssertEqual(try versionOne.schemaVersion(), 1)
        // The write methods name the version 2 columns, so the old rows are written as SQL.
        try versionOne.executeForTest("""
            INSERT INTO runs (target, started_at, finished_at, status, requests, succeeded, failed, p50_ms, p95_ms,
                              p99_ms, mean_ms, min_ms, max_ms, report_json)
            VALUES ('chat', 1700000000, 1700000010, 'passed', 10, 9, 1, 80, 120.5, 250, 90, 12, 300, '{}');
            INSERT INTO run_errors (run_id, kind, count) VALUES (1, 'timeout', 1);
            INSERT INTO runs (target, started_at, finished_at, status) VALUES ('chat', 1700000060, 1700000061, 'error');
            """)
        versionOne.close()

        let upgraded = try RunStore(path: path)
        defer { upgraded.close() }

        XCTAssertEqual(try upgraded.schemaVersion(), RunStore.supportedSchemaVersion)
        XCTAssertEqual(try upgraded.textForTest("SELECT name FROM schema_migrations WHERE version = 2"), "streaming_metrics")
        let runs = try upgraded.runs(RunQuery(target: "chat"))
        XCTAssertEqual(runs.map(\.id), [2, 1])
        XCTAssertEqual(runs.map(\.status), [.error, .passed])
        XCTAssertEqual(runs.last?.latency?.p95, 120.5)
        XCTAssertEqual(runs.last?.errors, ["timeout": 1])
        XCTAssertEqual(runs.map(\.streaming), [nil, nil])
        XCTAssertEqual(try upgraded.runCounts()["chat"], [.passed: 1, .error: 1])
        XCTAssertEqual(try upgraded.integrityCheck(), "ok")
    }

    func testUpgradedDatabaseStoresStreamingRuns() throws {
        let path = directory.path("runs.db")
        try RunStore(path: path, readOnly: false, migrations: [Migration.embedded[0]]).close()

        let upgraded = try RunStore(path: path)
        defer { upgraded.close() }
        var outcome = sampleOutcome()
        outcome.streaming = StreamingSummary(
            timeToFirstToken: LatencyPercentiles(p50: 110, p95: 180, p99: 240), interTokenLatency: nil, tokensPerSecond: nil
        )
        let id = try upgraded.insertCompletedRun(target: "chat", startedAt: time(0), outcome: outcome)

        XCTAssertEqual(try upgraded.run(id: id)?.streaming, outcome.streaming)
    }

    func testVersionTwoDatabaseUpgradesKeepingRuns() throws {
        let path = directory.path("runs.db")
        let versionTwo = try RunStore(path: path, readOnly: false, migrations: Array(Migration.embedded[0..<2]))
        XCTAssertEqual(try versionTwo.schemaVersion(), 2)
        try versionTwo.executeForTest("""
            INSERT INTO runs (target, started_at, finished_at, status, requests, succeeded, failed, p50_ms, p95_ms,
                              p99_ms, mean_ms, min_ms, max_ms, report_json, ttft_p50_ms, ttft_p95_ms, ttft_p99_ms)
            VALUES ('chat', 1700000000, 1700000010, 'failed', 10, 9, 1, 80, 120.5, 250, 90, 12, 300, '{}', 5, 6, 7);
            INSERT INTO run_budgets (run_id, position, name, actual, limit_value, unit, passed)
            VALUES (1, 0, 'p95', 120.5, 100, 'ms', 0);
            INSERT INTO runs (target, started_at, status) VALUES ('chat', 1700000060, 'running');
            """)
        versionTwo.close()

        let upgraded = try RunStore(path: path)
        defer { upgraded.close() }

        XCTAssertEqual(try upgraded.schemaVersion(), 3)
        XCTAssertEqual(try upgraded.textForTest("SELECT name FROM schema_migrations WHERE version = 3"), "latency_histograms")
        let old = try XCTUnwrap(upgraded.run(id: 1))
        XCTAssertEqual(old.status, .failed)
        XCTAssertEqual(old.latency?.p99, 250)
        XCTAssertEqual(old.streaming?.timeToFirstToken, LatencyPercentiles(p50: 5, p95: 6, p99: 7))
        XCTAssertEqual(old.budgets.map(\.name), ["p95"])
        XCTAssertNil(old.latencyHistogram)
        XCTAssertNil(old.latencyHistogramError)
        XCTAssertEqual(try upgraded.runs(RunQuery(target: "chat")).map(\.status), [.running, .failed])
        XCTAssertNil(try upgraded.mergedLatency(target: "chat", since: time(-10), until: time(100)))
        XCTAssertEqual(try upgraded.integrityCheck(), "ok")
    }

    func testUpgradedRunningRunStoresHistogram() throws {
        let path = directory.path("runs.db")
        let versionTwo = try RunStore(path: path, readOnly: false, migrations: Array(Migration.embedded[0..<2]))
        let id = try versionTwo.beginRun(target: "chat", startedAt: time(0))
        versionTwo.close()

        let upgraded = try RunStore(path: path)
        defer { upgraded.close() }
        var histogram = LatencyHistogram()
        histogram.record(milliseconds: 42)
        var outcome = sampleOutcome()
        outcome.latencyHistogram = histogram
        try upgraded.finishRun(id: id, outcome: outcome)

        XCTAssertEqual(try upgraded.run(id: id)?.latencyHistogram, histogram)
    }

    func testForeignKeyViolationRollsBackMigration() throws {
        let parents = Migration(version: 1, name: "create_parents", sql: """
            CREATE TABLE parents (id INTEGER PRIMARY KEY);
            CREATE TABLE children (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parents (id));
            """)
        let orphan = Migration(version: 2, name: "add_orphan", sql: """
            CREATE TABLE audit (id INTEGER PRIMARY KEY);
            INSERT INTO children (id, parent_id) VALUES (1, 42);
            """)
        let connection = try SQLiteConnection(path: directory.path("custom.db"), readOnly: false)
        defer { connection.close() }
        let migrator = Migrator(migrations: [parents, orphan])

        let error = storageError { try migrator.migrate(connection) }
        XCTAssertEqual(error?.description.contains("foreign key violation"), true)
        XCTAssertEqual(try migrator.currentVersion(connection), 1)
        XCTAssertEqual(try connection.queryFirst("SELECT COUNT(*) FROM children") { $0.int(0) }, 0)
        let auditTables = try connection.queryFirst("SELECT COUNT(*) FROM sqlite_schema WHERE name = 'audit'") {
            $0.int(0)
        }
        XCTAssertEqual(auditTables, 0)
    }

    func testFailingStatementRollsBackMigration() throws {
        let broken = Migration(version: 1, name: "broken", sql: """
            CREATE TABLE first (id INTEGER PRIMARY KEY);
            CREATE TABLE first (id INTEGER PRIMARY KEY);
            """)
        let connection = try SQLiteConnection(path: directory.path("custom.db"), readOnly: false)
        defer { connection.close() }
        let migrator = Migrator(migrations: [broken])

        let error = storageError { try migrator.migrate(connection) }
        XCTAssertEqual(error?.step, "migration 1 (broken)")
        XCTAssertEqual(error?.description.contains("table first already exists"), true)
        XCTAssertEqual(try migrator.currentVersion(connection), 0)
        let tables = try connection.queryFirst("SELECT COUNT(*) FROM sqlite_schema WHERE name = 'first'") {
            $0.int(0)
        }
        XCTAssertEqual(tables, 0)
    }
}

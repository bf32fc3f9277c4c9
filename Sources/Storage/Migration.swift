import Foundation

/// One numbered schema change, taken from `Migrations/NNNN_name.sql`.
struct Migration: Equatable, Sendable {
    let version: Int
    let name: String
    let sql: String
}

/// Applies migrations to a connection and checks the schema version on open.
///
/// Each migration runs in its own `BEGIN IMMEDIATE` transaction with foreign key enforcement
/// off, as SQLite's table-rebuild procedure requires, and commits only when
/// `PRAGMA foreign_key_check` finds no violation. The transaction records the migration in
/// `schema_migrations(version, name, applied_at)`.
struct Migrator {
    let migrations: [Migration]

    init(migrations: [Migration]) {
        self.migrations = migrations.sorted { $0.version < $1.version }
    }

    var latestVersion: Int { migrations.last?.version ?? 0 }

    /// Creates the bookkeeping table and applies every migration newer than the database's
    /// version. Returns the versions applied by this call.
    /// Throws `unsupportedSchema` when the database is newer than `latestVersion` or when the
    /// file contains tables but no `schema_migrations` table. After a thrown error, foreign key
    /// enforcement may still be off, so the caller must discard the connection.
    @discardableResult
    func migrate(_ connection: SQLiteConnection, now: () -> Date = Date.init) throws -> [Int] {
        if try !hasMigrationsTable(connection) {
            try connection.immediateTransaction {
                // Checked again under the write lock, because another process opening the same
                // new file may have created the schema since. Its tables are not foreign.
                guard try !hasMigrationsTable(connection) else { return }
                try rejectForeignSchema(connection)
                try connection.execute("""
                    CREATE TABLE schema_migrations (
                        version    INTEGER PRIMARY KEY,
                        name       TEXT    NOT NULL,
                        applied_at REAL    NOT NULL
                    )
                    """)
            }
        }
        let startVersion = try currentVersion(connection)
        try rejectNewerSchema(version: startVersion, path: connection.path)

        let pending = migrations.filter { $0.version > startVersion }
        guard !pending.isEmpty else { return [] }

        // PRAGMA foreign_keys is a no-op inside a transaction, so it is switched around them.
        try connection.execute("PRAGMA foreign_keys = OFF")

        var applied: [Int] = []
        for migration in pending {
            let didApply = try connection.immediateTransaction { () throws -> Bool in
                // Another process may have applied it between our version read and this lock.
                guard try currentVersion(connection) < migration.version else { return false }
                try connection.executeScript(
                    migration.sql, step: "migration \(migration.version) (\(migration.name))"
                )
                try checkForeignKeys(connection, migration: migration)
                try connection.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    [.integer(Int64(migration.version)), .text(migration.name), .date(now())]
                )
                return true
            }
            if didApply { applied.append(migration.version) }
        }
        try connection.execute("PRAGMA foreign_keys = ON")
        return applied
    }

    /// Checks, without writing, that the database has exactly the schema this binary expects.
    func verify(_ connection: SQLiteConnection) throws {
        guard try hasMigrationsTable(connection) else {
            throw StorageError(
                kind: .unsupportedSchema, path: connection.path, step: "read schema version",
                description: "database \(connection.path) has no loadsmoke schema; open it once without "
                    + "read-only mode to create it, or check the path"
            )
        }
        let version = try currentVersion(connection)
        try rejectNewerSchema(version: version, path: connection.path)
        if version < latestVersion {
            throw StorageError(
                kind: .unsupportedSchema, path: connection.path, step: "read schema version",
                description: "database \(connection.path) has schema version \(version), older than this "
                    + "loadsmoke expects (\(latestVersion)); open it once without read-only mode "
                    + "(for example with the daemon) to upgrade it"
            )
        }
    }

    func currentVersion(_ connection: SQLiteConnection) throws -> Int {
        try connection.queryFirst("SELECT COALESCE(MAX(version), 0) FROM schema_migrations") { $0.int(0) } ?? 0
    }

    private func hasMigrationsTable(_ connection: SQLiteConnection) throws -> Bool {
        try connection.queryFirst(
            "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'"
        ) { _ in true } ?? false
    }

    /// Rejects a SQLite file that belongs to some other program, so migrations never add
    /// loadsmoke's tables to it.
    private func rejectForeignSchema(_ connection: SQLiteConnection) throws {
        let objectCount = try connection.queryFirst("SELECT COUNT(*) FROM sqlite_schema") { $0.int(0) } ?? 0
        guard objectCount > 0 else { return }
        throw StorageError(
            kind: .unsupportedSchema, path: connection.path, step: "read schema version",
            description: "database \(connection.path) contains tables but no schema_migrations table, so it "
                + "is not a loadsmoke database; pass a new file or a loadsmoke database"
        )
    }

    private func rejectNewerSchema(version: Int, path: String) throws {
        guard version > latestVersion else { return }
        throw StorageError(
            kind: .unsupportedSchema, path: path, step: "read schema version",
            description: "database \(path) has schema version \(version), newer than this loadsmoke "
                + "supports (\(latestVersion)); upgrade loadsmoke"
        )
    }

    private func checkForeignKeys(_ connection: SQLiteConnection, migration: Migration) throws {
        let violations = try connection.query("PRAGMA foreign_key_check") { row in
            "\(row.text(0)) row \(row.int64(1)) -> \(row.text(2))"
        }
        guard !violations.isEmpty else { return }
        let firstViolations = violations.prefix(5).joined(separator: ", ")
        throw StorageError(
            kind: .sqlite, path: connection.path, step: "migration \(migration.version) (\(migration.name))",
            description: "database \(connection.path): migration \(migration.version) (\(migration.name)) "
                + "left \(violations.count) foreign key violation(s): \(firstViolations); the migration was rolled "
                + "back, so fix the migration's SQL"
        )
    }
}

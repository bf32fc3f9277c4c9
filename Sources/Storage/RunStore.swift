import CSQLite
import Foundation

/// The run history in one SQLite file.
///
/// The store keeps one connection, guarded by a lock, so one instance can be shared by the
/// scheduler that writes and the HTTP server that reads. Several processes may open the same
/// file: WAL mode lets readers run beside the writer, and writers wait up to
/// `busyTimeoutMilliseconds` for each other.
public final class RunStore: @unchecked Sendable {
    /// How long a statement waits for another connection's lock before it fails with SQLITE_BUSY.
    public static let busyTimeoutMilliseconds: Int32 = 5000

    /// The highest schema version this binary can read and write.
    public static var supportedSchemaVersion: Int { Migrator(migrations: Migration.embedded).latestVersion }

    public let path: String
    public let isReadOnly: Bool
    private let lock = NSLock()
    // Every access goes through `withConnection`, which takes `lock`.
    private let connection: SQLiteConnection

    /// Opens the database at `path`, creating the file when it is missing (its directory must
    /// exist) and applying pending migrations. With `readOnly`, the file must exist and already
    /// have the current schema, and every write method throws.
    /// Throws `StorageError` when the file is not a SQLite database, has a schema newer than
    /// `supportedSchemaVersion`, or cannot be opened or migrated.
    public convenience init(path: String, readOnly: Bool = false) throws {
        try self.init(path: path, readOnly: readOnly, migrations: Migration.embedded)
    }

    /// Opens the store with the given migrations in place of the embedded ones. Tests use it to
    /// check how the migrator treats other schemas.
    init(path: String, readOnly: Bool, migrations: [Migration]) throws {
        if readOnly, !FileManager.default.fileExists(atPath: path) {
            throw StorageError(
                kind: .notFound, path: path, step: "open",
                description: "database \(path) not found; check the path, or run loadsmoke with this "
                    + "file as its store once to create it"
            )
        }
        self.path = path
        self.isReadOnly = readOnly
        connection = try SQLiteConnection(path: path, readOnly: readOnly)
        do {
            try configure(migrations: migrations)
        } catch {
            connection.close()
            throw error
        }
    }

    deinit {
        connection.close()
    }

    private func configure(migrations: [Migration]) throws {
        try connection.setBusyTimeout(milliseconds: Self.busyTimeoutMilliseconds)

        // The first read of the file fails with SQLITE_NOTADB when the file is not SQLite.
        _ = try connection.queryFirst("SELECT COUNT(*) FROM sqlite_schema") { $0.int(0) }

        let migrator = Migrator(migrations: migrations)
        if isReadOnly {
            try migrator.verify(connection)
        } else {
            // The journal mode is stored in the file, so a read-only open finds WAL already set.
            try enableWriteAheadLog()
            try migrator.migrate(connection)
        }
        // NORMAL is durable in WAL mode except for the last commits before a power loss.
        try connection.execute("PRAGMA synchronous = NORMAL")
        try connection.execute("PRAGMA foreign_keys = ON")
    }

    private func enableWriteAheadLog() throws {
        let currentMode = try connection.queryFirst("PRAGMA journal_mode") { $0.text(0) } ?? ""
        guard currentMode.lowercased() != "wal" else { return }

        // Switching a new file to WAL needs an exclusive lock. When several connections open the
        // same new file at once, SQLite returns SQLITE_BUSY without waiting for the busy timeout
        // (seen with SQLite 3.40), so this retries for about as long as that timeout.
        let pause: useconds_t = 50_000
        let attempts = max(1, Int(Self.busyTimeoutMilliseconds) / 50)
        var mode = ""
        for attempt in 1...attempts {
            do {
                mode = try connection.queryFirst("PRAGMA journal_mode = WAL") { $0.text(0) } ?? ""
                break
            } catch let error as StorageError where error.sqliteCode.map({ $0 & 0xff == SQLITE_BUSY }) == true {
                if attempt == attempts { throw error }
                usleep(pause)
            }
        }
        guard mode.lowercased() == "wal" else {
            throw StorageError(
                kind: .sqlite, path: path, step: "PRAGMA journal_mode = WAL",
                description: "database \(path): could not switch to WAL journal mode (mode is "
                    + "\"\(mode)\"); keep the file on a local file system"
            )
        }
    }

    /// Closes the connection. Later calls throw `StorageError` of kind `unavailable`.
    public func close() {
        lock.lock()
        defer { lock.unlock() }
        connection.close()
    }

    /// Runs `body` with the connection while holding the lock.
    func withConnection<Result>(_ body: (SQLiteConnection) throws -> Result) throws -> Result {
        lock.lock()
        defer { lock.unlock() }
        guard connection.isOpen else {
            throw StorageError(
                kind: .unavailable, path: path, step: "use store",
                description: "database \(path) is closed; open a new RunStore"
            )
        }
        return try body(connection)
    }

    /// Runs `body` inside one write transaction while holding the lock.
    func withWriteTransaction<Result>(step: String, _ body: (SQLiteConnection) throws -> Result) throws -> Result {
        guard !isReadOnly else {
            throw StorageError(
                kind: .unavailable, path: path, step: step,
                description: "database \(path) is open read-only, so \(step) cannot write; open it "
                    + "without read-only mode"
            )
        }
        return try withConnection { connection in
            try connection.immediateTransaction { try body(connection) }
        }
    }

    /// Returns the result rows of `PRAGMA integrity_check` joined by line breaks: `ok` for a
    /// sound database, otherwise one line per problem (at most 100, SQLite's default).
    public func integrityCheck() throws -> String {
        try withConnection { connection in
            try connection.query("PRAGMA integrity_check") { $0.text(0) }.joined(separator: "\n")
        }
    }

    /// Returns the schema version recorded in the file.
    public func schemaVersion() throws -> Int {
        try withConnection { connection in
            try Migrator(migrations: []).currentVersion(connection)
        }
    }
}

import CSQLite
import Foundation

/// A value bound to a `?` parameter of a prepared statement.
enum SQLiteValue {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])

    static func optional(_ value: Double?) -> SQLiteValue {
        value.map(SQLiteValue.real) ?? .null
    }

    static func optional(_ value: Int32?) -> SQLiteValue {
        value.map { SQLiteValue.integer(Int64($0)) } ?? .null
    }

    static func date(_ date: Date) -> SQLiteValue {
        .real(date.timeIntervalSince1970)
    }
}

/// One SQLite connection. It is not thread-safe: `RunStore` serializes every call with its lock.
/// Every failing SQLite call throws a `StorageError` with SQLite's message.
final class SQLiteConnection {
    let path: String
    private var handle: OpaquePointer?

    /// Opens `path`, creating the file (but not its directory) unless `readOnly` is set.
    init(path: String, readOnly: Bool) throws {
        self.path = path
        // NOMUTEX: RunStore's lock already serializes all use of this connection.
        let flags = readOnly
            ? SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX
            : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        var opened: OpaquePointer?
        let code = sqlite3_open_v2(path, &opened, flags, nil)
        guard code == SQLITE_OK, let opened else {
            // The handle contains the message even when opening fails, and must be closed.
            let message = opened.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(code))
            sqlite3_close_v2(opened)
            throw StorageError.sqlite(path: path, step: "open", code: code, message: message)
        }
        handle = opened
        try check(sqlite3_extended_result_codes(opened, 1), step: "enable extended result codes")
    }

    deinit {
        close()
    }

    var isOpen: Bool { handle != nil }

    /// Closes the connection. Statements are always finalized before their call returns, so
    /// nothing keeps the connection alive after this.
    func close() {
        guard let handle else { return }
        // sqlite3_close_v2 fails only for an invalid handle, and this method has no caller to
        // report to. Without pending statements it closes at once.
        sqlite3_close_v2(handle)
        self.handle = nil
    }

    func setBusyTimeout(milliseconds: Int32) throws {
        try check(sqlite3_busy_timeout(try openHandle(), milliseconds), step: "set busy timeout")
    }

    /// Runs SQL text that may hold several statements and binds no values, such as a migration.
    func executeScript(_ sql: String, step: String) throws {
        let handle = try openHandle()
        var errorMessage: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
        if code != SQLITE_OK {
            let message = errorMessage.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(errorMessage)
            throw StorageError.sqlite(path: path, step: step, code: code, message: message)
        }
    }

    /// Runs one statement with `values` bound in order and discards any rows.
    func execute(_ sql: String, _ values: [SQLiteValue] = []) throws {
        try withStatement(sql, values) { statement in
            while try statement.step() {}
        }
    }

    /// Runs one statement and maps each result row with `row`.
    func query<Row>(_ sql: String, _ values: [SQLiteValue] = [], row: (Statement) throws -> Row) throws -> [Row] {
        try withStatement(sql, values) { statement in
            var rows: [Row] = []
            while try statement.step() {
                rows.append(try row(statement))
            }
            return rows
        }
    }

    /// Runs one statement and maps its first row, or returns nil when there is none.
    func queryFirst<Row>(_ sql: String, _ values: [SQLiteValue] = [], row: (Statement) throws -> Row) throws -> Row? {
        try withStatement(sql, values) { statement in
            try statement.step() ? try row(statement) : nil
        }
    }

    /// Prepares `sql`, binds `values`, runs `body` and finalizes the statement however `body` ends.
    func withStatement<Result>(
        _ sql: String, _ values: [SQLiteValue], _ body: (Statement) throws -> Result
    ) throws -> Result {
        let handle = try openHandle()
        var prepared: OpaquePointer?
        let code = sqlite3_prepare_v2(handle, sql, -1, &prepared, nil)
        let step = Self.shortened(sql)
        guard code == SQLITE_OK, let prepared else {
            throw StorageError.sqlite(path: path, step: step, code: code, message: String(cString: sqlite3_errmsg(handle)))
        }
        let statement = Statement(connection: self, handle: prepared, step: step)
        // sqlite3_finalize returns the error of the last step, which step() already threw.
        defer { sqlite3_finalize(prepared) }
        for (index, value) in values.enumerated() {
            try statement.bind(value, at: Int32(index + 1))
        }
        return try body(statement)
    }

    /// Runs `body` inside `BEGIN IMMEDIATE` ... `COMMIT`, rolling back when it throws.
    /// IMMEDIATE takes the write lock up front, so the busy timeout applies. In WAL mode a
    /// deferred transaction that later upgrades to a write can fail with SQLITE_BUSY at once.
    func immediateTransaction<Result>(_ body: () throws -> Result) throws -> Result {
        try execute("BEGIN IMMEDIATE")
        let result: Result
        do {
            result = try body()
            try execute("COMMIT")
        } catch {
            rollbackIgnoringErrors()
            throw error
        }
        return result
    }

    /// Rolls back the open transaction, if any. The error that led here is the one worth
    /// reporting, and SQLite may already have rolled back by itself (for example after
    /// SQLITE_FULL), in which case ROLLBACK fails harmlessly.
    func rollbackIgnoringErrors() {
        guard let handle, sqlite3_get_autocommit(handle) == 0 else { return }
        sqlite3_exec(handle, "ROLLBACK", nil, nil, nil)
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE on this connection.
    var changes: Int {
        handle.map { Int(sqlite3_changes64($0)) } ?? 0
    }

    var lastInsertRowID: Int64 {
        handle.map { sqlite3_last_insert_rowid($0) } ?? 0
    }

    func check(_ code: Int32, step: String) throws {
        guard code != SQLITE_OK else { return }
        let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(code))
        throw StorageError.sqlite(path: path, step: step, code: code, message: message)
    }

    fileprivate func error(code: Int32, step: String) -> StorageError {
        let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(code))
        return StorageError.sqlite(path: path, step: step, code: code, message: message)
    }

    private func openHandle() throws -> OpaquePointer {
        guard let handle else {
            throw StorageError(
                kind: .unavailable, path: path, step: "use connection",
                description: "database \(path) is closed; open a new RunStore"
            )
        }
        return handle
    }

    /// Returns the statement as one line of at most 80 characters, for error messages.
    private static func shortened(_ sql: String) -> String {
        let words = sql.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" })
        let line = words.joined(separator: " ")
        return line.count <= 80 ? line : String(line.prefix(77)) + "..."
    }
}

/// A prepared statement that is valid only inside `SQLiteConnection.withStatement`.
final class Statement {
    private unowned let connection: SQLiteConnection
    private let handle: OpaquePointer
    private let stepName: String

    fileprivate init(connection: SQLiteConnection, handle: OpaquePointer, step: String) {
        self.connection = connection
        self.handle = handle
        self.stepName = step
    }

    fileprivate func bind(_ value: SQLiteValue, at index: Int32) throws {
        let code: Int32
        switch value {
        case .null:
            code = sqlite3_bind_null(handle, index)
        case let .integer(number):
            code = sqlite3_bind_int64(handle, index, number)
        case let .real(number):
            code = sqlite3_bind_double(handle, index, number)
        case let .text(text):
            code = sqlite3_bind_text(handle, index, text, -1, csqlite_transient())
        case let .blob(bytes) where bytes.isEmpty:
            // An empty array may have no base address, and SQLite binds a nil pointer as NULL.
            code = sqlite3_bind_zeroblob(handle, index, 0)
        case let .blob(bytes):
            code = bytes.withUnsafeBytes { buffer in
                sqlite3_bind_blob64(handle, index, buffer.baseAddress, sqlite3_uint64(buffer.count), csqlite_transient())
            }
        }
        guard code == SQLITE_OK else { throw connection.error(code: code, step: stepName) }
    }

    /// Advances to the next row; returns false when the statement is done.
    func step() throws -> Bool {
        let code = sqlite3_step(handle)
        switch code {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw connection.error(code: code, step: stepName)
        }
    }

    func isNull(_ column: Int32) -> Bool {
        sqlite3_column_type(handle, column) == SQLITE_NULL
    }

    func int64(_ column: Int32) -> Int64 {
        sqlite3_column_int64(handle, column)
    }

    func int(_ column: Int32) -> Int {
        Int(sqlite3_column_int64(handle, column))
    }

    func double(_ column: Int32) -> Double {
        sqlite3_column_double(handle, column)
    }

    func optionalDouble(_ column: Int32) -> Double? {
        isNull(column) ? nil : double(column)
    }

    func optionalInt32(_ column: Int32) -> Int32? {
        isNull(column) ? nil : Int32(truncatingIfNeeded: sqlite3_column_int64(handle, column))
    }

    func date(_ column: Int32) -> Date {
        Date(timeIntervalSince1970: double(column))
    }

    func optionalDate(_ column: Int32) -> Date? {
        isNull(column) ? nil : date(column)
    }

    /// Returns the column's bytes, with NULL as an empty array.
    func blob(_ column: Int32) -> [UInt8] {
        // sqlite3_column_bytes must follow sqlite3_column_blob, which may convert the value first.
        guard let bytes = sqlite3_column_blob(handle, column) else { return [] }
        let count = Int(sqlite3_column_bytes(handle, column))
        return Array(UnsafeRawBufferPointer(start: bytes, count: count))
    }

    /// Returns the column as text, with NULL as the empty string.
    func text(_ column: Int32) -> String {
        guard let bytes = sqlite3_column_text(handle, column) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }
}

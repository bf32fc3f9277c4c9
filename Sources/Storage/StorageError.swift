import CSQLite

/// A failure of the run store: the database file, the step that failed and, for SQLite failures,
/// SQLite's own message and extended result code.
public struct StorageError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// A SQLite call returned an error. `sqliteCode` and the message carry SQLite's details.
        case sqlite
        /// The file exists but is not a SQLite database.
        case notADatabase
        /// The schema is newer or older than this binary supports, or missing from a read-only open.
        case unsupportedSchema
        /// The file, or the run named in the request, does not exist.
        case notFound
        /// An argument was rejected before any SQL ran.
        case invalidArgument
        /// The store was used after `close()`, or was asked to write after a read-only open.
        case unavailable
        /// A stored value could not be decoded, such as a latency histogram blob that fails its checksum.
        case corruptData
    }

    public let kind: Kind
    /// The database file path as the caller passed it.
    public let path: String
    /// The SQL statement (shortened) or API step that failed, such as `open` or `finishRun`.
    public let step: String
    /// SQLite's extended result code, or nil for failures that did not come from SQLite.
    public let sqliteCode: Int32?
    /// The complete message for users: what failed, on which file, and what to do next.
    public let description: String

    init(kind: Kind, path: String, step: String, sqliteCode: Int32? = nil, description: String) {
        self.kind = kind
        self.path = path
        self.step = step
        self.sqliteCode = sqliteCode
        self.description = description
    }

    /// Builds the error for a failed SQLite call from SQLite's message and result code.
    static func sqlite(path: String, step: String, code: Int32, message: String) -> StorageError {
        let primaryCode = code & 0xff
        if primaryCode == SQLITE_NOTADB {
            return StorageError(
                kind: .notADatabase, path: path, step: step, sqliteCode: code,
                description: "file \(path) is not a SQLite database (\(message)); check the path, "
                    + "or move the file away so loadsmoke can create a new database"
            )
        }
        var description = "database \(path): \(step) failed: \(message) (SQLite code \(code))"
        if let advice = advice(forPrimaryCode: primaryCode) {
            description += "; \(advice)"
        }
        return StorageError(kind: .sqlite, path: path, step: step, sqliteCode: code, description: description)
    }

    /// Builds the error for a stored latency histogram of run `runID` that `LatencyHistogram(decoding:)` rejected.
    static func undecodableHistogram(path: String, step: String, runID: Int64, cause: Error) -> StorageError {
        StorageError(
            kind: .corruptData, path: path, step: step,
            description: "run \(runID) in database \(path): invalid stored latency histogram (\(cause)); merged "
                + "percentiles leave the run out, so delete its run_histograms row (run_id \(runID)) or restore the "
                + "database from a backup"
        )
    }

    private static func advice(forPrimaryCode code: Int32) -> String? {
        switch code {
        case SQLITE_BUSY, SQLITE_LOCKED:
            return "another connection holds a lock on the database; retry, or stop the process "
                + "that keeps a write transaction open"
        case SQLITE_READONLY, SQLITE_PERM:
            return "check that the file and its directory are writable by this user"
        case SQLITE_CANTOPEN:
            return "check that the directory exists and that the file and directory are accessible"
        case SQLITE_FULL:
            return "free disk space, or prune old runs"
        case SQLITE_CORRUPT:
            return "restore the database from a backup, or move it away to start a new one"
        case SQLITE_IOERR:
            return "check the disk and file system for errors"
        default:
            return nil
        }
    }
}

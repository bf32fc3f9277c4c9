import Foundation
import JSONCoding
import Measurement

extension RunStore {
    /// Stores a new run with status `running` and returns its id.
    public func beginRun(target: String, startedAt: Date) throws -> Int64 {
        try validateTarget(target, step: "beginRun")
        return try withWriteTransaction(step: "beginRun") { connection in
            try connection.execute(
                "INSERT INTO runs (target, started_at, status) VALUES (?, ?, 'running')",
                [.text(target), .date(startedAt)]
            )
            return connection.lastInsertRowID
        }
    }

    /// Writes the outcome of a run started with `beginRun`, with its error kinds, budgets and
    /// latency histogram, in one transaction. Throws `notFound` for an unknown id and `invalidArgument` when the run is
    /// no longer `running` or the outcome is invalid.
    public func finishRun(id: Int64, outcome: RunOutcome) throws {
        try validate(outcome, step: "finishRun")
        try withWriteTransaction(step: "finishRun") { connection in
            let status = try connection.queryFirst("SELECT status FROM runs WHERE id = ?", [.integer(id)]) {
                $0.text(0)
            }
            guard let status else {
                throw StorageError(
                    kind: .notFound, path: path, step: "finishRun",
                    description: "run \(id) not found in database \(path); pass an id returned by beginRun"
                )
            }
            guard status == RunStatus.running.rawValue else {
                throw StorageError(
                    kind: .invalidArgument, path: path, step: "finishRun",
                    description: "run \(id) in database \(path) already ended with status \(status); "
                        + "only a running run can be finished"
                )
            }
            try connection.execute(
                """
                UPDATE runs SET \(Self.outcomeColumns.map { "\($0) = ?" }.joined(separator: ", "))
                WHERE id = ?
                """,
                Self.outcomeValues(outcome) + [.integer(id)]
            )
            try insertDetails(of: outcome, runID: id, connection: connection)
        }
    }

    /// Stores a run that already finished, such as a one-shot CI run, with its error kinds, budgets
    /// and latency histogram, in one transaction, and returns its id.
    public func insertCompletedRun(target: String, startedAt: Date, outcome: RunOutcome) throws -> Int64 {
        try validateTarget(target, step: "insertCompletedRun")
        try validate(outcome, step: "insertCompletedRun")
        return try withWriteTransaction(step: "insertCompletedRun") { connection in
            let columns = ["target", "started_at"] + Self.outcomeColumns
            let placeholders = Array(repeating: "?", count: columns.count).joined(separator: ", ")
            try connection.execute(
                "INSERT INTO runs (\(columns.joined(separator: ", "))) VALUES (\(placeholders))",
                [.text(target), .date(startedAt)] + Self.outcomeValues(outcome)
            )
            let id = connection.lastInsertRowID
            try insertDetails(of: outcome, runID: id, connection: connection)
            return id
        }
    }

    /// Marks every run still `running` as `interrupted`, finished at `at`, and returns how many
    /// it marked. The daemon calls this on start-up, before it begins new runs.
    /// NOTE: this also marks runs that another live process sharing the file is still running.
    /// One-shot runs are safe because `insertCompletedRun` never leaves a `running` row.
    public func markUnfinishedRunsInterrupted(at: Date) throws -> Int {
        try withWriteTransaction(step: "markUnfinishedRunsInterrupted") { connection in
            try connection.execute(
                "UPDATE runs SET status = 'interrupted', finished_at = ? WHERE status = 'running'",
                [.date(at)]
            )
            return connection.changes
        }
    }

    /// Stores the alert command that ran after run `runID`, keeping the first
    /// `AlertRecord.maximumOutputBytes` bytes of its output. A run has at most one alert, so a
    /// second call for the same run throws `invalidArgument`; an unknown run throws `notFound`.
    public func recordAlert(runID: Int64, alert: AlertRecord) throws {
        guard !alert.event.isEmpty else {
            throw StorageError(
                kind: .invalidArgument, path: path, step: "recordAlert",
                description: "invalid alert for run \(runID): the event is empty; pass an event such as failure"
            )
        }
        try withWriteTransaction(step: "recordAlert") { connection in
            let exists = try connection.queryFirst("SELECT 1 FROM runs WHERE id = ?", [.integer(runID)]) { _ in true }
            guard exists != nil else {
                throw StorageError(
                    kind: .notFound, path: path, step: "recordAlert",
                    description: "run \(runID) not found in database \(path); it may have been pruned"
                )
            }
            let hasAlert = try connection.queryFirst(
                "SELECT 1 FROM run_alerts WHERE run_id = ?", [.integer(runID)]
            ) { _ in true }
            guard hasAlert == nil else {
                throw StorageError(
                    kind: .invalidArgument, path: path, step: "recordAlert",
                    description: "run \(runID) in database \(path) already has an alert record; record "
                        + "only the final attempt of an alert"
                )
            }
            try connection.execute(
                """
                INSERT INTO run_alerts (run_id, event, exit_status, signal, output, started_at, finished_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    .integer(runID), .text(alert.event), .optional(alert.exitStatus), .optional(alert.signal),
                    .text(Self.prefix(of: alert.output, maximumBytes: AlertRecord.maximumOutputBytes)),
                    .date(alert.startedAt), .date(alert.finishedAt),
                ]
            )
        }
    }

    /// Deletes finished runs that started before `cutoff`, with their details, and returns how
    /// many runs it deleted. Runs still `running` are kept. Each batch of
    /// `pruneBatchSize` runs is its own transaction, so readers and other writers get the lock
    /// between batches.
    public func prune(olderThan cutoff: Date) throws -> Int {
        var deleted = 0
        while true {
            let batchCount = try withWriteTransaction(step: "prune") { connection in
                try connection.execute(
                    """
                    DELETE FROM runs WHERE id IN (
                        SELECT id FROM runs WHERE started_at < ? AND status <> 'running' LIMIT ?
                    )
                    """,
                    [.date(cutoff), .integer(Int64(Self.pruneBatchSize))]
                )
                return connection.changes
            }
            deleted += batchCount
            // Each pass deletes at least one row or ends the loop, so it ends after at most
            // rows / pruneBatchSize + 1 passes.
            if batchCount < Self.pruneBatchSize { return deleted }
        }
    }

    /// Runs deleted per transaction by `prune`.
    static let pruneBatchSize = 500

    // MARK: - Helpers

    /// The `runs` columns an outcome fills, in the order of `outcomeValues`.
    private static let outcomeColumns = [
        "finished_at", "status", "requests", "succeeded", "failed", "fallbacks",
        "duration_s", "throughput_rps", "error_rate", "fallback_rate",
        "p50_ms", "p95_ms", "p99_ms", "mean_ms", "min_ms", "max_ms", "report_json",
        "ttft_p50_ms", "ttft_p95_ms", "ttft_p99_ms", "itl_p50_ms", "itl_p95_ms", "itl_p99_ms", "tokens_per_s",
    ]

    private static func outcomeValues(_ outcome: RunOutcome) -> [SQLiteValue] {
        let latency = outcome.latency
        return [
            .date(outcome.finishedAt), .text(outcome.status.rawValue),
            .integer(Int64(outcome.requests)), .integer(Int64(outcome.succeeded)),
            .integer(Int64(outcome.failed)), .integer(Int64(outcome.fallbacks)),
            .real(outcome.durationSeconds), .real(outcome.throughputRPS),
            .real(outcome.errorRate), .real(outcome.fallbackRate),
            .optional(latency?.p50), .optional(latency?.p95), .optional(latency?.p99),
            .optional(latency?.mean), .optional(latency?.min), .optional(latency?.max),
            outcome.reportJSON.isEmpty ? .null : .text(outcome.reportJSON),
        ] + streamingValues(outcome.streaming)
    }

    /// Returns the values of the seven streaming columns of `outcomeColumns`, all NULL for a run that did not stream.
    private static func streamingValues(_ streaming: StreamingSummary?) -> [SQLiteValue] {
        let firstToken = streaming?.timeToFirstToken
        let interToken = streaming?.interTokenLatency
        return [
            .optional(firstToken?.p50), .optional(firstToken?.p95), .optional(firstToken?.p99),
            .optional(interToken?.p50), .optional(interToken?.p95), .optional(interToken?.p99),
            .optional(streaming?.tokensPerSecond),
        ]
    }

    private func insertDetails(of outcome: RunOutcome, runID: Int64, connection: SQLiteConnection) throws {
        for (kind, count) in outcome.errors.sorted(by: { $0.key < $1.key }) {
            try connection.execute(
                "INSERT INTO run_errors (run_id, kind, count) VALUES (?, ?, ?)",
                [.integer(runID), .text(kind), .integer(Int64(count))]
            )
        }
        for (position, budget) in outcome.budgets.enumerated() {
            try connection.execute(
                """
                INSERT INTO run_budgets (run_id, position, name, actual, limit_value, unit, passed)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    .integer(runID), .integer(Int64(position)), .text(budget.name), .optional(budget.actual),
                    .real(budget.limit), .text(budget.unit), .integer(budget.passed ? 1 : 0),
                ]
            )
        }
        // An empty histogram carries no percentile, so it is stored like a missing one.
        if let histogram = outcome.latencyHistogram, histogram.count > 0 {
            try connection.execute(
                "INSERT INTO run_histograms (run_id, histogram) VALUES (?, ?)",
                [.integer(runID), .blob(histogram.encoded())]
            )
        }
    }

    private func validateTarget(_ target: String, step: String) throws {
        guard target.isEmpty else { return }
        throw StorageError(
            kind: .invalidArgument, path: path, step: step,
            description: "invalid target name: it is empty; pass the target's name from the configuration"
        )
    }

    /// Rejects outcomes that would store a contradiction or a report that is not JSON, so
    /// readers such as the HTTP server can rely on the stored values.
    private func validate(_ outcome: RunOutcome, step: String) throws {
        var problems: [String] = []
        if outcome.status == .running {
            problems.append("status is running, but an outcome needs a final status")
        }
        let counts = [
            ("requests", outcome.requests), ("succeeded", outcome.succeeded),
            ("failed", outcome.failed), ("fallbacks", outcome.fallbacks),
        ]
        for (name, value) in counts where value < 0 {
            problems.append("\(name) is \(value), below 0")
        }
        for (kind, count) in outcome.errors where count < 0 {
            problems.append("error kind \(kind) has count \(count), below 0")
        }
        for (name, value) in Self.streamingFields(outcome.streaming) where !(value.isFinite && value >= 0) {
            problems.append("streaming \(name) is \(value), expected a finite number of 0 or more")
        }
        if !outcome.reportJSON.isEmpty {
            do {
                _ = try JSONValue.parse(outcome.reportJSON)
            } catch {
                problems.append("reportJSON is not valid JSON (\(error))")
            }
        }
        guard !problems.isEmpty else { return }
        throw StorageError(
            kind: .invalidArgument, path: path, step: step,
            description: "invalid run outcome: \(problems.joined(separator: "; ")); fix the outcome before storing it"
        )
    }

    /// Returns the streaming values that are set, each with its name in messages.
    private static func streamingFields(_ streaming: StreamingSummary?) -> [(String, Double)] {
        guard let streaming else { return [] }
        let firstToken = streaming.timeToFirstToken
        let interToken = streaming.interTokenLatency
        let fields: [(String, Double?)] = [
            ("ttft p50", firstToken?.p50), ("ttft p95", firstToken?.p95), ("ttft p99", firstToken?.p99),
            ("itl p50", interToken?.p50), ("itl p95", interToken?.p95), ("itl p99", interToken?.p99),
            ("tokens_per_s", streaming.tokensPerSecond),
        ]
        return fields.compactMap { name, value in value.map { (name, $0) } }
    }

    /// Returns the longest prefix of `text` that fits in `maximumBytes` bytes of UTF-8 without
    /// splitting a character.
    static func prefix(of text: String, maximumBytes: Int) -> String {
        guard text.utf8.count > maximumBytes else { return text }
        var byteCount = 0
        var end = text.startIndex
        for index in text.indices {
            let characterBytes = text[index...].prefix(1).utf8.count
            guard byteCount + characterBytes <= maximumBytes else { break }
            byteCount += characterBytes
            end = text.index(after: index)
        }
        return String(text[..<end])
    }
}

import Foundation
import Measurement

extension RunStore {
    /// Returns the run with `id`, or nil when there is none, with its latency histogram.
    /// A stored histogram that fails to decode does not fail the call: the run comes back with a
    /// nil `latencyHistogram` and the `corruptData` error in `latencyHistogramError`.
    public func run(id: Int64) throws -> RunRecord? {
        try withConnection { connection in
            let runs = try connection.query(
                "SELECT \(Self.runColumns) FROM runs WHERE id = ?", [.integer(id)], row: decodeRun
            )
            guard var run = try attachDetails(to: runs, connection: connection).first else { return nil }

            let blob = try connection.queryFirst(
                "SELECT histogram FROM run_histograms WHERE run_id = ?", [.integer(id)]
            ) { $0.blob(0) }
            if let blob {
                switch decodeHistogram(blob, runID: id, step: "run") {
                case let .success(histogram): run.latencyHistogram = histogram
                case let .failure(error): run.latencyHistogramError = error
                }
            }
            return run
        }
    }

    /// Returns the runs that match `query`, newest first (by descending id), without their
    /// latency histograms, so a page stays cheap to read.
    /// Throws `invalidArgument` when the limit is outside 1...`RunQuery.maximumLimit`.
    public func runs(_ query: RunQuery) throws -> [RunRecord] {
        guard (1...RunQuery.maximumLimit).contains(query.limit) else {
            throw StorageError(
                kind: .invalidArgument, path: path, step: "runs",
                description: "invalid limit \(query.limit): pass a value from 1 to \(RunQuery.maximumLimit)"
            )
        }
        var conditions: [String] = []
        var values: [SQLiteValue] = []
        if let target = query.target {
            conditions.append("target = ?")
            values.append(.text(target))
        }
        if let since = query.since {
            conditions.append("started_at >= ?")
            values.append(.date(since))
        }
        if let until = query.until {
            conditions.append("started_at < ?")
            values.append(.date(until))
        }
        if let status = query.status {
            conditions.append("status = ?")
            values.append(.text(status.rawValue))
        }
        if let beforeID = query.beforeID {
            conditions.append("id < ?")
            values.append(.integer(beforeID))
        }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        values.append(.integer(Int64(query.limit)))

        return try withConnection { connection in
            let runs = try connection.query(
                "SELECT \(Self.runColumns) FROM runs \(whereClause) ORDER BY id DESC LIMIT ?",
                values, row: decodeRun
            )
            return try attachDetails(to: runs, connection: connection)
        }
    }

    /// Returns the newest run that is no longer `running` for each target, keyed by target name.
    public func latestRuns() throws -> [String: RunRecord] {
        try withConnection { connection in
            let runs = try connection.query(
                """
                SELECT \(Self.runColumns) FROM runs WHERE id IN (
                    SELECT MAX(id) FROM runs WHERE status <> 'running' GROUP BY target
                )
                """,
                row: decodeRun
            )
            let complete = try attachDetails(to: runs, connection: connection)
            return Dictionary(uniqueKeysWithValues: complete.map { ($0.target, $0) })
        }
    }

    /// Returns the number of consecutive `failed` or `error` runs of the target, counted back
    /// from its newest run with a verdict, or 0 when that run passed. Interrupted and running
    /// runs are skipped because they carry no verdict, so a restart during an outage does not
    /// reset the streak.
    public func failingStreak(target: String) throws -> Int {
        try withConnection { connection in
            try connection.withStatement(
                """
                SELECT status FROM runs
                WHERE target = ? AND status IN ('passed', 'failed', 'error')
                ORDER BY id DESC
                """,
                [.text(target)]
            ) { statement in
                var streak = 0
                // Stops at the first passed run, so it reads only the streak plus one row.
                while try statement.step(), statement.text(0) != RunStatus.passed.rawValue {
                    streak += 1
                }
                return streak
            }
        }
    }

    /// Returns the names of all targets with stored runs, sorted.
    public func targetNames() throws -> [String] {
        try withConnection { connection in
            try connection.query("SELECT DISTINCT target FROM runs ORDER BY target") { $0.text(0) }
        }
    }

    /// Returns how many runs of each target reached each status.
    /// Final statuses count every run since the database was created, including pruned runs,
    /// so the numbers only grow and suit Prometheus counters. `running` counts the runs
    /// running now. Statuses without runs are left out.
    public func runCounts() throws -> [String: [RunStatus: Int]] {
        try withConnection { connection in
            var counts: [String: [RunStatus: Int]] = [:]
            let totals = try connection.query("SELECT target, status, count FROM run_totals") { row in
                (row.text(0), row.text(1), row.int(2))
            }
            let running = try connection.query(
                "SELECT target, COUNT(*) FROM runs WHERE status = 'running' GROUP BY target"
            ) { row in
                (row.text(0), RunStatus.running.rawValue, row.int(1))
            }
            for (target, statusName, count) in totals + running {
                guard let status = RunStatus(rawValue: statusName) else { continue }
                counts[target, default: [:]][status] = count
            }
            return counts
        }
    }

    /// Returns how many alerts were recorded per target and event (such as `failure` or
    /// `recovery`), whatever the command's exit status. Counts include alerts of pruned runs,
    /// so they only grow and suit Prometheus counters.
    public func alertCounts() throws -> [String: [String: Int]] {
        try withConnection { connection in
            var counts: [String: [String: Int]] = [:]
            let rows = try connection.query("SELECT target, event, count FROM alert_totals") { row in
                (row.text(0), row.text(1), row.int(2))
            }
            for (target, event, count) in rows {
                counts[target, default: [:]][event] = count
            }
            return counts
        }
    }

    /// Groups the target's runs with a verdict that started in `since ..< until` into buckets of
    /// `bucketSeconds`, aligned to the unix epoch, and returns the non-empty buckets oldest first.
    /// Buckets without runs are left out, so a chart shows a gap there.
    /// For p50, p95, p99 and mean, each bucket also merges its runs' latency histograms into
    /// `merged`. Histograms that fail to decode are left out and listed in the bucket.
    public func trend(
        target: String, metric: TrendMetric, bucketSeconds: Double, since: Date, until: Date
    ) throws -> [TrendBucket] {
        try trend(target: target, metric: metric, bucketSeconds: bucketSeconds, since: since, until: until,
                  mergesWindow: false).buckets
    }

    /// Returns the buckets of `trend` and the distribution of `mergedLatency` over the same runs
    /// in one pass, so each run's histogram is read and decoded once.
    public func trendWithMergedLatency(
        target: String, metric: TrendMetric, bucketSeconds: Double, since: Date, until: Date
    ) throws -> (buckets: [TrendBucket], window: Distribution?) {
        let result = try trend(target: target, metric: metric, bucketSeconds: bucketSeconds, since: since,
                               until: until, mergesWindow: true)
        return (result.buckets, result.window?.distribution())
    }

    private func trend(
        target: String, metric: TrendMetric, bucketSeconds: Double, since: Date, until: Date, mergesWindow: Bool
    ) throws -> (buckets: [TrendBucket], window: LatencyHistogram?) {
        guard bucketSeconds.isFinite, bucketSeconds > 0 else {
            throw StorageError(
                kind: .invalidArgument, path: path, step: "trend",
                description: "invalid bucket length \(bucketSeconds) s: pass a positive number of seconds"
            )
        }
        let mergedStatistic = metric.mergedStatistic
        // A trend of another metric without the window skips the join, so it reads no histogram bytes.
        let histogramSource = mergedStatistic == nil && !mergesWindow
            ? "NULL FROM runs"
            : "run_histograms.histogram FROM runs LEFT JOIN run_histograms ON run_histograms.run_id = runs.id"
        let samples = try withConnection { connection in
            try connection.query(
                """
                SELECT runs.id, runs.started_at, runs.status, runs.\(metric.column), \(histogramSource)
                WHERE runs.target = ? AND runs.started_at >= ? AND runs.started_at < ?
                  AND runs.status IN ('passed', 'failed', 'error')
                ORDER BY runs.started_at
                """,
                [.text(target), .date(since), .date(until)]
            ) { row in
                TrendSample(runID: row.int64(0), startedAt: row.double(1),
                            passed: row.text(2) == RunStatus.passed.rawValue, value: row.optionalDouble(3),
                            histogram: row.isNull(4) ? nil : row.blob(4))
            }
        }
        return TrendSample.merge(samples, bucketSeconds: bucketSeconds, mergedStatistic: mergedStatistic,
                                 mergesWindow: mergesWindow)
    }

    // MARK: - Row decoding

    /// The `runs` columns in the order `decodeRun` reads them.
    static let runColumns = """
        id, target, started_at, finished_at, status, requests, succeeded, failed, fallbacks, \
        duration_s, throughput_rps, error_rate, fallback_rate, \
        p50_ms, p95_ms, p99_ms, mean_ms, min_ms, max_ms, report_json, \
        ttft_p50_ms, ttft_p95_ms, ttft_p99_ms, itl_p50_ms, itl_p95_ms, itl_p99_ms, tokens_per_s
        """

    /// Decodes one `runs` row. Errors, budgets and the alert come from `attachDetails`.
    private func decodeRun(_ row: Statement) throws -> RunRecord {
        let statusName = row.text(4)
        guard let status = RunStatus(rawValue: statusName) else {
            // The table's CHECK constraint admits only known statuses, so this means the file
            // was changed by hand or by a newer binary.
            throw StorageError(
                kind: .unsupportedSchema, path: path, step: "read runs",
                description: "run \(row.int64(0)) in database \(path) has unknown status \(statusName); "
                    + "upgrade loadsmoke"
            )
        }
        var latency: LatencySummary?
        if !row.isNull(13) {
            latency = LatencySummary(
                p50: row.double(13), p95: row.double(14), p99: row.double(15),
                mean: row.double(16), min: row.double(17), max: row.double(18)
            )
        }
        return RunRecord(
            id: row.int64(0), target: row.text(1), startedAt: row.date(2), finishedAt: row.optionalDate(3),
            status: status, requests: row.int(5), succeeded: row.int(6), failed: row.int(7), fallbacks: row.int(8),
            durationSeconds: row.double(9), throughputRPS: row.double(10),
            errorRate: row.double(11), fallbackRate: row.double(12),
            latency: latency, errors: [:], budgets: [], reportJSON: row.text(19), alert: nil,
            streaming: decodeStreaming(row, firstColumn: 20)
        )
    }

    /// Decodes the seven streaming columns that start at `firstColumn`. Returns nil when all are
    /// NULL. A percentile triple is read only when its p50 is set, because the three are written together.
    private func decodeStreaming(_ row: Statement, firstColumn: Int32) -> StreamingSummary? {
        func percentiles(at column: Int32) -> LatencyPercentiles? {
            guard !row.isNull(column) else { return nil }
            return LatencyPercentiles(p50: row.double(column), p95: row.double(column + 1), p99: row.double(column + 2))
        }
        let streaming = StreamingSummary(
            timeToFirstToken: percentiles(at: firstColumn),
            interTokenLatency: percentiles(at: firstColumn + 3),
            tokensPerSecond: row.optionalDouble(firstColumn + 6)
        )
        return streaming.isEmpty ? nil : streaming
    }

    /// Fills errors, budgets and alerts of `runs` with three queries, whatever the number of runs.
    private func attachDetails(to runs: [RunRecord], connection: SQLiteConnection) throws -> [RunRecord] {
        guard !runs.isEmpty else { return [] }
        // The ids travel as one bound JSON array that json_each expands, so the SQL text stays fixed.
        let idList: SQLiteValue = .text("[" + runs.map { String($0.id) }.joined(separator: ",") + "]")
        var errors: [Int64: [String: Int]] = [:]
        var budgets: [Int64: [BudgetRecord]] = [:]
        var alerts: [Int64: AlertRecord] = [:]

        let errorRows = try connection.query(
            "SELECT run_id, kind, count FROM run_errors WHERE run_id IN (SELECT value FROM json_each(?))",
            [idList]
        ) { row in (row.int64(0), row.text(1), row.int(2)) }
        for (runID, kind, count) in errorRows {
            errors[runID, default: [:]][kind] = count
        }

        let budgetRows = try connection.query(
            """
            SELECT run_id, name, actual, limit_value, unit, passed FROM run_budgets
            WHERE run_id IN (SELECT value FROM json_each(?)) ORDER BY run_id, position
            """,
            [idList]
        ) { row in
            (row.int64(0), BudgetRecord(name: row.text(1), actual: row.optionalDouble(2), limit: row.double(3),
                                        unit: row.text(4), passed: row.int(5) != 0))
        }
        for (runID, budget) in budgetRows {
            budgets[runID, default: []].append(budget)
        }

        let alertRows = try connection.query(
            """
            SELECT run_id, event, exit_status, signal, output, started_at, finished_at FROM run_alerts
            WHERE run_id IN (SELECT value FROM json_each(?))
            """,
            [idList]
        ) { row in
            (row.int64(0), AlertRecord(event: row.text(1), exitStatus: row.optionalInt32(2), signal: row.optionalInt32(3),
                                       output: row.text(4), startedAt: row.date(5), finishedAt: row.date(6)))
        }
        for (runID, alert) in alertRows {
            alerts[runID] = alert
        }

        return runs.map { run in
            var complete = run
            complete.errors = errors[run.id] ?? [:]
            complete.budgets = budgets[run.id] ?? []
            complete.alert = alerts[run.id]
            return complete
        }
    }
}

/// One run's contribution to a trend.
struct TrendSample {
    var runID: Int64 = 0
    var startedAt: Double
    var passed: Bool
    var value: Double?
    /// The run's encoded latency histogram; nil when the run has none or the query needs none.
    var histogram: [UInt8]? = nil

    /// Groups samples sorted by start time into epoch-aligned buckets.
    static func buckets(of samples: [TrendSample], bucketSeconds: Double) -> [TrendBucket] {
        merge(samples, bucketSeconds: bucketSeconds, mergedStatistic: nil, mergesWindow: false).buckets
    }

    /// Groups samples sorted by start time into epoch-aligned buckets. With `mergedStatistic`,
    /// each bucket merges its samples' histograms and reports the statistic of the merge. With
    /// `mergesWindow`, the histograms of all buckets are also merged into `window`.
    static func merge(
        _ samples: [TrendSample], bucketSeconds: Double, mergedStatistic: ((LatencyHistogram) -> Double?)?,
        mergesWindow: Bool
    ) -> (buckets: [TrendBucket], window: LatencyHistogram?) {
        var buckets: [TrendBucket] = []
        var window: LatencyHistogram?
        var index = samples.startIndex
        while index < samples.endIndex {
            let bucketStart = (samples[index].startedAt / bucketSeconds).rounded(.down) * bucketSeconds
            let bucketEnd = bucketStart + bucketSeconds
            // The first sample always joins, so the loop advances even when rounding puts the
            // sample at bucketEnd.
            var members = [samples[index]]
            index += 1
            while index < samples.endIndex, samples[index].startedAt < bucketEnd {
                members.append(samples[index])
                index += 1
            }
            var bucket = bucket(startingAt: bucketStart, members: members)
            let merge = mergedHistogram(of: members)
            if let mergedStatistic {
                bucket.merged = merge.histogram.flatMap(mergedStatistic)
                bucket.mergedRunCount = merge.runCount
                bucket.undecodableHistogramRunIDs = merge.undecodableRunIDs
            }
            if mergesWindow, let histogram = merge.histogram {
                window.merge(histogram)
            }
            buckets.append(bucket)
        }
        return (buckets, window)
    }

    /// Decodes and merges the members' histograms, skipping the ones that fail to decode. Only one
    /// decoded histogram (188_416 bytes of counts) is alive at a time besides the merge.
    private static func mergedHistogram(
        of members: [TrendSample]
    ) -> (histogram: LatencyHistogram?, runCount: Int, undecodableRunIDs: [Int64]) {
        var merged: LatencyHistogram?
        var runCount = 0
        var undecodableRunIDs: [Int64] = []
        for member in members {
            guard let blob = member.histogram else { continue }
            guard let histogram = try? LatencyHistogram(decoding: blob) else {
                undecodableRunIDs.append(member.runID)
                continue
            }
            merged.merge(histogram)
            runCount += 1
        }
        return (merged, runCount, undecodableRunIDs)
    }

    private static func bucket(startingAt start: Double, members: [TrendSample]) -> TrendBucket {
        let passedCount = members.filter(\.passed).count
        let values = members.compactMap(\.value).sorted()
        var median: Double?
        if !values.isEmpty {
            let middle = values.count / 2
            median = values.count % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2
        }
        return TrendBucket(
            start: Date(timeIntervalSince1970: start), runCount: members.count,
            passRate: Double(passedCount) / Double(members.count),
            median: median, min: values.first, max: values.last
        )
    }
}

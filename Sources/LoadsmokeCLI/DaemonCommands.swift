import Configuration
import Daemon
import Foundation
import JSONCoding
import Scheduling
import Storage

/// `loadsmoke daemon --config FILE`: the smoke-monitoring daemon in the foreground (systemd, Kubernetes).
enum DaemonCommand {
    static let spec = CommandSpec(
        name: "daemon",
        summary: "Run smoke checks on a schedule, store them in SQLite and serve status, history and metrics.",
        usage: "--config FILE [options]",
        options: [
            .value("config", "FILE", "YAML (or JSON) configuration file; see config/loadsmoke.example.yaml."),
            .value("shutdown-grace", "DURATION", "Time a running check gets to finish on SIGTERM before it is stored as interrupted (default: 10s)."),
            .flag("debug", "Also log debug events, such as pruning passes that deleted nothing."),
        ],
        discussion: """
        Logs go to stderr, one key=value line per event. SIGHUP reloads the file (an invalid file is logged and the
        running configuration stays); SIGTERM or SIGINT stops gracefully and exits 0.
        """
    )

    static func execute(_ arguments: [String], console: Console) -> Int32 {
        let parsed: ParsedArguments
        switch spec.parse(arguments, console: console) {
        case let .run(arguments): parsed = arguments
        case let .exit(code): return code
        }
        let grace: Double
        do {
            guard parsed.has("config") else {
                throw UsageError(message: "missing --config FILE", command: spec.name)
            }
            grace = try parsed.duration("shutdown-grace", command: spec.name, allowsZero: true) ?? 10
        } catch {
            return console.usageFailure(error, command: spec.name)
        }

        let path = parsed.value("config")!
        guard let configuration = loadConfiguration(path, console: console) else { return ExitCode.usage }
        let logger = DaemonLogger(isDebugEnabled: parsed.has("debug"))
        logger.info("config.loaded", [("config", path), ("targets", configuration.targets.map(\.name).joined(separator: ","))])
        let daemon: Daemon
        do {
            daemon = try Daemon(configuration: configuration, configurationPath: path, environment: ProcessInfo.processInfo.environment, logger: logger)
            daemon.shutdownGraceSeconds = grace
            try daemon.start()
        } catch {
            logger.log(.error, "daemon.start_failed", [("config", path), ("cause", "\(error)")])
            return ExitCode.failure
        }
        return daemon.runUntilSignalled()
    }

    /// Loads and validates the file, printing every issue on its own line; nil when it is invalid.
    static func loadConfiguration(_ path: String, console: Console) -> DaemonConfiguration? {
        do {
            return try ConfigurationLoader.load(path: path, environment: ProcessInfo.processInfo.environment)
        } catch let errors as ConfigurationErrors {
            for issue in errors.issues { console.error("error: \(issue)") }
            return nil
        } catch {
            console.error("error: \(error)")
            return nil
        }
    }
}

/// `loadsmoke check-config FILE`: validates a daemon configuration without running it.
enum CheckConfigCommand {
    static let spec = CommandSpec(
        name: "check-config",
        summary: "Validate a daemon configuration file and show each target's next run times.",
        usage: "FILE",
        options: [],
        positionals: [(name: "FILE", isRequired: true)],
        discussion: "Exit codes: 0 valid, 2 invalid (each problem is printed with its file, line and key)."
    )

    static func execute(_ arguments: [String], console: Console) -> Int32 {
        let parsed: ParsedArguments
        switch spec.parse(arguments, console: console) {
        case let .run(arguments): parsed = arguments
        case let .exit(code): return code
        }
        let path = parsed.positionals[0]
        guard let configuration = DaemonCommand.loadConfiguration(path, console: console) else { return ExitCode.usage }

        var lines = ["\(path): valid, \(configuration.targets.count) target\(configuration.targets.count == 1 ? "" : "s")"]
        lines.append("  storage  \(configuration.storage.path), retention \(DurationText.format(configuration.storage.retentionSeconds))")
        let host = configuration.server.host.contains(":") ? "[\(configuration.server.host)]" : configuration.server.host
        lines.append("  status   http://\(host):\(configuration.server.port)" + (configuration.server.token == nil ? "" : " (bearer token required)"))
        if let alert = configuration.alert {
            let events = alert.events.map(\.rawValue).sorted().joined(separator: ", ")
            lines.append("  alert    \(alert.command[0]) on \(events), timeout \(DurationText.format(alert.timeoutSeconds))")
        }
        let now = Date()
        for target in configuration.targets {
            // The same fixed per-target delay the daemon adds to every fire time.
            let jitter = target.jitterSeconds > 0 ? ((try? Jitter(maximumSeconds: target.jitterSeconds))?.offset(forKey: target.name) ?? 0) : 0
            let next = target.schedule.nextFireDates(after: now, in: target.timeZone, count: 3, anchor: now).map { $0.addingTimeInterval(jitter) }
            let times = next.map { ISO8601Text.format($0, timeZone: target.timeZone) }.joined(separator: ", ")
            lines.append("  target   \(target.name): \(target.options.method) \(target.options.url)\(target.options.effectivePath), \"\(target.scheduleText)\" next \(times)")
        }
        console.out(lines.joined(separator: "\n") + "\n")
        for warning in hostWarnings(configuration) { console.error("warning: \(warning)") }
        return ExitCode.success
    }

    /// Problems of this machine rather than of the file: they do not make the file invalid, because it may be meant
    /// for another host (systemd's StateDirectory creates the database folder, for example).
    static func hostWarnings(_ configuration: DaemonConfiguration) -> [String] {
        var warnings: [String] = []
        let folder = (configuration.storage.path as NSString).deletingLastPathComponent
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) || !isDirectory.boolValue {
            warnings.append("storage.path: folder \(folder) does not exist on this machine; create it before starting the daemon")
        }
        if let command = configuration.alert?.command.first, resolveExecutable(command) == nil {
            let place = command.contains("/") ? "is not an executable file" : "is not found on PATH"
            warnings.append("alert.command: \(command) \(place) on this machine; alerts will fail to start until it is installed")
        }
        return warnings
    }

    /// Returns the executable that `command` names: a path, or a name searched on PATH as posix_spawnp does.
    static func resolveExecutable(_ command: String) -> String? {
        if command.contains("/") {
            return FileManager.default.isExecutableFile(atPath: command) ? command : nil
        }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for folder in path.split(separator: ":") {
            let candidate = "\(folder)/\(command)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

/// `loadsmoke schedule EXPR`: prints an expression's next fire times, to check it before deploying it.
enum ScheduleCommand {
    static let spec = CommandSpec(
        name: "schedule",
        summary: "Print the next fire times of a cron expression, macro or 'every DURATION' interval.",
        usage: "EXPR [--next N] [--from ISO8601] [--timezone ZONE]",
        options: [
            .value("next", "N", "Number of fire times to print (default: 5)."),
            .value("from", "ISO8601", "Start after this time, e.g. 2026-03-29T00:00:00+01:00; no offset means --timezone (default: now)."),
            .value("timezone", "ZONE", "IANA time zone the expression is evaluated in, e.g. Europe/Berlin (default: UTC)."),
        ],
        positionals: [(name: "EXPR", isRequired: true)],
        discussion: """
        Cron fields: minute hour day-of-month month day-of-week, with lists, ranges, steps and names. When both
        day fields are restricted, a day matches either. Intervals ('every 30s') count from --from.
        """
    )

    static func execute(_ arguments: [String], console: Console) -> Int32 {
        let parsed: ParsedArguments
        switch spec.parse(arguments, console: console) {
        case let .run(arguments): parsed = arguments
        case let .exit(code): return code
        }
        do {
            let expression = parsed.positionals[0]
            let count = try parsed.integer("next", command: spec.name) ?? 5
            guard count <= 10_000 else {
                throw UsageError(message: "invalid value \"\(count)\" for --next: expected at most 10000", command: spec.name)
            }
            let zoneName = parsed.value("timezone") ?? "UTC"
            guard let timeZone = TimeZone(identifier: zoneName) else {
                throw UsageError(message: "invalid value \"\(zoneName)\" for --timezone: expected an IANA time zone such as UTC or Europe/Berlin", command: spec.name)
            }
            var from = Date()
            if let text = parsed.value("from") {
                do { from = try ISO8601Text.parse(text, defaultTimeZone: timeZone) } catch {
                    throw UsageError(message: "invalid value \"\(text)\" for --from: \(error)", command: spec.name)
                }
            }
            let schedule: Schedule
            do { schedule = try Schedule.parse(expression) } catch {
                throw UsageError(message: "\(error)", command: spec.name)
            }
            let dates = schedule.nextFireDates(after: from, in: timeZone, count: count, anchor: from)
            console.out(dates.map { ISO8601Text.format($0, timeZone: timeZone) + "\n" }.joined())
            return ExitCode.success
        } catch {
            return console.usageFailure(error, command: spec.name)
        }
    }
}

/// `loadsmoke history --db FILE`: stored runs, newest first, from the command line.
enum HistoryCommand {
    static let spec = CommandSpec(
        name: "history",
        summary: "List stored runs, newest first, from a loadsmoke SQLite database.",
        usage: "--db FILE [options]",
        options: [
            .value("db", "FILE", "SQLite database written by the daemon or by 'loadsmoke run --store'."),
            .value("target", "NAME", "Only runs of this target."),
            .value("since", "WHEN", "Only runs started after this: a duration before now (24h, 7d) or an ISO 8601 time."),
            .value("status", "STATUS", "Only runs with this status: passed, failed, error, interrupted or running."),
            .value("limit", "N", "Maximum number of runs, 1 to 1000 (default: 20)."),
            .value("before-id", "ID", "Only runs older than run ID, for the next page (the JSON's next_before_id)."),
            .flag("json", "Print one JSON document with the runs instead of a table."),
        ]
    )

    static func execute(_ arguments: [String], console: Console) -> Int32 {
        var query = RunQuery(limit: 20)
        let parsed: ParsedArguments
        switch spec.parse(arguments, console: console) {
        case let .run(arguments): parsed = arguments
        case let .exit(code): return code
        }
        do {
            guard parsed.has("db") else { throw UsageError(message: "missing --db FILE", command: spec.name) }
            query.target = parsed.value("target")
            if let since = parsed.value("since") {
                do { query.since = try QueryParsing.time(since, name: "since") } catch {
                    throw UsageError(message: "invalid value \"\(since)\" for --since: expected a duration such as 24h or an ISO 8601 time", command: spec.name)
                }
            }
            if let status = parsed.value("status") {
                guard let value = RunStatus(rawValue: status) else {
                    throw UsageError(message: "invalid value \"\(status)\" for --status: expected one of \(RunStatus.allCases.map(\.rawValue).joined(separator: ", "))", command: spec.name)
                }
                query.status = value
            }
            if let limit = try parsed.integer("limit", command: spec.name) {
                guard limit <= RunQuery.maximumLimit else {
                    throw UsageError(message: "invalid value \"\(limit)\" for --limit: expected at most \(RunQuery.maximumLimit)", command: spec.name)
                }
                query.limit = limit
            }
            if let before = parsed.value("before-id") {
                guard let id = Int64(before), id > 0 else {
                    throw UsageError(message: "invalid value \"\(before)\" for --before-id: expected a run id, a whole number of 1 or more", command: spec.name)
                }
                query.beforeID = id
            }
        } catch {
            return console.usageFailure(error, command: spec.name)
        }

        let path = parsed.value("db")!
        let records: [RunRecord]
        do {
            guard FileManager.default.fileExists(atPath: path) else {
                throw UsageError(message: "invalid value \"\(path)\" for --db: the file does not exist", command: spec.name)
            }
            let store = try RunStore(path: path, readOnly: true)
            defer { store.close() }
            records = try store.runs(query)
        } catch let error as UsageError {
            console.error(error.description)
            return ExitCode.usage
        } catch {
            console.error("error: could not read \(path): \(error)")
            return ExitCode.usage
        }

        if parsed.has("json") {
            console.out(RunJSON.page(records, limit: query.limit).serialized(pretty: true) + "\n")
        } else {
            console.out(table(records))
        }
        return ExitCode.success
    }

    static func table(_ records: [RunRecord]) -> String {
        guard !records.isEmpty else { return "no runs match\n" }
        var rows = [["ID", "TARGET", "STARTED (UTC)", "STATUS", "REQUESTS", "ERRORS", "FALLBACKS", "P50 MS", "P95 MS", "P99 MS"]]
        for record in records {
            let started = RunJSON.timestamp(record.startedAt).prefix(19).replacingOccurrences(of: "T", with: " ")
            rows.append([
                String(record.id), record.target, started, record.status.rawValue, String(record.requests),
                String(format: "%.1f %%", record.errorRate * 100), String(format: "%.1f %%", record.fallbackRate * 100),
                record.latency.map { String(format: "%.1f", $0.p50) } ?? "-",
                record.latency.map { String(format: "%.1f", $0.p95) } ?? "-",
                record.latency.map { String(format: "%.1f", $0.p99) } ?? "-",
            ])
        }
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n") + "\n"
    }
}

extension ParsedArguments {
    /// Parses a duration option such as `10s` or `500ms` into seconds.
    func duration(_ name: String, command: String, allowsZero: Bool = false) throws -> Double? {
        guard let text = value(name) else { return nil }
        do {
            return try DurationText.parse(text, allowsZero: allowsZero)
        } catch {
            throw UsageError(message: "invalid value \"\(text)\" for --\(name): expected a duration such as 500ms, 10s or 1m", command: command)
        }
    }
}

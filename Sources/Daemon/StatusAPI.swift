import Configuration
import Foundation
import HTTPServer
import JSONCoding
import Measurement
import Scheduling
import Storage

/// Daemon state that the status endpoint reads besides the store.
protocol DaemonStatusSource: AnyObject, Sendable {
    var targets: [TargetSettings] { get }
    var nextFireDates: [String: Date] { get }
    var isSchedulerHealthy: Bool { get }
    var startedAt: Date { get }
    var statusToken: String? { get }
}

/// The daemon's HTTP endpoints: /healthz, /status, /runs, /runs/ID, /trend and /metrics. Every response except
/// /metrics is JSON; errors use the server's `{"error": {"status", "message"}}` shape.
final class StatusAPI: @unchecked Sendable {
    private let store: RunStore
    private weak var source: DaemonStatusSource?
    private let version: String

    /// Largest number of buckets one /trend request may ask for, so a tiny bucket over a long window is rejected.
    static let maximumTrendBuckets = 10_000

    init(store: RunStore, source: DaemonStatusSource, version: String) {
        self.store = store
        self.source = source
        self.version = version
    }

    func handle(_ request: HTTPRequest) -> HTTPResponse {
        guard request.method == "GET" || request.method == "HEAD" else {
            return .methodNotAllowed(method: request.method, path: request.path, allowedMethods: ["GET", "HEAD"])
        }
        guard let source else { return .error(status: 503, message: "the daemon is shutting down") }
        if request.path != "/healthz", let token = source.statusToken, !isAuthorized(request, token: token) {
            var response = HTTPResponse.error(status: 401, message: "missing or invalid bearer token; send 'Authorization: Bearer <token>'")
            response.headers.set("WWW-Authenticate", "Bearer realm=\"loadsmoke\"")
            return response
        }
        do {
            switch request.path {
            case "/healthz": return health(source)
            case "/status": return try status(source)
            case "/runs": return try runs(request)
            case "/trend": return try trend(request, source: source)
            case "/metrics": return try MetricsExposition.response(store: store, source: source, version: version)
            default:
                let runPath = request.path.dropFirst("/runs/".count)
                if request.path.hasPrefix("/runs/"), !runPath.contains("/") { return try run(idText: String(runPath)) }
                return .notFound(path: request.path)
            }
        } catch let error as QueryError {
            return .error(status: 400, message: error.message)
        } catch {
            return .error(status: 500, message: "could not read the run store: \(error)")
        }
    }

    // MARK: - Endpoints

    private func health(_ source: DaemonStatusSource) -> HTTPResponse {
        let isSchedulerHealthy = source.isSchedulerHealthy
        var databaseError: String?
        do { _ = try store.schemaVersion() } catch { databaseError = "\(error)" }
        let isHealthy = isSchedulerHealthy && databaseError == nil
        let document = JSONValue.object([
            ("status", .string(isHealthy ? "ok" : "unhealthy")),
            ("version", .string(version)),
            ("uptime_s", .number(Date().timeIntervalSince(source.startedAt).rounded())),
            ("scheduler", .string(isSchedulerHealthy ? "ok" : "stalled")),
            ("database", .string(databaseError == nil ? "ok" : "error: \(databaseError!)")),
        ])
        return json(document, status: isHealthy ? 200 : 503)
    }

    private func status(_ source: DaemonStatusSource) throws -> HTTPResponse {
        let latest = try store.latestRuns()
        let nextFires = source.nextFireDates
        var targets: [JSONValue] = []
        for target in source.targets {
            let last = latest[target.name]
            let streak = try store.failingStreak(target: target.name)
            // Interrupted runs carry no verdict, so the state follows the newest run that has one.
            let state: String
            switch last?.status.hasVerdict == true ? last?.status : try store.latestVerdictRun(target: target.name)?.status {
            case .passed?: state = "passing"
            case .failed?, .error?: state = "failing"
            default: state = "unknown"
            }
            targets.append(.object([
                ("name", .string(target.name)),
                ("state", .string(state)),
                ("schedule", .string(target.scheduleText)),
                // Foundation on Linux names UTC "GMT"; show the name the configuration documents.
                ("timezone", .string(target.timeZone.identifier == "GMT" ? "UTC" : target.timeZone.identifier)),
                ("next_run_at", nextFires[target.name].map { .string(timestamp($0, target.timeZone)) } ?? .null),
                ("failing_streak", .integer(streak)),
                ("last_run", last.map(RunJSON.summary) ?? .null),
            ]))
        }
        return json(.object([("generated_at", .string(timestamp(Date()))), ("targets", .array(targets))]))
    }

    private func runs(_ request: HTTPRequest) throws -> HTTPResponse {
        var query = RunQuery()
        query.target = request.queryValue("target").flatMap { $0.isEmpty ? nil : $0 }
        query.since = try request.queryValue("since").map { try QueryParsing.time($0, name: "since") }
        query.until = try request.queryValue("until").map { try QueryParsing.time($0, name: "until") }
        if let status = request.queryValue("status") {
            guard let parsed = RunStatus(rawValue: status) else {
                throw QueryError("invalid status \"\(status)\": expected one of \(RunStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            query.status = parsed
        }
        if let limit = request.queryValue("limit") {
            guard let parsed = Int(limit), (1...RunQuery.maximumLimit).contains(parsed) else {
                throw QueryError("invalid limit \"\(limit)\": expected a whole number from 1 to \(RunQuery.maximumLimit)")
            }
            query.limit = parsed
        }
        if let before = request.queryValue("before_id") {
            guard let parsed = Int64(before), parsed > 0 else {
                throw QueryError("invalid before_id \"\(before)\": expected a run id, a whole number of 1 or more")
            }
            query.beforeID = parsed
        }
        let records = try store.runs(query)
        return json(RunJSON.page(records, limit: query.limit))
    }

    private func run(idText: String) throws -> HTTPResponse {
        guard let id = Int64(idText), id > 0 else {
            throw QueryError("invalid run id \"\(idText)\": expected a whole number of 1 or more")
        }
        guard let record = try store.run(id: id) else {
            return .error(status: 404, message: "no run with id \(id)")
        }
        var members = RunJSON.summary(record).objectValue ?? []
        let report = record.reportJSON.isEmpty ? JSONValue.null : ((try? JSONValue.parse(record.reportJSON)) ?? .null)
        members.append(("report", report))
        return json(.object(members))
    }

    /// Serves per-bucket statistics of one metric and, in `latency_window`, the latency over all successful requests of the
    /// window from the runs' merged histograms. The window's percentiles are in milliseconds and its `count` is in
    /// requests. It is null when no run in the window has a histogram.
    private func trend(_ request: HTTPRequest, source: DaemonStatusSource) throws -> HTTPResponse {
        guard let target = request.queryValue("target"), !target.isEmpty else {
            throw QueryError("missing target: add ?target=NAME")
        }
        // A target that is neither configured nor stored is a typo, not an empty history.
        if !source.targets.contains(where: { $0.name == target }), !(try store.targetNames()).contains(target) {
            return .error(status: 404, message: "no target named \(target); see /status for the configured targets")
        }
        let metricName = request.queryValue("metric") ?? "p95"
        guard let metric = TrendMetric(rawValue: metricName) else {
            throw QueryError("invalid metric \"\(metricName)\": expected one of \(TrendMetric.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let bucketText = request.queryValue("bucket") ?? "1h"
        let bucket: Double
        do { bucket = try DurationText.parse(bucketText) } catch {
            throw QueryError("invalid bucket \"\(bucketText)\": expected a duration such as 5m, 1h or 1d")
        }
        let now = Date()
        let since = try QueryParsing.time(request.queryValue("since") ?? "7d", name: "since", now: now)
        let until = try request.queryValue("until").map { try QueryParsing.time($0, name: "until", now: now) } ?? now
        guard since < until else { throw QueryError("since must be earlier than until") }
        guard until.timeIntervalSince(since) / bucket <= Double(StatusAPI.maximumTrendBuckets) else {
            throw QueryError("too many buckets: the window would need more than \(StatusAPI.maximumTrendBuckets) buckets of \(bucketText); use a larger bucket or a shorter window")
        }

        // The window's latency comes from the merged histograms whatever the metric, so a chart of the error rate
        // can still show the window's true percentiles.
        let (buckets, window) = try store.trendWithMergedLatency(
            target: target, metric: metric, bucketSeconds: bucket, since: since, until: until
        )

        return json(.object([
            ("target", .string(target)),
            ("metric", .string(metric.rawValue)),
            ("unit", .string(MetricsExposition.unit(of: metric))),
            ("bucket_s", .number(bucket)),
            ("since", .string(timestamp(since))),
            ("until", .string(timestamp(until))),
            ("buckets", .array(buckets.map(trendBucketJSON))),
            ("latency_window", window.map(windowJSON) ?? .null),
        ]))
    }

    // NOTE: runs whose stored histogram fails to decode show only as `merged_runs` below `runs`, the same as runs
    // stored before histograms were kept. Their ids are in `TrendBucket.undecodableHistogramRunIDs`, but this
    // handler neither returns nor logs them.
    private func trendBucketJSON(_ bucket: TrendBucket) -> JSONValue {
        .object([
            ("start", .string(timestamp(bucket.start))),
            ("runs", .integer(bucket.runCount)),
            ("pass_rate", .number(bucket.passRate)),
            ("median", .number(bucket.median)),
            ("min", .number(bucket.min)),
            ("max", .number(bucket.max)),
            ("merged", .number(bucket.merged)),
            ("merged_runs", .integer(bucket.mergedRunCount)),
        ])
    }

    private func windowJSON(_ distribution: Distribution) -> JSONValue {
        .object([
            ("p50", .number(distribution.p50)),
            ("p95", .number(distribution.p95)),
            ("p99", .number(distribution.p99)),
            ("count", .integer(distribution.count)),
        ])
    }

    // MARK: - Helpers

    private func isAuthorized(_ request: HTTPRequest, token: String) -> Bool {
        guard let header = request.headers["Authorization"] else { return false }
        let prefix = "Bearer "
        guard header.count > prefix.count, header.lowercased().hasPrefix("bearer ") else { return false }
        return constantTimeEquals(Array(header.dropFirst(prefix.count).utf8), Array(token.utf8))
    }

    /// Compares without an early exit, so response timing does not reveal how much of the token matched.
    private func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        var difference = UInt8(lhs.count == rhs.count ? 0 : 1)
        for index in 0..<max(lhs.count, rhs.count) {
            let left = index < lhs.count ? lhs[index] : 0
            let right = index < rhs.count ? rhs[index] : 0
            difference |= left ^ right
        }
        return difference == 0
    }

    private func json(_ value: JSONValue, status: Int = 200) -> HTTPResponse {
        .json(status: status, serialized: value.serialized())
    }

    private func timestamp(_ date: Date, _ timeZone: TimeZone = TimeZone(identifier: "UTC")!) -> String {
        RunJSON.timestamp(date, timeZone)
    }
}

/// An invalid request parameter, returned as 400 with the message.
struct QueryError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// Parameter formats shared by /runs, /trend and `loadsmoke history`.
public enum QueryParsing {
    /// Parses a point in time: an ISO 8601 timestamp (`2026-12-01T00:00:00Z`, UTC when no offset is given) or a duration
    /// before `now` (`24h`, `7d`).
    public static func time(_ text: String, name: String, now: Date = Date()) throws -> Date {
        if let seconds = try? DurationText.parse(text) {
            return now.addingTimeInterval(-seconds)
        }
        if let date = try? ISO8601Text.parse(text, defaultTimeZone: TimeZone(identifier: "UTC")!) {
            return date
        }
        throw QueryError("invalid \(name) \"\(text)\": expected a duration before now such as 24h or 7d, or an ISO 8601 time such as 2026-12-01T00:00:00Z")
    }
}

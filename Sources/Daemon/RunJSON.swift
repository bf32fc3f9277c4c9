import Foundation
import JSONCoding
import Scheduling
import Storage

/// JSON shapes of stored runs, shared by the status endpoint and `loadsmoke history --json`.
public enum RunJSON {
    /// Encodes one page of runs with `next_before_id`: the id to pass as `before_id` for the next page, or null when
    /// the page was not full, so no older run is left.
    public static func page(_ records: [RunRecord], limit: Int) -> JSONValue {
        let nextBefore: JSONValue = records.count == limit ? records.last.map { .integer($0.id) } ?? .null : .null
        return .object([("runs", .array(records.map(summary))), ("next_before_id", nextBefore)])
    }

    /// Encodes a stored run without its full report: status, times, totals, latency, token timings, errors, budgets
    /// and alert. `ttft_ms`, `itl_ms` and `tokens_per_s` are null for runs without that streaming value.
    public static func summary(_ record: RunRecord) -> JSONValue {
        var alert: JSONValue = .null
        if let record = record.alert {
            alert = .object([
                ("event", .string(record.event)),
                ("exit_status", record.exitStatus.map { .integer(Int64($0)) } ?? .null),
                ("signal", record.signal.map { .integer(Int64($0)) } ?? .null),
                ("output", .string(record.output)),
                ("started_at", .string(timestamp(record.startedAt))),
                ("finished_at", .string(timestamp(record.finishedAt))),
            ])
        }
        let latency: JSONValue = record.latency.map {
            .object([("p50", .number($0.p50)), ("p95", .number($0.p95)), ("p99", .number($0.p99)),
                     ("mean", .number($0.mean)), ("min", .number($0.min)), ("max", .number($0.max))])
        } ?? .null
        return .object([
            ("id", .integer(record.id)),
            ("target", .string(record.target)),
            ("status", .string(record.status.rawValue)),
            ("started_at", .string(timestamp(record.startedAt))),
            ("finished_at", record.finishedAt.map { .string(timestamp($0)) } ?? .null),
            ("totals", .object([
                ("requests", .integer(record.requests)),
                ("succeeded", .integer(record.succeeded)),
                ("failed", .integer(record.failed)),
                ("fallbacks", .integer(record.fallbacks)),
                ("duration_s", .number(record.durationSeconds)),
                ("throughput_rps", .number(record.throughputRPS)),
                ("error_rate", .number(record.errorRate)),
                ("fallback_rate", .number(record.fallbackRate)),
            ])),
            ("latency_ms", latency),
            ("ttft_ms", percentiles(record.streaming?.timeToFirstToken)),
            ("itl_ms", percentiles(record.streaming?.interTokenLatency)),
            ("tokens_per_s", record.streaming?.tokensPerSecond.map { .number($0) } ?? .null),
            ("errors", .object(record.errors.sorted { $0.key < $1.key }.map { ($0.key, .integer($0.value)) })),
            ("budgets", .array(record.budgets.map {
                .object([("name", .string($0.name)), ("actual", .number($0.actual)), ("limit", .number($0.limit)),
                         ("unit", .string($0.unit)), ("passed", .bool($0.passed))])
            })),
            ("alert", alert),
        ])
    }

    private static func percentiles(_ percentiles: LatencyPercentiles?) -> JSONValue {
        guard let percentiles else { return .null }
        return .object([("p50", .number(percentiles.p50)), ("p95", .number(percentiles.p95)), ("p99", .number(percentiles.p99))])
    }

    /// ISO 8601 with the zone's offset, UTC unless a zone is given.
    public static func timestamp(_ date: Date, _ timeZone: TimeZone = TimeZone(identifier: "UTC")!) -> String {
        ISO8601Text.format(date, timeZone: timeZone)
    }
}

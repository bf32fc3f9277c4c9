import Foundation
import JSONCoding
import Measurement

extension SmokeReport {
    /// The report as the JSON document of `--json` and `--output` (layout version `schemaVersion`).
    /// Latencies are in milliseconds, rates are fractions from 0 to 1, durations in seconds.
    public func jsonDocument() -> JSONValue {
        .object([
            ("schema_version", .integer(SmokeReport.schemaVersion)),
            ("passed", .bool(passed)),
            ("interrupted", .bool(wasInterrupted)),
            ("started_at", .string(ISO8601DateFormatter().string(from: startedAt))),
            ("config", configJSON()),
            ("totals", .object([
                ("requests", .integer(summary.requests)),
                ("succeeded", .integer(summary.succeeded)),
                ("failed", .integer(summary.failed)),
                ("fallbacks", .integer(summary.fallbacks)),
                ("aborted", .integer(abortedInFlight)),
                ("delayed", .integer(summary.delayedRequests)),
                ("duration_s", .number(SmokeReport.rounded(summary.durationSeconds, places: 6))),
                ("throughput_rps", .number(SmokeReport.rounded(summary.throughput, places: 3))),
                ("error_rate", .number(summary.errorRate)),
                ("fallback_rate", .number(summary.fallbackRate)),
            ])),
            ("latency_ms", SmokeReport.distributionJSON(summary.latency)),
            ("service_time_ms", SmokeReport.distributionJSON(summary.serviceTime)),
            ("ttft_ms", SmokeReport.distributionJSON(summary.streaming?.timeToFirstToken)),
            ("itl_ms", SmokeReport.distributionJSON(summary.streaming?.interTokenLatency)),
            ("tokens_per_s", summary.streaming?.meanTokensPerSecond.map { .number(SmokeReport.rounded($0, places: 3)) } ?? .null),
            ("stream", streamJSON()),
            ("phases_ms", .object([
                ("dns", SmokeReport.distributionJSON(summary.phases.dns)),
                ("connect", SmokeReport.distributionJSON(summary.phases.connect)),
                ("tls", SmokeReport.distributionJSON(summary.phases.tls)),
                ("ttfb", SmokeReport.distributionJSON(summary.phases.timeToFirstByte)),
            ])),
            ("errors", .object(summary.errorCounts.sorted { $0.key < $1.key }.map { ($0.key.rawValue, .integer($0.value)) })),
            ("error_examples", .object(summary.firstErrorMessages.sorted { $0.key < $1.key }.map { ($0.key.rawValue, .string($0.value)) })),
            ("status_codes", .object(summary.statusCounts.sorted { $0.key < $1.key }.map { (String($0.key), .integer($0.value)) })),
            ("check_failures", .object(summary.checkFailures.sorted { $0.key < $1.key }.map { ($0.key, .integer($0.value)) })),
            ("budgets", .array(budgets.map(SmokeReport.budgetJSON))),
            ("warnings", .array(warnings.map { .object([("code", .string($0.code)), ("message", .string($0.message))]) })),
        ])
    }

    private func configJSON() -> JSONValue {
        var members: [(String, JSONValue)] = []
        if let target = setup.targetName { members.append(("target", .string(target))) }
        members += [
            ("url", .string(setup.url)),
            ("method", .string(setup.method)),
            ("requests", setup.pacing.durationSeconds != nil && setup.requests == 0 ? .null : .integer(setup.requests)),
            ("concurrency", .integer(setup.concurrency)),
            ("timeout_s", .number(setup.timeoutSeconds)),
            ("simulate", .array(setup.simulate.map { .string($0) })),
            ("headers", .object(setup.headers.map { ($0.name, .string($0.value)) })),
            ("api_key", .bool(setup.hasAPIKey)),
            ("prompts", .object([("source", .string(setup.promptSource)), ("count", .integer(setup.promptCount))])),
            ("fallback_header", .string(setup.fallbackHeader)),
            ("fallback_field", .string(setup.fallbackField)),
        ]
        let pacing = setup.pacing
        members += [
            ("mode", .string(pacing.isOpenLoop ? "open" : "closed")),
            ("rate_rps", .number(pacing.ratePerSecond)),
            ("max_in_flight", pacing.maxInFlight.map { .integer($0) } ?? .null),
            ("duration_s", .number(pacing.durationSeconds)),
            ("warmup_requests", .integer(pacing.warmupRequests)),
            ("warmup_s", .number(pacing.warmupSeconds)),
        ]
        let workload = setup.workload
        members += [
            ("prompt_order", .string(workload.promptOrder)),
            ("seed", workload.seed.map { .string(String($0)) } ?? .null),
            ("body", .string(workload.body)),
            ("openai_model", workload.openAIModel.map { .string($0) } ?? .null),
            ("stream", .bool(workload.isStreaming)),
            ("compressed", .bool(workload.acceptsCompression)),
            ("stream_idle_timeout_s", .number(workload.streamIdleTimeoutSeconds)),
            ("request_id_header", workload.requestIDHeader.map { .string($0) } ?? .null),
            ("request_id_prefix", workload.requestIDPrefix.map { .string($0) } ?? .null),
            ("expect_status", workload.expectedStatus.map { .string($0) } ?? .null),
            ("expect_json_fields", .array(workload.expectedJSONFields.map { .string($0) })),
            ("expect_headers", .array(workload.expectedHeaders.map { .string($0) })),
        ]
        return .object(members)
    }

    /// Stream facts beyond TTFT and ITL; null when the run did not stream.
    private func streamJSON() -> JSONValue {
        guard let streaming = summary.streaming else { return .null }
        let tokenSource: String
        switch streaming.streamsWithReportedTokens {
        case streaming.streams: tokenSource = "usage"
        case 0: tokenSource = "content_events"
        default: tokenSource = "mixed"
        }
        return .object([
            ("streams", .integer(streaming.streams)),
            ("events_per_s", streaming.meanEventsPerSecond.map { .number(SmokeReport.rounded($0, places: 3)) } ?? .null),
            ("token_count_source", .string(tokenSource)),
        ])
    }

    static func distributionJSON(_ distribution: Distribution?) -> JSONValue {
        guard let distribution else { return .null }
        // Milliseconds to the microsecond: curl's timers have microsecond resolution, so more digits are noise.
        return .object([
            ("p50", .number(rounded(distribution.p50, places: 3))),
            ("p95", .number(rounded(distribution.p95, places: 3))),
            ("p99", .number(rounded(distribution.p99, places: 3))),
            ("mean", .number(rounded(distribution.mean, places: 3))),
            ("min", .number(rounded(distribution.min, places: 3))),
            ("max", .number(rounded(distribution.max, places: 3))),
            ("count", .integer(distribution.count)),
        ])
    }

    static func budgetJSON(_ result: BudgetResult) -> JSONValue {
        .object([
            ("name", .string(result.metric.rawValue)),
            ("actual", .number(result.actual.map { rounded($0, places: result.metric.unit == "ms" ? 3 : 6) })),
            ("limit", .number(result.limit)),
            ("unit", .string(result.metric.unit)),
            ("passed", .bool(result.passed)),
        ])
    }

    static func rounded(_ value: Double, places: Int) -> Double {
        let scale = pow(10, Double(places))
        return (value * scale).rounded() / scale
    }
}

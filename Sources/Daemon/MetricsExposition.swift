import Foundation
import HTTPServer
import Storage

/// `GET /metrics` in the Prometheus text exposition format, version 0.0.4
/// (https://prometheus.io/docs/instrumenting/exposition_formats/). Latencies are in seconds, the base unit
/// Prometheus names use. Token timings appear only for targets whose newest finished run streamed. Each scrape
/// costs three indexed queries plus one per target, whatever the history size.
enum MetricsExposition {
    static func response(store: RunStore, source: DaemonStatusSource, version: String) throws -> HTTPResponse {
        let text = try render(store: store, source: source, version: version)
        return HTTPResponse(status: 200, headers: ["Content-Type": "text/plain; version=0.0.4; charset=utf-8"], body: Array(text.utf8))
    }

    static func render(store: RunStore, source: DaemonStatusSource, version: String) throws -> String {
        let latest = try store.latestRuns()
        let runCounts = try store.runCounts()
        let alertCounts = try store.alertCounts()
        let nextFires = source.nextFireDates
        let targets = source.targets.map(\.name)
        var output = MetricWriter()

        output.family("loadsmoke_build_info", "gauge", "Always 1; the version label names the running loadsmoke.")
        output.sample("loadsmoke_build_info", ["version": version], 1)
        output.family("loadsmoke_up_seconds", "gauge", "Seconds since the daemon started.")
        output.sample("loadsmoke_up_seconds", [:], Date().timeIntervalSince(source.startedAt))

        output.family("loadsmoke_last_run_latency_seconds", "gauge", "Latency percentiles of the newest finished run's successful requests.")
        for target in targets {
            guard let latency = latest[target]?.latency else { continue }
            // `percentile`, not `quantile`: Prometheus reserves `quantile` for summary metrics.
            for (percentile, value) in [("50", latency.p50), ("95", latency.p95), ("99", latency.p99)] {
                output.sample("loadsmoke_last_run_latency_seconds", ["target": target, "percentile": percentile], value / 1000)
            }
        }

        writeStreamingMetrics(to: &output, latest: latest, targets: targets)

        let perRun: [(String, String, (RunRecord) -> Double?)] = [
            ("loadsmoke_last_run_error_ratio", "Failed requests divided by requests in the newest finished run.", { $0.errorRate }),
            ("loadsmoke_last_run_fallback_ratio", "Fallback answers divided by requests in the newest finished run.", { $0.fallbackRate }),
            ("loadsmoke_last_run_requests_per_second", "Throughput of the newest finished run.", { $0.throughputRPS }),
            ("loadsmoke_last_run_duration_seconds", "Wall time of the newest finished run.", { $0.durationSeconds }),
            ("loadsmoke_last_run_passed", "1 when the newest finished run met every budget, else 0.", { $0.status == .passed ? 1 : 0 }),
            ("loadsmoke_last_run_timestamp_seconds", "Unix time the newest finished run ended.", { ($0.finishedAt ?? $0.startedAt).timeIntervalSince1970 }),
        ]
        for (name, help, value) in perRun {
            output.family(name, "gauge", help)
            for target in targets {
                guard let record = latest[target], let number = value(record) else { continue }
                output.sample(name, ["target": target], number)
            }
        }

        output.family("loadsmoke_budget_passed", "gauge", "1 when the newest finished run met the budget, else 0.")
        for target in targets {
            for budget in latest[target]?.budgets ?? [] {
                output.sample("loadsmoke_budget_passed", ["target": target, "budget": budget.name], budget.passed ? 1 : 0)
            }
        }

        output.family("loadsmoke_failing_streak", "gauge", "Consecutive failed or error runs ending at the newest one.")
        for target in targets {
            output.sample("loadsmoke_failing_streak", ["target": target], Double(try store.failingStreak(target: target)))
        }

        output.family("loadsmoke_next_run_timestamp_seconds", "gauge", "Unix time of the target's next scheduled run.")
        for target in targets {
            guard let next = nextFires[target] else { continue }
            output.sample("loadsmoke_next_run_timestamp_seconds", ["target": target], next.timeIntervalSince1970)
        }

        output.family("loadsmoke_runs_total", "counter", "Runs finished, by target and status; pruning does not lower it.")
        for target in runCounts.keys.sorted() {
            for status in RunStatus.allCases where status != .running {
                output.sample("loadsmoke_runs_total", ["target": target, "status": status.rawValue], Double(runCounts[target]?[status] ?? 0))
            }
        }

        output.family("loadsmoke_alerts_total", "counter", "Alert commands run, by target and event.")
        for target in alertCounts.keys.sorted() {
            for (event, count) in alertCounts[target]!.sorted(by: { $0.key < $1.key }) {
                output.sample("loadsmoke_alerts_total", ["target": target, "event": event], Double(count))
            }
        }
        return output.text
    }

    /// Writes the token timings of each target whose newest finished run streamed. The families are always
    /// declared, so a scrape shows the same HELP lines whether or not any target streams.
    private static func writeStreamingMetrics(to output: inout MetricWriter, latest: [String: RunRecord], targets: [String]) {
        let percentileFamilies: [(String, String, (StreamingSummary) -> LatencyPercentiles?)] = [
            ("loadsmoke_last_run_ttft_seconds", "Time to first token percentiles of the newest finished run's streamed responses.", { $0.timeToFirstToken }),
            ("loadsmoke_last_run_itl_seconds", "Inter-token latency percentiles of the newest finished run's streamed responses.", { $0.interTokenLatency }),
        ]
        for (name, help, percentiles) in percentileFamilies {
            output.family(name, "gauge", help)
            for target in targets {
                guard let streaming = latest[target]?.streaming, let values = percentiles(streaming) else { continue }
                for (percentile, value) in [("50", values.p50), ("95", values.p95), ("99", values.p99)] {
                    output.sample(name, ["target": target, "percentile": percentile], value / 1000)
                }
            }
        }

        output.family("loadsmoke_last_run_tokens_per_second", "gauge", "Mean decode rate over the newest finished run's streamed responses.")
        for target in targets {
            guard let rate = latest[target]?.streaming?.tokensPerSecond else { continue }
            output.sample("loadsmoke_last_run_tokens_per_second", ["target": target], rate)
        }
    }

    /// Returns the unit of a /trend metric's values.
    static func unit(of metric: TrendMetric) -> String {
        switch metric {
        case .p50, .p95, .p99, .mean: return "ms"
        case .ttftP50, .ttftP95, .ttftP99, .itlP50, .itlP95, .itlP99: return "ms"
        case .errorRate, .fallbackRate: return "ratio"
        case .throughput: return "rps"
        case .tokensPerSecond: return "tokens/s"
        }
    }
}

/// Accumulates exposition lines with escaped label values.
private struct MetricWriter {
    var text = ""

    mutating func family(_ name: String, _ type: String, _ help: String) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    mutating func sample(_ name: String, _ labels: [String: String], _ value: Double) {
        text += name
        if !labels.isEmpty {
            let pairs = labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\(escape($0.value))\"" }
            text += "{" + pairs.joined(separator: ",") + "}"
        }
        text += " \(format(value))\n"
    }

    /// Label values escape backslash, double quote and line feed, as the format requires.
    private func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }

    private func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }
}

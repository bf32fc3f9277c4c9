import Foundation
import Measurement

/// ANSI styling for the human report; `plain` when color is off (NO_COLOR set, or output not a terminal).
public struct TextStyle: Sendable {
    public var isColored: Bool

    public init(isColored: Bool) { self.isColored = isColored }

    public static let plain = TextStyle(isColored: false)

    func pass(_ text: String) -> String { isColored ? "\u{1B}[32m\(text)\u{1B}[0m" : text }
    func fail(_ text: String) -> String { isColored ? "\u{1B}[31m\(text)\u{1B}[0m" : text }
    func warn(_ text: String) -> String { isColored ? "\u{1B}[33m\(text)\u{1B}[0m" : text }
    func bold(_ text: String) -> String { isColored ? "\u{1B}[1m\(text)\u{1B}[0m" : text }
}

extension SmokeReport {
    /// Renders the header printed before the run starts: what is sent and which budgets apply.
    public static func renderHeader(_ setup: RunSetup, budgets: [Budget], style: TextStyle) -> String {
        var lines: [String] = []
        let target = setup.targetName.map { " (\($0))" } ?? ""
        lines.append(style.bold("loadsmoke \(setup.method) \(setup.url)\(target)"))
        let pacing = setup.pacing
        var shape = "  "
        if let duration = pacing.durationSeconds {
            shape += "duration \(formatSeconds(duration))"
        } else {
            shape += "requests \(setup.requests)"
        }
        if let rate = pacing.ratePerSecond {
            shape += String(format: ", open loop at %g req/s (at most %d in flight)", rate, pacing.maxInFlight ?? 0)
        } else {
            shape += ", concurrency \(setup.concurrency)"
        }
        if pacing.warmupRequests > 0 { shape += ", warm-up \(pacing.warmupRequests) requests" }
        if pacing.warmupSeconds > 0 { shape += ", warm-up \(formatSeconds(pacing.warmupSeconds))" }
        shape += ", timeout \(formatSeconds(setup.timeoutSeconds))"
        shape += ", prompts \(setup.promptCount) (\(setup.promptSource))"
        lines.append(shape)
        if !setup.simulate.isEmpty {
            lines.append("  simulate failure: \(setup.simulate.joined(separator: ", "))")
        }
        if !setup.headers.isEmpty {
            lines.append("  headers: " + setup.headers.map { "\($0.name): \($0.value)" }.joined(separator: "; "))
        }
        lines.append("  fallback signal: header \(setup.fallbackHeader) or body field \"\(setup.fallbackField)\"")
        let workload = setup.workload
        var body = "  body: \(workload.body)"
        if let model = workload.openAIModel { body += " (model \(model))" }
        if workload.isStreaming { body += ", streamed" }
        body += ", prompt order \(workload.promptOrder)" + (workload.seed.map { " (seed \($0))" } ?? "")
        if let header = workload.requestIDHeader, let prefix = workload.requestIDPrefix { body += ", \(header): \(prefix)-N" }
        lines.append(body)
        var checks: [String] = []
        if let status = workload.expectedStatus { checks.append("status \(status)") }
        checks += workload.expectedJSONFields.map { "non-empty \($0)" }
        checks += workload.expectedHeaders.map { "header \($0)" }
        if !checks.isEmpty { lines.append("  checks: " + checks.joined(separator: ", ")) }
        let limits = budgets.map { "\($0.metric.rawValue) <= \(formatValue($0.limit, unit: $0.metric.unit))" }
        lines.append("  budgets: " + limits.joined(separator: ", "))
        return lines.joined(separator: "\n") + "\n"
    }

    /// METRICS, BUDGET CHECKS, warnings and the verdict line.
    /// - Parameter exitCode: the process's exit code, printed on the last line.
    public func renderText(style: TextStyle, exitCode: Int32) -> String {
        var lines: [String] = []
        let total = summary.requests

        lines.append("")
        lines.append(style.bold("METRICS"))
        lines.append(row("duration", SmokeReport.formatSeconds(summary.durationSeconds)))
        lines.append(row("throughput", String(format: "%.1f req/s", summary.throughput)))
        lines.append(row("requests", "\(total)" + (abortedInFlight > 0 ? " (\(abortedInFlight) aborted, not counted)" : "")))
        lines.append(row("succeeded", countWithShare(summary.succeeded, of: total)))
        lines.append(row("failed", countWithShare(summary.failed, of: total)))
        lines.append(row("fallbacks", countWithShare(summary.fallbacks, of: total)))
        if let latency = summary.latency {
            let parts = [
                "p50 \(ms(latency.p50))", "p95 \(ms(latency.p95))", "p99 \(ms(latency.p99))",
                "mean \(ms(latency.mean))", "min \(ms(latency.min))", "max \(ms(latency.max))",
            ]
            lines.append(row("latency", parts.joined(separator: "  ")))
        } else {
            lines.append(row("latency", "no successful request"))
        }
        if let service = summary.serviceTime {
            lines.append(row("service time", "p50 \(ms(service.p50))  p95 \(ms(service.p95))  p99 \(ms(service.p99))  (from the actual send; latency counts from the due time)"))
        }
        if summary.delayedRequests > 0 {
            lines.append(row("delayed", "\(summary.delayedRequests) requests sent late at the in-flight bound"))
        }
        if let streaming = summary.streaming {
            lines.append(contentsOf: streamLines(streaming))
        }
        let phases: [(String, Distribution?)] = [
            ("dns", summary.phases.dns), ("connect", summary.phases.connect),
            ("tls", summary.phases.tls), ("ttfb", summary.phases.timeToFirstByte),
        ]
        // A phase that never took time (TLS on plain HTTP) is left out rather than shown as 0/0.
        let phaseText = phases.compactMap { name, distribution -> String? in
            guard let distribution, distribution.max > 0 else { return nil }
            return "\(name) " + String(format: "%.1f/%.1f", distribution.p50, distribution.p95)
        }
        if !phaseText.isEmpty {
            lines.append(row("phases (ms)", "p50/p95  " + phaseText.joined(separator: "  ")))
        }
        if summary.errorCounts.isEmpty {
            lines.append(row("errors", "none"))
        } else {
            lines.append(row("errors", ""))
            for (kind, count) in summary.errorCounts.sorted(by: { $0.key < $1.key }) {
                let example = summary.firstErrorMessages[kind] ?? ""
                lines.append("    \(kind.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)) \(countWithShare(count, of: total))   first: \(example)")
            }
        }

        for (reason, count) in summary.checkFailures.sorted(by: { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }) {
            lines.append("    check       \(count)× \(reason)")
        }

        lines.append("")
        lines.append(style.bold(wasInterrupted ? "BUDGET CHECKS (partial result, not judged)" : "BUDGET CHECKS"))
        for result in budgets {
            lines.append(budgetLine(result, style: style))
        }

        let warnings = self.warnings
        if !warnings.isEmpty {
            lines.append("")
            for warning in warnings {
                lines.append(style.warn("warning: ") + warning.message)
            }
        }

        lines.append("")
        let failedCount = budgets.filter { !$0.passed }.count
        let verdict: String
        if wasInterrupted {
            verdict = style.warn("INTERRUPTED") + ": partial result, budgets not judged (exit \(exitCode))"
        } else if passed {
            verdict = style.pass("PASSED") + ": all \(budgets.count) budgets met (exit \(exitCode))"
        } else {
            verdict = style.fail("FAILED") + ": \(failedCount) of \(budgets.count) budgets failed (exit \(exitCode))"
        }
        lines.append(verdict)
        return lines.joined(separator: "\n") + "\n"
    }

    private func streamLines(_ streaming: StreamSummary) -> [String] {
        var lines: [String] = []
        func distributionText(_ distribution: Distribution?) -> String {
            guard let distribution else { return "no content event" }
            return ["p50 \(ms(distribution.p50))", "p95 \(ms(distribution.p95))", "p99 \(ms(distribution.p99))", "mean \(ms(distribution.mean))"].joined(separator: "  ")
        }
        lines.append(row("ttft", distributionText(streaming.timeToFirstToken)))
        lines.append(row("itl", distributionText(streaming.interTokenLatency)))
        var rates: [String] = []
        if let tokens = streaming.meanTokensPerSecond { rates.append(String(format: "%.1f tokens/s", tokens)) }
        if let events = streaming.meanEventsPerSecond { rates.append(String(format: "%.1f events/s", events)) }
        let source = streaming.streamsWithReportedTokens == streaming.streams
            ? "tokens from usage reports"
            : "tokens counted as content events in \(streaming.streams - streaming.streamsWithReportedTokens) of \(streaming.streams) streams"
        rates.append(source)
        lines.append(row("per stream", rates.joined(separator: ", ")))
        return lines
    }

    private func budgetLine(_ result: BudgetResult, style: TextStyle) -> String {
        let unit = result.metric.unit
        let mark = result.passed ? style.pass("PASS") : style.fail("FAIL")
        let name = result.metric.displayName.padding(toLength: 14, withPad: " ", startingAt: 0)
        let actual = result.actual.map { SmokeReport.formatValue($0, unit: unit) } ?? "no data"
        var line = "  \(mark)  \(name) \(actual.padding(toLength: 10, withPad: " ", startingAt: 0)) budget \(SmokeReport.formatValue(result.limit, unit: unit))"
        if let overage = result.overage {
            if unit == "ratio" {
                line += String(format: ", over by %.1f percentage points", overage * 100)
            } else {
                line += ", over by \(SmokeReport.formatValue(overage, unit: unit))"
                if result.limit > 0, let actual = result.actual {
                    line += String(format: " (%+.0f %%)", (actual / result.limit - 1) * 100)
                }
            }
        }
        if !result.passed, result.metric == .fallbackRate, !setup.simulate.isEmpty {
            line += "\n        expected while a failure is simulated; pass --budget-fallback 1 to accept any fallback rate"
        }
        return line
    }

    private func row(_ label: String, _ value: String) -> String {
        "  \(label.padding(toLength: 15, withPad: " ", startingAt: 0)) \(value)"
    }

    private func countWithShare(_ count: Int, of total: Int) -> String {
        let share = total > 0 ? Double(count) / Double(total) * 100 : 0
        return String(format: "%d (%.1f %%)", count, share)
    }

    private func ms(_ value: Double) -> String { SmokeReport.formatValue(value, unit: "ms") }

    /// Formats a budget or metric value: milliseconds with one decimal, ratios as percentages.
    public static func formatValue(_ value: Double, unit: String) -> String {
        switch unit {
        case "ms": return trimmed(String(format: "%.1f", value)) + " ms"
        case "ratio": return trimmed(String(format: "%.1f", value * 100)) + " %"
        default: return String(format: "%g ", value) + unit
        }
    }

    /// Drops a `.0` so round limits read `800 ms`, not `800.0 ms`.
    private static func trimmed(_ number: String) -> String {
        number.hasSuffix(".0") ? String(number.dropLast(2)) : number
    }

    static func formatSeconds(_ seconds: Double) -> String {
        seconds < 10 ? String(format: "%.2f s", seconds) : String(format: "%.1f s", seconds)
    }
}

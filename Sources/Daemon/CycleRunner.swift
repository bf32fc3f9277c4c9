import Configuration
import Foundation
import LoadEngine
import Reporting
import SmokeRunner
import Storage

/// Carries out one scheduled smoke cycle of a target: records the run as `running`, executes it in-process exactly as
/// `loadsmoke run` would, stores the result in one transaction and hands it to the alert dispatcher.
final class CycleRunner: @unchecked Sendable {
    private let store: RunStore
    private let logger: DaemonLogger
    private let alerts: AlertDispatcher

    /// Attempts to store a finished run before giving up; SQLite's busy timeout already waits between them.
    static let storeAttempts = 3

    init(store: RunStore, logger: DaemonLogger, alerts: AlertDispatcher) {
        self.store = store
        self.logger = logger
        self.alerts = alerts
    }

    func run(_ target: TargetSettings, stop: StopFlag) {
        let startedAt = Date()
        let runID: Int64
        do {
            runID = try store.beginRun(target: target.name, startedAt: startedAt)
            logger.resolve("store.write_failed", key: target.name)
        } catch {
            logger.error("store.write_failed", cause: "\(error)", key: target.name, [("target", target.name), ("step", "begin_run")])
            return
        }
        let options = target.options
        var fields: [(String, Any?)] = [("target", target.name), ("run_id", runID)]
        if let rate = options.ratePerSecond {
            fields += [("mode", "open"), ("rate_rps", rate), ("max_in_flight", options.maxInFlight)]
        } else {
            fields += [("mode", "closed"), ("concurrency", options.concurrency)]
        }
        fields.append(options.durationSeconds.map { ("duration_s", $0) } ?? ("requests", options.requests))
        logger.info("run.started", fields)

        let outcome: RunOutcome
        do {
            let smokeRun = try SmokeRun.prepare(target.options)
            let report = try smokeRun.execute(stop: stop)
            outcome = RunRecording.outcome(of: report, finishedAt: Date())
            logger.resolve("run.error", key: target.name)
            logger.info("run.finished", [
                ("target", target.name), ("run_id", runID), ("verdict", outcome.status.rawValue),
                ("requests", outcome.requests), ("failed", outcome.failed), ("fallbacks", outcome.fallbacks),
                ("p95_ms", outcome.latency?.p95), ("error_rate", outcome.errorRate),
                ("failed_budgets", report.budgets.filter { !$0.passed }.map(\.metric.rawValue).joined(separator: ",")),
                ("duration_s", outcome.durationSeconds),
            ])
        } catch {
            outcome = RunRecording.errorOutcome(message: "\(error)", finishedAt: Date())
            logger.error("run.error", cause: "\(error)", key: target.name, [("target", target.name), ("run_id", runID)])
        }

        guard store(outcome, runID: runID, target: target.name) else { return }
        alerts.runFinished(target: target.name, runID: runID, status: outcome.status, reportJSON: outcome.reportJSON)
    }

    private func store(_ outcome: RunOutcome, runID: Int64, target: String) -> Bool {
        for attempt in 1...CycleRunner.storeAttempts {
            do {
                try store.finishRun(id: runID, outcome: outcome)
                return true
            } catch {
                logger.error("store.write_failed", cause: "\(error)", key: target, [("target", target), ("run_id", runID), ("step", "finish_run"), ("attempt", attempt)])
                if attempt < CycleRunner.storeAttempts { Thread.sleep(forTimeInterval: Double(attempt)) }
            }
        }
        // NOTE: the row stays `running` and becomes `interrupted` at the next start-up.
        return false
    }
}

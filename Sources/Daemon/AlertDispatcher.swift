import Configuration
import Foundation
import Storage

/// Runs the configured alert command in the background for runs that the AlertPolicy selects, then logs and
/// stores the command's result with the run. A failing or hanging command never delays the schedule: each alert
/// runs on its own thread and is killed at its timeout.
final class AlertDispatcher: @unchecked Sendable {
    private let lock = NSCondition()
    private var settings: AlertSettings?
    private var states: [String: AlertPolicy.TargetState] = [:]
    private var running = 0
    private let store: RunStore
    private let logger: DaemonLogger
    private let statusURL: String

    init(settings: AlertSettings?, store: RunStore, logger: DaemonLogger, statusURL: String) {
        self.settings = settings
        self.store = store
        self.logger = logger
        self.statusURL = statusURL
    }

    func update(settings: AlertSettings?) {
        lock.lock()
        self.settings = settings
        lock.unlock()
    }

    /// Seeds a target's streak from its newest stored run, so a restart in the middle of a failing streak does not
    /// alert again before `repeat` has passed since that run.
    func restoreState(target: String, latest: RunRecord?) {
        guard let latest, latest.status.hasVerdict else { return }
        let isFailing = latest.status != .passed
        lock.lock()
        states[target] = AlertPolicy.TargetState(isFailing: isFailing, lastFailureAlertAt: isFailing ? (latest.finishedAt ?? latest.startedAt) : nil)
        lock.unlock()
    }

    /// Decides and, when due, starts the alert for a finished run.
    func runFinished(target: String, runID: Int64, status: RunStatus, reportJSON: String, at now: Date = Date()) {
        lock.lock()
        guard let settings else {
            lock.unlock()
            return
        }
        let policy = AlertPolicy(events: settings.events, repeatSeconds: settings.repeatSeconds)
        var state = states[target] ?? AlertPolicy.TargetState()
        let event = policy.decide(status: status, at: now, state: &state)
        states[target] = state
        guard let event else {
            lock.unlock()
            return
        }
        running += 1
        lock.unlock()

        let invocation = AlertInvocation(
            command: settings.command,
            stdin: Array(reportJSON.utf8),
            environment: [
                "LOADSMOKE_EVENT": event.rawValue,
                "LOADSMOKE_TARGET": target,
                "LOADSMOKE_RUN_ID": String(runID),
                "LOADSMOKE_STATUS_URL": statusURL,
            ],
            timeoutSeconds: settings.timeoutSeconds,
            maxOutputBytes: AlertRecord.maximumOutputBytes
        )
        logger.info("alert.started", [("target", target), ("run_id", runID), ("alert_event", event.rawValue), ("command", settings.command[0])])
        let thread = Thread { [self] in
            deliver(invocation, target: target, runID: runID, event: event)
        }
        thread.name = "alert-\(target)"
        thread.start()
    }

    private func deliver(_ invocation: AlertInvocation, target: String, runID: Int64, event: AlertEvent) {
        defer {
            lock.lock()
            running -= 1
            lock.broadcast()
            lock.unlock()
        }
        let result = AlertCommand.run(invocation)
        let seconds = result.finishedAt.timeIntervalSince(result.startedAt)
        var fields: [(String, Any?)] = [
            ("target", target), ("run_id", runID), ("alert_event", event.rawValue),
            ("exit_status", result.exitStatus), ("signal", result.signal), ("timed_out", result.timedOut),
            ("duration_s", seconds),
        ]
        if let launchError = result.launchError {
            logger.error("alert.failed", cause: launchError, key: target, fields)
        } else if result.timedOut || result.exitStatus != 0 {
            fields.append(("output", String(result.output.prefix(1024))))
            logger.error("alert.failed", cause: result.timedOut ? "timed out" : "exit status \(result.exitStatus.map(String.init) ?? "none")", key: target, fields)
        } else {
            fields.append(("output", String(result.output.prefix(1024))))
            logger.info("alert.finished", fields)
            logger.resolve("alert.failed", key: target)
        }

        let record = AlertRecord(
            event: event.rawValue,
            exitStatus: result.exitStatus,
            signal: result.signal,
            output: result.launchError ?? (result.timedOut ? "[loadsmoke: timed out after \(DaemonLogger.format(invocation.timeoutSeconds)) s and was killed]\n" + result.output : result.output),
            startedAt: result.startedAt,
            finishedAt: result.finishedAt
        )
        do {
            try store.recordAlert(runID: runID, alert: record)
        } catch {
            logger.error("alert.store_failed", cause: "\(error)", key: target, [("target", target), ("run_id", runID)])
        }
    }

    /// Waits until every running alert has finished, at most `seconds`; returns whether all finished.
    @discardableResult
    func waitForAlerts(seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        lock.lock()
        defer { lock.unlock() }
        while running > 0 {
            if !lock.wait(until: deadline) { return running == 0 }
        }
        return true
    }
}

import Configuration
import Foundation
import LoadEngine
import Scheduling

/// Fires each target's cycles at its schedule's times, one cycle per target at a time.
///
/// A fire time that comes while the target's previous cycle is still going is skipped and logged. Fire times missed
/// while the daemon was down, or while the machine was suspended, are not replayed: the next time is always computed
/// from now. Each cycle runs on a thread of its own, so a slow target never delays another.
final class Scheduler: @unchecked Sendable {
    private final class Entry {
        var target: TargetSettings
        /// Start of `every` intervals: fire times are anchor + k * interval (+ jitter).
        var anchor: Date
        var nextFire: Date?
        var stop: StopFlag?

        init(target: TargetSettings, anchor: Date) {
            self.target = target
            self.anchor = anchor
        }
    }

    private let condition = NSCondition()
    private var entries: [String: Entry] = [:]
    private var order: [String] = []
    private var isStopping = false
    private var runningCycles = 0
    private var heartbeat = Date()
    private var thread: Thread?
    private let logger: DaemonLogger
    private let runCycle: @Sendable (TargetSettings, StopFlag) -> Void

    /// The loop wakes at least this often, so `isHealthy` can tell a stuck scheduler.
    static let maximumSleepSeconds = 30.0

    init(targets: [TargetSettings], logger: DaemonLogger, runCycle: @escaping @Sendable (TargetSettings, StopFlag) -> Void) {
        self.logger = logger
        self.runCycle = runCycle
        let now = Date()
        for target in targets {
            entries[target.name] = Entry(target: target, anchor: now)
            order.append(target.name)
        }
    }

    func start() {
        condition.lock()
        for name in order { schedule(entries[name]!, after: Date()) }
        condition.unlock()
        let thread = Thread { [self] in loop() }
        thread.name = "scheduler"
        self.thread = thread
        thread.start()
    }

    /// Replaces the targets: kept names keep their running cycle, removed ones finish their cycle, new ones start
    /// their schedule now.
    func reload(_ targets: [TargetSettings]) {
        condition.lock()
        let now = Date()
        var newEntries: [String: Entry] = [:]
        for target in targets {
            let entry = entries[target.name] ?? Entry(target: target, anchor: now)
            if entry.target.scheduleText != target.scheduleText || entry.target.timeZone != target.timeZone || entry.target.jitterSeconds != target.jitterSeconds {
                entry.anchor = now
                entry.target = target
                schedule(entry, after: now)
            } else {
                entry.target = target
                if entry.nextFire == nil { schedule(entry, after: now) }
            }
            newEntries[target.name] = entry
        }
        entries = newEntries
        order = targets.map(\.name)
        condition.broadcast()
        condition.unlock()
    }

    /// Next fire time of every target, by name.
    func nextFireDates() -> [String: Date] {
        condition.lock()
        defer { condition.unlock() }
        return entries.compactMapValues(\.nextFire)
    }

    /// Whether the scheduling loop has run recently.
    var isHealthy: Bool {
        condition.lock()
        defer { condition.unlock() }
        return !isStopping && Date().timeIntervalSince(heartbeat) < Scheduler.maximumSleepSeconds * 3
    }

    /// Stops firing, gives running cycles `graceSeconds` to finish, then requests them to stop (they store themselves as
    /// interrupted) and waits `stopSeconds` more. Returns whether every cycle ended.
    @discardableResult
    func stop(graceSeconds: Double, stopSeconds: Double) -> Bool {
        condition.lock()
        isStopping = true
        condition.broadcast()
        let graceDeadline = Date().addingTimeInterval(graceSeconds)
        while runningCycles > 0, condition.wait(until: graceDeadline) {}
        if runningCycles > 0 {
            logger.info("scheduler.stopping_cycles", [("running", runningCycles)])
            for entry in entries.values { entry.stop?.request() }
            let stopDeadline = Date().addingTimeInterval(stopSeconds)
            while runningCycles > 0, condition.wait(until: stopDeadline) {}
        }
        let allEnded = runningCycles == 0
        condition.unlock()
        return allEnded
    }

    private func loop() {
        condition.lock()
        defer { condition.unlock() }
        while !isStopping {
            let now = Date()
            heartbeat = now
            for name in order {
                guard let entry = entries[name], let fireAt = entry.nextFire, fireAt <= now else { continue }
                if entry.stop != nil {
                    logger.info("run.skipped", [("target", name), ("scheduled_at", ISO8601Text.format(fireAt, timeZone: entry.target.timeZone)), ("reason", "previous run still going")])
                } else {
                    launch(entry)
                }
                schedule(entry, after: now)
            }
            let earliest = entries.values.compactMap(\.nextFire).min() ?? now.addingTimeInterval(Scheduler.maximumSleepSeconds)
            let wake = min(earliest, now.addingTimeInterval(Scheduler.maximumSleepSeconds))
            _ = condition.wait(until: wake)
        }
    }

    /// Starts a cycle on its own thread; called with the lock held.
    private func launch(_ entry: Entry) {
        let stop = StopFlag()
        entry.stop = stop
        runningCycles += 1
        let target = entry.target
        let thread = Thread { [self] in
            runCycle(target, stop)
            condition.lock()
            if entry.stop === stop { entry.stop = nil }
            runningCycles -= 1
            condition.broadcast()
            condition.unlock()
        }
        thread.name = "cycle-\(target.name)"
        thread.start()
    }

    /// Sets the entry's next fire time strictly after `date`; called with the lock held.
    private func schedule(_ entry: Entry, after date: Date) {
        let target = entry.target
        let jitter = target.jitterSeconds > 0 ? ((try? Jitter(maximumSeconds: target.jitterSeconds))?.offset(forKey: target.name) ?? 0) : 0
        // The jitter delays every fire time by the same amount, so the base time is searched from date - jitter, but
        // never from before the anchor: the first run comes one period after the start, jitter or not.
        let searchFrom = max(date.addingTimeInterval(-jitter), entry.anchor)
        guard let base = target.schedule.nextFireDate(after: searchFrom, in: target.timeZone, anchor: entry.anchor) else {
            entry.nextFire = nil
            logger.warn("schedule.exhausted", [("target", target.name), ("schedule", target.scheduleText)])
            return
        }
        entry.nextFire = base.addingTimeInterval(jitter)
    }
}

import Foundation
import Storage

/// Deletes runs older than the retention period on its own thread, every `intervalSeconds`, so pruning never delays a
/// cycle (the store deletes in small batches, each in its own short transaction).
final class Pruner: @unchecked Sendable {
    private let condition = NSCondition()
    private var isStopping = false
    private var isFinished = false
    private var retentionSeconds: Double
    private var intervalSeconds: Double
    private let store: RunStore
    private let logger: DaemonLogger

    init(store: RunStore, retentionSeconds: Double, intervalSeconds: Double, logger: DaemonLogger) {
        self.store = store
        self.retentionSeconds = retentionSeconds
        self.intervalSeconds = intervalSeconds
        self.logger = logger
    }

    func start() {
        let thread = Thread { [self] in loop() }
        thread.name = "pruner"
        thread.start()
    }

    func update(retentionSeconds: Double, intervalSeconds: Double) {
        condition.lock()
        self.retentionSeconds = retentionSeconds
        self.intervalSeconds = intervalSeconds
        condition.broadcast()
        condition.unlock()
    }

    /// Stops the loop and waits for a pass in progress to end, at most `seconds`.
    func stop(waitSeconds seconds: Double) {
        condition.lock()
        isStopping = true
        condition.broadcast()
        let deadline = Date().addingTimeInterval(seconds)
        while !isFinished, condition.wait(until: deadline) {}
        condition.unlock()
    }

    private func loop() {
        condition.lock()
        while !isStopping {
            let retention = retentionSeconds
            condition.unlock()
            prune(retentionSeconds: retention)
            condition.lock()
            let wake = Date().addingTimeInterval(intervalSeconds)
            while !isStopping, Date() < wake {
                _ = condition.wait(until: wake)
            }
        }
        isFinished = true
        condition.broadcast()
        condition.unlock()
    }

    private func prune(retentionSeconds: Double) {
        let cutoff = Date().addingTimeInterval(-retentionSeconds)
        let started = Date()
        do {
            let deleted = try store.prune(olderThan: cutoff)
            logger.resolve("prune.failed")
            let fields: [(String, Any?)] = [("deleted", deleted), ("cutoff", ISO8601DateFormatter().string(from: cutoff)), ("duration_s", Date().timeIntervalSince(started))]
            if deleted > 0 { logger.info("prune.finished", fields) } else { logger.debug("prune.finished", fields) }
        } catch {
            logger.error("prune.failed", cause: "\(error)")
        }
    }
}

import Measurement

/// The mutable state of one `LoadEngine.run`: what is in flight, what comes next, and what was measured.
struct EventLoopState {
    let pacer: Pacer
    let start: Double
    var recorder = MetricsRecorder()
    var idle: [Transfer] = []
    var inFlight = 0
    /// Index of the next request to start, warm-up included.
    var nextIndex = 0
    var stopDeadline: Double?
    /// Set when a stop came before every planned request had started.
    var wasCutShort = false
    /// Start of the measured part: the first measured request's due (or start) time.
    var measureStart: Double?
    var lastEnd: Double
    /// Open loop: the first request that found the in-flight bound full; it and the ones after it are delayed.
    var firstBlockedIndex: Int?

    /// Closed loop: measured requests started so far and when the time-based warm-up ends.
    private var measuredStarted = 0
    private var warmupTimeEnd: Double?
    private var measuredTimeEnd: Double?

    init(plan: LoadPlan, start: Double) throws {
        pacer = Pacer(pacing: plan.pacing, length: plan.length, start: start)
        self.start = start
        lastEnd = start
    }

    /// Returns whether every planned request had started by `time`, so that a stop requested then cut nothing short.
    func isScheduleComplete(at time: Double) -> Bool {
        if let total = pacer.openTotalCount { return nextIndex >= total }
        if pacer.length.durationSeconds != nil {
            guard let end = measuredTimeEnd else { return false }
            return time >= end
        }
        return nextIndex >= pacer.length.warmupRequests && measuredStarted >= pacer.length.requests
    }

    /// Whether the schedule still has requests to start (the loop keeps polling while in-flight is 0 in between).
    var hasMoreToSchedule: Bool {
        guard stopDeadline == nil else { return false }
        if let total = pacer.openTotalCount { return nextIndex < total }
        return false
    }

    /// Closed loop: nil when no further request may start now, else whether the next one is warm-up.
    mutating func closedLoopNext(now: Double) -> Bool? {
        let length = pacer.length
        if nextIndex < length.warmupRequests { return true }
        if length.warmupSeconds > 0 {
            let end = warmupTimeEnd ?? now + length.warmupSeconds
            warmupTimeEnd = end
            if now < end { return true }
        }
        if let duration = length.durationSeconds {
            let end = measuredTimeEnd ?? now + duration
            measuredTimeEnd = end
            guard now < end else { return nil }
        } else {
            guard measuredStarted < length.requests else { return nil }
        }
        measuredStarted += 1
        return false
    }

    func progress(total: Int?, inFlight: Int? = nil) -> EngineProgress {
        EngineProgress(
            completed: recorder.completedCount, failed: recorder.failedCount,
            inFlight: inFlight ?? self.inFlight, total: total ?? 0
        )
    }

    /// Poll at least every 50 ms, and in the open loop no later than the next due time.
    func pollMilliseconds(now: Double) -> Int32 {
        guard let total = pacer.openTotalCount, nextIndex < total, stopDeadline == nil else { return 50 }
        let untilDue = (pacer.dueTime(nextIndex) - now) * 1000
        return Int32(max(0, min(50, untilDue.rounded(.up))))
    }
}

/// The pacing of requests.
public enum Pacing: Sendable, Equatable {
    /// `LoadPlan.concurrency` workers, each sending its next request when its last one ends. A slow server slows the
    /// sender, so latency is measured from the actual send.
    case closed
    /// Request i is due at start + i / rate whatever happened before (open loop). Latency counts from the due time,
    /// so a stall shows in the percentiles instead of lowering the offered rate (no coordinated omission).
    /// At most `maxInFlight` requests are open at once. A request due while that many are open waits for a free slot
    /// and is counted as delayed.
    case open(ratePerSecond: Double, maxInFlight: Int)
}

/// How long a run sends: a number of requests or a time, each after an optional warm-up that is not measured.
public struct RunLength: Sendable, Equatable {
    /// Measured requests; ignored when `durationSeconds` is set.
    public var requests: Int
    /// Measured seconds: requests are started until this much time has passed since the measurement began.
    public var durationSeconds: Double?
    /// Requests sent first and not counted.
    public var warmupRequests: Int
    /// Seconds of requests sent first and not counted, after `warmupRequests`.
    public var warmupSeconds: Double

    public init(requests: Int, durationSeconds: Double? = nil, warmupRequests: Int = 0, warmupSeconds: Double = 0) {
        self.requests = requests
        self.durationSeconds = durationSeconds
        self.warmupRequests = warmupRequests
        self.warmupSeconds = warmupSeconds
    }
}

/// Decides, for the open loop, when each request is due and how many are scheduled; for the closed loop, whether
/// another request may start. Times are monotonic seconds.
struct Pacer {
    let pacing: Pacing
    let length: RunLength
    let start: Double

    /// Requests of the open-loop schedule that are warm-up: the count, then the duration converted at the rate.
    let openWarmupCount: Int
    /// Every request of the open-loop schedule, warm-up included; nil for the closed loop.
    let openTotalCount: Int?

    init(pacing: Pacing, length: RunLength, start: Double) {
        self.pacing = pacing
        self.length = length
        self.start = start
        if case let .open(rate, _) = pacing {
            let warmup = length.warmupRequests + Int((length.warmupSeconds * rate).rounded(.up))
            let measured = length.durationSeconds.map { Int(($0 * rate).rounded(.down)) } ?? length.requests
            openWarmupCount = warmup
            openTotalCount = warmup + max(measured, 0)
        } else {
            openWarmupCount = 0
            openTotalCount = nil
        }
    }

    /// Due time of open-loop request `index`.
    func dueTime(_ index: Int) -> Double {
        guard case let .open(rate, _) = pacing else { return start }
        return start + Double(index) / rate
    }

    /// Planned measured requests for progress displays; nil when a duration decides.
    var plannedRequests: Int? {
        if let openTotalCount { return openTotalCount - openWarmupCount }
        return length.durationSeconds == nil ? length.requests : nil
    }
}

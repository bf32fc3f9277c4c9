import Glibc

/// Time read from `CLOCK_MONOTONIC`, which wall-clock changes do not move, in nanoseconds.
enum MonotonicClock {
    static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    /// Returns the instant `milliseconds` after `start`.
    static func instant(_ start: UInt64, plusMilliseconds milliseconds: Double) -> UInt64 {
        start + UInt64(max(milliseconds, 0) * 1_000_000)
    }

    /// Blocks the calling thread until the clock reaches `deadline`, and returns at once when it has passed.
    static func sleep(until deadline: UInt64) {
        var time = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        // clock_nanosleep returns the error number itself. With an absolute deadline a retry after a signal
        // sleeps only for the time that is left.
        while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &time, nil) == EINTR {}
    }
}

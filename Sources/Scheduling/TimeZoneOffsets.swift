import Foundation

/// Offset lookups shared by the cron search and the date-time parser.
///
/// Both rely on `TimeZone.nextDaylightSavingTimeTransition(after:)`. With Swift 6.3.1 Foundation on Linux it also
/// reports changes of standard time, such as Europe/Moscow's in October 2014, not only daylight saving changes.
extension TimeZone {
    /// Maximum span searched backward for a transition. A transition skips or repeats wall times only within
    /// hours of itself, so two days covers every such wall time.
    static let transitionSearchWindow: TimeInterval = 2 * 86_400

    /// Wall-clock seconds of `date` in this zone, floored to a whole second.
    func wallSeconds(of date: Date) -> Int {
        Int(date.timeIntervalSince1970.rounded(.down)) + secondsFromGMT(for: date)
    }

    /// Offset transitions in `(start, end]`, oldest first.
    func transitions(after start: Date, through end: Date) -> [Date] {
        var found: [Date] = []
        var cursor = start
        // Zones change offset at most a few times a year, so 64 bounds any window of a few days.
        for _ in 0..<64 {
            guard let next = nextDaylightSavingTimeTransition(after: cursor), next <= end else { break }
            found.append(next)
            cursor = next
        }
        return found
    }

    /// Wall-clock second at which the first pass of a repeated hour ended, when `date` lies after a recent fall-back
    /// transition (the offset went down), or nil when no such transition happened in the last two days.
    func firstPassEndWallSeconds(before date: Date) -> Int? {
        let recent = transitions(after: date - Self.transitionSearchWindow, through: date)
        guard let last = recent.last else { return nil }

        let offsetBefore = secondsFromGMT(for: last - 1)
        let offsetAfter = secondsFromGMT(for: last)
        guard offsetAfter < offsetBefore else { return nil }
        return Int(last.timeIntervalSince1970.rounded(.up)) + offsetBefore
    }

    /// Instants at which this zone's wall clock reads `wallSeconds`, earliest first.
    ///
    /// The result has one element for an ordinary time, two for a time repeated when clocks fall back, and none for
    /// a time skipped when clocks spring forward.
    func instants(forWallSeconds wallSeconds: Int) -> [Date] {
        let approximate = Date(timeIntervalSince1970: TimeInterval(wallSeconds))
        let windowStart = approximate - Self.transitionSearchWindow
        let windowEnd = approximate + Self.transitionSearchWindow

        var offsets: Set<Int> = [secondsFromGMT(for: windowStart)]
        for transition in transitions(after: windowStart, through: windowEnd) {
            offsets.insert(secondsFromGMT(for: transition))
        }

        var found: [Date] = []
        for offset in offsets {
            let instant = Date(timeIntervalSince1970: TimeInterval(wallSeconds - offset))
            if secondsFromGMT(for: instant) == offset {
                found.append(instant)
            }
        }
        return found.sorted()
    }
}

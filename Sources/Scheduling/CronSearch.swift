import Foundation

/// The five parsed fields of a cron expression and the wall-clock search over them.
struct CronFields: Equatable, Sendable {
    let minutes: CronField
    let hours: CronField
    let daysOfMonth: CronField
    let months: CronField
    let daysOfWeek: CronField

    /// Applies the crontab(5) day rule: either day field may match when both are restricted, else both must match.
    func matchesDay(year: Int, month: Int, day: Int) -> Bool {
        let dayOfMonthMatches = daysOfMonth.values.contains(day)
        let days = CivilDateTime.daysSinceEpoch(year: year, month: month, day: day)
        let dayOfWeekMatches = daysOfWeek.values.contains(CivilDateTime.weekday(daysSinceEpoch: days))

        if daysOfMonth.startsWithStar || daysOfWeek.startsWithStar {
            return dayOfMonthMatches && dayOfWeekMatches
        }
        return dayOfMonthMatches || dayOfWeekMatches
    }

    /// Finds the first matching wall-clock minute at or after `start` and before `end`, both in wall seconds.
    ///
    /// The search jumps to the next allowed month, then day, hour and minute, so its cost grows with the number of
    /// days visited in allowed months, never with the number of minutes.
    func firstMatchingWallTime(from start: Int, before end: Int) -> Int? {
        // Round up to a whole minute because cron fires only at second 0.
        let firstMinute = floorDivide(start + 59, 60) * 60
        var time = CivilDateTime(wallSeconds: firstMinute)

        while time.wallSeconds < end {
            guard let month = months.values.first(atOrAfter: time.month) else {
                time = CivilDateTime(year: time.year + 1, month: 1, day: 1)
                continue
            }
            if month != time.month {
                time = CivilDateTime(year: time.year, month: month, day: 1)
                continue
            }
            guard time.day <= CivilDateTime.daysInMonth(year: time.year, month: time.month) else {
                time = Self.startOfNextMonth(after: time)
                continue
            }
            guard matchesDay(year: time.year, month: time.month, day: time.day) else {
                time = Self.startOfNextDay(after: time)
                continue
            }
            guard let hour = hours.values.first(atOrAfter: time.hour) else {
                time = Self.startOfNextDay(after: time)
                continue
            }
            if hour != time.hour {
                time.hour = hour
                time.minute = 0
            }
            guard let minute = minutes.values.first(atOrAfter: time.minute) else {
                time.minute = 0
                time.hour += 1
                if time.hour == 24 {
                    time = Self.startOfNextDay(after: time)
                }
                continue
            }
            time.minute = minute

            let candidate = time.wallSeconds
            return candidate < end ? candidate : nil
        }
        return nil
    }

    private static func startOfNextDay(after time: CivilDateTime) -> CivilDateTime {
        let days = CivilDateTime.daysSinceEpoch(year: time.year, month: time.month, day: time.day) + 1
        return CivilDateTime(wallSeconds: days * CivilDateTime.secondsPerDay)
    }

    private static func startOfNextMonth(after time: CivilDateTime) -> CivilDateTime {
        time.month == 12
            ? CivilDateTime(year: time.year + 1, month: 1, day: 1)
            : CivilDateTime(year: time.year, month: time.month + 1, day: 1)
    }
}

extension CronExpression {
    /// Span searched ahead by `nextDate`: one 400-year Gregorian cycle plus a year of margin, in seconds.
    static let searchHorizon: TimeInterval = 401 * 366 * 86_400

    /// Returns the first fire time strictly after `date`, evaluating the fields on the wall clock of `timeZone`.
    ///
    /// Daylight saving changes are handled as Vixie cron does. A wall time skipped by a spring-forward gap fires
    /// once at the end of the gap, so `30 2 * * *` in Europe/Berlin fires at 03:00+02:00 on 2026-03-29. A wall time
    /// repeated when clocks fall back fires only in the first pass. Expressions with `hasWildcardTime` instead
    /// follow real time: they skip the gap without catching up and fire in both passes of a repeated hour, so
    /// `*/15 * * * *` keeps firing every 15 real minutes.
    ///
    /// Returns nil when the expression never fires (`canFire` is false). The search walks at most one transition
    /// segment of the zone at a time and stops after `searchHorizon`, about 401 years.
    public func nextDate(after date: Date, in timeZone: TimeZone) -> Date? {
        guard canFire else { return nil }

        let horizon = date + Self.searchHorizon
        var segmentStart = date
        var offset = timeZone.secondsFromGMT(for: date)
        var wallFrom = floorDivide(timeZone.wallSeconds(of: date), 60) * 60 + 60
        var firstPassEnd = timeZone.firstPassEndWallSeconds(before: date)

        // Each pass searches one span of constant UTC offset. Zones change offset at most a few times a year, so
        // 401 years stay far below this bound.
        for _ in 0..<10_000 {
            let transition = timeZone.nextDaylightSavingTimeTransition(after: segmentStart).flatMap {
                $0 < horizon ? $0 : nil
            }

            var wallEnd = Int(horizon.timeIntervalSince1970) + offset
            var nextOffset = offset
            var transitionSeconds = 0
            if let transition {
                nextOffset = timeZone.secondsFromGMT(for: transition)
                transitionSeconds = Int(transition.timeIntervalSince1970.rounded(.up))
                let searchesGap = nextOffset > offset && !hasWildcardTime
                wallEnd = transitionSeconds + (searchesGap ? nextOffset : offset)
            }

            var searchStart = wallFrom
            if !hasWildcardTime, let firstPassEnd {
                searchStart = max(searchStart, firstPassEnd)
            }

            if let wallTime = fields.firstMatchingWallTime(from: searchStart, before: wallEnd) {
                let instant = wallTime - offset
                if let transition, instant >= transitionSeconds {
                    // The wall time lies in the spring-forward gap, so it fires when the gap ends.
                    return transition
                }
                return Date(timeIntervalSince1970: TimeInterval(instant))
            }

            guard let transition else { return nil }
            firstPassEnd = nextOffset < offset ? transitionSeconds + offset : nil
            offset = nextOffset
            segmentStart = transition
            wallFrom = transitionSeconds + nextOffset
        }
        return nil
    }
}

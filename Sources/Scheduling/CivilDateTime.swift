/// Date and time on a proleptic Gregorian wall clock, without a time zone.
///
/// `wallSeconds` counts seconds since 1970-01-01T00:00:00 of the same wall clock, so adding a zone's UTC offset to a
/// Unix time gives the wall seconds of that instant in the zone. Day counts use Howard Hinnant's days-from-civil
/// algorithm ("chrono-Compatible Low-Level Date Algorithms"), which is exact while the day count fits in an `Int`.
struct CivilDateTime: Equatable {
    var year: Int
    var month: Int
    var day: Int
    var hour: Int = 0
    var minute: Int = 0
    var second: Int = 0

    static let secondsPerDay = 86_400

    init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
    }

    init(wallSeconds: Int) {
        let days = floorDivide(wallSeconds, Self.secondsPerDay)
        let secondOfDay = wallSeconds - days * Self.secondsPerDay
        (year, month, day) = Self.civilDate(daysSinceEpoch: days)
        hour = secondOfDay / 3600
        minute = secondOfDay % 3600 / 60
        second = secondOfDay % 60
    }

    var wallSeconds: Int {
        Self.daysSinceEpoch(year: year, month: month, day: day) * Self.secondsPerDay
            + hour * 3600 + minute * 60 + second
    }

    /// Day of the week, 0 for Sunday through 6 for Saturday.
    var weekday: Int {
        Self.weekday(daysSinceEpoch: Self.daysSinceEpoch(year: year, month: month, day: day))
    }

    static func isLeapYear(_ year: Int) -> Bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days from 1970-01-01 to the given date, negative before it.
    static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        // Counting years from March puts the leap day at the end of the year.
        let marchYear = month <= 2 ? year - 1 : year
        let era = floorDivide(marchYear, 400)
        let yearOfEra = marchYear - era * 400
        let marchMonth = month > 2 ? month - 3 : month + 9
        let dayOfYear = (153 * marchMonth + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civilDate(daysSinceEpoch days: Int) -> (year: Int, month: Int, day: Int) {
        let shifted = days + 719_468
        let era = floorDivide(shifted, 146_097)
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let marchMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * marchMonth + 2) / 5 + 1
        let month = marchMonth < 10 ? marchMonth + 3 : marchMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    static func weekday(daysSinceEpoch days: Int) -> Int {
        // 1970-01-01 was a Thursday.
        let weekday = (days + 4) % 7
        return weekday < 0 ? weekday + 7 : weekday
    }
}

/// Quotient rounded toward negative infinity, so times before 1970 fall into the right day and minute.
func floorDivide(_ dividend: Int, _ divisor: Int) -> Int {
    let quotient = dividend / divisor
    return (dividend % divisor != 0 && (dividend < 0) != (divisor < 0)) ? quotient - 1 : quotient
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The `Date` header's value, an IMF-fixdate (RFC 9110 §5.6.7).
///
/// ```swift
/// HTTPDate.format(secondsSince1970: 784_111_777)  // "Sun, 06 Nov 1994 08:49:37 GMT"
/// ```
enum HTTPDate {
    /// The current time, formatted at most once a second for all connections.
    static var now: String {
        let seconds = Int(time(nil))
        return cache.withLock { cached in
            if cached.seconds != seconds { cached = (seconds, format(secondsSince1970: seconds)) }
            return cached.text
        }
    }

    private static let cache = Mutex<(seconds: Int, text: String)>((-1, ""))

    private static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// A Unix time (seconds since 1970-01-01 00:00:00 UTC, not before it) as `Sun, 06 Nov 1994 08:49:37 GMT`.
    static func format(secondsSince1970 time: Int) -> String {
        let days = max(0, time) / 86_400
        let second = max(0, time) % 86_400
        // civil date from days since 1970 (Howard Hinnant's days_from_civil, inverted), March-based years
        let shifted = days + 719_468
        let era = shifted / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153  // 0 = March
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        let weekday = weekdays[(days + 4) % 7]  // 1970-01-01 was a Thursday
        return "\(weekday), \(twoDigits(day)) \(months[month - 1]) \(year) "
            + "\(twoDigits(second / 3600)):\(twoDigits(second / 60 % 60)):\(twoDigits(second % 60)) GMT"
    }

    private static func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
}

/// Times in the admin API's documents: RFC 3339 UTC with milliseconds, `2026-12-07T14:30:00.123Z`,
/// computed without a calendar library (as ``HTTPDate`` is).
enum RFC3339Time {
    /// `milliseconds` since 1970-01-01T00:00:00Z as RFC 3339 text; times before 1970 are clamped.
    static func format(millisecondsSinceEpoch milliseconds: Int64) -> String {
        let milliseconds = max(milliseconds, 0)
        let seconds = milliseconds / 1000
        let secondOfDay = Int(seconds % 86_400)
        let (year, month, day) = HTTPDate.civilDate(daysSinceEpoch: seconds / 86_400)
        return "\(padded(Int(year), 4))-\(padded(month, 2))-\(padded(day, 2))T\(padded(secondOfDay / 3600, 2)):"
            + "\(padded(secondOfDay / 60 % 60, 2)):\(padded(secondOfDay % 60, 2)).\(padded(Int(milliseconds % 1000), 3))Z"
    }

    private static func padded(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }
}

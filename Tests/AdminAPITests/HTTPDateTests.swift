import Testing

@testable import AdminAPI

@Suite struct HTTPDateTests {
    @Test(arguments: [
        (Int64(0), "Thu, 01 Jan 1970 00:00:00 GMT"),
        (784_111_777, "Sun, 06 Nov 1994 08:49:37 GMT"),  // RFC 9110's example
        (951_782_400, "Tue, 29 Feb 2000 00:00:00 GMT"),
        (1_709_164_799, "Wed, 28 Feb 2024 23:59:59 GMT"),
        (1_709_251_199, "Thu, 29 Feb 2024 23:59:59 GMT"),
        (1_709_251_200, "Fri, 01 Mar 2024 00:00:00 GMT"),
        (1_798_761_599, "Thu, 31 Dec 2026 23:59:59 GMT"),
        (4_102_444_800, "Fri, 01 Jan 2100 00:00:00 GMT"),
        (-5, "Thu, 01 Jan 1970 00:00:00 GMT"),
    ])
    func formats(seconds: Int64, expected: String) {
        #expect(HTTPDate.format(secondsSinceEpoch: seconds) == expected)
    }

    /// Day by day over four centuries, the date moves forward by exactly one calendar day.
    @Test func civilDatesAreConsecutive() {
        let lengths = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        var (year, month, day) = (Int64(1970), 1, 1)
        for days in Int64(0)..<146_097 {
            let date = HTTPDate.civilDate(daysSinceEpoch: days)
            #expect(date.year == year && date.month == month && date.day == day, "day \(days)")
            if date.year != year || date.month != month || date.day != day { return }
            let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
            let length = month == 2 && leap ? 29 : lengths[month - 1]
            day += 1
            if day > length {
                day = 1
                month += 1
                if month > 12 {
                    month = 1
                    year += 1
                }
            }
        }
    }
}

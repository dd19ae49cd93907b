/// The JSON payloads the adapter publishes. Pure: timestamps are passed in as Unix milliseconds.
public enum ModbusPayload {
    /// A reading: `{"value": 231.4, "unit": "V", "quality": "good", "timestamp": "..."}`; NaN and
    /// infinite floats are `null` with quality bad.
    public static func reading(_ value: ModbusValue, unit: String?, at milliseconds: Int64) -> String {
        reading(value, unitMember: unitMember(unit), timestamp: timestamp(milliseconds))
    }

    /// The `,"unit":"V"` member of a point's readings (empty without a unit), prepared once per point.
    static func unitMember(_ unit: String?) -> String {
        guard let unit else { return "" }
        var json = ModbusJSON()
        json.appendRaw(#","unit":"#)
        json.append(string: unit)
        return json.text
    }

    /// `reading(_:unit:at:)` from parts prepared once: the unit member and the rendered timestamp,
    /// which a poll shares among its points.
    static func reading(_ value: ModbusValue, unitMember: String, timestamp: String) -> String {
        var json = ModbusJSON(capacity: 80 + unitMember.utf8.count)
        let good = value.isFinite
        json.appendRaw(#"{"value":"#)
        if good { json.append(value) } else { json.appendRaw("null") }
        json.appendRaw(unitMember)
        json.appendRaw(good ? #","quality":"good","timestamp":""# : #","quality":"bad","timestamp":""#)
        json.appendRaw(timestamp)
        json.appendRaw(#""}"#)
        return json.text
    }

    /// A failed read: `{"value": null, "quality": "bad", "error": "...", "timestamp": "..."}`.
    public static func failedReading(error: String, at milliseconds: Int64) -> String {
        failedReading(error: error, timestamp: timestamp(milliseconds))
    }

    /// `failedReading(error:at:)` with the timestamp already rendered.
    static func failedReading(error: String, timestamp: String) -> String {
        var object = ModbusJSONObject()
        object.add("value", nil)
        object.add("quality", text: "bad")
        object.add("error", text: error)
        object.add("timestamp", text: timestamp)
        return object.text
    }

    /// A device's health: `{"state": "online", ...}` or `{"state": "offline", "reason": "...", ...}`.
    public static func status(online: Bool, reason: String?, at milliseconds: Int64) -> String {
        var object = ModbusJSONObject()
        object.add("state", text: online ? "online" : "offline")
        if !online, let reason { object.add("reason", text: reason) }
        object.add("timestamp", text: timestamp(milliseconds))
        return object.text
    }

    /// The outcome of a write: `{"ok": true, "value": 12.5, ...}` or `{"ok": false, "error": "...", ...}`.
    public static func writeResult(_ result: Result<ModbusValue, ModbusWriteError>, at milliseconds: Int64) -> String {
        var object = ModbusJSONObject()
        switch result {
        case .success(let value):
            object.add("ok", flag: true)
            object.add("value", value)
        case .failure(let error):
            object.add("ok", flag: false)
            object.add("error", text: error.message)
        }
        object.add("timestamp", text: timestamp(milliseconds))
        return object.text
    }

    /// RFC 3339 UTC with milliseconds: `2026-11-22T00:19:23.123Z`.
    public static func timestamp(_ milliseconds: Int64) -> String {
        let (days, dayMilliseconds) = floorDivide(milliseconds, 86_400_000)
        let (year, month, day) = civil(fromDays: days)
        let hours = dayMilliseconds / 3_600_000
        let minutes = dayMilliseconds / 60_000 % 60
        let seconds = dayMilliseconds / 1000 % 60
        let millis = dayMilliseconds % 1000
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(hours, 2)):\(pad(minutes, 2)):"
            + "\(pad(seconds, 2)).\(pad(millis, 3))Z"
    }

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> (Int64, Int64) {
        let quotient = value >= 0 ? value / divisor : (value - divisor + 1) / divisor
        return (quotient, value - quotient * divisor)
    }

    /// Howard Hinnant's days-from-civil inverse: proleptic Gregorian date of a day count from 1970-01-01.
    static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}

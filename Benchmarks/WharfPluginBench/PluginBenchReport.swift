/// The medians of a run's cases, as a text table and as JSON for scripts/bench-plugin.sh.
struct PluginBenchReport {
    let records: [RunRecord]
    let messages: Int
    let durableMessages: Int
    let payload: Int
    let credit: Int
    let synchronous: String
    let cores: Int

    private func median(_ values: [Double]) -> Double? {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return nil }
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    private func records(_ mode: Mode, qos: Int) -> [RunRecord] {
        records.filter { $0.mode == mode && $0.qos == qos }
    }

    private var levels: [Int] {
        var seen: [Int] = []
        for record in records where !seen.contains(record.qos) { seen.append(record.qos) }
        return seen
    }

    /// The table.
    var text: String {
        var lines = [
            "QoS | plugin msg/s | in-process msg/s | plugin / in-process | host CPU µs/msg (plugin / in-process) | rounds",
            "--- | --: | --: | --: | --: | --:",
        ]
        for level in levels {
            let plugin = records(.plugin, qos: level)
            let inProcess = records(.inProcess, qos: level)
            let pluginRate = median(plugin.map(\.result.rate))
            let inProcessRate = median(inProcess.map(\.result.rate))
            let ratio = pluginRate.flatMap { p in inProcessRate.map { p / $0 } }
            lines.append(
                "\(level) | \(Format.number(pluginRate)) | \(Format.number(inProcessRate)) | "
                    + "\(Format.number(ratio, digits: 2)) | "
                    + "\(Format.number(median(plugin.map(\.result.cpuMicrosecondsPerMessage)), digits: 2)) / "
                    + "\(Format.number(median(inProcess.map(\.result.cpuMicrosecondsPerMessage)), digits: 2)) | "
                    + "\(min(plugin.count, inProcess.count))")
        }
        lines.append("")
        lines.append(
            "\(messages) messages per QoS 0 case, \(durableMessages) per QoS 1 case (durable, synchronous "
                + "\(synchronous)), \(payload)-byte payload, credit and window \(credit), \(cores) event loops.")
        return lines.joined(separator: "\n")
    }

    /// Every case, for the script.
    var json: String {
        let runs = records.map { record in
            "{\"mode\":\"\(record.mode.rawValue)\",\"qos\":\(record.qos),\"round\":\(record.round),"
                + "\"messages\":\(record.result.messages),\"seconds\":\(record.result.seconds),"
                + "\"rate\":\(record.result.rate),\"cpu_s\":\(record.result.cpu),"
                + "\"cpu_us_per_msg\":\(record.result.cpuMicrosecondsPerMessage)}"
        }
        return "{\"messages\":\(messages),\"durable_messages\":\(durableMessages),\"payload\":\(payload),"
            + "\"credit\":\(credit),\"synchronous\":\"\(synchronous)\",\"cores\":\(cores),"
            + "\"runs\":[\(runs.joined(separator: ","))]}"
    }
}

/// Numbers for people: thousands separated by thin spaces, a dash for none.
enum Format {
    static func number(_ value: Double?, digits: Int = 0) -> String {
        guard let value, value.isFinite else { return "–" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        let whole = Int(rounded)
        var text = String(abs(whole))
        var grouped = ""
        while text.count > 3 {
            grouped = " " + text.suffix(3) + grouped
            text.removeLast(3)
        }
        grouped = (rounded < 0 ? "-" : "") + text + grouped
        guard digits > 0 else { return grouped }
        let fraction = Int(((abs(rounded) - Double(abs(whole))) * scale).rounded())
        let fractionText = String(fraction)
        return grouped + "." + String(repeating: "0", count: max(0, digits - fractionText.count)) + fractionText
    }
}

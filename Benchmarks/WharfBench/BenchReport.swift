import Histogram
import MQTTCodec
import WharfCore

/// What a run measured.
struct BenchReport: Sendable {
    /// The run's parameters.
    var configuration: BenchConfiguration
    /// `host:port`, or `loopback`.
    var target: String
    /// How the run ended.
    var outcome: RunOutcome
    /// Publisher connections.
    var publishers: Int
    /// Subscriber connections.
    var subscribers: Int
    /// Messages published.
    var sent: Int
    /// Deliveries due: each message times its subscribers.
    var expected: Int
    /// Distinct deliveries received.
    var received: Int
    /// Deliveries received twice.
    var duplicates: Int
    /// Deliveries skipped in sequence (lost, unless they turn up late and count as duplicates).
    var gaps: Int
    /// Publications without this run's stamp.
    var foreign: Int
    /// Seconds from the first publish to the last delivery.
    var elapsed: Double
    /// End-to-end latency in microseconds.
    var latency: Histogram<UInt64>
    /// CPU seconds used by the generator's event loop threads during the run.
    var generatorCPU: Double
    /// CPU seconds used by the loopback broker's thread, when it was the target.
    var loopbackCPU: Double?
    /// For a run that did not complete: the publishers whose messages did not all arrive.
    var unfinished: [String] = []

    /// Deliveries due but never received.
    var lost: Int { expected - received }
    /// Deliveries per second.
    var throughput: Double { elapsed > 0 ? Double(received) / elapsed : 0 }
    /// Generator CPU microseconds per delivery.
    var generatorMicrosecondsPerMessage: Double { received > 0 ? generatorCPU / Double(received) * 1e6 : 0 }
    /// Deliveries the generator could drive per second of one core at this CPU cost.
    var generatorCeiling: Double { generatorCPU > 0 ? Double(received) / generatorCPU : 0 }
    /// Share of its threads' time the generator was busy; below 1 it was waiting on the broker.
    var generatorUtilization: Double {
        elapsed > 0 ? generatorCPU / (elapsed * Double(configuration.threads)) : 0
    }

    private var outcomeName: String {
        switch outcome {
        case .complete: return "complete"
        case .stalled: return "stalled"
        case .timedOut: return "timed-out"
        case .failed: return "failed"
        }
    }

    private var error: String? {
        if case .failed(let message) = outcome { return message }
        return nil
    }

    /// One JSON object.
    var json: String {
        let c = configuration
        var fields: [(String, String)] = [
            ("target", quoted(target)),
            ("scenario", quoted(c.scenario.rawValue)),
            ("qos", "\(c.qos.rawValue)"),
            ("mqtt", quoted(c.version.description)),
            ("publishers", "\(publishers)"),
            ("subscribers", "\(subscribers)"),
            ("messages_per_publisher", "\(c.messages)"),
            ("payload", "\(c.payload)"),
            ("window", "\(c.window)"),
            ("threads", "\(c.threads)"),
            ("outcome", quoted(outcomeName)),
            ("sent", "\(sent)"),
            ("expected", "\(expected)"),
            ("received", "\(received)"),
            ("lost", "\(lost)"),
            ("duplicates", "\(duplicates)"),
            ("gaps", "\(gaps)"),
            ("foreign", "\(foreign)"),
            ("elapsed_s", decimal(elapsed, 4)),
            ("throughput", decimal(throughput, 1)),
            (
                "latency_us",
                "{\"p50\": \(latency.valueAtPercentile(50)), \"p90\": \(latency.valueAtPercentile(90)), "
                    + "\"p99\": \(latency.valueAtPercentile(99)), \"max\": \(latency.max)}"
            ),
            ("generator_cpu_s", decimal(generatorCPU, 4)),
            ("generator_cpu_us_per_msg", decimal(generatorMicrosecondsPerMessage, 4)),
            ("generator_ceiling", decimal(generatorCeiling, 1)),
            ("generator_utilization", decimal(generatorUtilization, 4)),
        ]
        if let loopbackCPU { fields.append(("loopback_broker_cpu_s", decimal(loopbackCPU, 4))) }
        if let error { fields.append(("error", quoted(error))) }
        if !unfinished.isEmpty {
            fields.append(("unfinished", "[" + unfinished.map(quoted).joined(separator: ", ") + "]"))
        }
        return "{" + fields.map { "\(quoted($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
    }

    /// A few lines for a person.
    var text: String {
        let c = configuration
        var lines = [
            "wharf-bench \(c.scenario.rawValue) QoS \(c.qos.rawValue) MQTT \(c.version) against \(target): "
                + "\(publishers) publishers, \(subscribers) subscribers, \(c.messages) messages each, "
                + "\(c.payload) B payload, window \(c.window), \(c.threads) thread(s)",
            "outcome      \(outcomeName)\(error.map { ": \($0)" } ?? "")",
            "sent         \(sent)",
            "received     \(received) of \(expected)  (lost \(lost), duplicates \(duplicates), gaps \(gaps))",
            "elapsed      \(decimal(elapsed, 3)) s",
            "throughput   \(decimal(throughput, 0)) deliveries/s",
            "latency      p50 \(latency.valueAtPercentile(50)) µs  p90 \(latency.valueAtPercentile(90)) µs  "
                + "p99 \(latency.valueAtPercentile(99)) µs  max \(latency.max) µs",
            "generator    \(decimal(generatorCPU, 3)) CPU s, \(decimal(generatorMicrosecondsPerMessage, 2)) µs/delivery, "
                + "busy \(decimal(generatorUtilization * 100, 1)) %, ceiling \(decimal(generatorCeiling, 0)) deliveries per CPU s",
        ]
        for publisher in unfinished { lines.append("unfinished   \(publisher)") }
        if let loopbackCPU { lines.append("loopback     \(decimal(loopbackCPU, 3)) CPU s in the in-process broker") }
        return lines.joined(separator: "\n")
    }
}

func quoted(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case _ where scalar.value < 0x20:
            out +=
                "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                + String(scalar.value, radix: 16)
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

/// `value` with at most `digits` decimals, in plain notation.
func decimal(_ value: Double, _ digits: Int) -> String {
    guard value.isFinite else { return "0" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = Int64((value * scale).rounded())
    let sign = scaled < 0 ? "-" : ""
    let magnitude = scaled.magnitude
    let whole = magnitude / UInt64(scale)
    guard digits > 0 else { return "\(sign)\(whole)" }
    let fraction = String(magnitude % UInt64(scale))
    return "\(sign)\(whole)." + String(repeating: "0", count: digits - fraction.count) + fraction
}

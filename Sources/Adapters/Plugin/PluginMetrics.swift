import CoreMetrics
import Metrics
import PluginProtocol

/// The metrics of one plugin adapter (swift-metrics; the executable chooses the backend).
struct PluginMetrics: Sendable {
    let up: Gauge
    let quarantined: Gauge
    let restarts: Counter
    let acked: Counter
    let nacked: Counter
    let commands: Counter
    let commandsDropped: Counter
    let creditStalls: Counter
    let logLinesSuppressed: Counter
    private let adapter: String

    init(adapter: String) {
        let labels = [("adapter", adapter)]
        self.adapter = adapter
        up = Gauge(label: "wharf_plugin_up", dimensions: labels)
        quarantined = Gauge(label: "wharf_plugin_quarantined", dimensions: labels)
        restarts = Counter(label: "wharf_plugin_restarts_total", dimensions: labels)
        acked = Counter(label: "wharf_plugin_publishes_total", dimensions: labels + [("result", "ack")])
        nacked = Counter(label: "wharf_plugin_publishes_total", dimensions: labels + [("result", "nack")])
        commands = Counter(label: "wharf_plugin_commands_total", dimensions: labels)
        commandsDropped = Counter(label: "wharf_plugin_commands_dropped_total", dimensions: labels)
        creditStalls = Counter(label: "wharf_plugin_credit_stalls_total", dimensions: labels)
        logLinesSuppressed = Counter(label: "wharf_plugin_log_lines_suppressed_total", dimensions: labels)
    }

    /// Counts a refused publish under its reason.
    func nack(reason: String, count: Int = 1) {
        Counter(label: "wharf_plugin_nacks_total", dimensions: [("adapter", adapter), ("reason", reason)])
            .increment(by: Int64(count))
    }

    /// Counts lines that were not valid protocol, by kind.
    func garbage(kind: String, count: Int = 1) {
        Counter(label: "wharf_plugin_garbage_lines_total", dimensions: [("adapter", adapter), ("kind", kind)])
            .increment(by: Int64(count))
    }
}

import CoreMetrics
import Metrics

/// The metrics of one device (swift-metrics API; the executable chooses the backend).
struct ModbusMetrics: Sendable {
    private let polls: Counter
    private let requests: Counter
    private let published: Counter
    private let pollDuration: Metrics.Timer
    private let errors: [ModbusIOError.Kind: Counter]
    private let writesOK: Counter
    private let writesFailed: Counter

    init(adapter: String, device: String) {
        let labels = [("adapter", adapter), ("device", device)]
        polls = Counter(label: "wharf_modbus_polls_total", dimensions: labels)
        requests = Counter(label: "wharf_modbus_requests_total", dimensions: labels)
        published = Counter(label: "wharf_modbus_points_published_total", dimensions: labels)
        pollDuration = Metrics.Timer(label: "wharf_modbus_poll_duration_seconds", dimensions: labels)
        var errors: [ModbusIOError.Kind: Counter] = [:]
        for kind in ModbusIOError.Kind.allCases {
            errors[kind] = Counter(label: "wharf_modbus_errors_total", dimensions: labels + [("kind", kind.rawValue)])
        }
        self.errors = errors
        writesOK = Counter(label: "wharf_modbus_writes_total", dimensions: labels + [("result", "ok")])
        writesFailed = Counter(label: "wharf_modbus_writes_total", dimensions: labels + [("result", "error")])
    }

    /// One poll of `requests` requests (those sent) that took `nanoseconds`.
    func poll(requests count: Int, nanoseconds: UInt64) {
        polls.increment()
        requests.increment(by: Int64(count))
        pollDuration.recordNanoseconds(Int64(clamping: nanoseconds))
    }

    /// `count` points' messages were published.
    func pointsPublished(_ count: Int) {
        published.increment(by: Int64(count))
    }

    func error(_ kind: ModbusIOError.Kind) {
        errors[kind]?.increment()
    }

    func write(ok: Bool) {
        (ok ? writesOK : writesFailed).increment()
    }
}

import Metrics

/// The adapter's metrics (label `adapter`); created once, updated on the libcoap thread.
final class CoAPMetrics {
    /// Error kinds of `wharf_coap_errors_total`.
    enum ErrorKind: String {
        case malformed, dtls, publish, client
    }

    private struct RequestKey: Hashable {
        var method: RequestMethod
        var code: CoAPCode
    }

    private let adapter: String
    private var requests: [RequestKey: Counter] = [:]
    private var errorCounters: [ErrorKind: Counter] = [:]
    let observers: Gauge
    let notifications: Counter
    let dtlsSessions: Gauge
    let observersDropped: Counter

    init(adapter: String) {
        self.adapter = adapter
        observers = Gauge(label: "wharf_coap_observers", dimensions: [("adapter", adapter)])
        notifications = Counter(label: "wharf_coap_notifications_total", dimensions: [("adapter", adapter)])
        dtlsSessions = Gauge(label: "wharf_coap_dtls_sessions", dimensions: [("adapter", adapter)])
        observersDropped = Counter(label: "wharf_coap_observers_dropped_total", dimensions: [("adapter", adapter)])
    }

    /// Counts one answered request.
    func request(_ method: RequestMethod, _ code: CoAPCode) {
        let key = RequestKey(method: method, code: code)
        if let counter = requests[key] {
            counter.increment()
            return
        }
        let counter = Counter(
            label: "wharf_coap_requests_total",
            dimensions: [("adapter", adapter), ("method", method.rawValue), ("code", code.description)]
        )
        requests[key] = counter
        counter.increment()
    }

    /// Counts one error.
    func error(_ kind: ErrorKind) {
        if let counter = errorCounters[kind] {
            counter.increment()
            return
        }
        let counter = Counter(
            label: "wharf_coap_errors_total", dimensions: [("adapter", adapter), ("kind", kind.rawValue)])
        errorCounters[kind] = counter
        counter.increment()
    }
}

import AdminAPI
import Foundation
import Prometheus
import Synchronization
import WharfConfig

#if canImport(Glibc)
    import Glibc
#endif

/// The Prometheus registry of this test process; swift-metrics is bootstrapped once, here.
let testRegistry: PrometheusCollectorRegistry = GatewayMetrics.bootstrapPrometheus()

/// An ``AdminStatusProvider`` with fixed answers.
final class FakeProvider: AdminStatusProvider {
    let report: Mutex<HealthReport>
    let configuration: WharfConfiguration
    let refreshes = Atomic<Int>(0)
    let metrics = GatewayMetrics()

    init(health: HealthReport = .healthy, configuration: WharfConfiguration = .default) {
        self.report = Mutex(health)
        self.configuration = configuration
    }

    func status() async -> GatewayStatus {
        GatewayStatus(
            version: "1.2.3",
            gatewayID: "gw-test",
            uptimeSeconds: 12.5,
            health: report.withLock { $0 },
            listeners: [ListenerStatus(name: "default", address: "127.0.0.1:1883")],
            broker: BrokerStatus(clientsConnected: 3, clientsMaximum: 4, sessions: 5, subscriptions: 6, retained: 7),
            adapters: [AdapterStatus(name: "plc-1", type: "modbus", health: "degraded", detail: "timeout")],
            queue: QueueStatus(
                depth: 10, bytes: 2048, oldestAgeSeconds: 1.5, drainRatePerSecond: 0, dropped: ["expired": 2]),
            uplink: UplinkStatusReport(
                state: "connected", remote: "cloud:8883", reconnects: 1, lastError: nil, inFlight: 0, acknowledged: 9)
        )
    }

    func health() async -> HealthReport { report.withLock { $0 } }

    func effectiveConfiguration() async -> WharfConfiguration { configuration }

    func refreshMetrics() async {
        let count = refreshes.add(1, ordering: .relaxed).newValue
        var sample = MetricsSample()
        sample.gauge("wharf_test_queue_depth", 10)
        sample.counter("wharf_test_messages_total", 5 * count)
        sample.counter("wharf_test_dropped_total", 2, labels: ["reason": "expired"])
        metrics.record(sample)
    }
}

/// A free TCP port on 127.0.0.1 (bound and released; good enough for a test).
func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// ``blockingHTTPGet(port:path:method:)`` on a thread of its own, so that a slow answer does not
/// hold one of the few threads every test's tasks share.
func httpGet(port: Int, path: String, method: String = "GET") async -> String? {
    await withCheckedContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(returning: blockingHTTPGet(port: port, path: path, method: method))
        }
    }
}

/// `METHOD path` on 127.0.0.1:port with a plain socket; the raw response text, or nil if nothing
/// answers.
func blockingHTTPGet(port: Int, path: String, method: String = "GET") -> String? {
    let request = Array("\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
    return blockingRawExchange(port: port, request: request)?.text
}

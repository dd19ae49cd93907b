import AdminAPI
import Foundation
import NIOCore
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

/// A free TCP port on 127.0.0.1 (bound and released; good enough for a test). The addresses go
/// through NIO's `SocketAddress` and raw bytes: the C structures' members are declared in more than
/// one module once NIOSSL is in the build.
func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    guard let any = try? SocketAddress(ipAddress: "127.0.0.1", port: 0) else { return 0 }
    _ = any.withSockAddr { bind(fd, $0, socklen_t($1)) }
    // sockaddr_in: family (2 bytes), then the port in network order.
    var bytes = [UInt8](repeating: 0, count: 128)
    var length = socklen_t(bytes.count)
    _ = bytes.withUnsafeMutableBytes { raw in
        getsockname(fd, raw.baseAddress?.assumingMemoryBound(to: sockaddr.self), &length)
    }
    return Int(bytes[2]) << 8 | Int(bytes[3])
}

/// ``blockingHTTPGet(port:path:method:)`` on a thread of its own, so that a slow answer does not
/// hold one of the few threads every test's tasks share.
func httpGet(port: Int, path: String, method: String = "GET", headers: String = "") async -> String? {
    await withCheckedContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(returning: blockingHTTPGet(port: port, path: path, method: method, headers: headers))
        }
    }
}

/// `METHOD path` on 127.0.0.1:port with a plain socket; the raw response text, or nil if nothing
/// answers.
func blockingHTTPGet(port: Int, path: String, method: String = "GET", headers: String = "") -> String? {
    let request = Array("\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\(headers)Connection: close\r\n\r\n".utf8)
    return blockingRawExchange(port: port, request: request)?.text
}

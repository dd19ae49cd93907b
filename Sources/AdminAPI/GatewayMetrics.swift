import Metrics
public import Prometheus
import Synchronization

/// The bridge from Wharf's own statistics to swift-metrics: applies a ``MetricsSample`` at scrape
/// time, so that counting on the hot paths stays in the existing atomics.
public final class GatewayMetrics: Sendable {
    private struct Key: Hashable {
        var name: String
        var labels: [String: String]
    }

    private let lastTotals = Mutex<[Key: Int64]>([:])

    /// Creates the bridge; metrics go to whatever `MetricsSystem` was bootstrapped with.
    public init() {}

    /// Bootstraps swift-metrics with a Prometheus registry; call once, from the executable only.
    public static func bootstrapPrometheus() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }

    /// Records `wharf_build_info{version}` = 1.
    public func recordBuildInfo(version: String) {
        Gauge(label: "wharf_build_info", dimensions: [("version", version)]).record(1)
    }

    /// Sets the gauges and advances the counters of `sample`.
    public func record(_ sample: MetricsSample) {
        for point in sample.gauges {
            Gauge(label: point.name, dimensions: Self.dimensions(point.labels)).record(point.value)
        }
        var increments: [(MetricsSample.Point, Int64)] = []
        lastTotals.withLock { totals in
            for point in sample.counters {
                let key = Key(name: point.name, labels: point.labels)
                let total = Int64(point.value)
                let previous = totals[key] ?? 0
                // A total that went down (a part was restarted) starts over from its new value.
                let delta = total >= previous ? total - previous : total
                totals[key] = total
                increments.append((point, delta))
            }
        }
        for (point, delta) in increments {
            // Creating it even at zero makes the series visible from the first scrape.
            Counter(label: point.name, dimensions: Self.dimensions(point.labels)).increment(by: delta)
        }
    }

    private static func dimensions(_ labels: [String: String]) -> [(String, String)] {
        labels.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}

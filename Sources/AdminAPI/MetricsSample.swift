/// Values read from existing statistics right before a scrape, named as Prometheus metrics.
///
/// Gauges are set as given; counters are cumulative totals since start, and
/// ``GatewayMetrics`` adds only what grew since the previous scrape.
public struct MetricsSample: Sendable {
    /// One value with its labels.
    public struct Point: Sendable, Hashable {
        /// The metric name, such as `wharf_queue_depth`.
        public var name: String
        /// Label names and values, such as `[("reason", "expired")]`.
        public var labels: [String: String]
        /// The value.
        public var value: Double

        /// Creates a point.
        public init(_ name: String, _ value: Double, labels: [String: String] = [:]) {
            self.name = name
            self.labels = labels
            self.value = value
        }
    }

    /// Gauges: set to the value.
    public var gauges: [Point] = []
    /// Counters: cumulative totals since start.
    public var counters: [Point] = []

    /// An empty sample.
    public init() {}

    /// Adds a gauge.
    public mutating func gauge(_ name: String, _ value: Double, labels: [String: String] = [:]) {
        gauges.append(Point(name, value, labels: labels))
    }

    /// Adds a gauge from an integer.
    public mutating func gauge(_ name: String, _ value: Int, labels: [String: String] = [:]) {
        gauges.append(Point(name, Double(value), labels: labels))
    }

    /// Adds a counter's total since start.
    public mutating func counter(_ name: String, _ total: Int, labels: [String: String] = [:]) {
        counters.append(Point(name, Double(total), labels: labels))
    }
}

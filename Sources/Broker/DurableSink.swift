public import WharfCore

/// Where messages selected by an uplink forward rule go: the store-and-forward queue. The
/// broker withholds a publisher's PUBACK/PUBREC until every sink that took the message says it
/// is durable.
public protocol DurableSink: Sendable {
    /// Takes `message`; `completion` runs (on any thread) once it is durable or refused.
    func accept(_ message: Message, completion: @escaping @Sendable (DurableOutcome) -> Void)
}

/// What became of a message handed to a ``DurableSink``.
public enum DurableOutcome: Sendable, Equatable {
    /// Written to disk.
    case stored
    /// Refused because the queue is full and the rule's policy is `reject-new` (MQTT 5: 0x97).
    case rejectedQueueFull
    /// The write failed (disk full, I/O error); the message is not stored.
    case failed(String)

    /// The worse of two outcomes, for a message that several rules took.
    func worse(_ other: DurableOutcome) -> DurableOutcome {
        switch (self, other) {
        case (.failed, _): self
        case (_, .failed): other
        case (.rejectedQueueFull, _): self
        default: other
        }
    }
}

/// One forward rule as the router sees it: a filter and the sink its messages go to.
public struct DurableRoute: Sendable {
    /// The rule's name, for logs.
    public var name: String
    /// The local topic filter.
    public var filter: String
    /// The sink taking the rule's messages.
    public var sink: any DurableSink

    /// Creates a route.
    public init(name: String, filter: String, sink: any DurableSink) {
        self.name = name
        self.filter = filter
        self.sink = sink
    }
}

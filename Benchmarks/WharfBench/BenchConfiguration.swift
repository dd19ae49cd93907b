import MQTTCodec
import WharfCore

/// Which clients talk to which: the shape of the load.
enum Scenario: String, Sendable, CaseIterable {
    /// P publishers, one subscriber.
    case fanIn = "fan-in"
    /// One publisher, S subscribers of its topic.
    case fanOut = "fan-out"
    /// P publisher/subscriber pairs, each pair on its own topic.
    case pairs
}

/// Everything one benchmark run needs, validated.
struct BenchConfiguration: Sendable {
    /// The broker's address.
    var host: String
    /// The broker's port.
    var port: Int
    /// The traffic shape.
    var scenario: Scenario
    /// The QoS of every publication and subscription.
    var qos: QoS
    /// Number of publishers (fan-in, pairs).
    var publishers: Int
    /// Number of subscribers (fan-out).
    var subscribers: Int
    /// Messages each publisher sends.
    var messages: Int
    /// Payload size in bytes (at least `PayloadStamp.size`).
    var payload: Int
    /// End-to-end outstanding messages allowed per publisher.
    var window: Int
    /// The MQTT version every client speaks.
    var version: MQTTProtocolVersion
    /// Event loop threads of the generator.
    var threads: Int
    /// In fan-in, publishers use their own topics and the subscriber a `+` wildcard.
    var wildcard: Bool
    /// Give up after this many seconds in all.
    var timeoutSeconds: Int
    /// Give up after this many seconds without a delivery.
    var idleTimeoutSeconds: Int
    /// Run against the in-process loopback broker instead of `host:port`.
    var loopback: Bool
    /// TLS to the broker (never to the loopback broker, which speaks plain TCP).
    var tls: BenchTLS?
}

extension MQTTProtocolVersion {
    /// Parses the spellings accepted on the command line: 3.1.1, 311, 4, 5, 5.0.
    init?(argument: String) {
        switch argument {
        case "3.1.1", "311", "4": self = .v311
        case "5", "5.0": self = .v5
        default: return nil
        }
    }
}

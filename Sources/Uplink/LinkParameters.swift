import MQTTCodec
import WharfCore

/// What one connection to the cloud broker may do, from our CONNECT and the server's CONNACK.
struct LinkParameters: Sendable, Hashable {
    /// The protocol version of the connection.
    var version: MQTTProtocolVersion
    /// Whether the server resumed the previous session.
    var sessionPresent: Bool
    /// The server's Receive Maximum: QoS 1/2 publishes it accepts unacknowledged (65535 if unstated).
    var receiveMaximum: Int
    /// The largest packet the server accepts, fixed header included.
    var maximumPacketSize: Int
    /// The server's Topic Alias Maximum; Wharf does not use aliases, so it is only reported.
    var topicAliasMaximum: Int
    /// The keep alive in force: the server's Server Keep Alive when it sent one.
    var keepAlive: UInt16
    /// The client identifier in force: the one the server assigned, or ours.
    var clientIdentifier: String
    /// The highest QoS the uplink uses in PUBLISH: the MQTT 5 server's Maximum QoS; 1 for an MQTT 3.1.1
    /// server, which cannot say whether it handles QoS 2 (RabbitMQ answers a QoS 2 PUBLISH with a
    /// PUBACK, and a PUBREL stops its connection from answering at all).
    var maximumQoS: QoS
    /// Whether the server accepts retained messages.
    var retainAvailable: Bool
    /// The operator's limits for the endpoint of this connection (`limited(by:endpoint:)`).
    var limits = UplinkLimits()
    /// The endpoint of this connection (`host:port`), named in the reasons of dead letters.
    var endpoint = ""

    /// Defaults for a connection before (or without) MQTT 5 CONNACK properties.
    init(version: MQTTProtocolVersion, keepAlive: UInt16, clientIdentifier: String) {
        self.version = version
        self.sessionPresent = false
        self.receiveMaximum = 65_535
        self.maximumPacketSize = MQTTPacket.maximumSize
        self.topicAliasMaximum = 0
        self.keepAlive = keepAlive
        self.clientIdentifier = clientIdentifier
        self.maximumQoS = version == .v5 ? .exactlyOnce : .atLeastOnce
        self.retainAvailable = true
    }

    /// The parameters a successful CONNACK establishes for the CONNECT that was sent.
    init(connect: ConnectPacket, connAck: ConnAckPacket) {
        self.init(
            version: connect.protocolVersion, keepAlive: connect.keepAlive, clientIdentifier: connect.clientIdentifier)
        sessionPresent = connAck.sessionPresent
        guard connect.protocolVersion == .v5 else { return }
        let properties = connAck.properties
        // Zero is a protocol error for both; treating it as absent keeps the link usable.
        if let receive = properties.receiveMaximum, receive > 0 { receiveMaximum = Int(receive) }
        if let size = properties.maximumPacketSize, size > 0 {
            maximumPacketSize = min(Int(size), MQTTPacket.maximumSize)
        }
        topicAliasMaximum = Int(properties.topicAliasMaximum ?? 0)
        if let serverKeepAlive = properties.serverKeepAlive { keepAlive = serverKeepAlive }
        if let assigned = properties.assignedClientIdentifier, !assigned.isEmpty { clientIdentifier = assigned }
        if let raw = properties.maximumQoS, let qos = QoS(rawValue: raw) { maximumQoS = qos }
        if let retain = properties.retainAvailable { retainAvailable = retain != 0 }
    }

    /// How many publishes may await PUBACK: our limit, lowered to the server's Receive Maximum and the
    /// endpoint's `max_inflight`, and kept below the 65535 packet identifiers with room to spare for SUBSCRIBE.
    func windowCapacity(maxInflight: Int) -> Int {
        max(1, min(maxInflight, receiveMaximum, limits.maxInflight?.value ?? .max, 65_000))
    }
}

import MQTTCodec

/// The client identifier rule that depends on the protocol version alone, checked on CONNECT
/// before anything else.
enum ClientIdentifierRule {
    /// The most characters an MQTT 3.1 client identifier may have (MQTT 3.1, CONNECT payload).
    static let mqtt31MaximumLength = 23

    /// Why `connect`'s client identifier is refused (CONNACK return code 2, identifier rejected),
    /// or nil when the version's rule admits it.
    ///
    /// MQTT 3.1 requires 1 to 23 characters (counted as Unicode code points) and has no
    /// identifiers assigned by the server, so an empty one is refused too. 3.1.1 and 5.0 have no
    /// such rule: `max_client_id_length` and the clean-session rule judge them later.
    static func refusal(for connect: ConnectPacket) -> String? {
        guard connect.protocolVersion == .v31 else { return nil }
        let length = connect.clientIdentifier.unicodeScalars.count
        if length == 0 {
            return "MQTT 3.1 requires a client identifier"
        }
        if length > mqtt31MaximumLength {
            return "MQTT 3.1 allows at most \(mqtt31MaximumLength) characters of client identifier, got \(length)"
        }
        return nil
    }
}

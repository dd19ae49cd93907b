/// Why a packet cannot be written in MQTT wire format.
public struct MQTTEncodeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A human-readable explanation naming the offending field.
    public var message: String

    /// Creates an error.
    public init(message: String) {
        self.message = message
    }

    /// The message.
    public var description: String { message }
}

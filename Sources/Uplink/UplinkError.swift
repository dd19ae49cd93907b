/// Why a connection to the cloud broker failed or ended; `description` is a sentence for logs and status.
public struct UplinkError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure, for code that reacts to it.
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// TCP could not connect (refused, unreachable, timed out).
        public static let connectFailed = Kind("connect-failed")
        /// The TLS handshake failed, certificate verification included.
        public static let tlsFailed = Kind("tls-failed")
        /// The TLS files could not be loaded.
        public static let tlsConfiguration = Kind("tls-configuration")
        /// The server refused CONNECT.
        public static let refused = Kind("refused")
        /// The server sent DISCONNECT.
        public static let serverDisconnected = Kind("server-disconnected")
        /// The connection closed without DISCONNECT.
        public static let connectionClosed = Kind("connection-closed")
        /// The server broke the protocol (unexpected or malformed packet).
        public static let protocolViolation = Kind("protocol-violation")
        /// No CONNACK or no answer to PINGREQ in time.
        public static let timeout = Kind("timeout")
        /// The queue failed to read.
        public static let queueFailed = Kind("queue-failed")

        /// The kind's short name (`tls-failed`).
        public var description: String { name }
    }

    /// The kind of failure.
    public var kind: Kind
    /// A sentence naming the host and what went wrong.
    public var message: String

    /// Creates an error.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// The message.
    public var description: String { message }
}

public import WharfCore

/// The validated settings of one `type: coap` adapter instance.
public struct CoAPSettings: Sendable, Equatable {
    /// Address the UDP server binds to.
    public var bind: String = "127.0.0.1"
    /// Port of the plain UDP server.
    public var port: Int = 5683
    /// Whether requests without DTLS may publish and read.
    public var allowPlain: Bool = true
    /// What plain (non-DTLS) peers may do when `allowPlain`: `plain.publish`, `plain.read`.
    public var plain = TopicGrant(publish: CoAPSettings.telemetryFilters, read: ["#"])
    /// The largest request body accepted after block-wise reassembly, in bytes.
    public var maxPayload: Int = 65_536
    /// How requests become messages.
    public var ingest = Ingest()
    /// How observers are notified.
    public var observe = Observe()
    /// The DTLS server and its identities.
    public var dtls = DTLS()
    /// CoAP servers Wharf reads from as a client.
    public var devices: [Device] = []

    /// The defaults of every key.
    public init() {}

    /// The default `plain.publish`: telemetry in Wharf's topic layout (`devices/{device}/{point}`),
    /// which leaves out command topics (`devices/{device}/{point}/set`) and everything else.
    public static let telemetryFilters = ["devices/+/+"]

    /// `ingest:`: POST/PUT under `path_prefix` publish.
    public struct Ingest: Sendable, Equatable {
        /// The URI path segments that mark a publish (`t` in `coap://gw/t/a/b`).
        public var pathPrefix: [String] = ["t"]
        /// Topic template with `{path}` and `{identity}`.
        public var topic = TopicTemplate(parsing: "{path}")
        /// QoS of confirmable requests.
        public var qos: QoS = .atLeastOnce
        /// Whether published messages are retained.
        public var retain = false

        /// The defaults.
        public init() {}
    }

    /// `observe:`.
    public struct Observe: Sendable, Equatable {
        /// Whether notifications are sent confirmable.
        public var confirmable = false
        /// The most observers at once; a new Observe GET beyond it gets 5.03.
        public var maxObservers = 1000

        /// The defaults.
        public init() {}
    }

    /// `dtls:`.
    public struct DTLS: Sendable, Equatable {
        /// Whether the DTLS endpoint runs.
        public var enabled = false
        /// Its UDP port.
        public var port = 5684
        /// Pre-shared keys, one per device identity.
        public var psk: [PSKIdentity] = []
        /// Server certificate (PEM) for PKI; empty without PKI.
        public var certFile = ""
        /// Private key of `certFile`.
        public var keyFile = ""
        /// CA that client certificates must chain to; required with `certFile`.
        public var caFile = ""
        /// Client certificate subjects (CN) and what each may do; an unlisted subject may do nothing.
        public var certificates: [CertificateSubject] = []

        /// The defaults.
        public init() {}

        /// Whether a certificate is configured.
        public var usesPKI: Bool { !certFile.isEmpty }
    }

    /// One PSK identity and what it may do.
    public struct PSKIdentity: Sendable, Equatable {
        /// The identity the client presents.
        public var identity: String
        /// The key bytes.
        public var key: [UInt8]
        /// Topic filters the identity may publish to.
        public var publish: [String]
        /// Topic filters the identity may GET or observe.
        public var read: [String]

        /// Creates an identity.
        public init(identity: String, key: [UInt8], publish: [String] = ["#"], read: [String] = ["#"]) {
            self.identity = identity
            self.key = key
            self.publish = publish
            self.read = read
        }

        /// Its filters as a grant.
        public var grant: TopicGrant { TopicGrant(publish: publish, read: read) }
    }

    /// One client certificate subject and what it may do (`dtls.certificates[]`).
    public struct CertificateSubject: Sendable, Equatable {
        /// The subject's common name (CN) as the certificate carries it, compared byte for byte.
        public var subject: String
        /// Topic filters the subject may publish to.
        public var publish: [String]
        /// Topic filters the subject may GET or observe.
        public var read: [String]

        /// Creates an entry.
        public init(subject: String, publish: [String] = ["#"], read: [String] = ["#"]) {
            self.subject = subject
            self.publish = publish
            self.read = read
        }

        /// Its filters as a grant.
        public var grant: TopicGrant { TopicGrant(publish: publish, read: read) }
    }

    /// One CoAP server Wharf reads as a client.
    public struct Device: Sendable, Equatable {
        /// How the device is read.
        public enum Mode: String, Sendable, CaseIterable {
            /// GET every `interval`.
            case poll
            /// GET with Observe, then notifications.
            case observe
        }

        /// The method commands are sent with.
        public enum Method: String, Sendable, CaseIterable {
            /// PUT.
            case put
            /// POST.
            case post
        }

        /// Unique name, used in topics.
        public var name: String
        /// The resource read and commanded.
        public var uri: DeviceURI
        /// Poll or observe.
        public var mode: Mode = .poll
        /// Poll interval (also the retry delay of a failed observe).
        public var interval: Duration = .seconds(10)
        /// Topic each representation is published to, `{device}` replaced.
        public var topic: String
        /// QoS of published representations.
        public var qos: QoS = .atMostOnce
        /// MQTT topic filter whose messages become requests; empty for none.
        public var commandTopic = ""
        /// Method of commands.
        public var method: Method = .put
        /// Topic a command's response is published to, `{device}` replaced.
        public var resultTopic: String
        /// PSK identity for `coaps://`.
        public var pskIdentity = ""
        /// PSK key for `coaps://`.
        public var pskKey: [UInt8] = []

        /// Creates a device with defaults for everything but its name and URI.
        public init(name: String, uri: DeviceURI) {
            self.name = name
            self.uri = uri
            self.topic = "devices/\(name)/value"
            self.resultTopic = "devices/\(name)/result"
        }
    }
}

/// Who publishes a message into Wharf's router, or subscribes to it: the identity every access
/// decision is about. Every ``Message`` carries one, and the router checks it against the ACL
/// at one place for publishing, subscribing and delivery, whatever protocol it came through.
public struct Principal: Sendable, Hashable, CustomStringConvertible {
    /// The kinds of publishers and subscribers.
    public enum Kind: Sendable, Hashable {
        /// An MQTT client on one of the broker's listeners; `username` is `nil` when anonymous.
        case client(username: String?, clientIdentifier: String, listener: String)
        /// An adapter instance (a Modbus adapter, the CoAP adapter's device clients), by its
        /// configured name.
        case adapter(name: String)
        /// An out-of-process plugin, by the name of its `plugin` adapter instance.
        case plugin(name: String)
        /// A CoAP device talking to the CoAP adapter named `adapter`.
        case coapPeer(adapter: String, peer: CoAPPeer)
        /// The uplink to the cloud broker: messages from cloud subscriptions, and the forward
        /// rules that read what goes to the cloud.
        case uplink
        /// The broker itself: `$SYS` statistics. The only publisher allowed on `$SYS/...`.
        case broker
        /// A message restored from the store after a restart (a retained or queued message);
        /// its publisher was checked when it was first published. Never publishes.
        case restored
    }

    /// How a CoAP peer identified itself.
    public enum CoAPPeer: Sendable, Hashable {
        /// A request without DTLS.
        case plain
        /// A DTLS pre-shared key identity.
        case psk(String)
        /// A DTLS client certificate, by its verified subject common name.
        case certificate(String)
    }

    /// Which kind of publisher or subscriber this is.
    public var kind: Kind
    /// Topic filters the principal's own configuration confines it to, on top of the ACL
    /// (a CoAP identity's `publish` and `read` lists); `nil` when only the ACL applies.
    public var confinement: Confinement?

    /// Creates a principal.
    public init(_ kind: Kind, confinement: Confinement? = nil) {
        self.kind = kind
        self.confinement = confinement
    }

    /// An MQTT client.
    public static func client(username: String?, clientIdentifier: String, listener: String) -> Principal {
        Principal(.client(username: username, clientIdentifier: clientIdentifier, listener: listener))
    }

    /// An adapter instance.
    public static func adapter(_ name: String) -> Principal {
        Principal(.adapter(name: name))
    }

    /// A plugin.
    public static func plugin(_ name: String) -> Principal {
        Principal(.plugin(name: name))
    }

    /// The uplink.
    public static let uplink = Principal(.uplink)
    /// The broker itself.
    public static let broker = Principal(.broker)
    /// A message restored from the store.
    public static let restored = Principal(.restored)

    /// Prefixes of the ACL names of principals that are not MQTT clients. MQTT user names are
    /// looked up among the `user` sections without these prefixes only, so a client that calls
    /// itself `adapter:plc-1` never gets that adapter's grants.
    public static let reservedNamePrefixes = [
        "adapter:", "plugin:", "coap-plain:", "coap-psk:", "coap-cert:", "wharf:",
    ]

    /// The `user` name that selects this principal's lines in an ACL file: the user name of an
    /// MQTT client (`nil` when anonymous, which selects the lines before any `user` line),
    /// `adapter:NAME`, `plugin:NAME`, `coap-plain:ADAPTER`, `coap-psk:IDENTITY`,
    /// `coap-cert:SUBJECT`, `wharf:uplink`. `nil` for the broker and restored messages, which no
    /// ACL line names.
    public var aclName: String? {
        switch kind {
        case .client(let username, _, _): username
        case .adapter(let name): "adapter:" + name
        case .plugin(let name): "plugin:" + name
        case .coapPeer(let adapter, .plain): "coap-plain:" + adapter
        case .coapPeer(_, .psk(let identity)): "coap-psk:" + identity
        case .coapPeer(_, .certificate(let subject)): "coap-cert:" + subject
        case .uplink: "wharf:uplink"
        case .broker, .restored: nil
        }
    }

    /// Whether this is an MQTT client (to which `pattern` lines and `%u`/`%c` apply).
    public var isClient: Bool {
        if case .client = kind { return true }
        return false
    }

    /// For logs: `client 'id' (user 'name')`, `adapter:plc-1`, `wharf:uplink`, ...
    public var description: String {
        switch kind {
        case .client(let username, let clientIdentifier, _):
            "client '\(clientIdentifier)'" + (username.map { " (user '\($0)')" } ?? " (anonymous)")
        case .broker: "broker"
        case .restored: "restored message"
        default: aclName ?? "unknown"
        }
    }
}

/// Topic filters a principal's own configuration allows it to publish to and read; anything
/// else is refused even where the ACL would allow it.
public struct Confinement: Sendable, Hashable {
    /// Filters of the topics the principal may publish to.
    public var publish: [String]
    /// Filters of the topics the principal may read (subscribe to, be delivered, fetch retained).
    public var read: [String]

    /// Creates a confinement.
    public init(publish: [String], read: [String]) {
        self.publish = publish
        self.read = read
    }
}

/// Remote configuration from the cloud (`remote_config:` section): where documents arrive, whom
/// to trust, what the cloud may change and how a new configuration is confirmed or rolled back.
public struct RemoteConfigConfig: Sendable, Equatable {
    /// What the cloud may change when the local file says nothing: adapters, the uplink's forward
    /// and subscribe rules, log levels and the ACL file content. Never the gateway's identity, the
    /// uplink's endpoint and credentials, the broker's listeners or `remote_config` itself.
    public static let defaultAllow = ["adapters", "uplink.forward", "uplink.subscribe", "log", "acl"]

    /// The sections an `allow` entry may name: the file's sections, the ACL file content (`acl`)
    /// and `remote_config` itself.
    public static let knownSections = [
        "gateway", "log", "storage", "broker", "uplink", "adapters", "admin", "acl", "remote_config",
    ]

    /// Whether the gateway listens for documents on the uplink (only when the uplink is enabled).
    public var enabled: Bool
    /// The cloud topics' prefix: documents arrive on `PREFIX/desired`, the outcome is retained on
    /// `PREFIX/reported`; `{gateway}` is replaced by the gateway id.
    public var topicPrefix: String
    /// The directory of trusted Ed25519 public keys (`*.pub`, one per file, read for every document).
    public var trustedKeysDirectory: String
    /// The sections the cloud may change (`allow`).
    public var allow: [String]
    /// Whether unsigned documents are accepted (labs only: anyone who can publish on the cloud
    /// broker could then reconfigure the gateway).
    public var allowUnsigned: Bool
    /// How long a new configuration has, in running time, to be confirmed before it is rolled back.
    public var confirmWithin: Duration
    /// How long the uplink and the health checks must hold without a break to confirm it.
    public var confirmAfter: Duration
    /// Starts of the daemon with a provisional configuration tolerated within `startWindow`.
    public var maxProvisionalStarts: Int
    /// The window those starts are counted in.
    public var startWindow: Duration
    /// The largest document taken, from the cloud or `wharfctl config apply`; larger ones are refused
    /// unread (`max_document_bytes`).
    public var maxDocumentBytes: Int

    /// Creates the section; every value defaults to the shipped one.
    public init(
        enabled: Bool = true,
        topicPrefix: String = "wharf/{gateway}/config",
        trustedKeysDirectory: String = "/etc/wharf/trusted-keys",
        allow: [String] = RemoteConfigConfig.defaultAllow,
        allowUnsigned: Bool = false,
        confirmWithin: Duration = .seconds(300),
        confirmAfter: Duration = .seconds(60),
        maxProvisionalStarts: Int = 3,
        startWindow: Duration = .seconds(900),
        maxDocumentBytes: Int = 1 << 20
    ) {
        self.enabled = enabled
        self.topicPrefix = topicPrefix
        self.trustedKeysDirectory = trustedKeysDirectory
        self.allow = allow
        self.allowUnsigned = allowUnsigned
        self.confirmWithin = confirmWithin
        self.confirmAfter = confirmAfter
        self.maxProvisionalStarts = maxProvisionalStarts
        self.startWindow = startWindow
        self.maxDocumentBytes = maxDocumentBytes
    }

    /// The topic prefix for `gatewayID`.
    public func prefix(gatewayID: String) -> String {
        topicPrefix.replacing("{gateway}", with: gatewayID)
    }
}

/// Who may use the CoAP server at all, and the ``TopicGrant`` of each peer identity (`plain`,
/// `dtls.psk[]`, `dtls.certificates[]`).
///
/// Which topics a peer reaches is not decided here: its grant becomes the confinement of its
/// principal (``PeerIdentity/principal(adapter:grant:)``), which the broker's router checks,
/// together with the ACL file, on every publish, read and notification.
public struct AccessPolicy: Sendable {
    private let allowPlain: Bool
    private let plain: TopicGrant
    private let psk: [String: TopicGrant]
    private let certificates: [String: TopicGrant]

    /// The policy of validated settings.
    public init(settings: CoAPSettings) {
        allowPlain = settings.allowPlain
        plain = settings.plain
        var psk: [String: TopicGrant] = [:]
        for entry in settings.dtls.psk { psk[entry.identity] = entry.grant }
        self.psk = psk
        var certificates: [String: TopicGrant] = [:]
        for entry in settings.dtls.certificates { certificates[entry.subject] = entry.grant }
        self.certificates = certificates
    }

    /// What `identity` is confined to; `nil` when it may do nothing (an unlisted identity or
    /// subject, a DTLS peer without one, a plain peer while `allow_plain` is false).
    public func grant(for identity: PeerIdentity) -> TopicGrant? {
        switch identity {
        case .plain: allowPlain ? plain : nil
        case .psk(let name): psk[name]
        case .certificate(let subject): certificates[subject]
        case .unverified: nil
        }
    }

    /// Whether the peer may use the server at all, and its grant when it may: plain requests need
    /// `allow_plain` and DTLS ones a verified identity (4.01 otherwise); the identity or subject
    /// must be listed (4.03 otherwise).
    public func admits(_ identity: PeerIdentity) -> Result<TopicGrant, Rejection> {
        switch identity {
        case .plain where !allowPlain: return .failure(Rejection(.unauthorized, "DTLS required"))
        case .unverified: return .failure(Rejection(.unauthorized, "no verified identity"))
        default: break
        }
        guard let grant = grant(for: identity) else { return .failure(Rejection(.forbidden, "unknown identity")) }
        return .success(grant)
    }
}

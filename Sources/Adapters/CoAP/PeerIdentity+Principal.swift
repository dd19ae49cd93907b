import WharfCore

extension PeerIdentity {
    /// Who the peer is to the broker's router, as a peer of the CoAP adapter named `adapter`:
    /// its ACL name (`coap-plain:ADAPTER`, `coap-psk:ID`, `coap-cert:CN`), confined to `grant`.
    /// `nil` for a DTLS peer without a verified identity, which may do nothing at all.
    func principal(adapter: String, grant: TopicGrant) -> Principal? {
        let peer: Principal.CoAPPeer
        switch self {
        case .plain: peer = .plain
        case .psk(let identity): peer = .psk(identity)
        case .certificate(let subject): peer = .certificate(subject)
        case .unverified: return nil
        }
        return Principal(.coapPeer(adapter: adapter, peer: peer), confinement: grant.confinement)
    }
}

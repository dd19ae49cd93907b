import WharfCore

extension PeerIdentity {
    /// Who the peer is to the router's ACL, as a peer of the CoAP adapter named `adapter`.
    func principal(adapter: String) -> Principal {
        switch self {
        case .plain: Principal(.coapPeer(adapter: adapter, peer: .plain))
        case .psk(let identity): Principal(.coapPeer(adapter: adapter, peer: .psk(identity)))
        case .certificate(let subject): Principal(.coapPeer(adapter: adapter, peer: .certificate(subject)))
        // Never routed: the request is refused with 4.01 before anything is published.
        case .unverified: Principal(.coapPeer(adapter: adapter, peer: .plain))
        }
    }
}

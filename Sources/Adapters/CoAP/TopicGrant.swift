public import WharfCore

/// What one CoAP peer may do: the topic filters it may publish to (POST, PUT) and those it may
/// read (GET, Observe).
///
/// Plain data, one per peer identity (plain peers, each PSK identity, each certificate subject),
/// handed on as the confinement of the peer's principal: the broker's router checks it, with
/// the ACL file, for every message.
public struct TopicGrant: Sendable, Equatable {
    /// Topic filters the peer may publish to.
    public var publish: [String]
    /// Topic filters the peer may GET or observe.
    public var read: [String]

    /// Creates a grant.
    public init(publish: [String], read: [String]) {
        self.publish = publish
        self.read = read
    }

    /// The grant as the confinement of the peer's principal.
    public var confinement: Confinement {
        Confinement(publish: publish, read: read)
    }
}

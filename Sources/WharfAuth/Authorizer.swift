public import WharfCore

/// The rules of every access decision, for every principal: MQTT clients, adapters, CoAP
/// peers and the uplink. The broker's router applies them at its one choke point; this type
/// holds the rules alone, free of I/O.
///
/// In order: only the broker publishes on `$SYS`; principals other than MQTT clients publish
/// no topic starting with `$`; a principal's own confinement (``Confinement``) must allow the
/// topic; then the ACL, when one is loaded (without one, everything else is allowed).
public struct Authorizer: Sendable, Equatable {
    /// Why an operation was refused.
    public enum Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        /// `$SYS/...` belongs to the broker's statistics.
        case systemTopic
        /// Topics starting with `$` are reserved for the broker; only MQTT clients may use
        /// the ones that are not `$SYS`, as MQTT allows.
        case reservedTopic
        /// A restored message, or the broker's own identity, used where it cannot be.
        case notAPublisher
        /// Outside the topics the principal's own configuration allows.
        case confinement
        /// The ACL file grants nothing that allows it.
        case acl

        public var description: String {
            switch self {
            case .systemTopic: "only the broker publishes on $SYS"
            case .reservedTopic: "topics starting with '$' are reserved for the broker"
            case .notAPublisher: "this identity does not publish or subscribe"
            case .confinement: "outside the topics this identity is configured for"
            case .acl: "not allowed by the ACL"
            }
        }
    }

    /// The ACL, or `nil` when none is configured.
    public var acl: AccessControlList?

    /// Creates the rules around an ACL (or none).
    public init(acl: AccessControlList?) {
        self.acl = acl
    }

    /// Why `principal` may not publish to `topic`, or `nil` when it may.
    public func checkPublish(_ topic: String, by principal: Principal) -> Refusal? {
        switch principal.kind {
        case .broker: return nil
        case .restored: return .notAPublisher
        default: break
        }
        if Self.isSystemTopic(topic) { return .systemTopic }
        if !principal.isClient, Topic.isSystemTopic(topic) { return .reservedTopic }
        if let confinement = principal.confinement,
            !confinement.publish.contains(where: { TopicFilter.filter($0, matches: topic) })
        {
            return .confinement
        }
        if let acl, !acl.allows(.write, topic: topic, for: principal) { return .acl }
        return nil
    }

    /// Why `principal` may not subscribe to `filter`, or `nil` when it may: some topic it may
    /// read matches the filter. Each message is still checked on delivery (``checkRead``).
    public func checkSubscribe(_ filter: String, by principal: Principal) -> Refusal? {
        switch principal.kind {
        case .broker, .restored: return .notAPublisher
        default: break
        }
        if let confinement = principal.confinement,
            !confinement.read.contains(where: { TopicFilter.filter($0, intersects: filter) })
        {
            return .confinement
        }
        if let acl, !acl.allowsSubscription(to: filter, for: principal) { return .acl }
        return nil
    }

    /// Why a message on `topic` may not be delivered to `principal`, or `nil` when it may.
    public func checkRead(_ topic: String, by principal: Principal) -> Refusal? {
        switch principal.kind {
        case .broker, .restored: return .notAPublisher
        default: break
        }
        if let confinement = principal.confinement,
            !confinement.read.contains(where: { TopicFilter.filter($0, matches: topic) })
        {
            return .confinement
        }
        if let acl, !acl.allows(.read, topic: topic, for: principal) { return .acl }
        return nil
    }

    /// Whether reading needs any check at all: no ACL and no confinement lets everything through.
    public func readsUnrestricted(by principal: Principal) -> Bool {
        acl == nil && principal.confinement == nil
    }

    /// `$SYS` itself or anything under it.
    static func isSystemTopic(_ topic: String) -> Bool {
        let utf8 = topic.utf8
        guard utf8.starts(with: "$SYS".utf8) else { return false }
        return utf8.count == 4 || utf8.dropFirst(4).first == Topic.separator
    }
}

/// How the uplink treats a PUBACK (or DISCONNECT) reason code from the cloud.
public enum RefusalKind: String, Sendable, Hashable {
    /// The cloud is overloaded or over a quota: the record stays queued and is sent again later.
    case transient
    /// The cloud will never take this record: it moves to the dead-letter table.
    case permanent
}

/// Sorts the cloud's refusal reason codes into transient and permanent. Pure.
///
/// Always transient: 0x89 server busy, 0x8B server shutting down, 0x93 receive maximum exceeded,
/// 0x96 message rate too high, 0x97 quota exceeded: each says "not now", never "not this". The two
/// catch-all codes, 0x80 unspecified error and 0x83 implementation specific error, are permanent
/// unless listed in `extraTransient`: a record the cloud truly refuses for good would otherwise be
/// sent again forever and hold the whole uplink at its slowest rate, while a dead letter keeps the
/// record and says why. Every other code from 0x80 up (0x87 not authorized, 0x90 topic name invalid,
/// 0x95 packet too large, 0x99 payload format invalid, ...) is permanent.
public struct RefusalClassifier: Sendable, Hashable {
    /// The codes that always mean "try again later".
    public static let alwaysTransient: Set<UInt8> = [0x89, 0x8B, 0x93, 0x96, 0x97]

    /// Codes the operator declared transient on top of `alwaysTransient` (`uplink.transient_reason_codes`).
    public var extraTransient: Set<UInt8>

    /// Creates a classifier; `extraTransient` is empty by default (0x80 and 0x83 are permanent).
    public init(extraTransient: Set<UInt8> = []) {
        self.extraTransient = extraTransient
    }

    /// nil for success codes (below 0x80); otherwise whether the refusal is transient or permanent.
    public func classify(_ code: UInt8) -> RefusalKind? {
        guard code >= 0x80 else { return nil }
        if Self.alwaysTransient.contains(code) || extraTransient.contains(code) { return .transient }
        return .permanent
    }

    /// Whether a DISCONNECT with this reason code only asks the uplink to come back later.
    ///
    /// The link reconnects with backoff in any case and resends what was unacknowledged; a transient
    /// disconnect also throttles the send rate, since the cloud said it was sent too much.
    public func isTransientDisconnect(_ code: UInt8) -> Bool {
        Self.alwaysTransient.contains(code)
    }
}

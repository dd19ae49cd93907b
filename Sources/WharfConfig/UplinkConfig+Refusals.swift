public import WharfCore

/// How the uplink treats the cloud's refusals (`uplink.transient_reason_codes`, `uplink.throttle`).
public struct UplinkRefusalsConfig: Sendable, Equatable {
    /// PUBACK reason codes treated as transient on top of the built-in ones (0x89, 0x8B, 0x93, 0x96,
    /// 0x97); only 0x80 (unspecified error) and 0x83 (implementation specific error) may be listed.
    /// Empty by default: those two are permanent unless the cloud is known to use them for "not now".
    public var transientReasonCodes: [UInt8]
    /// The pause before sending again after a transient refusal, doubling while refusals continue.
    public var throttle: BackoffPolicy

    /// The codes `transient_reason_codes` accepts.
    public static let configurableCodes: Set<UInt8> = [0x80, 0x83]

    /// Creates the settings with their defaults: no extra transient codes, a pause of 100 ms up to 30 s.
    public init(
        transientReasonCodes: [UInt8] = [],
        throttle: BackoffPolicy = BackoffPolicy(base: .milliseconds(100), cap: .seconds(30))
    ) {
        self.transientReasonCodes = transientReasonCodes
        self.throttle = throttle
    }
}

extension UplinkRefusalsConfig {
    /// Reads `transient_reason_codes` and `throttle` from the `uplink:` section (problems go to `reader`).
    init(reading reader: ConfigReader) {
        let defaults = UplinkRefusalsConfig()
        self.init()
        if let nodes = reader.list("transient_reason_codes") {
            transientReasonCodes = nodes.compactMap { node in
                guard let code = reader.int(node, in: 0x80...0xFF) else { return nil }
                guard Self.configurableCodes.contains(UInt8(code)) else {
                    reader.report(
                        "only 0x80 and 0x83 may be declared transient (0x89, 0x8B, 0x93, 0x96, 0x97 always are; "
                            + "the others always mean the record will never be accepted), got \(node.quoted)",
                        at: node)
                    return nil
                }
                return UInt8(code)
            }
        }
        if reader.value("throttle") != nil {
            throttle = BackoffPolicy(reading: reader.section("throttle"), defaults: defaults.throttle)
        }
    }
}

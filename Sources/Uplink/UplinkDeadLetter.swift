/// A record the cloud refused for good (a permanent PUBACK reason code), to move to the dead-letter table.
public struct UplinkDeadLetter: Sendable, Hashable {
    /// The queue record's sequence.
    public var sequence: Int64
    /// The PUBACK reason code (0x80 and above).
    public var reasonCode: UInt8
    /// The PUBACK's Reason String, if the cloud sent one.
    public var reasonString: String?
    /// When the refusal arrived, in wall-clock milliseconds since 1970.
    public var refusedAt: Int64

    /// Creates a dead letter.
    public init(sequence: Int64, reasonCode: UInt8, reasonString: String? = nil, refusedAt: Int64) {
        self.sequence = sequence
        self.reasonCode = reasonCode
        self.reasonString = reasonString
        self.refusedAt = refusedAt
    }
}

/// Why a plugin's line is garbage (docs/plugins.md, "Errors").
public struct DecodeFailure: Error, Sendable, Hashable {
    /// The class of fault; the raw value is the `kind` label of the garbage metric.
    public enum Kind: String, Sendable {
        /// The line is not UTF-8.
        case invalidUTF8 = "invalid-utf8"
        /// The line is not JSON.
        case invalidJSON = "invalid-json"
        /// The line is JSON but not an object.
        case notAnObject = "not-an-object"
        /// The object has no string `type`.
        case missingType = "missing-type"
        /// The `type` is not one a plugin may send.
        case unknownType = "unknown-type"
        /// A known message with a member missing or of the wrong type or range.
        case invalid
    }

    /// The class of fault.
    public var kind: Kind
    /// The object's id, when it had a valid one (the host answers it with `nack`).
    public var id: MessageID?
    /// What was wrong, naming the member: `publish: 'qos' must be 0, 1 or 2`.
    public var detail: String

    /// Creates a failure.
    public init(kind: Kind, id: MessageID? = nil, detail: String) {
        self.kind = kind
        self.id = id
        self.detail = detail
    }

    /// The `reason` of the `nack` that answers this failure.
    public var nackReason: String { kind == .unknownType ? "unknown-type" : "invalid" }
}

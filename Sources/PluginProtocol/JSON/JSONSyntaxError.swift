/// Why a line is not valid JSON (RFC 8259), with the byte offset where reading stopped.
struct JSONSyntaxError: Error, Sendable {
    /// What was wrong.
    var message: String
    /// The byte offset in the line.
    var offset: Int

    /// The text a `DecodeFailure` carries.
    var description: String { "\(message) at byte \(offset)" }
}

/// A failure that ends a store benchmark, with a message for the operator.
struct StoreBenchError: Error, CustomStringConvertible {
    /// What went wrong.
    var description: String

    /// Creates an error with `message`.
    init(_ message: String) {
        description = message
    }
}

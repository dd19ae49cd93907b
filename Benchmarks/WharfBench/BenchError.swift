/// A failure that ends a benchmark run, with a message for the operator.
struct BenchError: Error, CustomStringConvertible {
    /// What went wrong.
    var description: String

    /// Creates an error with `message`.
    init(_ message: String) {
        description = message
    }
}

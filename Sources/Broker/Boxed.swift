/// A value kept out of line, for a field that is large and usually empty: an optional box costs
/// its holder 8 bytes instead of the value's size.
final class Boxed<Value: Sendable>: Sendable {
    let value: Value

    init(_ value: Value) {
        self.value = value
    }
}

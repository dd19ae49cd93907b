/// One level of a topic or filter as a dictionary key of `TopicTrie`.
///
/// Equality and hashing use the UTF-8 bytes, not `String`'s Unicode canonical equivalence, because
/// MQTT matches topics without normalization. Keys stored in the trie own their text; lookups use a
/// `probe` over the bytes of the topic being matched, so finding a child copies and allocates nothing.
@usableFromInline
enum TopicLevel: Hashable {
    /// What a filter level means to the matcher.
    @usableFromInline
    enum Kind {
        /// The single-level wildcard `+`.
        case plus
        /// The multi-level wildcard `#`.
        case hash
        /// Any other text, matched literally.
        case exact
    }

    /// A level stored in the trie.
    case stored(String)
    /// A level looked up in the trie. The bytes are borrowed: a probe lives only for the duration of
    /// one dictionary access inside the `withUTF8` call that produced the pointer, and is never stored.
    case probe(UnsafeRawBufferPointer)

    /// Classifies a filter level: only a level made of the wildcard alone is a wildcard.
    @inlinable
    static func kind(of level: UnsafeRawBufferPointer) -> Kind {
        guard level.count == 1 else { return .exact }
        switch level[0] {
        case Topic.singleLevelWildcard: return .plus
        case Topic.multiLevelWildcard: return .hash
        default: return .exact
        }
    }

    /// Calls `body` with the level's bytes.
    @inlinable
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        switch self {
        case .probe(let bytes):
            return body(bytes)
        case .stored(let text):
            // Wharf's strings are native, hence contiguous; the copy only covers bridged strings.
            if let result = text.utf8.withContiguousStorageIfAvailable({ body(UnsafeRawBufferPointer($0)) }) {
                return result
            }
            return Array(text.utf8).withUnsafeBytes(body)
        }
    }

    @inlinable
    static func == (lhs: TopicLevel, rhs: TopicLevel) -> Bool {
        lhs.withBytes { left in rhs.withBytes { right in left.elementsEqual(right) } }
    }

    @inlinable
    func hash(into hasher: inout Hasher) {
        withBytes { hasher.combine(bytes: $0) }
    }
}

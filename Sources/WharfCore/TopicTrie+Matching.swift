extension TopicTrie {
    /// Calls `body` for every (key, value) whose filter matches `topic`, applying the MQTT rule that
    /// filters starting with a wildcard do not match topics starting with "$".  A key subscribed through
    /// several overlapping filters is reported once per matching filter (the broker merges them).
    @inlinable
    public func forEachMatch(topic: String, _ body: (Key, Value) -> Void) {
        walk(topic: topic, body)
    }

    /// A branch of the match still to explore: a node and where the topic's next level starts.
    @usableFromInline
    struct Frame {
        /// The node reached by the levels consumed so far.
        @usableFromInline let node: Node
        /// The offset of the next level's first byte; `nil` once every level has been consumed.
        @usableFromInline let start: Int?

        @inlinable
        init(node: Node, start: Int?) {
            self.node = node
            self.start = start
        }
    }

    /// Reports every entry whose filter matches `topic` and returns the number of nodes visited.
    ///
    /// A depth-first walk over an explicit stack: no recursion (topics may have 32,768 levels), no
    /// closure per branch and, for topics of a few dozen levels, no heap allocation at all: the stack
    /// lives in a temporary allocation and levels are looked up as borrowed slices of the topic's bytes.
    /// `@inlinable` so that the broker gets a version specialized for its key and value types.
    @inlinable
    @discardableResult
    func walk(topic: String, _ body: (Key, Value) -> Void) -> Int {
        var topic = topic
        return topic.withUTF8 { bytes in
            var levels = 1
            for byte in bytes where byte == Topic.separator { levels += 1 }
            // A popped frame pushes at most two frames one level deeper, so the stack holds at most one
            // waiting frame per level plus the two just pushed: `levels + 1` frames.
            let capacity = levels + 1
            // MQTT 3.1.1 §4.7.2: filters starting with a wildcard do not match topics starting with "$".
            let dollar = bytes.first == UInt8(ascii: "$")
            let root = self.root

            return withUnsafeTemporaryAllocation(of: Frame.self, capacity: capacity) { stack in
                stack.initializeElement(at: 0, to: Frame(node: root, start: 0))
                var depth = 1
                var visits = 0
                while depth > 0 {
                    depth -= 1
                    let frame = stack.moveElement(from: depth)
                    let node = frame.node
                    visits += 1
                    let wildcardsAllowed = !dollar || node !== root

                    // `#` also matches the parent level: "sport/#" matches "sport".
                    if wildcardsAllowed, let hash = node.hash {
                        for (key, value) in hash.entries { body(key, value) }
                    }
                    guard let start = frame.start else {
                        for (key, value) in node.entries { body(key, value) }
                        continue
                    }

                    var end = start
                    while end < bytes.count && bytes[end] != Topic.separator { end += 1 }
                    let next = end < bytes.count ? end + 1 : nil
                    precondition(depth + 2 <= capacity, "TopicTrie match stack bound violated")
                    if wildcardsAllowed, let plus = node.plus {
                        stack.initializeElement(at: depth, to: Frame(node: plus, start: next))
                        depth += 1
                    }
                    // Most nodes below a `+` have few or no exact children; skip the hashing when there are none.
                    let children = node.children
                    if children.isEmpty { continue }
                    let level = UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[start..<end]))
                    if let child = children[.probe(level)] {
                        stack.initializeElement(at: depth, to: Frame(node: child, start: next))
                        depth += 1
                    }
                }
                return visits
            }
        }
    }
}

/// The broker's routing index: subscriptions stored by topic filter level, so that finding the
/// subscribers of a topic costs O(levels of the topic × matching branches) whatever else is subscribed.
///
/// Each node keeps its exact-level children in a dictionary and the `+` and `#` children in their own
/// slots. Levels are compared byte by byte, never by Unicode canonical equivalence: MQTT forbids
/// normalizing topics, so `é` (U+00E9) and `e` + U+0301 are different levels.
///
/// The trie is a value: copies share nodes until one of them is mutated (copy-on-write).
/// Filters are expected to have passed `Topic.validateFilter`; an invalid filter is stored without
/// trapping, with `#` and `+` levels treated as wildcards and any other level as literal text.
public struct TopicTrie<Key: Hashable & Sendable, Value: Sendable> {
    /// The root node; replaced by a deep copy before any mutation while shared.
    @usableFromInline private(set) var root: Node
    /// The number of (filter, key) entries.
    public private(set) var count: Int

    /// Creates an empty trie.
    public init() {
        root = Node()
        count = 0
    }

    /// Whether the trie holds no entries.
    public var isEmpty: Bool { count == 0 }

    /// Inserts or replaces the value stored for `key` under `filter`; returns the previous value.
    @discardableResult
    public mutating func insert(filter: String, key: Key, value: Value) -> Value? {
        makeUnique()
        var node = root
        Self.forEachLevel(of: filter) { level in
            node = node.child(for: level)
        }
        let previous = node.entries.updateValue(value, forKey: key)
        if previous == nil { count += 1 }
        return previous
    }

    /// Removes `key` from `filter`; returns the removed value. Prunes empty nodes.
    @discardableResult
    public mutating func remove(filter: String, key: Key) -> Value? {
        guard findNode(filter: filter)?.entries[key] != nil else { return nil }
        makeUnique()
        var node = root
        // The path from the root lets emptied nodes be detached bottom-up, one at a time.
        var path: [(parent: Node, kind: TopicLevel.Kind, level: String)] = []
        Self.forEachLevel(of: filter) { level in
            let kind = TopicLevel.kind(of: level)
            path.append((node, kind, kind == .exact ? String(decoding: level, as: UTF8.self) : ""))
            // `findNode` succeeded on an identical graph, so every level exists.
            node = node.existingChild(for: level) ?? node
        }
        let removed = node.entries.removeValue(forKey: key)
        if removed != nil { count -= 1 }
        while let (parent, kind, level) = path.popLast() {
            switch kind {
            case .plus:
                guard parent.plus?.isEmpty == true else { return removed }
                parent.plus = nil
            case .hash:
                guard parent.hash?.isEmpty == true else { return removed }
                parent.hash = nil
            case .exact:
                guard parent.children[.stored(level)]?.isEmpty == true else { return removed }
                parent.children[.stored(level)] = nil
            }
        }
        return removed
    }

    /// The entries stored under exactly `filter` (no wildcard matching), empty if there are none.
    public func values(forFilter filter: String) -> [Key: Value] {
        findNode(filter: filter)?.entries ?? [:]
    }

    /// The value stored for `key` under exactly `filter`, if any.
    public func value(forFilter filter: String, key: Key) -> Value? {
        findNode(filter: filter)?.entries[key]
    }

    /// The number of nodes holding entries or children, the root included; for tests of pruning.
    internal var nodeCount: Int {
        var total = 0
        var stack = [root]
        while let node = stack.popLast() {
            total += 1
            stack.append(contentsOf: node.children.values)
            if let plus = node.plus { stack.append(plus) }
            if let hash = node.hash { stack.append(hash) }
        }
        return total
    }

    // MARK: Internals

    /// Copies the node graph if another trie value shares it.
    private mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&root) {
            root = root.deepCopy()
        }
    }

    /// The node that stores entries for exactly `filter`, if it exists.
    private func findNode(filter: String) -> Node? {
        var node: Node? = root
        Self.forEachLevel(of: filter) { level in
            node = node?.existingChild(for: level)
        }
        return node
    }

    /// Calls `body` with the bytes of each level of `string`, empty levels included ("a//b" has three).
    private static func forEachLevel(of string: String, _ body: (UnsafeRawBufferPointer) -> Void) {
        var string = string
        string.withUTF8 { bytes in
            var start = 0
            for index in bytes.indices where bytes[index] == Topic.separator {
                body(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[start..<index])))
                start = index + 1
            }
            body(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[start...])))
        }
    }
}

// The node graph is only ever mutated through `mutating` methods after `makeUnique()` has made the
// calling value its sole owner, so a graph reachable from two values (or two threads) is immutable;
// this is the same argument that makes `Array` Sendable. Keys and values are themselves Sendable.
extension TopicTrie: @unchecked Sendable {}

extension TopicTrie {
    /// One level of the trie: the entries of the filter ending here and the deeper levels.
    ///
    /// The fields opt out of run-time exclusivity checks, which otherwise cost a third of a match:
    /// nodes are reachable only through their trie, mutated only inside its `mutating` methods (which
    /// never read a field while modifying the same field), and read only by non-mutating methods, so
    /// the compiler's static checks on the trie value already rule out overlapping accesses.
    @usableFromInline
    final class Node {
        /// Children by exact level text.
        @exclusivity(unchecked) @usableFromInline var children: [TopicLevel: Node] = [:]
        /// The `+` child.
        @exclusivity(unchecked) @usableFromInline var plus: Node?
        /// The `#` child; only its entries matter, as `#` must be the last level.
        @exclusivity(unchecked) @usableFromInline var hash: Node?
        /// The subscriptions whose filter ends at this node.
        @exclusivity(unchecked) @usableFromInline var entries: [Key: Value] = [:]

        init() {}

        /// Whether the node can be pruned.
        var isEmpty: Bool { entries.isEmpty && children.isEmpty && plus == nil && hash == nil }

        /// The child for `level`, created if missing.
        func child(for level: UnsafeRawBufferPointer) -> Node {
            if let existing = existingChild(for: level) { return existing }
            let created = Node()
            switch TopicLevel.kind(of: level) {
            case .plus: plus = created
            case .hash: hash = created
            case .exact: children[.stored(String(decoding: level, as: UTF8.self))] = created
            }
            return created
        }

        /// The child for `level` if it exists.
        func existingChild(for level: UnsafeRawBufferPointer) -> Node? {
            switch TopicLevel.kind(of: level) {
            case .plus: plus
            case .hash: hash
            case .exact: children[.probe(level)]
            }
        }

        /// A copy of the whole subtree, built without recursion so that deep filters cannot exhaust the stack.
        func deepCopy() -> Node {
            let copy = Node()
            var pending = [(self, copy)]
            while let (source, target) = pending.popLast() {
                target.entries = source.entries
                target.children.reserveCapacity(source.children.count)
                for (level, child) in source.children {
                    let childCopy = Node()
                    target.children[level] = childCopy
                    pending.append((child, childCopy))
                }
                if let plus = source.plus {
                    let plusCopy = Node()
                    target.plus = plusCopy
                    pending.append((plus, plusCopy))
                }
                if let hash = source.hash {
                    let hashCopy = Node()
                    target.hash = hashCopy
                    pending.append((hash, hashCopy))
                }
            }
            return copy
        }

        deinit {
            // Releasing a deep chain of nodes recursively could exhaust the stack (a filter may have
            // 32,768 levels); detach the descendants into a local stack and release them one by one.
            guard !children.isEmpty || plus != nil || hash != nil else { return }
            var orphans: [Node] = Array(children.values)
            children.removeAll()
            if let plus { orphans.append(plus) }
            if let hash { orphans.append(hash) }
            plus = nil
            hash = nil
            while var orphan = orphans.popLast() {
                guard isKnownUniquelyReferenced(&orphan) else { continue }
                orphans.append(contentsOf: orphan.children.values)
                orphan.children.removeAll()
                if let plus = orphan.plus { orphans.append(plus) }
                if let hash = orphan.hash { orphans.append(hash) }
                orphan.plus = nil
                orphan.hash = nil
            }
        }
    }
}

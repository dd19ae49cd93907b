/// Values stored by topic name (retained messages), found by topic filter: the reverse of
/// ``TopicTrie``. Finding what a filter matches costs O(levels of the filter × matching
/// branches), plus the size of the result, however many other topics are stored; storing and
/// removing cost O(levels of the topic).
///
/// Levels are compared byte by byte, and filters starting with a wildcard do not match topics
/// starting with `$`, exactly as ``TopicFilter/filter(_:matches:)`` decides (a property test
/// holds the two together). Topics are expected to have passed ``Topic/validateName(_:)``.
///
/// Not copyable: the nodes are mutated in place, so there is one trie, kept by its owner (the
/// broker keeps it under a lock). Nothing recurses, so topics of any depth are safe.
public struct RetainedTrie<Value>: ~Copyable {
    /// One level: the value of the topic ending here and the deeper levels.
    private final class Node {
        var value: Value?
        var children: [TopicLevel: Node] = [:]

        var isEmpty: Bool { value == nil && children.isEmpty }
    }

    private let root = Node()
    /// The number of stored topics.
    public private(set) var count = 0

    /// Creates an empty trie.
    public init() {}

    /// Stores `value` under `topic`; returns the value it replaced.
    @discardableResult
    public mutating func set(_ value: Value, for topic: String) -> Value? {
        var node = root
        for level in Self.levels(of: topic) {
            if let child = node.children[.stored(level)] {
                node = child
            } else {
                let child = Node()
                node.children[.stored(level)] = child
                node = child
            }
        }
        let previous = node.value
        node.value = value
        if previous == nil { count += 1 }
        return previous
    }

    /// Removes the value of `topic`; returns it. Levels left empty are pruned.
    @discardableResult
    public mutating func remove(_ topic: String) -> Value? {
        var path: [(parent: Node, level: String)] = []
        var node = root
        for level in Self.levels(of: topic) {
            guard let child = node.children[.stored(level)] else { return nil }
            path.append((node, level))
            node = child
        }
        guard let previous = node.value else { return nil }
        node.value = nil
        count -= 1
        while let (parent, level) = path.popLast(), parent.children[.stored(level)]?.isEmpty == true {
            parent.children[.stored(level)] = nil
        }
        return previous
    }

    /// The value of exactly `topic`.
    public func value(for topic: String) -> Value? {
        var node = root
        for level in Self.levels(of: topic) {
            guard let child = node.children[.stored(level)] else { return nil }
            node = child
        }
        return node.value
    }

    /// Calls `body` with every (topic, value) whose topic `filter` matches, in no particular
    /// order.
    public func forEachMatch(_ filter: String, _ body: (String, Value) -> Void) {
        let levels = Self.levels(of: filter)
        var paths = Paths()
        // A branch still to explore: the node, its topic so far, and the next filter level.
        var stack: [(node: Node, path: Int, index: Int)] = [(root, Paths.root, 0)]
        while let (node, path, index) = stack.popLast() {
            let atRoot = path == Paths.root
            guard index < levels.count else {
                if let value = node.value { body(paths.topic(path), value) }
                continue
            }
            switch levels[index] {
            case "#":
                // "a/#" matches "a" as well; at the root, "#" matches no `$` topic.
                if !atRoot, let value = node.value { body(paths.topic(path), value) }
                var subtree: [(Node, Int)] = []
                for (level, child) in node.children where !(atRoot && level.startsWithDollar) {
                    subtree.append((child, paths.append(level, to: path)))
                }
                while let (current, currentPath) = subtree.popLast() {
                    if let value = current.value { body(paths.topic(currentPath), value) }
                    for (level, child) in current.children {
                        subtree.append((child, paths.append(level, to: currentPath)))
                    }
                }
            case "+":
                for (level, child) in node.children where !(atRoot && level.startsWithDollar) {
                    stack.append((child, paths.append(level, to: path), index + 1))
                }
            case let literal:
                if let child = node.children[.stored(literal)] {
                    stack.append((child, paths.append(.stored(literal), to: path), index + 1))
                }
            }
        }
    }

    /// Every (topic, value), in no particular order.
    public func forEach(_ body: (String, Value) -> Void) {
        var paths = Paths()
        var stack: [(Node, Int)] = [(root, Paths.root)]
        while let (node, path) = stack.popLast() {
            if let value = node.value { body(paths.topic(path), value) }
            for (level, child) in node.children { stack.append((child, paths.append(level, to: path))) }
        }
    }

    /// The levels of a topic or filter, split at the `/` bytes (a `/` followed by a combining
    /// accent is still a separator, which splitting by `Character` would miss).
    private static func levels(of text: String) -> [String] {
        text.utf8.split(separator: Topic.separator, omittingEmptySubsequences: false).map {
            String(decoding: $0, as: UTF8.self)
        }
    }
}

/// The topics of a walk, as a tree of levels each pointing at its parent: a walk extends a path
/// in O(1) and spells out a topic only where it found a value.
private struct Paths {
    static let root = -1
    private var levels: [(parent: Int, level: TopicLevel)] = []

    mutating func append(_ level: TopicLevel, to parent: Int) -> Int {
        levels.append((parent, level))
        return levels.count - 1
    }

    func topic(_ path: Int) -> String {
        var bytes: [UInt8] = []
        var index = path
        var reversed: [TopicLevel] = []
        while index != Self.root {
            reversed.append(levels[index].level)
            index = levels[index].parent
        }
        for (position, level) in reversed.reversed().enumerated() {
            if position > 0 { bytes.append(Topic.separator) }
            level.withBytes { bytes.append(contentsOf: $0) }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension TopicLevel {
    fileprivate var startsWithDollar: Bool {
        withBytes { $0.first == UInt8(ascii: "$") }
    }
}

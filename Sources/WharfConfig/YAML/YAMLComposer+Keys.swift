/// Duplicate keys: a mapping that sets the same key twice is refused, as YAML requires.
extension YAMLComposer {
    /// A scalar key as keys are compared: its text (canonically equivalent spellings are equal,
    /// as Swift compares strings) and its tag (a plain `5` and a quoted `"5"` are the same key,
    /// `!!int 5` is another).
    private struct ScalarKey: Hashable {
        var text: String
        var tag: String
    }

    /// Throws `duplicateKey` for the mapping's duplicated key that sorts first by its text,
    /// naming where it is first written; notes the keys' nodes in `keyNodes`.
    mutating func checkKeys(_ pairs: [YAMLPair]) throws(YAMLError) {
        for pair in pairs { noteKeyNodes(pair.key) }
        guard pairs.count > 1 else { return }
        var firstScalars: [ScalarKey: Int] = [:]
        var firstOthers: [Int] = []
        // The first spelling of each key that is written again.
        var repeated: Set<Int> = []
        for (index, pair) in pairs.enumerated() {
            let first: Int?
            if case .scalar(let text, _) = pair.key.content {
                let key = ScalarKey(text: text, tag: pair.key.comparedTag)
                first = firstScalars[key]
                if first == nil { firstScalars[key] = index }
            } else {
                first = firstOthers.first { keysEqual(pairs[$0].key, pair.key) }
                if first == nil { firstOthers.append(index) }
            }
            if let first { repeated.insert(first) }
        }
        // In document order, so that equal texts (`1` and `!!int 1`, each twice) name the first.
        guard let chosen = repeated.sorted().min(by: { Self.sortsBefore(pairs[$0].key, pairs[$1].key) }) else {
            return
        }
        let key = pairs[chosen].key
        if case .scalar(let text, _) = key.content {
            throw .duplicateKey(text, first: key.mark)
        }
        throw .duplicateKey(nil, first: key.mark)
    }

    /// Adds `key` and every node inside it to `keyNodes`, each node once however often aliases
    /// repeat it.
    private mutating func noteKeyNodes(_ key: YAMLNode) {
        var pending = [key]
        while let node = pending.popLast() {
            guard keyNodes.insert(node.id).inserted else { continue }
            switch node.content {
            case .scalar: break
            case .sequence(let items): pending += items
            case .mapping(let pairs):
                for pair in pairs { pending += [pair.key, pair.value] }
            }
        }
    }

    /// Scalar keys sort by their text, before keys that are lists or mappings.
    private static func sortsBefore(_ left: YAMLNode, _ right: YAMLNode) -> Bool {
        switch (left.content, right.content) {
        case (.scalar(let leftText, _), .scalar(let rightText, _)): return leftText < rightText
        case (.scalar, _): return true
        default: return false
        }
    }

    /// Whether two keys are the same value with the same tags, within what is left of
    /// `keyComparisons` (past it: not the same, so that aliases cannot make this explode).
    private mutating func keysEqual(_ left: YAMLNode, _ right: YAMLNode) -> Bool {
        guard keyComparisons > 0 else { return false }
        keyComparisons -= 1
        guard left.comparedTag == right.comparedTag else { return false }
        switch (left.content, right.content) {
        case (.scalar(let leftText, _), .scalar(let rightText, _)):
            return leftText == rightText
        case (.sequence(let leftItems), .sequence(let rightItems)):
            guard leftItems.count == rightItems.count else { return false }
            for (leftItem, rightItem) in zip(leftItems, rightItems) where !keysEqual(leftItem, rightItem) {
                return false
            }
            return true
        case (.mapping(let leftPairs), .mapping(let rightPairs)):
            guard leftPairs.count == rightPairs.count else { return false }
            for (leftPair, rightPair) in zip(leftPairs, rightPairs) {
                guard keysEqual(leftPair.key, rightPair.key), keysEqual(leftPair.value, rightPair.value) else {
                    return false
                }
            }
            return true
        default:
            return false
        }
    }
}

extension YAMLNode {
    /// The tag keys are compared by: a node without one (or with `!`) is a string, a list or a
    /// mapping, whichever it is.
    var comparedTag: String {
        guard tag.isEmpty || tag == YAMLTag.nonSpecific else { return tag }
        switch content {
        case .scalar: return YAMLTag.string
        case .sequence: return YAMLTag.sequence
        case .mapping: return YAMLTag.mapping
        }
    }
}

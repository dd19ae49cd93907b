/// Composes libyaml's events into the nodes of a single document: anchors and aliases resolved,
/// duplicate keys refused, a second document refused.
///
/// It keeps the open lists and mappings on a stack of its own rather than recursing, so that how
/// deep a document nests costs memory, never the thread's stack.
struct YAMLComposer {
    /// Steps spent comparing keys that are lists or mappings, for the whole document; past it,
    /// such keys are taken as different (they are refused as keys later in any case).
    static let maximumKeyComparisons = 100_000

    /// The node each anchor names: the latest definition wins, as YAML allows anchors to be reused.
    private var anchors: [String: YAMLNode] = [:]
    /// What is left of `maximumKeyComparisons`.
    var keyComparisons = maximumKeyComparisons
    /// `YAMLDocument.keyNodes` so far.
    var keyNodes: Set<Int> = []
    /// The `id` of the next node.
    private var nextID = 0

    /// The only document in `text` (`nil` when there is none), or why there is none.
    static func compose(_ text: String) throws(YAMLError) -> YAMLDocument? {
        var contiguous = text
        let result: Result<YAMLDocument?, YAMLError> = contiguous.withUTF8 { bytes in
            Result { () throws(YAMLError) in
                let reader = try YAMLEventReader(bytes: bytes, text: text)
                var composer = YAMLComposer()
                return try composer.singleDocument(from: reader)
            }
        }
        return try result.get()
    }

    /// The first document; a second document is an error.
    private mutating func singleDocument(from reader: YAMLEventReader) throws(YAMLError) -> YAMLDocument? {
        guard !reader.streamEndProduced else { return nil }
        // The stream's end, or the document's start.
        if case .streamEnd = try reader.next().kind { return nil }
        let root = try node(startingWith: try reader.next(), from: reader)
        _ = try reader.next()  // the document's end
        let after = try reader.next()
        if case .streamEnd = after.kind { return YAMLDocument(root: root, keyNodes: keyNodes) }
        throw .syntax(
            problem: "but found another document",
            mark: after.start,
            context: YAMLErrorContext(
                text: "expected a single document in the stream", mark: YAMLMark(line: 1, column: 1))
        )
    }

    /// A list or mapping being read, with what it has so far.
    private enum OpenNode {
        case sequence(Header, items: [YAMLNode])
        case mapping(Header, pairs: [YAMLPair], key: YAMLNode?)

        /// What a list or mapping's start event said, and its `id`.
        struct Header {
            var tag: String
            var anchor: String?
            var mark: YAMLMark
            var id: Int
        }

        mutating func add(_ node: YAMLNode) {
            // Taken out and put back, so that the array is not copied.
            switch self {
            case .sequence(let header, var items):
                self = .sequence(header, items: [])
                items.append(node)
                self = .sequence(header, items: items)
            case .mapping(let header, var pairs, let key):
                self = .mapping(header, pairs: [], key: nil)
                if let key {
                    pairs.append(YAMLPair(key: key, value: node))
                    self = .mapping(header, pairs: pairs, key: nil)
                } else {
                    self = .mapping(header, pairs: pairs, key: node)
                }
            }
        }
    }

    /// The node that `first` starts, reading the events of its children from `reader`.
    private mutating func node(startingWith first: YAMLEvent, from reader: YAMLEventReader) throws(YAMLError)
        -> YAMLNode
    {
        var open: [OpenNode] = []
        var event = first
        while true {
            let finished: YAMLNode
            switch event.kind {
            case .alias(let anchor):
                guard let target = anchors[anchor] else {
                    throw .syntax(problem: "found undefined alias", mark: event.start, context: nil)
                }
                finished = target
            case .scalar(let value, let style, let tag, let anchor):
                finished = YAMLNode(content: .scalar(value, style), tag: tag, mark: event.start, id: newID())
                register(anchor, finished)
            case .sequenceStart(let tag, let anchor):
                let header = OpenNode.Header(tag: tag, anchor: anchor, mark: event.start, id: newID())
                open.append(.sequence(header, items: []))
                event = try reader.next()
                continue
            case .mappingStart(let tag, let anchor):
                let header = OpenNode.Header(tag: tag, anchor: anchor, mark: event.start, id: newID())
                open.append(.mapping(header, pairs: [], key: nil))
                event = try reader.next()
                continue
            case .sequenceEnd:
                guard case .sequence(let header, let items) = open.popLast() else { throw Self.outOfOrder(event) }
                finished = YAMLNode(content: .sequence(items), tag: header.tag, mark: header.mark, id: header.id)
                register(header.anchor, finished)
            case .mappingEnd:
                guard case .mapping(let header, let pairs, nil) = open.popLast() else { throw Self.outOfOrder(event) }
                try checkKeys(pairs)
                finished = YAMLNode(content: .mapping(pairs), tag: header.tag, mark: header.mark, id: header.id)
                register(header.anchor, finished)
            case .streamStart, .streamEnd, .documentStart, .documentEnd:
                throw Self.outOfOrder(event)
            }
            guard var parent = open.popLast() else { return finished }
            parent.add(finished)
            open.append(parent)
            event = try reader.next()
        }
    }

    private mutating func newID() -> Int {
        defer { nextID += 1 }
        return nextID
    }

    private mutating func register(_ anchor: String?, _ node: YAMLNode) {
        if let anchor { anchors[anchor] = node }
    }

    /// libyaml's parser keeps its events in order; this is never expected, and is an error rather
    /// than a crash if it happens.
    private static func outOfOrder(_ event: YAMLEvent) -> YAMLError {
        .syntax(problem: "found an event out of order", mark: event.start, context: nil)
    }
}

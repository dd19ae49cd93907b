/// A position in YAML text, as libyaml reports it: line and column from 1, the column counted in
/// Unicode scalars.
struct YAMLMark: Equatable, Sendable {
    /// Line number, from 1.
    var line: Int
    /// Column number, from 1, in Unicode scalars.
    var column: Int
}

/// How a scalar was written.
enum YAMLScalarStyle: Equatable, Sendable {
    case plain
    case singleQuoted
    case doubleQuoted
    /// A `|` block.
    case literal
    /// A `>` block.
    case folded
}

/// The root node of a composed document, and what composing it learned about its nodes.
struct YAMLDocument: Sendable {
    /// The root node.
    var root: YAMLNode
    /// The nodes written as keys, or inside a list or mapping written as a key (by `id`).
    ///
    /// Keys are compared as text, which makes an untagged scalar among them a string wherever it
    /// also appears through an alias: `&k 5: x` then `port: *k` sets `port` to the text "5".
    var keyNodes: Set<Int>

    /// The tag `node` has once keys were compared: `!!str`, `!!seq` or `!!map` for an untagged
    /// node in `keyNodes`, the tag as written otherwise.
    func tag(of node: YAMLNode) -> String {
        keyNodes.contains(node.id) ? node.comparedTag : node.tag
    }
}

/// One node of a composed YAML document, aliases already replaced by the node they name.
///
/// Aliases share their target's storage (arrays are copied on write), so a document whose
/// aliases name each other many times over stays as small as its text; whoever walks the tree
/// bounds the walk (`ConfigDocument.maximumNodes`).
struct YAMLNode: Sendable {
    /// What the node holds.
    enum Content: Sendable {
        /// Text, as libyaml gives it (escapes and folding applied), and how it was written.
        case scalar(String, YAMLScalarStyle)
        /// A list.
        case sequence([YAMLNode])
        /// A mapping, in document order, keys as written (duplicates refused while composing).
        case mapping([YAMLPair])
    }

    /// What the node holds.
    var content: Content
    /// The tag as libyaml resolved it (`!!int` is `tag:yaml.org,2002:int`): `!!str` for a quoted
    /// scalar without one, empty for any other node without one.
    var tag: String
    /// Where the node starts.
    var mark: YAMLMark
    /// Which node of the document this is, in the order they start: an alias has its anchor's.
    var id: Int
}

/// A key and its value in a mapping.
struct YAMLPair: Sendable {
    /// The key.
    var key: YAMLNode
    /// The value.
    var value: YAMLNode
}

/// The tags of YAML's core types that the reader tells apart.
enum YAMLTag {
    static let string = "tag:yaml.org,2002:str"
    static let sequence = "tag:yaml.org,2002:seq"
    static let mapping = "tag:yaml.org,2002:map"
    static let null = "tag:yaml.org,2002:null"
    static let bool = "tag:yaml.org,2002:bool"
    static let int = "tag:yaml.org,2002:int"
    static let float = "tag:yaml.org,2002:float"
    static let value = "tag:yaml.org,2002:value"
    /// `!` alone: the non-specific tag, which makes a node the default type of its kind.
    static let nonSpecific = "!"
}

/// Why a YAML text could not be composed into a single document.
enum YAMLError: Error, Equatable, Sendable {
    /// libyaml's scanner or parser refused the text, or the composer did (an undefined alias, a
    /// second document): libyaml's own words, where, and what it was reading then.
    case syntax(problem: String, mark: YAMLMark, context: YAMLErrorContext?)
    /// libyaml's reader refused a character (a control character, for one); `offset` counts
    /// characters from the start of the text, when the byte it names starts one.
    case reader(problem: String, offset: Int?)
    /// A mapping has the same key twice: the key's text (`nil` for a list or mapping used as a
    /// key) and where it is first written.
    case duplicateKey(String?, first: YAMLMark)
    /// libyaml could not allocate memory.
    case memory
}

/// What libyaml was reading when it met a problem, and where that started.
struct YAMLErrorContext: Equatable, Sendable {
    /// Such as "while parsing a block mapping".
    var text: String
    /// Where the construct being read starts.
    var mark: YAMLMark
}

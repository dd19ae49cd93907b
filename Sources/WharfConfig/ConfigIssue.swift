/// One problem found in a configuration document, with where it is and what was expected.
public struct ConfigIssue: Sendable, Equatable, CustomStringConvertible {
    /// The file (or other source name) the document came from, as given to the loader.
    public var file: String
    /// 1-based line of the offending key or value, when known.
    public var line: Int?
    /// 1-based column (in Unicode scalars) of the offending key or value, when known.
    public var column: Int?
    /// Key path of the offending setting, such as `broker.listeners[0].port`; empty for the whole document.
    public var path: String
    /// What is wrong and what is expected, in plain words.
    public var message: String

    /// Creates an issue.
    public init(file: String, line: Int? = nil, column: Int? = nil, path: String, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.path = path
        self.message = message
    }

    /// `file:line:column: path: message`, leaving out the parts that are unknown.
    public var description: String {
        var text = file
        if let line {
            text += ":\(line)"
            if let column { text += ":\(column)" }
        }
        text += ": "
        if !path.isEmpty { text += "\(path): " }
        return text + message
    }
}

extension ConfigIssue {
    /// Orders issues as an editor would walk the file: by line, then column; unplaced issues last.
    static func sourceOrder(_ lhs: ConfigIssue, _ rhs: ConfigIssue) -> Bool {
        switch (lhs.line, rhs.line) {
        case (let l?, let r?) where l != r: return l < r
        case (let l?, let r?) where l == r: return (lhs.column ?? 0) < (rhs.column ?? 0)
        case (.some, .none): return true
        default: return false
        }
    }
}

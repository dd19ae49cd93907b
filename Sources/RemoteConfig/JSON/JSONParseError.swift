/// Why a JSON text was refused, with where: byte offset, line, column and the key path reached.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 0-based offset of the offending byte.
    public var offset: Int
    /// 1-based line.
    public var line: Int
    /// 1-based column, in bytes.
    public var column: Int
    /// Key path of the value being read (`config.adapters[2].name`); empty at the top level.
    public var path: String
    /// What is wrong.
    public var message: String

    /// Creates an error.
    public init(offset: Int, line: Int, column: Int, path: String, message: String) {
        self.offset = offset
        self.line = line
        self.column = column
        self.path = path
        self.message = message
    }

    /// `line:column: path: message`.
    public var description: String {
        "\(line):\(column): " + (path.isEmpty ? "" : "\(path): ") + message
    }
}

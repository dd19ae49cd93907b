/// A problem in a password or ACL file, with the file and line it was found at.
public struct AuthFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file's path as given (may be empty for text that came from elsewhere).
    public var file: String
    /// 1-based line number; 0 when the problem concerns the whole file.
    public var line: Int
    /// What is wrong and what is expected.
    public var message: String

    /// Creates an error at `file:line`.
    public init(file: String, line: Int, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    /// `file:line: message`, the form editors and `grep -n` use.
    public var description: String {
        line > 0 ? "\(file):\(line): \(message)" : "\(file): \(message)"
    }
}

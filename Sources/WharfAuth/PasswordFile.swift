/// A Mosquitto-compatible password file: one `user:hash` entry per line, `#` comments and
/// blank lines kept as they are so that editing a file changes only the entry concerned.
public struct PasswordFile: Sendable, Equatable {
    /// One line of the file.
    public enum Line: Sendable, Equatable {
        /// `user:hash`.
        case entry(user: String, hash: PasswordHash)
        /// A comment or blank line, kept verbatim.
        case other(String)
    }

    /// The lines in file order.
    public private(set) var lines: [Line]
    private var index: [String: PasswordHash]

    /// Creates an empty file.
    public init() {
        lines = []
        index = [:]
    }

    /// Parses the text of a password file; `file` names it in errors.
    public init(parsing text: String, file: String) throws(AuthFileError) {
        self.init()
        var lineNumber = 0
        for raw in text.lines {
            lineNumber += 1
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw
            let trimmed = line.trimmingBlanks
            if trimmed.isEmpty || trimmed.hasPrefix("#") {
                lines.append(.other(String(line)))
                continue
            }
            guard let colon = trimmed.firstIndex(of: ":") else {
                throw AuthFileError(file: file, line: lineNumber, message: "expected 'user:hash', found no ':'")
            }
            let user = String(trimmed[..<colon].trimmingBlanks)
            let encoded = trimmed[trimmed.index(after: colon)...].trimmingBlanks
            guard !user.isEmpty else {
                throw AuthFileError(file: file, line: lineNumber, message: "empty user name before ':'")
            }
            if let problem = Self.problem(inUserName: user) {
                throw AuthFileError(file: file, line: lineNumber, message: problem)
            }
            guard let hash = PasswordHash(encoded: encoded) else {
                throw AuthFileError(
                    file: file,
                    line: lineNumber,
                    message: "the hash of user '\(user)' is not a Mosquitto 2 hash "
                        + "('$7$<iterations>$<base64 salt>$<base64 hash>' or '$6$<salt>$<hash>'); "
                        + "create entries with 'wharfctl passwd' or 'mosquitto_passwd'"
                )
            }
            guard index[user] == nil else {
                throw AuthFileError(file: file, line: lineNumber, message: "user '\(user)' appears twice")
            }
            lines.append(.entry(user: user, hash: hash))
            index[user] = hash
        }
    }

    /// The entry for `user`, if any.
    public func hash(for user: String) -> PasswordHash? {
        index[user]
    }

    /// The users in file order.
    public var users: [String] {
        lines.compactMap { line in
            if case .entry(let user, _) = line { return user }
            return nil
        }
    }

    /// Whether `password` is the password of `user`. An unknown user costs a hash computation
    /// as well, so that timing does not tell which user names exist.
    public func verify(user: String, password: [UInt8]) -> Bool {
        guard let hash = index[user] else {
            let decoy = index.values.first?.scheme ?? .pbkdf2SHA512(iterations: PasswordHash.defaultIterations)
            _ = PasswordHash.derive(
                password, salt: [UInt8](repeating: 0, count: PasswordHash.saltLength), scheme: decoy)
            return false
        }
        return hash.verify(password)
    }

    /// Adds `user` at the end, or replaces its hash where it stands.
    public mutating func set(user: String, hash: PasswordHash) {
        if index[user] != nil, let position = lines.firstIndex(where: { $0.user == user }) {
            lines[position] = .entry(user: user, hash: hash)
        } else {
            lines.append(.entry(user: user, hash: hash))
        }
        index[user] = hash
    }

    /// Removes `user`; returns whether it was there.
    @discardableResult
    public mutating func remove(user: String) -> Bool {
        guard index.removeValue(forKey: user) != nil else { return false }
        lines.removeAll { $0.user == user }
        return true
    }

    /// The file's text, one line each, ending with a newline.
    public var text: String {
        lines.map { line in
            switch line {
            case .entry(let user, let hash): "\(user):\(hash.encoded)\n"
            case .other(let text): "\(text)\n"
            }
        }.joined()
    }

    /// Why `user` cannot be stored in a password file, or `nil` when it can.
    public static func problem(inUserName user: String) -> String? {
        if user.isEmpty { return "the user name is empty" }
        if user.contains(":") { return "the user name '\(user)' contains ':', which separates it from the hash" }
        if user.contains(where: { $0.isNewline }) { return "the user name contains a line break" }
        if user.utf8.count > 65_535 { return "the user name is longer than MQTT allows (65,535 bytes)" }
        return nil
    }
}

extension PasswordFile.Line {
    fileprivate var user: String? {
        if case .entry(let user, _) = self { return user }
        return nil
    }
}

extension String {
    /// The lines of the text; a final newline does not start one more, empty line.
    var lines: [Substring] {
        // "\r\n" is one Character in Swift, so it is a separator of its own.
        var pieces = split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
        if pieces.last?.isEmpty == true { pieces.removeLast() }
        return pieces
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    var trimmingBlanks: SubSequence {
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
        guard let start = firstIndex(where: { !isBlank($0) }),
            let end = lastIndex(where: { !isBlank($0) })
        else { return self[endIndex...] }
        return self[start...end]
    }
}

/// Explains a YAML syntax error in an installer's words, at the position the parser gave.
enum SyntaxIssue {
    static func issue(for error: YAMLError, yaml: String, file: String) -> ConfigIssue {
        switch error {
        case .syntax(let problem, let mark, let context):
            var message = "invalid YAML: \(problem)"
            if let context {
                message += " (\(context.text) that starts at line \(context.mark.line), column \(context.mark.column))"
            }
            if let hint = hint(problem: problem, line: line(mark.line, of: yaml)) {
                message += "; \(hint)"
            }
            return ConfigIssue(file: file, line: mark.line, column: mark.column, path: "", message: message)
        case .reader(let problem, let offset):
            let place = offset.map { position(ofCharacter: $0, in: yaml) }
            return ConfigIssue(
                file: file,
                line: place?.line,
                column: place?.column,
                path: "",
                message: "cannot read the text: \(problem)"
            )
        case .duplicateKey(nil, let first):
            return ConfigIssue(
                file: file,
                line: first.line,
                column: first.column,
                path: "",
                message: "a list or mapping is used more than once as a key in the same mapping; keep one"
            )
        case .duplicateKey(let key?, let first):
            if let again = repeatedKey(key, after: first, in: yaml) {
                return ConfigIssue(
                    file: file,
                    line: again.line,
                    column: again.column,
                    path: "",
                    message: "'\(key)' is set twice in the same mapping (first on line \(first.line)); keep one"
                )
            }
            return ConfigIssue(
                file: file,
                line: first.line,
                column: first.column,
                path: "",
                message: "'\(key)' is set more than once in the same mapping; keep one"
            )
        case .memory:
            return ConfigIssue(file: file, path: "", message: "cannot read the document: out of memory")
        }
    }

    private static func hint(problem: String, line: String?) -> String? {
        if let line, line.prefix(while: { $0 == " " || $0 == "\t" }).contains("\t") {
            return "indent with spaces, not tabs"
        }
        switch problem {
        case "did not find expected key":
            return "check that this line is indented like the keys next to it"
        case "mapping values are not allowed in this context":
            return "check the indentation, or put a value that contains ':' in quotes, such as \"::\""
        case "but found another document":
            return "keep a single document: remove the extra '---' line"
        default:
            return nil
        }
    }

    private static func lines(of yaml: String) -> [Substring] {
        yaml.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.hasSuffix("\r") ? $0.dropLast() : $0
        }
    }

    private static func line(_ number: Int, of yaml: String) -> String? {
        let all = lines(of: yaml)
        return all.indices.contains(number - 1) ? String(all[number - 1]) : nil
    }

    /// Where the second spelling of a duplicated key sits: the next line, after the first, that
    /// has `key:` at the same column (block mappings keep their keys aligned).
    private static func repeatedKey(_ key: String, after first: YAMLMark, in yaml: String) -> (line: Int, column: Int)?
    {
        let all = lines(of: yaml)
        guard first.line >= 1, first.line < all.count else { return nil }
        for index in first.line..<all.count {
            let scalars = all[index].unicodeScalars
            guard scalars.count >= first.column + key.unicodeScalars.count else { continue }
            let rest = String(String.UnicodeScalarView(scalars.dropFirst(first.column - 1)))
            guard rest.hasPrefix(key) else { continue }
            if rest.dropFirst(key.count).drop(while: { $0 == " " }).hasPrefix(":") {
                return (index + 1, first.column)
            }
        }
        return nil
    }

    private static func position(ofCharacter offset: Int, in yaml: String) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        for character in yaml.prefix(offset) {
            if character == "\n" || character == "\r\n" {
                line += 1
                column = 1
            } else {
                column += character.unicodeScalars.count
            }
        }
        return (line, column)
    }
}

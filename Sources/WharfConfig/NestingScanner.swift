/// Bounds nesting without parsing, skipping quoted text and comments.
///
/// Flow nesting (`[`, `{`) is counted. Block nesting needs at least one more column of
/// indentation (or a `- ` / `? ` indicator) per level, so it is bounded by how far a line's
/// indentation and indicators reach.
enum NestingScanner {
    /// The position where nesting first goes beyond `limit` levels, if it does.
    static func firstPositionDeeper(than limit: Int, in text: String) -> (line: Int, column: Int)? {
        var depth = 0
        var atLineStart = true
        var line = 1
        var column = 0
        var quote: Unicode.Scalar?
        var inComment = false
        var previous: Unicode.Scalar = "\n"
        var lastSignificant: Unicode.Scalar = "\n"
        var escaped = false
        for scalar in text.unicodeScalars {
            column += 1
            defer {
                previous = scalar
                if scalar != " " && scalar != "\t" { lastSignificant = scalar }
            }
            if scalar == "\n" {
                line += 1
                column = 0
                inComment = false
                atLineStart = quote == nil
                continue
            }
            if atLineStart {
                if " \t-?".unicodeScalars.contains(scalar) {
                    if column > 2 * limit { return (line, column) }
                    continue
                }
                atLineStart = false
            }
            if inComment { continue }
            if let open = quote {
                if escaped {
                    escaped = false
                } else if open == "\"" && scalar == "\\" {
                    escaped = true
                } else if scalar == open {
                    quote = nil
                }
                continue
            }
            switch scalar {
            case "#" where previous == " " || previous == "\t" || previous == "\n":
                inComment = true
            case "\"", "'":
                // A quote only opens quoted text where a value can start; inside plain text it is a letter.
                if "\n:,[{-?".unicodeScalars.contains(lastSignificant) { quote = scalar }
            case "[", "{":
                depth += 1
                if depth > limit { return (line, column) }
            case "]", "}":
                depth = max(0, depth - 1)
            default:
                break
            }
        }
        return nil
    }
}

internal import CLibYAML

/// One event of libyaml's parser, copied out of libyaml's memory.
struct YAMLEvent: Sendable {
    /// What the event says.
    enum Kind: Sendable {
        case streamStart
        case streamEnd
        case documentStart
        case documentEnd
        /// `*name`.
        case alias(anchor: String)
        /// A scalar; `tag` as `YAMLNode.tag` has it.
        case scalar(String, YAMLScalarStyle, tag: String, anchor: String?)
        case sequenceStart(tag: String, anchor: String?)
        case sequenceEnd
        case mappingStart(tag: String, anchor: String?)
        case mappingEnd
    }

    /// What the event says.
    var kind: Kind
    /// Where the event's text starts.
    var start: YAMLMark
}

/// libyaml's parser over a UTF-8 buffer, one event at a time.
///
/// The only user of libyaml's C interface. The buffer must outlive the reader, which reads it in
/// place (`YAMLComposer.compose` keeps both inside `withUTF8`).
final class YAMLEventReader {
    /// On the heap: libyaml keeps a pointer to the parser in the parser itself (its string input
    /// handler's data), so it must not move.
    private let parser: UnsafeMutablePointer<yaml_parser_t>
    /// The text the buffer holds, to turn a reader error's byte offset into a character offset.
    private let text: String
    /// A valid address for an empty input, which libyaml does not accept as a null pointer.
    private let empty: UnsafeMutablePointer<UInt8>

    /// Starts parsing `bytes` (the UTF-8 of `text`) and reads the stream's start.
    init(bytes: UnsafeBufferPointer<UInt8>, text: String) throws(YAMLError) {
        self.text = text
        parser = .allocate(capacity: 1)
        parser.initialize(to: yaml_parser_t())
        empty = .allocate(capacity: 1)
        empty.initialize(to: 0)
        // On failure libyaml leaves the parser empty, which `deinit` deletes safely.
        guard yaml_parser_initialize(parser) == 1 else { throw .memory }
        // No encoding is set: libyaml then skips a byte order mark that starts the text, without
        // counting it as a column. A Swift string is UTF-8, and libyaml finds it so (UTF-16 would
        // start with bytes that UTF-8 never has).
        yaml_parser_set_input_string(parser, bytes.baseAddress ?? UnsafePointer(empty), bytes.count)
        _ = try next()
    }

    deinit {
        yaml_parser_delete(parser)
        parser.deallocate()
        empty.deallocate()
    }

    /// Whether libyaml has given the stream's end.
    var streamEndProduced: Bool { parser.pointee.stream_end_produced != 0 }

    /// The next event, or the problem that stops the text being read further.
    func next() throws(YAMLError) -> YAMLEvent {
        var event = yaml_event_t()
        guard yaml_parser_parse(parser, &event) == 1 else { throw error() }
        defer { yaml_event_delete(&event) }
        return YAMLEvent(kind: Self.kind(of: event), start: Self.mark(event.start_mark))
    }

    private static func kind(of event: yaml_event_t) -> YAMLEvent.Kind {
        switch event.type {
        case YAML_STREAM_START_EVENT: return .streamStart
        case YAML_DOCUMENT_START_EVENT: return .documentStart
        case YAML_DOCUMENT_END_EVENT: return .documentEnd
        case YAML_ALIAS_EVENT: return .alias(anchor: string(event.data.alias.anchor) ?? "")
        case YAML_SCALAR_EVENT:
            let scalar = event.data.scalar
            // Scalar text may hold NUL characters (`"\0"`): it is read by its length. A byte order
            // mark that starts it (left where two files were joined) is not part of the value.
            var bytes = UnsafeBufferPointer(start: scalar.value, count: scalar.length)[...]
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
            let value = String(decoding: bytes, as: UTF8.self)
            // A quoted or block scalar without a tag is a string; `!` alone also marks it implicit.
            let tag = scalar.quoted_implicit == 1 ? YAMLTag.string : string(scalar.tag) ?? ""
            return .scalar(value, style(scalar.style), tag: tag, anchor: string(scalar.anchor))
        case YAML_SEQUENCE_START_EVENT:
            let start = event.data.sequence_start
            return .sequenceStart(tag: start.implicit != 0 ? "" : string(start.tag) ?? "", anchor: string(start.anchor))
        case YAML_SEQUENCE_END_EVENT: return .sequenceEnd
        case YAML_MAPPING_START_EVENT:
            let start = event.data.mapping_start
            return .mappingStart(tag: start.implicit != 0 ? "" : string(start.tag) ?? "", anchor: string(start.anchor))
        case YAML_MAPPING_END_EVENT: return .mappingEnd
        // YAML_STREAM_END_EVENT; libyaml gives no other (YAML_NO_EVENT only before parsing).
        default: return .streamEnd
        }
    }

    private static func style(_ style: yaml_scalar_style_t) -> YAMLScalarStyle {
        switch style {
        case YAML_SINGLE_QUOTED_SCALAR_STYLE: return .singleQuoted
        case YAML_DOUBLE_QUOTED_SCALAR_STYLE: return .doubleQuoted
        case YAML_LITERAL_SCALAR_STYLE: return .literal
        case YAML_FOLDED_SCALAR_STYLE: return .folded
        default: return .plain
        }
    }

    private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        pointer.map { String(cString: $0) }
    }

    /// libyaml counts lines and columns from 0.
    private static func mark(_ mark: yaml_mark_t) -> YAMLMark {
        YAMLMark(line: Int(mark.line) + 1, column: Int(mark.column) + 1)
    }

    /// The parser's error, in `YAMLError`'s terms.
    private func error() -> YAMLError {
        let state = parser.pointee
        let problem = state.problem.map { String(cString: $0) } ?? "unknown problem"
        switch state.error {
        case YAML_MEMORY_ERROR:
            return .memory
        case YAML_READER_ERROR:
            return .reader(problem: problem, offset: characterOffset(ofByte: Int(state.problem_offset)))
        default:
            let context = state.context.map {
                YAMLErrorContext(text: String(cString: $0), mark: Self.mark(state.context_mark))
            }
            return .syntax(problem: problem, mark: Self.mark(state.problem_mark), context: context)
        }
    }

    /// The number of characters before the byte at `offset`, if a character starts there.
    private func characterOffset(ofByte offset: Int) -> Int? {
        let utf8 = text.utf8
        guard let byte = utf8.index(utf8.startIndex, offsetBy: offset, limitedBy: utf8.endIndex),
            let character = byte.samePosition(in: text)
        else { return nil }
        return text.distance(from: text.startIndex, to: character)
    }
}

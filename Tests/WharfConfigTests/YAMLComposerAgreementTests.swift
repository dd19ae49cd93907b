import Testing
import WharfCore
import Yams

@testable import WharfConfig

/// The composer against Yams' composer (the YAML library the reader used before) on generated
/// documents, valid and broken: the same nodes, styles, tags and positions, the same errors.
@Suite struct YAMLComposerAgreementTests {
    @Test func composesGeneratedDocumentsAsYamsDoes() {
        var generator = YAMLDocumentGenerator(seed: 16)
        var errors = 0
        for _ in 0..<3_000 {
            let text = generator.document()
            let ours = Result { () throws(YAMLError) in try YAMLComposer.compose(text) }
            let theirs = Result { try Yams.compose(yaml: text, .basic) }
            switch (ours, theirs) {
            case (.success(let document?), .success(let reference?)):
                var budget = 100_000
                #expect(Self.same(document.root, reference, in: document, budget: &budget), "\(text.debugDescription)")
            case (.success(nil), .success(nil)):
                break
            case (.failure(let error), .failure(let reference)):
                errors += 1
                #expect(Self.same(error, reference), "\(text.debugDescription): \(error) vs \(reference)")
            default:
                Issue.record("\(text.debugDescription): \(ours) vs \(theirs)")
            }
        }
        // Both kinds of document were generated.
        #expect(errors > 300)
        #expect(errors < 2_700)
    }

    /// Whether the trees are the same.
    private static func same(_ node: YAMLNode, _ reference: Node, in document: YAMLDocument, budget: inout Int) -> Bool
    {
        budget -= 1
        guard budget > 0 else { return true }
        guard node.mark == YAMLMark(line: reference.mark?.line ?? 0, column: reference.mark?.column ?? 0) else {
            return false
        }
        switch (node.content, reference) {
        case (.scalar(let text, let style), .scalar(let scalar)):
            // Yams' duplicate check resolves the tags of what keys hold in place, wherever an alias
            // shows them again.
            return text == scalar.string && style == Self.style(scalar.style)
                && document.tag(of: node) == scalar.tag.description
        case (.sequence(let items), .sequence(let sequence)):
            return items.count == sequence.count
                && zip(items, sequence).allSatisfy { same($0, $1, in: document, budget: &budget) }
        case (.mapping(let pairs), .mapping(let mapping)):
            return pairs.count == mapping.count
                && zip(pairs, mapping).allSatisfy {
                    same($0.key, $1.key, in: document, budget: &budget)
                        && same($0.value, $1.value, in: document, budget: &budget)
                }
        default:
            return false
        }
    }

    private static func style(_ style: Node.Scalar.Style) -> YAMLScalarStyle {
        switch style {
        case .any, .plain: .plain
        case .singleQuoted: .singleQuoted
        case .doubleQuoted: .doubleQuoted
        case .literal: .literal
        case .folded: .folded
        }
    }

    private static func same(_ error: YAMLError, _ reference: any Error) -> Bool {
        func mark(_ mark: Mark) -> YAMLMark { YAMLMark(line: mark.line, column: mark.column) }
        func errorContext(_ context: YamlError.Context?) -> YAMLErrorContext? {
            context.map { YAMLErrorContext(text: $0.text, mark: mark($0.mark)) }
        }
        switch reference as? YamlError {
        case .scanner(let context, let problem, let problemMark, _)?,
            .parser(let context, let problem, let problemMark, _)?,
            .composer(let context, let problem, let problemMark, _)?:
            return error == .syntax(problem: problem, mark: mark(problemMark), context: errorContext(context))
        case .reader(let problem, let offset, _, _)?:
            return error == .reader(problem: problem, offset: offset)
        case .duplicatedKeysInMapping(let keys, let context)?:
            // Yams names a list or mapping key by a placeholder, and picks among several in
            // hash order; the composer names no text for it.
            guard case .duplicateKey(let key, let first) = error else { return false }
            guard key != nil else { return true }
            return key == keys.first && first == mark(context.mark)
        default:
            return false
        }
    }
}

/// Small YAML documents built from YAML's tricky parts (anchors, aliases, merge keys, block
/// scalars, flow collections, tags, quoting, comments, several documents), a part of them then
/// broken by a few random edits. No byte order mark: Wharf skips one that starts the text,
/// where Yams read it as a character (`YAMLDocumentTests.aByteOrderMarkIsSkipped`).
struct YAMLDocumentGenerator {
    private var random: SplitMix64
    private var anchors = 0

    init(seed: UInt64) { random = SplitMix64(seed: seed) }

    private mutating func pick<T>(_ choices: [T]) -> T {
        choices[Int.random(in: 0..<choices.count, using: &random)]
    }

    private mutating func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &random) < percent }

    mutating func document() -> String {
        anchors = 0
        var text = ""
        if chance(10) { text += "%YAML 1.1\n" }
        if chance(20) || text.hasSuffix("\n") { text += pick(["---\n", "--- \n", "---\n# start\n"]) }
        text += chance(15) ? flow(depth: 0) + "\n" : mapping(indent: 0, depth: 0)
        if chance(10) { text += "...\n" }
        if chance(5) { text += pick(["---\nx: 1\n", "--- 2\n", "---\n"]) }
        return chance(35) ? broken(text) : text
    }

    private mutating func key() -> String {
        if anchors > 0 && chance(3) { return "*a\(Int.random(in: 0..<anchors, using: &random)) " }
        if chance(3) { return "? [k, \(scalar(inFlow: true))]\n" }
        return pick(["a", "b", "c", "'a'", "\"b\"", "<<", "1", "!!int 1", "~", "é", "e\u{301}", "k y", "'x:y'"])
    }

    private mutating func scalar(inFlow: Bool) -> String {
        var text = pick([
            "plain", "two words", "yes", "Off", "~", "null", "0x1F", "1_000", "1:30", ".inf", "-.Inf", ".NaN",
            "'single ''quoted'''", "\"double \\t \\u00e9 \\0\"", "\"a\\\n  b\"", "'multi\n  line'", "\"\"", "''",
            "!!int 5", "!!str 5", "!!float \"1.5\"", "! tagged", "!local x", "😀", "-", "a-b", "2024-05-01",
        ])
        if anchors > 0 && chance(10) { return "*a\(Int.random(in: 0..<anchors, using: &random))" }
        if chance(10) {
            text = "&a\(anchors) " + text
            anchors += 1
        }
        if !inFlow && chance(5) { text += " # comment" }
        return text
    }

    private mutating func blockScalar(indent: Int) -> String {
        let header = pick(["|", ">", "|-", ">+", "|2", ">-"])
        let pad = String(repeating: " ", count: indent + 2)
        let lines = (0..<Int.random(in: 1...3, using: &random)).map { _ in pick(["line", " more", "", "x: y", "# no"]) }
        return header + "\n" + lines.map { $0.isEmpty ? "" : pad + $0 }.joined(separator: "\n") + "\n"
    }

    private mutating func value(indent: Int, depth: Int) -> String {
        let roll = Int.random(in: 0..<100, using: &random)
        if depth < 3 && roll < 20 { return "\n" + mapping(indent: indent + 2, depth: depth + 1) }
        if depth < 3 && roll < 35 { return "\n" + sequence(indent: indent + (chance(50) ? 2 : 0), depth: depth + 1) }
        if roll < 50 { return " " + flow(depth: depth) + "\n" }
        if roll < 58 { return " " + blockScalar(indent: indent) }
        if anchors > 0 && roll < 62 { return " *a\(Int.random(in: 0..<anchors, using: &random))\n" }
        return " " + scalar(inFlow: false) + "\n"
    }

    private mutating func mapping(indent: Int, depth: Int) -> String {
        let pad = String(repeating: " ", count: indent)
        var text = ""
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            let name = key()
            if name.hasPrefix("?") {
                text += pad + name + pad + ":" + value(indent: indent, depth: depth)
            } else {
                text += pad + name + ":" + value(indent: indent, depth: depth)
            }
            if chance(5) { text += pad + "# between\n" }
        }
        return text
    }

    private mutating func sequence(indent: Int, depth: Int) -> String {
        let pad = String(repeating: " ", count: indent)
        var text = ""
        for _ in 0..<Int.random(in: 1...3, using: &random) {
            text += pad + "-" + value(indent: indent, depth: depth)
        }
        return text
    }

    private mutating func flow(depth: Int) -> String {
        let count = Int.random(in: 0...3, using: &random)
        var anchor = ""
        if chance(10) {
            anchor = "&a\(anchors) "
            anchors += 1
        }
        if chance(50) {
            let items = (0..<count).map { _ in depth < 3 && chance(25) ? flow(depth: depth + 1) : scalar(inFlow: true) }
            return anchor + "[" + items.joined(separator: pick([", ", ",", " ,\n  "])) + (chance(10) ? ",]" : "]")
        }
        let members = (0..<count).map { _ in
            pick(["a", "b", "'a'", "<<", "k"]) + ": "
                + (depth < 3 && chance(25) ? flow(depth: depth + 1) : scalar(inFlow: true))
        }
        return anchor + "{" + members.joined(separator: ", ") + "}"
    }

    /// `text` after one to three random insertions or deletions.
    private mutating func broken(_ text: String) -> String {
        var scalars = Array(text.unicodeScalars)
        for _ in 0..<Int.random(in: 1...3, using: &random) {
            let at = Int.random(in: 0...scalars.count, using: &random)
            if chance(70) || scalars.isEmpty {
                let insert = pick([
                    "\t", ":", "- ", "[", "]", "{", "}", ",", " #", "&", "*", "!", "|", ">", "'", "\"", "\n", "  ", "?",
                    "%", "@", "`", "\u{1}", "\u{85}", "\u{2028}", "---", "...", "\\", ": ", "\r",
                ])
                scalars.insert(contentsOf: insert.unicodeScalars, at: at)
            } else {
                scalars.removeSubrange(
                    min(at, scalars.count - 1)..<min(at + Int.random(in: 1...3, using: &random), scalars.count))
            }
        }
        var result = String.UnicodeScalarView()
        result.append(contentsOf: scalars)
        return String(result)
    }
}

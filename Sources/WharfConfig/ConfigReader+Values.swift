/// Typed reads. Keyed reads fall back to the default when the key is absent or empty, and after
/// reporting a wrong value; node reads return `nil` after reporting.
extension ConfigReader {
    /// Text at `key`; numbers and booleans are taken as written.
    public func string(_ key: String, default defaultValue: String) -> String {
        value(key).flatMap { string($0) } ?? defaultValue
    }

    /// Text at `key`, which must be present; reports it as missing with `explanation` otherwise.
    public func requiredString(_ key: String, _ explanation: String) -> String? {
        guard let node = value(key) else {
            reportMissing(key, explanation)
            return nil
        }
        return string(node)
    }

    /// `true` or `false` at `key`.
    public func bool(_ key: String, default defaultValue: Bool) -> Bool {
        value(key).flatMap { bool($0) } ?? defaultValue
    }

    /// A whole number in `range` at `key`.
    public func int(_ key: String, default defaultValue: Int, in range: ClosedRange<Int>) -> Int {
        value(key).flatMap { int($0, in: range) } ?? defaultValue
    }

    /// A duration in `range` at `key`; with `zeroMeans`, 0 is also accepted and means that.
    public func duration(
        _ key: String,
        default defaultValue: Duration,
        in range: PartialRangeFrom<Duration> = .zero...,
        zeroMeans: String? = nil
    ) -> Duration {
        value(key).flatMap { duration($0, in: range, zeroMeans: zeroMeans) } ?? defaultValue
    }

    /// A size in bytes in `range` at `key`; with `zeroMeans`, 0 is also accepted and means that.
    public func size(_ key: String, default defaultValue: Int, in range: ClosedRange<Int>, zeroMeans: String? = nil)
        -> Int
    {
        value(key).flatMap { size($0, in: range, zeroMeans: zeroMeans) } ?? defaultValue
    }

    /// One of the cases of `Choice` at `key`, matched by raw value without regard to case.
    public func choice<Choice: RawRepresentable & CaseIterable>(_ key: String, default defaultValue: Choice) -> Choice
    where Choice.RawValue == String {
        value(key).flatMap { choice($0, as: Choice.self) } ?? defaultValue
    }

    /// The node as text; numbers and booleans are taken as written.
    public func string(_ node: ConfigNode) -> String? {
        switch node.content {
        case .string(let string): return string
        case .bool, .int, .double: return node.quoted
        case .null, .array, .object:
            report("expected text, got \(node.quoted)", at: node)
            return nil
        }
    }

    /// The node as a boolean.
    public func bool(_ node: ConfigNode) -> Bool? {
        if case .bool(let flag) = node.content { return flag }
        let unquoted = ["true", "false", "yes", "no", "on", "off"].contains(node.text?.lowercased() ?? "")
        report(
            "expected true or false, got \(node.quoted)" + (node.isQuoted && unquoted ? "; remove the quotes" : ""),
            at: node
        )
        return nil
    }

    /// The node as a whole number in `range`.
    public func int(_ node: ConfigNode, in range: ClosedRange<Int>) -> Int? {
        let expected = "expected \(Self.describe(range))"
        switch node.content {
        case .int(let number) where range.contains(number):
            return number
        case .string(let text) where node.isQuoted && Int(text) != nil:
            report("\(expected), got \(node.quoted); remove the quotes to make it a number", at: node)
        default:
            report("\(expected), got \(node.quoted)", at: node)
        }
        return nil
    }

    /// The node as a duration: a number of seconds or text such as `500ms`, `10s`, `1h30m`.
    public func duration(_ node: ConfigNode, in range: PartialRangeFrom<Duration> = .zero..., zeroMeans: String? = nil)
        -> Duration?
    {
        let parsed: Duration?
        switch node.content {
        case .int, .double, .string: parsed = node.text.flatMap(ConfigUnits.parseDuration)
        default: parsed = nil
        }
        guard let parsed else {
            report("expected \(ConfigUnits.durationExamples), got \(node.quoted)", at: node)
            return nil
        }
        if range.contains(parsed) || (zeroMeans != nil && parsed == .zero) { return parsed }
        var expected = "a duration of at least \(ConfigUnits.format(range.lowerBound))"
        if let zeroMeans { expected = "0 (\(zeroMeans)) or " + expected }
        report("expected \(expected), got \(node.quoted)", at: node)
        return nil
    }

    /// The node as a size in bytes: a number or text such as `64KiB`, `1MiB`, `1MB`.
    public func size(_ node: ConfigNode, in range: ClosedRange<Int>, zeroMeans: String? = nil) -> Int? {
        let parsed: Int?
        switch node.content {
        case .int(let number): parsed = number >= 0 ? number : nil
        case .string: parsed = node.text.flatMap(ConfigUnits.parseSize)
        default: parsed = nil
        }
        guard let parsed else {
            report("expected \(ConfigUnits.sizeExamples), got \(node.quoted)", at: node)
            return nil
        }
        if range.contains(parsed) || (zeroMeans != nil && parsed == 0) { return parsed }
        var expected =
            "a size from \(ConfigUnits.format(bytes: range.lowerBound)) to \(ConfigUnits.format(bytes: range.upperBound))"
        if let zeroMeans { expected = "0 (\(zeroMeans)) or " + expected }
        report("expected \(expected), got \(node.quoted)", at: node)
        return nil
    }

    /// The node as one of the cases of `Choice`, matched by raw value without regard to case.
    public func choice<Choice: RawRepresentable & CaseIterable>(_ node: ConfigNode, as type: Choice.Type) -> Choice?
    where Choice.RawValue == String {
        let names = Choice.allCases.map(\.rawValue)
        if case .string(let text) = node.content,
            let match = Choice.allCases.first(where: { $0.rawValue.lowercased() == text.lowercased() })
        {
            return match
        }
        var message = "expected one of \(names.joined(separator: ", ")), got \(node.quoted)"
        if let text = node.text, let guess = KeySuggestion.closest(to: text, among: names) {
            message += "; did you mean '\(guess)'?"
        }
        report(message, at: node)
        return nil
    }

    /// "an integer from 1 to 65535", "an integer of at least 0".
    static func describe(_ range: ClosedRange<Int>) -> String {
        if range.upperBound == Int.max { return "an integer of at least \(range.lowerBound)" }
        return "an integer from \(range.lowerBound) to \(range.upperBound)"
    }
}

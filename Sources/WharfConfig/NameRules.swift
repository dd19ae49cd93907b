/// The spelling rules for names and addresses in the configuration.
enum NameRules {
    /// Adapter and listener names: `[a-z0-9_-]+`, so they fit topics, metric labels and file names.
    static func isInstanceName(_ name: String) -> Bool {
        !name.isEmpty
            && name.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-"
            }
    }

    /// Gateway ids: one MQTT topic level without wildcards, kept to a portable character set.
    static func isGatewayID(_ id: String) -> Bool {
        (1...64).contains(id.unicodeScalars.count)
            && id.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
                    || $0 == "." || $0 == "_" || $0 == "-"
            }
    }

    /// An IPv4 literal, an IPv6 literal (with an optional `%zone`) or a DNS host name.
    static func isBindAddress(_ text: String) -> Bool {
        isIPv4(text) || isIPv6(text) || isHostName(text)
    }

    static func isIPv4(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4
            && parts.allSatisfy { part in
                (1...3).contains(part.count) && part.allSatisfy(\.isASCIIDigit) && (Int(part) ?? 256) <= 255
            }
    }

    static func isIPv6(_ text: String) -> Bool {
        var address = Substring(text)
        if let percent = address.firstIndex(of: "%") {
            let zone = address[address.index(after: percent)...]
            guard !zone.isEmpty, zone.allSatisfy({ $0.isASCIILetterOrDigit || "_.-".contains($0) }) else {
                return false
            }
            address = address[..<percent]
        }
        let halves = address.split(separator: "::", omittingEmptySubsequences: false)
        guard halves.count <= 2 else { return false }
        var groups = 0
        for (index, half) in halves.enumerated() where !half.isEmpty {
            let pieces = half.split(separator: ":", omittingEmptySubsequences: false)
            for (position, piece) in pieces.enumerated() {
                let isLast = index == halves.count - 1 && position == pieces.count - 1
                if isLast && isIPv4(String(piece)) {
                    groups += 2
                } else if (1...4).contains(piece.count) && piece.allSatisfy(\.isHexDigit) {
                    groups += 1
                } else {
                    return false
                }
            }
        }
        return halves.count == 2 ? groups < 8 : groups == 8
    }

    static func isHostName(_ text: String) -> Bool {
        guard (1...253).contains(text.count), text.contains(where: \.isASCIILetter) else { return false }
        return text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            (1...63).contains(label.count) && label.first != "-" && label.last != "-"
                && label.allSatisfy { $0.isASCIILetterOrDigit || $0 == "-" }
        }
    }

    /// Whether two listeners on the same port would fight over it: the same address, or a
    /// wildcard and an address of its family.
    static func bindsOverlap(_ lhs: String, _ rhs: String) -> Bool {
        if lhs == rhs { return true }
        for (wildcard, other) in [(lhs, rhs), (rhs, lhs)] {
            if wildcard == "0.0.0.0" && isIPv4(other) { return true }
            if wildcard == "::" && isIPv6(other) { return true }
        }
        return false
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
    fileprivate var isASCIILetter: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
    fileprivate var isASCIILetterOrDigit: Bool { isASCIIDigit || isASCIILetter }
}

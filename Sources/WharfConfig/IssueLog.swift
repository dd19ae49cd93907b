/// Collects the issues of one document, shared by all readers of its tree.
///
/// Unknown keys are held back until the end so that their hints can name keys that belong to
/// other sections ("`max_connections` belongs under `broker`").
final class IssueLog {
    private var issues: [ConfigIssue] = []
    private var unknown: [(member: ConfigMember, parent: String, candidates: [String])] = []
    /// For each key the schema reads, the section paths where it is valid.
    private var placements: [String: [String]] = [:]

    init(issues: [ConfigIssue] = []) {
        self.issues = issues
    }

    func append(_ issue: ConfigIssue) {
        issues.append(issue)
    }

    func known(keys: [String], in parent: String) {
        for key in keys where !(placements[key] ?? []).contains(parent) {
            placements[key, default: []].append(parent)
        }
    }

    func unknownKey(_ member: ConfigMember, in parent: String, candidates: [String]) {
        unknown.append((member, parent, candidates))
    }

    var isEmpty: Bool { issues.isEmpty && unknown.isEmpty }

    /// Every issue, in document order.
    func resolved() -> [ConfigIssue] {
        let all =
            issues
            + unknown.map { member, parent, candidates in
                member.issue(message(forUnknown: member.key, in: parent, candidates: candidates))
            }
        return all.enumerated()
            .sorted { lhs, rhs in
                if ConfigIssue.sourceOrder(lhs.element, rhs.element) { return true }
                if ConfigIssue.sourceOrder(rhs.element, lhs.element) { return false }
                return lhs.offset < rhs.offset
            }
            .map(\.element)
    }

    private func message(forUnknown key: String, in parent: String, candidates: [String]) -> String {
        let place = parent.isEmpty ? "at the top level" : "in '\(parent)'"
        if let match = KeySuggestion.closest(to: key, among: candidates) {
            return "unknown key '\(key)'; did you mean '\(match)'?"
        }
        if let elsewhere = placements[key]?.first(where: { $0 != parent }) {
            return "'\(key)' is not a setting \(place); it belongs in \(describe(section: elsewhere))"
        }
        let others = placements.sorted { $0.key < $1.key }.flatMap { known, parents in
            parents.filter { $0 != parent }.map { (key: known, path: ConfigPath.key(known, in: $0)) }
        }
        if let match = KeySuggestion.closest(to: key, among: others.map(\.key)),
            let path = others.first(where: { $0.key == match })?.path
        {
            return "unknown key '\(key)' \(place); did you mean '\(path)'?"
        }
        let valid = candidates.map { "'\($0)'" }.joined(separator: ", ")
        return "unknown key '\(key)' \(place); the keys here are \(valid)"
    }

    private func describe(section: String) -> String {
        section.isEmpty ? "the top level" : "'\(section)'"
    }
}

/// Whether an MQTT topic filter matches a topic name, for the places that test one filter
/// against stored topics (retained messages) rather than one topic against many filters.
func topicFilter(_ filter: String, matches topic: String) -> Bool {
    if topic.utf8.first == UInt8(ascii: "$"), let first = filter.utf8.first,
        first == UInt8(ascii: "+") || first == UInt8(ascii: "#")
    {
        return false
    }
    var filterLevels = filter.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)[...]
    var topicLevels = topic.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)[...]
    while let level = filterLevels.popFirst() {
        if level.elementsEqual("#".utf8) { return true }
        guard let topicLevel = topicLevels.popFirst() else { return false }
        if level.elementsEqual("+".utf8) { continue }
        if !level.elementsEqual(topicLevel) { return false }
    }
    return topicLevels.isEmpty
}

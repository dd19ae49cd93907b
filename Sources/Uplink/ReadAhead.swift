/// Records fetched from the queue ahead of the window, so that PUBACKs can be answered with the
/// next publishes on the event loop without waiting for a queue read.
struct ReadAhead: Sendable {
    private var items: [UplinkItem] = []
    private var head = 0
    /// The highest sequence fetched; the next queue read starts after it.
    private(set) var fetchedThrough: Int64

    /// Creates an empty read-ahead that fetches after `sequence`.
    init(after sequence: Int64 = 0) {
        fetchedThrough = sequence
    }

    /// Records fetched and not yet taken.
    var count: Int { items.count - head }

    /// Appends fetched records; ones not newer than everything fetched so far are ignored.
    mutating func append(_ fetched: [UplinkItem]) {
        for item in fetched where item.sequence > fetchedThrough {
            items.append(item)
            fetchedThrough = item.sequence
        }
    }

    /// Takes up to `limit` records from the front, in order.
    mutating func take(_ limit: Int) -> ArraySlice<UplinkItem> {
        let end = head + max(0, min(limit, count))
        let taken = items[head..<end]
        head = end
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 4096 {
            items.removeFirst(head)
            head = 0
        }
        return taken
    }

    /// Puts back records taken but not used, in front of the rest (they must be the last ones taken).
    mutating func putBack(_ unused: ArraySlice<UplinkItem>) {
        guard !unused.isEmpty else { return }
        if head >= unused.count {
            head -= unused.count
            items.replaceSubrange(head..<head + unused.count, with: unused)
        } else {
            items.replaceSubrange(0..<head, with: unused)
            head = 0
        }
    }
}

/// The last `capacity` elements appended, oldest first, in fixed memory: the log ring and the
/// history keep their lines and samples in one. Pure; not thread-safe (its owners lock it).
struct BoundedRing<Element> {
    /// How many elements it keeps at most; 0 keeps none.
    let capacity: Int
    private var storage: [Element] = []
    /// Where the oldest element is once the storage is full.
    private var start = 0
    /// Elements pushed out by newer ones (or refused, with capacity 0) since it was made.
    private(set) var dropped = 0

    /// An empty ring; a negative capacity counts as 0.
    init(capacity: Int) {
        self.capacity = max(0, capacity)
        storage.reserveCapacity(min(self.capacity, 1024))
    }

    /// Adds `element` as the newest, pushing out the oldest when full.
    mutating func append(_ element: Element) {
        guard capacity > 0 else {
            dropped += 1
            return
        }
        if storage.count < capacity {
            storage.append(element)
        } else {
            storage[start] = element
            start = (start + 1) % capacity
            dropped += 1
        }
    }

    /// The elements kept, oldest first.
    var elements: [Element] {
        Array(storage[start...] + storage[..<start])
    }

    /// How many elements it holds.
    var count: Int { storage.count }

    /// The newest element, if any.
    var newest: Element? {
        guard !storage.isEmpty else { return nil }
        return storage[(start + storage.count - 1) % storage.count]
    }
}

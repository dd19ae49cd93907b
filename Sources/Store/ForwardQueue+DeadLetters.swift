/// The dead-letter table: records the cloud refused for good, kept (bounded) for the operator.
extension ForwardQueue {
    /// Moves records from the queue to the dead-letter table (each move atomic), then deletes the
    /// oldest dead letters beyond `deadLetterLimits`; returns once committed.
    public func moveToDeadLetters(_ moves: [DeadLetterMove]) async throws(StoreError) {
        guard !moves.isEmpty else { return }
        let result = await withCheckedContinuation {
            (continuation: CheckedContinuation<Result<Void, StoreError>, Never>) in
            database.writer.submit(.deadLetter(moves, deadLetterLimits) { continuation.resume(returning: $0) })
        }
        try result.get()
    }

    /// The newest `limit` dead letters, newest first.
    public func deadLetters(limit: Int) async throws(StoreError) -> [DeadLetterRecord] {
        let result = await withCheckedContinuation {
            (continuation: CheckedContinuation<Result<[DeadLetterRecord], StoreError>, Never>) in
            database.writer.submit(.listDeadLetters(limit: limit) { continuation.resume(returning: $0) })
        }
        return try result.get()
    }

    /// Deletes every dead letter; returns how many there were.
    @discardableResult
    public func clearDeadLetters() async throws(StoreError) -> Int {
        let result = await withCheckedContinuation {
            (continuation: CheckedContinuation<Result<Int, StoreError>, Never>) in
            database.writer.submit(.clearDeadLetters { continuation.resume(returning: $0) })
        }
        return try result.get()
    }
}

import Store

extension Gateway {
    /// Bytes of messages waiting in memory for the store's writer now.
    public var storePendingBytes: Int { database.pendingBytes }

    /// Writes the store refused since start because `storage.max_pending_bytes` were waiting.
    public var storeBacklogRefused: Int { database.refusedForBacklog }
}

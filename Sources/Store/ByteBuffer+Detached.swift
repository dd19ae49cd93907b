import NIOCore

extension ByteBuffer {
    /// The readable bytes in a buffer of their own when this buffer is a slice of a much larger
    /// storage (a message decoded from a socket read shares the read's buffer); `self` otherwise.
    ///
    /// A write waiting for the store holds its payload until the commit. As a slice it would keep
    /// the whole read buffer alive, and what the pending-bytes bounds count would say little about
    /// the memory held: under backpressure each read buffer can end up held by a single message.
    func detached() -> ByteBuffer {
        let length = readableBytes
        guard storageCapacity - length > max(length, 256) else { return self }
        var copy = ByteBufferAllocator().buffer(capacity: length)
        copy.writeImmutableBuffer(self)
        return copy
    }
}

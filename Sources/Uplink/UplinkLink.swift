import MQTTCodec
import NIOCore
import Synchronization

/// One established connection to the cloud broker, shared by the tasks that use it.
final class UplinkLink: Sendable {
    /// How the connection is to end.
    enum Ending: Sendable {
        case failed(UplinkError)
        case stopped
        /// Closed on purpose to go back to the preferred endpoint.
        case failback
    }

    let channel: any Channel
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    let parameters: LinkParameters
    private let ending = Mutex<Ending?>(nil)

    init(channel: any Channel, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, parameters: LinkParameters) {
        self.channel = channel
        self.outbound = outbound
        self.parameters = parameters
    }

    /// Ends the connection with `error` unless it already ends for another reason (the first one wins).
    func fail(_ error: UplinkError) {
        end(.failed(error))
    }

    /// Ends the connection because the service stops.
    func finish() {
        end(.stopped)
    }

    /// Why the connection ended; nil while it has not.
    var outcome: Ending? { ending.withLock { $0 } }

    /// Ends the connection for `reason` unless it already ends for another one (the first one wins).
    func end(_ reason: Ending) {
        let first = ending.withLock { ending -> Bool in
            guard ending == nil else { return false }
            ending = reason
            return true
        }
        // Closing ends the inbound stream, which is what the connection's main task waits on.
        if first { channel.close(promise: nil) }
    }

    /// Encodes `packets` into one buffer; returns it with its size.
    func encode(_ packets: [MQTTPacket]) throws(MQTTEncodeError) -> ByteBuffer {
        var buffer = channel.allocator.buffer(capacity: 64)
        for packet in packets {
            try packet.encode(into: &buffer, version: parameters.version)
        }
        return buffer
    }
}

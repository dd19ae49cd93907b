import NIOCore
import Synchronization

/// Remembers the first error the pipeline reported on one connection.
///
/// A failed TLS handshake closes the channel; the CONNECT written meanwhile then fails with
/// "I/O on closed channel", which says nothing useful. The recorded handshake error does.
final class FirstErrorRecorder: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny

    private let first = Mutex<(any Error)?>(nil)

    /// The first error seen, if any.
    var error: (any Error)? { first.withLock { $0 } }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        first.withLock { first in
            if first == nil { first = error }
        }
        context.fireErrorCaught(error)
    }
}

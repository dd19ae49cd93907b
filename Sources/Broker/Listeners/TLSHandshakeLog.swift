import Logging
import NIOCore
import NIOSSL
import NIOTLS
import Synchronization

/// Logs TLS handshakes a listener's clients fail (an expired or foreign certificate, none where
/// one is required, a client that does not trust the server), at most one line a minute per
/// listener with how many failed since the last line, so that a scanning or misconfigured
/// device cannot flood the journal.
final class TLSHandshakeLog: Sendable {
    private let logger: Logger
    private let throttle = Mutex(LogThrottle(interval: 60_000_000_000))

    init(listener: String, logger: Logger) {
        var logger = logger
        logger[metadataKey: "mqtt.listener"] = "\(listener)"
        self.logger = logger
    }

    /// Notes a failed handshake with `peer`.
    func failed(peer: String, error: any Error) {
        let now = NIODeadline.now().uptimeNanoseconds
        guard let count = throttle.withLock({ $0.occurred(now: now) }) else { return }
        logger.notice(
            "TLS handshake with a client failed (certificate missing, expired or not of ca_file's CA?)",
            metadata: ["mqtt.peer": "\(peer)", "tls.error": "\(error)", "tls.failures": "\(count)"]
        )
    }
}

/// Sits after the `NIOSSLServerHandler` and reports an error before the handshake completed to
/// the listener's ``TLSHandshakeLog``; errors go on down the pipeline either way.
final class TLSHandshakeObserver: ChannelInboundHandler {
    typealias InboundIn = NIOAny

    private let log: TLSHandshakeLog
    private var handshakeDone = false

    init(log: TLSHandshakeLog) {
        self.log = log
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent { handshakeDone = true }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !handshakeDone, error is NIOSSLError || error is BoringSSLError {
            log.failed(peer: context.channel.remoteAddress.map { "\($0)" } ?? "?", error: error)
        }
        context.fireErrorCaught(error)
    }
}

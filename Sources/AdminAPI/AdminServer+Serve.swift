import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore

extension AdminServer {
    /// What every request of the server needs.
    struct Context: Sendable {
        let routes: AdminRoutes
        let events: EventHub
        let access: AdminAccess
        let logger: Logger
        /// Whether the listener takes TLS (then each connection is asked whether it did).
        let tls: Bool
    }

    /// One request: admitted or answered by ``AdminAccess``, then the event stream or the routes;
    /// an action is logged with who did it.
    static func serve(
        _ request: Request, writer: consuming ResponseWriter, channel: any Channel, context: Context
    ) async throws {
        let peer = PeerIdentity(channel.remoteAddress)
        let secure = context.tls ? await isTLS(channel) : false
        let caller: AdminAccess.Caller
        switch await context.access.admit(request, peer: peer, secure: secure) {
        case .answered(var response):
            // A refused request's body is not read: the connection ends after the answer.
            if response.status.code >= 400 && hasBody(request) { response.headers[.connection] = "close" }
            try await writer.write(response: response.head, body: response.body)
            if response.headers[.connection] == "close" { channel.close(promise: nil) }
            return
        case .admitted(let admitted):
            caller = admitted
        }
        let path = request.uri.path
        if path == AdminRoutes.eventsPath {
            let (response, stream) = await eventStream(
                for: request, routes: context.routes, hub: context.events, channel: channel)
            defer { if let stream { context.events.end(stream) } }
            try await writer.write(response: response.head, body: response.body)
            return
        }
        let response = await respond(to: request, routes: context.routes)
        if request.method == .post && AdminRoutes.isActionPath(path) {
            context.logger.notice(
                "admin action \(path) by \(caller.name): \(response.status.code)",
                metadata: [
                    "admin.action": "\(path)", "admin.user": "\(caller.name)", "admin.peer": "\(peer.text)",
                    "http.status": "\(response.status.code)",
                ])
        }
        try await writer.write(response: response.head, body: response.body)
        // A body left unread (too large, or of unknown length) is not drained: the connection
        // ends after the answer, which the writes queued before it carry.
        if response.headers[.connection] == "close" { channel.close(promise: nil) }
    }

    /// Whether `request` announces a body.
    static func hasBody(_ request: Request) -> Bool {
        request.headers[.transferEncoding] != nil || (request.headers[.contentLength].flatMap { Int($0) } ?? 0) > 0
    }
}

import HTTPTypes
import HummingbirdCore
import Metrics
import NIOCore

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension AdminRoutes {
    /// The server-sent events of the installer page (`GET`).
    public static let eventsPath = "\(apiPrefix)/events"

    /// The status document on one line, as the `status` event's data.
    func compactStatus() async -> String {
        let encoder = Self.encoder
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(await provider.status()) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}

extension AdminServer {
    /// The answer to a request for `GET /api/v1/events`, and the stream it opened (which the
    /// caller ends once the answer is written, however that ends). `405` for other methods than
    /// GET and HEAD; `503` when ``EventHub/limit`` streams are open or the server shuts down.
    static func eventStream(
        for request: Request, routes: AdminRoutes, hub: EventHub, channel: (any Channel)?
    ) async -> (response: Response, stream: UInt64?) {
        guard request.method == .get || request.method == .head else {
            var response = Self.response(
                AdminRoutes.Reply(status: 405, contentType: "text/plain", body: "only GET is served\n"))
            response.headers[.allow] = "GET, HEAD"
            return (dated(response), nil)
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream; charset=utf-8"
        headers[.cacheControl] = "no-store"
        if request.method == .head {
            return (dated(Response(status: .ok, headers: headers, body: ResponseBody())), nil)
        }
        let id: UInt64
        let events: AsyncStream<ByteBuffer>
        switch hub.open() {
        case .success(let opened):
            (id, events) = opened
        case .failure(let refusal):
            Counter(label: "wharf_admin_requests_refused_total", dimensions: [("reason", "event-streams")]).increment()
            let body =
                refusal == .full
                ? "too many event streams: \(hub.limit) are open (admin.max_event_streams); close one or try again later\n"
                : hub.limit == 0
                    ? "event streams are off (admin.max_event_streams: 0)\n" : "the server is shutting down\n"
            var response = Self.response(AdminRoutes.Reply(status: 503, contentType: "text/plain", body: body))
            response.headers[.retryAfter] = "5"
            return (dated(response), nil)
        }
        // A client that goes away ends its stream at once (a write would notice only later).
        channel?.closeFuture.whenComplete { _ in hub.end(id) }
        let first = ServerSentEvent.event("status", data: await routes.compactStatus())
        let body = ResponseBody { writer in
            try await writer.write(ByteBuffer(string: first))
            for await chunk in events {
                try await writer.write(chunk)
            }
            try await writer.finish(nil)
        }
        return (dated(Response(status: .ok, headers: headers, body: body)), id)
    }

    static func dated(_ response: Response) -> Response {
        var response = response
        response.headers[.date] = HTTPDate.format(secondsSinceEpoch: Int64(time(nil)))
        return response
    }
}

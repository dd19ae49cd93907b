import HTTPTypes
import HummingbirdCore
import NIOCore

/// The admin page over HTTP: ``AdminRoutes/page(_:ifNoneMatch:)`` as a response.
extension AdminServer {
    /// The answer to a request for `/` or `/ui/...`: GET and HEAD only (405 otherwise).
    static func pageResponse(to request: Request, path: String) -> Response {
        guard request.method == .get || request.method == .head else {
            var response = Self.response(
                AdminRoutes.Reply(status: 405, contentType: "text/plain", body: "only GET is served\n"))
            response.headers[.allow] = "GET, HEAD"
            return response
        }
        let reply = AdminRoutes.page(path, ifNoneMatch: request.headers[.ifNoneMatch])
        var headers = HTTPFields()
        for header in reply.headers {
            if let name = HTTPField.Name(header.name) { headers[name] = header.value }
        }
        return Response(
            status: HTTPResponse.Status(code: reply.status),
            headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: reply.body))
        )
    }
}

/// The admin page: `GET /` and the files under `/ui/`, embedded in the binary (``PageAsset``).
extension AdminRoutes {
    /// Where the page's files are served; `/` serves `index.html`.
    public static let pagePrefix = "/ui/"

    /// The policy every answer of the page carries: scripts, styles, images and requests from
    /// this server alone, nothing inline, no framing, no form posted elsewhere.
    public static let pageSecurityPolicy =
        "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

    /// One answer of the page: status, headers and body.
    public struct PageReply: Sendable, Equatable {
        /// The HTTP status code: 200, 304 (not modified) or 404.
        public var status: Int
        /// The headers, in order, as (name, value).
        public var headers: [Header]
        /// The body; empty for 304.
        public var body: [UInt8]

        /// One header line.
        public struct Header: Sendable, Equatable {
            /// The header's name.
            public var name: String
            /// Its value.
            public var value: String
        }

        /// The value of the header `name` (compared without case), if present.
        public func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }
    }

    /// Whether `path` belongs to the page: `/` or anything under `/ui/` (unknown names answer 404).
    public static func isPagePath(_ path: String) -> Bool {
        path == "/" || path.hasPrefix(pagePrefix)
    }

    /// The answer to `GET path` for a page path, `304` when `ifNoneMatch` names the file's
    /// current entity tag. A name is looked up as a whole among the embedded files, so no
    /// path (`..`, `%2e`, `//`) can reach anything else.
    public static func page(_ path: String, ifNoneMatch: String? = nil) -> PageReply {
        let name = path == "/" ? PageAsset.indexName : String(path.dropFirst(pagePrefix.count))
        guard path == "/" || path.hasPrefix(pagePrefix), let asset = PageAsset.byName[name] else {
            return PageReply(
                status: 404, headers: pageHeaders(contentType: text, etag: nil),
                body: Array("not found\n".utf8))
        }
        let headers = pageHeaders(contentType: asset.contentType, etag: asset.etag)
        if let ifNoneMatch, matches(ifNoneMatch, etag: asset.etag) {
            return PageReply(status: 304, headers: headers, body: [])
        }
        return PageReply(status: 200, headers: headers, body: asset.body)
    }

    /// Whether an `If-None-Match` value (`*`, or a list of tags, weak or strong) names `etag`.
    static func matches(_ ifNoneMatch: String, etag: String) -> Bool {
        ifNoneMatch.split(separator: ",").contains { candidate in
            let tag = candidate.trimmingSpaces
            return tag == "*" || tag == etag || tag == "W/" + etag
        }
    }

    /// The headers of every page answer. `no-cache`: the browser keeps the files but asks each
    /// time whether they changed (a 304 on loopback costs nothing), so an upgraded daemon's page
    /// is never mixed with the previous version's scripts.
    static func pageHeaders(contentType: String, etag: String?) -> [PageReply.Header] {
        var headers = [
            PageReply.Header(name: "Content-Type", value: contentType),
            PageReply.Header(name: "Cache-Control", value: "no-cache"),
        ]
        if let etag { headers.append(PageReply.Header(name: "ETag", value: etag)) }
        headers += [
            PageReply.Header(name: "Content-Security-Policy", value: pageSecurityPolicy),
            PageReply.Header(name: "X-Content-Type-Options", value: "nosniff"),
            PageReply.Header(name: "X-Frame-Options", value: "DENY"),
            PageReply.Header(name: "Referrer-Policy", value: "no-referrer"),
        ]
        return headers
    }
}

extension Substring {
    /// The text without leading and trailing spaces and tabs.
    fileprivate var trimmingSpaces: Substring {
        var text = self
        while text.first == " " || text.first == "\t" { text.removeFirst() }
        while text.last == " " || text.last == "\t" { text.removeLast() }
        return text
    }
}

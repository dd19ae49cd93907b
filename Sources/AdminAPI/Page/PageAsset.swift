/// One file of the admin page (HTML, CSS, JavaScript, an icon), embedded in the binary by
/// `scripts/embed-web.py` from `web/`: the daemon reads no file and needs no bundle to serve it.
public struct PageAsset: Sendable, Equatable {
    /// The file's path under `web/`, such as `main.js`; served at `/ui/NAME`.
    public let name: String
    /// The `Content-Type` it is served with.
    public let contentType: String
    /// The file's bytes.
    public let body: [UInt8]
    /// Its entity tag: a hash of the bytes, so that a browser revalidates instead of downloading
    /// it again while the daemon's version does not change it.
    public let etag: String

    /// Creates an asset from its text (UTF-8).
    init(name: String, contentType: String, text: String) {
        self.name = name
        self.contentType = contentType
        self.body = Array(text.utf8)
        self.etag = "\"\(Self.fnv1a(body))\""
    }

    /// The page's files by name.
    static let byName: [String: PageAsset] = Dictionary(embedded.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })

    /// The file served at `/`.
    static let indexName = "index.html"

    /// The bytes of every file, the page's total weight.
    public static var totalBytes: Int { embedded.reduce(0) { $0 + $1.body.count } }

    /// Every embedded file, sorted by name.
    public static var all: [PageAsset] { embedded }

    /// The 64-bit FNV-1a hash of `bytes` as 16 hex digits: stable across runs and machines, and
    /// enough to tell two versions of a file apart (it guards no secret).
    static func fnv1a(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let digits = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

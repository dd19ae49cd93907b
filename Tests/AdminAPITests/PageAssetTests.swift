import Foundation
import Testing

@testable import AdminAPI

/// The embedded page is the committed `web/` folder, within its weight, and holds nothing the
/// page's Content-Security-Policy would block or that would reach beyond the gateway.
@Suite struct PageAssetTests {
    static let webFolder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("web")

    /// The files under `web/`, by path relative to it.
    static func filesOnDisk() throws -> [String: [UInt8]] {
        var files: [String: [UInt8]] = [:]
        let root = webFolder.standardizedFileURL.path
        let enumerator = try #require(FileManager.default.enumerator(atPath: root))
        while let relative = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            let path = root + "/" + relative
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue
            else { continue }
            files[relative] = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
        }
        return files
    }

    static func text(_ name: String) throws -> String {
        String(decoding: try #require(PageAsset.byName[name]).body, as: UTF8.self)
    }

    /// Fails when web/ changed without `scripts/embed-web.py`.
    @Test func embeddedFilesAreTheWebFolder() throws {
        let disk = try Self.filesOnDisk()
        #expect(!disk.isEmpty)
        #expect(Set(PageAsset.all.map(\.name)) == Set(disk.keys), "run scripts/embed-web.py")
        for asset in PageAsset.all {
            #expect(asset.body == disk[asset.name], "\(asset.name) differs from web/: run scripts/embed-web.py")
        }
    }

    /// The whole page (every file a browser could load) stays under 200 KB.
    @Test func pageWeighsLessThanItsBudget() {
        #expect(PageAsset.totalBytes > 0)
        #expect(PageAsset.totalBytes < 200 * 1024, "the page weighs \(PageAsset.totalBytes) bytes")
    }

    /// Every file the HTML and the scripts name is embedded.
    @Test func everyReferencedFileIsEmbedded() throws {
        let html = try Self.text("index.html")
        let references = html.matches(of: /(?:src|href)="\/ui\/([^"]+)"/).map { String($0.1) }
        #expect(references.contains("main.js") && references.contains("style.css"))
        for name in references {
            #expect(PageAsset.byName[name] != nil, "index.html names /ui/\(name)")
        }
        for asset in PageAsset.all where asset.name.hasSuffix(".js") {
            let text = String(decoding: asset.body, as: UTF8.self)
            for match in text.matches(of: /from "\.\/([^"]+)"/) {
                #expect(PageAsset.byName[String(match.1)] != nil, "\(asset.name) imports ./\(match.1)")
            }
        }
    }

    /// `default-src 'self'` blocks inline scripts, inline styles and event-handler attributes:
    /// the page has none, and loads nothing from another host.
    @Test func nothingInlineNothingRemote() throws {
        let html = try Self.text("index.html")
        #expect(html.matches(of: /<script(?![^>]*\bsrc=)[^>]*>/).isEmpty, "inline script")
        #expect(html.matches(of: /<style\b/).isEmpty, "inline style sheet")
        #expect(html.matches(of: /\sstyle=/).isEmpty, "style attribute")
        #expect(html.matches(of: /\son[a-z]+=/).isEmpty, "event-handler attribute")
        for asset in PageAsset.all {
            let text = String(decoding: asset.body, as: UTF8.self)
            let remote = text.matches(of: /(?:https?:|wss?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}/)
                .map { String($0.0) }
                .filter { $0 != "http://www.w3.org" }
            #expect(remote.isEmpty, "\(asset.name) names \(remote)")
            #expect(!text.contains("javascript:"), "\(asset.name)")
            if asset.name.hasSuffix(".js") {
                #expect(!text.contains("innerHTML") && !text.contains("eval("), "\(asset.name)")
                #expect(!text.contains(".style.") && !text.contains("\"style\""), "\(asset.name) sets inline style")
            }
        }
    }

    /// Content types by extension; entity tags differ between files and are FNV-1a of the bytes.
    @Test func contentTypesAndTags() throws {
        #expect(try #require(PageAsset.byName["index.html"]).contentType == "text/html; charset=utf-8")
        #expect(try #require(PageAsset.byName["style.css"]).contentType == "text/css; charset=utf-8")
        #expect(try #require(PageAsset.byName["main.js"]).contentType == "text/javascript; charset=utf-8")
        #expect(try #require(PageAsset.byName["icon.svg"]).contentType == "image/svg+xml")
        #expect(Set(PageAsset.all.map(\.etag)).count == PageAsset.all.count)
        #expect(PageAsset.fnv1a(Array("a".utf8)) == "af63dc4c8601ec8c")
        #expect(PageAsset.fnv1a([]) == "cbf29ce484222325")
    }
}

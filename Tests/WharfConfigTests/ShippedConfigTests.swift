import Foundation
import Testing
import WharfConfig

/// The shipped `etc/wharf/wharf.yaml` must load, and document the real defaults.
@Suite struct ShippedConfigTests {
    static let shippedFile = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("etc/wharf/wharf.yaml")

    static func shippedText() throws -> String {
        try String(contentsOf: shippedFile, encoding: .utf8)
    }

    @Test func shippedFileLoadsToTheDefaults() throws {
        let configuration = try ConfigLoader.load(yaml: Self.shippedText(), file: "wharf.yaml").get()
        #expect(configuration == .default)
    }

    /// Uncommenting every `#key: value` line must not change anything: the comments show the defaults.
    @Test func everyCommentedOptionShowsItsDefault() throws {
        var uncommented = 0
        let lines = try Self.shippedText().split(separator: "\n", omittingEmptySubsequences: false).map { line in
            guard let hash = line.firstIndex(of: "#"),
                line[..<hash].allSatisfy({ $0 == " " }),
                let next = line[line.index(after: hash)...].first,
                next.isLowercase
            else { return String(line) }
            uncommented += 1
            return String(line[..<hash]) + line[line.index(after: hash)...]
        }
        #expect(uncommented >= 16)
        let configuration = try ConfigLoader.load(yaml: lines.joined(separator: "\n"), file: "wharf.yaml").get()
        #expect(configuration == .default)
    }

    /// The example error at the top of the file is the one Wharf really prints.
    @Test func exampleErrorInTheHeaderIsAccurate() throws {
        let text = try Self.shippedText()
        let broken = text.replacingOccurrences(of: "      port: 1883", with: "      port: 70000")
        let error = try #require(ConfigLoader.load(yaml: broken, file: "wharf.yaml").failureValue)
        #expect(error.issues.count == 1)
        #expect(text.contains("#     \(error.description)\n"))
    }

    @Test func headerSaysHowToCheckTheFile() throws {
        #expect(try Self.shippedText().contains("wharfd --check --config /etc/wharf/wharf.yaml"))
    }
}

/// The `admin:` section of the shipped file, uncommented, gives the admin defaults.
@Suite struct ShippedAdminSectionTests {
    @Test func uncommentedAdminSectionGivesTheDefaults() throws {
        let text = try ShippedConfigTests.shippedText()
        let start = try #require(text.range(of: "\nadmin:\n"))
        let section = text[start.lowerBound...].split(separator: "\n").prefix { !$0.hasPrefix("# ====") }
        let uncommented = section.map { line in
            line.hasPrefix("  #") && !line.hasPrefix("  # ") ? "  " + line.dropFirst(3) : String(line)
        }
        #expect(uncommented.filter { $0.hasPrefix("  ") && !$0.hasPrefix("  #") }.count == 12)
        let configuration = try ConfigLoader.load(yaml: uncommented.joined(separator: "\n"), file: "wharf.yaml").get()
        #expect(configuration.admin == AdminConfig())
        #expect(configuration == .default)
    }
}

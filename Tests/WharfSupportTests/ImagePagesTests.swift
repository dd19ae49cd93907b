import Testing
import WharfSupport

#if canImport(Glibc)
    import Glibc
#endif

/// How many of the pages of this process's executable code are resident (from /proc/self/smaps).
private func residentCodeKiB() -> Int? {
    guard let file = fopen("/proc/self/smaps", "r") else { return nil }
    defer { fclose(file) }
    let executable = readExecutablePath()
    var line = [CChar](repeating: 0, count: 4096)
    var inCode = false
    var total = 0
    while fgets(&line, Int32(line.count), file) != nil {
        let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let fields = text.split(separator: " ", omittingEmptySubsequences: true)
        if let first = fields.first, first.contains("-"), !first.hasSuffix(":") {
            inCode = fields.count >= 6 && fields[1] == "r-xp" && fields[5].hasPrefix(executable)
        } else if inCode, fields.first == "Rss:", fields.count >= 2, let kib = Int(fields[1]) {
            total += kib
        }
    }
    return total
}

private func readExecutablePath() -> String {
    var buffer = [CChar](repeating: 0, count: 4096)
    let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard count > 0 else { return "/" }
    return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

@Suite(.serialized) struct ImagePagesTests {
    @Test func releasesTheExecutablesCodeAndTheCodeStillRuns() throws {
        let before = try #require(residentCodeKiB())
        #expect(before > 0)
        let released = try #require(ImagePages.releaseStartupPages())
        #expect(released > 0)
        // This very test runs from the released pages: code keeps working, mapped back on use.
        let after = try #require(residentCodeKiB())
        #expect(after < before)
        #expect((1...10).reduce(0, +) == 55)
        #expect(try #require(ImagePages.releaseStartupPages()) == released)
    }
}

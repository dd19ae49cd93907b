import Foundation
import Logging
import PropertyBased
import Testing
import WharfConfig

@testable import AdminAPI

@Suite struct BoundedRingTests {
    /// Whatever the capacity and however many elements: the last `capacity` of them, oldest
    /// first, and every other one counted as dropped.
    @Test func keepsTheLastCapacityElementsInOrder() async {
        await propertyCheck(count: 300, input: Gen.int(in: 0...12), Gen.int(in: 0...60)) { capacity, appended in
            var ring = BoundedRing<Int>(capacity: capacity)
            for value in 0..<appended { ring.append(value) }
            let kept = min(capacity, appended)
            #expect(ring.elements == Array((appended - kept)..<appended))
            #expect(ring.count == kept)
            #expect(ring.dropped == appended - kept)
            #expect(ring.newest == (kept > 0 ? appended - 1 : nil))
        }
    }

    @Test func aNegativeCapacityKeepsNothing() {
        var ring = BoundedRing<String>(capacity: -3)
        ring.append("a")
        #expect(ring.capacity == 0 && ring.elements.isEmpty && ring.dropped == 1)
    }
}

@Suite struct LogLineTests {
    @Test func longTextsAreCutAtCharactersWithAMark() {
        let message = String(repeating: "é", count: LogLine.maxMessageBytes)
        let line = LogLine(time: "t", level: "error", label: "wharf.x", message: message, metadata: [:])
        #expect(line.message.utf8.count <= LogLine.maxMessageBytes)
        #expect(line.message.hasSuffix(LogLine.cutMark))
        #expect(line.message.dropLast().allSatisfy { $0 == "é" })
        #expect(LogLine.cut("short", to: 10) == "short")
    }

    /// Whatever is cut, the result fits the bound and begins with the original text.
    @Test func cuttingFitsTheBound() async {
        // ASCII, two-byte, three-byte and four-byte characters, and combining marks.
        let characters: [Character] = ["a", "é", "€", "🚢", "e\u{301}"]
        let text = Gen.int(in: 0...4).map { characters[$0] }.string(of: 0...80)
        await propertyCheck(count: 300, input: text, Gen.int(in: 4...40)) { text, limit in
            let cut = LogLine.cut(text, to: limit)
            #expect(cut.utf8.count <= limit || cut == text)
            #expect(cut == text || text.hasPrefix(String(cut.dropLast())))
        }
    }

    @Test func metadataIsBounded() {
        var metadata: [String: String] = [:]
        for index in 0..<40 { metadata["key.\(index < 10 ? "0" : "")\(index)"] = String(repeating: "v", count: 1000) }
        let line = LogLine(time: "t", level: "warning", label: "l", message: "m", metadata: metadata)
        #expect(line.metadata.count == LogLine.maxMetadataEntries)
        #expect(line.metadata.keys.sorted().first == "key.00")
        #expect(line.metadata.values.allSatisfy { $0.utf8.count <= LogLine.maxValueBytes })
    }
}

@Suite struct LogRingTests {
    static func line(_ message: String, level: String = "warning") -> LogLine {
        LogLine(time: "2026-01-01T00:00:00.000Z", level: level, label: "wharf.test", message: message, metadata: [:])
    }

    @Test func keepsTheLastLinesAndCountsTheRest() {
        let ring = LogRing(capacity: 2)
        for index in 0..<5 { ring.append(Self.line("m\(index)")) }
        let (lines, dropped) = ring.snapshot()
        #expect(lines.map(\.message) == ["m3", "m4"])
        #expect(dropped == 3)
    }

    @Test func capacityZeroKeepsNothing() {
        let ring = LogRing(capacity: 0)
        ring.append(Self.line("m"))
        #expect(ring.snapshot().lines.isEmpty && ring.snapshot().dropped == 0)
    }

    @Test func listenersGetNewLinesAndLeaveWhenDone() async {
        let ring = LogRing(capacity: 4)
        ring.append(Self.line("before"))
        let stream = ring.lines(buffer: 2)
        #expect(ring.listenerCount == 1)
        for index in 0..<3 { ring.append(Self.line("after\(index)")) }
        var iterator = stream.makeAsyncIterator()
        // The buffer keeps the newest two: a listener that lags loses the oldest.
        #expect(await iterator.next()?.message == "after1")
        #expect(await iterator.next()?.message == "after2")
        _ = consume iterator
        _ = consume stream
        #expect(ring.listenerCount == 0)
    }

    /// The handler keeps warning, error and critical lines, with their metadata; lines below
    /// warning never reach the ring.
    @Test func theHandlerFeedsWarningsAndWorse() {
        let ring = LogRing(capacity: 10)
        let levels = LogLevels(LogConfig(level: .trace))
        var logger = Logger(label: "wharf.ringtest") { WharfLogHandler(label: $0, levels: levels, ring: ring) }
        logger[metadataKey: "mqtt.client_id"] = "dev-1"
        logger.trace("t")
        logger.debug("d")
        logger.info("i")
        logger.notice("n")
        logger.warning("w", metadata: ["reason": "quota"])
        logger.error("e")
        logger.critical("c")
        let lines = ring.snapshot().lines
        #expect(lines.map(\.level) == ["warning", "error", "critical"])
        #expect(lines.map(\.message) == ["w", "e", "c"])
        #expect(lines.first?.metadata == ["mqtt.client_id": "dev-1", "reason": "quota"])
        #expect(lines.first?.label == "wharf.ringtest")
        #expect(lines.first?.time.count == 24)
    }

    @Test func theDocumentHasTheContractsKeys() throws {
        let ring = LogRing(capacity: 1)
        ring.append(LogLine(time: "T", level: "error", label: "wharf.x", message: "m", metadata: ["a.bC": "v"]))
        ring.append(LogLine(time: "T2", level: "critical", label: "wharf.x", message: "m2", metadata: [:]))
        let reply = AdminRoutes(provider: FakeProvider(), registry: testRegistry, logs: ring).logLines()
        #expect(reply.status == 200 && reply.contentType == "application/json")
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any])
        #expect(document["capacity"] as? Int == 1)
        #expect(document["dropped"] as? Int == 1)
        let lines = try #require(document["lines"] as? [[String: Any]])
        #expect(lines.count == 1)
        #expect(Set(lines[0].keys) == ["time", "level", "label", "message", "metadata"])
        #expect(lines[0]["level"] as? String == "critical")

        let none = AdminRoutes(provider: FakeProvider(), registry: testRegistry).logLines()
        #expect(none.body.contains("\"capacity\" : 0") && none.body.contains("\"lines\" : ["))
    }

    @Test func metadataKeysAreNotRewritten() {
        let ring = LogRing(capacity: 1)
        ring.append(LogLine(time: "T", level: "error", label: "l", message: "m", metadata: ["mqtt.clientID": "v"]))
        let reply = AdminRoutes(provider: FakeProvider(), registry: testRegistry, logs: ring).logLines()
        #expect(reply.body.contains("\"mqtt.clientID\""))
    }
}

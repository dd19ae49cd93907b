import NIOCore
import PropertyBased
import Synchronization
import Testing

@testable import AdminAPI

@Suite struct ServerSentEventTests {
    @Test func anEventIsNameDataLinesAndABlankLine() {
        #expect(ServerSentEvent.event("status", data: "{\"a\":1}") == "event: status\ndata: {\"a\":1}\n\n")
        #expect(
            ServerSentEvent.event("log", data: "a\nb\r\nc\rd") == "event: log\ndata: a\ndata: b\ndata: c\ndata: d\n\n")
        #expect(ServerSentEvent.comment("keep-alive") == ": keep-alive\n\n")
    }

    /// Whatever the data, the event parses back (as a browser's EventSource does) to one event of
    /// that name whose data is the original with its line breaks made line feeds.
    @Test func dataCannotEndTheEventOrAddAField() async {
        let pieces: [String] = ["a", "{", "\n", "\r", "\r\n", "\n\n", "event: x", "data: y", "id: 1", ":", " ", "é"]
        let text = Gen.int(in: 0...(pieces.count - 1)).map { pieces[$0] }.array(of: 0...30).map { $0.joined() }
        await propertyCheck(count: 400, input: text) { data in
            let events = Self.parse(ServerSentEvent.event("log", data: data))
            #expect(events.count == 1)
            #expect(events.first?.name == "log")
            #expect(events.first?.data == Self.lineFeeds(data))
        }
    }

    /// `text` with CR LF and CR made LF, scalar by scalar (as the standard's parser reads it).
    static func lineFeeds(_ text: String) -> String {
        var result = String.UnicodeScalarView()
        var previousWasCR = false
        for scalar in text.unicodeScalars {
            if scalar == "\n" && previousWasCR {
                previousWasCR = false
                continue
            }
            previousWasCR = scalar == "\r"
            result.append(scalar == "\r" ? "\n" : scalar)
        }
        return String(result)
    }

    /// The event stream parser of the HTML Living Standard (§9.2.6), for `event` and `data`.
    static func parse(_ stream: String) -> [(name: String, data: String)] {
        var events: [(name: String, data: String)] = []
        var name = ""
        var data: [String] = []
        var sawData = false
        for line in ServerSentEvent.lines(of: stream) {
            if line.isEmpty {
                if sawData { events.append((name.isEmpty ? "message" : name, data.joined(separator: "\n"))) }
                name = ""
                data = []
                sawData = false
                continue
            }
            if line.hasPrefix(":") { continue }
            let field: Substring
            var value: Substring = ""
            if let colon = line.firstIndex(of: ":") {
                field = line[..<colon]
                value = line[line.index(after: colon)...]
                if value.hasPrefix(" ") { value = value.dropFirst() }
            } else {
                field = line
            }
            switch field {
            case "event": name = String(value)
            case "data":
                data.append(String(value))
                sawData = true
            default: break
            }
        }
        return events
    }
}

@Suite struct EventHubTests {
    @Test func atMostLimitStreamsAndAPlaceIsFreedWhenOneEnds() throws {
        let hub = EventHub(limit: 2)
        let first = try hub.open().get()
        let second = try hub.open().get()
        #expect(hub.open().failureValue == .full)
        #expect(hub.count == 2)
        hub.end(first.id)
        #expect(hub.count == 1)
        let third = try hub.open().get()
        #expect(third.id != first.id && third.id != second.id)
    }

    @Test func aStreamWhoseReaderGoesAwayFreesItsPlace() throws {
        let hub = EventHub(limit: 1)
        do {
            let opened = try hub.open().get()
            #expect(hub.count == 1)
            _ = opened
        }
        // Dropping the stream terminates it.
        #expect(hub.count == 0)
        #expect((try? hub.open().get()) != nil)
    }

    @Test func closingEndsEveryStreamAndRefusesNewOnes() async throws {
        let hub = EventHub(limit: 4)
        let opened = try hub.open().get()
        hub.broadcast("event: status\ndata: {}\n\n")
        hub.close()
        var received: [String] = []
        for await chunk in opened.events { received.append(String(buffer: chunk)) }
        #expect(received == ["event: status\ndata: {}\n\n"], "what was sent before is still delivered")
        #expect(hub.count == 0)
        #expect(hub.open().failureValue == .closed)
        #expect(EventHub(limit: 0).open().failureValue == .closed)
    }

    @Test func aSlowReaderLosesTheOldestEventsOnly() async throws {
        let hub = EventHub(limit: 1)
        let opened = try hub.open().get()
        for index in 0..<(EventHub.buffer + 10) { hub.broadcast("\(index)") }
        hub.end(opened.id)
        var received: [String] = []
        for await chunk in opened.events { received.append(String(buffer: chunk)) }
        #expect(received.count == EventHub.buffer)
        #expect(received.last == "\(EventHub.buffer + 9)")
    }

    /// Status every 2 s, keep-alive every 15 s, log lines and samples as they come; nothing read
    /// while no stream is open; everything stops when the run is cancelled.
    @Test func theRunProducesEachKindOfEvent() async throws {
        let clock = ManualClock()
        let hub = EventHub(limit: 2)
        let logs = LogRing(capacity: 4)
        let history = History(interval: .seconds(10))
        let statusReads = Atomic<Int>(0)
        let run = Task {
            await hub.run(clock: clock, logs: logs, history: history) {
                statusReads.add(1, ordering: .relaxed)
                return "{\"ok\":true}"
            }
        }
        #expect(await clock.waitForSleepers(2))
        for _ in 0..<200 where logs.listenerCount == 0 || history.listenerCount == 0 {
            try await Task.sleep(for: .milliseconds(5))
        }
        clock.advance(by: .seconds(2))
        #expect(await clock.waitForSleepers(2))
        #expect(statusReads.load(ordering: .relaxed) == 0, "no stream, no status read")

        let opened = try hub.open().get()
        var events = opened.events.makeAsyncIterator()
        clock.advance(by: .seconds(2))
        #expect(await events.next().map { String(buffer: $0) } == "event: status\ndata: {\"ok\":true}\n\n")
        logs.append(LogLine(time: "T", level: "error", label: "wharf.x", message: "boom", metadata: [:]))
        let log = await events.next().map { String(buffer: $0) }
        #expect(log?.hasPrefix("event: log\ndata: {") == true)
        #expect(log?.contains("\"message\":\"boom\"") == true)
        history.record(HistoryCounters(), at: .seconds(10), wallMilliseconds: 0)
        let sample = await events.next().map { String(buffer: $0) }
        #expect(sample?.hasPrefix("event: sample\ndata: {\"connected_clients\":0,") == true)
        #expect(await clock.waitForSleepers(2))
        clock.advance(by: .seconds(11))  // 15 s in all since start: the keep-alive, and statuses
        var kinds: [String] = []
        for _ in 0..<6 {
            guard let next = await events.next().map({ String(buffer: $0) }) else { break }
            kinds.append(next.hasPrefix(":") ? "keep-alive" : "status")
            if next.hasPrefix(":") { break }
        }
        #expect(kinds.contains("keep-alive"))
        run.cancel()
        await run.value
        #expect(logs.listenerCount == 0 && history.listenerCount == 0)
        #expect(clock.sleeping == 0)
    }
}

extension Result {
    var failureValue: Failure? {
        if case .failure(let failure) = self { return failure }
        return nil
    }
}

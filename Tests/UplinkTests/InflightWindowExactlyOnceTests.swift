import MQTTCodec
import NIOCore
import PropertyBased
import Testing
import WharfCore

@testable import Uplink

@Suite struct InflightWindowExactlyOnceTests {
    @Test func aQoS2RecordGoesAtQoS2AndBelongsToTheServerFromItsPubRec() throws {
        var window = InflightWindow(maxInflight: 10, exactlyOnce: true)
        window.connected(link())
        let batch = window.admit([record(1, qos: .exactlyOnce), record(2)], now: 0)
        #expect(batch.publishes.map(\.qos) == [.exactlyOnce, .atLeastOnce])
        let identifier = try #require(batch.publishes.first?.packetIdentifier)
        #expect(InflightWindow.exactlyOnceIdentifiers.contains(identifier))
        #expect(!InflightWindow.exactlyOnceIdentifiers.contains(batch.identifiers[1]))
        // A PUBACK is not the answer to a QoS 2 publish, and a PUBREC not to a QoS 1 one.
        #expect(window.received(batch.identifiers[1]) == .unknown)

        #expect(window.received(identifier) == .record(1))
        #expect(window.received(identifier) == .unknown)
        #expect(window.unacknowledged == [2])
        let release = window.takeResends(now: 0)
        #expect(release.releases == [identifier] && release.publishes.isEmpty)
        // The flow occupies its place in the window until PUBCOMP.
        #expect(window.inFlight == 2)
        #expect(window.takeResends(now: 0).releases.isEmpty)
        let completed = window.complete(identifier)
        let completedAgain = window.complete(identifier)
        #expect(completed && !completedAgain)
        #expect(window.inFlight == 1 && window.pendingCompletions == 0)
    }

    @Test func aRecordUnansweredAtQoS2IsResentWithDupUnderItsIdentifierOnAResumedSession() throws {
        var window = InflightWindow(maxInflight: 10)
        window.connected(link())
        let first = try #require(window.admit([record(1, qos: .exactlyOnce)], now: 0).publishes.first)
        window.disconnected()
        window.connected(link(sessionPresent: true))
        let again = try #require(window.takeResends(now: 0).publishes.first)
        #expect(again.packetIdentifier == first.packetIdentifier && again.qos == .exactlyOnce && again.dup)
        // On a server that now grants only QoS 1 it goes at QoS 1, still under the same identifier.
        window.disconnected()
        window.connected(link(sessionPresent: true, maximumQoS: .atLeastOnce))
        let downgraded = try #require(window.takeResends(now: 0).publishes.first)
        #expect(downgraded.packetIdentifier == first.packetIdentifier && downgraded.qos == .atLeastOnce)
        #expect(window.acknowledge(try #require(first.packetIdentifier)) == .record(1))
    }

    @Test func aReleaseIsRepeatedOnAResumedSessionAndForgottenOnANewOne() throws {
        var window = InflightWindow(maxInflight: 10)
        window.connected(link())
        let identifier = try #require(window.admit([record(1, qos: .exactlyOnce)], now: 0).identifiers.first)
        #expect(window.received(identifier) == .record(1))
        #expect(window.takeResends(now: 0).releases == [identifier])
        window.disconnected()
        window.connected(link(sessionPresent: true))
        // Without QoS 2 forward rules only the window's own release is repeated.
        #expect(window.takeResends(now: 0).releases == [identifier])
        window.disconnected()
        window.connected(link(sessionPresent: false))
        #expect(window.takeResends(now: 0).releases.isEmpty)
        #expect(window.pendingCompletions == 0 && window.inFlight == 0)
        let stray = window.complete(identifier)
        #expect(!stray)
    }

    @Test func aResumedSessionReleasesEveryQoS2IdentifierTheWindowDoesNotHoldBeforeAnyPublish() throws {
        var window = InflightWindow(maxInflight: 10, exactlyOnce: true)
        window.connected(link(sessionPresent: true))
        let first = window.takeResends(now: 0)
        #expect(first.releases == Array(InflightWindow.exactlyOnceIdentifiers))
        // QoS 1 records go out at once; a QoS 2 record waits for a free identifier of the range, since
        // each stays busy until its PUBCOMP, and stale releases take no room in the window.
        #expect(window.admit([record(1)], now: 0).publishes.count == 1)
        #expect(window.admit([record(2, qos: .exactlyOnce)], now: 0).publishes.isEmpty)
        #expect(window.pendingCompletions == InflightWindow.exactlyOnceIdentifiers.count && window.inFlight == 1)
        var completed = 0
        for identifier in first.releases where window.complete(identifier) { completed += 1 }
        #expect(completed == InflightWindow.exactlyOnceIdentifiers.count && window.pendingCompletions == 0)
        let batch = window.admit([record(2, qos: .exactlyOnce)], now: 0)
        #expect(batch.publishes.map(\.qos) == [.exactlyOnce])
        // A server that grants only QoS 1 is sent no releases.
        var other = InflightWindow(maxInflight: 10, exactlyOnce: true)
        other.connected(link(sessionPresent: true, maximumQoS: .atLeastOnce))
        #expect(other.takeResends(now: 0).releases.isEmpty)
    }

    @Test func aPubRecWithAFailureCodeEndsTheFlowLikeAPubAck() throws {
        var window = InflightWindow(maxInflight: 10)
        window.connected(link())
        let identifiers = window.admit([record(1, qos: .exactlyOnce), record(2, qos: .exactlyOnce)], now: 0)
            .identifiers
        // Transient: the record is sent again as a new PUBLISH (no DUP), ahead of newer records.
        #expect(window.refuse(identifiers[0]) == 1)
        let again = try #require(window.takeResends(now: 0).publishes.first)
        #expect(again.qos == .exactlyOnce && !again.dup)
        // Permanent: the record leaves the window (for the dead letters) and its identifier is free.
        #expect(window.acknowledge(identifiers[1]) == .record(2))
        #expect(!window.isOutstanding(identifiers[1]))
    }

    /// The server's side of QoS 2 as the property below models it.
    private struct Server {
        /// QoS 2 identifiers received and not yet released, with the record each carried.
        var held: [UInt16: Int64] = [:]
        var delivered: [Int64] = []
        /// New messages the server took for retransmissions of another and discarded.
        var discarded: [Int64] = []
        /// Answers in flight to the client, lost when the connection drops.
        var answers: [PublishAnswerModel] = []

        enum PublishAnswerModel { case pubAck(UInt16), pubRec(UInt16), pubComp(UInt16) }

        mutating func process(_ batch: InflightWindow.Batch) {
            for identifier in batch.releases {
                held[identifier] = nil
                answers.append(.pubComp(identifier))
            }
            for packet in batch.publishes {
                let sequence = Int64(String(buffer: packet.payload)) ?? -1
                guard let identifier = packet.packetIdentifier else {
                    delivered.append(sequence)
                    continue
                }
                if packet.qos == .exactlyOnce {
                    if let earlier = held[identifier] {
                        if earlier != sequence { discarded.append(sequence) }
                    } else {
                        held[identifier] = sequence
                        delivered.append(sequence)
                    }
                    answers.append(.pubRec(identifier))
                } else {
                    delivered.append(sequence)
                    answers.append(.pubAck(identifier))
                }
            }
        }
    }

    @Test func restartsAndReconnectsNeverMakeTheServerDiscardANewQoS2Message() async {
        // Each step: 0 send, 1 deliver answers, 2 reconnect, 3 restart the client (a new window).
        let steps = zip(Gen.int(in: 0...3), Gen.int(in: 0...1000), Gen.bool).array(of: 1...120)
        await propertyCheck(count: 150, input: steps) { steps in
            let total: Int64 = 40
            var queue = Set(1...total)
            var server = Server()
            var window = InflightWindow(maxInflight: 6, exactlyOnce: true)
            window.connected(link())
            func item(_ sequence: Int64) -> UplinkItem {
                record(sequence, qos: sequence.isMultiple(of: 3) ? .atLeastOnce : .exactlyOnce)
            }
            func send() {
                server.process(window.takeResends(now: 0))
                let limit = window.readLimit(batch: 4)
                guard limit > 0 else { return }
                let next = queue.filter { $0 > window.lastRead }.sorted().prefix(limit)
                server.process(window.admit(next.map(item), now: 0))
            }
            func answer(_ count: Int) {
                for answer in server.answers.prefix(count) {
                    switch answer {
                    case .pubAck(let identifier):
                        if case .record(let sequence) = window.acknowledge(identifier) { queue.remove(sequence) }
                    case .pubRec(let identifier):
                        if case .record(let sequence) = window.received(identifier) { queue.remove(sequence) }
                    case .pubComp(let identifier):
                        _ = window.complete(identifier)
                    }
                }
                server.answers.removeFirst(min(count, server.answers.count))
            }
            func reconnect(keepingSession: Bool) {
                server.answers.removeAll()
                if !keepingSession { server.held.removeAll() }
                window.disconnected()
                window.connected(link(sessionPresent: keepingSession))
            }
            for (kind, pick, keep) in steps {
                switch kind {
                case 0: send()
                case 1: answer(pick % 8 + 1)
                case 2: reconnect(keepingSession: keep)
                default:
                    server.answers.removeAll()
                    if !keep { server.held.removeAll() }
                    window = InflightWindow(maxInflight: 6, exactlyOnce: true)
                    window.connected(link(sessionPresent: keep))
                }
                #expect(window.inFlight <= window.capacity)
            }
            reconnect(keepingSession: true)
            var rounds = 0
            while (!queue.isEmpty || window.inFlight > 0 || window.pendingCompletions > 0) && rounds < 10_000 {
                send()
                answer(Int.max)
                rounds += 1
            }
            #expect(server.discarded.isEmpty)
            #expect(queue.isEmpty)
            #expect(Set(server.delivered) == Set(1...total))
        }
    }
}

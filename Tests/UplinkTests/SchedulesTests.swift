import MQTTCodec
import PropertyBased
import Testing
import WharfCore

@testable import Uplink

@Suite struct ReconnectScheduleTests {
    @Test func delaysStayWithinTheCeilingAndCeilingsDouble() {
        let policy = BackoffPolicy(base: .milliseconds(50), cap: .milliseconds(400), stableAfter: .seconds(1))
        var schedule = ReconnectSchedule(policy: policy, seed: 42)
        var ceilings: [Duration] = []
        for _ in 0..<8 {
            let ceiling = schedule.ceiling
            ceilings.append(ceiling)
            let delay = schedule.nextDelay()
            #expect(delay >= .zero && delay <= ceiling)
        }
        #expect(ceilings == [50, 100, 200, 400, 400, 400, 400, 400].map { Duration.milliseconds($0) })
    }

    @Test func theSameSeedGivesTheSameSchedule() {
        var first = ReconnectSchedule(policy: .standard, seed: 7)
        var second = ReconnectSchedule(policy: .standard, seed: 7)
        var third = ReconnectSchedule(policy: .standard, seed: 8)
        let a = (0..<10).map { _ in first.nextDelay() }
        let b = (0..<10).map { _ in second.nextDelay() }
        let c = (0..<10).map { _ in third.nextDelay() }
        #expect(a == b)
        #expect(a != c)
    }

    @Test func aStableLinkStartsAgainFromTheBase() {
        let policy = BackoffPolicy(base: .seconds(1), cap: .seconds(120), stableAfter: .seconds(30))
        var schedule = ReconnectSchedule(policy: policy, seed: 1)
        for _ in 0..<5 { _ = schedule.nextDelay() }
        #expect(schedule.ceiling == .seconds(32))
        // Up for 10 s only: a flapping link keeps backing off.
        schedule.connected(at: 0)
        schedule.disconnected(at: 10_000_000_000)
        #expect(schedule.attempt == 5)
        schedule.connected(at: 20_000_000_000)
        schedule.disconnected(at: 50_000_000_000)
        #expect(schedule.attempt == 0)
        #expect(schedule.ceiling == .seconds(1))
    }

    @Test func anyPolicyAndSeedKeepsDelaysWithinTheirCeilings() async {
        let input = zip(Gen.int(in: 1...5_000), Gen.int(in: 1...60_000), Gen.uint64(in: 0...UInt64.max))
        await propertyCheck(count: 200, input: input) { base, cap, seed in
            let policy = BackoffPolicy(base: .milliseconds(base), cap: .milliseconds(cap))
            var schedule = ReconnectSchedule(policy: policy, seed: seed)
            for _ in 0..<40 {
                let ceiling = schedule.ceiling
                #expect(ceiling <= policy.cap)
                let delay = schedule.nextDelay()
                #expect(delay >= .zero && delay <= ceiling)
            }
        }
    }
}

@Suite struct KeepAliveScheduleTests {
    let second: UInt64 = 1_000_000_000

    @Test func zeroDisablesKeepAlive() {
        #expect(KeepAliveSchedule(keepAlive: 0, now: 0).action(at: 1_000 * second) == .disabled)
    }

    @Test func pingsAfterThreeQuartersOfQuiet() {
        var schedule = KeepAliveSchedule(keepAlive: 60, now: 0)
        #expect(schedule.action(at: 10 * second) == .sleep(until: 45 * second))
        schedule.sent(at: 30 * second)
        #expect(schedule.action(at: 50 * second) == .sleep(until: 75 * second))
        #expect(schedule.action(at: 75 * second) == .ping)
    }

    @Test func aSilentServerTimesOutAfterOneInterval() {
        var schedule = KeepAliveSchedule(keepAlive: 10, now: 0)
        schedule.pinged(at: 8 * second)
        #expect(schedule.action(at: 9 * second) == .sleep(until: 18 * second))
        #expect(schedule.action(at: 18 * second) == .timeout)
    }

    @Test func anyPacketFromTheServerClearsThePing() {
        var schedule = KeepAliveSchedule(keepAlive: 10, now: 0)
        schedule.pinged(at: 8 * second)
        schedule.received()
        #expect(schedule.pingSentAt == nil)
        #expect(schedule.action(at: 18 * second) == .ping)
    }

    @Test func sendingNeverMovesBackwards() {
        var schedule = KeepAliveSchedule(keepAlive: 10, now: 5 * second)
        schedule.sent(at: 2 * second)
        #expect(schedule.lastSent == 5 * second)
    }
}

@Suite struct LinkParametersTests {
    @Test func mqtt311UsesDefaults() {
        let connect = ConnectPacket(protocolVersion: .v311, clientIdentifier: "gw1", keepAlive: 30)
        let connAck = ConnAckPacket(sessionPresent: true, reasonCode: 0)
        let parameters = LinkParameters(connect: connect, connAck: connAck)
        #expect(parameters.sessionPresent)
        #expect(parameters.receiveMaximum == 65_535)
        #expect(parameters.keepAlive == 30)
        #expect(parameters.clientIdentifier == "gw1")
        #expect(parameters.maximumPacketSize == MQTTPacket.maximumSize)
        #expect(parameters.windowCapacity(maxInflight: 100) == 100)
        // A 3.1.1 server cannot say it handles QoS 2: records go at QoS 1 at most.
        #expect(parameters.maximumQoS == .atLeastOnce)
        let v5 = LinkParameters(
            connect: ConnectPacket(protocolVersion: .v5, clientIdentifier: "gw1", keepAlive: 30), connAck: connAck)
        #expect(v5.maximumQoS == .exactlyOnce)
    }

    @Test func mqtt5HonoursTheServersLimits() {
        let connect = ConnectPacket(protocolVersion: .v5, clientIdentifier: "", keepAlive: 60)
        let properties = MQTTProperties(
            assignedClientIdentifier: "auto-1", serverKeepAlive: 20, receiveMaximum: 20, topicAliasMaximum: 10,
            maximumQoS: 1, retainAvailable: 0, maximumPacketSize: 1024)
        let parameters = LinkParameters(connect: connect, connAck: ConnAckPacket(properties: properties))
        #expect(parameters.receiveMaximum == 20)
        #expect(parameters.windowCapacity(maxInflight: 100) == 20)
        #expect(parameters.windowCapacity(maxInflight: 5) == 5)
        #expect(parameters.keepAlive == 20)
        #expect(parameters.clientIdentifier == "auto-1")
        #expect(parameters.topicAliasMaximum == 10)
        #expect(parameters.maximumQoS == .atLeastOnce)
        #expect(!parameters.retainAvailable)
        #expect(parameters.maximumPacketSize == 1024)
    }

    @Test func zeroLimitsAreIgnored() {
        let connect = ConnectPacket(protocolVersion: .v5, clientIdentifier: "gw")
        let properties = MQTTProperties(receiveMaximum: 0, maximumPacketSize: 0)
        let parameters = LinkParameters(connect: connect, connAck: ConnAckPacket(properties: properties))
        #expect(parameters.receiveMaximum == 65_535)
        #expect(parameters.maximumPacketSize == MQTTPacket.maximumSize)
    }
}

@Suite struct RateMeterTests {
    let second: UInt64 = 1_000_000_000

    @Test func measuresOverAboutASecond() {
        var meter = RateMeter()
        #expect(meter.rate(at: 0) == 0)
        meter.record(total: 0, at: 0)
        meter.record(total: 500, at: second / 2)
        #expect(meter.rate(at: second / 2) == 0)
        meter.record(total: 2_000, at: 2 * second)
        #expect(meter.rate(at: 2 * second) == 1_000)
    }

    @Test func decaysWhenNothingHappens() {
        var meter = RateMeter()
        meter.record(total: 0, at: 0)
        meter.record(total: 1_000, at: second)
        #expect(meter.rate(at: second) == 1_000)
        #expect(meter.rate(at: 5 * second) == 0)
    }
}

import NIOCore
import PropertyBased
import Testing

@testable import AdminAPI

@Suite struct PeerIdentityTests {
    @Test func loopbackAndRemoteAddresses() throws {
        let local = PeerIdentity(try SocketAddress(ipAddress: "127.0.0.1", port: 5000))
        #expect(local.isLoopback && local.throttleKey == "127.0.0.1" && local.text == "127.0.0.1")
        #expect(PeerIdentity(try SocketAddress(ipAddress: "127.45.0.9", port: 1)).isLoopback)
        #expect(PeerIdentity(try SocketAddress(ipAddress: "::1", port: 1)).isLoopback)
        let lan = PeerIdentity(try SocketAddress(ipAddress: "192.168.1.20", port: 1))
        #expect(!lan.isLoopback && lan.throttleKey == "192.168.1.20")
        #expect(!PeerIdentity(try SocketAddress(ipAddress: "128.0.0.1", port: 1)).isLoopback)
        #expect(!PeerIdentity(nil).isLoopback)
    }

    /// An IPv6 host usually holds a whole /64: its failed logins count together.
    @Test func ipv6PeersAreCountedPerSlash64() throws {
        let one = PeerIdentity(try SocketAddress(ipAddress: "2001:db8:1:2::7", port: 1))
        let other = PeerIdentity(try SocketAddress(ipAddress: "2001:db8:1:2:ffff::1", port: 1))
        let elsewhere = PeerIdentity(try SocketAddress(ipAddress: "2001:db8:1:3::7", port: 1))
        #expect(!one.isLoopback)
        #expect(one.throttleKey == other.throttleKey)
        #expect(one.throttleKey != elsewhere.throttleKey)
        #expect(one.throttleKey == "20010db800010002/64")
    }

    @Test func ipv4MappedAddressesAreIPv4() throws {
        let mapped = PeerIdentity(try SocketAddress(ipAddress: "::ffff:127.0.0.1", port: 1))
        #expect(mapped.isLoopback && mapped.throttleKey == "127.0.0.1")
        let lan = PeerIdentity(try SocketAddress(ipAddress: "::ffff:10.1.2.3", port: 1))
        #expect(!lan.isLoopback && lan.throttleKey == "10.1.2.3")
    }
}

@Suite struct SessionTableTests {
    @Test func aSessionLastsItsLifetime() {
        var table = SessionTable(capacity: 4, lifetime: .seconds(100))
        table.create(user: "ann", token: "t1", now: .seconds(10))
        #expect(table.user(for: "t1", now: .seconds(109)) == "ann")
        #expect(table.user(for: "t1", now: .seconds(110)) == nil, "expired at exactly its lifetime")
        #expect(table.count == 0, "an expired session is removed when looked up")
        #expect(table.user(for: "other", now: .seconds(10)) == nil)
    }

    @Test func logoutEndsTheSession() {
        var table = SessionTable(capacity: 4, lifetime: .seconds(100))
        table.create(user: "ann", token: "t1", now: .zero)
        #expect(table.remove("t1") == "ann")
        #expect(table.user(for: "t1", now: .zero) == nil)
        #expect(table.remove("t1") == nil)
    }

    @Test func aLoginBeyondTheCapacityEndsTheOldestSession() {
        var table = SessionTable(capacity: 2, lifetime: .seconds(100))
        #expect(table.create(user: "a", token: "t1", now: .seconds(1)) == nil)
        #expect(table.create(user: "b", token: "t2", now: .seconds(2)) == nil)
        #expect(table.create(user: "c", token: "t3", now: .seconds(3)) == "a")
        #expect(table.user(for: "t1", now: .seconds(3)) == nil)
        #expect(table.user(for: "t2", now: .seconds(3)) == "b")
        // Expired sessions make room first, without ending a live one.
        #expect(table.create(user: "d", token: "t4", now: .seconds(102)) == nil)
        #expect(table.user(for: "t3", now: .seconds(102)) == "c")
    }

    /// Any mix of logins, lookups and logouts: never more than the capacity, and a session is found
    /// only while it is live and not logged out.
    @Test func boundedAndConsistent() async {
        let step = zip(Gen.int(in: 0...2), Gen.int(in: 0...9), Gen.int(in: 0...30))
        await propertyCheck(count: 200, input: Gen.int(in: 1...5), step.array(of: 1...100)) { capacity, steps in
            var table = SessionTable(capacity: capacity, lifetime: .seconds(50))
            var now = Duration.zero
            var loggedOut: Set<String> = []
            var created: [String: Duration] = [:]
            for (kind, token, advance) in steps {
                now += .seconds(advance)
                let name = "t\(token)"
                switch kind {
                case 0:
                    table.create(user: name, token: name, now: now)
                    created[name] = now
                    loggedOut.remove(name)
                case 1:
                    table.remove(name)
                    loggedOut.insert(name)
                default:
                    if let user = table.user(for: name, now: now) {
                        #expect(user == name)
                        #expect(!loggedOut.contains(name))
                        #expect(created[name].map { now < $0 + .seconds(50) } == true)
                    }
                }
                #expect(table.count <= capacity)
            }
        }
    }
}

@Suite struct LoginThrottleTests {
    @Test func afterTheLimitAPeerWaitsForTheRestOfTheMinute() {
        var throttle = LoginThrottle(limit: 3)
        for second in [0, 10, 20] {
            #expect(throttle.retryAfter(peer: "p", now: .seconds(second)) == nil)
            throttle.failed(peer: "p", now: .seconds(second))
        }
        #expect(throttle.retryAfter(peer: "p", now: .seconds(20)) == .seconds(40))
        #expect(throttle.retryAfter(peer: "q", now: .seconds(20)) == nil, "other peers are not affected")
        #expect(throttle.retryAfter(peer: "p", now: .seconds(60)) == nil)
        throttle.failed(peer: "p", now: .seconds(61))
        #expect(throttle.retryAfter(peer: "p", now: .seconds(61)) == nil, "a new minute starts afresh")
    }

    @Test func aSuccessForgetsTheFailures() {
        var throttle = LoginThrottle(limit: 2)
        throttle.failed(peer: "p", now: .zero)
        throttle.succeeded(peer: "p")
        throttle.failed(peer: "p", now: .zero)
        #expect(throttle.retryAfter(peer: "p", now: .zero) == nil)
    }

    /// Whatever the attempts: at most `limit` failures of one peer are taken within any minute
    /// (counting only those made while it was not told to wait), and the table stays bounded.
    @Test func neverMoreThanTheLimitPerMinute() async {
        let attempt = zip(Gen.int(in: 0...3), Gen.int(in: 0...20))
        await propertyCheck(count: 200, input: Gen.int(in: 1...4), attempt.array(of: 1...150)) { limit, attempts in
            var throttle = LoginThrottle(limit: limit)
            var now = Duration.zero
            var taken: [String: [Duration]] = [:]
            for (peer, advance) in attempts {
                now += .seconds(advance)
                let name = "p\(peer)"
                guard throttle.retryAfter(peer: name, now: now) == nil else { continue }
                throttle.failed(peer: name, now: now)
                taken[name, default: []].append(now)
                let recent = taken[name, default: []].filter { now - $0 < .seconds(60) }
                #expect(recent.count <= 2 * limit)
            }
            #expect(throttle.count <= LoginThrottle.maxPeers)
        }
    }
}

@Suite struct SessionCookieTests {
    @Test func tokensAre32RandomBytesInBase64URL() {
        var generator = SystemRandomNumberGenerator()
        let tokens = (0..<50).map { _ in SessionCookie.newToken(using: &generator) }
        #expect(Set(tokens).count == 50)
        for token in tokens {
            #expect(token.count == SessionCookie.tokenLength)
            #expect(SessionCookie.token(in: ["wharf_session=\(token)"]) == token)
        }
        #expect(SessionCookie.base64URL([0xFB, 0xFF]) == "-_8")
        #expect(SessionCookie.base64URL(Array("Man".utf8)) == "TWFu")
    }

    @Test func theTokenIsFoundAmongOtherCookiesAndAMalformedOneIsNone() {
        let token = String(repeating: "A", count: 43)
        #expect(SessionCookie.token(in: ["theme=dark; wharf_session=\(token); lang=en"]) == token)
        #expect(SessionCookie.token(in: ["a=b", "wharf_session=\(token)"]) == token)
        #expect(SessionCookie.token(in: ["wharf_session=\(token)x"]) == nil, "too long")
        #expect(SessionCookie.token(in: ["wharf_session=" + String(repeating: "A", count: 42) + "="]) == nil)
        #expect(SessionCookie.token(in: ["xwharf_session=\(token)"]) == nil)
        #expect(SessionCookie.token(in: []) == nil)
    }

    @Test func theCookieIsHttpOnlyStrictAndExpires() {
        #expect(
            SessionCookie.set("TOKEN", lifetime: .seconds(28_800), secure: false)
                == "wharf_session=TOKEN; HttpOnly; SameSite=Strict; Path=/; Max-Age=28800")
        #expect(SessionCookie.set("T", lifetime: .seconds(60), secure: true).hasSuffix("; Max-Age=60; Secure"))
        #expect(SessionCookie.clear(secure: false) == "wharf_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0")
    }
}

import Testing
import WharfAuth

struct PasswordHashTests {
    /// Made by `mosquitto_passwd -b FILE alice secret` (Mosquitto 2.0.11).
    static let mosquittoLine =
        "alice:$7$101$hblm20AbqGFVSKI4$3g6+rmO8rvfV+vmyF+Y7h6Igu1TgB+D0y5uj84FMHxawnr+1jk5ZVRtI+TjhDk4gwz1gBca8wP23hG34daZVPA=="

    @Test func verifiesAHashMadeByMosquittoPasswd() throws {
        let file = try PasswordFile(parsing: Self.mosquittoLine + "\n", file: "pw")
        let hash = try #require(file.hash(for: "alice"))
        #expect(hash.scheme == .pbkdf2SHA512(iterations: 101))
        #expect(hash.salt.count == 12)
        #expect(hash.verify("secret"))
        #expect(!hash.verify("Secret"))
        #expect(!hash.verify(""))
        #expect(file.verify(user: "alice", password: Array("secret".utf8)))
        #expect(!file.verify(user: "bob", password: Array("secret".utf8)))
    }

    @Test func knownPBKDF2Vector() {
        // hashlib.pbkdf2_hmac('sha512', b'pw', b'saltsaltsalt', 1000), base64.
        let hash = PasswordHash(hashing: "pw", salt: Array("saltsaltsalt".utf8), iterations: 1000)
        #expect(
            hash.encoded
                == "$7$1000$c2FsdHNhbHRzYWx0$alCU0VspdaXG1KbjB/D9lfc6JXr3BHHzuZUk7OPU9SDvCMAmjV2BY7w4FaizXj+LNYYfUYWecrjHdGCMt3Kh+g=="
        )
    }

    @Test func readsOlderSHA512Lines() throws {
        // base64(sha512(b'hunter2' + b'0123456789ab')), the `$6$` form of Mosquitto 1.x.
        let hash = try #require(
            PasswordHash(
                encoded:
                    "$6$MDEyMzQ1Njc4OWFi$Kgl3AxuVCetFEGDDZOAh44c3ssh9wvPft10MPC9Tjr1rwsIDmYUEICH/zUOFhM8vCQKmMb8nXrQTl7q2T8alUw=="
            ))
        #expect(hash.scheme == .sha512)
        #expect(hash.verify("hunter2"))
        #expect(!hash.verify("hunter3"))
    }

    @Test func roundTripsThroughTheEncoding() throws {
        let hash = PasswordHash(hashing: "correct horse", iterations: 1000)
        #expect(hash.salt.count == PasswordHash.saltLength)
        #expect(hash.encoded.hasPrefix("$7$1000$"))
        let parsed = try #require(PasswordHash(encoded: hash.encoded))
        #expect(parsed == hash)
        #expect(parsed.verify("correct horse"))
        #expect(!parsed.verify("correct horse "))
        #expect(PasswordHash(hashing: "x", iterations: 1000).salt != PasswordHash(hashing: "x", iterations: 1000).salt)
    }

    @Test func defaultIterationsAreStrongerThanMosquittos() {
        let hash = PasswordHash(hashing: "x")
        #expect(hash.scheme == .pbkdf2SHA512(iterations: PasswordHash.defaultIterations))
        #expect(PasswordHash.defaultIterations > PasswordHash.mosquittoIterations * 50)
    }

    @Test(arguments: [
        "plain", "$7$101$abc", "$7$x$MDEyMzQ1Njc4OWFi$AAAA", "$7$0$MDEyMzQ1Njc4OWFi$AAAA",
        "$5$MDEy$AAAA", "$6$!!$AAAA", "$7$101$MDEyMzQ1Njc4OWFi$c2hvcnQ=",
    ])
    func rejectsMalformedHashes(_ text: String) {
        #expect(PasswordHash(encoded: text) == nil)
    }

    @Test func constantTimeComparison() {
        #expect(ConstantTime.equals([1, 2, 3], [1, 2, 3]))
        #expect(!ConstantTime.equals([1, 2, 3], [1, 2, 4]))
        #expect(!ConstantTime.equals([1, 2, 3], [9, 2, 3]))
        #expect(!ConstantTime.equals([1, 2, 3], [1, 2]))
        #expect(!ConstantTime.equals([], [0]))
        #expect(ConstantTime.equals([UInt8](), []))
        // Lengths that differ by a multiple of 256 must not cancel out.
        #expect(!ConstantTime.equals([UInt8](repeating: 0, count: 256), []))
    }
}

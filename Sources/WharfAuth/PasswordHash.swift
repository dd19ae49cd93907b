import Crypto
import _CryptoExtras

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// One salted password hash in Mosquitto 2's `mosquitto_passwd` encoding:
/// `$7$<iterations>$<base64 salt>$<base64 PBKDF2-HMAC-SHA512>` or the older
/// `$6$<base64 salt>$<base64 SHA-512(password ‖ salt)>`.
public struct PasswordHash: Sendable, Equatable {
    /// How the hash was computed.
    public enum Scheme: Sendable, Equatable {
        /// `$6$`: one SHA-512 of the password followed by the salt (Mosquitto 1.x files).
        case sha512
        /// `$7$`: PBKDF2 with HMAC-SHA512 and the given iteration count.
        case pbkdf2SHA512(iterations: Int)
    }

    /// The scheme and its parameters.
    public var scheme: Scheme
    /// The random salt.
    public var salt: [UInt8]
    /// The derived hash (64 bytes for both schemes).
    public var hash: [UInt8]

    /// Iterations `mosquitto_passwd` uses for new entries.
    public static let mosquittoIterations = 101
    /// Iterations Wharf uses for new entries: far costlier to brute-force than Mosquitto's 101,
    /// yet cheap enough (a few milliseconds) to verify on every CONNECT of a small gateway.
    public static let defaultIterations = 10_000
    /// The largest iteration count accepted from a file, so a hostile file cannot stall CONNECTs.
    public static let maximumIterations = 10_000_000
    /// Salt length `mosquitto_passwd` writes, in bytes.
    public static let saltLength = 12

    /// Creates a hash from its parts.
    public init(scheme: Scheme, salt: [UInt8], hash: [UInt8]) {
        self.scheme = scheme
        self.salt = salt
        self.hash = hash
    }

    /// Hashes `password` with PBKDF2-HMAC-SHA512 and a fresh random salt.
    public init(hashing password: String, iterations: Int = PasswordHash.defaultIterations) {
        var generator = SystemRandomNumberGenerator()
        let salt = (0..<Self.saltLength).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        self.init(hashing: password, salt: salt, iterations: iterations)
    }

    /// Hashes `password` with PBKDF2-HMAC-SHA512 and the given salt (for tests and known vectors).
    public init(hashing password: String, salt: [UInt8], iterations: Int) {
        let scheme = Scheme.pbkdf2SHA512(iterations: max(1, iterations))
        self.init(scheme: scheme, salt: salt, hash: Self.derive(Array(password.utf8), salt: salt, scheme: scheme))
    }

    /// Parses the part after `user:`; `nil` when it is not a `$6$` or `$7$` hash.
    public init?(encoded: some StringProtocol) {
        let fields = encoded.split(separator: "$", omittingEmptySubsequences: false)
        guard fields.first?.isEmpty == true else { return nil }
        let scheme: Scheme
        let saltText: Substring
        let hashText: Substring
        switch (fields.count, fields.count > 1 ? fields[1] : "") {
        case (4, "6"):
            scheme = .sha512
            (saltText, hashText) = (Substring(fields[2]), Substring(fields[3]))
        case (5, "7"):
            guard let iterations = Int(fields[2]), (1...Self.maximumIterations).contains(iterations) else {
                return nil
            }
            scheme = .pbkdf2SHA512(iterations: iterations)
            (saltText, hashText) = (Substring(fields[3]), Substring(fields[4]))
        default:
            return nil
        }
        guard let salt = Data(base64Encoded: String(saltText)), !salt.isEmpty,
            let hash = Data(base64Encoded: String(hashText)), hash.count == 64
        else { return nil }
        self.init(scheme: scheme, salt: Array(salt), hash: Array(hash))
    }

    /// The text written after `user:` in a password file.
    public var encoded: String {
        let salt = Data(self.salt).base64EncodedString()
        let hash = Data(self.hash).base64EncodedString()
        switch scheme {
        case .sha512: return "$6$\(salt)$\(hash)"
        case .pbkdf2SHA512(let iterations): return "$7$\(iterations)$\(salt)$\(hash)"
        }
    }

    /// Whether `password` (the CONNECT password bytes) hashes to this entry; the final
    /// comparison takes constant time.
    public func verify(_ password: [UInt8]) -> Bool {
        ConstantTime.equals(Self.derive(password, salt: salt, scheme: scheme), hash)
    }

    /// Whether `password` hashes to this entry.
    public func verify(_ password: String) -> Bool {
        verify(Array(password.utf8))
    }

    static func derive(_ password: [UInt8], salt: [UInt8], scheme: Scheme) -> [UInt8] {
        switch scheme {
        case .sha512:
            var hasher = SHA512()
            hasher.update(data: password)
            hasher.update(data: salt)
            return Array(hasher.finalize())
        case .pbkdf2SHA512(let iterations):
            // Mosquitto's own files use 101 rounds, below swift-crypto's checked minimum, so
            // the unchecked entry point is required to read them.
            let key = try? KDF.Insecure.PBKDF2.deriveKey(
                from: password,
                salt: salt,
                using: .sha512,
                outputByteCount: 64,
                unsafeUncheckedRounds: iterations
            )
            // A derivation failure yields an empty hash, which never equals a stored one.
            return key.map { $0.withUnsafeBytes { Array($0) } } ?? []
        }
    }
}

import Crypto
import Synchronization

/// Passwords that verified recently, kept as keyed SHA-256 digests, so that a client that
/// reconnects (or a whole plant after a network outage) costs one HMAC instead of thousands of
/// PBKDF2 iterations on the event loop. Wrong passwords always pay the full price.
///
/// The digest key is random per process and the digests live in memory only; an entry counts
/// only while the user's stored hash is the one it was verified against, so a changed or
/// deleted password takes effect at once.
public final class VerifiedCredentials: Sendable {
    private struct Entry: Sendable {
        var hash: PasswordHash
        var digest: [UInt8]
    }

    /// Raw key bytes: `SymmetricKey` is not `Sendable` on every platform.
    private let key: [UInt8]
    private let entries = Mutex<[String: Entry]>([:])
    /// Users remembered at most; the cache starts over when full.
    public let capacity: Int

    /// Creates an empty cache.
    public init(capacity: Int = 10_000) {
        self.capacity = capacity
        var generator = SystemRandomNumberGenerator()
        key = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    /// Whether `password` matches `hash`, the stored hash of `user`.
    public func verify(user: String, password: [UInt8], against hash: PasswordHash) -> Bool {
        let digest = Array(HMAC<SHA256>.authenticationCode(for: password, using: SymmetricKey(data: key)))
        if let known = entries.withLock({ $0[user] }), known.hash == hash, ConstantTime.equals(known.digest, digest) {
            return true
        }
        guard hash.verify(password) else { return false }
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[user] = Entry(hash: hash, digest: digest)
        }
        return true
    }

    /// Whether `password` of `user` verified against `hash` before: one HMAC, no hash derivation.
    public func remembers(user: String, password: [UInt8], hash: PasswordHash) -> Bool {
        let digest = Array(HMAC<SHA256>.authenticationCode(for: password, using: SymmetricKey(data: key)))
        guard let known = entries.withLock({ $0[user] }) else { return false }
        return known.hash == hash && ConstantTime.equals(known.digest, digest)
    }
}

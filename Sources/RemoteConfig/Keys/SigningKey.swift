import Crypto

/// An Ed25519 private key that signs configuration documents (kept by the operator, never on a gateway).
public struct SigningKey: Sendable {
    /// The key id written into signed documents, and the name of the key files.
    public let keyID: String
    /// The 32-byte seed, as stored in the private key file. Kept as bytes (Crypto's key types are
    /// not `Sendable`); the key is rebuilt for each signature, which costs microseconds.
    public let seed: [UInt8]
    /// The 32-byte public key.
    private let publicRaw: [UInt8]

    /// A new random key.
    public static func generate(keyID: String) -> SigningKey {
        SigningKey(keyID: keyID, key: Curve25519.Signing.PrivateKey())
    }

    private var key: Curve25519.Signing.PrivateKey? {
        try? Curve25519.Signing.PrivateKey(rawRepresentation: seed)
    }

    /// The key of a 32-byte seed (the private key file's content); `nil` when it is not 32 bytes.
    public init?(keyID: String, seed: [UInt8]) {
        guard seed.count == 32, let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: seed) else {
            return nil
        }
        self.init(keyID: keyID, key: key)
    }

    private init(keyID: String, key: Curve25519.Signing.PrivateKey) {
        self.keyID = keyID
        self.seed = Array(key.rawRepresentation)
        self.publicRaw = Array(key.publicKey.rawRepresentation)
    }

    /// The matching public key, as gateways trust it.
    public var publicKey: TrustedKey {
        TrustedKey(keyID: keyID, checkedRaw: publicRaw)
    }

    /// The 64-byte signature of `payload`.
    public func signature(for payload: [UInt8]) -> [UInt8]? {
        guard let key else { return nil }
        return (try? key.signature(for: payload)).map { Array($0) }
    }

    /// `document` with `key_id` set to this key and signed.
    public func sign(_ document: RemoteConfigDocument) -> Result<RemoteConfigDocument, CanonicalEncodingError> {
        var signed = document
        signed.keyID = keyID
        signed.signature = nil
        return signed.signingPayload().flatMap { payload in
            guard let signature = signature(for: payload) else {
                return .failure(CanonicalEncodingError(path: "", message: "the signing library refused the payload"))
            }
            signed.signature = signature
            return .success(signed)
        }
    }
}

/// A public key a gateway trusts, under the id documents name it by.
public struct TrustedKey: Sendable {
    /// The key id (`KEY_ID.pub`).
    public let keyID: String
    /// The 32 raw bytes.
    public let raw: [UInt8]

    /// A key from its 32 raw bytes; `nil` when they are not a valid Ed25519 public key.
    public init?(keyID: String, raw: [UInt8]) {
        guard raw.count == 32, (try? Curve25519.Signing.PublicKey(rawRepresentation: raw)) != nil else {
            return nil
        }
        self.init(keyID: keyID, checkedRaw: raw)
    }

    fileprivate init(keyID: String, checkedRaw: [UInt8]) {
        self.keyID = keyID
        self.raw = checkedRaw
    }

    /// Whether `signature` is this key's signature of `payload`.
    public func isValidSignature(_ signature: [UInt8], for payload: [UInt8]) -> Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else { return false }
        return key.isValidSignature(signature, for: payload)
    }
}

/// The keys of the trusted-keys directory, by key id.
public struct TrustedKeys: Sendable {
    private var keys: [String: TrustedKey] = [:]

    /// A set of keys; a later key with the same id replaces an earlier one.
    public init(_ keys: [TrustedKey] = []) {
        for key in keys { self.keys[key.keyID] = key }
    }

    /// The key with this id.
    public subscript(keyID: String) -> TrustedKey? { keys[keyID] }

    /// The key ids, sorted.
    public var keyIDs: [String] { keys.keys.sorted() }
}

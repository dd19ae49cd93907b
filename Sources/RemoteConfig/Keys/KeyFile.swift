/// The key files of `wharfctl config keygen` and `/etc/wharf/trusted-keys/`: one header line
/// naming the kind of key and its id, then the 32 key bytes in base64, then a newline.
///
/// ```
/// wharf-ed25519-public-key fleet-2026
/// 3Tl3u0Y2O7b0QV7P0s0QmR7m1v3dXbJm2m8a9c1ZbQ0=
/// ```
///
/// The id in the header must match the file name (`fleet-2026.pub`), so a renamed file cannot make
/// a key trusted under another id by mistake.
public enum KeyFile {
    /// The header word of a public key file.
    public static let publicHeader = "wharf-ed25519-public-key"
    /// The header word of a private key file.
    public static let privateHeader = "wharf-ed25519-private-key"
    /// The file name suffix of public keys in the trusted-keys directory.
    public static let publicSuffix = ".pub"
    /// The file name suffix of private keys.
    public static let privateSuffix = ".key"

    /// The text of a public key file.
    public static func publicText(_ key: TrustedKey) -> String {
        "\(publicHeader) \(key.keyID)\n\(Base64.encode(key.raw))\n"
    }

    /// The text of a private key file.
    public static func privateText(_ key: SigningKey) -> String {
        "\(privateHeader) \(key.keyID)\n\(Base64.encode(key.seed))\n"
    }

    /// Reads a public key file whose name gives `keyID`.
    public static func parsePublic(_ text: String, keyID: String) -> Result<TrustedKey, KeyFileError> {
        body(text, header: publicHeader, keyID: keyID).flatMap { bytes in
            guard let key = TrustedKey(keyID: keyID, raw: bytes) else {
                return .failure(KeyFileError("the key is not a valid Ed25519 public key"))
            }
            return .success(key)
        }
    }

    /// Reads a private key file; the key id is the one in its header.
    public static func parsePrivate(_ text: String) -> Result<SigningKey, KeyFileError> {
        let keyID = text.split(separator: "\n", maxSplits: 1).first.map { line in
            line.hasPrefix(privateHeader + " ") ? String(line.dropFirst(privateHeader.count + 1)) : ""
        }
        guard let keyID, KeyID.isValid(keyID) else {
            return .failure(KeyFileError("expected a first line '\(privateHeader) KEY_ID'"))
        }
        return body(text, header: privateHeader, keyID: keyID).flatMap { bytes in
            guard let key = SigningKey(keyID: keyID, seed: bytes) else {
                return .failure(KeyFileError("the key is not a valid Ed25519 private key"))
            }
            return .success(key)
        }
    }

    /// The key id a trusted-keys file name stands for (`fleet-2026.pub` gives `fleet-2026`), or `nil`
    /// for names that are not public key files (editor backups, hidden files).
    public static func keyID(forFileName name: String) -> String? {
        guard name.hasSuffix(publicSuffix) else { return nil }
        let id = String(name.dropLast(publicSuffix.count))
        return KeyID.isValid(id) ? id : nil
    }

    private static func body(_ text: String, header: String, keyID: String) -> Result<[UInt8], KeyFileError> {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.hasSuffix("\r") ? $0.dropLast() : $0
        }
        if lines.last == "" { lines.removeLast() }
        guard lines.count == 2 else {
            return .failure(KeyFileError("expected two lines: '\(header) \(keyID)' and the key in base64"))
        }
        guard lines[0] == "\(header) \(keyID)" else {
            return .failure(KeyFileError("expected the first line '\(header) \(keyID)', got '\(lines[0].prefix(80))'"))
        }
        guard let bytes = Base64.decode(String(lines[1])), bytes.count == 32 else {
            return .failure(KeyFileError("expected 32 bytes in base64 (44 characters) on the second line"))
        }
        return .success(bytes)
    }
}

/// Why a key file was refused.
public struct KeyFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong with the file.
    public var description: String

    /// Creates an error.
    public init(_ description: String) {
        self.description = description
    }
}

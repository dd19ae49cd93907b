/// TLS on one broker listener (`broker.listeners[].tls`).
public struct ListenerTLSConfig: Sendable, Equatable {
    /// The server's certificate chain (PEM), leaf first.
    public var certFile: ConfigFileSetting
    /// The server's private key (PEM, unencrypted); must belong to the certificate.
    public var keyFile: ConfigFileSetting
    /// The CA (PEM bundle) client certificates are verified against; without it clients present none.
    public var caFile: ConfigFileSetting?
    /// Whether a client must present a certificate signed by `ca_file` (Mosquitto's `require_certificate`).
    public var requireCertificate: Bool
    /// The oldest TLS version accepted.
    public var minimumVersion: TLSVersion

    /// TLS versions a listener may accept at least; the cipher suites are swift-nio-ssl's defaults.
    public enum TLSVersion: String, Sendable, Equatable, CaseIterable {
        /// TLS 1.2 and 1.3 (the default).
        case tls12 = "tlsv1.2"
        /// TLS 1.3 only.
        case tls13 = "tlsv1.3"
    }

    /// Creates TLS settings.
    public init(
        certFile: ConfigFileSetting,
        keyFile: ConfigFileSetting,
        caFile: ConfigFileSetting? = nil,
        requireCertificate: Bool = false,
        minimumVersion: TLSVersion = .tls12
    ) {
        self.certFile = certFile
        self.keyFile = keyFile
        self.caFile = caFile
        self.requireCertificate = requireCertificate
        self.minimumVersion = minimumVersion
    }
}

/// A file a setting names, with where the setting is written, so that a problem with the file
/// itself (unreadable, not PEM, a key that does not match) can name the file, line and key.
public struct ConfigFileSetting: Sendable, Equatable, CustomStringConvertible {
    /// The path as written.
    public var path: String
    /// Where the setting is: the configuration file, line, column and key path.
    public var location: ConfigNode

    /// Creates a setting; `location` carries only position (its value is not used).
    public init(path: String, location: ConfigNode = ConfigNode(.null)) {
        self.path = path
        self.location = location
    }

    /// The path.
    public var description: String { path }

    /// An issue about this file, placed at the setting.
    public func issue(_ message: String) -> ConfigIssue {
        location.issue(message)
    }

    /// Two settings are the same when they name the same file, wherever they are written.
    public static func == (lhs: ConfigFileSetting, rhs: ConfigFileSetting) -> Bool {
        lhs.path == rhs.path
    }
}

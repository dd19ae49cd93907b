public import NIOSSL
public import WharfConfig
import WharfCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Loads a TLS listener's files into a server context, and names each problem with them at the
/// setting that names the file (`wharfd --check`, `wharfctl check` and start-up say the same).
public enum ListenerTLS {
    /// The problems with the files of `tls`: each readable PEM of the right kind, and the key the
    /// certificate's. Empty when a server context can be made from them.
    public static func problems(_ tls: ListenerTLSConfig) -> [ConfigIssue] {
        load(tls).problems
    }

    /// The server context for `tls`; throws a ``BrokerError`` listing every problem otherwise.
    static func makeContext(_ tls: ListenerTLSConfig, listener: String) throws(BrokerError) -> NIOSSLContext {
        let loaded = load(tls)
        guard let context = loaded.context else {
            let lines = loaded.problems.map(\.description).joined(separator: "; ")
            throw BrokerError("cannot start the TLS listener '\(listener)': \(lines)")
        }
        return context
    }

    /// The server settings for `tls` (the admin API's HTTPS), checked as a listener's are; throws a
    /// ``BrokerError`` listing every problem with the files otherwise.
    public static func serverConfiguration(_ tls: ListenerTLSConfig, role: String) throws(BrokerError)
        -> TLSConfiguration
    {
        let loaded = load(tls)
        guard let configuration = loaded.configuration else {
            let lines = loaded.problems.map(\.description).joined(separator: "; ")
            throw BrokerError("cannot set up TLS for \(role): \(lines)")
        }
        return configuration
    }

    /// The NIOSSL settings: swift-nio-ssl's default cipher suites, the configured oldest version,
    /// and client certificates verified against `ca_file` (required with `require_certificate`,
    /// otherwise verified only when a client presents one).
    static func configuration(
        _ tls: ListenerTLSConfig, chain: [NIOSSLCertificate], key: NIOSSLPrivateKey, roots: [NIOSSLCertificate]?
    ) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = tls.minimumVersion == .tls13 ? .tlsv13 : .tlsv12
        if let roots {
            configuration.trustRoots = .certificates(roots)
            configuration.certificateVerification =
                tls.requireCertificate ? .noHostnameVerification : .optionalVerification
        } else {
            configuration.certificateVerification = .none
        }
        return configuration
    }

    private static func load(
        _ tls: ListenerTLSConfig
    ) -> (context: NIOSSLContext?, configuration: TLSConfiguration?, problems: [ConfigIssue]) {
        var problems: [ConfigIssue] = []
        var chain: [NIOSSLCertificate]?
        switch certificates(tls.certFile, kind: "certificate chain") {
        case .success(let loaded): chain = loaded
        case .failure(let failure): problems.append(failure.issue)
        }
        var key: NIOSSLPrivateKey?
        switch privateKey(tls.keyFile) {
        case .success(let loaded): key = loaded
        case .failure(let failure): problems.append(failure.issue)
        }
        var roots: [NIOSSLCertificate]?
        if let caFile = tls.caFile {
            switch certificates(caFile, kind: "CA bundle") {
            case .success(let loaded): roots = loaded
            case .failure(let failure): problems.append(failure.issue)
            }
        }
        guard problems.isEmpty, let chain, let key else { return (nil, nil, problems) }
        let settings = configuration(tls, chain: chain, key: key, roots: roots)
        do {
            let context = try NIOSSLContext(configuration: settings)
            return (context, settings, [])
        } catch NIOSSLError.failedToLoadPrivateKey {
            let message = "'\(tls.keyFile.path)' does not match the certificate '\(tls.certFile.path)'"
            return (nil, nil, [tls.keyFile.issue(message)])
        } catch {
            let message = "'\(tls.keyFile.path)' and '\(tls.certFile.path)' cannot be used together: \(error)"
            return (nil, nil, [tls.keyFile.issue(message)])
        }
    }

    /// The PEM certificates in the file.
    private static func certificates(
        _ setting: ConfigFileSetting, kind: String
    ) -> Result<[NIOSSLCertificate], FileIssue> {
        let bytes: [UInt8]
        switch read(setting) {
        case .success(let contents): bytes = contents
        case .failure(let issue): return .failure(issue)
        }
        if let certificates = try? NIOSSLCertificate.fromPEMBytes(bytes), !certificates.isEmpty {
            return .success(certificates)
        }
        if String(decoding: bytes, as: UTF8.self).contains("-----BEGIN CERTIFICATE-----") {
            return .failure(FileIssue(setting.issue("'\(setting.path)' holds a PEM certificate that cannot be parsed")))
        }
        return .failure(
            FileIssue(setting.issue("'\(setting.path)' is not a PEM \(kind) (no '-----BEGIN CERTIFICATE-----')")))
    }

    /// The PEM private key in the file.
    private static func privateKey(_ setting: ConfigFileSetting) -> Result<NIOSSLPrivateKey, FileIssue> {
        let bytes: [UInt8]
        switch read(setting) {
        case .success(let contents): bytes = contents
        case .failure(let issue): return .failure(issue)
        }
        if let key = try? NIOSSLPrivateKey(bytes: bytes, format: .pem) { return .success(key) }
        let text = String(decoding: bytes, as: UTF8.self)
        // The key is loaded without a passphrase (wharfd starts unattended).
        if text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") || text.contains("Proc-Type: 4,ENCRYPTED") {
            return .failure(
                FileIssue(
                    setting.issue("'\(setting.path)' is an encrypted private key; the listener needs it unencrypted")))
        }
        return .failure(FileIssue(setting.issue("'\(setting.path)' is not a PEM private key")))
    }

    /// The file's bytes, or why it cannot be read (as the operating system says it).
    private static func read(_ setting: ConfigFileSetting) -> Result<[UInt8], FileIssue> {
        guard let file = fopen(setting.path, "rb") else {
            let reason = String(cString: strerror(errno))
            return .failure(FileIssue(setting.issue("cannot read '\(setting.path)': \(reason)")))
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = fread(&chunk, 1, chunk.count, file)
            if count <= 0 {
                // A directory opens, but reading it fails (EISDIR).
                if ferror(file) != 0 {
                    let reason = String(cString: strerror(errno))
                    return .failure(FileIssue(setting.issue("cannot read '\(setting.path)': \(reason)")))
                }
                break
            }
            bytes += chunk[0..<count]
            // No certificate or key file is this large; a wrong path (a log, a device) is not read whole.
            if bytes.count > 4 << 20 {
                return .failure(FileIssue(setting.issue("'\(setting.path)' is larger than 4 MiB")))
            }
        }
        return .success(bytes)
    }

    /// A ``ConfigIssue`` as an `Error`, for `Result`.
    private struct FileIssue: Error {
        let issue: ConfigIssue
        init(_ issue: ConfigIssue) { self.issue = issue }
    }
}

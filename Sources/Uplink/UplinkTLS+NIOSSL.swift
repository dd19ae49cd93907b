import NIOCore
import NIOPosix
import NIOSSL

extension UplinkTLS {
    /// The NIOSSL client configuration: trusted roots, client certificate and key, verification mode.
    func makeConfiguration() throws -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let caFile { configuration.trustRoots = .file(caFile) }
        if let certificateFile {
            configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(certificateFile).map { .certificate($0) }
        }
        if let privateKeyFile {
            configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: privateKeyFile, format: .pem))
        }
        configuration.certificateVerification = verify ? .fullVerification : .none
        return configuration
    }

    /// Loads the files named in the settings; throws an `UplinkError` naming the files when one fails.
    func makeContext(host: String, port: Int) throws(UplinkError) -> NIOSSLContext {
        do {
            return try NIOSSLContext(configuration: makeConfiguration())
        } catch {
            let files = [caFile, certificateFile, privateKeyFile].compactMap { $0 }.joined(separator: ", ")
            throw UplinkError(
                .tlsConfiguration,
                "cannot load the TLS files for \(host):\(port) (\(files.isEmpty ? "no files" : files)): \(error)")
        }
    }

    /// The SNI name: `serverName`, or the host unless it is an IP address (SNI carries names only;
    /// verification then checks the certificate's IP addresses against the peer's).
    func sniName(host: String) -> String? {
        if let serverName { return serverName }
        return (try? SocketAddress(ipAddress: host, port: 0)) == nil ? host : nil
    }
}

extension UplinkError {
    /// Describes an error met while connecting or connected, naming the host.
    static func describing(_ error: any Error, host: String, port: Int) -> UplinkError {
        if let error = error as? UplinkError { return error }
        let endpoint = "\(host):\(port)"
        switch error {
        case let error as NIOSSLError:
            return UplinkError(.tlsFailed, "TLS handshake with \(endpoint) failed: \(describe(error))")
        case let error as NIOSSLExtraError:
            return UplinkError(.tlsFailed, "TLS handshake with \(endpoint) failed: \(error)")
        case let error as BoringSSLError:
            return UplinkError(.tlsFailed, "TLS with \(endpoint) failed: \(describe(error))")
        case is ChannelError, is IOError, is NIOConnectionError, is SocketAddressError:
            return UplinkError(.connectFailed, "cannot connect to \(endpoint): \(error)")
        default:
            return UplinkError(.connectionClosed, "connection to \(endpoint) failed: \(error)")
        }
    }

    private static func describe(_ error: NIOSSLError) -> String {
        switch error {
        case .handshakeFailed(let inner): return describe(inner)
        default: return "\(error)"
        }
    }

    private static func describe(_ error: BoringSSLError) -> String {
        let text = "\(error)"
        if text.contains("CERTIFICATE_VERIFY_FAILED") {
            return "server certificate verification failed (untrusted or invalid certificate; check ca_file): \(text)"
        }
        if text.contains("CERTIFICATE_REQUIRED") || text.contains("HANDSHAKE_FAILURE") {
            return "the server rejected the handshake (client certificate missing or not accepted?): \(text)"
        }
        return text
    }
}

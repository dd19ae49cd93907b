import MQTTCodec
import NIOCore
import NIOSSL

/// The cloud broker `config push` publishes to, and how to log in.
struct PushBroker: Sendable {
    var host: String
    var port: Int
    var username: String?
    var password: [UInt8]?
    /// TLS settings; nil for plain TCP.
    var tls: PushTLS?
    var clientIdentifier: String
    var version: MQTTProtocolVersion
    /// Seconds between PINGREQs are half of it.
    var keepAlive: UInt16 = 30
    /// How long the TCP (and TLS) connect and the CONNACK may take.
    var connectTimeout: TimeAmount = .seconds(10)

    /// `host:port`, bracketed for IPv6.
    var display: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// TLS to the cloud broker: the CA to trust (the system's when none) and a client certificate.
struct PushTLS: Sendable {
    var caFile: String?
    var certificateFile: String?
    var keyFile: String?

    /// The client context, loading the files; an error names them.
    func makeContext() throws(ConfigCommandError) -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        do {
            if let caFile { configuration.trustRoots = .file(caFile) }
            if let certificateFile {
                configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(certificateFile).map {
                    .certificate($0)
                }
            }
            if let keyFile { configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem)) }
            return try NIOSSLContext(configuration: configuration)
        } catch {
            let files = [caFile, certificateFile, keyFile].compactMap { $0 }.joined(separator: ", ")
            throw ConfigCommandError(
                "wharfctl config push: cannot load the TLS files (\(files.isEmpty ? "system roots" : files)): \(error)")
        }
    }

    /// The name sent in SNI and checked against the certificate: the host, unless it is an address.
    static func serverName(host: String) -> String? {
        (try? SocketAddress(ipAddress: host, port: 0)) == nil ? host : nil
    }
}

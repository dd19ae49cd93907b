import NIOCore
import NIOSSL

/// How the generator's clients speak TLS to the broker, if at all.
struct BenchTLS: Sendable {
    /// The client context every connection shares (one context, so that no connection pays for
    /// loading the CA again).
    var context: NIOSSLContext

    /// Clients that verify the broker's certificate against the PEM bundle at `caFile`, or, with
    /// `verify` false, take any certificate (the handshake cost then falls on the broker, not on
    /// the generator checking a signature for every connection).
    init(caFile: String?, verify: Bool) throws {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if verify {
            guard let caFile else { throw BenchError("verifying the broker's certificate needs --tls-ca") }
            do {
                configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
            } catch {
                throw BenchError("cannot read the CA bundle \(caFile): \(error)")
            }
            // The brokers are on 127.0.0.1: the chain is checked, the name (an address) is not.
            configuration.certificateVerification = .noHostnameVerification
        } else {
            configuration.certificateVerification = .none
        }
        do {
            context = try NIOSSLContext(configuration: configuration)
        } catch {
            throw BenchError("cannot set up TLS: \(error)")
        }
    }

    /// Puts a TLS client handler at the front of `channel`'s pipeline.
    func addHandler(to channel: any Channel) throws {
        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: nil))
    }
}

import NIOSSL

extension UplinkPreflight {
    /// The problems with the TLS files: each must be readable PEM of the right kind, and the
    /// private key must belong to the certificate (the first of the chain).
    static func tlsFileProblems(_ tls: UplinkTLS) -> [UplinkPreflightProblem] {
        var problems: [UplinkPreflightProblem] = []
        if let caFile = tls.caFile, let problem = caProblem(caFile) {
            problems.append(UplinkPreflightProblem(path: "uplink.tls.ca_file", message: problem))
        }
        var chain: [NIOSSLCertificate]?
        if let certificateFile = tls.certificateFile {
            switch certificates(in: certificateFile, kind: "certificate chain") {
            case .success(let loaded): chain = loaded
            case .failure(let problem):
                problems.append(UplinkPreflightProblem(path: "uplink.tls.cert_file", message: problem.message))
            }
        }
        var key: NIOSSLPrivateKey?
        if let privateKeyFile = tls.privateKeyFile {
            switch privateKey(in: privateKeyFile) {
            case .success(let loaded): key = loaded
            case .failure(let problem):
                problems.append(UplinkPreflightProblem(path: "uplink.tls.key_file", message: problem.message))
            }
        }
        switch (tls.certificateFile, tls.privateKeyFile) {
        case (let certificateFile?, nil):
            problems.append(
                UplinkPreflightProblem(
                    path: "uplink.tls.cert_file",
                    message: "'\(certificateFile)' is given without key_file; a client certificate needs both"))
        case (nil, let privateKeyFile?):
            problems.append(
                UplinkPreflightProblem(
                    path: "uplink.tls.key_file",
                    message: "'\(privateKeyFile)' is given without cert_file; a client certificate needs both"))
        case (let certificateFile?, let privateKeyFile?):
            if let chain, let key,
                let problem = pairProblem(chain, key, certificateFile: certificateFile, privateKeyFile: privateKeyFile)
            {
                problems.append(UplinkPreflightProblem(path: "uplink.tls.key_file", message: problem))
            }
        case (nil, nil):
            break
        }
        return problems
    }

    /// A CA bundle must hold certificates; a directory (hashed, as OpenSSL reads it) is taken as it is.
    private static func caProblem(_ path: String) -> String? {
        if case .failure(let problem) = certificates(in: path, kind: "CA bundle", directoryAllowed: true) {
            return problem.message
        }
        return nil
    }

    /// The PEM certificates in the file at `path`.
    private static func certificates(
        in path: String, kind: String, directoryAllowed: Bool = false
    ) -> Result<[NIOSSLCertificate], PreflightFileProblem> {
        let bytes: [UInt8]
        switch PreflightFile.load(path) {
        case .contents(let contents): bytes = contents
        case .directory:
            return directoryAllowed ? .success([]) : .failure(PreflightFileProblem("'\(path)' is a directory"))
        case .failed(let problem): return .failure(problem)
        }
        if let certificates = try? NIOSSLCertificate.fromPEMBytes(bytes), !certificates.isEmpty {
            return .success(certificates)
        }
        if String(decoding: bytes, as: UTF8.self).contains("-----BEGIN CERTIFICATE-----") {
            return .failure(PreflightFileProblem("'\(path)' holds a PEM certificate that cannot be parsed"))
        }
        return .failure(PreflightFileProblem("'\(path)' is not a PEM \(kind) (no '-----BEGIN CERTIFICATE-----')"))
    }

    /// The PEM private key in the file at `path`.
    private static func privateKey(in path: String) -> Result<NIOSSLPrivateKey, PreflightFileProblem> {
        let bytes: [UInt8]
        switch PreflightFile.load(path) {
        case .contents(let contents): bytes = contents
        case .directory: return .failure(PreflightFileProblem("'\(path)' is a directory"))
        case .failed(let problem): return .failure(problem)
        }
        if let key = try? NIOSSLPrivateKey(bytes: bytes, format: .pem) { return .success(key) }
        let text = String(decoding: bytes, as: UTF8.self)
        // The uplink loads the key without a passphrase, so an encrypted key can never be used.
        if text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") || text.contains("Proc-Type: 4,ENCRYPTED") {
            return .failure(
                PreflightFileProblem("'\(path)' is an encrypted private key; the uplink needs it unencrypted"))
        }
        if text.contains("PRIVATE KEY-----") {
            return .failure(PreflightFileProblem("'\(path)' holds a PEM private key that cannot be parsed"))
        }
        return .failure(PreflightFileProblem("'\(path)' is not a PEM private key (no '-----BEGIN PRIVATE KEY-----')"))
    }

    /// Whether `key` belongs to the first certificate of `chain`. NIOSSL offers no public key for a
    /// private key, so the pair goes into a TLS context as the uplink's own does: BoringSSL compares
    /// the key with the certificate's public key there and refuses a pair that does not match.
    private static func pairProblem(
        _ chain: [NIOSSLCertificate], _ key: NIOSSLPrivateKey, certificateFile: String, privateKeyFile: String
    ) -> String? {
        var configuration = TLSConfiguration.makeClientConfiguration()
        // Nothing is verified by this context, so it loads no trust roots.
        configuration.certificateVerification = .none
        configuration.certificateChain = chain.map { .certificate($0) }
        configuration.privateKey = .privateKey(key)
        do {
            _ = try NIOSSLContext(configuration: configuration)
            return nil
        } catch NIOSSLError.failedToLoadPrivateKey {
            return "'\(privateKeyFile)' does not match the certificate '\(certificateFile)'"
        } catch {
            return "'\(privateKeyFile)' and '\(certificateFile)' cannot be used together: \(error)"
        }
    }
}

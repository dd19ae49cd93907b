import CCoAP
import Logging
import WharfCore

/// Called by libcoap (on the loop's thread) for each certificate of a client's chain once OpenSSL
/// has verified it against `dtls.ca_file`; depth 0 is the client's own certificate. Records the
/// session's subject; returning 0 refuses the handshake.
func wharfCoAPValidateCertificate(
    cn: UnsafePointer<CChar>?,
    der: UnsafePointer<UInt8>?,
    length: Int,
    session: OpaquePointer?,
    depth: UInt32,
    validated: Int32,
    argument: UnsafeMutableRawPointer?
) -> Int32 {
    guard validated != 0, let argument, let session else { return 0 }
    // The CA certificates above the client's: OpenSSL has checked them, they name nobody.
    guard depth == 0 else { return 1 }
    guard let der, length > 0 else { return 0 }
    let loop = Unmanaged<CoAPLoop>.fromOpaque(argument).takeUnretainedValue()
    let bytes = Array(UnsafeBufferPointer(start: der, count: length))
    return loop.certificateVerified(session: session, der: bytes) ? 1 : 0
}

extension CoAPLoop {
    /// Who is on the other end of `session`.
    ///
    /// A DTLS session is known by its PSK identity or by the subject CN of the client certificate
    /// recorded during its handshake; one with neither (or a DTLS session Wharf opened to a device
    /// itself) is `.unverified`, and nothing it sends is accepted.
    func peerIdentity(_ session: OpaquePointer) -> PeerIdentity {
        guard coap_session_get_proto(session) == COAP_PROTO_DTLS else { return .plain }
        guard coap_session_get_type(session) == COAP_SESSION_TYPE_SERVER else { return .unverified }
        if let identity = coap_session_get_psk_identity(session), let bytes = identity.pointee.s {
            return .psk(
                String(decoding: UnsafeBufferPointer(start: bytes, count: identity.pointee.length), as: UTF8.self))
        }
        if let subject = certificateSubjects[UInt(bitPattern: session)] { return .certificate(subject) }
        return .unverified
    }

    /// Takes the subject of a client certificate OpenSSL has verified; `false` refuses the
    /// handshake (a certificate without a usable subject CN).
    func certificateVerified(session: OpaquePointer, der: [UInt8]) -> Bool {
        let logger = log(session)
        guard let subject = X509Subject.commonName(der: der) else {
            metrics.error(.dtls)
            logger.info("client certificate refused: its subject has no usable common name (CN)")
            return false
        }
        certificateSubjects[UInt(bitPattern: session)] = subject
        if router.access.grant(for: .certificate(subject)) == nil {
            logger.info("certificate subject '\(subject)' is not in dtls.certificates: its requests get 4.03")
        } else {
            logger.debug("client certificate of subject '\(subject)'")
        }
        return true
    }
}

import WharfConfig
import WharfCore

// Reading the keys that say who may do what: `plain`, `dtls` with its PSK identities, server
// certificate and certificate subjects. Contradictions are reported with their key path, so
// that neither `wharfd --check` nor a start accepts them.

extension TopicGrant {
    /// `publish` and `read` of a mapping (`plain:`), each falling back to `defaults`.
    init(reading reader: ConfigReader, defaults: TopicGrant) {
        self.init(
            publish: readFilters(reader, "publish", default: defaults.publish),
            read: readFilters(reader, "read", default: defaults.read)
        )
        reader.finish()
    }
}

extension CoAPSettings.DTLS {
    init(reading reader: ConfigReader) {
        self.init()
        enabled = reader.bool("enabled", default: enabled)
        port = reader.int("port", default: port, in: 1...65_535)
        var seen: Set<String> = []
        for entry in reader.sectionList("psk") ?? [] {
            guard let identity = CoAPSettings.PSKIdentity(reading: entry) else { continue }
            if !seen.insert(identity.identity).inserted, let node = entry.value("identity") {
                entry.report("identity '\(identity.identity)' is listed twice", at: node)
            }
            psk.append(identity)
        }
        certFile = reader.string("cert_file", default: "")
        keyFile = reader.string("key_file", default: "")
        caFile = reader.string("ca_file", default: "")
        var subjects: Set<String> = []
        for entry in reader.sectionList("certificates") ?? [] {
            guard let subject = CoAPSettings.CertificateSubject(reading: entry) else { continue }
            if !subjects.insert(subject.subject).inserted, let node = entry.value("subject") {
                entry.report("subject '\(subject.subject)' is listed twice", at: node)
            }
            certificates.append(subject)
        }
        checkCertificates(reader)
        if enabled && psk.isEmpty && certFile.isEmpty, let node = reader.value("enabled") {
            reader.report("dtls is enabled but has neither psk identities nor cert_file", at: node)
        }
        reader.finish()
    }

    /// Reports the certificate settings that cannot work together.
    private func checkCertificates(_ reader: ConfigReader) {
        if certFile.isEmpty != keyFile.isEmpty {
            let node = reader.value(certFile.isEmpty ? "key_file" : "cert_file") ?? reader.node
            reader.report("cert_file and key_file go together: set both or neither", at: node)
        }
        if !caFile.isEmpty && certFile.isEmpty, let node = reader.value("ca_file") {
            reader.report("ca_file needs cert_file and key_file (the server's own certificate)", at: node)
        }
        let listed = reader.value("certificates")
        if !certFile.isEmpty {
            let certNode = reader.value("cert_file") ?? reader.node
            if caFile.isEmpty {
                // Without a CA, libcoap would let clients in without a certificate.
                reader.report(
                    ConfigIssue(
                        file: certNode.file, line: certNode.line, column: certNode.column,
                        path: ConfigPath.key("ca_file", in: reader.path),
                        message: "required with cert_file: client certificates are verified against this CA"
                    ))
            }
            if certificates.isEmpty && !listed.isNonEmptyList {
                reader.report(
                    ConfigIssue(
                        file: certNode.file, line: certNode.line, column: certNode.column,
                        path: ConfigPath.key("certificates", in: reader.path),
                        message: "cert_file is set but no certificate subject is listed: every client certificate"
                            + " would be refused; list each subject with its publish and read filters"
                    ))
            }
        } else if listed.isNonEmptyList, let listed {
            reader.report(
                "certificate subjects need cert_file, key_file and ca_file: without a server certificate"
                    + " no client can present one",
                at: listed
            )
        }
    }
}

extension CoAPSettings.PSKIdentity {
    init?(reading reader: ConfigReader) {
        let identity = reader.requiredString("identity", "the PSK identity the device presents")
        let key = readKey(reader, required: true)
        let publish = readFilters(reader, "publish")
        let read = readFilters(reader, "read")
        reader.finish()
        guard let identity, !identity.isEmpty, let key else { return nil }
        self.init(identity: identity, key: key, publish: publish, read: read)
    }
}

extension CoAPSettings.CertificateSubject {
    init?(reading reader: ConfigReader) {
        let subject = reader.requiredString("subject", "the common name (CN) of the client certificate's subject")
        // Such names are never taken from a certificate (see `X509Subject`), so they could never match.
        let usable = subject.map { X509Subject.isUsable($0) } ?? false
        if let subject, !usable, let node = reader.value("subject") {
            let got = subject.isEmpty ? "an empty text" : node.quoted
            reader.report(
                "expected the subject CN of a client certificate, without control characters, got \(got)", at: node)
        }
        let publish = readFilters(reader, "publish")
        let read = readFilters(reader, "read")
        reader.finish()
        guard let subject, usable else { return nil }
        self.init(subject: subject, publish: publish, read: read)
    }
}

extension ConfigNode? {
    /// Whether the node is a list with at least one element.
    fileprivate var isNonEmptyList: Bool {
        guard case .array(let elements)? = self?.content else { return false }
        return !elements.isEmpty
    }
}

/// Topic filters at `key` (`defaults` when absent), each checked.
func readFilters(_ reader: ConfigReader, _ key: String, default defaults: [String] = ["#"]) -> [String] {
    // An empty list (`read: []`) grants nothing; only an absent key takes the defaults.
    guard let nodes = reader.list(key) else { return defaults }
    var filters: [String] = []
    for node in nodes {
        guard let filter = reader.string(node) else { continue }
        if Topic.validateFilter(filter) != nil {
            reader.report("expected an MQTT topic filter such as 'sensors/#', got \(node.quoted)", at: node)
        } else {
            filters.append(filter)
        }
    }
    return filters
}

/// `key` (UTF-8 text) or `key_hex`; exactly one of them.
func readKey(_ reader: ConfigReader, required: Bool) -> [UInt8]? {
    let text = reader.value("key").flatMap { reader.string($0) }
    let hexNode = reader.value("key_hex")
    if text != nil, let hexNode {
        reader.report("set key or key_hex, not both", at: hexNode)
        return nil
    }
    if let hexNode {
        guard let hex = reader.string(hexNode) else { return nil }
        guard let bytes = hexBytes(hex), !bytes.isEmpty else {
            reader.report("expected an even number of hex digits, got \(hexNode.quoted)", at: hexNode)
            return nil
        }
        return bytes
    }
    if let text, !text.isEmpty { return Array(text.utf8) }
    if required { reader.reportMissing("key", "the pre-shared key, as text (or key_hex for bytes)") }
    return nil
}

/// Bytes of a hex string (`00ab...`), `nil` when it is not one.
func hexBytes(_ text: String) -> [UInt8]? {
    let digits = Array(text.utf8)
    guard digits.count % 2 == 0 else { return nil }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(digits.count / 2)
    var index = 0
    while index < digits.count {
        guard let high = DeviceURI.hexValue(digits[index]), let low = DeviceURI.hexValue(digits[index + 1]) else {
            return nil
        }
        bytes.append(high << 4 | low)
        index += 2
    }
    return bytes
}

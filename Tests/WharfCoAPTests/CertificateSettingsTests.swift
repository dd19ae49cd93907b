import Testing
import WharfConfig

@testable import WharfCoAP

/// A `dtls:` section (lines indented by six) of an enabled DTLS server.
private func dtls(_ lines: String) -> String {
    "    dtls:\n      enabled: true\n" + lines
}

@Test func serverCertificateNeedsACAFile() {
    let found = issues(
        dtls(
            """
                  cert_file: /etc/wharf/coap.crt
                  key_file: /etc/wharf/coap.key
                  certificates:
                    - { subject: gw-1 }

            """))
    let issue = found.first { $0.path == "adapters[0].dtls.ca_file" }
    #expect(issue?.message.contains("required with cert_file") == true, "\(found)")
    #expect(issue?.line == 6)
}

@Test func certificateSubjectsNeedAServerCertificate() {
    let found = issues(
        dtls(
            """
                  psk:
                    - { identity: a, key: k }
                  certificates:
                    - { subject: gw-1 }

            """))
    #expect(found.contains { $0.path == "adapters[0].dtls.certificates" && $0.message.contains("cert_file") })
}

@Test func serverCertificateWithoutSubjectsIsReported() {
    for list in ["", "      certificates: []\n"] {
        let found = issues(
            dtls(
                """
                      cert_file: /etc/wharf/coap.crt
                      key_file: /etc/wharf/coap.key
                      ca_file: /etc/wharf/ca.crt

                """ + list))
        #expect(found.contains { $0.path == "adapters[0].dtls.certificates" }, "\(found)")
    }
}

@Test func subjectsListedTwiceEmptyOrWithControlCharactersAreReported() {
    let found = issues(
        dtls(
            """
                  cert_file: /etc/wharf/coap.crt
                  key_file: /etc/wharf/coap.key
                  ca_file: /etc/wharf/ca.crt
                  certificates:
                    - { subject: gw-1 }
                    - { subject: gw-1 }
                    - { subject: "" }
                    - { subject: "a\\tb" }
                    - { publish: ["#"] }

            """))
    let paths = found.map(\.path)
    #expect(paths.contains("adapters[0].dtls.certificates[1].subject"))
    #expect(paths.contains("adapters[0].dtls.certificates[2].subject"))
    #expect(paths.contains("adapters[0].dtls.certificates[3].subject"))
    #expect(paths.contains("adapters[0].dtls.certificates[4].subject"))
}

@Test func misspeltKeysInSectionsAreReported() {
    let found = issues(
        """
            ingest:
              topik: "{path}"
            observe:
              confirmabel: true
            dtls:
              enabled: true
              psk:
                - { identity: a, key: k }
              ca_fille: /etc/wharf/ca.crt

        """)
    let paths = found.map(\.path)
    #expect(paths.contains("adapters[0].ingest.topik"))
    #expect(paths.contains("adapters[0].observe.confirmabel"))
    #expect(paths.contains("adapters[0].dtls.ca_fille"))
}

@Test func emptyCertificateSettingsAreNoCertificate() {
    let found = issues(
        dtls(
            """
                  psk:
                    - { identity: a, key: k }
                  cert_file: ""
                  key_file: ""
                  ca_file: ""

            """))
    #expect(found.isEmpty, "\(found)")
}

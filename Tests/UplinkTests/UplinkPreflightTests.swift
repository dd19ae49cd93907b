import Foundation
import Synchronization
import Testing

@testable import Uplink

/// The checks remote configuration runs on a changed uplink endpoint or TLS setting before applying it.
@Suite struct UplinkPreflightTests {
    /// A configuration for `host` with `tls`, everything else at its default.
    private func configuration(host: String = "127.0.0.1", tls: UplinkTLS? = nil) -> UplinkConfiguration {
        UplinkConfiguration(
            host: host, port: 8883, tls: tls, clientIdentifier: "wharf-gw1", statusTopic: "wharf/gw1/status")
    }

    // MARK: Host

    @Test(arguments: ["localhost", "127.0.0.1", "::1"])
    func aHostThatResolvesOverTCPHasNoProblem(host: String) async {
        #expect(await UplinkPreflight.problems(configuration(host: host)) == [])
    }

    @Test func aNameThatDoesNotResolveIsAProblemAtTheHost() async {
        // .invalid never resolves (RFC 6761); the resolver says so at once, online or not.
        let problems = await UplinkPreflight.problems(configuration(host: "no-such-host.invalid"))
        #expect(problems.map(\.path) == ["uplink.host"])
        #expect(problems.first?.message.contains("'no-such-host.invalid'") == true)
    }

    @Test func anEmptyHostIsAProblem() async {
        let problems = await UplinkPreflight.problems(configuration(host: ""))
        #expect(problems == [UplinkPreflightProblem(path: "uplink.host", message: "no host is set")])
    }

    @Test func everyEndpointIsCheckedAndNamedByItsPlaceInTheList() async {
        var configuration = configuration()
        configuration.endpoints = [
            UplinkEndpoint(host: "good.example", port: 8883, keyPath: "uplink.endpoints[0]"),
            UplinkEndpoint(host: "bad.example", port: 8883, keyPath: "uplink.endpoints[1]"),
            UplinkEndpoint(host: "10.0.0.3", port: 8883, keyPath: "uplink.endpoints[2]"),
            UplinkEndpoint(host: "worse.example", port: 8883, keyPath: "uplink.endpoints[3]"),
        ]
        let environment = PreflightEnvironment(
            resolve: { $0.hasPrefix("good") ? nil : "Name or service not known" }, sleep: Self.sleepUntilCancelled)
        let problems = await UplinkPreflight.problems(
            configuration, resolveTimeout: .seconds(5), environment: environment)
        #expect(problems.map(\.path) == ["uplink.endpoints[1]", "uplink.endpoints[3]"])
        #expect(problems.first?.message.contains("'bad.example'") == true)
    }

    @Test func theResolversReasonIsReported() async {
        let environment = PreflightEnvironment(
            resolve: { _ in "Name or service not known" }, sleep: Self.sleepUntilCancelled)
        let problems = await UplinkPreflight.problems(
            configuration(host: "broker.example"), resolveTimeout: .seconds(5), environment: environment)
        #expect(
            problems == [
                UplinkPreflightProblem(
                    path: "uplink.host", message: "cannot resolve 'broker.example': Name or service not known")
            ])
    }

    @Test func aLookupThatOutlivesTheTimeoutIsGivenUpOn() async {
        // The lookup blocks until the end of the test; the timer fires at once. Should the timer be
        // ignored, the lookup ends as resolved after a while, so the test fails instead of hanging.
        let release = DispatchSemaphore(value: 0)
        defer { release.signal() }
        let environment = PreflightEnvironment(
            resolve: { _ in
                _ = release.wait(timeout: .now() + 30)
                return nil
            }, sleep: { _ in })
        let problems = await UplinkPreflight.problems(
            configuration(host: "broker.example"), resolveTimeout: .seconds(5), environment: environment)
        #expect(
            problems == [
                UplinkPreflightProblem(path: "uplink.host", message: "'broker.example' did not resolve within 5s")
            ])
    }

    @Test func aLookupThatAnswersBeforeTheTimeoutWins() async {
        let environment = PreflightEnvironment(resolve: { _ in nil }, sleep: Self.sleepUntilCancelled)
        let problems = await UplinkPreflight.problems(
            configuration(host: "broker.example"), resolveTimeout: .seconds(5), environment: environment)
        #expect(problems == [])
    }

    @Test func onlyTheHostIsLookedUpAndNeverAnIPAddress() async {
        let asked = Mutex<[String]>([])
        let environment = PreflightEnvironment(
            resolve: { host in
                asked.withLock { $0.append(host) }
                return nil
            }, sleep: Self.sleepUntilCancelled)
        for host in ["127.0.0.1", "::1", "broker.example"] {
            let tls = UplinkTLS(serverName: "name-on-the-certificate.example")
            _ = await UplinkPreflight.problems(
                configuration(host: host, tls: tls), resolveTimeout: .seconds(5), environment: environment)
        }
        #expect(asked.withLock { $0 } == ["broker.example"])
    }

    @Test func aCancelledCheckDoesNotPass() async {
        let environment = PreflightEnvironment(resolve: { _ in nil }, sleep: Self.sleepUntilCancelled)
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await UplinkPreflight.problems(
                configuration(host: "broker.example"), resolveTimeout: .seconds(5), environment: environment)
        }
        let problems = await task.value
        #expect(problems.map(\.path) == ["uplink.host"])
    }

    private static let sleepUntilCancelled: @Sendable (Duration) async -> Void = { _ in
        try? await Task.sleep(for: .seconds(3600))
    }

    // MARK: TLS files

    @Test func theCAAndAMatchingClientPairHaveNoProblem() async throws {
        let files = try PreflightFiles()
        defer { files.remove() }
        let tls = UplinkTLS(
            caFile: files.certificates.caFile, certificateFile: files.certificates.clientCertificate,
            privateKeyFile: files.certificates.clientKey)
        #expect(await UplinkPreflight.problems(configuration(tls: tls)) == [])
    }

    @Test func aMissingCAFileIsAProblem() async throws {
        let files = try PreflightFiles()
        defer { files.remove() }
        let missing = files.path("missing-ca.crt")
        let problems = await UplinkPreflight.problems(configuration(tls: UplinkTLS(caFile: missing)))
        #expect(
            problems == [UplinkPreflightProblem(path: "uplink.tls.ca_file", message: "'\(missing)' does not exist")])
    }

    @Test func aCAFileThatIsNotPEMIsAProblem() async throws {
        let files = try PreflightFiles()
        defer { files.remove() }
        let notPEM = try files.write("ca.txt", "these are not the certificates you are looking for\n")
        let problems = await UplinkPreflight.problems(configuration(tls: UplinkTLS(caFile: notPEM)))
        #expect(problems.map(\.path) == ["uplink.tls.ca_file"])
        #expect(problems.first?.message.hasPrefix("'\(notPEM)' is not a PEM CA bundle") == true)
    }

    @Test func aDamagedPEMCertificateIsAProblem() async throws {
        let files = try PreflightFiles()
        defer { files.remove() }
        let damaged = try files.write(
            "damaged.crt", "-----BEGIN CERTIFICATE-----\nMIIBdGhpcyBpcyBub3QgREVS\n-----END CERTIFICATE-----\n")
        let problems = await UplinkPreflight.problems(configuration(tls: UplinkTLS(caFile: damaged)))
        #expect(
            problems == [
                UplinkPreflightProblem(
                    path: "uplink.tls.ca_file", message: "'\(damaged)' holds a PEM certificate that cannot be parsed")
            ])
    }

    @Test func anEmptyFileIsAProblem() async throws {
        let files = try PreflightFiles()
        defer { files.remove() }
        let empty = try files.write("empty.crt", "")
        let problems = await UplinkPreflight.problems(configuration(tls: UplinkTLS(caFile: empty)))
        #expect(problems == [UplinkPreflightProblem(path: "uplink.tls.ca_file", message: "'\(empty)' is empty")])
    }

    @Test func aCADirectoryIsTakenAsItIs() async throws {
        let files = try PreflightFiles()
        defer { files.remove() }
        let problems = await UplinkPreflight.problems(
            configuration(tls: UplinkTLS(caFile: files.certificates.directory.path)))
        #expect(problems == [])
    }

    @Test func aFIFOIsRefusedRatherThanWaitedOn() async throws {
        let files = try PreflightFiles()
        defer { files.remove() }
        let fifo = files.path("ca.fifo")
        try #require(mkfifo(fifo, 0o600) == 0)
        // Should the check wait for a writer, one comes after a while and notes that it found a reader
        // waiting, so the test fails instead of hanging. Once the test is over it finds nothing to open.
        let readerWasWaiting = Mutex(false)
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: 30)
            let writer = open(fifo, O_WRONLY | O_NONBLOCK)
            guard writer >= 0 else { return }
            readerWasWaiting.withLock { $0 = true }
            close(writer)
        }
        let problems = await UplinkPreflight.problems(configuration(tls: UplinkTLS(caFile: fifo)))
        #expect(
            problems == [UplinkPreflightProblem(path: "uplink.tls.ca_file", message: "'\(fifo)' is not a regular file")]
        )
        #expect(!readerWasWaiting.withLock { $0 })
    }

    @Test func aKeyOfAnotherPairDoesNotMatchTheCertificate() async throws {
        let files = try PreflightFiles()
        defer { files.remove() }
        let certificate = files.certificates.clientCertificate
        let key = files.certificates.serverKey
        let tls = UplinkTLS(caFile: files.certificates.caFile, certificateFile: certificate, privateKeyFile: key)
        let problems = await UplinkPreflight.problems(configuration(tls: tls))
        #expect(
            problems == [
                UplinkPreflightProblem(
                    path: "uplink.tls.key_file", message: "'\(key)' does not match the certificate '\(certificate)'")
            ])
    }

    @Test func aKeyOfAnotherTypeDoesNotMatchTheCertificate() async throws {
        let files = try PreflightFiles()
        defer { files.remove() }
        let certificate = files.certificates.clientCertificate
        let key = try files.write("ed25519.key", PreflightFiles.ed25519Key)
        let tls = UplinkTLS(certificateFile: certificate, privateKeyFile: key)
        let problems = await UplinkPreflight.problems(configuration(tls: tls))
        #expect(
            problems == [
                UplinkPreflightProblem(
                    path: "uplink.tls.key_file", message: "'\(key)' does not match the certificate '\(certificate)'")
            ])
    }

    @Test func aMissingKeyFileIsAProblemAndNothingIsMatchedAgainstIt() async throws {
        let files = try PreflightFiles()
        defer { files.remove() }
        let missing = files.path("missing.key")
        let tls = UplinkTLS(certificateFile: files.certificates.clientCertificate, privateKeyFile: missing)
        let problems = await UplinkPreflight.problems(configuration(tls: tls))
        #expect(
            problems == [UplinkPreflightProblem(path: "uplink.tls.key_file", message: "'\(missing)' does not exist")])
    }

    @Test func anEncryptedKeyIsAProblem() async throws {
        let files = try PreflightFiles()
        defer { files.remove() }
        let key = try files.write("encrypted.key", PreflightFiles.encryptedKey)
        let tls = UplinkTLS(certificateFile: files.certificates.clientCertificate, privateKeyFile: key)
        let problems = await UplinkPreflight.problems(configuration(tls: tls))
        #expect(
            problems == [
                UplinkPreflightProblem(
                    path: "uplink.tls.key_file",
                    message: "'\(key)' is an encrypted private key; the uplink needs it unencrypted")
            ])
    }

    @Test func aCertificateGivenAsTheKeyIsAProblem() async throws {
        let files = try PreflightFiles()
        defer { files.remove() }
        let certificate = files.certificates.clientCertificate
        let problems = await UplinkPreflight.problems(
            configuration(tls: UplinkTLS(certificateFile: certificate, privateKeyFile: certificate)))
        #expect(problems.map(\.path) == ["uplink.tls.key_file"])
        #expect(problems.first?.message.hasPrefix("'\(certificate)' is not a PEM private key") == true)
    }

    @Test func aKeyGivenAsTheCertificateIsAProblem() async throws {
        let files = try PreflightFiles()
        defer { files.remove() }
        let key = files.certificates.clientKey
        let problems = await UplinkPreflight.problems(
            configuration(tls: UplinkTLS(certificateFile: key, privateKeyFile: key)))
        #expect(problems.map(\.path) == ["uplink.tls.cert_file"])
        #expect(problems.first?.message.hasPrefix("'\(key)' is not a PEM certificate chain") == true)
    }

    @Test func aCertificateFileThatIsADirectoryIsAProblem() async throws {
        let files = try PreflightFiles()
        defer { files.remove() }
        let directory = files.certificates.directory.path
        let tls = UplinkTLS(certificateFile: directory, privateKeyFile: files.certificates.clientKey)
        let problems = await UplinkPreflight.problems(configuration(tls: tls))
        #expect(
            problems == [UplinkPreflightProblem(path: "uplink.tls.cert_file", message: "'\(directory)' is a directory")]
        )
    }

    @Test func aCertificateWithoutAKeyIsAProblemAtTheCertificate() async throws {
        let files = try PreflightFiles()
        defer { files.remove() }
        let certificate = files.certificates.clientCertificate
        let problems = await UplinkPreflight.problems(configuration(tls: UplinkTLS(certificateFile: certificate)))
        #expect(
            problems == [
                UplinkPreflightProblem(
                    path: "uplink.tls.cert_file",
                    message: "'\(certificate)' is given without key_file; a client certificate needs both")
            ])
    }

    @Test func aKeyWithoutACertificateIsAProblemAtTheKey() async throws {
        let files = try PreflightFiles()
        defer { files.remove() }
        let key = files.certificates.clientKey
        let problems = await UplinkPreflight.problems(configuration(tls: UplinkTLS(privateKeyFile: key)))
        #expect(
            problems == [
                UplinkPreflightProblem(
                    path: "uplink.tls.key_file",
                    message: "'\(key)' is given without cert_file; a client certificate needs both")
            ])
    }

    @Test func everyProblemIsReportedInTheOrderOfTheKeys() async throws {
        let files = try PreflightFiles()
        defer { files.remove() }
        let tls = UplinkTLS(
            caFile: files.path("missing-ca.crt"), certificateFile: files.path("missing.crt"),
            privateKeyFile: files.path("missing.key"))
        let problems = await UplinkPreflight.problems(configuration(host: "no-such-host.invalid", tls: tls))
        #expect(
            problems.map(\.path) == [
                "uplink.host", "uplink.tls.ca_file", "uplink.tls.cert_file", "uplink.tls.key_file",
            ])
    }
}

/// The test certificates plus room for files of other kinds, in one temporary directory.
private struct PreflightFiles {
    let certificates: TestCertificates

    init() throws { certificates = try TestCertificates() }

    func path(_ name: String) -> String { certificates.directory.appendingPathComponent(name).path }

    /// Writes `contents` to `name` in the directory and returns its path.
    func write(_ name: String, _ contents: String) throws -> String {
        let file = path(name)
        try contents.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    func remove() { certificates.remove() }

    /// An Ed25519 key: a valid private key of another type than the test certificates' P-256 keys.
    static let ed25519Key = """
        -----BEGIN PRIVATE KEY-----
        MC4CAQAwBQYDK2VwBCIEIMrbAReq+S0lChLnNeaJSjshz9t4wNSKWNxR+0iHCFem
        -----END PRIVATE KEY-----

        """

    /// The same key encrypted with a passphrase (`openssl pkey -aes256`).
    static let encryptedKey = """
        -----BEGIN ENCRYPTED PRIVATE KEY-----
        MIGbMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAi0MIBPiW96gwICCAAw
        DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEEIHm3hYoBdRf1YpXcLn/VCcEQL3A
        /xqSMKYLtX/gJLP3b8NGmMOzJ0yrS5VA//dMUbQjMj2jcP6x12PYD2IOjIEVlqYn
        GC3GLxK/1sdXNH0qOmM=
        -----END ENCRYPTED PRIVATE KEY-----

        """
}

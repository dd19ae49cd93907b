/// One problem found by `UplinkPreflight`, with the configuration key path it concerns.
public struct UplinkPreflightProblem: Sendable, Equatable {
    /// The key path in the configuration file (`uplink.host`, `uplink.endpoints[1]`, `uplink.tls.key_file`).
    public var path: String
    /// What is wrong, naming the host or file and the reason.
    public var message: String

    /// Creates a problem.
    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }
}

/// Checks of the uplink's connection settings that need no connection, run before a changed
/// endpoint or TLS setting is applied, so that a change which cannot work is rejected instead of
/// cutting the gateway off from the cloud that would have to send the fix.
public enum UplinkPreflight {
    /// Checks what can be checked without connecting: every endpoint's host resolves (getaddrinfo, bounded by
    /// `resolveTimeout`), the TLS files exist, parse (CA bundle, certificate chain, private key, PEM), and
    /// the private key matches the certificate's public key.
    public static func problems(
        _ configuration: UplinkConfiguration, resolveTimeout: Duration = .seconds(5)
    ) async -> [UplinkPreflightProblem] {
        await problems(configuration, resolveTimeout: resolveTimeout, environment: .system)
    }

    /// The checks with the name lookup and the timer supplied by the caller.
    static func problems(
        _ configuration: UplinkConfiguration, resolveTimeout: Duration, environment: PreflightEnvironment
    ) async -> [UplinkPreflightProblem] {
        // The files are read on a thread of their own while the name resolves: both may block.
        async let tlsProblems = onDedicatedThread { [tls = configuration.tls] in
            tls.map(tlsFileProblems) ?? []
        }
        // Every endpoint, in order: a failover to a broker whose name does not resolve would fail too.
        let hosts = await withTaskGroup(of: (Int, [UplinkPreflightProblem]).self) { group in
            for (index, endpoint) in configuration.endpoints.enumerated() {
                group.addTask {
                    let problems = await hostProblems(
                        endpoint.host, path: endpoint.keyPath, resolveTimeout: resolveTimeout, environment: environment)
                    return (index, problems)
                }
            }
            var found: [(Int, [UplinkPreflightProblem])] = []
            for await answer in group { found.append(answer) }
            return found.sorted { $0.0 < $1.0 }.flatMap(\.1)
        }
        let noEndpoint =
            configuration.endpoints.isEmpty
            ? [UplinkPreflightProblem(path: "uplink.host", message: "no host is set")] : []
        return noEndpoint + hosts + (await tlsProblems)
    }
}

/// How the preflight looks names up and waits; tests replace both so nothing depends on the
/// network or on elapsed time.
struct PreflightEnvironment: Sendable {
    /// Resolves a host name, blocking; returns why it failed, nil when it resolved.
    var resolve: @Sendable (String) -> String?
    /// Returns once the duration has passed or the task is cancelled.
    var sleep: @Sendable (Duration) async -> Void

    /// getaddrinfo and the continuous clock.
    static let system = PreflightEnvironment(
        resolve: UplinkPreflight.systemResolve,
        sleep: { duration in try? await Task.sleep(for: duration) }
    )
}

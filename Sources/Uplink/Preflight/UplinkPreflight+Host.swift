import NIOCore
import WharfCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// How a name lookup ended.
enum HostLookup: Sendable, Equatable {
    case resolved
    case failed(String)
    case timedOut
}

extension UplinkPreflight {
    /// The problem with `host` (configured at `path`), if it is neither an IP address nor a name that
    /// resolves in time.
    static func hostProblems(
        _ host: String, path: String = "uplink.host", resolveTimeout: Duration, environment: PreflightEnvironment
    ) async -> [UplinkPreflightProblem] {
        if host.isEmpty {
            return [UplinkPreflightProblem(path: path, message: "no host is set")]
        }
        if (try? SocketAddress(ipAddress: host, port: 0)) != nil { return [] }
        switch await lookUp(host, timeout: resolveTimeout, environment: environment) {
        case .resolved:
            return []
        case .failed(let reason):
            return [UplinkPreflightProblem(path: path, message: "cannot resolve '\(host)': \(reason)")]
        case .timedOut:
            return [
                UplinkPreflightProblem(
                    path: path, message: "'\(host)' did not resolve within \(describe(resolveTimeout))")
            ]
        }
    }

    /// Resolves `host` on a thread of its own and gives up after `timeout`. getaddrinfo cannot be
    /// cancelled: a lookup that outlives the timeout finishes on its thread and its answer is dropped.
    static func lookUp(_ host: String, timeout: Duration, environment: PreflightEnvironment) async -> HostLookup {
        await withTaskGroup(of: HostLookup?.self) { group in
            group.addTask {
                await abandonable { environment.resolve(host).map(HostLookup.failed) ?? .resolved }
            }
            group.addTask {
                await environment.sleep(timeout)
                return Task.isCancelled ? nil : .timedOut
            }
            // A child answers nil only when cancelled: after the first answer, or when the caller
            // gave up, which must not read as a host that resolved.
            var outcome = HostLookup.failed("the check was cancelled")
            for await answer in group {
                guard let answer else { continue }
                outcome = answer
                break
            }
            group.cancelAll()
            return outcome
        }
    }

    /// getaddrinfo for any address family; the failure as the resolver words it.
    static func systemResolve(_ host: String) -> String? {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &result)
        if status == 0 {
            freeaddrinfo(result)
            return nil
        }
        if status == EAI_SYSTEM { return String(cString: strerror(errno)) }
        return String(cString: gai_strerror(status))
    }

    /// A timeout as written in the configuration: whole seconds as "5s", anything else in milliseconds.
    static func describe(_ duration: Duration) -> String {
        let milliseconds = duration.milliseconds
        return milliseconds % 1000 == 0 ? "\(milliseconds / 1000)s" : "\(milliseconds)ms"
    }
}

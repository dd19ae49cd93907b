import AdminAPI
import Broker
import NIOPosix
import NIOSSL
import WharfAuth
import WharfConfig
import WharfSupport

extension Daemon {
    /// The admin API's password check: the password file (`admin.password_file`, else the
    /// broker's) is read at each login, so that `wharfctl passwd` applies at once, and checked on
    /// NIO's thread pool, off the event loops and the admin API's tasks.
    static func adminPasswordCheck(_ configuration: WharfConfiguration) -> AdminAccess.PasswordCheck {
        let own = configuration.admin.passwordFile?.path
        let path = own ?? configuration.broker.passwordFile
        let role = own != nil ? "admin password file (admin.password_file)" : "password file (broker.password_file)"
        return { user, password in
            guard !path.isEmpty else {
                return .unavailable("no password file is configured (admin.password_file or broker.password_file)")
            }
            // As for MQTT clients: an empty password is never a valid one.
            guard !password.isEmpty else { return .refused }
            do {
                return try await NIOThreadPool.singleton.runIfActive {
                    let file = try MQTTBroker.loadPasswordFile(path, role: role)
                    return file.verify(user: user, password: Array(password.utf8)) ? .accepted : .refused
                }
            } catch {
                return .unavailable("\(error)")
            }
        }
    }

    /// The server side of `admin.tls`, or `nil` without it; every problem with its files is a
    /// start-up error that names the file, line and key, as for the broker's TLS listeners.
    static func adminTLS(_ admin: AdminConfig) throws(StartupError) -> TLSConfiguration? {
        guard admin.enabled, let tls = admin.tls else { return nil }
        let problems = ListenerTLS.problems(tls)
        guard problems.isEmpty else {
            throw StartupError(problems.map(\.description).joined(separator: "\n"), exitCode: 1)
        }
        do {
            return try ListenerTLS.serverConfiguration(tls, role: "the admin API (admin.tls)")
        } catch {
            throw StartupError(error.description, exitCode: 1)
        }
    }
}

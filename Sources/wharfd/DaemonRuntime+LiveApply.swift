import AdminAPI
import Broker
import WharfAuth
import WharfConfig
import WharfGateway

/// Why a live apply changed nothing.
enum LiveApplyFailure: Error {
    /// The password file or the ACL cannot be read or parsed.
    case accessControl(String)
    /// An adapter cannot be built from its section.
    case adapters([ConfigIssue])
}

extension DaemonRuntime {
    /// Applies what can change without dropping a client, as SIGHUP and remote configuration both
    /// do: the adapters (only the changed ones restart), access control (password file, ACL,
    /// anonymous and empty-password rules) and log levels. Everything is checked first, so a
    /// failure changes nothing. Records and returns the configuration now in effect, with the
    /// adapters stopped and started.
    func applyLive(_ next: WharfConfiguration, file: String, levels: LogLevels) throws(LiveApplyFailure) -> (
        effective: WharfConfiguration, stopped: [String], started: [String]
    ) {
        // The password file and the ACL are read again even when the config is unchanged:
        // `wharfctl passwd` edits the file, then the daemon is reloaded.
        let control: AccessControl
        do {
            control = try MQTTBroker.loadAccessControl(next.broker)
        } catch {
            throw .accessControl("\(error)")
        }
        let changes: (stopped: [String], started: [String])
        do {
            changes = try supervisor.apply(next.adapters, file: file)
        } catch {
            throw .adapters(error.issues)
        }
        gateway.broker.updateAccessControl(control)
        levels.update(next.log)
        var effective = configuration
        effective.adapters = next.adapters
        effective.log = next.log
        effective.broker.allowAnonymous = next.broker.allowAnonymous
        effective.broker.allowEmptyPasswords = next.broker.allowEmptyPasswords
        effective.broker.passwordFile = next.broker.passwordFile
        effective.broker.aclFile = next.broker.aclFile
        applied(effective)
        return (effective, changes.stopped, changes.started)
    }
}

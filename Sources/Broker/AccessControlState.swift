import Synchronization
import WharfAuth

/// The broker's current credentials and ACL, shared by connections and the router and
/// replaced as a whole on reload. Routing without an ACL costs one atomic load.
final class AccessControlState: Sendable {
    private let value: Mutex<AccessControl>
    private let aclActive: Atomic<Bool>

    init(_ initial: AccessControl) {
        value = Mutex(initial)
        aclActive = Atomic(initial.acl != nil)
    }

    /// Passwords that verified before; valid across updates, since each entry is tied to the
    /// stored hash it was checked against.
    private let verified = VerifiedCredentials()

    /// The whole bundle.
    var current: AccessControl { value.withLock { $0 } }

    /// Checks CONNECT credentials against the current password file.
    func authenticate(username: String?, password: [UInt8]?) -> AccessControl.Decision {
        current.authenticate(username: username, password: password, cache: verified)
    }

    /// Whether ``authenticate(username:password:)`` would derive a password hash: such checks
    /// run on the thread pool, never on an event loop.
    func needsHashComputation(username: String?, password: [UInt8]?) -> Bool {
        current.needsHashComputation(username: username, password: password, cache: verified)
    }

    /// The ACL, or `nil` when every client may read and write everything.
    var acl: AccessControlList? {
        guard aclActive.load(ordering: .acquiring) else { return nil }
        return value.withLock { $0.acl }
    }

    /// The rules every publish, subscribe and delivery is checked by, with the current ACL.
    var authorizer: Authorizer { Authorizer(acl: acl) }

    func update(_ control: AccessControl) {
        value.withLock { $0 = control }
        aclActive.store(control.acl != nil, ordering: .releasing)
    }
}

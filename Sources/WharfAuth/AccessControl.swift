/// Everything the broker needs to admit clients and authorize their topics; swapped as one
/// value when the files are reloaded.
public struct AccessControl: Sendable, Equatable {
    /// Whether clients without a user name are admitted (`allow_anonymous`).
    public var allowAnonymous: Bool
    /// Users and their hashes (`password_file`); `nil` when none is configured.
    public var passwords: PasswordFile?
    /// Topic rules (`acl_file`); `nil` lets every client read and write everything.
    public var acl: AccessControlList?
    /// Whether an empty password may match a password file entry (`allow_empty_passwords`).
    /// Off, an empty password is refused without looking at the file: `mosquitto_passwd -b`
    /// writes entries for the empty password, and such an account is open to anyone.
    public var allowEmptyPasswords: Bool

    /// Creates the bundle.
    public init(
        allowAnonymous: Bool,
        allowEmptyPasswords: Bool = false,
        passwords: PasswordFile? = nil,
        acl: AccessControlList? = nil
    ) {
        self.allowAnonymous = allowAnonymous
        self.allowEmptyPasswords = allowEmptyPasswords
        self.passwords = passwords
        self.acl = acl
    }

    /// The outcome of checking CONNECT credentials.
    public enum Decision: Sendable, Equatable {
        /// The client may connect.
        case accepted
        /// No user name, and anonymous clients are not allowed (CONNACK Not authorized).
        case anonymousRefused
        /// Unknown user, wrong, missing or (unless allowed) empty password, or no password
        /// file to check against (CONNACK Bad user name or password).
        case credentialsRefused
    }

    /// Checks CONNECT credentials. Without a password file, a user name is taken on trust when
    /// anonymous access is allowed (as Mosquitto does) and refused otherwise. `cache` spares
    /// a client whose password verified before the full hash computation.
    public func authenticate(
        username: String?,
        password: [UInt8]?,
        cache: VerifiedCredentials? = nil
    ) -> Decision {
        guard let username else { return allowAnonymous ? .accepted : .anonymousRefused }
        guard let passwords else { return allowAnonymous ? .accepted : .credentialsRefused }
        guard let password, !password.isEmpty || allowEmptyPasswords else { return .credentialsRefused }
        let verified: Bool
        if let cache, let hash = passwords.hash(for: username) {
            verified = cache.verify(user: username, password: password, against: hash)
        } else {
            verified = passwords.verify(user: username, password: password)
        }
        return verified ? .accepted : .credentialsRefused
    }
}

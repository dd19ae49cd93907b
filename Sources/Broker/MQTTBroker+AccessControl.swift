import Logging
public import WharfAuth
public import WharfConfig

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension MQTTBroker {
    /// Replaces the password file, ACL and `allow_anonymous` at run time (for a SIGHUP reload).
    /// New CONNECTs use the new credentials; every later subscribe, publish and delivery uses
    /// the new ACL, for clients already connected too, and messages already queued or in flight
    /// for a client that may no longer read their topic are dropped.
    public func updateAccessControl(_ control: AccessControl) {
        accessControl.update(control)
        purgeUnreadableMessages()
        logger.info(
            "access control updated",
            metadata: [
                "auth.users": "\(control.passwords?.users.count ?? 0)",
                "auth.acl": "\(control.acl != nil)",
                "auth.allow_anonymous": "\(control.allowAnonymous)",
            ]
        )
    }

    /// Reads the files named by `config` and swaps them in; on error the current ones stay.
    public func reloadAccessControl(_ config: BrokerConfig) throws(AuthFileError) {
        updateAccessControl(try Self.loadAccessControl(config))
    }

    /// Reads and parses `password_file` and `acl_file`; errors name the file and line.
    public static func loadAccessControl(_ config: BrokerConfig) throws(AuthFileError) -> AccessControl {
        var control = AccessControl(
            allowAnonymous: config.allowAnonymous, allowEmptyPasswords: config.allowEmptyPasswords)
        if !config.passwordFile.isEmpty {
            let text = try readFile(config.passwordFile, role: "password file (broker.password_file)")
            control.passwords = try PasswordFile(parsing: text, file: config.passwordFile)
        }
        if !config.aclFile.isEmpty {
            let text = try readFile(config.aclFile, role: "ACL file (broker.acl_file)")
            control.acl = try AccessControlList(parsing: text, file: config.aclFile)
        }
        return control
    }

    /// Reads and parses a password file other than the broker's (the admin API's logins); `role`
    /// names it in errors, such as `admin password file (admin.password_file)`.
    public static func loadPasswordFile(_ path: String, role: String) throws(AuthFileError) -> PasswordFile {
        try PasswordFile(parsing: try readFile(path, role: role), file: path)
    }

    /// What the broker enforces before any file is loaded: a configured password file that
    /// was not read yet admits nobody, and a configured ACL that was not read yet allows nothing.
    static func initialAccessControl(_ config: BrokerConfig) -> AccessControl {
        AccessControl(
            allowAnonymous: config.allowAnonymous && config.passwordFile.isEmpty,
            passwords: config.passwordFile.isEmpty ? nil : PasswordFile(),
            acl: config.aclFile.isEmpty ? nil : AccessControlList()
        )
    }

    private static func readFile(_ path: String, role: String) throws(AuthFileError) -> String {
        guard let file = fopen(path, "rb") else {
            let reason = String(cString: strerror(errno))
            throw AuthFileError(file: path, line: 0, message: "cannot read the \(role): \(reason)")
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = fread(&chunk, 1, chunk.count, file)
            bytes.append(contentsOf: chunk[0..<count])
            if count < chunk.count {
                if ferror(file) != 0 {
                    throw AuthFileError(file: path, line: 0, message: "cannot read the \(role): read error")
                }
                break
            }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw AuthFileError(file: path, line: 0, message: "the \(role) is not UTF-8 text")
        }
        return text
    }
}

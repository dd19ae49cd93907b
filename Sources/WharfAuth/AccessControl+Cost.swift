extension AccessControl {
    /// Whether ``authenticate(username:password:cache:)`` would derive a password hash for these
    /// credentials: a password given for a user of the password file (or an unknown user, which
    /// costs a decoy hash) that `cache` does not hold. Such a check takes milliseconds of CPU, so
    /// a server runs it off its event loops; every other decision is immediate.
    public func needsHashComputation(username: String?, password: [UInt8]?, cache: VerifiedCredentials?) -> Bool {
        guard let username, let passwords, let password else { return false }
        guard let cache, let hash = passwords.hash(for: username) else { return true }
        return !cache.remembers(user: username, password: password, hash: hash)
    }
}

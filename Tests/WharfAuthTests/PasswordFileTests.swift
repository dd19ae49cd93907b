import Testing
import WharfAuth

struct PasswordFileTests {
    static let hash = PasswordHash(hashing: "pw", salt: Array("saltsaltsalt".utf8), iterations: 1000)

    @Test func keepsCommentsAndOrderWhenEditing() throws {
        let text = "# gateway users\nalice:\(Self.hash.encoded)\n\nbob:\(Self.hash.encoded)\n"
        var file = try PasswordFile(parsing: text, file: "pw")
        #expect(file.users == ["alice", "bob"])
        #expect(file.text == text)
        file.set(user: "carol", hash: Self.hash)
        file.remove(user: "alice")
        #expect(file.users == ["bob", "carol"])
        #expect(file.text == "# gateway users\n\nbob:\(Self.hash.encoded)\ncarol:\(Self.hash.encoded)\n")
        let removedNobody = file.remove(user: "nobody")
        #expect(!removedNobody)
    }

    @Test(arguments: [
        ("alice:\(hash.encoded)\nbroken line\n", 2, "no ':'"),
        ("# c\n:\(hash.encoded)\n", 2, "empty user name"),
        ("alice:plaintext\n", 1, "not a Mosquitto 2 hash"),
        ("a:\(hash.encoded)\n\n\na:\(hash.encoded)\n", 4, "appears twice"),
    ])
    func reportsTheLineOfAProblem(_ text: String, _ line: Int, _ fragment: String) {
        #expect {
            try PasswordFile(parsing: text, file: "/etc/wharf/passwd")
        } throws: { error in
            guard let error = error as? AuthFileError else { return false }
            return error.line == line && error.description.hasPrefix("/etc/wharf/passwd:\(line): ")
                && error.message.contains(fragment)
        }
    }

    @Test func acceptsCRLFAndBlanks() throws {
        let file = try PasswordFile(parsing: "  alice : \(Self.hash.encoded) \r\n", file: "pw")
        #expect(file.verify(user: "alice", password: Array("pw".utf8)))
    }

    @Test func authenticationDecisions() throws {
        let passwords = try PasswordFile(parsing: "alice:\(Self.hash.encoded)\n", file: "pw")
        let closed = AccessControl(allowAnonymous: false, passwords: passwords)
        #expect(closed.authenticate(username: "alice", password: Array("pw".utf8)) == .accepted)
        #expect(closed.authenticate(username: "alice", password: Array("no".utf8)) == .credentialsRefused)
        #expect(closed.authenticate(username: "alice", password: nil) == .credentialsRefused)
        #expect(closed.authenticate(username: "eve", password: Array("pw".utf8)) == .credentialsRefused)
        #expect(closed.authenticate(username: nil, password: nil) == .anonymousRefused)
        let open = AccessControl(allowAnonymous: true, passwords: passwords)
        #expect(open.authenticate(username: nil, password: nil) == .accepted)
        #expect(open.authenticate(username: "alice", password: Array("no".utf8)) == .credentialsRefused)
        #expect(AccessControl(allowAnonymous: false).authenticate(username: "x", password: nil) == .credentialsRefused)
        #expect(AccessControl(allowAnonymous: true).authenticate(username: "x", password: nil) == .accepted)
    }

    /// `mosquitto_passwd -b FILE USER ""` writes an entry for the empty password.
    @Test func emptyPasswordIsRefusedUnlessAllowed() throws {
        let empty = PasswordHash(hashing: "", iterations: 10)
        let passwords = try PasswordFile(parsing: "blank:\(empty.encoded)\nalice:\(Self.hash.encoded)\n", file: "pw")
        #expect(passwords.verify(user: "blank", password: []))
        for allowAnonymous in [false, true] {
            let strict = AccessControl(allowAnonymous: allowAnonymous, passwords: passwords)
            #expect(strict.authenticate(username: "blank", password: []) == .credentialsRefused)
            #expect(
                strict.authenticate(username: "blank", password: [], cache: VerifiedCredentials())
                    == .credentialsRefused)
            #expect(strict.authenticate(username: "alice", password: Array("pw".utf8)) == .accepted)
        }
        let lenient = AccessControl(allowAnonymous: false, allowEmptyPasswords: true, passwords: passwords)
        #expect(lenient.authenticate(username: "blank", password: []) == .accepted)
        #expect(lenient.authenticate(username: "blank", password: [], cache: VerifiedCredentials()) == .accepted)
        #expect(lenient.authenticate(username: "blank", password: Array("x".utf8)) == .credentialsRefused)
        #expect(lenient.authenticate(username: "alice", password: []) == .credentialsRefused)
    }
}

struct VerifiedCredentialsTests {
    @Test func remembersOnlyTheHashItVerified() {
        let cache = VerifiedCredentials()
        let old = PasswordHash(hashing: "pw", iterations: 1000)
        #expect(cache.verify(user: "alice", password: Array("pw".utf8), against: old))
        #expect(cache.verify(user: "alice", password: Array("pw".utf8), against: old))
        #expect(!cache.verify(user: "alice", password: Array("other".utf8), against: old))
        // A changed password: the remembered digest no longer counts.
        let new = PasswordHash(hashing: "new", iterations: 1000)
        #expect(!cache.verify(user: "alice", password: Array("pw".utf8), against: new))
        #expect(cache.verify(user: "alice", password: Array("new".utf8), against: new))
    }

    @Test func startsOverWhenFull() {
        let cache = VerifiedCredentials(capacity: 2)
        let hash = PasswordHash(hashing: "pw", iterations: 10)
        for user in ["a", "b", "c", "a"] {
            #expect(cache.verify(user: user, password: Array("pw".utf8), against: hash))
        }
    }

    @Test func decisionsUseTheCache() throws {
        let hash = PasswordHash(hashing: "pw", iterations: 1000)
        let passwords = try PasswordFile(parsing: "alice:\(hash.encoded)\n", file: "pw")
        let control = AccessControl(allowAnonymous: false, passwords: passwords)
        let cache = VerifiedCredentials()
        for _ in 0..<2 {
            #expect(control.authenticate(username: "alice", password: Array("pw".utf8), cache: cache) == .accepted)
            #expect(
                control.authenticate(username: "alice", password: Array("x".utf8), cache: cache) == .credentialsRefused)
            #expect(
                control.authenticate(username: "bob", password: Array("pw".utf8), cache: cache) == .credentialsRefused)
        }
    }
}

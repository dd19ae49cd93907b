import ArgumentParser
import WharfAuth
import WharfSupport

/// `wharfctl passwd`: adds, changes and deletes users in the broker's password file, in the
/// format of Mosquitto 2's `mosquitto_passwd` (either tool can edit a file the other made).
struct Passwd: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Add, change or delete a user in the broker's password file.",
        discussion: """
            wharfctl passwd [-c] FILE USER             prompts for the password twice (no echo)
            wharfctl passwd --password-stdin FILE USER reads the password from standard input
            wharfctl passwd -b FILE USER PASSWORD      takes it from the command line
            wharfctl passwd -D FILE USER               deletes the user
            Empty passwords are refused.
            Entries are '$7$' PBKDF2-HMAC-SHA512 hashes with \(PasswordHash.defaultIterations) iterations \
            unless --iterations says otherwise. The file is replaced atomically and keeps its mode and owner; \
            a new file gets mode 0640.
            """
    )

    @Flag(name: .customShort("c"), help: "Create the file, replacing any existing one.")
    var create = false

    @Flag(name: .customShort("b"), help: "Batch mode: the password is the third argument.")
    var batch = false

    @Flag(name: .customShort("D"), help: "Delete the user.")
    var delete = false

    @Flag(name: .customLong("password-stdin"), help: "Read the password from the first line of standard input.")
    var passwordFromStdin = false

    @Option(name: [.customShort("I"), .customLong("iterations")], help: "PBKDF2 iterations for the new hash.")
    var iterations = PasswordHash.defaultIterations

    @Argument(help: "The password file.")
    var file: String

    @Argument(help: "The user name.")
    var user: String

    @Argument(help: "The password (with -b only).")
    var password: String?

    func validate() throws {
        if [batch, delete, passwordFromStdin].filter({ $0 }).count > 1 {
            throw ValidationError("use only one of -b, -D and --password-stdin")
        }
        if create && delete { throw ValidationError("-c and -D cannot be combined") }
        if batch != (password != nil) {
            throw ValidationError(batch ? "-b needs FILE USER PASSWORD" : "a PASSWORD argument needs -b")
        }
        if let problem = PasswordFile.problem(inUserName: user) { throw ValidationError(problem) }
        if !(1...PasswordHash.maximumIterations).contains(iterations) {
            throw ValidationError("--iterations must be between 1 and \(PasswordHash.maximumIterations)")
        }
    }

    func run() throws {
        do {
            try edit()
        } catch {
            printError("wharfctl passwd: \(error.message)")
            throw ExitCode(error.exitCode)
        }
    }

    private func edit() throws(PasswdError) {
        var passwords = PasswordFile()
        var existing: PasswordFileIO.Attributes?
        if !create {
            let (text, attributes) = try PasswordFileIO.read(file)
            existing = attributes
            do {
                passwords = try PasswordFile(parsing: text, file: file)
            } catch {
                throw PasswdError("\(error)", exitCode: 1)
            }
        } else {
            existing = PasswordFileIO.attributes(file)
        }
        if delete {
            guard passwords.remove(user: user) else {
                throw PasswdError("\(file): user '\(user)' not found", exitCode: 1)
            }
        } else {
            let secret: String
            if let password {
                secret = password
            } else if passwordFromStdin {
                secret = try PasswordInput.readStdin()
            } else {
                secret = try PasswordInput.prompt()
            }
            // wharfd refuses empty passwords by default (broker.allow_empty_passwords), and an
            // account with one is open to anyone who knows the user name.
            guard !secret.isEmpty else { throw PasswdError("the password is empty", exitCode: 1) }
            passwords.set(user: user, hash: PasswordHash(hashing: secret, iterations: iterations))
        }
        try PasswordFileIO.replace(file, with: passwords.text, keeping: existing)
    }
}

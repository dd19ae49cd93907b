#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads a password from the terminal without echo, or from standard input. The caller
/// refuses an empty one, whatever its source.
enum PasswordInput {
    /// Asks twice on the terminal, echo off; the two answers must agree.
    static func prompt() throws(PasswdError) -> String {
        guard isatty(STDIN_FILENO) == 1 else {
            throw PasswdError(
                "standard input is not a terminal; use --password-stdin or -b FILE USER PASSWORD", exitCode: 2)
        }
        let first = try readHidden("Password: ")
        let second = try readHidden("Reenter password: ")
        guard first == second else { throw PasswdError("the passwords do not match", exitCode: 1) }
        return first
    }

    /// The first line of standard input, without its line ending.
    static func readStdin() throws(PasswdError) -> String {
        guard let line = readLine(strippingNewline: true) else {
            throw PasswdError("no password on standard input", exitCode: 1)
        }
        return line.hasSuffix("\r") ? String(line.dropLast()) : line
    }

    /// Prompts go to standard error, so that standard output stays free for scripts.
    private static func writeStandardError(_ text: String) {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
            guard count > 0 else { return }
            offset += count
        }
    }

    private static func readHidden(_ prompt: String) throws(PasswdError) -> String {
        writeStandardError(prompt)
        var saved = termios()
        let canHide = tcgetattr(STDIN_FILENO, &saved) == 0
        if canHide {
            var hidden = saved
            hidden.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &hidden)
        }
        let line = readLine(strippingNewline: true)
        if canHide { tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved) }
        writeStandardError("\n")
        guard let line else { throw PasswdError("no password entered", exitCode: 1) }
        return line
    }
}

/// A failure of `wharfctl passwd`, with the message to print and the exit status.
struct PasswdError: Error {
    var message: String
    var exitCode: Int32

    init(_ message: String, exitCode: Int32) {
        self.message = message
        self.exitCode = exitCode
    }
}

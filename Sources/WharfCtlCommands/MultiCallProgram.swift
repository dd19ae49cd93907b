/// Which of Wharf's two programs the one executable runs. The package installs `/usr/bin/wharfd`
/// and `/usr/bin/wharfctl` as a symbolic link to it, so that the Swift runtime and every library
/// are on the gateway's storage once; the name the process was started under chooses.
public enum MultiCallProgram: Equatable, Sendable {
    /// The daemon, under any name other than `wharfctl`.
    case wharfd
    /// The operator's tool, ``WharfCtl``.
    case wharfctl

    /// The program for `argv[0]`: `wharfctl` when its last path component is exactly
    /// `wharfctl` (`wharfctl`, `/usr/bin/wharfctl`, `./wharfctl`), `wharfd` otherwise, also when
    /// the name is missing: the daemon's unit must never start the tool by accident.
    public init(argumentZero: String?) {
        guard let argumentZero else {
            self = .wharfd
            return
        }
        let name = argumentZero.lastIndex(of: "/").map { argumentZero[argumentZero.index(after: $0)...] }
        self = (name ?? argumentZero[...]) == "wharfctl" ? .wharfctl : .wharfd
    }
}

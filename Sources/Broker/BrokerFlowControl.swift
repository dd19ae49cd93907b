import NIOPosix
import Synchronization
import WharfConfig

/// The broker-wide side of flow control: the configured bounds, the password-check slots and the
/// counters of every bound that was hit.
final class BrokerFlowControl: Sendable {
    /// The bounds from the `broker:` section.
    let config: FlowControlConfig
    /// Password checks off the event loops.
    let credentialChecks: CredentialChecks
    /// Set once an uplink forward rule exists: only then can a QoS 0 PUBLISH cost a store write.
    let hasForwardRoutes = Atomic<Bool>(false)
    /// Accepts that failed because the process or the system ran out of file descriptors.
    let acceptFailures = Atomic<Int>(0)
    /// Connections closed right after accept because descriptors ran out (see ``AcceptGuard``).
    let connectionsShed = Atomic<Int>(0)
    /// Connections closed right after accept because the clients held the descriptor budget.
    let connectionsRefused = Atomic<Int>(0)
    /// Client sockets the listeners hold now.
    let openSockets = Atomic<Int>(0)
    /// Client sockets the listeners may hold (``DescriptorBudget``); unlimited until a listener
    /// starts.
    let socketBudget = Atomic<Int>(Int.max)
    private let pauses = Mutex<[ReadPause: Int]>([:])

    init(config: FlowControlConfig) {
        self.config = config
        self.credentialChecks = CredentialChecks(
            overall: config.maxAuthInFlight,
            perAddress: config.maxAuthInFlightPerAddress,
            executor: SharedBlockingPool()
        )
    }

    /// Counts a connection that stopped reading for `reason`.
    func recordPause(_ reason: ReadPause) {
        pauses.withLock { $0[reason, default: 0] += 1 }
    }

    /// Connections that stopped reading, by reason, since start.
    var readPauses: [ReadPause: Int] { pauses.withLock { $0 } }
}

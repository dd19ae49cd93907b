import NIOCore
import NIOPosix
import Synchronization
import WharfAuth

/// Where password checks run: NIO's shared thread pool in wharfd, a hand-driven executor in tests.
protocol CredentialCheckExecutor: Sendable {
    /// Runs `check` off the event loops; the answer arrives on `eventLoop`.
    func run(
        _ check: @escaping @Sendable () -> AccessControl.Decision,
        answeringOn eventLoop: any EventLoop
    ) -> EventLoopFuture<AccessControl.Decision>
}

/// NIO's shared blocking pool, started only when the first password is checked: a gateway
/// without a password file never starts its threads.
struct SharedBlockingPool: CredentialCheckExecutor {
    func run(
        _ check: @escaping @Sendable () -> AccessControl.Decision,
        answeringOn eventLoop: any EventLoop
    ) -> EventLoopFuture<AccessControl.Decision> {
        NIOThreadPool.singleton.run(check, answeringOn: eventLoop)
    }
}

extension NIOThreadPool: CredentialCheckExecutor {
    func run(
        _ check: @escaping @Sendable () -> AccessControl.Decision,
        answeringOn eventLoop: any EventLoop
    ) -> EventLoopFuture<AccessControl.Decision> {
        runIfActive(eventLoop: eventLoop, check)
    }
}

/// Password checks in flight, overall and per client address: the bound that keeps a flood of
/// CONNECTs with wrong passwords from queueing unbounded work. Free of I/O.
struct CredentialCheckSlots: Sendable {
    /// Why a check was not admitted.
    enum Refusal: String, Error, Sendable, CaseIterable {
        /// `max_auth_in_flight_per_address` checks for this address are queued or running.
        case address
        /// `max_auth_in_flight` checks are queued or running.
        case overall
    }

    let overall: Int
    let perAddress: Int
    private(set) var inFlight = 0
    private var byAddress: [String: Int] = [:]

    init(overall: Int, perAddress: Int) {
        self.overall = max(1, overall)
        self.perAddress = max(1, perAddress)
    }

    /// Takes a slot for a check of a client at `address`, or says why not.
    mutating func admit(_ address: String) -> Refusal? {
        let forAddress = byAddress[address, default: 0]
        if forAddress >= perAddress { return .address }
        if inFlight >= overall { return .overall }
        byAddress[address] = forAddress + 1
        inFlight += 1
        return nil
    }

    /// Gives back the slot of a finished check.
    mutating func release(_ address: String) {
        guard let forAddress = byAddress[address] else { return }
        if forAddress <= 1 {
            byAddress.removeValue(forKey: address)
        } else {
            byAddress[address] = forAddress - 1
        }
        inFlight = max(0, inFlight - 1)
    }

    /// Addresses with a check in flight (the map never outgrows `overall`).
    var addresses: Int { byAddress.count }
}

/// Runs the password checks that derive a hash on a thread pool, within ``CredentialCheckSlots``.
final class CredentialChecks: Sendable {
    private let slots: Mutex<CredentialCheckSlots>
    private let executor: Mutex<any CredentialCheckExecutor>
    private let refusals = Mutex<[CredentialCheckSlots.Refusal: Int]>([:])
    /// Checks run on the pool since start.
    let offloaded = Atomic<Int>(0)

    init(overall: Int, perAddress: Int, executor: any CredentialCheckExecutor) {
        self.slots = Mutex(CredentialCheckSlots(overall: overall, perAddress: perAddress))
        self.executor = Mutex(executor)
    }

    /// Runs later checks on `executor` instead (tests drive checks by hand with it).
    func use(_ executor: any CredentialCheckExecutor) {
        self.executor.withLock { $0 = executor }
    }

    /// Starts `check` for a client at `address` on the pool; nil when no slot is free (counted).
    /// The slot is given back before the answer is delivered on `eventLoop`.
    func start(
        address: String,
        on eventLoop: any EventLoop,
        _ check: @escaping @Sendable () -> AccessControl.Decision
    ) -> Result<EventLoopFuture<AccessControl.Decision>, CredentialCheckSlots.Refusal> {
        if let refusal = slots.withLock({ $0.admit(address) }) {
            refusals.withLock { $0[refusal, default: 0] += 1 }
            return .failure(refusal)
        }
        offloaded.add(1, ordering: .relaxed)
        let future = executor.withLock { $0 }.run(check, answeringOn: eventLoop).always { _ in
            self.slots.withLock { $0.release(address) }
        }
        return .success(future)
    }

    /// Checks refused for lack of a slot, by reason, since start.
    var refused: [CredentialCheckSlots.Refusal: Int] { refusals.withLock { $0 } }

    /// Checks queued or running now.
    var inFlight: Int { slots.withLock { $0.inFlight } }
}

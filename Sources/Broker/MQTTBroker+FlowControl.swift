import Synchronization

/// Every bound of flow control that was hit, counted since start, for metrics, `$SYS` and status.
public struct FlowControlSnapshot: Sendable, Hashable {
    /// Times a connection stopped reading, by reason (`slow-reader`, `pending-acks`,
    /// `pending-store-bytes`, `rate-limit`, `authentication`).
    public var readPauses: [String: Int]
    /// Password checks run on the thread pool.
    public var authChecks: Int
    /// CONNECTs refused with Server busy because too many password checks were in flight, by
    /// bound (`address`, `overall`).
    public var authChecksRefused: [String: Int]
    /// Connections closed right after accept because clients held the descriptor budget.
    public var connectionsRefused: Int
    /// Accepts that failed because the process or the system was out of file descriptors.
    public var acceptFailures: Int
    /// Connections closed right after accept for lack of descriptors.
    public var connectionsShed: Int
    /// Client connections the open-file limit leaves room for (nil before the listeners start).
    public var connectionBudget: Int?
}

extension MQTTBroker {
    /// The flow-control counters now.
    public func flowControlSnapshot() -> FlowControlSnapshot {
        let flow = flowControl
        let pauses = flow.readPauses
        let refused = flow.credentialChecks.refused
        let budget = flow.socketBudget.load(ordering: .relaxed)
        return FlowControlSnapshot(
            readPauses: Dictionary(uniqueKeysWithValues: ReadPause.allCases.map { ($0.rawValue, pauses[$0] ?? 0) }),
            authChecks: flow.credentialChecks.offloaded.load(ordering: .relaxed),
            authChecksRefused: Dictionary(
                uniqueKeysWithValues: CredentialCheckSlots.Refusal.allCases.map { ($0.rawValue, refused[$0] ?? 0) }),
            connectionsRefused: flow.connectionsRefused.load(ordering: .relaxed),
            acceptFailures: flow.acceptFailures.load(ordering: .relaxed),
            connectionsShed: flow.connectionsShed.load(ordering: .relaxed),
            connectionBudget: budget == Int.max ? nil : budget
        )
    }

    /// `$SYS/broker/flow/...`: Wharf's own counters (Mosquitto has no such bounds), plus
    /// dropped messages by reason.
    func flowControlSystemTopics() -> [(String, String)] {
        let flow = flowControlSnapshot()
        var topics: [(String, String)] = []
        for reason in DropReason.allCases {
            topics.append(("$SYS/broker/publish/messages/dropped/\(reason.rawValue)", "\(statistics.dropped(reason))"))
        }
        for (reason, count) in flow.readPauses.sorted(by: { $0.key < $1.key }) {
            topics.append(("$SYS/broker/flow/read-pauses/\(reason)", "\(count)"))
        }
        for (bound, count) in flow.authChecksRefused.sorted(by: { $0.key < $1.key }) {
            topics.append(("$SYS/broker/flow/auth-checks-refused/\(bound)", "\(count)"))
        }
        topics.append(("$SYS/broker/flow/auth-checks", "\(flow.authChecks)"))
        topics.append(("$SYS/broker/flow/connections-refused", "\(flow.connectionsRefused)"))
        topics.append(("$SYS/broker/flow/accept-failures", "\(flow.acceptFailures)"))
        topics.append(("$SYS/broker/flow/connections-shed", "\(flow.connectionsShed)"))
        return topics
    }
}

/// Why a connection stopped reading from its socket. Each is counted when it starts.
enum ReadPause: String, Sendable, CaseIterable {
    /// The client does not read what is written to it (its outbound buffer is over the high mark).
    case slowReader = "slow-reader"
    /// `max_pending_acks` acknowledgements wait for the store.
    case pendingAcks = "pending-acks"
    /// `max_pending_store_bytes` of the client's messages wait for the store.
    case pendingStoreBytes = "pending-store-bytes"
    /// The client used up its publish rate (`max_publish_rate`, `max_publish_bytes_rate`).
    case rateLimit = "rate-limit"
    /// The client's password is being checked on the thread pool.
    case authentication
    /// The retained messages a SUBSCRIBE found are being handed to the session, a bounded
    /// number per event-loop turn.
    case retainedDelivery = "retained-delivery"

    var bit: UInt8 { 1 << UInt8(Self.allCases.firstIndex(of: self) ?? 0) }
}

/// Read suppression for one connection, free of I/O: the connection reads (and handles what it
/// has read) only while no reason to pause holds. NIO asks for more data with `read()`; while
/// paused the request is held back and issued when the last reason goes away, so the kernel's
/// socket buffer, then TCP flow control, make the client wait.
struct ReadGate: Sendable {
    private var reasons: UInt8 = 0
    /// A `read()` arrived while paused and must be issued on resume.
    private var readHeld = false

    /// Whether the connection may read and handle packets now.
    var isOpen: Bool { reasons == 0 }

    /// Whether `reason` holds now.
    func isPaused(for reason: ReadPause) -> Bool { reasons & reason.bit != 0 }

    /// Whether only `reason` holds.
    func isPaused(onlyFor reason: ReadPause) -> Bool { reasons == reason.bit }

    /// NIO asks to read: returns whether to pass the request on now.
    mutating func read() -> Bool {
        if reasons == 0 { return true }
        readHeld = true
        return false
    }

    /// Starts (or keeps) pausing for `reason`; returns whether it was not holding before.
    mutating func pause(_ reason: ReadPause) -> Bool {
        defer { reasons |= reason.bit }
        return reasons & reason.bit == 0
    }

    /// What happens when a reason goes away.
    struct Resumption: Equatable {
        /// The gate opened: handle what was read and not yet handled.
        var opened: Bool
        /// A `read()` was held back and must be issued now.
        var issueRead: Bool
    }

    /// Stops pausing for `reason`.
    mutating func resume(_ reason: ReadPause) -> Resumption {
        guard reasons & reason.bit != 0 else { return Resumption(opened: false, issueRead: false) }
        reasons &= ~reason.bit
        guard reasons == 0 else { return Resumption(opened: false, issueRead: false) }
        defer { readHeld = false }
        return Resumption(opened: true, issueRead: readHeld)
    }
}

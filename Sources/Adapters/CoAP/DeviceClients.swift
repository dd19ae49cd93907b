import AdapterKit
import CCoAP

/// The client side: one libcoap client session per device and the requests in flight.
/// Lives inside the ``CoAPLoop`` and is used only on the libcoap thread.
struct DeviceClients {
    /// What a request in flight was for.
    enum Kind {
        /// A poll.
        case read
        /// An observation (its token stays registered for the notifications).
        case observe
        /// A command from the command topic.
        case command
    }

    /// A session and a token.
    struct RequestKey: Hashable {
        var session: UInt
        var token: [UInt8]

        init(_ session: OpaquePointer, _ token: [UInt8]) {
            self.session = UInt(bitPattern: session)
            self.token = token
        }
    }

    /// A request in flight.
    struct Request {
        var device: Int
        var kind: Kind
    }

    let devices: [CoAPSettings.Device]
    var schedule: PollSchedule
    var sessions: [OpaquePointer?]
    /// Requests by session and token (tokens are only unique within a session).
    var requests: [RequestKey: Request] = [:]
    var subscriptions: [BusSubscription] = []
    /// Sessions that failed; released on the next tick, outside libcoap's callbacks.
    var broken: [OpaquePointer] = []

    init(settings: [CoAPSettings.Device], now: UInt64) {
        devices = settings
        schedule = PollSchedule(intervals: settings.map(\.interval), now: now)
        sessions = Array(repeating: nil, count: settings.count)
    }

    /// Nanoseconds until a device is due, `nil` without devices.
    func nextDelay(now: UInt64) -> UInt64? {
        devices.isEmpty ? nil : schedule.nextDelay(now: now)
    }

    /// Stops receiving commands.
    mutating func cancelSubscriptions() {
        for subscription in subscriptions { subscription.cancel() }
        subscriptions.removeAll()
    }

    /// Releases every client session (before the context is freed).
    mutating func releaseSessions() {
        for case let session? in sessions { coap_session_release(session) }
        for session in broken { coap_session_release(session) }
        sessions = sessions.map { _ in nil }
        broken.removeAll()
        requests.removeAll()
    }

    /// The device whose session is `session`.
    func device(of session: OpaquePointer) -> Int? {
        sessions.firstIndex { $0 == session }
    }
}

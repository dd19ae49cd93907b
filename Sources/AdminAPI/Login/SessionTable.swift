/// The admin API's logins: which session token belongs to which user until when. Pure: times are
/// monotonic durations given by the caller; tokens are made by the caller too.
///
/// Bounded: at most `capacity` sessions; a login beyond it ends the session that expires first.
struct SessionTable {
    /// The most sessions kept.
    let capacity: Int
    /// How long a session lasts from its login.
    let lifetime: Duration
    private var sessions: [String: (user: String, expires: Duration)] = [:]

    init(capacity: Int, lifetime: Duration) {
        self.capacity = max(1, capacity)
        self.lifetime = lifetime
    }

    /// Adds a session for `user` under `token`, made at `now`; returns the user whose session was
    /// ended to make room, if one was.
    @discardableResult
    mutating func create(user: String, token: String, now: Duration) -> String? {
        prune(now: now)
        var evicted: String?
        if sessions.count >= capacity, let oldest = sessions.min(by: { $0.value.expires < $1.value.expires }) {
            sessions[oldest.key] = nil
            evicted = oldest.value.user
        }
        sessions[token] = (user, now + lifetime)
        return evicted
    }

    /// The user of `token` at `now`, or `nil` when there is no such session or it has expired
    /// (and is then removed).
    mutating func user(for token: String, now: Duration) -> String? {
        guard let session = sessions[token] else { return nil }
        guard now < session.expires else {
            sessions[token] = nil
            return nil
        }
        return session.user
    }

    /// Ends the session of `token`; returns its user.
    @discardableResult
    mutating func remove(_ token: String) -> String? {
        sessions.removeValue(forKey: token)?.user
    }

    /// Removes every session expired at `now`.
    mutating func prune(now: Duration) {
        sessions = sessions.filter { now < $0.value.expires }
    }

    /// How many sessions are kept.
    var count: Int { sessions.count }
}

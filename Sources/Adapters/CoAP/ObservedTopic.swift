import WharfCore

/// What one bus subscription of the adapter serves: a topic observed by peers acting as one
/// principal. Each gets its own subscription under that principal, so that the broker's router
/// checks every notification against the observer's own confinement and ACL (an ACL reload that
/// revokes the topic stops its notifications), never against the adapter's.
struct ObservedTopic: Hashable, Sendable {
    /// The exact topic observed.
    var topic: String
    /// Who observes it.
    var principal: Principal
}

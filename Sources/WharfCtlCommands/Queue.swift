import ArgumentParser

/// `wharfctl queue ...`: the running daemon's store-and-forward queue.
struct Queue: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Inspect the running daemon's store-and-forward queue.",
        subcommands: [QueueDeadLetters.self]
    )
}

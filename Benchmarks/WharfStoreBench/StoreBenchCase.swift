import Store

/// One kind of run of the store benchmark.
enum StoreBenchCase: Hashable, Sendable {
    /// The bare SQLite loop with the large batch.
    case bareLarge
    /// `ForwardQueue.append`, everything submitted at once.
    case queueUnbounded
    /// The bare loop with as many rows per transaction as the unbounded run committed on average.
    case bareMatchingUnbounded
    /// `ForwardQueue.append` from publishers that wait for durability, with this window.
    case queuePublishers(window: Int)
    /// The bare loop with as many rows per transaction as that publisher run committed on average.
    case bareMatchingPublishers(window: Int)

    /// A stable identifier for JSON.
    var identifier: String {
        switch self {
        case .bareLarge: "bare-large-batch"
        case .queueUnbounded: "queue-unbounded"
        case .bareMatchingUnbounded: "bare-matching-unbounded"
        case .queuePublishers(let window): "queue-publishers-w\(window)"
        case .bareMatchingPublishers(let window): "bare-matching-publishers-w\(window)"
        }
    }

    /// Whether the case runs the bare loop (the others run the store).
    var isBare: Bool {
        switch self {
        case .bareLarge, .bareMatchingUnbounded, .bareMatchingPublishers: true
        case .queueUnbounded, .queuePublishers: false
        }
    }

    /// A label for the table.
    func label(producers: Int, batch: Int?) -> String {
        let rows = batch.map { "B=\($0)" } ?? "B=?"
        switch self {
        case .bareLarge: return "bare SQLite loop, \(rows)"
        case .queueUnbounded: return "ForwardQueue.append, \(producers) producers, all at once"
        case .bareMatchingUnbounded: return "bare SQLite loop, \(rows) (the rows per commit of the queue line above)"
        case .queuePublishers(let window):
            return "ForwardQueue.append, \(producers) publishers, window \(window)"
        case .bareMatchingPublishers: return "bare SQLite loop, \(rows) (the rows per commit of the queue line above)"
        }
    }
}

/// One run of one case.
struct StoreBenchRun: Sendable {
    /// What ran.
    var benchCase: StoreBenchCase
    /// The `synchronous` setting.
    var synchronous: SynchronousMode
    /// The round (1-based).
    var round: Int
    /// Rows per transaction of a bare loop; `nil` for the store, whose batches are measured.
    var batch: Int?
    /// What it measured.
    var measurement: Measurement
}

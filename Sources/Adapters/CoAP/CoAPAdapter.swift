public import AdapterKit
import CCoAP
import Logging
import ServiceLifecycle
import Synchronization
public import WharfConfig

#if canImport(Glibc)
    import Glibc
#endif

/// The CoAP adapter (`type: coap`): a CoAP server that turns POST/PUT into published messages,
/// serves retained messages to GET and Observe, and a client that polls or observes devices.
///
/// libcoap runs on a thread of its own; the adapter's `run()` only starts and stops it.
public final class CoAPAdapter: Adapter {
    /// The config's `type:` value.
    public static let typeName = "coap"

    /// The validated settings.
    public let settings: CoAPSettings
    private let context: AdapterContext
    private let state = Mutex<AdapterHealth>(.starting)

    /// Validates the adapter's section; throws every problem at once.
    public init(config: AdapterConfig, context: AdapterContext) throws(ConfigError) {
        settings = try CoAPSettings(config: config)
        self.context = context
    }

    /// Starting, healthy while the server runs, failed when it could not start, stopped after.
    public var health: AdapterHealth { state.withLock { $0 } }

    /// Runs the server until graceful shutdown or cancellation; throws when it cannot start.
    public func run() async throws {
        let inbox = CoAPInbox()
        let exit = ThreadExit()
        let settings = self.settings
        let context = self.context
        let started: Result<Void, CoAPLoop.StartError> = await withCheckedContinuation { continuation in
            spawnThread {
                wharf_coap_thread_name("wharf-coap")
                let loop = CoAPLoop(settings: settings, context: context, inbox: inbox)
                let result = loop.start()
                if case .success = result { loop.startDevices() }
                continuation.resume(returning: result)
                if case .success = result { loop.run() } else { loop.abandon() }
                exit.finish()
            }
        }
        if case .failure(let error) = started {
            state.withLock { $0 = .failed(error.description) }
            context.logger.error("CoAP server cannot start: \(error)")
            await exit.wait()
            throw error
        }
        state.withLock { $0 = .healthy }
        context.logger.info(
            "CoAP server listening",
            metadata: [
                "coap.bind": "\(settings.bind):\(settings.port)",
                "coap.dtls": "\(settings.dtls.enabled ? "\(settings.dtls.port)" : "off")",
            ])
        // Returns on graceful shutdown; throws on cancellation. Either way the loop stops.
        try? await gracefulShutdown()
        inbox.post(.stop)
        await exit.wait()
        state.withLock { $0 = .stopped }
    }
}

/// Lets `run()` wait for the libcoap thread to end.
private final class ThreadExit: Sendable {
    private let state = Mutex<(done: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    func finish() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.done = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state -> Bool in
                if state.done { return true }
                state.waiter = continuation
                return false
            }
            if done { continuation.resume() }
        }
    }
}

/// The body of a thread, passed through pthread's `void *`.
private final class ThreadBody {
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
}

/// Starts a detached thread that runs `body`: libcoap's loop must never block a task's thread.
private func spawnThread(_ body: @escaping @Sendable () -> Void) {
    let argument = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
    var thread = pthread_t()
    let result = pthread_create(
        &thread,
        nil,
        { argument in
            guard let argument else { return nil }
            Unmanaged<ThreadBody>.fromOpaque(argument).takeRetainedValue().body()
            return nil
        },
        argument
    )
    if result != 0 {
        // No thread: run inline rather than never answering (only when the system is out of threads).
        Unmanaged<ThreadBody>.fromOpaque(argument).takeRetainedValue().body()
        return
    }
    pthread_detach(thread)
}

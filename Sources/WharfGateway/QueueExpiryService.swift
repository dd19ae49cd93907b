import ServiceLifecycle
import Store

/// Deletes forward-queue records past their TTL or MQTT expiry while the uplink is down.
struct QueueExpiryService: Service {
    let queue: ForwardQueue
    let interval: Duration

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await queue.purgeExpiredPeriodically(every: interval)
        }
    }
}

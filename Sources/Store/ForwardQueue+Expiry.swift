/// Purging of expired records while nothing reads the queue.
extension ForwardQueue {
    /// How often ``purgeExpiredPeriodically(every:)`` should run for these limits: a tenth of the
    /// TTL, between one second and one minute (a minute when only MQTT expiry applies).
    public static func expiryPurgeInterval(for limits: ForwardQueueLimits) -> Duration {
        guard let maxAge = limits.maxAge else { return .seconds(60) }
        return min(max(maxAge / 10, .seconds(1)), .seconds(60))
    }

    /// Deletes expired records every `interval` until the task is cancelled or the store closes.
    ///
    /// Reads purge too, but while the uplink is down nothing reads: without this, records past
    /// their TTL or MQTT expiry would stay on disk (and in the oldest-age figure) until it returns.
    public func purgeExpiredPeriodically(every interval: Duration) async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
            do throws(StoreError) {
                try await purgeExpired()
            } catch  where error.kind == .closed {
                return
            } catch {
                // The writer has already logged and counted the failure; try again next time.
                continue
            }
        }
    }
}

import Logging
import WharfCore

extension UplinkService {
    /// Waits until `deadline`, then, as soon as the preferred endpoint answers (asked again every
    /// `failback` period), ends `link` gracefully so that the next connection goes to the preferred
    /// endpoint. The goodbye publishes "offline" here first and waits for its PUBACK, so that a status
    /// topic shared by both endpoints (one cluster) ends "online" from the new connection, and one kept
    /// by each (independent brokers) does not stay "online" where the gateway no longer is.
    func failBack(from link: UplinkLink, at deadline: UInt64) async {
        guard let period = configuration.failback else { return }
        var next = deadline
        while !Task.isCancelled {
            let now = clock.now()
            if now < next {
                try? await Task.sleep(for: .nanoseconds(Int64(clamping: next - now)))
                continue
            }
            let preferred = configuration.preferred
            if await answers(preferred) {
                guard !Task.isCancelled, link.outcome == nil else { return }
                logger.notice(
                    "Uplink going back to the preferred endpoint \(preferred)",
                    metadata: ["uplink.endpoint": "\(endpoint)", "uplink.preferred": "\(preferred)"])
                await sayGoodbye(on: link, ending: .failback)
                return
            }
            logger.info(
                "Uplink stays on \(endpoint): the preferred endpoint \(preferred) does not answer",
                metadata: ["uplink.preferred": "\(preferred)"])
            next = clock.now() &+ min(UInt64(clamping: max(1, period.milliseconds)), UInt64.max / 2_000_000) * 1_000_000
        }
    }
}

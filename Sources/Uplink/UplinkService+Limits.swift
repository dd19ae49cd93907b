import Logging
import Synchronization
import WharfCore

extension UplinkService.SharedState {
    /// Spends the publish rate's tokens for `sent` records at `now`. When the tokens (`allowance`)
    /// ran out with records still ready, returns when to wake the pump for the next token: nil if
    /// no rate applies, tokens are left, or a wake for that time is already scheduled.
    mutating func spendPublishTokens(_ sent: Int, allowance: Int, at now: UInt64) -> UInt64? {
        guard var limiter = rateLimiter else { return nil }
        limiter.take(sent, at: now)
        rateLimiter = limiter
        let ready = window.pendingResends > 0 || (!stopping && readAhead.count > 0)
        guard sent >= allowance, ready else { return nil }
        let wake = limiter.nextToken(at: now)
        guard wakeScheduled != wake else { return nil }
        wakeScheduled = wake
        status.limits.rateWaits += 1
        return wake
    }
}

extension UplinkService {
    /// Moves records that can never be sent to the endpoint in use to the dead-letter table, as a
    /// permanent refusal would, and counts and logs them (the first ten of a connection, then every
    /// thousandth, as refusals are).
    func deadLetter(_ records: [(sequence: Int64, refusal: LocalRefusal)], at wallNow: Int64) {
        let logged = shared.withLock { shared -> [(sequence: Int64, refusal: LocalRefusal)] in
            var logged: [(sequence: Int64, refusal: LocalRefusal)] = []
            for (sequence, refusal) in records {
                shared.pendingDeadLetters.append(
                    UplinkDeadLetter(
                        sequence: sequence, reasonCode: refusal.reasonCode, reasonString: refusal.reasonString,
                        refusedAt: wallNow))
                shared.status.limits.deadLettered[refusal.limit, default: 0] += 1
                shared.status.limits.deadLetteredByReason[refusal.reasonCode, default: 0] += 1
                shared.localRefusalsLogged += 1
                if shared.localRefusalsLogged <= 10 || shared.localRefusalsLogged.isMultiple(of: 1000) {
                    logged.append((sequence, refusal))
                }
            }
            return logged
        }
        acknowledgeSignal.signal()
        for (sequence, refusal) in logged {
            let code = "0x\(String(refusal.reasonCode, radix: 16))"
            logger.error(
                "Uplink: record \(sequence) can never be sent: \(refusal.reasonString); it moves to the dead-letter table",
                metadata: [
                    "uplink.error": "local-limit", "uplink.limit": "\(refusal.limit)", "uplink.reason_code": "\(code)",
                ]
            )
        }
    }
}

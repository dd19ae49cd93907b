import Logging
import MQTTCodec
import NIOCore
import WharfAuth

/// Password checks derive a PBKDF2 hash (milliseconds of CPU each), so they run on a thread
/// pool, never on the event loop that serves other clients. Meanwhile the connection reads
/// nothing; the CONNECT goes on on its own event loop once the answer is back. Checks in
/// flight are bounded overall and per client address; a CONNECT beyond the bound is refused at
/// once with Server busy (MQTT 5) or Server unavailable (3.1.1), and counted.
extension MQTTConnectionHandler {
    /// Checks the CONNECT's credentials, then continues with ``admitConnect(_:decision:context:)``.
    func authenticate(_ connect: ConnectPacket, context: ChannelHandlerContext) {
        let access = broker.accessControl
        let username = connect.username
        let password = connect.password
        guard access.needsHashComputation(username: username, password: password) else {
            admitConnect(
                connect, decision: access.authenticate(username: username, password: password), context: context)
            return
        }
        let address = context.channel.remoteAddress?.ipAddress ?? "unknown"
        let started = broker.flowControl.credentialChecks.start(address: address, on: context.eventLoop) {
            access.authenticate(username: username, password: password)
        }
        switch started {
        case .failure(let refusal):
            logger.debug(
                "refusing CONNECT: too many password checks in flight",
                metadata: ["mqtt.auth_refusal": "\(refusal.rawValue)"]
            )
            refuse(.serverBusy, context: context)
        case .success(let answer):
            pause(.authentication)
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            answer.whenComplete { result in
                let (handler, context) = loopBound.value
                handler.credentialsChecked(connect, result, context: context)
            }
        }
    }

    private func credentialsChecked(
        _ connect: ConnectPacket,
        _ result: Result<AccessControl.Decision, any Error>,
        context: ChannelHandlerContext
    ) {
        // The connection may have closed meanwhile (connect timeout, peer gone).
        guard !closing, context.channel.isActive, case .awaitingConnect = state else { return }
        switch result {
        case .success(let decision):
            admitConnect(connect, decision: decision, context: context)
        case .failure(let error):
            logger.error("cannot check the password: \(error)")
            refuse(.serverUnavailable, context: context)
        }
        resume(.authentication, context: context)
    }
}

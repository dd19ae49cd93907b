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
        if let peerIdentity {
            authenticateByCertificate(connect, identity: peerIdentity(), context: context)
            return
        }
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

    /// `use_identity_as_username`, as Mosquitto's: the verified certificate authenticates the
    /// client, and its subject CN replaces whatever user name CONNECT gave (the password is not
    /// checked). The router's ACL then confines that user like any other.
    private func authenticateByCertificate(_ connect: ConnectPacket, identity: String?, context: ChannelHandlerContext)
    {
        guard let identity else {
            logger.info("refusing CONNECT: the client certificate has no usable subject CN")
            refuse(.notAuthorized, context: context)
            return
        }
        var connect = connect
        connect.username = identity
        connect.password = nil
        logger[metadataKey: "mqtt.username"] = "\(identity)"
        admitConnect(connect, decision: .accepted, context: context)
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

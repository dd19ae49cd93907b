import AdminAPI
import Broker
import Uplink
import WharfGateway

extension DaemonRuntime {
    /// Every `wharf_broker_*`, `wharf_queue_*` and `wharf_uplink_*` value, read now.
    func sample() -> MetricsSample {
        var sample = MetricsSample()
        sample.gauge("wharf_uptime_seconds", uptimeSeconds)

        let broker = gateway.broker.snapshot()
        sample.gauge("wharf_broker_clients_connected", broker.clientsConnected)
        sample.gauge("wharf_broker_clients_maximum", broker.clientsMaximum)
        sample.gauge("wharf_broker_sessions", broker.sessions)
        sample.gauge("wharf_broker_subscriptions", broker.subscriptions)
        sample.gauge("wharf_broker_retained_messages", broker.retained)
        sample.counter("wharf_broker_messages_received_total", broker.messagesReceived)
        sample.counter("wharf_broker_messages_sent_total", broker.messagesSent)
        sample.counter("wharf_broker_publish_bytes_received_total", broker.publishBytesReceived)
        sample.counter("wharf_broker_publish_bytes_sent_total", broker.publishBytesSent)
        sample.counter("wharf_broker_bytes_received_total", broker.bytesReceived)
        sample.counter("wharf_broker_bytes_sent_total", broker.bytesSent)
        sample.counter("wharf_broker_packets_received_total", broker.packetsReceived)
        sample.counter("wharf_broker_packets_sent_total", broker.packetsSent)
        sample.counter("wharf_broker_sessions_expired_total", broker.sessionsExpired)
        sample.counter("wharf_broker_protocol_errors_total", broker.protocolErrors)
        sample.counter("wharf_broker_authorization_refusals_total", broker.authorizationRefusals)
        for (reason, count) in broker.dropped {
            sample.counter("wharf_broker_messages_dropped_total", count, labels: ["reason": reason])
        }
        for (limit, count) in broker.limitHits {
            sample.counter("wharf_broker_limit_hits_total", count, labels: ["limit": limit])
        }
        let flow = gateway.broker.flowControlSnapshot()
        for (reason, count) in flow.readPauses {
            sample.counter("wharf_broker_read_pauses_total", count, labels: ["reason": reason])
        }
        sample.counter("wharf_broker_auth_checks_total", flow.authChecks)
        for (bound, count) in flow.authChecksRefused {
            sample.counter("wharf_broker_auth_checks_refused_total", count, labels: ["bound": bound])
        }
        sample.counter("wharf_broker_connections_refused_total", flow.connectionsRefused)
        sample.counter("wharf_broker_accept_failures_total", flow.acceptFailures)
        sample.counter("wharf_broker_connections_shed_total", flow.connectionsShed)
        if let budget = flow.connectionBudget {
            sample.gauge("wharf_broker_connection_budget", budget)
        }
        sample.gauge("wharf_store_pending_bytes", gateway.storePendingBytes)
        sample.counter("wharf_store_backlog_refused_total", gateway.storeBacklogRefused)

        let uplink = gateway.uplinkSnapshot()
        if let queue = gateway.queueSnapshot() {
            sample.gauge("wharf_queue_depth", queue.depth)
            sample.gauge("wharf_queue_bytes", queue.bytes)
            sample.gauge("wharf_queue_oldest_age_seconds", queue.oldestAgeSeconds)
            sample.gauge("wharf_queue_drain_rate", uplink?.drainRatePerSecond ?? 0)
            sample.counter("wharf_queue_appended_total", queue.appended)
            sample.counter("wharf_queue_removed_total", queue.removed)
            sample.counter("wharf_queue_commits_total", queue.commits)
            sample.counter("wharf_queue_corrupt_records_total", queue.corruptRecords)
            sample.counter("wharf_queue_write_errors_total", queue.writeErrors)
            for (reason, count) in queue.dropped {
                sample.counter("wharf_queue_dropped_total", count, labels: ["reason": reason])
            }
            sample.gauge("wharf_uplink_dead_letters", queue.deadLetters)
            sample.gauge("wharf_uplink_dead_letter_bytes", queue.deadLetterBytes)
            for (reason, count) in queue.deadLettered {
                sample.counter("wharf_uplink_dead_letters_total", count, labels: ["reason": reason])
            }
            sample.counter("wharf_uplink_dead_letters_dropped_total", queue.deadLettersDropped)
        }
        if let uplink {
            for state in ["connecting", "connected", "backing-off", "stopped"] {
                sample.gauge("wharf_uplink_state", uplink.state == state ? 1 : 0, labels: ["state": state])
            }
            sample.gauge("wharf_uplink_connected", uplink.state == "connected" ? 1 : 0)
            sample.gauge("wharf_uplink_in_flight", uplink.inFlight)
            sample.counter("wharf_uplink_reconnects_total", uplink.reconnects)
            sample.counter("wharf_uplink_failovers_total", uplink.failovers)
            sample.counter("wharf_uplink_messages_published_total", uplink.published)
            sample.counter("wharf_uplink_messages_resent_total", uplink.resent)
            sample.counter("wharf_uplink_messages_acknowledged_total", uplink.acknowledged)
            sample.counter("wharf_uplink_messages_rejected_total", uplink.rejected)
            sample.counter("wharf_uplink_exactly_once_completed_total", uplink.exactlyOnceCompleted)
            sample.counter("wharf_uplink_messages_received_total", uplink.received)
            sample.counter("wharf_uplink_bytes_sent_total", uplink.bytesSent)
            sample.counter("wharf_uplink_bytes_received_total", uplink.bytesReceived)
            let refusals = uplink.refusals
            for (code, count) in refusals.transient {
                sample.counter(
                    "wharf_uplink_refusals_total", count,
                    labels: ["reason": Gateway.reasonLabel(code), "kind": "transient"])
            }
            for (code, count) in refusals.permanent {
                sample.counter(
                    "wharf_uplink_refusals_total", count,
                    labels: ["reason": Gateway.reasonLabel(code), "kind": "permanent"])
            }
            for (code, count) in uplink.limits.deadLetteredByReason {
                sample.counter(
                    "wharf_uplink_refusals_total", count,
                    labels: ["reason": Gateway.reasonLabel(code), "kind": "local"])
            }
            for (limit, count) in uplink.limits.deadLettered {
                sample.counter("wharf_uplink_limit_hits_total", count, labels: ["limit": limit])
            }
            sample.counter(
                "wharf_uplink_limit_hits_total", uplink.limits.rateWaits, labels: ["limit": "max_publish_rate"])
            for (code, count) in refusals.transientDisconnects {
                sample.counter(
                    "wharf_uplink_transient_disconnects_total", count, labels: ["reason": Gateway.reasonLabel(code)])
            }
            sample.gauge("wharf_uplink_window", refusals.window)
            sample.counter("wharf_uplink_throttle_pauses_total", refusals.pauses)
            sample.gauge("wharf_uplink_throttled_seconds", refusals.throttledSeconds)
            sample.gauge("wharf_uplink_maximum_qos_blocked", refusals.heldByMaximumQoS ? 1 : 0)
        }
        for adapter in supervisor.statuses() {
            sample.gauge(
                "wharf_adapter_healthy",
                adapter.health == "healthy" ? 1 : 0,
                labels: ["adapter": adapter.name, "type": adapter.type]
            )
        }
        return sample
    }
}

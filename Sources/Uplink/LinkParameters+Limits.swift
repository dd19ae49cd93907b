import MQTTCodec
import WharfCore

extension LinkParameters {
    /// These parameters under the operator's limits for `endpoint`: its `max_qos` lowers the Maximum
    /// QoS the CONNACK granted, and over MQTT 3.1.1, whose server cannot state one (QoS 1 is assumed),
    /// sets it, so `max_qos: 2` enables QoS 2 there; its `max_inflight` lowers the window.
    func limited(by limits: UplinkLimits, endpoint: String) -> LinkParameters {
        var limited = self
        limited.limits = limits
        limited.endpoint = endpoint
        if let cap = limits.maxQoS?.value, cap < maximumQoS || version == .v311 { limited.maximumQoS = cap }
        return limited
    }

    /// Whether the Maximum QoS is the operator's `max_qos` rather than the server's.
    var maximumQoSIsLocal: Bool {
        limits.maxQoS.map { $0.value == maximumQoS } ?? false
    }
}

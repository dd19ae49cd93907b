import WharfCore

extension LinkParameters {
    /// These parameters under the operator's limits for `endpoint`: its `max_qos` lowers the Maximum
    /// QoS the CONNACK granted (a 3.1.1 server cannot state one), its `max_inflight` the window.
    func limited(by limits: UplinkLimits, endpoint: String) -> LinkParameters {
        var limited = self
        limited.limits = limits
        limited.endpoint = endpoint
        if let cap = limits.maxQoS?.value, cap < maximumQoS { limited.maximumQoS = cap }
        return limited
    }

    /// Whether the Maximum QoS is the operator's `max_qos` rather than the server's.
    var maximumQoSIsLocal: Bool {
        limits.maxQoS.map { $0.value == maximumQoS } ?? false
    }
}

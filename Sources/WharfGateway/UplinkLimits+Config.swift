import Uplink
import WharfConfig
import WharfCore

extension UplinkLimits {
    /// The uplink's limits for one endpoint from the limits the configuration puts in force for it.
    init(_ effective: EffectiveUplinkLimits) {
        func convert<Value>(_ limit: EffectiveUplinkLimit<Value>?) -> UplinkLimit<Value>? {
            limit.map { UplinkLimit($0.value, keyPath: $0.keyPath) }
        }
        self.init(
            maxPayloadBytes: convert(effective.maxPayloadBytes),
            maxTopicLevels: convert(effective.maxTopicLevels),
            maxInflight: convert(effective.maxInflight),
            maxPublishRate: convert(effective.maxPublishRate),
            maxQoS: effective.maxQoS.flatMap { limit in
                QoS(rawValue: UInt8(clamping: limit.value)).map { UplinkLimit($0, keyPath: limit.keyPath) }
            }
        )
    }
}

/// The operator's limits towards the cloud, as managed clouds impose them (`uplink.limits`, and the
/// same keys in an `uplink.endpoints[]` mapping, which override them for that endpoint).
///
/// nil means the key is not given here (an endpoint then falls back to `uplink.limits`); 0 means no
/// limit, so an endpoint can lift a limit the section sets for the others. `max_qos` has no "no
/// limit": 2 allows QoS 2, which over MQTT 3.1.1 (whose server cannot state a Maximum QoS) also
/// says the server handles it.
public struct UplinkLimitsConfig: Sendable, Equatable {
    /// `max_payload_bytes`: the largest payload sent; a record above it is dead-lettered (0x95).
    public var maxPayloadBytes: Int?
    /// `max_topic_levels`: the most levels of a topic sent; a record above it is dead-lettered (0x90).
    public var maxTopicLevels: Int?
    /// `max_inflight`: QoS 1 publishes awaiting PUBACK, below `uplink.max_inflight` and the Receive Maximum.
    public var maxInflight: Int?
    /// `max_publish_rate`: records sent per second on average (a token bucket with a small burst).
    public var maxPublishRate: Double?
    /// `max_qos`: the highest QoS sent (0 to 2), lowering what the cloud's CONNACK allows (and over
    /// MQTT 3.1.1 setting it: absent, QoS 1).
    public var maxQoS: Int?

    /// The keys, as written in the file.
    public static let keys = ["max_payload_bytes", "max_topic_levels", "max_inflight", "max_publish_rate", "max_qos"]

    /// Creates limits; every key left out is not given.
    public init(
        maxPayloadBytes: Int? = nil,
        maxTopicLevels: Int? = nil,
        maxInflight: Int? = nil,
        maxPublishRate: Double? = nil,
        maxQoS: Int? = nil
    ) {
        self.maxPayloadBytes = maxPayloadBytes
        self.maxTopicLevels = maxTopicLevels
        self.maxInflight = maxInflight
        self.maxPublishRate = maxPublishRate
        self.maxQoS = maxQoS
    }

    /// Whether no key is given.
    public var isEmpty: Bool { self == UplinkLimitsConfig() }
}

/// One limit in force for an endpoint, and the key that sets it (`uplink.limits.max_payload_bytes`).
public struct EffectiveUplinkLimit<Value: Sendable & Equatable>: Sendable, Equatable {
    /// The limit.
    public var value: Value
    /// The configuration key it comes from, for messages naming it.
    public var keyPath: String

    /// Creates a limit.
    public init(_ value: Value, keyPath: String) {
        self.value = value
        self.keyPath = keyPath
    }
}

/// The limits in force for one endpoint: its own keys, else `uplink.limits`; nil where there is none.
public struct EffectiveUplinkLimits: Sendable, Equatable {
    /// The largest payload, in bytes.
    public var maxPayloadBytes: EffectiveUplinkLimit<Int>?
    /// The most topic levels.
    public var maxTopicLevels: EffectiveUplinkLimit<Int>?
    /// The most QoS 1 publishes awaiting PUBACK.
    public var maxInflight: EffectiveUplinkLimit<Int>?
    /// Records per second.
    public var maxPublishRate: EffectiveUplinkLimit<Double>?
    /// The highest QoS, 0 to 2.
    public var maxQoS: EffectiveUplinkLimit<Int>?

    /// Creates limits; nil is no limit.
    public init(
        maxPayloadBytes: EffectiveUplinkLimit<Int>? = nil,
        maxTopicLevels: EffectiveUplinkLimit<Int>? = nil,
        maxInflight: EffectiveUplinkLimit<Int>? = nil,
        maxPublishRate: EffectiveUplinkLimit<Double>? = nil,
        maxQoS: EffectiveUplinkLimit<Int>? = nil
    ) {
        self.maxPayloadBytes = maxPayloadBytes
        self.maxTopicLevels = maxTopicLevels
        self.maxInflight = maxInflight
        self.maxPublishRate = maxPublishRate
        self.maxQoS = maxQoS
    }
}

extension UplinkLimitsConfig {
    /// The limits in force where these keys are given at `path` and `section` at `sectionPath`: each
    /// key given here wins, the others come from `section`; 0 is no limit (`max_qos` has none).
    public func effective(path: String, over section: UplinkLimitsConfig, sectionPath: String = "uplink.limits")
        -> EffectiveUplinkLimits
    {
        func pick<Value>(_ key: String, _ own: Value?, _ inherited: Value?, unlimited: Value)
            -> EffectiveUplinkLimit<Value>?
        {
            if let own {
                return own == unlimited ? nil : EffectiveUplinkLimit(own, keyPath: ConfigPath.key(key, in: path))
            }
            guard let inherited, inherited != unlimited else { return nil }
            return EffectiveUplinkLimit(inherited, keyPath: ConfigPath.key(key, in: sectionPath))
        }
        return EffectiveUplinkLimits(
            maxPayloadBytes: pick("max_payload_bytes", maxPayloadBytes, section.maxPayloadBytes, unlimited: 0),
            maxTopicLevels: pick("max_topic_levels", maxTopicLevels, section.maxTopicLevels, unlimited: 0),
            maxInflight: pick("max_inflight", maxInflight, section.maxInflight, unlimited: 0),
            maxPublishRate: pick("max_publish_rate", maxPublishRate, section.maxPublishRate, unlimited: 0),
            maxQoS: pick("max_qos", maxQoS, section.maxQoS, unlimited: Int.min)
        )
    }

    /// These keys as `uplink.limits`, the defaults of every endpoint, where 0 and an absent key both
    /// mean no limit: both read as absent, so the shipped file's commented defaults change nothing when
    /// uncommented.
    var asSectionDefaults: UplinkLimitsConfig {
        UplinkLimitsConfig(
            maxPayloadBytes: maxPayloadBytes == 0 ? nil : maxPayloadBytes,
            maxTopicLevels: maxTopicLevels == 0 ? nil : maxTopicLevels,
            maxInflight: maxInflight == 0 ? nil : maxInflight,
            maxPublishRate: maxPublishRate == 0 ? nil : maxPublishRate,
            maxQoS: maxQoS
        )
    }

    /// Reads the limit keys of a mapping (`uplink.limits`, or an endpoint's own mapping, whose other
    /// keys its reader also asks for); problems go to `reader`, which the caller finishes.
    init(readingKeysOf reader: ConfigReader) {
        self.init()
        maxPayloadBytes = reader.value("max_payload_bytes").flatMap {
            reader.size($0, in: 1...268_435_455, zeroMeans: "no limit")
        }
        maxTopicLevels = reader.value("max_topic_levels").flatMap { reader.int($0, in: 0...65_535) }
        maxInflight = reader.value("max_inflight").flatMap { reader.int($0, in: 0...65_535) }
        maxPublishRate = reader.value("max_publish_rate").flatMap { Self.rate($0, reader: reader) }
        maxQoS = reader.value("max_qos").flatMap { reader.int($0, in: 0...2) }
    }

    /// Messages per second: a number of at least 0.001 (`100`, `0.5`), or 0 for no limit.
    private static func rate(_ node: ConfigNode, reader: ConfigReader) -> Double? {
        let number: Double?
        switch node.content {
        case .int(let value): number = Double(value)
        case .double(let value): number = value
        default: number = nil
        }
        guard let number, number.isFinite, number == 0 || (0.001...1_000_000).contains(number) else {
            var message =
                "expected messages per second from 0.001 to 1000000 (such as 100 or 0.5), or 0 (no limit), "
                + "got \(node.quoted)"
            if node.isQuoted, let text = node.text, Double(text) != nil {
                message += "; remove the quotes to make it a number"
            }
            reader.report(message, at: node)
            return nil
        }
        return number
    }
}

public import WharfCore

extension MQTTProperties {
    /// The six application-message properties (those a PUBLISH forwards to subscribers).
    ///
    /// Setting it replaces those six and leaves every other property as it was.
    public var messageProperties: MessageProperties {
        get {
            guard let box = storage else { return MessageProperties() }
            return MessageProperties(
                payloadFormatIndicator: box.fields.payloadFormatIndicator,
                messageExpiryInterval: box.fields.messageExpiryInterval,
                contentType: box.fields.contentType,
                responseTopic: box.fields.responseTopic,
                correlationData: box.fields.correlationData,
                userProperties: box.fields.userProperties
            )
        }
        set {
            var fields = self.fields
            fields.payloadFormatIndicator = newValue.payloadFormatIndicator
            fields.messageExpiryInterval = newValue.messageExpiryInterval
            fields.contentType = newValue.contentType
            fields.responseTopic = newValue.responseTopic
            fields.correlationData = newValue.correlationData
            fields.userProperties = newValue.userProperties
            self = MQTTProperties(fields: fields)
        }
    }

    /// Properties holding just an application message's properties.
    public init(_ messageProperties: MessageProperties) {
        self.init()
        self.messageProperties = messageProperties
    }
}

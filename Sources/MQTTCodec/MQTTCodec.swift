// MQTTCodec module.

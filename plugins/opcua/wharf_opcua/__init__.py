"""Wharf's OPC UA plugin: reads OPC UA servers into MQTT topics and writes commands back (docs/opcua.md)."""

__version__ = "1.0.0"

"""Helpers for Wharf's black-box MQTT end-to-end suites (broker process, clients, wire codec)."""

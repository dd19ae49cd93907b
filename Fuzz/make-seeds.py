#!/usr/bin/env python3
"""Writes the seed corpus of each fuzz target under Fuzz/corpus/<target>/.

Seeds are small valid inputs (packets from the specifications, the shipped wharf.yaml, the plugin
protocol's example lines, a remote configuration document) behind the steering bytes each target
reads first (see the target's source). The fuzzer mutates them; what it learns is kept in its
working corpus, not here. Run again after changing a target's steering bytes.
"""
import os
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "Fuzz" / "corpus"


def s(text):
    """An MQTT UTF-8 string: two bytes of length, then the bytes."""
    data = text.encode()
    return bytes([len(data) >> 8, len(data) & 0xFF]) + data


def packet(first, body):
    """A packet with its Remaining Length (variable byte integer)."""
    length, header = len(body), bytearray()
    while True:
        byte, length = length & 0x7F, length >> 7
        header.append(byte | (0x80 if length else 0))
        if not length:
            break
    return bytes([first]) + bytes(header) + body


def write(target, name, data):
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def mqtt():
    connect311 = packet(0x10, s("MQTT") + bytes([0x04, 0xEE, 0x00, 0x3C]) + s("client1") + s("will/topic")
                        + s("bye") + s("user") + s("pass"))
    connect5 = packet(0x10, s("MQTT") + bytes([0x05, 0xC2, 0x00, 0x1E])
                      + bytes([0x08, 0x11, 0x00, 0x00, 0x0E, 0x10, 0x21, 0x00, 0x14]) + s("c5") + s("u") + s("p"))
    connack311 = packet(0x20, bytes([0x00, 0x00]))
    connack5 = packet(0x20, bytes([0x01, 0x00, 0x03, 0x24, 0x01, 0x25]) + bytes([0x00]))
    publish311 = packet(0x32, s("a/b") + bytes([0x00, 0x07]) + b"payload")
    publish5 = packet(0x34, s("a/b") + bytes([0x00, 0x08, 0x05, 0x01, 0x01, 0x23, 0x00, 0x01]) + b"{}")
    subscribe311 = packet(0x82, bytes([0x00, 0x01]) + s("a/+") + bytes([0x01]) + s("#") + bytes([0x02]))
    subscribe5 = packet(0x82, bytes([0x00, 0x01, 0x02, 0x0B, 0x05]) + s("a/#") + bytes([0x2E]))
    unsubscribe = packet(0xA2, bytes([0x00, 0x02]) + s("a/+"))
    acks311 = b"".join(packet(t, bytes([0x00, 0x07])) for t in (0x40, 0x50, 0x62, 0x70))
    acks5 = b"".join(packet(t, bytes([0x00, 0x07, 0x10, 0x00])) for t in (0x40, 0x50, 0x62, 0x70))
    ping = packet(0xC0, b"") + packet(0xD0, b"") + packet(0xE0, b"")
    disconnect5 = packet(0xE0, bytes([0x8E, 0x00]))
    auth = packet(0xF0, bytes([0x18, 0x0B, 0x15]) + s("SCRAM-SHA-1") + bytes([0x16, 0x00, 0x04]) + b"data"[:2])
    connect31 = packet(0x10, s("MQIsdp") + bytes([0x03, 0xC2, 0x00, 0x3C]) + s("plc-1998") + s("u") + s("p"))
    # 3.1 lets PUBREL, SUBSCRIBE and UNSUBSCRIBE carry the DUP flag.
    legacy31 = packet(0x8A, bytes([0x00, 0x03]) + s("a/b") + bytes([0x01])) + packet(0x6A, bytes([0x00, 0x03]))
    # Steering: mode (version, small limit), limit byte, chunk-size count, chunk sizes.
    learn, v311, v5, v31 = bytes([0, 0, 0]), bytes([1, 0, 0]), bytes([2, 0, 0]), bytes([3, 0, 0])
    chunked = bytes([0, 0, 3, 1, 5, 17])
    write("FuzzMQTTDecoder", "connect311-session", learn + connect311 + publish311 + subscribe311 + unsubscribe
          + acks311 + ping)
    write("FuzzMQTTDecoder", "connect5-session", learn + connect5 + publish5 + subscribe5 + acks5 + disconnect5)
    write("FuzzMQTTDecoder", "connect311-chunked", chunked + connect311 + publish311)
    write("FuzzMQTTDecoder", "client311", learn + connack311 + publish311 + acks311)
    write("FuzzMQTTDecoder", "client5", learn + connack5 + publish5 + acks5 + auth)
    write("FuzzMQTTDecoder", "v311-packets", v311 + publish311 + subscribe311 + acks311 + ping)
    write("FuzzMQTTDecoder", "v5-packets", v5 + publish5 + subscribe5 + acks5 + auth + disconnect5)
    write("FuzzMQTTDecoder", "connect31-session", learn + connect31 + publish311 + legacy31 + acks311 + ping)
    write("FuzzMQTTDecoder", "v31-packets", v31 + legacy31 + publish311 + unsubscribe)
    write("FuzzMQTTDecoder", "small-limit", bytes([0x06, 0x10, 0x00]) + publish5 + publish5)


def config():
    shipped = (ROOT / "etc" / "wharf" / "wharf.yaml").read_bytes()
    write("FuzzConfigReader", "shipped-wharf.yaml", b"\x00" + shipped)
    write("FuzzConfigReader", "small.yaml", b"\x00" + b"""gateway:
  id: gw-01
broker:
  listeners:
    - port: 1883
      host: 127.0.0.1
  max_packet_size: 64KiB
uplink:
  endpoints:
    - host: cloud.example.com
      port: 8883
  forward:
    - filter: "sensors/#"
      qos: 1
log:
  level: info
""")
    write("FuzzConfigReader", "anchors.yaml", b"\x00" + b"a: &x {b: [1, 2, *x]}\nc: !!str 3\n? [k]\n: v\n")
    write("FuzzConfigReader", "config.json",
          b"\x01" + b'{"gateway":{"id":"gw-01"},"broker":{"listeners":[{"port":1883}]},"log":{"level":"debug"}}')


def plugin():
    lines = [
        b'{"type":"ready","protocol":1,"name":"wharf-opcua","version":"1.0.0","capabilities":["credit","commands",'
        b'"health","log"],"subscriptions":[{"filter":"devices/line1/+/set","qos":1}]}',
        b'{"type":"publish","id":"42","topic":"devices/line1/temp","payload":"21.5","qos":1,"retain":false,'
        b'"properties":{"content_type":"application/json","payload_format_utf8":true,"message_expiry":60,'
        b'"response_topic":"r/1","correlation_data_base64":"AAE=","user_properties":[["unit","C"]]}}',
        b'{"type":"publish","id":1,"topic":"devices/line1/count","payload_base64":"AAEC","qos":1}',
        b'{"type":"health","status":"degraded","message":"PLC 2 does not answer"}',
        b'{"type":"log","level":"warning","message":"slow answer \\u00e9\\ud83d\\ude00","fields":{"device":"plc1"}}',
        b'{"type":"ack","id":"42"}',
        b'{"type":"nack","id":3,"reason":"not-authorized","message":"no"}',
    ]
    # Steering: line limit (0 = 1 MiB), chunk-size count, chunk sizes.
    write("FuzzPluginFramer", "session", bytes([0, 0]) + b"\n".join(lines) + b"\n")
    write("FuzzPluginFramer", "crlf-chunked", bytes([0, 3, 2, 9, 40]) + b"\r\n".join(lines) + b"\r\n")
    write("FuzzPluginFramer", "oversized", bytes([40, 2, 7, 30]) + b"\n".join(lines[2:5]) + b"\nshort\n")


def remote_config():
    document = b"""{
  "gateway": "gw-01",
  "version": 7,
  "key_id": "fleet-2026",
  "not_before": "2026-12-07T14:00:00Z",
  "expires": "2026-12-14T14:00:00Z",
  "config": {
    "log": { "level": "debug" },
    "uplink": { "forward": [ { "filter": "sensors/#" } ] }
  },
  "signature": "xiF+NHpxPT8AWiFGrBIk0MYjDTEXsSGXIO6n2GUvjzkgAENJoASZBHv4ZBgXgvARSRkqigTLg/RCmWuNnrdDCw=="
}
"""
    write("FuzzRemoteConfigJSON", "document.json", document)
    write("FuzzRemoteConfigJSON", "numbers.json",
          b'[0, -0, 1.0, 1e3, 1E-7, 123456789012345678901234567890, 9007199254740993, 0.1, 5e-324, 1.5e300]')
    write("FuzzRemoteConfigJSON", "strings.json",
          b'{"b":"\\u0000\\n\\t\\"\\\\\\/","a":"\\ud83d\\ude00\xc3\xa9","":[true,false,null,{}]}')


if __name__ == "__main__":
    mqtt()
    config()
    plugin()
    remote_config()
    print(f"seeds written under {os.path.relpath(CORPUS, os.getcwd())}")

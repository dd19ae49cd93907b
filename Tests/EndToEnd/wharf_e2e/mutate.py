"""Hostile packet sequences: random mutations of valid CONNECT, SUBSCRIBE and PUBLISH packets,
second CONNECTs on one connection and zero-length client ids with clean session 0.

Valid packets come from codec.py. A mutation flips bits, overwrites, inserts, deletes,
duplicates or truncates bytes, or rewrites the fixed header. Every sequence is reproducible
from the random generator's seed.

Sessions: the valid CONNECTs ask for clean sessions (MQTT 5: no Session Expiry Interval, so
the session ends with the connection whatever the Clean Start flag says), so nothing these
clients leave behind may legitimately outlive their connections. A mutation can, rarely,
turn a 3.1.1 CONNECT's clean flag off and create a genuine persistent session.
"""

from __future__ import annotations

import random

from . import codec

V311, V5 = codec.MQTT311, codec.MQTT5
# The filters the valid SUBSCRIBEs use; the load after the mutated clients publishes to a
# topic all of them match.
FILTERS = ("hostile/mutated/#", "hostile/+/load", "hostile/mutated/load")
LOAD_TOPIC = "hostile/mutated/load"


def valid_connect(rng: random.Random, version: int, client_id: str, *, clean: bool = True) -> bytes:
    will = None
    if rng.random() < 0.3:
        will = codec.Will("hostile/mutated/will", b"gone", qos=rng.randrange(2))
    return codec.connect(client_id, version=version, clean=clean, keepalive=rng.choice((0, 5, 60)), will=will)


def valid_subscribe(rng: random.Random, version: int) -> bytes:
    chosen = rng.sample(FILTERS, rng.randrange(1, len(FILTERS) + 1))
    return codec.subscribe(rng.randrange(1, 65536), [(f, rng.randrange(3)) for f in chosen], version=version)


def valid_publish(rng: random.Random, version: int) -> bytes:
    qos = rng.randrange(3)
    return codec.publish(
        "hostile/mutated/data",
        rng.randbytes(rng.randrange(0, 64)),
        qos=qos,
        retain=rng.random() < 0.05,
        packet_id=rng.randrange(1, 65536) if qos else None,
        version=version,
    )


def mutate(rng: random.Random, data: bytes) -> bytes:
    """One to three random mutations of `data`."""
    out = bytearray(data)
    for _ in range(rng.randrange(1, 4)):
        if not out:
            out = bytearray(rng.randbytes(rng.randrange(1, 8)))
        op = rng.randrange(8)
        at = rng.randrange(len(out))
        if op == 0:
            out[at] ^= 1 << rng.randrange(8)
        elif op == 1:
            out[at] = rng.randrange(256)
        elif op == 2:
            out[at:at] = rng.randbytes(rng.randrange(1, 16))
        elif op == 3:
            del out[at : at + rng.randrange(1, 8)]
        elif op == 4:
            out = out[: max(1, at)]
        elif op == 5:
            span = out[at : at + rng.randrange(1, 16)]
            out[at:at] = span
        elif op == 6 and len(out) > 1:
            # A remaining length that disagrees with the body (possibly a huge one).
            out[1:2] = codec.varint(rng.choice((0, 1, 127, 128, 16_383, 2_097_151, 268_435_455)))
        else:
            out[0] = rng.randrange(256)
    return bytes(out)


def hostile_sequence(rng: random.Random, number: int) -> tuple[str, list[bytes]]:
    """The packets one hostile connection sends, and the name of its kind (for the tally)."""
    version = rng.choice((V311, V5))
    client_id = f"hostile-mut-{number}"
    kind = number % 5
    if kind == 0:
        return "mutated CONNECT", [mutate(rng, valid_connect(rng, version, client_id))]
    if kind == 1:
        packets = [valid_connect(rng, version, client_id), valid_subscribe(rng, version)]
        for _ in range(rng.randrange(1, 4)):
            packets.append(mutate(rng, rng.choice((valid_subscribe, valid_publish))(rng, version)))
        return "mutated packet after CONNECT", packets
    if kind == 2:
        second = valid_connect(rng, rng.choice((V311, V5)), rng.choice((client_id, f"{client_id}-b")))
        packets = [valid_connect(rng, version, client_id), valid_subscribe(rng, version), second]
        return "second CONNECT", packets + [valid_publish(rng, version)]
    if kind == 3:
        # 3.1.1 must refuse it (identifier rejected); MQTT 5 assigns an identifier to a session
        # that, without a Session Expiry Interval, ends with the connection.
        packets = [valid_connect(rng, version, "", clean=False), valid_subscribe(rng, version)]
        return "empty client id, clean session 0", packets
    packets = [valid_connect(rng, version, client_id)]
    for _ in range(rng.randrange(2, 8)):
        maker = rng.choice((valid_subscribe, valid_publish, lambda r, v: codec.pingreq()))
        data = maker(rng, version)
        packets.append(mutate(rng, data) if rng.random() < 0.3 else data)
    return "mixed sequence", packets

"""CoAP ingest: coap-client-openssl POSTs and PUTs (confirmable and not) become MQTT publishes,
with the topic template, QoS, retain and MQTT 5 content type from Content-Format; block-wise
uploads; the error codes of bad requests; and a confirmable POST that is acknowledged only once
it is in the durable store-and-forward queue."""

from __future__ import annotations

from typing import Callable

import pytest

from wharf_e2e.client import V311, MqttClient
from wharf_e2e.cloud import Cloud, CloudSubscriber
from wharf_e2e.coap import (  # noqa: F401 - fixtures
    CONTENT_TYPES,
    CoapConfig,
    CoapGateway,
    coap_factory,
    coap_mqtt,
    wharf_only,
)
from wharf_e2e.coap_cli import (
    assert_coap_serves,
    assert_code,
    coap_client,
    post,
)
from wharf_e2e.coap_raw import (
    POST,
    URI_PATH,
    RawCoap,
)
from wharf_e2e.gateway import Forward, UplinkOptions

pytestmark = wharf_only


def subscriber(coap_mqtt: Callable[..., MqttClient], gateway: CoapGateway, topic: str = "#", **kwargs) -> MqttClient:
    client = coap_mqtt(gateway, **kwargs)
    client.subscribe(topic, 1)
    return client


# --------------------------------------------------------------------------------------- #
# POST and PUT to MQTT
# --------------------------------------------------------------------------------------- #


def test_confirmable_post_is_published_at_qos1_under_the_path(coap_factory, coap_mqtt) -> None:
    gateway = coap_factory()
    watcher = subscriber(coap_mqtt, gateway, "sensors/#")
    reply = post(gateway, "t/sensors/room1/temp", b"21.5", content_format=0)
    assert_code(reply, "2.04")
    # Piggybacked on the ACK, or a separate confirmable response after an empty ACK.
    assert reply.responses[-1].type in ("ACK", "CON"), reply
    [message] = watcher.messages.wait(1, topic="sensors/room1/temp")
    assert message.payload == b"21.5"
    assert message.qos == 1
    assert not message.retain
    assert message.properties.get("ContentType") == "text/plain;charset=utf-8"


def test_non_confirmable_post_is_published_at_qos0(coap_factory, coap_mqtt) -> None:
    gateway = coap_factory()
    watcher = subscriber(coap_mqtt, gateway, "sensors/#")
    reply = post(gateway, "t/sensors/room2/hum", b"48", non_confirmable=True, wait=2)
    # Answered with a NON 2.04, or not at all.
    assert reply.code in (None, "2.04"), reply
    assert all(p.type == "NON" for p in reply.responses), reply
    [message] = watcher.messages.wait(1, topic="sensors/room2/hum")
    assert message.payload == b"48"
    assert message.qos == 0


def test_put_publishes_like_post(coap_factory, coap_mqtt) -> None:
    gateway = coap_factory()
    watcher = subscriber(coap_mqtt, gateway, "plant/#")
    assert_code(coap_client(gateway.url("t/plant/line1/speed"), method="put", data=b"1200"), "2.04")
    [message] = watcher.messages.wait(1, topic="plant/line1/speed")
    assert message.payload == b"1200"


def test_many_posts_from_one_client_arrive_in_order(coap_factory, coap_mqtt) -> None:
    gateway = coap_factory()
    watcher = subscriber(coap_mqtt, gateway, "seq/#")
    for index in range(10):
        assert_code(post(gateway, "t/seq/a", str(index).encode()), "2.04")
    items = watcher.messages.wait(10, topic="seq/a")
    assert [m.payload for m in items] == [str(i).encode() for i in range(10)]


def test_mqtt_311_subscribers_receive_coap_publishes(coap_factory, coap_mqtt) -> None:
    gateway = coap_factory()
    watcher = subscriber(coap_mqtt, gateway, "old/+", version=V311)
    assert_code(post(gateway, "t/old/client", b"{}", content_format=50), "2.04")
    [message] = watcher.messages.wait(1, topic="old/client")
    assert message.payload == b"{}"
    assert message.properties == {}


@pytest.mark.parametrize(
    "content_format, content_type",
    [*CONTENT_TYPES.items(), (11542, "application/coap-cf-11542")],
    ids=[*(str(n) for n in CONTENT_TYPES), "unknown"],
)
def test_content_format_becomes_the_mqtt5_content_type(
    content_format: int, content_type: str, coap_factory, coap_mqtt
) -> None:
    gateway = coap_factory()
    watcher = subscriber(coap_mqtt, gateway, "cf/#")
    assert_code(post(gateway, "t/cf/x", b"\x01\x02payload", content_format=content_format), "2.04")
    [message] = watcher.messages.wait(1, topic="cf/x")
    assert message.payload == b"\x01\x02payload"
    assert message.properties.get("ContentType") == content_type


def test_binary_and_empty_payloads_are_published_unchanged(coap_factory, coap_mqtt) -> None:
    gateway = coap_factory()
    watcher = subscriber(coap_mqtt, gateway, "bin/#")
    blob = bytes(range(256))
    assert_code(post(gateway, "t/bin/blob", blob, content_format=42), "2.04")
    raw = RawCoap(gateway)
    try:
        reply = raw.request(POST, "t/bin/empty")
        assert reply.code_text == "2.04", reply
    finally:
        raw.close()
    items = watcher.messages.wait(2)
    assert {m.topic: m.payload for m in items} == {"bin/blob": blob, "bin/empty": b""}


@pytest.mark.parametrize("block_size", [64, 256, 1024])
def test_blockwise_post_of_several_kilobytes_arrives_intact(block_size: int, coap_factory, coap_mqtt) -> None:
    gateway = coap_factory()
    watcher = subscriber(coap_mqtt, gateway, "big/#")
    body = bytes((i * 7 + i // 256) % 256 for i in range(6000))
    reply = post(gateway, "t/big/upload", body, block_size=block_size, content_format=42)
    assert_code(reply, "2.04")
    [message] = watcher.messages.wait(1, topic="big/upload")
    assert len(message.payload) == len(body)
    assert message.payload == body


# --------------------------------------------------------------------------------------- #
# Configuration: template, prefix, QoS, retain
# --------------------------------------------------------------------------------------- #


def test_topic_template_and_path_prefix(coap_factory, coap_mqtt) -> None:
    gateway = coap_factory(CoapConfig(path_prefix="ingest", topic="coap/{path}/in"))
    watcher = subscriber(coap_mqtt, gateway, "#")
    assert_code(post(gateway, "ingest/meter/7", b"42"), "2.04")
    [message] = watcher.messages.wait(1)
    assert (message.topic, message.payload) == ("coap/meter/7/in", b"42")
    # The default prefix is not served when another is configured.
    assert_code(post(gateway, "t/meter/7", b"43"), "4.04")


def test_retain_true_leaves_a_retained_message(coap_factory, coap_mqtt) -> None:
    gateway = coap_factory(CoapConfig(retain=True))
    assert_code(post(gateway, "t/state/door", b"open"), "2.04")
    late = coap_mqtt(gateway)
    late.subscribe("state/door", 1)
    [message] = late.messages.wait(1)
    assert message.payload == b"open"
    assert message.retain


def test_qos0_ingest_publishes_confirmable_requests_at_qos0(coap_factory, coap_mqtt) -> None:
    gateway = coap_factory(CoapConfig(qos=0))
    watcher = subscriber(coap_mqtt, gateway, "q/#")
    assert_code(post(gateway, "t/q/zero", b"z"), "2.04")
    [message] = watcher.messages.wait(1)
    assert message.qos == 0


# --------------------------------------------------------------------------------------- #
# Errors
# --------------------------------------------------------------------------------------- #


@pytest.mark.parametrize("path", ["t/a/+/b", "t/a/%23", "t/+", "t"], ids=["plus", "hash", "only-plus", "empty-topic"])
def test_wildcards_or_an_empty_topic_are_bad_requests(path: str, coap_factory, coap_mqtt) -> None:
    gateway = coap_factory()
    watcher = subscriber(coap_mqtt, gateway, "#")
    reply = post(gateway, path, b"x")
    assert_code(reply, "4.00")
    assert_coap_serves(gateway, watcher, "after/bad")
    assert [m.topic for m in watcher.messages.snapshot()] == ["after/bad"]


def test_path_segment_with_invalid_utf8_is_a_bad_request(coap_factory, coap_mqtt) -> None:
    gateway = coap_factory()
    watcher = subscriber(coap_mqtt, gateway, "#")
    raw = RawCoap(gateway)
    try:
        reply = raw.request(POST, "t/ok", options=[(URI_PATH, b"\xff\xfe")])
    finally:
        raw.close()
    assert reply.code_text == "4.00", reply
    assert_coap_serves(gateway, watcher, "after/utf8")
    assert [m.topic for m in watcher.messages.snapshot()] == ["after/utf8"]


def test_path_outside_the_prefix_is_not_found(coap_factory) -> None:
    gateway = coap_factory()
    assert_code(post(gateway, "elsewhere/a", b"x"), "4.04")


def test_delete_is_method_not_allowed(coap_factory) -> None:
    gateway = coap_factory()
    assert_code(coap_client(gateway.url("t/a/b"), method="delete"), "4.05")


def test_payload_above_max_payload_is_request_entity_too_large(coap_factory, coap_mqtt) -> None:
    gateway = coap_factory(CoapConfig(max_payload=100))
    watcher = subscriber(coap_mqtt, gateway, "#")
    assert_code(post(gateway, "t/limit/ok", b"y" * 100), "2.04")
    # In one datagram, and block-wise (Block1) above the limit.
    assert_code(post(gateway, "t/limit/single", b"x" * 101), "4.13")
    assert_code(post(gateway, "t/limit/blocks", b"x" * 3000, block_size=64), "4.13")
    assert_coap_serves(gateway, watcher, "after/limit")
    assert [m.topic for m in watcher.messages.snapshot()] == ["limit/ok", "after/limit"]


# --------------------------------------------------------------------------------------- #
# Durability: the 2.04 of a confirmable POST means the message is in the queue
# --------------------------------------------------------------------------------------- #


def test_acknowledged_confirmable_posts_survive_kill9_and_reach_the_cloud(
    cloud_factory: Callable[..., Cloud], gateway_factory
) -> None:
    cloud = cloud_factory(persistence=True)
    upstream = CloudSubscriber(cloud, ["site/#"]).connect()
    upstream.close()
    cloud.stop()

    config = CoapConfig().with_ports()
    gateway = gateway_factory(
        UplinkOptions(port=cloud.port, forward=(Forward("devices/#", remote_prefix="site/{gateway}/"),)),
        wharf_extra_yaml=config.yaml(),
    )
    coap = CoapGateway(gateway, config).wait_ready()
    for index in range(5):
        assert_code(post(coap, f"t/devices/meter/{index}", f"reading-{index}".encode()), "2.04")
    # Every 2.04 went out while the cloud was down: the messages exist only in wharfd's queue.
    gateway.kill9()
    gateway.start()
    cloud.start()
    upstream.connect()
    assert upstream.session_present
    items = upstream.wait_for(lambda got: len({m.topic for m in got}) >= 5, 20)
    assert {m.topic: m.payload for m in items} == {
        f"site/gw1/devices/meter/{i}": f"reading-{i}".encode() for i in range(5)
    }


def test_confirmable_post_arrives_upstream_after_the_cloud_starts(
    cloud_factory: Callable[..., Cloud], gateway_factory
) -> None:
    cloud = cloud_factory(persistence=True)
    upstream = CloudSubscriber(cloud, ["site/#"]).connect()
    upstream.close()
    cloud.stop()

    config = CoapConfig().with_ports()
    gateway = gateway_factory(
        UplinkOptions(port=cloud.port, forward=(Forward("devices/#", remote_prefix="site/{gateway}/"),)),
        wharf_extra_yaml=config.yaml(),
    )
    coap = CoapGateway(gateway, config).wait_ready()
    reply = post(coap, "t/devices/pump/state", b"running", content_format=0)
    assert_code(reply, "2.04")
    cloud.start()
    upstream.connect()
    [message] = upstream.wait_for(lambda got: len(got) >= 1, 20)
    assert (message.topic, message.payload) == ("site/gw1/devices/pump/state", b"running")
    assert message.properties.get("ContentType") == "text/plain;charset=utf-8"

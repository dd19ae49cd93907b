"""06 limits on CONNECT: client identifier length and the number of MQTT 5 User Properties.

wharfd refuses a client identifier longer than `broker.max_client_id_length` bytes (default
256) with CONNACK 0x85 (Client Identifier not valid) / return code 2 (identifier rejected), and
a CONNECT with more than `broker.max_connect_user_properties` User Properties (default 32) with
CONNACK 0x97 (Quota exceeded). Mosquitto 2.0.11 has neither limit: it accepted a 60,000-byte
client identifier and 5,000 User Properties in one CONNECT. These tests are therefore
`wharf_only`. The last one reads every limit's counter from /metrics.
"""

from __future__ import annotations

import pytest

from wharf_e2e import codec
from wharf_e2e.admin import admin_yaml, get, metric, wait_for_admin
from wharf_e2e.broker import free_port
from wharf_e2e.checks import assert_serves

VERSIONS = [pytest.param(codec.MQTT311, id="v311"), pytest.param(codec.MQTT5, id="v5")]
WHARF_ONLY = pytest.mark.wharf_only(reason="Mosquitto 2.0.11 limits neither client identifiers nor User Properties")


def _user_properties(count: int) -> list[tuple[int, object]]:
    return [(codec.USER_PROPERTY, (f"key-{index}", "value")) for index in range(count)]


@WHARF_ONLY
@pytest.mark.parametrize("version", VERSIONS)
def test_client_identifier_of_the_default_limit_is_accepted_one_more_byte_is_not(raw, broker, version):
    fits = raw(version=version)
    fits.connect("c" * 256)
    fits.ping()
    over = raw(version=version)
    connack = over.connect("c" * 257, expect_reason=None)
    assert connack.reason == (codec.RC_CLIENT_IDENTIFIER_NOT_VALID if version == codec.MQTT5 else 2)
    assert over.wait_closed() == []
    assert_serves(broker)


@WHARF_ONLY
@pytest.mark.broker_config(wharf_broker_extra=("max_client_id_length: 30",))
def test_client_identifier_limit_is_configurable(raw):
    raw().connect("x" * 30)
    assert raw().connect("x" * 31, expect_reason=None).reason == codec.RC_CLIENT_IDENTIFIER_NOT_VALID


@WHARF_ONLY
def test_user_properties_up_to_the_default_limit_are_accepted_one_more_is_not(raw, broker):
    fits = raw()
    fits.connect("props-32", properties=_user_properties(32))
    fits.ping()
    over = raw()
    connack = over.connect("props-33", properties=_user_properties(33), expect_reason=None)
    assert connack.reason == codec.RC_QUOTA_EXCEEDED
    assert over.wait_closed() == []
    assert_serves(broker)


@WHARF_ONLY
@pytest.mark.broker_config(wharf_broker_extra=("max_connect_user_properties: 0",))
def test_user_property_limit_is_configurable(raw):
    raw().connect("props-none")
    assert raw().connect("props-one", properties=_user_properties(1), expect_reason=None).reason == 0x97


ADMIN_PORT = free_port()


@WHARF_ONLY
@pytest.mark.broker_config(
    wharf_broker_extra=("max_topic_levels: 3", "max_client_id_length: 30", "max_connect_user_properties: 1"),
    wharf_extra_yaml=admin_yaml(ADMIN_PORT),
)
def test_every_limit_hit_is_counted_in_the_metrics(raw):
    raw().connect("x" * 31, expect_reason=None)
    raw().connect("props", properties=_user_properties(2), expect_reason=None)
    client = raw()
    client.connect("levels")
    assert client.publish("a/b/c/d", b"deep", qos=1).reason == 0x90
    assert client.subscribe("a/b/c/#", 1).reasons == [0x8F]
    tiny = raw()
    tiny.send(codec.connect("tiny", properties=[(codec.MAXIMUM_PACKET_SIZE, 8)]))
    tiny.wait_closed()
    wait_for_admin(ADMIN_PORT)
    text = get(ADMIN_PORT, "/metrics").body
    counts = {
        limit: metric(text, "wharf_broker_limit_hits_total", f'limit="{limit}"')
        for limit in ("max_topic_levels", "max_client_id_length", "max_connect_user_properties", "client_maximum_packet_size")
    }
    assert counts == {
        "max_topic_levels": 2,
        "max_client_id_length": 1,
        "max_connect_user_properties": 1,
        "client_maximum_packet_size": 1,
    }

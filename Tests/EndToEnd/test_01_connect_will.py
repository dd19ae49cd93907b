"""01 connect: will messages, will delay interval and DISCONNECT with will (0x04)."""

from __future__ import annotations

import pytest

from wharf_e2e import codec
from wharf_e2e.checks import messages_before_marker

VERSIONS = [pytest.param(codec.MQTT311, id="v311"), pytest.param(codec.MQTT5, id="v5")]


def _watch(mqtt, topic):
    watcher = mqtt()
    assert watcher.subscribe(topic, 1) == [1]
    return watcher


def _will_client(raw, client_id, topic, *, version=codec.MQTT5, payload=b"gone", delay=None, expiry=None, **will):
    client = raw(version=version)
    will_props = [(codec.WILL_DELAY_INTERVAL, delay)] if delay is not None else []
    props = [(codec.SESSION_EXPIRY_INTERVAL, expiry)] if expiry is not None else None
    client.connect(
        client_id,
        clean=expiry is None,
        properties=props,
        will=codec.Will(topic, payload, qos=will.pop("qos", 1), retain=will.pop("retain", False), properties=will_props),
    )
    return client


@pytest.mark.parametrize("version", VERSIONS)
def test_will_published_on_abnormal_disconnect(raw, mqtt, version):
    watcher = _watch(mqtt, "will/abnormal")
    client = _will_client(raw, "will-abnormal", "will/abnormal", version=version, payload=b"lost")
    client.close()
    [will] = watcher.messages.wait(1)
    assert (will.topic, will.payload, will.qos, will.retain) == ("will/abnormal", b"lost", 1, False)


@pytest.mark.parametrize("version", VERSIONS)
def test_will_published_on_connection_reset(raw, mqtt, version):
    watcher = _watch(mqtt, "will/reset")
    client = _will_client(raw, "will-reset", "will/reset", version=version, payload=b"reset")
    client.abort()
    [will] = watcher.messages.wait(1)
    assert will.payload == b"reset"


@pytest.mark.parametrize("version", VERSIONS)
def test_will_not_published_on_normal_disconnect(raw, mqtt, version):
    watcher = _watch(mqtt, "will/normal")
    client = _will_client(raw, "will-normal", "will/normal", version=version)
    client.disconnect()
    assert messages_before_marker(watcher, watcher, "will/normal", settle=1.0) == []


def test_will_with_retain_is_kept_for_later_subscribers(raw, mqtt):
    # A subscriber from before the will is published sees it go out; only after that is the next
    # one later: subscribing while the broker still handles the closed connection would race it.
    earlier = _watch(mqtt, "will/retained")
    client = _will_client(raw, "will-retained", "will/retained", payload=b"offline", retain=True)
    client.close()
    earlier.messages.wait(1)
    watcher = mqtt()
    watcher.subscribe("will/retained", 1)
    [will] = watcher.messages.wait(1)
    assert (will.payload, will.retain) == (b"offline", True)


def test_v5_will_properties_forwarded(raw, mqtt):
    watcher = _watch(mqtt, "will/props")
    client = raw()
    props = [
        (codec.CONTENT_TYPE, "text/plain"),
        (codec.USER_PROPERTY, ("device", "plc-7")),
        (codec.RESPONSE_TOPIC, "will/reply"),
    ]
    client.connect("will-props", will=codec.Will("will/props", b"bye", qos=1, properties=props))
    client.close()
    [will] = watcher.messages.wait(1)
    assert will.properties.get("ContentType") == "text/plain"
    assert will.properties.get("UserProperty") == [("device", "plc-7")]
    assert will.properties.get("ResponseTopic") == "will/reply"


def test_v5_disconnect_with_will_message_publishes_will(raw, mqtt):
    watcher = _watch(mqtt, "will/0x04")
    client = _will_client(raw, "will-0x04", "will/0x04", payload=b"asked for")
    client.disconnect(codec.RC_DISCONNECT_WITH_WILL)
    [will] = watcher.messages.wait(1)
    assert will.payload == b"asked for"


# --------------------------------------------------------------------------- #
# Will delay interval
# --------------------------------------------------------------------------- #


def test_v5_will_delay_interval_delays_will(raw, mqtt):
    watcher = _watch(mqtt, "will/delayed")
    client = _will_client(raw, "will-delayed", "will/delayed", payload=b"late", delay=3, expiry=60)
    client.close()
    assert messages_before_marker(watcher, watcher, "will/delayed", settle=1.0) == []
    watcher.messages.wait_for(lambda got: any(m.payload == b"late" for m in got), timeout=10)


def test_v5_will_delay_cancelled_by_reconnect(raw, mqtt):
    watcher = _watch(mqtt, "will/cancelled")
    client = _will_client(raw, "will-cancelled", "will/cancelled", delay=2, expiry=60)
    client.close()
    back = raw()
    assert back.connect("will-cancelled", clean=False, properties=[(codec.SESSION_EXPIRY_INTERVAL, 60)]).session_present
    assert messages_before_marker(watcher, watcher, "will/cancelled", settle=4.0) == []
    back.ping()


def test_v5_will_sent_when_session_ends_before_delay(raw, mqtt):
    # The will goes out at the earlier of the will delay and the end of the session [MQTT-3.1.3-9].
    watcher = _watch(mqtt, "will/session-end")
    client = _will_client(raw, "will-session-end", "will/session-end", payload=b"ended", delay=30, expiry=1)
    client.close()
    watcher.messages.wait_for(lambda got: any(m.payload == b"ended" for m in got), timeout=10)


@pytest.mark.xfail_mosquitto(reason="drops a pending delayed will when a clean-start reconnect ends the session")
def test_v5_will_sent_when_clean_start_reconnect_ends_session(raw, mqtt):
    # A clean-start reconnect ends the old session, and with it the wait for the will delay.
    watcher = _watch(mqtt, "will/clean-restart")
    client = _will_client(raw, "will-clean-restart", "will/clean-restart", payload=b"ended", delay=30, expiry=60)
    client.close()
    back = raw()
    assert back.connect("will-clean-restart", clean=True).session_present is False
    watcher.messages.wait_for(lambda got: any(m.payload == b"ended" for m in got), timeout=10)

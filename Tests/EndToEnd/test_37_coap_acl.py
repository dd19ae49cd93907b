"""CoAP peers under the broker's ACL file: a peer's `publish`/`read` filters confine it, and the
ACL's `user coap-psk:ID` / `coap-plain:ADAPTER` section applies on top, for POST, GET and
Observe alike; an ACL reload (SIGHUP) that revokes an observed topic stops its notifications
while the observation of a topic still allowed goes on."""

from __future__ import annotations

import signal
import time
from pathlib import Path

from wharf_e2e.admin import admin_yaml, get, wait_for_admin, wait_until
from wharf_e2e.broker import free_port
from wharf_e2e.coap import (  # noqa: F401 - fixtures
    CoapConfig,
    CoapGateway,
    Psk,
    coap_factory,
    coap_mqtt,
    wharf_only,
)
from wharf_e2e.coap_cli import CoapReply, assert_code, coap_client
from wharf_e2e.coap_raw import GET, OBSERVE, Datagram, RawCoap, decode_message

pytestmark = wharf_only

SENSOR = ("sensor-1", "secret-one")
# The config grant: everything under sensors/ and other/...
SENSOR_PSK = Psk(SENSOR[0], SENSOR[1], publish=("sensors/#", "other/#"), read=("sensors/#",))
# ...the ACL: only sensors/open/ of it, and shared/ which the config grant does not cover.
# The lines before any `user` line let the test's anonymous MQTT clients do everything.
PSK_ACL = """\
topic readwrite #

user coap-psk:sensor-1
topic readwrite sensors/open/#
topic readwrite shared/#
"""


def write_acl(tmp_path: Path, text: str) -> Path:
    """The ACL file the broker is started with (rewritten before a reload)."""
    path = tmp_path / "acl"
    path.write_text(text)
    return path


def secure(gateway: CoapGateway, path: str, **kwargs: object) -> CoapReply:
    """A request over DTLS as sensor-1."""
    return coap_client(gateway.url(path, secure=True), psk=SENSOR, **kwargs)


def test_the_acl_applies_to_a_psk_peer_on_top_of_its_grant(coap_factory, coap_mqtt, tmp_path) -> None:
    acl = write_acl(tmp_path, PSK_ACL)
    gateway = coap_factory(CoapConfig(psk=(SENSOR_PSK,)), acl_file=str(acl))
    watcher = coap_mqtt(gateway)
    watcher.subscribe("#", 1)

    # Allowed by the grant, refused by the ACL; allowed by the ACL, outside the grant.
    assert_code(secure(gateway, "t/sensors/closed/t", method="post", data=b"no"), "4.03")
    assert_code(secure(gateway, "t/shared/t", method="post", data=b"no"), "4.03")
    # Allowed by both.
    assert_code(secure(gateway, "t/sensors/open/t", method="post", data=b"yes"), "2.04")
    [message] = watcher.messages.wait(1)
    assert (message.topic, message.payload) == ("sensors/open/t", b"yes")

    watcher.publish("sensors/closed/r", b"secret", 1, retain=True)
    watcher.publish("sensors/open/r", b"public", 1, retain=True)
    watcher.messages.wait(3)
    # A retained message the ACL does not let the peer read is forbidden, not "not found".
    assert_code(secure(gateway, "t/sensors/closed/r"), "4.03")
    reply = secure(gateway, "t/sensors/open/r")
    assert_code(reply, "2.05")
    assert reply.payload == b"public"
    assert_code(secure(gateway, "t/sensors/open/none"), "4.04")
    assert [m.topic for m in watcher.messages.snapshot()] == ["sensors/open/t", "sensors/closed/r", "sensors/open/r"]


# Plain peers of the adapter named "coap": confined to `plain.read` (`#` here) and to the ACL.
PLAIN_ACL = """\
topic readwrite #

user coap-plain:coap
topic read watch/#
topic read keep/#
"""
PLAIN_ACL_REVOKED = """\
topic readwrite #

user coap-plain:coap
topic read keep/#
"""


def observe(raw: RawCoap, path: str, token: bytes) -> Datagram:
    """An Observe registration (GET with Observe 0) and its answer."""
    return raw.request(GET, path, token=token, options=[(OBSERVE, b"")])


def notifications_until(
    raw: RawCoap, token: bytes, payload: bytes, timeout: float = 5.0
) -> list[tuple[bytes, bytes]]:
    """Notifications (any token) received until the one with `token` and `payload`, that one included."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        data = raw.receive(max(0.01, deadline - time.monotonic()))
        if data is None:
            break
        note = decode_message(data)
        seen.append((note.token, note.payload))
        if (note.token, note.payload) == (token, payload):
            return seen
    raise AssertionError(f"no notification {payload!r} for token {token!r}; got {seen}")


def test_observe_of_a_topic_the_acl_does_not_allow_is_forbidden(coap_factory, coap_mqtt, tmp_path) -> None:
    acl = write_acl(tmp_path, PLAIN_ACL)
    gateway = coap_factory(CoapConfig(plain_read=("#",)), acl_file=str(acl))
    publisher = coap_mqtt(gateway)
    raw = RawCoap(gateway)
    try:
        refused = observe(raw, "t/closed/x", b"shut")
        assert refused.code_text == "4.03", refused
        assert refused.option(OBSERVE) is None, f"registered although refused: {refused}"
        allowed = observe(raw, "t/watch/x", b"open")
        assert allowed.code_text == "2.05", allowed
        assert allowed.option(OBSERVE) is not None, allowed
        publisher.publish("closed/x", b"hidden", 1)
        publisher.publish("watch/x", b"seen", 1)
        # The refused registration gets nothing; the allowed one is notified.
        assert notifications_until(raw, b"open", b"seen") == [(b"open", b"seen")]
    finally:
        raw.close()


def test_acl_reload_revoking_an_observed_topic_stops_its_notifications(coap_factory, coap_mqtt, tmp_path) -> None:
    admin_port = free_port()
    acl = write_acl(tmp_path, PLAIN_ACL)
    gateway = coap_factory(CoapConfig(plain_read=("#",)), acl_file=str(acl), wharf_extra_yaml=admin_yaml(admin_port))
    wait_for_admin(admin_port)
    publisher = coap_mqtt(gateway)
    raw = RawCoap(gateway)
    try:
        assert observe(raw, "t/watch/a", b"watch").option(OBSERVE) is not None
        assert observe(raw, "t/keep/b", b"keep").option(OBSERVE) is not None
        publisher.publish("watch/a", b"before", 1)
        assert notifications_until(raw, b"watch", b"before") == [(b"watch", b"before")]

        acl.write_text(PLAIN_ACL_REVOKED)
        before = get(admin_port, "/api/v1/status").json().get("last_reload")
        assert gateway.broker.proc is not None
        gateway.broker.proc.send_signal(signal.SIGHUP)

        def reloaded() -> dict | None:
            last = get(admin_port, "/api/v1/status").json().get("last_reload")
            return last if last and last != before and last["outcome"] == "applied" else None

        wait_until(reloaded, what="the ACL reload")

        # Published in this order: the revoked topic's message would arrive before the other's.
        publisher.publish("watch/a", b"after", 1)
        publisher.publish("keep/b", b"after", 1)
        assert notifications_until(raw, b"keep", b"after") == [(b"keep", b"after")]
        # And nothing for the revoked observation afterwards either.
        publisher.publish("watch/a", b"later", 1)
        publisher.publish("keep/b", b"later", 1)
        assert notifications_until(raw, b"keep", b"later") == [(b"keep", b"later")]
        # A new registration of the revoked topic is refused.
        again = observe(raw, "t/watch/a", b"again")
        assert again.code_text == "4.03", again
    finally:
        raw.close()

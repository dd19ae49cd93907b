"""50 A plugin's QoS 1 publish on a forward-rule topic is acknowledged only once the durable append is
done: with the cloud down, everything the plugin saw acknowledged reaches the cloud after a kill -9
of wharfd and a restart (with its MQTT 5 properties); a store that cannot keep a message nacks it,
and exactly the acknowledged messages arrive.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import pytest

from wharf_e2e.admin import wait_until
from wharf_e2e.broker import BrokerOptions
from wharf_e2e.client import Received
from wharf_e2e.cloud import Cloud, CloudSubscriber
from wharf_e2e.gateway import Forward, Gateway, UplinkOptions
from wharf_e2e.plugins import PluginWharf, ask_publisher, make_wharfd, plugin, wait_gone

pytestmark = pytest.mark.wharf_only(reason="plugins and the store-and-forward queue are Wharf's")

SITE = "site/gw1/"
TOPIC = "devices/plugin/data"
PROPERTIES = {
    "content_type": "application/x-e2e",
    "user_properties": [["unit", "C"], ["source", "plugin"]],
    "correlation_data_base64": base64.b64encode(b"\x00c").decode(),
}


def offline_cloud(cloud_factory: Callable[..., Cloud]) -> tuple[Cloud, CloudSubscriber]:
    """A stopped cloud broker that keeps a persistent subscriber's session across its restart."""
    cloud = cloud_factory(persistence=True)
    subscriber = CloudSubscriber(cloud, [SITE + "devices/#"]).connect()
    subscriber.close()
    cloud.stop()
    return cloud, subscriber


def bring_back(cloud: Cloud, subscriber: CloudSubscriber) -> None:
    cloud.start()
    subscriber.connect()
    assert subscriber.session_present, "the cloud broker lost the subscriber's session over its restart"


def acked_payloads(ack_log: Path) -> list[str]:
    """The payloads the plugin logged as acknowledged (whole lines only)."""
    if not ack_log.exists():
        return []
    text = ack_log.read_text()
    lines = text.split("\n")[:-1]  # a last line without its newline was being written
    return [line.split(" ", 1)[1] for line in lines if line.startswith(TOPIC + " ")]


def gateway(cloud: Cloud, forward: Forward = Forward()) -> Callable[[BrokerOptions, Path], Gateway]:
    def make(options: BrokerOptions, workdir: Path) -> Gateway:
        return Gateway(options.with_changes(sys_interval=1), workdir, UplinkOptions(port=cloud.port, forward=(forward,)))

    return make


@pytest.mark.timeout(120)
def test_every_acknowledged_publish_survives_an_outage_and_kill9(cloud_factory, tmp_path: Path, e2e_report) -> None:
    cloud, subscriber = offline_cloud(cloud_factory)
    ack_log = tmp_path / "acked.txt"
    request = {"topic": TOPIC, "count": 1000000, "qos": 1, "prefix": "m", "properties": PROPERTIES}
    pub = plugin("pub", "publisher.py", {"ack_log": str(ack_log), "autostart": request})
    wharf: PluginWharf = make_wharfd(tmp_path / "wharfd", pub, broker_factory=gateway(cloud))
    try:
        wait_until(lambda: len(acked_payloads(ack_log)) >= 150, 60, "150 acknowledged publishes")
        wharf.broker.kill9()
        wait_gone(pub.token, 10, "the plugin's processes after kill -9 of wharfd")
        acked = acked_payloads(ack_log)
        assert acked == [f"m{n}" for n in range(1, len(acked) + 1)], "acknowledgements out of order"

        # Back with the cloud up, and without the request: nothing new is published.
        quiet = plugin("pub", "publisher.py", {"ack_log": str(tmp_path / "after.txt")})
        wharf.reconfigure(quiet)
        bring_back(cloud, subscriber)
        wharf.broker.start()

        def arrived(messages: list[Received] | None = None) -> set[str]:
            messages = subscriber.snapshot() if messages is None else messages
            return {m.text for m in messages if m.topic == SITE + TOPIC}

        try:
            subscriber.wait_for(lambda got: set(acked) <= arrived(got), 60)
        except AssertionError:
            missing = sorted(set(acked) - arrived(), key=lambda p: int(p[1:]))
            raise AssertionError(f"{len(missing)} of {len(acked)} acknowledged publishes lost: {missing[:10]}") from None
        messages = [m for m in subscriber.snapshot() if m.topic == SITE + TOPIC]
        for message in messages:
            assert message.properties.get("ContentType") == "application/x-e2e", message.properties
            assert message.properties.get("UserProperty") == [("unit", "C"), ("source", "plugin")]
            assert message.properties.get("CorrelationData") == b"\x00c"
        unacked = len(arrived() - set(acked))
        e2e_report(f"plugin kill -9: {len(acked)} acknowledged all arrived; {unacked} unacknowledged arrived too")
    finally:
        if wharf.broker.alive():
            wharf.broker.stop()
    wharf.broker.check_clean_exit()


@pytest.mark.timeout(120)
def test_a_store_that_cannot_keep_a_publish_nacks_it(cloud_factory, tmp_path: Path) -> None:
    cloud, subscriber = offline_cloud(cloud_factory)
    ack_log = tmp_path / "acked.txt"
    pub = plugin("pub", "publisher.py", {"ack_log": str(ack_log)})
    wharf = make_wharfd(
        tmp_path / "wharfd",
        pub,
        broker_factory=gateway(cloud, Forward("devices/#", policy="reject-new")),
        env={"WHARF_TEST_STORE_MAX_PAGES": "100"},  # 400 KiB: a few dozen messages of 4 KiB fit
    )
    try:
        wharf.admin.wait_running("pub")
        client = wharf.client()
        prefix = "x" * 4096 + ":"
        result = ask_publisher(client, "pub", timeout=90, topic=TOPIC, count=150, qos=1, prefix=prefix)
        client.close()
        acked = acked_payloads(ack_log)
        assert result["acked"] == len(acked) >= 10, result
        assert result["acked"] < 150, "600 KiB acknowledged into a 400 KiB database"
        [reason] = result["nacked"]
        assert reason in ("quota-exceeded", "store-failed"), result
        assert wharf.admin.count("wharf_plugin_nacks_total", adapter="pub", reason=reason) == 150 - len(acked)
        wharf.broker.assert_alive()

        bring_back(cloud, subscriber)

        def arrived(messages: list[Received] | None = None) -> list[str]:
            messages = subscriber.snapshot() if messages is None else messages
            return [m.text for m in messages if m.topic == SITE + TOPIC]

        subscriber.wait_for(lambda got: len(arrived(got)) >= len(acked), 60)
        # Let anything else that might come arrive: it must not.
        wait_until(lambda: wharf.admin.value("wharf_queue_depth") == 0, 30, "an empty queue")
        assert sorted(set(arrived()), key=lambda p: int(p.rsplit(":", 1)[1])) == acked, (
            "what arrived is not exactly what was acknowledged"
        )
    finally:
        wharf.broker.stop()
    wharf.broker.check_clean_exit()


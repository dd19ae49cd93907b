"""50 The ACL confines a plugin (the principal `plugin:NAME`): a publish outside its topics is nacked
`not-authorized` and not delivered, a subscription outside them is refused (logged, in its status)
while the allowed ones deliver commands. One wharfd serves the module.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from wharf_e2e.broker import BrokerOptions
from wharf_e2e.plugins import PluginWharf, ask_publisher, log_lines, plugin, running_wharfd, wait_retained_status

pytestmark = pytest.mark.wharf_only(reason="plugins are Wharf's")

ACL = """\
# The test's own clients (anonymous) may do anything.
topic readwrite #

user plugin:confined
topic read plugins/confined/publish
topic write plugins/confined/result
topic write allowed/#

user plugin:listener
topic read cmd/listener/ok/#
topic write cmd/listener/ok/#
"""
SECRET = "cmd/listener/secret/+"


@pytest.fixture(scope="module")
def wharf(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PluginWharf]:
    root: Path = tmp_path_factory.mktemp("plugin-acl")
    acl = root / "acl"
    acl.write_text(ACL)
    specs = (
        plugin("confined", "publisher.py"),
        plugin("listener", "echo.py", {"filters": ["cmd/listener/ok/+", SECRET]}),
    )
    with running_wharfd(root / "wharfd", *specs, options=BrokerOptions(acl_file=str(acl))) as running:
        for spec in specs:
            running.admin.wait_running(spec.name)
        yield running


def test_a_publish_outside_the_plugins_topics_is_nacked_and_not_delivered(wharf: PluginWharf) -> None:
    subscriber = wharf.client()
    requester = wharf.client()
    try:
        subscriber.subscribe("forbidden/#", 1)
        subscriber.subscribe("allowed/#", 1)
        nacks_before = wharf.admin.count("wharf_plugin_nacks_total", adapter="confined", reason="not-authorized")

        result = ask_publisher(requester, "confined", topic="forbidden/x", count=3, qos=1, prefix="f")
        assert result == {"sent": 3, "acked": 0, "nacked": {"not-authorized": 3}}
        ask_publisher(requester, "confined", topic="forbidden/q0", count=3, qos=0, prefix="z")
        result = ask_publisher(requester, "confined", topic="allowed/x", count=3, qos=1, prefix="a")
        assert result == {"sent": 3, "acked": 3, "nacked": {}}

        # The allowed messages came after the forbidden ones: had those been delivered, they would be here.
        subscriber.messages.wait(3, topic="allowed/x")
        assert [m.topic for m in subscriber.messages.snapshot()] == ["allowed/x"] * 3
        nacks = wharf.admin.count("wharf_plugin_nacks_total", adapter="confined", reason="not-authorized")
        assert nacks == nacks_before + 6, "three QoS 1 and three QoS 0 (counted, though not answered) refusals"
        assert log_lines(wharf.log(), "confined", "forbidden/x"), "the refusal does not name the plugin and topic"
        # The host's retained status is not the plugin's publish: the ACL does not hold it back.
        wait_retained_status(wharf, "confined", lambda d: d.get("state") == "running")
    finally:
        subscriber.close()
        requester.close()


def test_a_subscription_outside_the_plugins_topics_is_refused_the_others_work(wharf: PluginWharf) -> None:
    entry = wharf.admin.adapter("listener")
    assert SECRET in json.dumps(entry), f"the refused subscription is not in the plugin's status: {entry}"
    assert log_lines(wharf.log(), "listener", SECRET), "the refused subscription is not logged"
    assert entry["plugin"]["state"] == "running"

    client = wharf.client()
    try:
        client.subscribe("cmd/listener/#", 1)
        written_before = wharf.admin.count("wharf_plugin_commands_total", adapter="listener")
        client.publish("cmd/listener/secret/a", b"s", 1)
        client.publish("cmd/listener/ok/a", b"o", 1)
        client.messages.wait(1, topic="cmd/listener/ok/a/echo")
        echoes = [m.topic for m in client.messages.snapshot() if m.topic.endswith("/echo")]
        assert echoes == ["cmd/listener/ok/a/echo"], "a command reached the plugin through a refused subscription"
        assert wharf.admin.count("wharf_plugin_commands_total", adapter="listener") == written_before + 1
    finally:
        client.close()

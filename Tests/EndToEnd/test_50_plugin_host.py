"""50 The plugin host with well-behaved plugins: QoS 0 and 1 publishes reach MQTT subscribers with their
MQTT 5 properties, commands round trip with response topic and correlation data, stderr goes to the
log with the plugin's name, the plugin gets no descriptor but its three pipes, its rlimits, a minimal
environment, its own process group, and is found in $WHARF_PLUGIN_DIR. One wharfd serves the module.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from wharf_e2e.admin import wait_until
from wharf_e2e.client import MqttClient, publish_properties
from wharf_e2e.plugins import (
    PLUGINS,
    PluginWharf,
    ask_publisher,
    log_lines,
    plugin,
    running_wharfd,
    wait_retained_status,
)

pytestmark = pytest.mark.wharf_only(reason="plugins are Wharf's")

WORKDIR_NAME = "introspect-cwd"


@pytest.fixture(scope="module")
def wharf(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PluginWharf]:
    root = tmp_path_factory.mktemp("plugin-host")
    (root / WORKDIR_NAME).mkdir()
    specs = (
        plugin("pub", "publisher.py"),
        plugin("echo", "echo.py", {"filters": ["cmd/echo/+"]}),
        plugin(
            "introspect",
            "introspect.py",
            limits={"open_files": 64},
            env={"WHARF_E2E_GIVEN": "given"},
            working_directory=str(root / WORKDIR_NAME),
        ),
        # Found in $WHARF_PLUGIN_DIR and started through its shebang.
        plugin("found", "introspect.py", relative=True),
    )
    env = {"WHARF_PLUGIN_DIR": str(PLUGINS), "WHARF_E2E_SECRET": "the daemon's, not the plugins'"}
    with running_wharfd(root / "wharfd", *specs, env=env) as running:
        for spec in specs:
            running.admin.wait_running(spec.name)
        yield running


@pytest.fixture
def connect(wharf: PluginWharf) -> Iterator[Any]:
    """connect(**MqttClient options): a connected MQTT 5 client of the module's wharfd."""
    made: list[MqttClient] = []

    def make(**kwargs: Any) -> MqttClient:
        made.append(wharf.client(**kwargs))
        return made[-1]

    yield make
    for client in made:
        client.close()


def report(wharf: PluginWharf, name: str) -> dict[str, Any]:
    """The retained report of an introspect plugin."""
    client = wharf.client()
    try:
        client.subscribe(f"plugins/{name}/report", 1)
        [message] = client.messages.wait(1, 15)
        assert message.retain
        return json.loads(message.payload)
    finally:
        client.close()


# --- status --------------------------------------------------------------------------------------- #


def test_a_running_plugin_shows_in_status_metrics_and_its_retained_status(wharf: PluginWharf) -> None:
    entry = wharf.admin.wait_running("pub")
    assert (entry["type"], entry["health"]) == ("plugin", "healthy")
    state = entry["plugin"]
    assert (state["name"], state["version"], state["protocol"], state["restarts"]) == ("publisher", "1.0.0", 1, 0)
    assert state["pid"] in {p.pid for p in wharf.processes("pub")}, "the status names a process of another plugin"
    assert wharf.admin.value("wharf_plugin_up", adapter="pub") == 1
    assert wharf.admin.value("wharf_plugin_quarantined", adapter="pub") == 0
    shown = wharf.admin.wharfctl("status")
    assert shown.returncode == 0, shown.stdout + shown.stderr
    lines = [line for line in shown.stdout.splitlines() if line.strip().startswith("plugin")]
    assert any("running" in line and "publisher 1.0.0" in line for line in lines), shown.stdout
    document = wait_retained_status(wharf, "pub", lambda d: d.get("state") == "running")
    assert document["health"] == "healthy"
    assert (document["plugin"], document["version"], document["protocol"], document["restarts"]) == (
        "publisher",
        "1.0.0",
        1,
        0,
    )


# --- publishing ------------------------------------------------------------------------------------ #


def test_qos0_and_qos1_publishes_reach_a_subscriber(wharf: PluginWharf, connect: Any) -> None:
    subscriber = connect()
    subscriber.subscribe("out/pub/#", 1)
    requester = connect()
    acks_before = wharf.admin.count("wharf_plugin_publishes_total", adapter="pub", result="ack")

    assert ask_publisher(requester, "pub", topic="out/pub/q0", count=20, qos=0, prefix="a") == {
        "sent": 20,
        "acked": 20,
        "nacked": {},
    }
    assert ask_publisher(requester, "pub", topic="out/pub/q1", count=20, qos=1, prefix="b") == {
        "sent": 20,
        "acked": 20,
        "nacked": {},
    }
    q0 = subscriber.messages.wait(20, topic="out/pub/q0")
    q1 = subscriber.messages.wait(20, topic="out/pub/q1")
    assert [m.text for m in q0] == [f"a{n}" for n in range(1, 21)]
    assert [m.text for m in q1] == [f"b{n}" for n in range(1, 21)]
    assert {m.qos for m in q0} == {0} and {m.qos for m in q1} == {1}
    assert not any(m.retain for m in q0 + q1)
    assert wharf.admin.count("wharf_plugin_publishes_total", adapter="pub", result="ack") >= acks_before + 20


def test_a_retained_publish_is_kept_for_later_subscribers(wharf: PluginWharf, connect: Any) -> None:
    requester = connect()
    result = ask_publisher(requester, "pub", topic="out/pub/retained", count=1, qos=1, prefix="kept", retain=True)
    assert result["acked"] == 1
    late = connect()
    late.subscribe("out/pub/retained", 1)
    [message] = late.messages.wait(1)
    assert (message.text, message.retain) == ("kept1", True)


def test_mqtt5_properties_pass_through(wharf: PluginWharf, connect: Any) -> None:
    subscriber = connect()
    subscriber.subscribe("out/pub/props", 1)
    properties = {
        "content_type": "text/plain; charset=utf-8",
        "payload_format_utf8": True,
        "message_expiry": 300,
        "response_topic": "answers/here",
        "correlation_data_base64": base64.b64encode(b"\x00\x01corr").decode(),
        "user_properties": [["unit", "C"], ["line", "1"], ["unit", "K"]],
    }
    result = ask_publisher(connect(), "pub", topic="out/pub/props", count=1, qos=1, prefix="p", properties=properties)
    assert result["acked"] == 1
    [message] = subscriber.messages.wait(1, topic="out/pub/props")
    got = message.properties
    assert got.get("ContentType") == "text/plain; charset=utf-8"
    assert got.get("PayloadFormatIndicator") == 1
    assert 0 < int(got.get("MessageExpiryInterval", 0)) <= 300  # type: ignore[arg-type]
    assert got.get("ResponseTopic") == "answers/here"
    assert got.get("CorrelationData") == b"\x00\x01corr"
    assert got.get("UserProperty") == [("unit", "C"), ("line", "1"), ("unit", "K")]


# --- commands --------------------------------------------------------------------------------------- #


def test_a_command_round_trips_with_response_topic_and_correlation_data(wharf: PluginWharf, connect: Any) -> None:
    client = connect()
    client.subscribe("reply/e2e/#", 1)
    client.subscribe("cmd/echo/+/echo", 1)
    written_before = wharf.admin.count("wharf_plugin_commands_total", adapter="echo")

    request = publish_properties(
        ResponseTopic="reply/e2e/1",
        CorrelationData=b"\x00\x01req-7",
        ContentType="text/plain",
        UserProperty=[("k", "v"), ("k2", "v2")],
    )
    client.publish("cmd/echo/valve", b"open", 1, properties=request)
    [answer] = client.messages.wait(1, topic="reply/e2e/1")
    assert answer.payload == b"open"
    assert answer.properties.get("CorrelationData") == b"\x00\x01req-7"
    assert answer.properties.get("ContentType") == "text/plain"
    assert answer.properties.get("UserProperty") == [("k", "v"), ("k2", "v2")]

    # Bytes that are not UTF-8 travel as base64 both ways and come back unchanged.
    binary = publish_properties(ResponseTopic="reply/e2e/2", CorrelationData=b"two")
    client.publish("cmd/echo/raw", b"\xff\x00\xfe", 1, properties=binary)
    [answer] = client.messages.wait(1, topic="reply/e2e/2")
    assert (answer.payload, answer.properties.get("CorrelationData")) == (b"\xff\x00\xfe", b"two")

    # Without a response topic the echo goes to {topic}/echo.
    client.publish("cmd/echo/plain", b"hello", 1)
    [echoed] = client.messages.wait(1, topic="cmd/echo/plain/echo")
    assert echoed.payload == b"hello"
    assert wharf.admin.count("wharf_plugin_commands_total", adapter="echo") >= written_before + 3


# --- what the plugin process gets ------------------------------------------------------------------- #


def test_stderr_lines_reach_the_log_with_the_plugin_name(wharf: PluginWharf) -> None:
    lines = wait_until(
        lambda: log_lines(wharf.log(), "introspect: stderr line from introspect"), what="the plugin's stderr line"
    )
    assert len(lines) == 1, lines
    assert "wharf.adapter.introspect" in lines[0] and "plugin.stream=stderr" in lines[0], lines[0]
    assert " info " in lines[0], lines[0]


def test_a_stderr_line_over_4_kib_is_cut(wharf: PluginWharf) -> None:
    """docs/plugins.md: "Lines longer than 4 KiB are cut" (what comes first is kept: a long
    traceback line still says what failed)."""
    wait_until(lambda: log_lines(wharf.log(), "introspect: stderr line from introspect"))
    long_lines = log_lines(wharf.log(), "introspect-long:", "wharf.adapter.introspect")
    stderr = [line for line in wharf.log().splitlines() if "wharf.adapter.introspect:" in line and "stderr" in line]
    assert len(long_lines) == 1, f"the start of the long line is not in the log: {stderr}"
    assert 0 < long_lines[0].count("z") <= 4096, f"{long_lines[0].count('z')} of 10000 characters in the log line"


def test_no_descriptor_but_the_three_pipes_reaches_the_plugin(wharf: PluginWharf) -> None:
    for name in ("introspect", "found"):
        fds = report(wharf, name)["fds"]
        assert sorted(fds, key=int) == ["0", "1", "2"], f"{name} inherited descriptors: {fds}"
        assert all(target.startswith("pipe:") for target in fds.values()), fds


def test_limits_environment_process_group_and_directory(wharf: PluginWharf) -> None:
    got = report(wharf, "introspect")
    assert got["nofile"] == [64, 64], got["nofile"]
    assert got["limits_open_files"].split()[3:5] == ["64", "64"], got["limits_open_files"]
    assert got["pgid"] == got["pid"], "the plugin is not the leader of a process group of its own"
    assert Path(got["parent_argv0"]).name == "wharf-launch", got["parent_argv0"]
    env = got["env"]
    assert env.get("WHARF_E2E_GIVEN") == "given"
    assert "WHARF_E2E_SECRET" not in env, "the daemon's environment leaked into the plugin"
    # A minimal environment: PATH, HOME, LANG (LC_ALL, TZ) from wharfd's, the plugin's name, and `env:`.
    allowed = {"PATH", "HOME", "LANG", "LC_ALL", "TZ", "WHARF_PLUGIN_NAME", "WHARF_E2E_GIVEN"}
    assert set(env) <= allowed, f"variables beyond the minimal environment: {sorted(set(env) - allowed)}"
    assert env.get("PATH") and env.get("HOME"), env
    assert Path(got["cwd"]).name == WORKDIR_NAME

    # Without limits the plugin keeps what the daemon had; its directory is the command's.
    found = report(wharf, "found")
    assert found["nofile"] != [64, 64]
    assert Path(found["cwd"]) == PLUGINS
    assert Path(found["argv"][0]).resolve() == PLUGINS / "introspect.py"

"""The Python plugin SDK (plugins/sdk/python/wharf_plugin.py) against a simulated host.

Each test writes a few-line plugin on the SDK, starts it with pipes under `SimHost`
(wharf_e2e/plugin_host.py), and checks the lines it writes: the handshake, a protocol range it
does not speak, acks out of order, the credit window, base64 payloads, garbage from the host,
commands (threaded and asyncio), health, logs and shutdown. No wharfd is involved.
"""

from __future__ import annotations

import base64
import json
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from wharf_e2e.plugin_host import SimHost, payload_of

pytestmark = pytest.mark.wharf_only(reason="the plugin SDK is Wharf's; no broker is involved")

HEADER = "import asyncio, json, logging, sys, threading, time\nfrom wharf_plugin import Nack, Plugin, Stopped\n"


@pytest.fixture
def plugin(tmp_path: Path) -> Iterator[Callable[..., SimHost]]:
    """make(source, **SimHost options): the plugin `source` (SDK imported) started under a SimHost."""
    made: list[SimHost] = []

    def make(source: str, *, start: bool = True, **options: object) -> SimHost:
        script = tmp_path / f"plugin{len(made)}.py"
        script.write_text(HEADER + textwrap.dedent(source))
        host = SimHost([sys.executable, str(script)], **options)  # type: ignore[arg-type]
        made.append(host)
        if start:
            host.start()
        return host

    yield make
    for host in made:
        host.stop(grace=2.0)


def test_handshake(plugin: Callable[..., SimHost]) -> None:
    host = plugin(
        """
        p = Plugin(name="probe", version="2.3.4", subscriptions=[("devices/probe/+/set", 1), "other/#"])
        p.run(lambda p: p.publish("config", p.config))
        """,
        config={"endpoint": "opc.tcp://x", "n": [1, 2]},
    )
    ready = host.wait_ready()
    assert ready["protocol"] == 1
    assert (ready["name"], ready["version"]) == ("probe", "2.3.4")
    assert set(ready["capabilities"]) >= {"credit", "commands", "health", "log"}
    assert ready["subscriptions"] == [{"filter": "devices/probe/+/set", "qos": 1}, {"filter": "other/#", "qos": 0}]
    echoed = host.wait_publish("config")
    assert json.loads(payload_of(echoed)) == {"endpoint": "opc.tcp://x", "n": [1, 2]}
    assert echoed["properties"]["content_type"] == "application/json"
    assert host.received.index(ready) == 0, "ready must be the plugin's first line"
    assert host.stop() == 0
    assert host.violations == [] and host.garbage == []


def test_protocol_range_it_does_not_speak(plugin: Callable[..., SimHost]) -> None:
    """Offered 2..3, the SDK answers with its own version 1 (so that the host refuses it clearly) and logs why."""
    host = plugin("Plugin(name='probe', version='1').run()", protocol=(2, 3))
    ready = host.wait_ready()
    assert ready["protocol"] == 1
    log = host.wait_for(lambda o: o["type"] == "log")
    assert log["level"] == "error" and "protocol 1 to 1" in log["message"] and "2 to 3" in log["message"]
    assert host.stop() == 0


def test_negotiates_highest_common_version(plugin: Callable[..., SimHost]) -> None:
    host = plugin("Plugin(name='probe', version='1').run()", protocol=(0, 7))
    assert host.wait_ready()["protocol"] == 1


def test_acks_out_of_order_and_nack(plugin: Callable[..., SimHost]) -> None:
    host = plugin(
        """
        def main(p):
            futures = [p.submit(f"t/{i}", f"m{i}", qos=1) for i in range(3)]
            results = []
            for f in futures:
                try:
                    f.result(); results.append("ok")
                except Nack as e:
                    results.append(f"nack:{e.reason}")
            p.publish("result", ",".join(results))
        Plugin(name="probe", version="1").run(main)
        """,
        auto_ack=False,
    )
    ids = [host.wait_publish(f"t/{i}")["id"] for i in range(3)]
    assert len(set(map(repr, ids))) == 3, f"ids must differ: {ids}"
    host.ack(ids[2])
    host.nack(ids[0], "quota-exceeded", "queue full")
    host.ack(ids[1])
    assert payload_of(host.wait_publish("result")) == b"nack:quota-exceeded,ok,ok"
    assert host.violations == []


def test_credit_blocks_publishes(plugin: Callable[..., SimHost]) -> None:
    """With credit 2, a third QoS 1 publish waits for an answer; QoS 0 ones are not held back."""
    host = plugin(
        """
        def main(p):
            for i in range(6):
                p.submit("q1", str(i), qos=1)
                p.publish("q0", str(i))
        Plugin(name="probe", version="1").run(main)
        """,
        auto_ack=False,
        credit=2,
    )
    first = host.wait_publish("q1", lambda o: payload_of(o) == b"0")
    second = host.wait_publish("q1", lambda o: payload_of(o) == b"1")
    host.wait_publish("q0", lambda o: payload_of(o) == b"1")
    # The plugin is now blocked in its third submit; a ping answered by its reader thread is a
    # marker: no third QoS 1 publish may come before it.
    mark = host.mark()
    host.ping()
    assert [payload_of(o) for o in host.publishes("q1")] == [b"0", b"1"], "a third publish ignored the credit"
    host.ack(first["id"])
    third = host.wait_publish("q1", lambda o: payload_of(o) == b"2", start=mark)
    host.ack(second["id"])
    host.ack(third["id"])
    for i in range(3, 6):
        host.ack(host.wait_publish("q1", lambda o, i=i: payload_of(o) == str(i).encode())["id"])
    host.wait_publish("q0", lambda o: payload_of(o) == b"5")
    assert host.max_unanswered == 2
    assert host.violations == []


def test_base64_both_ways(plugin: Callable[..., SimHost]) -> None:
    host = plugin(
        """
        p = Plugin(name="probe", version="1", subscriptions=["in/#"])
        @p.on_command
        def echo(msg):
            p.publish("out/" + msg.topic, msg.payload, qos=1)
        p.run()
        """
    )
    host.wait_ready()
    binary = bytes([0, 0xFF, 0xC3, 0x28, 10])
    host.command("in/bin", binary)
    echoed = host.wait_publish("out/in/bin")
    assert "payload" not in echoed and base64.b64decode(echoed["payload_base64"]) == binary
    host.command("in/text", "grüße")
    assert host.wait_publish("out/in/text")["payload"] == "grüße"
    host.command("in/empty", b"")
    assert payload_of(host.wait_publish("out/in/empty")) == b""
    assert host.violations == []


def test_garbage_from_host_is_ignored(plugin: Callable[..., SimHost]) -> None:
    host = plugin(
        """
        p = Plugin(name="probe", version="1", subscriptions=["in/#"])
        @p.on_command
        def count(msg):
            p.publish("garbage", str(p.garbage))
        p.run()
        """,
        max_line_bytes=1024,
    )
    host.wait_ready()
    for line in [
        b"not json",
        b'\xff\xfe{"type":"health"}',
        b"[1,2,3]",
        b'{"no":"type"}',
        b'{"type":7}',
        b'{"type":"from-the-future","id":1}',
        b'{"type":"ack","id":999}',
        b'{"type":"nack","id":[1]}',
        b'{"type":"command","topic":5}',
        b'{"type":"health"' + b" " * 2000 + b"}",
    ]:
        host.send_raw(line + b"\n")
    host.send_raw(b"\r\n\n")  # empty lines are nothing at all
    assert host.ping()["status"] == "healthy"
    host.command("in/x", "count")
    assert payload_of(host.wait_publish("garbage")) == b"10"
    assert host.stop() == 0


def test_commands_with_response_topic_threaded_and_async(plugin: Callable[..., SimHost]) -> None:
    properties = {"response_topic": "r/1", "correlation_data_base64": base64.b64encode(b"\x00\x01").decode()}
    threaded = plugin(
        """
        p = Plugin(name="probe", version="1", subscriptions=["in/#"])
        @p.on_command
        def handle(msg):
            assert threading.current_thread() is not threading.main_thread()
            p.reply(msg, {"got": msg.text, "cd": list(msg.correlation_data)}, qos=1)
        p.run()
        """
    )
    asynchronous = plugin(
        """
        p = Plugin(name="probe", version="1", subscriptions=["in/#"])
        @p.on_command
        async def handle(msg):
            assert asyncio.get_running_loop() is LOOP[0]
            await p.apublish(msg.response_topic, {"got": msg.text, "cd": list(msg.correlation_data)}, qos=1,
                             correlation_data=msg.correlation_data)
        LOOP = []
        async def main(p):
            LOOP.append(asyncio.get_running_loop())
            while True:
                await p.apublish("tick", "t", qos=1)
                await asyncio.sleep(0.05)
        p.run_async(main)
        """
    )
    pipelined = plugin(  # asubmit and areply: no waiting for the answers in the handler
        """
        p = Plugin(name="probe", version="1", subscriptions=["in/#"])
        @p.on_command
        async def handle(msg):
            seen = await p.asubmit("seen", msg.text, qos=1)
            await p.areply(msg, {"got": msg.text, "cd": list(msg.correlation_data)}, qos=1)
            await asyncio.wrap_future(seen)
            await p.apublish("seen/acked", msg.text)
        p.run_async()
        """
    )
    hosts = (threaded, asynchronous, pipelined)
    for host in hosts:
        host.wait_ready()
        host.command("in/a", "hello", properties=properties)
        reply = host.wait_publish("r/1")
        assert json.loads(payload_of(reply)) == {"got": "hello", "cd": [0, 1]}
        assert reply["properties"]["correlation_data_base64"] == properties["correlation_data_base64"]
    asynchronous.wait_publish("tick")
    assert payload_of(pipelined.wait_publish("seen/acked")) == b"hello"
    assert pipelined.wait_publish("seen")["qos"] == 1
    for host in hosts:
        assert host.stop() == 0
        assert host.violations == []


def test_health_and_logs(plugin: Callable[..., SimHost]) -> None:
    host = plugin(
        """
        def main(p):
            logging.getLogger("probe").warning("valve %s stuck", "v1", extra={"fields": {"valve": "v1"}})
            print("stray print")  # must not reach the protocol stream
            p.set_health("degraded", "endpoint down")
        Plugin(name="probe", version="1").run(main)
        """
    )
    host.wait_ready()
    log = host.wait_for(lambda o: o["type"] == "log" and "stuck" in o["message"])
    assert log["level"] == "warning" and log["message"] == "valve v1 stuck"
    assert log["fields"]["valve"] == "v1"
    assert host.wait_for(lambda o: o["type"] == "health")["status"] == "degraded"
    ping = host.ping()
    assert (ping["status"], ping["message"]) == ("degraded", "endpoint down")
    assert host.stop() == 0
    assert host.garbage == [], "a print() reached stdout"


def test_shutdown_waits_for_answers_then_exits_zero(plugin: Callable[..., SimHost]) -> None:
    host = plugin(
        """
        def main(p):
            try:
                p.publish("last", "x", qos=1)
                p.publish("acked", "yes")
            except Stopped:
                p.publish("acked", "stopped")
        Plugin(name="probe", version="1").run(main)
        """,
        auto_ack=False,
    )
    last = host.wait_publish("last")
    host.send({"type": "shutdown", "grace_ms": 5000})
    host.ack(last["id"])  # the host still answers what it had read
    assert payload_of(host.wait_publish("acked")) == b"yes"
    assert host.wait_exit() == 0


def test_shutdown_exits_even_if_main_never_returns(plugin: Callable[..., SimHost]) -> None:
    host = plugin("Plugin(name='probe', version='1').run(lambda p: time.sleep(3600))")
    host.wait_ready()
    host.send({"type": "shutdown", "grace_ms": 500})
    assert host.wait_exit() == 0


def test_eof_on_stdin_ends_the_plugin(plugin: Callable[..., SimHost]) -> None:
    host = plugin("Plugin(name='probe', version='1').run(lambda p: p.publish('blocked', 'x', qos=1))", auto_ack=False)
    host.wait_publish("blocked")
    assert host.proc is not None and host.proc.stdin is not None
    host.proc.stdin.close()
    assert host.wait_exit() == 0


def test_main_failing_exits_nonzero_with_a_log(plugin: Callable[..., SimHost]) -> None:
    host = plugin("Plugin(name='probe', version='1').run(lambda p: 1 / 0)")
    assert host.wait_exit() == 1
    log = host.wait_for(lambda o: o["type"] == "log" and o["level"] == "error")
    assert "ZeroDivisionError" in log["message"]


def test_on_init_sets_subscriptions_from_config(plugin: Callable[..., SimHost]) -> None:
    host = plugin(
        """
        p = Plugin(name="probe", version="1")
        @p.on_init
        def configure(p):
            p.subscriptions = [(f"devices/{p.instance}/{d}/set", 1) for d in p.config["devices"]]
        p.run()
        """,
        name="line1",
        config={"devices": ["a", "b"]},
    )
    ready = host.wait_ready()
    assert ready["subscriptions"] == [
        {"filter": "devices/line1/a/set", "qos": 1},
        {"filter": "devices/line1/b/set", "qos": 1},
    ]
    assert host.ping()["status"] == "healthy"


def test_on_init_refusing_the_config_reports_failed_health(plugin: Callable[..., SimHost]) -> None:
    """A configuration error is reported as health `failed` (not a crash loop) and main never runs."""
    host = plugin(
        """
        p = Plugin(name="probe", version="1", subscriptions=["x/#"])
        @p.on_init
        def configure(p):
            raise ValueError("endpoints: expected a list")
        p.run(lambda p: p.publish("main-ran", "x"))
        """
    )
    assert host.wait_ready()["subscriptions"] == []
    health = host.wait_for(lambda o: o["type"] == "health")
    assert health["status"] == "failed" and "endpoints: expected a list" in health["message"]
    log = host.wait_for(lambda o: o["type"] == "log" and o["level"] == "error")
    assert "configuration refused" in log["message"]
    assert host.ping()["status"] == "failed"
    assert host.publishes("main-ran") == []
    assert host.stop() == 0

"""The example plugin in C (plugins/examples/counter.c) and the test plugins of Tests/EndToEnd/plugins/,
each against the simulated host: they do what their README says, so that the host's suites can rely
on them. No wharfd is involved.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from wharf_e2e.plugin_host import REPO_ROOT, SimHost, payload_of

pytestmark = pytest.mark.wharf_only(reason="plugins are Wharf's; no broker is involved")

PLUGINS = Path(__file__).resolve().parent / "plugins"


def alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


@pytest.fixture(scope="module")
def counter(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """plugins/examples/counter, built with its Makefile into a temporary directory."""
    out = tmp_path_factory.mktemp("counter")
    subprocess.run(["make", "-s", "-C", str(REPO_ROOT / "plugins" / "examples"), f"O={out}"], check=True)
    return out / "counter"


@pytest.fixture
def host(tmp_path: Path) -> Iterator[Callable[..., SimHost]]:
    """make(argv, **SimHost options): a started SimHost; a `.py` argv[0] runs with this Python."""
    made: list[SimHost] = []

    def make(argv: list[str], **options: object) -> SimHost:
        if argv[0].endswith(".py"):
            argv = [sys.executable, *argv]
        instance = SimHost(argv, **options)  # type: ignore[arg-type]
        made.append(instance)
        instance.start()
        return instance

    yield make
    for instance in made:
        instance.stop(grace=2.0)


# --- counter.c --------------------------------------------------------------------------------- #


def test_counter_publishes_qos0_and_qos1_within_credit(counter: Path, host: Callable[..., SimHost]) -> None:
    plugin = host(
        [str(counter), "--interval-ms", "20", "--topic", "c"],
        credit=2,
        auto_ack=False,
        config={"type": "not-the-init-type", "nested": {"credit": 99}},
    )
    ready = plugin.wait_ready()
    assert (ready["protocol"], ready["name"]) == (1, "counter")
    plugin.wait_publish("c/qos0", lambda o: payload_of(o) == b"5")
    qos1 = plugin.publishes("c/qos1")
    assert [payload_of(o) for o in qos1] == [b"1", b"2"], "QoS 1 beyond the credit of 2"
    plugin.ack(qos1[0]["id"])
    third = plugin.wait_publish("c/qos1", lambda o: o["id"] not in (qos1[0]["id"], qos1[1]["id"]))
    assert int(payload_of(third)) > 5
    assert plugin.ping()["status"] == "healthy"
    assert plugin.violations == [] and plugin.garbage == []
    assert plugin.stop() == 0


# Its own waits (20 s for the publishes, 30 s for the health answer) exceed the suite's 30 s.
@pytest.mark.timeout(90)
@pytest.mark.parametrize("qos", [0, 1])
def test_counter_bench_mode_writes_exactly_n(counter: Path, host: Callable[..., SimHost], qos: int) -> None:
    plugin = host([str(counter), "--bench", "20000", "--qos", str(qos), "--topic", "b/x"], credit=16)
    plugin.wait_ready()
    plugin.wait_until(lambda: len(plugin.received) >= 20001, timeout=20, what="20000 publishes")
    plugin.ping(timeout=30)  # a loaded machine may take a while to run it again
    publishes = plugin.publishes()
    assert len(publishes) == 20000 and all(o["topic"] == "b/x" and o.get("qos", 0) == qos for o in publishes)
    assert [o["type"] for o in plugin.received] == ["ready", *["publish"] * 20000, "health"]
    assert plugin.violations == [] and plugin.max_unanswered <= 16
    assert plugin.stop() == 0


def test_counter_answers_outside_protocol_range_with_its_version(counter: Path, host: Callable[..., SimHost]) -> None:
    plugin = host([str(counter), "--count", "0"], protocol=(2, 4))
    assert plugin.wait_ready()["protocol"] == 1
    assert "offers 2 to 4" in plugin.wait_for(lambda o: o["type"] == "log")["message"]


def test_counter_skips_overlong_lines(counter: Path, host: Callable[..., SimHost]) -> None:
    plugin = host([str(counter), "--count", "0"], max_line_bytes=300)
    plugin.wait_ready()
    plugin.send_raw(b'{"type":"shutdown","pad":"' + b"x" * 400 + b'"}\n')
    assert plugin.ping()["status"] == "healthy", "an overlong line must be skipped, not obeyed"


# --- test plugins ------------------------------------------------------------------------------ #


def test_publisher_on_request(host: Callable[..., SimHost], tmp_path: Path) -> None:
    ack_log = tmp_path / "acked.txt"
    plugin = host([str(PLUGINS / "publisher.py")], name="pub", auto_ack=False, config={"ack_log": str(ack_log)})
    assert plugin.wait_ready()["subscriptions"] == [{"filter": "plugins/pub/publish", "qos": 1}]
    plugin.command("plugins/pub/publish", json.dumps({"topic": "t", "count": 3, "qos": 1, "prefix": "m"}))
    plugin.ack(plugin.wait_publish("t", lambda o: payload_of(o) == b"m1")["id"])
    plugin.nack(plugin.wait_publish("t", lambda o: payload_of(o) == b"m2")["id"], "quota-exceeded")
    plugin.ack(plugin.wait_publish("t", lambda o: payload_of(o) == b"m3")["id"])
    result = plugin.wait_publish("plugins/pub/result")
    assert json.loads(payload_of(result)) == {"sent": 3, "acked": 2, "nacked": {"quota-exceeded": 1}}
    assert ack_log.read_text() == "t m1\nt m3\n"


def test_echo_round_trip(host: Callable[..., SimHost]) -> None:
    plugin = host([str(PLUGINS / "echo.py")], name="e")
    plugin.wait_ready()
    properties = {
        "response_topic": "r/9",
        "correlation_data_base64": "AAE=",
        "content_type": "text/plain",
        "user_properties": [["k", "v"]],
    }
    plugin.command("plugins/e/echo/a", b"\x00\xffbin", properties=properties)
    reply = plugin.wait_publish("r/9")
    assert payload_of(reply) == b"\x00\xffbin"
    del properties["response_topic"]
    assert reply["properties"] == properties
    plugin.command("plugins/e/echo/b", "plain")
    assert payload_of(plugin.wait_publish("plugins/e/echo/b/echo")) == b"plain"


def test_crash_at_start(host: Callable[..., SimHost]) -> None:
    plugin = host([str(PLUGINS / "crash_at_start.py")])
    assert plugin.wait_exit() == 3
    assert plugin.received == []


def test_crash_midstream(host: Callable[..., SimHost]) -> None:
    plugin = host([str(PLUGINS / "crash_midstream.py")], name="cm", config={"count": 6, "acked_before_crash": 3})
    assert plugin.wait_exit() == 1
    assert [payload_of(o) for o in plugin.publishes("plugins/cm/seq")] == [b"1", b"2", b"3", b"4", b"5", b"6"]
    assert plugin.garbage == [b'{"type":"publish","id":9999,"topic":"plugins/']


def test_hang_stops_answering(host: Callable[..., SimHost]) -> None:
    plugin = host([str(PLUGINS / "hang.py")], config={"ignore_sigterm": True})
    plugin.wait_ready()
    with pytest.raises(AssertionError):
        plugin.ping(timeout=1.0)
    assert plugin.stop(grace=0.5) == -9, "only SIGKILL may end it"


def test_flood_ignores_credit(host: Callable[..., SimHost]) -> None:
    plugin = host([str(PLUGINS / "flood.py")], name="f", credit=4, auto_ack=False, config={"count": 100})
    plugin.wait_publish("plugins/f/flood", lambda o: o["id"] == 100)
    assert plugin.max_unanswered == 100
    assert any("credit exceeded" in v for v in plugin.violations)


def test_garbage(host: Callable[..., SimHost]) -> None:
    plugin = host([str(PLUGINS / "garbage.py")], name="g", max_line_bytes=4096, config={"wait_s": 1})
    plugin.wait_publish("plugins/g/alive")
    answers = json.loads(payload_of(plugin.wait_publish("plugins/g/answers")))
    # The simulated host answers every id it parsed with an ack; the real host must nack them.
    assert "alive" in answers
    assert plugin.received[0]["type"] == "publish", "the publish before ready comes first"
    assert len(plugin.garbage) == 8
    assert any("without id" in v for v in plugin.violations)


def test_fork_child_leaves_a_sleeping_child(host: Callable[..., SimHost], tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    plugin = host([str(PLUGINS / "fork_child.py")], config={"pid_file": str(pid_file)})
    assert plugin.wait_exit(drain=False) == 0  # the child holds the pipes
    child = int(pid_file.read_text())
    assert alive(child)
    assert os.getpgid(child) == plugin.proc.pid  # type: ignore[union-attr]
    plugin.stop()  # kills the group
    deadline = time.monotonic() + 5
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child), f"child {child} survived SIGKILL to its group"


def test_wrong_version(host: Callable[..., SimHost]) -> None:
    plugin = host([str(PLUGINS / "wrong_version.py")], config={"protocol": 7})
    assert plugin.wait_ready()["protocol"] == 7
    assert plugin.stop() == 0


def test_publisher_passes_properties_through(host: Callable[..., SimHost]) -> None:
    plugin = host([str(PLUGINS / "publisher.py")], name="pub")
    plugin.wait_ready()
    properties = {"content_type": "text/plain", "user_properties": [["k", "v"]], "correlation_data_base64": "AAE="}
    plugin.command("plugins/pub/publish", json.dumps({"topic": "t", "count": 1, "qos": 1, "properties": properties}))
    assert plugin.wait_publish("t")["properties"] == properties


def test_garbage_publishes_its_answers_retained(host: Callable[..., SimHost]) -> None:
    plugin = host([str(PLUGINS / "garbage.py")], name="g", max_line_bytes=4096, config={"wait_s": 1})
    assert plugin.wait_publish("plugins/g/answers").get("retain") is True


def test_flood_reports_its_progress(host: Callable[..., SimHost], tmp_path: Path) -> None:
    progress = tmp_path / "progress"
    plugin = host(
        [str(PLUGINS / "flood.py")], name="f", config={"qos": 0, "count": 600, "progress_file": str(progress)}
    )
    plugin.wait_until(lambda: len(plugin.publishes("plugins/f/flood")) == 600, what="600 publishes")
    plugin.ping()  # served once the flood is written, so the last progress is too
    assert int(progress.read_text()) == 600


def test_fork_child_that_stays(host: Callable[..., SimHost], tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    plugin = host([str(PLUGINS / "fork_child.py")], config={"pid_file": str(pid_file), "stay": True})
    plugin.wait_ready()
    assert plugin.ping()["status"] == "healthy"
    child = int(pid_file.read_text())
    assert alive(child) and os.getpgid(child) == plugin.proc.pid  # type: ignore[union-attr]
    assert plugin.stop() == 0
    deadline = time.monotonic() + 5
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child)


def test_introspect_reports_descriptors_limits_and_stderr(host: Callable[..., SimHost], tmp_path: Path) -> None:
    stderr = tmp_path / "stderr"
    plugin = host([str(PLUGINS / "introspect.py")], name="i", stderr_path=stderr)
    report = plugin.wait_publish("plugins/i/report")
    assert report["retain"] is True and report["qos"] == 1
    got = json.loads(payload_of(report))
    assert sorted(got["fds"], key=int) == ["0", "1", "2"], "the simulated host passes only the pipes"
    assert got["pgid"] == got["pid"] and got["limits_open_files"].startswith("Max open files")
    assert got["nofile"] == [int(n) for n in got["limits_open_files"].split()[3:5]]
    assert plugin.ping()["status"] == "healthy"
    assert plugin.stop() == 0
    lines = stderr.read_text().splitlines()
    assert lines[0] == "introspect: stderr line from i" and lines[1] == "introspect-long: " + "z" * 10000


def test_flaky_fails_while_its_file_exists(host: Callable[..., SimHost], tmp_path: Path) -> None:
    fail = tmp_path / "fail"
    fail.touch()
    assert host([str(PLUGINS / "flaky.py")], config={"fail_file": str(fail)}).wait_exit() == 3
    fail.unlink()
    plugin = host([str(PLUGINS / "flaky.py")], config={"fail_file": str(fail)})
    plugin.wait_ready()
    assert plugin.ping()["status"] == "healthy"
    fail.touch()
    assert plugin.wait_exit() == 3


def test_deaf_subscribes_and_never_reads(host: Callable[..., SimHost]) -> None:
    plugin = host([str(PLUGINS / "deaf.py")], name="d", config={"filters": ["a/#", "b/+"]})
    assert plugin.wait_ready()["subscriptions"] == [{"filter": "a/#", "qos": 1}, {"filter": "b/+", "qos": 1}]
    with pytest.raises(AssertionError):
        plugin.ping(timeout=1.0)

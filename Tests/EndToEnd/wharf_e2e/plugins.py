"""Helpers for the plugin host suites (test_50_*): `adapters:` entries of type `plugin`, wharfd with its
admin API, /metrics and /api/v1/status of plugins, their retained `$status`, and their processes.

Every plugin a suite configures gets a unique marker argument (`--wharf-e2e=TOKEN`) on its command
line, so that the test finds its processes in /proc: the launcher (`wharf-launch ... -- python script
--wharf-e2e=TOKEN`), the plugin and any child it forked (which inherits the command line).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .admin import admin_yaml, get, wait_for_admin, wait_until, wharfctl
from .broker import Broker, BrokerOptions, free_port
from .client import MqttClient, Received

PLUGINS = Path(__file__).resolve().parents[1] / "plugins"
PYTHON = sys.executable
MIB = 1024 * 1024
_tokens = itertools.count(1)

# Short supervision settings, so that restarts and quarantine happen within a test's bounds.
FAST = {
    "start_timeout": "10s",
    "shutdown_grace": "1s",
    "backoff": {"base": "50ms", "cap": "200ms", "stable_after": "30s"},
}


def new_token(name: str) -> str:
    """A marker unique in this test run (and across runs: it has the pytest process id)."""
    return f"{name}-{os.getpid()}-{next(_tokens)}"


@dataclass(frozen=True)
class PluginSpec:
    """One `adapters[]` element of type `plugin`, and the marker its processes carry."""

    name: str
    script: str  # a file in Tests/EndToEnd/plugins
    config: dict[str, Any] | None = None
    keys: dict[str, Any] | None = None  # other keys of the element (credit, limits, env...)
    relative: bool = False  # `command: SCRIPT` looked up in $WHARF_PLUGIN_DIR, run through its shebang
    token: str = ""

    def yaml(self) -> str:
        """The element, as YAML (each value written as JSON, which YAML reads as the same value)."""
        marker = f"--wharf-e2e={self.token}"
        if self.relative:
            command, args = self.script, [marker]
        else:
            command, args = PYTHON, [str(PLUGINS / self.script), marker]
        lines = [
            f"  - name: {json.dumps(self.name)}",
            "    type: plugin",
            f"    command: {json.dumps(command)}",
            f"    args: {json.dumps(args)}",
            f"    config: {json.dumps(self.config or {})}",
        ]
        for key, value in (self.keys or {}).items():
            lines.append(f"    {key}: {json.dumps(value)}")
        return "\n".join(lines) + "\n"


def plugin(name: str, script: str, config: dict[str, Any] | None = None, **keys: Any) -> PluginSpec:
    """A plugin adapter `name` running `script`, with `config:` and the other keys given (FAST by default)."""
    relative = bool(keys.pop("relative", False))
    merged = {**FAST, **keys}
    return PluginSpec(name, script, config, merged, relative, new_token(name))


def adapters_yaml(*specs: PluginSpec) -> str:
    """The `adapters:` section with these plugins."""
    return "adapters:\n" + "".join(spec.yaml() for spec in specs)


def base_yaml(admin_port: int) -> str:
    """The log and admin sections every plugin suite uses."""
    return "log:\n  level: info\n" + admin_yaml(admin_port)


# --- /metrics and /api/v1/status -------------------------------------------------------------- #


@dataclass(frozen=True)
class Sample:
    """One line of Prometheus text."""

    name: str
    labels: dict[str, str]
    value: float


def parse_metrics(text: str) -> list[Sample]:
    """The samples of Prometheus text exposition (labels in any order)."""
    samples = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        head, _, value = line.rpartition(" ")
        name, labels = head, {}
        if "{" in head:
            name, _, rest = head.partition("{")
            body = rest.rsplit("}", 1)[0]
            index = 0
            while index < len(body):
                key_end = body.index("=", index)
                key = body[index:key_end].strip().lstrip(",").strip()
                assert body[key_end + 1] == '"', f"unquoted label value in {line!r}"
                cursor, chars = key_end + 2, []
                while body[cursor] != '"':
                    if body[cursor] == "\\":
                        cursor += 1
                        chars.append({"n": "\n"}.get(body[cursor], body[cursor]))
                    else:
                        chars.append(body[cursor])
                    cursor += 1
                labels[key] = "".join(chars)
                index = cursor + 1
                while index < len(body) and body[index] in ", ":
                    index += 1
        try:
            samples.append(Sample(name, labels, float(value)))
        except ValueError:
            continue
    return samples


class Admin:
    """wharfd's admin API on `port`: metrics and status of plugin adapters."""

    def __init__(self, port: int, broker: Broker) -> None:
        self.port = port
        self.broker = broker

    def metrics(self) -> list[Sample]:
        reply = get(self.port, "/metrics")
        assert reply.status == 200, f"/metrics answered {reply.status}: {reply.body[:500]}"
        return parse_metrics(reply.body)

    def value(self, name: str, **labels: str) -> float | None:
        """The sum of the samples of `name` whose labels include `labels`; None when there is none."""
        matching = [s.value for s in self.metrics() if s.name == name and labels.items() <= s.labels.items()]
        return sum(matching) if matching else None

    def count(self, name: str, **labels: str) -> float:
        """A counter's value, 0 while it has no sample yet."""
        return self.value(name, **labels) or 0.0

    def samples(self, name: str, **labels: str) -> list[Sample]:
        return [s for s in self.metrics() if s.name == name and labels.items() <= s.labels.items()]

    def wait_metric(
        self, name: str, predicate: Callable[[float], bool], timeout: float = 15.0, **labels: str
    ) -> float:
        """Waits until the metric (0 when absent) satisfies `predicate`; returns its value."""
        holder: list[float] = []

        def probe() -> bool:
            holder[:] = [self.count(name, **labels)]
            return predicate(holder[0])

        wait_until(probe, timeout, f"{name}{labels} (last {holder})")
        return holder[0]

    def status(self) -> dict[str, Any]:
        reply = get(self.port, "/api/v1/status")
        assert reply.status == 200, f"/api/v1/status answered {reply.status}: {reply.body[:500]}"
        return reply.json()

    def adapter(self, name: str) -> dict[str, Any]:
        """The adapter's entry in /api/v1/status."""
        entries = [a for a in self.status()["adapters"] if a.get("name") == name]
        assert entries, f"no adapter {name!r} in /api/v1/status"
        return entries[0]

    def plugin(self, name: str) -> dict[str, Any]:
        """The `plugin` object of the adapter's status entry."""
        entry = self.adapter(name)
        assert isinstance(entry.get("plugin"), dict), f"adapter {name!r} has no plugin status: {entry}"
        return entry["plugin"]

    def wait_plugin(
        self, name: str, predicate: Callable[[dict[str, Any]], bool], timeout: float = 15.0, what: str = ""
    ) -> dict[str, Any]:
        """Waits until the adapter's status entry (with its `plugin` object) satisfies `predicate`."""
        last: list[dict[str, Any]] = []

        def probe() -> dict[str, Any] | None:
            # An adapter a reload restarts is briefly absent from the status: wait through that.
            entries = [a for a in self.status()["adapters"] if a.get("name") == name]
            if not entries:
                return None
            entry = entries[0]
            last[:] = [entry]
            return entry if isinstance(entry.get("plugin"), dict) and predicate(entry) else None

        try:
            return wait_until(probe, timeout, what or f"plugin {name!r}")
        except AssertionError as error:
            raise AssertionError(f"{error}; last status entry {last}\n---- log tail ----\n{self.broker.log()[-4000:]}")

    def wait_running(self, name: str, timeout: float = 20.0) -> dict[str, Any]:
        """The status entry once the plugin is `running` with a pid."""
        return self.wait_plugin(
            name, lambda e: e["plugin"].get("state") == "running" and bool(e["plugin"].get("pid")), timeout,
            f"plugin {name!r} running",
        )

    def post(self, path: str, timeout: float = 10.0) -> tuple[int, str]:
        """POST with an empty body; (status, body)."""
        import urllib.error
        import urllib.request

        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", data=b"", method="POST", headers={"X-Wharf-Action": "1"}
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def wharfctl(self, *args: str) -> Any:
        return wharfctl(*args, "--config", str(self.broker.workdir / "wharf.yaml"))


# --- wharfd with plugins ------------------------------------------------------------------------ #


class PluginWharf:
    """A started wharfd (or Gateway) with an admin port, and the plugin specs it was given."""

    def __init__(self, broker: Broker, admin_port: int, specs: tuple[PluginSpec, ...]) -> None:
        self.broker = broker
        self.admin = Admin(admin_port, broker)
        self.specs = {spec.name: spec for spec in specs}

    @property
    def host(self) -> str:
        return self.broker.host

    @property
    def port(self) -> int:
        return self.broker.port

    def log(self) -> str:
        return self.broker.log()

    def client(self, **kwargs: Any) -> MqttClient:
        """A connected MQTT 5 client (closed by the suite's fixture through `clients`)."""
        client = MqttClient(self.host, self.port, **kwargs)
        client.connect()
        return client

    def reconfigure(self, *specs: PluginSpec, extra: str = "") -> Path:
        """Writes a new wharf.yaml with these plugins (for a SIGHUP or the next start)."""
        yaml = base_yaml(self.admin.port) + extra + adapters_yaml(*specs)
        self.broker.options = self.broker.options.with_changes(wharf_extra_yaml=yaml)
        self.specs = {spec.name: spec for spec in specs}
        from .broker import render_wharf_yaml
        from .gateway import Gateway, render_gateway_yaml

        text = render_wharf_yaml(self.broker.options)
        if isinstance(self.broker, Gateway):
            text += render_gateway_yaml(self.broker.uplink, self.broker.storage, self.broker.gateway_id)
        path = self.broker.workdir / "wharf.yaml"
        path.write_text(text)
        return path

    def reload(self, outcome: str = "applied", timeout: float = 15.0) -> dict[str, Any]:
        """SIGHUP, then the new `last_reload` of /api/v1/status with `outcome`."""
        before = self.admin.status().get("last_reload")
        assert self.broker.proc is not None
        self.broker.proc.send_signal(signal.SIGHUP)

        def reloaded() -> dict[str, Any] | None:
            last = self.admin.status().get("last_reload")
            return last if last and last != before and last.get("outcome") == outcome else None

        return wait_until(reloaded, timeout, f"a reload {outcome}")

    def processes(self, name: str) -> list[Proc]:
        """The live processes carrying the marker of plugin `name` (launcher, plugin, children)."""
        return processes_with(self.specs[name].token)

    def plugin_pids(self, name: str) -> list[int]:
        """The live plugin processes of `name` (its marker, not the launcher)."""
        return [p.pid for p in self.processes(name) if not p.is_launcher]

    def wait_plugin_pid(self, name: str, exclude: set[int] = frozenset(), timeout: float = 20.0) -> int:  # type: ignore[assignment]
        """A live plugin process of `name` not in `exclude`."""
        return wait_until(
            lambda: next((pid for pid in self.plugin_pids(name) if pid not in exclude), None),
            timeout,
            f"a process of plugin {name!r} other than {sorted(exclude)}",
        )


def make_wharfd(
    workdir: Path,
    *specs: PluginSpec,
    extra: str = "",
    env: dict[str, str] | None = None,
    options: BrokerOptions | None = None,
    broker_factory: Callable[[BrokerOptions, Path], Broker] | None = None,
    start: bool = True,
) -> PluginWharf:
    """wharfd in `workdir` with these plugins, `extra` YAML (before `adapters:`) and an admin port."""
    workdir.mkdir(parents=True, exist_ok=True)
    admin_port = free_port()
    yaml = base_yaml(admin_port) + extra + adapters_yaml(*specs)
    options = (options or BrokerOptions()).with_changes(wharf_extra_yaml=yaml)
    broker = broker_factory(options, workdir) if broker_factory else Broker("wharfd", options, workdir)
    if env:
        broker.env = {**(broker.env or os.environ), **env}
    wharf = PluginWharf(broker, admin_port, specs)
    if start:
        broker.start()
        wait_for_admin(admin_port)
    return wharf


@contextlib.contextmanager
def running_wharfd(workdir: Path, *specs: PluginSpec, **kwargs: Any) -> Iterator[PluginWharf]:
    """`make_wharfd`, stopped (SIGTERM, clean exit required) afterwards."""
    wharf = make_wharfd(workdir, *specs, **kwargs)
    try:
        yield wharf
    finally:
        wharf.broker.stop()
    wharf.broker.check_clean_exit()


# --- retained $status ---------------------------------------------------------------------------- #


def status_topic(name: str) -> str:
    return f"plugins/{name}/$status"


def status_documents(messages: list[Received], name: str) -> list[dict[str, Any]]:
    """The JSON documents received on the plugin's status topic, in order."""
    return [json.loads(m.payload) for m in messages if m.topic == status_topic(name)]


def retained_status(wharf: PluginWharf, name: str, timeout: float = 10.0) -> tuple[dict[str, Any], bool]:
    """What a new subscriber gets on the plugin's status topic: (document, retain flag)."""
    probe = MqttClient(wharf.host, wharf.port)
    probe.connect()
    try:
        probe.subscribe(status_topic(name), 1)
        [message] = probe.messages.wait(1, timeout)
        return json.loads(message.payload), message.retain
    finally:
        probe.close()


def wait_retained_status(
    wharf: PluginWharf, name: str, predicate: Callable[[dict[str, Any]], bool], timeout: float = 15.0
) -> dict[str, Any]:
    """The retained status document once it satisfies `predicate` (asked again by new subscribers)."""
    last: list[Any] = []

    def probe() -> dict[str, Any] | None:
        document, retained = retained_status(wharf, name)
        last[:] = [(document, retained)]
        return document if retained and predicate(document) else None

    try:
        return wait_until(probe, timeout, f"a retained status of {name!r}")
    except AssertionError as error:
        raise AssertionError(f"{error}; last (document, retained) {last}") from None


# --- processes ------------------------------------------------------------------------------------ #


@dataclass(frozen=True)
class Proc:
    """A process from /proc."""

    pid: int
    ppid: int
    pgid: int
    state: str
    argv: tuple[str, ...]

    @property
    def is_launcher(self) -> bool:
        return bool(self.argv) and Path(self.argv[0]).name == "wharf-launch"


def read_proc(pid: int) -> Proc | None:
    """The process `pid`, None when it is gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] in ("Z", "X"):
        return None
    return Proc(pid, int(fields[1]), int(fields[2]), fields[0], tuple(a.decode(errors="replace") for a in argv if a))


def alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    return read_proc(pid) is not None


def processes_with(marker: str) -> list[Proc]:
    """The live processes whose command line has an argument containing `marker`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        proc = read_proc(int(entry))
        if proc is not None and any(marker in arg for arg in proc.argv):
            found.append(proc)
    return found


def wait_gone(pids_or_marker: set[int] | str, timeout: float = 10.0, what: str = "processes") -> None:
    """Waits until none of the processes (given by pid, or by marker) is alive."""
    deadline = time.monotonic() + timeout
    while True:
        if isinstance(pids_or_marker, str):
            left = [(p.pid, p.argv) for p in processes_with(pids_or_marker)]
        else:
            left = [(pid, ()) for pid in pids_or_marker if alive(pid)]
        if not left:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} still alive after {timeout} s: {left}")
        time.sleep(0.05)


def rss_bytes(pid: int) -> int:
    """The resident set size of `pid`."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for {pid}")


def log_lines(text: str, *needles: str) -> list[str]:
    """The lines of `text` containing every one of `needles`."""
    return [line for line in text.splitlines() if all(needle in line for needle in needles)]


# --- talking to the test plugins over MQTT ------------------------------------------------------- #

_requests = itertools.count(1)


def ask_publisher(client: MqttClient, name: str, *, timeout: float = 30.0, **request: Any) -> dict[str, Any]:
    """Sends `request` to the publisher plugin `name` and returns its result.

    The result comes back on `plugins/NAME/result`, which `client` subscribes to (the plugin also
    answers a response topic, but a confined plugin may not be allowed to write there). Requests
    are served one after the other, so the next result on that topic is this request's.
    """
    topic = f"plugins/{name}/result"
    client.subscribe(topic, 1)
    before = len([m for m in client.messages.snapshot() if m.topic == topic])
    client.publish(f"plugins/{name}/publish", json.dumps(request), 1)
    results = client.messages.wait(before + 1, timeout, topic=topic)
    return json.loads(results[before].payload)


def round_trip(client: MqttClient, timeout: float = 10.0) -> None:
    """A QoS 1 message from `client` to itself through the broker (subscribed to `e2e/probe/#`)."""
    number = next(_requests)
    topic = f"e2e/probe/{number}"
    if not getattr(client, "_probe_subscribed", False):
        client.subscribe("e2e/probe/#", 1)
        client._probe_subscribed = True  # type: ignore[attr-defined]
    client.publish(topic, str(number).encode(), 1, timeout=timeout)
    client.messages.wait(1, timeout, topic=topic)


# --- fixtures (import them into a suite: `from wharf_e2e.plugins import plugin_wharfd`) -------- #

import pytest  # noqa: E402 - the fixtures below only


@pytest.fixture
def plugin_wharfd(tmp_path: Path) -> Iterator[Callable[..., PluginWharf]]:
    """make(*specs, **make_wharfd options): a started wharfd with these plugins; SIGTERM and a clean
    exit at teardown (unless the test killed it)."""
    made: list[PluginWharf] = []

    def make(*specs: PluginSpec, **kwargs: Any) -> PluginWharf:
        wharf = make_wharfd(tmp_path / f"wharfd{len(made)}", *specs, **kwargs)
        made.append(wharf)
        return wharf

    yield make
    for wharf in made:
        wharf.broker.stop()
    for wharf in made:
        wharf.broker.check_clean_exit()

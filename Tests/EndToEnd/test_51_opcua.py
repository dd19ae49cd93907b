"""The OPC UA plugin (plugins/opcua/wharf-opcua) against a PLC-like asyncua server.

The test PLC (wharf_e2e/opcua_plc.py) has an S7-1500-like namespace (`ns=3;s="DB_Line"."Count"`);
the suite checks what reaches the broker: values of several types, subscription updates, polling
(configured, and as the fallback on a server without subscriptions), writes from command topics
with their results, the server going away and coming back, Basic256Sha256 (Sign and
SignAndEncrypt) with certificates made by the plugin's own tools, and the plugin's health.

Every test runs twice: under wharfd as an adapter of type plugin (`command:` the absolute path of
plugins/opcua/wharf-opcua), seen by an MQTT 5 subscriber; and under the simulated host of
wharf_e2e/plugin_host.py, which also checks the plugin's side of the protocol. The wharfd runs are
skipped while the wharfd under test does not know adapters of type plugin.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from wharf_e2e.admin import wharfctl_path
from wharf_e2e.opcua import (
    ADAPTER,
    PLUGIN,
    Plc,
    SimBus,
    WharfdBus,
    plugin_env,
    run_tool,
    server_certificate,
    wharfd_has_plugins,
)
from wharf_e2e.plugin_host import SDK_DIR, payload_of

pytestmark = [pytest.mark.wharf_only(reason="the OPC UA plugin runs under Wharf"), pytest.mark.timeout(120)]

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
FAST_BACKOFF = {"base": "100ms", "cap": "1s", "stable_after": "5s"}


def s7(name: str) -> str:
    """The node id of a variable of the data block DB_Line, as an S7-1500 names it."""
    return f'ns=3;s="DB_Line"."{name}"'


NODES: list[dict[str, Any]] = [
    {"node": s7("Temperature"), "name": "temperature", "unit": "°C"},
    {"node": s7("Running"), "name": "running", "writable": True},
    {"node": s7("Mode"), "name": "mode", "writable": True},
    {"node": s7("Count"), "name": "count"},
    {"node": s7("TotalCount"), "name": "total"},
    {"node": s7("Alarms")},  # no name: the point is named after the node id, DB_Line.Alarms
    {"node": s7("Serial"), "name": "serial"},
    {"node": s7("Setpoint"), "name": "setpoint", "writable": True, "min": 0, "max": 100, "unit": "bar"},
    {"node": s7("Recipe"), "name": "recipe", "writable": True},
    {"node": s7("Started"), "name": "started"},
    {"node": s7("Profile"), "name": "profile", "writable": True},
    {"node": s7("Blob"), "name": "blob"},
    {"node": "ns=2;i=1001", "name": "speed", "topic": "lines/{adapter}/{endpoint}/speed"},
    {"node": s7("Missing"), "name": "missing"},
]
EXPECTED = {  # topic: the value the plugin publishes for the PLC's initial values
    "devices/plc-1/temperature": 21.5,  # Float
    "devices/plc-1/running": True,  # Boolean
    "devices/plc-1/mode": 1,  # Int16
    "devices/plc-1/count": 42,  # Int32
    "devices/plc-1/total": 2**53 + 1,  # Int64, beyond a double's exact integers
    "devices/plc-1/DB_Line.Alarms": 513,  # UInt16
    "devices/plc-1/serial": 18446744073709551000,  # UInt64
    "devices/plc-1/setpoint": 12.5,  # Double
    "devices/plc-1/recipe": "PVC-A",  # String
    "devices/plc-1/started": "2026-01-02T03:04:05.000Z",  # DateTime
    "devices/plc-1/profile": [1.0, 2.5, 4.0],  # Double[]
    "devices/plc-1/blob": "AP8Q",  # ByteString, base64
    f"lines/{ADAPTER}/plc-1/speed": 4000000000,  # UInt32, numeric node id, topic of its own
}
WRITABLE_TOPICS = {f"devices/plc-1/{name}/set" for name in ("running", "mode", "setpoint", "recipe", "profile")}
_WHARFD: tuple[bool, str] | None = None


def endpoint(url: str, name: str = "plc-1", **extra: Any) -> dict[str, Any]:
    """One endpoint of the PLC's namespace."""
    return {"name": name, "url": url, "publishing_interval": "100ms", "nodes": NODES, **extra}


@pytest.fixture(params=["sim", "wharfd"])
def bus_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """make(config, env=None): the plugin running with `config`, under the simulated host or under wharfd."""
    global _WHARFD
    if request.param == "wharfd":
        if _WHARFD is None:
            _WHARFD = wharfd_has_plugins()
        if not _WHARFD[0]:
            pytest.skip(_WHARFD[1])
    made: list[Any] = []

    def make(config: dict[str, Any], env: dict[str, str] | None = None, plugin: Path = PLUGIN) -> Any:
        workdir = tmp_path / f"bus{len(made)}"
        workdir.mkdir()
        kind = WharfdBus if request.param == "wharfd" else SimBus
        bus = kind({"backoff": FAST_BACKOFF, **config}, workdir, env, plugin)
        made.append(bus)
        return bus

    yield make
    for bus in made:
        bus.close()


@pytest.fixture(scope="module")
def plc_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Plc]:
    """The test PLC, started once for the suite's tests that leave it running."""
    server = Plc(tmp_path_factory.mktemp("plc"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def plc(plc_server: Plc) -> Plc:
    """The shared test PLC with its initial values."""
    plc_server.reset()
    return plc_server


def test_values_of_several_types(plc: Plc, bus_factory: Callable[..., Any]) -> None:
    bus = bus_factory({"endpoints": [endpoint(plc.url)]})
    status = bus.wait("devices/plc-1/$status", lambda m: m["state"] == "online")
    assert status["mode"] == "subscription" and TIMESTAMP.match(status["timestamp"])
    for topic, value in EXPECTED.items():
        message = bus.wait(topic)
        assert message["value"] == value, (topic, message)
        assert message["quality"] == "good" and TIMESTAMP.match(message["timestamp"]), message
    assert bus.wait("devices/plc-1/temperature")["unit"] == "°C"
    missing = bus.wait("devices/plc-1/missing")
    assert missing["value"] is None and missing["quality"] == "bad" and missing["error"] == "BadNodeIdUnknown"
    assert bus.retained("devices/plc-1/$status")["state"] == "online"
    assert bus.wait_health("healthy")["status"] == "healthy"
    if isinstance(bus, SimBus):  # the command topics are exactly the plugin's subscriptions
        assert {(s["filter"], s["qos"]) for s in bus.ready["subscriptions"]} == {(t, 1) for t in WRITABLE_TOPICS}


def test_subscription_updates(plc: Plc, bus_factory: Callable[..., Any]) -> None:
    bus = bus_factory({"endpoints": [endpoint(plc.url)]})
    bus.wait("devices/plc-1/count", lambda m: m["value"] == 42)
    for count in (43, 44, 45):
        plc.set("Count", count)
        bus.wait("devices/plc-1/count", lambda m, c=count: m["value"] == c)
    plc.set("Temperature", 21.3)  # a Float: published as the PLC shows it, not as 21.299999237060547
    assert bus.wait("devices/plc-1/temperature", lambda m: m["value"] != 21.5)["value"] == 21.3
    plc.set("Profile", [9.0])
    bus.wait("devices/plc-1/profile", lambda m: m["value"] == [9.0])

    mark = bus.mark()
    plc.set_status("Count", "BadSensorFailure")
    bad = bus.wait("devices/plc-1/count", lambda m: m["quality"] != "good", start=mark)
    assert bad == {"value": None, "quality": "bad", "error": "BadSensorFailure", "timestamp": bad["timestamp"]}
    plc.set("Count", 46)
    bus.wait("devices/plc-1/count", lambda m: m["value"] == 46 and m["quality"] == "good", start=mark)


def test_polling_when_configured(plc: Plc, bus_factory: Callable[..., Any]) -> None:
    bus = bus_factory({"endpoints": [endpoint(plc.url, mode="poll", poll_interval="200ms")]})
    assert bus.wait("devices/plc-1/$status", lambda m: m["state"] == "online")["mode"] == "polling"
    bus.wait("devices/plc-1/recipe", lambda m: m["value"] == "PVC-A")
    plc.set("Recipe", "PVC-Z")
    bus.wait("devices/plc-1/recipe", lambda m: m["value"] == "PVC-Z")


def test_polling_when_the_server_has_no_subscriptions(tmp_path: Path, bus_factory: Callable[..., Any]) -> None:
    small = Plc(tmp_path, "--no-subscriptions")
    small.start()
    try:
        bus = bus_factory({"endpoints": [endpoint(small.url, poll_interval="200ms")]})
        assert bus.wait("devices/plc-1/$status", lambda m: m["state"] == "online")["mode"] == "polling"
        bus.wait("devices/plc-1/count", lambda m: m["value"] == 42)
        small.set("Count", 7)
        bus.wait("devices/plc-1/count", lambda m: m["value"] == 7)
        assert bus.wait_health("healthy")["status"] == "healthy"
    finally:
        small.stop()


def test_write_round_trip(plc: Plc, bus_factory: Callable[..., Any]) -> None:
    bus = bus_factory({"endpoints": [endpoint(plc.url)]})
    bus.wait("devices/plc-1/$status", lambda m: m["state"] == "online")
    mark = bus.mark()
    bus.command("devices/plc-1/setpoint/set", "55.5", response_topic="app/replies/1", correlation=b"\x00\x07")
    result = bus.wait("devices/plc-1/setpoint/set/result", start=mark)
    assert result["ok"] is True and result["value"] == 55.5 and TIMESTAMP.match(result["timestamp"])
    assert bus.wait("app/replies/1", start=mark)["ok"] is True
    assert bus.correlation("app/replies/1", start=mark) == b"\x00\x07"
    assert plc.get("Setpoint") == 55.5
    bus.wait("devices/plc-1/setpoint", lambda m: m["value"] == 55.5)

    for point, variable, payload, stored in [
        ("running", "Running", "false", False),
        ("mode", "Mode", '{"value": 3}', 3),
        ("recipe", "Recipe", "PVC-B", "PVC-B"),
        ("profile", "Profile", "[5, 6.5]", [5.0, 6.5]),
    ]:
        mark = bus.mark()
        bus.command(f"devices/plc-1/{point}/set", payload)
        assert bus.wait(f"devices/plc-1/{point}/set/result", start=mark)["ok"] is True, point
        assert plc.get(variable) == stored, point

    for point, payload, error in [
        ("setpoint", "150", "above max 100"),
        ("mode", "70000", "expected an integer from -32768 to 32767"),
        ("running", '"maybe"', "expected true or false"),
        ("mode", '{"level": 2}', 'object with "value"'),
    ]:
        mark = bus.mark()
        bus.command(f"devices/plc-1/{point}/set", payload)
        result = bus.wait(f"devices/plc-1/{point}/set/result", start=mark)
        assert result["ok"] is False and error in result["error"], (point, payload, result)
    assert plc.get("Setpoint") == 55.5 and plc.get("Mode") == 3


def test_server_goes_away_and_comes_back(tmp_path: Path, bus_factory: Callable[..., Any]) -> None:
    plc = Plc(tmp_path)
    plc.start()
    try:
        bus = bus_factory({"endpoints": [endpoint(plc.url)]})
        bus.wait("devices/plc-1/$status", lambda m: m["state"] == "online")
        bus.wait("devices/plc-1/count", lambda m: m["value"] == 42)
        bus.wait_health("healthy")

        mark = bus.mark()
        plc.stop()
        offline = bus.wait("devices/plc-1/$status", lambda m: m["state"] == "offline", start=mark)
        assert offline["reason"]
        bad = bus.wait("devices/plc-1/count", lambda m: m["quality"] == "bad", start=mark)
        assert bad["value"] is None and bad["error"]
        assert bus.retained("devices/plc-1/$status")["state"] == "offline"
        health = bus.wait_health("degraded")
        if isinstance(bus, SimBus):
            assert "plc-1" in health["message"]
        mark = bus.mark()
        bus.command("devices/plc-1/setpoint/set", "20")
        refused = bus.wait("devices/plc-1/setpoint/set/result", start=mark)
        assert refused["ok"] is False and "offline" in refused["error"]

        mark = bus.mark()
        plc.start()
        bus.wait("devices/plc-1/$status", lambda m: m["state"] == "online", timeout=20, start=mark)
        bus.wait("devices/plc-1/count", lambda m: m["value"] == 42 and m["quality"] == "good", start=mark)
        plc.set("Count", 99)
        bus.wait("devices/plc-1/count", lambda m: m["value"] == 99, start=mark)
        bus.wait_health("healthy")
        mark = bus.mark()
        bus.command("devices/plc-1/setpoint/set", "20")
        assert bus.wait("devices/plc-1/setpoint/set/result", start=mark)["ok"] is True
        assert plc.get("Setpoint") == 20.0
    finally:
        plc.stop()


def test_secure_endpoints(tmp_path: Path, bus_factory: Callable[..., Any]) -> None:
    """Basic256Sha256 Sign and SignAndEncrypt with certificates made by `wharf-opcua make-certificate` and
    the server's fetched by `wharf-opcua fetch-certificate`; the server refuses an unsecured client and one
    whose certificate it does not trust, and the plugin refuses a server that is not the pinned one."""
    certs = tmp_path / "certs"
    plc_cert, plc_key = server_certificate(certs)
    for name in ("wharf-opcua", "stranger"):
        made = run_tool("make-certificate", "--dir", str(certs), "--name", name)
        assert made.returncode == 0, made.stderr
        assert "SHA-1 thumbprint" in made.stdout
        assert (certs / f"{name}.key.pem").stat().st_mode & 0o077 == 0, "the key must not be readable by others"
    again = run_tool("make-certificate", "--dir", str(certs))
    assert again.returncode != 0 and "exist" in again.stderr, "an existing key is never overwritten silently"
    other_cert, _ = server_certificate(tmp_path / "other")

    plc = Plc(tmp_path, "--secure", str(plc_cert), str(plc_key), "--trust", str(certs / "wharf-opcua.der"))
    plc.start()
    try:
        fetched = run_tool("fetch-certificate", plc.url, str(tmp_path / "fetched.der"))
        assert fetched.returncode == 0, fetched.stderr
        assert (tmp_path / "fetched.der").read_bytes() == plc_cert.read_bytes()
        assert "Basic256Sha256/SignAndEncrypt" in fetched.stdout and "compare the thumbprint" in fetched.stdout

        def security(mode: str, client: str = "wharf-opcua", server: Path = tmp_path / "fetched.der") -> dict[str, str]:
            return {
                "policy": "Basic256Sha256",
                "mode": mode,
                "certificate": str(certs / f"{client}.der"),
                "private_key": str(certs / f"{client}.key.pem"),
                "server_certificate": str(server),
            }

        bus = bus_factory(
            {
                "endpoints": [
                    endpoint(plc.url, name="encrypted", security=security("SignAndEncrypt")),
                    endpoint(plc.url, name="signed", security=security("Sign")),
                    endpoint(plc.url, name="plain"),
                    endpoint(plc.url, name="stranger", security=security("SignAndEncrypt", client="stranger")),
                    endpoint(plc.url, name="impostor", security=security("SignAndEncrypt", server=other_cert)),
                ]
            }
        )
        for name in ("encrypted", "signed"):
            bus.wait(f"devices/{name}/$status", lambda m: m["state"] == "online")
            bus.wait(f"devices/{name}/count", lambda m: m["value"] == 42)
        for name, reason in [
            ("plain", "the server offers no endpoint with security None"),
            ("stranger", "BadCertificateUntrusted"),
            ("impostor", "the server presents a certificate other than server_certificate"),
        ]:
            assert reason in bus.wait(f"devices/{name}/$status", lambda m: m["state"] == "offline")["reason"], name
        mark = bus.mark()
        bus.command("devices/encrypted/setpoint/set", "42")
        assert bus.wait("devices/encrypted/setpoint/set/result", start=mark)["ok"] is True
        assert plc.get("Setpoint") == 42.0
        plc.set("Count", 43)
        bus.wait("devices/signed/count", lambda m: m["value"] == 43)
        health = bus.wait_health("degraded")
        if isinstance(bus, SimBus):
            for name in ("plain", "stranger", "impostor"):
                assert name in health["message"]
            assert "encrypted" not in health["message"] and "signed" not in health["message"]
    finally:
        plc.stop()


def test_configuration_errors_are_reported(bus_factory: Callable[..., Any]) -> None:
    """A broken configuration is health `failed` listing every problem, not a crash loop."""
    bus = bus_factory(
        {
            "endpoints": [
                {
                    "name": "Bad Name",
                    "url": "http://x",
                    "nodes": [{"node": "Line1"}],
                    "security": {"policy": "Basic256Sha256", "certificate": "/c.der"},
                }
            ],
            "qos": 2,
        }
    )
    health = bus.wait_health("failed")
    if isinstance(bus, SimBus):
        assert bus.ready["subscriptions"] == []
        for problem in [
            "endpoints[0].name",
            "endpoints[0].url",
            "endpoints[0].nodes[0].node",
            "qos",
            "endpoints[0].security.private_key",
            "endpoints[0].security.server_certificate",
        ]:
            assert problem in health["message"], problem


def test_without_asyncua_it_names_the_setup_command(bus_factory: Callable[..., Any]) -> None:
    """On a python3 without asyncua the plugin stays up, reports `failed` and says how to install it."""
    python = "/usr/bin/python3"
    if subprocess.run([python, "-c", "import asyncua"], capture_output=True).returncode == 0:
        pytest.skip(f"{python} has asyncua")
    bus = bus_factory({"endpoints": [endpoint("opc.tcp://127.0.0.1:1/plc")]}, env={"WHARF_OPCUA_PYTHON": python})
    health = bus.wait_health("failed")
    assert "wharf-opcua-setup" in bus.stderr()
    if isinstance(bus, SimBus):
        assert "asyncua is missing" in health["message"] and "wharf-opcua-setup" in health["message"]


def test_installed_layout_loads_the_sdk_by_path(plc: Plc, tmp_path: Path, bus_factory: Callable[..., Any]) -> None:
    """As installed: the plugin in a plugin directory, the SDK in another place (dist-packages), and a
    Python (the venv of wharf-opcua-setup) that does not see it: the plugin loads that one file."""
    plugins = tmp_path / "usr-lib-wharf-plugins"
    plugins.mkdir()
    shutil.copy2(PLUGIN, plugins / "wharf-opcua")
    shutil.copytree(
        PLUGIN.parent / "wharf_opcua", plugins / "wharf_opcua", ignore=shutil.ignore_patterns("__pycache__")
    )
    dist_packages = tmp_path / "dist-packages"
    dist_packages.mkdir()
    shutil.copy2(SDK_DIR / "wharf_plugin.py", dist_packages / "wharf_plugin.py")
    env = {"PYTHONPATH": "", "WHARF_PLUGIN_SDK": str(dist_packages / "wharf_plugin.py")}
    bus = bus_factory({"endpoints": [endpoint(plc.url)]}, env=env, plugin=plugins / "wharf-opcua")
    bus.wait("devices/plc-1/count", lambda m: m["value"] == 42)
    assert not (plugins / "wharf_opcua" / "__pycache__").exists(), "nothing is written beside the installed plugin"


def test_values_beyond_max_queued_values_are_dropped_and_counted(plc: Plc, tmp_path: Path) -> None:
    """A host that stops answering (credit 1, nothing acknowledged) fills the plugin's queue of values:
    values beyond max_queued_values are dropped with a warning that counts them, the endpoint's status
    is not, and once the host answers again what was kept flows on."""
    config = {"backoff": FAST_BACKOFF, "max_queued_values": 3, "endpoints": [endpoint(plc.url)]}
    bus = SimBus(config, tmp_path, credit=1, auto_ack=False)
    try:
        warning = bus.host.wait_for(lambda o: o["type"] == "log" and "values dropped" in o["message"])
        assert warning["level"] == "warning" and "1 values dropped so far" in warning["message"]
        bus.host.wait_until(lambda: len(bus.host.publishes()) >= 1, what="the first publish")
        deadline = time.monotonic() + 15
        while not bus.host.publishes("devices/plc-1/$status") and time.monotonic() < deadline:
            for ident in list(bus.host.unanswered):
                bus.host.ack(ident)
            time.sleep(0.05)
        status = json.loads(payload_of(bus.host.publishes("devices/plc-1/$status")[0]))
        assert status["state"] == "online"
        assert len(bus.host.publishes()) < len(NODES) + 1, "some values were dropped"
        assert bus.host.max_unanswered == 1 and bus.host.violations == []
    finally:
        bus.close()


def test_retained_commands_are_not_written(plc: Plc, tmp_path: Path) -> None:
    """A command delivered from the retained store (retain set) is old state: never written, only logged."""
    bus = SimBus({"backoff": FAST_BACKOFF, "endpoints": [endpoint(plc.url)]}, tmp_path)
    try:
        bus.wait("devices/plc-1/$status", lambda m: m["state"] == "online")
        mark = bus.mark()
        bus.host.command("devices/plc-1/setpoint/set", "77", retain=True)
        bus.command("devices/plc-1/mode/set", "2")
        assert bus.wait("devices/plc-1/mode/set/result", start=mark)["ok"] is True
        assert bus.host.publishes("devices/plc-1/setpoint/set/result") == []
        assert plc.get("Setpoint") == 12.5 and plc.get("Mode") == 2
        warning = bus.host.wait_for(lambda o: o["type"] == "log" and "retained command" in o["message"], start=mark)
        assert warning["level"] == "warning" and "devices/plc-1/setpoint/set" in warning["message"]
    finally:
        bus.close()


def test_refused_publishes_are_logged_once_per_topic(plc: Plc, tmp_path: Path) -> None:
    """A topic the host refuses (as an ACL would, every time) is logged once, not at every value."""
    bus = SimBus({"backoff": FAST_BACKOFF, "endpoints": [endpoint(plc.url)]}, tmp_path, auto_ack=False)

    def answer() -> None:
        for publish in bus.host.publishes():
            ident = publish.get("id")
            if ident in bus.host.unanswered:
                if publish["topic"] == "devices/plc-1/count":
                    bus.host.nack(ident, "not-authorized", "plugin:opcua may not publish to devices/plc-1/count")
                else:
                    bus.host.ack(ident)

    try:
        for count in (43, 44, 45):
            plc.set("Count", count)
            deadline = time.monotonic() + 15
            while (
                not bus.host.publishes("devices/plc-1/count")
                or json.loads(payload_of(bus.host.publishes("devices/plc-1/count")[-1]))["value"] != count
            ):
                assert time.monotonic() < deadline, f"count {count} was not published"
                answer()
                time.sleep(0.05)
        answer()
        bus.host.wait_until(lambda: not bus.host.unanswered, what="every publish answered")
        refusals = [
            o for o in bus.host.received if o["type"] == "log" and "devices/plc-1/count are refused" in o["message"]
        ]
        assert len(refusals) == 1 and "not-authorized" in refusals[0]["message"], refusals
    finally:
        bus.close()


def test_the_conformance_kit_passes_it(plc: Plc) -> None:
    """`wharfctl plugin test` with a configuration that reads the test PLC: values at QoS 1 for the credit
    and nack checks, a writable point for the command check."""
    wharfctl = wharfctl_path()
    if not wharfctl.is_file():
        pytest.skip(f"no wharfctl at {wharfctl}")
    help_text = subprocess.run([str(wharfctl), "plugin", "--help"], capture_output=True, text=True).stdout
    if " test " not in help_text:
        pytest.skip(f"{wharfctl} has no 'plugin test' yet")
    config = {"backoff": FAST_BACKOFF, "endpoints": [endpoint(plc.url)]}
    result = subprocess.run(
        [str(wharfctl), "plugin", "test", str(PLUGIN), "--config", json.dumps(config), "--timeout", "10s"],
        capture_output=True,
        text=True,
        timeout=90,
        env={**os.environ, **plugin_env()},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for check in ("ready", "health", "credit", "nack", "command", "shutdown", "lines"):
        assert f"PASS {check}:" in result.stdout, (check, result.stdout)

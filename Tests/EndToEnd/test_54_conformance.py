"""54 the conformance kit, `wharfctl plugin test`: the SDK's example plugins and the plain-C example
pass it; plugins that break the protocol fail it, naming the fault. No wharfd is involved: the kit
is the host.
"""

from __future__ import annotations

import json
import os
import time
import subprocess
from pathlib import Path

import pytest
from wharf_e2e.admin import wharfctl_path
from wharf_e2e.plugin_host import REPO_ROOT

pytestmark = [
    pytest.mark.wharf_only(reason="the plugin protocol is Wharf's; no broker is involved"),
    pytest.mark.skipif(not wharfctl_path().is_file(), reason="wharfctl not built (it is wharfd: swift build --product wharfd)"),
]

PLUGINS = Path(__file__).resolve().parent / "plugins"
CONFORMANCE = Path(__file__).resolve().parent / "conformance"
FAST = ["--timeout", "3s", "--grace", "2s"]


def kit(plugin: Path | str, *options: str, config: dict | None = None, args: list[str] | None = None):
    """Runs `wharfctl plugin test` with the SDK on PYTHONPATH; the completed process."""
    command = [str(wharfctl_path()), "plugin", "test", str(plugin), *FAST, *options]
    if config is not None:
        command += ["--config", json.dumps(config)]
    if args:
        command += ["--", *args]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "plugins" / "sdk" / "python")}
    return subprocess.run(command, capture_output=True, text=True, timeout=60, env=env, check=False)


def verdicts(output: str) -> dict[str, str]:
    """{check: "PASS" | "FAIL" | "SKIP"} from the kit's report."""
    found = {}
    for line in output.splitlines():
        verdict, _, rest = line.partition(" ")
        if verdict in ("PASS", "FAIL", "SKIP"):
            found[rest.split(":", 1)[0]] = verdict
    return found


@pytest.fixture(scope="module")
def counter(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """plugins/examples/counter.c compiled with cc into a temporary directory."""
    out = tmp_path_factory.mktemp("counter") / "counter"
    subprocess.run(["cc", "-O2", "-o", str(out), str(REPO_ROOT / "plugins" / "examples" / "counter.c")], check=True)
    return out


def test_publisher_passes_every_check() -> None:
    # autostart makes it publish QoS 1 at once, one after the other, so the credit probe has work.
    result = kit(PLUGINS / "publisher.py", config={"autostart": {"count": 10, "qos": 1}})
    assert result.returncode == 0, result.stdout + result.stderr
    assert verdicts(result.stdout) == dict.fromkeys(
        ["ready", "protocol", "before-ready", "health", "credit", "nack", "command", "shutdown", "lines"], "PASS"
    ), result.stdout


def test_echo_passes_and_replies_to_the_command() -> None:
    result = kit(PLUGINS / "echo.py")
    assert result.returncode == 0, result.stdout + result.stderr
    found = verdicts(result.stdout)
    assert "FAIL" not in found.values(), result.stdout
    assert found["command"] == "PASS" and "replied on the response topic" in result.stdout
    # It never publishes on its own: the credit checks are skipped, not passed.
    assert found["credit"] == "SKIP"


def test_the_plain_c_example_passes(counter: Path) -> None:
    result = kit(counter, args=["--interval-ms", "50", "--topic", "plugins/conformance"])
    assert result.returncode == 0, result.stdout + result.stderr
    found = verdicts(result.stdout)
    assert "FAIL" not in found.values(), result.stdout
    assert found["credit"] == "PASS" and found["nack"] == "PASS", result.stdout
    assert "with a credit of 4" in result.stdout


@pytest.mark.parametrize(
    ("plugin", "config", "faults"),
    [
        (PLUGINS / "wrong_version.py", {}, ["FAIL protocol: ready says protocol 2; the kit offers 1 to 1"]),
        (
            PLUGINS / "garbage.py",
            {"wait_s": 1},
            ["FAIL before-ready: a publish before ready", "FAIL lines: invalid-json: invalid JSON"],
        ),
        (PLUGINS / "crash_at_start.py", {}, ["FAIL ready: exited with status 3 before ready", "giving up"]),
        (PLUGINS / "hang.py", {}, ["FAIL health: no answer to a health ping", "FAIL shutdown: still running"]),
        (PLUGINS / "hang.py", {"ignore_sigterm": True}, ["FAIL shutdown: still running"]),
        (CONFORMANCE / "ignore_credit.py", {}, ["FAIL credit: 5 QoS 1/2 publishes unanswered with a credit of 4"]),
    ],
    ids=["wrong-version", "garbage", "crash-at-start", "hang", "hang-ignoring-sigterm", "ignore-credit"],
)
def test_a_faulty_plugin_fails_naming_the_fault(plugin: Path, config: dict, faults: list[str]) -> None:
    result = kit(plugin, config=config)
    assert result.returncode == 1, result.stdout + result.stderr
    for fault in faults:
        assert fault in result.stdout, result.stdout


def test_the_offending_line_is_quoted() -> None:
    result = kit(PLUGINS / "garbage.py", config={"wait_s": 1})
    assert "`this is not json`" in result.stdout
    assert '`{"type":"publish","topic":"plugins/garbage/too-early","payload":"x"}`' in result.stdout


def test_nothing_of_the_plugin_survives_the_kit(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    result = kit(PLUGINS / "fork_child.py", config={"pid_file": str(pid_file)})
    # The parent exits 0 right after the handshake, which the kit reports; its child must be gone.
    assert result.returncode == 1 and "FAIL" in result.stdout, result.stdout
    child = int(pid_file.read_text())
    # SIGKILL was sent to the group before the kit exited; on a loaded machine the kernel may
    # take a moment to finish the process off.
    deadline = time.monotonic() + 5
    while True:
        try:
            state = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            state = "gone"
        if state in ("gone", "Z") or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert state in ("gone", "Z"), f"the plugin's child {child} survived the kit"


def test_a_plugin_that_cannot_start_is_a_usage_error(tmp_path: Path) -> None:
    result = kit(tmp_path / "missing")
    assert result.returncode == 2
    assert "cannot start" in result.stderr


def test_invalid_config_json_is_refused() -> None:
    result = subprocess.run(
        [str(wharfctl_path()), "plugin", "test", str(PLUGINS / "echo.py"), "--config", "{nope"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode != 0 and "--config" in result.stderr

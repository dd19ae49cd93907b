"""50 No plugin process outlives what it belongs to: a child forked by a plugin that exits is killed with
the plugin's process group; a graceful stop of wharfd and a kill -9 of wharfd leave no process of any
plugin (the launcher, the plugin, a child in its group, a plugin that ignores SIGTERM).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from wharf_e2e.admin import wait_until
from wharf_e2e.plugins import (
    PluginSpec,
    PluginWharf,
    alive,
    plugin,
    plugin_wharfd,  # noqa: F401 - fixture
    read_proc,
    wait_gone,
)

pytestmark = pytest.mark.wharf_only(reason="plugins are Wharf's")

Start = Callable[..., PluginWharf]


def read_pid(path: Path, other_than: int = 0) -> int | None:
    try:
        pid = int(path.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if pid != other_than else None


def test_the_child_of_a_plugin_that_exits_is_killed_with_its_group(plugin_wharfd: Start, tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    spec = plugin(
        "forker",
        "fork_child.py",
        {"pid_file": str(pid_file)},
        backoff={"base": "1s", "cap": "1s", "stable_after": "30s"},
        max_restarts=1000,
    )
    wharf = plugin_wharfd(spec)
    child = wait_until(lambda: read_pid(pid_file), 20, "the forked child's pid")
    wait_gone({child}, 10, f"the child {child} of the plugin that exited")
    # The plugin's exit is a crash: it is started again, and its next child goes the same way.
    wharf.admin.wait_metric("wharf_plugin_restarts_total", lambda v: v >= 1, 20, adapter="forker")
    second = wait_until(lambda: read_pid(pid_file, other_than=child), 20, "the second child's pid")
    wait_gone({second}, 10, f"the child {second} of the restarted plugin")
    wharf.broker.assert_alive()


def family() -> tuple[PluginSpec, ...]:
    """A well-behaved plugin, one that ignores shutdown and SIGTERM, and one with a child in its group."""
    return (
        plugin("echo", "echo.py"),
        plugin("hang", "hang.py", {"ignore_sigterm": True}, shutdown_grace="500ms"),
        plugin("parent", "fork_child.py", {"stay": True}),
    )


def wait_family(wharf: PluginWharf) -> None:
    """Until every plugin and its launcher run, and the child of `parent` too."""
    wanted = {"echo": 2, "hang": 2, "parent": 3}
    for name, count in wanted.items():
        wharf.admin.wait_running(name)
        wait_until(lambda n=name, c=count: len(wharf.processes(n)) >= c, 15, f"{count} processes of {name}")
    launchers = [p for name in wanted for p in wharf.processes(name) if p.is_launcher]
    assert len(launchers) == 3, launchers
    # The child of `parent` is in the plugin's process group, not its launcher's.
    parent = wharf.processes("parent")
    [launcher] = [p for p in parent if p.is_launcher]
    groups = {p.pgid for p in parent if not p.is_launcher}
    assert len(groups) == 1 and launcher.pgid not in groups, parent


def test_a_graceful_stop_leaves_no_plugin_process(plugin_wharfd: Start) -> None:
    specs = family()
    wharf = plugin_wharfd(*specs)
    wait_family(wharf)
    pids = {p.pid for spec in specs for p in wharf.processes(spec.name)}
    wharf.broker.stop()
    wharf.broker.check_clean_exit()
    for spec in specs:
        wait_gone(spec.token, 5, f"processes of {spec.name!r} after wharfd stopped")
    assert not [pid for pid in pids if alive(pid)]


def test_kill9_of_wharfd_leaves_no_plugin_process(plugin_wharfd: Start) -> None:
    specs = family()
    wharf = plugin_wharfd(*specs)
    wait_family(wharf)
    before = {p.pid: p for spec in specs for p in wharf.processes(spec.name)}
    wharf.broker.kill9()
    for spec in specs:
        wait_gone(spec.token, 5, f"processes of {spec.name!r} after kill -9 of wharfd")
    assert not [read_proc(pid) for pid in before if alive(pid)]

"""Configuration checks of the CoAP adapter: a wharf.yaml written to a test's directory, and the
three ways wharfd reads it (`wharfd --check`, `wharfctl check`, a start that must be refused)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from .admin import wharfctl, wharfctl_path
from .broker import BrokerOptions, render_wharf_yaml
from .modbus_fixtures import run_check, run_start

# `wharfd --check`, `wharfctl check`, and a start of wharfd, which must report the same problems.
CHECK_MODES = pytest.mark.parametrize("mode", ["check", "wharfctl", "start"])


def write_config(directory: Path, adapters: str) -> tuple[Path, str]:
    """A complete wharf.yaml whose `adapters:` section is `adapters`; returns its path and text."""
    text = render_wharf_yaml(BrokerOptions(wharf_extra_yaml=adapters))
    path = directory / "wharf.yaml"
    path.write_text(text)
    return path, text


def validate(mode: str, path: Path) -> subprocess.CompletedProcess[str]:
    """Reads `path` as `mode` says (see CHECK_MODES)."""
    if mode == "wharfctl":
        if not wharfctl_path().is_file():
            pytest.skip("wharfctl not built (it is wharfd: swift build --product wharfd)")
        return wharfctl("check", str(path))
    return run_check(path) if mode == "check" else run_start(path)


def check(path: Path) -> subprocess.CompletedProcess[str]:
    """`wharfd --check` of `path`."""
    return run_check(path)


def issue_lines(output: str) -> list[str]:
    """The `wharf.yaml:line[:column]: ...` lines of a check's output."""
    return [line for line in output.splitlines() if re.search(r"wharf\.yaml:\d+(:\d+)?: ", line)]


def assert_reported(output: str, key_path: str, *, words: str = "") -> str:
    """Some issue line names `key_path` (and contains `words`); returns that line."""
    pattern = re.compile(rf"wharf\.yaml:\d+(:\d+)?: {re.escape(key_path)}(?![\w.\[])")
    found = [line for line in issue_lines(output) if pattern.search(line) and words in line]
    assert found, f"no report of {key_path!r} (with {words!r}) in:\n{output}"
    return found[0]


def warnings(output: str) -> list[str]:
    """The warning lines of a check's output."""
    return [line for line in output.splitlines() if "warning:" in line]

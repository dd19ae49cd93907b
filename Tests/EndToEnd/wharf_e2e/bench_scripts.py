"""Short runs of the benchmark scripts under scripts/ on the build under test (the e2e smoke runs)."""

from __future__ import annotations

import os
import subprocess

from wharf_e2e.broker import REPO_ROOT, wharfd_path


def run_bench_script(script: str, *, timeout: float, **settings: str) -> subprocess.CompletedProcess[str]:
    """Runs `scripts/<script>` without building, on the binaries next to the wharfd under test,
    with the given BENCH_* settings; returns the finished process (output captured)."""
    environment = dict(os.environ, BENCH_SKIP_BUILD="1", BENCH_BIN=str(wharfd_path().parent), **settings)
    return subprocess.run(
        [f"scripts/{script}"], cwd=REPO_ROOT, env=environment, capture_output=True, text=True, timeout=timeout
    )

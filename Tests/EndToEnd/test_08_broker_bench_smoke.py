"""A small run of the broker benchmark (scripts/bench.sh, `make bench`) with its TLS cases, on the
debug build, so that the benchmark keeps working as wharfd, wharf-bench and Mosquitto's
configuration change: one round of one delivery case over TCP and over TLS, and the connection
set-up runs. Figures come from `make bench`; this run checks only that every run completes, with
nothing lost, and that both brokers negotiated the same TLS parameters (the script refuses
otherwise)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from wharf_e2e.bench_scripts import run_bench_script

pytestmark = [pytest.mark.wharf_only(reason="the benchmark of wharfd against Mosquitto")]


@pytest.mark.timeout(300)
def test_broker_benchmark_runs_its_tls_and_connection_set_up_cases(tmp_path: Path) -> None:
    out = tmp_path / "bench.md"
    done = run_bench_script(
        "bench.sh",
        timeout=280,
        BENCH_MESSAGES="300",
        BENCH_REPEAT="1",
        BENCH_SCENARIOS="pairs",
        BENCH_QOS="1",
        BENCH_TLS_SCENARIOS="pairs",
        BENCH_HANDSHAKES="40",
        BENCH_LOOPBACK_SCALE="1",
        BENCH_TIMEOUT="60",
        BENCH_OUT=str(out),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    table = out.read_text()
    assert re.search(r"TLS: both brokers TLSv1\.3 \S+, \S+ key exchange, chain verified", table), table
    # Rates (and their ratio) must be there; CPU per message may read "–" in so short a run (the
    # kernel counts CPU time in ticks of 10 ms).
    for row in ("pairs | 1", "pairs over TLS | 1", "TCP + CONNECT", "TLS handshake + CONNECT"):
        line = next((line for line in table.splitlines() if line.startswith(f"| {row} |")), None)
        assert line is not None, f"no row {row!r} in\n{table}"
        cells = [cell.strip() for cell in line.strip("|").split("|")][len(row.split("|")) :]
        assert all(cell not in ("", "–") for cell in cells[:3]), f"a run of {row!r} did not complete:\n{table}"
    assert "Incomplete runs" not in table, table
    assert "lost 0" in done.stderr and not re.search(r"lost [1-9]", done.stderr), done.stderr[-3000:]

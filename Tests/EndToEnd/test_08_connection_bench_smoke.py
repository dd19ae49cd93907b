"""A small run of the connection-memory benchmark (scripts/bench-connections.sh, `make bench`) on
the debug build, so that it keeps working as wharfd, wharf-bench and the generator change: two
small steps for each MQTT version against wharfd, Mosquitto and a bare NIO server. Figures come
from `make bench`; this run checks only that every broker held every connection and that the
tables and the per-connection lines are there."""

from __future__ import annotations

from pathlib import Path

import pytest

from wharf_e2e.bench_scripts import run_bench_script

pytestmark = [pytest.mark.wharf_only(reason="the benchmark of wharfd against Mosquitto")]


@pytest.mark.timeout(300)
def test_connection_memory_benchmark_holds_every_connection_and_reports_each_broker(tmp_path: Path) -> None:
    out = tmp_path / "connections.md"
    done = run_bench_script(
        "bench-connections.sh",
        timeout=280,
        BENCH_CONN_STEPS="200 400 600",
        BENCH_CONN_WORKERS="2",
        BENCH_CONN_SETTLE="0.5",
        BENCH_CONN_FLOORS="64",
        BENCH_CONN_OUT=str(out),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = out.read_text()
    for version in ("5", "3.1.1"):
        assert f"**MQTT {version}**" in report, report
    rows = [line for line in report.splitlines() if line.startswith("| 600 |")]
    assert len(rows) == 2, report
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert "–" not in cells[:6], f"a broker's reading is missing:\n{report}"
        # Every connection was held: each broker had a descriptor open for each.
        wharf_descriptors, mosquitto_descriptors = (int(count) for count in cells[-1].split("/"))
        assert wharf_descriptors >= 600 and mosquitto_descriptors >= 600, report
    for name in ("Wharf", "Mosquitto", "bare SwiftNIO server"):
        assert report.count(f"- {name}") == 2, f"no per-connection line for {name}:\n{report}"
    assert "failed" not in report and "closed by the broker" not in report, report

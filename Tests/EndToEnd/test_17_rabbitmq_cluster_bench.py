"""A small run of the cluster benchmark's drain (Benchmarks/cluster/, `make bench`) on the suite's RabbitMQ
cluster, so that the benchmark keeps working as wharfd and the harness change: one round of a few hundred
messages, every case complete at the subscriber on another node. No figure is judged."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from wharf_e2e.rabbitmq import RabbitCluster

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "Benchmarks" / "cluster"))

import cluster_bench  # noqa: E402
from cluster_drain import CASES, DrainRun  # noqa: E402

pytestmark = [pytest.mark.wharf_only(reason="the benchmark of wharfd's uplink to a RabbitMQ cluster")]


def test_the_arguments_are_checked() -> None:
    args = cluster_bench.parse_args(["--cases", "drain", "--rounds", "2", "--backoff-base", "250ms"])
    assert (args.cases, args.rounds, cluster_bench.seconds(args.backoff_base)) == (["drain"], 2, 0.25)
    for wrong in (["--cases", "drain,soak"], ["--rounds", "0"], ["--backoff-base", "soon"], ["--payload", "16"]):
        with pytest.raises(SystemExit):
            cluster_bench.parse_args(wrong)


# Run on its own, the test also pays for the cluster's cold start (25-35 s).
@pytest.mark.timeout(120)
def test_one_small_drain_round_delivers_every_case(healthy_rabbit_cluster: RabbitCluster, tmp_path: Path) -> None:
    args = cluster_bench.parse_args(["--cases", "drain", "--rounds", "1", "--messages", "300"])
    [cases] = DrainRun(healthy_rabbit_cluster, args, tmp_path).run()
    # Each case waited for all 300 messages at the subscriber on node 2 before it was measured.
    assert sorted(case.case for case in cases) == sorted(CASES)
    assert all(case.rate > 0 for case in cases)
    table = cluster_bench.drain_report([cases], args)
    assert len([line for line in table if line.startswith("| ") and "msg/s" not in line]) == len(CASES)

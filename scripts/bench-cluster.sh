#!/usr/bin/env bash
# Wharf's uplink against a 3-node RabbitMQ cluster (docs/benchmarks.md, "Cloud cluster"): a backlog
# drained by the release wharfd against plain MQTT 3.1.1 clients (mosquitto_pub, paho) publishing the
# same messages to the same cluster in the same run, and the time from a `kill -9` of the node in use
# to the first PUBACK from another node, against the cluster's own takeover time.
#
# Sizes come from the environment (defaults in brackets):
#   CLUSTER_BENCH_ROUNDS [3]           rounds of each measurement
#   CLUSTER_BENCH_MESSAGES [30000]     messages per drain case
#   CLUSTER_BENCH_WINDOW [100]         in-flight window of the uplink and of the plain clients
#   CLUSTER_BENCH_BACKOFF_BASE [1s]    uplink.backoff.base (the shipped default)
#   CLUSTER_BENCH_CASES [drain,failover]
#   BENCH_SKIP_BUILD [0]               1: use the wharfd already in .build/release
#   CLUSTER_BENCH_OUT [Benchmarks/results/cluster-latest.md]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${CLUSTER_BENCH_OUT:-Benchmarks/results/cluster-latest.md}

log() { echo "bench-cluster: $*" >&2; }

for tool in mosquitto_pub /usr/lib/rabbitmq/bin/rabbitmq-server; do
    command -v "$tool" >/dev/null 2>&1 || { log "missing $tool (make bench installs it)"; exit 1; }
done
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
    swift build -c release --product wharfd
fi
bin=$(swift build -c release --show-bin-path)
[ -x .venv/bin/python ] || scripts/e2e-env.sh

started=$(date +%s)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
fragment=$(WHARFD="$bin/wharfd" .venv/bin/python Benchmarks/cluster/cluster_bench.py \
    --rounds "${CLUSTER_BENCH_ROUNDS:-3}" --messages "${CLUSTER_BENCH_MESSAGES:-30000}" \
    --window "${CLUSTER_BENCH_WINDOW:-100}" --backoff-base "${CLUSTER_BENCH_BACKOFF_BASE:-1s}" \
    --cases "${CLUSTER_BENCH_CASES:-drain,failover}")
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
mkdir -p "$(dirname "$OUT")"
{
    echo "<!-- Written by scripts/bench-cluster.sh; do not edit by hand. -->"
    echo "Run of $(date -u '+%Y-%m-%d %H:%M UTC') on $cpu, $(nproc) cores; load average before $LOAD_BEFORE," \
        "after $(cut -d' ' -f1-3 /proc/loadavg); $(($(date +%s) - started)) s; RabbitMQ" \
        "$(dpkg-query -W -f='${Version}' rabbitmq-server 2>/dev/null || echo '?'), commit" \
        "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- Sources Benchmarks 2>/dev/null || echo ' (with local changes)')."
    echo
    echo "$fragment"
} | tee "$OUT"
log "written to $OUT"

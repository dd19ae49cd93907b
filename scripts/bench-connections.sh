#!/usr/bin/env bash
# Memory per idle MQTT connection (docs/benchmarks.md, "Memory per idle connection"): wharfd
# (release build) against Mosquitto on 127.0.0.1 in the same run, and bare SwiftNIO servers
# (wharf-bench --idle-server) as the floor under any broker built on NIO. Idle connections
# (CONNECT with a clean session, CONNACK, then PINGREQ once per keep alive) are opened in steps,
# MQTT 5 and 3.1.1, from several loopback source addresses (127.x.y.z) so that ephemeral ports do
# not run out, by several generator processes; after each step the broker's VmRSS, Pss and
# Private_Dirty (/proc/PID/smaps_rollup) are read, and what one more connection costs is the
# slope between two steps.
#
# Sizes come from the environment (defaults in brackets):
#   BENCH_CONN_STEPS ["1000 5000 10000 15000 TOP"]   TOP: the hard open-file limit minus a tenth,
#                            rounded down to a thousand (18000 at 20000), so that wharfd's reserve
#                            of descriptors (32 plus a sixteenth of the limit) stays free
#   BENCH_CONN_MQTT ["5 3.1.1"]     MQTT versions
#   BENCH_CONN_WORKERS [4]   generator processes
#   BENCH_CONN_KEEPALIVE [60]       keep alive of every client, seconds
#   BENCH_CONN_SETTLE [3]    seconds between a step and its reading
#   BENCH_CONN_FLOORS ["2048 64"]   first receive buffer sizes of the bare NIO servers ("" for none)
#   BENCH_CONN_OUT [Benchmarks/results/connections-latest.md]   the Markdown tables
#   BENCH_SKIP_BUILD [0]     1: use the binaries already in BENCH_BIN
#   BENCH_BIN [.build/release]   where wharfd and wharf-bench are (the end-to-end suite's smoke
#                            run of this script gives .build/debug, with BENCH_SKIP_BUILD=1)
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "bench-connections: $*" >&2; }

MOSQUITTO=${MOSQUITTO:-$(command -v mosquitto || echo /usr/sbin/mosquitto)}
for tool in python3 "$MOSQUITTO"; do
    command -v "$tool" >/dev/null 2>&1 || { log "missing $tool (make bench installs it)"; exit 1; }
done

# Children (brokers and generators) get the hard limit as their soft one.
ulimit -n "$(ulimit -Hn)"
limit=$(ulimit -n)
if [ "$limit" = unlimited ]; then limit=1048576; fi
top=$(( (limit - limit / 10) / 1000 * 1000 ))
if [ "$top" -lt 2000 ]; then
    log "the open-file limit ($limit) leaves no room for the benchmark; raise it (ulimit -Hn)"
    exit 1
fi
default_steps="1000 5000 10000 15000 $top"
if [ "$top" -le 15000 ]; then default_steps="1000 $(( top / 2 / 1000 * 1000 )) $top"; fi
STEPS=${BENCH_CONN_STEPS:-$default_steps}
OUT=${BENCH_CONN_OUT:-Benchmarks/results/connections-latest.md}

if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
    log "building wharfd and wharf-bench (release)"
    swift build -c release --product wharfd
    swift build -c release --product wharf-bench
fi
bin=${BENCH_BIN:-.build/release}

started=$(date +%s)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
fragment=$(python3 Benchmarks/connections/conn_bench.py --wharfd "$bin/wharfd" --mosquitto "$MOSQUITTO" \
    --wharf-bench "$bin/wharf-bench" --floors "${BENCH_CONN_FLOORS-2048 64}" --steps "$STEPS" \
    --mqtt "${BENCH_CONN_MQTT:-5 3.1.1}" --workers "${BENCH_CONN_WORKERS:-4}" \
    --keepalive "${BENCH_CONN_KEEPALIVE:-60}" --settle "${BENCH_CONN_SETTLE:-3}")
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
mkdir -p "$(dirname "$OUT")"
{
    echo "<!-- Written by scripts/bench-connections.sh; do not edit by hand. -->"
    echo "Run of $(date -u '+%Y-%m-%d %H:%M UTC') on $cpu, $(nproc) cores; load average before $load_before," \
        "after $(cut -d' ' -f1-3 /proc/loadavg); $(($(date +%s) - started)) s; open-file limit $limit;" \
        "$({ "$MOSQUITTO" -h 2>/dev/null || true; } | head -n 1 | sed 's/ is an.*//'), commit" \
        "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- Sources Benchmarks 2>/dev/null || echo ' (with local changes)')."
    echo
    echo "$fragment"
} | tee "$OUT"
log "written to $OUT"

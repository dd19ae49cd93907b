#!/usr/bin/env bash
# Wharf plugin benchmark (docs/benchmarks.md, "Plugins"): messages per second into the broker
# from one plugin through its pipe (the C load generator plugins/examples/counter.c, run by the
# real plugin adapter), against the same messages published by an adapter inside the process,
# at QoS 0 and at QoS 1 with an uplink forward rule (every publish a durable append), in the
# same run of wharf-plugin-bench. The script runs it several times, alternating which case runs
# first, and writes the medians to PLUGIN_BENCH_OUT.
#
# Sizes come from the environment (defaults in brackets):
#   PLUGIN_MESSAGES [1000000]        messages per QoS 0 case
#   PLUGIN_DURABLE_MESSAGES [200000] messages per QoS 1 case
#   PLUGIN_PAYLOAD [16]              payload bytes (0...512)
#   PLUGIN_CREDIT [64]               the plugin's credit and the in-process window
#   PLUGIN_QOS [0,1]                 QoS levels to measure
#   PLUGIN_SYNCHRONOUS [full]        storage.queue.synchronous of the QoS 1 cases
#   PLUGIN_REPEAT [5]                runs of wharf-plugin-bench; the table shows medians
#   PLUGIN_TIMEOUT [120]             seconds a case may take
#   BENCH_TMPDIR [$TMPDIR or /tmp]   where every data directory goes
#   BENCH_SKIP_BUILD [0]             1: use the binaries already in .build/release
#   BENCH_SWIFT_FLAGS []             extra arguments for swift build
#   PLUGIN_BENCH_OUT [Benchmarks/results/plugin-latest.md]
set -euo pipefail
cd "$(dirname "$0")/.."

MESSAGES=${PLUGIN_MESSAGES:-1000000}
DURABLE_MESSAGES=${PLUGIN_DURABLE_MESSAGES:-200000}
PAYLOAD=${PLUGIN_PAYLOAD:-16}
CREDIT=${PLUGIN_CREDIT:-64}
QOS=${PLUGIN_QOS:-0,1}
SYNCHRONOUS=${PLUGIN_SYNCHRONOUS:-full}
REPEAT=${PLUGIN_REPEAT:-5}
TIMEOUT=${PLUGIN_TIMEOUT:-120}
TMP_BASE=${BENCH_TMPDIR:-${TMPDIR:-/tmp}}
OUT=${PLUGIN_BENCH_OUT:-Benchmarks/results/plugin-latest.md}
CC=${CC:-cc}

log() { echo "bench-plugin: $*" >&2; }

for tool in python3 "$CC"; do
    command -v "$tool" >/dev/null 2>&1 || { log "missing $tool (make bench installs it)"; exit 1; }
done

if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
    log "building wharf-plugin-bench and wharf-launch (release)"
    # shellcheck disable=SC2086
    swift build -c release --product wharf-plugin-bench ${BENCH_SWIFT_FLAGS:-}
    # shellcheck disable=SC2086
    swift build -c release --product wharf-launch ${BENCH_SWIFT_FLAGS:-}
fi
# shellcheck disable=SC2086
BIN=$(swift build -c release --show-bin-path ${BENCH_SWIFT_FLAGS:-})
BENCH=$BIN/wharf-plugin-bench
# The plugin adapter looks for wharf-launch next to the running executable; say it anyway.
export WHARF_LAUNCH=$BIN/wharf-launch
for file in "$BENCH" "$WHARF_LAUNCH"; do
    [ -x "$file" ] || { log "missing $file"; exit 1; }
done

WORK=$(mktemp -d "$TMP_BASE/wharf-bench-plugin.XXXXXX")
cleanup() {
    local status=$?
    if [ "$status" -ne 0 ]; then
        log "failed; last output:"
        tail -n 20 "$WORK"/*.err >&2 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The load generator, optimised as a real plugin in C would be.
make -s -C plugins/examples O="$WORK" CC="$CC" CFLAGS=-O2 >&2

started=$(date +%s)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for run in $(seq "$REPEAT"); do
    if [ $((run % 2)) -eq 1 ]; then first=plugin; else first=in-process; fi
    log "run $run of $REPEAT ($first first)"
    timeout $(((TIMEOUT + 30) * 4)) "$BENCH" --plugin "$WORK/counter" --messages "$MESSAGES" \
        --durable-messages "$DURABLE_MESSAGES" --qos "$QOS" --payload "$PAYLOAD" --credit "$CREDIT" \
        --synchronous "$SYNCHRONOUS" --first "$first" --dir "$WORK" --timeout "$TIMEOUT" --json \
        >"$WORK/run-$run.json" 2>"$WORK/run-$run.err"
    grep '^round' "$WORK/run-$run.err" | sed 's/^/bench-plugin:   /' >&2 || true
done
elapsed=$(($(date +%s) - started))

mkdir -p "$(dirname "$OUT")"
HEADER="Run of $(date -u '+%Y-%m-%d %H:%M UTC') on CPU_MODEL, $(nproc) cores; load average before \
$LOAD_BEFORE, after $(cut -d' ' -f1-3 /proc/loadavg); $REPEAT runs in $elapsed s; commit \
$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- Sources Benchmarks 2>/dev/null || echo ' (with local changes)')."
export HEADER
python3 - "$OUT" "$WORK"/run-*.json <<'PY'
import json, os, statistics, sys

out, paths = sys.argv[1], sys.argv[2:]
reports = [json.load(open(p)) for p in paths]
runs = [r for report in reports for r in report["runs"]]
first = reports[0]


def num(v, digits=0):
    return "–" if v is None else f"{v:,.{digits}f}".replace(",", " ")


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def spread(values, digits=0):
    values = [v for v in values if v is not None]
    if len(values) < 2:
        return num(med(values), digits)
    return f"{num(med(values), digits)} ({num(min(values), digits)}–{num(max(values), digits)})"


levels = []
for r in runs:
    if r["qos"] not in levels:
        levels.append(r["qos"])
lines = [
    "| QoS | messages | plugin msg/s | in-process msg/s | plugin / in-process | host CPU µs/msg plugin | "
    "host CPU µs/msg in-process | CPU ratio | target | met |",
    "|---|--:|--:|--:|--:|--:|--:|--:|---|---|",
]
verdicts = []
for qos in levels:
    plugin = [r for r in runs if r["qos"] == qos and r["mode"] == "plugin"]
    inproc = [r for r in runs if r["qos"] == qos and r["mode"] == "in-process"]
    # The ratio of each run (both cases ran within seconds of each other), then its median.
    ratios = []
    for report in reports:
        p = [r["rate"] for r in report["runs"] if r["qos"] == qos and r["mode"] == "plugin"]
        i = [r["rate"] for r in report["runs"] if r["qos"] == qos and r["mode"] == "in-process"]
        if p and i:
            ratios.append(med(p) / med(i))
    p_rate, ratio = med([r["rate"] for r in plugin]), med(ratios)
    if qos == 0:
        target = "≥ 200 000 msg/s and ≥ 0.50"
        met = p_rate is not None and ratio is not None and p_rate >= 200_000 and ratio >= 0.5
    else:
        target = "≥ 0.50"
        met = ratio is not None and ratio >= 0.5
    messages = first["messages"] if qos == 0 else first["durable_messages"]
    p_cpu, i_cpu = med([r["cpu_us_per_msg"] for r in plugin]), med([r["cpu_us_per_msg"] for r in inproc])
    lines.append(
        f"| {qos}{' (durable)' if qos else ''} | {num(messages)} | {spread([r['rate'] for r in plugin])} "
        f"| {spread([r['rate'] for r in inproc])} | {spread(ratios, 2)} "
        f"| {num(p_cpu, 2)} | {num(i_cpu, 2)} | {num(i_cpu / p_cpu if p_cpu and i_cpu else None, 2)} "
        f"| {target} | {'yes' if met else 'no'} |")

cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
text = [
    "<!-- Written by scripts/bench-plugin.sh; do not edit by hand. -->",
    os.environ["HEADER"].replace("CPU_MODEL", cpu),
    "",
    f"Parameters: {first['payload']}-byte payload on one topic, credit (and in-process window) "
    f"{first['credit']}, storage.queue.synchronous {first['synchronous']} for QoS 1 (an uplink forward rule "
    f"over the topic: every publish is a durable append before its answer), {first['cores']} event loops; "
    f"medians of {len(reports)} runs, range in brackets. Host CPU is wharf-plugin-bench's own CPU "
    "(broker, store, plugin host or in-process publisher) per message; the plugin's process is not included. "
    "CPU ratio = in-process host CPU per message / plugin host CPU per message: the ratio of the rates "
    "when the host's CPU sets the pace, and far less sensitive than the rates to what else runs on the machine.",
    "",
] + lines
print("\n".join(lines[0:]))
with open(out, "w") as f:
    f.write("\n".join(text) + "\n")
PY
log "table written to $OUT"

#!/usr/bin/env bash
# Wharf broker benchmark: wharfd against Mosquitto 2 on this machine, in the same run, with the
# same load generator (wharf-bench) and the same parameters. See docs/benchmarks.md.
#
# Sizes come from the environment (defaults in brackets):
#   BENCH_MESSAGES [50000]   messages per publisher (fan-out's one publisher sends as many as
#                            each fan-in publisher, so every scenario makes the same deliveries)
#   BENCH_PAYLOAD [64]       payload bytes (at least 16)
#   BENCH_WINDOW [100]       end-to-end outstanding messages per publisher
#   BENCH_MQTT [5]           MQTT version of every client: 5 or 3.1.1
#   BENCH_THREADS [1]        generator event loop threads
#   BENCH_REPEAT [3]         runs per broker and case; the table shows medians
#   BENCH_FAN_IN [10]        publishers in fan-in;  BENCH_FAN_OUT [10] subscribers in fan-out;
#   BENCH_PAIRS [10]         pairs in pairs
#   BENCH_SCENARIOS ["fan-in fan-out pairs"], BENCH_QOS ["0 1"]
#   BENCH_MAX_INFLIGHT [65535], BENCH_MAX_QUEUED [10000], BENCH_MAX_PACKET [1048576]
#                            broker limits, given to both brokers alike; the window, not these,
#                            bounds what is in flight (docs/benchmarks.md says why 65535)
#   BENCH_LOOPBACK_SCALE [5] message multiplier of the generator self-check runs
#   BENCH_TIMEOUT [120]      seconds one generator run may take
#   BENCH_OUT [Benchmarks/results/latest.md]   the Markdown table
#   BENCH_SKIP_BUILD [0]     1: use the binaries already in .build/release
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh

MESSAGES=${BENCH_MESSAGES:-50000}
PAYLOAD=${BENCH_PAYLOAD:-64}
WINDOW=${BENCH_WINDOW:-100}
MQTT=${BENCH_MQTT:-5}
THREADS=${BENCH_THREADS:-1}
REPEAT=${BENCH_REPEAT:-3}
FAN_IN=${BENCH_FAN_IN:-10}
FAN_OUT=${BENCH_FAN_OUT:-10}
PAIRS=${BENCH_PAIRS:-10}
SCENARIOS=${BENCH_SCENARIOS:-"fan-in fan-out pairs"}
QOS_LEVELS=${BENCH_QOS:-"0 1"}
MAX_INFLIGHT=${BENCH_MAX_INFLIGHT:-65535}
MAX_QUEUED=${BENCH_MAX_QUEUED:-10000}
MAX_PACKET=${BENCH_MAX_PACKET:-1048576}
LOOPBACK_SCALE=${BENCH_LOOPBACK_SCALE:-5}
RUN_TIMEOUT=${BENCH_TIMEOUT:-120}
OUT=${BENCH_OUT:-Benchmarks/results/latest.md}
MOSQUITTO=${MOSQUITTO:-$(command -v mosquitto || echo /usr/sbin/mosquitto)}

log() { echo "bench: $*" >&2; }

for tool in python3 getconf "$MOSQUITTO"; do
    command -v "$tool" >/dev/null 2>&1 || { log "missing $tool (make bench installs it)"; exit 1; }
done

if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
    log "building wharfd and wharf-bench (release)"
    swift build -c release --product wharfd
    swift build -c release --product wharf-bench
fi
WHARFD=.build/release/wharfd
BENCH=.build/release/wharf-bench

WORK=$(mktemp -d "${TMPDIR:-/tmp}/wharf-bench.XXXXXX")
MOSQUITTO_PID=""
WHARFD_PID=""
cleanup() {
    local status=$?
    for pid in $WHARFD_PID $MOSQUITTO_PID; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in $WHARFD_PID $MOSQUITTO_PID; do
        wait "$pid" 2>/dev/null || true
    done
    if [ "$status" -ne 0 ]; then
        log "failed; broker logs:"
        tail -n 20 "$WORK"/*.log >&2 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM




MOSQUITTO_PORT=$(free_port)
cat >"$WORK/mosquitto.conf" <<EOF
listener $MOSQUITTO_PORT 127.0.0.1
allow_anonymous true
persistence false
max_inflight_messages $MAX_INFLIGHT
max_queued_messages $MAX_QUEUED
max_packet_size $MAX_PACKET
set_tcp_nodelay true
sys_interval 0
log_dest stderr
log_type error
log_type warning
EOF
"$MOSQUITTO" -c "$WORK/mosquitto.conf" >"$WORK/mosquitto.log" 2>&1 &
MOSQUITTO_PID=$!
wait_for_port "$MOSQUITTO_PORT" "$MOSQUITTO_PID" mosquitto

WHARFD_PORT=$(free_port)
mkdir -p "$WORK/data"
cat >"$WORK/wharf.yaml" <<EOF
log:
  level: warning
broker:
  max_inflight_messages: $MAX_INFLIGHT
  max_queued_messages: $MAX_QUEUED
  max_packet_size: $MAX_PACKET
  sys_interval: 0
EOF
"$WHARFD" --config "$WORK/wharf.yaml" --listen "127.0.0.1:$WHARFD_PORT" --data-dir "$WORK/data" \
    >"$WORK/wharfd.log" 2>&1 &
WHARFD_PID=$!
wait_for_port "$WHARFD_PORT" "$WHARFD_PID" wharfd
log "mosquitto (pid $MOSQUITTO_PID) on 127.0.0.1:$MOSQUITTO_PORT, wharfd (pid $WHARFD_PID) on 127.0.0.1:$WHARFD_PORT"

scenario_args() {  # scenario
    case "$1" in
        fan-in) echo "--scenario fan-in --publishers $FAN_IN" ;;
        fan-out) echo "--scenario fan-out --subscribers $FAN_OUT" ;;
        pairs) echo "--scenario pairs --publishers $PAIRS" ;;
        *) log "unknown scenario $1"; exit 2 ;;
    esac
}

INDEX="$WORK/index.tsv"
: >"$INDEX"
run_count=0

# One generator run; appends "kind broker scenario qos rep ticks rc json" to the index.
run_one() {  # kind broker port pid scenario qos rep messages
    local kind=$1 broker=$2 port=$3 pid=$4 scenario=$5 qos=$6 rep=$7 messages=$8
    local result="$WORK/$kind-$broker-$scenario-$qos-$rep.json"
    local extra=(--port "$port")
    [ "$kind" = loopback ] && extra=(--loopback)
    local before=0 after=0 rc=0
    [ -n "$pid" ] && before=$(cpu_ticks "$pid")
    # shellcheck disable=SC2046
    timeout $((RUN_TIMEOUT + 30)) "$BENCH" "${extra[@]}" $(scenario_args "$scenario") --qos "$qos" \
        --messages "$messages" --payload "$PAYLOAD" --window "$WINDOW" --mqtt "$MQTT" --threads "$THREADS" \
        --timeout "$RUN_TIMEOUT" --json >"$result" 2>"$result.err" || rc=$?
    [ -n "$pid" ] && after=$(cpu_ticks "$pid")
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
        log "$broker died during $scenario QoS $qos"
        exit 1
    fi
    [ -s "$result" ] || echo '{}' >"$result"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$kind" "$broker" "$scenario" "$qos" "$rep" \
        "$((after - before))" "$rc" "$result" >>"$INDEX"
    run_count=$((run_count + 1))
    if [ "$rc" -ne 0 ]; then
        log "  $broker $scenario QoS $qos run $rep: exit $rc: $(cat "$result.err" "$result" | head -c 300)"
    else
        log "  $broker $scenario QoS $qos run $rep: $(python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
print("%.0f msg/s, p99 %d us, lost %d" % (r["throughput"], r["latency_us"]["p99"], r["lost"]))' "$result")"
    fi
}

started=$(date +%s)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
log "generator self-check against the in-process loopback broker"
for scenario in $SCENARIOS; do
    for qos in $QOS_LEVELS; do
        run_one loopback loopback 0 "" "$scenario" "$qos" 1 $((MESSAGES * LOOPBACK_SCALE))
    done
done
for rep in $(seq "$REPEAT"); do
    log "round $rep of $REPEAT"
    for scenario in $SCENARIOS; do
        for qos in $QOS_LEVELS; do
            # Interleaved, and the order alternates between rounds, so neither broker always runs
            # right after the other's (or on a warmer machine).
            if [ $((rep % 2)) -eq 1 ]; then order="wharf mosquitto"; else order="mosquitto wharf"; fi
            for broker in $order; do
                if [ "$broker" = wharf ]; then
                    run_one broker wharf "$WHARFD_PORT" "$WHARFD_PID" "$scenario" "$qos" "$rep" "$MESSAGES"
                else
                    run_one broker mosquitto "$MOSQUITTO_PORT" "$MOSQUITTO_PID" "$scenario" "$qos" "$rep" "$MESSAGES"
                fi
            done
        done
    done
done
elapsed=$(($(date +%s) - started))

mkdir -p "$(dirname "$OUT")"
BENCH_HEADER="Run of $(date -u '+%Y-%m-%d %H:%M UTC') on CPU_MODEL, $(nproc) cores; load average before \
$LOAD_BEFORE, after $(cut -d' ' -f1-3 /proc/loadavg); $run_count generator runs in $elapsed s.

Parameters: $MESSAGES messages per publisher, $PAYLOAD-byte payload, window $WINDOW, MQTT $MQTT; \
fan-in $FAN_IN→1, fan-out 1→$FAN_OUT, pairs $PAIRS; generator threads $THREADS; medians of $REPEAT \
interleaved runs per broker. Both brokers: max_inflight_messages $MAX_INFLIGHT, max_queued_messages \
$MAX_QUEUED, max packet size $MAX_PACKET, TCP_NODELAY, no \$SYS, no persistence; \
$({ "$MOSQUITTO" -h 2>/dev/null || true; } | head -n 1 | sed 's/ is an.*//'), $("$WHARFD" --version 2>/dev/null || echo wharfd) at commit \
$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- Sources 2>/dev/null || echo ' (with local changes)')."
export BENCH_HEADER
python3 - "$INDEX" "$OUT" "$(getconf CLK_TCK)" <<'PY'
import json, os, statistics, sys
index, out, clk_tck = sys.argv[1], sys.argv[2], int(sys.argv[3])
runs = []
for line in open(index):
    kind, broker, scenario, qos, rep, ticks, rc, path = line.rstrip("\n").split("\t")
    result = json.load(open(path))
    runs.append(dict(kind=kind, broker=broker, scenario=scenario, qos=int(qos), rep=int(rep),
                     ticks=int(ticks), rc=int(rc), r=result))

def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None

def num(value, digits=0):
    if value is None:
        return "–"
    return f"{value:,.{digits}f}".replace(",", " ")

def ratio(a, b, digits=2):
    return "–" if not a or not b else f"{a / b:.{digits}f}×"

def summary(broker, scenario, qos):
    rs = [x for x in runs if x["kind"] == "broker" and x["broker"] == broker
          and x["scenario"] == scenario and x["qos"] == qos]
    good = [x for x in rs if x["r"].get("outcome") == "complete"]
    def field(x, *path):
        v = x["r"]
        for p in path:
            v = v.get(p) if isinstance(v, dict) else None
        return v
    broker_cpu = [x["ticks"] / clk_tck / field(x, "received") * 1e6 for x in good if field(x, "received")]
    gen_cpu = [field(x, "generator_cpu_s") / field(x, "received") * 1e6 for x in good if field(x, "received")]
    return dict(
        runs=len(rs), failed=len(rs) - len(good),
        lost=sum(field(x, "lost") or 0 for x in rs),
        throughput=med([field(x, "throughput") for x in good]),
        p50=med([field(x, "latency_us", "p50") for x in good]),
        p99=med([field(x, "latency_us", "p99") for x in good]),
        cpu=med(broker_cpu), gen=med(gen_cpu),
        cores=med([x["ticks"] / clk_tck / field(x, "elapsed_s") for x in good if field(x, "elapsed_s")]),
        busy=med([field(x, "generator_utilization") for x in good]),
        errors=[field(x, "error") or f"exit {x['rc']}" for x in rs if x not in good],
    )

cases = []
for x in runs:
    key = (x["scenario"], x["qos"])
    if x["kind"] == "broker" and key not in cases:
        cases.append(key)

lines = []
lines.append("| scenario | QoS | Wharf msg/s | Mosquitto msg/s | Wharf/Mosquitto | Wharf p50 / p99 µs "
             "| Mosquitto p50 / p99 µs | p99 Wharf/Mosquitto | Wharf CPU s/M msgs | Mosquitto CPU s/M msgs "
             "| generator CPU s/M msgs (W / M) | lost (W / M) |")
lines.append("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
usage = []
usage.append("| scenario | QoS | Wharf cores busy | Mosquitto cores busy | generator busy % (W / M) |")
usage.append("|---|---|--:|--:|--:|")
problems = []
for scenario, qos in cases:
    w, m = summary("wharf", scenario, qos), summary("mosquitto", scenario, qos)
    lines.append(
        f"| {scenario} | {qos} | {num(w['throughput'])} | {num(m['throughput'])} "
        f"| {ratio(w['throughput'], m['throughput'])} "
        f"| {num(w['p50'])} / {num(w['p99'])} | {num(m['p50'])} / {num(m['p99'])} "
        f"| {ratio(w['p99'], m['p99'])} | {num(w['cpu'], 2)} | {num(m['cpu'], 2)} "
        f"| {num(w['gen'], 2)} / {num(m['gen'], 2)} | {w['lost']} / {m['lost']} |")
    pct = lambda v: None if v is None else v * 100
    usage.append(
        f"| {scenario} | {qos} | {num(w['cores'], 2)} | {num(m['cores'], 2)} "
        f"| {num(pct(w['busy']))} / {num(pct(m['busy']))} |")
    for name, s in (("wharf", w), ("mosquitto", m)):
        if s["failed"]:
            problems.append(f"{name} {scenario} QoS {qos}: {s['failed']} of {s['runs']} runs incomplete: "
                            + "; ".join(s["errors"]))

self_check = []
self_check.append("| scenario | QoS | loopback msg/s | generator CPU µs/msg | generator ceiling msg per CPU s "
                  "| fastest broker msg/s | headroom |")
self_check.append("|---|---|--:|--:|--:|--:|--:|")
for x in runs:
    if x["kind"] != "loopback":
        continue
    r = x["r"]
    if r.get("outcome") != "complete":
        problems.append(f"loopback {x['scenario']} QoS {x['qos']}: {r.get('error') or 'exit ' + str(x['rc'])}")
        continue
    fastest = max((s["throughput"] or 0) for s in (summary("wharf", x["scenario"], x["qos"]),
                                                  summary("mosquitto", x["scenario"], x["qos"])))
    ceiling = r["generator_ceiling"]
    self_check.append(
        f"| {x['scenario']} | {x['qos']} | {num(r['throughput'])} | {num(r['generator_cpu_us_per_msg'], 2)} "
        f"| {num(ceiling)} | {num(fastest)} | {ratio(ceiling, fastest, 1)} |")

table = "\n".join(lines)
text = [table, "", f"Where the CPU went (cores busy = CPU seconds / elapsed; the machine has {os.cpu_count()}):", "",
        "\n".join(usage), "", "Generator self-check (same clients against the in-process loopback broker):", "",
        "\n".join(self_check)]
if problems:
    text += ["", "Incomplete runs:", ""] + [f"- {p}" for p in problems]
print("\n".join(text))

cpu_model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
header = [
    "<!-- Written by scripts/bench.sh; do not edit by hand. -->",
    os.environ["BENCH_HEADER"].replace("CPU_MODEL", cpu_model),
    "",
    "msg/s counts deliveries (messages received by subscribers); CPU s/M msgs is CPU seconds "
    "(user + system) per million deliveries.",
    "",
]
with open(out, "w") as f:
    f.write("\n".join(header + text) + "\n")
PY
log "table written to $OUT"

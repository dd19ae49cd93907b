#!/usr/bin/env bash
# Wharf Modbus benchmark (docs/benchmarks.md, "Modbus polling"), in two parts:
#   dense   polling throughput: a bare libmodbus loop (Benchmarks/modbus/bare_poll.c) and wharfd
#           (poll_interval 0s: back to back) read the same holding registers from the same fast
#           simulator (Benchmarks/modbus/sim_server.c, libmodbus) for the same time, one after the
#           other (bare, on_change, bare, every_poll in each round); requests per second of each,
#           counted by the simulator, and their ratio to the mean of the round's two bare runs.
#           wharfd runs twice: publishing every value of every poll (every_poll) and publishing
#           only changes (on_change: the values do not change, so this is polling alone).
#   sparse  batching: a sparse map of points in all four tables; requests per poll cycle against
#           the fewest possible under max_gap and the naive one request per point.
#
# Sizes come from the environment (defaults in brackets):
#   MODBUS_SECONDS [10]          measured seconds per dense run
#   MODBUS_REGISTERS [100]       registers per poll in the dense map (float32 points: half as many)
#   MODBUS_ROUNDS [3]            rounds of the dense part (the table shows medians and ranges)
#   MODBUS_SPARSE_SECONDS [5]    measured seconds of the sparse part
#   MODBUS_MAX_GAP [8]           max_gap of the sparse device
#   MODBUS_QOS [1]               qos of the telemetry (the adapter's default is 1)
#   MODBUS_PIN [shared]          CPU placement (taskset), the same for the bare loop and wharfd:
#                                shared: simulator and poller on CPU 0 (a poller's CPU cost adds to
#                                every round trip); split: simulator on CPU 0, poller on CPU 1
#                                (each request pays a cross-CPU wake-up); none: the scheduler decides
#                                (on a small VM the rate then jumps between both regimes)
#   BENCH_PARTS [dense sparse]   which parts to run
#   BENCH_TMPDIR [$TMPDIR or /tmp]
#   BENCH_SKIP_BUILD [0]         1: use the wharfd already built
#   MODBUS_WHARFD [.build/release/wharfd]   the wharfd to measure (implies BENCH_SKIP_BUILD=1)
#   BENCH_SWIFT_FLAGS []         extra arguments for swift build
#   MODBUS_BENCH_OUT []          also write the Markdown summary to this file
# Every server listens on 127.0.0.1 only and is stopped by its PID when the script exits.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh

MODBUS_SECONDS=${MODBUS_SECONDS:-10}
MODBUS_REGISTERS=${MODBUS_REGISTERS:-100}
MODBUS_ROUNDS=${MODBUS_ROUNDS:-3}
MODBUS_SPARSE_SECONDS=${MODBUS_SPARSE_SECONDS:-5}
MODBUS_MAX_GAP=${MODBUS_MAX_GAP:-8}
MODBUS_QOS=${MODBUS_QOS:-1}
MODBUS_PIN=${MODBUS_PIN:-shared}
case "$MODBUS_PIN" in
    shared) SIM_PIN=(taskset -c 0) POLLER_PIN=(taskset -c 0) ;;
    split) SIM_PIN=(taskset -c 0) POLLER_PIN=(taskset -c 1) ;;
    none) SIM_PIN=() POLLER_PIN=() ;;
    *) echo "bench-modbus: MODBUS_PIN must be shared, split or none" >&2; exit 2 ;;
esac
PARTS=" ${BENCH_PARTS:-dense sparse} "
TMP_BASE=${BENCH_TMPDIR:-${TMPDIR:-/tmp}}

log() { echo "bench-modbus: $*" >&2; }

for tool in cc pkg-config python3 taskset; do
    command -v "$tool" >/dev/null 2>&1 || { log "missing $tool (make bench installs it)"; exit 1; }
done
pkg-config --exists libmodbus || { log "missing libmodbus-dev (make bench installs it)"; exit 1; }
if [ "$MODBUS_REGISTERS" -lt 2 ] || [ "$MODBUS_REGISTERS" -gt 124 ] || [ $((MODBUS_REGISTERS % 2)) -ne 0 ]; then
    log "MODBUS_REGISTERS must be even, from 2 to 124 (one read request)"
    exit 2
fi

if [ "${BENCH_SKIP_BUILD:-0}" != 1 ] && [ -z "${MODBUS_WHARFD:-}" ]; then
    log "building wharfd (release)"
    # shellcheck disable=SC2086
    swift build -c release --product wharfd ${BENCH_SWIFT_FLAGS:-}
fi
WHARFD=${MODBUS_WHARFD:-.build/release/wharfd}
[ -x "$WHARFD" ] || { log "$WHARFD is missing"; exit 1; }

WORK=$(mktemp -d "$TMP_BASE/wharf-bench-modbus.XXXXXX")
PIDS=()
cleanup() {
    local status=$?
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if [ "$status" -ne 0 ]; then
        log "failed; logs:"
        tail -n 20 "$WORK"/*.log >&2 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck disable=SC2046
cc -O2 -Wall -Wextra -o "$WORK/sim_server" Benchmarks/modbus/sim_server.c $(pkg-config --cflags --libs libmodbus)
# shellcheck disable=SC2046
cc -O2 -Wall -Wextra -o "$WORK/bare_poll" Benchmarks/modbus/bare_poll.c $(pkg-config --cflags --libs libmodbus)

# ---------------------------------------------------------------------------------------------
# Python helpers: the point maps, the fewest requests a map needs, and the summary.
TOOLS="$WORK/tools.py"
cat >"$TOOLS" <<'PY'
import json, os, statistics, sys, time

# The sparse map: (table, address, type); widths in registers (or bits).
SPARSE = [
    ("holding", 0, "float32"), ("holding", 2, "float32"), ("holding", 4, "float32"), ("holding", 6, "float32"),
    ("holding", 8, "float32"), ("holding", 14, "uint16"),                       # one cluster, gap 4
    ("holding", 100, "float32"), ("holding", 102, "float32"), ("holding", 104, "int32"), ("holding", 106, "uint32"),
    ("holding", 200, "uint16"), ("holding", 203, "int16"),                      # gap 2
    ("holding", 1000, "uint64"),                                                # far away
    ("input", 0, "float32"), ("input", 2, "float32"), ("input", 50, "uint16"),  # gap 46: two requests
    ("coil", 0, "bool"), ("coil", 1, "bool"), ("coil", 7, "bool"), ("coil", 100, "bool"),
    ("discrete", 0, "bool"), ("discrete", 3, "bool"),
]
WIDTH = {"bool": 1, "uint16": 1, "int16": 1, "int32": 2, "uint32": 2, "float32": 2, "uint64": 4}
LIMIT = {"holding": 125, "input": 125, "coil": 2000, "discrete": 2000}


def fewest(points, max_gap):
    """Requests needed when neighbours at most max_gap apart share a request (within the limits)."""
    total = 0
    for table in LIMIT:
        spans = sorted((a, a + WIDTH[t]) for tb, a, t in points if tb == table)
        start = end = None
        for a, b in spans:
            if start is not None and a - end <= max_gap and b - start <= LIMIT[table]:
                end = max(end, b)
                continue
            total += 1
            start, end = a, b
    return total


def device_yaml(port, points, publish):
    lines = [
        "      - name: sim",
        f"        tcp: {{host: 127.0.0.1, port: {port}}}",
        "        poll_interval: 0s",
        f"        max_gap: {os.environ['MODBUS_MAX_GAP']}",
        "        points:",
    ]
    for i, (table, address, kind) in enumerate(points):
        lines.append(f"          - {{name: p{i}, table: {table}, address: {address}, type: {kind}, publish: {publish}}}")
    return "\n".join(lines)


def config(port, case):
    if case == "sparse":
        points, publish = SPARSE, "on_change"
    else:
        registers = int(os.environ["MODBUS_REGISTERS"])
        points, publish = [("holding", 2 * i, "float32") for i in range(registers // 2)], case
    return "\n".join([
        "log:",
        "  level: warning",
        "adapters:",
        "  - name: bench",
        "    type: modbus",
        f"    qos: {os.environ['MODBUS_QOS']}",
        "    devices:",
        device_yaml(port, points, publish),
        "",
    ])


def num(v, digits=0):
    return "–" if v is None else f"{v:,.{digits}f}".replace(",", " ")


def spread(values, digits=0):
    values = [v for v in values if v is not None]
    if not values:
        return "–"
    if len(values) < 2:
        return num(values[0], digits)
    return f"{num(statistics.median(values), digits)} ({num(min(values), digits)}–{num(max(values), digits)})"


def summary(results, clk):
    env = os.environ
    runs = [json.loads(line) for line in open(results)]
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    out = [
        f"Run of {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {cpu}, {os.cpu_count()} cores; load average "
        f"before {env['LOAD_BEFORE']}, after {env['LOAD_AFTER']}; {env['ELAPSED']} s in all; {env['LIBMODBUS']}; "
        f"commit {env['COMMIT']}.",
        "",
    ]
    dense = [r for r in runs if r["kind"] == "dense"]
    if dense:
        registers = int(env["MODBUS_REGISTERS"])
        out += [
            f"**Polling throughput**: {registers} holding registers ({registers // 2} float32 points) read back to back "
            f"from the same libmodbus simulator for {env['MODBUS_SECONDS']} s per run; requests counted by the "
            f"simulator; telemetry QoS {env['MODBUS_QOS']}; CPU placement {env['MODBUS_PIN']}. Medians of {env['MODBUS_ROUNDS']} round(s) (range); each round "
            f"runs bare, on_change, bare, every_poll, and its ratios are against the mean of its two bare runs.",
            "",
            "| poller | requests/s | of the bare loop | points read/s | messages published/s | cores busy: poller / simulator |",
            "|---|--:|--:|--:|--:|--:|",
        ]
        bare = {}
        for r in dense:
            if r["case"] == "bare":
                bare.setdefault(r["round"], []).append(r["requests"] / r["seconds"])
        bare = {k: statistics.mean(v) for k, v in bare.items()}
        names = {"bare": "bare libmodbus loop (bare_poll.c)", "every_poll": "wharfd, publish: every_poll",
                 "on_change": "wharfd, publish: on_change (values unchanged: polling only)"}
        for case in ("bare", "every_poll", "on_change"):
            rs = [r for r in dense if r["case"] == case]
            if not rs:
                continue
            rates = [r["requests"] / r["seconds"] for r in rs]
            ratios = [(r["requests"] / r["seconds"]) / bare[r["round"]] for r in rs if r["round"] in bare]
            busy = [r["poller_cpu"] / r["seconds"] for r in rs]
            sim_busy = [r["sim_cpu"] / r["seconds"] for r in rs]
            ratio = "–" if case == "bare" else spread([100 * x for x in ratios], 1) + " %"
            # every_poll publishes each point of each poll; on_change values never change, so after
            # the first poll it publishes nothing.
            published = spread([x * (registers // 2) for x in rates]) if case == "every_poll" else (
                "–" if case == "bare" else "0")
            out.append(
                f"| {names[case]} | {spread(rates)} | {ratio} | {spread([x * (registers // 2) for x in rates])} "
                f"| {published} | {num(statistics.median(busy), 2)} / {num(statistics.median(sim_busy), 2)} |")
        out.append("")
    sparse = [r for r in runs if r["kind"] == "sparse"]
    if sparse:
        r = sparse[0]
        per_cycle = r["requests"] / r["cycles"] if r["cycles"] else None
        out += [
            f"**Batching of a sparse map**: {int(r['points'])} points in 4 tables (max_gap {env['MODBUS_MAX_GAP']}), polled "
            f"back to back for {env['MODBUS_SPARSE_SECONDS']} s ({num(r['cycles'])} poll cycles).",
            "",
            "| requests per poll cycle, measured | fewest possible under max_gap | naive (one per point) |",
            "|--:|--:|--:|",
            f"| {num(per_cycle, 2)} | {int(r['fewest'])} | {int(r['points'])} |",
            "",
        ]
    print("\n".join(out))


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    if command == "config":
        print(config(int(args[0]), args[1]))
    elif command == "fewest":
        print(fewest(SPARSE, int(os.environ["MODBUS_MAX_GAP"])), len(SPARSE))
    elif command == "record":
        entry = {}
        for pair in args[1:]:
            key, value = pair.split("=", 1)
            entry[key] = value if key in ("kind", "case") else float(value)
        with open(args[0], "a") as f:
            f.write(json.dumps(entry) + "\n")
    elif command == "summary":
        summary(args[0], float(args[1]))
PY
export MODBUS_REGISTERS MODBUS_MAX_GAP MODBUS_QOS MODBUS_PIN MODBUS_SECONDS MODBUS_ROUNDS MODBUS_SPARSE_SECONDS

SIM_PORT=$(free_port)
STATS="$WORK/sim.stats"
"${SIM_PIN[@]}" "$WORK/sim_server" "$SIM_PORT" "$STATS" >"$WORK/sim.log" 2>&1 &
SIM_PID=$!
PIDS+=("$SIM_PID")
wait_for_port "$SIM_PORT" "$SIM_PID" sim_server

# The simulator's counters now: "requests cycle_marks cpu_seconds".
snapshot() {
    rm -f "$STATS"
    kill -USR1 "$SIM_PID"
    for _ in $(seq 200); do
        [ -f "$STATS" ] && break
        sleep 0.01
    done
    [ -f "$STATS" ] || { log "the simulator wrote no statistics"; exit 1; }
    awk '{ value[$1] = $2 } END { print value["requests"], value["cycle_marks"], value["cpu_seconds"] }' "$STATS"
}

RESULTS="$WORK/results.jsonl"
: >"$RESULTS"
CLK=$(getconf CLK_TCK)
started=$(date +%s)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
log "load average $LOAD_BEFORE; simulator on 127.0.0.1:$SIM_PORT"

# Runs wharfd on the simulator for `seconds` once it has started polling; records the counts.
run_wharfd() {  # case round seconds
    local case=$1 tag="$1-$2" port data="$WORK/data-$1-$2"
    port=$(free_port)
    mkdir -p "$data"
    python3 "$TOOLS" config "$SIM_PORT" "$case" >"$WORK/wharf-$tag.yaml"
    local before_start
    read -r before_start _ _ < <(snapshot)
    "${POLLER_PIN[@]}" "$WHARFD" --config "$WORK/wharf-$tag.yaml" --listen "127.0.0.1:$port" --data-dir "$data" \
        >"$WORK/wharfd-$tag.log" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    wait_for_port "$port" "$pid" wharfd
    local requests=0 marks cpu
    for _ in $(seq 200); do
        read -r requests marks cpu < <(snapshot)
        [ "$requests" -gt $((before_start + 100)) ] && break
        kill -0 "$pid" 2>/dev/null || { log "wharfd exited"; exit 1; }
        sleep 0.05
    done
    [ "$requests" -gt $((before_start + 100)) ] || { log "[$tag] wharfd does not poll the simulator"; exit 1; }
    local r0 m0 c0 r1 m1 c1 t0 t1 w0 w1
    read -r r0 m0 c0 < <(snapshot)
    t0=$(date +%s.%N)
    w0=$(cpu_ticks "$pid")
    sleep "$3"
    read -r r1 m1 c1 < <(snapshot)
    t1=$(date +%s.%N)
    w1=$(cpu_ticks "$pid")
    kill "$pid"
    wait "$pid" || true
    local seconds
    seconds=$(awk "BEGIN { print $t1 - $t0 }")
    local kind=dense
    [ "$case" = sparse ] && kind=sparse
    python3 "$TOOLS" record "$RESULTS" "kind=$kind" "case=$case" "round=$2" "seconds=$seconds" \
        "requests=$((r1 - r0))" "cycles=$((m1 - m0))" "sim_cpu=$(awk "BEGIN { print $c1 - $c0 }")" \
        "poller_cpu=$(awk "BEGIN { print ($w1 - $w0) / $CLK }")" ${4:+"$4"} ${5:+"$5"}
    log "  [$tag] $((r1 - r0)) requests in $seconds s"
}

run_bare() {  # round
    local r0 m0 c0 r1 m1 c1 line
    read -r r0 m0 c0 < <(snapshot)
    local start end
    start=$(date +%s.%N)
    line=$("${POLLER_PIN[@]}" "$WORK/bare_poll" "$SIM_PORT" "$MODBUS_SECONDS" 0 "$MODBUS_REGISTERS")
    end=$(date +%s.%N)
    read -r r1 m1 c1 < <(snapshot)
    local own_seconds own_cpu
    own_seconds=$(echo "$line" | awk '{ print $4 }')
    own_cpu=$(echo "$line" | awk '{ print $6 }')
    python3 "$TOOLS" record "$RESULTS" kind=dense case=bare "round=$1" "seconds=$own_seconds" \
        "requests=$((r1 - r0))" "cycles=$((m1 - m0))" "sim_cpu=$(awk "BEGIN { print $c1 - $c0 }")" \
        "poller_cpu=$own_cpu"
    log "  [bare-$1] $line (wall $(awk "BEGIN { printf \"%.3f\", $end - $start }") s)"
}

if [[ $PARTS == *" dense "* ]]; then
    log "1. polling throughput: $MODBUS_REGISTERS registers, $MODBUS_SECONDS s per run, $MODBUS_ROUNDS rounds"
    for round in $(seq "$MODBUS_ROUNDS"); do
        # The bare loop runs right before and right after the polling-only case, and each round's
        # ratios are taken against the mean of the two: on a machine whose load drifts, a single
        # bare run minutes away from the run it is compared with says little.
        run_bare "$round"
        run_wharfd on_change "$round" "$MODBUS_SECONDS"
        run_bare "$round"
        run_wharfd every_poll "$round" "$MODBUS_SECONDS"
    done
fi

if [[ $PARTS == *" sparse "* ]]; then
    read -r fewest points < <(python3 "$TOOLS" fewest)
    log "2. sparse map: $points points, fewest requests per cycle $fewest"
    run_wharfd sparse 1 "$MODBUS_SPARSE_SECONDS" "fewest=$fewest" "points=$points"
fi

ELAPSED=$(($(date +%s) - started))
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
LIBMODBUS="libmodbus $(pkg-config --modversion libmodbus)"
COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- Sources 2>/dev/null || echo ' (with local changes)')"
export LOAD_BEFORE LOAD_AFTER ELAPSED LIBMODBUS COMMIT
python3 "$TOOLS" summary "$RESULTS" "$CLK" >"$WORK/summary.md"
echo
cat "$WORK/summary.md"
if [ -n "${MODBUS_BENCH_OUT:-}" ]; then
    cp "$WORK/summary.md" "$MODBUS_BENCH_OUT"
    log "summary written to $MODBUS_BENCH_OUT"
fi

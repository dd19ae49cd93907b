#!/usr/bin/env bash
# Wharf CoAP ingest benchmark (docs/benchmarks.md, "CoAP ingest"): the rate of confirmable POSTs
# that wharfd's CoAP adapter answers 2.04 (each one published on the broker), against a bare
# libcoap server that answers the same requests 2.04 and does nothing else, with the same load
# client, in the same run. Target: wharfd at least 80% of the bare server's rate.
#
# Sizes come from the environment (defaults in brackets):
#   COAP_SESSIONS [8]        client sessions (UDP source ports) of the load client
#   COAP_INFLIGHT [8]        confirmable requests in flight per session
#   COAP_SECONDS [10]        measured seconds per run, after COAP_WARMUP [2] seconds of warm-up
#   COAP_PAYLOAD [32]        payload bytes per POST
#   COAP_ROUNDS [3]          runs per case; the table shows medians (and ranges)
#   COAP_CASES ["bare wharfd wharfd-sub"]   bare: bare_server; wharfd: the adapter with nobody
#                            subscribed; wharfd-sub: the same with a QoS 0 MQTT subscriber
#                            (mosquitto_sub) receiving every message
#   COAP_OUT []              also write the Markdown summary to this file
#   BENCH_TMPDIR [$TMPDIR or /tmp]   scratch directory (binaries, configs, logs)
#   BENCH_SKIP_BUILD [0]     1: use .build/release/wharfd as it is
#   BENCH_SWIFT_FLAGS []     extra arguments for swift build
# Every server listens on 127.0.0.1 only and is stopped by its PID when the script exits.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh

SESSIONS=${COAP_SESSIONS:-8}
INFLIGHT=${COAP_INFLIGHT:-8}
SECONDS_MEASURED=${COAP_SECONDS:-10}
WARMUP=${COAP_WARMUP:-2}
PAYLOAD=${COAP_PAYLOAD:-32}
ROUNDS=${COAP_ROUNDS:-3}
CASES=${COAP_CASES:-"bare wharfd wharfd-sub"}
TMP_BASE=${BENCH_TMPDIR:-${TMPDIR:-/tmp}}

log() { echo "bench-coap: $*" >&2; }

for tool in python3 cc pkg-config mosquitto_sub; do
    command -v "$tool" >/dev/null 2>&1 || { log "missing $tool (make bench installs it)"; exit 1; }
done
pkg-config --exists libcoap-3-openssl || { log "missing libcoap-3-openssl (apt-get install libcoap3-dev)"; exit 1; }

if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
    log "building wharfd (release)"
    # shellcheck disable=SC2086
    swift build -c release --product wharfd ${BENCH_SWIFT_FLAGS:-}
fi
WHARFD=.build/release/wharfd
[ -x "$WHARFD" ] || { log "$WHARFD is missing"; exit 1; }

WORK=$(mktemp -d "$TMP_BASE/wharf-bench-coap.XXXXXX")
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

log "compiling Benchmarks/coap/bare_server.c and load_client.c"
# shellcheck disable=SC2046
cc -O2 -o "$WORK/bare_server" Benchmarks/coap/bare_server.c $(pkg-config --cflags --libs libcoap-3-openssl)
# shellcheck disable=SC2046
cc -O2 -o "$WORK/load_client" Benchmarks/coap/load_client.c $(pkg-config --cflags --libs libcoap-3-openssl)

# A UDP port on 127.0.0.1 that nothing is bound to.
free_udp_port() {
    python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits until a UDP socket is bound to 127.0.0.1:PORT (/proc/net/udp); exits if the process dies.
wait_for_udp() {  # port pid name
    local wanted
    wanted=$(printf '0100007F:%04X' "$1")
    for _ in $(seq 200); do
        if awk -v w="$wanted" 'NR > 1 && $2 == w { found = 1 } END { exit !found }' /proc/net/udp; then
            return 0
        fi
        kill -0 "$2" 2>/dev/null || { log "$3 exited at start"; exit 1; }
        sleep 0.05
    done
    log "$3 does not listen on UDP 127.0.0.1:$1"
    exit 1
}

stop() {  # pid
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

RESULTS="$WORK/results.jsonl"
: >"$RESULTS"

# One load run against the server on `port` (process `pid`); appends a result line.
measure() {  # case round port pid
    local before after out="$WORK/load-$1-$2.json"
    before=$(cpu_ticks "$4")
    "$WORK/load_client" --port "$3" --path t/bench --sessions "$SESSIONS" --inflight "$INFLIGHT" \
        --seconds "$SECONDS_MEASURED" --warmup "$WARMUP" --payload "$PAYLOAD" >"$out" 2>"$WORK/load-$1-$2.log" \
        || { log "  [$1 $2] the load client completed nothing: $(cat "$WORK/load-$1-$2.log")"; exit 1; }
    after=$(cpu_ticks "$4")
    python3 - "$RESULTS" "$1" "$2" "$out" "$((after - before))" <<'PY'
import json, sys
results, case, round_, out, ticks = sys.argv[1:]
entry = json.load(open(out))
entry.update(case=case, round=int(round_), server_ticks=int(ticks))
open(results, "a").write(json.dumps(entry) + "\n")
PY
    log "  [$1 $2] $(python3 -c 'import json, sys; e = json.load(open(sys.argv[1])); print("%.0f POST/s, other codes %d, timeouts %d" % (e["rate"], e["other"], e["timeouts"]))' "$out")"
}

run_bare() {  # round
    local port
    port=$(free_udp_port)
    "$WORK/bare_server" 127.0.0.1 "$port" >"$WORK/bare-$1.log" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    wait_for_udp "$port" "$pid" bare_server
    measure bare "$1" "$port" "$pid"
    stop "$pid"
}

run_wharfd() {  # case round
    local case=$1 port mqtt_port data="$WORK/data-$1-$2"
    port=$(free_udp_port)
    mqtt_port=$(free_port)
    mkdir -p "$data"
    cat >"$WORK/wharf-$case-$2.yaml" <<EOF
log:
  level: warning
adapters:
  - name: coap
    type: coap
    bind: 127.0.0.1
    port: $port
EOF
    "$WHARFD" --config "$WORK/wharf-$case-$2.yaml" --listen "127.0.0.1:$mqtt_port" --data-dir "$data" \
        >"$WORK/wharfd-$case-$2.log" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    wait_for_port "$mqtt_port" "$pid" wharfd
    wait_for_udp "$port" "$pid" wharfd
    local sub_pid=""
    if [ "$case" = wharfd-sub ]; then
        mosquitto_sub -h 127.0.0.1 -p "$mqtt_port" -t bench -q 0 >/dev/null 2>"$WORK/sub-$2.log" &
        sub_pid=$!
        PIDS+=("$sub_pid")
        sleep 0.3
    fi
    measure "$case" "$2" "$port" "$pid"
    [ -z "$sub_pid" ] || stop "$sub_pid"
    stop "$pid"
}

started=$(date +%s)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
log "load average $LOAD_BEFORE; $ROUNDS rounds of: $CASES"
for round in $(seq "$ROUNDS"); do
    for case in $CASES; do
        case $case in
            bare) run_bare "$round" ;;
            wharfd | wharfd-sub) run_wharfd "$case" "$round" ;;
            *) log "unknown case $case"; exit 2 ;;
        esac
    done
done
ELAPSED=$(($(date +%s) - started))
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- Sources 2>/dev/null || echo ' (with local changes)')"
LIBCOAP=$(pkg-config --modversion libcoap-3-openssl)
export LOAD_BEFORE LOAD_AFTER ELAPSED COMMIT LIBCOAP SESSIONS INFLIGHT SECONDS_MEASURED WARMUP PAYLOAD ROUNDS

python3 - "$RESULTS" "$(getconf CLK_TCK)" >"$WORK/summary.md" <<'PY'
import json, os, sys, time

results, clk = sys.argv[1], int(sys.argv[2])
env = os.environ
runs = [json.loads(line) for line in open(results)]


def median(values):
    values = sorted(values)
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def num(value, digits=0):
    return f"{value:,.{digits}f}".replace(",", " ")


cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print(
    f"Run of {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {cpu}, {os.cpu_count()} cores; load average "
    f"before {env['LOAD_BEFORE']}, after {env['LOAD_AFTER']}; {env['ELAPSED']} s in all; libcoap {env['LIBCOAP']}; "
    f"commit {env['COMMIT']}. Load client: {env['SESSIONS']} sessions × {env['INFLIGHT']} confirmable POSTs in "
    f"flight, {env['PAYLOAD']}-byte payloads, {env['SECONDS_MEASURED']} s measured after {env['WARMUP']} s of "
    f"warm-up; medians of {env['ROUNDS']} rounds (range)."
)
print()
print("| server | 2.04 per second | ratio to bare | other codes / timeouts | cores busy: server / load client |")
print("|---|--:|--:|--:|--:|")
names = {"bare": "bare libcoap server", "wharfd": "wharfd (no subscriber)", "wharfd-sub": "wharfd + QoS 0 subscriber"}
bare = None
lines, ratios = [], {}
for case in ("bare", "wharfd", "wharfd-sub"):
    ms = [r for r in runs if r["case"] == case]
    if not ms:
        continue
    rates = [r["rate"] for r in ms]
    rate = median(rates)
    if case == "bare":
        bare = rate
    ratio = "–" if bare is None or case == "bare" else f"{rate / bare:.0%}"
    if case != "bare" and bare:
        ratios[case] = rate / bare
    spread = f"{num(rate)} ({num(min(rates))}–{num(max(rates))})" if len(rates) > 1 else num(rate)
    # The server's CPU ticks cover the warm-up too.
    server = median([r["server_ticks"] / clk / (r["seconds"] + float(env["WARMUP"])) for r in ms])
    client = median([r["cpu_seconds"] / r["seconds"] for r in ms])
    errors = f"{sum(r['other'] for r in ms)} / {sum(r['timeouts'] for r in ms)}"
    print(f"| {names[case]} | {spread} | {ratio} | {errors} | {server:.2f} / {client:.2f} |")
print()
for case, ratio in ratios.items():
    verdict = "meets" if ratio >= 0.8 else "misses"
    print(f"{names[case]}: {ratio:.0%} of the bare server's rate, {verdict} the 80% target.")
PY
echo
cat "$WORK/summary.md"
if [ -n "${COAP_OUT:-}" ]; then
    cp "$WORK/summary.md" "$COAP_OUT"
    log "summary written to $COAP_OUT"
fi

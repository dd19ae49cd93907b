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
#   BENCH_TLS [1]            also over TLS: both brokers get a TLS listener with the same ECDSA
#                            P-256 certificate (made here with openssl) and the same cipher suite
#   BENCH_TLS_SCENARIOS ["pairs fan-in"], BENCH_TLS_QOS ["1"]   the cases run over TLS
#   BENCH_HANDSHAKES [2000]  connections per connection set-up run (TCP and TLS): connect, TLS
#                            handshake, CONNECT, CONNACK, DISCONNECT; BENCH_CONCURRENCY [8] at once
#   BENCH_TIMEOUT [120]      seconds one generator run may take
#   BENCH_OUT [Benchmarks/results/latest.md]   the Markdown table
#   BENCH_SKIP_BUILD [0]     1: use the binaries already in BENCH_BIN
#   BENCH_BIN [.build/release]   where wharfd and wharf-bench are (the end-to-end suite's smoke
#                            run of this script gives .build/debug, with BENCH_SKIP_BUILD=1)
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
TLS=${BENCH_TLS:-1}
TLS_SCENARIOS=${BENCH_TLS_SCENARIOS:-"pairs fan-in"}
TLS_QOS_LEVELS=${BENCH_TLS_QOS:-"1"}
HANDSHAKES=${BENCH_HANDSHAKES:-2000}
CONCURRENCY=${BENCH_CONCURRENCY:-8}
RUN_TIMEOUT=${BENCH_TIMEOUT:-120}
OUT=${BENCH_OUT:-Benchmarks/results/latest.md}
MOSQUITTO=${MOSQUITTO:-$(command -v mosquitto || echo /usr/sbin/mosquitto)}

log() { echo "bench: $*" >&2; }

tools=(python3 getconf "$MOSQUITTO")
[ "$TLS" = 1 ] && tools+=(openssl)
for tool in "${tools[@]}"; do
    command -v "$tool" >/dev/null 2>&1 || { log "missing $tool (make bench installs it)"; exit 1; }
done

if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
    log "building wharfd and wharf-bench (release)"
    swift build -c release --product wharfd
    swift build -c release --product wharf-bench
fi
BIN=${BENCH_BIN:-.build/release}
WHARFD=$BIN/wharfd
BENCH=$BIN/wharf-bench

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




# The TLS listeners' certificate: a CA and a server certificate for 127.0.0.1, ECDSA P-256 (what
# a device maker would issue today).
TLS_CASE="TLS not measured (BENCH_TLS=0)."
if [ "$TLS" = 1 ]; then
    mkdir -p "$WORK/tls"
    (
        cd "$WORK/tls"
        ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
        openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.crt -subj /CN=wharf-bench-ca -days 2
        openssl req "${ec[@]}" -keyout server.key -out server.csr -subj /CN=127.0.0.1
        printf 'subjectAltName=IP:127.0.0.1\n' >server.ext
        openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
            -extfile server.ext -out server.crt
    ) >"$WORK/openssl.log" 2>&1 || { cat "$WORK/openssl.log" >&2; log "cannot make the TLS certificate"; exit 1; }
fi

MOSQUITTO_PORT=$(free_port)
MOSQUITTO_TLS_PORT=$(free_port)
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
if [ "$TLS" = 1 ]; then
    # wharfd's TLS (BoringSSL, through swift-nio-ssl) takes the client's first TLS 1.3 suite,
    # AES-128-GCM; OpenSSL in Mosquitto would pick its own first, AES-256-GCM. One suite for both.
    # Started as root, Mosquitto would read the key as user mosquitto, who cannot.
    [ "$(id -u)" = 0 ] && echo "user root" >>"$WORK/mosquitto.conf"
    cat >>"$WORK/mosquitto.conf" <<EOF
listener $MOSQUITTO_TLS_PORT 127.0.0.1
certfile $WORK/tls/server.crt
keyfile $WORK/tls/server.key
ciphers_tls1.3 TLS_AES_128_GCM_SHA256
EOF
fi
"$MOSQUITTO" -c "$WORK/mosquitto.conf" >"$WORK/mosquitto.log" 2>&1 &
MOSQUITTO_PID=$!
wait_for_port "$MOSQUITTO_PORT" "$MOSQUITTO_PID" mosquitto

WHARFD_PORT=$(free_port)
WHARFD_TLS_PORT=$(free_port)
mkdir -p "$WORK/data"
cat >"$WORK/wharf.yaml" <<EOF
log:
  level: warning
admin:
  enabled: false
broker:
  max_inflight_messages: $MAX_INFLIGHT
  max_queued_messages: $MAX_QUEUED
  max_packet_size: $MAX_PACKET
  sys_interval: 0
  listeners:
    - name: plain
      port: $WHARFD_PORT
EOF
if [ "$TLS" = 1 ]; then
    cat >>"$WORK/wharf.yaml" <<EOF
    - name: tls
      port: $WHARFD_TLS_PORT
      tls:
        cert_file: $WORK/tls/server.crt
        key_file: $WORK/tls/server.key
EOF
fi
"$WHARFD" --config "$WORK/wharf.yaml" --data-dir "$WORK/data" >"$WORK/wharfd.log" 2>&1 &
WHARFD_PID=$!
wait_for_port "$WHARFD_PORT" "$WHARFD_PID" wharfd
log "mosquitto (pid $MOSQUITTO_PID) on 127.0.0.1:$MOSQUITTO_PORT, wharfd (pid $WHARFD_PID) on 127.0.0.1:$WHARFD_PORT"

if [ "$TLS" = 1 ]; then
    wait_for_port "$MOSQUITTO_TLS_PORT" "$MOSQUITTO_PID" mosquitto
    wait_for_port "$WHARFD_TLS_PORT" "$WHARFD_PID" wharfd
    # What each broker negotiates with a client that offers what wharf-bench's offers first
    # (BoringSSL: AES-128-GCM, X25519); the two must be the same for the comparison to hold.
    negotiated() {  # port
        echo | openssl s_client -connect "127.0.0.1:$1" -CAfile "$WORK/tls/ca.crt" \
            -ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256 \
            -groups X25519:P-256 2>/dev/null \
            | awk '/^New, /{ sub(/,$/, "", $2); cipher = $2 " " $NF } /^Server Temp Key/{ sub(/,$/, "", $4); group = $4 }
                   /Verify return code/{ verify = ($4 == "0") ? "verified" : "NOT verified" }
                   END { print cipher ", " group " key exchange, chain " verify }'
    }
    MOSQUITTO_TLS=$(negotiated "$MOSQUITTO_TLS_PORT")
    WHARFD_TLS=$(negotiated "$WHARFD_TLS_PORT")
    log "TLS: mosquitto $MOSQUITTO_TLS; wharfd $WHARFD_TLS"
    if [ "$MOSQUITTO_TLS" != "$WHARFD_TLS" ]; then
        log "the brokers negotiate different TLS parameters; no fair comparison"
        exit 1
    fi
    TLS_CASE="TLS: both brokers $WHARFD_TLS (checked with openssl s_client), ECDSA P-256 server \
certificate; the generator verifies the chain in the delivery runs and skips verification in the \
set-up runs, so that their cost is the broker's side of the handshake."
fi

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

# One generator run; appends "kind broker scenario qos transport rep ticks rc json" to the index.
# kind: loopback (generator self-check), broker (deliveries) or handshakes (connection set-up,
# where scenario and qos are "-"); transport: tcp or tls.
run_one() {  # kind broker port pid scenario qos transport rep messages
    local kind=$1 broker=$2 port=$3 pid=$4 scenario=$5 qos=$6 transport=$7 rep=$8 messages=$9
    local result="$WORK/$kind-$broker-$scenario-$qos-$transport-$rep.json"
    local args=(--port "$port")
    [ "$kind" = loopback ] && args=(--loopback)
    if [ "$transport" = tls ]; then
        if [ "$kind" = handshakes ]; then args+=(--tls-insecure); else args+=(--tls-ca "$WORK/tls/ca.crt"); fi
    fi
    if [ "$kind" = handshakes ]; then
        args+=(--handshakes "$HANDSHAKES" --concurrency "$CONCURRENCY")
    else
        # shellcheck disable=SC2207
        args+=($(scenario_args "$scenario") --qos "$qos" --messages "$messages" --payload "$PAYLOAD" --window "$WINDOW")
    fi
    local before=0 after=0 rc=0
    [ -n "$pid" ] && before=$(cpu_ticks "$pid")
    timeout $((RUN_TIMEOUT + 30)) "$BENCH" "${args[@]}" --mqtt "$MQTT" --threads "$THREADS" \
        --timeout "$RUN_TIMEOUT" --json >"$result" 2>"$result.err" || rc=$?
    [ -n "$pid" ] && after=$(cpu_ticks "$pid")
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
        log "$broker died during $kind $scenario QoS $qos over $transport"
        exit 1
    fi
    [ -s "$result" ] || echo '{}' >"$result"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$kind" "$broker" "$scenario" "$qos" "$transport" "$rep" \
        "$((after - before))" "$rc" "$result" >>"$INDEX"
    run_count=$((run_count + 1))
    local what="$scenario QoS $qos"
    [ "$kind" = handshakes ] && what="connection set-up"
    if [ "$rc" -ne 0 ]; then
        log "  $broker $what over $transport run $rep: exit $rc: $(cat "$result.err" "$result" | head -c 300)"
    else
        log "  $broker $what over $transport run $rep: $(python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
if "rate" in r:
    print("%.0f connections/s, p99 %d us" % (r["rate"], r["latency_us"]["p99"]))
else:
    print("%.0f msg/s, p99 %d us, lost %d" % (r["throughput"], r["latency_us"]["p99"], r["lost"]))' "$result")"
    fi
}

# The broker's port and pid for a transport.
broker_run() {  # kind broker scenario qos transport rep messages
    local port pid
    case "$2/$5" in
        wharf/tcp) port=$WHARFD_PORT pid=$WHARFD_PID ;;
        wharf/tls) port=$WHARFD_TLS_PORT pid=$WHARFD_PID ;;
        mosquitto/tcp) port=$MOSQUITTO_PORT pid=$MOSQUITTO_PID ;;
        mosquitto/tls) port=$MOSQUITTO_TLS_PORT pid=$MOSQUITTO_PID ;;
    esac
    run_one "$1" "$2" "$port" "$pid" "$3" "$4" "$5" "$6" "$7"
}

started=$(date +%s)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
log "generator self-check against the in-process loopback broker"
for scenario in $SCENARIOS; do
    for qos in $QOS_LEVELS; do
        run_one loopback loopback 0 "" "$scenario" "$qos" tcp 1 $((MESSAGES * LOOPBACK_SCALE))
    done
done
for rep in $(seq "$REPEAT"); do
    log "round $rep of $REPEAT"
    # Interleaved, and the order alternates between rounds, so neither broker always runs right
    # after the other's (or on a warmer machine).
    if [ $((rep % 2)) -eq 1 ]; then order="wharf mosquitto"; else order="mosquitto wharf"; fi
    for scenario in $SCENARIOS; do
        for qos in $QOS_LEVELS; do
            for broker in $order; do
                broker_run broker "$broker" "$scenario" "$qos" tcp "$rep" "$MESSAGES"
            done
        done
    done
    if [ "$TLS" = 1 ]; then
        for scenario in $TLS_SCENARIOS; do
            for qos in $TLS_QOS_LEVELS; do
                for broker in $order; do
                    broker_run broker "$broker" "$scenario" "$qos" tls "$rep" "$MESSAGES"
                done
            done
        done
    fi
    transports="tcp"
    [ "$TLS" = 1 ] && transports="tcp tls"
    for transport in $transports; do
        for broker in $order; do
            broker_run handshakes "$broker" - - "$transport" "$rep" 0
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
$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- Sources 2>/dev/null || echo ' (with local changes)').

$TLS_CASE Connection set-up: $HANDSHAKES connections per run, $CONCURRENCY at once."
export BENCH_HEADER
python3 - "$INDEX" "$OUT" "$(getconf CLK_TCK)" <<'PY'
import json, os, statistics, sys
index, out, clk_tck = sys.argv[1], sys.argv[2], int(sys.argv[3])
runs = []
for line in open(index):
    kind, broker, scenario, qos, transport, rep, ticks, rc, path = line.rstrip("\n").split("\t")
    result = json.load(open(path))
    runs.append(dict(kind=kind, broker=broker, scenario=scenario, qos=int(qos) if qos != "-" else None,
                     transport=transport, rep=int(rep), ticks=int(ticks), rc=int(rc), r=result))

def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None

def num(value, digits=0):
    if value is None:
        return "–"
    return f"{value:,.{digits}f}".replace(",", " ")

def ratio(a, b, digits=2):
    return "–" if not a or not b else f"{a / b:.{digits}f}×"

def summary(broker, scenario, qos, transport="tcp"):
    rs = [x for x in runs if x["kind"] == "broker" and x["broker"] == broker
          and x["scenario"] == scenario and x["qos"] == qos and x["transport"] == transport]
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
    key = (x["scenario"], x["qos"], x["transport"])
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
for scenario, qos, transport in cases:
    w, m = summary("wharf", scenario, qos, transport), summary("mosquitto", scenario, qos, transport)
    label = scenario if transport == "tcp" else f"{scenario} over TLS"
    lines.append(
        f"| {label} | {qos} | {num(w['throughput'])} | {num(m['throughput'])} "
        f"| {ratio(w['throughput'], m['throughput'])} "
        f"| {num(w['p50'])} / {num(w['p99'])} | {num(m['p50'])} / {num(m['p99'])} "
        f"| {ratio(w['p99'], m['p99'])} | {num(w['cpu'], 2)} | {num(m['cpu'], 2)} "
        f"| {num(w['gen'], 2)} / {num(m['gen'], 2)} | {w['lost']} / {m['lost']} |")
    pct = lambda v: None if v is None else v * 100
    usage.append(
        f"| {label} | {qos} | {num(w['cores'], 2)} | {num(m['cores'], 2)} "
        f"| {num(pct(w['busy']))} / {num(pct(m['busy']))} |")
    for name, s in (("wharf", w), ("mosquitto", m)):
        if s["failed"]:
            problems.append(f"{name} {label} QoS {qos}: {s['failed']} of {s['runs']} runs incomplete: "
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

def handshakes(broker, transport):
    rs = [x for x in runs if x["kind"] == "handshakes" and x["broker"] == broker and x["transport"] == transport]
    good = [x for x in rs if x["r"].get("outcome") == "complete"]
    for x in rs:
        if x not in good:
            problems.append(f"{broker} connection set-up over {transport}: "
                            + (x["r"].get("error") or x["r"].get("outcome") or f"exit {x['rc']}"))
    return dict(
        rate=med([x["r"]["rate"] for x in good]),
        p99=med([x["r"]["latency_us"]["p99"] for x in good]),
        cpu=med([x["ticks"] / clk_tck / x["r"]["completed"] * 1e3 for x in good if x["r"]["completed"]]),
        gen=med([x["r"]["generator_cpu_s"] / x["r"]["elapsed_s"] * 100 for x in good if x["r"]["elapsed_s"]]),
    )

setup = []
transports = [t for t in ("tcp", "tls") if any(x["kind"] == "handshakes" and x["transport"] == t for x in runs)]
if transports:
    setup.append("| connection set-up | Wharf conn/s | Mosquitto conn/s | Wharf/Mosquitto | Wharf p99 µs "
                 "| Mosquitto p99 µs | Wharf CPU ms/conn | Mosquitto CPU ms/conn | CPU Mosquitto/Wharf "
                 "| generator busy % (W / M) |")
    setup.append("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for transport in transports:
        w, m = handshakes("wharf", transport), handshakes("mosquitto", transport)
        label = "TCP + CONNECT" if transport == "tcp" else "TLS handshake + CONNECT"
        setup.append(
            f"| {label} | {num(w['rate'])} | {num(m['rate'])} | {ratio(w['rate'], m['rate'])} "
            f"| {num(w['p99'])} | {num(m['p99'])} | {num(w['cpu'], 3)} | {num(m['cpu'], 3)} "
            f"| {ratio(m['cpu'], w['cpu'])} | {num(w['gen'])} / {num(m['gen'])} |")

table = "\n".join(lines)
text = [table, "", f"Where the CPU went (cores busy = CPU seconds / elapsed; the machine has {os.cpu_count()}):", "",
        "\n".join(usage), "", "Generator self-check (same clients against the in-process loopback broker):", "",
        "\n".join(self_check)]
if setup:
    text += ["", "Connection set-up (connect, TLS handshake where named, CONNECT, CONNACK, DISCONNECT, close; "
             "CPU per connection is the broker's):", "", "\n".join(setup)]
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

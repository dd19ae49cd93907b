#!/usr/bin/env bash
# Wharf store-and-forward benchmark (docs/benchmarks.md, "Store-and-forward"), in three parts:
#   store   wharf-store-bench: ForwardQueue.append against a bare SQLite insert loop on the same disk
#           (the store's table, pragmas and multi-row INSERTs, at the store's rows per commit);
#   drain   N QoS 1 messages queued in wharfd while the cloud broker (Mosquitto) is down, then the
#           rate at which the uplink delivers them once it is up, without and with a cloud subscriber;
#   ingest  for comparison, Mosquitto's own ingest of N QoS 1 messages from one client with as
#           many in flight as the uplink, without and with the same subscriber.
#
# Sizes come from the environment (defaults in brackets):
#   STORE_MESSAGES [500000]     rows per all-at-once case of wharf-store-bench
#   STORE_GATED [20000]         rows per window-1 publisher case (window W: W times as many)
#   STORE_WINDOWS [1,100]       publisher windows of wharf-store-bench
#   STORE_ROUNDS [5]            wharf-store-bench rounds, queue and bare loop interleaved in each
#                               (the tables show every round, the medians and the ranges)
#   STORE_SYNCHRONOUS [full,normal]
#   DRAIN_MESSAGES [100000]     messages queued before the cloud broker starts
#   DRAIN_PUBLISHERS [10]       wharf-bench fan-in publishers filling the queue
#   DRAIN_WINDOW [100]          their window (end-to-end outstanding messages each)
#   DRAIN_PAYLOAD [64]          payload bytes (at least 16)
#   DRAIN_SYNCHRONOUS [full]    storage.queue.synchronous of wharfd
#   DRAIN_INFLIGHT [100]        uplink.max_inflight, and the in-flight limit of the ingest client
#   DRAIN_ROUNDS [3]            drains (and ingest runs) per case; the tables show medians
#   DRAIN_TIMEOUT [120]         seconds a fill or a drain may take
#   BENCH_PARTS [store drain ingest]   which parts to run
#   BENCH_TMPDIR [$TMPDIR or /tmp]     where every database and data directory goes
#   BENCH_SKIP_BUILD [0]        1: use the binaries already in .build/release
#   BENCH_SWIFT_FLAGS []        extra arguments for swift build
#   STORE_BENCH_OUT []          also write the Markdown summary to this file
# Every server listens on 127.0.0.1 only and is stopped by its PID when the script exits.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh

STORE_MESSAGES=${STORE_MESSAGES:-500000}
STORE_GATED=${STORE_GATED:-20000}
STORE_WINDOWS=${STORE_WINDOWS:-1,100}
STORE_ROUNDS=${STORE_ROUNDS:-5}
STORE_SYNCHRONOUS=${STORE_SYNCHRONOUS:-full,normal}
DRAIN_MESSAGES=${DRAIN_MESSAGES:-100000}
DRAIN_PUBLISHERS=${DRAIN_PUBLISHERS:-10}
DRAIN_WINDOW=${DRAIN_WINDOW:-100}
DRAIN_PAYLOAD=${DRAIN_PAYLOAD:-64}
DRAIN_SYNCHRONOUS=${DRAIN_SYNCHRONOUS:-full}
DRAIN_INFLIGHT=${DRAIN_INFLIGHT:-100}
DRAIN_ROUNDS=${DRAIN_ROUNDS:-3}
DRAIN_TIMEOUT=${DRAIN_TIMEOUT:-120}
PARTS=" ${BENCH_PARTS:-store drain ingest} "
TMP_BASE=${BENCH_TMPDIR:-${TMPDIR:-/tmp}}
MOSQUITTO=${MOSQUITTO:-$(command -v mosquitto || echo /usr/sbin/mosquitto)}

log() { echo "bench-store: $*" >&2; }

for tool in python3 mosquitto_sub "$MOSQUITTO"; do
    command -v "$tool" >/dev/null 2>&1 || { log "missing $tool (make bench installs it)"; exit 1; }
done
if [ $((DRAIN_MESSAGES % DRAIN_PUBLISHERS)) -ne 0 ]; then
    log "DRAIN_MESSAGES must be a multiple of DRAIN_PUBLISHERS"
    exit 2
fi

if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
    log "building wharf-store-bench, wharfd and wharf-bench (release)"
    # shellcheck disable=SC2086
    swift build -c release --product wharf-store-bench ${BENCH_SWIFT_FLAGS:-}
    # shellcheck disable=SC2086
    swift build -c release --product wharfd ${BENCH_SWIFT_FLAGS:-}
    # shellcheck disable=SC2086
    swift build -c release --product wharf-bench ${BENCH_SWIFT_FLAGS:-}
fi
STORE_BENCH=.build/release/wharf-store-bench
WHARFD=.build/release/wharfd
BENCH=.build/release/wharf-bench

WORK=$(mktemp -d "$TMP_BASE/wharf-bench-store.XXXXXX")
PIDS=()
cleanup() {
    local status=$?
    for pid in "${PIDS[@]}"; do
        kill -CONT "$pid" 2>/dev/null || true
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

# ---------------------------------------------------------------------------------------------
# Helpers in Python: a minimal MQTT 3.1.1 publisher and subscriber (packets handled in bulk, so
# that neither limits the brokers), a /proc sampler, and the summary.
TOOLS="$WORK/tools.py"
cat >"$TOOLS" <<'PY'
import json, os, socket, sys, time


def remaining(n):
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def string(text):
    data = text.encode()
    return len(data).to_bytes(2, "big") + data


def ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def connect(port, client_id):
    body = string("MQTT") + bytes([4, 0x02, 0, 60]) + string(client_id)
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(b"\x10" + remaining(len(body)) + body)
    read_exactly(sock, 4)
    return sock


def read_exactly(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            sys.exit("connection closed")
        data += chunk
    return data


def publish(port, count, window, size, broker):
    """N QoS 1 messages (each payload unique) with at most `window` unacknowledged, as the uplink
    does; prints the seconds from the first PUBLISH to the last PUBACK and the broker's CPU ticks."""
    topic = string("b/0123456789/i")
    packets = []
    for i in range(count):
        body = topic + ((i % 65535) + 1).to_bytes(2, "big") + i.to_bytes(8, "big") + b"x" * max(0, size - 8)
        packets.append(b"\x32" + remaining(len(body)) + body)
    length = len(packets[0])
    blob = memoryview(b"".join(packets))
    sock = connect(port, "ingest-publisher")
    sent = received = 0
    start, before, cpu = time.monotonic(), ticks(broker), time.process_time()
    while received < 4 * count:
        acked = received // 4  # a PUBACK is 4 bytes in MQTT 3.1.1
        allowed = min(count - sent, window - (sent - acked))
        if allowed > 0:
            sock.sendall(blob[sent * length:(sent + allowed) * length])
            sent += allowed
        data = sock.recv(65536)
        if not data:
            sys.exit("connection closed")
        received += len(data)
    print("%.6f %d %.4f" % (time.monotonic() - start, ticks(broker) - before, time.process_time() - cpu))
    sock.sendall(b"\xe0\x00")
    sock.close()


def subscribe(port, client_id, count, timeout, ready, out):
    """Subscribes to b/# at QoS 1, acknowledges each read's PUBLISHes in one write, and stops at
    `count` distinct payloads; writes what arrived and when the first and the last did."""
    sock = connect(port, client_id)
    body = (1).to_bytes(2, "big") + string("b/#") + b"\x01"
    sock.sendall(b"\x82" + remaining(len(body)) + body)
    suback = read_exactly(sock, 5)
    if suback[4] != 1:
        sys.exit("subscription refused")
    open(ready, "w").close()
    sock.settimeout(timeout)
    buffer, received, distinct, first, last, cpu = bytearray(), 0, set(), None, None, None
    try:
        while len(distinct) < count:
            data = sock.recv(1 << 18)
            if not data:
                break
            now = time.monotonic()
            buffer += data
            acks, pos, end = bytearray(), 0, len(buffer)
            while pos + 2 <= end:
                length, shift, i = 0, 0, pos + 1
                while i < end and buffer[i] & 0x80:
                    length |= (buffer[i] & 0x7F) << shift
                    shift, i = shift + 7, i + 1
                if i >= end:
                    break
                length |= buffer[i] << shift
                start, stop = i + 1, i + 1 + length
                if stop > end:
                    break
                if buffer[pos] >> 4 == 3:
                    qos = (buffer[pos] >> 1) & 3
                    topic_end = start + 2 + int.from_bytes(buffer[start:start + 2], "big")
                    payload_start = topic_end + (2 if qos else 0)
                    if qos:
                        acks += b"\x40\x02" + buffer[topic_end:topic_end + 2]
                    distinct.add(bytes(buffer[payload_start:stop]))
                    received += 1
                    if first is None:
                        first, cpu = now, time.process_time()
                    last = now
                pos = stop
            del buffer[:pos]
            if acks:
                sock.sendall(acks)
    except socket.timeout:
        pass
    with open(out, "w") as f:
        cpu = time.process_time() - cpu if cpu is not None else 0
        json.dump({"received": received, "distinct": len(distinct), "first": first, "last": last, "cpu": cpu}, f)
    sys.exit(0 if len(distinct) >= count else 1)


def sample(cloud, wharfd, out, stop, timeout):
    """Every 5 ms until `stop` exists: the bytes the cloud broker has read (/proc/PID/io rchar)
    and the CPU ticks of both processes; a line whenever rchar moved."""
    samples, start, last = [], time.monotonic(), None
    while not os.path.exists(stop) and time.monotonic() - start < timeout:
        with open(f"/proc/{cloud}/io") as f:
            rchar = int(f.readline().split()[1])
        now = time.monotonic()
        if rchar != last:
            samples.append((now, rchar, ticks(cloud), ticks(wharfd)))
            last = rchar
        time.sleep(0.005)
    samples.append((time.monotonic(), last, ticks(cloud), ticks(wharfd)))
    with open(out, "w") as f:
        for s in samples:
            f.write("%.6f %d %d %d\n" % s)


def record(results, kind, *pairs):
    entry = {"kind": kind}
    for pair in pairs:
        key, value = pair.split("=", 1)
        entry[key] = value
    with open(results, "a") as f:
        f.write(json.dumps(entry) + "\n")


def drain_window(path):
    """The seconds from the first byte the cloud broker read after wharfd resumed to the last,
    and the CPU ticks of the broker and of wharfd over that span."""
    samples = [tuple(float(x) for x in line.split()) for line in open(path)]
    base, final = samples[0], samples[-1][1]
    first = next((i for i, s in enumerate(samples) if s[1] > base[1]), None)
    last = next((i for i, s in enumerate(samples) if s[1] == final), None)
    if first is None or last is None or last <= first:
        return None, 0, 0
    before = samples[first - 1]
    return samples[last][0] - samples[first][0], samples[last][2] - before[2], samples[last][3] - before[3]


def num(v, digits=0):
    return "–" if v is None else f"{v:,.{digits}f}".replace(",", " ")


def median(values):
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def spread(values, digits=0):
    """The median, and the range when there are several values."""
    values = [v for v in values if v is not None]
    if len(values) < 2:
        return num(median(values), digits)
    return f"{num(median(values), digits)} ({num(min(values), digits)}–{num(max(values), digits)})"


def subscriber_metrics(run):
    if run["case"] == "none":
        return {}
    arrived = json.load(open(run["subscriber"])) if os.path.exists(run["subscriber"]) else {}
    span = (arrived.get("last") or 0) - (arrived.get("first") or 0)
    return {
        "sub_rate": (arrived["distinct"] - 1) / span if span > 0 else None,
        "sub_busy": arrived["cpu"] / span if span > 0 else None,
        "distinct": arrived.get("distinct", 0),
        "duplicates": arrived.get("received", 0) - arrived.get("distinct", 0),
    }


def drain_metrics(run, n, clk):
    fill = json.load(open(run["fill"]))
    seconds, cloud_ticks, wharf_ticks = drain_window(run["samples"])
    commits = int(run["commits"]) if run["commits"].isdigit() else 0
    metrics = {
        "fill_rate": fill.get("throughput"),
        "rows_per_commit": n / commits if commits else None,
        "fill_cpu_us": int(run["fill_ticks"]) / clk / n * 1e6,
        "drain_rate": n / seconds if seconds else None,
        "wharfd_busy": wharf_ticks / clk / seconds if seconds else None,
        "cloud_busy": cloud_ticks / clk / seconds if seconds else None,
        "acknowledged": run["acknowledged"],
        "resent": run["resent"],
        "ok": run["ok"] == "1",
    }
    metrics.update(subscriber_metrics(run))
    return metrics


def ingest_metrics(run, clk):
    seconds, broker_ticks, client_cpu = (float(x) for x in (run["measured"] or "0 0 0").split())
    metrics = {
        "publish_rate": int(os.environ["DRAIN_MESSAGES"]) / seconds if seconds else None,
        "cloud_busy": broker_ticks / clk / seconds if seconds else None,
        "publisher_busy": client_cpu / seconds if seconds else None,
        "ok": run["ok"] == "1",
    }
    metrics.update(subscriber_metrics(run))
    return metrics


def summary(results, store, clk):
    env, clk = os.environ, int(clk)
    n = int(env["DRAIN_MESSAGES"])
    runs = [json.loads(line) for line in open(results)]
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    out = [
        f"Run of {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {cpu}, {os.cpu_count()} cores; load "
        f"average before {env['LOAD_BEFORE']}, after {env['LOAD_AFTER']}; {env['ELAPSED']} s in all; "
        f"{env['DISKS']}; {env['MOSQUITTO_VERSION']}; commit {env['COMMIT']}.",
        "",
    ]
    store_lines = [line.rstrip("\n") for line in open(store)]
    if store_lines:
        out += ["**ForwardQueue.append against a bare SQLite loop** (wharf-store-bench):", ""] + store_lines + [""]
    name = {"none": "none", "qos1": "one, QoS 1"}
    rounds = env["DRAIN_ROUNDS"]

    def got(ms, case):
        if case == "none":
            return "–"
        return f"{min(m.get('distinct', 0) for m in ms)} ({sum(m.get('duplicates', 0) for m in ms)} dup.)"

    drains = [r for r in runs if r["kind"] == "drain"]
    if drains:
        out += [
            f"**Backlog drain**: {n} QoS 1 messages of {env['DRAIN_PAYLOAD']} bytes queued in wharfd (synchronous "
            f"{env['DRAIN_SYNCHRONOUS']}) by {env['DRAIN_PUBLISHERS']} wharf-bench publishers (window "
            f"{env['DRAIN_WINDOW']}) while the cloud broker was down; then Mosquitto started and the uplink "
            f"(max_inflight {env['DRAIN_INFLIGHT']}) drained the queue. Medians of {rounds} rounds (range).",
            "",
            "| cloud subscriber | fill msg/s | rows/commit filling | wharfd CPU µs/msg filling | drain msg/s "
            "| subscriber first→last msg/s | cores busy draining: wharfd / Mosquitto / subscriber "
            "| acknowledged / resent | subscriber got (lowest) | complete |",
            "|---|--:|--:|--:|--:|--:|--:|--:|--:|---|",
        ]
        for case in ("none", "qos1"):
            ms = [drain_metrics(r, n, clk) for r in drains if r["case"] == case]
            if not ms:
                continue
            pick = lambda key: [m.get(key) for m in ms]
            busy = " / ".join(num(median(pick(k)), 2) for k in ("wharfd_busy", "cloud_busy", "sub_busy"))
            acked = ", ".join(sorted({f"{m['acknowledged']} / {m['resent']}" for m in ms}))
            out.append(
                f"| {name[case]} | {spread(pick('fill_rate'))} | {num(median(pick('rows_per_commit')), 1)} "
                f"| {num(median(pick('fill_cpu_us')), 1)} | {spread(pick('drain_rate'))} "
                f"| {spread(pick('sub_rate'))} | {busy} | {acked} | {got(ms, case)} "
                f"| {'yes' if all(m['ok'] for m in ms) else 'NO'} |")
        out.append("")
    ingests = [r for r in runs if r["kind"] == "ingest"]
    if ingests:
        out += [
            f"**Mosquitto alone**: one MQTT 3.1.1 client publishing {n} QoS 1 messages of {env['DRAIN_PAYLOAD']} "
            f"bytes with at most {env['DRAIN_INFLIGHT']} unacknowledged, as the uplink does. Medians of {rounds} "
            "rounds (range).",
            "",
            "| subscriber | publish msg/s (first PUBLISH → last PUBACK) | subscriber first→last msg/s "
            "| cores busy: Mosquitto / publisher / subscriber | subscriber got (lowest) | complete |",
            "|---|--:|--:|--:|--:|---|",
        ]
        for case in ("none", "qos1"):
            ms = [ingest_metrics(r, clk) for r in ingests if r["case"] == case]
            if not ms:
                continue
            pick = lambda key: [m.get(key) for m in ms]
            busy = " / ".join(num(median(pick(k)), 2) for k in ("cloud_busy", "publisher_busy", "sub_busy"))
            out.append(
                f"| {name[case]} | {spread(pick('publish_rate'))} | {spread(pick('sub_rate'))} | {busy} "
                f"| {got(ms, case)} | {'yes' if all(m['ok'] for m in ms) else 'NO'} |")
    print("\n".join(out))


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    if command == "publish":
        publish(*(int(a) for a in args))
    elif command == "subscribe":
        subscribe(int(args[0]), args[1], int(args[2]), float(args[3]), args[4], args[5])
    elif command == "sample":
        sample(args[0], args[1], args[2], args[3], float(args[4]))
    elif command == "record":
        record(*args)
    elif command == "summary":
        summary(*args)
PY

# Stops one process this script started.
stop() {  # pid
    kill -CONT "$1" 2>/dev/null || true
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}




# The retained value of a $SYS topic of the broker on `port` (empty if none within 3 s).
sys_value() {  # port topic
    mosquitto_sub -h 127.0.0.1 -p "$1" -t "$2" -C 1 -W 3 2>/dev/null || true
}

# Waits until a $SYS topic shows `value` (wharfd republishes them every sys_interval).
wait_sys() {  # port topic value timeout
    local deadline=$(($(date +%s) + $4)) value=""
    while [ "$(date +%s)" -le "$deadline" ]; do
        value=$(sys_value "$1" "$2")
        [ "$value" = "$3" ] && return 0
        sleep 0.3
    done
    log "$2 is '$value', expected $3"
    return 1
}

start_mosquitto() {  # name port -> MOSQUITTO_PID
    cat >"$WORK/$1.conf" <<EOF
listener $2 127.0.0.1
allow_anonymous true
persistence false
max_inflight_messages 0
max_queued_messages 0
set_tcp_nodelay true
log_dest stderr
log_type error
log_type warning
EOF
    "$MOSQUITTO" -c "$WORK/$1.conf" >"$WORK/$1.log" 2>&1 &
    MOSQUITTO_PID=$!
    PIDS+=("$MOSQUITTO_PID")
    wait_for_port "$2" "$MOSQUITTO_PID" mosquitto
}

# Starts the QoS 1 subscriber to b/# and waits until its subscription is acknowledged.
start_subscriber() {  # name port -> SUB_PID
    python3 "$TOOLS" subscribe "$2" "$1" "$DRAIN_MESSAGES" "$DRAIN_TIMEOUT" "$WORK/$1.ready" "$WORK/$1.json" \
        2>"$WORK/$1.log" &
    SUB_PID=$!
    PIDS+=("$SUB_PID")
    for _ in $(seq 100); do
        [ -f "$WORK/$1.ready" ] && return 0
        kill -0 "$SUB_PID" 2>/dev/null || break
        sleep 0.05
    done
    log "subscriber $1 did not subscribe"
    exit 1
}

RESULTS="$WORK/results.jsonl"
: >"$RESULTS"
: >"$WORK/store.md"
started=$(date +%s)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
DISKS="repository on $(df -P . | awk 'NR == 2 { print $1 " (" $6 ")" }'), scratch directories under $TMP_BASE on \
$(df -P "$TMP_BASE" | awk 'NR == 2 { print $1 " (" $6 ")" }')"
log "load average $LOAD_BEFORE; $DISKS"

# ---------------------------------------------------------------------------------------------
if [[ $PARTS == *" store "* ]]; then
    log "1. wharf-store-bench"
    "$STORE_BENCH" --messages "$STORE_MESSAGES" --gated-messages "$STORE_GATED" --windows "$STORE_WINDOWS" \
        --rounds "$STORE_ROUNDS" --synchronous "$STORE_SYNCHRONOUS" --payload "$DRAIN_PAYLOAD" --dir "$TMP_BASE" \
        >"$WORK/store.md"
    cat "$WORK/store.md"
fi

# ---------------------------------------------------------------------------------------------
# One backlog drain; `case` is "none" or "qos1" (a QoS 1 subscriber at the cloud broker).
run_drain() {  # case round
    local case=$1 tag="$1-$2" wharf_port cloud_port data="$WORK/drain-$1-$2"
    wharf_port=$(free_port)
    cloud_port=$(free_port)
    mkdir -p "$data"
    cat >"$WORK/wharf-$tag.yaml" <<EOF
gateway:
  id: bench
log:
  level: warning
broker:
  sys_interval: 1s
  max_inflight_messages: 65535
  max_queued_messages: 0
storage:
  queue:
    max_bytes: 1GiB
    synchronous: $DRAIN_SYNCHRONOUS
uplink:
  enabled: true
  host: 127.0.0.1
  port: $cloud_port
  tls:
    enabled: false
  backoff:
    base: 100ms
    cap: 1s
  max_inflight: $DRAIN_INFLIGHT
  forward:
    - filter: "b/#"
      qos: 1
EOF
    "$WHARFD" --config "$WORK/wharf-$tag.yaml" --listen "127.0.0.1:$wharf_port" --data-dir "$data" \
        >"$WORK/wharfd-$tag.log" 2>&1 &
    local wharfd_pid=$!
    PIDS+=("$wharfd_pid")
    wait_for_port "$wharf_port" "$wharfd_pid" wharfd

    log "  [$tag] filling: $DRAIN_MESSAGES QoS 1 messages from $DRAIN_PUBLISHERS publishers, cloud broker down"
    local before after rc=0
    before=$(cpu_ticks "$wharfd_pid")
    timeout $((DRAIN_TIMEOUT + 30)) "$BENCH" --port "$wharf_port" --scenario fan-in --publishers "$DRAIN_PUBLISHERS" \
        --messages $((DRAIN_MESSAGES / DRAIN_PUBLISHERS)) --qos 1 --payload "$DRAIN_PAYLOAD" --window "$DRAIN_WINDOW" \
        --timeout "$DRAIN_TIMEOUT" --json >"$WORK/fill-$tag.json" 2>"$WORK/fill-$tag.err" || rc=$?
    after=$(cpu_ticks "$wharfd_pid")
    if [ "$rc" -ne 0 ]; then
        log "  [$tag] fill failed (exit $rc): $(head -c 400 "$WORK/fill-$tag.json" "$WORK/fill-$tag.err")"
        exit 1
    fi
    wait_sys "$wharf_port" '$SYS/broker/queue/depth' "$DRAIN_MESSAGES" 10
    local commits
    commits=$(sys_value "$wharf_port" '$SYS/broker/queue/commits')
    log "  [$tag] queue depth $DRAIN_MESSAGES after $commits commits"

    # The cloud broker (and its subscriber) come up while wharfd is stopped, so that the uplink
    # cannot publish before the subscriber is there; the drain starts when wharfd continues.
    kill -STOP "$wharfd_pid"
    start_mosquitto "cloud-$tag" "$cloud_port"
    local cloud_pid=$MOSQUITTO_PID sub_pid="" ok=1
    if [ "$case" = qos1 ]; then
        start_subscriber "cloud-sub-$tag" "$cloud_port"
        sub_pid=$SUB_PID
    fi
    rm -f "$WORK/stop-sampler"
    python3 "$TOOLS" sample "$cloud_pid" "$wharfd_pid" "$WORK/samples-$tag.txt" "$WORK/stop-sampler" \
        $((DRAIN_TIMEOUT + 30)) &
    local sampler_pid=$!
    PIDS+=("$sampler_pid")
    sleep 0.1
    kill -CONT "$wharfd_pid"
    log "  [$tag] cloud broker up on 127.0.0.1:$cloud_port; draining"
    if [ -n "$sub_pid" ]; then
        wait "$sub_pid" || { log "  [$tag] the cloud subscriber did not get $DRAIN_MESSAGES messages"; ok=0; }
    fi
    wait_sys "$wharf_port" '$SYS/broker/queue/depth' 0 "$DRAIN_TIMEOUT" || ok=0
    touch "$WORK/stop-sampler"
    wait "$sampler_pid" || true
    local acknowledged resent
    acknowledged=$(sys_value "$wharf_port" '$SYS/broker/uplink/messages/acknowledged')
    resent=$(sys_value "$wharf_port" '$SYS/broker/uplink/messages/resent')
    [ "$acknowledged" = "$DRAIN_MESSAGES" ] || ok=0
    stop "$cloud_pid"
    stop "$wharfd_pid"
    python3 "$TOOLS" record "$RESULTS" drain "case=$case" "round=$2" "fill=$WORK/fill-$tag.json" "commits=$commits" \
        "fill_ticks=$((after - before))" "samples=$WORK/samples-$tag.txt" "subscriber=$WORK/cloud-sub-$tag.json" \
        "acknowledged=$acknowledged" "resent=$resent" "ok=$ok"
}

if [[ $PARTS == *" drain "* ]]; then
    log "2. backlog drain to Mosquitto ($DRAIN_MESSAGES messages, synchronous $DRAIN_SYNCHRONOUS, $DRAIN_ROUNDS rounds)"
    for round in $(seq "$DRAIN_ROUNDS"); do
        run_drain none "$round"
        run_drain qos1 "$round"
    done
fi

# ---------------------------------------------------------------------------------------------
# Mosquitto alone: one client sending N QoS 1 messages with DRAIN_INFLIGHT in flight.
run_ingest() {  # case round
    local case=$1 tag="$1-$2" port
    port=$(free_port)
    start_mosquitto "ingest-$tag" "$port"
    local pid=$MOSQUITTO_PID sub_pid="" measured="" ok=1
    if [ "$case" = qos1 ]; then
        start_subscriber "ingest-sub-$tag" "$port"
        sub_pid=$SUB_PID
    fi
    measured=$(python3 "$TOOLS" publish "$port" "$DRAIN_MESSAGES" "$DRAIN_INFLIGHT" "$DRAIN_PAYLOAD" "$pid") || ok=0
    if [ -n "$sub_pid" ]; then
        wait "$sub_pid" || { log "  [$tag] the subscriber did not get $DRAIN_MESSAGES messages"; ok=0; }
    fi
    stop "$pid"
    python3 "$TOOLS" record "$RESULTS" ingest "case=$case" "round=$2" "measured=$measured" \
        "subscriber=$WORK/ingest-sub-$tag.json" "ok=$ok"
}

if [[ $PARTS == *" ingest "* ]]; then
    log "3. Mosquitto's own ingest: one client, $DRAIN_MESSAGES QoS 1 messages, $DRAIN_INFLIGHT in flight"
    for round in $(seq "$DRAIN_ROUNDS"); do
        run_ingest none "$round"
        run_ingest qos1 "$round"
    done
fi

# ---------------------------------------------------------------------------------------------
ELAPSED=$(($(date +%s) - started))
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
MOSQUITTO_VERSION=$({ "$MOSQUITTO" -h 2>/dev/null || true; } | head -n 1 | sed 's/ is an.*//')
COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- Sources 2>/dev/null || echo ' (with local changes)')"
export LOAD_BEFORE LOAD_AFTER ELAPSED DISKS MOSQUITTO_VERSION COMMIT DRAIN_MESSAGES DRAIN_PUBLISHERS DRAIN_WINDOW \
    DRAIN_PAYLOAD DRAIN_SYNCHRONOUS DRAIN_INFLIGHT DRAIN_ROUNDS
python3 "$TOOLS" summary "$RESULTS" "$WORK/store.md" "$(getconf CLK_TCK)" >"$WORK/summary.md"
echo
cat "$WORK/summary.md"
if [ -n "${STORE_BENCH_OUT:-}" ]; then
    cp "$WORK/summary.md" "$STORE_BENCH_OUT"
    log "summary written to $STORE_BENCH_OUT"
fi
if grep -q '| NO |' "$WORK/summary.md"; then
    log "some run did not complete (see the tables)"
    exit 1
fi

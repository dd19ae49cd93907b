#!/usr/bin/env bash
# Regenerates packaging/wharfd.order, the function layout of the packaged wharfd
# (see docs/benchmarks.md, "Package and startup").
#
#   scripts/gen-order-file.sh            about 3 minutes after the release build
#
# The release build of the package compiles every function into a section of its own and
# asks the linker to place the functions listed in packaging/wharfd.order first, in that
# order. Listed are the functions wharfd runs when it starts on the shipped configuration,
# serves a few MQTT clients and the admin API, and idles: packed together they take a few
# hundred pages instead of being spread over the 28 MB of code, which is most of the
# daemon's idle memory. A stale list only costs memory: functions it does not name are laid
# out as usual. Run this after large changes and commit the result.
#
# How: builds wharfd as `make deb` does, runs it under valgrind's callgrind (which records
# every function executed) with the workload below, and writes the functions in the order
# they first ran, keeping only those defined in wharfd.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
log() { echo "gen-order-file: $*" >&2; }

scripts/install-deps.sh layout
flags="$(make --no-print-directory -s print-release-flags)"
# shellcheck disable=SC2086  # the flags are words
swift build $flags --product wharfd >&2
# shellcheck disable=SC2086
bin="$(swift build $flags --show-bin-path)"

work="$(mktemp -d /tmp/wharf-order.XXXXXX)"
daemon=""
cleanup() {
    if [ -n "$daemon" ] && kill -0 "$daemon" 2>/dev/null; then kill -9 "$daemon" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# valgrind cannot read the DWARF of the toolchain's output: keep only the symbol table.
strip --strip-debug -o "$work/wharfd" "$bin/wharfd"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
admin="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
line='  #listen: "127.0.0.1:9883"'
grep -qF "$line" etc/wharf/wharf.yaml || { log "etc/wharf/wharf.yaml has no commented admin.listen line"; exit 1; }
sed "s|^$line\$|  listen: \"127.0.0.1:$admin\"|" etc/wharf/wharf.yaml >"$work/wharf.yaml"

log "running wharfd under callgrind"
valgrind --tool=callgrind --demangle=no --callgrind-out-file="$work/callgrind.out" \
    "$work/wharfd" --config "$work/wharf.yaml" --data-dir "$work/data" --listen "127.0.0.1:$port" \
    >"$work/wharfd.log" 2>&1 &
daemon=$!

python3 - "$port" "$admin" <<'EOF'
import socket, subprocess, sys, time, urllib.request
port, admin = sys.argv[1], sys.argv[2]
deadline = time.monotonic() + 120
while True:
    try:
        socket.create_connection(("127.0.0.1", int(port)), timeout=1).close()
        urllib.request.urlopen(f"http://127.0.0.1:{admin}/healthz", timeout=5).read()
        break
    except OSError:
        if time.monotonic() > deadline:
            raise SystemExit("wharfd did not start under callgrind")
        time.sleep(0.5)
# MQTT at every QoS, retained and not, with a subscriber; then the admin API.
sub = subprocess.Popen(["mosquitto_sub", "-p", port, "-t", "order/#", "-q", "2", "-C", "6", "-W", "60"],
                       stdout=subprocess.DEVNULL)
time.sleep(3)
for qos in ("0", "1", "2"):
    for retain in ([], ["-r"]):
        subprocess.run(["mosquitto_pub", "-p", port, "-t", f"order/{qos}", "-m", "x", "-q", qos, *retain], check=True)
sub.wait(timeout=90)
for path in ("/healthz", "/metrics", "/api/v1/status", "/api/v1/config"):
    urllib.request.urlopen(f"http://127.0.0.1:{admin}{path}", timeout=30).read()
time.sleep(20)  # idle: health checks, timers, $SYS
EOF

kill -TERM "$daemon"
wait "$daemon" || true
daemon=""

python3 - "$work/callgrind.out" "$bin/wharfd" >packaging/wharfd.order <<'EOF'
import re, subprocess, sys
callgrind, binary = sys.argv[1], sys.argv[2]
# Functions defined exactly once. Local helpers that the compiler emits into many objects under
# one name (objectdestroyTm, outlined copies) are left out: the linker would move every copy,
# and with each the whole section around it in objects built without a section per function
# (the Swift runtime and Foundation).
count = {}
for line in subprocess.run(["nm", "--defined-only", binary], capture_output=True, text=True, check=True).stdout.splitlines():
    parts = line.split()
    if len(parts) == 3 and parts[1] in "tTwW":
        count[parts[2]] = count.get(parts[2], 0) + 1
defined = {name for name, copies in count.items() if copies == 1}
seen, order = set(), []
for line in open(callgrind):
    match = re.match(r"c?fn=\((\d+)\) (.+)", line)
    if match and match.group(1) not in seen:
        seen.add(match.group(1))
        if match.group(2).strip() in defined:
            order.append(match.group(2).strip())
print("\n".join(order))
print(f"gen-order-file: {len(order)} functions", file=sys.stderr)
EOF
log "wrote packaging/wharfd.order; rebuild the package with make deb"

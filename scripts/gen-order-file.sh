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
# The list names functions by symbol, so it is recorded on one architecture (the committed one
# on amd64) and serves both: the Swift functions have the same names on arm64, and a name the
# other architecture lacks is skipped by the linker. Run on an arm64 machine, it records arm64's.
#
# How: builds wharfd as `make deb` does (with a link map), runs it under valgrind's callgrind
# (which records every function executed) with the workload below, and writes the functions
# defined once in wharfd: those in sections of their own in the order they first ran, then
# those in larger sections.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
log() { echo "gen-order-file: $*" >&2; }

scripts/install-deps.sh layout
flags="$(make --no-print-directory -s print-release-flags)"
work="$(mktemp -d /tmp/wharf-order.XXXXXX)"
# The link map tells which input section holds each function (relinks only).
# shellcheck disable=SC2086  # the flags are words
swift build $flags -Xlinker "-Map=$work/wharfd.map" -Xlinker --no-demangle --product wharfd >&2
# shellcheck disable=SC2086
bin="$(swift build $flags --show-bin-path)"

daemon=""
cleanup() {
    if [ -n "$daemon" ] && kill -0 "$daemon" 2>/dev/null; then kill -9 "$daemon" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# valgrind cannot read the DWARF of the toolchain's output: keep only the symbol table.
strip --strip-debug -o "$work/wharfd" "$bin/wharfd"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port="$(free_port)"
admin="$(free_port)"
line='  #listen: "127.0.0.1:9883"'
grep -qF "$line" etc/wharf/wharf.yaml || { log "etc/wharf/wharf.yaml has no commented admin.listen line"; exit 1; }
sed "s|^$line\$|  listen: \"127.0.0.1:$admin\"|" etc/wharf/wharf.yaml >"$work/wharf.yaml"

log "running wharfd under callgrind"
valgrind --tool=callgrind --demangle=no --callgrind-out-file="$work/callgrind.out" \
    "$work/wharfd" --config "$work/wharf.yaml" --data-dir "$work/data" --listen "127.0.0.1:$port" \
    >"$work/wharfd.log" 2>&1 &
daemon=$!

python3 - "$port" "$admin" "$daemon" "$work/callgrind.out" <<'EOF'
import socket, subprocess, sys, time, urllib.request
port, admin, daemon, out = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
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
# What ran so far goes to callgrind.out.1; what runs while idle (health checks, timers, $SYS)
# to callgrind.out.2.
subprocess.run(["callgrind_control", "--dump", daemon], check=True, stdout=subprocess.DEVNULL)
time.sleep(20)
subprocess.run(["callgrind_control", "--dump", daemon], check=True, stdout=subprocess.DEVNULL)
EOF

kill -TERM "$daemon"
wait "$daemon" || true
daemon=""

python3 - "$work/callgrind.out" "$work/wharfd.map" "$bin/wharfd" >packaging/wharfd.order <<'EOF'
import glob, re, subprocess, sys
callgrind, linkmap, binary = sys.argv[1], sys.argv[2], sys.argv[3]
# How many functions of each name the binary defines.
copies = {}
for line in subprocess.run(["nm", "--defined-only", binary], capture_output=True, text=True, check=True).stdout.splitlines():
    parts = line.split()
    if len(parts) == 3 and parts[1] in "tTwW":
        copies[parts[2]] = copies.get(parts[2], 0) + 1
# For every function in .text, the size of the input section that defines it.
section_size, current, in_text = {}, 0, False
for line in open(linkmap):
    match = re.match(r"\s*[0-9a-f]+\s+[0-9a-f]+\s+([0-9a-f]+)\s+\d+\s(.*)$", line.rstrip("\n"))
    if not match:
        continue
    rest = match.group(2)
    if not rest.startswith(" "):
        in_text = rest.strip() == ".text"
    elif in_text and rest.startswith(" " * 16):
        name = rest.strip()
        section_size[name] = max(section_size.get(name, 0), current)
    elif in_text and rest.startswith(" " * 8):
        current = int(match.group(1), 16)
def executed(path):
    """The functions of one callgrind dump, in the order they first appear in it."""
    seen, names = set(), []
    for line in open(path):
        match = re.match(r"c?fn=\((\d+)\) (.+)", line)
        if match and match.group(1) not in seen:
            seen.add(match.group(1))
            names.append(match.group(2).strip())
    return names
# The dump of the idle minute lists what the daemon keeps running; start-up and serving the
# clients come before it, shutting down after.
dumps = sorted(glob.glob(glob.escape(callgrind) + "*"), key=lambda path: (len(path), path))
idle = executed(callgrind + ".2")
listed, order = set(), []
for name in idle + [name for path in dumps for name in executed(path)]:
    if name not in listed:
        listed.add(name)
        # Local helpers that the compiler emits into many objects under one name
        # (objectdestroyTm, outlined copies) are listed too: the linker moves every copy, which
        # costs a few bytes each, while leaving the one that runs where it was would keep a
        # 64 KiB stretch of unrelated code resident around it (the kernel maps pages around a
        # fault).
        if name in section_size:
            order.append(name)
# What runs while idle first, then the rest: each part with its functions in sections of
# their own first, packed in the order they first ran, then the objects compiled without a
# section per function (the Swift runtime), which the linker can only move whole and which
# would otherwise spread the packed ones apart. Start-up's pages are unmapped once it is over
# (ImagePages); what the idle daemon maps back is then one stretch, not pages all over.
idle_set = set(idle)
small = [name for name in order if section_size[name] <= 16384]
large = [name for name in order if section_size[name] > 16384]
parts = [[name for name in part if (name in idle_set) == running] for running in (True, False) for part in (small, large)]
print("\n".join(name for part in parts for name in part))
print(f"gen-order-file: {sum(len(part) for part in parts[:2])} functions run while idle", file=sys.stderr)
shared = sum(1 for name in order if copies.get(name, 0) > 1)
print(f"gen-order-file: {len(small)} functions in sections of their own ({shared} names with several copies), "
      f"then {len(large)} in larger ones", file=sys.stderr)
EOF
log "wrote packaging/wharfd.order; rebuild the package with make deb"

#!/usr/bin/env bash
# Appliance figures of the Debian package (see docs/benchmarks.md, "Package and startup"):
# .deb size, installed size, idle RSS of wharfd on the shipped config, and the time from
# process start to READY=1 on the NOTIFY_SOCKET (and to the MQTT port accepting).
#
#   scripts/bench-appliance.sh [DEB]     default: builds it with `make deb`
#
# Environment:
#   BENCH_STARTS [20]   how many starts are timed
#   BENCH_IDLE [5]      seconds the daemon idles before its RSS is read
#   BENCH_OUT []        also write the table to this file
#
# The binaries measured are the ones in the .deb (stripped, static Swift runtime), run on
# the config the package ships, with three changes so that the run disturbs nothing:
# --data-dir (a fresh temporary directory for each start), --listen (a free port on
# 127.0.0.1) and the admin API on another free port (admin.listen, in a copy of the file). wharfd runs as the invoking user, without systemd; this script is the
# NOTIFY_SOCKET listener, as systemd would be.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
starts="${BENCH_STARTS:-20}"
idle="${BENCH_IDLE:-5}"
log() { echo "bench-appliance: $*" >&2; }

deb="${1:-}"
if [ -z "$deb" ]; then
    make --no-print-directory deb >&2
    deb="$(ls -t dist/wharf_*.deb | head -n 1)"
fi
work="$(mktemp -d /tmp/wharf-bench-appliance.XXXXXX)"
trap 'rm -rf "$work"' EXIT
dpkg-deb --extract "$deb" "$work/root"

deb_kib="$(($(stat -c %s "$deb") / 1024))"
installed_kib="$(dpkg-deb --field "$deb" Installed-Size)"
wharfd_kib="$(($(stat -c %s "$work/root/usr/bin/wharfd") / 1024))"
# wharfctl is a symbolic link to wharfd (one executable); a package of an older version had
# two executables, and its figures say so.
if [ -L "$work/root/usr/bin/wharfctl" ]; then
    binaries="wharfd $wharfd_kib KiB, stripped; wharfctl a link to it"
else
    binaries="wharfd $wharfd_kib KiB, wharfctl $(($(stat -c %s "$work/root/usr/bin/wharfctl") / 1024)) KiB, stripped"
fi
log "timing $starts starts of $(basename "$deb")"

python3 - "$work" "$starts" "$idle" >"$work/figures" <<'EOF'
import os, socket, statistics, subprocess, sys, time

work, starts, idle = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
wharfd = os.path.join(work, "root/usr/bin/wharfd")
shipped = os.path.join(work, "root/etc/wharf/wharf.yaml")

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

def accepts(port):
    with socket.socket() as s:
        s.settimeout(0.05)
        return s.connect_ex(("127.0.0.1", port)) == 0

def config_with_admin_port(n):
    text = open(shipped).read()
    line = '  #listen: "127.0.0.1:9883"\n'
    if line not in text:
        raise SystemExit("the shipped config has no commented admin.listen line to change")
    path = os.path.join(work, f"wharf-{n}.yaml")
    with open(path, "w") as f:
        f.write(text.replace(line, f'  listen: "127.0.0.1:{free_port()}"\n'))
    return path

def start(n):
    """Starts wharfd; returns (process, port, ms to READY=1 or None, ms to accepting)."""
    config = config_with_admin_port(n)
    port = free_port()
    data = os.path.join(work, f"data-{n}")
    path = os.path.join(work, f"notify-{n}")
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(path)
    notify.setblocking(False)
    env = dict(os.environ, NOTIFY_SOCKET=path)
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [wharfd, "--config", config, "--data-dir", data, "--listen", f"127.0.0.1:{port}"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ready = accepting = None
    while time.monotonic() - t0 < 10 and (ready is None or accepting is None):
        if proc.poll() is not None:
            raise SystemExit(f"wharfd exited with status {proc.returncode} at start")
        try:
            while True:
                message = notify.recv(4096).decode(errors="replace")
                if ready is None and "READY=1" in message.split("\n"):
                    ready = (time.monotonic() - t0) * 1000
        except BlockingIOError:
            pass
        if accepting is None and accepts(port):
            accepting = (time.monotonic() - t0) * 1000
        # Without READY=1 support, stop once the port answers and a grace period passed.
        if ready is None and accepting is not None and time.monotonic() - t0 > accepting / 1000 + 1:
            break
        time.sleep(0.0005)
    notify.close()
    if accepting is None:
        proc.kill()
        raise SystemExit("wharfd did not accept connections within 10 s")
    return proc, port, ready, accepting

def stop(proc):
    proc.terminate()
    proc.wait(timeout=15)

ready_ms, accept_ms = [], []
for n in range(starts):
    proc, _, ready, accepting = start(n)
    stop(proc)
    accept_ms.append(accepting)
    if ready is not None:
        ready_ms.append(ready)

# Idle memory: one more start on the default config, left alone, no client connected.
proc, port, _, _ = start("idle")
time.sleep(idle)
status = dict(line.split(":", 1) for line in open(f"/proc/{proc.pid}/status") if ":" in line)
rss_kib = int(status["VmRSS"].split()[0])
hwm_kib = int(status["VmHWM"].split()[0])
threads = int(status["Threads"])
stop(proc)

def summary(values):
    values = sorted(values)
    return f"{statistics.median(values):.0f} ms median, {values[-1]:.0f} ms max"

print(f"ready\t{summary(ready_ms) if ready_ms else 'no READY=1 (this wharfd does not notify systemd)'}")
print(f"ready_count\t{len(ready_ms)}")
print(f"accept\t{summary(accept_ms)}")
print(f"rss\t{rss_kib / 1024:.1f} MiB (peak {hwm_kib / 1024:.1f} MiB, {threads} threads)")
EOF

field() { awk -F '\t' -v key="$1" '$1 == key { print $2 }' "$work/figures"; }
table="$(cat <<EOT
| figure | value | target |
|---|---|---|
| .deb size | $deb_kib KiB ($(basename "$deb")) | |
| installed size | $installed_kib KiB ($binaries) | |
| idle RSS, shipped config, after ${idle}s | $(field rss) | < 20 MB |
| start to READY=1 ($(field ready_count)/$starts starts) | $(field ready) | < 200 ms |
| start to MQTT port accepting ($starts starts) | $(field accept) | |

Machine: $(nproc) cores, $(uname -m), Debian $(cat /etc/debian_version), load average $(cut -d' ' -f1-3 /proc/loadavg) at the end.
EOT
)"
echo "$table"
if [ -n "${BENCH_OUT:-}" ]; then echo "$table" >"$BENCH_OUT"; fi

"""Memory per idle MQTT connection: wharfd against Mosquitto on this machine, in the same run.

For each MQTT version, both brokers are started fresh on 127.0.0.1. Against one broker at a time,
conn_worker.py processes open idle connections (CONNECT with a clean session, CONNACK, then
nothing but PINGREQ once per keep alive) in steps; after each step, once the broker is quiet, its
memory is read from /proc: VmRSS (status) and Pss and Private_Dirty (smaps_rollup). What one
more connection costs is the slope between two steps; the first step's one-time costs (thread
arenas, pools) stay out of it. The connections then go (reset, no TIME_WAIT) and the other broker
is measured the same way.

Prints a Markdown fragment (tables, the 100 000-connection estimate) on stdout; with --json, the
raw readings to that file. See docs/benchmarks.md, "Memory per idle connection".
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
BROKERS = ("wharf", "mosquitto")
LABEL = {"wharf": "Wharf", "mosquitto": "Mosquitto"}


def label(broker: str) -> str:
    if broker.startswith("nio-"):
        return f"bare SwiftNIO server, {broker[4:]}-byte first receive buffer (wharf-bench --idle-server)"
    return LABEL[broker]


def log(text: str) -> None:
    print(f"bench-connections: {text}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, name: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{name} exited at start with status {proc.returncode}")
        with socket.socket() as s:
            s.settimeout(0.2)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"{name} does not listen on 127.0.0.1:{port}")


def memory(pid: int) -> dict[str, int]:
    """VmRSS, RssAnon, Pss, Private_Dirty and descriptors open, in KiB (descriptors: a count)."""
    figures: dict[str, int] = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon"):
                figures[key] = int(value.split()[0])
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        for line in rollup:
            key, _, value = line.partition(":")
            if key in ("Pss", "Private_Dirty"):
                figures[key] = int(value.split()[0])
    figures["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
    return figures


@dataclass
class Broker:
    name: str
    proc: subprocess.Popen
    port: int
    work: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def raise_open_file_limit() -> None:
    """Children inherit the hard open-file limit as their soft one."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def start_wharfd(binary: str, work: Path, extra_yaml: str) -> Broker:
    port = free_port()
    data = work / "wharf-data"
    data.mkdir()
    config = work / "wharf.yaml"
    config.write_text(
        "log:\n  level: warning\nadmin:\n  enabled: false\n"
        "broker:\n  max_connections: 0\n  sys_interval: 0\n"
        f"  listeners:\n    - name: plain\n      bind: 127.0.0.1\n      port: {port}\n" + extra_yaml
    )
    out = open(work / "wharfd.log", "w")
    proc = subprocess.Popen(
        [binary, "--config", str(config), "--data-dir", str(data)], stdout=out, stderr=subprocess.STDOUT
    )
    wait_for_port(port, proc, "wharfd")
    return Broker("wharf", proc, port, work)


def start_idle_server(binary: str, work: Path, receive_buffer: int) -> Broker:
    """wharf-bench --idle-server: a bare SwiftNIO server, NIO's own cost per connection."""
    port = free_port()
    out = open(work / f"idle-server-{receive_buffer}.log", "w")
    proc = subprocess.Popen(
        [binary, "--idle-server", "--host", "127.0.0.1", "--port", str(port), "--receive-buffer", str(receive_buffer)],
        stdout=out, stderr=subprocess.STDOUT,
    )
    wait_for_port(port, proc, "wharf-bench --idle-server")
    return Broker(f"nio-{receive_buffer}", proc, port, work)


def start_mosquitto(binary: str, work: Path) -> Broker:
    port = free_port()
    config = work / "mosquitto.conf"
    config.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nsys_interval 0\n"
        "log_dest stderr\nlog_type error\nlog_type warning\n"
    )
    out = open(work / "mosquitto.log", "w")
    proc = subprocess.Popen([binary, "-c", str(config)], stdout=out, stderr=subprocess.STDOUT)
    wait_for_port(port, proc, "mosquitto")
    return Broker("mosquitto", proc, port, work)


class Workers:
    """The generator's processes, each holding its share of the connections to one broker."""

    def __init__(self, broker: Broker, count: int, mqtt: str, keepalive: int, block: int) -> None:
        self.procs: list[subprocess.Popen] = []
        for w in range(count):
            # 127.<block>.<worker>.1-2: a block of source addresses per broker and version, so that
            # one run never reuses another's ports.
            sources = ",".join(f"127.{block}.{w + 1}.{k}" for k in (1, 2))
            self.procs.append(
                subprocess.Popen(
                    [sys.executable, str(HERE / "conn_worker.py"), "--port", str(broker.port),
                     "--sources", sources, "--mqtt", mqtt, "--keepalive", str(keepalive),
                     "--prefix", f"bench-{block}-{w}"],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                )
            )

    def ask(self, commands: list[dict]) -> list[dict]:
        for proc, command in zip(self.procs, commands):
            assert proc.stdin is not None
            proc.stdin.write(json.dumps(command) + "\n")
            proc.stdin.flush()
        answers = []
        for proc in self.procs:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if not line:
                raise SystemExit(f"a generator process ended (status {proc.wait()})")
            answers.append(json.loads(line))
        return answers

    def open(self, count: int) -> dict:
        shares = [count // len(self.procs) + (1 if i < count % len(self.procs) else 0) for i in range(len(self.procs))]
        answers = self.ask([{"open": share} for share in shares])
        errors: dict[str, int] = {}
        for answer in answers:
            for key, value in answer["errors"].items():
                errors[key] = errors.get(key, 0) + value
        return {
            "held": sum(a["held"] for a in answers),
            "failed": sum(a["failed"] for a in answers),
            "errors": errors,
        }

    def status(self) -> dict:
        answers = self.ask([{"status": 1}] * len(self.procs))
        return {key: sum(a[key] for a in answers) for key in ("held", "pings", "pongs", "lost")}

    def close(self) -> None:
        self.ask([{"close": 1}] * len(self.procs))
        for proc in self.procs:
            proc.wait(timeout=30)


@dataclass
class Series:
    broker: str
    mqtt: str
    readings: list[dict] = field(default_factory=list)  # {"connections": n, **memory}
    problems: list[str] = field(default_factory=list)


def measure(broker: Broker, args: argparse.Namespace, mqtt: str, block: int) -> Series:
    series = Series(broker.name, mqtt)
    time.sleep(args.settle)
    series.readings.append({"connections": 0, **memory(broker.proc.pid)})
    workers = Workers(broker, args.workers, mqtt, args.keepalive, block)
    try:
        held = 0
        for step in args.steps:
            started = time.monotonic()
            result = workers.open(step - held)
            held = result["held"]
            took = time.monotonic() - started
            if result["failed"]:
                series.problems.append(f"{result['failed']} connections failed on the way to {step}: {result['errors']}")
                log(f"  {broker.name} MQTT {mqtt}: {result['failed']} failed: {result['errors']}")
            time.sleep(args.settle)
            if broker.proc.poll() is not None:
                series.problems.append(f"exited with status {broker.proc.returncode} at {step} connections")
                break
            reading = {"connections": held, **memory(broker.proc.pid)}
            series.readings.append(reading)
            log(f"  {broker.name} MQTT {mqtt}: {held} connections in {took:.1f} s, RSS {reading['VmRSS'] / 1024:.1f} MiB, "
                f"{reading['fds']} descriptors")
            if held < step:
                break
        status = workers.status()
        if status["lost"]:
            series.problems.append(f"{status['lost']} idle connections were closed by the broker")
        if status["pings"] > status["pongs"] + status["held"]:
            series.problems.append(f"{status['pings']} PINGREQ, {status['pongs']} PINGRESP")
    finally:
        workers.close()
    return series


def slope(a: dict, b: dict, key: str) -> float | None:
    if b["connections"] == a["connections"]:
        return None
    return (b[key] - a[key]) / (b["connections"] - a["connections"])


def fmt(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:,.{digits}f}".replace(",", " ")


def ratio(a: float | None, b: float | None) -> str:
    return "–" if a is None or not b or b <= 0 else f"{a / b:.1f}×"


def table(wharf: Series, mosquitto: Series) -> list[str]:
    lines = [
        "| connections | Wharf RSS MiB | Mosquitto RSS MiB | Wharf KiB/conn (RSS) | Mosquitto KiB/conn (RSS) "
        "| Wharf/Mosquitto | Wharf KiB/conn (private dirty) | Mosquitto KiB/conn (private dirty) "
        "| Wharf KiB/conn (PSS) | Mosquitto KiB/conn (PSS) | descriptors (W / M) |",
        "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    keys = ("VmRSS", "Private_Dirty", "Pss")
    for i, (w, m) in enumerate(zip(wharf.readings, mosquitto.readings)):
        if i == 0 or w["connections"] != m["connections"]:
            slopes: dict[str, tuple] = {key: (None, None) for key in keys}
        else:
            pw, pm = wharf.readings[i - 1], mosquitto.readings[i - 1]
            slopes = {key: (slope(pw, w, key), slope(pm, m, key)) for key in keys}
        count = fmt(w["connections"], 0)
        if w["connections"] != m["connections"]:
            count += f" / {fmt(m['connections'], 0)}"
        lines.append(
            f"| {count} | {fmt(w['VmRSS'] / 1024, 1)} | {fmt(m['VmRSS'] / 1024, 1)} "
            f"| {fmt(slopes['VmRSS'][0])} | {fmt(slopes['VmRSS'][1])} | {ratio(*slopes['VmRSS'])} "
            f"| {fmt(slopes['Private_Dirty'][0])} | {fmt(slopes['Private_Dirty'][1])} "
            f"| {fmt(slopes['Pss'][0])} | {fmt(slopes['Pss'][1])} | {w['fds']} / {m['fds']} |"
        )
    return lines


def summary(series: Series) -> dict | None:
    """Slope from the first step to the last, and what 100 000 connections would take."""
    r = series.readings
    if len(r) < 3:
        return None
    first, last = r[1], r[-1]
    per = slope(first, last, "VmRSS")
    if per is None:
        return None
    return {
        "per_connection_kib": per,
        "from": first["connections"],
        "to": last["connections"],
        "at_100k_mib": (first["VmRSS"] + (100_000 - first["connections"]) * per) / 1024,
        "idle_mib": r[0]["VmRSS"] / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wharfd", required=True)
    parser.add_argument("--mosquitto", default="/usr/sbin/mosquitto")
    parser.add_argument("--steps", default="1000 5000 10000 15000 18000")
    parser.add_argument("--mqtt", default="5 3.1.1", help="MQTT versions: 5, 3.1.1 or both")
    parser.add_argument("--brokers", default="wharf mosquitto")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--keepalive", type=int, default=60)
    parser.add_argument("--settle", type=float, default=3.0, help="seconds between a step and its reading")
    parser.add_argument("--wharf-yaml", default="", help="YAML appended to wharfd's broker section")
    parser.add_argument("--wharf-bench", help="wharf-bench, to measure bare SwiftNIO servers too")
    parser.add_argument("--floors", default="2048 64", help="their first receive buffer sizes")
    parser.add_argument("--json", help="also write the raw readings here")
    args = parser.parse_args()
    args.steps = sorted({int(s) for s in args.steps.split()})
    brokers = args.brokers.split()
    raise_open_file_limit()
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if args.steps[-1] >= limit:
        raise SystemExit(f"the last step ({args.steps[-1]}) does not fit in the open-file limit ({limit})")

    results: list[Series] = []
    for index, mqtt in enumerate(args.mqtt.split()):
        with tempfile.TemporaryDirectory(prefix="wharf-bench-conn.") as scratch:
            work = Path(scratch)
            running: dict[str, Broker] = {}
            try:
                if "wharf" in brokers:
                    running["wharf"] = start_wharfd(args.wharfd, work, args.wharf_yaml)
                if "mosquitto" in brokers:
                    running["mosquitto"] = start_mosquitto(args.mosquitto, work)
                if args.wharf_bench:
                    for size in args.floors.split():
                        floor = start_idle_server(args.wharf_bench, work, int(size))
                        running[floor.name] = floor
                for b, name in enumerate(list(running)):
                    log(f"{name}, MQTT {mqtt}")
                    results.append(measure(running[name], args, mqtt, block=10 + 10 * index + b))
            finally:
                for broker in running.values():
                    broker.stop()
                for broker in running.values():
                    if broker.proc.returncode not in (0, -15):
                        log(f"{broker.name} ended with status {broker.proc.returncode}; its log:")
                        for name in ("wharfd.log", "mosquitto.log"):
                            path = work / name
                            if path.exists():
                                sys.stderr.write(path.read_text()[-2000:])

    if args.json:
        Path(args.json).write_text(
            json.dumps([{"broker": s.broker, "mqtt": s.mqtt, "readings": s.readings, "problems": s.problems}
                        for s in results], indent=1)
        )
    out: list[str] = []
    for mqtt in args.mqtt.split():
        by = {s.broker: s for s in results if s.mqtt == mqtt}
        out.append(f"**MQTT {mqtt}**, idle connections with a clean session, keep alive {args.keepalive} s:")
        out.append("")
        if "wharf" in by and "mosquitto" in by:
            out.extend(table(by["wharf"], by["mosquitto"]))
        else:
            for s in by.values():
                out.append(f"{label(s.broker)}: " + ", ".join(
                    f"{r['connections']}: {r['VmRSS'] / 1024:.1f} MiB" for r in s.readings))
        out.append("")
        for s in by.values():
            total = summary(s)
            if total:
                out.append(
                    f"- {label(s.broker)}: {total['per_connection_kib']:.2f} KiB per connection from "
                    f"{fmt(total['from'], 0)} to {fmt(total['to'], 0)} connections (RSS); idle "
                    f"{total['idle_mib']:.1f} MiB; 100 000 connections would take about "
                    f"{fmt(total['at_100k_mib'], 0)} MiB."
                )
            for problem in s.problems:
                out.append(f"- {label(s.broker)}: {problem}")
        out.append("")
    print("\n".join(out).rstrip())


if __name__ == "__main__":
    main()

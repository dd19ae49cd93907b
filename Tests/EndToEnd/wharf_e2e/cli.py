"""mosquitto_pub / mosquitto_sub as independent third-party clients."""

from __future__ import annotations

import subprocess
import threading
from dataclasses import dataclass
from typing import Sequence

from .client import Collector, Received

MOSQUITTO_PUB = "mosquitto_pub"
MOSQUITTO_SUB = "mosquitto_sub"
# 'MSG|' marks message lines among the -d debug lines; the payload comes last so it may hold '|'.
_FORMAT = "MSG|%t|%q|%r|%p"


def _version_arg(version: int) -> list[str]:
    return ["-V", {3: "mqttv31", 4: "mqttv311", 5: "mqttv5"}[version]]


def mosquitto_pub(
    host: str,
    port: int,
    topic: str,
    message: str,
    *,
    qos: int = 0,
    retain: bool = False,
    version: int = 5,
    extra: Sequence[str] = (),
    timeout: float = 10.0,
) -> subprocess.CompletedProcess[str]:
    """Runs mosquitto_pub to completion and asserts it succeeded."""
    args = [MOSQUITTO_PUB, "-h", host, "-p", str(port), "-t", topic, "-m", message, "-q", str(qos)]
    args += _version_arg(version)
    if retain:
        args.append("-r")
    args += list(extra)
    done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, f"mosquitto_pub failed ({done.returncode}): {done.stderr}"
    return done


@dataclass
class MosquittoSub:
    """A running mosquitto_sub whose output is parsed into Received messages."""

    proc: subprocess.Popen[str]
    messages: Collector
    subscribed: threading.Event
    lines: list[str]

    def wait(self, count: int, timeout: float = 10.0) -> list[Received]:
        return self.messages.wait(count, timeout)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_mosquitto_sub(
    host: str,
    port: int,
    topics: Sequence[str],
    *,
    qos: int = 0,
    version: int = 5,
    extra: Sequence[str] = (),
    timeout: float = 10.0,
) -> MosquittoSub:
    """Starts mosquitto_sub and returns once its SUBACK arrived."""
    # stdbuf: the -d debug lines (SUBACK) would otherwise sit in a pipe buffer.
    args = ["stdbuf", "-oL", MOSQUITTO_SUB, "-h", host, "-p", str(port), "-q", str(qos), "-d", "-F", _FORMAT]
    args += _version_arg(version)
    for topic in topics:
        args += ["-t", topic]
    args += list(extra)
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True, bufsize=1
    )
    sub = MosquittoSub(proc, Collector(), threading.Event(), [])

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip("\n")
            sub.lines.append(line)
            if "received SUBACK" in line:
                sub.subscribed.set()
            elif line.startswith("MSG|"):
                _, topic, q, retain, payload = line.split("|", 4)
                sub.messages.add(Received(topic, payload.encode(), int(q), retain == "1", False))
        sub.subscribed.set()  # unblock the waiter if the process died

    threading.Thread(target=read, daemon=True).start()
    if not sub.subscribed.wait(timeout) or proc.poll() is not None:
        sub.stop()
        raise AssertionError(f"mosquitto_sub did not subscribe: {sub.lines}")
    return sub

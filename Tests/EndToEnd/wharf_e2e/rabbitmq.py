"""A real 3-node RabbitMQ cluster with the MQTT plugin on 127.0.0.1, standing in for a cloud cluster.

Debian's `rabbitmq-server` (3.10, Erlang/OTP 25) runs unprivileged here, entirely inside the
cluster's directory: each node has its own node name (`rabbit1@localhost`...), AMQP,
distribution and MQTT ports, data, log and configuration files and `enabled_plugins`; the nodes
share a cookie (`$HOME/.erlang.cookie`, with HOME pointing into the directory) and an epmd of
the cluster's own on a free loopback port (the nodes are told `-start_epmd false`, so no shared
epmd is started on 4369). Nodes 2 and 3 join node 1 with `stop_app; join_cluster; start_app`,
the documented recipe (docs/cloud-cluster.md walks through the same steps by hand).

Gotchas this module handles (see the document):
- only the scripts in /usr/lib/rabbitmq/bin are called: /usr/sbin/rabbitmqctl switches to the
  rabbitmq user when run as root and loses HOME and the cookie;
- every process gets files, never pipes, for its output: Erlang hands its descriptors to the
  processes it starts, and a pipe held by one of them keeps a reader waiting forever;
- readiness is a CONNECT accepted on the MQTT listener, which opens last;
- RabbitMQ speaks MQTT 3.1 and 3.1.1 only.

Node numbers are 1-based, as in the node names.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from .broker import HOST, _listening
from .client import MqttClient
from .cloud import stable_port

RABBITMQ_BIN = Path(os.environ.get("WHARF_E2E_RABBITMQ_BIN", "/usr/lib/rabbitmq/bin"))
EPMD = os.environ.get("WHARF_E2E_EPMD", "/usr/bin/epmd")
# A node's start on a busy 2-core machine; MQTT after a restart on old data can take longer
# (the node waits for its peers' tables), see `READY_TIMEOUT_AFTER_OUTAGE`.
READY_TIMEOUT = float(os.environ.get("WHARF_E2E_RABBITMQ_READY_TIMEOUT", "90"))
# After losing two nodes or a cold restart on old data, MQTT may take ~100 s to accept clients.
READY_TIMEOUT_AFTER_OUTAGE = 150.0
CTL_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0


def installed() -> bool:
    """Whether Debian's rabbitmq-server and Erlang's epmd are there."""
    return (RABBITMQ_BIN / "rabbitmq-server").is_file() and Path(EPMD).exists()


def mqtt_accepts(port: int, timeout: float = 3.0) -> bool:
    """Whether an MQTT 3.1.1 CONNECT (clean session) on `port` gets CONNACK 0 (then DISCONNECT)."""
    client_id = f"probe-{random.randrange(1 << 30)}".encode()
    variable = b"\x00\x04MQTT\x04\x02\x00\x0a"
    body = variable + len(client_id).to_bytes(2, "big") + client_id
    try:
        with socket.create_connection((HOST, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(bytes([0x10, len(body)]) + body)
            answer = b""
            while len(answer) < 4:
                chunk = sock.recv(4 - len(answer))
                if not chunk:
                    return False
                answer += chunk
            if answer != b"\x20\x02\x00\x00":
                return False
            sock.sendall(b"\xe0\x00")
            return True
    except OSError:
        return False


def _free_ports(count: int, exclude: set[int]) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:
        port = stable_port()
        if port not in exclude and port not in ports:
            ports.append(port)
    return ports


def _free_block(size: int, exclude: set[int]) -> int:
    """The first of `size` consecutive free ports below the ephemeral range (for the CLI's distribution)."""
    for _ in range(100):
        base = stable_port()
        block = set(range(base, base + size))
        if block & exclude:
            continue
        if all(not _listening(HOST, port) for port in block):
            return base
    raise AssertionError(f"no {size} consecutive free ports")


@dataclass(frozen=True)
class NodeEndpoint:
    """One node's MQTT listener, shaped like `Cloud` for `CloudSubscriber` and the `clients` fixture."""

    host: str
    port: int

    def client(self, **kwargs: object) -> MqttClient:
        """An unconnected paho client for this node (RabbitMQ takes MQTT 3.1.1 only: pass version=V311)."""
        return MqttClient(self.host, self.port, **kwargs)  # type: ignore[arg-type]


@dataclass
class RabbitNode:
    """One node: its name, ports and directory, and its process while it runs."""

    number: int
    directory: Path
    amqp_port: int
    dist_port: int
    mqtt_port: int
    proc: subprocess.Popen[bytes] | None = None

    @property
    def name(self) -> str:
        return f"rabbit{self.number}@localhost"

    @property
    def log_path(self) -> Path:
        return self.directory / "log" / "rabbit.log"

    @property
    def console_path(self) -> Path:
        return self.directory / "console.out"

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def config(self) -> str:
        return "\n".join(
            [
                f"listeners.tcp.1 = {HOST}:{self.amqp_port}",
                f"mqtt.listeners.tcp.1 = {HOST}:{self.mqtt_port}",
                "mqtt.allow_anonymous = true",
                # Persistent MQTT sessions in quorum queues, replicated on the three nodes: a
                # session resumes on another node after a node dies (the default, classic
                # queues, keeps a session on one node only).
                "mqtt.durable_queue_type = quorum",
                "log.file.level = info",
                "log.console = false",
                # A test machine's disk may be nearly full of build products: do not block
                # publishers at RabbitMQ's 50 MB default alarm before the disk is really short.
                "disk_free_limit.absolute = 10MB",
            ]
        ) + "\n"

    def tail(self, chars: int = 3000) -> str:
        parts = []
        for path in (self.console_path, self.log_path):
            try:
                parts.append(f"--- {path.name}:\n{path.read_text(errors='replace')[-chars:]}")
            except FileNotFoundError:
                pass
        return "\n".join(parts)


class RabbitCluster:
    """Three RabbitMQ nodes with MQTT on 127.0.0.1, clustered, in `workdir`; stop_all() leaves nothing running."""

    def __init__(self, workdir: Path, size: int = 3) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.home = workdir / "home"
        self.home.mkdir(exist_ok=True)
        cookie = self.home / ".erlang.cookie"
        cookie.write_text("WHARF" + "".join(random.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(20)))
        cookie.chmod(0o400)
        taken: set[int] = set()
        [self.epmd_port] = _free_ports(1, taken)
        taken.add(self.epmd_port)
        self.nodes: list[RabbitNode] = []
        for number in range(1, size + 1):
            amqp, dist, mqtt = _free_ports(3, taken)
            taken |= {amqp, dist, mqtt}
            directory = workdir / f"rabbit{number}"
            (directory / "log").mkdir(parents=True, exist_ok=True)
            self.nodes.append(RabbitNode(number, directory, amqp, dist, mqtt))
        # The CLI tools are Erlang nodes too: their distribution listens in this range.
        self.ctl_dist_port = _free_block(11, taken)
        self.epmd: subprocess.Popen[bytes] | None = None
        self.failures: list[str] = []

    # -- lookup ------------------------------------------------------------------------ #

    def node(self, number: int) -> RabbitNode:
        assert 1 <= number <= len(self.nodes), f"no node {number}"
        return self.nodes[number - 1]

    def mqtt_port(self, number: int) -> int:
        """The MQTT listener of node `number` (1-based)."""
        return self.node(number).mqtt_port

    def endpoint(self, number: int) -> NodeEndpoint:
        """Node `number`'s MQTT listener as a target for `CloudSubscriber` and the `clients` fixture."""
        return NodeEndpoint(HOST, self.mqtt_port(number))

    @property
    def numbers(self) -> list[int]:
        return [node.number for node in self.nodes]

    # -- environment ------------------------------------------------------------------- #

    def _base_env(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("RABBITMQ_", "ERL_")) and key not in ("NOTIFY_SOCKET", "HOME")
        }
        env.update(
            {
                "HOME": str(self.home),
                "ERL_EPMD_PORT": str(self.epmd_port),
                "ERL_EPMD_ADDRESS": HOST,
                "RABBITMQ_CONF_ENV_FILE": str(self.workdir / "rabbitmq-env.conf"),
                "RABBITMQ_CTL_ERL_ARGS": "-start_epmd false",
                "RABBITMQ_CTL_DIST_PORT_MIN": str(self.ctl_dist_port),
                "RABBITMQ_CTL_DIST_PORT_MAX": str(self.ctl_dist_port + 10),
                "LANG": "C.UTF-8",
                "LC_ALL": "C.UTF-8",
            }
        )
        return env

    def _node_env(self, node: RabbitNode) -> dict[str, str]:
        env = self._base_env()
        env.update(
            {
                "RABBITMQ_NODENAME": node.name,
                "RABBITMQ_NODE_IP_ADDRESS": HOST,
                "RABBITMQ_NODE_PORT": str(node.amqp_port),
                "RABBITMQ_DIST_PORT": str(node.dist_port),
                "RABBITMQ_CONFIG_FILE": str(node.directory / "rabbitmq.conf"),
                "RABBITMQ_ADVANCED_CONFIG_FILE": str(node.directory / "advanced.config"),
                "RABBITMQ_ENABLED_PLUGINS_FILE": str(node.directory / "enabled_plugins"),
                "RABBITMQ_MNESIA_BASE": str(node.directory / "mnesia"),
                "RABBITMQ_LOG_BASE": str(node.directory / "log"),
                "RABBITMQ_LOGS": str(node.log_path),
                "RABBITMQ_PID_FILE": str(node.directory / "rabbit.pid"),
                # No epmd of Erlang's own (it would be shared, on 4369, and outlive the
                # cluster), and the distribution on loopback only.
                "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-start_epmd false -kernel inet_dist_use_interface {127,0,0,1}",
            }
        )
        return env

    # -- processes ---------------------------------------------------------------------- #

    def _start_epmd(self) -> None:
        if self.epmd is not None and self.epmd.poll() is None:
            return
        with open(self.workdir / "epmd.out", "ab") as out:
            self.epmd = subprocess.Popen(
                [EPMD, "-port", str(self.epmd_port), "-address", HOST],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self._base_env(),
                start_new_session=True,
            )
        deadline = time.monotonic() + 10
        while not _listening(HOST, self.epmd_port):
            if self.epmd.poll() is not None:
                raise AssertionError(f"epmd exited with {self.epmd.returncode} on port {self.epmd_port}")
            assert time.monotonic() < deadline, "epmd did not listen within 10 s"
            time.sleep(0.05)

    def _launch(self, node: RabbitNode) -> None:
        """Starts the node's process (its own process group) without waiting for it."""
        assert not node.alive(), f"{node.name} already running"
        (node.directory / "rabbitmq.conf").write_text(node.config())
        (node.directory / "enabled_plugins").write_text("[rabbitmq_mqtt].\n")
        (self.workdir / "rabbitmq-env.conf").touch()
        with open(node.console_path, "ab") as out:
            out.write(f"==== start {time.strftime('%H:%M:%S')}\n".encode())
            out.flush()
            node.proc = subprocess.Popen(
                [str(RABBITMQ_BIN / "rabbitmq-server")],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self._node_env(node),
                cwd=node.directory,
                start_new_session=True,
            )

    def ctl(self, number: int, *args: str, tool: str = "rabbitmqctl", timeout: float = CTL_TIMEOUT) -> str:
        """Runs a CLI tool of /usr/lib/rabbitmq/bin against node `number`; its output, or AssertionError."""
        node = self.node(number)
        out_path = self.workdir / "ctl.out"
        with open(out_path, "ab") as out:
            start = out.tell()
            out.write(f"==== {time.strftime('%H:%M:%S')} {tool} -n {node.name} {' '.join(args)}\n".encode())
            out.flush()
            proc = subprocess.Popen(
                [str(RABBITMQ_BIN / tool), "-n", node.name, *args],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self._base_env(),
                start_new_session=True,
            )
            try:
                status = proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                status = None
        with open(out_path, "rb") as log:
            log.seek(start)
            output = log.read().decode(errors="replace")
        if status != 0:
            raise AssertionError(
                f"{tool} -n {node.name} {' '.join(args)}: "
                + ("timed out" if status is None else f"exit {status}")
                + f"\n{output[-3000:]}\n{node.tail()}"
            )
        return output

    def wait_ready(self, number: int, timeout: float = READY_TIMEOUT) -> None:
        """Waits until node `number`'s MQTT listener accepts a CONNECT (the listener opens last)."""
        node = self.node(number)
        deadline = time.monotonic() + timeout
        while not mqtt_accepts(node.mqtt_port):
            if not node.alive():
                code = node.proc.returncode if node.proc is not None else None
                raise AssertionError(f"{node.name} exited with {code} while starting:\n{node.tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{node.name}: MQTT not accepting on {node.mqtt_port} after {timeout} s:\n{node.tail()}"
                )
            time.sleep(0.25)

    # -- the whole cluster ---------------------------------------------------------------- #

    def start_all(self) -> None:
        """Cold start: epmd, three fresh nodes, nodes 2.. joined to node 1, every MQTT listener accepting."""
        try:
            self._start_epmd()
            for node in self.nodes:
                self._launch(node)
            for node in self.nodes:
                self.wait_ready(node.number)
            first = self.nodes[0].name
            for node in self.nodes[1:]:
                self.ctl(node.number, "stop_app")
                self.ctl(node.number, "join_cluster", first)
                self.ctl(node.number, "start_app")
            for node in self.nodes:
                self.wait_ready(node.number)
            self.check_cluster()
        except BaseException:
            self.stop_all()
            raise

    def running_nodes(self, via: int | None = None) -> list[str]:
        """The cluster's running nodes as node `via` (the first running node by default) reports them."""
        number = via if via is not None else next(n.number for n in self.nodes if n.alive())
        output = self.ctl(number, "eval", "lists:sort(rabbit_nodes:all_running()).")
        return sorted(token.strip(" '[]\n") for token in output.split("\n", 1)[-1].split(",") if "@" in token)

    def check_cluster(self) -> None:
        """Every node runs and node 1 sees them all in one cluster."""
        expected = sorted(node.name for node in self.nodes)
        deadline = time.monotonic() + 60
        while True:
            running = self.running_nodes()
            if running == expected:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"cluster runs {running}, expected {expected}")
            time.sleep(1)

    def stop_all(self) -> None:
        """Stops every node (SIGTERM, SIGKILL to the process group after a bound) and epmd; nothing stays."""
        for node in self.nodes:
            if node.alive() and node.proc is not None:
                node.proc.send_signal(signal.SIGTERM)
        for node in self.nodes:
            self._reap(node)
        if self.epmd is not None:
            _signal_group(self.epmd, signal.SIGKILL)
            self.epmd.wait()
            self.epmd = None

    def _reap(self, node: RabbitNode, timeout: float = STOP_TIMEOUT) -> None:
        proc = node.proc
        if proc is None:
            return
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.failures.append(f"{node.name} ignored SIGTERM for {timeout} s")
        # Whatever the node started (erl_child_setup, inet_gethost, a df) goes with it.
        _signal_group(proc, signal.SIGKILL)
        proc.wait()
        node.proc = None
        for port in (node.mqtt_port, node.amqp_port, node.dist_port):
            deadline = time.monotonic() + 10
            while _listening(HOST, port):
                assert time.monotonic() < deadline, f"{node.name}: port {port} still listening after the node exited"
                time.sleep(0.05)

    # -- one node ------------------------------------------------------------------------ #

    def kill9(self, number: int) -> None:
        """SIGKILL to node `number`'s whole process tree (its process group)."""
        node = self.node(number)
        assert node.proc is not None, f"{node.name} is not running"
        _signal_group(node.proc, signal.SIGKILL)
        self._reap(node, timeout=10)

    def stop(self, number: int) -> None:
        """A clean stop of node `number` (SIGTERM: RabbitMQ shuts down in order); the others keep running."""
        node = self.node(number)
        assert node.proc is not None, f"{node.name} is not running"
        node.proc.send_signal(signal.SIGTERM)
        self._reap(node)

    def start(self, number: int, *, wait: bool = True, timeout: float = READY_TIMEOUT_AFTER_OUTAGE) -> None:
        """Starts node `number` again on its data: it rejoins the cluster by itself; waits for its MQTT."""
        self._start_epmd()
        self._launch(self.node(number))
        if wait:
            self.wait_ready(number, timeout)

    def restart(self, number: int) -> None:
        self.stop(number)
        self.start(number)

    def await_quorum_plus_one(self, number: int, timeout: int = 60) -> None:
        """Waits until stopping node `number` leaves every quorum queue (the MQTT sessions) a majority."""
        self.ctl(
            number, "await_online_quorum_plus_one", "-t", str(timeout), tool="rabbitmq-upgrade", timeout=timeout + 30
        )

    def rolling_restart(self, order: Iterable[int] | None = None, between: Callable[[int], None] | None = None) -> None:
        """Restarts the nodes one at a time (stop, start, MQTT accepting), never taking a quorum queue below a
        majority; `between(number)` runs while node `number` is down."""
        for number in list(order) if order is not None else self.numbers:
            self.await_quorum_plus_one(number)
            self.stop(number)
            if between is not None:
                between(number)
            self.start(number)

    def repair(self) -> None:
        """Starts what is not running and waits for every MQTT listener: the state tests must leave behind."""
        self._start_epmd()
        down = [node for node in self.nodes if not node.alive()]
        for node in down:
            self._launch(node)
        for node in self.nodes:
            self.wait_ready(node.number, READY_TIMEOUT_AFTER_OUTAGE if down else READY_TIMEOUT)


def _signal_group(proc: subprocess.Popen[bytes], signum: int) -> None:
    """`signum` to the process group `proc` leads (started with start_new_session)."""
    try:
        os.killpg(proc.pid, signum)
    except ProcessLookupError:
        pass

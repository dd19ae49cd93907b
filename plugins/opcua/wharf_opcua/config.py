"""The OPC UA plugin's configuration: the adapter's `config:` section, checked whole.

Every problem is reported at once with its key path (`endpoints[0].nodes[2].node: ...`), like
`wharfd --check` does for the built-in adapters. Pure: no I/O, no asyncua.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

NAME = re.compile(r"^[a-z0-9_-]+$")
POINT = re.compile(r"^[A-Za-z0-9_.\-]+(/[A-Za-z0-9_.\-]+)*$")
NODE_ID = re.compile(r"^(ns=\d+;)?[isgb]=.+$")
DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)$")
UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
POLICIES = ("None", "Basic256Sha256")
MODES = ("Sign", "SignAndEncrypt")
PLACEHOLDERS = ("{adapter}", "{endpoint}", "{point}")


class ConfigError(ValueError):
    """The configuration has problems; `problems` lists each with its key path."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Backoff:
    """Reconnect delays: before retry n a random time in [0, min(cap, base * 2^n)]."""

    base: float = 1.0
    cap: float = 60.0
    stable_after: float = 30.0


@dataclass(frozen=True)
class Security:
    """How the client secures its channel; policy None means no security."""

    policy: str = "None"
    mode: str = "SignAndEncrypt"
    certificate: str = ""
    private_key: str = ""
    private_key_password: str = ""
    server_certificate: str = ""


@dataclass(frozen=True)
class Point:
    """One OPC UA variable and where its values go."""

    node: str
    name: str
    topic: str
    command_topic: str
    result_topic: str
    writable: bool = False
    unit: str | None = None
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class Endpoint:
    """One OPC UA server and the points read from it."""

    name: str
    url: str
    status_topic: str
    points: list[Point]
    security: Security = field(default_factory=Security)
    username: str = ""
    password: str = ""
    application_uri: str = "urn:wharf:opcua-client"
    mode: str = "subscribe"
    publishing_interval: float = 0.5
    sampling_interval: float = 0.0
    poll_interval: float = 1.0
    timeout: float = 4.0


@dataclass(frozen=True)
class Config:
    """The whole configuration."""

    endpoints: list[Endpoint]
    qos: int = 1
    retain: bool = False
    backoff: Backoff = field(default_factory=Backoff)
    max_queued_values: int = 10000


class _Reader:
    """Reads typed keys from one mapping, recording problems under its path."""

    def __init__(self, data: Any, path: str, problems: list[str], known: tuple[str, ...]) -> None:
        self.data = data if isinstance(data, dict) else {}
        self.path, self.problems = path, problems
        if not isinstance(data, dict):
            problems.append(f"{path or 'config'}: expected a mapping, got {type(data).__name__}")
        for key in self.data:
            if key not in known:
                problems.append(f"{self.at(key)}: unknown key '{key}'")

    def at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def problem(self, key: str, message: str) -> None:
        self.problems.append(f"{self.at(key)}: {message}")

    def text(self, key: str, default: str | None = None) -> str:
        value = self.data.get(key, default)
        if value is None:
            self.problem(key, "required")
            return ""
        if not isinstance(value, str):
            self.problem(key, f"expected text, got {value!r}")
            return default or ""
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            self.problem(key, f"expected true or false, got {value!r}")
            return default
        return value

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        value = self.data.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            self.problem(key, f"expected an integer from {low} to {high}, got {value!r}")
            return default
        return value

    def number(self, key: str) -> float | None:
        value = self.data.get(key)
        if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool)):
            self.problem(key, f"expected a number, got {value!r}")
            return None
        return None if value is None else float(value)

    def duration(self, key: str, default: float, minimum: float = 0.0) -> float:
        value = self.data.get(key)
        if value is None:
            return default
        seconds = parse_duration(value)
        if seconds is None or seconds < minimum:
            self.problem(key, f"expected a duration such as 500ms, 1s or 2m (at least {minimum:g}s), got {value!r}")
            return default
        return seconds

    def choice(self, key: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.text(key, default)
        if value not in choices:
            self.problem(key, f"expected one of {', '.join(choices)}, got {value!r}")
            return default
        return value

    def template(self, key: str, default: str) -> str:
        value = self.text(key, default)
        probe = value
        for placeholder in PLACEHOLDERS:
            probe = probe.replace(placeholder, "x")
        if re.search(r"[{}+#\x00]", probe) or not probe or probe.startswith("/"):
            self.problem(key, f"expected a topic with placeholders {', '.join(PLACEHOLDERS)}, got {value!r}")
            return default
        return value


def parse_duration(value: Any) -> float | None:
    """Seconds from `500ms`, `1s`, `2m`, `1h` or a plain number of seconds; None when invalid."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value) if value >= 0 else None
    match = DURATION.match(value) if isinstance(value, str) else None
    return float(match.group(1)) * UNITS[match.group(2)] if match else None


def render(template: str, adapter: str, endpoint: str, point: str = "") -> str:
    """A topic from a template."""
    return template.replace("{adapter}", adapter).replace("{endpoint}", endpoint).replace("{point}", point)


def default_point_name(node: str) -> str:
    """A point name from a node id: its identifier without quotes, characters unfit for a topic replaced.

    `ns=3;s="DB_Line"."Temperature"` gives `DB_Line.Temperature`, `ns=2;i=1001` gives `1001`.
    """
    identifier = node.split(";", 1)[-1].split("=", 1)[-1].replace('"', "")
    return re.sub(r"[^A-Za-z0-9_.\-]", "_", identifier) or "node"


TOP_KEYS = (
    "endpoints",
    "topic",
    "command_topic",
    "result_topic",
    "status_topic",
    "qos",
    "retain",
    "backoff",
    "max_queued_values",
)
ENDPOINT_KEYS = (
    "name",
    "url",
    "security",
    "username",
    "password",
    "application_uri",
    "mode",
    "publishing_interval",
    "sampling_interval",
    "poll_interval",
    "timeout",
    "nodes",
    "topic",
    "command_topic",
    "result_topic",
    "status_topic",
)
NODE_KEYS = ("node", "name", "topic", "writable", "unit", "min", "max")
SECURITY_KEYS = ("policy", "mode", "certificate", "private_key", "private_key_password", "server_certificate")


def parse_config(data: Any, adapter: str) -> Config:
    """The configuration from the adapter's `config:` section; raises ConfigError listing every problem."""
    problems: list[str] = []
    top = _Reader(data, "", problems, TOP_KEYS)
    templates = {
        "topic": top.template("topic", "devices/{endpoint}/{point}"),
        "command_topic": top.template("command_topic", "devices/{endpoint}/{point}/set"),
        "result_topic": top.template("result_topic", "devices/{endpoint}/{point}/set/result"),
        "status_topic": top.template("status_topic", "devices/{endpoint}/$status"),
    }
    b = _Reader(top.data.get("backoff", {}), "backoff", problems, ("base", "cap", "stable_after"))
    backoff = Backoff(b.duration("base", 1.0, 0.001), b.duration("cap", 60.0, 0.001), b.duration("stable_after", 30.0))
    raw_endpoints = top.data.get("endpoints")
    if not isinstance(raw_endpoints, list) or not raw_endpoints:
        top.problem("endpoints", "expected a list of at least one endpoint")
        raw_endpoints = []
    endpoints = [_endpoint(raw, f"endpoints[{i}]", problems, templates, adapter) for i, raw in enumerate(raw_endpoints)]
    names = [e.name for e in endpoints]
    for i, name in enumerate(names):
        if name in names[:i]:
            problems.append(f"endpoints[{i}].name: '{name}' is used by another endpoint")
    writers: dict[str, str] = {}  # command topic -> the point that has it
    for i, endpoint in enumerate(endpoints):
        for j, point in enumerate(endpoint.points):
            where = f"endpoints[{i}].nodes[{j}]"
            if point.writable and point.command_topic in writers:
                problems.append(
                    f"{where}: command topic {point.command_topic} is also {writers[point.command_topic]}'s"
                )
            elif point.writable:
                writers[point.command_topic] = where
    config = Config(
        endpoints,
        top.integer("qos", 1, 0, 1),
        top.boolean("retain", False),
        backoff,
        top.integer("max_queued_values", 10000, 1, 10_000_000),
    )
    if problems:
        raise ConfigError(problems)
    return config


def _endpoint(raw: Any, path: str, problems: list[str], defaults: dict[str, str], adapter: str) -> Endpoint:
    r = _Reader(raw, path, problems, ENDPOINT_KEYS)
    name = r.text("name")
    if name and not NAME.match(name):
        r.problem("name", f"expected lowercase letters, digits, '_' and '-', got {name!r}")
    url = r.text("url")
    if url and not url.startswith("opc.tcp://"):
        r.problem("url", f"expected an opc.tcp:// address, got {url!r}")
    t = {key: r.template(key, value) for key, value in defaults.items()}
    s = _Reader(r.data.get("security", {}), f"{path}.security", problems, SECURITY_KEYS)
    security = Security(
        s.choice("policy", "None", POLICIES),
        s.choice("mode", "SignAndEncrypt", MODES),
        s.text("certificate", ""),
        s.text("private_key", ""),
        s.text("private_key_password", ""),
        s.text("server_certificate", ""),
    )
    if security.policy != "None":
        for key in ("certificate", "private_key", "server_certificate"):
            if not getattr(security, key):
                s.problem(key, f"required with policy {security.policy} (see docs/opcua.md, Security)")
    points: list[Point] = []
    raw_nodes = r.data.get("nodes")
    if not isinstance(raw_nodes, list) or not raw_nodes:
        r.problem("nodes", "expected a list of at least one node")
        raw_nodes = []
    for i, raw_node in enumerate(raw_nodes):
        n = _Reader(raw_node, f"{path}.nodes[{i}]", problems, NODE_KEYS)
        node = n.text("node")
        if node and not NODE_ID.match(node):
            n.problem("node", f"expected a node id such as ns=2;s=Line1.Temperature or ns=2;i=1001, got {node!r}")
        point = n.text("name", default_point_name(node))
        if not POINT.match(point):
            n.problem("name", f"expected letters, digits, '_', '-', '.' (levels separated by '/'), got {point!r}")
        if point in [p.name for p in points]:
            n.problem("name", f"'{point}' is used by another node of this endpoint")
        topic = n.template("topic", t["topic"])
        unit = n.data.get("unit")
        points.append(
            Point(
                node,
                point,
                render(topic, adapter, name, point),
                render(t["command_topic"], adapter, name, point),
                render(t["result_topic"], adapter, name, point),
                n.boolean("writable", False),
                str(unit) if unit is not None else None,
                n.number("min"),
                n.number("max"),
            )
        )
    return Endpoint(
        name,
        url,
        render(t["status_topic"], adapter, name),
        points,
        security,
        r.text("username", ""),
        r.text("password", ""),
        r.text("application_uri", "urn:wharf:opcua-client"),
        r.choice("mode", "subscribe", ("subscribe", "poll")),
        r.duration("publishing_interval", 0.5, 0.01),
        r.duration("sampling_interval", 0.0),
        r.duration("poll_interval", 1.0, 0.01),
        r.duration("timeout", 4.0, 0.1),
    )

"""A PLC-like OPC UA server for the OPC UA suite, on asyncua: run as a process so a test can kill it.

    python opcua_plc.py --port P [--secure CERT KEY] [--trust CERT]... [--no-subscriptions]

Its namespace looks like a Siemens S7-1500's: the data block `DB_Line` in namespace 3 with string
node ids such as `ns=3;s="DB_Line"."Temperature"`, and one numeric node id in namespace 2:

| node id | type | initial | writable by clients |
|---|---|---|---|
| ns=3;s="DB_Line"."Running" | Boolean | true | yes |
| ns=3;s="DB_Line"."Mode" | Int16 | 1 | yes |
| ns=3;s="DB_Line"."Count" | Int32 | 42 | no |
| ns=3;s="DB_Line"."TotalCount" | Int64 | 9007199254740993 (2^53 + 1) | no |
| ns=3;s="DB_Line"."Alarms" | UInt16 | 513 | no |
| ns=3;s="DB_Line"."Serial" | UInt64 | 18446744073709551000 | no |
| ns=3;s="DB_Line"."Temperature" | Float | 21.5 | no |
| ns=3;s="DB_Line"."Setpoint" | Double | 12.5 | yes |
| ns=3;s="DB_Line"."Recipe" | String | "PVC-A" | yes |
| ns=3;s="DB_Line"."Started" | DateTime | 2026-01-02T03:04:05Z | no |
| ns=3;s="DB_Line"."Profile" | Double[] | [1.0, 2.5, 4.0] | yes |
| ns=3;s="DB_Line"."Blob" | ByteString | 00 ff 10 | no |
| ns=2;i=1001 (Speed) | UInt32 | 4000000000 | no |

`--secure`: the only endpoints are Basic256Sha256 Sign and SignAndEncrypt with that certificate.
`--trust`: only clients presenting one of these certificates are accepted (any, without it).
`--no-subscriptions`: CreateSubscription fails with BadServiceUnsupported, as on small servers.

It prints `ready` on stdout once it listens, then serves commands on stdin, one per line, each
answered by one line on stdout (`ok`, a JSON value, or `error ...`), as the PLC program would
change its variables:
    set NAME JSON        write a value (NAME: the browse name, e.g. Count or Speed)
    get NAME             the value, as JSON
    status NAME CODE     give the variable a status code such as BadSensorFailure (value kept)
    reset                every variable back to its initial value and Good
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime
import json
import sys
from typing import Any

from asyncua import Node, Server, ua
from asyncua.common.utils import ServiceError
from asyncua.crypto import uacrypto
from asyncua.server.internal_session import InternalSession

VENDOR_NAMESPACE = "urn:wharf:test-plc:vendor"  # index 2
S7_NAMESPACE = "urn:wharf:test-plc:s7"  # index 3
STARTED = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
# (browse name, initial value, type, writable by clients)
VARIABLES: list[tuple[str, Any, ua.VariantType, bool]] = [
    ("Running", True, ua.VariantType.Boolean, True),
    ("Mode", 1, ua.VariantType.Int16, True),
    ("Count", 42, ua.VariantType.Int32, False),
    ("TotalCount", 2**53 + 1, ua.VariantType.Int64, False),
    ("Alarms", 513, ua.VariantType.UInt16, False),
    ("Serial", 18446744073709551000, ua.VariantType.UInt64, False),
    ("Temperature", 21.5, ua.VariantType.Float, False),
    ("Setpoint", 12.5, ua.VariantType.Double, True),
    ("Recipe", "PVC-A", ua.VariantType.String, True),
    ("Started", STARTED, ua.VariantType.DateTime, False),
    ("Profile", [1.0, 2.5, 4.0], ua.VariantType.Double, True),
    ("Blob", b"\x00\xff\x10", ua.VariantType.ByteString, False),
]
SPEED = ("Speed", 4000000000, ua.VariantType.UInt32, False)


def refuse_subscriptions() -> None:
    """Make CreateSubscription fail as on a server without subscription support."""

    async def create_subscription(self: InternalSession, *args: Any, **kwargs: Any) -> Any:
        raise ServiceError(ua.StatusCodes.BadServiceUnsupported)

    InternalSession.create_subscription = create_subscription  # type: ignore[method-assign]


def trust_only(certificates: list[str]) -> Any:
    """A certificate validator that accepts exactly these client certificates."""
    trusted: set[bytes] = set()

    async def validate(certificate: Any, app_description: ua.ApplicationDescription) -> None:
        if not trusted:
            for path in certificates:
                trusted.add(uacrypto.der_from_x509(await uacrypto.load_certificate(path)))
        if uacrypto.der_from_x509(certificate) not in trusted:
            raise ServiceError(ua.StatusCodes.BadCertificateUntrusted)

    return validate


def from_json(value: Any, vtype: ua.VariantType) -> Any:
    """A value given on the command line as the server stores it."""
    if vtype == ua.VariantType.DateTime:
        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if vtype == ua.VariantType.ByteString:
        return base64.b64decode(value)
    if vtype in (ua.VariantType.Float, ua.VariantType.Double):
        return [float(v) for v in value] if isinstance(value, list) else float(value)
    return value


def to_json(value: Any) -> Any:
    """A stored value as JSON for `get`."""
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


class Plc:
    """The server and its variables."""

    def __init__(self) -> None:
        self.server = Server()
        self.nodes: dict[str, tuple[Node, Any, ua.VariantType]] = {}

    async def start(self, args: argparse.Namespace) -> None:
        server = self.server
        await server.init()
        server.set_endpoint(f"opc.tcp://127.0.0.1:{args.port}/plc")
        server.set_server_name("Wharf test PLC")
        if args.secure:
            await server.load_certificate(args.secure[0])
            await server.load_private_key(args.secure[1])
            server.set_security_policy(
                [ua.SecurityPolicyType.Basic256Sha256_Sign, ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt]
            )
        else:
            server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
        if args.trust:
            server.set_certificate_validator(trust_only(args.trust))
        vendor = await server.register_namespace(VENDOR_NAMESPACE)
        s7 = await server.register_namespace(S7_NAMESPACE)
        block = await server.nodes.objects.add_object(ua.NodeId('"DB_Line"', s7), ua.QualifiedName("DB_Line", s7))
        for name, value, vtype, writable in VARIABLES:
            await self.add(block, ua.NodeId(f'"DB_Line"."{name}"', s7), name, value, vtype, writable)
        name, value, vtype, writable = SPEED
        await self.add(server.nodes.objects, ua.NodeId(1001, vendor), name, value, vtype, writable)

    async def add(
        self, parent: Node, nodeid: ua.NodeId, name: str, value: Any, vtype: ua.VariantType, writable: bool
    ) -> None:
        node = await parent.add_variable(
            nodeid, ua.QualifiedName(name, nodeid.NamespaceIndex), ua.Variant(value, vtype)
        )
        if writable:
            await node.set_writable()
        self.nodes[name] = (node, value, vtype)

    async def write(self, name: str, value: Any, status: ua.StatusCode | None = None) -> None:
        node, _, vtype = self.nodes[name]
        now = datetime.datetime.now(datetime.UTC)
        data = ua.DataValue(ua.Variant(value, vtype), SourceTimestamp=now)
        if status is not None:
            data.StatusCode = status
        await node.write_value(data)

    async def command(self, line: str) -> str:
        """One command line; its answer."""
        verb, _, rest = line.strip().partition(" ")
        try:
            if verb == "reset":
                for name, (_, initial, _) in self.nodes.items():
                    await self.write(name, initial)
                return "ok"
            name, _, argument = rest.partition(" ")
            node, _, vtype = self.nodes[name]
            if verb == "set":
                await self.write(name, from_json(json.loads(argument), vtype))
                return "ok"
            if verb == "get":
                return json.dumps(to_json(await node.read_value()))
            if verb == "status":
                code = ua.StatusCode(getattr(ua.StatusCodes, argument))
                await self.write(name, await node.read_value(), code)
                return "ok"
        except Exception as error:  # answered, so that the test sees what went wrong
            return f"error {type(error).__name__}: {error}"
        return f"error unknown command {line.strip()!r}"

    async def serve(self) -> None:
        """Serve until stdin closes (the test ended) or the process is killed."""
        loop = asyncio.get_running_loop()
        async with self.server:
            sys.stdout.write("ready\n")
            sys.stdout.flush()
            while line := await loop.run_in_executor(None, sys.stdin.readline):
                sys.stdout.write(await self.command(line) + "\n")
                sys.stdout.flush()


async def run(args: argparse.Namespace) -> None:
    plc = Plc()
    await plc.start(args)
    await plc.serve()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secure", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--trust", action="append", default=[], metavar="CERT")
    parser.add_argument("--no-subscriptions", action="store_true")
    args = parser.parse_args()
    if args.no_subscriptions:
        refuse_subscriptions()
    asyncio.run(run(args))


if __name__ == "__main__":
    main()

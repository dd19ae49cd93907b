"""wharf-opcua's tools for security setup (docs/opcua.md, Security).

wharf-opcua make-certificate [--dir DIR] [--name NAME] [--application-uri URI] [--hostname HOST] [--days N]
wharf-opcua fetch-certificate URL FILE
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
from pathlib import Path

DEFAULT_DIR = "/etc/wharf/opcua"
DEFAULT_URI = "urn:wharf:opcua-client"


def thumbprints(der: bytes) -> str:
    """The SHA-1 thumbprint (what OPC UA servers show in their trust lists) and the SHA-256 fingerprint."""
    import hashlib

    def colons(digest: bytes) -> str:
        return ":".join(f"{b:02X}" for b in digest)

    sha1, sha256 = colons(hashlib.sha1(der).digest()), colons(hashlib.sha256(der).digest())
    return f"  SHA-1 thumbprint   {sha1}\n  SHA-256            {sha256}"


def make_certificate(args: argparse.Namespace) -> int:
    """A key and a self-signed application certificate for the client (OPC 10000-6, 6.2.2)."""
    from asyncua.crypto import cert_gen
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.x509.oid import ExtendedKeyUsageOID

    directory = Path(args.dir)
    cert_der, cert_pem, key_pem = (directory / f"{args.name}{suffix}" for suffix in (".der", ".pem", ".key.pem"))
    existing = [str(p) for p in (cert_der, cert_pem, key_pem) if p.exists()]
    if existing and not args.force:
        print(f"make-certificate: {', '.join(existing)} exist already (--force replaces them)", file=sys.stderr)
        return 1
    directory.mkdir(parents=True, exist_ok=True)
    key = cert_gen.generate_private_key()
    names = [x509.UniformResourceIdentifier(args.application_uri), x509.DNSName(args.hostname)]
    certificate = cert_gen.generate_self_signed_app_certificate(
        key, args.common_name, {}, names, [ExtendedKeyUsageOID.CLIENT_AUTH], days=args.days
    )
    der = certificate.public_bytes(serialization.Encoding.DER)
    # The key first, created unreadable to others from the start.
    descriptor = os.open(key_pem, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(cert_gen.dump_private_key_as_pem(key))
    cert_der.write_bytes(der)
    cert_pem.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    until = certificate.not_valid_after_utc.strftime("%Y-%m-%d")
    print(
        f"wrote {key_pem} (the private key), {cert_der} and {cert_pem} (the certificate, DER and PEM)\n"
        f"  application URI    {args.application_uri}\n  valid until        {until}\n{thumbprints(der)}\n"
        f"Import {cert_der} into the server's trusted client certificates; the key must be readable by "
        "the wharf user (chgrp wharf, chmod 640)."
    )
    return 0


async def _fetch(url: str, timeout: float) -> list[tuple[str, str, bytes]]:
    from asyncua import Client

    client = Client(url, timeout=timeout)
    endpoints = await client.connect_and_get_server_endpoints()
    return [
        (e.SecurityPolicyUri.rsplit("#", 1)[-1], e.SecurityMode.name, e.ServerCertificate or b"") for e in endpoints
    ]


def fetch_certificate(args: argparse.Namespace) -> int:
    """Save the certificate a server presents, for `server_certificate`, after showing what to compare."""
    from cryptography.hazmat.primitives import serialization

    try:
        endpoints = asyncio.run(asyncio.wait_for(_fetch(args.url, args.timeout), args.timeout * 2))
    except Exception as error:
        print(f"fetch-certificate: {args.url}: {error or type(error).__name__}", file=sys.stderr)
        return 1
    secured = [(policy, mode, cert) for policy, mode, cert in endpoints if cert and policy != "None"]
    if not secured:
        offered = ", ".join(f"{policy}/{mode}" for policy, mode, _ in endpoints) or "nothing"
        print(f"fetch-certificate: {args.url} offers no secured endpoint ({offered})", file=sys.stderr)
        return 1
    from asyncua.crypto import uacrypto

    certificate = uacrypto.x509_from_der(secured[0][2])  # the first of a chain
    der = certificate.public_bytes(serialization.Encoding.DER)
    out = Path(args.file)
    data = certificate.public_bytes(serialization.Encoding.PEM) if out.suffix == ".pem" else der
    out.write_bytes(data)
    policies = ", ".join(sorted({f"{policy}/{mode}" for policy, mode, _ in secured}))
    since, until = certificate.not_valid_before_utc, certificate.not_valid_after_utc
    print(
        f"wrote {out}: the certificate {args.url} presents\n"
        f"  subject            {certificate.subject.rfc4514_string()}\n"
        f"  valid              {since:%Y-%m-%d} to {until:%Y-%m-%d}\n"
        f"  endpoints          {policies}\n{thumbprints(der)}\n"
        "It came over an unsecured channel: compare the thumbprint with the one the server shows "
        "(its configuration tool or display) before you use it as server_certificate."
    )
    return 0


def run_tool(argv: list[str]) -> int:
    """Run a tool; its exit status."""
    parser = argparse.ArgumentParser(prog="wharf-opcua", description="Wharf's OPC UA plugin and its tools.")
    sub = parser.add_subparsers(dest="tool", required=True)
    make = sub.add_parser("make-certificate", help="make the client's key and self-signed certificate")
    make.add_argument("--dir", default=DEFAULT_DIR, help=f"where the files go (default {DEFAULT_DIR})")
    make.add_argument("--name", default="wharf-opcua", help="file name stem (default wharf-opcua)")
    make.add_argument(
        "--application-uri", default=DEFAULT_URI, help=f"the endpoint's application_uri (default {DEFAULT_URI})"
    )
    make.add_argument(
        "--hostname", default=socket.gethostname(), help="DNS name in the certificate (default: this host's)"
    )
    make.add_argument("--common-name", default="Wharf OPC UA client", help="the subject's CN")
    make.add_argument("--days", type=int, default=3650, help="validity (default 3650)")
    make.add_argument("--force", action="store_true", help="replace existing files")
    fetch = sub.add_parser("fetch-certificate", help="save a server's certificate (.der, or .pem by extension)")
    fetch.add_argument("url", help="opc.tcp://host:port/path")
    fetch.add_argument("file", help="where to write it")
    fetch.add_argument("--timeout", type=float, default=5.0, help="seconds (default 5)")
    args = parser.parse_args(argv)
    if args.tool == "make-certificate":
        return make_certificate(args)
    return fetch_certificate(args)

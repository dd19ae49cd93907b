"""Test certificates made with the openssl CLI: a CA, a server and a client certificate, and an unrelated CA."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

OPENSSL = "openssl"
_EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


def _openssl(*args: str) -> None:
    done = subprocess.run(
        [OPENSSL, *args], capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL
    )
    assert done.returncode == 0, f"openssl {' '.join(args)} failed: {done.stderr}"


@dataclass(frozen=True)
class Certificates:
    """PEM files in `directory`: ca, server (127.0.0.1 and localhost), client, and other-ca (signed nothing)."""

    directory: Path

    def path(self, name: str) -> str:
        return str(self.directory / name)

    @property
    def ca_file(self) -> str:
        return self.path("ca.crt")

    @property
    def other_ca_file(self) -> str:
        return self.path("other-ca.crt")

    @property
    def server_cert(self) -> str:
        return self.path("server.crt")

    @property
    def server_key(self) -> str:
        return self.path("server.key")

    @property
    def client_cert(self) -> str:
        return self.path("client.crt")

    @property
    def client_key(self) -> str:
        return self.path("client.key")

    @classmethod
    def make(cls, directory: Path) -> "Certificates":
        directory.mkdir(parents=True, exist_ok=True)
        certs = cls(directory)
        certs._make_ca("ca", "/CN=Wharf E2E Test CA")
        certs._make_ca("other-ca", "/CN=Unrelated E2E CA")
        certs._make_leaf(
            "server",
            "/CN=localhost",
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
        )
        certs._make_leaf("client", "/CN=wharf-gw1", "extendedKeyUsage=clientAuth\n")
        return certs

    def add_client(self, name: str, subject: str, *, issuer: str = "ca", san: str = "") -> tuple[str, str]:
        """Another client certificate signed by `issuer` ("ca" or "other-ca"), with an optional
        subjectAltName such as "DNS:x"; returns the (certificate, key) paths."""
        extensions = "extendedKeyUsage=clientAuth\n" + (f"subjectAltName={san}\n" if san else "")
        self._make_leaf(name, subject, extensions, issuer=issuer)
        return self.path(f"{name}.crt"), self.path(f"{name}.key")

    def add_expired_client(self, name: str, subject: str) -> tuple[str, str]:
        """A client certificate signed by "ca" whose validity ended in 2020 (`openssl ca` sets both
        dates; `openssl x509` of OpenSSL 3.0 cannot backdate); returns the (certificate, key) paths."""
        _openssl("req", *_EC, "-keyout", self.path(f"{name}.key"), "-out", self.path(f"{name}.csr"), "-subj", subject)
        database = self.directory / f"{name}-ca"
        database.mkdir(exist_ok=True)
        (database / "index.txt").write_text("")
        (database / "serial").write_text("1000\n")
        (database / "ca.cnf").write_text(
            "[ca]\ndefault_ca = expired\n[expired]\n"
            f"database = {database / 'index.txt'}\nnew_certs_dir = {database}\nserial = {database / 'serial'}\n"
            "default_md = sha256\npolicy = anything\n[anything]\ncommonName = supplied\n"
        )
        (self.directory / f"{name}.ext").write_text("extendedKeyUsage=clientAuth\n")
        _openssl(
            "ca", "-batch", "-notext", "-config", str(database / "ca.cnf"),
            "-cert", self.ca_file, "-keyfile", self.path("ca.key"), "-in", self.path(f"{name}.csr"),
            "-out", self.path(f"{name}.crt"), "-extfile", self.path(f"{name}.ext"),
            "-startdate", "20200101000000Z", "-enddate", "20200102000000Z",
        )  # fmt: skip
        return self.path(f"{name}.crt"), self.path(f"{name}.key")

    def _make_ca(self, name: str, subject: str) -> None:
        _openssl(
            "req", "-x509", *_EC,
            "-keyout", self.path(f"{name}.key"), "-out", self.path(f"{name}.crt"),
            "-days", "2", "-subj", subject,
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        )  # fmt: skip

    def _make_leaf(self, name: str, subject: str, extensions: str, issuer: str = "ca") -> None:
        (self.directory / f"{name}.ext").write_text(extensions)
        _openssl(
            "req", *_EC, "-keyout", self.path(f"{name}.key"), "-out", self.path(f"{name}.csr"), "-subj", subject
        )  # fmt: skip
        _openssl(
            "x509", "-req", "-in", self.path(f"{name}.csr"),
            "-CA", self.path(f"{issuer}.crt"), "-CAkey", self.path(f"{issuer}.key"), "-CAcreateserial",
            "-out", self.path(f"{name}.crt"), "-days", "2", "-extfile", self.path(f"{name}.ext"),
        )  # fmt: skip

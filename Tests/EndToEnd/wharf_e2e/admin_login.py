"""HTTP(S) requests to the admin API with headers, bodies and cookies, for the login suite."""

from __future__ import annotations

import http.client
import json
import ssl
from dataclasses import dataclass
from typing import Any


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: str

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def cookie(self) -> str | None:
        """The session token of a Set-Cookie header, if any."""
        value = self.headers.get("set-cookie", "")
        first = value.split(";", 1)[0]
        name, _, token = first.partition("=")
        return token if name == "wharf_session" and token else None


def request(
    port: int,
    method: str,
    path: str,
    *,
    body: bytes | None = None,
    cookie: str | None = None,
    headers: dict[str, str] | None = None,
    tls: ssl.SSLContext | None = None,
    timeout: float = 10.0,
) -> Answer:
    """One request on a connection of its own (HTTPS with `tls`)."""
    if tls is not None:
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            "127.0.0.1", port, timeout=timeout, context=tls
        )
    else:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    sent = dict(headers or {})
    if cookie is not None:
        sent["Cookie"] = f"wharf_session={cookie}"
    if body is not None:
        sent["Content-Length"] = str(len(body))
    try:
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        data = response.read().decode(errors="replace")
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
    finally:
        connection.close()


def login(port: int, user: str, password: str, **kwargs: Any) -> Answer:
    body = json.dumps({"user": user, "password": password}).encode()
    return request(port, "POST", "/api/v1/session", body=body, headers={"Content-Type": "application/json"}, **kwargs)

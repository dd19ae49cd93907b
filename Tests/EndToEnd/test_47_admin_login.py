"""47 admin API, login: sessions against the password file, the cookie, the action header,
throttled guessing, no password over plain HTTP across the network, HTTPS.

Tests reach the daemon from 127.0.0.1 only. `admin.trust_loopback: false` makes a peer on this
machine one like any other (it is the setting for a reverse proxy on the box), so these suites
exercise the path of a peer on the network; which addresses count as this machine is unit-tested
(PeerIdentity)."""

from __future__ import annotations

import secrets
import ssl
import subprocess
import tempfile
from pathlib import Path

import pytest

from wharf_e2e.admin import admin_yaml, get, wait_for_admin, wait_until, wharfctl
from wharf_e2e.admin_events import EventStream
from wharf_e2e.admin_login import login, request
from wharf_e2e.broker import Broker, BrokerOptions, free_port, wharfd_path
from wharf_e2e.certs import Certificates

pytestmark = pytest.mark.wharf_only(reason="Wharf's admin HTTP API")

ADMIN_PORT = free_port()
DIRECTORY = Path(tempfile.mkdtemp(prefix="wharf-e2e-admin-login-"))
PASSWD = DIRECTORY / "admin-passwd"
CERTS = DIRECTORY / "certs"


@pytest.fixture(scope="module", autouse=True)
def _password_file() -> None:
    """ann / s3cret, made by `wharfctl passwd` as an operator would."""
    result = wharfctl("passwd", "-c", "-b", str(PASSWD), "ann", "s3cret")
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def certificates() -> Certificates:
    return Certificates.make(CERTS)


def _admin(extra: str = "") -> str:
    return admin_yaml(ADMIN_PORT, f'  trust_loopback: false\n  password_file: "{PASSWD}"\n' + extra)


REMOTE = pytest.mark.broker_config(wharf_extra_yaml=_admin("  allow_insecure_login: true\n"))


def _login() -> str:
    answer = login(ADMIN_PORT, "ann", "s3cret")
    assert answer.status == 204, answer
    assert answer.cookie
    return answer.cookie


@REMOTE
def test_without_a_session_only_health_and_the_session_endpoint_answer(broker: Broker) -> None:
    wait_for_admin(ADMIN_PORT)
    for path in ["/api/v1/status", "/api/v1/config", "/api/v1/logs", "/api/v1/history", "/metrics"]:
        answer = request(ADMIN_PORT, "GET", path)
        assert answer.status == 401, path
        assert answer.headers["content-type"].startswith("application/json")
        assert answer.json() == {"error": "login required"}
    events = EventStream(ADMIN_PORT).open()
    assert events.status == 401
    events.close()
    assert request(ADMIN_PORT, "GET", "/healthz").status == 200
    assert request(ADMIN_PORT, "GET", "/api/v1/session").json() == {"login_required": True, "user": None}


@REMOTE
def test_a_wrong_password_is_401_and_logged_without_the_password(broker: Broker) -> None:
    wait_for_admin(ADMIN_PORT)
    for user, password in [("ann", "hunter2-guess"), ("nobody", "s3cret")]:
        answer = login(ADMIN_PORT, user, password)
        assert answer.status == 401
        assert answer.cookie is None
        assert answer.json() == {"error": "wrong user name or password"}
    wait_until(lambda: broker.log().count("admin login failed") >= 2, what="the failures logged")
    assert "admin.peer=127.0.0.1" in broker.log()
    assert "hunter2-guess" not in broker.log()


@REMOTE
def test_the_right_password_opens_a_session_until_logout(broker: Broker) -> None:
    wait_for_admin(ADMIN_PORT)
    answer = login(ADMIN_PORT, "ann", "s3cret")
    assert answer.status == 204
    cookie = answer.headers["set-cookie"]
    assert "; HttpOnly" in cookie and "; SameSite=Strict" in cookie and "; Path=/" in cookie
    assert "; Max-Age=28800" in cookie
    assert "Secure" not in cookie, "plain HTTP"
    token = answer.cookie
    assert request(ADMIN_PORT, "GET", "/api/v1/status", cookie=token).json()["gateway_id"]
    assert request(ADMIN_PORT, "GET", "/api/v1/session", cookie=token).json() == {"login_required": True, "user": "ann"}
    stream = EventStream(ADMIN_PORT).open(headers=f"Cookie: wharf_session={token}\r\n")
    assert stream.status == 200 and stream.next_event().name == "status"
    stream.close()
    assert "admin login" in broker.log()

    logout = request(ADMIN_PORT, "DELETE", "/api/v1/session", cookie=token)
    assert logout.status == 204
    assert "Max-Age=0" in logout.headers["set-cookie"]
    assert request(ADMIN_PORT, "GET", "/api/v1/status", cookie=token).status == 401


@REMOTE
def test_a_forged_cookie_is_401(broker: Broker) -> None:
    wait_for_admin(ADMIN_PORT)
    _login()
    for forged in [secrets.token_urlsafe(32), "A" * 43, "x", ""]:
        assert request(ADMIN_PORT, "GET", "/api/v1/status", cookie=forged).status == 401, forged


@REMOTE
def test_an_action_needs_its_header_even_with_a_session(broker: Broker) -> None:
    """A cross-site form can make the browser POST, but cannot add a header."""
    wait_for_admin(ADMIN_PORT)
    token = _login()
    path = "/api/v1/plugins/line1/restart"
    refused = request(ADMIN_PORT, "POST", path, cookie=token, body=b"")
    assert refused.status == 403
    assert "X-Wharf-Action: 1" in refused.json()["error"]
    form = request(
        ADMIN_PORT, "POST", path, cookie=token, body=b"a=1", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert form.status == 403
    taken = request(ADMIN_PORT, "POST", path, cookie=token, body=b"", headers={"X-Wharf-Action": "1"})
    assert taken.status == 404, "admitted: there is no such plugin"
    line = wait_until(
        lambda: next((line for line in broker.log().splitlines() if f"admin action {path} by ann" in line), None),
        what="the action logged with its user",
    )
    assert "admin.user=ann" in line and "admin.peer=127.0.0.1" in line
    # The header alone does not replace the session.
    assert request(ADMIN_PORT, "POST", path, body=b"", headers={"X-Wharf-Action": "1"}).status == 401


@pytest.mark.broker_config(
    wharf_extra_yaml=_admin("  allow_insecure_login: true\n  login_failures_per_minute: 3\n")
)
def test_guessing_is_throttled(broker: Broker) -> None:
    wait_for_admin(ADMIN_PORT)
    for _ in range(3):
        assert login(ADMIN_PORT, "ann", "guess").status == 401
    throttled = login(ADMIN_PORT, "ann", "s3cret")
    assert throttled.status == 429, "even the right password waits"
    assert 1 <= int(throttled.headers["retry-after"]) <= 60
    assert "try again" in throttled.json()["error"]
    assert throttled.cookie is None
    assert "further attempts from this address are refused" in broker.log()


@pytest.mark.broker_config(wharf_extra_yaml=_admin())
def test_no_login_over_plain_http_across_the_network(broker: Broker) -> None:
    wait_for_admin(ADMIN_PORT)
    answer = login(ADMIN_PORT, "ann", "s3cret")
    assert answer.status == 403
    assert answer.cookie is None
    assert "admin.tls" in answer.json()["error"] and "allow_insecure_login" in answer.json()["error"]


def _tls_yaml(certificates: Certificates, extra: str) -> str:
    return (
        f"  tls:\n    cert_file: {certificates.server_cert}\n    key_file: {certificates.server_key}\n" + extra
    )


@pytest.fixture
def tls_context(certificates: Certificates) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=certificates.ca_file)


def test_login_over_https_gives_a_secure_cookie(tmp_path: Path, certificates: Certificates, tls_context) -> None:
    yaml = _admin(_tls_yaml(certificates, ""))
    daemon = Broker("wharfd", BrokerOptions(wharf_extra_yaml=yaml), tmp_path)
    daemon.start()
    try:
        wait_until(lambda: request(ADMIN_PORT, "GET", "/healthz", tls=tls_context).status == 200, what="HTTPS")
        answer = login(ADMIN_PORT, "ann", "s3cret", tls=tls_context)
        assert answer.status == 204
        assert answer.headers["set-cookie"].endswith("; Secure")
        status = request(ADMIN_PORT, "GET", "/api/v1/status", cookie=answer.cookie, tls=tls_context)
        assert status.status == 200
        # Plain HTTP on the same port is for this machine's trusted peers only; here there are none.
        plain = request(ADMIN_PORT, "GET", "/api/v1/status", cookie=answer.cookie)
        assert plain.status == 403
        assert "https://" in plain.json()["error"]
    finally:
        daemon.stop()
    daemon.check_clean_exit()


def test_wharfctl_keeps_working_beside_https_and_login(tmp_path: Path, certificates: Certificates, tls_context) -> None:
    """Open to other machines with a login and HTTPS, the API still serves wharfctl on the box
    over plain HTTP, actions included (it sends the action header)."""
    yaml = admin_yaml(
        ADMIN_PORT,
        f'  allow_remote: true\n  password_file: "{PASSWD}"\n' + _tls_yaml(certificates, ""),
    )
    daemon = Broker("wharfd", BrokerOptions(wharf_extra_yaml=yaml), tmp_path)
    daemon.start()
    try:
        wait_for_admin(ADMIN_PORT)
        assert request(ADMIN_PORT, "GET", "/api/v1/session").json() == {"login_required": False, "user": None}
        status = wharfctl("status", "--url", f"http://127.0.0.1:{ADMIN_PORT}")
        assert status.returncode == 0, status.stderr
        restart = wharfctl("plugin", "restart", "line1", "--url", f"http://127.0.0.1:{ADMIN_PORT}")
        assert "named 'line1' is running" in restart.stderr, restart  # the daemon's 404, not a refusal
        assert "admin action /api/v1/plugins/line1/restart by local" in daemon.log()
        # Browsers on the same port over HTTPS.
        assert request(ADMIN_PORT, "GET", "/healthz", tls=tls_context).status == 200
    finally:
        daemon.stop()
    daemon.check_clean_exit()


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ('  password_file: "{dir}/missing-passwd"\n', "admin.password_file"),
        ("  tls:\n    cert_file: {dir}/missing.crt\n    key_file: {dir}/missing.key\n", "admin.tls.cert_file"),
    ],
)
def test_check_names_the_admin_files(tmp_path: Path, extra: str, key: str) -> None:
    config = tmp_path / "wharf.yaml"
    config.write_text(admin_yaml(ADMIN_PORT, extra.replace("{dir}", str(tmp_path))))
    result = subprocess.run(
        [str(wharfd_path()), "--check", "--config", str(config)], capture_output=True, text=True, timeout=15
    )
    assert result.returncode != 0
    # file:line:column: key: what is wrong with the file it names
    line = next((line for line in result.stderr.splitlines() if f": {key}: " in line), "")
    assert line.startswith(f"{config}:"), result.stderr
    assert "cannot read" in line and "No such file or directory" in line, result.stderr

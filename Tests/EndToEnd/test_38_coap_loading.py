"""wharfd is not linked with libcoap: it loads libcoap (and with it OpenSSL's libssl and libcrypto)
when a CoAP adapter starts, so a gateway without one never maps them."""

from __future__ import annotations

from pathlib import Path

from wharf_e2e.broker import Broker
from wharf_e2e.coap import CoapConfig, coap_factory, wharf_only  # noqa: F401 - fixtures
from wharf_e2e.coap_cli import assert_code, post

pytestmark = wharf_only


def mapped_libraries(pid: int) -> set[str]:
    """The file names of the shared objects mapped into process `pid`."""
    names = set()
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        fields = line.split()
        if len(fields) >= 6 and ".so" in fields[5]:
            names.add(Path(fields[5]).name)
    return names


def loaded(names: set[str], prefix: str) -> bool:
    return any(name.startswith(prefix) for name in names)


def test_without_a_coap_adapter_libcoap_and_openssl_are_not_loaded(broker: Broker) -> None:
    assert broker.proc is not None
    names = mapped_libraries(broker.proc.pid)
    assert loaded(names, "libsqlite3"), names  # the check reads the right process
    assert not loaded(names, "libcoap"), names
    assert not loaded(names, "libssl"), names
    assert not loaded(names, "libcrypto"), names


def test_a_coap_adapter_loads_libcoap_when_it_starts(coap_factory) -> None:
    gateway = coap_factory(CoapConfig())
    assert gateway.broker.proc is not None
    assert loaded(mapped_libraries(gateway.broker.proc.pid), "libcoap-3-openssl.so.3")
    assert_code(post(gateway, "t/devices/plc-1/temp", b"21.5"), "2.04")

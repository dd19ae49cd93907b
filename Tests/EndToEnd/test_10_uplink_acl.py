"""The uplink is a principal of its own (`user wharf:uplink` in the ACL file): the cloud writes
only the local topics that section allows, and forward rules take only what it may read."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from wharf_e2e.cloud import Cloud
from wharf_e2e.gateway import Forward, RemoteSubscribe, UplinkOptions

pytestmark = pytest.mark.wharf_only(reason="Wharf's uplink")

ACL = """\
user operator
topic readwrite #
user wharf:uplink
topic write commands/valve/#
topic read devices/#
"""


def test_the_cloud_writes_and_reads_only_what_the_uplink_section_allows(
    cloud: Cloud, gateway_factory, clients, tmp_path: Path
) -> None:
    acl = tmp_path / "acl"
    acl.write_text(ACL)
    gateway = gateway_factory(
        UplinkOptions(port=cloud.port, subscribe=(RemoteSubscribe(),), forward=(Forward("#"),)),
        acl_file=str(acl),
    )
    local = clients(gateway, username="operator")
    local.subscribe("commands/#", 1)
    remote = clients(cloud)
    remote.subscribe("site/#", 1)

    # The uplink subscribes right after connecting: repeat the first command until it gets through.
    deadline = time.monotonic() + 15
    while not local.messages.snapshot():
        assert time.monotonic() < deadline, "no cloud command arrived locally"
        remote.publish("cmd/gw1/valve/open", b"first", 1)
        time.sleep(0.3)
    local.messages.clear()
    remote.publish("cmd/gw1/pump/start", b"not for the uplink to write", 1)
    remote.publish("cmd/gw1/valve/close", b"allowed", 1)
    items = local.messages.wait_for(lambda got: any(m.payload == b"allowed" for m in got), 10)
    assert [m.topic for m in items] == ["commands/valve/close"]

    # Forwarding reads as the uplink: devices/... goes to the cloud, plant/... stays local.
    local.publish("plant/secret", b"stays here", 1)
    local.publish("devices/plc/temp", b"goes up", 1)
    forwarded = remote.messages.wait_for(lambda got: any(m.payload == b"goes up" for m in got), 10)
    assert [m.topic for m in forwarded if m.topic.startswith("site/")] == ["site/gw1/devices/plc/temp"]

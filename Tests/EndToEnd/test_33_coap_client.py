"""wharfd as a CoAP client (`devices:`): aiocoap devices polled and observed with their values
arriving on MQTT, MQTT commands that become PUT/POST requests with the result published, and
devices that are down or come and go."""

from __future__ import annotations

import json
import time

from wharf_e2e.coap import (  # noqa: F401 - fixtures
    CoapConfig,
    Device,
    coap_factory,
    coap_mqtt,
    free_udp_port,
    wharf_only,
)
from wharf_e2e.coap_aio import (  # noqa: F401 - fixtures
    coap_device,
    coap_loop,
)
from wharf_e2e.coap_cli import (
    assert_coap_serves,
)

pytestmark = wharf_only


def values(watcher, topic: str) -> list[bytes]:  # noqa: ANN001
    return [m.payload for m in watcher.messages.snapshot() if m.topic == topic]


def wait_value(watcher, topic: str, value: bytes, timeout: float = 10.0) -> None:  # noqa: ANN001
    watcher.messages.wait_for(lambda got: any(m.topic == topic and m.payload == value for m in got), timeout)


def test_polled_device_values_arrive_on_mqtt(coap_factory, coap_mqtt, coap_device) -> None:
    device = coap_device(b"21.5")
    gateway = coap_factory(CoapConfig(devices=(Device("thermo-1", f"{device.url}/temp", interval="300ms"),)))
    watcher = coap_mqtt(gateway)
    watcher.subscribe("devices/#", 1)
    wait_value(watcher, "devices/thermo-1/value", b"21.5")
    device.set(b"22.0")
    wait_value(watcher, "devices/thermo-1/value", b"22.0")
    assert device.gets >= 2
    assert device.observes == 0


def test_observed_device_values_arrive_on_mqtt_in_order(coap_factory, coap_mqtt, coap_device) -> None:
    device = coap_device(b"1")
    config = CoapConfig(
        devices=(Device("counter", f"{device.url}/temp", mode="observe", topic="plant/{device}/count", qos=1),)
    )
    gateway = coap_factory(config)
    watcher = coap_mqtt(gateway)
    watcher.subscribe("plant/#", 1)
    # Subscribed after wharfd registered: the first value may or may not be seen, wait for a fresh one.
    deadline = time.monotonic() + 10
    while device.observes == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert device.observes >= 1, "wharfd never registered as an observer"
    for value in (b"2", b"3", b"4", b"5"):
        device.set(value)
        wait_value(watcher, "plant/counter/count", value)
    got = [v for v in values(watcher, "plant/counter/count") if v != b"1"]
    assert got == [b"2", b"3", b"4", b"5"]
    assert device.gets == 0, "an observed device should not be polled"


def test_one_device_observed_and_another_polled(coap_factory, coap_mqtt, coap_device) -> None:
    observed, polled = coap_device(b"o0"), coap_device(b"p0")
    config = CoapConfig(
        devices=(
            Device("obs", f"{observed.url}/temp", mode="observe"),
            Device("poll", f"{polled.url}/temp", mode="poll", interval="300ms"),
        )
    )
    gateway = coap_factory(config)
    watcher = coap_mqtt(gateway)
    watcher.subscribe("devices/+/value", 1)
    wait_value(watcher, "devices/poll/value", b"p0")
    deadline = time.monotonic() + 10
    while observed.observes == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    observed.set(b"o1")
    polled.set(b"p1")
    wait_value(watcher, "devices/obs/value", b"o1")
    wait_value(watcher, "devices/poll/value", b"p1")


def test_command_reaches_the_device_and_its_result_is_published(coap_factory, coap_mqtt, coap_device) -> None:
    device = coap_device()
    config = CoapConfig(
        devices=(
            Device(
                "led-1", f"{device.url}/led", interval="1h", command_topic="devices/led-1/set", method="put"
            ),
        )
    )
    gateway = coap_factory(config)
    watcher = coap_mqtt(gateway)
    watcher.subscribe("devices/led-1/result", 1)
    watcher.publish("devices/led-1/set", b"on", 1)
    device.commands.wait(1)
    assert device.commands.snapshot() == [b"on"]
    [result] = watcher.messages.wait(1, topic="devices/led-1/result")
    assert json.loads(result.payload) == {"code": "2.04", "payload": "ok:on"}


def test_post_commands_in_order(coap_factory, coap_mqtt, coap_device) -> None:
    device = coap_device()
    config = CoapConfig(
        devices=(
            Device(
                "valve",
                f"{device.url}/led",
                interval="1h",
                command_topic="cmd/valve",
                method="post",
                result_topic="cmd/valve/result",
            ),
        )
    )
    gateway = coap_factory(config)
    watcher = coap_mqtt(gateway)
    watcher.subscribe("cmd/valve/result", 1)
    for command in (b"open", b"close", b"open"):
        watcher.publish("cmd/valve", command, 1)
    device.commands.wait(3)
    assert device.commands.snapshot() == [b"open", b"close", b"open"]
    results = watcher.messages.wait(3, topic="cmd/valve/result")
    assert [json.loads(r.payload) for r in results] == [
        {"code": "2.04", "payload": f"ok:{c}"} for c in ("open", "close", "open")
    ]


def test_command_to_a_missing_resource_publishes_the_error_code(coap_factory, coap_mqtt, coap_device) -> None:
    device = coap_device()
    config = CoapConfig(
        devices=(Device("ghost", f"{device.url}/nothing-here", interval="1h", command_topic="cmd/ghost"),)
    )
    gateway = coap_factory(config)
    watcher = coap_mqtt(gateway)
    watcher.subscribe("devices/ghost/result", 1)
    watcher.publish("cmd/ghost", b"x", 1)
    [result] = watcher.messages.wait(1, topic="devices/ghost/result")
    assert json.loads(result.payload)["code"] == "4.04"


def test_device_that_is_down_then_comes_up(coap_factory, coap_mqtt, coap_loop) -> None:
    from wharf_e2e.coap_aio import CoapDevice

    device = CoapDevice(coap_loop, b"late")  # its port is chosen, nothing listens yet
    config = CoapConfig(devices=(Device("late", f"{device.url}/temp", interval="300ms"),))
    gateway = coap_factory(config)
    watcher = coap_mqtt(gateway)
    watcher.subscribe("#", 1)
    time.sleep(1.0)  # several polls into a closed port
    gateway.broker.assert_alive()
    assert values(watcher, "devices/late/value") == []
    device.start()
    try:
        wait_value(watcher, "devices/late/value", b"late", timeout=15)
    finally:
        device.stop()
    assert_coap_serves(gateway, watcher, "after/late")


def test_device_that_goes_away_does_not_stop_the_others(coap_factory, coap_mqtt, coap_device) -> None:
    leaving, staying = coap_device(b"l0"), coap_device(b"s0")
    config = CoapConfig(
        devices=(
            Device("leaving", f"{leaving.url}/temp", interval="300ms"),
            Device("staying", f"{staying.url}/temp", interval="300ms"),
        )
    )
    gateway = coap_factory(config)
    watcher = coap_mqtt(gateway)
    watcher.subscribe("devices/#", 1)
    wait_value(watcher, "devices/leaving/value", b"l0")
    leaving.stop()
    staying.set(b"s1")
    wait_value(watcher, "devices/staying/value", b"s1")
    time.sleep(1.0)
    staying.set(b"s2")
    wait_value(watcher, "devices/staying/value", b"s2")
    gateway.broker.assert_alive()


def test_unreachable_observed_device_does_not_block_startup(coap_factory, coap_mqtt) -> None:
    port = free_udp_port()
    config = CoapConfig(devices=(Device("nowhere", f"coap://127.0.0.1:{port}/temp", mode="observe"),))
    gateway = coap_factory(config)
    watcher = coap_mqtt(gateway)
    watcher.subscribe("#", 1)
    assert_coap_serves(gateway, watcher, "after/nowhere")


def test_two_polled_devices_each_publish_only_their_own_values(coap_factory, coap_mqtt, coap_device) -> None:
    # Every client session numbers its tokens from the same start: responses must be matched by
    # session and token, or one device's reading lands on the other's topic.
    first, second = coap_device(b"a0"), coap_device(b"b0")
    config = CoapConfig(
        devices=(
            Device("dev-a", f"{first.url}/temp", interval="200ms"),
            Device("dev-b", f"{second.url}/temp", interval="200ms"),
        )
    )
    gateway = coap_factory(config)
    watcher = coap_mqtt(gateway)
    watcher.subscribe("devices/+/value", 1)
    for index in range(1, 4):
        first.set(f"a{index}".encode())
        second.set(f"b{index}".encode())
        wait_value(watcher, "devices/dev-a/value", f"a{index}".encode())
        wait_value(watcher, "devices/dev-b/value", f"b{index}".encode())
    for name, prefix in (("dev-a", b"a"), ("dev-b", b"b")):
        got = values(watcher, f"devices/{name}/value")
        assert all(v.startswith(prefix) for v in got), f"{name} published another device's values: {got}"

"""Suite 51, the OPC UA plugin's pure parts: its configuration, its value mapping and its backoff.

No server and no host: the functions of plugins/opcua/wharf_opcua are called directly.
"""

from __future__ import annotations

import datetime
import math
import sys
from typing import Any

import pytest
from wharf_e2e.broker import REPO_ROOT

sys.path[:0] = [str(REPO_ROOT / "plugins" / "opcua"), str(REPO_ROOT / "plugins" / "sdk" / "python")]

from asyncua import ua  # noqa: E402
from wharf_opcua.config import Backoff, ConfigError, default_point_name, parse_config, parse_duration  # noqa: E402
from wharf_opcua.endpoint import backoff_delay  # noqa: E402
from wharf_opcua.values import WriteError, command_value, from_json, shortest_float32, value_message  # noqa: E402

pytestmark = pytest.mark.wharf_only(reason="the OPC UA plugin's own code; no broker is involved")


def minimal(**extra: Any) -> dict[str, Any]:
    return {"endpoints": [{"name": "plc", "url": "opc.tcp://10.0.0.5:4840", "nodes": [{"node": "ns=3;i=7"}]}], **extra}


def problems(config: Any) -> list[str]:
    with pytest.raises(ConfigError) as error:
        parse_config(config, "line1")
    return error.value.problems


def test_defaults_and_templates() -> None:
    config = parse_config(minimal(), "line1")
    point = config.endpoints[0].points[0]
    assert (point.name, point.topic) == ("7", "devices/plc/7")
    assert (point.command_topic, point.result_topic) == ("devices/plc/7/set", "devices/plc/7/set/result")
    assert config.endpoints[0].status_topic == "devices/plc/$status"
    assert (config.qos, config.retain, config.endpoints[0].mode) == (1, False, "subscribe")
    assert config.backoff == Backoff(1.0, 60.0, 30.0)

    custom = parse_config(
        {
            "topic": "factory/{adapter}/{endpoint}/{point}",
            "endpoints": [
                {
                    "name": "press-2",
                    "url": "opc.tcp://h:4840",
                    "status_topic": "status/{endpoint}",
                    "nodes": [
                        {"node": 'ns=3;s="DB_Press"."Force"'},
                        {"node": "ns=3;s=x", "name": "a/b", "topic": "other/{point}"},
                    ],
                }
            ],
        },
        "line1",
    )
    force, other = custom.endpoints[0].points
    assert (force.name, force.topic) == ("DB_Press.Force", "factory/line1/press-2/DB_Press.Force")
    assert other.topic == "other/a/b" and custom.endpoints[0].status_topic == "status/press-2"


def test_every_problem_is_reported_with_its_path() -> None:
    found = problems(
        {
            "qos": 2,
            "colour": "red",
            "topic": "devices/#/{point}",
            "backoff": {"base": "soon"},
            "endpoints": [
                {
                    "name": "Bad Name",
                    "url": "http://x",
                    "mode": "push",
                    "publishing_interval": "1 s",
                    "nodes": [{"node": "Line1"}, {"node": "ns=2;i=1", "name": "x y"}],
                    "security": {"policy": "Basic128Rsa15", "mode": "Encrypt"},
                },
                {
                    "name": "dup",
                    "url": "opc.tcp://a",
                    "nodes": [{"node": "ns=2;i=1", "name": "p"}, {"node": "ns=2;i=2", "name": "p"}],
                },
                {"name": "dup", "url": "opc.tcp://b", "nodes": []},
            ],
        }
    )
    text = "\n".join(found)
    for where in [
        "qos:",
        "colour: unknown key",
        "topic:",
        "backoff.base:",
        "endpoints[0].name:",
        "endpoints[0].url:",
        "endpoints[0].mode:",
        "endpoints[0].publishing_interval:",
        "endpoints[0].nodes[0].node:",
        "endpoints[0].nodes[1].name:",
        "endpoints[0].security.policy:",
        "endpoints[0].security.mode:",
        "endpoints[1].nodes[1].name: 'p' is used",
        "endpoints[2].name: 'dup' is used",
        "endpoints[2].nodes:",
    ]:
        assert where in text, (where, found)
    assert problems({}) == ["endpoints: expected a list of at least one endpoint"]
    shared = {
        "command_topic": "cmd/{point}",
        "endpoints": [
            {"name": n, "url": "opc.tcp://h", "nodes": [{"node": "ns=2;i=1", "name": "valve", "writable": True}]}
            for n in ("a", "b")
        ],
    }
    assert problems(shared) == ["endpoints[1].nodes[0]: command topic cmd/valve is also endpoints[0].nodes[0]'s"]
    assert problems([]) == [
        "config: expected a mapping, got list",
        "endpoints: expected a list of at least one endpoint",
    ]


def test_security_needs_both_certificates_and_the_servers() -> None:
    secure = {"policy": "Basic256Sha256", "certificate": "/etc/wharf/opcua/wharf-opcua.der"}
    config = minimal()
    config["endpoints"][0]["security"] = secure
    assert sorted(problems(config)) == [
        "endpoints[0].security.private_key: required with policy Basic256Sha256 (see docs/opcua.md, Security)",
        "endpoints[0].security.server_certificate: required with policy Basic256Sha256 (see docs/opcua.md, Security)",
    ]
    secure.update(private_key="/k.pem", server_certificate="/s.der")
    endpoint = parse_config(config, "x").endpoints[0]
    assert (endpoint.security.policy, endpoint.security.mode) == ("Basic256Sha256", "SignAndEncrypt")


def test_durations() -> None:
    assert [parse_duration(v) for v in ("500ms", "2s", "1.5m", "1h", 3, 0.25)] == [0.5, 2.0, 90.0, 3600.0, 3.0, 0.25]
    assert [parse_duration(v) for v in ("", "5", "-1s", -1, True, "1d")] == [None] * 6


def test_point_names_from_node_ids() -> None:
    assert default_point_name('ns=3;s="DB_Line"."Temperature"') == "DB_Line.Temperature"
    assert default_point_name("ns=2;s=Line 1/Temp#1") == "Line_1_Temp_1"
    assert default_point_name("i=2258") == "2258"


def data(
    value: Any, vtype: ua.VariantType, status: str = "Good", source: datetime.datetime | None = None
) -> ua.DataValue:
    result = ua.DataValue(ua.Variant(value, vtype), SourceTimestamp=source)
    result.StatusCode = ua.StatusCode(getattr(ua.StatusCodes, status))
    return result


def test_value_messages() -> None:
    moment = datetime.datetime(2026, 3, 4, 5, 6, 7, 891000, tzinfo=datetime.UTC)
    assert value_message(data(21.299999237060547, ua.VariantType.Float, source=moment), "°C") == {
        "value": 21.3,
        "unit": "°C",
        "quality": "good",
        "timestamp": "2026-03-04T05:06:07.891Z",
    }
    assert value_message(data([1, 2], ua.VariantType.Int32, source=moment), None)["value"] == [1, 2]
    assert value_message(data(b"\x00\xff", ua.VariantType.ByteString, source=moment), None)["value"] == "AP8="
    bad = value_message(data(5, ua.VariantType.Int32, "BadSensorFailure", moment), None)
    assert (bad["value"], bad["quality"], bad["error"]) == (None, "bad", "BadSensorFailure")
    uncertain = value_message(data(5, ua.VariantType.Int32, "UncertainLastUsableValue", moment), None)
    assert (uncertain["value"], uncertain["quality"], uncertain["status"]) == (
        5,
        "uncertain",
        "UncertainLastUsableValue",
    )
    nan = value_message(data(math.nan, ua.VariantType.Double, source=moment), None)
    assert (nan["value"], nan["quality"]) == (None, "bad"), "JSON has no NaN"


def test_shortest_float32() -> None:
    assert shortest_float32(0.10000000149011612) == 0.1
    assert shortest_float32(3.4028234663852886e38) == 3.4028235e38
    assert shortest_float32([21.299999237060547, math.inf]) == [21.3, math.inf]


def test_command_values_and_checks() -> None:
    assert command_value(b"55.5") == 55.5
    assert command_value(b'{"value": [1, 2]}') == [1, 2]
    assert command_value(b"PVC-B") == "PVC-B"
    with pytest.raises(WriteError):
        command_value(b'{"level": 1}')
    assert from_json(3.0, ua.VariantType.Int16) == 3
    assert from_json("7", ua.VariantType.UInt32) == 7
    assert from_json(1, ua.VariantType.Double) == 1.0
    assert from_json("true", ua.VariantType.Boolean) is True
    assert from_json("2026-01-02T03:04:05Z", ua.VariantType.DateTime) == datetime.datetime(
        2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC
    )
    for value, vtype, words in [
        (32768, ua.VariantType.Int16, "from -32768 to 32767"),
        (-1, ua.VariantType.UInt64, "from 0 to"),
        (True, ua.VariantType.Int32, "expected an integer"),
        (1.5, ua.VariantType.Int32, "expected an integer"),
        (math.inf, ua.VariantType.Double, "expected a number"),
        (1, ua.VariantType.String, "expected text"),
        ("tomorrow", ua.VariantType.DateTime, "ISO 8601"),
        ({}, ua.VariantType.Guid, "not supported"),
    ]:
        with pytest.raises(WriteError, match=words):
            from_json(value, vtype)
    with pytest.raises(WriteError, match="above max 10"):
        from_json([1, 11], ua.VariantType.Double, 0, 10)


def test_backoff_is_full_jitter_up_to_the_cap() -> None:
    backoff = Backoff(base=0.5, cap=8.0)
    assert [backoff_delay(n, backoff, lambda: 1.0) for n in range(7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert backoff_delay(3, backoff, lambda: 0.25) == 1.0
    assert backoff_delay(10_000, backoff, lambda: 1.0) == 8.0, "no overflow after many attempts"

"""OPC UA values to JSON payloads and back, in the style of the Modbus adapter's messages.

`{"value": 21.5, "unit": "°C", "quality": "good", "timestamp": "2026-11-22T09:15:02.120Z"}`;
a bad status gives `{"value": null, "quality": "bad", "error": "BadSensorFailure", ...}`.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import enum
import json
import math
import struct
import uuid
from typing import Any

from asyncua import ua

INT_RANGES = {
    ua.VariantType.SByte: (-(2**7), 2**7 - 1),
    ua.VariantType.Byte: (0, 2**8 - 1),
    ua.VariantType.Int16: (-(2**15), 2**15 - 1),
    ua.VariantType.UInt16: (0, 2**16 - 1),
    ua.VariantType.Int32: (-(2**31), 2**31 - 1),
    ua.VariantType.UInt32: (0, 2**32 - 1),
    ua.VariantType.Int64: (-(2**63), 2**63 - 1),
    ua.VariantType.UInt64: (0, 2**64 - 1),
}
FLOATS = (ua.VariantType.Float, ua.VariantType.Double)


def timestamp(moment: datetime.datetime | None = None) -> str:
    """UTC, ISO 8601 with milliseconds and a Z."""
    moment = moment or datetime.datetime.now(datetime.UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def to_json(value: Any) -> Any:
    """A JSON value for an OPC UA value (arrays become lists; a NaN or infinite float becomes None)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime.datetime):
        return timestamp(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, ua.LocalizedText):
        return value.Text
    if isinstance(value, ua.QualifiedName):
        return f"{value.NamespaceIndex}:{value.Name}"
    if isinstance(value, (ua.NodeId, ua.ExpandedNodeId)):
        return value.to_string()
    if isinstance(value, ua.Variant):
        return to_json(value.Value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return str(value)


def shortest_float32(value: Any) -> Any:
    """A Float (single precision) value as the shortest decimal that reads back as the same single.

    21.3 rather than 21.299999237060547: what the PLC's own tools show.
    """
    if isinstance(value, list):
        return [shortest_float32(v) for v in value]
    if not isinstance(value, float) or not math.isfinite(value):
        return value
    single = struct.unpack("<f", struct.pack("<f", value))[0]
    for digits in range(1, 10):
        candidate = float(f"{single:.{digits}g}")
        try:
            if struct.unpack("<f", struct.pack("<f", candidate))[0] == single:
                return candidate
        except OverflowError:  # rounded up beyond the largest single
            continue
    return single


def has_non_finite(value: Any) -> bool:
    """True when the value is, or holds, a NaN or infinite float."""
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, (list, tuple)):
        return any(has_non_finite(v) for v in value)
    return False


def value_message(data: ua.DataValue, unit: str | None) -> dict[str, Any]:
    """The JSON message for a DataValue: value, unit, quality, timestamp (source, else server, else now)."""
    status = data.StatusCode if data.StatusCode is not None else ua.StatusCode(ua.StatusCodes.Good)
    raw = data.Value.Value if data.Value is not None else None
    if data.Value is not None and data.Value.VariantType == ua.VariantType.Float:
        raw = shortest_float32(raw)
    message: dict[str, Any] = {"value": to_json(raw)}
    if unit is not None:
        message["unit"] = unit
    if status.is_good() and has_non_finite(raw) and not isinstance(raw, (list, tuple)):
        message["quality"] = "bad"
    elif status.is_good():
        message["quality"] = "good"
    elif status.is_uncertain():
        message["quality"] = "uncertain"
        message["status"] = status.name
    else:
        message.update(value=None, quality="bad", error=status.name)
    message["timestamp"] = timestamp(data.SourceTimestamp or data.ServerTimestamp)
    return message


def bad_message(error: str, unit: str | None) -> dict[str, Any]:
    """The message published once per point when its endpoint is lost."""
    message: dict[str, Any] = {"value": None}
    if unit is not None:
        message["unit"] = unit
    message.update(quality="bad", error=error, timestamp=timestamp())
    return message


class WriteError(ValueError):
    """A written value does not fit the variable."""


def command_value(payload: bytes) -> Any:
    """The value a command carries: bare JSON, `{"value": ...}`, or (not JSON) the text itself."""
    text = payload.decode("utf-8", "replace")
    try:
        parsed = json.loads(text)
    except ValueError:
        return text
    if isinstance(parsed, dict):
        if "value" not in parsed:
            raise WriteError('expected a value or an object with "value"')
        return parsed["value"]
    return parsed


def from_json(value: Any, vtype: ua.VariantType, minimum: float | None = None, maximum: float | None = None) -> Any:
    """The Python value asyncua writes as `vtype`, checked against the type and min/max; raises WriteError."""
    if isinstance(value, list):
        return [from_json(v, vtype, minimum, maximum) for v in value]
    if vtype == ua.VariantType.Boolean:
        if isinstance(value, bool):
            return value
        if value in ("true", "false"):
            return value == "true"
        raise WriteError(f"expected true or false, got {value!r}")
    if vtype in INT_RANGES:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, str):
            try:
                value = int(value)
            except ValueError:
                pass
        low, high = INT_RANGES[vtype]
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise WriteError(f"expected an integer from {low} to {high} ({vtype.name}), got {value!r}")
    elif vtype in FLOATS:
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                pass
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            raise WriteError(f"expected a number ({vtype.name}), got {value!r}")
        value = float(value)
    elif vtype in (ua.VariantType.String, ua.VariantType.LocalizedText):
        if not isinstance(value, str):
            raise WriteError(f"expected text, got {value!r}")
        return ua.LocalizedText(value) if vtype == ua.VariantType.LocalizedText else value
    elif vtype == ua.VariantType.DateTime:
        try:
            moment = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise WriteError(f"expected an ISO 8601 time such as 2026-01-02T03:04:05Z, got {value!r}") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)
    elif vtype == ua.VariantType.ByteString:
        try:
            return base64.b64decode(str(value), validate=True)
        except ValueError:
            raise WriteError(f"expected base64 text, got {value!r}") from None
    else:
        raise WriteError(f"writing {vtype.name} variables is not supported")
    if minimum is not None and value < minimum:
        raise WriteError(f"{value} is below min {minimum:g}")
    if maximum is not None and value > maximum:
        raise WriteError(f"{value} is above max {maximum:g}")
    return value

"""Shared pieces of the command-line subcommands: reading files and options, one-line errors."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import OcppScheduleError
from ..station._config import StationConfig
from ..station._store import Transaction
from ..tools.adapters import V21_KEYS
from ..wire._enums import ChargingRateUnit, OcppVersion
from ..wire._models import SetChargingProfileRequest
from ..wire._payloads import detect_version, parse_version, read_set_charging_profile
from ..wire._timestamps import parse_timestamp

__all__ = [
    "MAX_EVSES",
    "MAX_JSON_DEPTH",
    "UsageError",
    "check_station_options",
    "config_from_args",
    "json_depth",
    "describe_validation_error",
    "load_json",
    "load_requests",
    "number_option",
    "parse_time_option",
    "read_requests",
    "station_version",
    "transaction_from_args",
]


class UsageError(Exception):
    """Bad input: reported as one line on stderr with exit status 2."""


MAX_JSON_DEPTH = 64
"""The deepest nesting of arrays and objects an input file may have (OCPP payloads need
fewer than 10 levels; customData may add a few). Checked on the text before parsing."""


def load_json(path: str) -> Any:
    """Read a JSON file; a missing file, text that is not UTF-8, nesting deeper than
    :data:`MAX_JSON_DEPTH` or bad JSON is a :class:`UsageError`."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path} is not UTF-8 text (byte {exc.start})") from None
    depth = json_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise UsageError(f"{path} nests arrays/objects {depth} deep; at most {MAX_JSON_DEPTH}")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path} is not JSON: {exc.msg} at line {exc.lineno}") from None
    except (ValueError, RecursionError) as exc:  # e.g. an integer of more than 4300 digits
        raise UsageError(f"{path} is not usable JSON: {exc}") from None


def json_depth(text: str) -> int:
    """The deepest nesting of ``[``/``{`` in JSON text (brackets inside strings skipped),
    in one linear pass without recursion."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
        elif ch in "]}":
            depth -= 1
    return deepest


MAX_EVSES = 1000
"""The most EVSEs ``--evses`` may declare."""
VOLTAGE_RANGE = (1.0, 100_000.0)
"""The supply voltages the options accept (V)."""
MAX_OPTION_LIMIT = 1e9
"""The largest limit an option accepts (A or W): the engine's ``segments.MAX_LIMIT``."""


def number_option(value: float, option: str, low: float, high: float) -> float:
    """A numeric option's value if it is finite and within ``[low, high]``, else UsageError."""
    if not math.isfinite(value) or not low <= value <= high:
        raise UsageError(
            f"{option} must be a finite number from {low:g} to {high:g}, got {value!r}"
        )
    return value


def describe_validation_error(exc: ValidationError) -> str:
    """One line for a pydantic ValidationError: the first error's field and message."""
    err = exc.errors()[0]
    loc = ".".join(str(part) for part in err["loc"])
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{loc}: {err['msg']}{more}"


CALL, CALLRESULT, CALLERROR = 2, 3, 4
"""OCPP-J message type ids: a frame is ``[2, id, action, payload]``, ``[3, id, payload]`` or
``[4, id, code, description, details]``."""


def unframe_call(item: Any, where: str, action: str) -> Any:
    """``item``'s payload when it is an OCPP-J CALL frame of ``action``; else ``item``."""
    if not isinstance(item, list):
        return item
    if len(item) == 4 and item[0] == CALL and isinstance(item[1], str) and item[2] == action:
        return item[3]
    raise UsageError(
        f"{where} is an array but not an OCPP-J {action} CALL frame [2, id, action, {{...}}]"
    )


def unframe_result(data: Any, path: str) -> Any:
    """The payload of an OCPP-J CALLRESULT frame ``[3, id, {...}]``; other data as it is.

    A CALLERROR frame is a usage error saying what the station answered.
    """
    if not isinstance(data, list):
        return data
    if len(data) == 3 and data[0] == CALLRESULT and isinstance(data[1], str):
        return data[2]
    if len(data) >= 3 and data[0] == CALLERROR:
        raise UsageError(
            f"{path} is a CALLERROR frame: the station answered {data[2]!r}, not a schedule"
        )
    raise UsageError(
        f"{path}: expected a JSON object (the answer) or a CALLRESULT frame [3, id, {{...}}]"
    )


def camel_case_keys(data: Any) -> Any:
    """An answer written with the ``ocpp`` package's snake_case keys, in the schema's keys.

    ``charging_rate_unit`` -> ``chargingRateUnit``; the 2.1 per-phase keys as the schema
    spells them (``limit_l2`` -> ``limit_L2``); ``customData`` content is kept verbatim.
    Keys already in camelCase (``limit_L2`` included) are left as they are.
    """
    if isinstance(data, dict):
        out = {}
        for key, item in data.items():
            camel = _camel(key) if isinstance(key, str) else key
            out[camel] = item if camel == "customData" else camel_case_keys(item)
        return out
    if isinstance(data, list):
        return [camel_case_keys(item) for item in data]
    return data


def _camel(key: str) -> str:
    if "_" not in key or not any(part[:1].islower() for part in key.split("_")[1:]):
        return key  # camelCase already (limit_L2)
    head, *rest = key.split("_")
    camel = head + "".join(part[:1].upper() + part[1:] for part in rest)
    return V21_KEYS.get(camel, camel)


def load_requests(path: str) -> list[Any]:
    """Read a JSON array of SetChargingProfile request payloads (or OCPP-J CALL frames)."""
    data = load_json(path)
    if isinstance(data, dict):
        raise UsageError(
            f"{path} holds one JSON object; expected a JSON array of SetChargingProfile requests"
        )
    if not isinstance(data, list):
        raise UsageError(f"{path} is not a JSON array of SetChargingProfile requests")
    return [
        unframe_call(item, f"{path}: item {i}", "SetChargingProfile")
        for i, item in enumerate(data, 1)
    ]


def station_version(payloads: list[Any], forced: str | None) -> OcppVersion:
    if forced is not None:
        return parse_version(forced)
    versions = []
    for i, payload in enumerate(payloads, 1):
        try:
            versions.append(detect_version(payload))
        except OcppScheduleError as exc:
            raise UsageError(f"request {i}: {exc}") from None
    found = set(versions)
    if OcppVersion.V16 in found and len(found) > 1:
        raise UsageError("the file mixes OCPP 1.6 and 2.x requests; a station speaks one version")
    if OcppVersion.V21 in found:
        return OcppVersion.V21
    if OcppVersion.V201 in found:
        return OcppVersion.V201
    return OcppVersion.V16


def read_requests(payloads: list[Any], version: OcppVersion) -> list[SetChargingProfileRequest]:
    out = []
    for i, payload in enumerate(payloads, 1):
        try:
            out.append(read_set_charging_profile(payload, version))
        except ValidationError as exc:
            raise UsageError(f"request {i}: {describe_validation_error(exc)}") from None
        except OcppScheduleError as exc:
            raise UsageError(f"request {i}: {exc}") from None
    return out


def parse_time_option(text: str, option: str) -> Any:
    try:
        return parse_timestamp(text, option)
    except OcppScheduleError as exc:
        raise UsageError(str(exc)) from None


def transaction_from_args(args: argparse.Namespace, evse: int) -> Transaction | None:
    if args.transaction_id is None and args.transaction_start is None:
        return None
    if args.transaction_id is None or args.transaction_start is None:
        raise UsageError("--transaction-id and --transaction-start go together")
    start = parse_time_option(args.transaction_start, "--transaction-start")
    if evse <= 0:
        raise UsageError("a transaction runs on an EVSE > 0")
    return Transaction(str(args.transaction_id), evse, start)


def config_from_args(
    args: argparse.Namespace, unit: ChargingRateUnit | None = None
) -> StationConfig:
    check_station_options(args)
    fields: dict[str, Any] = {}
    if args.evses is not None:
        fields["evse_ids"] = tuple(range(1, args.evses + 1))
    if getattr(args, "voltage", None) is not None:
        fields["supply_voltage"] = args.voltage
    if getattr(args, "phases", None) is not None:
        fields["default_number_phases"] = args.phases
    if getattr(args, "default_limit", None) is not None:
        key = "watts" if unit is ChargingRateUnit.W else "amps"
        fields[f"composite_schedule_default_limit_{key}"] = args.default_limit
    return StationConfig(**fields)


def check_station_options(args: argparse.Namespace) -> None:
    """Check the station options before anything is built (docs/robustness.md):
    ``--evses`` 1..1000, ``--voltage`` a finite 1..100 000 V, ``--phases`` 1..3,
    ``--default-limit`` a finite 0..10^9."""
    if getattr(args, "evses", None) is not None and not 1 <= args.evses <= MAX_EVSES:
        raise UsageError(f"--evses must be from 1 to {MAX_EVSES}, got {args.evses}")
    if getattr(args, "voltage", None) is not None:
        number_option(args.voltage, "--voltage", *VOLTAGE_RANGE)
    if getattr(args, "phases", None) is not None and args.phases not in (1, 2, 3):
        raise UsageError("--phases must be 1, 2 or 3")
    if getattr(args, "default_limit", None) is not None:
        number_option(args.default_limit, "--default-limit", 0.0, MAX_OPTION_LIMIT)
    if getattr(args, "tolerance", None) is not None:
        number_option(args.tolerance, "--tolerance", 0.0, MAX_OPTION_LIMIT)

"""Shared pieces of the command-line subcommands: reading files and options, one-line errors."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .config import StationConfig
from .enums import ChargingRateUnit, OcppVersion
from .errors import OcppScheduleError
from .models import SetChargingProfileRequest
from .payloads import detect_version, parse_version, read_set_charging_profile
from .store import Transaction
from .timeutil import parse_timestamp

__all__ = [
    "UsageError",
    "config_from_args",
    "describe_validation_error",
    "load_json",
    "load_requests",
    "parse_time_option",
    "read_requests",
    "station_version",
    "transaction_from_args",
]


class UsageError(Exception):
    """Bad input: reported as one line on stderr with exit status 2."""


def load_json(path: str) -> Any:
    """Read a JSON file; a missing file or bad JSON is a :class:`UsageError`."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path} is not JSON: {exc.msg} at line {exc.lineno}") from None


def describe_validation_error(exc: ValidationError) -> str:
    """One line for a pydantic ValidationError: the first error's field and message."""
    err = exc.errors()[0]
    loc = ".".join(str(part) for part in err["loc"])
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{loc}: {err['msg']}{more}"


def load_requests(path: str) -> list[Any]:
    """Read a JSON array of SetChargingProfile request payloads."""
    data = load_json(path)
    if isinstance(data, dict):
        raise UsageError(
            f"{path} holds one JSON object; expected a JSON array of SetChargingProfile requests"
        )
    if not isinstance(data, list):
        raise UsageError(f"{path} is not a JSON array of SetChargingProfile requests")
    return data


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
    fields: dict[str, Any] = {}
    if args.evses is not None:
        if args.evses < 1:
            raise UsageError("--evses must be at least 1")
        fields["evse_ids"] = tuple(range(1, args.evses + 1))
    if getattr(args, "voltage", None) is not None:
        if args.voltage <= 0:
            raise UsageError("--voltage must be positive")
        fields["supply_voltage"] = args.voltage
    if getattr(args, "phases", None) is not None:
        if args.phases not in (1, 2, 3):
            raise UsageError("--phases must be 1, 2 or 3")
        fields["default_number_phases"] = args.phases
    if getattr(args, "default_limit", None) is not None:
        if args.default_limit < 0:
            raise UsageError("--default-limit must not be negative")
        key = "watts" if unit is ChargingRateUnit.W else "amps"
        fields[f"composite_schedule_default_limit_{key}"] = args.default_limit
    return StationConfig(**fields)

"""The ``ocpp-schedule`` command line.

``validate`` replays SetChargingProfile requests through the station-side
rules; ``composite`` answers GetCompositeSchedule for the profiles they leave
installed. Bad input gives one line on stderr and exit status 2, never a
traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from pydantic import ValidationError

from .composite import composite_schedule
from .config import StationConfig
from .enums import ChargingProfilePurpose, ChargingRateUnit, OcppVersion
from .errors import OcppScheduleError
from .models import SetChargingProfileRequest
from .payloads import detect_version, parse_version, read_set_charging_profile
from .responses import rejected_composite_response
from .rules import replay
from .store import ProfileStore, StationState, Transaction
from .timeutil import parse_timestamp

__all__ = ["main"]


class _UsageError(Exception):
    """Bad input: reported as one line on stderr with exit status 2."""


def describe_validation_error(exc: ValidationError) -> str:
    """One line for a pydantic ValidationError: the first error's field and message."""
    err = exc.errors()[0]
    loc = ".".join(str(part) for part in err["loc"])
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{loc}: {err['msg']}{more}"


def _load_requests(path: str) -> list[Any]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise _UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _UsageError(f"{path} is not JSON: {exc.msg} at line {exc.lineno}") from None
    if isinstance(data, dict):
        raise _UsageError(
            f"{path} holds one JSON object; expected a JSON array of SetChargingProfile requests"
        )
    if not isinstance(data, list):
        raise _UsageError(f"{path} is not a JSON array of SetChargingProfile requests")
    return data


def _station_version(payloads: list[Any], forced: str | None) -> OcppVersion:
    if forced is not None:
        return parse_version(forced)
    versions = []
    for i, payload in enumerate(payloads, 1):
        try:
            versions.append(detect_version(payload))
        except OcppScheduleError as exc:
            raise _UsageError(f"request {i}: {exc}") from None
    found = set(versions)
    if OcppVersion.V16 in found and len(found) > 1:
        raise _UsageError("the file mixes OCPP 1.6 and 2.x requests; a station speaks one version")
    if OcppVersion.V21 in found:
        return OcppVersion.V21
    if OcppVersion.V201 in found:
        return OcppVersion.V201
    return OcppVersion.V16


def _read_requests(payloads: list[Any], version: OcppVersion) -> list[SetChargingProfileRequest]:
    out = []
    for i, payload in enumerate(payloads, 1):
        try:
            out.append(read_set_charging_profile(payload, version))
        except ValidationError as exc:
            raise _UsageError(f"request {i}: {describe_validation_error(exc)}") from None
        except OcppScheduleError as exc:
            raise _UsageError(f"request {i}: {exc}") from None
    return out


def _timestamp(text: str, option: str) -> Any:
    try:
        return parse_timestamp(text, option)
    except OcppScheduleError as exc:
        raise _UsageError(str(exc)) from None


def _transaction(args: argparse.Namespace, evse: int) -> Transaction | None:
    if args.transaction_id is None and args.transaction_start is None:
        return None
    if args.transaction_id is None or args.transaction_start is None:
        raise _UsageError("--transaction-id and --transaction-start go together")
    start = _timestamp(args.transaction_start, "--transaction-start")
    if evse <= 0:
        raise _UsageError("a transaction runs on an EVSE > 0")
    return Transaction(str(args.transaction_id), evse, start)


def _config(args: argparse.Namespace, unit: ChargingRateUnit | None = None) -> StationConfig:
    fields: dict[str, Any] = {}
    if args.evses is not None:
        if args.evses < 1:
            raise _UsageError("--evses must be at least 1")
        fields["evse_ids"] = tuple(range(1, args.evses + 1))
    if getattr(args, "voltage", None) is not None:
        if args.voltage <= 0:
            raise _UsageError("--voltage must be positive")
        fields["supply_voltage"] = args.voltage
    if getattr(args, "phases", None) is not None:
        if args.phases not in (1, 2, 3):
            raise _UsageError("--phases must be 1, 2 or 3")
        fields["default_number_phases"] = args.phases
    if getattr(args, "default_limit", None) is not None:
        if args.default_limit < 0:
            raise _UsageError("--default-limit must not be negative")
        key = "watts" if unit is ChargingRateUnit.W else "amps"
        fields[f"composite_schedule_default_limit_{key}"] = args.default_limit
    return StationConfig(**fields)


def _cmd_validate(args: argparse.Namespace) -> int:
    payloads = _load_requests(args.requests)
    version = _station_version(payloads, args.ocpp)
    requests = _read_requests(payloads, version)
    tx = _transaction(args, args.transaction_evse)
    state = StationState(_config(args), version, (tx,) if tx else ())
    for _store, result in replay(requests, state):
        print(str(result) if not result.accepted else "Accepted")
    return 0


def _tx_evse_for_station_query(
    requests: list[SetChargingProfileRequest], transaction_id: str | None
) -> int:
    for req in requests:
        prof = req.charging_profile
        if (
            prof.charging_profile_purpose is ChargingProfilePurpose.TX_PROFILE
            and prof.transaction_id == transaction_id
            and req.evse_id > 0
        ):
            return req.evse_id
    return 1


def _cmd_composite(args: argparse.Namespace) -> int:
    payloads = _load_requests(args.requests)
    version = _station_version(payloads, args.ocpp)
    requests = _read_requests(payloads, version)
    unit = ChargingRateUnit(args.unit) if args.unit else None
    cfg = _config(args, unit)
    start = _timestamp(args.start, "--start")
    if args.duration < 0:
        raise _UsageError("--duration must not be negative")
    if args.evse < 0:
        raise _UsageError("--evse must not be negative")
    tx_id = None if args.transaction_id is None else str(args.transaction_id)
    tx_evse = args.evse if args.evse > 0 else _tx_evse_for_station_query(requests, tx_id)
    tx = _transaction(args, tx_evse)
    state = StationState(cfg, version, (tx,) if tx else ())
    store = ProfileStore()
    for i, (store, result) in enumerate(replay(requests, state, local_purposes=True), 1):  # noqa: B007
        if not result.accepted:
            print(f"request {i} skipped: {result}", file=sys.stderr)
    if not cfg.knows_evse(args.evse):
        print(f"the station has no EVSE {args.evse} (--evses {args.evses})", file=sys.stderr)
        print(json.dumps(rejected_composite_response(version, "UnknownEVSE")))
        return 0
    schedule = composite_schedule(
        store,
        evse_id=args.evse,
        start=start,
        duration=args.duration,
        unit=unit,
        transaction=tx,
        config=cfg,
    )
    if args.explain:
        print(schedule.explain())
    else:
        print(json.dumps(schedule.to_payload(version)))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ocpp-schedule",
        description="OCPP Smart Charging arithmetic: station-side rules and composite schedules.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    val = sub.add_parser(
        "validate",
        help="replay SetChargingProfile requests through the station-side rules",
        description="Replay a JSON array of SetChargingProfile request payloads, in order, and "
        "print Accepted or Rejected: <reason> for each.",
    )
    val.add_argument("requests", metavar="REQUESTS.json")
    val.add_argument("--ocpp", choices=["1.6", "2.0.1", "2.1"], help="default: detected")
    val.add_argument("--transaction-id", help="a transaction active on --transaction-evse")
    val.add_argument("--transaction-start", metavar="TIME", help="its start (RFC 3339)")
    val.add_argument("--transaction-evse", type=int, default=1, metavar="N", help="default 1")
    val.add_argument("--evses", type=int, metavar="COUNT", help="the station has EVSEs 1..COUNT")
    val.set_defaults(func=_cmd_validate)

    comp = sub.add_parser(
        "composite",
        help="print the GetCompositeSchedule answer for installed profiles",
        description="Replay SetChargingProfile requests (rejected ones are reported on stderr "
        "and skipped), then print the GetCompositeSchedule response payload.",
    )
    comp.add_argument("requests", metavar="REQUESTS.json")
    comp.add_argument("--evse", type=int, required=True, metavar="N", help="0: the station total")
    comp.add_argument("--start", required=True, metavar="TIME", help="window start (RFC 3339)")
    comp.add_argument("--duration", type=int, required=True, metavar="SECONDS")
    comp.add_argument("--unit", choices=["A", "W"], help="default A")
    comp.add_argument("--ocpp", choices=["1.6", "2.0.1", "2.1"], help="default: detected")
    comp.add_argument("--transaction-id", help="a transaction active on EVSE N")
    comp.add_argument("--transaction-start", metavar="TIME")
    comp.add_argument("--voltage", type=float, metavar="V", help="supply voltage, default 230")
    comp.add_argument("--phases", type=int, metavar="N", help="default phases, default 3")
    comp.add_argument(
        "--default-limit",
        type=float,
        metavar="L",
        help="limit where no profile is in force, in the output unit (default 48 A / 33120 W)",
    )
    comp.add_argument("--evses", type=int, metavar="COUNT", help="the station has EVSEs 1..COUNT")
    comp.add_argument(
        "--explain", action="store_true", help="print a table of the periods and what set each one"
    )
    comp.set_defaults(func=_cmd_composite)
    return parser


def _fail(message: str) -> NoReturn:
    print(f"ocpp-schedule: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        status: int = args.func(args)
    except _UsageError as exc:
        _fail(str(exc))
    except ValidationError as exc:
        _fail(describe_validation_error(exc))
    except OcppScheduleError as exc:
        _fail(str(exc))
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""The ``ocpp-schedule`` command line.

``validate`` replays SetChargingProfile requests through the station-side
rules (``--strict``: numbered lines, exit 1 on any rejection); ``composite``
answers GetCompositeSchedule for the profiles they leave installed. Bad input gives
one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from pydantic import ValidationError

from ..engine._composite import composite_schedule
from ..errors import OcppScheduleError
from ..station._rules import replay
from ..station._store import ProfileStore, StationState
from ..tools._drift import transaction_evse
from ..wire._answers import rejected_composite_response
from ..wire._enums import ChargingRateUnit
from ._check import register as register_check
from ._common import (
    UsageError,
    check_station_options,
    config_from_args,
    describe_validation_error,
    load_requests,
    parse_time_option,
    read_requests,
    station_version,
    transaction_from_args,
)
from ._site import register as register_site

__all__ = ["main"]


def _cmd_validate(args: argparse.Namespace) -> int:
    payloads = load_requests(args.requests)
    version = station_version(payloads, args.ocpp)
    requests = read_requests(payloads, version)
    tx = transaction_from_args(args, args.transaction_evse)
    state = StationState(config_from_args(args), version, (tx,) if tx else ())
    rejected = 0
    for i, (_store, result) in enumerate(replay(requests, state), 1):
        text = str(result) if not result.accepted else "Accepted"
        rejected += not result.accepted
        print(f"{i}: {text}" if args.strict else text)
    return 1 if args.strict and rejected else 0


def _cmd_composite(args: argparse.Namespace) -> int:
    payloads = load_requests(args.requests)
    version = station_version(payloads, args.ocpp)
    requests = read_requests(payloads, version)
    unit = ChargingRateUnit(args.unit) if args.unit else None
    cfg = config_from_args(args, unit)
    start = parse_time_option(args.start, "--start")
    if args.duration < 0:
        raise UsageError("--duration must not be negative")
    if args.evse < 0:
        raise UsageError("--evse must not be negative")
    tx_id = None if args.transaction_id is None else str(args.transaction_id)
    tx_evse = transaction_evse(requests, tx_id, args.evse)
    tx = transaction_from_args(args, tx_evse)
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


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (with a hint), exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {_one_line(message)} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="ocpp-schedule",
        description="OCPP Smart Charging arithmetic: station-side rules and composite schedules.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {_version()}", help="print the version"
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
    val.add_argument(
        "--strict",
        action="store_true",
        help="number each line (N: Accepted) and exit 1 when any request is rejected",
    )
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
    for register in _SUBCOMMANDS:
        register(sub)
    return parser


_SUBCOMMANDS: tuple[Callable[[Any], None], ...] = (register_site, register_check)
"""Further subcommands: each module's ``register(subparsers)`` adds its own."""


def _version() -> str:
    """The installed distribution's version (the package's own when not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ocpp-schedule")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown (not installed)"


def _one_line(message: str) -> str:
    """The message with control characters escaped, so it stays one line."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in message)


def _fail(message: str) -> NoReturn:
    print(f"ocpp-schedule: error: {_one_line(message)}", file=sys.stderr)
    raise SystemExit(2)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        check_station_options(args)
        status: int = args.func(args)
    except UsageError as exc:
        _fail(str(exc))
    except ValidationError as exc:
        _fail(describe_validation_error(exc))
    except OcppScheduleError as exc:
        _fail(str(exc))
    except UnicodeError as exc:  # last line of defence: a reader let non-UTF-8 text through
        _fail(f"the input is not UTF-8 text ({exc.__class__.__name__})")
    except (RecursionError, MemoryError, OverflowError) as exc:  # last line of defence
        _fail(f"the input is too deeply nested or too large ({exc.__class__.__name__})")
    except BrokenPipeError:  # the reader (head, less) went away: stop quietly
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""``ocpp-schedule check``: compare a station's GetCompositeSchedule answer with the prediction.

Exit status 0 when the station agrees within the tolerance, 1 when it differs
(like ``diff``), 2 on bad input or when the two cannot be compared (one line on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..errors import OcppScheduleError
from ..tools._drift import DEFAULT_TOLERANCE, check_drift, read_composite_response, transaction_evse
from ..wire._enums import OcppVersion
from ._common import (
    UsageError,
    camel_case_keys,
    config_from_args,
    load_json,
    load_requests,
    read_requests,
    station_version,
    transaction_from_args,
    unframe_result,
)

__all__ = ["register"]


def _cmd_check(args: argparse.Namespace) -> int:
    payloads = load_requests(args.requests)
    try:
        answer = camel_case_keys(unframe_result(load_json(args.reported), args.reported))
        reported = read_composite_response(answer)
    except OcppScheduleError as exc:
        raise UsageError(f"{args.reported}: {exc}") from None
    version = station_version(payloads, None) if payloads else reported.version
    requests = read_requests(payloads, version)
    if reported.accepted and (reported.version is OcppVersion.V16) != (version is OcppVersion.V16):
        raise UsageError(
            f"{args.requests} holds OCPP {version.value} requests and {args.reported} an OCPP "
            f"{reported.version.value} answer; a station speaks one version"
        )
    cfg = config_from_args(args, reported.unit)
    tx_id = None if args.transaction_id is None else str(args.transaction_id)
    evse = reported.evse_id if reported.evse_id is not None else 1
    tx = transaction_from_args(args, transaction_evse(requests, tx_id, evse))
    report = check_drift(
        requests,
        reported,
        version=version,
        transactions=(tx,) if tx else (),
        config=cfg,
        tolerance=args.tolerance,
    )
    for index, result in report.skipped:
        print(f"request {index} skipped: {result}", file=sys.stderr)
    if args.json:
        print(json.dumps(report.to_dict()))
    else:
        print(report.summary())
        for finding in report.findings:
            print(finding)
    return 0 if report.agrees else 1


def register(subparsers: Any) -> None:
    """Add the ``check`` subcommand to the ``ocpp-schedule`` parser."""
    chk = subparsers.add_parser(
        "check",
        help="compare a station's GetCompositeSchedule answer with what the requests predict",
        description="Replay SetChargingProfile requests (rejected ones are reported on stderr "
        "and skipped), compute the composite for the EVSE, start, duration and unit of the "
        "station's GetCompositeSchedule answer, and print every stretch where they differ and "
        "the profile that should govern there. Exit 0: they agree; 1: they differ; 2: bad input.",
    )
    chk.add_argument("requests", metavar="REQUESTS.json", help="the requests, in order")
    chk.add_argument(
        "reported",
        metavar="REPORTED.json",
        help="the station's GetCompositeSchedule answer: the payload (schema keys or the ocpp "
        "package's snake_case keys) or the OCPP-J CALLRESULT frame [3, id, {...}]",
    )
    chk.add_argument("--transaction-id", help="a transaction active on the EVSE")
    chk.add_argument("--transaction-start", metavar="TIME", help="its start (RFC 3339)")
    chk.add_argument("--voltage", type=float, metavar="V", help="supply voltage, default 230")
    chk.add_argument(
        "--default-limit",
        type=float,
        metavar="L",
        help="limit where no profile is in force, in the report's unit (default 48 A / 33120 W)",
    )
    chk.add_argument("--evses", type=int, metavar="COUNT", help="the station has EVSEs 1..COUNT")
    chk.add_argument(
        "--tolerance",
        type=float,
        default=None,
        metavar="X",
        help=f"largest difference still agreeing, in the report's unit (default "
        f"{DEFAULT_TOLERANCE:g} A; for an answer in W the same current at the supply voltage "
        "and the phases in use)",
    )
    chk.add_argument("--json", action="store_true", help="print the findings as JSON")
    chk.set_defaults(func=_cmd_check)

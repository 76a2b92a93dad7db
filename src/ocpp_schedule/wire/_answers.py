"""GetCompositeSchedule answers on the wire: the 1.6 and 2.0.1/2.1 payloads, and a readable table.

The writers take plain data (the engine's :class:`~ocpp_schedule.CompositeSchedule` passes its
fields), so the wire layer does not depend on the engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ..errors import QueryError
from ._enums import OcppVersion
from ._payloads import parse_version
from ._timestamps import FIRST_SECOND, LAST_SECOND, format_timestamp, from_epoch

__all__ = [
    "CALENDAR_END_TEXT",
    "composite_answer",
    "explain_text",
    "format_instant",
    "rejected_composite_response",
]

CALENDAR_END_TEXT = "10000-01-01T00:00:00Z"
"""How the instant just after 9999-12-31T23:59:59Z is written (the exclusive end of a window
that reaches the end of the calendar, which no ``datetime`` can hold)."""


def format_instant(seconds: int) -> str:
    """RFC 3339 text of epoch seconds; the instant after the calendar's last second (a
    window's exclusive end, see docs/semantics.md) is :data:`CALENDAR_END_TEXT`."""
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        raise QueryError(
            f"expected epoch seconds (int), got {type(seconds).__name__}", field="seconds"
        )
    if not FIRST_SECOND <= seconds <= LAST_SECOND + 1:
        raise QueryError("the instant is outside 0001-01-01 .. 10000-01-01", field="seconds")
    if seconds > LAST_SECOND:
        return CALENDAR_END_TEXT
    return format_timestamp(from_epoch(seconds))


Period = tuple[int, float, int]
"""A period of an answer: (startPeriod, limit, numberPhases)."""


def _periods(periods: Sequence[Period]) -> list[dict[str, Any]]:
    return [{"startPeriod": s, "limit": lim, "numberPhases": n} for s, lim, n in periods]


def composite_answer(
    version: OcppVersion | str,
    *,
    evse_id: int,
    schedule_start: datetime,
    duration: int,
    unit: str,
    periods: Sequence[Period],
    min_charging_rate: float | None = None,
) -> dict[str, Any]:
    """The GetCompositeSchedule response payload with status Accepted.

    1.6: ``{status, connectorId, scheduleStart, chargingSchedule}``, the inner
    ``startSchedule`` left out (1.6 errata 3.57), ``minChargingRate`` when given.
    2.0.1/2.1: ``{status, schedule: {evseId, duration, scheduleStart,
    chargingRateUnit, chargingSchedulePeriod}}``.
    """
    start = format_timestamp(schedule_start)
    if parse_version(version) is OcppVersion.V16:
        inner: dict[str, Any] = {
            "duration": duration,
            "chargingRateUnit": unit,
            "chargingSchedulePeriod": _periods(periods),
        }
        if min_charging_rate is not None:
            inner["minChargingRate"] = min_charging_rate
        return {
            "status": "Accepted",
            "connectorId": evse_id,
            "scheduleStart": start,
            "chargingSchedule": inner,
        }
    return {
        "status": "Accepted",
        "schedule": {
            "evseId": evse_id,
            "duration": duration,
            "scheduleStart": start,
            "chargingRateUnit": unit,
            "chargingSchedulePeriod": _periods(periods),
        },
    }


def rejected_composite_response(version: OcppVersion | str, reason: str = "") -> dict[str, Any]:
    """A GetCompositeSchedule response with status Rejected (unknown EVSE, unit not allowed)."""
    if not isinstance(reason, str):
        raise QueryError(
            f"expected a reason code (str), got {type(reason).__name__}", field="reason"
        )
    out: dict[str, Any] = {"status": "Rejected"}
    if parse_version(version).is_v2 and reason:
        out["statusInfo"] = {"reasonCode": reason}
    return out


def explain_text(
    *,
    evse_id: int,
    start: int,
    duration: int,
    unit: str,
    rows: Sequence[tuple[int, float, int, str]],
    details: Sequence[Sequence[str]] | None = None,
) -> str:
    """A fixed-width table: each period's window, limit, phases and what set it.

    ``rows`` are (startPeriod, limit, numberPhases, what set it) in order; ``details``,
    when given, holds for each row the lines printed under it, indented (the 2.1 fields
    and what set each one).
    """
    table = [("from (UTC)", "offset s", f"limit {unit}", "phases", "set by")]
    for offset, limit, phases, source in rows:
        table.append(
            (format_instant(start + offset), str(offset), f"{limit:.1f}", str(phases), source)
        )
    widths = [max(len(r[i]) for r in table) for i in range(4)]
    lines = []
    for r in table:
        cells = [
            r[0].ljust(widths[0]),
            r[1].rjust(widths[1]),
            r[2].rjust(widths[2]),
            r[3].rjust(widths[3]),
            r[4],
        ]
        lines.append("  ".join(cells))
    lines.insert(1, "-" * max(len(line) for line in lines))
    if details is not None:
        out = lines[:2]
        for line, extra in zip(lines[2:], details, strict=True):
            out.append(line)
            out.extend("    " + text for text in extra)
        lines = out
    header = (
        f"Composite schedule of EVSE {evse_id} from "
        f"{format_instant(start)} to {format_instant(start + duration)} "
        f"({duration} s), in {unit}"
    )
    return header + "\n" + "\n".join(lines)

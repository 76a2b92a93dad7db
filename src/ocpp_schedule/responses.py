"""GetCompositeSchedule answers: the 1.6 and 2.0.1/2.1 payloads, and a readable table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .enums import OcppVersion
from .errors import QueryError
from .timeutil import FIRST_SECOND, LAST_SECOND, format_timestamp, from_epoch

if TYPE_CHECKING:
    from .composite import CompositeSchedule

__all__ = [
    "CALENDAR_END_TEXT",
    "composite_response",
    "explain_table",
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


def _schedule(schedule: object) -> CompositeSchedule:
    from .composite import CompositeSchedule

    if not isinstance(schedule, CompositeSchedule):
        raise QueryError(
            f"expected a CompositeSchedule, got {type(schedule).__name__}", field="schedule"
        )
    return schedule


def _periods(schedule: CompositeSchedule) -> list[dict[str, Any]]:
    return [
        {"startPeriod": p.start_period, "limit": p.limit, "numberPhases": p.number_phases}
        for p in schedule.periods
    ]


def composite_response(schedule: CompositeSchedule, version: OcppVersion | str) -> dict[str, Any]:
    """The GetCompositeSchedule response payload with status Accepted.

    1.6: ``{status, connectorId, scheduleStart, chargingSchedule}``, the inner
    ``startSchedule`` left out (1.6 errata 3.57); ``minChargingRate`` is given
    when every period governed by a Tx/TxDefault schedule with one agrees on it.
    2.0.1/2.1: ``{status, schedule: {evseId, duration, scheduleStart,
    chargingRateUnit, chargingSchedulePeriod}}``.
    """
    from .payloads import parse_version

    _schedule(schedule)
    v = parse_version(version)
    start = format_timestamp(schedule.schedule_start)
    unit = schedule.charging_rate_unit.value
    if v is OcppVersion.V16:
        inner: dict[str, Any] = {
            "duration": schedule.duration,
            "chargingRateUnit": unit,
            "chargingSchedulePeriod": _periods(schedule),
        }
        rates = {p.min_charging_rate for p in schedule.periods}
        if len(rates) == 1 and None not in rates:
            inner["minChargingRate"] = rates.pop()
        return {
            "status": "Accepted",
            "connectorId": schedule.evse_id,
            "scheduleStart": start,
            "chargingSchedule": inner,
        }
    return {
        "status": "Accepted",
        "schedule": {
            "evseId": schedule.evse_id,
            "duration": schedule.duration,
            "scheduleStart": start,
            "chargingRateUnit": unit,
            "chargingSchedulePeriod": _periods(schedule),
        },
    }


def rejected_composite_response(version: OcppVersion | str, reason: str = "") -> dict[str, Any]:
    """A GetCompositeSchedule response with status Rejected (unknown EVSE, unit not allowed)."""
    from .payloads import parse_version

    if not isinstance(reason, str):
        raise QueryError(
            f"expected a reason code (str), got {type(reason).__name__}", field="reason"
        )
    out: dict[str, Any] = {"status": "Rejected"}
    if parse_version(version).is_v2 and reason:
        out["statusInfo"] = {"reasonCode": reason}
    return out


def explain_table(schedule: CompositeSchedule) -> str:
    """A fixed-width table: each period's window, limit, phases and what set it."""
    _schedule(schedule)
    unit = schedule.charging_rate_unit.value
    rows = [("from (UTC)", "offset s", f"limit {unit}", "phases", "set by")]
    end = schedule.start + schedule.duration
    for p in schedule.periods:
        when = format_instant(schedule.start + p.start_period)
        rows.append(
            (
                when,
                str(p.start_period),
                f"{p.limit:.1f}",
                str(p.number_phases),
                "; then ".join(str(s) for s in p.sources) or str(p.source),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = []
    for r in rows:
        cells = [
            r[0].ljust(widths[0]),
            r[1].rjust(widths[1]),
            r[2].rjust(widths[2]),
            r[3].rjust(widths[3]),
            r[4],
        ]
        lines.append("  ".join(cells))
    lines.insert(1, "-" * max(len(line) for line in lines))
    header = (
        f"Composite schedule of EVSE {schedule.evse_id} from "
        f"{format_instant(schedule.start)} to {format_instant(end)} "
        f"({schedule.duration} s), in {unit}"
    )
    return header + "\n" + "\n".join(lines)

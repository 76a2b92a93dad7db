"""Small builders for tests: profiles from compact arguments, in 2.x JSON shape."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ocpp_schedule import ChargingProfile, InstalledProfile, Transaction

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def at(seconds: int) -> datetime:
    """T0 plus ``seconds``."""
    return T0 + timedelta(seconds=seconds)


def iso(seconds: int) -> str:
    """T0 plus ``seconds`` as RFC 3339 text."""
    return at(seconds).strftime("%Y-%m-%dT%H:%M:%SZ")


def profile(
    pid: int,
    purpose: str,
    periods: list[tuple[int, float] | tuple[int, float, int]],
    *,
    stack: int = 0,
    kind: str = "Absolute",
    unit: str = "A",
    start: int | None = 0,
    duration: int | None = None,
    recurrency: str | None = None,
    valid_from: int | None = None,
    valid_to: int | None = None,
    transaction_id: str | None = None,
    min_rate: float | None = None,
    **schedule_extra: Any,
) -> ChargingProfile:
    """A ChargingProfile; ``periods`` are (startPeriod, limit[, numberPhases])."""
    sched: dict[str, Any] = {
        "id": 1,
        "chargingRateUnit": unit,
        "chargingSchedulePeriod": [
            {"startPeriod": p[0], "limit": p[1], **({"numberPhases": p[2]} if len(p) > 2 else {})}
            for p in periods
        ],
    }
    if start is not None and kind != "Relative":
        sched["startSchedule"] = iso(start)
    if duration is not None:
        sched["duration"] = duration
    if min_rate is not None:
        sched["minChargingRate"] = min_rate
    sched.update(schedule_extra)
    data: dict[str, Any] = {
        "id": pid,
        "stackLevel": stack,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": kind,
        "chargingSchedule": [sched],
    }
    if recurrency:
        data["recurrencyKind"] = recurrency
    if valid_from is not None:
        data["validFrom"] = iso(valid_from)
    if valid_to is not None:
        data["validTo"] = iso(valid_to)
    if transaction_id is not None:
        data["transactionId"] = transaction_id
    return ChargingProfile.model_validate(data)


def on(evse: int, prof: ChargingProfile, transaction_id: str | None = None) -> InstalledProfile:
    """The profile installed on an EVSE."""
    return InstalledProfile(evse_id=evse, profile=prof, transaction_id=transaction_id)


def tx(tid: str = "T1", evse: int = 1, start: int = 0, **kw: Any) -> Transaction:
    """A transaction started ``start`` seconds after T0."""
    return Transaction(tid, evse, at(start), **kw)


def periods(schedule: Any) -> list[tuple[int, float, int]]:
    """A composite's periods as (startPeriod, limit, numberPhases)."""
    return [(p.start_period, p.limit, p.number_phases) for p in schedule.periods]

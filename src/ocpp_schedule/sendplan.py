"""Send plans: an allocation as SetChargingProfile payloads, in an order that is safe.

For every EVSE the plan holds a TxDefaultProfile on that EVSE (the limits for
sessions that start later) and, when a transaction runs at the moment the plan
is sent, a TxProfile for it. Ids and stack levels are chosen above the ones
the operator's own profiles use on that pile, and the same EVSE keeps the same
ids from plan to plan, so a new plan replaces the previous one.

Order: a station applies a plan one payload at a time. Steps that only lower
an EVSE's limits come first; steps that raise them come last; an EVSE whose
limits go down at some times and up at others first gets the lower of its old
and new limits, and its new limits in the second half. So whichever prefix
of the plan has arrived, every EVSE is at or below its old limits (first half)
or at or below its new ones (second half): if both allocations respect the
site's limits, so does every moment of the change.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from .allocation import Allocation, EvseKey
from .enums import ChargingProfilePurpose, OcppVersion
from .errors import OcppScheduleError
from .models import ChargingProfile, SetChargingProfileRequest
from .payloads import read_set_charging_profile, write_set_charging_profile
from .site import Evse, Pile
from .timelines import evse_timeline, pile_store, session_transaction_id
from .timeutil import epoch_or_datetime, format_timestamp, from_epoch, to_epoch

__all__ = ["PlanStep", "SendPlan", "SendPlanError", "send_plan"]


class SendPlanError(OcppScheduleError, ValueError):
    """An allocation cannot be expressed as profiles a pile accepts."""


Limits = list[tuple[int, int, float, int]]
"""An EVSE's limits as (start, end, amps, phases), epoch seconds."""


@dataclass(frozen=True)
class PlanStep:
    """One payload to send to one pile; ``phase`` says whether it only lowers limits."""

    pile: str
    evse: int
    purpose: ChargingProfilePurpose
    phase: Literal["lower", "raise"]
    payload: dict[str, Any]
    limits: tuple[tuple[int, int, float, int], ...]

    @property
    def request(self) -> SetChargingProfileRequest:
        """The payload read back as a request."""
        return read_set_charging_profile(self.payload)


@dataclass(frozen=True)
class SendPlan:
    """The ordered steps of a plan sent at ``at`` (epoch seconds)."""

    at: int
    steps: tuple[PlanStep, ...]

    def payloads(self) -> list[tuple[str, dict[str, Any]]]:
        """``(pile id, SetChargingProfile payload)`` in sending order."""
        return [(s.pile, s.payload) for s in self.steps]


def send_plan(
    allocation: Allocation,
    *,
    at: datetime | int | None = None,
    previous: Allocation | None = None,
) -> SendPlan:
    """The allocation from ``at`` (default: its start) to its end as an ordered send plan.

    ``previous`` is the allocation the piles hold now; without it, their
    current limits are their own (composite and hardware) limits, which every
    allocation stays under, so every step only lowers.
    """
    start = allocation.start if at is None else epoch_or_datetime(at, "at")
    if not allocation.start <= start < allocation.end:
        raise SendPlanError("'at' lies outside the allocation's window", field="at")
    lower: list[PlanStep] = []
    raise_: list[PlanStep] = []
    for pile in allocation.site.piles:
        store, config = pile_store(pile, allocation.site)
        existing = [read_set_charging_profile(p, pile.ocpp) for p in pile.requests]
        for evse in pile.evses:
            key = (pile.id, evse.id)
            new = _limits(allocation, key, start)
            old = (
                _limits(previous, key, start)
                if previous is not None
                else [
                    (p.start, p.end, p.cap, p.phases)
                    for p in evse_timeline(
                        pile, evse, store, config, start, allocation.end, idle=True
                    )
                ]
            )
            goes_down = _at_most(new, old)
            goes_up = _at_most(old, new)
            profiles = _profiles(pile, evse, existing, new, start, allocation.end)
            if goes_down or not goes_up:
                first = new if goes_down else _lower_of(old, new)
                lower.extend(_steps(pile, evse, "lower", first, profiles))
            if not goes_down:
                raise_.extend(_steps(pile, evse, "raise", new, profiles))
    return SendPlan(start, tuple(lower + raise_))


def _limits(allocation: Allocation, key: EvseKey, start: int) -> Limits:
    out: Limits = []
    for a, b, amps, phases in allocation.evse_periods(key):
        if b <= start:
            continue
        out.append((max(a, start), b, amps, phases))
    return out


def _value_at(limits: Limits, t: int) -> float:
    for a, b, amps, _ in limits:
        if a <= t < b:
            return amps
    return 0.0


def _points(x: Limits, y: Limits) -> list[int]:
    return sorted({a for a, _, _, _ in x} | {a for a, _, _, _ in y})


def _at_most(x: Limits, y: Limits) -> bool:
    """True when x's limit is never above y's."""
    return all(_value_at(x, t) <= _value_at(y, t) + 1e-9 for t in _points(x, y))


def _lower_of(old: Limits, new: Limits) -> Limits:
    ends = {b for _, b, _, _ in old} | {b for _, b, _, _ in new}
    points = sorted(set(_points(old, new)) | ends)
    out: Limits = []
    for a, b in itertools.pairwise(points):
        amps = min(_value_at(old, a), _value_at(new, a))
        phases = max((p for s, e, _, p in new if s <= a < e), default=0)
        out.append((a, b, amps, phases))
    return out


@dataclass(frozen=True)
class _Ids:
    default_id: int
    default_level: int
    tx_id: int
    tx_level: int
    transaction: str | None


def _profiles(
    pile: Pile,
    evse: Evse,
    existing: list[SetChargingProfileRequest],
    new: Limits,
    start: int,
    end: int,
) -> _Ids:
    """Ids and stack levels above the operator's own, stable for the EVSE."""
    ours = {p.charging_profile.id for p in existing}
    top = max((i for i in ours), default=0)
    base = (top // 1000 + 1) * 1000
    default_levels = [
        r.charging_profile.stack_level
        for r in existing
        if r.charging_profile.charging_profile_purpose is ChargingProfilePurpose.TX_DEFAULT_PROFILE
        and r.evse_id in (0, evse.id)
    ]
    tx_levels = [
        r.charging_profile.stack_level
        for r in existing
        if r.charging_profile.charging_profile_purpose is ChargingProfilePurpose.TX_PROFILE
        and r.evse_id == evse.id
    ]
    running = None
    for session in evse.sessions:
        if to_epoch(session.arrive) <= start < to_epoch(session.leave):
            running = session_transaction_id(pile, evse, session)
    limit = pile.station_config.charge_profile_max_stack_level
    default_level = max(default_levels, default=-1) + 1
    tx_level = max(tx_levels, default=-1) + 1
    if max(default_level, tx_level) > limit:
        raise SendPlanError(
            f"pile {pile.id} has no stack level left above the operator's profiles",
            field="stackLevel",
            rule="ChargeProfileMaxStackLevel",
        )
    return _Ids(base + evse.id, default_level, base + 500 + evse.id, tx_level, running)


def _steps(
    pile: Pile, evse: Evse, phase: Literal["lower", "raise"], limits: Limits, ids: _Ids
) -> list[PlanStep]:
    steps = []
    if ids.transaction is not None:
        session_end = next(
            to_epoch(s.leave)
            for s in evse.sessions
            if session_transaction_id(pile, evse, s) == ids.transaction
        )
        own = [(a, min(b, session_end), amps, p) for a, b, amps, p in limits if a < session_end]
        payload = _payload(pile, evse, ChargingProfilePurpose.TX_PROFILE, own, ids)
        steps.append(
            PlanStep(
                pile.id, evse.id, ChargingProfilePurpose.TX_PROFILE, phase, payload, tuple(own)
            )
        )
    payload = _payload(pile, evse, ChargingProfilePurpose.TX_DEFAULT_PROFILE, limits, ids)
    steps.append(
        PlanStep(
            pile.id,
            evse.id,
            ChargingProfilePurpose.TX_DEFAULT_PROFILE,
            phase,
            payload,
            tuple(limits),
        )
    )
    return steps


def _payload(
    pile: Pile, evse: Evse, purpose: ChargingProfilePurpose, limits: Limits, ids: _Ids
) -> dict[str, Any]:
    merged: Limits = []
    for a, b, amps, phases in limits:
        if merged and merged[-1][2] == amps and merged[-1][3] == phases and merged[-1][1] == a:
            merged[-1] = (merged[-1][0], b, amps, phases)
        else:
            merged.append((a, b, amps, phases))
    most = pile.station_config.charging_schedule_max_periods
    if len(merged) > most:
        tail = merged[most - 1 :]
        low = min(m[2] for m in tail)
        merged = [*merged[: most - 1], (tail[0][0], tail[-1][1], low, max(m[3] for m in tail))]
    anchor = merged[0][0]
    periods = []
    for a, _, amps, phases in merged:
        period: dict[str, Any] = {"startPeriod": a - anchor, "limit": amps}
        if phases:
            period["numberPhases"] = phases
        periods.append(period)
    tx = purpose is ChargingProfilePurpose.TX_PROFILE
    profile: dict[str, Any] = {
        "id": ids.tx_id if tx else ids.default_id,
        "stackLevel": ids.tx_level if tx else ids.default_level,
        "chargingProfilePurpose": purpose.value,
        "chargingProfileKind": "Absolute",
        "chargingSchedule": [
            {
                "id": 1,
                "startSchedule": format_timestamp(from_epoch(anchor)),
                "duration": merged[-1][1] - anchor,
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": periods,
            }
        ],
    }
    if tx:
        profile["transactionId"] = ids.transaction
    request = SetChargingProfileRequest(
        evse_id=evse.id, charging_profile=ChargingProfile.model_validate(profile)
    )
    return write_set_charging_profile(request, OcppVersion(pile.ocpp))

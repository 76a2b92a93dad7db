"""ISO 15118 schedules through OCPP 2.x: NotifyEVChargingSchedule (K15-K18), and the EV's choice.

A 2.x TxProfile sent after NotifyEVChargingNeeds may carry up to three
``chargingSchedule`` entries (the ISO 15118 SAScheduleTuples, K15.FR.07). The EV
picks one and the station reports the EV's own charging schedule with
NotifyEVChargingSchedule; the CSMS answers ``Accepted`` when that schedule stays
within the limits of what it sent, else ``Rejected`` (K15.FR.11/12,
K16.FR.06/07, K17.FR.11/12, K18.FR.11/12).

* :func:`read_notify_ev_charging_schedule` / :func:`write_notify_ev_charging_schedule`:
  the request, exact JSON (the schedule through the SetChargingProfile schedule reader);
* :func:`selected_schedule_id`: the schedule the EV selected (2.1
  ``selectedChargingScheduleId``, else the reported ``chargingSchedule.id``, K15.FR.19/21);
* :func:`schedule_selection`: that choice as the engine's ``schedule_ids``;
* :func:`check_ev_schedule`: the instants where the EV schedule leaves the
  composite of the installed profiles (with the selected schedule), and the answer.

Decisions (docs/semantics.md EV-1..EV-6): the EV schedule starts at ``timeBase``
(its ``startSchedule``, if any, is not used: "always relative to timeBase"); the
composite is computed in the EV schedule's unit, so W <-> A conversion is the
engine's (supply voltage and phases from the StationConfig).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, NamedTuple

from ..engine._composite import CompositePeriod, CompositeSchedule, composite_schedule
from ..engine._provenance import LimitSource
from ..errors import PayloadError, QueryError, TimestampError, VersionError
from ..station._config import StationConfig
from ..station._get_profiles import (
    StatusInfo,
    _known,
    read_status_response,
    write_status_response,
)
from ..station._store import InstalledProfile, ProfileStore, Transaction
from ..wire._enums import ChargingProfilePurpose, ChargingRateUnit, OcppVersion
from ..wire._models import ChargingProfile, ChargingSchedule, ChargingSchedulePeriod, JsonObject
from ..wire._payloads import parse_version, read_charging_schedule, write_charging_schedule
from ..wire._timestamps import format_timestamp, from_epoch, parse_timestamp, to_epoch
from ._phases import all_phase_limit

__all__ = [
    "DEFAULT_OPEN_HORIZON",
    "EvScheduleCheck",
    "Exceedance",
    "NotifyEVChargingScheduleRequest",
    "NotifyEVChargingScheduleResponse",
    "check_ev_schedule",
    "read_notify_ev_charging_schedule",
    "read_notify_ev_charging_schedule_response",
    "schedule_selection",
    "selected_schedule_id",
    "write_notify_ev_charging_schedule",
    "write_notify_ev_charging_schedule_response",
]

DEFAULT_OPEN_HORIZON = 86_400
"""How far (s from ``timeBase``) an EV schedule without ``duration`` is checked: one day, the
ISO 15118-2 default schedule length (docs/semantics.md EV-3)."""

MAX_EV_WINDOW = 366 * 86_400
"""The longest window :func:`check_ev_schedule` checks (a year; docs/robustness.md)."""

_REJECT_REASON = "InvalidSchedule"
"""The ``statusInfo.reasonCode`` of a Rejected NotifyEVChargingSchedule (docs/semantics.md EV-5)."""


# ------------------------------------------------------------------------------ the request


@dataclass(frozen=True)
class NotifyEVChargingScheduleRequest:
    """A NotifyEVChargingSchedule request: the EV's planned charging, from ``time_base`` on.

    ``selected_charging_schedule_id`` and ``power_tolerance_acceptance`` are 2.1 only.
    """

    time_base: datetime
    evse_id: int
    charging_schedule: ChargingSchedule
    selected_charging_schedule_id: int | None = None
    power_tolerance_acceptance: bool | None = None
    custom_data: Mapping[str, Any] | None = None


_KEYS_V201 = frozenset({"timeBase", "evseId", "chargingSchedule", "customData"})
_KEYS_V21 = _KEYS_V201 | {"selectedChargingScheduleId", "powerToleranceAcceptance"}


def _strict_int(value: Any, field: str, minimum: int | None, rule: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PayloadError("expected an integer", field=field, rule=rule)
    if minimum is not None and value < minimum:
        raise PayloadError(f"expected an integer >= {minimum}", field=field, rule=rule)
    return value


def _timestamp(value: Any, field: str, rule: str) -> datetime:
    try:
        return parse_timestamp(value, field)
    except TimestampError as exc:
        raise PayloadError(exc.message, field=field, rule=rule) from None


def _check_object(
    payload: Any, allowed: frozenset[str], required: Sequence[str], rule: str
) -> None:
    """Known keys, no ``null``, a CustomDataType ``customData`` (as GetChargingProfiles), required
    keys."""
    if not isinstance(payload, Mapping):
        raise PayloadError("expected a JSON object", rule=rule)
    _known(payload, set(allowed), "", "NotifyEVChargingSchedule")
    for key in required:
        if key not in payload:
            raise PayloadError("required field is missing", field=key, rule=rule)


def read_notify_ev_charging_schedule(
    payload: Any, version: OcppVersion | str = OcppVersion.V201
) -> NotifyEVChargingScheduleRequest:
    """Read a NotifyEVChargingSchedule request payload (2.0.1 or 2.1; 1.6 has none).

    The ``chargingSchedule`` goes through the SetChargingProfile schedule reader
    (the same key, period and bound checks); unknown keys and ``null`` are errors.
    """
    v = _v2(version)
    rule = f"OCPP {v.value} schema"
    _check_object(
        payload,
        _KEYS_V21 if v is OcppVersion.V21 else _KEYS_V201,
        ("timeBase", "evseId", "chargingSchedule"),
        rule,
    )
    selected = payload.get("selectedChargingScheduleId")
    tolerance = payload.get("powerToleranceAcceptance")
    if tolerance is not None and not isinstance(tolerance, bool):
        raise PayloadError("expected a boolean", field="powerToleranceAcceptance", rule=rule)
    custom = payload.get("customData")
    return NotifyEVChargingScheduleRequest(
        time_base=_timestamp(payload["timeBase"], "timeBase", rule),
        # 2.0.1 text and 2.1 schema: evseId > 0
        evse_id=_strict_int(payload["evseId"], "evseId", 1, f"{rule}: evseId > 0"),
        charging_schedule=read_charging_schedule(payload["chargingSchedule"], v),
        selected_charging_schedule_id=None
        if selected is None
        else _strict_int(selected, "selectedChargingScheduleId", 0, rule),
        power_tolerance_acceptance=tolerance,
        custom_data=None if custom is None else JsonObject(custom),
    )


def write_notify_ev_charging_schedule(
    request: NotifyEVChargingScheduleRequest, version: OcppVersion | str = OcppVersion.V201
) -> dict[str, Any]:
    """The NotifyEVChargingSchedule request payload; what the reader read it writes back exactly.

    A 2.1-only field cannot be written in 2.0.1 (:class:`VersionError`).
    """
    v = _v2(version)
    out: dict[str, Any] = {
        "timeBase": format_timestamp(request.time_base),
        "evseId": request.evse_id,
        "chargingSchedule": write_charging_schedule(request.charging_schedule, v),
    }
    for key, value in (
        ("selectedChargingScheduleId", request.selected_charging_schedule_id),
        ("powerToleranceAcceptance", request.power_tolerance_acceptance),
    ):
        if value is None:
            continue
        if v is not OcppVersion.V21:
            raise VersionError(f"OCPP {v.value} has no field {key!r}", field=key)
        out[key] = value
    if request.custom_data is not None:
        out["customData"] = JsonObject(request.custom_data).thaw()
    return out


@dataclass(frozen=True)
class NotifyEVChargingScheduleResponse:
    """The CSMS's answer to NotifyEVChargingSchedule (K15.FR.11/12)."""

    status: Literal["Accepted", "Rejected"]
    status_info: StatusInfo | None = None
    custom_data: Mapping[str, Any] | None = None


_SCHEDULE_STATUSES = frozenset({"Accepted", "Rejected"})


def read_notify_ev_charging_schedule_response(
    payload: Any, version: OcppVersion | str = OcppVersion.V201
) -> NotifyEVChargingScheduleResponse:
    """Read a NotifyEVChargingSchedule response payload (2.0.1 or 2.1)."""
    v = _v2(version)
    status, info, custom = read_status_response(
        payload, v, _SCHEDULE_STATUSES, "NotifyEVChargingSchedule"
    )
    return NotifyEVChargingScheduleResponse(
        "Accepted" if status == "Accepted" else "Rejected", info, custom
    )


def write_notify_ev_charging_schedule_response(
    response: NotifyEVChargingScheduleResponse, version: OcppVersion | str = OcppVersion.V201
) -> dict[str, Any]:
    """The NotifyEVChargingSchedule response payload."""
    v = _v2(version)
    info = response.status_info
    if info is not None and info.additional_info is not None:
        longest = 512 if v is OcppVersion.V201 else 1024
        if len(info.additional_info) > longest:
            raise VersionError(
                f"additionalInfo is at most {longest} characters in OCPP {v.value}",
                field="statusInfo.additionalInfo",
            )
    return write_status_response(response.status, info, response.custom_data)


def _v2(version: OcppVersion | str) -> OcppVersion:
    v = parse_version(version)
    if not v.is_v2:
        raise VersionError(
            "OCPP 1.6 has no ISO 15118 messages (NotifyEVChargingSchedule/Needs)",
            field="version",
        )
    return v


# ------------------------------------------------------------------------------ selection


def selected_schedule_id(request: NotifyEVChargingScheduleRequest) -> int:
    """The id of the CSMS schedule the EV selected.

    2.1: ``selectedChargingScheduleId`` when given (K15.FR.21, K18.FR.10); otherwise
    (and always in 2.0.1) the reported ``chargingSchedule.id``, which the station sets
    to the SAScheduleTupleId the EV chose (K15.FR.19, K16.FR.13, K17.FR.16).
    """
    if request.selected_charging_schedule_id is not None:
        return request.selected_charging_schedule_id
    sid = request.charging_schedule.id
    if sid is None:  # pragma: no cover - the 2.x reader requires the id
        raise QueryError("the reported schedule has no id", field="chargingSchedule.id")
    return sid


def schedule_selection(
    profile: ChargingProfile | InstalledProfile, schedule_id: int
) -> dict[int, int]:
    """The EV's choice among a profile's schedules as ``composite_schedule(schedule_ids=...)``.

    Returns ``{profile id: schedule_id}``. Raises :class:`QueryError` when the
    profile has no schedule with that id (the EV cannot select what was not
    offered; K15.FR.07: the schedules are the SAScheduleTuples sent to the EV).
    """
    prof = profile.profile if isinstance(profile, InstalledProfile) else profile
    if not isinstance(prof, ChargingProfile):
        raise QueryError(
            f"expected a ChargingProfile or InstalledProfile, got {type(profile).__name__}",
            field="profile",
        )
    if isinstance(schedule_id, bool) or not isinstance(schedule_id, int):
        raise QueryError("expected a schedule id (int)", field="schedule_id")
    offered = [s.id for s in prof.charging_schedule]
    if schedule_id not in offered:
        raise QueryError(
            f"profile {prof.id} offers schedules {offered}, not {schedule_id}",
            field="selectedChargingScheduleId",
            rule="K15.FR.07/K15.FR.19: the EV selects one of the schedules sent",
        )
    return {prof.id: schedule_id}


def _selections(
    profiles: Iterable[InstalledProfile], evse_id: int, schedule_id: int
) -> dict[int, int]:
    """The selection for every TxProfile of the EVSE that offers several schedules."""
    out: dict[int, int] = {}
    for entry in profiles:
        prof = entry.profile
        if (
            entry.evse_id == evse_id
            and prof.charging_profile_purpose is ChargingProfilePurpose.TX_PROFILE
            and len(prof.charging_schedule) > 1
        ):
            out.update(schedule_selection(prof, schedule_id))
    return out


# ---------------------------------------------------------------------------------- check


class Exceedance(NamedTuple):
    """Where the EV schedule leaves the composite: ``[start, end)``, UTC datetimes
    (``start_epoch``, ``end_epoch``: the same in epoch seconds).

    ``bound`` is ``limit`` (the EV plans more than the composite allows; ``value`` and
    ``allowed`` are all-phase values, or ``phase`` names the phase 1..3 over its own
    limit) or ``dischargeLimit`` (the EV plans to discharge more than allowed; no
    discharge limit in force allows none). ``source`` is what set the composite there.
    """

    start_epoch: int
    end_epoch: int
    value: float
    allowed: float
    bound: Literal["limit", "dischargeLimit"]
    phase: int | None
    source: LimitSource

    @property
    def start(self) -> datetime:
        """Where it starts, a UTC datetime."""
        return from_epoch(self.start_epoch)

    @property
    def end(self) -> datetime:
        """Where it ends (exclusive), a UTC datetime."""
        return from_epoch(self.end_epoch)

    @property
    def start_time(self) -> datetime:
        """``start`` (kept under its earlier name)."""
        return from_epoch(self.start_epoch)


@dataclass(frozen=True)
class EvScheduleCheck:
    """The outcome of :func:`check_ev_schedule`: the answer and why."""

    exceedances: tuple[Exceedance, ...]
    composite: CompositeSchedule
    schedule_ids: Mapping[int, int]
    """The selection the composite was computed with (profile id -> schedule id)."""

    @property
    def within_limits(self) -> bool:
        """True when the EV schedule stays within the composite everywhere."""
        return not self.exceedances

    @property
    def status(self) -> Literal["Accepted", "Rejected"]:
        """``Accepted`` within limits (K15.FR.11, K16.FR.06, K17.FR.11, K18.FR.11), else
        ``Rejected`` (K15.FR.12, K16.FR.07, K17.FR.12, K18.FR.12)."""
        return "Accepted" if self.within_limits else "Rejected"

    def response(self) -> NotifyEVChargingScheduleResponse:
        """The response to send; a rejection says where (docs/semantics.md EV-5)."""
        if self.within_limits:
            return NotifyEVChargingScheduleResponse("Accepted")
        first = self.exceedances[0]
        where = "" if first.phase is None else f" on L{first.phase}"
        info = (
            f"EV schedule {first.value:g} above {first.bound} {first.allowed:g}{where} "
            f"from {format_timestamp(first.start_time)} ({len(self.exceedances)} interval(s))"
        )
        return NotifyEVChargingScheduleResponse("Rejected", StatusInfo(_REJECT_REASON, info[:512]))

    def to_payload(self, version: OcppVersion | str = OcppVersion.V201) -> dict[str, Any]:
        """The NotifyEVChargingSchedule response payload of ``version``."""
        return write_notify_ev_charging_schedule_response(self.response(), version)


def check_ev_schedule(
    request: NotifyEVChargingScheduleRequest,
    profiles: ProfileStore | Iterable[InstalledProfile],
    *,
    transaction: Transaction | Sequence[Transaction] | None = None,
    config: StationConfig | None = None,
    horizon: int = DEFAULT_OPEN_HORIZON,
    tolerance: float = 0.0,
) -> EvScheduleCheck:
    """Check that the EV's schedule stays within the composite of the installed profiles.

    The composite of ``request.evse_id`` is computed over the EV schedule's
    window, in its unit, with the schedule the EV selected
    (:func:`selected_schedule_id`) counting for every TxProfile of that EVSE that
    offers several (:func:`schedule_selection`; :class:`QueryError` if it offers
    none with that id). At every instant the EV's all-phase value must not exceed
    the composite's ``limit`` (nor, where both give per-phase values or the unit
    is A, any phase its phase limit), and a negative (discharging) value must not
    be below the composite's ``dischargeLimit`` (none in force: no discharge).
    ``tolerance`` (>= 0, in the unit) is allowed over each bound.

    The window is ``[timeBase, timeBase + duration)``; without ``duration``,
    ``horizon`` seconds (default one day, at least up to the last period's start).
    """
    if not isinstance(request, NotifyEVChargingScheduleRequest):
        raise QueryError(
            f"expected a NotifyEVChargingScheduleRequest, got {type(request).__name__}",
            field="request",
        )
    if isinstance(horizon, bool) or not isinstance(horizon, int) or horizon <= 0:
        raise QueryError("horizon is a positive number of seconds (int)", field="horizon")
    if (
        isinstance(tolerance, bool)
        or not isinstance(tolerance, int | float)
        or not (0 <= tolerance < float("inf"))
    ):
        raise QueryError("tolerance is a finite number >= 0", field="tolerance")
    entries = profiles if isinstance(profiles, ProfileStore) else ProfileStore(profiles)
    schedule_ids = _selections(entries, request.evse_id, selected_schedule_id(request))
    sched = request.charging_schedule
    pieces = _ev_pieces(sched, horizon)
    length = pieces[-1][1] if pieces else 0
    if length > MAX_EV_WINDOW:
        raise QueryError(
            f"the EV schedule spans {length} s; at most {MAX_EV_WINDOW} s are checked",
            field="chargingSchedule.duration",
            rule="docs/robustness.md",
        )
    start = to_epoch(request.time_base)
    composite = composite_schedule(
        entries,
        evse_id=request.evse_id,
        start=start,
        duration=max(length, 1),
        unit=sched.charging_rate_unit,
        transaction=transaction,
        config=config,
        schedule_ids=schedule_ids or None,
    )
    unit_w = sched.charging_rate_unit is ChargingRateUnit.W
    found = _compare(pieces, composite, unit_w, float(tolerance))
    return EvScheduleCheck(_merge(found, start), composite, schedule_ids)


def _ev_pieces(
    sched: ChargingSchedule, horizon: int
) -> list[tuple[int, int, ChargingSchedulePeriod]]:
    """The EV schedule's periods as ``(from, to, period)`` offsets from timeBase.

    Periods start at their ``startPeriod`` and last until the next one or the
    window's end; one at or past ``duration`` never runs (K01.FR.11).
    """
    periods = sorted(sched.charging_schedule_period, key=lambda p: p.start_period)
    if sched.duration is not None:
        end = sched.duration
    else:
        end = max(horizon, (periods[-1].start_period + 1) if periods else 0)
    out = []
    for i, period in enumerate(periods):
        lo = max(period.start_period, 0)
        hi = periods[i + 1].start_period if i + 1 < len(periods) else end
        hi = min(hi, end)
        if lo < hi:
            out.append((lo, hi, period))
    return out


def _compare(
    pieces: list[tuple[int, int, ChargingSchedulePeriod]],
    composite: CompositeSchedule,
    unit_w: bool,
    tolerance: float,
) -> list[
    tuple[int, int, float, float, Literal["limit", "dischargeLimit"], int | None, LimitSource]
]:
    """Walk the EV pieces and the composite periods together; every breach, interval by interval."""
    cps = composite.periods
    starts = [p.start_period for p in cps]  # strictly increasing, the first 0
    out: list[
        tuple[int, int, float, float, Literal["limit", "dischargeLimit"], int | None, LimitSource]
    ] = []
    for lo, hi, ev in pieces:
        t = lo
        while t < hi:
            j = bisect_right(starts, t) - 1  # the composite period in force at t
            end = min(hi, starts[j + 1]) if j + 1 < len(starts) else hi
            breach = _breach(ev, cps[j], unit_w, tolerance)
            if breach is not None:
                value, allowed, bound, phase = breach
                out.append((t, end, value, allowed, bound, phase, cps[j].source))
            t = end
    return out


def _breach(
    ev: ChargingSchedulePeriod, cap: CompositePeriod, unit_w: bool, tolerance: float
) -> tuple[float, float, Literal["limit", "dischargeLimit"], int | None] | None:
    """The first bound the EV period breaks under the composite period, or None."""
    if ev.limit is None:
        return None  # 2.1: a period without limit plans nothing to check (EV-4)
    total = all_phase_limit(ev.limit, ev.limit_l2, ev.limit_l3, ev.number_phases, unit_w)
    if total > cap.limit + tolerance:
        return total, cap.limit, "limit", None
    ev_phases = _phase_values(ev.limit, ev.limit_l2, ev.limit_l3, ev.number_phases, unit_w)
    v2x = cap.v2x
    cap_phases = (
        _phase_values(v2x.limit_l1, v2x.limit_l2, v2x.limit_l3, cap.number_phases, unit_w)
        if v2x is not None and v2x.limit_l1 is not None
        else _phase_values(cap.limit, None, None, cap.number_phases, unit_w)
    )
    if ev_phases is not None and cap_phases is not None:
        for k, (mine, theirs) in enumerate(zip(ev_phases, cap_phases, strict=False)):
            if mine > theirs + tolerance:
                return mine, theirs, "limit", k + 1
    if total < 0:
        floor = _discharge_floor(cap, unit_w)
        if total < floor - tolerance:
            return total, floor, "dischargeLimit", None
    return None


def _phase_values(
    l1: float | None, l2: float | None, l3: float | None, phases: int | None, unit_w: bool
) -> list[float] | None:
    """Per-phase values of the phases in use; None for an all-phase W total (no split known)."""
    if l1 is None:
        return None
    n = phases if phases in (1, 2, 3) else 3
    if l2 is None and l3 is None:
        return None if unit_w else [l1] * n
    return [l1, l1 if l2 is None else l2, l1 if l3 is None else l3][:n]


def _discharge_floor(cap: CompositePeriod, unit_w: bool) -> float:
    """The all-phase discharge limit (<= 0) in force; 0 (no discharge) where none is."""
    v2x = cap.v2x
    if v2x is None or v2x.discharge_limit is None:
        return 0.0
    if v2x.limit_l1 is None:
        return v2x.discharge_limit
    # per phase: W the sum, A the least discharge of the phases in use (mirror of the limit)
    return -all_phase_limit(
        -v2x.discharge_limit,
        None if v2x.discharge_limit_l2 is None else -v2x.discharge_limit_l2,
        None if v2x.discharge_limit_l3 is None else -v2x.discharge_limit_l3,
        cap.number_phases,
        unit_w,
    )


def _merge(
    found: list[
        tuple[int, int, float, float, Literal["limit", "dischargeLimit"], int | None, LimitSource]
    ],
    start: int,
) -> tuple[Exceedance, ...]:
    """Adjacent breaches with the same values and source as one interval, in epoch seconds."""
    out: list[Exceedance] = []
    for lo, hi, value, allowed, bound, phase, source in found:
        last = out[-1] if out else None
        if (
            last is not None
            and last.end_epoch == start + lo
            and (last.value, last.allowed, last.bound, last.phase, last.source)
            == (value, allowed, bound, phase, source)
        ):
            out[-1] = last._replace(end_epoch=start + hi)
        else:
            out.append(Exceedance(start + lo, start + hi, value, allowed, bound, phase, source))
    return tuple(out)

"""The site controller: what a CSMS calls whenever something happens at a site.

A vehicle plugs in or leaves, a meter value arrives, a plan is about to expire:
the CSMS passes the site (its circuits, piles and sessions) and the state it
knows *now* (:class:`SiteState`: per EVSE, the measured current per phase, the
energy delivered so far, whether a vehicle is plugged in and still drawing) to
:func:`control`. Nothing reads a clock; everything is passed in.

:func:`control` turns the state into an *adjusted* site at ``state.at``
(docs/semantics.md CT1-CT7):

- a session's need becomes what it still needs (need - delivered); a session
  whose need is met, or whose vehicle has stopped drawing (``drawing=False``,
  e.g. SuspendedEV), leaves the sharing: its vehicle limit becomes 0 A until a
  later call reports it drawing again;
- an unplugged vehicle's session ends at ``state.at``;
- a vehicle that draws clearly less than the limit in force (it tapers) gets
  its own limit capped at what it draws plus :data:`TAPER_HEADROOM`, so the rest
  goes to others at this step; it gets its share back as soon as it draws its
  limit again;
- a session whose departure is an estimate (``departure_known=False``) and whose
  vehicle is still plugged in at or after that estimate stays until
  ``state.at`` + max(``resolution``, :data:`EXTENSION_S`);

then balances it from ``state.at`` (:func:`~ocpp_schedule.balance`), makes the send plan
(:func:`~ocpp_schedule.send_plan`: with ``previous``, only the EVSEs whose limits change)
and says what each session gets. Measurements above the limit in force are
flagged, never silently used.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import ConfigDict, Field, model_validator

from ..engine._collector import collector_paused
from ..errors import OcppScheduleError, QueryError
from ..wire._docstrings import DocumentedModel
from ..wire._models import Timestamp
from ..wire._timestamps import epoch_or_datetime, from_epoch, to_epoch
from ._allocation import Allocation, EvseKey, balance
from ._hold import held
from ._model import MAX_AMPS, MAX_ENERGY_KWH, Evse, Pile, Session, Site
from ._outcomes import SessionTimes, session_energy
from ._planning import Planner
from ._policies import Policy
from ._sendplan import SendPlan, send_plan

__all__ = [
    "DEFAULT_HORIZON_CAP",
    "EXTENSION_S",
    "FLAG_TOLERANCE",
    "TAPER_HEADROOM",
    "ControlError",
    "ControlResult",
    "EvseMeasurement",
    "MeasurementFlag",
    "SessionControl",
    "SiteState",
    "TAPER_GRACE_S",
    "control",
]

TAPER_HEADROOM = 1.0
"""A vehicle drawing (highest phase) more than half this below the limit in force tapers: its own
limit becomes what it draws plus this many A (CT3). Half, so that the capped limit (floored to
0.1 A) keeps it tapering while it draws as before, and it gets its share back once it draws
within half of it."""
TAPER_GRACE_S = 120
"""A measurement taken less than this many seconds after the session's arrival does not judge
tapering (CT12): the vehicle is still ramping up (a CSMS hears StartTransaction, and often a
0 A meter value, before the first current flows)."""
FLAG_TOLERANCE = 0.5
"""A measured phase current more than this many A above the limit in force is flagged (CT4)."""
EXTENSION_S = 3600
"""An estimated departure that has passed while the vehicle stays moves to ``at`` + max(resolution,
this) (CT5)."""
DEFAULT_HORIZON_CAP = 86400
"""Without ``horizon``, the plan covers the present sessions until they leave, at most this
(CT6)."""
_MET_KWH = 1e-6
"""A need within this many kWh of the delivered energy counts as met (far below any meter)."""

Amps = Annotated[float, Field(ge=0, le=MAX_AMPS, allow_inf_nan=False)]
Kwh = Annotated[float, Field(ge=0, le=MAX_ENERGY_KWH, allow_inf_nan=False)]


class ControlError(OcppScheduleError, ValueError):
    """The state given to :func:`control` does not fit the site (an unknown pile or EVSE, a
    measurement given twice, a time before the previous plan, an argument of the wrong type)."""


class _Frozen(DocumentedModel):
    model_config = ConfigDict(frozen=True, extra="forbid")  # descriptions: DocumentedModel


class EvseMeasurement(_Frozen):
    """What the CSMS knows of one EVSE now (MeterValues, StatusNotification)."""

    pile: str
    """The pile's id."""
    evse: Annotated[int, Field(gt=0, strict=True)]
    """The EVSE's id (1.6: connector)."""
    amps: tuple[Amps, Amps, Amps] | None = None
    """The measured current per phase (A; MeterValues ``Current.Import``) in the pile's phase
    order L1, L2, L3; None when not measured."""
    energy_kwh: Kwh = 0.0
    """The energy delivered so far in the current session (kWh, >= 0)."""
    plugged: bool = True
    """Whether a vehicle is plugged in; False ends the EVSE's running session now."""
    drawing: bool = True
    """False: the vehicle reports full or has stopped drawing (SuspendedEV); it leaves the
    sharing (0 A) until a later call reports it drawing again."""
    offered_amps: Amps | None = None
    """The limit in force now (A per phase), if the caller knows it; else the previous result's."""


class SiteState(_Frozen):
    """The state of a site at one instant: the measurements the CSMS has, at most one per EVSE.

    An EVSE without a measurement is taken as the site says: its running session (if any) is
    plugged in, drawing, and has had nothing delivered yet.
    """

    at: Timestamp
    """Now (RFC 3339 with an offset): the plan starts here."""
    evses: tuple[EvseMeasurement, ...] = ()
    """The EVSEs' measurements, at most one per EVSE."""

    @model_validator(mode="after")
    def _once_each(self) -> SiteState:
        seen: set[tuple[str, int]] = set()
        for m in self.evses:
            if (m.pile, m.evse) in seen:
                raise ValueError(f"pile {m.pile} EVSE {m.evse} is measured twice")
            seen.add((m.pile, m.evse))
        return self


@dataclass(frozen=True)
class MeasurementFlag:
    """A measured phase current above the limit in force (plus :data:`FLAG_TOLERANCE`)."""

    pile: str
    """The pile's id."""
    evse: int
    """The EVSE's id."""
    phase: int
    """The pile's phase (1..3) measured above the limit."""
    measured: float
    """The measured current (A)."""
    limit: float
    """The limit in force (A): ``offered_amps``, the previous result's, or the EVSE's hardware
    limit when neither is known."""


Status = Literal["charging", "tapering", "full", "not-drawing", "unplugged", "arriving"]


@dataclass(frozen=True)
class SessionControl(SessionTimes):
    """One session as the controller sees it at ``at``, and what the plan gives it by departure."""

    pile: str
    """The pile's id."""
    evse: int
    """The EVSE's id."""
    transaction_id: str
    """Its transaction id (caller-given, or the digits the library models it with)."""
    arrive: datetime
    """Its arrival (UTC)."""
    leave: datetime
    """Its departure as planned (UTC): ``at`` when unplugged, an extended estimate (CT5)."""
    departure_known: bool
    """Whether ``leave`` is the caller's (False: an estimate)."""
    status: Status
    """``charging``, ``tapering`` (own limit capped, CT3), ``full`` (need met), ``not-drawing``
    (CT2), ``unplugged`` (ended at ``at``) or ``arriving`` (later)."""
    need_kwh: float | None
    """Its need at arrival (kWh); None when unknown."""
    delivered_kwh: float
    """The energy delivered before ``at`` (the measurement's ``energy_kwh``)."""
    expected_kwh: float
    """``delivered_kwh`` plus what the plan gives it by departure within the horizon, assuming
    it draws its limit; never above ``need_kwh``."""
    done_at: datetime | None
    """When its need is met (``at`` when already met); None when not within the horizon or the
    need is unknown."""
    unmet_kwh: float | None
    """``need_kwh - expected_kwh`` (>= 0); None when the need is unknown."""


@dataclass(frozen=True)
class ControlResult:
    """What :func:`control` decided at ``at``: limits, the plan to send, what each session gets."""

    at_epoch: int
    """Epoch seconds: the instant of the state, where the plan starts (``at``: a datetime)."""
    site: Site
    """The adjusted site that was balanced (needs left, caps, ends, extensions)."""
    allocation: Allocation
    """Per EVSE, the limits over the horizon; per circuit, the load (:attr:`loads`)."""
    plan: SendPlan
    """The SetChargingProfile payloads to send, in order (only ``changed`` EVSEs)."""
    sessions: tuple[SessionControl, ...]
    """Every session present at ``at`` or arriving within the horizon."""
    flags: tuple[MeasurementFlag, ...]
    """Measurements above the limit in force."""
    changed: tuple[EvseKey, ...]
    """The EVSEs the plan sends profiles for: every EVSE, or with ``previous`` only those whose
    limits (from ``at`` on, tail included) differ from what the piles hold."""

    @property
    def at(self) -> datetime:
        """The instant of the state, where the plan starts, a UTC datetime."""
        return from_epoch(self.at_epoch)

    @property
    def valid_until(self) -> datetime:
        """The plan's end, a UTC datetime; from then on every EVSE holds its safe tail."""
        return from_epoch(self.plan.valid_until_epoch)

    @property
    def valid_until_epoch(self) -> int:
        """``valid_until`` in epoch seconds."""
        return self.plan.valid_until_epoch

    @property
    def resend_before(self) -> datetime:
        """Call :func:`control` again and send its plan by then, a UTC datetime."""
        return from_epoch(self.plan.resend_before_epoch)

    @property
    def resend_before_epoch(self) -> int:
        """``resend_before`` in epoch seconds."""
        return self.plan.resend_before_epoch

    @property
    def loads(self) -> dict[str, tuple[tuple[float, float, float], ...]]:
        """Per circuit and slot, the load (A per circuit phase) under the limits given."""
        return self.allocation.loads

    def limit_at(self, key: EvseKey, t: datetime | int) -> tuple[float, int]:
        """The limit (A per phase) and phases (0: unrestricted) the plan gives ``key`` at ``t``
        (a datetime or epoch seconds).

        Within the allocation's window: the slot's limit; from its end on: the EVSE's safe tail.
        Before ``at``: :class:`ControlError`.
        """
        alloc = self.allocation
        t = epoch_or_datetime(t, "t")
        if t < alloc.start_epoch:
            raise ControlError("the plan says nothing before its start", field="t")
        if t >= alloc.end_epoch:
            return self.plan.tails[key], 0
        k = bisect_right(alloc.boundaries, t) - 1
        return alloc.amps[key][k], alloc.phases[key][k]


def control(
    site: Site,
    state: SiteState,
    *,
    policy: Policy | Planner | None = None,
    horizon: int | None = None,
    resolution: int = 300,
    previous: ControlResult | None = None,
    hold: int | None = None,
) -> ControlResult:
    """Balance the site from ``state.at`` with what is measured now, and plan what to send.

    ``horizon`` is the plan's length in seconds (default: until the present sessions leave,
    at least one ``resolution``, at most :data:`DEFAULT_HORIZON_CAP`, CT6); ``resolution`` the
    slot length; ``policy`` as for :func:`~ocpp_schedule.balance` (None: its default).
    ``previous`` is the last result whose plan was sent: the new plan then sends only the
    EVSEs whose limits change (CT7), and tapering is judged against its limits when a
    measurement has no ``offered_amps``.

    ``hold`` (seconds, with ``previous``; default None: off) is a hysteresis (CT13): an EVSE
    whose new limits equal what its pile holds for the next ``hold`` seconds keeps what it
    holds (it is not sent) wherever the site stays within every limit with it; the result's
    allocation then gives it the held limits. Re-planned more often than ``hold``, the
    limits in force are the same as without it; far fewer EVSEs are sent.

    Pure: no clock, no I/O. Bad input raises :class:`ControlError` (unknown pile or EVSE, a
    time before ``previous``), :class:`~ocpp_schedule.QueryError` (bad horizon or resolution);
    an unsafe result :class:`~ocpp_schedule.SafetyError` (never returned).

    The cyclic garbage collector is paused for the call (it makes no reference cycles;
    docs/performance.md, SENDWARM), as :func:`~ocpp_schedule.send_plan` pauses it.
    """
    with collector_paused():
        return _control(site, state, policy, horizon, resolution, previous, hold)


def _control(
    site: Site,
    state: SiteState,
    policy: Policy | Planner | None,
    horizon: int | None,
    resolution: int,
    previous: ControlResult | None,
    hold: int | None,
) -> ControlResult:
    """:func:`control`, with the collector paused."""
    if not isinstance(site, Site):
        raise ControlError("site must be a Site", field="site")
    if not isinstance(state, SiteState):
        raise ControlError("state must be a SiteState", field="state")
    if previous is not None and not isinstance(previous, ControlResult):
        raise ControlError("previous must be a ControlResult or None", field="previous")
    at = to_epoch(state.at)
    if previous is not None and at < previous.at_epoch:
        raise ControlError(
            "the state is older than the previous result: a plan cannot be sent before the last",
            field="at",
            rule="control calls go forward in time",
        )
    measured = _measurements(site, state)
    step = _positive(resolution, "resolution")
    adjusted, stays = _adjust(site, at, measured, previous, step)
    length = _default_horizon(stays, at, step) if horizon is None else _positive(horizon, "horizon")
    allocation = balance(
        adjusted, start=at, duration=length, resolution=step, policy=policy, align=True
    )
    if hold is not None:
        held_for = _positive(hold, "hold")
        if previous is not None:
            allocation = held(allocation, previous.allocation, at, held_for)
    plan = send_plan(
        allocation,
        at=at,
        previous=None if previous is None else previous.allocation,
        only_changed=previous is not None,
        previous_plan=None if previous is None else previous.plan,
    )
    return ControlResult(
        at_epoch=at,
        site=adjusted,
        allocation=allocation,
        plan=plan,
        sessions=_sessions(stays, allocation, at, measured),
        flags=_flags(site, measured, previous, at),
        changed=plan.sent,
    )


def _positive(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise QueryError(f"{name} must be a positive number of seconds", field=name)
    return value


def _measurements(site: Site, state: SiteState) -> dict[EvseKey, EvseMeasurement]:
    """The measurements by EVSE; one naming a pile or EVSE the site lacks is a ControlError."""
    out: dict[EvseKey, EvseMeasurement] = {}
    if not state.evses:
        return out
    evses = {(p.id, e.id) for p in site.piles for e in p.evses}
    for m in state.evses:
        if (m.pile, m.evse) not in evses:
            raise ControlError(
                f"a measurement names pile {m.pile!r} EVSE {m.evse}, which the site does not have",
                field="state.evses",
                rule="measurements name the site's EVSEs",
            )
        out[(m.pile, m.evse)] = m
    return out


# ------------------------------------------------------------------ the adjusted site


class _Stay(NamedTuple):
    """One session of the site as :func:`control` sees it at ``at`` (epochs read once)."""

    key: EvseKey
    evse: Evse
    session: Session
    """As the caller gave it."""
    arrive: int
    adjusted: Session | None
    """As balanced (CT1-CT5); None: gone (unplugged at its arrival)."""
    leave: int
    """The adjusted session's departure (epoch s); ``at`` when gone."""
    status: Status | None
    """What its measurement made of it; None without one."""


def _current(epochs: list[tuple[int, int]], evse: Evse, at: int) -> int | None:
    """Index of the session on the EVSE at ``at``: the latest arrival at or before it
    (``epochs``: each session's arrival and departure, in the EVSE's order)."""
    best: int | None = None
    sessions = evse.sessions
    for i, (arrive, _) in enumerate(epochs):
        if arrive <= at and (best is None or sessions[i].arrive > sessions[best].arrive):
            best = i
    return best


def _limit_in_force(
    key: EvseKey, m: EvseMeasurement, previous: ControlResult | None, at: int
) -> float | None:
    """The limit the EVSE holds now: the measurement's, else the previous result's."""
    if m.offered_amps is not None:
        return m.offered_amps
    if previous is not None and key in previous.allocation.amps:
        return previous.limit_at(key, at)[0]
    return None


def _adjust(
    site: Site,
    at: int,
    measured: Mapping[EvseKey, EvseMeasurement],
    previous: ControlResult | None,
    resolution: int,
) -> tuple[Site, list[_Stay]]:
    """The site at ``at`` with the measurements applied (CT1-CT5), and every session of the
    site (each EVSE's by arrival) with what became of it.

    Only what a measurement changes is copied: an EVSE without one, and a pile without a
    changed EVSE, is the caller's own (immutable) object, and so is the site when nothing
    changed. Each session's epochs are read once.
    """
    stays: list[_Stay] = []
    piles: list[Pile] = []
    changed = False
    for pile in site.piles:
        evses: list[Evse] = []
        for evse in pile.evses:
            new = _adjust_evse(pile, evse, at, measured, previous, resolution, stays)
            evses.append(new)
        if any(new is not old for new, old in zip(evses, pile.evses, strict=True)):
            piles.append(pile.model_copy(update={"evses": tuple(evses)}))
            changed = True
        else:
            piles.append(pile)
    if not changed:
        return site, stays
    return site.model_copy(update={"piles": tuple(piles)}), stays


def _adjust_evse(
    pile: Pile,
    evse: Evse,
    at: int,
    measured: Mapping[EvseKey, EvseMeasurement],
    previous: ControlResult | None,
    resolution: int,
    stays: list[_Stay],
) -> Evse:
    """The EVSE with its running session under its measurement (itself without one); its
    sessions appended to ``stays`` by arrival."""
    key = (pile.id, evse.id)
    sessions = evse.sessions
    epochs = [(to_epoch(s.arrive), to_epoch(s.leave)) for s in sessions]
    m = measured.get(key)
    i = None if m is None else _current(epochs, evse, at)
    adjusted: list[Session | None] = list(sessions)
    leaves = [leave for _, leave in epochs]
    status: Status | None = None
    if m is not None and i is not None:
        later = [arrive for arrive, _ in epochs if arrive > at]
        limit = _limit_in_force(key, m, previous, at)
        new, status = _adjust_session(
            sessions[i], m, at, limit, min(later, default=None), resolution
        )
        adjusted[i] = new
        leaves[i] = at if new is None else to_epoch(new.leave)
    order: Sequence[int] = range(len(sessions))
    if len(sessions) > 1:
        order = sorted(order, key=lambda j: sessions[j].arrive)
    for j in order:
        stays.append(
            _Stay(
                key,
                evse,
                sessions[j],
                epochs[j][0],
                adjusted[j],
                leaves[j],
                status if j == i else None,
            )
        )
    if status is None:
        return evse
    kept = tuple(s for s in adjusted if s is not None)
    return evse.model_copy(update={"sessions": kept})


def _adjust_session(
    session: Session,
    m: EvseMeasurement,
    at: int,
    limit: float | None,
    next_arrival: int | None,
    resolution: int,
) -> tuple[Session | None, Status | None]:
    """One running session under its measurement; None when it is gone (unplugged at arrival)."""
    arrive, leave = to_epoch(session.arrive), to_epoch(session.leave)
    if not m.plugged:
        if leave <= at:
            return session, None
        if arrive >= at:
            return None, "unplugged"
        return session.model_copy(update={"leave": from_epoch(at)}), "unplugged"
    update: dict[str, Any] = {}
    if leave <= at:
        if session.departure_known:
            return session, None  # the caller's departure holds (CT5)
        until = at + max(resolution, EXTENSION_S)
        if next_arrival is not None:
            until = min(until, next_arrival)
        update["leave"] = from_epoch(until)
    status: Status = "charging"
    need = session.need_kwh
    if need is not None:
        update.update(_need_left(session, m.energy_kwh))
        if m.energy_kwh >= need - _MET_KWH:
            status = "full"
    if status == "charging" and not m.drawing:
        status = "not-drawing"
    if status != "charging":
        update["max_amps"] = 0.0
    elif m.amps is not None and limit is not None and at - arrive >= TAPER_GRACE_S:
        drawn = max(m.amps)
        if drawn < limit - TAPER_HEADROOM / 2:
            cap = max(drawn + TAPER_HEADROOM, session.min_amps)
            own = session.max_amps if session.max_amps is not None else math.inf
            if cap < own:
                update["max_amps"] = cap
                status = "tapering"
    return session.model_copy(update=update), status


def _need_left(session: Session, delivered: float) -> dict[str, Any]:
    """The fields giving what the session still needs after ``delivered`` kWh (CT1).

    ``energy_kwh`` becomes need - delivered; a need given as state of charge keeps its form,
    its ``soc_percent`` raised by what was delivered. A met need becomes unknown (the session
    is then held at 0 A, CT2).
    """
    need = session.need_kwh
    assert need is not None
    if delivered >= need - _MET_KWH:
        return {
            "energy_kwh": None,
            "soc_percent": None,
            "battery_kwh": None,
            "target_soc_percent": None,
        }
    if session.energy_kwh is not None:
        return {"energy_kwh": need - delivered}
    assert session.soc_percent is not None and session.battery_kwh is not None
    return {"soc_percent": session.soc_percent + 100.0 * delivered / session.battery_kwh}


def _default_horizon(stays: list[_Stay], at: int, resolution: int) -> int:
    """Until the last session present at ``at`` leaves, ending on the slot grid (CT6, B19)."""
    last = at + resolution
    for stay in stays:
        if stay.adjusted is not None and stay.arrive <= at < stay.leave and stay.leave > last:
            last = stay.leave
    cap = at + max(resolution, DEFAULT_HORIZON_CAP // resolution * resolution)
    # The end on the slot grid (B19), so that re-plans keep the same end and tail start.
    end = min(-(-last // resolution) * resolution, -(-cap // resolution) * resolution)
    return max(end, -(-(at + 1) // resolution) * resolution) - at


# ------------------------------------------------------------------ outputs


def _flags(
    site: Site,
    measured: Mapping[EvseKey, EvseMeasurement],
    previous: ControlResult | None,
    at: int,
) -> tuple[MeasurementFlag, ...]:
    """Every measured phase above the limit in force + :data:`FLAG_TOLERANCE` (CT4)."""
    if not measured:
        return ()
    hardware = {(p.id, e.id): e.max_amps for p in site.piles for e in p.evses}
    out: list[MeasurementFlag] = []
    for key in sorted(measured):
        m = measured[key]
        if m.amps is None:
            continue
        limit = _limit_in_force(key, m, previous, at)
        if limit is None:
            limit = hardware[key]
        for phase, amps in enumerate(m.amps, 1):
            if amps > limit + FLAG_TOLERANCE:
                out.append(MeasurementFlag(key[0], key[1], phase, amps, limit))
    return tuple(out)


def _sessions(
    stays: list[_Stay],
    allocation: Allocation,
    at: int,
    measured: Mapping[EvseKey, EvseMeasurement],
) -> tuple[SessionControl, ...]:
    """Every session present at ``at``, ended at it, or arriving within the window.

    What the plan gives a session is :func:`~ocpp_schedule.session_outcomes`' figure for its
    adjusted self (:func:`session_energy` on its EVSE's rows, as that function computes it),
    read straight from the allocation's rows: no outcome objects, no epochs read again.
    """
    bounds = allocation.boundaries
    start, end = bounds[0], bounds[-1]
    volts = allocation.site.voltage
    now = from_epoch(at)
    out: list[SessionControl] = []
    for stay in stays:
        adjusted, key = stay.adjusted, stay.key
        figures: tuple[float, int | None] | None = None
        if adjusted is not None and min(end, stay.leave) - max(start, stay.arrive) > 0:
            figures = session_energy(
                bounds,
                allocation.amps[key],
                allocation.phases[key],
                stay.arrive,
                stay.leave,
                min(adjusted.phases, stay.evse.phases),
                volts,
                adjusted.need_kwh,
            )
        elif stay.status is None:
            continue
        out.append(_session(stay, figures, at, now, measured.get(key)))
    return tuple(out)


def _session(
    stay: _Stay,
    figures: tuple[float, int | None] | None,
    at: int,
    now: datetime,
    m: EvseMeasurement | None,
) -> SessionControl:
    """One session's figures: delivered so far plus what the plan gives it (capped at need).

    ``figures``: the energy the plan gives its adjusted self within the window and when that
    meets its need left (None: it is not in the window); ``now``: ``at`` as a datetime.
    """
    session, status = stay.session, stay.status
    running = stay.arrive <= at
    delivered = m.energy_kwh if (m is not None and running) else 0.0
    need = session.need_kwh
    planned = 0.0 if figures is None or status == "full" else figures[0]
    expected = delivered + planned
    if need is not None:
        expected = min(expected, need)
    done: datetime | None = None
    if need is not None and delivered >= need - _MET_KWH:
        done = now
    elif figures is not None and figures[1] is not None:
        done = from_epoch(figures[1])
    if status is None:
        status = "charging" if running else "arriving"
    adjusted = stay.adjusted
    return SessionControl(
        pile=stay.key[0],
        evse=stay.key[1],
        transaction_id=session.effective_transaction_id(stay.evse.id),
        arrive=session.arrive,
        leave=adjusted.leave if adjusted is not None else now,  # None: gone at ``at``
        departure_known=session.departure_known,
        status=status,
        need_kwh=need,
        delivered_kwh=delivered,
        expected_kwh=expected,
        done_at=done,
        unmet_kwh=None if need is None else max(0.0, need - expected),
    )

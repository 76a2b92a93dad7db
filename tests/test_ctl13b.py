"""control()'s own work made cheap (helper CTL13B): each fast path equals what it replaced.

The references below are the code before the change, kept here as oracles (slot by slot,
model by model): session outcomes integrated from ``Session`` objects with every epoch read
again, the adjusted site copied pile by pile, control()'s per-session figures looked up from
:func:`session_outcomes`, and the hysteresis built from each EVSE's merged pieces. Results
are compared by ``repr`` where floats are involved, so a different rounding or a zero's sign
is a failure, not a tolerance.
"""

from __future__ import annotations

import dataclasses
import math
from bisect import bisect_right
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies_site import T0, sites
from test_control import _measurements, _with_needs

from ocpp_schedule import (
    EqualShare,
    EvseMeasurement,
    SimulationResult,
    SiteState,
    control,
    simulate,
)
from ocpp_schedule.site import (
    Allocation,
    Circuit,
    Evse,
    Pile,
    Session,
    Site,
    balance,
    session_outcomes,
)
from ocpp_schedule.site import _control as ctl
from ocpp_schedule.site import _simulate as sim
from ocpp_schedule.site._allocation import JOULES_PER_KWH, _circuit_loads, present_seconds
from ocpp_schedule.site._control import ControlResult, SessionControl
from ocpp_schedule.site._hold import held
from ocpp_schedule.site._outcomes import SessionOutcome
from ocpp_schedule.wire._timestamps import from_epoch, to_epoch

HOUR = 3600
# ------------------------------------------------------------------ references (before CTL13B)


def _ref_outcomes(allocation: Allocation) -> tuple[SessionOutcome, ...]:
    """session_outcomes as it was: per session, slot by slot, epochs read from the models."""
    site = allocation.site
    out = []
    for pile in site.piles:
        for evse in pile.evses:
            for session in sorted(evse.sessions, key=lambda s: s.arrive):
                if present_seconds(session, allocation.start_epoch, allocation.end_epoch) > 0:
                    out.append(_ref_outcome(allocation, site, pile, evse, session))
    return tuple(out)


def _ref_outcome(
    allocation: Allocation, site: Site, pile: Pile, evse: Evse, session: Session
) -> SessionOutcome:
    key = (pile.id, evse.id)
    amps, phases, bounds = allocation.amps[key], allocation.phases[key], allocation.boundaries
    arrive, leave = to_epoch(session.arrive), to_epoch(session.leave)
    wired = min(session.phases, evse.phases)
    need = session.need_kwh
    total = 0.0
    done: int | None = None
    first = max(0, bisect_right(bounds, arrive) - 1)
    for k in range(first, len(bounds) - 1):
        a, b = bounds[k], bounds[k + 1]
        if a >= leave:
            break
        seconds = max(0, min(b, leave) - max(a, arrive))
        watts = amps[k] * min(phases[k], wired) * site.voltage
        if seconds <= 0 or watts <= 0:
            continue
        energy = watts * seconds / JOULES_PER_KWH
        if need is not None and total + energy >= need - 1e-9:
            begin = max(a, arrive)
            needed = max(0.0, (need - total) * JOULES_PER_KWH / watts)
            done = min(begin + seconds, begin + math.ceil(needed - 1e-6))
            total = need
            break
        total += energy
    return SessionOutcome(
        pile=pile.id,
        evse=evse.id,
        transaction_id=session.effective_transaction_id(evse.id),
        arrive=session.arrive,
        leave=session.leave,
        need_kwh=need,
        expected_kwh=total,
        done_at=None if done is None else from_epoch(done),
        unmet_kwh=None if need is None else max(0.0, need - total),
        beyond_window=leave > allocation.end_epoch,
    )


Notes = dict[tuple[Any, int], str]


def _ref_adjust(
    site: Site, at: int, measured: Mapping[Any, EvseMeasurement], previous: Any, resolution: int
) -> tuple[Site, Notes]:
    """control()'s adjusted site as it was: every pile copied, notes by (EVSE, arrival)."""
    notes: Notes = {}
    piles = []
    for pile in site.piles:
        evses = []
        for evse in pile.evses:
            key = (pile.id, evse.id)
            m = measured.get(key)
            i = None
            for j, s in enumerate(evse.sessions):
                if to_epoch(s.arrive) <= at and (i is None or s.arrive > evse.sessions[i].arrive):
                    i = j
            if m is None or i is None:
                evses.append(evse)
                continue
            sessions = list(evse.sessions)
            later = [to_epoch(s.arrive) for s in sessions if to_epoch(s.arrive) > at]
            limit = ctl._limit_in_force(key, m, previous, at)
            new, status = ctl._adjust_session(
                sessions[i], m, at, limit, min(later, default=None), resolution
            )
            if status is not None:
                notes[(key, to_epoch(sessions[i].arrive))] = status
            if new is None:
                del sessions[i]
            else:
                sessions[i] = new
            evses.append(evse.model_copy(update={"sessions": tuple(sessions)}))
        piles.append(pile.model_copy(update={"evses": tuple(evses)}))
    return site.model_copy(update={"piles": tuple(piles)}), notes


def _ref_horizon(site: Site, at: int, resolution: int) -> int:
    last = at + resolution
    for pile in site.piles:
        for evse in pile.evses:
            for s in evse.sessions:
                if to_epoch(s.arrive) <= at < to_epoch(s.leave):
                    last = max(last, to_epoch(s.leave))
    cap = at + max(resolution, ctl.DEFAULT_HORIZON_CAP // resolution * resolution)
    end = min(-(-last // resolution) * resolution, -(-cap // resolution) * resolution)
    return max(end, -(-(at + 1) // resolution) * resolution) - at


def _ref_sessions(
    site: Site,
    allocation: Allocation,
    at: int,
    measured: Mapping[Any, EvseMeasurement],
    notes: Notes,
) -> tuple[SessionControl, ...]:
    """control()'s sessions as they were: looked up from session_outcomes by (EVSE, arrival)."""
    planned = {((o.pile, o.evse), to_epoch(o.arrive)): o for o in _ref_outcomes(allocation)}
    adjusted = {
        ((p.id, e.id), to_epoch(s.arrive)): s
        for p in allocation.site.piles
        for e in p.evses
        for s in e.sessions
    }
    out = []
    for pile in site.piles:
        for evse in pile.evses:
            key = (pile.id, evse.id)
            for session in sorted(evse.sessions, key=lambda s: s.arrive):
                ident = (key, to_epoch(session.arrive))
                outcome, status = planned.get(ident), notes.get(ident)
                if outcome is None and status is None:
                    continue
                m = measured.get(key)
                running = to_epoch(session.arrive) <= at
                delivered = m.energy_kwh if (m is not None and running) else 0.0
                need = session.need_kwh
                planned_kwh = 0.0 if outcome is None or status == "full" else outcome.expected_kwh
                expected = delivered + planned_kwh
                if need is not None:
                    expected = min(expected, need)
                done = None
                if need is not None and delivered >= need - 1e-6:
                    done = from_epoch(at)
                elif outcome is not None and outcome.done_at is not None:
                    done = outcome.done_at
                gone = adjusted.get(ident)
                out.append(
                    SessionControl(
                        pile=key[0],
                        evse=key[1],
                        transaction_id=session.effective_transaction_id(evse.id),
                        arrive=session.arrive,
                        leave=gone.leave if gone is not None else from_epoch(at),
                        departure_known=session.departure_known,
                        status=status or ("charging" if running else "arriving"),  # type: ignore[arg-type]
                        need_kwh=need,
                        delivered_kwh=delivered,
                        expected_kwh=expected,
                        done_at=done,
                        unmet_kwh=None if need is None else max(0.0, need - expected),
                    )
                )
    return tuple(out)


def _ref_held(allocation: Allocation, previous: Allocation, at: int, hold: int) -> Allocation:
    """The hysteresis as it was: every EVSE's held limits expanded from its merged pieces."""
    if previous.end_epoch != allocation.end_epoch or not previous.start_epoch <= at:
        return allocation
    bounds = allocation.boundaries
    slot_of = {t: k for k, t in enumerate(bounds)}
    rows = {}
    for key in allocation.amps:
        if key not in previous.amps:
            continue
        out_amps: list[float] = []
        out_phases: list[int] = []
        ok = True
        for a, b, amps, phases in previous.evse_periods(key):
            if b <= bounds[0]:
                continue
            first, last = slot_of.get(max(a, bounds[0])), slot_of.get(b)
            if first is None or last is None:
                ok = False
                break
            out_amps.extend([amps] * (last - first))
            out_phases.extend([phases] * (last - first))
        row = (tuple(out_amps), tuple(out_phases))
        new = (allocation.amps[key], allocation.phases[key])
        if not ok or len(out_amps) != len(bounds) - 1 or row == new:
            continue
        caps, sessions = allocation.caps[key], allocation.sessions[key]
        paused, pinned = allocation.paused[key], allocation.pinned.get(key)
        for k, (amps, phases) in enumerate(zip(out_amps, out_phases, strict=True)):
            if amps == new[0][k] and phases == new[1][k]:
                continue
            if (
                bounds[k] < at + hold
                or sessions[k] < 0
                or paused[k]
                or (pinned is not None and pinned[k])
                or amps > caps[k]
            ):
                ok = False
                break
        if ok:
            rows[key] = row
    if not rows:
        return allocation
    from ocpp_schedule.site._hold import _drop_unsafe

    _drop_unsafe(allocation, rows)  # unchanged by CTL13B
    if not rows:
        return allocation
    amps_all = {**allocation.amps, **{k: r[0] for k, r in rows.items()}}
    phases_all = {**allocation.phases, **{k: r[1] for k, r in rows.items()}}
    loads = _circuit_loads(
        allocation.site, len(bounds) - 1, amps_all, phases_all, allocation.phase_map
    )
    kept = dataclasses.replace(allocation, amps=amps_all, phases=phases_all, loads=loads)
    return allocation if kept.overloads(1e-6) else kept


# ------------------------------------------------------------------ inputs


def _with_ids(draw: Any, site: Site) -> Site:
    """Some sessions get a caller's transaction id (digits, as 1.6 wants them)."""
    piles = []
    for pile in site.piles:
        evses = []
        for evse in pile.evses:
            own = tuple(
                s.model_copy(update={"transaction_id": str(900 + 10 * evse.id + i)})
                if draw(st.integers(0, 2)) == 0
                else s
                for i, s in enumerate(evse.sessions)
            )
            evses.append(evse.model_copy(update={"sessions": own}))
        piles.append(pile.model_copy(update={"evses": tuple(evses)}))
    return site.model_copy(update={"piles": tuple(piles)})


# ------------------------------------------------------------------ properties


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_property_session_outcomes_equal_the_slot_by_slot_reference(data: st.DataObject) -> None:
    """session_outcomes (epochs read once, session_energy's loop) gives, to the bit, what the
    slot-by-slot reference gives: expected energy, done at, unmet, every field."""
    site = _with_ids(data.draw, _with_needs(data.draw, data.draw(sites())))
    start = to_epoch(T0) + data.draw(st.integers(-4, 8)) * 450
    resolution = data.draw(st.sampled_from([300, 900, 1800]))
    allocation = balance(
        site,
        start=start,
        duration=data.draw(st.integers(1, 12)) * resolution,
        resolution=resolution,
        policy=EqualShare(),
        align=data.draw(st.booleans()),
    )
    assert repr(session_outcomes(allocation)) == repr(_ref_outcomes(allocation))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_property_control_equals_the_reference_adjustment_and_figures(
    data: st.DataObject,
) -> None:
    """Over a few re-plans with random measurements: the adjusted site, the default horizon
    and every SessionControl equal the reference's (copies only where a measurement changed
    something, epochs read once, figures from the allocation's rows)."""
    site = _with_ids(data.draw, _with_needs(data.draw, data.draw(sites())))
    previous: ControlResult | None = None
    at = to_epoch(T0) + data.draw(st.integers(0, 8)) * 900
    for _ in range(3):
        state = SiteState(
            at=datetime.fromtimestamp(at, UTC), evses=_measurements(data.draw, site, at)
        )
        hold = data.draw(st.sampled_from([None, HOUR]))
        result = control(site, state, resolution=900, previous=previous, hold=hold)
        measured = {(m.pile, m.evse): m for m in state.evses}
        ref_site, notes = _ref_adjust(site, at, measured, previous, 900)
        assert result.site == ref_site
        assert result.allocation.end_epoch == at + _ref_horizon(ref_site, at, 900)
        ref = _ref_sessions(site, result.allocation, at, measured, notes)
        assert repr(result.sessions) == repr(ref)
        previous = result
        at += data.draw(st.sampled_from([300, 900, 2700]))


@st.composite
def _held_cases(draw: st.DrawFn) -> tuple[Allocation, Allocation, int, int]:
    """A new allocation from ``at``, and a previous one from an earlier start (on the same
    grid, or not: then its pieces may change within a new slot, or its slots may be as many
    and still be others) with rows changed at random slots or from one on, zeros of either
    sign included; a hold."""
    site = draw(sites())
    resolution = 900
    at = to_epoch(T0) + draw(st.integers(0, 8)) * 300
    end = (at // resolution + draw(st.integers(2, 12))) * resolution
    new = balance(
        site, start=at, duration=end - at, resolution=resolution, policy=EqualShare(), align=True
    )
    back = draw(st.sampled_from([0, 150, 300, 600, 900, 1200, 2700]))
    old = balance(
        site,
        start=at - back,
        duration=end - at + back,
        resolution=draw(st.sampled_from([resolution, resolution, 600])),
        policy=EqualShare(),
        align=draw(st.booleans()),
    )
    slots = len(old.boundaries) - 1
    amps = dict(old.amps)
    for key in draw(st.lists(st.sampled_from(sorted(old.amps)), max_size=6, unique=True)):
        row = list(old.amps[key])
        if draw(st.booleans()):
            changed = list(range(draw(st.integers(0, slots - 1)), slots))  # from one slot on
        else:
            changed = draw(st.lists(st.integers(0, slots - 1), max_size=slots, unique=True))
        for k in changed:
            choice = draw(st.integers(-2, 10 * int(old.caps[key][k]) + 80))
            row[k] = -0.0 if choice == -2 else 0.0 if choice == -1 else choice / 10
        amps[key] = tuple(row)
    loads = _circuit_loads(old.site, slots, amps, old.phases, old.phase_map)
    previous = dataclasses.replace(old, amps=amps, loads=loads)
    return new, previous, at, draw(st.sampled_from([900, HOUR, 3 * HOUR]))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_held_cases())
def test_property_held_equals_the_piecewise_reference(
    case: tuple[Allocation, Allocation, int, int],
) -> None:
    """held (rows sliced from the previous allocation where the slots are on one grid) keeps
    the same EVSEs with the same limits, to a zero's sign, and the same loads as the
    reference that expands every EVSE's merged pieces."""
    new, previous, at, hold = case
    got, ref = held(new, previous, at, hold), _ref_held(new, previous, at, hold)
    assert repr(got.amps) == repr(ref.amps)
    assert got.phases == ref.phases
    assert repr(got.loads) == repr(ref.loads)


def _one_vehicle(hours: int, need: float | None = 60.0) -> Site:
    """One EVSE under a 100 A grid, one vehicle from T0 for ``hours`` needing ``need`` kWh."""
    session: dict[str, Any] = {"arrive": T0, "leave": from_epoch(to_epoch(T0) + hours * HOUR)}
    if need is not None:
        session["energy_kwh"] = need
    return Site(
        grid=Circuit(id="grid", amps=100.0),
        piles=(Pile(id="P", circuit="grid", evses=(Evse(id=1, sessions=(Session(**session),)),)),),
    )


def test_a_held_row_keeps_the_sign_of_a_zero_as_its_merged_piece_has_it() -> None:
    """A run of held zeros starting with -0.0 is held as -0.0 throughout (as the merged piece
    gives it), not as the per-slot values the slices would give."""
    site = _one_vehicle(4, need=None)
    start = to_epoch(T0)
    new = balance(site, start=start + 900, duration=3 * HOUR, resolution=900, align=True)
    old = balance(site, start=start, duration=3 * HOUR + 900, resolution=900, align=True)
    key = ("P", 1)
    slots = len(old.boundaries) - 1
    row = [*old.amps[key][:6], -0.0, *([0.0] * (slots - 7))]
    loads = _circuit_loads(site, slots, {key: tuple(row)}, old.phases, old.phase_map)
    previous = dataclasses.replace(old, amps={key: tuple(row)}, loads=loads)
    got = held(new, previous, start + 900, HOUR)
    assert got.amps[key][5:] == tuple([-0.0] * (slots - 6))
    assert all(math.copysign(1.0, x) < 0 for x in got.amps[key][5:])
    assert repr(got.amps) == repr(_ref_held(new, previous, start + 900, HOUR).amps)


def test_a_held_limit_is_kept_only_from_the_first_slot_starting_at_or_after_the_hold() -> None:
    """CT13 at its edge: held limits that differ from the slot starting at ``at + hold`` on
    are kept; differing from the slot just before it, they are not (as the reference)."""
    site = _one_vehicle(4)
    start = to_epoch(T0)
    new = balance(site, start=start, duration=4 * HOUR, resolution=900, align=True)
    key = ("P", 1)
    for first, kept in ((4, True), (3, False)):  # slot 4 starts at start + 1 h
        row = (*new.amps[key][:first], *[10.0] * (16 - first))
        loads = _circuit_loads(site, 16, {key: row}, new.phases, new.phase_map)
        previous = dataclasses.replace(new, amps={key: row}, loads=loads)
        got = held(new, previous, start, HOUR)
        assert (got.amps[key] == row) is kept
        assert repr(got.amps) == repr(_ref_held(new, previous, start, HOUR).amps)


def test_control_figures_use_the_need_left_after_a_measurement() -> None:
    """A vehicle that has had 40 of its 60 kWh: the plan gives it the 20 left (done at when
    they are reached, not the 60), as the reference computes it."""
    site = _one_vehicle(8)
    at = to_epoch(T0) + HOUR
    state = SiteState(
        at=from_epoch(at), evses=(EvseMeasurement(pile="P", evse=1, energy_kwh=40.0),)
    )
    result = control(site, state, resolution=900, policy=EqualShare())
    measured = {(m.pile, m.evse): m for m in state.evses}
    _, notes = _ref_adjust(site, at, measured, None, 900)
    (got,) = result.sessions
    assert repr(result.sessions) == repr(
        _ref_sessions(site, result.allocation, at, measured, notes)
    )
    # 20 kWh at 3 x 32 A x 230 V (22.08 kW): 3,261 s after ``at``.
    assert got.done_at_epoch == at + math.ceil(20.0 * 3_600_000 / (3 * 32 * 230.0) - 1e-6)
    assert got.expected_kwh == 60.0 and got.unmet_kwh == 0.0


# ------------------------------------------------------------------ the simulator's own work


def _ref_site(run: Any, by_evse: Mapping[Any, list[Any]]) -> Site:
    """The simulator's site as it was built: every EVSE and pile copied at every call."""
    piles = []
    for pile in run.truth.piles:
        evses = []
        for evse in pile.evses:
            views = tuple(c.view for c in by_evse.get((pile.id, evse.id), ()))
            evses.append(evse.model_copy(update={"sessions": views}))
        piles.append(pile.model_copy(update={"evses": tuple(evses)}))
    return run.truth.model_copy(update={"piles": tuple(piles)})


def _figures(result: SimulationResult) -> str:
    """Everything a simulation reports but its CPU times."""
    records = [dataclasses.replace(r, cpu_ms=0.0) for r in result.records]
    return repr(dataclasses.replace(result, cpu_ms=(), records=tuple(records)))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_property_simulate_equals_the_reference_that_copies_every_evse(
    data: st.DataObject,
) -> None:
    """The simulator reusing the copies of EVSEs, piles and the site that did not change
    since the last call reports, to the bit, what it reported copying all at every call."""
    site = _with_ids(data.draw, _with_needs(data.draw, data.draw(sites())))
    start = to_epoch(T0) + data.draw(st.integers(0, 4)) * 900
    kwargs: dict[str, Any] = {
        "step": data.draw(st.sampled_from([300, 900])),
        "start": start,
        "end": start + 3 * HOUR,
        "hide_departures": data.draw(st.booleans()),
        "replan": data.draw(st.integers(0, 4)) > 0,
        "records": True,
    }
    got = simulate(site, **kwargs)
    with mock.patch.object(sim._Run, "_site", _ref_site):
        ref = simulate(site, **kwargs)
    assert _figures(got) == _figures(ref)


def test_a_vehicle_sharing_its_last_slot_with_the_next_counts_its_own_phases() -> None:
    """A one-phase vehicle leaving within a slot where a three-phase one arrives: the slot
    loads three phases, the first vehicle gets its one (as the reference computes it)."""
    start = to_epoch(T0)
    sessions = (
        Session(arrive=T0, leave=from_epoch(start + 1200), phases=1, energy_kwh=50.0),
        Session(arrive=from_epoch(start + 1500), leave=from_epoch(start + 7200), energy_kwh=50.0),
    )
    site = Site(
        grid=Circuit(id="grid", amps=100.0),
        piles=(Pile(id="P", circuit="grid", evses=(Evse(id=1, sessions=sessions),)),),
    )
    result = control(site, SiteState(at=T0), resolution=1800, policy=EqualShare())
    assert result.allocation.phases[("P", 1)][0] == 3
    assert repr(result.sessions) == repr(_ref_sessions(site, result.allocation, start, {}, {}))
    first = result.sessions[0]
    assert first.expected_kwh == 32.0 * 230.0 * 1200 / 3_600_000  # one phase, 20 minutes
    assert repr(session_outcomes(result.allocation)) == repr(_ref_outcomes(result.allocation))

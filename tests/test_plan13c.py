"""The deadline balance's fast paths (helper PLAN13C, issues 13 and 16): each compared with
the code it replaced, kept here as the reference, on random, hostile and congested sites.

- the deadline plan counted as it is planned (:meth:`_Planner.run_capped`) against the
  plan capped afterwards (``capped(run())``, the reference);
- the forward pass's slot with ``_upper``'s common cases written out and the slots where
  nothing is reserved skipped in the reservation lag (``_reference_slot``: the slot as it
  was);
- front-loading with the shape's tuple built only once a shape is exhausted and the floor
  written out (``_reference_front_load``);
- the reservation of one session with its floor, ceiling, min and max written out
  (``_reference_reserve_one``).
"""

from __future__ import annotations

import contextlib
import math
from datetime import timedelta
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies_site import NEEDS, T0, hostile_sites, sites, sites_with_needs

from ocpp_schedule import Circuit, DeadlineAware, Evse, Pile, Session, Site, balance
from ocpp_schedule.errors import OcppScheduleError
from ocpp_schedule.site._planner import (
    _EPS_KWH,
    _KWH,
    _ceil_tenth,
    _floor_tenth,
    _Planner,
    _take,
    _urgency,
    _wanting,
)

HOUR = 3600
ROTATIONS = ("L1L2L3", "L2L3L1", "L3L1L2")
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RESOLUTIONS = st.sampled_from([None, 300, 900])


@st.composite
def _hostile_with_needs(draw: Any) -> Site:
    """:func:`hostile_sites` (held TxProfiles: pinned demands, any weights, minima that are
    not whole tenths) with an energy need, or none, on each session and priority classes."""
    site = draw(hostile_sites())
    piles = []
    for pile in site.piles:
        evses = []
        for evse in pile.evses:
            own = []
            for session in evse.sessions:
                need = draw(NEEDS) or {}
                priority = draw(st.sampled_from([0, 0, 1, 5]))
                own.append(
                    Session.model_validate({**session.model_dump(), **need, "priority": priority})
                )
            evses.append(evse.model_copy(update={"sessions": tuple(own)}))
        piles.append(pile.model_copy(update={"evses": tuple(evses)}))
    return site.model_copy(update={"piles": tuple(piles)})


SITES = st.one_of(sites(), sites_with_needs(), _hostile_with_needs())


def _congested(vehicles: int = 16, amps: float = 60.0) -> Site:
    """A feeder far smaller than its vehicles want, needs and departures spread, one- and
    three-phase vehicles, minima that are not whole tenths."""
    piles = []
    for i in range(vehicles):
        session = Session(
            arrive=T0 - timedelta(minutes=10 * (i % 3)),
            leave=T0 + timedelta(minutes=70 + 23 * i),
            phases=3 if i % 4 else 1,
            max_amps=32.0 if i % 5 else 16.0,
            min_amps=6.0 if i % 3 else 7.33,
            energy_kwh=4.0 + 3.7 * (i % 7),
            priority=1 if i % 6 == 0 else 0,
        )
        piles.append(
            Pile(
                id=f"P{i}",
                circuit="F",
                phase_rotation=ROTATIONS[i % 3],  # type: ignore[arg-type]
                evses=(Evse(id=1, sessions=(session,)),),
            )
        )
    grid = Circuit(id="grid", amps=amps, children=(Circuit(id="F", amps=amps),))
    return Site(name="congested", time_zone="UTC", grid=grid, piles=tuple(piles))


class _Capture(DeadlineAware):
    """DeadlineAware that keeps the planning problems it is given."""

    def __init__(self, weighted: bool = False) -> None:
        super().__init__(weighted=weighted)
        self.problems: list[Any] = []

    def plan(self, problem: Any, progress: Any = None) -> Any:
        self.problems.append(problem)
        return super().plan(problem, progress)


def _problems(site: Site, resolution: int | None, weighted: bool = False) -> list[Any]:
    capture = _Capture(weighted)
    # Refused after planning (or before): the problems seen are still compared.
    with contextlib.suppress(OcppScheduleError):
        balance(site, start=T0, duration=6 * HOUR, resolution=resolution, policy=capture)
    return capture.problems


def _same(a: Any, b: Any) -> None:
    """Equal bit for bit (``repr``: a different rounding or a zero's sign shows)."""
    assert repr(a) == repr(b)


# ------------------------------------------------------------------ references


def _reference_run_capped(
    planner: _Planner, progress: Any = None
) -> tuple[list[dict[Any, float]], float]:
    """The deadline plan, then capped over the whole plan (as before PLAN13C)."""
    return planner.capped(planner.run(progress))


def _reference_slot(self: _Planner, k: int, due: list[float]) -> dict[Any, float]:
    """``_Planner._slot`` as it was before PLAN13C (``_upper`` called on every open cell,
    every open cell's reservation lag worked out); no ``run_capped`` counting."""
    room = {c: list(v) for c, v in self.base[k].items()}
    given: dict[Any, float] = {}
    sessions = self.problem.sessions
    left = self.left
    upper = self._upper
    open_cells: list[Any] = []
    for d, cell in zip(self.problem.demands[k], self.cells[k], strict=True):
        if d.pinned:
            given[d.key] = d.cap
            left[d.session] -= d.cap * cell[_KWH]
            continue
        if left[d.session] <= _EPS_KWH:
            continue
        top = upper(d, cell)
        if top > 0.0:
            open_cells.append((d, cell, top))
    urgent = []
    reserved_of, got, full = self.reserved, self.got, self.full
    for d, cell, top in open_cells:
        s = d.session
        reserved = reserved_of[s].get(k, 0.0)
        due[s] += reserved * cell[_KWH]
        lag = due[s] - got[s]
        if full[s] and reserved > 0.0 and lag > _EPS_KWH:
            urgent.append((d, top, lag / cell[_KWH]))
    urgent.sort(key=lambda t: _urgency(sessions[t[0].session]))
    for d, top, must in urgent:
        x = _floor_tenth(min(top, max(_ceil_tenth(must), d.min_amps), self._fits(room, d)))
        if x >= d.min_amps and x > 0.0:
            given[d.key] = x
            _take(room, d, x, self.volts)
    classes = sorted({sessions[m[0].session].priority for m in open_cells}, reverse=True)
    for level in classes:
        members = _wanting(
            [m for m in open_cells if sessions[m[0].session].priority == level]
            if len(classes) > 1
            else open_cells,
            given,
        )
        if members and self.deadline:
            self._front_load(members, given, room, self.problem.boundaries[k])
            members = _wanting(members, given)
        if members:
            self._share(members, given, room)
    for d, cell, _ in open_cells:
        x = given.get(d.key, 0.0)
        if x > 0.0:
            left[d.session] -= x * cell[_KWH]
            got[d.session] += x * cell[_KWH]
    return given


def _reference_front_load(
    self: _Planner, members: list[Any], given: dict[Any, float], room: Any, now: int
) -> None:
    """``_Planner._front_load`` as it was before PLAN13C."""
    left = self.left
    volts = self.volts
    known = [m for m in members if left[m[0].session] != math.inf]
    known.sort(key=self._front_key(now))
    fits = self._fits
    exhausted: set[Any] = set()
    for d, _, top in known:
        shape = (d.path, d.circuit_phases, d.phases)
        if shape in exhausted:
            continue
        have = given.get(d.key, 0.0)
        most = fits(room, d)
        x = _floor_tenth(min(top - have, most))
        if x > 0.0 and have + x >= d.min_amps:
            given[d.key] = have + x
            _take(room, d, x, volts)
        elif _floor_tenth(most) <= 0.0:
            exhausted.add(shape)


def _reference_reserve_one(self: _Planner, s: Any, need: float, rooms: list[Any]) -> float:
    """``_Planner._reserve_one`` as it was before PLAN13C."""
    own = self.reserved[s.index]
    demands = self.problem.demands
    for k, j, kwh_per_amp, _, _ in reversed(self.by_session[s.index]):
        if kwh_per_amp <= 0.0:
            continue
        d = demands[k][j]
        room = rooms[k]
        x = _floor_tenth(min(d.cap, self._fits(room, d)))
        if x < d.min_amps or x <= 0.0:
            continue
        x = min(x, max(_ceil_tenth(need / kwh_per_amp), d.min_amps))
        own[k] = x
        _take(room, d, x, self.volts)
        need -= x * kwh_per_amp
        if need <= _EPS_KWH:
            return 0.0
    return need


def _state(planner: _Planner) -> Any:
    return (planner.left, planner.got, planner.full, planner.reserved)


# ------------------------------------------------------------------ counted as planned


def _check_counted(problem: Any, weighted: bool) -> None:
    try:
        fast = _Planner(problem, weighted)
    except OcppScheduleError:
        return  # pinned demands alone overload a circuit: refused before any plan
    slow = _Planner(problem, weighted)
    _same(fast.run_capped(None), _reference_run_capped(slow))
    _same(_state(fast), _state(slow))  # the planner's own state took the planned currents
    assert fast.counted is None


@SETTINGS
@given(SITES, RESOLUTIONS, st.booleans())
def test_property_counting_as_planned_equals_capping_afterwards(
    site: Site, resolution: int | None, weighted: bool
) -> None:
    """The rows and the energy of ``run_capped`` are ``capped(run())``'s, bit for bit, and
    the planner's state after it is the same."""
    for problem in _problems(site, resolution, weighted):
        _check_counted(problem, weighted)


def test_counting_as_planned_on_a_congested_feeder() -> None:
    """Where front-loading and the reservations cut shares and needs are met mid-slot."""
    for resolution in (None, 300, 900):
        for weighted in (False, True):
            problems = _problems(_congested(), resolution, weighted)
            assert problems
            for problem in problems:
                _check_counted(problem, weighted)


def test_a_current_above_the_need_is_capped_in_the_row_and_counted_capped() -> None:
    """A planned current above what the need left allows is cut in the row and counted cut,
    while the planner's own state takes the planned current (as the reference does)."""
    problem = _problems(_congested(4, 200.0), 900)[0]

    # Front-loading that gives every member its whole cap, above its rounded-up need.
    def greedy(self: _Planner, members: Any, given: Any, room: Any, now: int) -> None:
        for d, _, _ in members:
            given[d.key] = _floor_tenth(d.cap)

    with mock.patch.object(_Planner, "_front_load", greedy):
        fast = _Planner(problem, False)
        slow = _Planner(problem, False)
        rows, total = fast.run_capped(None)
        _same((rows, total), _reference_run_capped(slow))
        _same(_state(fast), _state(slow))
        raw = _Planner(problem, False).run(None)
    assert any(rows[k].get(key) != x for k, row in enumerate(raw) for key, x in row.items()), (
        "the example must cap some current"
    )


def _check_slots(problem: Any, weighted: bool, deadline: bool) -> None:
    try:
        fast = _Planner(problem, weighted, deadline=deadline)
    except OcppScheduleError:
        return
    slow = _Planner(problem, weighted, deadline=deadline)
    fast_rows = fast.run(None)
    with (
        mock.patch.object(_Planner, "_slot", _reference_slot),
        mock.patch.object(_Planner, "_front_load", _reference_front_load),
        mock.patch.object(_Planner, "_reserve_one", _reference_reserve_one),
    ):
        slow_rows = slow.run(None)
    _same(fast_rows, slow_rows)
    _same(_state(fast), _state(slow))


@SETTINGS
@given(SITES, RESOLUTIONS, st.booleans(), st.booleans())
def test_property_the_slot_is_the_reference_slot(
    site: Site, resolution: int | None, weighted: bool, deadline: bool
) -> None:
    """Every slot's row and the planner's state after the forward pass equal the slot as it
    was, for the deadline plan and the plain candidate (no reservation)."""
    for problem in _problems(site, resolution, weighted):
        _check_slots(problem, weighted, deadline)


def test_the_slot_is_the_reference_slot_on_a_congested_feeder() -> None:
    """Needs met mid-slot, minima that are not whole tenths, reservations kept and lagging."""
    for resolution in (None, 300, 900):
        for weighted in (False, True):
            for problem in _problems(_congested(), resolution, weighted):
                _check_slots(problem, weighted, True)
                _check_slots(problem, weighted, False)


@SETTINGS
@given(SITES, RESOLUTIONS)
def test_property_the_allocation_is_the_reference_allocation(
    site: Site, resolution: int | None
) -> None:
    """The whole balance (every field of the Allocation, or the same error) equals the
    balance with every reference path put back."""

    def run(patches: list[Any]) -> str:
        try:
            with _patched(patches):
                return repr(balance(site, start=T0, duration=6 * HOUR, resolution=resolution))
        except OcppScheduleError as exc:
            return f"{type(exc).__name__}: {exc}"

    assert run([]) == run(_REFERENCES)


_REFERENCES: list[Any] = [
    mock.patch.object(_Planner, "run_capped", _reference_run_capped),
    mock.patch.object(_Planner, "_slot", _reference_slot),
    mock.patch.object(_Planner, "_front_load", _reference_front_load),
    mock.patch.object(_Planner, "_reserve_one", _reference_reserve_one),
]


class _patched:
    """Enter every patch of a list (a context manager)."""

    def __init__(self, patches: list[Any]) -> None:
        self.patches = patches

    def __enter__(self) -> None:
        for p in self.patches:
            p.__enter__()

    def __exit__(self, *exc: object) -> None:
        for p in reversed(self.patches):
            p.__exit__(*exc)

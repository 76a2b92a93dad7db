"""The deadline re-plan's fast paths (helper REPLAN13, issues 13 and 16): each is compared
with the code it replaced, kept here as the reference."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies_site import T0, sites_with_needs

from ocpp_schedule import Circuit, DeadlineAware, Evse, Pile, Session, Site, balance
from ocpp_schedule.site._planner import _EPS_KWH, _ceil_tenth, _Planner, _Tally

HOUR = 3600
ROTATIONS = ("L1L2L3", "L2L3L1", "L3L1L2")


class _Capture(DeadlineAware):
    """DeadlineAware that keeps the planning problems it is given."""

    def __init__(self, weighted: bool = False) -> None:
        super().__init__(weighted=weighted)
        self.problems: list[Any] = []

    def plan(self, problem: Any, progress: Any = None) -> Any:
        self.problems.append(problem)
        return super().plan(problem, progress)


def _with_priorities(site: Site, draw: Any) -> Site:
    piles = []
    for pile in site.piles:
        evses = []
        for evse in pile.evses:
            own = tuple(
                s.model_copy(update={"priority": draw(st.sampled_from([0, 0, 1, 5]))})
                for s in evse.sessions
            )
            evses.append(evse.model_copy(update={"sessions": own}))
        piles.append(pile.model_copy(update={"evses": tuple(evses)}))
    return site.model_copy(update={"piles": tuple(piles)})


def _problems(site: Site, resolution: int | None, weighted: bool = False) -> list[Any]:
    capture = _Capture(weighted)
    balance(site, start=T0, duration=6 * HOUR, resolution=resolution, policy=capture)
    return capture.problems


# ------------------------------------------------------------------ references


def _reference_capped(planner: _Planner, plan: list[dict[Any, float]]) -> tuple[Any, float]:
    """``_Planner.capped`` as it was before ``_Tally`` (the reference)."""
    problem = planner.problem
    left = [math.inf if x.need_kwh is None else x.need_kwh for x in problem.sessions]
    total = 0.0
    out = []
    for k, row in enumerate(plan):
        mine = dict(row)
        for d, cell in zip(problem.demands[k], planner.cells[k], strict=True):
            kwh_per_amp = cell[2]
            x = mine.get(d.key, 0.0)
            rest = left[d.session]
            if d.pinned:
                left[d.session] = rest - d.cap * kwh_per_amp
                continue
            if x <= 0.0:
                continue
            if rest <= _EPS_KWH or kwh_per_amp <= 0.0:
                mine[d.key] = 0.0
                continue
            if rest != math.inf:
                x = min(x, max(_ceil_tenth(rest / kwh_per_amp), d.min_amps))
                mine[d.key] = x
            got = x * kwh_per_amp
            total += min(got, rest)
            left[d.session] = rest - got
        out.append(mine)
    return out, total


def _reference_plan(problem: Any, weighted: bool) -> list[dict[Any, float]]:
    """``DeadlineAware.plan`` as it was: each PL6 candidate planned over the whole window."""
    sessions = problem.sessions
    if all(x.need_kwh is None for x in sessions) and len({x.priority for x in sessions}) <= 1:
        return _Planner(problem, weighted, tables=False).max_min(None)
    smart = _Planner(problem, weighted)
    best, energy = _reference_capped(smart, smart.run(None))
    if energy >= smart.most_energy() * (1.0 - 1e-12):
        return best
    if len({x.priority for x in sessions}) <= 1:
        other = _Planner(problem, weighted, like=smart).max_min(None)
    else:
        other = _Planner(problem, weighted, deadline=False, like=smart).run(None)
    plan, more = _reference_capped(smart, other)
    return plan if more > energy * (1.0 + 1e-9) + _EPS_KWH else best


def _candidate(problem: Any, smart: _Planner) -> list[dict[Any, float]]:
    """The PL6 candidate of ``problem`` over the whole window."""
    if len({x.priority for x in problem.sessions}) <= 1:
        return _Planner(problem, False, like=smart).max_min(None)
    return _Planner(problem, False, deadline=False, like=smart).run(None)


def _congested(vehicles: int = 12, amps: float = 48.0) -> Site:
    """A feeder far smaller than its vehicles want, needs and departures spread: the deadline
    plan beats equal shares, which lose energy in the first slots."""
    piles = []
    for i in range(vehicles):
        leave = T0 + timedelta(minutes=90 + 25 * i)
        session = Session(
            arrive=T0 - timedelta(minutes=10),
            leave=leave,
            phases=3 if i % 4 else 1,
            max_amps=32.0,
            energy_kwh=6.0 + 3 * (i % 5),
        )
        piles.append(
            Pile(
                id=f"P{i}",
                circuit="f",
                phase_rotation=ROTATIONS[i % 3],  # type: ignore[arg-type]
                evses=(Evse(id=1, sessions=(session,)),),
            )
        )
    feeder = Circuit(id="f", amps=amps)
    return Site(grid=Circuit(id="g", amps=1000.0, children=(feeder,)), piles=tuple(piles))


# ------------------------------------------------- PL6: the candidate given up early


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(sites_with_needs(), st.data(), st.sampled_from([None, 900]))
def test_property_the_tally_is_the_capped_plan(
    site: Site, data: Any, resolution: int | None
) -> None:
    """``capped`` (now slot by slot through ``_Tally``, with or without the bound) gives the
    same rows and the same total, bit for bit, as the whole-plan reference."""
    site = _with_priorities(site, data.draw)
    for problem in _problems(site, resolution):
        smart = _Planner(problem, False)
        for plan in (smart.run(None), _candidate(problem, smart)):
            assert smart.capped(plan) == _reference_capped(smart, plan)
            tally = _Tally(smart, bound=True)
            for k, row in enumerate(plan):
                tally.add(k, row)
            assert (tally.rows, tally.total) == _reference_capped(smart, plan)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(sites_with_needs(), st.data(), st.sampled_from([None, 900]))
def test_property_a_candidate_is_never_given_up_below_what_it_reaches(
    site: Site, data: Any, resolution: int | None
) -> None:
    """The bound is sound: after every slot, what is counted plus what each session can still
    be counted is at least the candidate's final energy, so ``cannot_pass`` never says so
    of an energy the candidate passes."""
    site = _with_priorities(site, data.draw)
    for problem in _problems(site, resolution):
        smart = _Planner(problem, False)
        plan = _candidate(problem, smart)
        final = _reference_capped(smart, plan)[1]
        tally = _Tally(smart, bound=True)
        below = final * (1.0 - 1e-12) - 1e-12
        for k, row in enumerate(plan):
            tally.add(k, row)
            assert tally.total + tally.reach >= final - 1e-9
            assert not tally.cannot_pass(below)


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(sites_with_needs(), st.data(), st.sampled_from([None, 900]), st.booleans())
def test_property_giving_up_a_candidate_changes_nothing(
    site: Site, data: Any, resolution: int | None, weighted: bool
) -> None:
    """``DeadlineAware.plan`` gives the same plan as the reference that plans every PL6
    candidate over the whole window."""
    site = _with_priorities(site, data.draw)
    for problem in _problems(site, resolution, weighted):
        assert DeadlineAware(weighted=weighted).plan(problem) == _reference_plan(problem, weighted)


def test_on_a_congested_feeder_equal_shares_are_given_up_after_a_few_slots() -> None:
    """The case the shortcut is for: equal shares lose energy early, so the candidate is
    given up long before the window's end, with the reference's plan."""
    site = _congested()
    [problem] = _problems(site, 300)
    planned: list[int] = []
    original = _Planner.max_min

    def counting(self: _Planner, progress: Any, watch: Any = None) -> Any:
        def counted(k: int, row: Any) -> None:
            planned.append(k)
            watch(k, row)

        return original(self, progress, counted)

    _Planner.max_min = counting  # type: ignore[method-assign]
    try:
        fast = DeadlineAware().plan(problem)
    finally:
        _Planner.max_min = original  # type: ignore[method-assign]
    assert fast == _reference_plan(problem, False)
    assert 0 < len(planned) < problem.slots // 2


# ------------------------------------------------------- cells as tuples of numbers


def _reference_tables(problem: Any) -> tuple[list[list[list[float]]], list[list[list[float]]]]:
    """The cells as the ``_Cell`` objects built them (forward, ``next`` set on the previous
    cell, ``most`` summed backwards), as lists ``[k, j, kwh_per_amp, next, most]``."""
    volts = problem.voltage
    cells: list[list[list[float]]] = []
    by_session: list[list[list[float]]] = [[] for _ in problem.sessions]
    for k, row in enumerate(problem.demands):
        mine = []
        for j, d in enumerate(row):
            cell = [k, j, d.phases * volts * d.present / 3.6e6, 0.0, 0.0]
            mine.append(cell)
            if d.pinned:
                continue
            own = by_session[d.session]
            if own:
                own[-1][3] = cell[2]
            own.append(cell)
        cells.append(mine)
    for own in by_session:
        most = 0.0
        for cell in reversed(own):
            most += problem.demands[int(cell[0])][int(cell[1])].cap * cell[2]
            cell[4] = most
    return cells, by_session


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(sites_with_needs(), st.data(), st.sampled_from([None, 300, 900]))
def test_property_the_cells_are_the_objects_they_replaced(
    site: Site, data: Any, resolution: int | None
) -> None:
    """Every cell (per slot and per session) holds the same numbers, bit for bit, as the
    ``_Cell`` objects it replaced."""
    site = _with_priorities(site, data.draw)
    for problem in _problems(site, resolution):
        planner = _Planner(problem, False)
        cells, by_session = _reference_tables(problem)
        assert [[list(c) for c in row] for row in planner.cells] == cells
        assert [[list(c) for c in own] for own in planner.by_session] == by_session


# ------------------------------------------------- front-loading's order as an integer


def _reference_front_key(planner: _Planner, now: int) -> Any:
    """Front-loading's order as the tuple it was: (-priority, calm, leave, session)."""
    from ocpp_schedule.site._planner import _URGENT_S, _slack

    sessions, left, full = planner.problem.sessions, planner.left, planner.full

    def key(m: Any) -> tuple[float, ...]:
        d = m[0]
        s = sessions[d.session]
        slack = _slack(s, left[d.session], d, now, planner.volts)
        calm = not full[d.session] or slack <= -_URGENT_S
        return (-s.priority, calm, s.leave, d.session)

    return key


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(sites_with_needs(), st.data(), st.sampled_from([None, 300, 900]))
def test_property_front_loading_orders_as_the_tuple_did(
    site: Site, data: Any, resolution: int | None
) -> None:
    """The integer key puts every slot's members in the tuple key's order, after the
    reservation and as the forward pass goes (needs left shrinking, slack changing)."""
    site = _with_priorities(site, data.draw)
    for problem in _problems(site, resolution):
        planner = _Planner(problem, False)
        planner.reserve()
        due = [0.0] * len(problem.sessions)
        for k in range(problem.slots):
            now = problem.boundaries[k]
            members = [
                (d, cell, 1.0)
                for d, cell in zip(problem.demands[k], planner.cells[k], strict=True)
                if not d.pinned
            ]
            fast = sorted(members, key=planner._front_key(now))
            slow = sorted(members, key=_reference_front_key(planner, now))
            assert [m[0].session for m in fast] == [m[0].session for m in slow]
            planner._slot(k, due)


def test_an_urgent_session_comes_before_an_earlier_departure_in_the_integer_order() -> None:
    """B (fully reserved, 8 minutes of laxity) before A (leaving first, calm): the order the
    property above compares must separate urgent from calm (the case it checks here)."""
    a = Session(arrive=T0, leave=T0 + timedelta(hours=1), energy_kwh=5.0)
    b = Session(arrive=T0, leave=T0 + timedelta(hours=3), energy_kwh=63.0)
    site = Site(
        grid=Circuit(id="grid", amps=48),
        piles=(
            Pile(id="A", circuit="grid", evses=(Evse(id=1, sessions=(a,)),)),
            Pile(id="B", circuit="grid", evses=(Evse(id=1, sessions=(b,)),)),
        ),
    )
    [problem] = _problems(site, 900)
    planner = _Planner(problem, False)
    planner.reserve()
    members = [(d, cell, 1.0) for d, cell in zip(problem.demands[0], planner.cells[0], strict=True)]
    now = problem.boundaries[0]
    fast = sorted(members, key=planner._front_key(now))
    slow = sorted(members, key=_reference_front_key(planner, now))
    assert [m[0].key[0] for m in fast] == [m[0].key[0] for m in slow] == ["B", "A"]

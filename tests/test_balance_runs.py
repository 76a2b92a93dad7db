"""balance's per-run shortcuts (issue 13, re-plan at 1,000 EVSEs) give exactly the per-slot result.

Each shortcut in site/_allocation.py and site/_planner.py that works once per run of
identical slots (or skips work it proves useless) is compared here, on random and hostile
sites, with the plain per-slot computation it replaced (kept below as the reference):

- the planning problem's demands, made once per run of one entry (:func:`_problem`);
- a planner's currents applied as limits (:func:`_apply_plan`), the Allocation's rows
  (:func:`_allocation`) and the circuit loads (:func:`_circuit_loads`);
- the EVSE post-condition checked once per run of identical rows (:func:`_verify_evse`),
  also on allocations with a broken cell (the same error, naming the same instant);
- the front-loading tier skipping the members whose shape of demand has no room left.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies_site import T0, hostile_sites, sites_with_needs

from ocpp_schedule import EqualShare, QueryError, SafetyError, Site, balance
from ocpp_schedule.site import _allocation as alloc
from ocpp_schedule.site._allocation import JOULES_PER_KWH, Allocation, present_seconds
from ocpp_schedule.site._planner import DeadlineAware, _Planner, _take
from ocpp_schedule.site._planning import PlanDemand, PlanningProblem, PlanSession
from ocpp_schedule.site._slotshare import _floor_tenth

HOUR = 3600
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
SITES = st.one_of(sites_with_needs(), hostile_sites())
RESOLUTIONS = st.sampled_from([None, 300, 900])

# ------------------------------------------------------------------ references (per slot)


def _problem_per_slot(
    site: Site,
    boundaries: tuple[int, ...],
    meta: Any,
    paths: Any,
    phase_map: Any,
    slot_circuits: Any,
    slot_evses: Any,
    *_: Any,
) -> PlanningProblem:
    """The planning problem built cell by cell, one new demand per cell (from each slot's
    EVSEs with a vehicle, read slot by slot: further arguments are ignored)."""
    index: dict[Any, int] = {}
    sessions: list[PlanSession] = []
    demands = []
    for k in range(len(boundaries) - 1):
        a, b = boundaries[k], boundaries[k + 1]
        row = []
        active = [(key, per_slot[k]) for key, per_slot in slot_evses.items()]
        for key, entry in [(key, entry) for key, entry in active if entry.session >= 0]:
            pile, evse = meta[key]
            present = 0
            for i in entry.sessions:
                if (key, i) not in index:
                    index[(key, i)] = len(sessions)
                    sessions.append(alloc._plan_session(len(sessions), key, evse, evse.sessions[i]))
                present += present_seconds(evse.sessions[i], a, b)
            row.append(
                PlanDemand(
                    key=key,
                    session=index[(key, entry.session)],
                    cap=entry.draw if entry.pinned else entry.cap,
                    phases=entry.phases,
                    circuit_phases=phase_map[key][: entry.phases],
                    path=paths[pile.circuit],
                    min_amps=max(evse.sessions[i].min_amps for i in entry.sessions),
                    present=min(present, b - a),
                    pinned=entry.pinned,
                )
            )
        demands.append(tuple(row))
    limits = tuple(
        {c: per_slot[k] for c, per_slot in slot_circuits.items()} for k in range(len(demands))
    )
    return PlanningProblem(boundaries, site.voltage, tuple(sessions), tuple(demands), limits)


def _apply_per_slot(
    problem: PlanningProblem, planned: Sequence[Mapping[Any, float]], name: str
) -> alloc.Columns:
    """A planner's currents as limits, every cell computed on its own."""
    left = [s.need_kwh for s in problem.sessions]
    rows = []
    for k, demands in enumerate(problem.demands):
        row = {}
        for d in demands:
            x = planned[k].get(d.key, 0.0)
            if isinstance(x, bool) or not isinstance(x, int | float) or not 0 <= x < math.inf:
                raise QueryError(
                    f"policy {name!r} gives {d.key[0]}/{d.key[1]} the current {x!r} in slot {k};"
                    " currents are finite numbers >= 0",
                    field="policy",
                    rule="a planner's currents",
                )
            if d.pinned:
                amps = d.cap
            else:
                amps = _floor_tenth(min(float(x), d.cap))
                if amps < d.min_amps:
                    amps = 0.0
            need = left[d.session]
            row[d.key] = (amps, amps == 0.0 and not d.pinned and (need is None or need > 1e-9))
            if need is not None and amps > 0:
                left[d.session] = (
                    need - amps * d.phases * problem.voltage * d.present / JOULES_PER_KWH
                )
        rows.append(row)
    return alloc._columns(rows, problem.slots)


def _allocation_per_slot(
    site: Site,
    policy: str,
    boundaries: tuple[int, ...],
    slot_evses: Any,
    slot_circuits: Any,
    given: alloc.Columns,
    phase_map: Any,
    *_: Any,
) -> Allocation:
    """The Allocation's rows cell by cell, and the circuit loads one cell at a time (further
    arguments, the runs balance found, are ignored)."""
    slots = len(boundaries) - 1
    idle = ([0.0] * slots, [False] * slots)
    amps, phases, caps, sessions, paused, pinned = {}, {}, {}, {}, {}, {}
    for key, per_slot in slot_evses.items():
        limits, stopped = given.get(key, idle)
        amps[key] = tuple(limits)
        paused[key] = tuple(stopped)
        caps[key] = tuple(e.draw if e.pinned else e.cap for e in per_slot)
        sessions[key] = tuple(e.session for e in per_slot)
        phases[key] = tuple(e.phases if e.session >= 0 else 0 for e in per_slot)
        pinned[key] = tuple(e.pinned for e in per_slot)
    circuit_of = {p.id: p.circuit for p in site.piles}
    paths = site.paths()
    direct: dict[str, list[list[float]]] = {}
    for key, row in amps.items():
        own = direct.setdefault(circuit_of[key[0]], [[0.0, 0.0, 0.0] for _ in range(slots)])
        for k, (value, count) in enumerate(zip(row, phases[key], strict=True)):
            if value > 0:
                for p in range(count):
                    own[k][phase_map[key][p]] += value
    total = {c: [[0.0, 0.0, 0.0] for _ in range(slots)] for c in paths}
    for circuit, rows in direct.items():
        for node in paths[circuit]:
            for k, cell in enumerate(rows):
                for p in range(3):
                    total[node][k][p] += cell[p]
    loads = {
        c: tuple((round(r[0], 9), round(r[1], 9), round(r[2], 9)) for r in rows)
        for c, rows in total.items()
    }
    return Allocation(
        site=site,
        policy=policy,
        boundaries=boundaries,
        amps=amps,
        phases=phases,
        caps=caps,
        sessions=sessions,
        paused=paused,
        loads=loads,
        limits={c: tuple(e[0] for e in per) for c, per in slot_circuits.items()},
        watt_limits={c: tuple(e[1] for e in per) for c, per in slot_circuits.items()},
        phase_map=phase_map,
        pinned=pinned,
    )


def _verify_evse_per_slot(
    allocation: Allocation, key: Any, pieces: Any, evse: Any, slots: Any
) -> None:
    """The EVSE post-condition, every slot checked against every piece that meets it."""
    amps, phases, pinned = allocation.amps[key], allocation.phases[key], allocation.pinned[key]
    where = f"{key[0]}/{key[1]}"
    for k, (a, b) in enumerate(slots):
        given_ = amps[k]
        if given_ < 0 or given_ > evse.max_amps * (1 + alloc._REL_TOL):
            alloc._unsafe(where, a, f"limit {given_} A outside 0 .. {evse.max_amps} A")
        for piece in pieces:
            if piece.end <= a or piece.start >= b:
                continue
            if piece.phases > phases[k] and (given_ > 0 or piece.pinned):
                alloc._unsafe(where, a, f"loads {piece.phases} phases, counted {phases[k]}")
            if pinned[k]:
                if piece.pinned and given_ < piece.cap:
                    alloc._unsafe(
                        where, a, f"draws {piece.cap} A under its TxProfile, counted {given_}"
                    )
                continue
            if given_ > piece.cap * (1 + alloc._REL_TOL):
                alloc._unsafe(where, a, f"limit {given_} A above its own {piece.cap} A")
            minimum = evse.sessions[piece.session].min_amps
            if 0 < given_ < minimum:
                alloc._unsafe(where, a, f"limit {given_} A below the session's minimum {minimum} A")


def _front_load_every_member(
    self: _Planner, members: Any, given_: dict[Any, float], room: Any, now: int
) -> None:
    """The front-loading tier working out what fits for every member (no skip)."""
    known = [m for m in members if self.left[m[0].session] != math.inf]
    known.sort(key=self._front_key(now))
    for d, _, top in known:
        have = given_.get(d.key, 0.0)
        x = _floor_tenth(min(top - have, self._fits(room, d)))
        if x > 0.0 and have + x >= d.min_amps:
            given_[d.key] = have + x
            _take(room, d, x, self.volts)


# ------------------------------------------------------------------ properties


def _balance(site: Site, resolution: int | None, policy: Any = None, **extra: Any) -> Any:
    return balance(site, start=T0, duration=6 * HOUR, resolution=resolution, policy=policy, **extra)


def _outcome(site: Site, resolution: int | None, policy: Any = None, **extra: Any) -> Any:
    """The allocation, or the error's type and message."""
    try:
        return _balance(site, resolution, policy, **extra)
    except (SafetyError, QueryError) as error:
        return (type(error), str(error))


def _checked(site: Site, resolution: int | None) -> Any:
    """The balanced allocation with the EVSE pieces and meta its post-condition read, or
    None when balancing refuses the site."""
    captured: list[Any] = []
    real = alloc._verify

    def keep(allocation: Allocation, evse_pieces: Any, circuit_pieces: Any, meta: Any) -> None:
        captured.append((allocation, evse_pieces, meta))
        real(allocation, evse_pieces, circuit_pieces, meta)

    with mock.patch.object(alloc, "_verify", keep):
        if isinstance(_outcome(site, resolution), tuple):
            return None
    return captured[-1]


@SETTINGS
@given(SITES, RESOLUTIONS, st.booleans())
def test_property_the_problem_per_run_equals_the_problem_per_slot(
    site: Site, resolution: int | None, align: bool
) -> None:
    """Demands made once per run of one entry equal the demands made cell by cell."""
    seen: list[tuple[PlanningProblem, PlanningProblem]] = []
    real = alloc._problem

    def both(*args: Any) -> PlanningProblem:
        fast = real(*args)
        seen.append((fast, _problem_per_slot(*args)))
        return fast

    with mock.patch.object(alloc, "_problem", both):
        _outcome(site, resolution, align=align and resolution is not None)
    for fast, slow in seen:
        assert fast == slow


@SETTINGS
@given(SITES, RESOLUTIONS, st.data())
def test_property_limits_and_rows_per_run_equal_them_per_slot(
    site: Site, resolution: int | None, data: Any
) -> None:
    """The limits applied (and the paused flags), the Allocation's rows and the circuit
    loads built per run equal them built cell by cell, for the default policy's plan and for
    random plans (runs of repeated currents, ints, and currents a planner may not give)."""
    choice = data.draw(st.sampled_from(["deadline", "random", "equal"]))
    policy: Any = EqualShare() if choice == "equal" else DeadlineAware()
    if choice == "random":
        values = st.one_of(
            st.sampled_from([0.0, 6.0, 6.04, 16.0, 31.99, 32.0, 100.0]),
            st.integers(0, 40),
            st.floats(0.0, 64.0),
            st.sampled_from([-1.0, math.nan, math.inf, True]),
        )
        menu = data.draw(st.lists(values, min_size=1, max_size=4))
        seed = data.draw(st.integers(0, 2**32 - 1))

        class Random:
            """The same random plan on every call: currents from ``menu``, in runs."""

            name = "random"

            def plan(self, problem: PlanningProblem) -> list[dict[Any, Any]]:
                rnd = random.Random(seed)
                out: list[dict[Any, Any]] = []
                pick = 0
                for row in problem.demands:
                    if rnd.random() < 0.3:
                        pick = rnd.randrange(len(menu))
                    out.append({d.key: menu[pick] for d in row})
                return out

        policy = Random()
    with (
        mock.patch.object(alloc, "_apply_plan", _apply_per_slot),
        mock.patch.object(alloc, "_allocation", _allocation_per_slot),
    ):
        slow = _outcome(site, resolution, policy)
    fast = _outcome(site, resolution, policy)
    assert fast == slow


@SETTINGS
@given(SITES, RESOLUTIONS, st.data())
def test_property_the_evse_check_per_run_finds_what_the_check_per_slot_finds(
    site: Site, resolution: int | None, data: Any
) -> None:
    """Checking a run of identical rows once refuses exactly what checking each slot refuses,
    with the same message (the first slot that breaks a rule), on balanced allocations with
    one EVSE's limits changed over a random run of slots."""
    checked = _checked(site, resolution)
    if checked is None:
        return
    allocation, evse_pieces, meta = checked
    slots = allocation.slots()
    key = data.draw(st.sampled_from(sorted(allocation.amps)))
    first = data.draw(st.integers(0, len(slots) - 1))
    last = data.draw(st.integers(first, len(slots) - 1))
    value = data.draw(st.sampled_from([0.0, 0.05, 1.0, 5.9, 6.0, 16.0, 32.0, 32.1, 80.0, -1.0]))
    row = list(allocation.amps[key])
    row[first : last + 1] = [value] * (last + 1 - first)
    broken = Allocation(**{**allocation.__dict__, "amps": {**allocation.amps, key: tuple(row)}})

    def outcome(check: Any) -> Any:
        try:
            check(broken, key, evse_pieces[key], meta[key][1], slots)
        except SafetyError as error:
            return str(error)
        return None

    assert outcome(alloc._verify_evse) == outcome(_verify_evse_per_slot)


@SETTINGS
@given(SITES, st.sampled_from([None, 900]))
def test_property_front_loading_skips_only_members_that_get_nothing(
    site: Site, resolution: int | None
) -> None:
    """Skipping the members whose shape of demand has no room left gives the same plan as
    working out what fits for every member."""
    fast = _outcome(site, resolution)
    with mock.patch.object(_Planner, "_front_load", _front_load_every_member):
        slow = _outcome(site, resolution)
    assert fast == slow


@st.composite
def crowded_feeders(draw: Any) -> Site:
    """One feeder short of room, 3-8 EVSEs of one or two shapes (3-phase, or 1-phase on L1),
    vehicles with needs, minimum currents of 0 or 6 A and staggered arrivals: members of one
    shape that fit only a few amperes, some below their minimum."""
    from ocpp_schedule import Circuit, Evse, Pile, Session

    piles = []
    for n in range(draw(st.integers(3, 8))):
        arrive = T0 + timedelta(minutes=draw(st.integers(0, 8)) * 15)
        session = Session(
            arrive=arrive,
            leave=arrive + timedelta(minutes=draw(st.integers(2, 20)) * 15),
            energy_kwh=float(draw(st.integers(1, 40))),
            min_amps=draw(st.sampled_from([0.0, 6.0])),
            phases=draw(st.sampled_from([3, 3, 1])),
        )
        piles.append(
            Pile(id=f"P{n}", circuit="f", evses=(Evse(id=1, max_amps=32.0, sessions=(session,)),))
        )
    feeder = Circuit(id="f", amps=float(draw(st.integers(5, 70))))
    return Site(grid=Circuit(id="g", amps=400.0, children=(feeder,)), piles=tuple(piles))


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(crowded_feeders(), st.sampled_from([None, 900]))
def test_property_front_loading_skips_nothing_on_a_crowded_feeder(
    site: Site, resolution: int | None
) -> None:
    """As above, where many members share one shape and fit only a few amperes."""
    fast = _outcome(site, resolution)
    with mock.patch.object(_Planner, "_front_load", _front_load_every_member):
        slow = _outcome(site, resolution)
    assert fast == slow


def test_a_broken_run_names_its_first_slot() -> None:
    """A run of identical rows that breaks a rule is reported at its first slot."""
    from ocpp_schedule import Circuit, Evse, Pile, Session

    session = Session(arrive=T0, leave=T0 + timedelta(hours=3), energy_kwh=50.0)
    site = Site(
        grid=Circuit(id="g", amps=100.0),
        piles=(Pile(id="P", circuit="g", evses=(Evse(id=1, max_amps=32.0, sessions=(session,)),)),),
    )
    checked = _checked(site, 900)
    assert checked is not None
    allocation, evse_pieces, meta = checked
    row = list(allocation.amps[("P", 1)])
    row[3:6] = [40.0, 40.0, 40.0]
    broken = Allocation(
        **{**allocation.__dict__, "amps": {**allocation.amps, ("P", 1): tuple(row)}}
    )
    slots = allocation.slots()
    with pytest.raises(SafetyError, match=r"limit 40.0 A outside 0 .. 32.0 A") as caught:
        alloc._verify_evse(broken, ("P", 1), evse_pieces[("P", 1)], meta[("P", 1)][1], slots)
    assert alloc.from_epoch(slots[3][0]).isoformat() in str(caught.value)

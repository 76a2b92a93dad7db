"""balance's per-group solve (helper BALANCEFAST) gives exactly the whole-slot result.

Each slot of a weighted max-min policy (EqualShare, Weighted, and DeadlineAware without
needs) used to be shared as one progressive filling over every vehicle, pausing the
lowest short rank one at a time. It is now shared per group of circuits that can bind
together (:func:`_slotshare._groups`), each group paused on its own and remembered over
the window's slots (``memo``). The whole-slot solve is kept below as the reference; the
properties compare balance's results with it on random, hostile and crowded sites
(crowded: many vehicles with minimum currents under tight feeders, so that pausing and
several groups both happen). The work is bounded by counting, not timed: a window in
which only one feeder's vehicles change re-solves only that feeder's group.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies_site import T0, _tx_default, hostile_sites, sites

from ocpp_schedule import EqualShare, QueryError, Weighted, balance
from ocpp_schedule.site import MAX_CELLS, Circuit, Evse, LimitStep, Pile, Session, Site
from ocpp_schedule.site import _allocation as alloc
from ocpp_schedule.site import _planner as planner
from ocpp_schedule.site import _slotshare as slotshare
from ocpp_schedule.site._fairshare import fill, share_fairly
from ocpp_schedule.site._planner import DeadlineAware
from ocpp_schedule.site._slotshare import _Demand, _floor_tenth, _room_left, _shares

HOUR = 3600
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
FIELDS = ("amps", "phases", "caps", "sessions", "paused", "loads", "pinned")


@pytest.fixture(autouse=True)
def _pause_one_at_a_time() -> Iterator[None]:
    """B4 one at a time (no bisection) throughout: this file pins the grouping and the memo
    against the whole-slot solve, which pauses one at a time; B4 by bisection is pinned
    against one at a time in test_pause_bisection.py (helper PAUSE17)."""
    with mock.patch.object(slotshare, "PAUSE_SINGLY", 10**9):
        yield


def _solve_whole(
    demands: Sequence[_Demand], limits: Any, voltage: float, memo: Any = None
) -> dict[Any, tuple[float, bool]]:
    """The reference: one slot as one progressive filling, one pause at a time."""
    pinned = [d for d in demands if d.pinned]
    rest = [d for d in demands if not d.pinned]
    room = _room_left(pinned, limits, voltage)
    active = [d for d in rest if _floor_tenth(d.cap) >= d.min_amps and d.cap > 0]
    paused = {d.key for d in rest if not (_floor_tenth(d.cap) >= d.min_amps and d.cap > 0)}
    while True:
        shares = _shares(active, room, voltage)
        short = [d for d, x in zip(active, shares, strict=True) if _floor_tenth(x) < d.min_amps]
        if not short:
            break
        victim = min(short, key=lambda d: d.rank)
        paused.add(victim.key)
        active = [d for d in active if d.key != victim.key]
    out = {d.key: (0.0, True) for d in rest if d.key in paused}
    for d, x in zip(active, shares, strict=True):
        out[d.key] = (_floor_tenth(x), False)
    for d in pinned:
        out[d.key] = (d.cap, False)
    return out


def _limits_whole(
    demands: Sequence[_Demand], limits: Any, voltage: float, memo: Any = None
) -> tuple[dict[Any, float], set[Any]]:
    """:func:`_solve_whole` as limits and the set paused (the planner's form since BAL16B)."""
    out = _solve_whole(demands, limits, voltage)
    return {key: x for key, (x, _) in out.items()}, {key for key, (_, p) in out.items() if p}


@st.composite
def crowded_sites(draw: Any) -> Site:
    """2 cabinets of 2-3 feeders, tight limits, 4-8 piles per feeder, minimum currents."""
    cabinets = []
    piles = []
    number = 0
    for c in range(2):
        feeders = []
        for f in range(draw(st.integers(2, 3))):
            fid = f"C{c}F{f}"
            feeders.append(Circuit(id=fid, amps=float(draw(st.integers(10, 90)))))
            for _ in range(draw(st.integers(4, 8))):
                number += 1
                sessions = []
                at = draw(st.integers(0, 8)) * 900
                for _ in range(draw(st.integers(1, 2))):
                    leave = at + draw(st.integers(1, 12)) * 900
                    sessions.append(
                        Session(
                            arrive=T0 + timedelta(seconds=at),
                            leave=T0 + timedelta(seconds=leave),
                            phases=draw(st.sampled_from([1, 3, 3])),
                            max_amps=draw(st.sampled_from([None, 16.0, 32.0])),
                            min_amps=draw(st.sampled_from([0.0, 6.0, 6.0, 8.0])),
                            weight=draw(st.sampled_from([1.0, 1.0, 2.0])),
                        )
                    )
                    at = leave + 900
                piles.append(
                    Pile(
                        id=f"P{number}",
                        circuit=fid,
                        phase_rotation=draw(st.sampled_from(["L1L2L3", "L2L3L1", "L3L1L2"])),
                        evses=(Evse(id=1, sessions=tuple(sessions)),),
                    )
                )
        steps = ()
        if draw(st.booleans()):  # the same vehicles under other limits later on
            steps = (
                LimitStep(start="01:00", amps=float(draw(st.integers(30, 200)))),
                LimitStep(start="03:00", amps=float(draw(st.integers(30, 200)))),
            )
        cabinets.append(
            Circuit(
                id=f"C{c}",
                amps=float(draw(st.integers(40, 250))),
                watts=draw(st.one_of(st.none(), st.integers(20_000, 150_000).map(float))),
                steps=steps,
                children=tuple(feeders),
            )
        )
    grid = Circuit(id="grid", amps=float(draw(st.integers(60, 500))), children=tuple(cabinets))
    return Site(name="crowded", time_zone="UTC", grid=grid, piles=tuple(piles))


SITES = st.one_of(crowded_sites(), sites(), hostile_sites())
POLICIES = st.sampled_from(["equal", "weighted", "deadline", "deadline-weighted"])


def _policy(name: str) -> Any:
    return {
        "equal": EqualShare,
        "weighted": Weighted,
        "deadline": DeadlineAware,
        "deadline-weighted": lambda: DeadlineAware(weighted=True),
    }[name]()


def _result(site: Site, policy: str, resolution: int | None) -> Any:
    try:
        allocation = balance(
            site, start=T0, duration=6 * HOUR, resolution=resolution, policy=_policy(policy)
        )
    except Exception as error:  # the same refusal is the same result
        return type(error), str(error)
    return tuple(
        sorted(v.items()) if isinstance(v := getattr(allocation, f), dict) else v for f in FIELDS
    )


@SETTINGS
@given(site=SITES, policy=POLICIES, resolution=st.sampled_from([None, 300, 900]))
def test_property_the_per_group_solve_equals_the_whole_slot_solve(
    site: Site, policy: str, resolution: int | None
) -> None:
    """Every Allocation row and load, with groups and the memo, equals the whole-slot solve
    (also when pausing happens, also for a refusal)."""
    fast = _result(site, policy, resolution)
    with (
        mock.patch.object(alloc, "_solve", _solve_whole),
        mock.patch.object(planner, "_solve_limits", _limits_whole),
    ):
        whole = _result(site, policy, resolution)
    assert fast == whole


@SETTINGS
@given(site=crowded_sites(), data=st.data())
def test_property_a_group_remembered_over_slots_is_the_answer_anew(site: Site, data: Any) -> None:
    """Solving a window's slots with one memo equals solving each slot without it, in any
    order of slots (a group comes back with other limits or other vehicles)."""
    allocation = balance(site, start=T0, duration=6 * HOUR, resolution=900, policy=EqualShare())
    slots = len(allocation.boundaries) - 1
    order = data.draw(st.lists(st.integers(0, slots - 1), min_size=1, max_size=3 * slots))
    demands, limits = _slot_inputs(site)
    memo: slotshare.Memo = {}
    for k in order:
        with_memo = slotshare._solve(demands[k], limits[k], site.voltage, memo)
        assert with_memo == slotshare._solve(demands[k], limits[k], site.voltage)
        assert with_memo == _solve_whole(demands[k], limits[k], site.voltage)


def _slot_inputs(site: Site) -> tuple[list[list[_Demand]], list[Any]]:
    """Each slot's demands and circuit limits as EqualShare's balance builds them."""
    captured: list[tuple[list[_Demand], Any]] = []
    real = alloc._solve

    def spy(demands: Any, limits: Any, voltage: float, memo: Any = None) -> Any:
        captured.append((list(demands), dict(limits)))
        return real(demands, limits, voltage)

    with mock.patch.object(alloc, "_solve", spy), mock.patch.object(alloc, "_share_slots", _plain):
        balance(site, start=T0, duration=6 * HOUR, resolution=900, policy=EqualShare())
    return [d for d, _ in captured], [lim for _, lim in captured]


def _plain(site: Site, pol: Any, meta: Any, paths: Any, phase_map: Any, active: Any, circuits: Any,
           progress: Any) -> Any:  # fmt: skip
    """_share_slots without its per-signature cache: every slot solved (and captured)."""
    out = []
    fixed: dict[Any, Any] = {}
    for k, (keys, entries) in enumerate(active):
        demands = [
            alloc._demand(key, entry, meta, paths, phase_map, pol, fixed)
            for key, entry in zip(keys, entries, strict=True)
        ]
        out.append(alloc._solve(demands, {c: v[k] for c, v in circuits.items()}, site.voltage))
    return out


def _feeders_site(changing: int) -> Site:
    """4 feeders of 6 vehicles each, 60 A per feeder: every feeder binds; the cabinet and
    the grid (300 A) never do, though the vehicles at their caps would want more (only the
    feeders' limits bound what they carry); the vehicles of the first ``changing`` feeders
    come and go every 15 minutes, the others stay all day."""
    feeders = []
    piles = []
    for f in range(4):
        feeders.append(Circuit(id=f"F{f}", amps=60.0))
        for p in range(6):
            if f < changing:
                stays = [
                    Session(
                        arrive=T0 + timedelta(seconds=s * 1800 + p * 60),
                        leave=T0 + timedelta(seconds=s * 1800 + 900 + p * 60),
                    )
                    for s in range(12)
                ]
            else:
                stays = [Session(arrive=T0, leave=T0 + timedelta(hours=6))]
            piles.append(
                Pile(id=f"F{f}P{p}", circuit=f"F{f}", evses=(Evse(id=1, sessions=tuple(stays)),))
            )
    cabinet = Circuit(id="cab", amps=300.0, children=tuple(feeders))
    return Site(
        name="feeders",
        time_zone="UTC",
        grid=Circuit(id="grid", amps=300.0, children=(cabinet,)),
        piles=tuple(piles),
    )


def _pauses_counted(site: Site) -> int:
    calls = []
    real = slotshare._pause

    def counted(active: Any, room: Any, voltage: float) -> Any:
        calls.append(len(active))
        return real(active, room, voltage)

    with mock.patch.object(slotshare, "_pause", counted):
        balance(site, start=T0, duration=6 * HOUR, resolution=300, policy=EqualShare())
    return len(calls)


def test_only_the_groups_that_change_are_solved_again() -> None:
    """One feeder's vehicles changing every 5 minutes re-solves that feeder's group alone:
    the three steady feeders are solved once each over the 72 slots."""
    one = _pauses_counted(_feeders_site(1))
    none = _pauses_counted(_feeders_site(0))
    assert none == 4  # every feeder solved once over the whole window
    assert one <= 3 + 72  # the steady feeders once, the changing one at most per slot


def test_fill_is_share_fairly_on_parallel_lists() -> None:
    """The parallel-list entry point answers exactly as share_fairly (it is its core)."""
    caps = [10.0, 32.0, 16.0, 0.0, 25.0]
    weights = [1.0, 2.0, 1.0, 1.0, 0.5]
    constraints = [(30.0, [(0, 1.0), (1, 1.0), (2, 1.0)]), (40.0, [(1, 1.0), (3, 1.0), (4, 2.0)])]
    assert fill(
        caps,
        weights,
        [b for b, _ in constraints],
        [[i for i, _ in g] for _, g in constraints],
        [[c for _, c in g] for _, g in constraints],
    ) == share_fairly(caps, weights, constraints)


@SETTINGS
@given(site=st.one_of(crowded_sites(), sites()), resolution=st.sampled_from([None, 300, 900]))
def test_property_deadline_without_needs_still_shares_as_equal_share(
    site: Site, resolution: int | None
) -> None:
    """Without needs and with one class the default's limits are EqualShare's (PL1), with
    max_min reusing one _Demand per run and one answer per run of equal slots."""
    deadline = balance(site, start=T0, duration=6 * HOUR, resolution=resolution)
    equal = balance(site, start=T0, duration=6 * HOUR, resolution=resolution, policy=EqualShare())
    assert deadline.amps == equal.amps
    assert deadline.loads == equal.loads


def test_a_cap_that_changes_within_a_session_is_shared_anew() -> None:
    """Two vehicles on a 40 A feeder; one EVSE's own limit drops from 32 A to 10 A at 03:00
    (a TxDefaultProfile step): from then on the other gets the 30 A left, not a half."""
    piles = (
        Pile(
            id="A",
            circuit="F",
            evses=(Evse(id=1, sessions=(Session(arrive=T0, leave=T0 + timedelta(hours=6)),)),),
            requests=(_tx_default(1, 0, [32, 10]),),
        ),
        Pile(
            id="B",
            circuit="F",
            evses=(Evse(id=1, sessions=(Session(arrive=T0, leave=T0 + timedelta(hours=6)),)),),
        ),
    )
    grid = Circuit(id="grid", amps=100.0, children=(Circuit(id="F", amps=40.0),))
    site = Site(name="step", time_zone="UTC", grid=grid, piles=piles)
    for policy in (DeadlineAware(), EqualShare()):
        allocation = balance(site, start=T0, duration=6 * HOUR, resolution=900, policy=policy)
        assert allocation.amps[("A", 1)] == (20.0,) * 12 + (10.0,) * 12
        assert allocation.amps[("B", 1)] == (20.0,) * 12 + (30.0,) * 12


def test_a_day_of_ten_thousand_evses_at_15_minutes_is_within_the_bound() -> None:
    """MAX_CELLS admits a day of 96 slots for 10,000 EVSEs under as many circuits (issue
    17), and refuses one cell more, before any work."""
    alloc._check_slots(96, 20_000)  # 1,920,000 cells: accepted
    assert MAX_CELLS == 2_000_000
    with pytest.raises(QueryError, match=r"\(EVSEs \+ circuits\) x slots"):
        alloc._check_slots(1, MAX_CELLS + 1)

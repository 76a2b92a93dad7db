"""B4's pausing re-shares through a group's classes (helper BALFIX17): the same answers.

:func:`_slotshare._pause` now classes a group once (:class:`_slotshare._Classes`) and reads
each re-share's classes from it, leaving constraints far from full out of the filling and
checking them after (put back and filled again when the check fails). The code before is
kept below as the reference (``_ref_pause``, ``_ref_pause_prefix``, ``_ref_shares``,
verbatim but for the names); the properties compare shares bit for bit (``repr``) and
each group's limits and pauses, on random coupled groups, with the classed path forced
on small groups and with constraints left out at random (binding ones included), and
whole ``balance`` results with the reference patched in.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from itertools import compress
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies_site import T0, hostile_sites, sites

from ocpp_schedule import EqualShare, QueryError, SafetyError, balance
from ocpp_schedule.site import _slotshare as slotshare
from ocpp_schedule.site._fairshare import fill
from ocpp_schedule.site._slotshare import (
    PAUSE_ROUNDS,
    PAUSE_SINGLY,
    EvseKey,
    Part,
    _below,
    _Classes,
    _Demand,
    _floor_tenth,
    _floors,
    _rank,
    _short,
)

V = 230.0
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
Limits = dict[str, tuple[tuple[float, float, float], float | None]]
_INF = math.inf


# ------------------------------------------------------------------ the reference (before)


def _ref_pause(active: list[_Demand], room: Limits, voltage: float) -> Part:
    out: dict[EvseKey, float] = {}
    paused: set[EvseKey] = set()
    shares = _ref_shares(active, room, voltage)
    floors = _floors(shares)
    rounds = 0
    while short := _below(active, floors):
        if len(short) <= PAUSE_SINGLY or rounds >= PAUSE_ROUNDS:
            victims = [min(short, key=_rank)]
            active = [d for d in active if d.key != victims[0].key]
            shares = _ref_shares(active, room, voltage)
        else:
            rounds += 1
            victims, active, shares = _ref_pause_prefix(active, shares, room, voltage)
        floors = _floors(shares)
        for d in victims:
            out[d.key] = 0.0
            paused.add(d.key)
    out.update(zip([d.key for d in active], floors, strict=True))
    return out, paused


def _ref_pause_prefix(
    active: list[_Demand], shares: list[float], room: Limits, voltage: float
) -> tuple[list[_Demand], list[_Demand], list[float]]:
    order = sorted(
        ((d, x) for d, x in zip(active, shares, strict=True) if _floor_tenth(x) < d.min_amps),
        key=lambda pair: pair[0].rank,
    )
    most = len(order)
    tried: dict[int, tuple[list[_Demand], list[float]]] = {}
    place: dict[EvseKey, int] = {}
    for n, (d, _) in enumerate(order):
        place.setdefault(d.key, n)
    places = [place.get(d.key, most) for d in active]

    def next_victim(m: int) -> bool:
        left = list(compress(active, map(m.__le__, places)))
        found = tried[m] = (left, _ref_shares(left, room, voltage))
        if m == most:
            return False
        short = _short(*found)
        return bool(short) and min(short, key=_rank) is order[m][0]

    low, high = _ref_bracket(_ref_guess(order), most, next_victim)
    while high - low > 1:
        middle = (low + high) // 2
        if next_victim(middle):
            low = middle
        else:
            high = middle
    return [d for d, _ in order[:high]], *tried[high]


def _ref_bracket(guess: int, most: int, holds: Callable[[int], bool]) -> tuple[int, int]:
    guess = min(max(guess, 1), most)
    step = 1
    if holds(guess):
        low = guess
        while True:
            high = min(low + step, most)
            if not holds(high):
                return low, high
            low, step = high, 2 * step
    high = guess
    while True:
        low = max(high - step, 0)
        if low == 0 or holds(low):
            return low, high
        high, step = low, 2 * step


def _ref_guess(order: Sequence[tuple[_Demand, float]]) -> int:
    need = sum((d.min_amps - x) * len(d.circuit_phases) for d, x in order)
    freed = 0.0
    for m, (d, x) in enumerate(order, 1):
        phases = len(d.circuit_phases)
        freed += x * phases
        need -= (d.min_amps - x) * phases
        if freed >= need:
            return m
    return len(order)


def _ref_shares(active: Sequence[_Demand], limits: Limits, voltage: float) -> list[float]:
    if not active:
        return []
    index_of: dict[tuple[tuple[str, ...], tuple[int, ...], float, float], int] = {}
    consumer = [0] * len(active)
    caps: list[float] = []
    weights: list[float] = []
    sizes: list[int] = []
    shapes: list[tuple[tuple[str, ...], tuple[int, ...]]] = []
    loads: dict[tuple[int, ...], tuple[int, ...]] = {}
    for n, d in enumerate(active):
        phases = loads.get(d.circuit_phases)
        if phases is None:
            phases = loads[d.circuit_phases] = tuple(sorted(d.circuit_phases))
        key = (d.path, phases, d.cap, d.weight)
        i = index_of.get(key)
        if i is None:
            i = index_of[key] = len(caps)
            caps.append(d.cap)
            weights.append(d.weight)
            sizes.append(0)
            shapes.append((d.path, phases))
        sizes[i] += 1
        consumer[n] = i
    alike: dict[tuple[tuple[str, ...], tuple[int, ...]], list[int]] = defaultdict(list)
    for i, shape in enumerate(shapes):
        alike[shape].append(i)
    potential: dict[tuple[str, int], float] = defaultdict(float)
    buckets = []
    for (path, circuit_phases), indices in alike.items():
        cap_sum = sum(caps[i] * sizes[i] for i in indices)
        buckets.append((path, circuit_phases, indices))
        for circuit in path:
            for p in circuit_phases:
                potential[(circuit, p)] += cap_sum
            potential[(circuit, -1)] += cap_sum * voltage * len(circuit_phases)
    binding = set()
    for (circuit, p), most in potential.items():
        amps, watts = limits[circuit]
        limit = (watts if watts is not None else _INF) if p < 0 else amps[p]
        if most > limit:
            binding.add((circuit, p))
    if not binding:
        return [d.cap for d in active]
    groups: dict[tuple[str, int], tuple[list[int], list[float]]] = {}
    for path, circuit_phases, indices in buckets:
        counts: list[float] | None = None
        for circuit in path:
            for p in circuit_phases:
                if (circuit, p) in binding:
                    if counts is None:
                        counts = [float(sizes[i]) for i in indices]
                    group = groups.get((circuit, p))
                    if group is None:
                        group = groups[(circuit, p)] = ([], [])
                    group[0].extend(indices)
                    group[1].extend(counts)
            if (circuit, -1) in binding:
                per_amp = voltage * len(circuit_phases)
                group = groups.get((circuit, -1))
                if group is None:
                    group = groups[(circuit, -1)] = ([], [])
                group[0].extend(indices)
                group[1].extend(per_amp * sizes[i] for i in indices)
    bounds: list[float] = []
    for circuit, p in groups:
        amps, watts = limits[circuit]
        bound = watts if p < 0 else amps[p]
        assert bound is not None
        bounds.append(bound)
    shares = fill(
        caps, weights, bounds, [g[0] for g in groups.values()], [g[1] for g in groups.values()]
    )
    return [shares[i] for i in consumer]


# ------------------------------------------------------------------ groups


def _demand(
    n: int,
    *,
    path: tuple[str, ...],
    phases: tuple[int, ...],
    cap: float,
    weight: float,
    min_amps: float,
    arrive: int,
) -> _Demand:
    rank = (weight, -arrive, f"P{n:05d}", 1)
    return _Demand((f"P{n:05d}", 1), cap, len(phases), phases, path, weight, min_amps, rank, 0)


@st.composite
def groups(draw: Any) -> tuple[list[_Demand], Limits]:
    """A grid over 1-2 cabinets of 1-4 feeders, per-phase and power limits (some far from
    full, some tight), 1- and 3-phase vehicles on rotated phases, caps, weights and
    minimums drawn: phases couple, many are short, some constraints are slack."""
    cabinets = [f"C{c}" for c in range(draw(st.integers(1, 2)))]
    feeders = [(c, f"{c}F{f}") for c in cabinets for f in range(draw(st.integers(1, 4)))]

    def amps(most: int) -> tuple[float, float, float]:
        a, b, c = (float(draw(st.integers(0, most))) for _ in range(3))
        return (a, b, c)

    def watts(most: int) -> float | None:
        return draw(st.one_of(st.none(), st.integers(0, most).map(float)))  # type: ignore[no-any-return]

    limits: Limits = {"grid": (amps(600), watts(300_000))}
    for c in cabinets:
        limits[c] = (amps(draw(st.sampled_from([300, 2000]))), watts(400_000))
    for _, f in feeders:
        limits[f] = (amps(draw(st.sampled_from([100, 1000]))), watts(200_000))
    demands = []
    for k in range(draw(st.integers(0, 120))):
        cabinet, feeder = draw(st.sampled_from(feeders))
        demands.append(
            _demand(
                k,
                path=("grid", cabinet, feeder),
                phases=draw(st.sampled_from([(0,), (1,), (2,), (0, 1, 2), (1, 2, 0), (2, 0, 1)])),
                cap=draw(st.sampled_from([6.0, 10.0, 16.0, 24.0, 32.0, 6.3])),
                weight=draw(st.sampled_from([1.0, 1.0, 1.0, 2.0, 0.5])),
                min_amps=draw(st.sampled_from([0.0, 6.0, 6.0, 6.0, 8.0, 6.25])),
                arrive=draw(st.integers(0, 30)),
            )
        )
    able = [d for d in demands if _floor_tenth(d.cap) >= d.min_amps and d.cap > 0]
    return able, limits


def _same(a: Sequence[float], b: Sequence[float]) -> bool:
    return list(map(repr, a)) == list(map(repr, b))


# ------------------------------------------------------------------ properties


@SETTINGS
@given(case=groups(), data=st.data())
def test_property_classes_share_any_subset_as_shares_does(case: Any, data: Any) -> None:
    """A subset's shares read from the group's classes equal :func:`_shares` of the subset,
    bit for bit, whatever constraints are left out (binding ones too: the check puts them
    back), with the group's own slack or guessed slack."""
    demands, limits = case
    classes = _Classes(demands, limits, V)
    keep = data.draw(st.lists(st.booleans(), min_size=len(demands), max_size=len(demands)))
    subset = list(compress(demands, keep))
    ids = list(compress(classes.ids, keep))
    how = data.draw(st.sampled_from(["none", "random", "guessed", "at"]))
    if how == "random":
        every = range(len(classes.bound))
        classes._leave_out(set(data.draw(st.lists(st.sampled_from(every)))) if every else set())
    elif how == "guessed":
        classes.slack_guessed()
    elif how == "at":
        classes.slack_at(_ref_shares(demands, limits, V))
    assert _same(classes.shares(ids), _ref_shares(subset, limits, V))
    assert _same(slotshare._shares(subset, limits, V), _ref_shares(subset, limits, V))


@SETTINGS
@given(case=groups(), classed=st.sampled_from([0, 1, 40, 512]))
def test_property_pause_is_the_reference(case: Any, classed: int) -> None:
    """Each group's limits and pauses equal the reference's (the classed first sharing
    forced on groups of any size)."""
    demands, limits = case
    with mock.patch.object(slotshare, "_CLASSED", classed):
        got = slotshare._pause(demands, limits, V)
    want = _ref_pause(demands, limits, V)
    assert list(got[0]) == list(want[0])
    assert _same(list(got[0].values()), list(want[0].values()))
    assert got[1] == want[1]


FIELDS = ("amps", "phases", "caps", "sessions", "paused", "loads", "pinned")


def _balanced(site: Any, policy: Any) -> Any:
    try:
        return balance(site, start=T0, duration=6 * 3600, resolution=300, policy=policy)
    except (SafetyError, QueryError) as error:
        return type(error).__name__, str(error)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.one_of(sites(), hostile_sites()), st.sampled_from([None, EqualShare()]))
def test_property_balance_is_the_reference(site: Any, policy: Any) -> None:
    """Whole ``balance`` results (every field) equal those with the reference pausing,
    with every group classed for its first sharing."""
    with mock.patch.object(slotshare, "_CLASSED", 0):
        got = _balanced(site, policy)
    with mock.patch.object(slotshare, "_pause", _ref_pause):
        want = _balanced(site, policy)
    if isinstance(want, tuple):
        assert got == want
        return
    for field in FIELDS:
        assert repr(getattr(got, field)) == repr(getattr(want, field)), field


# ------------------------------------------------------------------ examples


def _fixed_grid_group(n: int) -> tuple[list[_Demand], Limits]:
    """Like a pausing slot of ``benchmarks/balance.py``'s site on its fixed grid: feeders
    of 25, cabinets of 10 feeders under power limits, one grid that binds on every phase,
    a quarter of the vehicles on one phase, caps 16/24/32 A, 6 A minimums."""
    limits: Limits = {
        "grid": ((5000.0 * n / 10_000, 5000.0 * n / 10_000, 5000.0 * n / 10_000), None)
    }
    demands = []
    rotations = [(0, 1, 2), (1, 2, 0), (2, 0, 1)]
    for k in range(n):
        cabinet, feeder = f"C{k // 250}", f"C{k // 250}F{k // 25 % 10}"
        limits[cabinet] = ((1600.0, 1600.0, 1600.0), 1_000_000.0)
        limits[feeder] = ((250.0, 250.0, 250.0), None)
        rotation = rotations[k % 3]
        demands.append(
            _demand(
                k,
                path=("grid", cabinet, feeder),
                phases=rotation[:1] if k % 4 == 3 else rotation,
                cap=(32.0, 24.0, 16.0, 32.0)[k * 7 % 4],
                weight=1.0,
                min_amps=6.0,
                arrive=k * 37 % 101,
            )
        )
    return demands, limits


def test_a_fixed_grid_group_leaves_its_feeders_out_and_pauses_as_before() -> None:
    """2,000 vehicles under a grid that binds: the feeders and cabinets are left out of the
    fillings and never have to be put back; limits and pauses are the reference's."""
    demands, limits = _fixed_grid_group(2000)
    made: list[_Classes] = []
    real = _Classes.__init__

    def keep(self: _Classes, *args: Any) -> None:
        real(self, *args)
        made.append(self)

    with mock.patch.object(_Classes, "__init__", keep):
        got = slotshare._pause(demands, limits, V)
    want = _ref_pause(demands, limits, V)
    assert got[1] == want[1] and len(got[1]) > 1000
    assert _same(list(got[0].values()), list(want[0].values()))
    (classes,) = made
    grid = {k for k, b in enumerate(classes.bound) if b == 1000.0}
    assert len(classes.skip) >= 80 * 3 and not classes.skip & grid
    assert classes.refills == 0


def test_a_binding_constraint_left_out_is_put_back() -> None:
    """Leaving the grid itself out gives shares that load it past its limit: the check
    puts it back and fills again, and the shares are the full filling's."""
    demands, limits = _fixed_grid_group(500)
    classes = _Classes(demands, limits, V)
    classes._leave_out(set(range(len(classes.bound))))  # everything, the grid too
    assert _same(classes.shares(classes.ids), _ref_shares(demands, limits, V))
    assert classes.refills >= 1

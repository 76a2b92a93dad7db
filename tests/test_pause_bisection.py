"""Rule B4 by bisection (issue 17, helper PAUSE17): pause many short sessions in O(log n) solves.

A group's first ``PAUSE_SINGLY`` pauses are taken one at a time, as B4 was first written;
beyond them each round pauses the shortest prefix of the short sessions, in pause-rank
order, after which nobody left is short. The reference below is the one-at-a-time rule:
the bisection must give its answer wherever shares are monotone with thresholds in rank
order (one binding constraint, equal minimums) and wherever it needs at most
``PAUSE_SINGLY`` pauses; everywhere, nobody unpaused is short and no limit is exceeded.
The work is bounded by counting re-solves (calls of ``_shares``), never timed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ocpp_schedule.site import _slotshare as slotshare
from ocpp_schedule.site._slotshare import (
    PAUSE_SINGLY,
    _Demand,
    _floor_tenth,
    _shares,
    _solve,
)


def _pause(demands: Any, limits: Any, voltage: float) -> dict[Any, tuple[float, bool]]:
    """slotshare._pause read as (limit, paused) per EVSE, in its order (it returns the
    limits and the set paused since BAL16B)."""
    amps, paused = slotshare._pause(demands, limits, voltage)
    return {key: (x, key in paused) for key, x in amps.items()}


V = 230.0
SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
Limits = dict[str, tuple[tuple[float, float, float], float | None]]


def _demand(
    n: int,
    *,
    path: tuple[str, ...] = ("grid",),
    phases: tuple[int, ...] = (0, 1, 2),
    cap: float = 32.0,
    weight: float = 1.0,
    min_amps: float = 6.0,
    arrive: int | None = None,
) -> _Demand:
    """EVSE ``P{n}``; its pause rank is (weight, latest arrival first, pile id), as policies'."""
    rank = (weight, -(n if arrive is None else arrive), f"P{n:05d}", 1)
    return _Demand((f"P{n:05d}", 1), cap, len(phases), phases, path, weight, min_amps, rank, 0)


def _one_at_a_time(
    active: Sequence[_Demand], room: Limits, voltage: float, most: list[int] | None = None
) -> dict[Any, tuple[float, bool]]:
    """The reference: B4 as first written, the lowest short rank paused, then re-shared
    (``most``, if given, gets the most sessions short at once)."""
    active = list(active)
    out: dict[Any, tuple[float, bool]] = {}
    while True:
        shares = _shares(active, room, voltage)
        short = [d for d, x in zip(active, shares, strict=True) if _floor_tenth(x) < d.min_amps]
        if most is not None:
            most.append(len(short))
        if not short:
            break
        victim = min(short, key=lambda d: d.rank)
        out[victim.key] = (0.0, True)
        active = [d for d in active if d.key != victim.key]
    for d, x in zip(active, shares, strict=True):
        out[d.key] = (_floor_tenth(x), False)
    return out


def _counted(call: Any) -> tuple[Any, int]:
    """``call()``'s result and how many times it shared a slot (re-solves)."""
    calls = 0
    real = slotshare._shares

    def counting(*args: Any) -> Any:
        nonlocal calls
        calls += 1
        return real(*args)

    with mock.patch.object(slotshare, "_shares", counting):
        result = call()
    return result, calls


def _assert_safe(demands: Sequence[_Demand], limits: Limits, out: dict[Any, Any]) -> None:
    """Nobody unpaused is short or above its cap; no circuit phase or power limit exceeded."""
    load: dict[tuple[str, int], float] = {}
    for d in demands:
        amps, paused = out[d.key]
        if paused:
            assert amps == 0.0
            continue
        assert d.min_amps <= amps <= d.cap + 1e-9, (d, amps)
        for circuit in d.path:
            for p in d.circuit_phases:
                load[(circuit, p)] = load.get((circuit, p), 0.0) + amps
            load[(circuit, -1)] = load.get((circuit, -1), 0.0) + amps * V * len(d.circuit_phases)
    for (circuit, p), total in load.items():
        amps_limit, watts = limits[circuit]
        bound = (math.inf if watts is None else watts) if p < 0 else amps_limit[p]
        assert total <= bound * (1 + 1e-9) + 1e-9, (circuit, p, total, bound)


# ------------------------------------------------------------------ examples


def test_many_equal_sessions_on_one_circuit_pause_as_one_at_a_time() -> None:
    """600 3-phase vehicles, 6 A minimum, 1,800 A: 300 fit, the 300 latest arrivals are
    paused, exactly as one at a time, in a handful of re-solves instead of 300."""
    demands = [_demand(n) for n in range(600)]
    limits: Limits = {"grid": ((1800.0, 1800.0, 1800.0), None)}
    out, solves = _counted(lambda: _pause(demands, limits, V))
    assert out == _one_at_a_time(demands, limits, V)
    paused = sorted(k for k, (_, p) in out.items() if p)
    assert paused == [(f"P{n:05d}", 1) for n in range(300, 600)]  # the latest arrivals
    assert all(amps == 6.0 for amps, p in out.values() if not p)
    assert solves <= 1 + 4  # the guess is right up to the rounding
    _assert_safe(demands, limits, out)


def test_the_re_solves_grow_as_the_log_of_the_pauses() -> None:
    """Equal vehicles with spread caps under a power limit, half of them paused: the
    counted re-solves stay within the first solve and two per doubling of the sessions
    (one at a time took one per pause: 50, 500, 5,000)."""
    for n in (100, 1_000, 10_000):
        demands = [_demand(k, cap=8.0 + k % 25, phases=(0, 1, 2)[: 1 + 2 * (k % 2)])
                   for k in range(n)]  # fmt: skip
        limits: Limits = {"grid": ((1e9, 1e9, 1e9), 6.0 * V * n)}
        out, solves = _counted(lambda d=demands, lim=limits: _pause(d, lim, V))
        paused = sum(p for _, p in out.values())
        assert paused > n // 3  # mostly paused
        assert solves <= 1 + 2 * math.ceil(math.log2(n)), (n, solves)
        _assert_safe(demands, limits, out)


def _coupled() -> tuple[list[_Demand], Limits]:
    """Phases coupled: 20 3-phase vehicles (T), 60 on L1 (A, the latest arrivals) and 20
    on L2 (B). L1 (400 A) binds first: T and A get 5 A, B gets 6.5 A of L2's 230 A. Pausing
    A lifts T on L1, so T takes more of L2 and B falls below its minimum: pausing is not
    monotone, and B, not short at first, must be paused too."""
    t = [_demand(n, arrive=0) for n in range(20)]
    b = [_demand(n, phases=(1,), arrive=10) for n in range(20, 40)]
    a = [_demand(n, phases=(0,), arrive=20 + n) for n in range(40, 100)]
    return t + b + a, {"grid": ((400.0, 230.0, 1000.0), None)}


def test_coupled_phases_end_safe_with_nobody_short() -> None:
    demands, limits = _coupled()
    first = dict(zip(demands, _shares(demands, limits, V), strict=True))
    assert all(_floor_tenth(first[d]) >= 6.0 for d in demands[20:40])  # B not short at first
    out = _pause(demands, limits, V)
    _assert_safe(demands, limits, out)
    # here the rounds take what one at a time takes: 14 A, then 2 B (B short only later)
    assert out == _one_at_a_time(demands, limits, V)
    assert sum(out[d.key][1] for d in demands[40:]) == 14
    assert sum(out[d.key][1] for d in demands[20:40]) == 2


def test_a_few_short_are_paused_one_at_a_time() -> None:
    """8 vehicles short at 5 A of a 40 A circuit (6 A minimum): with at most PAUSE_SINGLY
    short, the latest arrival is paused and the rest re-shared, one at a time (3 solves)."""
    demands = [_demand(n) for n in range(PAUSE_SINGLY)]
    limits: Limits = {"grid": ((40.0, 40.0, 40.0), None)}
    out, solves = _counted(lambda: _pause(demands, limits, V))
    assert out == _one_at_a_time(demands, limits, V)
    assert [k for k, (_, p) in sorted(out.items()) if p] == [("P00006", 1), ("P00007", 1)]
    assert solves == 3


def test_a_share_rounded_below_the_minimum_counts_as_short_in_a_round() -> None:
    """20 vehicles, 6.25 A minimum, 125.5 A: 6.275 A each rounds down to 6.2 A, short, so
    one is paused (the round's predicate rounds as the limits handed out do)."""
    demands = [_demand(n, min_amps=6.25) for n in range(20)]
    limits: Limits = {"grid": ((125.5, 125.5, 125.5), None)}
    out = _pause(demands, limits, V)
    assert out == _one_at_a_time(demands, limits, V)
    assert [k for k, (_, p) in out.items() if p] == [("P00019", 1)]
    _assert_safe(demands, limits, out)


# ------------------------------------------------------------------ properties


@st.composite
def single_bottleneck(draw: Any) -> tuple[list[_Demand], Limits]:
    """One binding constraint: one circuit, its vehicles all 3-phase, all on one phase, or
    under a power limit alone; caps and weights vary, the minimum is the same for all."""
    kind = draw(st.sampled_from(["three-phase", "one-phase", "power"]))
    minimum = draw(st.sampled_from([0.0, 6.0, 8.0, 6.3, 6.25]))
    n = draw(st.integers(0, 60))
    demands = []
    for k in range(n):
        if kind == "three-phase":
            phases = draw(st.sampled_from([(0, 1, 2), (1, 2, 0), (2, 0, 1)]))
        elif kind == "one-phase":
            phases = (0,)
        else:
            phases = draw(st.sampled_from([(0,), (1,), (0, 1, 2)]))
        demands.append(
            _demand(
                k,
                phases=phases,
                cap=draw(st.sampled_from([minimum + 0.5, 10.0, 16.0, 32.0, 32.0])),
                weight=draw(st.sampled_from([1.0, 1.0, 2.0, 3.0])),
                min_amps=minimum,
                arrive=draw(st.integers(0, 5)),
            )
        )
    room = float(draw(st.integers(0, 40 * max(n, 1))))
    if kind == "power":
        limits: Limits = {"grid": ((1e9, 1e9, 1e9), room * V)}
    else:
        limits = {"grid": ((room, room, room), None)}
    return demands, limits


@SETTINGS
@given(case=single_bottleneck())
def test_property_one_bottleneck_equal_minimums_is_one_at_a_time(
    case: tuple[list[_Demand], Limits],
) -> None:
    demands, limits = case
    out = _solve(demands, limits, V)
    with mock.patch.object(slotshare, "PAUSE_SINGLY", 10**9):
        assert _solve(demands, limits, V) == out  # the rule as first written, via _solve
    assert _pause(demands, limits, V) == _one_at_a_time(demands, limits, V)
    _assert_safe(demands, limits, out)


@st.composite
def coupled_sites(draw: Any) -> tuple[list[_Demand], Limits]:
    """A grid over 2-3 feeders, per-phase and power limits, 1- and 3-phase vehicles on
    rotated phases, minimums 0, 6 or 8 A, weights 1-2: phases couple, shares need not be
    monotone."""
    feeders = [f"F{f}" for f in range(draw(st.integers(2, 3)))]

    def amps(most: int) -> tuple[float, float, float]:
        a, b, c = (float(draw(st.integers(0, most))) for _ in range(3))
        return (a, b, c)

    def watts(most: int) -> float | None:
        return draw(st.one_of(st.none(), st.integers(0, most).map(float)))  # type: ignore[no-any-return]

    limits: Limits = {"grid": (amps(400), watts(200_000))}
    for f in feeders:
        limits[f] = (amps(200), watts(100_000))
    demands = []
    for k in range(draw(st.integers(0, 80))):
        phases = draw(st.sampled_from([(0,), (1,), (2,), (0, 1, 2), (1, 2, 0)]))
        demands.append(
            _demand(
                k,
                path=("grid", draw(st.sampled_from(feeders))),
                phases=phases,
                cap=draw(st.sampled_from([6.0, 10.0, 16.0, 32.0])),
                weight=draw(st.sampled_from([1.0, 1.0, 2.0])),
                min_amps=draw(st.sampled_from([0.0, 6.0, 6.0, 8.0, 6.25])),
                arrive=draw(st.integers(0, 10)),
            )
        )
    return demands, limits


@SETTINGS
@given(case=coupled_sites())
def test_property_nobody_unpaused_is_short_and_no_limit_is_exceeded(
    case: tuple[list[_Demand], Limits],
) -> None:
    demands, limits = case
    out = _solve(demands, limits, V)
    _assert_safe(demands, limits, out)
    able = [d for d in demands if _floor_tenth(d.cap) >= d.min_amps and d.cap > 0]
    most: list[int] = []
    reference = _one_at_a_time(able, limits, V, most)
    if max(most) <= PAUSE_SINGLY:  # never more short at once: the rule as first written
        assert _pause(able, limits, V) == reference

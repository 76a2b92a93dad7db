"""The fleet's cold pass (issue 17, helper FLEET17B): the same answers on cheaper paths.

Each path changed here keeps its previous code as a private reference below, and the new
one is compared with it by properties (exact floats: ``repr`` tells -0.0 from 0.0) and on
``benchmarks/fleet.py``'s stations:

- the EVSE-0 sum (``_composite._sum_raw``): columns added level by level instead of a
  segment tree updated at each change point;
"""

from __future__ import annotations

import heapq
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest.mock import patch

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from strategies_engine import Case, station_21_cases

from ocpp_schedule import StationConfig, station_composites
from ocpp_schedule.engine import _composite
from ocpp_schedule.engine._composite import _SUM, MAX_PERIODS, _Context, _Raw, _Seg

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
START = 1_714_996_800


# ------------------------------------------------------------------ the references


def _sum_raw_reference(ctx: _Context, per_evse: list[_Raw]) -> list[_Seg]:
    """The EVSE-0 sum as it was: a k-way merge of the change points into a segment tree."""
    end, out_w = ctx.end, ctx.out_w
    if len(per_evse) == 1:
        raw = per_evse[0]
        ends = [r[0] for r in raw[1:]]
        ends.append(end)
        return [
            (t, stop, value, out_w, phases, _SUM, None)
            for (t, value, phases, _s, _r), stop in zip(raw, ends, strict=True)
        ]
    size = 1
    while size < len(per_evse):
        size *= 2
    total = [0.0] * (2 * size)
    most = [0] * (2 * size)
    for j, raw in enumerate(per_evse):
        total[size + j] = raw[0][1]
        most[size + j] = raw[0][2]
    for pos in range(size - 1, 0, -1):
        total[pos] = total[2 * pos] + total[2 * pos + 1]
        most[pos] = max(most[2 * pos], most[2 * pos + 1])
    segs: list[_Seg] = []
    cur = ctx.start
    for t, j, value, phases in heapq.merge(*(_changes(j, raw) for j, raw in enumerate(per_evse))):
        if t != cur:
            segs.append((cur, t, total[1], out_w, most[1], _SUM, None))
            if len(segs) > MAX_PERIODS:
                raise _composite._too_many_periods(len(segs))
            cur = t
        pos = size + j
        total[pos] = value
        most[pos] = phases
        pos //= 2
        while pos:
            left = 2 * pos
            total[pos] = total[left] + total[left + 1]
            most[pos] = most[left] if most[left] > most[left + 1] else most[left + 1]
            pos //= 2
    segs.append((cur, end, total[1], out_w, most[1], _SUM, None))
    return segs


def _changes(j: int, raw: _Raw) -> Iterator[tuple[int, int, float, int]]:
    for k in range(1, len(raw)):
        entry = raw[k]
        yield entry[0], j, entry[1], entry[2]


@contextmanager
def _reference() -> Iterator[None]:
    """Every changed path switched back to its reference."""
    with patch.object(_composite, "_sum_raw", _sum_raw_reference):
        yield


# ------------------------------------------------------------------ the EVSE-0 sum

VALUES = st.sampled_from(
    [0.0, -0.0, 0.1, 0.2, 0.3, 1e-9, 6.0, 16.0, 7.7, 1 / 3, 230.0 * 3 * 0.1, 1e300, float("inf")]
) | st.floats(0, 1e5, allow_nan=False)


@st.composite
def raws(draw: st.DrawFn) -> tuple[_Context, list[_Raw]]:
    """EVSE composites over one window, as the engine builds them: each starts at the
    window's start and rises strictly; change points shared between EVSEs often."""
    duration = draw(st.integers(1, 5000))
    grid = draw(st.sampled_from([1, 7, 60, 600]))
    uniform = draw(st.sampled_from([None, 1, 3]))
    count = draw(st.sampled_from([2, 3, 4, 5, 8, 9, 10, 16, 17]) | st.integers(1, 20))
    per_evse: list[_Raw] = []
    for _ in range(count):
        cuts = draw(st.sets(st.integers(1, max(1, (duration - 1) // grid)), max_size=12))
        times = [START, *sorted(START + c * grid for c in cuts if c * grid < duration)]
        per_evse.append(
            [
                (
                    t,
                    draw(VALUES),
                    uniform if uniform is not None else draw(st.integers(1, 3)),
                    None,
                    None,
                )
                for t in times
            ]
        )
    ctx = _Context(START, START + duration, draw(st.booleans()), StationConfig())
    return ctx, per_evse


@SETTINGS
@given(raws())
@example(
    (_Context(START, START + 10, False, StationConfig()), [[(START, -0.0, 3, None, None)]] * 3)
)
@example(
    (
        _Context(START, START + 10, True, StationConfig()),
        [[(START, -0.0, 1, None, None), (START + 5, 0.1, 2, None, None)]] * 2,
    )
)
def test_sum_raw_equals_the_segment_tree(case: tuple[_Context, list[_Raw]]) -> None:
    """The EVSE-0 sum by columns: the same segments, floats equal to the bit (-0.0 too)."""
    ctx, per_evse = case
    assert repr(_composite._sum_raw(ctx, per_evse)) == repr(_sum_raw_reference(ctx, per_evse))


# ------------------------------------------------------------------ whole stations


def _batch(case: Case) -> dict[int, Any]:
    return station_composites(
        case.profiles,
        start=case.start,
        duration=case.duration,
        unit=case.unit,
        transactions=tuple(case.transactions.values()),
        config=case.config,
    )


@SETTINGS
@given(station_21_cases())
def test_station_composites_equal_the_reference(case: Case) -> None:
    """Every EVSE's composite and the station total, new paths against the references."""
    new = _batch(case)
    with _reference():
        old = _batch(case)
    assert repr(new) == repr(old)


def test_fleet_stations_equal_the_reference() -> None:
    """``benchmarks/fleet.py``'s stations (10 EVSEs, a W station max, a daily TxDefault,
    a TxProfile per transaction) through the fleet path, new against the references."""
    from fleet import T0
    from fleet_service import make_station

    from ocpp_schedule.engine.fleet import recompute_station

    for n in (0, 1, 5, 13, 99):
        for variant in (0, 1):
            station = make_station(n, variant)
            for start in (T0, T0.replace(hour=5)):
                for include in (True, False):
                    args = {"start": start, "duration": 86400, "include_station": include}
                    new = recompute_station(station, **args)
                    with _reference():
                        old = recompute_station(station, **args)
                    assert repr(new) == repr(old)

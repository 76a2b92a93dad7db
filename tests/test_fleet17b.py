"""The fleet's cold pass (issue 17, helper FLEET17B): the same answers on cheaper paths.

Each path changed here keeps its previous code as a private reference below, and the new
one is compared with it by properties (exact floats: ``repr`` tells -0.0 from 0.0) and on
``benchmarks/fleet.py``'s stations:

- the EVSE-0 sum (``_composite._sum_raw``): columns added level by level instead of a
  segment tree updated at each change point;
- the fleet's answers (``_composite.station_payloads``): each raw composite rounded and
  merged straight into the payload's rows, instead of ``_finalize`` then ``to_payload``;
- a compiled profile's phases with the default (``CompiledProfile.phases_with``);
- a station's payloads taken as a whole (``_rules.replay_final``) instead of reading
  ``replay`` to its end, its entries made without the frozen ``__init__``
  (``InstalledProfile._made``);
- an EVSE's covers merged without the rate work when no profile has a minimum charging
  rate (``_composite._combine``'s ``rates``).
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
from test_replay_linear import case as replay_cases
from test_replay_linear import entry as entries
from test_replay_linear import looks

from ocpp_schedule import (
    OcppVersion,
    ProfileStore,
    SetChargingProfileRequest,
    StationConfig,
    StationState,
    replay,
    station_composites,
)
from ocpp_schedule.engine import _composite, _service, fleet
from ocpp_schedule.engine._compile import CompiledProfile
from ocpp_schedule.engine._composite import (
    _DEFAULT,
    _SUM,
    MAX_PERIODS,
    _Context,
    _Raw,
    _schedule,
    _Seg,
)
from ocpp_schedule.station._rules import replay_final
from ocpp_schedule.wire._enums import ChargingRateUnit
from ocpp_schedule.wire._timestamps import from_epoch

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


def _station_payloads_reference(
    profiles: Any, version: OcppVersion, *, include_station: bool = True, **query: Any
) -> dict[int, dict[str, Any]]:
    """The fleet's answers as they were: every composite built, then its payload."""
    schedules = station_composites(profiles, include_station=include_station, **query)
    return {e: schedule.to_payload(version) for e, schedule in sorted(schedules.items())}


def _phases_with_reference(self: CompiledProfile, default: int) -> tuple[int, ...]:
    resolved = self._phases_with.get(default)
    if resolved is None:
        resolved = tuple(n or default for n in self.phases)
        self._phases_with[default] = resolved
    return resolved


def _replayed_reference(station: Any) -> tuple[ProfileStore, tuple[str, ...]]:
    """A station's store and rejections as they were taken: ``replay`` read to its end."""
    from ocpp_schedule.wire._payloads import parse_version, read_set_charging_profile

    version = parse_version(station.version)
    state = StationState(station.config, version, station.transactions)
    requests = [read_set_charging_profile(p, version) for p in station.payloads]
    store = ProfileStore()
    rejected = []
    for i, (store, result) in enumerate(replay(requests, state, local_purposes=True), 1):  # noqa: B007
        if not result.accepted:
            rejected.append(f"request {i}: {result}")
    return store, tuple(rejected)


_combine = _composite._combine


def _combine_reference(ctx: Any, covers: Any, gen: Any, rates: bool = True) -> _Raw:
    """Every merge with its rate work, as it was."""
    return _combine(ctx, covers, gen)


@contextmanager
def _reference() -> Iterator[None]:
    """Every changed path switched back to its reference."""
    with (
        patch.object(_composite, "_sum_raw", _sum_raw_reference),
        patch.object(_composite, "_combine", _combine_reference),
        patch.object(fleet, "station_payloads", _station_payloads_reference),
        patch.object(_service, "station_payloads", _station_payloads_reference),
        patch.object(CompiledProfile, "phases_with", _phases_with_reference),
        patch.object(_service, "_replayed", _replayed_reference),
        patch.object(fleet, "_replayed", _replayed_reference),
    ):
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


# ------------------------------------------------------------------ the answers' rows


class _Source:
    """A raw interval's source as ``_finalize`` reads it (its ``source``)."""

    def __init__(self, name: str) -> None:
        self.source = name


SOURCES = [_Source("a"), _Source("b"), _DEFAULT]
LIMITS = st.sampled_from([0.0, -0.0, 0.05, 0.1, 0.14999999, 6.0, 6.04, 7.7, 16.0, 1 / 3, 1e9])
RATES = st.sampled_from([None, None, 0.0, 0.1, 0.11, 6.0, 1 / 3])


@st.composite
def answer_raws(draw: st.DrawFn) -> _Raw:
    """Raw composites with equal neighbours (merged), rates and sources changing within."""
    t = START
    raw: _Raw = []
    for _ in range(draw(st.integers(1, 25))):
        raw.append(
            (t, draw(LIMITS), draw(st.sampled_from([1, 3, 3])), draw(st.sampled_from(SOURCES)),
             draw(RATES))
        )  # fmt: skip
        t += draw(st.integers(1, 900))
    return raw


@SETTINGS
@given(
    answer_raws(),
    st.sampled_from([OcppVersion.V16, OcppVersion.V201, OcppVersion.V21]),
    st.sampled_from([ChargingRateUnit.A, ChargingRateUnit.W]),
)
@example([(START, float("inf"), 3, _DEFAULT, None)], OcppVersion.V16, ChargingRateUnit.A)
@example(  # merged neighbours: the larger rate, rounded up, and the 1.6 minChargingRate
    [(START, 6.0, 3, SOURCES[0], 0.1), (START + 60, 6.04, 3, SOURCES[1], 6.01)],
    OcppVersion.V16,
    ChargingRateUnit.A,
)
def test_payload_rows_equal_finalize_then_to_payload(
    raw: _Raw, version: OcppVersion, unit: ChargingRateUnit
) -> None:
    """A raw composite's payload straight from its rows, as ``_finalize`` then
    ``to_payload`` make it (or the same error: an infinite value has no rounding)."""

    def old() -> Any:
        periods = _composite._finalize(raw, START)
        return _schedule(7, START, 3600, unit, periods).to_payload(version)

    try:
        expected = old()
    except (OverflowError, ValueError) as error:
        try:
            _composite._payload(7, raw, START, from_epoch(START), 3600, unit, version)
        except type(error) as again:
            assert str(again) == str(error)
            return
        raise AssertionError("no error") from None
    assert repr(_composite._payload(7, raw, START, from_epoch(START), 3600, unit, version)) == repr(
        expected
    )


@SETTINGS
@given(station_21_cases(), st.sampled_from([OcppVersion.V16, OcppVersion.V201, OcppVersion.V21]))
def test_station_payloads_equal_the_reference(case: Case, version: OcppVersion) -> None:
    """A 2.1 station's answers in each version's payload, new paths against the references."""
    query = {
        "start": case.start,
        "duration": case.duration,
        "unit": case.unit,
        "transactions": tuple(case.transactions.values()),
        "config": case.config,
    }
    for include in (True, False):
        new = _composite.station_payloads(case.profiles, version, include_station=include, **query)
        with _reference():
            old = _station_payloads_reference(
                case.profiles, version, include_station=include, **query
            )
        assert repr(new) == repr(old)


def test_a_shard_answers_as_the_reference() -> None:
    """A shard's cold pass and a pass over a new window: every result equal."""
    from fleet import T0
    from fleet_service import make_station

    from ocpp_schedule.engine.fleet import Shard

    stations = [make_station(n, n % 2) for n in range(12)]

    def passes() -> list[Any]:
        shard = Shard(0)
        shard.apply(stations)
        start = int(T0.timestamp())
        first = shard.recompute(start, 86400, None).results
        second = shard.recompute(start + 5400, 7200, "W").results
        return [first, second]

    new = passes()
    with _reference():
        old = passes()
    assert repr(new) == repr(old)


# ------------------------------------------------------------------ taking a station


@settings(max_examples=300, deadline=None)
@given(replay_cases(), st.lists(entries(), max_size=6))
def test_replay_final_equals_replay_read_to_its_end(
    drawn: tuple[list[SetChargingProfileRequest], StationState, bool], held_entries: list[Any]
) -> None:
    """The last store (entries in order, every lookup and index) and every rejection
    (number, reason, rule, message) as ``replay`` gives them, from any store held before."""
    requests, state, local_purposes = drawn
    held = ProfileStore(held_entries)
    steps = list(replay(requests, state, held, local_purposes=local_purposes))
    expected_rejected = [(i, r) for i, (_, r) in enumerate(steps, 1) if not r.accepted]
    store, rejected = replay_final(requests, state, held, local_purposes=local_purposes)
    assert rejected == expected_rejected
    assert looks(store) == looks(steps[-1][0])


def test_replay_final_of_nothing_is_the_store_held() -> None:
    state = StationState(StationConfig(), OcppVersion.V16)
    held = ProfileStore()
    requests: list[SetChargingProfileRequest] = []
    assert replay_final(requests, state, held) == (held, [])


def test_phases_with_equals_the_reference() -> None:
    """Phases named nowhere, everywhere and here and there, with each default."""
    from ocpp_schedule.engine._compile import compile_profile
    from ocpp_schedule.station._store import InstalledProfile
    from ocpp_schedule.wire._models import ChargingProfile

    for numbers in ([None, None], [1, 3], [None, 2, None], [3], [None]):
        periods = [
            {"startPeriod": 60 * i, "limit": 10.0} | ({"numberPhases": n} if n else {})
            for i, n in enumerate(numbers)
        ]
        profile = ChargingProfile.model_validate(
            {
                "id": 1,
                "stackLevel": 0,
                "chargingProfilePurpose": "TxDefaultProfile",
                "chargingProfileKind": "Relative",
                "chargingSchedule": [
                    {"id": 1, "chargingRateUnit": "A", "chargingSchedulePeriod": periods}
                ],
            }
        )
        for default in (1, 2, 3):
            cp = compile_profile(InstalledProfile(1, profile))
            old = _phases_with_reference(compile_profile(InstalledProfile(1, profile)), default)
            assert cp.phases_with(default) == old
            assert cp.phases_with(default) is cp.phases_with(default)  # kept


def test_an_entry_made_equals_one_built() -> None:
    """``InstalledProfile._made``: equal, the same fields in the same order, the same pickle."""
    import pickle

    from fleet_service import make_station

    from ocpp_schedule import ChargingLimitSource, InstalledProfile, read_set_charging_profile

    profile = read_set_charging_profile(make_station(3).payloads[2], "1.6").charging_profile
    for args in (
        (1, profile, ChargingLimitSource.CSO, "3001"),
        (0, profile, ChargingLimitSource.EMS, None),
    ):
        made, built = InstalledProfile._made(*args), InstalledProfile(*args)
        assert made == built and hash(made) == hash(built) and repr(made) == repr(built)
        assert list(made.__dict__.items()) == list(built.__dict__.items())
        assert pickle.dumps(made) == pickle.dumps(built)

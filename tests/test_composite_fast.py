"""The one-pass warm path of an EVSE's answer equals the general path, field for field.

``composite_schedule`` for one EVSE with at most two purposes in force (the EV stack and
one cap), no LocalGeneration and no 2.1 fields merges, rounds and builds the periods in
one pass (``_merge_one`` / ``_merge_two`` with ``final``, issue 16). The general path
builds the raw intervals and then rounds and merges them (``_finalize``). Both must give
the same periods: start, limit, phases, every source in order and the minimum charging
rate (the oracle tests compare only the first three).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from strategies_engine import Case, single_evse_cases

from ocpp_schedule import (
    ChargingProfile,
    ChargingRateUnit,
    InstalledProfile,
    ProfileStore,
    Transaction,
    composite_schedule,
)
from ocpp_schedule.engine import _composite as engine
from ocpp_schedule.engine._compile import CompiledProfile, compiled
from ocpp_schedule.engine._index import ProfileIndex

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def general_periods(case: Case) -> tuple[engine.CompositePeriod, ...]:
    """The answer's periods through the general path: raw intervals, then ``_finalize``."""
    start = case.start
    out_w = engine._unit(case.unit) is ChargingRateUnit.W
    ctx = engine._Context(start, start + (case.duration or 1), out_w, case.config)
    index = ProfileIndex(compiled(p) for p in case.profiles)
    tx = engine._transactions(case.transaction).get(case.evse_id)
    return engine._finalize(engine._evse_raw(ctx, index, case.evse_id, tx), start)


def check(case: Case) -> None:
    fast = composite_schedule(case.profiles, **case.kwargs()).periods
    general = general_periods(case)
    note(f"fast:    {fast}")
    note(f"general: {general}")
    assert fast == general
    assert [p.sources for p in fast] == [p.sources for p in general]
    assert [p.min_charging_rate for p in fast] == [p.min_charging_rate for p in general]


@SETTINGS
@given(single_evse_cases())
def test_one_pass_equals_general_path(case: Case) -> None:
    check(case)


@settings(SETTINGS, max_examples=200)
@given(single_evse_cases(with_transaction=True))
def test_one_pass_equals_general_path_with_transaction(case: Case) -> None:
    """TxProfiles and Relative schedules (minChargingRate comes from the EV stack)."""
    check(case)


def _profile(pid: int, purpose: str, unit: str, periods: list[dict[str, object]], **more: object):
    return ChargingProfile.model_validate(
        {
            "id": pid,
            "stackLevel": more.pop("stackLevel", 0),
            "chargingProfilePurpose": purpose,
            "chargingProfileKind": "Absolute",
            "chargingSchedule": [
                {
                    "id": 1,
                    "startSchedule": "2024-01-01T00:00:00Z",
                    "chargingRateUnit": unit,
                    "chargingSchedulePeriod": periods,
                    **more,
                }
            ],
        }
    )


T0 = 1_704_067_200  # 2024-01-01T00:00:00Z


def test_equal_neighbours_from_two_profiles_merge_with_both_sources_and_the_larger_rate() -> None:
    """Example: the EV limit 10 A then a cap of 10.04 A (rounded 10.0): one period, two
    sources in time order, the larger minimum rate (rounded up)."""
    store = ProfileStore(
        [
            InstalledProfile(
                1,
                _profile(
                    1,
                    "TxDefaultProfile",
                    "A",
                    [{"startPeriod": 0, "limit": 10.0}, {"startPeriod": 600, "limit": 20.0}],
                    minChargingRate=4.01,
                ),
            ),
            InstalledProfile(
                0,
                _profile(
                    2,
                    "ChargingStationMaxProfile",
                    "A",
                    [{"startPeriod": 0, "limit": 32.0}, {"startPeriod": 600, "limit": 10.04}],
                ),
            ),
        ]
    )
    answer = composite_schedule(store, evse_id=1, start=T0, duration=1200)
    assert [(p.start_period, p.limit) for p in answer.periods] == [(0, 10.0)]
    (period,) = answer.periods
    assert [s.profile_id for s in period.sources] == [1, 2]
    assert period.min_charging_rate == 4.1


def test_no_profile_in_force_answers_the_default_limit_in_one_pass() -> None:
    """A cap that ends inside the window: the default limit (and the default phases)
    after it, named as the default."""
    store = ProfileStore(
        [
            InstalledProfile(
                0,
                _profile(
                    2,
                    "ChargingStationMaxProfile",
                    "A",
                    [{"startPeriod": 0, "limit": 16.0, "numberPhases": 1}],
                    duration=600,
                ),
            )
        ]
    )
    tx = Transaction("t", 1, datetime(2024, 1, 1, tzinfo=UTC))
    answer = composite_schedule(store, evse_id=1, start=T0, duration=1200, transaction=tx)
    assert [(p.start_period, p.number_phases, p.source.kind) for p in answer.periods] == [
        (0, 1, "profile"),
        (600, 3, "default"),
    ]


def test_a_cap_governing_across_ev_profiles_keeps_the_larger_minimum_rate() -> None:
    """Example: the cap governs throughout while the EV stack changes from a profile with
    minChargingRate 4 (a higher stack level, for 600 s) to a lower one with 6: one period,
    one source, rate 6 (the merged neighbours' largest, as the general path has it)."""
    store = ProfileStore(
        [
            InstalledProfile(
                1,
                _profile(
                    1,
                    "TxDefaultProfile",
                    "A",
                    [{"startPeriod": 0, "limit": 20.0}],
                    minChargingRate=6.0,
                ),
            ),
            InstalledProfile(
                1,
                _profile(
                    3,
                    "TxDefaultProfile",
                    "A",
                    [{"startPeriod": 0, "limit": 20.0}],
                    minChargingRate=4.0,
                    stackLevel=1,
                    duration=600,
                ),
            ),
            InstalledProfile(
                0,
                _profile(2, "ChargingStationMaxProfile", "A", [{"startPeriod": 0, "limit": 10.0}]),
            ),
        ]
    )
    answer = composite_schedule(store, evse_id=1, start=T0, duration=1200)
    assert [(p.start_period, p.limit, p.min_charging_rate) for p in answer.periods] == [
        (0, 10.0, 6.0)
    ]
    assert [s.profile_id for s in answer.periods[0].sources] == [2]


def test_every_form_of_the_start_gives_the_same_answer() -> None:
    """The whole-second UTC datetime read by ``timestamp()`` (the warm path's shortcut)
    answers as the epoch int, the same instant in another zone, and a datetime with a
    sub-second part (floored) do; the result is the frozen public dataclass."""
    store = ProfileStore(
        [
            InstalledProfile(
                0,
                _profile(
                    2,
                    "ChargingStationMaxProfile",
                    "W",
                    [{"startPeriod": 0, "limit": 7000.0}, {"startPeriod": 900, "limit": 3000.0}],
                    duration=1800,
                ),
            )
        ]
    )
    epoch = T0
    utc = datetime.fromtimestamp(epoch, UTC)
    starts = [
        utc,
        epoch,
        utc.astimezone(timezone(timedelta(hours=2))),
        utc.replace(microsecond=999_999),
    ]
    answers = [composite_schedule(store, evse_id=1, start=s, duration=3600) for s in starts]
    assert all(a == answers[0] for a in answers)
    assert answers[0].start_epoch == epoch and answers[0].start == utc
    assert answers[0] == engine.CompositeSchedule(
        1, epoch, 3600, ChargingRateUnit.A, answers[0].periods
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        answers[0].duration = 1  # type: ignore[misc]


def _stacks(case: Case) -> list[tuple[list[CompiledProfile], int, float | None]]:
    """Every stack the EVSE's answer covers, with its relative anchor and state of charge."""
    index = ProfileIndex(compiled(p) for p in case.profiles)
    tx = engine._transactions(case.transaction).get(case.evse_id)
    rel = case.start if tx is None else tx.start_epoch
    soc = None if tx is None else tx.state_of_charge
    chain = (
        index.defaults_for(case.evse_id)
        if tx is None
        else index.ev_chain(case.evse_id, tx.id, tx.priority_charging)
    )
    return [(stack, rel, soc) for stack in [chain, *index.caps(case.evse_id)] if stack]


@settings(SETTINGS, max_examples=300)
@given(single_evse_cases(with_transaction=True))
def test_two_windows_without_the_heap_equal_the_sweep(case: Case) -> None:
    """``_cover_two`` (a stack in force in two windows) gives the sweep's segments exactly."""
    out_w = engine._unit(case.unit) is ChargingRateUnit.W
    ctx = engine._Context(case.start, case.start + (case.duration or 1), out_w, case.config)
    for stack, rel, soc in _stacks(case):
        wins = engine._stack_windows(stack, ctx, rel)
        if len(wins) == 2:
            assert engine._cover_two(stack, ctx, wins, soc) == engine._cover_sweep(
                stack, ctx, wins, soc
            )


def test_two_windows_leader_inside_the_other() -> None:
    """A higher TxDefault in force inside a lower one's window: the lower before and after it."""
    defaults = _profile(
        1, "TxDefaultProfile", "A", [{"startPeriod": 0, "limit": 20.0}], duration=3000
    )
    tx_profile = _profile(
        2, "TxDefaultProfile", "A", [{"startPeriod": 0, "limit": 10.0}], duration=600, stackLevel=1
    )
    store = ProfileStore([InstalledProfile(1, defaults), InstalledProfile(1, tx_profile)])
    index = ProfileIndex(compiled(p) for p in store)
    chain = index.defaults_for(1)
    ctx = engine._Context(T0 - 100, T0 + 3600, False, engine._default_config())
    wins = engine._stack_windows(chain, ctx, T0)
    assert len(wins) == 2
    segs = engine._cover_two(chain, ctx, wins, None)
    assert segs == engine._cover_sweep(chain, ctx, wins, None)
    assert [(s[0] - T0, s[1] - T0, s[2]) for s in segs] == [
        (-100, 0, float("inf")),
        (0, 600, 10.0),
        (600, 3000, 20.0),
        (3000, 3600, float("inf")),
    ]


_WINDOW = st.tuples(
    st.integers(-3000, 3000),  # start of the schedule, from T0
    st.integers(1, 4000),  # its duration
    st.lists(st.integers(1, 3999), max_size=4, unique=True),  # later period starts
)


@settings(SETTINGS, max_examples=300)
@given(_WINDOW, _WINDOW, st.integers(-4000, 4000), st.integers(1, 9000), st.booleans())
def test_two_stacked_windows_equal_the_sweep(
    low: tuple[int, int, list[int]],
    high: tuple[int, int, list[int]],
    query: int,
    duration: int,
    upper_first: bool,
) -> None:
    """Two TxDefaults of different stack levels, each in force in one window anywhere
    around the query window: ``_cover_two`` gives the sweep's segments exactly."""
    installed = []
    for level, (offset, length, starts) in enumerate((low, high)):
        periods = [
            {"startPeriod": p, "limit": float(6 + level * 10 + i)}
            for i, p in enumerate([0, *sorted(starts)])
        ]
        begin = datetime.fromtimestamp(T0 + offset, UTC).isoformat().replace("+00:00", "Z")
        profile = _profile(
            level + 1,
            "TxDefaultProfile",
            "A",
            periods,
            duration=length,
            stackLevel=level,
            startSchedule=begin,
        )
        installed.append(InstalledProfile(1, profile))
    if upper_first:
        installed.reverse()
    chain = ProfileIndex(compiled(p) for p in installed).defaults_for(1)
    ctx = engine._Context(T0 + query, T0 + query + duration, False, engine._default_config())
    wins = engine._stack_windows(chain, ctx, T0)
    if len(wins) == 2:
        assert engine._cover_two(chain, ctx, wins, None) == engine._cover_sweep(
            chain, ctx, wins, None
        )


def test_the_engine_sets_every_field_of_a_composite_schedule() -> None:
    """``_schedule`` sets the fields through their slots (no ``__init__``): a field added to
    :class:`CompositeSchedule` must be set there too."""
    names = [f.name for f in dataclasses.fields(engine.CompositeSchedule)]
    assert names == ["evse_id", "start_epoch", "duration", "charging_rate_unit", "periods"]
    built = engine._schedule(1, T0, 60, ChargingRateUnit.W, ())
    assert built == engine.CompositeSchedule(1, T0, 60, ChargingRateUnit.W, ())
    assert hash(built) == hash(engine.CompositeSchedule(1, T0, 60, ChargingRateUnit.W, ()))

"""The warm path's precomputed per-occurrence data (issue 16, helper W1FAST3).

An EVSE's one-pass answer takes, from each cover segment, the limit rounded down once per
occurrence (``rounded_down``) and, where every period of the store has the same phases, a
profile's limits converted to the answer's unit once per occurrence
(``CompiledProfile.occurrence`` with a voltage, ``ProfileIndex.converts_once``). Both must
give exactly the floats the per-interval work gave: the properties below compare them
operation for operation, and the examples pin the cases that would go wrong (a tenth that
is not exact in binary, a cap converted with its own phases while fewer are in use).
"""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st
from strategies_engine import Case
from test_composite_fast import T0, _profile, general_periods

from ocpp_schedule import (
    ChargingRateUnit,
    InstalledProfile,
    ProfileStore,
    StationConfig,
    Transaction,
    composite_schedule,
)
from ocpp_schedule.engine import _composite as engine
from ocpp_schedule.engine._compile import ROUNDING_NOISE, compiled, rounded_down
from ocpp_schedule.engine._index import ProfileIndex, store_index

LIMITS = st.floats(0, 1e9, allow_nan=False)


def _round(x: float) -> float:
    """The one-pass merge's rounding of one limit (before this change, per interval)."""
    return (x * 10.0 + ROUNDING_NOISE) // 1.0 / 10.0


@given(st.lists(LIMITS, max_size=20))
def test_rounded_down_is_the_merges_rounding(limits: list[float]) -> None:
    assert rounded_down(limits) == [_round(x) for x in limits]


@given(st.integers(0, 10**10))
def test_a_tenth_stays_that_tenth(tenths: int) -> None:
    """``2.3 * 10`` is 22.999999999999996: the noise keeps 2.3 at 2.3, not 2.2."""
    assert rounded_down([tenths / 10]) == [tenths / 10]


def test_no_limit_stays_infinite() -> None:
    """A 2.1 period without a limit (infinity): ``inf // 1`` is nan, the column keeps inf."""
    assert rounded_down([math.inf, 2.3, math.inf]) == [math.inf, 2.3, math.inf]


def _cap(unit: str, limits: list[float], phases: int | None = None) -> InstalledProfile:
    periods: list[dict[str, object]] = [
        {"startPeriod": 600 * i, "limit": v} for i, v in enumerate(limits)
    ]
    if phases is not None:
        for p in periods:
            p["numberPhases"] = phases
    return InstalledProfile(0, _profile(2, "ChargingStationMaxProfile", unit, periods))


def _ev(unit: str, limit: float, phases: int | None = None) -> InstalledProfile:
    period: dict[str, object] = {"startPeriod": 0, "limit": limit}
    if phases is not None:
        period["numberPhases"] = phases
    return InstalledProfile(1, _profile(1, "TxDefaultProfile", unit, [period]))


def _case(store: ProfileStore, unit: str) -> Case:
    return Case(list(store), 1, T0, 1800, unit, None, StationConfig())


def test_a_converted_limit_just_below_a_tenth_is_answered_as_that_tenth() -> None:
    """Example: 4.1 A on one phase at 230 V is 942.9999999999999 W; the noise in the
    rounding (once per occurrence now) answers 943.0 W, not 942.9."""
    store = ProfileStore([_ev("A", 16.0, 1), _cap("A", [4.1, 8.2], 1)])
    assert store_index(store).converts_once(3)
    answer = composite_schedule(store, evse_id=1, start=T0, duration=1200, unit="W")
    assert [p.limit for p in answer.periods] == [943.0, 1886.0]
    assert answer.periods == general_periods(_case(store, "W"))


def test_a_tenth_that_is_not_exact_in_binary_is_answered_as_that_tenth() -> None:
    """Example: a cap of 2.3 A (its rounded column) and of 2.3 kW asked in W."""
    store = ProfileStore([_ev("A", 32.0), _cap("A", [2.3, 16.0, 4.6])])
    answer = composite_schedule(store, evse_id=1, start=T0, duration=1800)
    assert [p.limit for p in answer.periods] == [2.3, 16.0, 4.6]
    assert answer.periods == general_periods(_case(store, "A"))
    store = ProfileStore([_ev("W", 22000.0), _cap("W", [2300.3, 7000.0])])
    answer = composite_schedule(store, evse_id=1, start=T0, duration=1200, unit="W")
    assert [p.limit for p in answer.periods] == [2300.3, 7000.0]


@settings(max_examples=300)
@given(
    st.lists(LIMITS, min_size=1, max_size=6),
    st.lists(st.sampled_from([0, 1, 2, 3]), min_size=6, max_size=6),
    st.floats(1.0, 1e6, allow_nan=False),
    st.sampled_from(["A", "W"]),
    st.sampled_from([1, 2, 3]),
)
def test_a_converted_occurrence_holds_the_merges_conversion(
    limits: list[float], phases: list[int], voltage: float, unit: str, default_phases: int
) -> None:
    """Each converted segment is the per-interval conversion with the period's own phases
    (``limit / (voltage * n)`` to A, ``limit * voltage * n`` to W), and its rounded field
    the rounding of that."""
    periods = [
        {"startPeriod": 60 * i, "limit": v, **({"numberPhases": n} if n else {})}
        for i, (v, n) in enumerate(zip(limits, phases, strict=False))
    ]
    cp = compiled(InstalledProfile(0, _profile(5, "ChargingStationMaxProfile", unit, periods)))
    _, native = cp.occurrence(default_phases, T0)
    _, converted = cp.occurrence(default_phases, T0, voltage)
    for (s, e, v, u, n, src, r), (cs, ce, cv, cu, cn, csrc, cr) in zip(
        native, converted, strict=True
    ):
        assert (cs, ce, cn, csrc) == (s, e, n, src) and r == _round(v)
        assert cu is (not u)
        assert cv == (v / (voltage * n) if u else v * voltage * n)
        assert cr == _round(cv)


def test_converts_once_only_where_every_period_has_the_same_phases() -> None:
    uniform = store_index(ProfileStore([_ev("A", 16.0), _cap("W", [11000.0, 7000.0])]))
    assert uniform.converts_once(3)
    named = store_index(ProfileStore([_ev("A", 16.0, 1), _cap("W", [11000.0, 7000.0], 1)]))
    assert named.converts_once(3) and named.converts_once(1)
    mixed = store_index(ProfileStore([_ev("A", 16.0, 1), _cap("W", [11000.0, 7000.0])]))
    assert not mixed.converts_once(3)
    assert mixed.converts_once(1)  # the cap's unnamed phases are the default: 1 as well


def test_a_cap_is_converted_with_the_phases_in_use_not_its_own() -> None:
    """Example: a 3-phase W cap over a 1-phase EV stack. The cap counts at 1 phase (6900 W
    is 30 A on one phase, not 10 A on three): the store's phases are mixed, so the cap is
    converted per interval, and the answer equals the general path's."""
    store = ProfileStore([_ev("A", 32.0, 1), _cap("W", [6900.0, 2300.0], 3)])
    assert not store_index(store).converts_once(3)
    answer = composite_schedule(store, evse_id=1, start=T0, duration=1200)
    assert [(p.limit, p.number_phases) for p in answer.periods] == [(30.0, 1), (10.0, 1)]
    assert answer.periods == general_periods(_case(store, "A"))


def test_2_1_fields_or_generation_keep_the_conversion_per_interval() -> None:
    """2.1 per-phase fields and LocalGeneration are composed apart (V21-7, V21-8)."""
    v2x = _profile(
        3,
        "ChargingStationMaxProfile",
        "W",
        [{"startPeriod": 0, "limit": 11000.0, "limit_L2": 9000.0}],
    )
    store = ProfileStore([_ev("A", 16.0), InstalledProfile(0, v2x)])
    assert not store_index(store).converts_once(3)


def test_the_min_rate_flag_follows_the_ev_profiles() -> None:
    """``has_min_rate`` is False unless an EV-stack profile has ``minChargingRate``; the
    answer's rates are the same either way (a cap's rate never counts)."""
    plain = ProfileIndex(compiled(p) for p in [_ev("A", 16.0), _cap("A", [10.0])])
    assert not plain.has_min_rate
    rated = InstalledProfile(
        1,
        _profile(
            1, "TxDefaultProfile", "A", [{"startPeriod": 0, "limit": 16.0}], minChargingRate=6
        ),
    )
    index = ProfileIndex(compiled(p) for p in [rated, _cap("A", [10.0])])
    assert index.has_min_rate
    answer = composite_schedule(
        ProfileStore([rated, _cap("A", [10.0])]), evse_id=1, start=T0, duration=600
    )
    assert [p.min_charging_rate for p in answer.periods] == [6.0]


def test_the_one_pass_answer_equals_the_general_path_with_a_transaction() -> None:
    """W1's shape: a W cap over a TxProfile on a daily TxDefault, both paths the same."""
    day = _profile(
        2,
        "TxDefaultProfile",
        "A",
        [{"startPeriod": 0, "limit": 32.0}, {"startPeriod": 900, "limit": 16.0}],
    )
    tx_profile = _profile(
        3,
        "TxProfile",
        "A",
        [{"startPeriod": 0, "limit": 6.0}, {"startPeriod": 300, "limit": 23.0}],
        stackLevel=1,
    )
    store = ProfileStore(
        [
            InstalledProfile(1, day),
            InstalledProfile(1, tx_profile),
            _cap("W", [11000.0, 7000.0, 16100.0]),
        ]
    )
    tx = Transaction("t", 1, engine.from_epoch(T0 + 600))
    answer = composite_schedule(store, evse_id=1, start=T0, duration=1800, transaction=tx)
    case = Case(list(store), 1, T0, 1800, "A", tx, StationConfig())
    assert answer.periods == general_periods(case)
    assert [p.sources for p in answer.periods] == [p.sources for p in general_periods(case)]
    assert answer.charging_rate_unit is ChargingRateUnit.A

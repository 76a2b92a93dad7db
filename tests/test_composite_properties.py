"""Properties every composite schedule has, checked on random valid profile sets.

These do not compare with the oracle's answer: each states one rule of the
contract on its own (caps are never exceeded, the answer's shape, order
independence, splitting the window, unit round trips, ``limit_at``).
"""

from __future__ import annotations

import bisect
import itertools
from fractions import Fraction

from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st
from oracle import MAX_PURPOSES, Schedule, epoch, first_in_force
from strategies_engine import T0, Case, at, single_evse_cases, station_cases

from ocpp_schedule import (
    ChargingProfilePurpose,
    CompositeSchedule,
    ProfileStore,
    StationConfig,
    composite_schedule,
    limit_at,
)

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
EXTERNAL = ChargingProfilePurpose.CHARGING_STATION_EXTERNAL_CONSTRAINTS


def triples(schedule: CompositeSchedule) -> list[tuple[int, float, int]]:
    return [(p.start_period, p.limit, p.number_phases) for p in schedule.periods]


def compute(case: Case, **changes: object) -> CompositeSchedule:
    return composite_schedule(case.profiles, **case.kwargs(**changes))


def merged(periods: list[tuple[int, float, int]]) -> list[tuple[int, float, int]]:
    out: list[tuple[int, float, int]] = []
    for p in periods:
        if not out or out[-1][1:] != p[1:]:
            out.append(p)
    return out


# -- caps ---------------------------------------------------------------------------------


def cap_stacks(case: Case, evse_id: int) -> list[list[Schedule]]:
    """Each cap stack that applies to ``evse_id`` (G3), highest level first."""

    def stack(keep) -> list[Schedule]:
        chosen = [e for e in case.profiles if keep(e)]
        chosen.sort(key=lambda e: (e.profile.stack_level, e.profile.id), reverse=True)
        return [Schedule.of(e) for e in chosen]

    stacks = [
        stack(lambda e: e.purpose in MAX_PURPOSES),
        stack(lambda e: e.purpose is EXTERNAL and e.evse_id == 0),
    ]
    if evse_id > 0:
        stacks.append(stack(lambda e: e.purpose is EXTERNAL and e.evse_id == evse_id))
    return stacks


def check_caps(case: Case) -> None:
    """At every second the A composite is at most each governing cap, converted to A with
    the phases in use, and uses no more phases than the cap allows."""
    result = compute(case, unit="A")
    v = Fraction(repr(case.config.supply_voltage))
    tx = case.transactions.get(case.evse_id)
    anchor = epoch(tx.start) if tx is not None else case.start
    stacks = cap_stacks(case, case.evse_id)
    starts = [p.start_period for p in result.periods]
    for t in range(case.start, case.start + max(case.duration, 1)):
        period = result.periods[bisect.bisect_right(starts, t - case.start) - 1]
        for stack in stacks:
            cap = first_in_force(stack, t, anchor)
            if cap is None:
                continue
            unit, limit, phases = cap
            allowed = Fraction(repr(limit))
            if unit == "W":
                allowed /= v * period.number_phases
            assert Fraction(repr(period.limit)) <= allowed, (t - case.start, cap, period)
            if case.evse_id > 0:
                assert period.number_phases <= (phases or case.config.default_number_phases)


@SETTINGS
@given(single_evse_cases(max_duration=3600))
def test_single_evse_never_exceeds_a_cap(case: Case) -> None:
    check_caps(case)


@settings(SETTINGS, max_examples=100)
@given(station_cases(max_duration=3600))
def test_station_total_never_exceeds_a_station_cap(case: Case) -> None:
    check_caps(case)


# -- shape --------------------------------------------------------------------------------


def check_shape(case: Case) -> None:
    result = compute(case)
    periods = triples(result)
    assert result.evse_id == case.evse_id
    assert result.start_epoch == case.start
    assert result.duration == case.duration
    assert result.charging_rate_unit == (case.unit or "A")  # U2
    assert periods[0][0] == 0
    if case.duration == 0:
        assert len(periods) == 1  # R1
    for (a, la, na), (b, lb, nb) in itertools.pairwise(periods):
        assert a < b < case.duration  # ascending, inside the window
        assert (la, na) != (lb, nb)  # neighbours merged
    for _, limit, phases in periods:
        assert limit >= 0
        assert round(limit * 10) == round(limit * 10, 6)  # one decimal (U3)
        assert phases in (1, 2, 3)
    for p in result.periods:
        assert p.sources  # every period says what set it


@settings(SETTINGS, max_examples=150)
@given(single_evse_cases())
def test_single_evse_answer_shape(case: Case) -> None:
    check_shape(case)


@settings(SETTINGS, max_examples=100)
@given(station_cases())
def test_station_answer_shape(case: Case) -> None:
    check_shape(case)


# -- order --------------------------------------------------------------------------------


@SETTINGS
@given(st.one_of(single_evse_cases(), station_cases()), st.randoms(use_true_random=False))
def test_profile_order_does_not_matter(case: Case, rnd) -> None:
    expected = triples(compute(case))
    shuffled = list(case.profiles)
    rnd.shuffle(shuffled)
    assert triples(composite_schedule(shuffled, **case.kwargs())) == expected
    assert triples(composite_schedule(ProfileStore(shuffled), **case.kwargs())) == expected
    assert triples(composite_schedule(iter(shuffled), **case.kwargs())) == expected


# -- splitting the window -----------------------------------------------------------------


@SETTINGS
@given(single_evse_cases(with_transaction=True), st.data())
def test_window_split_and_joined_is_the_same(case: Case, data) -> None:
    """[a, c) equals [a, b) followed by [b, c), merged at b. A transaction runs on the
    queried EVSE, so no schedule is anchored at the query start."""
    assume(case.duration >= 2)
    cut = data.draw(st.integers(1, case.duration - 1), label="cut")
    whole = triples(compute(case))
    left = triples(compute(case, duration=cut))
    right = triples(compute(case, start=case.start + cut, duration=case.duration - cut))
    joined = merged(left + [(s + cut, limit, n) for s, limit, n in right])
    assert joined == whole


# -- units --------------------------------------------------------------------------------


@SETTINGS
@given(single_evse_cases(max_duration=3600))
def test_amps_and_watts_agree(case: Case) -> None:
    """A -> W -> A: the W composite divided by V x phases stays within 0.1 of the A one,
    instant by instant, with the same phases (the default configuration, whose 48 A and
    33 120 W default limits are the same power)."""
    config = StationConfig(evse_ids=case.config.evse_ids)
    amps = compute(case, unit="A", config=config)
    watts = compute(case, unit="W", config=config)
    instants = sorted({p.start_period for p in amps.periods + watts.periods})
    for offset in instants:
        a = amps.period_at(case.start + offset)
        w = watts.period_at(case.start + offset)
        assert a.number_phases == w.number_phases
        back = w.limit / (230.0 * w.number_phases)
        note(f"at {offset}: {a.limit} A, {w.limit} W = {back} A")
        assert abs(back - a.limit) < 0.1 + 1e-9


# -- limit_at -----------------------------------------------------------------------------


@settings(SETTINGS, max_examples=150)
@given(st.one_of(single_evse_cases(), station_cases()), st.data())
def test_limit_at_is_the_period_containing_the_instant(case: Case, data) -> None:
    result = compute(case)
    last = case.start + max(case.duration, 1) - 1
    t = data.draw(st.integers(case.start, last), label="t")
    offsets = [p.start_period for p in result.periods]
    containing = result.periods[bisect.bisect_right(offsets, t - case.start) - 1]
    assert result.limit_at(t) == containing.limit
    assert result.limit_at(at(t)) == containing.limit
    assert result.period_at(t) == containing


@SETTINGS
@given(single_evse_cases(with_transaction=True), st.data())
def test_one_instant_agrees_with_the_window(case: Case, data) -> None:
    """``limit_at`` (one instant) and ``duration`` 0 answer what the window says at t."""
    result = compute(case)
    t = data.draw(st.integers(case.start, case.start + max(case.duration, 1) - 1), label="t")
    period = result.period_at(t)
    single = limit_at(
        case.profiles,
        evse_id=case.evse_id,
        instant=t,
        unit=case.unit,
        transaction=case.transaction,
        config=case.config,
    )
    assert (single.limit, single.number_phases) == (period.limit, period.number_phases)
    instant = triples(compute(case, start=t, duration=0))
    assert instant == [(0, period.limit, period.number_phases)]


@settings(SETTINGS, max_examples=150)
@given(st.one_of(single_evse_cases(), station_cases()))
def test_duration_zero_is_the_first_period(case: Case) -> None:
    """R1, whatever the profiles (Relative ones anchor at the same query start)."""
    first = compute(case).periods[0]
    assert triples(compute(case, duration=0)) == [(0, first.limit, first.number_phases)]


def test_t0_is_a_monday_noon() -> None:
    assert at(T0).isoformat() == "2024-05-06T12:00:00+00:00"
    assert at(T0).weekday() == 0

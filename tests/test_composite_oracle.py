"""The engine's composite schedule equals the brute-force oracle's (tests/oracle.py).

The oracle evaluates the contract's rules at every second of the window; the
strategies (tests/strategies_engine.py) build random valid profile sets whose
boundaries often coincide with each other, the window and the transaction.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, note, settings
from oracle import oracle_composite
from strategies_engine import Case, single_evse_cases, station_cases

from ocpp_schedule import composite_schedule

SETTINGS = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def engine_periods(case: Case) -> list[tuple[int, float, int]]:
    schedule = composite_schedule(case.profiles, **case.kwargs())
    return [(p.start_period, p.limit, p.number_phases) for p in schedule.periods]


def check(case: Case) -> None:
    expected = oracle_composite(case.profiles, **case.kwargs())
    got = engine_periods(case)
    note(f"oracle: {expected}")
    note(f"engine: {got}")
    assert got == expected


@SETTINGS
@given(single_evse_cases())
def test_single_evse_matches_oracle(case: Case) -> None:
    check(case)


@SETTINGS
@given(station_cases())
def test_station_total_matches_oracle(case: Case) -> None:
    check(case)


@settings(SETTINGS, max_examples=150)
@given(single_evse_cases(with_transaction=True))
def test_single_evse_with_transaction_matches_oracle(case: Case) -> None:
    """Relative schedules and TxProfiles anchored at a transaction on the queried EVSE."""
    check(case)

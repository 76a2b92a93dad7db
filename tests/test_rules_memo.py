"""The station rules' memo of passed field checks (issue 13) changes no answer.

``station._rules._check_fields_once`` skips the profile-field checks for a profile equal (by
value) to one that passed under the same version, configuration and ``local``; a rejection
is never remembered. Pinned here against the rules with every check run afresh
(``_check_profile_fields`` in its place), on random payloads of every version, on equal
profiles whose numbers differ in type (``16`` and ``16.0``), and for its bound.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import VERSIONS, set_charging_profile

from ocpp_schedule import (
    OcppScheduleError,
    OcppVersion,
    ProfileStore,
    SetChargingProfileResult,
    StationConfig,
    StationState,
    Transaction,
    install,
    install_local,
    read_set_charging_profile,
)
from ocpp_schedule.station import _rules
from ocpp_schedule.wire._models import SetChargingProfileRequest
from ocpp_schedule.wire._timestamps import from_epoch

CONFIGS = (
    StationConfig(),
    StationConfig(limit_decimal_places=0, charging_schedule_max_periods=2),
    StationConfig(
        charge_profile_max_stack_level=3,
        supports_randomized_delay=True,
        supports_use_local_time=True,
        supports_limit_at_soc=True,
    ),
)


@contextmanager
def fresh() -> Iterator[None]:
    """The rules with every field check run afresh (no memo)."""
    with patch.object(_rules, "_check_fields_once", _rules._check_profile_fields):
        yield


def _state(version: str, config: StationConfig) -> StationState:
    start = from_epoch(1_700_000_000)
    transactions = tuple(Transaction(str(e), e, start) for e in range(1, 4))
    return StationState(config, OcppVersion(version), transactions)


def _answer(
    request: SetChargingProfileRequest, state: StationState, local: bool
) -> tuple[ProfileStore, SetChargingProfileResult]:
    entry = install_local if local else install
    return entry(ProfileStore(), request, state)


def _read(payload: dict[str, Any], version: str) -> SetChargingProfileRequest | None:
    try:
        return read_set_charging_profile(payload, version)
    except OcppScheduleError:
        return None


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(VERSIONS).flatmap(lambda v: st.tuples(st.just(v), set_charging_profile(v))),
    st.sampled_from(CONFIGS),
    st.booleans(),
)
def test_property_memoised_rules_answer_as_fresh_ones(
    drawn: tuple[str, dict[str, Any]], config: StationConfig, local: bool
) -> None:
    """First call, repeated call, and an equal request read again: all as the fresh rules."""
    version, payload = drawn
    request = _read(payload, version)
    again = _read(payload, version)
    if request is None or again is None:
        return
    state = _state(version, config)
    with fresh():
        expected = _answer(request, state, local)
    _rules.clear_rule_caches()
    assert _answer(request, state, local) == expected
    assert _answer(request, state, local) == expected  # from the memo when it passed
    assert _answer(again, state, local) == expected  # an equal, distinct profile
    # Another version, configuration or ``local`` is not answered from this one's memo.
    for other_version in VERSIONS:
        for other in CONFIGS:
            for how in (local, not local):
                other_state = _state(other_version, other)
                with fresh():
                    expected_other = _answer(request, other_state, how)
                assert _answer(request, other_state, how) == expected_other


def _with_numbers(payload: dict[str, Any], number: Any) -> dict[str, Any]:
    """A 2.0.1 TxDefaultProfile whose every period limit is ``number``."""
    return {
        "evseId": 1,
        "chargingProfile": {
            "id": 7,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": [
                {
                    "id": 1,
                    "startSchedule": "2024-01-01T00:00:00Z",
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [
                        {"startPeriod": 0, "limit": number},
                        {"startPeriod": 60, "limit": number},
                    ],
                    **payload,
                }
            ],
        },
    }


@pytest.mark.parametrize(
    ("first", "second"),
    [(16, 16.0), (16.0, 16), (3_000_000_000, 3_000_000_000.0), (3_000_000_000.0, 3_000_000_000)],
)
def test_equal_profiles_of_other_number_types_answer_as_fresh(first: Any, second: Any) -> None:
    """``16 == 16.0``: the profiles are equal, so one can be answered from the other's memo.

    A pass is the same for both; a rejection (a limit above the bound) is never remembered,
    so each gets its own message (``3000000000`` vs ``3000000000.0``).
    """
    state = _state("2.0.1", StationConfig())
    a = read_set_charging_profile(_with_numbers({}, first), "2.0.1")
    b = read_set_charging_profile(_with_numbers({}, second), "2.0.1")
    assert a == b
    with fresh():
        expected_a = _answer(a, state, False)
        expected_b = _answer(b, state, False)
    _rules.clear_rule_caches()
    assert _answer(a, state, False) == expected_a
    assert _answer(b, state, False) == expected_b
    if not expected_a[1].accepted:
        assert expected_a[1].message != expected_b[1].message


def test_a_rejected_profile_is_not_remembered() -> None:
    state = _state("2.0.1", StationConfig(limit_decimal_places=0))
    request = read_set_charging_profile(_with_numbers({}, 16.5), "2.0.1")
    _rules.clear_rule_caches()
    for _ in range(2):
        _, result = _answer(request, state, False)
        assert not result.accepted and result.reason is _rules.RejectionReason.TOO_MANY_DECIMALS
    assert _rules.memo_size() == 0


def _not_plain(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload as 2.1 with an explicit operationMode on every period: not plain, so its
    field checks go through the memo (plain ones are checked without it, issue 16)."""
    for period in payload["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"]:
        period["operationMode"] = "ChargingOnly"
    return payload


def test_the_memo_is_bounded() -> None:
    """Never more than MEMO_FIELD_CHECKS profiles (least recently used out)."""
    state = _state("2.1", StationConfig())
    _rules.clear_rule_caches()
    with patch.object(_rules, "MEMO_FIELD_CHECKS", 3):
        for limit in range(10):
            payload = _not_plain(_with_numbers({}, float(limit)))
            request = read_set_charging_profile(payload, "2.1")
            assert _answer(request, state, False)[1].accepted
            assert _rules.memo_size() <= 3
    assert _rules.memo_size() == 3
    _rules.clear_rule_caches()
    assert _rules.memo_size() == 0


def test_a_profile_that_cannot_be_hashed_is_checked_every_time() -> None:
    """A validated profile is always hashable (customData is read as immutable JSON); one
    copied with an unhashable value skips the memo, and the answer is unchanged."""
    request = read_set_charging_profile(_with_numbers({}, 16.0), "2.0.1")
    profile = request.charging_profile.model_copy(update={"custom_data": {"list": [1, 2]}})
    request = request.model_copy(update={"charging_profile": profile})
    with pytest.raises(TypeError):
        hash(profile)
    state = _state("2.0.1", StationConfig())
    with fresh():
        expected = _answer(request, state, False)
    _rules.clear_rule_caches()
    assert _answer(request, state, False) == expected
    assert _answer(request, state, False) == expected
    assert _rules.memo_size() == 0


def test_a_profile_passed_locally_is_checked_again_from_the_csms() -> None:
    """``local`` is part of the key: under 1.6 a limit of 16.25 passes when the station sets
    it itself and is rejected from the CSMS (1.6 limits have one decimal)."""
    request = read_set_charging_profile(_with_numbers({}, 16.25), "2.0.1")
    state = _state("1.6", StationConfig())
    _rules.clear_rule_caches()
    assert _answer(request, state, True)[1].accepted
    _, result = _answer(request, state, False)
    assert result.reason is _rules.RejectionReason.TOO_MANY_DECIMALS

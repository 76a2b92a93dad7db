"""The cold path's fast reads and checks (issue 16) give exactly what the full path gives.

A SetChargingProfile payload goes through the reader (``wire._payloads``), the station
rules (``station._rules``) and the compiler (``engine._compile``). Each has a fast path for
plain periods (``startPeriod``, ``limit`` and the phase keys, nothing of 2.1) and falls
back to the full checks for anything else. Pinned here against the full path (the fast
path switched off) on hostile periods: the same model (every period's fields, fields set,
equality, hash and dump) or the same error (type, message, field, rule); the same
station answer; the same compiled limits or the same error.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import VERSIONS, set_charging_profile

from ocpp_schedule import (
    OcppScheduleError,
    OcppVersion,
    ProfileStore,
    StationConfig,
    StationState,
    Transaction,
    install,
    read_set_charging_profile,
)
from ocpp_schedule.engine import _compile
from ocpp_schedule.errors import InvalidProfileError
from ocpp_schedule.station import _rules
from ocpp_schedule.wire import _payloads
from ocpp_schedule.wire._models import MAX_LIMIT, ChargingSchedulePeriod, plain_periods
from ocpp_schedule.wire._timestamps import from_epoch

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))

_NUMBERS = st.one_of(
    st.integers(-3, 2_000_000_000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        [
            0,
            16,
            16.0,
            0.0,
            -0.0,
            6.25,
            6.2,
            1e9,
            1e9 + 0.5,
            10**308 - 1,
            10**308,
            -(10**308),
            2**1100,
        ]
    ),
    st.decimals(places=2, min_value=0, max_value=100).map(float),
)
_ODD = st.one_of(st.booleans(), st.none(), st.text(max_size=1), st.just([1]))
_PHASES = st.one_of(st.integers(-1, 4), st.booleans(), st.none(), st.just(1.0))
_EXTRA_KEYS = ("customData", "operationMode", "limit_L2", "setpoint", "bogus", "evseSleep")


_PLAIN_LIMITS = st.one_of(
    st.integers(0, 100),
    st.sampled_from([6.0, 16.0, 32.0, 0.0, 6.5, 10.1, 1e9, 1e9 + 0.5, 6.25, -1.0, math.nan]),
)


@st.composite
def _periods(draw: st.DrawFn, version: str = "2.0.1") -> list[Any]:
    """Plain periods (some with phase keys), and half the time one defect in one of them:
    an odd value or type, a missing, extra or 2.1 key, a whole period that is no object."""
    gaps = draw(st.lists(st.integers(0, 1800), min_size=1, max_size=6))
    periods: list[Any] = []
    for i in range(len(gaps)):
        period: dict[str, Any] = {"startPeriod": sum(gaps[:i]), "limit": draw(_PLAIN_LIMITS)}
        for key in ("numberPhases",) if version == "1.6" else ("numberPhases", "phaseToUse"):
            if draw(st.integers(0, 3)) == 0:
                period[key] = draw(st.integers(0, 4))
        periods.append(period)
    if draw(st.booleans()):
        return periods
    at = draw(st.integers(0, len(periods) - 1))
    defect = draw(st.integers(0, 4))
    if defect == 0:
        periods[at] = draw(_ODD)
    elif defect == 1:
        key = draw(st.sampled_from(["startPeriod", "limit", "numberPhases", "phaseToUse"]))
        periods[at][key] = draw(st.one_of(st.booleans(), _ODD, _NUMBERS, _PHASES))
    elif defect == 2:
        periods[at].pop(draw(st.sampled_from(["startPeriod", "limit"])))
    elif defect == 3:
        key = draw(st.sampled_from(_EXTRA_KEYS))
        periods[at][key] = (
            {"vendorId": "v"} if key == "customData" else draw(st.sampled_from([1, "x", "Idle"]))
        )
    else:
        periods[at]["limit"] = draw(_NUMBERS)
    return periods


def _payload(version: str, periods: list[Any], kind: int) -> dict[str, Any]:
    schedule: dict[str, Any] = {"chargingRateUnit": "A", "chargingSchedulePeriod": periods}
    profile: dict[str, Any] = {
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Relative",
    }
    if kind == 1:
        profile["chargingProfilePurpose"] = "TxProfile"
        profile["transactionId"] = 1 if version == "1.6" else "1"
    if version == "1.6":
        profile["chargingProfileId"] = 7
        profile["chargingSchedule"] = schedule
        return {"connectorId": 1, "csChargingProfiles": profile}
    profile["id"] = 7
    profile["chargingSchedule"] = [dict(schedule, id=1)]
    return {"evseId": 1, "chargingProfile": profile}


@contextmanager
def _full_path() -> Iterator[None]:
    """Every fast path switched off: the reader, the rules and the field-check memo."""
    with (
        patch.object(_payloads, "_plain_rows", lambda periods, version: None),
        patch.object(_rules, "_plain_periods_pass", lambda periods, state, local: False),
        patch.object(_rules, "_check_fields_once", _rules._check_profile_fields),
    ):
        yield


def _read(payload: Any, version: str) -> tuple[Any, ...]:
    """What reading gives, comparable: the request and its periods' fields sets, or the error."""
    try:
        request = read_set_charging_profile(payload, version)
    except OcppScheduleError as exc:
        return ("error", type(exc), str(exc), exc.field, exc.rule)
    periods = [
        p for s in request.charging_profile.charging_schedule for p in s.charging_schedule_period
    ]
    return (
        "ok",
        request,
        [p.__pydantic_fields_set__ for p in periods],
        [list(p.__dict__.items()) for p in periods],
        [type(p.limit) for p in periods],
        request.model_dump(mode="json"),
    )


@SETTINGS
@given(st.data(), st.sampled_from(VERSIONS), st.integers(0, 1))
def test_the_fast_read_is_the_full_read(data: st.DataObject, version: str, kind: int) -> None:
    periods = data.draw(_periods(version))
    payload = _payload(version, periods, kind)
    fast = _read(payload, version)
    with _full_path():
        full = _read(payload, version)
    assert fast == full


@SETTINGS
@given(st.sampled_from(VERSIONS).flatmap(lambda v: st.tuples(st.just(v), set_charging_profile(v))))
def test_the_fast_read_is_the_full_read_on_every_shape(case: tuple[str, Any]) -> None:
    """Also on the schema strategies' payloads (2.1 values, customData, several schedules)."""
    version, payload = case
    fast = _read(payload, version)
    with _full_path():
        full = _read(payload, version)
    assert fast == full


_INTS = st.integers(-(2**40), 2**40)
_LIMITS = st.one_of(
    st.integers(-(10**15), 10**15), st.floats(allow_nan=False), st.sampled_from([-0.0, 0.0, 16])
)
_OPTIONAL_INTS = st.one_of(st.none(), st.integers(-5, 5))


@SETTINGS
@given(_INTS, _LIMITS, _OPTIONAL_INTS, _OPTIONAL_INTS)
def test_a_plain_period_is_the_validated_one(
    start: int, limit: float, phases: int | None, use: int | None
) -> None:
    data: dict[str, Any] = {"startPeriod": start, "limit": limit}
    if phases is not None:
        data["numberPhases"] = phases
    if use is not None:
        data["phaseToUse"] = use
    (built,) = plain_periods([(start, limit, phases, use)])
    validated = ChargingSchedulePeriod.model_validate(data)
    assert built == validated and hash(built) == hash(validated)
    assert list(built.__dict__.items()) == list(validated.__dict__.items())
    assert type(built.limit) is type(validated.limit)
    assert math.copysign(1, built.limit) == math.copysign(1, validated.limit)
    assert built.__pydantic_fields_set__ == validated.__pydantic_fields_set__
    assert built.__pydantic_extra__ == validated.__pydantic_extra__
    assert built.__pydantic_private__ == validated.__pydantic_private__
    assert built.model_dump() == validated.model_dump()
    assert built.model_dump_json() == validated.model_dump_json()
    assert repr(built) == repr(validated)
    assert built.model_copy(update={"limit": 1}) == validated.model_copy(update={"limit": 1})


_CONFIGS = (
    StationConfig(),
    StationConfig(limit_decimal_places=0),
    StationConfig(limit_decimal_places=2, ac_phase_switching_supported=True),
)


def _answer(payload: Any, version: str, config: StationConfig, local: bool) -> tuple[Any, ...]:
    try:
        request = read_set_charging_profile(payload, version)
    except OcppScheduleError as exc:
        return ("unread", str(exc))
    start = from_epoch(1_700_000_000)
    state = StationState(config, OcppVersion(version), (Transaction("1", 1, start),))
    if local:
        _rules.clear_rule_caches()
        store, result = _rules.install_local(ProfileStore(), request, state)
    else:
        store, result = install(ProfileStore(), request, state)
    return (result.accepted, result.reason, result.rule, result.message, store)


@SETTINGS
@given(
    st.data(),
    st.sampled_from(VERSIONS),
    st.integers(0, 1),
    st.sampled_from(_CONFIGS),
    st.booleans(),
)
def test_the_fast_rules_are_the_full_rules(
    data: st.DataObject, version: str, kind: int, config: StationConfig, local: bool
) -> None:
    periods = data.draw(_periods(version))
    payload = _payload(version, periods, kind)
    _rules.clear_rule_caches()
    fast = _answer(payload, version, config, local)
    with _full_path():
        full = _answer(payload, version, config, local)
    assert fast == full


@SETTINGS
@given(
    st.sampled_from(VERSIONS).flatmap(lambda v: st.tuples(st.just(v), set_charging_profile(v))),
    st.sampled_from(_CONFIGS),
)
def test_the_fast_rules_are_the_full_rules_on_every_shape(
    case: tuple[str, Any], config: StationConfig
) -> None:
    version, payload = case
    _rules.clear_rule_caches()
    fast = _answer(payload, version, config, False)
    with _full_path():
        full = _answer(payload, version, config, False)
    assert fast == full


def _reference_limits(pid: int, periods: Any) -> tuple[float, ...]:
    """The compiler's limit checks before the fast path (the reference)."""
    limits = tuple(_compile._period_limit(p.limit, p.operation_mode) for p in periods)
    for value in limits:
        if value < 0 or math.isnan(value) or value == -math.inf:
            raise _compile._invalid(
                pid, f"limit {value} is negative or not a number", "limit", "limit"
            )
    for p in periods:
        if p.limit is not None and math.isinf(p.limit):
            raise _compile._invalid(pid, "limit is not finite", "limit", "limit")
        if p.limit is not None and p.limit > MAX_LIMIT:
            raise _compile._invalid(
                pid, f"limit {p.limit} is above {MAX_LIMIT:g}", "limit", "limit"
            )
    return limits


def _limits_or_error(fn: Any, periods: Any) -> Any:
    try:
        return [(type(x), x) for x in fn(3, periods)]
    except InvalidProfileError as exc:
        return (str(exc), exc.field, exc.rule)


@SETTINGS
@given(
    st.lists(
        st.fixed_dictionaries(
            {"startPeriod": st.just(0)},
            optional={
                "limit": st.one_of(_LIMITS, st.floats(), st.sampled_from([1e9, 1e9 + 1, 2e9])),
                "operationMode": st.sampled_from(["Idle", "ChargingOnly", "CentralSetpoint"]),
            },
        ),
        min_size=1,
        max_size=5,
    )
)
def test_the_compiled_limits_are_the_reference_ones(raw: list[dict[str, Any]]) -> None:
    periods = [ChargingSchedulePeriod.model_validate(p) for p in raw]
    fast = _limits_or_error(
        lambda pid, ps: _compile._limits(pid, ps, [p.limit for p in ps]), periods
    )
    assert fast == _limits_or_error(_reference_limits, periods)


def test_a_plain_profile_is_checked_without_the_memo() -> None:
    """Plain periods are checked faster than the profile is hashed: no memo entry (issue 16);
    a profile with a 2.1 value still goes through the memo."""
    start = from_epoch(1_700_000_000)
    state = StationState(StationConfig(), OcppVersion("2.1"), (Transaction("1", 1, start),))
    plain = _payload("2.1", [{"startPeriod": 0, "limit": 16.0}], 0)
    other = _payload("2.1", [{"startPeriod": 0, "limit": 16.0, "operationMode": "ChargingOnly"}], 0)
    _rules.clear_rule_caches()
    assert install(ProfileStore(), read_set_charging_profile(plain, "2.1"), state)[1].accepted
    assert _rules.memo_size() == 0
    assert install(ProfileStore(), read_set_charging_profile(other, "2.1"), state)[1].accepted
    assert _rules.memo_size() == 1

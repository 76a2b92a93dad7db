"""The cold path on rows (issue 16, helper COLD16B): schedules built without validation, and
period columns read once and shared by the station rules and the compiler.

The reader builds a plain schedule's model directly (``wire._payloads._plain_schedule``) and
gives it its period columns (``wire._models.period_columns``) from the rows it read; the
rules and the compiler read those columns instead of every period model. Pinned here
against the full path (the reader's fast path switched off, the columns read afresh from
the models): the same models (field values in order, fields set, extra, private, equality,
hash, dump, repr) or the same error (type, message, field, rule); the same columns; the same
station answer and store; the same composite or compile error; on hostile schedule fields
and on the schema strategies' payloads of every version.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from strategies import VERSIONS, set_charging_profile

from ocpp_schedule import (
    OcppScheduleError,
    OcppVersion,
    ProfileStore,
    StationConfig,
    StationState,
    Transaction,
    composite_schedule,
    install,
    read_set_charging_profile,
)
from ocpp_schedule.engine._compile import CompiledProfile, compile_profile
from ocpp_schedule.station import _rules
from ocpp_schedule.station._store import phases_to_use
from ocpp_schedule.wire import _payloads
from ocpp_schedule.wire._models import (
    V21_PERIOD_VALUES,
    ChargingSchedule,
    ChargingSchedulePeriod,
    built_model,
    period_columns,
)
from ocpp_schedule.wire._payloads import read_charging_schedule

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
T0 = datetime(2024, 1, 1, tzinfo=UTC)
COLUMNS_KEY = "_period_columns"


@contextmanager
def _full_path() -> Iterator[None]:
    """The reader's fast path off (every schedule validated by pydantic), the rules' checks
    on columns and their memo off (every period checked on its own): the columns are then
    read from the period models on first use (by the compiler)."""
    with (
        patch.object(_payloads, "_plain_rows", lambda periods, version: None),
        patch.object(_rules, "_plain_periods_pass", lambda sched, state, local: False),
        patch.object(_rules, "_check_fields_once", _rules._check_profile_fields),
    ):
        yield


def _both_paths(fn: Any, version: str, payload: Any, *more: Any) -> tuple[Any, Any]:
    """``fn(payload, version, *more)`` with the fast path, then with the full path."""
    fast = fn(payload, version, *more)
    with _full_path():
        return fast, fn(payload, version, *more)


def _fingerprint(model: Any) -> Any:
    """Everything a model is made of, nested models included (not the kept columns)."""
    if isinstance(model, tuple):
        return tuple(_fingerprint(m) for m in model)
    if not isinstance(model, BaseModel):
        return (type(model), model)
    fields = type(model).model_fields
    values = [(k, _fingerprint(v)) for k, v in model.__dict__.items() if k in fields]
    extra = [k for k in model.__dict__ if k not in fields and k != COLUMNS_KEY]
    return (
        type(model),
        values,
        extra,
        model.__pydantic_fields_set__,
        model.__pydantic_extra__,
        model.__pydantic_private__,
    )


def _columns_reference(schedule: ChargingSchedule) -> tuple[Any, ...]:
    """The columns by definition, read period by period."""
    periods = schedule.charging_schedule_period
    not_plain = ("operation_mode", "evse_sleep", "phase_to_use", *V21_PERIOD_VALUES)
    v2x = ("operation_mode", *V21_PERIOD_VALUES)
    return (
        tuple(p.start_period for p in periods),
        tuple((type(p.limit), p.limit) for p in periods),
        tuple(p.number_phases for p in periods),
        all(getattr(p, name) is None for p in periods for name in not_plain),
        any(getattr(p, name) is not None for p in periods for name in v2x),
    )


def _columns(schedule: ChargingSchedule) -> tuple[Any, ...]:
    periods = schedule.charging_schedule_period  # built first if held as rows (LAZY16)
    c = period_columns(schedule)
    assert c.periods is periods
    return (c.starts, tuple((type(x), x) for x in c.limits), c.phases, c.plain, c.v2x)


def _read(payload: Any, version: str) -> tuple[Any, ...]:
    """What reading gives, comparable: the request's models, dumps and columns, or the error."""
    try:
        request = read_set_charging_profile(payload, version)
    except OcppScheduleError as exc:
        return ("error", type(exc), str(exc), exc.field, exc.rule)
    schedules = request.charging_profile.charging_schedule
    for schedule in schedules:  # the kept columns are the columns by definition
        assert _columns(schedule) == _columns_reference(schedule)
    assert phases_to_use(request.charging_profile) == {
        p.phase_to_use
        for s in schedules
        for p in s.charging_schedule_period
        if p.phase_to_use is not None
    }
    return (
        "ok",
        request,
        hash(request),
        _fingerprint(request),
        request.model_dump(mode="json"),
        request.model_dump_json(),
        repr(request),
        [_columns(s) for s in schedules],
    )


_ODD = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 2),
    st.sampled_from([2**1100, 10**308, 1.5, 6.25, float("nan"), -0.0, "A", "a", "W ", [1], {}]),
    st.sampled_from(
        [
            "2024-01-01T00:00:00Z",
            "2024-01-01T00:00:00",
            "2024-01-01T00:00:00.123+02:00",
            "2024-13-01T00:00:00Z",
            "yesterday",
        ]
    ),
)
_SCHEDULE_KEYS = (
    "id",
    "startSchedule",
    "duration",
    "chargingRateUnit",
    "minChargingRate",
    "customData",
    "salesTariff",
    "bogus",
)


_LIMITS = st.sampled_from([6, 16.0, 0, 0.0, 6.5, 6.25, 10.1, 1e9, 1e9 + 1, 2**40, -1, -0.0])


@st.composite
def _plain_payloads(draw: st.DrawFn, version: str) -> dict[str, Any]:
    """A plain payload of ``version``, half the time with one schedule field odd, added or
    dropped (types the model path refuses or reads otherwise, keys only 2.x has, ...)."""
    periods: list[dict[str, Any]] = []
    start = 0
    for _ in range(draw(st.integers(0, 4))):  # none: the rules reject it
        period: dict[str, Any] = {"startPeriod": start, "limit": draw(_LIMITS)}
        if draw(st.integers(0, 3)) == 0:
            period["numberPhases"] = draw(st.integers(0, 4))
        if version != "1.6" and draw(st.integers(0, 5)) == 0:
            period["phaseToUse"] = draw(st.integers(0, 4))
        periods.append(period)
        start += draw(st.integers(1, 3600))
    schedule: dict[str, Any] = {"chargingRateUnit": draw(st.sampled_from(["A", "W"]))}
    kind = draw(st.sampled_from(["Absolute", "Relative", "Recurring"]))
    if kind != "Relative":
        schedule["startSchedule"] = "2024-01-01T00:00:00Z"
    if draw(st.booleans()):
        schedule["duration"] = draw(st.integers(0, 86400))
    if draw(st.booleans()):
        schedule["minChargingRate"] = draw(st.sampled_from([0, 6, 6.0, 1.5]))
    schedule["chargingSchedulePeriod"] = periods
    if draw(st.booleans()):
        key = draw(st.sampled_from(_SCHEDULE_KEYS))
        if draw(st.booleans()) and key in schedule:
            del schedule[key]
        else:
            schedule[key] = draw(_ODD)
    profile: dict[str, Any] = {
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": kind,
    }
    if kind == "Recurring":
        profile["recurrencyKind"] = "Daily"
    if version == "1.6":
        profile["chargingProfileId"] = 7
        profile["chargingSchedule"] = schedule
        return {"connectorId": 1, "csChargingProfiles": profile}
    schedule.setdefault("id", 1)
    profile["id"] = 7
    profile["chargingSchedule"] = [schedule]
    return {"evseId": 1, "chargingProfile": profile}


_ANY_PAYLOAD = st.sampled_from(VERSIONS).flatmap(
    lambda v: st.tuples(st.just(v), st.one_of(_plain_payloads(v), set_charging_profile(v)))
)


@SETTINGS
@given(_ANY_PAYLOAD)
def test_the_fast_read_is_the_full_read(case: tuple[str, Any]) -> None:
    """Same models, dumps and columns, or the same error, with and without the fast path."""
    fast, full = _both_paths(_read, *case)
    assert fast == full


def test_the_fast_path_is_taken() -> None:
    """A plain schedule is built by the reader, its columns given from the rows it read."""
    periods = [
        {"startPeriod": 0, "limit": 16},
        {"startPeriod": 60, "limit": 8.5, "numberPhases": 1},
    ]
    payload = _request_payload("1.6", periods, "Absolute", startSchedule="2024-01-01T00:00:00Z")
    request = read_set_charging_profile(payload, "1.6")
    (schedule,) = request.charging_profile.charging_schedule
    kept = schedule.__dict__[COLUMNS_KEY]
    assert kept.starts == (0, 60) and kept.limits == (16, 8.5) and kept.phases == (None, 1)
    assert kept.plain and not kept.v2x
    assert type(kept.limits[0]) is int


def _answer(payload: Any, version: str, config: StationConfig) -> tuple[Any, ...]:
    """The station's answer and store, then the EVSE's composite (or the engine's error)."""
    try:
        request = read_set_charging_profile(payload, version)
    except OcppScheduleError as exc:
        return ("unread", str(exc))
    state = StationState(config, OcppVersion(version), (Transaction("1", 1, T0),))
    _rules.clear_rule_caches()
    store, result = install(ProfileStore(), request, state)
    answer: tuple[Any, ...] = (result.accepted, result.reason, result.rule, result.message, store)
    try:
        composite = composite_schedule(
            store, evse_id=1, start=T0, duration=172800, transaction=state.transactions[0]
        )
    except OcppScheduleError as exc:
        return (*answer, "composite", type(exc), str(exc), exc.field, exc.rule)
    fields = [f for f in CompiledProfile.__slots__ if not f.startswith("_")]
    compiled = [[(f, getattr(c, f)) for f in fields] for c in (compile_profile(e) for e in store)]
    return (*answer, composite.to_payload(version), composite.explain(), compiled)


_CONFIGS = (
    StationConfig(),
    StationConfig(limit_decimal_places=0),
    StationConfig(limit_decimal_places=2, ac_phase_switching_supported=True),
)


def _request_payload(
    version: str, periods: list[dict[str, Any]], kind: str = "Relative", **schedule: Any
) -> dict[str, Any]:
    """A SetChargingProfile request of ``version`` for EVSE 1: one TxDefault schedule in A
    with ``periods`` and the other schedule keys given."""
    sched: dict[str, Any] = {"chargingRateUnit": "A", "chargingSchedulePeriod": periods}
    sched.update(schedule)
    profile: dict[str, Any] = {
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": kind,
    }
    if version == "1.6":
        profile.update(chargingProfileId=7, chargingSchedule=sched)
        return {"connectorId": 1, "csChargingProfiles": profile}
    profile.update(id=7, chargingSchedule=[{"id": 1, **sched}])
    return {"evseId": 1, "chargingProfile": profile}


def _one_period(limit: float, phases: int | None = None) -> tuple[str, dict[str, Any]]:
    period: dict[str, Any] = {"startPeriod": 0, "limit": limit}
    if phases is not None:
        period["numberPhases"] = phases
    return ("2.0.1", _request_payload("2.0.1", [period]))


@SETTINGS
@given(_ANY_PAYLOAD, st.sampled_from(_CONFIGS))
@example(_one_period(6.5), _CONFIGS[1])  # a decimal where the station allows none
@example(_one_period(6.25), _CONFIGS[2])  # two decimals where two are allowed
@example(_one_period(16, 0), _CONFIGS[0])  # numberPhases 0
@example(_one_period(16, 4), _CONFIGS[0])  # numberPhases 4
@example(_one_period(1e9 + 1), _CONFIGS[0])  # above MAX_LIMIT
def test_the_fast_station_and_composite_are_the_full_ones(
    case: tuple[str, Any], config: StationConfig
) -> None:
    """Same answer, store, compiled profiles and composite with and without the fast path."""
    fast, full = _both_paths(_answer, *case, config)
    assert fast == full


@SETTINGS
@given(
    st.fixed_dictionaries(
        {"charging_rate_unit": st.sampled_from(["A", "W"])},
        optional={
            "id": st.integers(-5, 5),
            "duration": st.integers(0, 10**6),
            "min_charging_rate": st.one_of(st.integers(0, 100), st.floats(0, 100)),
        },
    )
)
def test_a_built_schedule_is_the_validated_one(given_fields: dict[str, Any]) -> None:
    periods = (ChargingSchedulePeriod(start_period=0, limit=16),)
    values = {**given_fields, "charging_schedule_period": periods}
    validated = ChargingSchedule.model_validate(values)
    built = built_model(
        ChargingSchedule,
        {
            **values,
            "charging_rate_unit": validated.charging_rate_unit,
        },
    )
    assert _fingerprint(built) == _fingerprint(validated)
    assert built == validated and hash(built) == hash(validated)
    assert repr(built) == repr(validated)
    assert built.model_dump_json() == validated.model_dump_json()


def test_columns_follow_a_copy_with_other_periods() -> None:
    """A copy with other periods never sees the original's kept columns."""
    schedule = read_charging_schedule(
        {
            "id": 1,
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}],
        },
        "2.0.1",
    )
    assert period_columns(schedule).limits == (16,)
    other = (
        ChargingSchedulePeriod(start_period=0, limit=8),
        ChargingSchedulePeriod(start_period=60, limit=4, setpoint=2),
    )
    copy = schedule.model_copy(update={"charging_schedule_period": other})
    columns = period_columns(copy)
    assert columns.limits == (8, 4) and columns.starts == (0, 60)
    assert not columns.plain and columns.v2x
    assert period_columns(schedule).limits == (16,)


def test_kept_columns_change_no_equality_dump_or_pickle() -> None:
    """The columns live beside the fields: equality, hash, dump, repr and pickling ignore them."""
    import pickle

    data = {
        "id": 1,
        "chargingRateUnit": "W",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 5}],
    }
    with_columns = read_charging_schedule(data, "2.0.1")
    with _full_path():
        without = read_charging_schedule(data, "2.0.1")
    assert COLUMNS_KEY in with_columns.__dict__ and COLUMNS_KEY not in without.__dict__
    assert with_columns == without and hash(with_columns) == hash(without)
    assert with_columns.model_dump_json() == without.model_dump_json()
    assert repr(with_columns) == repr(without)
    back = pickle.loads(pickle.dumps(with_columns))
    assert back == with_columns and period_columns(back).periods is back.charging_schedule_period


@pytest.mark.parametrize("version", VERSIONS)
def test_odd_schedule_fields_keep_their_errors(version: str) -> None:
    """Examples of the errors the fast path leaves to pydantic: named field and rule."""
    v2 = version != "1.6"
    where = "chargingProfile.chargingSchedule[0]" if v2 else "csChargingProfiles.chargingSchedule"
    for key, value in (
        ("duration", True),
        ("chargingRateUnit", "a"),
        ("startSchedule", "2024-01-01T00:00:00"),
        ("minChargingRate", "6"),
    ):
        payload = _request_payload(version, [{"startPeriod": 0, "limit": 6}], **{key: value})
        with pytest.raises(OcppScheduleError) as caught:
            read_set_charging_profile(payload, version)
        assert caught.value.field is not None and caught.value.field.startswith(f"{where}.{key}")
        assert caught.value.rule


@SETTINGS
@given(st.integers(-62_135_596_800, 253_402_300_799), st.integers(0, 999_999))
def test_utc_instants_are_written_as_before(seconds: int, micros: int) -> None:
    """``format_timestamp``'s UTC fast path writes what the general path writes."""
    from datetime import timedelta

    from ocpp_schedule.wire._timestamps import format_timestamp, from_epoch

    for value in (from_epoch(seconds), from_epoch(seconds) + timedelta(microseconds=micros)):
        if value.year > 9999:
            continue
        spec = "microseconds" if value.microsecond else "seconds"
        assert format_timestamp(value) == value.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


@pytest.mark.parametrize("text", ["1.6", "2.0.1", "2.1", " 1.6", "v16", "OCPP2.1", "201"])
def test_versions_are_read_as_before(text: str) -> None:
    from ocpp_schedule.wire._payloads import parse_version

    expected = {"1.6": "1.6", "16": "1.6", "2.0.1": "2.0.1", "201": "2.0.1", "2.1": "2.1"}
    key = text.strip().lower().removeprefix("v").removeprefix("ocpp")
    assert parse_version(text) is OcppVersion(expected[key])


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
def test_a_nan_limit_among_others_is_rejected(version: str) -> None:
    """``min`` and ``max`` over a set step over a NaN that is not first: the rules' and the
    compiler's checks in C must still see it (each NaN a new object: a new place in the set)."""
    from ocpp_schedule.engine import _compile
    from ocpp_schedule.errors import InvalidProfileError

    state = StationState(StationConfig(), OcppVersion(version), ())
    for _ in range(40):
        limits = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, float("nan")]
        periods = [{"startPeriod": 10 * i, "limit": x} for i, x in enumerate(limits)]
        payload = _request_payload(version, periods)
        request = read_set_charging_profile(payload, version)
        _rules.clear_rule_caches()
        assert not install(ProfileStore(), request, state)[1].accepted
        models = request.charging_profile.charging_schedule[0].charging_schedule_period
        with pytest.raises(InvalidProfileError):
            _compile._limits(7, models, tuple(limits))

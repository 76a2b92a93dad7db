"""Periods that are not models (issue 16's cold path, helper LAZY16).

A schedule read from a payload whose periods are plain holds them as rows
(``wire._models.LazyPeriods``) and builds the ``ChargingSchedulePeriod`` models only when a
caller asks for them: the attribute, pydantic's serializer (dump, JSON, nested), equality,
hash, repr, iteration and pickling build them first; the station rules and the compiler read
the rows' columns and never build them. Pinned here against the eager reference (COLD16B's
reader, kept below as ``_eager_schedule_on_rows``): on the schema strategies' payloads of
every version and on plain payloads with odd fields, each observable face of the request is
the same, each computed on a fresh pair (every one of them builds the models, so none sees
what another built).
"""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_cold16b import _ANY_PAYLOAD, COLUMNS_KEY, SETTINGS, _request_payload
from test_cold16b import _fingerprint as _fingerprint_dict

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
    write_set_charging_profile,
)
from ocpp_schedule.station import _rules
from ocpp_schedule.station._store import phases_to_use
from ocpp_schedule.wire import _payloads
from ocpp_schedule.wire._models import (
    ChargingProfile,
    ChargingSchedule,
    LazyPeriods,
    PeriodColumns,
    SetChargingProfileRequest,
    built_model,
    period_columns,
    plain_periods,
)

T0 = datetime(2024, 1, 1, tzinfo=UTC)
FIELD = "charging_schedule_period"


def _eager_schedule_on_rows(given: dict[str, Any], columns: Any) -> ChargingSchedule:
    """The reference: COLD16B's reader, which built every period model and kept its columns."""
    rows = list(zip(*columns, strict=True))
    schedule = built_model(ChargingSchedule, {**given, FIELD: plain_periods(rows)})
    starts, limits, phases, uses = zip(*rows, strict=True) if rows else ((), (), (), ())
    periods = schedule.__dict__[FIELD]
    plain = uses.count(None) == len(uses)
    columns = PeriodColumns(periods, starts, limits, phases, plain, False)
    schedule.__dict__[COLUMNS_KEY] = columns
    return schedule


@contextmanager
def _eager() -> Iterator[None]:
    with patch.object(_payloads, "_schedule_on_rows", _eager_schedule_on_rows):
        yield


def _fingerprint(model: Any) -> Any:
    """test_cold16b's fingerprint (every model's ``__dict__``, fields set, extra, private) of
    the model as a caller sees it: each schedule's periods asked for first (the attribute)."""
    schedules: Any = ()
    if isinstance(model, SetChargingProfileRequest):
        schedules = model.charging_profile.charging_schedule
    elif isinstance(model, ChargingProfile):
        schedules = model.charging_schedule
    elif isinstance(model, ChargingSchedule):
        schedules = (model,)
    for schedule in schedules:
        assert type(schedule.charging_schedule_period) is tuple
    return _fingerprint_dict(model)


def _lazy_count(request: SetChargingProfileRequest) -> int:
    """How many of the request's schedules hold their periods as rows right now."""
    schedules = request.charging_profile.__dict__["charging_schedule"]
    return sum(type(s.__dict__[FIELD]) is LazyPeriods for s in schedules)


def _schedules(request: SetChargingProfileRequest) -> tuple[ChargingSchedule, ...]:
    return request.charging_profile.charging_schedule


def _pickled(request: SetChargingProfileRequest) -> Any:
    data = pickle.dumps(request)
    return (data, _fingerprint(pickle.loads(data)))


def _copies(request: SetChargingProfileRequest) -> Any:
    """Shallow copies share the very period tuple (built once), deep ones get new models."""
    out = []
    for schedule in _schedules(request):
        shallow = schedule.model_copy()
        deep = schedule.model_copy(deep=True)
        other = schedule.model_copy(update={"duration": 5})
        out.append(
            (
                shallow.charging_schedule_period is schedule.charging_schedule_period,
                deep.charging_schedule_period is schedule.charging_schedule_period,
                any(
                    a is b
                    for a, b in zip(
                        deep.charging_schedule_period,
                        schedule.charging_schedule_period,
                        strict=True,
                    )
                ),
                _fingerprint(shallow),
                _fingerprint(deep),
                _fingerprint(other),
                shallow == schedule,
                deep == schedule,
                hash(deep) == hash(schedule),
                other.model_dump_json(),
            )
        )
    whole = copy.deepcopy(request)
    return (out, _fingerprint(whole), whole == request, _fingerprint(copy.copy(request)))


def _copy_first(request: SetChargingProfileRequest) -> Any:
    """A copy built before the original: the original then gets the same tuple."""
    out = []
    for schedule in _schedules(request):
        shallow = schedule.model_copy()
        first = shallow.charging_schedule_period
        out.append((first is schedule.charging_schedule_period, _fingerprint(schedule)))
    return out


def _columns_first(request: SetChargingProfileRequest) -> Any:
    """The columns before the models are asked for, then the models' own columns."""
    out = []
    for schedule in _schedules(request):
        before = period_columns(schedule)
        periods = schedule.charging_schedule_period
        after = period_columns(schedule)
        out.append((tuple(before[1:]), tuple(after[1:]), after.periods is periods))
    return (out, phases_to_use(request.charging_profile))


# Each face of a request; every one is computed on a freshly read request.
FACES: dict[str, Callable[[SetChargingProfileRequest], Any]] = {
    "attribute": lambda r: [_fingerprint(s.charging_schedule_period) for s in _schedules(r)],
    "fingerprint": lambda r: (_fingerprint(r), [list(s.__dict__) for s in _schedules(r)]),
    "fields_set": lambda r: [s.model_fields_set for s in _schedules(r)],
    "dump": lambda r: r.model_dump(),
    "dump_json_mode": lambda r: r.model_dump(mode="json"),
    "dump_names_nones": lambda r: r.model_dump(by_alias=False, exclude_none=False),
    "dump_unset_round_trip": lambda r: r.model_dump(exclude_unset=True, round_trip=True),
    "dump_exclude": lambda r: r.model_dump(
        exclude={"charging_profile": {"charging_schedule": {0: {FIELD: {0: {"limit"}}}}}}
    ),
    "dump_include": lambda r: r.model_dump(
        include={"charging_profile": {"charging_schedule": {"__all__": {FIELD: {-1}}}}}
    ),
    "json": lambda r: r.model_dump_json(),
    "json_indent": lambda r: r.model_dump_json(indent=2, exclude_none=False),
    "schedule_dump": lambda r: [s.model_dump_json() for s in _schedules(r)],
    "to_json_dict": lambda r: r.charging_profile.to_json_dict(),
    "profile_adapter": lambda r: ChargingProfile.__pydantic_serializer__.to_python(
        r.charging_profile, mode="json", by_alias=True
    ),
    "write": lambda r: write_set_charging_profile(r, "2.1"),
    "repr": repr,
    "str": lambda r: [str(s) for s in _schedules(r)],
    "iter": lambda r: [dict(s) for s in _schedules(r)],
    "hash": hash,
    "schedule_hash": lambda r: [hash(s) for s in _schedules(r)],
    "pickle": _pickled,
    "copies": _copies,
    "copy_first": _copy_first,
    "columns": _columns_first,
    "revalidate": lambda r: _fingerprint(SetChargingProfileRequest.model_validate(r)),
}


def _face(payload: Any, version: str, face: str, eager: bool) -> Any:
    try:
        if eager:
            with _eager():
                request = read_set_charging_profile(payload, version)
        else:
            request = read_set_charging_profile(payload, version)
    except OcppScheduleError as exc:
        return ("error", type(exc), str(exc), exc.field, exc.rule)
    return FACES[face](request)


@SETTINGS
@given(_ANY_PAYLOAD)
def test_every_face_of_a_lazy_request_is_the_eager_one(case: tuple[str, Any]) -> None:
    version, payload = case
    for face in FACES:
        assert _face(payload, version, face, eager=False) == _face(
            payload, version, face, eager=True
        ), face


@SETTINGS
@given(_ANY_PAYLOAD)
def test_lazy_and_eager_requests_are_equal_with_one_hash(case: tuple[str, Any]) -> None:
    """Compared with each other (either side first), and the profiles and schedules too."""
    version, payload = case
    try:
        lazy = read_set_charging_profile(payload, version)
    except OcppScheduleError:
        return
    with _eager():
        eager = read_set_charging_profile(payload, version)
    assert lazy == eager and eager == lazy
    assert hash(lazy) == hash(eager)
    other = read_set_charging_profile(payload, version)
    assert eager.charging_profile == other.charging_profile
    assert not (other != eager)  # noqa: SIM202


def test_a_plain_request_holds_rows() -> None:
    """The fast path is taken: a plain schedule holds LazyPeriods (no models built)."""
    periods = [
        {"startPeriod": 0, "limit": 16},
        {"startPeriod": 60, "limit": 8.5, "numberPhases": 1},
    ]
    for version in ("1.6", "2.0.1", "2.1"):
        request = read_set_charging_profile(_request_payload(version, periods), version)
        assert _lazy_count(request) == 1
        (schedule,) = _schedules(request)
        assert list(schedule.__dict__)[:6] == [
            "id",
            "start_schedule",
            "duration",
            "charging_rate_unit",
            FIELD,
            "min_charging_rate",
        ]
        assert type(schedule.charging_schedule_period) is tuple
        assert _lazy_count(request) == 0  # built once asked for, in the field's own place
        assert list(schedule.__dict__)[4] == FIELD


_CONFIGS = (
    StationConfig(),
    StationConfig(limit_decimal_places=0),
    StationConfig(ac_phase_switching_supported=True),
)


@SETTINGS
@given(_ANY_PAYLOAD, st.sampled_from(_CONFIGS))
def test_the_rules_and_the_compiler_read_the_rows(
    case: tuple[str, Any], config: StationConfig
) -> None:
    """Accepting a request whose periods are plain and have no phaseToUse, compiling it and
    computing the composite never builds its period models (the cold path's point); the
    answer is the eager request's."""
    version, payload = case
    try:
        request = read_set_charging_profile(payload, version)
    except OcppScheduleError:
        return
    with _eager():
        eager = read_set_charging_profile(payload, version)
    plain = all(
        period_columns(s).plain for s in request.charging_profile.__dict__["charging_schedule"]
    )
    lazy_before = _lazy_count(request)
    results = []
    for req in (request, eager):
        state = StationState(config, OcppVersion(version), (Transaction("1", 1, T0),))
        _rules.clear_rule_caches()
        store, result = install(ProfileStore(), req, state)
        answer: tuple[Any, ...] = (result.accepted, result.reason, result.rule, result.message)
        try:
            composite = composite_schedule(
                store, evse_id=1, start=T0, duration=86400, transaction=state.transactions[0]
            )
            answer = (*answer, composite.to_payload(version))
        except OcppScheduleError as exc:
            answer = (*answer, type(exc), str(exc))
        results.append(answer)
        if req is request and plain and result.accepted:
            assert _lazy_count(request) == lazy_before  # a rejection may name a period
    assert results[0] == results[1]
    assert request == eager


def test_the_serialization_schema_names_the_periods() -> None:
    """The serializer keeps the field's own JSON schema (an array of periods)."""
    for mode in ("validation", "serialization"):
        schema = ChargingSchedule.model_json_schema(mode=mode)  # type: ignore[arg-type]
        prop = schema["properties"]["chargingSchedulePeriod"]
        assert prop["type"] == "array"
        assert prop["items"] == {"$ref": "#/$defs/ChargingSchedulePeriod"}


def test_the_class_has_no_field_attribute() -> None:
    """As for any pydantic field: reading it on the class is an AttributeError."""
    with pytest.raises(AttributeError):
        ChargingSchedule.charging_schedule_period  # noqa: B018
    assert not hasattr(ChargingSchedule, FIELD)
    assert FIELD in ChargingSchedule.model_fields


def test_a_frozen_schedule_stays_frozen() -> None:
    periods = [{"startPeriod": 0, "limit": 16}]
    request = read_set_charging_profile(_request_payload("2.0.1", periods), "2.0.1")
    (schedule,) = _schedules(request)
    with pytest.raises(Exception, match="frozen"):
        schedule.charging_schedule_period = ()  # type: ignore[misc]
    assert _lazy_count(request) == 1
    with pytest.raises(TypeError):
        pickle.dumps(schedule.__dict__[FIELD])  # only ever pickled as models


_NUMBER = st.one_of(
    st.integers(-5, 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([True, False, 10**308, -(10**308), 10**308 - 1, 2**1100, 6.25, 10.1, 0.1]),
    st.sampled_from([None, "6", [6], {}]),
)


@st.composite
def _period_lists(draw: st.DrawFn) -> list[Any]:
    """Lists of periods, mostly ``{"startPeriod", "limit"}`` dicts, with odd values, keys and
    types mixed in."""
    periods: list[Any] = []
    for _ in range(draw(st.integers(0, 6))):
        start = draw(st.integers(0, 10**6)) if draw(st.integers(0, 5)) else draw(_NUMBER)
        limit = draw(st.sampled_from([0, 6, 16.0, 8.5, 1e9])) if draw(st.booleans()) else None
        period: Any = {"startPeriod": start, "limit": draw(_NUMBER) if limit is None else limit}
        odd = draw(st.integers(0, 19))
        if odd == 0:
            del period[draw(st.sampled_from(["startPeriod", "limit"]))]
        elif odd == 1:
            period[draw(st.sampled_from(["numberPhases", "phaseToUse", "bogus"]))] = draw(_NUMBER)
        elif odd == 2:
            period = draw(st.sampled_from([None, [0, 6], "period"]))
        periods.append(period)
    return periods


@SETTINGS
@given(_period_lists(), st.sampled_from(list(OcppVersion)))
def test_two_key_periods_read_in_c_are_the_loops_reading(
    periods: list[Any], version: OcppVersion
) -> None:
    """The columns read in C (``_two_key_columns``) are the per-period loop's, or it defers."""
    with patch.object(_payloads, "_two_key_columns", lambda periods, version: None):
        loop = _payloads._plain_rows(periods, version)
    fast = _payloads._two_key_columns(periods, version) if periods else None
    assert fast is None or fast == loop
    assert fast is None or [tuple(map(type, c)) for c in fast] == [
        tuple(map(type, c)) for c in loop or ()
    ]
    assert _payloads._plain_rows(periods, version) == loop


@SETTINGS
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True)))
def test_tenths_of_integral_floats_are_not_looked_at(floats: list[float]) -> None:
    from itertools import filterfalse

    every = all(map(_payloads._is_tenths, floats))
    assert every == all(map(_payloads._is_tenths, filterfalse(float.is_integer, floats)))


def test_plain_two_key_periods_take_the_c_read() -> None:
    periods = [{"startPeriod": 60 * i, "limit": [16, 8.5, 32.0][i % 3]} for i in range(9)]
    for version in OcppVersion:
        columns = _payloads._two_key_columns(periods, version)
        assert columns is not None
        assert columns[0] == tuple(range(0, 540, 60)) and columns[2] == (None,) * 9
    assert _payloads._two_key_columns([{"startPeriod": 0, "limit": 6.25}], OcppVersion.V16) is None

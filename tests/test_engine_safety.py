"""Engine safety: batch answers equal single answers, bounds hold before the work, typed errors.

Each test pins one class of defect of issue 11 (named in its docstring).
"""

from __future__ import annotations

import inspect
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, note, settings
from hypothesis import strategies as st
from strategies_engine import Case, station_21_cases

from ocpp_schedule import (
    ChargingProfile,
    ChargingProfilePurpose,
    InstalledProfile,
    OcppScheduleError,
    ProfileStore,
    QueryError,
    StationConfig,
    Transaction,
    composite_schedule,
    station_composites,
)
from ocpp_schedule.engine.fleet import StationInput, recompute_station, recompute_stations
from ocpp_schedule.station import StationState, replay
from ocpp_schedule.wire import read_set_charging_profile

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
P = ChargingProfilePurpose


def _single(profiles: object, case: Case, evse_id: int, config: object = None) -> object:
    return composite_schedule(
        profiles,  # type: ignore[arg-type]
        evse_id=evse_id,
        start=case.start,
        duration=case.duration,
        unit=case.unit,
        transaction=case.transaction,
        config=config or case.config,  # type: ignore[arg-type]
    )


# ------------------------------------------------------------------------------- F1

F1_START = 1_704_067_200  # 2024-01-01T00:00:00Z


def _f1_profile(pid: int, purpose: str, limit: float, **extra: Any) -> ChargingProfile:
    schedule: dict[str, Any] = {
        "id": 1,
        "chargingRateUnit": "W",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
    }
    if "start" in extra:
        schedule["startSchedule"] = extra.pop("start")
    return ChargingProfile.model_validate(
        {
            "id": pid,
            "stackLevel": extra.pop("stack", 0),
            "chargingProfilePurpose": purpose,
            "chargingProfileKind": extra.pop("kind", "Absolute"),
            "chargingSchedule": [schedule],
            **extra,
        }
    )


def _f1_case() -> Case:
    """The F1 reproduction: EVSE 2's merged LocalGeneration list is a temporary; the next new
    list (EVSE 4's TxProfile chain) got its address, and so its cover."""
    tx = Transaction("t4", 4, datetime.fromtimestamp(F1_START + 196, UTC))
    profiles = [
        InstalledProfile(
            0, _f1_profile(1, "LocalGeneration", 16533.0, start="2024-01-01T00:06:00Z")
        ),
        InstalledProfile(
            2, _f1_profile(3, "LocalGeneration", 2402.0, start="2023-12-31T23:59:11Z", stack=2)
        ),
        InstalledProfile(3, _f1_profile(5, "LocalGeneration", 3220.0, kind="Relative", stack=2)),
        InstalledProfile(
            4,
            _f1_profile(7, "TxProfile", 18752.0, start="2024-01-01T00:09:34Z", transactionId="t4"),
        ),
    ]
    config = StationConfig(evse_ids=(1, 2, 3, 4, 5))
    return Case(profiles, 0, F1_START, 1800, "W", [tx], config, {4: tx})


@PROPERTY
@given(station_21_cases())
@example(_f1_case())
def test_station_composites_equal_each_single_composite(case: Case) -> None:
    """F1: ``station_composites(...)[e] == composite_schedule(evse_id=e)`` for every EVSE and
    EVSE 0, on 2.1 stations with LocalGeneration, external constraints, PriorityCharging and
    TxProfiles bound to transactions (the batch shares covers between EVSEs; a cover keyed
    on a short-lived object's ``id()`` gave one EVSE another's composite)."""
    batch = station_composites(
        case.profiles,
        start=case.start,
        duration=case.duration,
        unit=case.unit,
        transactions=tuple(case.transactions.values()),
        config=case.config,
    )
    for evse_id, schedule in batch.items():
        single = _single(case.profiles, case, evse_id)
        note(f"EVSE {evse_id}")
        assert schedule == single


def _payload(entry: object) -> dict[str, object]:
    profile = entry.profile.to_json_dict()  # type: ignore[attr-defined]
    for i, schedule in enumerate(profile["chargingSchedule"], 1):
        schedule.setdefault("id", i)
    if profile["chargingProfilePurpose"] == "ChargePointMaxProfile":
        profile["chargingProfilePurpose"] = "ChargingStationMaxProfile"
    return {"evseId": entry.evse_id, "chargingProfile": profile}  # type: ignore[attr-defined]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(station_21_cases())
@example(_f1_case())
def test_fleet_recompute_station_equals_each_single_composite(case: Case) -> None:
    """F1 through the fleet path: ``recompute_station`` replays a 2.1 station's payloads and
    answers every EVSE as ``composite_schedule`` does on the store the rules leave."""
    config = case.config.model_copy(
        update={
            "supported_additional_purposes": frozenset({P.LOCAL_GENERATION, P.PRIORITY_CHARGING})
        }
    )
    payloads = [_payload(e) for e in case.profiles]
    txs = tuple(case.transactions.values())
    result = recompute_station(
        StationInput("cs", payloads, "2.1", txs, config),
        start=case.start,
        duration=case.duration,
        unit=case.unit,
    )
    state = StationState(config, "2.1", txs)
    store = ProfileStore()
    requests = [read_set_charging_profile(p, "2.1") for p in payloads]
    for store, _result in replay(requests, state, local_purposes=True):  # noqa: B007
        pass
    for evse_id, answer in result.composites.items():
        single = _single(store, case, evse_id, config)
        assert answer == single.to_payload("2.1")  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------ F28

WRONG_VALUES = (
    "1",
    1.5,
    True,
    False,
    5,
    "x",
    ["A"],
    ["1"],
    object(),
    b"1",
    {},
    {"a": 1},
    float("nan"),
    (1.5,),
)
"""Values of the wrong Python type for (nearly) every parameter; each test drops the ones a
parameter legitimately accepts."""

_S = datetime(2024, 1, 1, tzinfo=UTC)
_PROFILE = ChargingProfile.model_validate(
    {
        "id": 1,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": [
            {
                "id": 1,
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6.0}],
            }
        ],
    }
)


def _calls() -> dict[str, tuple[Any, dict[str, Any], dict[str, tuple[Any, ...]]]]:
    """Each public engine function: the callable, good keyword arguments, and per parameter
    the wrong values it legitimately accepts (dropped from ``WRONG_VALUES``)."""
    from ocpp_schedule import expand_profile, limit_at
    from ocpp_schedule.engine import composite_response, explain_table
    from ocpp_schedule.engine._compile import compile_profile
    from ocpp_schedule.engine.fleet import recompute_fleet
    from ocpp_schedule.tools import check_drift, compare, read_composite_response
    from ocpp_schedule.wire import format_instant, rejected_composite_response

    store = ProfileStore()
    schedule = composite_schedule(store, evse_id=1, start=_S, duration=60)
    reported = read_composite_response(schedule.to_payload("2.0.1"))
    station = StationInput("cs", [])
    ints = (5,)  # an int is a valid time (epoch seconds), EVSE id or schedule id
    return {
        "composite_schedule": (
            composite_schedule,
            {"profiles": store, "evse_id": 1, "start": _S, "duration": 60},
            {"evse_id": ints, "start": ints, "duration": ints, "schedule_ids": ({},)},
        ),
        "station_composites": (
            station_composites,
            {"profiles": store, "start": _S, "duration": 60},
            {"start": ints, "duration": ints, "include_station": (True, False)},
        ),
        "limit_at": (
            limit_at,
            {"profiles": store, "evse_id": 1, "instant": _S},
            {"evse_id": ints, "instant": ints},
        ),
        "expand_profile": (
            expand_profile,
            {"profile": _PROFILE, "start": _S, "duration": 60},
            {"start": ints, "duration": ints, "transaction_start": ints, "schedule_id": ints},
        ),
        "recompute_station": (
            recompute_station,
            {"station": station, "start": _S, "duration": 60},
            {"start": ints, "duration": ints, "include_station": (True, False)},
        ),
        "recompute_stations": (
            recompute_stations,
            {"stations": [station], "start": _S, "duration": 60},
            {"start": ints, "duration": ints},
        ),
        "recompute_fleet": (
            recompute_fleet,
            {"stations": [station], "start": _S, "duration": 60, "processes": 1},
            {"start": ints, "duration": ints, "processes": ints, "chunk": ints},
        ),
        "check_drift": (
            check_drift,
            {"requests": [], "reported": reported},
            {"tolerance": (1.5, 5), "transactions": ({},)},
        ),
        "compare": (
            compare,
            {"predicted": schedule, "reported": reported},
            {"tolerance": (1.5, 5), "voltage": (1.5, 5)},
        ),
        "period_at": (schedule.period_at, {"instant": _S}, {"instant": ()}),
        "composite_response": (
            composite_response,
            {"schedule": schedule, "version": "2.0.1"},
            {},
        ),
        "explain_table": (explain_table, {"schedule": schedule}, {}),
        "rejected_composite_response": (
            rejected_composite_response,
            {"version": "2.0.1", "reason": "UnknownEVSE"},
            {"reason": ("1", "x")},
        ),
        "format_instant": (format_instant, {"seconds": 0}, {"seconds": ints}),
        "compile_profile": (
            compile_profile,
            {"entry": InstalledProfile(1, _PROFILE)},
            {"schedule_id": ints},
        ),
        "read_composite_response": (
            read_composite_response,
            {"payload": schedule.to_payload("2.0.1"), "version": "2.0.1"},
            {},
        ),
        "to_payload": (schedule.to_payload, {"version": "2.0.1"}, {}),
    }


_CALLS = _calls()
_PARAMETERS = sorted(
    (name, param)
    for name, (func, good, _ok) in _CALLS.items()
    for param in inspect.signature(func).parameters
    if param in good
    or param in {"unit", "transaction", "transactions", "config"}
    or param in {"schedule_ids", "evse_ids", "include_station", "transaction_start"}
    or param in {"schedule_id", "processes", "chunk", "tolerance", "version", "voltage"}
)


def _check_wrong_type(name: str, param: str, value: Any) -> None:
    func, good, accepted = _CALLS[name]
    for ok in accepted.get(param, ()):
        if value is ok or (type(value) is type(ok) and value == ok):
            return
    try:
        func(**{**good, param: value})
    except OcppScheduleError as exc:
        if param in ("reported", "payload") and isinstance(value, dict):
            return  # a payload: read, and refused with the path of the field inside it
        field = (exc.field or "").split(".")[0].split("[")[0]
        assert field in (param, *_FIELD_ALIASES.get(param, ())), (name, param, value, exc)
    else:
        raise AssertionError(f"{name}({param}={value!r}) was accepted")


@pytest.mark.parametrize(("name", "param"), _PARAMETERS)
def test_wrong_python_types_raise_a_typed_error_naming_the_argument(name: str, param: str) -> None:
    """F28: every public engine function given a value of the wrong Python type for one
    parameter raises the library's own error naming that parameter (never a raw
    TypeError/AttributeError, never silent acceptance); bool is not an int here."""
    for value in WRONG_VALUES:
        _check_wrong_type(name, param, value)


ODD_VALUES = st.one_of(
    st.text(max_size=5),
    st.floats(),
    st.lists(st.integers(), max_size=2),
    st.binary(max_size=3),
    st.booleans(),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
    st.complex_numbers(),
)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(_PARAMETERS), ODD_VALUES)
def test_arbitrary_wrong_values_raise_a_typed_error(target: tuple[str, str], value: Any) -> None:
    """F28, random: any text, float, list, bytes, bool, dict or complex value for any
    parameter is refused with a typed error naming it, or is a value the parameter takes
    (an RFC 3339 text for a time, 'A'/'W' for a unit, a version name, a tolerance)."""
    name, param = target
    try:
        _check_wrong_type(name, param, value)
    except AssertionError as exc:
        if "was accepted" not in str(exc):
            raise
        assert _legitimate(param, value), exc


def _legitimate(param: str, value: Any) -> bool:
    """A drawn value that the parameter does take."""
    if param == "reason":
        return isinstance(value, str)
    if param in {"start", "instant", "transaction_start"} and isinstance(value, str):
        return True  # parsed as RFC 3339
    if param == "unit":
        return value in ("A", "W", "a", "w")
    if param == "version":  # the version names and their aliases ("16", "v201", ...)
        from ocpp_schedule.wire import parse_version

        try:
            parse_version(value)
        except OcppScheduleError:
            return False
        return True
    if param == "tolerance":
        return isinstance(value, float) and value >= 0
    if param == "voltage":
        return isinstance(value, float) and value > 0 and value != float("inf")
    if param == "evse_ids" and isinstance(value, list):
        return all(type(e) is int for e in value)
    if param in {"transactions", "transaction", "schedule_ids", "evse_ids", "requests"}:
        return len(value) == 0 if isinstance(value, (list, dict)) else False
    if param in {"stations", "profiles"}:
        return isinstance(value, list) and len(value) == 0
    return False


_FIELD_ALIASES = {
    "stations": ("station",),
    "transaction": ("transaction",),
    "transactions": ("transaction", "transactions"),
    "version": ("version", "ocpp_version"),
    "schedule_id": ("schedule_id", "chargingSchedule"),
}


# ------------------------------------------------------------------------------- B1


def test_a_period_read_from_a_station_has_the_reported_source() -> None:
    """B1: a period read from a station's answer has no provenance; ``source`` is the explicit
    ``reported`` marker (not IndexError), and the explain table says so."""
    from ocpp_schedule.engine import REPORTED_SOURCE
    from ocpp_schedule.tools.adapters import CompositeAnswer

    answer = CompositeAnswer.from_payload(
        {
            "status": "Accepted",
            "connectorId": 1,
            "scheduleStart": "2024-05-01T10:00:00Z",
            "chargingSchedule": {
                "duration": 600,
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}],
            },
        },
        "1.6",
    )
    assert answer.schedule is not None
    period = answer.schedule.periods[0]
    assert period.source is REPORTED_SOURCE and period.source.kind == "reported"
    assert "reported by the station" in answer.schedule.explain()


# ------------------------------------------------------------------------------- F9


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 7 * 86_400), st.booleans(), st.sampled_from([None, "A", "W"]))
def test_windows_at_the_calendar_ends_work_everywhere(
    duration: int, at_end: bool, unit: str | None
) -> None:
    """F9: any window ``check_window`` accepts, up to the first and the last second of the
    calendar, works in every output: payloads of each version, the explain table, the batch,
    ``limit_at``, ``expand_profile`` and drift findings."""
    from ocpp_schedule import expand_profile, limit_at
    from ocpp_schedule.tools import compare, read_composite_response
    from ocpp_schedule.wire._timestamps import FIRST_SECOND, LAST_SECOND

    start = LAST_SECOND + 1 - max(duration, 1) if at_end else FIRST_SECOND
    profiles = [InstalledProfile(1, _PROFILE)]
    schedule = composite_schedule(profiles, evse_id=1, start=start, duration=duration, unit=unit)
    for version in ("1.6", "2.0.1", "2.1"):
        payload = schedule.to_payload(version)
        reported = read_composite_response(payload, version)
        assert compare(schedule, reported) == ()
        changed = {**payload}
        inner = dict(changed["chargingSchedule" if version == "1.6" else "schedule"])
        inner["chargingSchedulePeriod"] = [{"startPeriod": 0, "limit": 1.0}]
        changed["chargingSchedule" if version == "1.6" else "schedule"] = inner
        for finding in compare(schedule, read_composite_response(changed, version)):
            assert finding.to_dict()["to"] and str(finding)
    text = schedule.explain()
    assert ("10000-01-01T00:00:00Z" in text) == (at_end and duration > 0)
    batch = station_composites(profiles, start=start, duration=duration, unit=unit)
    assert batch[1] == schedule
    assert limit_at(profiles, evse_id=1, instant=start, unit=unit) == schedule.periods[0]
    assert bool(expand_profile(_PROFILE, start=start, duration=duration)) == (duration > 0)


# ------------------------------------------------------------------------------ F27


def _staggered_daily(count: int) -> list[InstalledProfile]:
    """``count`` Daily TxDefaultProfiles, each in force 30 s a day at its own minute, the
    later ones lower: each leaves holes the next must fill (F27's reproduction)."""
    out = []
    for k in range(count):
        profile = ChargingProfile.model_validate(
            {
                "id": k + 1,
                "stackLevel": 10_000 - k,
                "chargingProfilePurpose": "TxDefaultProfile",
                "chargingProfileKind": "Recurring",
                "recurrencyKind": "Daily",
                "chargingSchedule": [
                    {
                        "id": 1,
                        "startSchedule": datetime.fromtimestamp(F1_START + 60 * k, UTC),
                        "duration": 30,
                        "chargingRateUnit": "A",
                        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": float(6 + k % 20)}],
                    }
                ],
            }
        )
        out.append(InstalledProfile(1, profile))
    return out


def _count_window_work(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the engine's calls of ``in_force_windows`` and the windows they return."""
    import ocpp_schedule.engine._composite as engine

    counter = [0, 0]
    real = engine.in_force_windows

    def counting(*args: Any) -> list[tuple[int, int, int]]:
        found = real(*args)
        counter[0] += 1
        counter[1] += len(found)
        return found

    monkeypatch.setattr(engine, "in_force_windows", counting)
    return counter


@pytest.mark.parametrize(("profiles", "days"), [(50, 10), (200, 10), (200, 30)])
def test_stacked_profiles_cost_linear_work(
    monkeypatch: pytest.MonkeyPatch, profiles: int, days: int
) -> None:
    """F27: a stack of profiles is merged with work linear in the windows they are in force:
    each profile's windows are computed once (one call per profile, ``days + 1`` windows
    each), not once per hole the higher profiles left (k^2 x days calls before)."""
    counter = _count_window_work(monkeypatch)
    answer = composite_schedule(
        _staggered_daily(profiles), evse_id=1, start=F1_START, duration=days * 86_400
    )
    assert len(answer.periods) == 2 * profiles * days
    assert counter[0] <= profiles
    assert counter[1] <= profiles * (days + 1)


def test_stacked_profiles_below_a_full_cover_are_not_expanded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """F27: profiles below one that covers the whole window never lead and cost nothing."""
    top = _f1_profile(9999, "TxDefaultProfile", 10.0, kind="Relative", stack=20_000)
    counter = _count_window_work(monkeypatch)
    answer = composite_schedule(
        [InstalledProfile(1, top), *_staggered_daily(300)],
        evse_id=1,
        start=F1_START,
        duration=30 * 86_400,
        unit="W",
    )
    assert len(answer.periods) == 1
    assert counter == [1, 1]


def test_too_many_windows_are_refused_before_they_are_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """F27's bound: more than MAX_WINDOWS in-force windows in one stack are counted in
    constant time per profile and refused before any is built (no window is computed)."""
    from ocpp_schedule.engine._composite import MAX_WINDOWS

    counter = _count_window_work(monkeypatch)
    profiles = _staggered_daily(10)
    days = MAX_WINDOWS // 10 + 10
    with pytest.raises(QueryError, match=f"more than {MAX_WINDOWS}"):
        composite_schedule(profiles, evse_id=1, start=F1_START, duration=days * 86_400)
    assert counter == [0, 0]


# ------------------------------------------------------------------------------ F17


def _evse_daily(evse_id: int, periods: int, shift: int) -> InstalledProfile:
    """A Daily TxDefaultProfile on one EVSE with ``periods`` periods, shifted by ``shift`` s."""
    step = 86_400 // periods
    rows = [{"startPeriod": 0, "limit": 10.0}]
    rows += [
        {"startPeriod": k * step + shift, "limit": float(6 + (k + evse_id) % 20)}
        for k in range(1, periods)
    ]
    profile = ChargingProfile.model_validate(
        {
            "id": evse_id,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Recurring",
            "recurrencyKind": "Daily",
            "chargingSchedule": [
                {
                    "id": 1,
                    "startSchedule": "2024-01-01T00:00:00Z",
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": rows,
                }
            ],
        }
    )
    return InstalledProfile(evse_id, profile)


def _count_evse_builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    import ocpp_schedule.engine._composite as engine

    built = [0]
    real = engine._evse_raw

    def counting(*args: Any, **kwargs: Any) -> Any:
        built[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "_evse_raw", counting)
    return built


def test_evse0_refused_before_building_every_evse(monkeypatch: pytest.MonkeyPatch) -> None:
    """F17: 32 EVSEs whose daily schedules change at different seconds (97 000 periods each
    over 97 days, each within MAX_PERIODS alone): the total's change points pass MAX_PERIODS
    with the second EVSE, and the query is refused then, not after all 32 were built."""
    from ocpp_schedule.engine._composite import MAX_PERIODS

    built = _count_evse_builds(monkeypatch)
    profiles = [_evse_daily(e, 1000, e) for e in range(1, 33)]
    config = StationConfig(evse_ids=tuple(range(1, 33)))
    with pytest.raises(QueryError, match=f"more than {MAX_PERIODS}"):
        composite_schedule(profiles, evse_id=0, start=F1_START, duration=97 * 86_400, config=config)
    assert built[0] == 2


def test_evse0_total_work_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """F17: aligned EVSEs (the total stays within MAX_PERIODS) still build at most
    MAX_STATION_INTERVALS intervals together before a refusal."""
    from ocpp_schedule.engine._composite import MAX_STATION_INTERVALS

    built = _count_evse_builds(monkeypatch)
    count = 40
    profiles = [_evse_daily(e, 1000, 0) for e in range(1, count + 1)]
    config = StationConfig(evse_ids=tuple(range(1, count + 1)))
    per_evse = 97_000
    with pytest.raises(QueryError, match=f"more than {MAX_STATION_INTERVALS}"):
        composite_schedule(profiles, evse_id=0, start=F1_START, duration=97 * 86_400, config=config)
    assert built[0] == MAX_STATION_INTERVALS // per_evse + 1 < count


def _profiled_calls(fn: Any, *args: Any) -> tuple[Any, int]:
    """``fn(*args)`` and the number of function calls (Python and builtin) it made."""
    import sys

    calls = 0

    def count(_frame: Any, event: str, _arg: Any) -> None:
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1

    sys.setprofile(count)
    try:
        result = fn(*args)
    finally:
        sys.setprofile(None)
    return result, calls


@pytest.mark.parametrize("evses", [2, 16, 128])
def test_evse_sum_is_a_linear_merge(evses: int) -> None:
    """F17: the EVSE sum is a k-way merge: its work grows with the total number of change
    points (at most a few calls each), not with points x EVSEs; and it is the sum."""
    from ocpp_schedule.engine._composite import _Context, _sum_raw

    points = 20_000 // evses
    config = StationConfig()
    ctx = _Context(0, points * evses + 1, False, config)
    per_evse = [
        [(0, 1.0, 3, None, None)]
        + [
            (k * evses + j + 1, float(k % 7 + j), 1 + (k + j) % 3, None, None)
            for k in range(points)
        ]
        for j in range(evses)
    ]
    segs, calls = _profiled_calls(_sum_raw, ctx, per_evse)
    total_points = points * evses
    assert calls <= 6 * total_points
    assert len(segs) == total_points + 1
    current = [raw[0] for raw in per_evse]
    index = [0] * evses
    for seg in segs[:: max(1, len(segs) // 200)]:
        for j, raw in enumerate(per_evse):
            while index[j] + 1 < len(raw) and raw[index[j] + 1][0] <= seg[0]:
                index[j] += 1
            current[j] = raw[index[j]]
        assert seg[2] == pytest.approx(sum(c[1] for c in current))
        assert seg[4] == max(c[2] for c in current)


def test_station_batch_has_the_same_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    """F17 for ``station_composites``: with the station total it is refused where the EVSE-0
    query is (after the second staggered EVSE); without it, the EVSEs' answers together are
    bounded by MAX_STATION_INTERVALS."""
    from ocpp_schedule.engine._composite import MAX_PERIODS, MAX_STATION_INTERVALS

    built = _count_evse_builds(monkeypatch)
    staggered = [_evse_daily(e, 1000, e) for e in range(1, 33)]
    config = StationConfig(evse_ids=tuple(range(1, 33)))
    window = {"start": F1_START, "duration": 97 * 86_400, "config": config}
    with pytest.raises(QueryError, match=f"more than {MAX_PERIODS}"):
        station_composites(staggered, **window)
    assert built[0] == 2
    built[0] = 0
    with pytest.raises(QueryError, match=f"more than {MAX_STATION_INTERVALS}"):
        station_composites(staggered, include_station=False, **window)
    assert built[0] == MAX_STATION_INTERVALS // 97_000 + 1

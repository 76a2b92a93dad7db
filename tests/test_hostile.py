"""Hostile input: arbitrary JSON and mutated payloads for every reader, the engine and the CLI.

Every case must end in a result or one of the documented errors (the library's own
``OcppScheduleError`` subclasses, or pydantic's ``ValidationError`` at a model), never an
IndexError, a hang or a wrong answer in silence, and within a bounded amount of work:
each case is run under a call counter (``sys.setprofile``) and may make at most ``WORK``
function calls. No test here measures wall time (a shared machine makes that flaky);
``benchmarks/`` does.
"""

from __future__ import annotations

import contextlib
import json
import math
import sys
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from ocpp_schedule import (
    ChargingProfileKind,
    InstalledProfile,
    OcppScheduleError,
    ProfileStore,
    RecurrencyKind,
    StationState,
    Transaction,
    composite_schedule,
    install,
    read_set_charging_profile,
)
from ocpp_schedule.cli import main
from ocpp_schedule.site import Site, SiteError, load_site
from ocpp_schedule.station import read_clear_charging_profile, read_get_charging_profiles
from ocpp_schedule.wire import ChargingProfile

EXPECTED = (OcppScheduleError, ValidationError)
WORK = 3_000_000
"""Function calls (Python and C) one hostile case may make: a counted bound on its work.

The largest legitimate cases here (a ten-year query over 1 000 weekly profiles, 87 600
periods; 50 days of minute-by-minute schedules refused at MAX_PERIODS) make about 1.1
million; a quadratic merge or an unbounded expansion makes far more."""
HOSTILE = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(
        [
            "",
            "A",
            "W",
            "TxProfile",
            "Absolute",
            "2024-01-01T00:00:00Z",
            "2024-01-01T00:00:00",
            "9999-12-31T23:59:59Z",
            "0001-01-01T00:00:00Z",
        ]
    ),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.sampled_from(
                [
                    "evseId",
                    "connectorId",
                    "chargingProfile",
                    "csChargingProfiles",
                    "id",
                    "stackLevel",
                    "chargingSchedule",
                    "chargingSchedulePeriod",
                    "startPeriod",
                    "limit",
                    "requestId",
                    "chargingProfileCriteria",
                    "grid",
                    "piles",
                    "amps",
                    "x",
                ]
            )
            | st.text(max_size=8),
            inner,
            max_size=5,
        ),
    ),
    max_leaves=25,
)

V16 = {
    "connectorId": 1,
    "csChargingProfiles": {
        "chargingProfileId": 1,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Recurring",
        "recurrencyKind": "Weekly",
        "chargingSchedule": {
            "startSchedule": "2024-01-01T00:00:00Z",
            "duration": 7 * 86400,
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": 7400.0},
                {"startPeriod": 3600, "limit": 3700.0, "numberPhases": 1},
            ],
        },
    },
}
V201 = {
    "evseId": 1,
    "chargingProfile": {
        "id": 2,
        "stackLevel": 1,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": [
            {
                "id": 1,
                "startSchedule": "2024-01-01T00:10:00Z",
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
            }
        ],
    },
}

NUMBERS = st.one_of(
    st.integers(-(2**63), 2**63),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -0.0, 2**31, 2**31 - 1, -1, 10**15, 1e-300]),
)


def _paths(obj: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _paths(v, (*prefix, i))
    return out


def _set(obj: Any, path: tuple, value: Any) -> Any:
    copy = json.loads(json.dumps(obj))
    target = copy
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return copy


@st.composite
def mutated(draw) -> tuple[str, Any]:
    base = draw(st.sampled_from([V16, V201]))
    path = draw(st.sampled_from(_paths(base)))
    value = draw(st.one_of(NUMBERS, json_values))
    return ("1.6" if base is V16 else "2.0.1"), _set(base, path, value)


class _TooMuchWork(BaseException):
    """Raised inside a case that passes ``WORK`` calls (a BaseException, so no ``except
    Exception`` in the code under test swallows it): a runaway case stops there."""


def _bounded(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run ``fn`` under a call counter; its result, or a test failure once it has made
    more than ``WORK`` function calls (Python and builtin)."""
    calls = 0

    def count(_frame: Any, event: str, _arg: Any) -> None:
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1
            if calls > WORK:
                raise _TooMuchWork

    previous = sys.getprofile()
    sys.setprofile(count)
    try:
        return fn(*args, **kwargs)
    except _TooMuchWork:
        pytest.fail(f"{getattr(fn, '__name__', fn)} made more than {WORK} calls")
    finally:
        sys.setprofile(previous)


@HOSTILE
@given(json_values, st.sampled_from(["1.6", "2.0.1", "2.1"]))
def test_readers_take_arbitrary_json(data: Any, version: str) -> None:
    for reader in (read_set_charging_profile, read_clear_charging_profile):
        with contextlib.suppress(EXPECTED):
            _bounded(reader, data, version)
    if version != "1.6":
        with contextlib.suppress(EXPECTED):
            _bounded(read_get_charging_profiles, data, version)


@HOSTILE
@given(mutated())
def test_mutated_payloads_are_read_installed_and_composed_or_refused(case) -> None:
    version, payload = case
    try:
        request = _bounded(read_set_charging_profile, payload, version)
    except EXPECTED:
        return
    state = StationState(
        version=version,  # type: ignore[arg-type]  (text is accepted too)
        transactions=(Transaction("1", 1, datetime(2024, 1, 1, tzinfo=UTC)),),
    )
    store, result = _bounded(install, ProfileStore(), request, state)
    entries = list(store) or [InstalledProfile(request.evse_id, request.charging_profile)]
    for evse in (0, 1):
        try:
            answer = _bounded(
                composite_schedule,
                entries,
                evse_id=evse,
                start=datetime(2024, 1, 1, tzinfo=UTC),
                duration=14 * 86400,
            )
        except EXPECTED:
            continue
        for period in answer.periods:
            assert math.isfinite(period.limit) and period.limit >= 0
            assert math.copysign(1.0, period.limit) == 1.0  # never -0.0
        if result.accepted:
            assert answer.periods[0].start_period == 0


@HOSTILE
@given(
    start=st.datetimes(
        min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31), timezones=st.just(UTC)
    ),
    duration=st.one_of(st.integers(-10, 10**12), st.sampled_from([0, 2**31, 2**63])),
    unit=st.one_of(st.none(), st.sampled_from(["A", "W", "a", "kW", ""])),
    evse=st.integers(-3, 5),
)
def test_queries_at_the_limits_of_the_calendar(start, duration, unit, evse) -> None:
    store = ProfileStore([InstalledProfile(0, read_set_charging_profile(V16).charging_profile)])
    try:
        answer = _bounded(
            composite_schedule, store, evse_id=evse, start=start, duration=duration, unit=unit
        )
    except EXPECTED:
        return
    assert answer.periods[0].start_period == 0
    answer.to_payload("2.0.1")


@HOSTILE
@given(
    st.lists(st.tuples(st.integers(-5, 10**9), NUMBERS), min_size=0, max_size=6),
    st.sampled_from(["Absolute", "Relative", "Recurring", "Dynamic"]),
    st.one_of(st.none(), st.integers(-10, 2**40)),
)
def test_engine_refuses_what_no_station_accepts(periods, kind, duration) -> None:
    """Profiles built directly (bypassing the rules): a result or InvalidProfileError."""
    data: dict[str, Any] = {
        "id": 1,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": kind,
        "chargingSchedule": [
            {
                "id": 1,
                "chargingRateUnit": "A",
                "startSchedule": "2024-01-01T00:00:00Z",
                "chargingSchedulePeriod": [{"startPeriod": s, "limit": v} for s, v in periods],
            }
        ],
    }
    if kind == "Recurring":
        data["recurrencyKind"] = "Daily"
    if duration is not None:
        data["chargingSchedule"][0]["duration"] = duration
    try:
        profile = ChargingProfile.model_validate(data)
    except ValidationError:
        return
    try:
        answer = _bounded(
            composite_schedule,
            [InstalledProfile(1, profile)],
            evse_id=1,
            start=datetime(2023, 12, 31, tzinfo=UTC),
            duration=3 * 86400,
        )
    except EXPECTED:
        return
    assert all(math.isfinite(p.limit) and p.limit >= 0 for p in answer.periods)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=json_values)
def test_site_loader_takes_arbitrary_json(tmp_path_factory, data) -> None:
    path = tmp_path_factory.mktemp("site") / "site.json"
    path.write_text(json.dumps(data, allow_nan=True))
    with pytest.raises(SiteError):
        _bounded(load_site, path)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    data=st.one_of(
        json_values, st.lists(st.one_of(json_values, mutated().map(lambda c: c[1])), max_size=4)
    ),
    command=st.sampled_from(["validate", "composite", "balance", "report"]),
)
def test_cli_on_arbitrary_files(tmp_path_factory, capsys, data, command) -> None:
    path = tmp_path_factory.mktemp("cli") / "in.json"
    path.write_text(json.dumps(data, allow_nan=True))
    argv = [command, str(path)]
    if command == "composite":
        argv += ["--evse", "1", "--start", "2024-01-01T00:00:00Z", "--duration", "86400"]
    if command in ("balance", "report"):
        argv += ["--start", "2024-01-01T00:00:00Z"]

    def run() -> Any:
        try:
            return main(argv)
        except SystemExit as exc:
            return exc.code

    code = _bounded(run)
    out, err = capsys.readouterr()
    assert code in (0, 2), (argv, out, err)
    assert "Traceback" not in err
    if code == 2:
        assert err.startswith("ocpp-schedule: error: ") and err.count("\n") == 1


def test_huge_inputs_stay_cheap_or_are_refused() -> None:
    """100,000 periods, 1,000 profiles, a 10-year query over weekly profiles."""
    t0 = datetime(2024, 1, 1, tzinfo=UTC)

    def schedule(count: int) -> dict[str, Any]:
        return {
            "evseId": 1,
            "chargingProfile": {
                "id": 1,
                "stackLevel": 0,
                "chargingProfilePurpose": "TxDefaultProfile",
                "chargingProfileKind": "Absolute",
                "chargingSchedule": [
                    {
                        "id": 1,
                        "startSchedule": "2024-01-01T00:00:00Z",
                        "chargingRateUnit": "A",
                        "chargingSchedulePeriod": [
                            {"startPeriod": i * 60, "limit": float(6 + i % 20)}
                            for i in range(count)
                        ],
                    }
                ],
            },
        }

    with pytest.raises(OcppScheduleError, match="at most 10000"):
        _bounded(read_set_charging_profile, schedule(100_000), "2.0.1")
    request = _bounded(read_set_charging_profile, schedule(5000), "2.0.1")
    _, result = _bounded(install, ProfileStore(), request, StationState(version="2.0.1"))
    assert not result.accepted and result.reason.value == "TooManyPeriods"
    answer = _bounded(
        composite_schedule,
        [InstalledProfile(1, request.charging_profile)],
        evse_id=1,
        start=t0,
        duration=86400,
    )
    assert len(answer.periods) == 1440
    weekly = read_set_charging_profile(V16).charging_profile
    profiles = [
        InstalledProfile(1, weekly.model_copy(update={"id": i, "stack_level": i}))
        for i in range(1000)
    ]
    answer = _bounded(composite_schedule, profiles, evse_id=1, start=t0, duration=10 * 365 * 86400)
    assert answer.periods
    with pytest.raises(OcppScheduleError, match="shorter window"):
        composite_schedule(
            [
                InstalledProfile(
                    1,
                    request.charging_profile.model_copy(
                        update={
                            "charging_profile_kind": ChargingProfileKind.RECURRING,
                            "recurrency_kind": RecurrencyKind.DAILY,
                        }
                    ),
                )
            ],
            evse_id=1,
            start=t0,
            duration=2**31,
        )


def test_site_at_the_limits(tmp_path) -> None:
    site = Site.model_validate(
        {
            "grid": {"id": "g", "amps": 0},
            "piles": [
                {
                    "id": "P",
                    "circuit": "g",
                    "evses": [
                        {
                            "id": 1,
                            "sessions": [
                                {"arrive": "2024-01-01T00:00:00Z", "leave": "2024-01-01T01:00:00Z"}
                            ],
                        }
                    ],
                }
            ],
        }
    )
    from ocpp_schedule.site import balance

    allocation = balance(site, start=datetime(2024, 1, 1, tzinfo=UTC), duration=3600)
    assert allocation.amps[("P", 1)] == (0.0,) * 4  # no supply: paused, not negative
    assert allocation.paused[("P", 1)] == (True,) * 4
    with pytest.raises(OcppScheduleError):
        balance(site, start=datetime(9999, 12, 31, 23, tzinfo=UTC), duration=2 * 3600)


def test_bound_max_periods_of_an_answer() -> None:
    """MAX_PERIODS: two daily minute-by-minute schedules half a minute apart (each well under
    MAX_SEGMENTS over 50 days) whose minimum changes 1.5 times a minute would answer
    108,000 periods: refused, and quickly."""
    from ocpp_schedule.engine._composite import MAX_PERIODS, MAX_SEGMENTS

    def daily(pid: int, purpose: str, start: str, low: float, high: float) -> InstalledProfile:
        evse = 1 if purpose == "TxDefaultProfile" else 0
        request = read_set_charging_profile(
            {
                "evseId": evse,
                "chargingProfile": {
                    "id": pid,
                    "stackLevel": 0,
                    "chargingProfilePurpose": purpose,
                    "chargingProfileKind": "Recurring",
                    "recurrencyKind": "Daily",
                    "chargingSchedule": [
                        {
                            "id": 1,
                            "startSchedule": start,
                            "chargingRateUnit": "A",
                            "chargingSchedulePeriod": [
                                {"startPeriod": i * 60, "limit": low if i % 2 else high}
                                for i in range(1440)
                            ],
                        }
                    ],
                },
            }
        )
        return InstalledProfile(evse, request.charging_profile)

    profiles = [
        daily(1, "TxDefaultProfile", "2024-01-01T00:00:00Z", 13.0, 11.0),
        daily(2, "ChargingStationMaxProfile", "2024-01-01T00:00:30Z", 10.0, 12.0),
    ]
    start = datetime(2024, 1, 1, tzinfo=UTC)
    assert MAX_SEGMENTS > 50 * 1440
    with pytest.raises(OcppScheduleError, match=f"more than {MAX_PERIODS}"):
        _bounded(composite_schedule, profiles, evse_id=1, start=start, duration=50 * 86400)
    one_day = composite_schedule(profiles, evse_id=1, start=start, duration=86400)
    assert len(one_day.periods) * 50 > MAX_PERIODS


@pytest.mark.parametrize(
    ("start", "duration"),
    [(datetime(9999, 12, 31, 23, tzinfo=UTC), 7200), (datetime(1, 1, 1, tzinfo=UTC), -1)],
)
def test_bound_calendar_window(start: datetime, duration: int) -> None:
    with pytest.raises(OcppScheduleError):
        composite_schedule([], evse_id=1, start=start, duration=duration)
    assert (
        composite_schedule(
            [], evse_id=1, start=datetime(9999, 12, 31, 22, tzinfo=UTC), duration=3600
        )
        .periods[0]
        .limit
        == 48.0
    )

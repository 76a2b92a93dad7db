"""What the library writes conforms to the official OCPP JSON schemas.

SetChargingProfile requests (same version and cross-version), SetChargingProfile
responses, ClearChargingProfile requests and responses, and GetCompositeSchedule
responses computed from installed profiles, for OCPP 1.6, 2.0.1 and 2.1. The
schemas are the ones the ``ocpp`` package ships; ``strategies.schema_validator``
checks ``date-time`` formats and ``multipleOf`` on the decimal text.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import VERSIONS, assert_schema_valid, at, schema_errors, set_charging_profile

from ocpp_schedule import (
    ChargingProfile,
    ChargingProfilePurpose,
    ClearChargingProfileRequest,
    ClearChargingProfileResult,
    OcppVersion,
    ProfileStore,
    RejectionReason,
    SetChargingProfileRequest,
    SetChargingProfileResult,
    StationConfig,
    StationState,
    Transaction,
    VersionError,
    composite_schedule,
    install,
    install_local,
    read_set_charging_profile,
    write_set_charging_profile,
)
from ocpp_schedule.station import write_clear_charging_profile
from ocpp_schedule.wire import rejected_composite_response

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def wire(data: Any) -> Any:
    return json.loads(json.dumps(data, allow_nan=False))


# ------------------------------------------------------- SetChargingProfile requests

_OPAQUE = ("salesTariff", "customData", "absolutePriceSchedule", "priceLevelSchedule")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(VERSIONS).flatmap(lambda v: st.tuples(st.just(v), set_charging_profile(v))),
    st.sampled_from(VERSIONS),
)
def test_written_requests_are_valid_or_refused(
    source: tuple[str, dict[str, Any]], target: str
) -> None:
    """A request read in one version and written in any version is valid there, or refused."""
    version, payload = source
    req = read_set_charging_profile(payload, version)
    try:
        out = wire(write_set_charging_profile(req, target))
    except VersionError as exc:
        assert target != version, "a payload could not be written in its own version"
        assert exc.field
        return
    errors = schema_errors(out, target, "SetChargingProfileRequest")
    # Only what the library carries verbatim may break a bound of the target version
    # (2.1 requires salesTariff.id >= 0, 2.0.1 allows any id).
    assert all(any(key in e for key in _OPAQUE) for e in errors), errors
    if target == version:
        assert not errors


def _profile_from_python() -> ChargingProfile:
    """A profile built in Python with plain datetimes (no original text to write back)."""
    return ChargingProfile.model_validate(
        {
            "id": 5,
            "stackLevel": 1,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "validFrom": datetime(2024, 1, 1, 1, tzinfo=UTC) + timedelta(microseconds=250),
            "validTo": datetime(2024, 1, 2, 3, tzinfo=UTC).astimezone(),
            "chargingSchedule": [
                {
                    "id": 1,
                    "startSchedule": T0,
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [
                        {"startPeriod": 0, "limit": 16},
                        {"startPeriod": 60, "limit": 6.5, "numberPhases": 1},
                    ],
                }
            ],
        }
    )


@pytest.mark.parametrize("version", VERSIONS)
def test_requests_built_in_python_are_valid(version: str) -> None:
    for purpose in ("TxDefaultProfile", "ChargePointMaxProfile", "ChargingStationMaxProfile"):
        profile = _profile_from_python().model_copy(
            update={"charging_profile_purpose": ChargingProfilePurpose(purpose)}
        )
        req = SetChargingProfileRequest(evse_id=0, charging_profile=profile)
        out = wire(write_set_charging_profile(req, version))
        assert_schema_valid(out, version, "SetChargingProfileRequest")
        prof = out["csChargingProfiles" if version == "1.6" else "chargingProfile"]
        assert prof["validFrom"] == "2024-01-01T01:00:00.000250Z"
        assert prof["validTo"] == "2024-01-02T03:00:00Z"


# ------------------------------------------------------ SetChargingProfile responses


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("reason", list(RejectionReason))
def test_rejected_set_charging_profile_answers(version: str, reason: RejectionReason) -> None:
    result = SetChargingProfileResult(
        accepted=False, reason=reason, rule="K01.FR.06", message="x" * 2000
    )
    out = wire(result.to_payload(version))
    assert_schema_valid(out, version, "SetChargingProfileResponse")
    assert out["status"] == "Rejected"
    if version == "1.6":
        assert out == {"status": "Rejected"}
    else:
        assert out["statusInfo"]["reasonCode"] == reason.reason_code


@pytest.mark.parametrize("version", VERSIONS)
def test_accepted_set_charging_profile_answers(version: str) -> None:
    out = wire(SetChargingProfileResult(accepted=True, replaced=(1, 2)).to_payload(version))
    assert out == {"status": "Accepted"}
    assert_schema_valid(out, version, "SetChargingProfileResponse")


@SETTINGS
@given(st.sampled_from(VERSIONS).flatmap(lambda v: st.tuples(st.just(v), set_charging_profile(v))))
def test_answers_from_install_are_valid(source: tuple[str, dict[str, Any]]) -> None:
    version, payload = source
    state = StationState(
        version=OcppVersion(version),
        transactions=(Transaction(id="1", evse_id=1, start=T0),),
    )
    _, result = install(ProfileStore(), read_set_charging_profile(payload, version), state)
    assert_schema_valid(wire(result.to_payload(version)), version, "SetChargingProfileResponse")


# ---------------------------------------------------------------- ClearChargingProfile

_ALL_PURPOSES = st.sampled_from(list(ChargingProfilePurpose))


@SETTINGS
@given(
    st.builds(
        ClearChargingProfileRequest,
        charging_profile_id=st.none() | st.integers(-(2**31), 2**31 - 1),
        evse_id=st.none() | st.integers(0, 10),
        charging_profile_purpose=st.none() | _ALL_PURPOSES,
        stack_level=st.none() | st.integers(0, 100),
    ),
    st.sampled_from(VERSIONS),
)
def test_clear_requests_are_valid_or_refused(
    request: ClearChargingProfileRequest, version: str
) -> None:
    try:
        out = wire(write_clear_charging_profile(request, version))
    except VersionError as exc:
        assert exc.field == "chargingProfilePurpose"
        return
    name = "ClearChargingProfile" if version == "1.6" else "ClearChargingProfileRequest"
    assert_schema_valid(out, version, name)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("cleared", [(), (1,), (3, -4)])
def test_clear_answers_are_valid(version: str, cleared: tuple[int, ...]) -> None:
    out = wire(ClearChargingProfileResult(cleared).to_payload(version))
    assert out == {"status": "Accepted" if cleared else "Unknown"}
    assert_schema_valid(out, version, "ClearChargingProfileResponse")


# ---------------------------------------------------------- GetCompositeSchedule

COMPOSITE = "GetCompositeScheduleResponse"


def _request(version: str, evse: int, profile: dict[str, Any]) -> SetChargingProfileRequest:
    if version == "1.6":
        profile = dict(profile)
        profile["chargingProfileId"] = profile.pop("id")
        if "transactionId" in profile:
            profile["transactionId"] = int(profile["transactionId"])
        schedule = dict(profile["chargingSchedule"][0])
        schedule.pop("id")
        profile["chargingSchedule"] = schedule
        if profile["chargingProfilePurpose"] == "ChargingStationMaxProfile":
            profile["chargingProfilePurpose"] = "ChargePointMaxProfile"
        return read_set_charging_profile({"connectorId": evse, "csChargingProfiles": profile})
    return read_set_charging_profile({"evseId": evse, "chargingProfile": profile}, version)


def _profile(
    pid: int,
    purpose: str,
    periods: list[tuple[int, float, int | None]],
    *,
    unit: str = "A",
    kind: str = "Absolute",
    start: int | None = 0,
    stack: int = 0,
    **extra: Any,
) -> dict[str, Any]:
    schedule: dict[str, Any] = {
        "id": 1,
        "chargingRateUnit": unit,
        "chargingSchedulePeriod": [
            {"startPeriod": s, "limit": lim, **({"numberPhases": n} if n else {})}
            for s, lim, n in periods
        ],
    }
    if start is not None and kind != "Relative":
        schedule["startSchedule"] = at(start)
    schedule.update(extra.pop("schedule", {}))
    return {
        "id": pid,
        "stackLevel": stack,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": kind,
        "chargingSchedule": [schedule],
        **extra,
    }


def _station(version: str) -> tuple[ProfileStore, StationState, Transaction]:
    """A station with a max profile, TxDefaults on EVSE 0 and 1, a TxProfile and (2.x) a cap."""
    tx = Transaction(id="77", evse_id=1, start=T0 + timedelta(minutes=5), priority_charging=True)
    config = StationConfig(
        evse_ids=(1, 2),
        supported_additional_purposes=frozenset(
            {ChargingProfilePurpose.PRIORITY_CHARGING, ChargingProfilePurpose.LOCAL_GENERATION}
        ),
    )
    state = StationState(config=config, version=OcppVersion(version), transactions=(tx,))
    max_purpose = "ChargingStationMaxProfile"
    requests = [
        (0, _profile(1, max_purpose, [(0, 32.0, None), (3600, 16.1, 1)])),
        (
            0,
            _profile(
                2,
                "TxDefaultProfile",
                [(0, 11000.0, None), (1800, 7360.0, 1), (5400, 22000.0, 3)],
                unit="W",
                kind="Recurring",
                recurrencyKind="Daily",
                start=-600,
                schedule={"minChargingRate": 1400.0},
            ),
        ),
        (
            1,
            _profile(
                3,
                "TxDefaultProfile",
                [(0, 13.3, 2), (900, 0.0, None)],
                stack=1,
                start=600,
                validTo=at(6000),
            ),
        ),
        (
            1,
            _profile(
                4,
                "TxProfile",
                [(0, 10.0, None), (1200, 6.7, None)],
                kind="Relative",
                start=None,
                stack=2,
                transactionId="77",
                schedule={"duration": 2400},
            ),
        ),
    ]
    local: list[tuple[int, dict[str, Any]]] = []
    if version != "1.6":
        local.append(
            (0, _profile(5, "ChargingStationExternalConstraints", [(0, 20000.0, None)], unit="W"))
        )
    if version == "2.1":
        requests.append(
            (
                1,
                _profile(6, "PriorityCharging", [(0, 30.0, None)], kind="Relative", start=None),
            )
        )
        local.append((1, _profile(7, "LocalGeneration", [(0, 2000.0, None)], unit="W", stack=1)))
    store = ProfileStore()
    for evse, profile in requests:
        store, result = install(store, _request(version, evse, profile), state)
        assert result.accepted, (profile["id"], str(result))
    for evse, profile in local:
        store, result = install_local(store, _request(version, evse, profile), state)
        assert result.accepted, (profile["id"], str(result))
    return store, state, tx


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("evse", [0, 1, 2])
@pytest.mark.parametrize("unit", [None, "A", "W"])
@pytest.mark.parametrize("duration", [0, 1, 900, 86_400 * 2 + 17])
def test_composite_answers_are_valid(
    version: str, evse: int, unit: str | None, duration: int
) -> None:
    store, state, tx = _station(version)
    for start in (T0, T0 + timedelta(seconds=1234), T0 - timedelta(hours=3)):
        for transaction in (tx, None):
            schedule = composite_schedule(
                store,
                evse_id=evse,
                start=start,
                duration=duration,
                unit=unit,
                transaction=transaction,
                config=state.config,
            )
            out = wire(schedule.to_payload(version))
            assert_schema_valid(out, version, COMPOSITE)
            inner = out["chargingSchedule"] if version == "1.6" else out["schedule"]
            assert inner["duration"] == duration
            assert inner["chargingRateUnit"] == (unit or "A")
            assert inner["chargingSchedulePeriod"][0]["startPeriod"] == 0


def test_composite_answer_of_a_station_without_profiles() -> None:
    for version in VERSIONS:
        schedule = composite_schedule(ProfileStore(), evse_id=0, start=T0, duration=0, unit="W")
        assert_schema_valid(wire(schedule.to_payload(version)), version, COMPOSITE)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("reason", ["", "UnknownEVSE", "UnsupportedRateUnit"])
def test_rejected_composite_answers_are_valid(version: str, reason: str) -> None:
    out = wire(rejected_composite_response(version, reason))
    assert out["status"] == "Rejected"
    assert_schema_valid(out, version, COMPOSITE)


# ------------------------------------------------- composites of generated stations

_LIMITS = {"A": st.integers(0, 800).map(lambda k: k / 10), "W": st.integers(0, 500).map(float)}


@st.composite
def _generated_profile(draw: Any, version: str, pid: int) -> tuple[int, dict[str, Any], bool]:
    """(evse, 2.x-shaped profile, local?) that a station would mostly accept."""
    purposes = ["ChargingStationMaxProfile", "TxDefaultProfile", "TxProfile"]
    if version != "1.6":
        purposes.append("ChargingStationExternalConstraints")
    if version == "2.1":
        purposes += ["PriorityCharging", "LocalGeneration"]
    purpose = draw(st.sampled_from(purposes))
    evse = {
        "ChargingStationMaxProfile": 0,
        "TxProfile": 1,
        "PriorityCharging": 1,
    }.get(purpose, draw(st.sampled_from([0, 1, 2])))
    kind = draw(st.sampled_from(["Absolute", "Recurring", "Relative"]))
    if purpose == "ChargingStationMaxProfile" and kind == "Relative":
        kind = "Absolute"
    unit = draw(st.sampled_from(["A", "W"]))
    steps = draw(st.lists(st.integers(1, 7200), max_size=3))
    starts = [0]
    for step in steps:
        starts.append(starts[-1] + step)
    factor = 1.0 if unit == "A" else 100.0
    periods = [
        (s, draw(_LIMITS[unit]) * factor, draw(st.none() | st.integers(1, 3))) for s in starts
    ]
    extra: dict[str, Any] = {}
    if kind == "Recurring":
        extra["recurrencyKind"] = draw(st.sampled_from(["Daily", "Weekly"]))
    if purpose == "TxProfile":
        extra["transactionId"] = "77"
    schedule: dict[str, Any] = {}
    if draw(st.booleans()) and purpose != "PriorityCharging":
        schedule["duration"] = draw(st.integers(0, 86_400))
    if draw(st.booleans()) and purpose in ("TxDefaultProfile", "TxProfile"):
        schedule["minChargingRate"] = draw(_LIMITS[unit]) * factor
    if draw(st.booleans()):
        extra["validFrom"] = at(draw(st.integers(-7200, 7200)))
    profile = _profile(
        pid,
        purpose,
        periods,
        unit=unit,
        kind=kind,
        start=draw(st.integers(-86_400, 86_400)),
        stack=draw(st.integers(0, 3)),
        schedule=schedule,
        **extra,
    )
    local = purpose in ("ChargingStationExternalConstraints", "LocalGeneration")
    return evse, profile, local


@st.composite
def _generated_station(draw: Any) -> tuple[str, ProfileStore, StationState, int]:
    version = draw(st.sampled_from(VERSIONS))
    config = StationConfig(
        evse_ids=(1, 2),
        supported_additional_purposes=frozenset(
            {ChargingProfilePurpose.PRIORITY_CHARGING, ChargingProfilePurpose.LOCAL_GENERATION}
        ),
    )
    tx = Transaction(id="77", evse_id=1, start=T0, priority_charging=draw(st.booleans()))
    state = StationState(config=config, version=OcppVersion(version), transactions=(tx,))
    store = ProfileStore()
    accepted = 0
    for pid in range(1, draw(st.integers(1, 6)) + 1):
        evse, profile, local = draw(_generated_profile(version, pid))
        entry = install_local if local else install
        store, result = entry(store, _request(version, evse, profile), state)
        accepted += result.accepted
    return version, store, state, accepted


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    _generated_station(),
    st.sampled_from([0, 1, 2]),
    st.integers(0, 3 * 86_400),
    st.sampled_from([None, "A", "W"]),
    st.integers(-86_400, 86_400),
    st.booleans(),
)
def test_composite_answers_of_generated_stations_are_valid(
    station: tuple[str, ProfileStore, StationState, int],
    evse: int,
    duration: int,
    unit: str | None,
    offset: int,
    with_tx: bool,
) -> None:
    version, store, state, _ = station
    schedule = composite_schedule(
        store,
        evse_id=evse,
        start=T0 + timedelta(seconds=offset),
        duration=duration,
        unit=unit,
        transaction=state.transactions[0] if with_tx else None,
        config=state.config,
    )
    out = wire(schedule.to_payload(version))
    assert_schema_valid(out, version, COMPOSITE)

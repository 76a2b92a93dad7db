"""Adapters to the ``ocpp`` package: round trips through its objects and its wire mapping.

``_wire_call`` / ``_wire_result`` send a message the way ``ocpp.ChargePoint``
does (dataclasses to dicts, ``None`` dropped, keys to camelCase, the package's
schema validation, which parses 1.6 numbers as ``Decimal``, JSON text) and
receive it the way the other side does (``camel_to_snake_case``: a handler's
keyword arguments, or the call_result object ``ChargePoint.call`` returns).
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import textwrap
from decimal import Decimal
from typing import Any

import pytest
from helpers import T0, at, on, profile, tx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ocpp import messages
from ocpp.charge_point import (
    camel_to_snake_case,
    remove_nones,
    serialize_as_dict,
    snake_to_camel_case,
)
from ocpp.exceptions import FormatViolationError
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v16 import datatypes as types16
from ocpp.v16 import enums as enums16
from ocpp.v21 import call as call21
from ocpp.v21 import call_result as result21
from ocpp.v21 import datatypes as types21
from ocpp.v21 import enums as enums21
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from ocpp.v201 import datatypes as types201
from strategies import assert_schema_valid, set_charging_profile
from test_exact_json import as_wire, exactly_equal
from test_exact_json import payloads as schema_payloads

from ocpp_schedule import (
    ChargingProfilePurpose,
    ChargingRateUnit,
    ClearChargingProfileRequest,
    ClearChargingProfileResult,
    OcppVersion,
    PayloadError,
    ProfileStore,
    RejectionReason,
    SetChargingProfileResult,
    StationConfig,
    VersionError,
    composite_schedule,
    read_set_charging_profile,
    write_set_charging_profile,
)
from ocpp_schedule.station import read_clear_charging_profile, write_clear_charging_profile
from ocpp_schedule.tools import adapters as ad

VERSIONS = ("1.6", "2.0.1")
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MODULES = {
    ("1.6", "call"): call16,
    ("1.6", "call_result"): result16,
    ("2.0.1", "call"): call201,
    ("2.0.1", "call_result"): result201,
}


def _wire_call(message: Any, version: str) -> dict[str, Any]:
    """What a handler receives as keyword arguments when the other side sends ``message``."""
    payload = remove_nones(snake_to_camel_case(serialize_as_dict(message)))
    call = messages.Call("1", type(message).__name__, payload)
    messages._validate_payload(call, version)
    received = messages.unpack(call.to_json())
    messages._validate_payload(received, version)
    kwargs: dict[str, Any] = camel_to_snake_case(received.payload)
    return kwargs


def _wire_result(message: Any, version: str) -> Any:
    """The call_result object ``ChargePoint.call`` returns when a handler answered ``message``."""
    action = type(message).__name__
    payload = remove_nones(snake_to_camel_case(serialize_as_dict(message)))
    sent = messages.CallResult("1", payload, action)
    messages._validate_payload(sent, version)
    received = messages.unpack(sent.to_json())
    received.action = action
    messages._validate_payload(received, version)
    cls = getattr(MODULES[(version, "call_result")], action)
    return cls(**camel_to_snake_case(received.payload))


def _has_decimal(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_decimal(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_decimal(v) for v in value)
    if hasattr(value, "__dataclass_fields__"):
        return _has_decimal(serialize_as_dict(value))
    return isinstance(value, Decimal)


def _uncarried(value: Any) -> list[str]:
    """The keys (and nulls) the ocpp package's mapping would not bring across unchanged."""
    out: list[str] = []
    if value is None:
        out.append("null")
    elif isinstance(value, dict):
        for key, item in value.items():
            if snake_to_camel_case(camel_to_snake_case({key: 0})) != {key: 0}:
                out.append(key)
            out.extend(_uncarried(item))
    elif isinstance(value, list):
        for item in value:
            out.extend(_uncarried(item))
    return out


# ------------------------------------------------------------------ SetChargingProfile


@SETTINGS
@given(st.sampled_from(VERSIONS).flatmap(lambda v: st.tuples(st.just(v), set_charging_profile(v))))
def test_set_charging_profile_round_trip(source: tuple[str, dict[str, Any]]) -> None:
    version, payload = source
    request = read_set_charging_profile(payload, version)
    try:
        message = ad.to_ocpp_set_charging_profile(request, version)
    except PayloadError as exc:
        # Only a key the package's mapping changes (vendor keys in customData) or a null.
        assert _uncarried(payload), exc
        assert exc.field
        return
    assert not _uncarried(payload)
    assert isinstance(message, MODULES[(version, "call")].SetChargingProfile)
    assert ad.ocpp_payload(message) == payload
    assert ad.from_ocpp_set_charging_profile(message) == request
    received = _wire_call(message, version)
    back = ad.from_ocpp_set_charging_profile(received, version)
    assert back == request
    assert write_set_charging_profile(back, version) == payload


def test_v16_numbers_arrive_as_decimals_and_are_read_as_floats() -> None:
    payload = {
        "connectorId": 1,
        "csChargingProfiles": {
            "chargingProfileId": 3,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": {
                "startSchedule": "2024-01-01T00:00:00.000Z",
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.3}],
                "minChargingRate": 6.1,
            },
        },
    }
    message = ad.to_ocpp_set_charging_profile(read_set_charging_profile(payload), "1.6")
    received = _wire_call(message, "1.6")
    assert _has_decimal(received)
    back = ad.from_ocpp_set_charging_profile(received, "1.6")
    assert back.charging_profile.schedule().charging_schedule_period[0].limit == 16.3
    assert write_set_charging_profile(back, "1.6") == payload


def test_messages_built_with_the_packages_datatypes_and_enums() -> None:
    """A CSMS that builds its messages with ``ocpp``'s dataclasses and enums is read alike."""
    v16 = call16.SetChargingProfile(
        connector_id=0,
        cs_charging_profiles=types16.ChargingProfile(
            charging_profile_id=7,
            stack_level=1,
            charging_profile_purpose=enums16.ChargingProfilePurposeType.charge_point_max_profile,
            charging_profile_kind=enums16.ChargingProfileKindType.absolute,
            charging_schedule=types16.ChargingSchedule(
                charging_rate_unit=enums16.ChargingRateUnitType.amps,
                charging_schedule_period=[
                    types16.ChargingSchedulePeriod(start_period=0, limit=32.0, number_phases=3)
                ],
                start_schedule="2024-01-01T00:00:00Z",
            ),
        ),
    )
    v201 = call201.SetChargingProfile(
        evse_id=0,
        charging_profile=types201.ChargingProfileType(
            id=7,
            stack_level=1,
            charging_profile_purpose="ChargingStationMaxProfile",
            charging_profile_kind="Absolute",
            charging_schedule=[
                types201.ChargingScheduleType(
                    id=7,  # what 1.6 -> 2.0.1 takes from the profile id
                    charging_rate_unit="A",
                    charging_schedule_period=[
                        types201.ChargingSchedulePeriodType(
                            start_period=0, limit=32.0, number_phases=3
                        )
                    ],
                    start_schedule="2024-01-01T00:00:00Z",
                )
            ],
        ),
    )
    a = ad.from_ocpp_set_charging_profile(v16)
    b = ad.from_ocpp_set_charging_profile(v201)
    assert a.charging_profile.purpose is ChargingProfilePurpose.CHARGE_POINT_MAX_PROFILE
    assert b.charging_profile.purpose is ChargingProfilePurpose.CHARGING_STATION_MAX_PROFILE
    assert write_set_charging_profile(a, "2.0.1") == write_set_charging_profile(b, "2.0.1")
    assert ad.from_ocpp_set_charging_profile(_wire_call(v16, "1.6"), "1.6") == a


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("reason", [None, *RejectionReason])
def test_set_charging_profile_answers_round_trip(
    version: str, reason: RejectionReason | None
) -> None:
    result = SetChargingProfileResult(
        accepted=reason is None, reason=reason, rule="K01.FR.06", message="a reason"
    )
    message = ad.to_ocpp_set_charging_profile_result(result, version)
    assert isinstance(message, MODULES[(version, "call_result")].SetChargingProfile)
    received = _wire_result(message, version)
    answer = ad.from_ocpp_set_charging_profile_result(received)
    assert answer.payload == result.to_payload(version)
    assert answer.accepted is result.accepted
    assert answer.status == result.status
    if version == "1.6":
        assert answer.reason is None
    else:
        assert answer.reason is reason
        assert answer.reason_code == (reason.reason_code if reason else None)
    assert ad.to_ocpp_set_charging_profile_result(answer, version) == message


def test_answers_of_other_stations_keep_every_field() -> None:
    sent = result201.SetChargingProfile(
        status="Rejected",
        status_info=types201.StatusInfoType(reason_code="TxNotFound", additional_info="no tx"),
        custom_data={"vendor_id": "acme", "serial": 42},
    )
    answer = ad.from_ocpp_set_charging_profile_result(_wire_result(sent, "2.0.1"))
    assert answer.payload == {
        "status": "Rejected",
        "statusInfo": {"reasonCode": "TxNotFound", "additionalInfo": "no tx"},
        "customData": {"vendorId": "acme", "serial": 42},
    }
    assert answer.reason is None  # not written by this library
    assert (answer.reason_code, answer.additional_info) == ("TxNotFound", "no tx")
    again = ad.to_ocpp_set_charging_profile_result(answer, "2.0.1")
    assert ad.ocpp_payload(again) == answer.payload
    assert (
        ad.from_ocpp_set_charging_profile_result(result16.SetChargingProfile("NotSupported")).status
        == "NotSupported"
    )


# ----------------------------------------------------------------- ClearChargingProfile

_PURPOSES = st.sampled_from(list(ChargingProfilePurpose))


@SETTINGS
@given(
    st.builds(
        ClearChargingProfileRequest,
        charging_profile_id=st.none() | st.integers(-(2**31), 2**31 - 1),
        evse_id=st.none() | st.integers(0, 10),
        charging_profile_purpose=st.none() | _PURPOSES,
        stack_level=st.none() | st.integers(0, 100),
    ),
    st.sampled_from(VERSIONS),
)
def test_clear_charging_profile_round_trip(
    request: ClearChargingProfileRequest, version: str
) -> None:
    try:
        payload = write_clear_charging_profile(request, version)
    except VersionError:
        with pytest.raises(VersionError):
            ad.to_ocpp_clear_charging_profile(request, version)
        return
    message = ad.to_ocpp_clear_charging_profile(request, version)
    assert isinstance(message, MODULES[(version, "call")].ClearChargingProfile)
    assert ad.ocpp_payload(message) == payload
    back = ad.from_ocpp_clear_charging_profile(_wire_call(message, version), version)
    # 1.6 and 2.x spell the station max differently; otherwise the request comes back whole.
    assert write_clear_charging_profile(back, version) == payload
    if request.charging_profile_purpose is None or not request.charging_profile_purpose.is_max:
        assert back == request


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("cleared", [(), (4, 5)])
def test_clear_charging_profile_answers_round_trip(version: str, cleared: tuple[int, ...]) -> None:
    result = ClearChargingProfileResult(cleared)
    message = ad.to_ocpp_clear_charging_profile_result(result, version)
    assert isinstance(message, MODULES[(version, "call_result")].ClearChargingProfile)
    answer = ad.from_ocpp_clear_charging_profile_result(_wire_result(message, version))
    assert answer.payload == {"status": "Accepted" if cleared else "Unknown"}
    assert ad.to_ocpp_clear_charging_profile_result(answer, version) == message


def test_clear_custom_data_is_kept() -> None:
    """ClearChargingProfile customData (request and criteria) survives the round trip."""
    message = call201.ClearChargingProfile(
        charging_profile_id=3,
        charging_profile_criteria={"evse_id": 1, "custom_data": {"vendor_id": "x"}},
        custom_data={"vendor_id": "y"},
    )
    back = ad.from_ocpp_clear_charging_profile(message)
    assert back == ClearChargingProfileRequest(
        charging_profile_id=3,
        evse_id=1,
        custom_data={"vendorId": "y"},
        criteria_custom_data={"vendorId": "x"},
    )
    assert ad.to_ocpp_clear_charging_profile(back, "2.0.1") == message


# ----------------------------------------------------------------- GetCompositeSchedule


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("unit", [None, ChargingRateUnit.A, ChargingRateUnit.W])
def test_composite_queries_round_trip(version: str, unit: ChargingRateUnit | None) -> None:
    custom = {"vendorId": "acme"} if version != "1.6" else None
    query = ad.CompositeQuery(evse_id=2, duration=3600, charging_rate_unit=unit, custom_data=custom)
    message = ad.to_ocpp_get_composite_schedule(query, version)
    assert isinstance(message, MODULES[(version, "call")].GetCompositeSchedule)
    payload = ad.ocpp_payload(message)
    name = "GetCompositeSchedule" + ("" if version == "1.6" else "Request")
    assert_schema_valid(payload, version, name)
    assert payload[("connectorId" if version == "1.6" else "evseId")] == 2
    assert ad.from_ocpp_get_composite_schedule(_wire_call(message, version), version) == query
    assert ad.from_ocpp_get_composite_schedule(message) == query


def _station() -> tuple[ProfileStore, StationConfig]:
    store = ProfileStore(
        [
            on(0, profile(1, "ChargePointMaxProfile", [(0, 40.0), (1800, 20.5, 1)])),
            on(
                0,
                profile(
                    2,
                    "TxDefaultProfile",
                    [(0, 16.0), (600, 11000.0), (2400, 7400.0, 2)],
                    unit="W",
                    min_rate=1400.0,
                    kind="Recurring",
                    recurrency="Daily",
                ),
            ),
            on(1, profile(3, "TxDefaultProfile", [(0, 13.0, 1)], stack=1, valid_to=3000)),
            on(2, profile(4, "TxProfile", [(0, 10.0)], kind="Relative", start=None), "T2"),
        ]
    )
    return store, StationConfig(evse_ids=(1, 2))


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("evse", [0, 1, 2])
@pytest.mark.parametrize("unit", [None, "A", "W"])
def test_composite_answers_round_trip(version: str, evse: int, unit: str | None) -> None:
    store, config = _station()
    schedule = composite_schedule(
        store,
        evse_id=evse,
        start=at(-300),
        duration=7200,
        unit=unit,
        transaction=tx("T2", evse=2, start=600),
        config=config,
    )
    message = ad.to_ocpp_get_composite_schedule_result(schedule, version)
    assert isinstance(message, MODULES[(version, "call_result")].GetCompositeSchedule)
    received = _wire_result(message, version)
    if version == "1.6":
        assert _has_decimal(received)
    answer = ad.from_ocpp_get_composite_schedule_result(received)
    assert answer.accepted
    assert answer.payload == schedule.to_payload(version)
    read = answer.schedule
    assert read is not None
    assert (read.evse_id, read.start, read.duration) == (evse, schedule.start, 7200)
    assert read.charging_rate_unit is schedule.charging_rate_unit
    assert [p[:3] for p in read.periods] == [p[:3] for p in schedule.periods]
    assert read.to_payload(version) == schedule.to_payload(version)
    assert ad.to_ocpp_get_composite_schedule_result(answer, version) == message


@pytest.mark.parametrize("version", VERSIONS)
def test_composite_answer_rejected_round_trip(version: str) -> None:
    answer = ad.CompositeAnswer.rejected(version, "UnknownEVSE")
    message = ad.to_ocpp_get_composite_schedule_result(answer, version)
    back = ad.from_ocpp_get_composite_schedule_result(_wire_result(message, version))
    assert back == answer
    assert back.schedule is None
    assert back.reason_code == (None if version == "1.6" else "UnknownEVSE")


def test_composite_answers_of_other_stations() -> None:
    """Fields the library does not write (phaseToUse, customData, no numberPhases) are kept."""
    sent = result201.GetCompositeSchedule(
        status="Accepted",
        schedule={
            "evse_id": 1,
            "duration": 60,
            "schedule_start": "2024-01-01T00:00:00.500+01:00",
            "charging_rate_unit": "A",
            "charging_schedule_period": [
                {
                    "start_period": 0,
                    "limit": 16,
                    "phase_to_use": 1,
                    "custom_data": {"vendor_id": "x"},
                }
            ],
        },
        custom_data={"vendor_id": "x"},
    )
    answer = ad.from_ocpp_get_composite_schedule_result(_wire_result(sent, "2.0.1"))
    assert answer.payload["schedule"]["chargingSchedulePeriod"][0]["phaseToUse"] == 1
    assert answer.payload["customData"] == {"vendorId": "x"}
    read = answer.schedule
    assert read is not None
    assert read.start_epoch == int(at(-3600).timestamp())
    assert read.periods[0].number_phases == 3  # absent: OCPP assumes 3
    assert read.periods[0].sources == ()
    assert ad.ocpp_payload(ad.to_ocpp_get_composite_schedule_result(answer, "2.0.1")) == (
        answer.payload
    )
    old_v16 = result16.GetCompositeSchedule(
        status="Accepted",
        connector_id=1,
        charging_schedule={
            "duration": 60,
            "start_schedule": "2024-01-01T00:00:00Z",
            "charging_rate_unit": "W",
            "charging_schedule_period": [{"start_period": 0, "limit": Decimal("7400.0")}],
            "min_charging_rate": Decimal("1000.0"),
        },
    )
    read16 = ad.from_ocpp_get_composite_schedule_result(old_v16).schedule
    assert read16 is not None
    assert read16.start_epoch == int(T0.timestamp())
    assert read16.periods[0][1:5] == (7400.0, 3, (), 1000.0)


@pytest.mark.parametrize("version", [*VERSIONS, "2.1"])
def test_composite_query_answer(version: str) -> None:
    store, config = _station()
    w_only = config.model_copy(
        update={"charging_schedule_allowed_charging_rate_unit": frozenset({ChargingRateUnit.W})}
    )
    name = "GetCompositeScheduleResponse"
    unknown = ad.CompositeQuery(evse_id=3, duration=60).answer(
        store, version, start=T0, config=config
    )
    assert unknown.status == "Rejected"
    assert unknown.reason_code == (None if version == "1.6" else "UnknownEVSE")
    assert_schema_valid(unknown.payload, version, name)
    in_amps = ad.CompositeQuery(evse_id=1, duration=60, charging_rate_unit=ChargingRateUnit.A)
    answer = in_amps.answer(store, version, start=T0, config=w_only)
    assert_schema_valid(answer.payload, version, name)
    if version == "1.6":  # 1.6 has no Rejected for a unit; the station answers in A
        assert answer.schedule is not None
        assert answer.schedule.charging_rate_unit is ChargingRateUnit.A
    else:  # K08.FR.07
        assert (answer.status, answer.reason_code) == ("Rejected", "UnsupportedRateUnit")
    default_unit = ad.CompositeQuery(evse_id=0, duration=60).answer(
        store, version, start=T0, config=w_only
    )
    assert default_unit.schedule is not None
    assert default_unit.schedule.charging_rate_unit is ChargingRateUnit.W
    expected = composite_schedule(store, evse_id=0, start=T0, duration=60, unit="W", config=w_only)
    assert default_unit.payload == expected.to_payload(version)


# ------------------------------------------------------------------------------ errors


def test_keys_the_package_cannot_carry_are_refused_with_their_path() -> None:
    payload = {
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
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6.0}],
                    "customData": {"vendorId": "acme", "max_amps": 3},
                }
            ],
        },
    }
    request = read_set_charging_profile(payload, "2.0.1")
    with pytest.raises(PayloadError) as err:
        ad.to_ocpp_set_charging_profile(request, "2.0.1")
    assert err.value.field == "chargingProfile.chargingSchedule[0].customData.max_amps"
    assert "maxAmps" in str(err.value)
    payload["chargingProfile"]["chargingSchedule"][0]["customData"] = {"vendorId": "a", "x": None}
    with pytest.raises(PayloadError, match="null") as err:
        ad.to_ocpp_set_charging_profile(read_set_charging_profile(payload, "2.0.1"), "2.0.1")
    assert err.value.field == "chargingProfile.chargingSchedule[0].customData.x"


def test_versions_and_message_types_are_checked() -> None:
    query = ad.CompositeQuery(evse_id=1, duration=60)
    # Since issue 14 the adapters convert 2.1 too (V21-30); versions must still agree.
    with pytest.raises(VersionError, match=r"OCPP 2\.1, not 2\.0\.1"):
        ad.from_ocpp_get_composite_schedule(
            ad.to_ocpp_get_composite_schedule(query, "2.1"), "2.0.1"
        )
    message = ad.to_ocpp_get_composite_schedule(query, "1.6")
    with pytest.raises(VersionError, match=r"OCPP 1\.6, not 2\.0\.1"):
        ad.from_ocpp_get_composite_schedule(message, "2.0.1")
    with pytest.raises(TypeError, match=r"expected ocpp\.v16\.call\.SetChargingProfile"):
        ad.from_ocpp_set_charging_profile(message)
    with pytest.raises(VersionError, match="keyword arguments"):
        ad.from_ocpp_get_composite_schedule({"connector_id": 1, "duration": 60})
    with pytest.raises(TypeError, match="expected an ocpp package message"):
        ad.from_ocpp_get_composite_schedule(object())
    with pytest.raises(PayloadError) as err:
        ad.from_ocpp_get_composite_schedule({"evse_id": 1}, "2.0.1")
    assert err.value.field == "duration"
    answer16 = ad.CompositeAnswer.rejected("1.6")
    with pytest.raises(VersionError):
        ad.to_ocpp_get_composite_schedule_result(answer16, "2.0.1")
    with pytest.raises(PayloadError) as err:
        ad.ocpp_message(
            "call", "GetCompositeSchedule", {"connectorId": 1, "duration": 1, "x": 1}, "1.6"
        )
    assert err.value.field == "x"


def test_the_library_works_without_the_ocpp_package() -> None:
    """Importing the adapters needs no ocpp; converting names the extra that installs it."""
    code = textwrap.dedent(
        """
        import sys
        sys.modules["ocpp"] = None  # as if not installed
        import ocpp_schedule
        from ocpp_schedule.tools import adapters
        query = adapters.CompositeQuery(evse_id=1, duration=60)
        print(query.to_payload("1.6"))
        try:
            adapters.to_ocpp_get_composite_schedule(query, "1.6")
        except adapters.MissingExtraError as exc:
            assert isinstance(exc, ImportError)
            print(exc)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    lines = out.splitlines()
    assert json.loads(lines[0].replace("'", '"')) == {"connectorId": 1, "duration": 60}
    assert "pip install 'ocpp-schedule[ocpp]'" in lines[1]


def test_enum_values_match_the_package() -> None:
    """The library's enum values are the package's (so its validation accepts what we write)."""
    assert {u.value for u in ChargingRateUnit} == {e.value for e in enums16.ChargingRateUnitType}
    assert OcppVersion("1.6") in ad.SUPPORTED_VERSIONS


# ------------------------------------------------------------------------- OCPP 2.1 (V21-30)

V21_CALLS = {"call": call21, "call_result": result21}


def _wire21(message: Any, kind: str) -> Any:
    """What the other side receives when ``message`` travels as the JSON ``ocpp_payload`` gives.

    The package's own send path would write ``limitL2``/``SoC`` (the quirk pinned in
    ``test_v21_30_the_packages_own_send_path_misspells_21_keys``), so the JSON is built by
    the adapters; the receiving side is the package's (schema validation, then
    ``camel_to_snake_case``): a handler's keyword arguments, or the call_result object.
    """
    action = type(message).__name__
    payload = ad.ocpp_payload(message)
    sent: Any = (
        messages.Call("1", action, payload)
        if kind == "call"
        else messages.CallResult("1", payload, action)
    )
    messages._validate_payload(sent, "2.1")
    received = messages.unpack(sent.to_json())
    received.action = action
    messages._validate_payload(received, "2.1")
    kwargs = camel_to_snake_case(received.payload)
    return kwargs if kind == "call" else getattr(result21, action)(**kwargs)


def _uncarried21(value: Any, custom: bool = False) -> list[str]:
    """Keys (and nulls) a 2.1 payload cannot carry through the package: in customData those
    its mapping changes; elsewhere none (the adapters map the 2.1 keys by name)."""
    out: list[str] = []
    if value is None:
        out.append("null")
    elif isinstance(value, dict):
        for key, item in value.items():
            if custom and snake_to_camel_case(camel_to_snake_case({key: 0})) != {key: 0}:
                out.append(key)
            out.extend(_uncarried21(item, custom or key == "customData"))
    elif isinstance(value, list):
        for item in value:
            out.extend(_uncarried21(item, custom))
    return out


PER_PHASE_PERIOD = {
    "startPeriod": 0,
    "limit": 3680,
    "limit_L2": 3680,
    "limit_L3": 2300.5,
    "dischargeLimit": -1000,
    "dischargeLimit_L2": -1000.0,
    "dischargeLimit_L3": -500,
    "setpoint": 1000,
    "setpoint_L2": 900,
    "setpoint_L3": 0,
    "setpointReactive": 10,
    "setpointReactive_L2": 20,
    "setpointReactive_L3": 30,
    "operationMode": "CentralSetpoint",
}


def _v21_profile_payload() -> dict[str, Any]:
    return {
        "evseId": 1,
        "chargingProfile": {
            "id": 7,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Absolute",
            "transactionId": "T1",
            "chargingSchedule": [
                {
                    "id": 1,
                    "startSchedule": "2024-01-01T00:00:00Z",
                    "chargingRateUnit": "W",
                    "chargingSchedulePeriod": [dict(PER_PHASE_PERIOD)],
                    "limitAtSoC": {"soc": 80, "limit": 2000},
                }
            ],
        },
    }


def test_v21_30_set_charging_profile_with_renamed_keys_round_trips_exactly() -> None:
    payload = _v21_profile_payload()
    request = read_set_charging_profile(payload, "2.1")
    message = ad.to_ocpp_set_charging_profile(request, "2.1")
    assert isinstance(message, call21.SetChargingProfile)
    # As the package builds it on receipt: the dataclasses' snake_case field names.
    sched = message.charging_profile["charging_schedule"][0]
    period = sched["charging_schedule_period"][0]
    assert {"limit_l2", "limit_l3", "discharge_limit_l2", "setpoint_l3"} <= set(period)
    assert {"setpoint_reactive_l2", "setpoint_reactive_l3"} <= set(period)
    assert sched["limit_at_soc"] == {"soc": 80, "limit": 2000}
    field_names = {f.name for f in dataclasses.fields(types21.ChargingSchedulePeriodType)}
    assert set(period) <= field_names
    assert exactly_equal(ad.ocpp_payload(message), payload)
    assert ad.from_ocpp_set_charging_profile(message) == request
    received = _wire21(message, "call")
    assert received["charging_profile"]["charging_schedule"][0]["limit_at_soc"]["soc"] == 80
    back = ad.from_ocpp_set_charging_profile(received, "2.1")
    assert back == request
    assert exactly_equal(write_set_charging_profile(back, "2.1"), payload)


def test_v21_30_messages_built_with_the_packages_21_datatypes() -> None:
    """A CSMS that builds a 2.1 message with ``ocpp.v21``'s dataclasses is read exactly."""
    message = call21.SetChargingProfile(
        evse_id=1,
        charging_profile=types21.ChargingProfileType(
            id=7,
            stack_level=0,
            charging_profile_purpose=enums21.ChargingProfilePurposeEnumType.tx_profile,
            charging_profile_kind=enums21.ChargingProfileKindEnumType.absolute,
            transaction_id="T1",
            charging_schedule=[
                types21.ChargingScheduleType(
                    id=1,
                    start_schedule="2024-01-01T00:00:00Z",
                    charging_rate_unit=enums21.ChargingRateUnitEnumType.w,
                    charging_schedule_period=[
                        types21.ChargingSchedulePeriodType(
                            start_period=0,
                            limit=3680,
                            limit_l2=3680,
                            limit_l3=2300.5,
                            discharge_limit=-1000,
                            discharge_limit_l2=-1000.0,
                            discharge_limit_l3=-500,
                            setpoint=1000,
                            setpoint_l2=900,
                            setpoint_l3=0,
                            setpoint_reactive=10,
                            setpoint_reactive_l2=20,
                            setpoint_reactive_l3=30,
                            operation_mode=enums21.OperationModeEnumType.central_setpoint,
                        )
                    ],
                    limit_at_soc=types21.LimitAtSoCType(soc=80, limit=2000),
                )
            ],
        ),
    )
    payload = _v21_profile_payload()
    assert exactly_equal(ad.ocpp_payload(message), payload)
    assert ad.from_ocpp_set_charging_profile(message) == read_set_charging_profile(payload, "2.1")


def test_v21_30_the_packages_own_send_path_misspells_21_keys() -> None:
    """The quirk the adapters document: ``ChargePoint.call`` writes ``limitL2`` and ``SoC``,
    which the package's own 2.1 schema validation refuses; the adapters' JSON passes it."""
    message = ad.to_ocpp_set_charging_profile(
        read_set_charging_profile(_v21_profile_payload(), "2.1"), "2.1"
    )
    packaged = remove_nones(snake_to_camel_case(serialize_as_dict(message)))
    period = packaged["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"][0]
    assert "limitL2" in period and "limit_L2" not in period
    assert "SoC" in packaged["chargingProfile"]["chargingSchedule"][0]["limitAtSoC"]
    with pytest.raises(FormatViolationError):
        messages._validate_payload(messages.Call("1", "SetChargingProfile", packaged), "2.1")
    messages._validate_payload(
        messages.Call("1", "SetChargingProfile", ad.ocpp_payload(message)), "2.1"
    )
    # A 2.1 message without the renamed keys is the same either way.
    plain = ad.to_ocpp_clear_charging_profile(ClearChargingProfileRequest(evse_id=1), "2.1")
    assert remove_nones(snake_to_camel_case(serialize_as_dict(plain))) == ad.ocpp_payload(plain)


def test_v21_30_composite_query_and_answer_round_trip() -> None:
    query = ad.CompositeQuery(evse_id=1, duration=600, charging_rate_unit=ChargingRateUnit.W)
    message = ad.to_ocpp_get_composite_schedule(query, "2.1")
    assert isinstance(message, call21.GetCompositeSchedule)
    assert ad.from_ocpp_get_composite_schedule(_wire21(message, "call"), "2.1") == query
    answer_payload = {
        "status": "Accepted",
        "schedule": {
            "evseId": 1,
            "duration": 600,
            "scheduleStart": "2024-01-01T00:00:00Z",
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [
                dict(PER_PHASE_PERIOD),
                {"startPeriod": 300, "limit": 11000, "operationMode": "ChargingOnly"},
            ],
        },
    }
    answer = ad.CompositeAnswer.from_payload(answer_payload, "2.1")
    result = ad.to_ocpp_get_composite_schedule_result(answer, "2.1")
    assert isinstance(result, result21.GetCompositeSchedule)
    assert result.schedule["charging_schedule_period"][0]["limit_l2"] == 3680
    assert exactly_equal(ad.ocpp_payload(result), answer_payload)
    back = ad.from_ocpp_get_composite_schedule_result(_wire21(result, "call_result"))
    assert exactly_equal(back.payload, answer_payload)
    assert back.version is OcppVersion.V21


def test_v21_31_a_per_phase_answer_is_read_by_its_all_phase_limit() -> None:
    """With limit_L2/limit_L3, ``limit`` is L1's (§2.18): the schedule's limit is the
    all-phase one the engine derives (V21-8): the sum in W, the least phase in use in A."""

    def answer(unit: str, period: dict[str, Any]) -> ad.CompositeAnswer:
        payload = {
            "status": "Accepted",
            "schedule": {
                "evseId": 1,
                "duration": 60,
                "scheduleStart": "2024-01-01T00:00:00Z",
                "chargingRateUnit": unit,
                "chargingSchedulePeriod": [{"startPeriod": 0, **period}],
            },
        }
        return ad.CompositeAnswer.from_payload(payload, "2.1")

    def limit(unit: str, **period: Any) -> float:
        schedule = answer(unit, period).schedule
        assert schedule is not None
        return schedule.periods[0].limit

    # The example: 3,680 W on each of L1/L2/L3 is 11,040 W, not 3,680 W.
    assert limit("W", limit=3680, limit_L2=3680, limit_L3=3680) == 11040.0
    assert limit("W", limit=3680, limit_L3=1000) == 3680 + 3680 + 1000
    assert limit("W", limit=3680, limit_L2=3680, limit_L3=3680, numberPhases=2) == 7360.0
    assert limit("A", limit=16, limit_L2=10, limit_L3=16) == 10.0
    assert limit("A", limit=16, limit_L2=16, limit_L3=6, numberPhases=2) == 16.0
    assert limit("W", limit=3680) == 3680.0  # without L2/L3 limit is the all-phase value
    with pytest.raises(PayloadError) as err:
        limit("W", limit=3680, limit_L2="x")
    assert err.value.field == "schedule.chargingSchedulePeriod[0].limit_L2"


def test_v21_31_the_engines_per_phase_answer_reads_back_as_computed() -> None:
    """An answer the library writes for a per-phase TxProfile reads back with the engine's
    all-phase limit (3,680 W on each phase at 230 V is 16 A, not 5.3 A)."""
    payload = _v21_profile_payload()
    periods = payload["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"]
    periods[0] = {"startPeriod": 0, "limit": 3680, "limit_L2": 3680, "limit_L3": 3680}
    del payload["chargingProfile"]["chargingSchedule"][0]["limitAtSoC"]
    request = read_set_charging_profile(payload, "2.1")
    store = ProfileStore([on(1, request.charging_profile, "T1")])
    for unit in ("A", "W"):
        schedule = composite_schedule(
            store,
            evse_id=1,
            start=T0,
            duration=60,
            unit=unit,
            transaction=tx("T1", evse=1, start=0),
            config=StationConfig(),
        )
        answer = ad.CompositeAnswer.of(schedule, "2.1")
        read = answer.schedule
        assert read is not None
        assert [p.limit for p in read.periods] == [p.limit for p in schedule.periods]
    assert schedule.periods[0].limit == pytest.approx(11040.0)


def test_v21_30_clear_charging_profile_round_trip() -> None:
    payload = {
        "chargingProfileCriteria": {
            "evseId": 1,
            "chargingProfilePurpose": "TxDefaultProfile",
            "stackLevel": 2,
            "customData": {"vendorId": "acme"},
        },
        "customData": {"vendorId": "acme", "n": 1},
    }
    request = read_clear_charging_profile(payload, "2.1")
    message = ad.to_ocpp_clear_charging_profile(request, "2.1")
    assert isinstance(message, call21.ClearChargingProfile)
    back = ad.from_ocpp_clear_charging_profile(_wire21(message, "call"), "2.1")
    assert exactly_equal(write_clear_charging_profile(back, "2.1"), payload)
    empty = read_clear_charging_profile({"chargingProfileCriteria": {}}, "2.1")
    message = ad.to_ocpp_clear_charging_profile(empty, "2.1")
    assert ad.ocpp_payload(message) == {"chargingProfileCriteria": {}}
    answer = ClearChargingProfileResult(cleared=(3,))
    result = ad.to_ocpp_clear_charging_profile_result(answer, "2.1")
    assert isinstance(result, result21.ClearChargingProfile)
    read = ad.from_ocpp_clear_charging_profile_result(_wire21(result, "call_result"))
    assert read.status == "Accepted"


def test_v21_30_vendor_keys_in_custom_data_keep_the_packages_mapping() -> None:
    """Only the schema's keys are mapped by name; in customData a key the package's mapping
    changes (``limit_L2`` there becomes ``limitL2``) is refused with its path."""
    payload = _v21_profile_payload()
    payload["chargingProfile"]["customData"] = {"vendorId": "acme", "limit_L2": 1}
    with pytest.raises(PayloadError) as err:
        ad.to_ocpp_set_charging_profile(read_set_charging_profile(payload, "2.1"), "2.1")
    assert err.value.field == "chargingProfile.customData.limit_L2"


_V21_ROUND_TRIPS: dict[str, tuple[Any, Any, Any, str]] = {
    "SetChargingProfileRequest": (
        lambda p: ad.to_ocpp_set_charging_profile(read_set_charging_profile(p, "2.1"), "2.1"),
        lambda m: write_set_charging_profile(ad.from_ocpp_set_charging_profile(m, "2.1"), "2.1"),
        call21.SetChargingProfile,
        "call",
    ),
    "ClearChargingProfileRequest": (
        lambda p: ad.to_ocpp_clear_charging_profile(read_clear_charging_profile(p, "2.1"), "2.1"),
        lambda m: write_clear_charging_profile(
            ad.from_ocpp_clear_charging_profile(m, "2.1"), "2.1"
        ),
        call21.ClearChargingProfile,
        "call",
    ),
    "GetCompositeScheduleRequest": (
        lambda p: ad.to_ocpp_get_composite_schedule(
            ad.CompositeQuery.from_payload(p, "2.1"), "2.1"
        ),
        lambda m: ad.from_ocpp_get_composite_schedule(m, "2.1").to_payload("2.1"),
        call21.GetCompositeSchedule,
        "call",
    ),
    "GetCompositeScheduleResponse": (
        lambda p: ad.to_ocpp_get_composite_schedule_result(
            ad.CompositeAnswer.from_payload(p, "2.1"), "2.1"
        ),
        lambda m: ad.from_ocpp_get_composite_schedule_result(m, "2.1").payload,
        result21.GetCompositeSchedule,
        "call_result",
    ),
}


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
@pytest.mark.parametrize("name", sorted(_V21_ROUND_TRIPS))
def test_v21_30_schema_valid_payloads_round_trip_exactly(name: str, data: st.DataObject) -> None:
    """Schema-valid 2.1 payloads (generated from the official schemas) go through the
    package's 2.1 dataclasses and its receiving side and come back exactly."""
    payload = as_wire(data.draw(schema_payloads("2.1", name)))
    to_ocpp, from_ocpp, cls, kind = _V21_ROUND_TRIPS[name]
    try:
        message = to_ocpp(payload)
    except PayloadError as exc:
        # Only a key in customData the package's mapping changes, or a null.
        assert _uncarried21(payload), exc
        return
    assert not _uncarried21(payload)
    assert isinstance(message, cls)
    assert exactly_equal(ad.ocpp_payload(message), payload)
    assert exactly_equal(from_ocpp(message), payload)
    assert exactly_equal(from_ocpp(_wire21(message, kind)), payload)


@SETTINGS
@given(set_charging_profile("2.1"))
def test_v21_30_library_generated_profiles_round_trip(payload: dict[str, Any]) -> None:
    request = read_set_charging_profile(payload, "2.1")
    try:
        message = ad.to_ocpp_set_charging_profile(request, "2.1")
    except PayloadError as exc:
        assert _uncarried21(payload), exc
        return
    back = ad.from_ocpp_set_charging_profile(_wire21(message, "call"), "2.1")
    assert back == request
    assert exactly_equal(write_set_charging_profile(back, "2.1"), payload)

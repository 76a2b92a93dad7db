"""SetChargingProfile payload codecs: round trips, version detection, cross-version
writing and reader errors (docs/semantics.md T3).

Every payload used here is checked against the official OCPP JSON schemas
(``strategies.assert_schema_valid``), so a round trip of a payload the
strategies make is a round trip of a payload a real CSMS may send.
"""

from __future__ import annotations

import copy
import functools
import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample
from strategies import (
    CUSTOM_DATA,
    V16_KINDS,
    V16_PURPOSES,
    V21_KINDS,
    V21_PURPOSES,
    V201_PURPOSES,
    VERSIONS,
    assert_schema_valid,
    json_values,
    schema_errors,
    set_charging_profile,
    set_charging_profile_v16,
    set_charging_profile_v21,
    set_charging_profile_v201,
)

from ocpp_schedule import (
    ChargingProfilePurpose,
    OcppScheduleError,
    OcppVersion,
    PayloadError,
    VersionError,
    detect_version,
    read_charging_profile,
    read_set_charging_profile,
    write_charging_profile,
    write_set_charging_profile,
)

REQUEST = "SetChargingProfileRequest"
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FUZZ = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def as_json(data: Any) -> Any:
    """``data`` through JSON text and back: what goes over the wire."""
    return json.loads(json.dumps(data, allow_nan=False))


def roundtrip(payload: dict[str, Any], version: str | None) -> dict[str, Any]:
    req = read_set_charging_profile(payload, version)
    return as_json(write_set_charging_profile(req, version or detect_version(payload)))


# ----------------------------------------------------------------- examples

V16_TX = {
    "connectorId": 1,
    "csChargingProfiles": {
        "chargingProfileId": 7,
        "transactionId": 1234,
        "stackLevel": 2,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Absolute",
        "validFrom": "2024-01-01T00:00:00.000Z",
        "chargingSchedule": {
            "duration": 3600,
            "startSchedule": "2024-01-01T08:00:00+01:00",
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": 16.0, "numberPhases": 3},
                {"startPeriod": 1800, "limit": 8.1},
            ],
            "minChargingRate": 6.0,
        },
    },
}
V16_MAX = {
    "connectorId": 0,
    "csChargingProfiles": {
        "chargingProfileId": -1,
        "stackLevel": 0,
        "chargingProfilePurpose": "ChargePointMaxProfile",
        "chargingProfileKind": "Recurring",
        "recurrencyKind": "Daily",
        "chargingSchedule": {
            "startSchedule": "2024-01-01T00:00:00Z",
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000}],
        },
    },
}
V201_MAX = {
    "evseId": 0,
    "chargingProfile": {
        "id": -1,
        "stackLevel": 0,
        "chargingProfilePurpose": "ChargingStationMaxProfile",
        "chargingProfileKind": "Recurring",
        "recurrencyKind": "Daily",
        "chargingSchedule": [
            {
                "id": -1,
                "startSchedule": "2024-01-01T00:00:00Z",
                "chargingRateUnit": "W",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000}],
            }
        ],
    },
}
V201_TX = {
    "evseId": 2,
    "customData": {"vendorId": "com.example", "note": {"deep": [1, None]}},
    "chargingProfile": {
        "id": 12,
        "stackLevel": 1,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative",
        "transactionId": "42",
        "customData": {"vendorId": "com.example", "level": "profile"},
        "chargingSchedule": [
            {
                "id": 3,
                "chargingRateUnit": "W",
                "customData": {"vendorId": "com.example", "level": "schedule"},
                "chargingSchedulePeriod": [
                    {
                        "startPeriod": 0,
                        "limit": 7400.0,
                        "numberPhases": 1,
                        "phaseToUse": 2,
                        "customData": {"vendorId": "com.example", "level": "period"},
                    }
                ],
            }
        ],
    },
}
V21_DYNAMIC = {
    "evseId": 1,
    "chargingProfile": {
        "id": 30,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Dynamic",
        "dynUpdateInterval": 60,
        "dynUpdateTime": "2024-01-01T00:00:00.5Z",
        "chargingSchedule": [
            {
                "id": 1,
                "chargingRateUnit": "A",
                "randomizedDelay": 30,
                "limitAtSoC": {"soc": 80, "limit": 10.0, "customData": {"vendorId": "x"}},
                "absolutePriceSchedule": {
                    "timeAnchor": "2024-01-01T00:00:00Z",
                    "priceScheduleID": 1,
                    "currency": "EUR",
                    "language": "en",
                    "priceAlgorithm": "org.openchargealliance.costcalc",
                    "priceRuleStacks": [
                        {
                            "duration": 3600,
                            "priceRule": [
                                {
                                    "energyFee": {"exponent": -2, "value": 25},
                                    "powerRangeStart": {"exponent": 0, "value": 0},
                                }
                            ],
                        }
                    ],
                },
                "chargingSchedulePeriod": [
                    {
                        "startPeriod": 0,
                        "limit": 16.0,
                        "limit_L2": 10.0,
                        "limit_L3": 8.0,
                        "dischargeLimit": -5.0,
                        "setpoint": 2.0,
                        "operationMode": "CentralSetpoint",
                        "v2xFreqWattCurve": [
                            {"frequency": 49.8, "power": 1000.0},
                            {"frequency": 50.2, "power": -1000.0},
                        ],
                    },
                    {"startPeriod": 600, "operationMode": "Idle"},
                ],
            }
        ],
    },
}


def _profile_of(payload: dict[str, Any]) -> dict[str, Any]:
    return payload.get("csChargingProfiles") or payload["chargingProfile"]


def _schedules_of(payload: dict[str, Any]) -> list[dict[str, Any]]:
    sched = _profile_of(payload)["chargingSchedule"]
    return [sched] if isinstance(sched, dict) else sched


_ENUMS = {
    "1.6": (V16_PURPOSES, V16_KINDS),
    "2.0.1": (V201_PURPOSES, V16_KINDS),
    "2.1": (V21_PURPOSES, V21_KINDS),
}


@functools.cache
def _sample(version: str) -> tuple[dict[str, Any], ...]:
    """300 payloads of ``version``, the same on every run (derandomized)."""
    out: list[dict[str, Any]] = []

    @settings(
        max_examples=300,
        database=None,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(set_charging_profile(version))
    def collect(payload: dict[str, Any]) -> None:
        out.append(payload)

    collect()
    return tuple(out)


def _covers(version: str, what: str, condition: Any) -> None:
    """The strategy reaches ``what``: in the shared sample, or else by a bounded search.

    The derandomized sample alone proved order-dependent in a full run (one rare case, a
    'z' suffix on 2.1's validTo, missing from it once); ``find`` asks the question directly.
    """
    if any(condition(p) for p in _sample(version)):
        return
    try:
        find(
            set_charging_profile(version),
            condition,
            settings=settings(max_examples=3000, database=None, deadline=None),
        )
    except NoSuchExample:
        raise AssertionError(f"{version}: no payload has {what}") from None


def _period0(payload: dict[str, Any]) -> dict[str, Any]:
    period: dict[str, Any] = _schedules_of(payload)[0]["chargingSchedulePeriod"][0]
    return period


@pytest.mark.parametrize("version", VERSIONS)
def test_strategies_cover_every_purpose_kind_and_unit(version: str) -> None:
    """The strategies reach every enum value and the awkward cases (so the properties test them)."""
    for payload in _sample(version):
        assert_schema_valid(payload, version, REQUEST)
    purposes, kinds = _ENUMS[version]
    for x in purposes:
        _covers(version, x, lambda p, x=x: _profile_of(p)["chargingProfilePurpose"] == x)
    for x in kinds:
        _covers(version, x, lambda p, x=x: _profile_of(p)["chargingProfileKind"] == x)
    for x in ("A", "W"):
        _covers(version, x, lambda p, x=x: _schedules_of(p)[0]["chargingRateUnit"] == x)
    id_key = "chargingProfileId" if version == "1.6" else "id"
    _covers(version, "a negative id", lambda p: _profile_of(p)[id_key] < 0)
    _covers(version, "no validFrom", lambda p: "validFrom" not in _profile_of(p))
    _covers(
        version, "an offset", lambda p: _profile_of(p).get("validFrom", "Z")[-6:-5] in ("+", "-")
    )
    _covers(version, "a fraction", lambda p: "." in _profile_of(p).get("validTo", ""))
    _covers(version, "a 'z'", lambda p: _profile_of(p).get("validTo", "").endswith("z"))
    _covers(version, "no numberPhases", lambda p: "numberPhases" not in _period0(p))
    _covers(version, "numberPhases", lambda p: "numberPhases" in _period0(p))
    if version == "1.6":
        return
    _covers(version, "request customData", lambda p: "customData" in p)
    _covers(version, "profile customData", lambda p: "customData" in _profile_of(p))
    _covers(version, "schedule customData", lambda p: "customData" in _schedules_of(p)[0])
    _covers(version, "period customData", lambda p: "customData" in _period0(p))
    _covers(version, "3 schedules", lambda p: len(_schedules_of(p)) == 3)
    _covers(version, "salesTariff", lambda p: "salesTariff" in _schedules_of(p)[0])
    _covers(version, "phaseToUse", lambda p: "phaseToUse" in _period0(p))
    if version == "2.1":
        for x in ("limit_L2", "limit_L3", "dischargeLimit", "setpoint", "operationMode"):
            _covers(version, x, lambda p, x=x: x in _period0(p))
        _covers(version, "no limit", lambda p: "limit" not in _period0(p))
        _covers(
            version,
            "v2xFreqWattCurve",
            lambda p: any(
                "v2xFreqWattCurve" in q for q in _schedules_of(p)[0]["chargingSchedulePeriod"]
            ),
        )
        for x in ("limitAtSoC", "randomizedDelay", "absolutePriceSchedule", "priceLevelSchedule"):
            _covers(version, x, lambda p, x=x: any(x in s for s in _schedules_of(p)))
        _covers(version, "dynUpdateTime", lambda p: "dynUpdateTime" in _profile_of(p))


def test_examples_are_schema_valid() -> None:
    for payload, version in (
        (V16_TX, "1.6"),
        (V16_MAX, "1.6"),
        (V201_MAX, "2.0.1"),
        (V201_TX, "2.0.1"),
        (V21_DYNAMIC, "2.1"),
    ):
        assert_schema_valid(payload, version, REQUEST)


def test_schema_check_is_not_vacuous() -> None:
    """The validator used everywhere here does reject invalid payloads."""
    bad = copy.deepcopy(V16_TX)
    bad["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] = 16.05
    assert schema_errors(bad, "1.6", REQUEST)
    bad = copy.deepcopy(V16_TX)
    bad["csChargingProfiles"]["validFrom"] = "2024-01-01T00:00:00"
    assert schema_errors(bad, "1.6", REQUEST)
    assert schema_errors(V21_DYNAMIC, "2.0.1", REQUEST)
    assert schema_errors(V201_TX, "1.6", REQUEST)


@pytest.mark.parametrize(
    ("payload", "version"),
    [
        (V16_TX, "1.6"),
        (V16_MAX, "1.6"),
        (V201_MAX, "2.0.1"),
        (V201_TX, "2.0.1"),
        (V21_DYNAMIC, "2.1"),
    ],
)
def test_example_round_trip(payload: dict[str, Any], version: str) -> None:
    assert detect_version(payload) == OcppVersion(version)
    assert roundtrip(payload, version) == payload
    assert roundtrip(payload, None) == payload


def test_timestamps_are_written_verbatim() -> None:
    out = roundtrip(V16_TX, "1.6")
    assert out["csChargingProfiles"]["validFrom"] == "2024-01-01T00:00:00.000Z"
    sched = out["csChargingProfiles"]["chargingSchedule"]
    assert sched["startSchedule"] == "2024-01-01T08:00:00+01:00"


def test_read_models_the_payload() -> None:
    req = read_set_charging_profile(V16_TX, "1.6")
    prof = req.charging_profile
    assert req.evse_id == 1
    assert prof.id == 7
    assert prof.transaction_id == "1234"
    assert prof.purpose is ChargingProfilePurpose.TX_PROFILE
    assert len(prof.charging_schedule) == 1
    assert [p.limit for p in prof.schedule().charging_schedule_period] == [16.0, 8.1]
    req2 = read_set_charging_profile(V201_TX)
    assert req2.charging_profile.transaction_id == "42"
    assert req2.charging_profile.schedule(3).charging_schedule_period[0].phase_to_use == 2


def test_read_and_write_charging_profile_alone() -> None:
    prof16 = V16_TX["csChargingProfiles"]
    prof = read_charging_profile(prof16, "1.6")
    assert as_json(write_charging_profile(prof, "1.6")) == prof16
    prof2 = V201_TX["chargingProfile"]
    assert as_json(write_charging_profile(read_charging_profile(prof2, "2.0.1"), "2.0.1")) == prof2


# --------------------------------------------------------- round trip properties


@pytest.mark.parametrize("version", VERSIONS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_round_trip_each_version(version: str, data: st.DataObject) -> None:
    payload = data.draw(set_charging_profile(version))
    assert_schema_valid(payload, version, REQUEST)
    assert roundtrip(payload, version) == payload
    assert roundtrip(payload, OcppVersion(version)) == payload


@FAST
@given(set_charging_profile_v16())
def test_detect_v16(payload: dict[str, Any]) -> None:
    assert detect_version(payload) is OcppVersion.V16
    assert roundtrip(payload, None) == payload


@FAST
@given(set_charging_profile_v201())
def test_detect_v201(payload: dict[str, Any]) -> None:
    assert detect_version(payload) is OcppVersion.V201
    assert roundtrip(payload, None) == payload


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(set_charging_profile_v21())
def test_detect_v21(payload: dict[str, Any]) -> None:
    """2.1 exactly when the payload is not a valid 2.0.1 payload (the schemas are the oracle)."""
    expected = OcppVersion.V21 if schema_errors(payload, "2.0.1", REQUEST) else OcppVersion.V201
    assert detect_version(payload) is expected
    assert roundtrip(payload, None) == payload


@pytest.mark.parametrize(
    ("profile_change", "schedule_change", "period_change"),
    [
        ({"chargingProfilePurpose": "PriorityCharging"}, {}, {}),
        ({"chargingProfilePurpose": "LocalGeneration"}, {}, {}),
        ({"chargingProfileKind": "Dynamic"}, {}, {}),
        ({"maxOfflineDuration": 60}, {}, {}),
        ({"dynUpdateTime": "2024-01-01T00:00:00Z"}, {}, {}),
        ({}, {"randomizedDelay": 10}, {}),
        ({}, {"limitAtSoC": {"soc": 50, "limit": 10.0}}, {}),
        ({}, {"useLocalTime": True}, {}),
        ({}, {}, {"limit_L2": 10.0}),
        ({}, {}, {"dischargeLimit": -3.0}),
        ({}, {}, {"setpoint": 3.0}),
        ({}, {}, {"operationMode": "ChargingOnly"}),
        ({}, {}, {"v2xFreqWattCurve": [{"frequency": 50.0, "power": 0.0}]}),
    ],
)
def test_detect_each_v21_feature(
    profile_change: dict[str, Any], schedule_change: dict[str, Any], period_change: dict[str, Any]
) -> None:
    payload = copy.deepcopy(V201_MAX)
    payload["chargingProfile"].update(profile_change)
    payload["chargingProfile"]["chargingSchedule"][0].update(schedule_change)
    payload["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"][0].update(
        period_change
    )
    assert_schema_valid(payload, "2.1", REQUEST)
    assert detect_version(payload) is OcppVersion.V21
    assert roundtrip(payload, None) == payload


def test_detect_period_without_limit_is_v21() -> None:
    payload = copy.deepcopy(V201_MAX)
    del payload["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"][0]["limit"]
    assert detect_version(payload) is OcppVersion.V21


@pytest.mark.parametrize("payload", [[], "x", 3, None, {}, {"status": "Accepted"}])
def test_detect_rejects_what_is_no_request(payload: Any) -> None:
    with pytest.raises(PayloadError):
        detect_version(payload)
    with pytest.raises(PayloadError):
        read_set_charging_profile(payload)


# -------------------------------------------------------------- cross-version


@pytest.mark.parametrize("via", ["2.0.1", "2.1"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_v16_via_v2_and_back(via: str, data: st.DataObject) -> None:
    payload = data.draw(set_charging_profile_v16())
    v2 = as_json(write_set_charging_profile(read_set_charging_profile(payload, "1.6"), via))
    assert_schema_valid(v2, via, REQUEST)
    prof16, prof2 = payload["csChargingProfiles"], v2["chargingProfile"]
    assert v2["evseId"] == payload["connectorId"]
    assert prof2["id"] == prof16["chargingProfileId"]
    assert prof2["chargingSchedule"][0]["id"] == prof16["chargingProfileId"]
    if "transactionId" in prof16:
        assert prof2["transactionId"] == str(prof16["transactionId"])
    purpose = prof16["chargingProfilePurpose"]
    expected = "ChargingStationMaxProfile" if purpose == "ChargePointMaxProfile" else purpose
    assert prof2["chargingProfilePurpose"] == expected
    back = as_json(write_set_charging_profile(read_set_charging_profile(v2, via), "1.6"))
    assert back == payload


@FAST
@given(set_charging_profile_v201())
def test_v201_via_v21_and_back(payload: dict[str, Any]) -> None:
    v21 = as_json(write_set_charging_profile(read_set_charging_profile(payload, "2.0.1"), "2.1"))
    assert v21 == payload
    # 2.1 bounds what 2.0.1 left open (salesTariff.id >= 0); the library carries a
    # salesTariff verbatim, so only a payload that is 2.1-valid must stay so.
    if not schema_errors(payload, "2.1", REQUEST):
        assert_schema_valid(v21, "2.1", REQUEST)
    assert roundtrip(v21, "2.1") == payload


def _has_custom_data(data: Any) -> bool:
    if isinstance(data, dict):
        return "customData" in data or any(_has_custom_data(v) for v in data.values())
    if isinstance(data, list):
        return any(_has_custom_data(v) for v in data)
    return False


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(set_charging_profile_v201(), set_charging_profile_v21()))
def test_v2_written_as_v16_is_valid_or_refused(payload: dict[str, Any]) -> None:
    """Writing 2.x as 1.6 gives a valid 1.6 payload, or a VersionError naming the field."""
    req = read_set_charging_profile(payload)
    try:
        out = as_json(write_set_charging_profile(req, "1.6"))
    except VersionError as exc:
        assert exc.field
        return
    assert_schema_valid(out, "1.6", REQUEST)
    assert not _has_custom_data(out)
    prof = payload["chargingProfile"]
    assert out["connectorId"] == payload["evseId"]
    assert out["csChargingProfiles"]["chargingProfileId"] == prof["id"]
    assert out["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"] == [
        {k: v for k, v in p.items() if k != "customData"}
        for p in prof["chargingSchedule"][0]["chargingSchedulePeriod"]
    ]


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(set_charging_profile_v21())
def test_v21_written_as_v201_is_the_same_or_refused(payload: dict[str, Any]) -> None:
    req = read_set_charging_profile(payload, "2.1")
    try:
        out = as_json(write_set_charging_profile(req, "2.0.1"))
    except VersionError as exc:
        assert exc.field
        assert schema_errors(payload, "2.0.1", REQUEST), "a valid 2.0.1 payload was refused"
        return
    assert out == payload
    assert_schema_valid(out, "2.0.1", REQUEST)


def test_max_profile_purposes_map_both_ways() -> None:
    v2 = as_json(write_set_charging_profile(read_set_charging_profile(V16_MAX, "1.6"), "2.0.1"))
    assert v2 == V201_MAX
    v16 = as_json(write_set_charging_profile(read_set_charging_profile(V201_MAX, "2.0.1"), "1.6"))
    assert v16 == V16_MAX
    v21 = as_json(write_set_charging_profile(read_set_charging_profile(V16_MAX, "1.6"), "2.1"))
    assert v21["chargingProfile"]["chargingProfilePurpose"] == "ChargingStationMaxProfile"


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(set_charging_profile_v16(), st.data())
def test_custom_data_added_in_v201_is_dropped_in_v16(
    payload: dict[str, Any], data: st.DataObject
) -> None:
    """A 1.6 profile taken to 2.0.1, given customData at every level, comes back unchanged."""
    v2 = as_json(write_set_charging_profile(read_set_charging_profile(payload, "1.6"), "2.0.1"))
    prof = v2["chargingProfile"]
    sched = prof["chargingSchedule"][0]
    targets = [v2, prof, sched, *sched["chargingSchedulePeriod"]]
    for target in data.draw(st.lists(st.sampled_from(targets), min_size=1, unique_by=id)):
        target["customData"] = data.draw(CUSTOM_DATA)
    assert_schema_valid(v2, "2.0.1", REQUEST)
    back = as_json(write_set_charging_profile(read_set_charging_profile(v2, "2.0.1"), "1.6"))
    assert back == payload


def test_custom_data_is_dropped_in_v16() -> None:
    out = as_json(write_set_charging_profile(read_set_charging_profile(V201_TX), "2.0.1"))
    assert out == V201_TX
    tx = copy.deepcopy(V201_TX)
    del tx["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"][0]["phaseToUse"]
    v16 = as_json(write_set_charging_profile(read_set_charging_profile(tx), "1.6"))
    assert not _has_custom_data(v16)
    assert_schema_valid(v16, "1.6", REQUEST)
    assert v16["csChargingProfiles"]["transactionId"] == 42


def _v21_variant(**changes: Any) -> dict[str, Any]:
    """V201_MAX with changes at profile (``profile``), schedule or period level."""
    payload = copy.deepcopy(V201_MAX)
    prof = payload["chargingProfile"]
    prof.update(changes.get("profile", {}))
    prof["chargingSchedule"][0].update(changes.get("schedule", {}))
    prof["chargingSchedule"][0]["chargingSchedulePeriod"][0].update(changes.get("period", {}))
    return payload


V16_REFUSED = [
    (
        _v21_variant(profile={"chargingProfilePurpose": "PriorityCharging"}),
        "chargingProfilePurpose",
    ),
    (_v21_variant(profile={"chargingProfilePurpose": "LocalGeneration"}), "chargingProfilePurpose"),
    (
        _v21_variant(profile={"chargingProfilePurpose": "ChargingStationExternalConstraints"}),
        "chargingProfilePurpose",
    ),
    (_v21_variant(profile={"chargingProfileKind": "Dynamic"}), "chargingProfileKind"),
    (_v21_variant(profile={"maxOfflineDuration": 60}), "maxOfflineDuration"),
    (_v21_variant(profile={"invalidAfterOfflineDuration": True}), "invalidAfterOfflineDuration"),
    (_v21_variant(profile={"dynUpdateInterval": 60}), "dynUpdateInterval"),
    (_v21_variant(profile={"priceScheduleSignature": "sig"}), "priceScheduleSignature"),
    (_v21_variant(schedule={"limitAtSoC": {"soc": 80, "limit": 6.0}}), "limitAtSoC"),
    (_v21_variant(schedule={"randomizedDelay": 5}), "randomizedDelay"),
    (_v21_variant(schedule={"useLocalTime": False}), "useLocalTime"),
    (_v21_variant(schedule={"powerTolerance": 1.0}), "powerTolerance"),
    (
        _v21_variant(
            schedule={
                "salesTariff": {
                    "id": 1,
                    "salesTariffEntry": [{"relativeTimeInterval": {"start": 0}}],
                }
            }
        ),
        "salesTariff",
    ),
    (
        _v21_variant(
            schedule={
                "priceLevelSchedule": {
                    "timeAnchor": "2024-01-01T00:00:00Z",
                    "priceScheduleId": 1,
                    "numberOfPriceLevels": 2,
                    "priceLevelScheduleEntries": [{"duration": 60, "priceLevel": 1}],
                }
            }
        ),
        "priceLevelSchedule",
    ),
    (_v21_variant(period={"limit_L2": 10.0}), "limit_L2"),
    (_v21_variant(period={"limit_L3": 10.0}), "limit_L3"),
    (_v21_variant(period={"dischargeLimit": -10.0}), "dischargeLimit"),
    (_v21_variant(period={"setpoint": 10.0}), "setpoint"),
    (_v21_variant(period={"setpointReactive": 10.0}), "setpointReactive"),
    (_v21_variant(period={"operationMode": "ExternalLimits"}), "operationMode"),
    (_v21_variant(period={"evseSleep": True}), "evseSleep"),
    (_v21_variant(period={"v2xBaseline": 1.0}), "v2xBaseline"),
    (
        _v21_variant(period={"v2xFreqWattCurve": [{"frequency": 50.0, "power": 1.0}]}),
        "v2xFreqWattCurve",
    ),
    (
        _v21_variant(period={"v2xSignalWattCurve": [{"signal": 1, "power": 1.0}]}),
        "v2xSignalWattCurve",
    ),
]


@pytest.mark.parametrize(("payload", "field"), V16_REFUSED)
def test_v21_only_features_refused_in_v16_and_v201(payload: dict[str, Any], field: str) -> None:
    assert_schema_valid(payload, "2.1", REQUEST)
    req = read_set_charging_profile(payload, "2.1")
    for target in ("1.6", "2.0.1"):
        if field == "salesTariff" and target == "2.0.1":
            continue  # 2.0.1 has salesTariff
        if (
            field == "chargingProfilePurpose"
            and target == "2.0.1"
            and (
                payload["chargingProfile"]["chargingProfilePurpose"]
                == "ChargingStationExternalConstraints"
            )
        ):
            continue  # a 2.0.1 purpose
        with pytest.raises(VersionError) as info:
            write_set_charging_profile(req, target)
        assert info.value.field is not None
        assert info.value.field.split(".")[-1] == field, info.value.field
        assert isinstance(info.value, OcppScheduleError)


def test_v201_only_fields_refused_in_v16() -> None:
    req = read_set_charging_profile(V201_TX, "2.0.1")
    with pytest.raises(VersionError) as info:
        write_set_charging_profile(req, "1.6")
    assert info.value.field is not None
    assert info.value.field.endswith("phaseToUse")


def test_period_without_limit_refused_before_v21() -> None:
    payload = _v21_variant(period={"operationMode": "Idle"})
    del payload["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"][0]["limit"]
    req = read_set_charging_profile(payload, "2.1")
    for target in ("1.6", "2.0.1"):
        with pytest.raises(VersionError) as info:
            write_set_charging_profile(req, target)
        assert info.value.field is not None


def test_several_schedules_refused_in_v16() -> None:
    payload = copy.deepcopy(V201_MAX)
    second = copy.deepcopy(payload["chargingProfile"]["chargingSchedule"][0])
    second["id"] = 2
    payload["chargingProfile"]["chargingSchedule"].append(second)
    req = read_set_charging_profile(payload, "2.0.1")
    with pytest.raises(VersionError) as info:
        write_set_charging_profile(req, "1.6")
    assert info.value.field == "chargingSchedule"
    assert as_json(write_set_charging_profile(req, "2.1")) == payload


@pytest.mark.parametrize(
    "tx", ["abc", "", "1.5", "1e3", "0x1F", "1_000", " 7", "7 ", "+7", "007", "-0", "\u0663"]
)
def test_non_integer_transaction_id_refused_in_v16(tx: str) -> None:
    """Only the canonical decimal text of an integer maps to a 1.6 transactionId."""
    payload = copy.deepcopy(V201_TX)
    payload["chargingProfile"]["transactionId"] = tx
    del payload["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"][0]["phaseToUse"]
    req = read_set_charging_profile(payload, "2.0.1")
    with pytest.raises(VersionError) as info:
        write_set_charging_profile(req, "1.6")
    assert info.value.field == "transactionId"


@pytest.mark.parametrize("tx", ["0", "-5", "2147483648", str(2**63)])
def test_integer_transaction_id_written_in_v16(tx: str) -> None:
    payload = copy.deepcopy(V201_TX)
    payload["chargingProfile"]["transactionId"] = tx
    del payload["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"][0]["phaseToUse"]
    out = write_set_charging_profile(read_set_charging_profile(payload, "2.0.1"), "1.6")
    assert out["csChargingProfiles"]["transactionId"] == int(tx)


@pytest.mark.parametrize("limit", [16.05, 0.01, 1 / 3, 0.1 + 0.2])
def test_limit_finer_than_a_tenth_refused_in_v16(limit: float) -> None:
    """1.6 limits are ``multipleOf 0.1``: a finer 2.x limit cannot be written in 1.6."""
    payload = _v21_variant(period={"limit": limit})
    req = read_set_charging_profile(payload, "2.0.1")
    with pytest.raises(VersionError) as info:
        write_set_charging_profile(req, "1.6")
    assert info.value.field is not None
    assert info.value.field.endswith("limit")
    payload = _v21_variant(schedule={"minChargingRate": limit})
    with pytest.raises(VersionError) as info:
        write_set_charging_profile(read_set_charging_profile(payload, "2.0.1"), "1.6")
    assert info.value.field is not None
    assert info.value.field.endswith("minChargingRate")


@pytest.mark.parametrize("limit", [float("nan"), float("inf"), -0.5])
def test_v16_reader_leaves_limit_values_to_the_rules(limit: float) -> None:
    """The reader does not enforce finiteness nor a sign: the station-side rules answer
    Rejected with a reason for bad limits (docs/semantics.md P1). (Issue 14: 8.15 was read
    here too, then refused by the 1.6 writer; the reader now refuses it, see below.)"""
    payload = _replace(V16_TX, (*S16, "chargingSchedulePeriod", 1, "limit"), limit)
    req = read_set_charging_profile(payload, "1.6")
    got = req.charging_profile.charging_schedule[0].charging_schedule_period[1].limit
    assert got == limit or (math.isnan(limit) and math.isnan(got))


@pytest.mark.parametrize("version", ["3.0", "1.5", "", "v2"])
def test_unknown_version_is_a_version_error(version: str) -> None:
    with pytest.raises(VersionError):
        read_set_charging_profile(V16_TX, version)
    with pytest.raises(VersionError):
        write_set_charging_profile(read_set_charging_profile(V16_TX, "1.6"), version)


# --------------------------------------------------------------- reader errors


def _replace(payload: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(payload)
    node: Any = out
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return out


def _delete(payload: dict[str, Any], path: tuple[Any, ...]) -> dict[str, Any]:
    out = copy.deepcopy(payload)
    node: Any = out
    for part in path[:-1]:
        node = node[part]
    del node[path[-1]]
    return out


def _read_error(payload: Any, version: str | None) -> PayloadError:
    with pytest.raises(PayloadError) as info:
        read_set_charging_profile(payload, version)
    err = info.value
    assert isinstance(err, OcppScheduleError)
    assert isinstance(err, ValueError)
    return err


P16 = ("csChargingProfiles",)
S16 = (*P16, "chargingSchedule")
P2 = ("chargingProfile",)
S2 = (*P2, "chargingSchedule", 0)

READER_CASES: list[tuple[str, dict[str, Any], str, str]] = [
    # (version, payload, expected field, what)
    ("1.6", _replace(V16_TX, (*P16, "bogus"), 1), "csChargingProfiles.bogus", "unknown key"),
    ("1.6", _replace(V16_TX, ("bogus",), 1), "bogus", "unknown key at the top"),
    (
        "1.6",
        _replace(V16_TX, (*S16, "id"), 1),
        "csChargingProfiles.chargingSchedule.id",
        "2.x key in 1.6",
    ),
    (
        "1.6",
        _replace(V16_TX, (*S16, "chargingSchedulePeriod", 0, "phaseToUse"), 1),
        "csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0].phaseToUse",
        "2.x key in a 1.6 period",
    ),
    (
        "1.6",
        _replace(V16_TX, (*P16, "customData"), {"vendorId": "x"}),
        "csChargingProfiles.customData",
        "customData in 1.6",
    ),
    ("1.6", _delete(V16_TX, ("connectorId",)), "connectorId", "missing at the top"),
    (
        "1.6",
        _delete(V16_TX, (*P16, "chargingProfileId")),
        "csChargingProfiles.chargingProfileId",
        "missing",
    ),
    (
        "1.6",
        _delete(V16_TX, (*S16, "chargingRateUnit")),
        "csChargingProfiles.chargingSchedule.chargingRateUnit",
        "missing",
    ),
    (
        "1.6",
        _delete(V16_TX, (*S16, "chargingSchedulePeriod", 1, "limit")),
        "csChargingProfiles.chargingSchedule.chargingSchedulePeriod[1].limit",
        "limit is required in 1.6",
    ),
    (
        "1.6",
        _replace(V16_TX, (*P16, "chargingProfilePurpose"), "ChargingStationMaxProfile"),
        "csChargingProfiles.chargingProfilePurpose",
        "2.x purpose",
    ),
    (
        "1.6",
        _replace(V16_TX, (*P16, "chargingProfilePurpose"), "ChargingStationExternalConstraints"),
        "csChargingProfiles.chargingProfilePurpose",
        "2.x purpose",
    ),
    (
        "1.6",
        _replace(V16_TX, (*P16, "chargingProfileKind"), "Dynamic"),
        "csChargingProfiles.chargingProfileKind",
        "2.1 kind",
    ),
    ("1.6", _replace(V16_TX, ("connectorId",), "1"), "connectorId", "string for int"),
    (
        "1.6",
        _replace(V16_TX, (*P16, "chargingProfileId"), 7.5),
        "csChargingProfiles.chargingProfileId",
        "float for int",
    ),
    (
        "1.6",
        _replace(V16_TX, (*P16, "transactionId"), "1234"),
        "csChargingProfiles.transactionId",
        "string transactionId in 1.6",
    ),
    (
        "1.6",
        _replace(V16_TX, (*P16, "transactionId"), True),
        "csChargingProfiles.transactionId",
        "bool transactionId",
    ),
    (
        "1.6",
        _replace(
            V16_TX, (*P16, "chargingSchedule"), [V16_TX["csChargingProfiles"]["chargingSchedule"]]
        ),
        "csChargingProfiles.chargingSchedule",
        "a 2.x schedule list in 1.6",
    ),
    (
        "1.6",
        _replace(V16_TX, (*S16, "chargingSchedulePeriod", 1, "limit"), "8"),
        "csChargingProfiles.chargingSchedule.chargingSchedulePeriod[1].limit",
        "string for number",
    ),
    (
        "1.6",
        _replace(V16_TX, (*S16, "chargingSchedulePeriod"), {"startPeriod": 0}),
        "csChargingProfiles.chargingSchedule.chargingSchedulePeriod",
        "object for array",
    ),
    (
        "1.6",
        _replace(V16_TX, (*S16, "chargingSchedulePeriod", 0), [0, 16]),
        "csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0]",
        "array for object",
    ),
    (
        "1.6",
        _replace(V16_TX, (*P16, "validFrom"), "2024-01-01T00:00:00"),
        "csChargingProfiles.validFrom",
        "naive timestamp",
    ),
    (
        "1.6",
        _replace(V16_TX, (*S16, "startSchedule"), "2024-01-01T08:00:00.000"),
        "csChargingProfiles.chargingSchedule.startSchedule",
        "naive timestamp",
    ),
    (
        "1.6",
        _replace(V16_TX, (*P16, "validTo"), 1704067200),
        "csChargingProfiles.validTo",
        "epoch number for a timestamp",
    ),
    ("1.6", _replace(V16_TX, (*P16, "stackLevel"), None), "csChargingProfiles.stackLevel", "null"),
    (
        "1.6",
        _replace(V16_TX, (*P16, "recurrencyKind"), "Monthly"),
        "csChargingProfiles.recurrencyKind",
        "bad enum",
    ),
    ("1.6", _replace(V16_TX, P16, "profile"), "csChargingProfiles", "string for object"),
    ("2.0.1", _replace(V201_TX, ("bogus",), 1), "bogus", "unknown key at the top"),
    ("2.0.1", _replace(V201_TX, ("connectorId",), 1), "connectorId", "1.6 key in 2.x"),
    (
        "2.0.1",
        _replace(V201_TX, (*P2, "maxOfflineDuration"), 1),
        "chargingProfile.maxOfflineDuration",
        "2.1 key in 2.0.1",
    ),
    (
        "2.0.1",
        _replace(V201_TX, (*S2, "randomizedDelay"), 1),
        "chargingProfile.chargingSchedule[0].randomizedDelay",
        "2.1 key in 2.0.1",
    ),
    (
        "2.0.1",
        _replace(V201_TX, (*S2, "chargingSchedulePeriod", 0, "limit_L2"), 1.0),
        "chargingProfile.chargingSchedule[0].chargingSchedulePeriod[0].limit_L2",
        "2.1 key in 2.0.1",
    ),
    (
        "2.0.1",
        _delete(V201_TX, (*S2, "chargingSchedulePeriod", 0, "limit")),
        "chargingProfile.chargingSchedule[0].chargingSchedulePeriod[0].limit",
        "limit is required in 2.0.1",
    ),
    ("2.0.1", _delete(V201_TX, ("evseId",)), "evseId", "missing at the top"),
    ("2.0.1", _delete(V201_TX, (*P2, "id")), "chargingProfile.id", "missing"),
    ("2.0.1", _delete(V201_TX, (*S2, "id")), "chargingProfile.chargingSchedule[0].id", "missing"),
    (
        "2.0.1",
        _replace(V201_TX, (*P2, "chargingProfileKind"), "Dynamic"),
        "chargingProfile.chargingProfileKind",
        "2.1 kind",
    ),
    (
        "2.0.1",
        _replace(V201_TX, (*P2, "chargingProfilePurpose"), "PriorityCharging"),
        "chargingProfile.chargingProfilePurpose",
        "2.1 purpose",
    ),
    (
        "2.0.1",
        _replace(V201_TX, (*P2, "chargingProfilePurpose"), "ChargePointMaxProfile"),
        "chargingProfile.chargingProfilePurpose",
        "1.6 purpose",
    ),
    (
        "2.1",
        _replace(V201_TX, (*P2, "chargingProfilePurpose"), "ChargePointMaxProfile"),
        "chargingProfile.chargingProfilePurpose",
        "1.6 purpose",
    ),
    ("2.0.1", _replace(V201_TX, ("evseId",), 2.0), "evseId", "float for int"),
    (
        "2.0.1",
        _replace(V201_TX, (*P2, "transactionId"), 42),
        "chargingProfile.transactionId",
        "int transactionId in 2.x",
    ),
    (
        "2.0.1",
        _replace(
            V201_TX, (*P2, "chargingSchedule"), V201_TX["chargingProfile"]["chargingSchedule"][0]
        ),
        "chargingProfile.chargingSchedule",
        "object for array",
    ),
    (
        "2.0.1",
        _replace(V201_TX, (*S2, "chargingSchedulePeriod", 0, "numberPhases"), "3"),
        "chargingProfile.chargingSchedule[0].chargingSchedulePeriod[0].numberPhases",
        "string for int",
    ),
    (
        "2.0.1",
        _replace(V201_TX, (*S2, "chargingRateUnit"), "kW"),
        "chargingProfile.chargingSchedule[0].chargingRateUnit",
        "bad enum",
    ),
    (
        "2.0.1",
        _replace(V201_TX, (*P2, "validTo"), "2024-01-01T00:00:00"),
        "chargingProfile.validTo",
        "naive timestamp",
    ),
    (
        "2.0.1",
        _replace(V201_TX, (*P2, "validTo"), "2024-06-30T23:59:60Z"),
        "chargingProfile.validTo",
        "leap second",
    ),
    ("2.0.1", _replace(V201_TX, ("customData",), 5), "customData", "customData not an object"),
    (
        "2.0.1",
        _replace(V201_TX, (*P2, "customData"), {"note": "no vendor"}),
        "chargingProfile.customData.vendorId",
        "customData without vendorId",
    ),
    (
        "2.0.1",
        _replace(V201_TX, (*S2, "salesTariff"), [1]),
        "chargingProfile.chargingSchedule[0].salesTariff",
        "array for an opaque object",
    ),
    ("2.0.1", _replace(V201_TX, (*P2, "validFrom"), None), "chargingProfile.validFrom", "null"),
    ("2.0.1", _replace(V201_TX, (*S2,), "schedule"), "chargingProfile.chargingSchedule[0]", "str"),
    (
        "2.1",
        _replace(V21_DYNAMIC, (*S2, "limitAtSoC", "bogus"), 1),
        "chargingProfile.chargingSchedule[0].limitAtSoC.bogus",
        "unknown key in limitAtSoC",
    ),
    (
        "2.1",
        _delete(V21_DYNAMIC, (*S2, "limitAtSoC", "soc")),
        "chargingProfile.chargingSchedule[0].limitAtSoC.soc",
        "missing in limitAtSoC",
    ),
    (
        "2.1",
        _replace(V21_DYNAMIC, (*S2, "limitAtSoC", "soc"), 80.5),
        "chargingProfile.chargingSchedule[0].limitAtSoC.soc",
        "float for int",
    ),
    (
        "2.1",
        _replace(V21_DYNAMIC, (*S2, "chargingSchedulePeriod", 0, "operationMode"), "Discharging"),
        "chargingProfile.chargingSchedule[0].chargingSchedulePeriod[0].operationMode",
        "bad enum",
    ),
    (
        "2.1",
        _replace(V21_DYNAMIC, (*S2, "chargingSchedulePeriod", 0, "v2xFreqWattCurve"), {}),
        "chargingProfile.chargingSchedule[0].chargingSchedulePeriod[0].v2xFreqWattCurve",
        "object for an opaque array",
    ),
    (
        "2.1",
        _replace(V21_DYNAMIC, (*P2, "invalidAfterOfflineDuration"), 1),
        "chargingProfile.invalidAfterOfflineDuration",
        "int for bool",
    ),
    (
        "2.1",
        _replace(V21_DYNAMIC, (*P2, "dynUpdateTime"), "2024-01-01T00:00:00.5"),
        "chargingProfile.dynUpdateTime",
        "naive timestamp",
    ),
]


@pytest.mark.parametrize(
    ("version", "payload", "field", "what"),
    READER_CASES,
    ids=[f"{c[0]}-{c[3]}" for c in READER_CASES],
)
def test_reader_error_names_the_field(
    version: str, payload: dict[str, Any], field: str, what: str
) -> None:
    err = _read_error(payload, version)
    assert err.field == field, f"{what}: {err}"
    assert str(err)


def test_read_charging_profile_names_fields_as_its_version() -> None:
    prof = copy.deepcopy(V16_TX["csChargingProfiles"])
    prof["chargingProfileId"] = "7"
    with pytest.raises(PayloadError) as info:
        read_charging_profile(prof, "1.6")
    assert info.value.field == "csChargingProfiles.chargingProfileId"
    prof2 = copy.deepcopy(V201_TX["chargingProfile"])
    prof2["id"] = "12"
    with pytest.raises(PayloadError) as info:
        read_charging_profile(prof2, "2.0.1")
    assert info.value.field == "chargingProfile.id"


@pytest.mark.parametrize("payload", [None, [], "x", 1, 1.5, True])
@pytest.mark.parametrize("version", ["1.6", "2.0.1", "2.1"])
def test_non_objects_are_payload_errors(payload: Any, version: str) -> None:
    _read_error(payload, version)


def test_type_errors_carry_pydantic_details() -> None:
    err = _read_error(_replace(V201_TX, ("evseId",), "2"), "2.0.1")
    assert err.errors and err.errors[0]["type"]


# ------------------------------------------------- targeted mutations (hypothesis)

INT, NUM, STR, BOOL, TS, ENUM, OBJ, ARR = ("int", "num", "str", "bool", "ts", "enum", "obj", "arr")
_TYPES = {
    "connectorId": INT,
    "evseId": INT,
    "chargingProfileId": INT,
    "id": INT,
    "stackLevel": INT,
    "chargingProfilePurpose": ENUM,
    "chargingProfileKind": ENUM,
    "recurrencyKind": ENUM,
    "validFrom": TS,
    "validTo": TS,
    "maxOfflineDuration": INT,
    "invalidAfterOfflineDuration": BOOL,
    "dynUpdateInterval": INT,
    "dynUpdateTime": TS,
    "priceScheduleSignature": STR,
    "startSchedule": TS,
    "duration": INT,
    "chargingRateUnit": ENUM,
    "chargingSchedulePeriod": ARR,
    "minChargingRate": NUM,
    "salesTariff": OBJ,
    "limitAtSoC": OBJ,
    "powerTolerance": NUM,
    "signatureId": INT,
    "digestValue": STR,
    "useLocalTime": BOOL,
    "randomizedDelay": INT,
    "absolutePriceSchedule": OBJ,
    "priceLevelSchedule": OBJ,
    "startPeriod": INT,
    "limit": NUM,
    "numberPhases": INT,
    "phaseToUse": INT,
    "preconditioningRequest": BOOL,
    "evseSleep": BOOL,
    "operationMode": ENUM,
    "v2xFreqWattCurve": ARR,
    "v2xSignalWattCurve": ARR,
    "soc": INT,
    "customData": OBJ,
    "csChargingProfiles": OBJ,
    "chargingProfile": OBJ,
}
for _name in (
    "limit_L2",
    "limit_L3",
    "dischargeLimit",
    "dischargeLimit_L2",
    "dischargeLimit_L3",
    "setpoint",
    "setpoint_L2",
    "setpoint_L3",
    "setpointReactive",
    "setpointReactive_L2",
    "setpointReactive_L3",
    "v2xBaseline",
):
    _TYPES[_name] = NUM

_WRONG: dict[str, list[Any]] = {
    INT: ["7", 1.5, True, None, [], {}],
    NUM: ["7", True, None, [1], {}],
    STR: [7, 7.5, False, None, ["a"], {}],
    BOOL: [1, 0, "true", None, [], {}],
    TS: [1704067200, True, None, [], {}, "2024-01-01T00:00:00", "2024-13-01T00:00:00Z", "now"],
    ENUM: [1, True, None, [], {}, "Bogus", "absolute"],
    OBJ: [1, "x", True, None, [{}]],
    ARR: [1, "x", True, None, {}],
}
_REQUIRED = {
    "root16": {"connectorId", "csChargingProfiles"},
    "root2": {"evseId", "chargingProfile"},
    "profile16": {
        "chargingProfileId",
        "stackLevel",
        "chargingProfilePurpose",
        "chargingProfileKind",
        "chargingSchedule",
    },
    "profile2": {
        "id",
        "stackLevel",
        "chargingProfilePurpose",
        "chargingProfileKind",
        "chargingSchedule",
    },
    "schedule16": {"chargingRateUnit", "chargingSchedulePeriod"},
    "schedule2": {"id", "chargingRateUnit", "chargingSchedulePeriod"},
    "period": {"startPeriod", "limit"},
    "period21": {"startPeriod"},
    "soc": {"soc", "limit"},
}


def _known_fields(
    payload: dict[str, Any], version: str
) -> list[tuple[tuple[Any, ...], str, str, str]]:
    """Every field the library reads: (path, field as the payload spells it, type, object kind)."""
    v16 = version == "1.6"
    out: list[tuple[tuple[Any, ...], str, str, str]] = []

    def walk(obj: dict[str, Any], path: tuple[Any, ...], name: str, kind: str) -> None:
        for key, value in obj.items():
            kpath, kname = (*path, key), f"{name}.{key}" if name else key
            if key == "transactionId":
                out.append((kpath, kname, INT if v16 else STR, kind))
            elif key == "chargingSchedule":
                out.append((kpath, kname, OBJ if v16 else ARR, kind))
                if v16:
                    walk(value, kpath, kname, "schedule16")
                else:
                    for i, sched in enumerate(value):
                        out.append(((*kpath, i), f"{kname}[{i}]", OBJ, "item"))
                        walk(sched, (*kpath, i), f"{kname}[{i}]", "schedule2")
            elif key == "chargingSchedulePeriod":
                out.append((kpath, kname, ARR, kind))
                period_kind = "period21" if version == "2.1" else "period"
                for j, period in enumerate(value):
                    out.append(((*kpath, j), f"{kname}[{j}]", OBJ, "item"))
                    walk(period, (*kpath, j), f"{kname}[{j}]", period_kind)
            elif key in ("csChargingProfiles", "chargingProfile"):
                out.append((kpath, kname, OBJ, kind))
                walk(value, kpath, kname, "profile16" if v16 else "profile2")
            elif key == "limitAtSoC":
                out.append((kpath, kname, OBJ, kind))
                walk(value, kpath, kname, "soc")
            else:
                out.append((kpath, kname, _TYPES[key], kind))

    walk(payload, (), "", "root16" if v16 else "root2")
    return out


def _objects(payload: dict[str, Any], version: str) -> list[tuple[tuple[Any, ...], str]]:
    """The objects whose keys the library checks: (path, field prefix)."""
    objs: list[tuple[tuple[Any, ...], str]] = [((), "")]
    for path, name, kind, _ in _known_fields(payload, version):
        if kind == OBJ and path[-1] not in (
            "customData",
            "salesTariff",
            "absolutePriceSchedule",
            "priceLevelSchedule",
        ):
            objs.append((path, name))
    return objs


def _get(payload: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        payload = payload[part]
    return payload


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(VERSIONS).flatmap(lambda v: st.tuples(st.just(v), set_charging_profile(v))),
    st.data(),
)
def test_wrong_type_names_the_field(pair: tuple[str, dict[str, Any]], data: st.DataObject) -> None:
    version, payload = pair
    path, name, kind, _ = data.draw(st.sampled_from(_known_fields(payload, version)))
    wrong = data.draw(st.sampled_from(_WRONG[kind]))
    err = _read_error(_replace(payload, path, wrong), version)
    assert err.field == name, f"{name} = {wrong!r}: {err}"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(VERSIONS).flatmap(lambda v: st.tuples(st.just(v), set_charging_profile(v))),
    st.data(),
)
def test_missing_required_key_names_the_field(
    pair: tuple[str, dict[str, Any]], data: st.DataObject
) -> None:
    version, payload = pair
    fields = [
        (path, name)
        for path, name, _, obj_kind in _known_fields(payload, version)
        if path[-1] in _REQUIRED.get(obj_kind, ())
    ]
    path, name = data.draw(st.sampled_from(fields))
    err = _read_error(_delete(payload, path), version)
    assert err.field == name, f"without {name}: {err}"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(VERSIONS).flatmap(lambda v: st.tuples(st.just(v), set_charging_profile(v))),
    st.data(),
    st.sampled_from(["bogus", "extra", "connector_id", "chargingProfileID", "Limit", "vendorId"]),
    json_values,
)
def test_unknown_key_names_the_field(
    pair: tuple[str, dict[str, Any]], data: st.DataObject, key: str, value: Any
) -> None:
    version, payload = pair
    path, prefix = data.draw(st.sampled_from(_objects(payload, version)))
    err = _read_error(_replace(payload, (*path, key), value), version)
    assert err.field == (f"{prefix}.{key}" if prefix else key), str(err)


@FAST
@given(
    st.sampled_from(VERSIONS).flatmap(lambda v: st.tuples(st.just(v), set_charging_profile(v))),
    st.data(),
)
def test_dropping_an_optional_key_still_round_trips(
    pair: tuple[str, dict[str, Any]], data: st.DataObject
) -> None:
    version, payload = pair
    optional = [
        path
        for path, _, _, obj_kind in _known_fields(payload, version)
        if obj_kind != "item" and path[-1] not in _REQUIRED.get(obj_kind, ())
    ]
    assume(optional)
    smaller = _delete(payload, data.draw(st.sampled_from(optional)))
    assert roundtrip(smaller, version) == smaller


# ------------------------------------------------------------------ fuzzing

ANY_VERSION = st.sampled_from([None, "1.6", "2.0.1", "2.1", OcppVersion.V21, "9.9"])


def _mutate(payload: Any, data: st.DataObject) -> Any:
    """Drop a key, replace a value with any JSON value, or add a key, somewhere in ``payload``."""
    containers: list[tuple[Any, ...]] = []

    def walk(node: Any, path: tuple[Any, ...]) -> None:
        if isinstance(node, dict | list):
            containers.append(path)
            items = node.items() if isinstance(node, dict) else enumerate(node)
            for k, v in items:
                walk(v, (*path, k))

    walk(payload, ())
    out = copy.deepcopy(payload)
    path = data.draw(st.sampled_from(containers))
    node = _get(out, path)
    action = data.draw(st.sampled_from(["drop", "replace", "add"]))
    keys = list(node) if isinstance(node, dict) else list(range(len(node)))
    if action == "add" or not keys:
        if isinstance(node, dict):
            node[data.draw(st.text(max_size=20))] = data.draw(json_values)
        else:
            node.append(data.draw(json_values))
        return out
    key = data.draw(st.sampled_from(keys))
    if action == "drop":
        del node[key]
    else:
        node[key] = data.draw(json_values)
    return out


def _read_anything(payload: Any, version: Any) -> None:
    """Reading succeeds (and then round trips), or raises PayloadError/VersionError."""
    try:
        req = read_set_charging_profile(payload, version)
    except (PayloadError, VersionError) as exc:
        assert isinstance(exc, OcppScheduleError)
        assert isinstance(exc, ValueError)
        str(exc)
        return
    target = detect_version(payload) if version is None else version
    assert as_json(write_set_charging_profile(req, target)) == payload


@FUZZ
@given(
    st.recursive(
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(-(2**53), 2**53),
            st.floats(allow_nan=False, allow_infinity=False),
            st.text(max_size=8),
        ),
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(
                st.one_of(
                    st.sampled_from(
                        [
                            "connectorId",
                            "csChargingProfiles",
                            "evseId",
                            "chargingProfile",
                            "chargingSchedule",
                            "chargingSchedulePeriod",
                            "id",
                            "chargingProfileId",
                            "limit",
                            "startPeriod",
                            "customData",
                        ]
                    ),
                    st.text(max_size=8),
                ),
                children,
                max_size=5,
            ),
        ),
        max_leaves=20,
    ),
    ANY_VERSION,
)
def test_arbitrary_json_is_read_or_refused(payload: Any, version: Any) -> None:
    _read_anything(payload, version)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(
    st.sampled_from(VERSIONS).flatmap(set_charging_profile),
    st.data(),
    ANY_VERSION,
)
def test_mutated_payloads_are_read_or_refused(
    payload: dict[str, Any], data: st.DataObject, version: Any
) -> None:
    mutated = _mutate(payload, data)
    if data.draw(st.booleans()):
        mutated = _mutate(mutated, data)
    _read_anything(mutated, version)


@pytest.mark.parametrize("value", [0.25, 8.15, 16.05, 0.1 + 0.2, 1e-7])
@pytest.mark.parametrize("where", ["limit", "minChargingRate"])
def test_v16_reader_refuses_what_is_no_multiple_of_a_tenth(value: float, where: str) -> None:
    """Issue 14 (item 10): a 1.6 limit of 0.25 was read, then refused on write. The 1.6
    schema says ``limit`` and ``minChargingRate`` are ``multipleOf 0.1``: the reader refuses
    such a value as the writer does, naming the field (docs/semantics.md P1, V21-6)."""
    period_limit = (*S16, "chargingSchedulePeriod", 1, "limit")
    path = period_limit if where == "limit" else (*S16, "minChargingRate")
    err = _read_error(_replace(V16_TX, path, value), "1.6")
    assert err.rule == "OCPP 1.6 schema: multipleOf 0.1"
    expected = {
        "limit": "csChargingProfiles.chargingSchedule.chargingSchedulePeriod[1].limit",
        "minChargingRate": "csChargingProfiles.chargingSchedule.minChargingRate",
    }
    assert err.field == expected[where]


@pytest.mark.parametrize("value", [0.2, 0.3, 16, 16.0, 7400.1, 10**12])
def test_v16_tenths_read_and_write_back_exactly(value: float) -> None:
    """Multiples of 0.1 (as JSON text) read, and write back with their JSON type."""
    payload = _replace(V16_TX, (*S16, "chargingSchedulePeriod", 1, "limit"), value)
    out = roundtrip(payload, "1.6")
    assert out == payload
    got = out["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"][1]["limit"]
    assert type(got) is type(value)

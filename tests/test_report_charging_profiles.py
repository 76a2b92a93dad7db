"""The CSMS side of GetChargingProfiles / ReportChargingProfiles (K09, issue 14 item 6, 15 item 3).

The station side (``get_charging_profiles``) is in ``test_reporting.py``; here the
CSMS reads the station's answer and its reports and assembles them.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from helpers import on, profile
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import CUSTOM_DATA, _profile, assert_schema_valid

from ocpp_schedule import (
    ChargingLimitSource,
    InstalledProfile,
    PayloadError,
    ProfileStore,
    VersionError,
)
from ocpp_schedule.station import (
    ChargingProfilesReport,
    GetChargingProfilesRequest,
    ReportChargingProfilesRequest,
    assemble_reports,
    get_charging_profiles,
    read_get_charging_profiles,
    read_get_charging_profiles_response,
    read_report_charging_profiles,
    report_charging_profiles,
    report_charging_profiles_response,
    write_get_charging_profiles,
    write_get_charging_profiles_response,
    write_report_charging_profiles,
)

TXD = "TxDefaultProfile"
EXT = "ChargingStationExternalConstraints"


def _store() -> ProfileStore:
    return ProfileStore(
        [
            on(0, profile(1, "ChargingStationMaxProfile", [(0, 40)])),
            on(0, profile(2, TXD, [(0, 32.0)])),
            on(1, profile(3, TXD, [(0, 16)], stack=1)),
            on(2, profile(4, TXD, [(0, 10.5)], stack=1)),
            InstalledProfile(0, profile(-5, EXT, [(0, 20)]), ChargingLimitSource.EMS),
        ]
    )


def _reports(store: ProfileStore, request_id: int = 7, version: str = "2.0.1") -> list[Any]:
    return [
        read_report_charging_profiles(r, version)
        for r in report_charging_profiles(store, request_id, version)
    ]


# ------------------------------------------------------------------ the request and the answer


def test_the_csms_builds_the_request_the_station_reads() -> None:
    """K09.FR.03: the CSMS names profile ids or other criteria; the station reads them back."""
    payload = {"requestId": 3, "evseId": 0, "chargingProfile": {"chargingProfileId": [1, 2]}}
    request = read_get_charging_profiles(payload, "2.0.1")
    assert isinstance(request, GetChargingProfilesRequest)
    assert write_get_charging_profiles(request, "2.0.1") == payload


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
@pytest.mark.parametrize(
    "payload",
    [
        {"status": "Accepted"},
        {"status": "NoProfiles"},
        {"status": "NoProfiles", "statusInfo": {"reasonCode": "NoMatch"}},
        {
            "status": "Accepted",
            "statusInfo": {
                "reasonCode": "X",
                "additionalInfo": "y",
                "customData": {"vendorId": "v"},
            },
            "customData": {"vendorId": "v", "n": 1},
        },
    ],
)
def test_get_charging_profiles_response_round_trips_exactly(version: str, payload: dict) -> None:
    response = read_get_charging_profiles_response(payload, version)
    assert response.reports_follow is (payload["status"] == "Accepted")  # K09 error handling
    assert write_get_charging_profiles_response(response, version) == payload
    assert_schema_valid(payload, version, "GetChargingProfilesResponse")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"status": "Rejected"}, "status"),  # not an enum value of the response
        ({}, "status"),
        ({"status": "Accepted", "extra": 1}, "extra"),
        ({"status": "Accepted", "statusInfo": {}}, "statusInfo.reasonCode"),
        ({"status": "Accepted", "statusInfo": {"reasonCode": "x" * 21}}, "statusInfo.reasonCode"),
        ({"status": "Accepted", "statusInfo": {"reasonCode": "a", "b": 1}}, "statusInfo.b"),
        ({"status": "Accepted", "statusInfo": None}, "statusInfo"),
    ],
)
def test_bad_get_charging_profiles_responses_are_refused(payload: dict, field: str) -> None:
    with pytest.raises(PayloadError) as err:
        read_get_charging_profiles_response(payload, "2.0.1")
    assert err.value.field == field


def test_additional_info_length_is_per_version() -> None:
    payload = {"status": "Accepted", "statusInfo": {"reasonCode": "a", "additionalInfo": "x" * 600}}
    assert read_get_charging_profiles_response(payload, "2.1").status_info is not None
    with pytest.raises(PayloadError, match="512"):
        read_get_charging_profiles_response(payload, "2.0.1")


def test_ocpp16_has_no_get_charging_profiles() -> None:
    """1.6 has no GetChargingProfiles/ReportChargingProfiles: the CSMS side says so."""
    with pytest.raises(VersionError):
        read_get_charging_profiles_response({"status": "Accepted"}, "1.6")
    with pytest.raises(VersionError):
        read_report_charging_profiles({}, "1.6")


# ------------------------------------------------------------------------------ the reports


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
def test_reports_round_trip_exactly_and_integers_stay_integers(version: str) -> None:
    for payload in report_charging_profiles(_store(), 9, version):
        report = read_report_charging_profiles(copy.deepcopy(payload), version)
        assert write_report_charging_profiles(report, version) == payload
        assert_schema_valid(payload, version, "ReportChargingProfilesRequest")
    first = report_charging_profiles(_store(), 9, version)[0]
    limit = first["chargingProfile"][0]["chargingSchedule"][0]["chargingSchedulePeriod"][0]
    assert type(limit["limit"]) is int  # 40 stays 40, not 40.0


def test_explicit_tbc_false_and_custom_data_stay() -> None:
    payload = {
        "requestId": 1,
        "chargingLimitSource": "CSO",
        "evseId": 1,
        "tbc": False,
        "customData": {"vendorId": "acme"},
        "chargingProfile": [write_charging(profile(3, TXD, [(0, 16)]))],
    }
    report = read_report_charging_profiles(payload, "2.0.1")
    assert report.tbc is False and not report.to_be_continued
    assert write_report_charging_profiles(report, "2.0.1") == payload


def write_charging(p: Any) -> dict:
    from ocpp_schedule import write_charging_profile

    return write_charging_profile(p, "2.0.1")


def test_free_text_limit_source_is_21_only() -> None:
    """2.1 makes chargingLimitSource a string of at most 20 characters; 2.0.1 keeps the enum."""
    payload = {
        "requestId": 1,
        "chargingLimitSource": "HEMS-42",
        "evseId": 0,
        "chargingProfile": [write_charging(profile(3, TXD, [(0, 16)]))],
    }
    report = read_report_charging_profiles(payload, "2.1")
    assert report.charging_limit_source == "HEMS-42"
    assert write_report_charging_profiles(report, "2.1") == payload
    with pytest.raises(PayloadError) as err:
        read_report_charging_profiles(payload, "2.0.1")
    assert err.value.field == "chargingLimitSource"
    with pytest.raises(VersionError):
        write_report_charging_profiles(report, "2.0.1")
    # the ProfileStore view holds the free text as Other; the report keeps it
    assembled = assemble_reports([report])
    assert assembled.profiles[0].source == "HEMS-42"
    assert next(iter(assembled.to_store())).source is ChargingLimitSource.OTHER


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"chargingProfile": []}, "chargingProfile"),
        ({"tbc": "yes"}, "tbc"),
        ({"evseId": -1}, "evseId"),
        ({"evseId": True}, "evseId"),
        ({"requestId": 1.0}, "requestId"),
        ({"unknown": 1}, "unknown"),
        ({"tbc": None}, "tbc"),
        ({"chargingLimitSource": 3}, "chargingLimitSource"),
    ],
)
def test_bad_reports_are_refused_naming_the_field(change: dict, field: str) -> None:
    payload = {
        "requestId": 1,
        "chargingLimitSource": "CSO",
        "evseId": 1,
        "chargingProfile": [write_charging(profile(3, TXD, [(0, 16)]))],
    }
    payload.update(change)
    with pytest.raises(PayloadError) as err:
        read_report_charging_profiles(payload, "2.0.1")
    assert err.value.field == field


def test_a_bad_profile_in_a_report_is_named_by_index() -> None:
    good = write_charging(profile(3, TXD, [(0, 16)]))
    bad = copy.deepcopy(good)
    bad["chargingSchedule"][0]["chargingSchedulePeriod"][0]["bogus"] = 1
    payload = {
        "requestId": 1,
        "chargingLimitSource": "CSO",
        "evseId": 1,
        "chargingProfile": [good, bad],
    }
    with pytest.raises(PayloadError) as err:
        read_report_charging_profiles(payload, "2.0.1")
    assert (
        err.value.field == "chargingProfile[1].chargingSchedule[0].chargingSchedulePeriod[0].bogus"
    )


def test_report_response_is_an_empty_object() -> None:
    assert report_charging_profiles_response() == {}


# ----------------------------------------------------------------------------- assembling


def test_station_answer_assembled_by_the_csms_is_the_store() -> None:
    """K09.FR.01/02 end to end: station reports -> CSMS assembly -> the same profiles."""
    store = _store()
    request = read_get_charging_profiles({"requestId": 7, "chargingProfile": {"stackLevel": 0}})
    result = get_charging_profiles(store, request, "2.0.1")
    answer = read_get_charging_profiles_response(result.to_payload(), "2.0.1")
    assert answer.reports_follow
    reports = [read_report_charging_profiles(r, "2.0.1") for r in result.reports]
    assembled = assemble_reports(reports, request_id=7)
    assert isinstance(assembled, ChargingProfilesReport)
    assert assembled.complete and assembled.request_id == 7
    assert set(assembled.to_store()) == set(result.profiles)


def test_request_id_must_match_k09_fr_01() -> None:
    reports = _reports(_store(), 7)
    with pytest.raises(PayloadError) as err:
        assemble_reports(reports, request_id=8)
    assert err.value.rule == "K09.FR.01" and err.value.field == "reports[0].requestId"
    mixed = reports[:1] + _reports(_store(), 8)[1:]
    with pytest.raises(PayloadError) as err:
        assemble_reports(mixed)
    assert err.value.rule == "K09.FR.01" and err.value.field == "reports[1].requestId"


def test_nothing_follows_the_last_report_k09_fr_02() -> None:
    reports = _reports(_store())
    last = reports[-1]
    with pytest.raises(PayloadError) as err:
        assemble_reports([last, *reports[:-1]])
    assert err.value.rule == "K09.FR.02" and err.value.field == "reports[1]"


def test_an_unfinished_report_is_incomplete_and_no_store_k09_fr_02() -> None:
    reports = _reports(_store())
    partial = assemble_reports(reports[:2])
    assert not partial.complete
    assert len(partial.profiles) == 3
    with pytest.raises(PayloadError) as err:
        partial.to_store()
    assert err.value.rule == "K09.FR.02"


def test_a_profile_id_reported_twice_is_refused() -> None:
    reports = _reports(_store())
    twice = ReportChargingProfilesRequest(
        7, "CSO", 2, reports[0].charging_profile, tbc=None
    )  # ids of report 0 again, on another EVSE
    body = [
        ReportChargingProfilesRequest(
            7, r.charging_limit_source, r.evse_id, r.charging_profile, True
        )
        for r in reports
    ]
    with pytest.raises(PayloadError) as err:
        assemble_reports([*body, twice])
    assert err.value.field == f"reports[{len(body)}].chargingProfile[0].id"


def test_no_reports_and_wrong_items_are_refused() -> None:
    with pytest.raises(PayloadError):
        assemble_reports([])
    with pytest.raises(PayloadError) as err:
        assemble_reports([{"requestId": 7}])  # type: ignore[list-item]
    assert err.value.field == "reports[0]"


@st.composite
def _split_reports(draw: Any, version: str) -> tuple[list[dict], list[tuple[int, int, str]]]:
    """Schema-valid report payloads of one request split into tbc parts, and what they carry."""
    count = draw(st.integers(1, 6))
    ids = draw(st.lists(st.integers(-50, 50), min_size=count, max_size=count, unique=True))
    items = []
    for pid in ids:
        prof = _profile(draw, version)
        prof["id"] = pid
        items.append(
            (draw(st.integers(0, 3)), draw(st.sampled_from(["CSO", "EMS", "SO", "Other"])), prof)
        )
    cuts = sorted(draw(st.sets(st.integers(1, count - 1), max_size=count - 1))) if count > 1 else []
    bounds = [0, *cuts, count]
    reports = []
    for k in range(len(bounds) - 1):
        part = items[bounds[k] : bounds[k + 1]]
        evse, source = part[0][0], part[0][1]  # one EVSE and source per report
        report: dict[str, Any] = {
            "requestId": 11,
            "chargingLimitSource": source,
            "evseId": evse,
            "chargingProfile": [p for _, _, p in part],
        }
        if k < len(bounds) - 2:
            report["tbc"] = True
        elif draw(st.booleans()):
            report["tbc"] = False
        if draw(st.integers(0, 4)) == 0:
            report["customData"] = draw(CUSTOM_DATA)
        reports.append(report)
    carried = [
        (r["evseId"], p["id"], r["chargingLimitSource"])
        for r in reports
        for p in r["chargingProfile"]
    ]
    return reports, carried


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_split_reports_reassemble_to_the_same_profiles(version: str, data: st.DataObject) -> None:
    """Property: however a report is split into tbc parts, reading and assembling the parts
    gives every profile once, on its EVSE with its source, in order; each part writes back
    exactly (schema-valid JSON in, the same JSON out)."""
    payloads, carried = data.draw(_split_reports(version))
    reports = []
    for payload in payloads:
        assert_schema_valid(payload, version, "ReportChargingProfilesRequest")
        report = read_report_charging_profiles(copy.deepcopy(payload), version)
        assert write_report_charging_profiles(report, version) == payload
        reports.append(report)
    assembled = assemble_reports(reports, request_id=11)
    assert assembled.complete
    got = [(p.evse_id, p.profile.id, str(p.source)) for p in assembled.profiles]
    assert got == carried
    store = assembled.to_store()
    assert sorted(e.id for e in store) == sorted(pid for _, pid, _ in carried)


# ------------------------------------------------------------- the ocpp package (issue 15 item 3)


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
def test_adapters_carry_the_k09_messages_both_ways(version: str) -> None:
    from ocpp_schedule.tools import adapters as ad

    request = read_get_charging_profiles(
        {"requestId": 5, "evseId": 1, "chargingProfile": {"stackLevel": 1}}, version
    )
    call = ad.to_ocpp_get_charging_profiles(request, version)
    assert type(call).__name__ == "GetChargingProfiles"
    assert ad.from_ocpp_get_charging_profiles(call) == request
    result = get_charging_profiles(_store(), request, version)
    answer = ad.from_ocpp_get_charging_profiles_result(
        ad.to_ocpp_get_charging_profiles_result(result, version)
    )
    assert answer.status == "Accepted"
    reports = [
        ad.from_ocpp_report_charging_profiles(ad.to_ocpp_report_charging_profiles(r, version))
        for r in result.reports
    ]
    assert set(assemble_reports(reports, request_id=5).to_store()) == set(result.profiles)
    assert ad.ocpp_payload(ad.to_ocpp_report_charging_profiles_result(version)) == {}


def test_adapters_refuse_16_for_k09() -> None:
    from ocpp_schedule.tools import adapters as ad

    request = read_get_charging_profiles({"requestId": 5, "chargingProfile": {"stackLevel": 1}})
    with pytest.raises(VersionError):
        ad.to_ocpp_get_charging_profiles(request, "1.6")
    with pytest.raises(VersionError):
        ad.to_ocpp_report_charging_profiles_result("1.6")

"""GetChargingProfiles / ReportChargingProfiles (K09) and the one-profile expansion."""

from __future__ import annotations

import pytest
from helpers import at, on, profile
from strategies import assert_schema_valid

from ocpp_schedule import (
    ChargingLimitSource,
    ChargingProfileCriteria,
    ChargingProfilePurpose,
    ChargingRateUnit,
    InstalledProfile,
    PayloadError,
    ProfileStore,
    VersionError,
    expand_profile,
)
from ocpp_schedule.station import (
    get_charging_profiles,
    read_get_charging_profiles,
    report_charging_profiles,
)

TXD = "TxDefaultProfile"
EXT = "ChargingStationExternalConstraints"


def _store() -> ProfileStore:
    return ProfileStore(
        [
            on(0, profile(1, "ChargingStationMaxProfile", [(0, 40.0)])),
            on(0, profile(2, TXD, [(0, 32.0)])),
            on(1, profile(3, TXD, [(0, 16.0)], stack=1)),
            on(2, profile(4, TXD, [(0, 10.0)], stack=1)),
            InstalledProfile(0, profile(-5, EXT, [(0, 20.0)]), ChargingLimitSource.EMS),
        ]
    )


@pytest.mark.parametrize(
    ("criteria", "evse", "ids"),
    [
        ({}, None, [1, 2, 3, 4, -5]),  # K09.FR.06: no evseId, every profile
        ({}, 0, [1, 2, -5]),  # K09.FR.05: the station's own
        ({}, 1, [3]),  # K09.FR.04: that EVSE's
        ({"chargingProfilePurpose": TXD}, None, [2, 3, 4]),
        ({"stackLevel": 1}, None, [3, 4]),
        ({"chargingProfileId": [1, 4, 99]}, None, [1, 4]),
        ({"chargingLimitSource": ["EMS"]}, None, [-5]),
        ({"chargingProfilePurpose": TXD, "stackLevel": 0}, 0, [2]),
    ],
)
def test_criteria_select_profiles(criteria, evse, ids) -> None:
    payload = {"requestId": 7, "chargingProfile": criteria}
    if evse is not None:
        payload["evseId"] = evse
    request = read_get_charging_profiles(payload, "2.0.1")
    result = get_charging_profiles(_store(), request, "2.0.1")
    assert sorted(e.id for e in result.profiles) == sorted(ids)
    assert result.to_payload() == {"status": "Accepted"}
    reported = [p["id"] for r in result.reports for p in r["chargingProfile"]]
    assert sorted(reported) == sorted(ids)


def test_no_match_answers_no_profiles() -> None:
    request = read_get_charging_profiles({"requestId": 1, "chargingProfile": {"stackLevel": 9}})
    result = get_charging_profiles(_store(), request, "2.0.1")
    assert result.status == "NoProfiles"
    assert result.reports == ()


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
def test_reports_group_by_evse_and_source_with_tbc(version: str) -> None:
    reports = report_charging_profiles(_store(), 42, version)
    keys = [(r["evseId"], r["chargingLimitSource"]) for r in reports]
    assert keys == [(0, "CSO"), (0, "EMS"), (1, "CSO"), (2, "CSO")]
    assert [r.get("tbc", False) for r in reports] == [True, True, True, False]  # K09.FR.02
    assert {r["requestId"] for r in reports} == {42}  # K09.FR.01
    for report in reports:
        assert_schema_valid(report, version, "ReportChargingProfilesRequest")
    request = {"requestId": 42, "evseId": 1, "chargingProfile": {"chargingProfilePurpose": TXD}}
    assert_schema_valid(request, version, "GetChargingProfilesRequest")
    assert_schema_valid({"status": "NoProfiles"}, version, "GetChargingProfilesResponse")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"chargingProfile": {}}, "requestId"),
        ({"requestId": 1}, "chargingProfile"),
        ({"requestId": "1", "chargingProfile": {}}, "requestId"),
        ({"requestId": 1, "chargingProfile": {}, "foo": 1}, "foo"),
        ({"requestId": 1, "chargingProfile": {"bar": 1}}, "chargingProfile.bar"),
        (
            {"requestId": 1, "chargingProfile": {"chargingProfileId": []}},
            "chargingProfile.chargingProfileId",
        ),
        (
            {
                "requestId": 1,
                "chargingProfile": {"chargingProfilePurpose": "ChargePointMaxProfile"},
            },
            "chargingProfile.chargingProfilePurpose",
        ),
        (
            {"requestId": 1, "chargingProfile": {"chargingLimitSource": ["Grid"]}},
            "chargingProfile.chargingLimitSource",
        ),
        ({"requestId": 1, "evseId": True, "chargingProfile": {}}, "evseId"),
    ],
)
def test_reader_errors_name_the_field(payload, field) -> None:
    with pytest.raises(PayloadError) as info:
        read_get_charging_profiles(payload, "2.0.1")
    assert info.value.field == field


def test_v16_has_no_get_charging_profiles() -> None:
    with pytest.raises(VersionError):
        read_get_charging_profiles({"requestId": 1, "chargingProfile": {}}, "1.6")
    with pytest.raises(VersionError):
        report_charging_profiles([], 1, "1.6")


def test_reader_builds_the_criteria() -> None:
    request = read_get_charging_profiles(
        {
            "requestId": 3,
            "evseId": 2,
            "chargingProfile": {
                "chargingProfilePurpose": TXD,
                "stackLevel": 1,
                "chargingProfileId": [4],
                "chargingLimitSource": ["CSO", "SO"],
            },
        }
    )
    assert request.request_id == 3
    assert request.criteria == ChargingProfileCriteria(
        evse_id=2,
        charging_profile_id=(4,),
        stack_level=1,
        charging_profile_purpose=ChargingProfilePurpose.TX_DEFAULT_PROFILE,
        charging_limit_source=(ChargingLimitSource.CSO, ChargingLimitSource.SO),
    )


# ------------------------------------------------------------ expand_profile


def test_expand_recurring_profile_over_two_days() -> None:
    prof = profile(
        1,
        TXD,
        [(0, 10.0), (3600, 20.0, 1)],
        kind="Recurring",
        recurrency="Daily",
        start=0,
        valid_to=86400 + 5400,
    )
    t0 = int(at(0).timestamp())
    got = [
        (p.start_epoch - t0, p.end_epoch - t0, p.limit, p.number_phases)
        for p in expand_profile(prof, start=at(-600), duration=86400 + 7200)
    ]
    assert got == [
        (-600, 0, 20.0, 1),  # the previous day's recurrence, second period
        (0, 3600, 10.0, None),
        (3600, 86400, 20.0, 1),
        (86400, 90000, 10.0, None),
        (90000, 91800, 20.0, 1),  # validTo at +91 800
    ]


def test_expand_relative_profile_at_transaction_start() -> None:
    prof = profile(1, "TxProfile", [(0, 6.0), (600, 8.0)], kind="Relative", duration=900, unit="W")
    t0 = int(at(0).timestamp())
    got = expand_profile(on(1, prof), start=at(0), duration=3600, transaction_start=at(300))
    assert [(p.start_epoch - t0, p.end_epoch - t0, p.limit, p.period_index) for p in got] == [
        (300, 900, 6.0, 0),
        (900, 1200, 8.0, 1),
    ]
    assert {p.charging_rate_unit for p in got} == {ChargingRateUnit.W}
    # Without a transaction the schedule starts at the window start.
    alone = expand_profile(prof, start=at(0), duration=3600)
    assert [(p.start_epoch - t0, p.end_epoch - t0) for p in alone] == [(0, 600), (600, 900)]

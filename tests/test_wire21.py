"""OCPP 2.1 on the wire (issue 14, items 2 and 10): periods without ``limit``, answers
without ``limit``, free-string limit sources, and the ``limitAtSoC`` boundary.

Decisions: docs/semantics.md, section "OCPP 2.1 on the wire (issue 14)", rows V21-1 ..
V21-6.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from helpers import at, on, periods, profile, tx

from ocpp_schedule import (
    ChargingLimitSource,
    ChargingProfileCriteria,
    InstalledProfile,
    OcppVersion,
    OperationMode,
    PayloadError,
    ProfileStore,
    RejectionReason,
    StationConfig,
    StationState,
    VersionError,
    composite_schedule,
    install,
    install_local,
    read_set_charging_profile,
    write_set_charging_profile,
)
from ocpp_schedule.station import read_get_charging_profiles, write_get_charging_profiles
from ocpp_schedule.tools.adapters import CompositeAnswer

V2X = StationConfig(v2x_supported_operation_modes=frozenset(OperationMode))
STATE = StationState(V2X, "2.1")
T0 = "2024-01-01T00:00:00Z"


def request(
    period: dict[str, Any],
    *,
    pid: int = 1,
    purpose: str = "TxDefaultProfile",
    stack: int = 0,
    evse: int = 1,
) -> dict[str, Any]:
    """A 2.1 SetChargingProfile request with one Absolute period from T0."""
    return {
        "evseId": evse,
        "chargingProfile": {
            "id": pid,
            "stackLevel": stack,
            "chargingProfilePurpose": purpose,
            "chargingProfileKind": "Absolute",
            "chargingSchedule": [
                {
                    "id": pid,
                    "startSchedule": T0,
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [{"startPeriod": 0, **period}],
                }
            ],
        },
    }


def send(payload: dict[str, Any], store: ProfileStore | None = None, *, local: bool = False):
    req = read_set_charging_profile(payload, "2.1")
    put = install_local if local else install
    return put(store or ProfileStore(), req, STATE)


# ------------------------------------------------------ V21-1/V21-2: which mode needs what

# (operationMode, purpose, period without limit): accepted by the rules (K01.FR.111-113
# allow these modes in these purposes; the schema makes limit optional in them).
WITHOUT_LIMIT_ACCEPTED = [
    ("CentralSetpoint", "TxDefaultProfile", {"setpoint": 5.0}),
    ("CentralSetpoint", "TxDefaultProfile", {"setpoint": -5, "dischargeLimit": -10}),
    ("ExternalSetpoint", "TxDefaultProfile", {}),
    ("ExternalLimits", "TxDefaultProfile", {"dischargeLimit": -8}),
    ("LocalFrequency", "TxDefaultProfile", {"v2xFreqWattCurve": [{"frequency": 50, "power": 0}]}),
    ("LocalLoadBalancing", "TxDefaultProfile", {}),
    ("Idle", "TxDefaultProfile", {}),
]


@pytest.mark.parametrize(("mode", "purpose", "extra"), WITHOUT_LIMIT_ACCEPTED)
def test_v21_1_limit_is_optional_where_the_mode_does_not_need_it(
    mode: str, purpose: str, extra: dict[str, Any]
) -> None:
    """Issue 14: CentralSetpoint, ExternalSetpoint, ExternalLimits (and LocalFrequency,
    LocalLoadBalancing, Idle) periods without a limit were rejected (MissingLimit)."""
    payload = request({"operationMode": mode, **extra}, purpose=purpose)
    store, result = send(payload)
    assert result.accepted, result
    assert len(store) == 1
    # ... and the accepted request is written back exactly.
    written = write_set_charging_profile(read_set_charging_profile(payload, "2.1"), "2.1")
    assert written == payload


@pytest.mark.parametrize("mode", ["ExternalLimits", "ExternalSetpoint"])
def test_v21_1_external_constraints_without_limit_are_installed_locally(mode: str) -> None:
    payload = request({"operationMode": mode}, purpose="ChargingStationExternalConstraints")
    _, result = send(payload, local=True)
    assert result.accepted, result


@pytest.mark.parametrize("mode", ["ChargingOnly", "CentralFrequency", None])
def test_v21_1_limit_is_required_where_the_mode_needs_it(mode: str | None) -> None:
    period: dict[str, Any] = {} if mode is None else {"operationMode": mode}
    _, result = send(request(period))
    assert not result.accepted
    assert result.reason is RejectionReason.MISSING_LIMIT
    assert result.rule == "OCPP 2.1 ChargingSchedulePeriodType.limit"
    assert result.to_payload("2.1")["statusInfo"]["reasonCode"] == "InvalidSchedule"


@pytest.mark.parametrize("limit", [None, 16])
def test_v21_2_central_setpoint_needs_a_setpoint(limit: int | None) -> None:
    period: dict[str, Any] = {"operationMode": "CentralSetpoint"}
    if limit is not None:
        period["limit"] = limit
    _, result = send(request(period))
    assert not result.accepted
    assert result.reason is RejectionReason.MISSING_SETPOINT
    assert result.rule == "OCPP 2.1 ChargingSchedulePeriodType.setpoint"
    assert result.to_payload("2.1")["statusInfo"]["reasonCode"] == "InvalidSchedule"


def test_v21_2_a_setpoint_outside_the_limits_is_still_rejected() -> None:
    period = {"operationMode": "CentralSetpoint", "setpoint": -20, "dischargeLimit": -10}
    _, result = send(request(period))
    assert result.reason is RejectionReason.INVALID_SETPOINT  # V2X.05


# --------------------------------------------- V21-1: what the composite makes of them


def _composite(store: ProfileStore, duration: int = 600) -> list[tuple[int, float, int]]:
    return periods(composite_schedule(store, evse_id=1, start=at(0), duration=duration, config=V2X))


def test_v21_1_a_period_without_limit_sets_no_limit_but_wins_its_stack() -> None:
    """A limit-less period (here ExternalLimits) at the top of the TxDefault stack sets no
    limit: the 10 A TxDefault below it does not show through, the station max governs."""
    store, _ = send(request({"limit": 10}, pid=1, stack=0))
    store, r2 = send(request({"operationMode": "ExternalLimits"}, pid=2, stack=1), store)
    assert r2.accepted
    store, r3 = send(
        request({"limit": 32}, pid=3, purpose="ChargingStationMaxProfile", evse=0), store
    )
    assert r3.accepted
    assert _composite(store) == [(0, 32.0, 3)]
    # Without a station max, the default limit (48 A) applies, as for no profile at all.
    without_max = ProfileStore(e for e in store if e.id != 3)
    assert _composite(without_max) == [(0, 48.0, 3)]


def test_v21_1_an_idle_period_without_limit_is_zero() -> None:
    store, _ = send(request({"limit": 10}, pid=1, stack=0))
    store, _ = send(request({"operationMode": "Idle"}, pid=2, stack=1), store)
    assert _composite(store) == [(0, 0.0, 3)]


def test_v21_1_integer_limits_compute_as_before() -> None:
    """Exact JSON keeps ``16`` an int on the model; the composite is the same as for 16.0."""
    as_int, _ = send(request({"limit": 16}))
    as_float, _ = send(request({"limit": 16.0}))
    assert _composite(as_int) == _composite(as_float) == [(0, 16.0, 3)]
    assert isinstance(_composite(as_int)[0][1], float)


# ------------------------------------------------- V21-3: answers without a limit

ANSWER_21 = {
    "status": "Accepted",
    "schedule": {
        "evseId": 1,
        "duration": 600,
        "scheduleStart": T0,
        "chargingRateUnit": "W",
        "chargingSchedulePeriod": [
            {"startPeriod": 0, "limit": 11000},
            {"startPeriod": 300, "setpoint": -3000, "operationMode": "CentralSetpoint"},
        ],
    },
}


def test_v21_3_an_answer_without_limit_is_read_and_kept_exactly() -> None:
    answer = CompositeAnswer.from_payload(copy.deepcopy(ANSWER_21), "2.1")
    assert answer.accepted
    assert answer.payload == ANSWER_21
    with pytest.raises(PayloadError) as info:
        _ = answer.schedule
    assert info.value.field == "schedule.chargingSchedulePeriod[1].limit"
    assert info.value.rule == "docs/semantics.md V21-3"


def test_v21_3_an_answer_with_limits_still_reads_as_a_schedule() -> None:
    payload = copy.deepcopy(ANSWER_21)
    payload["schedule"]["chargingSchedulePeriod"][1]["limit"] = 0
    schedule = CompositeAnswer.from_payload(payload, "2.1").schedule
    assert schedule is not None
    assert [(p.start_period, p.limit) for p in schedule.periods] == [(0, 11000.0), (300, 0.0)]


@pytest.mark.parametrize("version", ["2.0.1", "1.6"])
def test_v21_3_before_21_a_period_needs_its_limit(version: str) -> None:
    """2.0.1 and 1.6 answers require ``limit`` (their schemas do): still a PayloadError."""
    if version == "2.0.1":
        payload = copy.deepcopy(ANSWER_21)
        del payload["schedule"]["chargingSchedulePeriod"][1]["setpoint"]
        del payload["schedule"]["chargingSchedulePeriod"][1]["operationMode"]
    else:
        payload = {
            "status": "Accepted",
            "connectorId": 1,
            "scheduleStart": T0,
            "chargingSchedule": {
                "duration": 60,
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0}],
            },
        }
    with pytest.raises(PayloadError) as info:
        CompositeAnswer.from_payload(payload, version)
    assert info.value.field is not None
    assert info.value.field.endswith("limit")


# ---------------------------------------- V21-5: chargingLimitSource is a string in 2.1


def test_v21_5_a_free_string_limit_source_is_read_in_21() -> None:
    payload = {
        "requestId": 4,
        "evseId": 0,
        "chargingProfile": {"chargingLimitSource": ["EMS", "Grid operator 7", "x" * 20]},
    }
    req = read_get_charging_profiles(payload, "2.1")
    sources = req.criteria.charging_limit_source
    assert sources == (ChargingLimitSource.EMS, "Grid operator 7", "x" * 20)
    assert isinstance(sources[0], ChargingLimitSource)
    assert write_get_charging_profiles(req, "2.1") == payload
    with pytest.raises(VersionError):
        write_get_charging_profiles(req, "2.0.1")


@pytest.mark.parametrize(("version", "source"), [("2.0.1", "Grid"), ("2.1", "x" * 21), ("2.1", 7)])
def test_v21_5_what_the_schema_refuses_is_refused(version: str, source: Any) -> None:
    payload = {"requestId": 1, "chargingProfile": {"chargingLimitSource": [source]}}
    with pytest.raises(PayloadError) as info:
        read_get_charging_profiles(payload, version)
    assert info.value.field == "chargingProfile.chargingLimitSource"


def test_v21_5_a_free_string_source_matches_no_installed_profile_of_a_known_source() -> None:
    prof = profile(1, "TxDefaultProfile", [(0, 16.0)])
    entry = InstalledProfile(1, prof, ChargingLimitSource.EMS)
    other = ChargingProfileCriteria(charging_limit_source=("Grid",))
    ems = ChargingProfileCriteria(charging_limit_source=("Grid", ChargingLimitSource.EMS))
    assert not other.matches(entry)
    assert ems.matches(entry)


def test_v21_5_customdata_and_every_criterion_round_trip() -> None:
    payload = {
        "requestId": -3,
        "evseId": 2,
        "chargingProfile": {
            "chargingProfilePurpose": "PriorityCharging",
            "stackLevel": 0,
            "chargingProfileId": [1, 2],
            "chargingLimitSource": ["SO"],
            "customData": {"vendorId": "v", "n": 1.0},
        },
        "customData": {"vendorId": "w", "m": [1, {}]},
    }
    req = read_get_charging_profiles(payload, "2.1")
    assert write_get_charging_profiles(req, "2.1") == payload
    with pytest.raises(VersionError):  # PriorityCharging is 2.1 only
        write_get_charging_profiles(req, "2.0.1")


# ---------------------------------------------------- item 10: the limitAtSoC boundary


@pytest.mark.parametrize(
    ("soc", "expected"),
    [(79, 16.0), (79.9, 16.0), (80, 8.0), (80.0, 8.0), (80.1, 8.0), (100, 8.0)],
)
def test_limit_at_soc_applies_from_soc_on_inclusive(soc: float, expected: float) -> None:
    """K01.FR.100: the limit applies once the state of charge is AT or above ``soc`` (the
    ``>=`` boundary; a ``>`` mutant survived the earlier tests, issue 14 item 10)."""
    prof = profile(1, "TxDefaultProfile", [(0, 16.0)], limitAtSoC={"soc": 80, "limit": 8.0})
    schedule = composite_schedule(
        [on(1, prof)],
        evse_id=1,
        start=at(0),
        duration=600,
        transaction=tx(state_of_charge=soc),
    )
    assert periods(schedule) == [(0, expected, 3)]


@pytest.mark.parametrize(("soc", "expected"), [(0, 8.0), (100, 8.0), (99.9, 16.0)])
def test_limit_at_soc_boundaries_of_the_range(soc: float, expected: float) -> None:
    """``soc`` 0 applies at once (every state of charge is >= 0); ``soc`` 100 only at 100."""
    limit_soc = 0 if soc == 0 else 100
    prof = profile(1, "TxDefaultProfile", [(0, 16.0)], limitAtSoC={"soc": limit_soc, "limit": 8.0})
    schedule = composite_schedule(
        [on(1, prof)], evse_id=1, start=at(0), duration=600, transaction=tx(state_of_charge=soc)
    )
    assert periods(schedule) == [(0, expected, 3)]


# ----------------------------------------------------------- V21-6: 1.6 tenths


def test_v21_6_the_16_counterexample_is_refused_on_reading() -> None:
    """Issue 14 item 10: a 1.6 limit of 0.25 was read, then refused on write."""
    payload = {
        "connectorId": 1,
        "csChargingProfiles": {
            "chargingProfileId": 1,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Relative",
            "chargingSchedule": {
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 0.25}],
            },
        },
    }
    with pytest.raises(PayloadError) as info:
        read_set_charging_profile(payload, "1.6")
    assert info.value.rule == "OCPP 1.6 schema: multipleOf 0.1"
    payload["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] = 0.2
    req = read_set_charging_profile(payload, OcppVersion.V16)
    assert write_set_charging_profile(req, "1.6") == payload


# ---------------------------------- V21-36: per-phase values need L1; magnitudes bounded


@pytest.mark.parametrize(
    ("period", "reason"),
    [
        ({"limit": 0, "dischargeLimit_L3": 0}, RejectionReason.INVALID_LIMIT),
        ({"limit": 10, "setpoint_L2": 5}, RejectionReason.INVALID_SETPOINT),
        ({"limit": 10, "setpointReactive_L3": 1}, RejectionReason.INVALID_SETPOINT),
        ({"limit": 10, "dischargeLimit": -1_000_000_001}, RejectionReason.INVALID_LIMIT),
        ({"limit": 10, "setpointReactive": 2e9}, RejectionReason.INVALID_SETPOINT),
    ],
)
def test_v21_36_per_phase_values_need_l1_and_stay_within_bounds(
    period: dict[str, Any], reason: RejectionReason
) -> None:
    """What the engine cannot compute is rejected on receipt, never accepted then refused."""
    ext = request(period, purpose="ChargingStationExternalConstraints", evse=0)
    _, result = send(ext, local=True)
    assert result.reason is reason

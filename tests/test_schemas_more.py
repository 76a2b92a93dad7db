"""The rest of what the library writes, against the official OCPP 1.6, 2.0.1 and 2.1 schemas.

``test_schemas.py`` covers SetChargingProfile requests and responses,
ClearChargingProfile requests and responses and GetCompositeSchedule answers
of ``composite_schedule``; ``test_reporting.py`` a fixed ReportChargingProfiles
case. This file covers the remaining writers and entry points:

- ReportChargingProfiles requests and GetChargingProfiles responses for
  generated stores (every 2.0.1/2.1 field the strategies draw, every limit source);
- ClearChargingProfile responses from ``clear`` over generated stores;
- GetCompositeSchedule answers from ``station_composites`` (every EVSE and the
  station total) of stations that accepted generated requests;
- the command line's GetCompositeSchedule output;
- site balancing send plans (``sendplan.send_plan``) for piles of each version;
- GetCompositeSchedule requests and answers of :mod:`ocpp_schedule.tools.adapters`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import VERSIONS, assert_schema_valid, set_charging_profile

from ocpp_schedule import (
    ChargingLimitSource,
    ChargingProfileCriteria,
    ChargingProfilePurpose,
    ChargingRateUnit,
    ClearChargingProfileRequest,
    InstalledProfile,
    InvalidProfileError,
    OcppVersion,
    OperationMode,
    ProfileStore,
    RejectionReason,
    StationConfig,
    StationState,
    Transaction,
    install,
    install_local,
    read_set_charging_profile,
    station_composites,
    write_set_charging_profile,
)
from ocpp_schedule.cli import main as cli_main
from ocpp_schedule.station import GetChargingProfilesRequest, clear, get_charging_profiles
from ocpp_schedule.tools.adapters import CompositeAnswer, CompositeQuery

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
T0 = datetime(2024, 1, 1, tzinfo=UTC)
V2 = ("2.0.1", "2.1")
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def wire(data: Any) -> Any:
    return json.loads(json.dumps(data, allow_nan=False))


def _request_name(version: str, action: str) -> str:
    return action if version == "1.6" else f"{action}Request"


# --------------------------------------------------- GetChargingProfiles / Report (K09)


@st.composite
def _stores(draw: Any, version: str) -> ProfileStore:
    """Installed profiles as a station could hold them (read from payloads of ``version``)."""
    payloads = draw(st.lists(set_charging_profile(version), min_size=1, max_size=5))
    sources = st.sampled_from(list(ChargingLimitSource))
    entries = []
    for payload in payloads:
        request = read_set_charging_profile(payload, version)
        entries.append(InstalledProfile(request.evse_id, request.charging_profile, draw(sources)))
    return ProfileStore(entries)


_CRITERIA = st.builds(
    ChargingProfileCriteria,
    evse_id=st.none() | st.integers(0, 10),
    stack_level=st.none() | st.integers(0, 100),
    charging_limit_source=st.none()
    | st.lists(st.sampled_from(list(ChargingLimitSource)), min_size=1, max_size=2).map(tuple),
)


@SETTINGS
@given(
    st.sampled_from(V2).flatmap(lambda v: st.tuples(st.just(v), _stores(v))),
    _CRITERIA,
    st.integers(-(2**31), 2**31 - 1),
)
def test_reports_of_generated_stores_are_valid(
    source: tuple[str, ProfileStore], criteria: ChargingProfileCriteria, request_id: int
) -> None:
    version, store = source
    result = get_charging_profiles(store, GetChargingProfilesRequest(request_id, criteria), version)
    assert_schema_valid(wire(result.to_payload()), version, "GetChargingProfilesResponse")
    reported = 0
    for report in result.reports:
        assert_schema_valid(wire(report), version, "ReportChargingProfilesRequest")
        reported += len(report["chargingProfile"])
    assert reported == len(result.profiles) == len(store.query(criteria))


@SETTINGS
@given(
    st.sampled_from(VERSIONS).flatmap(lambda v: st.tuples(st.just(v), _stores(v))),
    st.builds(
        ClearChargingProfileRequest,
        charging_profile_id=st.none() | st.integers(-5, 5),
        evse_id=st.none() | st.integers(0, 3),
        stack_level=st.none() | st.integers(0, 3),
    ),
)
def test_clear_answers_of_generated_stores_are_valid(
    source: tuple[str, ProfileStore], request: ClearChargingProfileRequest
) -> None:
    version, store = source
    after, result = clear(store, request, version)
    assert_schema_valid(wire(result.to_payload(version)), version, "ClearChargingProfileResponse")
    assert len(after) == len(store) - len(result.cleared)


# ------------------------------------------------------- station_composites answers

_TX = Transaction("77", 1, T0 + timedelta(minutes=3), priority_charging=True, state_of_charge=50)


_NUMBERS = ("limit", "limit_L2", "limit_L3", "setpoint", "setpoint_L2", "setpoint_L3")


def _placed(payload: dict[str, Any], version: str) -> tuple[dict[str, Any], bool]:
    """The payload changed into one a station accepts (the max on EVSE 0, a TxProfile on
    the transaction's EVSE and bound to it, limits >= 0, anchors where the kind needs
    them, ...), keeping every field that is not in the way; True for local purposes."""
    payload = json.loads(json.dumps(payload))
    v16 = version == "1.6"
    prof = payload["csChargingProfiles" if v16 else "chargingProfile"]
    purpose, kind = prof["chargingProfilePurpose"], prof["chargingProfileKind"]
    evse_key = "connectorId" if v16 else "evseId"
    is_max = purpose in ("ChargePointMaxProfile", "ChargingStationMaxProfile")
    if is_max:
        payload[evse_key] = 0
    elif purpose in ("TxProfile", "PriorityCharging"):
        payload[evse_key] = _TX.evse_id
    else:
        payload[evse_key] = min(payload[evse_key], 2)
    if purpose == "TxProfile":
        prof["transactionId"] = int(_TX.id) if v16 else _TX.id
    else:
        prof.pop("transactionId", None)
    if is_max and kind == "Relative":
        kind = prof["chargingProfileKind"] = "Absolute"
    if kind != "Recurring":
        prof.pop("recurrencyKind", None)
    if kind != "Dynamic":
        prof.pop("dynUpdateInterval", None)
        prof.pop("dynUpdateTime", None)
    if "validFrom" in prof:
        prof.pop("validTo", None)
    schedules = [prof["chargingSchedule"]] if v16 else prof["chargingSchedule"][:1]
    if not v16:
        prof["chargingSchedule"] = schedules
    for sched in schedules:
        if kind in ("Absolute", "Recurring") and not v16:
            sched.setdefault("startSchedule", "2024-01-01T00:00:00Z")
        if kind == "Relative" and not v16:
            sched.pop("startSchedule", None)
        if kind == "Dynamic":
            sched["chargingSchedulePeriod"] = sched["chargingSchedulePeriod"][:1]
        if purpose == "PriorityCharging":
            sched.pop("duration", None)
        if purpose not in ("TxProfile", "TxDefaultProfile"):
            sched.pop("randomizedDelay", None)
        sched.pop("useLocalTime", None)  # the engine needs the station's time zone (V4)
        if "minChargingRate" in sched:  # bounded: see test_values_near_the_float_maximum
            sched["minChargingRate"] = min(abs(sched["minChargingRate"]), 1e12)
        if "limitAtSoC" in sched:
            sched["limitAtSoC"]["limit"] = abs(sched["limitAtSoC"]["limit"])
        for period in sched["chargingSchedulePeriod"]:
            period.pop("phaseToUse", None)
            for key in _NUMBERS:
                if key in period:
                    period[key] = min(abs(period[key]), 1e12)
            if purpose not in ("TxProfile", "TxDefaultProfile"):
                period.pop("operationMode", None)
    return payload, purpose in ("ChargingStationExternalConstraints", "LocalGeneration")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(VERSIONS).flatmap(
        lambda v: st.tuples(st.just(v), st.lists(set_charging_profile(v), min_size=1, max_size=6))
    ),
    st.sampled_from([None, "A", "W"]),
    st.integers(0, 2 * 86_400),
    st.integers(-86_400, 86_400),
)
def test_station_composites_of_accepting_stations_are_valid(
    source: tuple[str, list[dict[str, Any]]], unit: str | None, duration: int, offset: int
) -> None:
    """Whatever a station accepted, its answer for every EVSE and the total is schema-valid."""
    version, payloads = source
    config = StationConfig(
        evse_ids=(1, 2),
        supported_additional_purposes=frozenset(
            {ChargingProfilePurpose.PRIORITY_CHARGING, ChargingProfilePurpose.LOCAL_GENERATION}
        ),
        supports_dynamic_profiles=True,
        supports_limit_at_soc=True,
        supports_randomized_delay=True,
        supports_evse_sleep=True,
        ac_phase_switching_supported=True,
        v2x_supported_operation_modes=frozenset(OperationMode),
    )
    state = StationState(config, OcppVersion(version), (_TX,))
    store = ProfileStore()
    for payload in payloads:
        placed, local = _placed(payload, version)
        entry = install_local if local else install
        store, _ = entry(store, read_set_charging_profile(placed, version), state)
    answers = station_composites(
        store,
        start=T0 + timedelta(seconds=offset),
        duration=duration,
        unit=unit,
        transactions=state.transactions,
        config=config,
    )
    assert sorted(answers) == [0, 1, 2]
    for evse, schedule in answers.items():
        out = wire(schedule.to_payload(version))
        assert_schema_valid(out, version, "GetCompositeScheduleResponse")
        inner = out["chargingSchedule"] if version == "1.6" else out["schedule"]
        assert inner["duration"] == duration
        assert (out["connectorId"] if version == "1.6" else inner["evseId"]) == evse


@pytest.mark.parametrize(
    ("limit", "unit", "extra"),
    [(16.0, "A", {"minChargingRate": 1e307}), (1e308, "W", {})],
)
def test_values_near_the_float_maximum(limit: float, unit: str, extra: dict[str, Any]) -> None:
    """A limit or rate beyond 10^9 is no charging limit: the rules reject it and the engine,
    given it directly, refuses it with a typed error rather than overflowing."""
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
                    "chargingRateUnit": unit,
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
                    **extra,
                }
            ],
        },
    }
    request = read_set_charging_profile(payload)
    _store, result = install(ProfileStore(), request, StationState(version="2.0.1"))
    assert not result.accepted and result.reason is RejectionReason.INVALID_LIMIT
    with pytest.raises(InvalidProfileError):
        station_composites(
            [InstalledProfile(1, request.charging_profile)], start=T0, duration=60, unit="W"
        )


# ------------------------------------------------------------------- the command line


@pytest.mark.parametrize(
    "options",
    [
        ["--evse", "1"],
        ["--evse", "0", "--unit", "W"],
        ["--evse", "2", "--unit", "A", "--duration", "0"],
        ["--evse", "5", "--evses", "2"],  # unknown EVSE: Rejected
    ],
)
@pytest.mark.parametrize("version", VERSIONS)
def test_command_line_answers_are_valid(
    options: list[str], version: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    payloads = json.loads((EXAMPLES / "requests-1.6.json").read_text())
    requests = [
        write_set_charging_profile(read_set_charging_profile(p, "1.6"), version) for p in payloads
    ]
    path = tmp_path / "requests.json"
    path.write_text(json.dumps(requests))
    argv = ["composite", str(path), "--start", "2024-01-01T06:00:00Z", "--ocpp", version]
    if "--duration" not in options:
        argv += ["--duration", "86400"]
    assert cli_main([*argv, *options]) == 0
    out = json.loads(capsys.readouterr().out)
    assert_schema_valid(out, version, "GetCompositeScheduleResponse")
    assert out["status"] == ("Rejected" if "5" in options else "Accepted")


# ------------------------------------------------------------- site balancing plans


@pytest.mark.parametrize("version", VERSIONS)
def test_send_plans_are_valid_for_piles_of_every_version(version: str) -> None:
    from ocpp_schedule.site import DEMO_DAY, balance, demo_site, send_plan

    site = demo_site()
    v = OcppVersion(version)
    piles = tuple(
        pile.model_copy(
            update={
                "ocpp": v,
                "requests": tuple(
                    write_set_charging_profile(read_set_charging_profile(r, pile.ocpp), v)
                    for r in pile.requests
                ),
            }
        )
        for pile in site.piles
    )
    site = site.model_copy(update={"piles": piles})
    previous = balance(site, start=DEMO_DAY + timedelta(hours=6), duration=8 * 3600)
    plans = [
        send_plan(previous),
        send_plan(
            balance(site, start=DEMO_DAY + timedelta(hours=6), duration=8 * 3600, resolution=None),
            at=DEMO_DAY + timedelta(hours=9),
            previous=previous,
        ),
    ]
    steps = [step for plan in plans for step in plan.steps]
    assert steps
    for step in steps:
        assert_schema_valid(
            wire(step.payload), version, _request_name(version, "SetChargingProfile")
        )


# ------------------------------------------------------------------------ adapters


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("unit", [None, ChargingRateUnit.A, ChargingRateUnit.W])
def test_composite_queries_and_answers_are_valid(
    version: str, unit: ChargingRateUnit | None
) -> None:
    custom = None if version == "1.6" else {"vendorId": "acme", "extra": [1]}
    query = CompositeQuery(evse_id=1, duration=900, charging_rate_unit=unit, custom_data=custom)
    payload = wire(query.to_payload(version))
    assert_schema_valid(payload, version, _request_name(version, "GetCompositeSchedule"))
    assert CompositeQuery.from_payload(payload, version) == query
    name = "GetCompositeScheduleResponse"
    for answer in (
        query.answer(ProfileStore(), version, start=T0),
        CompositeAnswer.rejected(version, "UnknownEVSE"),
        CompositeAnswer.rejected(version),
    ):
        assert_schema_valid(wire(answer.payload), version, name)
        assert CompositeAnswer.from_payload(answer.payload, version) == answer

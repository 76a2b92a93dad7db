"""NotifyEVChargingSchedule and the EV's choice among a profile's schedules (K15-K18, issue 14).

Exact JSON of the request; the EV's selection as the engine's ``schedule_ids``; the
check that the EV schedule stays within the composite of the installed profiles.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from helpers import T0, at, iso, on, profile, tx
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import TIMESTAMPS, _schedule, assert_schema_valid, custom_data

from ocpp_schedule import (
    ChargingProfile,
    PayloadError,
    ProfileStore,
    QueryError,
    StationConfig,
    VersionError,
    composite_schedule,
)
from ocpp_schedule.tools._ev_needs import (
    charging_needs_response,
    check_needs_parameters,
    check_profile_for_needs,
    ev_charging_need,
    read_notify_ev_charging_needs,
    read_notify_ev_charging_needs_response,
    write_notify_ev_charging_needs,
    write_notify_ev_charging_needs_response,
)
from ocpp_schedule.tools._ev_schedule import (
    NotifyEVChargingScheduleRequest,
    check_ev_schedule,
    read_notify_ev_charging_schedule,
    read_notify_ev_charging_schedule_response,
    schedule_selection,
    selected_schedule_id,
    write_notify_ev_charging_schedule,
    write_notify_ev_charging_schedule_response,
)

TX = "TxProfile"
MAX = "ChargingStationMaxProfile"


def _tuples_profile(pid: int = 10) -> ChargingProfile:
    """A TxProfile with three ISO 15118 schedules (SAScheduleTuples 1, 2, 3)."""
    return ChargingProfile.model_validate(
        {
            "id": pid,
            "stackLevel": 0,
            "chargingProfilePurpose": TX,
            "chargingProfileKind": "Absolute",
            "transactionId": "T1",
            "chargingSchedule": [
                {
                    "id": sid,
                    "startSchedule": iso(0),
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [
                        {"startPeriod": 0, "limit": limit},
                        {"startPeriod": 1800, "limit": limit / 2},
                    ],
                }
                for sid, limit in ((1, 32), (2, 16), (3, 8))
            ],
        }
    )


def _ev(
    periods: list[tuple[int, float]],
    *,
    sid: int = 1,
    unit: str = "A",
    duration: int | None = 3600,
    selected: int | None = None,
    **period_extra: Any,
) -> NotifyEVChargingScheduleRequest:
    sched: dict[str, Any] = {
        "id": sid,
        "chargingRateUnit": unit,
        "chargingSchedulePeriod": [
            {"startPeriod": s, "limit": lim, **period_extra} for s, lim in periods
        ],
    }
    if duration is not None:
        sched["duration"] = duration
    payload: dict[str, Any] = {"timeBase": iso(0), "evseId": 1, "chargingSchedule": sched}
    version = "2.0.1"
    if selected is not None or period_extra:
        version = "2.1"
        if selected is not None:
            payload["selectedChargingScheduleId"] = selected
    return read_notify_ev_charging_schedule(payload, version)


def _store(*profiles: ChargingProfile) -> ProfileStore:
    return ProfileStore(
        [on(1 if p.charging_profile_purpose.value == TX else 0, p) for p in profiles]
    )


# ------------------------------------------------------------------------- exact JSON


@st.composite
def _requests(draw: Any, version: str) -> dict:
    payload: dict[str, Any] = {
        "timeBase": draw(TIMESTAMPS),
        "evseId": draw(st.integers(1, 10)),
        "chargingSchedule": _schedule(draw, version, "Absolute", draw(st.integers(0, 5)), False),
    }
    if version == "2.1":
        if draw(st.booleans()):
            payload["selectedChargingScheduleId"] = draw(st.integers(0, 5))
        if draw(st.booleans()):
            payload["powerToleranceAcceptance"] = draw(st.booleans())
    if draw(st.integers(0, 3)) == 0:
        payload["customData"] = draw(custom_data())
    return payload


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_schema_valid_requests_round_trip_exactly(version: str, data: st.DataObject) -> None:
    """Exact JSON (issue 14 item 7): every schema-valid request is read and written back as is."""
    payload = data.draw(_requests(version))
    assert_schema_valid(payload, version, "NotifyEVChargingScheduleRequest")
    request = read_notify_ev_charging_schedule(copy.deepcopy(payload), version)
    out = write_notify_ev_charging_schedule(request, version)
    assert out["chargingSchedule"] == payload["chargingSchedule"]
    assert {k: v for k, v in out.items() if k != "timeBase"} == {
        k: v for k, v in payload.items() if k != "timeBase"
    }
    assert read_notify_ev_charging_schedule(out, version) == request  # timeBase: same instant


def test_integers_stay_integers() -> None:
    request = _ev([(0, 16), (600, 10.5)])
    out = write_notify_ev_charging_schedule(request, "2.0.1")
    periods = out["chargingSchedule"]["chargingSchedulePeriod"]
    assert [type(p["limit"]) for p in periods] == [int, float]
    assert out["timeBase"] == iso(0)


@pytest.mark.parametrize(
    ("change", "version", "field"),
    [
        ({"evseId": 0}, "2.0.1", "evseId"),  # EvseId must be > 0
        ({"evseId": 1.0}, "2.1", "evseId"),
        ({"selectedChargingScheduleId": 1}, "2.0.1", "selectedChargingScheduleId"),  # 2.1 only
        ({"selectedChargingScheduleId": -1}, "2.1", "selectedChargingScheduleId"),
        ({"powerToleranceAcceptance": 1}, "2.1", "powerToleranceAcceptance"),
        ({"timeBase": "2024-01-01T00:00:00"}, "2.0.1", "timeBase"),  # no offset
        ({"timeBase": None}, "2.0.1", "timeBase"),
        ({"extra": 1}, "2.0.1", "extra"),
        ({"customData": {"x": 1}}, "2.0.1", "customData"),
    ],
)
def test_bad_requests_are_refused_naming_the_field(change: dict, version: str, field: str) -> None:
    payload = write_notify_ev_charging_schedule(_ev([(0, 16)]), "2.0.1")
    payload.update(change)
    with pytest.raises(PayloadError) as err:
        read_notify_ev_charging_schedule(payload, version)
    assert err.value.field == field


def test_the_schedule_is_read_by_the_profile_schedule_reader() -> None:
    """The period checks are those of SetChargingProfile (no duplicate rules): same paths."""
    payload = write_notify_ev_charging_schedule(_ev([(0, 16)]), "2.0.1")
    del payload["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"]  # 2.0.1 requires it
    with pytest.raises(PayloadError) as err:
        read_notify_ev_charging_schedule(payload, "2.0.1")
    assert err.value.field == "chargingSchedule.chargingSchedulePeriod[0].limit"
    payload["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] = 1
    payload["chargingSchedule"]["limitAtSoC"] = {"soc": 1, "limit": 1}  # 2.1 only
    with pytest.raises(PayloadError) as err:
        read_notify_ev_charging_schedule(payload, "2.0.1")
    assert err.value.field == "chargingSchedule.limitAtSoC"
    assert read_notify_ev_charging_schedule(payload, "2.1").charging_schedule.limit_at_soc


def test_ocpp16_has_no_iso15118_messages() -> None:
    with pytest.raises(VersionError):
        read_notify_ev_charging_schedule({}, "1.6")
    with pytest.raises(VersionError):
        write_notify_ev_charging_schedule(_ev([(0, 16)]), "1.6")


def test_21_fields_cannot_be_written_in_201() -> None:
    with pytest.raises(VersionError):
        write_notify_ev_charging_schedule(_ev([(0, 16)], selected=2), "2.0.1")


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
@pytest.mark.parametrize(
    "payload",
    [
        {"status": "Accepted"},
        {"status": "Rejected", "statusInfo": {"reasonCode": "InvalidSchedule"}},
        {"status": "Rejected", "customData": {"vendorId": "v"}},
    ],
)
def test_responses_round_trip_exactly(version: str, payload: dict) -> None:
    response = read_notify_ev_charging_schedule_response(payload, version)
    assert write_notify_ev_charging_schedule_response(response, version) == payload
    assert_schema_valid(payload, version, "NotifyEVChargingScheduleResponse")


# -------------------------------------------------------------------------------- selection


def test_selected_schedule_is_the_21_field_else_the_schedule_id() -> None:
    """K15.FR.19 (chargingSchedule.id = SAScheduleTupleId); K15.FR.21/K18.FR.10 (2.1 field)."""
    assert selected_schedule_id(_ev([(0, 16)], sid=2)) == 2
    assert selected_schedule_id(_ev([(0, 16)], sid=7, selected=3)) == 3


def test_selection_maps_to_the_engines_schedule_ids() -> None:
    prof = _tuples_profile()
    assert schedule_selection(prof, 2) == {10: 2}
    assert schedule_selection(on(1, prof), 3) == {10: 3}
    store = _store(prof)
    chosen = composite_schedule(
        store, evse_id=1, start=at(0), duration=3600, transaction=tx(), schedule_ids={10: 2}
    )
    assert [(p.start_period, p.limit) for p in chosen.periods] == [(0, 16), (1800, 8)]


@pytest.mark.parametrize("bad", [0, 4, 99])
def test_selection_refuses_a_schedule_the_profile_does_not_offer(bad: int) -> None:
    """K15.FR.07/K15.FR.19: the EV selects one of the schedules sent to it."""
    with pytest.raises(QueryError) as err:
        schedule_selection(_tuples_profile(), bad)
    assert err.value.field == "selectedChargingScheduleId"
    with pytest.raises(QueryError):
        schedule_selection(_tuples_profile(), True)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------ check


def test_ev_schedule_within_the_selected_schedule_is_accepted_k15_fr_11() -> None:
    store = _store(_tuples_profile())
    result = check_ev_schedule(_ev([(0, 16), (1800, 8)], sid=2), store, transaction=tx())
    assert result.status == "Accepted" and result.exceedances == ()
    assert result.schedule_ids == {10: 2}
    assert result.to_payload("2.0.1") == {"status": "Accepted"}


def test_the_selection_decides_the_bound() -> None:
    """The same EV schedule is within tuple 1 (32 A) but not within tuple 3 (8 A)."""
    store = _store(_tuples_profile())
    ev = [(0, 20), (1800, 4)]
    assert check_ev_schedule(_ev(ev, sid=1), store, transaction=tx()).status == "Accepted"
    result = check_ev_schedule(_ev(ev, sid=3), store, transaction=tx())
    assert result.status == "Rejected"
    (breach,) = result.exceedances
    assert (breach.start_epoch, breach.end_epoch, breach.value, breach.allowed) == (
        int(at(0).timestamp()),
        int(at(1800).timestamp()),
        20,
        8,
    )
    assert breach.source.profile_id == 10


def test_an_unknown_selection_is_refused_by_the_check() -> None:
    with pytest.raises(QueryError):
        check_ev_schedule(_ev([(0, 1)], sid=9), _store(_tuples_profile()), transaction=tx())


def test_exceeding_is_rejected_with_the_first_instant_k15_fr_12() -> None:
    store = _store(_tuples_profile())
    result = check_ev_schedule(_ev([(0, 16), (1800, 9)], sid=2), store, transaction=tx())
    assert result.status == "Rejected"
    (breach,) = result.exceedances
    assert breach.start_time == at(1800) and breach.end_epoch == int(at(3600).timestamp())
    payload = result.to_payload("2.0.1")
    assert payload["status"] == "Rejected"
    assert payload["statusInfo"]["reasonCode"] == "InvalidSchedule"
    assert iso(1800) in payload["statusInfo"]["additionalInfo"]
    assert_schema_valid(payload, "2.0.1", "NotifyEVChargingScheduleResponse")


def test_the_composite_counts_not_only_the_tx_profile() -> None:
    """K15.FR.07 note: the station offers composite schedules (Max, external constraints)."""
    store = _store(_tuples_profile(), profile(1, MAX, [(0, 12)]))
    result = check_ev_schedule(_ev([(0, 16), (1800, 8)], sid=2), store, transaction=tx())
    (breach,) = result.exceedances
    assert breach.allowed == 12 and breach.source.profile_id == 1
    assert breach.end_epoch == int(at(1800).timestamp())


def test_power_schedule_against_a_current_profile_converts_with_the_station_voltage() -> None:
    """W vs A through the engine: 16 A x 230 V x 3 phases = 11040 W."""
    store = _store(_tuples_profile())
    cfg = StationConfig(supply_voltage=230)
    ok = check_ev_schedule(
        _ev([(0, 11040), (1800, 5520)], sid=2, unit="W"), store, transaction=tx(), config=cfg
    )
    assert ok.status == "Accepted"
    bad = check_ev_schedule(
        _ev([(0, 11041), (1800, 5520)], sid=2, unit="W"), store, transaction=tx(), config=cfg
    )
    assert [(b.value, b.allowed) for b in bad.exceedances] == [(11041, 11040)]


def test_tolerance_allows_a_margin() -> None:
    store = _store(_tuples_profile())
    ev = _ev([(0, 16.05), (1800, 8)], sid=2)
    assert check_ev_schedule(ev, store, transaction=tx()).status == "Rejected"
    assert check_ev_schedule(ev, store, transaction=tx(), tolerance=0.1).status == "Accepted"


def test_per_phase_ev_values_are_checked_per_phase() -> None:
    """2.1 limit_L2/L3 (limit is L1): in A every phase in use stays under its limit."""
    store = _store(_tuples_profile())
    ev = _ev([(0, 16), (1800, 8)], sid=2, limit_L2=8, limit_L3=8)
    assert check_ev_schedule(ev, store, transaction=tx()).status == "Accepted"
    ev = _ev([(0, 17), (1800, 8)], sid=2, limit_L2=8, limit_L3=8)
    (breach,) = check_ev_schedule(ev, store, transaction=tx()).exceedances
    assert (breach.phase, breach.value, breach.allowed) == (1, 17, 16)


def test_discharging_needs_a_discharge_limit() -> None:
    """A negative EV value (2.1 discharge) is refused where no dischargeLimit allows it."""
    store = _store(_tuples_profile())
    result = check_ev_schedule(_ev([(0, -4), (1800, 0)], sid=2), store, transaction=tx())
    (breach,) = result.exceedances
    assert (breach.bound, breach.value, breach.allowed) == ("dischargeLimit", -4, 0)


def test_discharging_within_the_discharge_limit_is_accepted() -> None:
    v2x = ChargingProfile.model_validate(
        {
            "id": 20,
            "stackLevel": 0,
            "chargingProfilePurpose": TX,
            "chargingProfileKind": "Absolute",
            "transactionId": "T1",
            "chargingSchedule": [
                {
                    "id": 1,
                    "startSchedule": iso(0),
                    "chargingRateUnit": "W",
                    "chargingSchedulePeriod": [
                        {"startPeriod": 0, "limit": 11000, "dischargeLimit": -5000}
                    ],
                }
            ],
        }
    )
    store = _store(v2x)
    ok = check_ev_schedule(_ev([(0, -5000)], unit="W", selected=1), store, transaction=tx())
    assert ok.status == "Accepted"
    bad = check_ev_schedule(_ev([(0, -6000)], unit="W", selected=1), store, transaction=tx())
    assert [(b.bound, b.allowed) for b in bad.exceedances] == [("dischargeLimit", -5000)]


def test_window_is_time_base_plus_duration_or_the_horizon() -> None:
    """EV-2/EV-3: periods count from timeBase; without duration the horizon (default 1 day)."""
    store = _store(_tuples_profile())  # 16 A, then 8 A from 1800 s on (schedule 2)
    short = _ev([(0, 16)], sid=2, duration=1800)
    assert check_ev_schedule(short, store, transaction=tx()).status == "Accepted"
    past = _ev([(0, 16), (1800, 8), (4000, 1)], sid=2, duration=3600)  # last period never runs
    assert check_ev_schedule(past, store, transaction=tx()).status == "Accepted"
    open_end = _ev([(0, 16)], sid=2, duration=None)
    result = check_ev_schedule(open_end, store, transaction=tx(), horizon=1801)
    (breach,) = result.exceedances
    assert breach.start_time == at(1800) and breach.end_epoch == int(at(1801).timestamp())
    assert check_ev_schedule(open_end, store, transaction=tx(), horizon=1800).within_limits


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"horizon": 0}, "horizon"),
        ({"tolerance": -1}, "tolerance"),
        ({"tolerance": float("nan")}, "tolerance"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict, field: str) -> None:
    with pytest.raises(QueryError) as err:
        check_ev_schedule(_ev([(0, 1)], sid=2), _store(_tuples_profile()), **kwargs)
    assert err.value.field == field


def test_a_window_longer_than_a_year_is_refused_before_the_work() -> None:
    ev = _ev([(0, 1)], sid=2, duration=400 * 86_400)
    with pytest.raises(QueryError) as err:
        check_ev_schedule(ev, _store(_tuples_profile()), transaction=tx())
    assert err.value.rule == "docs/robustness.md"


# ------------------------------------------------------------------------------ properties

_LIMITS = st.integers(0, 64).map(float) | st.floats(0, 64, allow_nan=False).map(
    lambda x: round(x, 1)
)


@st.composite
def _stacks(draw: Any) -> tuple[ProfileStore, int]:
    """A TxProfile with 1..3 schedules of random periods (A), sometimes a Max profile in W."""
    count = draw(st.integers(1, 3))
    schedules = []
    for sid in range(1, count + 1):
        starts = sorted(draw(st.sets(st.integers(1, 3599), max_size=4)))
        schedules.append(
            {
                "id": sid,
                "startSchedule": iso(0),
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [
                    {"startPeriod": s, "limit": draw(_LIMITS)} for s in [0, *starts]
                ],
            }
        )
    tx_profile = ChargingProfile.model_validate(
        {
            "id": 10,
            "stackLevel": 0,
            "chargingProfilePurpose": TX,
            "chargingProfileKind": "Absolute",
            "transactionId": "T1",
            "chargingSchedule": schedules,
        }
    )
    profiles = [tx_profile]
    if draw(st.booleans()):
        profiles.append(
            profile(
                1,
                MAX,
                [(0, draw(st.integers(1000, 40000))), (draw(st.integers(1, 3599)), 9000)],
                unit="W",
            )
        )
    return _store(*profiles), draw(st.integers(1, count))


def _copy_of(composite: Any, sid: int, unit: str) -> NotifyEVChargingScheduleRequest:
    return _ev([(p.start_period, p.limit) for p in composite.periods], sid=sid, unit=unit)


@settings(max_examples=120, deadline=None)
@given(stack=_stacks(), unit=st.sampled_from(["A", "W"]))
def test_the_composite_itself_is_within_the_composite(stack: Any, unit: str) -> None:
    """Property: an EV schedule equal to the composite (selected schedule, EV unit) is Accepted."""
    store, sid = stack
    composite = composite_schedule(
        store,
        evse_id=1,
        start=T0,
        duration=3600,
        unit=unit,
        transaction=tx(),
        schedule_ids={10: sid},
    )
    result = check_ev_schedule(_copy_of(composite, sid, unit), store, transaction=tx())
    assert result.exceedances == ()
    assert result.composite.periods == composite.periods


@settings(max_examples=120, deadline=None)
@given(stack=_stacks(), unit=st.sampled_from(["A", "W"]), data=st.data())
def test_raising_one_period_is_flagged_exactly_there(
    stack: Any, unit: str, data: st.DataObject
) -> None:
    """Property: raising one period of a schedule equal to the composite is flagged exactly on
    that period's interval, nowhere else, with the composite's value as the bound."""
    store, sid = stack
    composite = composite_schedule(
        store,
        evse_id=1,
        start=T0,
        duration=3600,
        unit=unit,
        transaction=tx(),
        schedule_ids={10: sid},
    )
    periods = [(p.start_period, p.limit) for p in composite.periods]
    k = data.draw(st.integers(0, len(periods) - 1))
    bump = data.draw(st.sampled_from([0.1, 1, 7.5]))
    raised = list(periods)
    raised[k] = (periods[k][0], periods[k][1] + bump)
    result = check_ev_schedule(_ev(raised, sid=sid, unit=unit), store, transaction=tx())
    start = int(T0.timestamp())
    end = periods[k + 1][0] if k + 1 < len(periods) else 3600
    found = [
        (b.start_epoch - start, b.end_epoch - start, b.allowed, b.phase) for b in result.exceedances
    ]
    assert found == [(periods[k][0], end, periods[k][1], None)]
    assert result.status == "Rejected"


# ======================================================================= NotifyEVChargingNeeds


_AC = {"energyAmount": 30000, "evMinCurrent": 6, "evMaxCurrent": 32, "evMaxVoltage": 400}
_DC = {
    "evMaxCurrent": 200,
    "evMaxVoltage": 800,
    "energyAmount": 45000,
    "evMaxPower": 150000,
    "stateOfCharge": 20,
    "evEnergyCapacity": 75000,
    "fullSoC": 90,
    "bulkSoC": 80,
}


def _needs(version: str = "2.0.1", **needs: Any) -> dict:
    body = {"requestedEnergyTransfer": "AC_three_phase", "acChargingParameters": _AC}
    body.update(needs)
    return {"evseId": 1, "chargingNeeds": {k: v for k, v in body.items() if v is not None}}


@st.composite
def _needs_payloads(draw: Any, version: str) -> dict:
    num = st.integers(0, 10**6) if version == "2.0.1" else st.integers(0, 10**6) | st.floats(0, 1e6)
    pct = st.integers(0, 100)
    modes = ["DC", "AC_single_phase", "AC_two_phase", "AC_three_phase"]
    if version == "2.1":
        modes += ["AC_BPT", "DC_BPT", "WPT"]
    needs: dict[str, Any] = {"requestedEnergyTransfer": draw(st.sampled_from(modes))}
    if draw(st.booleans()):
        needs["acChargingParameters"] = {k: draw(num) for k in _AC}
    if draw(st.booleans()):
        dc = {k: draw(num) for k in ("evMaxCurrent", "evMaxVoltage")}
        for k in ("energyAmount", "evMaxPower", "evEnergyCapacity"):
            if draw(st.booleans()):
                dc[k] = draw(num)
        for k in ("stateOfCharge", "fullSoC", "bulkSoC"):
            if draw(st.booleans()):
                dc[k] = draw(pct)
        needs["dcChargingParameters"] = dc
    if draw(st.booleans()):
        needs["departureTime"] = draw(TIMESTAMPS)
    if version == "2.1":
        if draw(st.booleans()):
            needs["v2xChargingParameters"] = {
                "evTargetEnergyRequest": draw(num | st.floats(-1e5, 0)),
                "maxChargePower": draw(num),
                "maxChargePower_L2": draw(num),
                "targetSoC": draw(pct),
            }
        if draw(st.booleans()):
            needs["controlMode"] = draw(st.sampled_from(["ScheduledControl", "DynamicControl"]))
        if draw(st.booleans()):
            needs["availableEnergyTransfer"] = draw(st.lists(st.sampled_from(modes), min_size=1))
        if draw(st.booleans()):
            needs["derChargingParameters"] = {
                "evSupportedDERControl": ["FreqWatt"],
                "nominalVoltage": draw(num),
                "evInverterModel": draw(st.text(max_size=50)),
            }
        if draw(st.booleans()):
            needs["evEnergyOffer"] = {
                "evPowerSchedule": {
                    "timeAnchor": iso(0),
                    "evPowerScheduleEntries": [{"duration": 60, "power": draw(num)}],
                }
            }
        if draw(st.booleans()):
            needs["mobilityNeedsMode"] = "EVCC_SECC"
    payload: dict[str, Any] = {"evseId": draw(st.integers(1, 8)), "chargingNeeds": needs}
    if draw(st.booleans()):
        payload["maxScheduleTuples"] = draw(st.integers(0, 1024))
    if version == "2.1" and draw(st.booleans()):
        payload["timestamp"] = draw(TIMESTAMPS)
    if draw(st.integers(0, 3)) == 0:
        payload["customData"] = draw(custom_data())
    return payload


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_schema_valid_needs_round_trip_exactly(version: str, data: st.DataObject) -> None:
    """Exact JSON: every schema-valid NotifyEVChargingNeeds request reads and writes back as is
    (timestamp aside: the same instant, written in UTC)."""
    payload = data.draw(_needs_payloads(version))
    assert_schema_valid(payload, version, "NotifyEVChargingNeedsRequest")
    request = read_notify_ev_charging_needs(copy.deepcopy(payload), version)
    out = write_notify_ev_charging_needs(request, version)
    assert {k: v for k, v in out.items() if k != "timestamp"} == {
        k: v for k, v in payload.items() if k != "timestamp"
    }
    assert read_notify_ev_charging_needs(out, version) == request


@pytest.mark.parametrize(
    ("change", "version", "field"),
    [
        ({"evseId": 0}, "2.0.1", "evseId"),  # EvseId may not be 0
        ({"evseId": 0}, "2.1", "evseId"),
        ({"timestamp": iso(0)}, "2.0.1", "timestamp"),  # 2.1 only
        ({"maxScheduleTuples": -1}, "2.1", "maxScheduleTuples"),
        (
            {"chargingNeeds": {"acChargingParameters": _AC}},
            "2.0.1",
            "chargingNeeds.requestedEnergyTransfer",
        ),
        (
            {"chargingNeeds": {"requestedEnergyTransfer": "AC_BPT"}},
            "2.0.1",
            "chargingNeeds.requestedEnergyTransfer",
        ),
        (
            {
                "chargingNeeds": {
                    "requestedEnergyTransfer": "DC",
                    "acChargingParameters": {**_AC, "energyAmount": 1.5},
                }
            },
            "2.0.1",
            "chargingNeeds.acChargingParameters.energyAmount",  # 2.0.1: an integer
        ),
        (
            {
                "chargingNeeds": {
                    "requestedEnergyTransfer": "DC",
                    "dcChargingParameters": {**_DC, "stateOfCharge": 101},
                }
            },
            "2.1",
            "chargingNeeds.dcChargingParameters.stateOfCharge",
        ),
        (
            {"chargingNeeds": {"requestedEnergyTransfer": "DC", "v2xChargingParameters": {"x": 1}}},
            "2.1",
            "chargingNeeds.v2xChargingParameters.x",
        ),
        (
            {"chargingNeeds": {"requestedEnergyTransfer": "DC", "departureTime": None}},
            "2.1",
            "chargingNeeds.departureTime",
        ),
        (
            {"chargingNeeds": {"requestedEnergyTransfer": "DC", "evEnergyOffer": {}}},
            "2.1",
            "chargingNeeds.evEnergyOffer.evPowerSchedule",
        ),
    ],
)
def test_bad_needs_are_refused_naming_the_field(change: dict, version: str, field: str) -> None:
    payload = _needs()
    payload.update(change)
    with pytest.raises(PayloadError) as err:
        read_notify_ev_charging_needs(payload, version)
    assert err.value.field == field


def test_needs_need_a_v2_version() -> None:
    with pytest.raises(VersionError):
        read_notify_ev_charging_needs(_needs(), "1.6")


def test_a_21_request_is_not_written_as_201() -> None:
    request = read_notify_ev_charging_needs({**_needs(), "timestamp": iso(5)}, "2.1")
    with pytest.raises(VersionError):
        write_notify_ev_charging_needs(request, "2.0.1")


@pytest.mark.parametrize(
    ("version", "payload"),
    [
        ("2.0.1", {"status": "Processing"}),
        ("2.1", {"status": "NoChargingProfile", "statusInfo": {"reasonCode": "x"}}),
    ],
)
def test_needs_responses_round_trip(version: str, payload: dict) -> None:
    response = read_notify_ev_charging_needs_response(payload, version)
    assert write_notify_ev_charging_needs_response(response, version) == payload
    assert_schema_valid(payload, version, "NotifyEVChargingNeedsResponse")


def test_no_charging_profile_is_21_only() -> None:
    with pytest.raises(PayloadError):
        read_notify_ev_charging_needs_response({"status": "NoChargingProfile"}, "2.0.1")


@pytest.mark.parametrize(
    ("needs", "kwargs", "status"),
    [
        ({}, {"can_schedule": True}, "Accepted"),  # K15.FR.03
        ({}, {"can_schedule": True, "needs_time": True}, "Processing"),  # K15.FR.05
        ({}, {"can_schedule": False}, "Rejected"),  # K15.FR.04 (ISO 15118-2)
        (
            {"controlMode": "ScheduledControl"},
            {"can_schedule": False},
            "NoChargingProfile",
        ),  # K18.FR.04
        (
            {"controlMode": "DynamicControl"},
            {"can_schedule": False},
            "NoChargingProfile",
        ),  # K19.FR.04
        (
            {"controlMode": "DynamicControl"},
            {"can_schedule": True, "accepts_energy_transfer": False},
            "Rejected",
        ),  # K19.FR.15
    ],
)
def test_charging_needs_status_rules(needs: dict, kwargs: dict, status: str) -> None:
    payload = _needs(**needs)
    request = read_notify_ev_charging_needs(payload, "2.1")
    response = charging_needs_response(request, **kwargs)
    assert response.status == status
    assert_schema_valid(response.to_payload("2.1"), "2.1", "NotifyEVChargingNeedsResponse")


def test_charging_needs_status_refuses_non_booleans() -> None:
    request = read_notify_ev_charging_needs(_needs(), "2.0.1")
    with pytest.raises(QueryError):
        charging_needs_response(request, can_schedule=1)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("needs", "ok"),
    [
        ({}, True),  # AC only
        ({"acChargingParameters": None, "dcChargingParameters": _DC}, True),
        ({"dcChargingParameters": _DC}, False),  # K15.FR.06: either AC or DC, not both
        ({"acChargingParameters": None}, False),  # neither
        ({"controlMode": "ScheduledControl"}, False),  # K18.FR.06: V2X instead of AC
        (
            {
                "controlMode": "ScheduledControl",
                "acChargingParameters": None,
                "v2xChargingParameters": {"targetSoC": 80},
            },
            True,
        ),
    ],
)
def test_needs_parameters_rule_k15_fr_06(needs: dict, ok: bool) -> None:
    request = read_notify_ev_charging_needs(_needs(**needs), "2.1")
    assert (check_needs_parameters(request) == ()) is ok


def test_profile_for_needs_rule_k15_fr_07() -> None:
    request = read_notify_ev_charging_needs({**_needs(), "maxScheduleTuples": 1}, "2.0.1")
    tuples = _tuples_profile()  # three schedules of two periods each
    breaches = check_profile_for_needs(tuples, request)
    assert len(breaches) == 3 and all("maxScheduleTuples is 1" in b for b in breaches)
    request = read_notify_ev_charging_needs({**_needs(), "maxScheduleTuples": 2}, "2.0.1")
    assert check_profile_for_needs(tuples, request) == ()
    assert check_profile_for_needs(tuples, request, periods_per_schedule=1) != ()
    assert "TxProfile" in check_profile_for_needs(profile(1, MAX, [(0, 1)]), request)[0]
    dynamic = read_notify_ev_charging_needs(
        _needs(controlMode="DynamicControl", acChargingParameters=None, v2xChargingParameters={}),
        "2.1",
    )
    assert any("at most 1" in b for b in check_profile_for_needs(tuples, dynamic))


def test_ev_charging_need_gives_plain_values_for_a_session() -> None:
    request = read_notify_ev_charging_needs(
        _needs(departureTime=iso(7200), requestedEnergyTransfer="AC_single_phase"), "2.0.1"
    )
    need = ev_charging_need(request)
    assert need.energy_kwh == 30.0 and need.departure == at(7200) and need.departure_known
    assert (need.phases, need.max_amps, need.min_amps) == (1, 32.0, 6.0)
    dc = read_notify_ev_charging_needs(
        _needs(requestedEnergyTransfer="DC", acChargingParameters=None, dcChargingParameters=_DC),
        "2.0.1",
    )
    need = ev_charging_need(dc)
    assert need.energy_kwh == 45.0 and not need.departure_known and need.phases is None
    assert (need.soc_percent, need.battery_kwh, need.target_soc_percent) == (20, 75.0, 90)
    v2x = read_notify_ev_charging_needs(
        {
            **_needs(
                requestedEnergyTransfer="DC_BPT",
                acChargingParameters=None,
                v2xChargingParameters={"evTargetEnergyRequest": 12500.5, "targetSoC": 80},
                controlMode="ScheduledControl",
            ),
            "timestamp": iso(-60),
        },
        "2.1",
    )
    need = ev_charging_need(v2x)
    assert need.energy_kwh == 12.5005 and need.target_soc_percent == 80 and need.received == at(-60)
    past = read_notify_ev_charging_needs(
        _needs(acChargingParameters=None, v2xChargingParameters={"evTargetEnergyRequest": -5}),
        "2.1",
    )
    assert ev_charging_need(past).energy_kwh == 0.0  # already past the target


# -------------------------------------------------------------- the ocpp package (adapters)


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
def test_adapters_carry_the_iso15118_messages(version: str) -> None:
    from ocpp_schedule.tools import adapters as ad

    needs = read_notify_ev_charging_needs(_needs(departureTime=iso(60)), version)
    call = ad.to_ocpp_notify_ev_charging_needs(needs, version)
    assert ad.from_ocpp_notify_ev_charging_needs(call) == needs
    answer = charging_needs_response(needs, can_schedule=True)
    back = ad.from_ocpp_notify_ev_charging_needs_result(
        ad.to_ocpp_notify_ev_charging_needs_result(answer, version)
    )
    assert back.status == "Accepted"
    request = _ev([(0, 16), (1800, 8)], sid=2)
    call = ad.to_ocpp_notify_ev_charging_schedule(request, version)
    assert ad.from_ocpp_notify_ev_charging_schedule(call) == request
    check = check_ev_schedule(request, _store(_tuples_profile()), transaction=tx())
    result = ad.to_ocpp_notify_ev_charging_schedule_result(check, version)
    assert ad.from_ocpp_notify_ev_charging_schedule_result(result).status == "Accepted"


def test_the_plain_values_build_a_site_session() -> None:
    """The caller (not tools) builds the site controller's Session from the EV's needs."""
    from ocpp_schedule import Session

    request = read_notify_ev_charging_needs(
        _needs(departureTime=iso(4 * 3600), requestedEnergyTransfer="AC_single_phase"), "2.0.1"
    )
    need = ev_charging_need(request)
    session = Session(
        arrive=at(0),
        leave=need.departure,
        energy_kwh=need.energy_kwh,
        phases=need.phases,
        max_amps=need.max_amps,
        min_amps=need.min_amps,
    )
    assert session.departure_known and session.energy_kwh == 30.0 and session.phases == 1

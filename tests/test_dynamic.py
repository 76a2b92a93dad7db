"""OCPP 2.1 Dynamic profiles (K28) and offline validity (K01.FR.101-103); issue 14 items 4, 5.

docs/semantics.md V21-16..V21-20.
"""

from __future__ import annotations

from typing import Any

import pytest
from helpers import at, periods, profile
from hypothesis import given, settings
from hypothesis import strategies as st

from ocpp_schedule import (
    ChargingProfile,
    DynamicUpdatesDue,
    PayloadError,
    ProfileStore,
    QueryError,
    SetChargingProfileRequest,
    StationConfig,
    StationState,
    UpdateDynamicScheduleRequest,
    composite_schedule,
    drop_invalid_after_offline,
    dynamic_updates_due,
    install,
    install_local,
    limit_at,
    station_composites,
    update_dynamic_schedule,
)
from ocpp_schedule.station import read_update_dynamic_schedule, write_update_dynamic_schedule

TXD = "TxDefaultProfile"
STATE = StationState(StationConfig(supports_dynamic_profiles=True), "2.1")


def dynamic(
    pid: int = 7,
    limit: float = 10.0,
    *,
    stack: int = 1,
    start: int | None = None,
    duration: int | None = None,
    **extra: Any,
) -> ChargingProfile:
    """A Dynamic TxDefault profile with one period."""
    prof = profile(
        pid, TXD, [(0, limit)], stack=stack, kind="Dynamic", start=start, duration=duration
    )
    data = prof.model_dump(by_alias=True, exclude_none=True, mode="json")
    data.update(extra)
    return ChargingProfile.model_validate(data)


def request(prof: ChargingProfile, evse: int = 1) -> SetChargingProfileRequest:
    return SetChargingProfileRequest(evse_id=evse, charging_profile=prof)


def installed(*profiles: ChargingProfile, now: int = 0) -> ProfileStore:
    store = ProfileStore()
    for prof in profiles:
        store, result = install(store, request(prof), STATE, now=at(now))
        assert result.accepted, str(result)
    return store


def update(pid: int = 7, **values: Any) -> UpdateDynamicScheduleRequest:
    return read_update_dynamic_schedule({"chargingProfileId": pid, "scheduleUpdate": values})


def base() -> ChargingProfile:
    """A 32 A TxDefault under the Dynamic profile (stack 0)."""
    return profile(1, TXD, [(0, 32.0)])


def comp(store: Any, duration: int = 4000, **kw: Any) -> list[tuple[int, float, int]]:
    return periods(composite_schedule(store, evse_id=1, start=at(0), duration=duration, **kw))


# ------------------------------------------------------------------ dynUpdateTime on receipt


def test_v21_16_k28_install_with_now_stamps_dyn_update_time() -> None:
    store, result = install(ProfileStore(), request(dynamic()), STATE, now=at(100))
    assert result.accepted
    entry = store.get(7)
    assert entry is not None and entry.profile.dyn_update_time == at(100)


def test_v21_16_a_sent_dyn_update_time_is_replaced_by_receipt() -> None:
    prof = dynamic(dynUpdateTime="2020-01-01T00:00:00Z")
    store, _ = install(ProfileStore(), request(prof), STATE, now=at(5))
    entry = store.get(7)
    assert entry is not None and entry.profile.dyn_update_time == at(5)


def test_v21_16_without_now_the_profile_is_stored_as_sent() -> None:
    store, result = install(ProfileStore(), request(dynamic()), STATE)
    entry = store.get(7)
    assert result.accepted and entry is not None and entry.profile.dyn_update_time is None
    # other kinds are never stamped
    store, _ = install(ProfileStore(), request(base()), STATE, now=at(5))
    entry = store.get(1)
    assert entry is not None and entry.profile.dyn_update_time is None


def test_v21_16_install_local_stamps_too() -> None:
    prof = profile(
        -3, "ChargingStationExternalConstraints", [(0, 20.0)], kind="Dynamic", start=None
    )
    store, result = install_local(ProfileStore(), request(prof), STATE, now=at(9))
    entry = store.get(-3)
    assert result.accepted and entry is not None and entry.profile.dyn_update_time == at(9)


# ---------------------------------------------------------------------------------- lapse


def test_v21_18_k28_fr13_lapse_is_measured_from_dyn_update_time() -> None:
    """duration 600, startSchedule 0, last update at 1000: in force until 1600, not 600."""
    store = installed(base(), dynamic(start=0, duration=600), now=1000)
    assert comp(store) == [(0, 10.0, 3), (1600, 32.0, 3)]


def test_v21_18_k28_fr13_without_start_schedule_from_receipt() -> None:
    store = installed(base(), dynamic(duration=600), now=200)
    assert comp(store) == [(0, 32.0, 3), (200, 10.0, 3), (800, 32.0, 3)]


def test_v21_18_k28_fr14_an_update_revives_a_lapsed_profile() -> None:
    store = installed(base(), dynamic(start=0, duration=600), now=0)
    assert limit_at(store, evse_id=1, instant=at(900)).limit == 32.0
    store, result = update_dynamic_schedule(store, update(limit=12), at(1000), state=STATE)
    assert result.accepted
    assert limit_at(store, evse_id=1, instant=at(1500)).limit == 12.0
    assert limit_at(store, evse_id=1, instant=at(1600)).limit == 32.0


def test_v21_18_without_duration_a_dynamic_profile_never_lapses() -> None:
    store = installed(base(), dynamic(start=0), now=0)
    assert comp(store, duration=100_000) == [(0, 10.0, 3)]


@settings(max_examples=60, deadline=None)
@given(
    stamp=st.integers(0, 5000),
    duration=st.integers(0, 5000),
    t1=st.integers(0, 20_000),
    t2=st.integers(0, 20_000),
)
def test_v21_18_lapse_is_monotone_in_time(stamp: int, duration: int, t1: int, t2: int) -> None:
    """Once lapsed, a Dynamic profile stays lapsed until an update; it counts up to the lapse."""
    store = installed(base(), dynamic(start=0, duration=duration), now=stamp)
    lo, hi = sorted((t1, t2))
    first = limit_at(store, evse_id=1, instant=at(lo)).limit
    second = limit_at(store, evse_id=1, instant=at(hi)).limit
    assert first == (10.0 if lo < stamp + duration else 32.0)
    if first == 32.0:
        assert second == 32.0


# ------------------------------------------------------------------ UpdateDynamicSchedule


def test_v21_17_k28_update_replaces_the_values_and_restamps() -> None:
    store = installed(base(), dynamic(), now=0)
    new, result = update_dynamic_schedule(store, update(limit=6), at(50), state=STATE)
    assert result.accepted and result.to_payload() == {"status": "Accepted"}
    entry = new.get(7)
    assert entry is not None and entry.profile.dyn_update_time == at(50)
    period = entry.profile.charging_schedule[0].charging_schedule_period[0]
    assert period.limit == 6 and period.start_period == 0
    # without startSchedule the values hold from the last update on (V21-18)
    assert comp(new, duration=100) == [(0, 32.0, 3), (50, 6.0, 3)]
    assert store.get(7) is not None  # the old store is unchanged (immutable values)
    assert comp(store, duration=100) == [(0, 10.0, 3)]


def test_v21_17_the_update_is_the_periods_new_value_set() -> None:
    prof = dynamic(
        chargingSchedule=[
            {
                "id": 1,
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [
                    {"startPeriod": 0, "limit": 10, "setpoint": 8, "numberPhases": 1}
                ],
            }
        ]
    )
    store = installed(prof, now=0)
    new, result = update_dynamic_schedule(store, update(limit=16), at(1), state=STATE)
    assert result.accepted
    entry = new.get(7)
    assert entry is not None
    period = entry.profile.charging_schedule[0].charging_schedule_period[0]
    assert (period.limit, period.setpoint, period.number_phases) == (16, None, 1)


def test_v21_17_unknown_profile_is_rejected_not_found() -> None:
    store = installed(base(), now=0)
    new, result = update_dynamic_schedule(store, update(99, limit=6), at(1), state=STATE)
    assert new is store
    assert result.to_payload()["status"] == "Rejected"
    assert result.to_payload()["statusInfo"]["reasonCode"] == "NotFound"


def test_v21_17_a_profile_of_another_kind_is_rejected_invalid_profile() -> None:
    store = installed(base(), now=0)
    new, result = update_dynamic_schedule(store, update(1, limit=6), at(1), state=STATE)
    assert new is store and result.reason_code == "InvalidProfile"


def test_v21_17_an_update_the_rules_refuse_leaves_the_store() -> None:
    """A ChargingOnly period needs a limit (V21-1): an update without one is Rejected."""
    store = installed(base(), dynamic(), now=0)
    new, result = update_dynamic_schedule(store, update(setpoint=5), at(1), state=STATE)
    assert not result.accepted and new is store
    assert result.reason_code == "InvalidSchedule"
    assert "statusInfo" in result.to_payload()


@settings(max_examples=60, deadline=None)
@given(
    others=st.lists(st.integers(1, 50), min_size=1, max_size=4, unique=True),
    limit=st.integers(0, 64) | st.floats(0, 64).map(lambda x: round(x, 1)),
)
def test_v21_17_an_update_never_changes_other_profiles(others: list[int], limit: float) -> None:
    profs = [profile(100 + i, TXD, [(0, float(i + 1))], stack=10 + i) for i in others]
    store = installed(*profs, dynamic(), now=0)
    new, result = update_dynamic_schedule(store, update(limit=limit), at(3), state=STATE)
    assert result.accepted
    assert {e.id: e for e in new if e.id != 7} == {e.id: e for e in store if e.id != 7}


def test_v21_17_the_request_reads_and_writes_back_exactly() -> None:
    payload = {
        "chargingProfileId": 7,
        "scheduleUpdate": {"limit": 16, "limit_L2": 16.0, "dischargeLimit": -5, "setpoint": 3},
        "customData": {"vendorId": "x"},
    }
    assert write_update_dynamic_schedule(read_update_dynamic_schedule(payload)) == payload


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"chargingProfileId": 7}, "scheduleUpdate"),
        ({"chargingProfileId": 7, "scheduleUpdate": {"limitt": 1}}, "scheduleUpdate.limitt"),
        ({"chargingProfileId": 7, "scheduleUpdate": {"limit": None}}, "scheduleUpdate.limit"),
        (
            {"chargingProfileId": 7, "scheduleUpdate": {"dischargeLimit": 1}},
            "scheduleUpdate.dischargeLimit",
        ),
        ({"chargingProfileId": "7", "scheduleUpdate": {}}, "chargingProfileId"),
    ],
)
def test_v21_17_bad_requests_are_payload_errors(payload: Any, field: str) -> None:
    with pytest.raises(PayloadError) as err:
        read_update_dynamic_schedule(payload)
    assert err.value.field == field


# ------------------------------------------------------------ PullDynamicScheduleUpdate


def test_v21_17_k28_pull_is_due_after_dyn_update_interval() -> None:
    store = installed(base(), dynamic(dynUpdateInterval=60), now=100)
    assert dynamic_updates_due(store, at(159)) == DynamicUpdatesDue((), at(160))
    assert dynamic_updates_due(store, at(160)) == DynamicUpdatesDue((7,), None)
    new, _ = update_dynamic_schedule(store, update(limit=8), at(170), state=STATE)
    assert dynamic_updates_due(new, at(170)) == DynamicUpdatesDue((), at(230))


def test_v21_17_pull_due_unstamped_and_without_interval() -> None:
    unstamped, _ = install(ProfileStore(), request(dynamic(dynUpdateInterval=60)), STATE)
    assert dynamic_updates_due(unstamped, at(0)).due == (7,)
    no_interval = installed(dynamic(), now=0)
    assert dynamic_updates_due(no_interval, at(10**6)) == DynamicUpdatesDue((), None)


# ------------------------------------------------------------------------ offline validity


def offline_profile(**extra: Any) -> ChargingProfile:
    data = profile(2, TXD, [(0, 10.0)], stack=1).model_dump(
        by_alias=True, exclude_none=True, mode="json"
    )
    data.update(extra)
    return ChargingProfile.model_validate(data)


def test_v21_19_k01_fr101_offline_past_max_offline_duration_falls_to_the_next_level() -> None:
    store = installed(base(), offline_profile(maxOfflineDuration=300))
    assert comp(store, offline_since=at(100)) == [(0, 10.0, 3), (400, 32.0, 3)]
    assert limit_at(store, evse_id=1, instant=at(500), offline_since=at(100)).limit == 32.0
    batch = station_composites(store, start=at(0), duration=4000, offline_since=at(100))
    assert periods(batch[1]) == [(0, 10.0, 3), (400, 32.0, 3)]


def test_v21_19_k01_fr103_without_max_offline_duration_offline_changes_nothing() -> None:
    store = installed(base(), offline_profile())
    assert comp(store, offline_since=at(0)) == comp(store) == [(0, 10.0, 3)]


def test_v21_19_online_the_answer_is_unchanged() -> None:
    store = installed(base(), offline_profile(maxOfflineDuration=0))
    assert comp(store) == [(0, 10.0, 3)]
    assert comp(store, offline_since=at(0)) == [(0, 32.0, 3)]


def test_v21_19_offline_since_takes_any_iterable_of_profiles() -> None:
    store = installed(base(), offline_profile())
    assert comp(iter(list(store)), offline_since=at(0)) == [(0, 10.0, 3)]


def test_v21_19_offline_since_is_checked() -> None:
    store = installed(base())
    with pytest.raises(QueryError):
        comp(store, offline_since=10**15)


@settings(max_examples=60, deadline=None)
@given(m=st.integers(0, 3000), since=st.integers(0, 3000), t=st.integers(0, 8000))
def test_v21_19_offline_validity_matches_the_rule(m: int, since: int, t: int) -> None:
    store = installed(base(), offline_profile(maxOfflineDuration=m))
    got = limit_at(store, evse_id=1, instant=at(t), offline_since=at(since)).limit
    assert got == (10.0 if t < since + m else 32.0)


def test_v21_20_k01_fr102_invalid_after_offline_duration_is_dropped_on_reconnect() -> None:
    store = installed(
        base(),
        offline_profile(maxOfflineDuration=300, invalidAfterOfflineDuration=True),
    )
    kept = drop_invalid_after_offline(store, offline_since=at(0), online_at=at(300))
    assert 2 in kept  # not offline longer than 300 s
    gone = drop_invalid_after_offline(store, offline_since=at(0), online_at=at(301))
    assert 2 not in gone and 1 in gone
    with pytest.raises(QueryError):
        drop_invalid_after_offline(store, offline_since=at(10), online_at=at(0))


def test_v21_20_k01_fr102_valid_again_on_reconnect_by_default() -> None:
    store = installed(base(), offline_profile(maxOfflineDuration=300))
    assert drop_invalid_after_offline(store, offline_since=at(0), online_at=at(5000)) == store


def test_wrong_types_are_query_errors() -> None:
    store = installed(base())
    with pytest.raises(QueryError):
        dynamic_updates_due([], at(0))  # type: ignore[arg-type]
    with pytest.raises(QueryError):
        update_dynamic_schedule(store, {"chargingProfileId": 1}, at(0), state=STATE)  # type: ignore[arg-type]
    with pytest.raises(QueryError):
        update_dynamic_schedule(store, update(limit=1), at(0), state=None)  # type: ignore[arg-type]

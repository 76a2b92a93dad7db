"""A typed embedding of the library: what a user's own typed code does with it.

Checked by ``mypy --strict --disallow-any-expr`` **without** the pydantic plugin
(``tests/typed/mypy.ini``), by CI and by ``tests/test_typed_embedding.py``: every public
name it touches must be typed without ``Any`` leaking into the caller's code.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ocpp_schedule import (
    ChargingProfile,
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    ChargingSchedule,
    ChargingSchedulePeriod,
    Circuit,
    CompositeSchedule,
    Evse,
    OcppVersion,
    Pile,
    ProfileStore,
    Session,
    SetChargingProfileRequest,
    Site,
    StationConfig,
    StationMirror,
    StationState,
    Transaction,
    balance,
    composite_schedule,
    install,
    limit_at,
    send_plan,
)
from ocpp_schedule.station import (
    ChargingProfileCriteria,
    GetChargingProfilesRequest,
    get_charging_profiles,
)
from ocpp_schedule.tools.adapters import (
    OcppCall,
    OcppCallResult,
    from_ocpp_get_charging_profiles,
    from_ocpp_get_charging_profiles_result,
    from_ocpp_set_charging_profile,
    from_ocpp_set_charging_profile_result,
    to_ocpp_get_charging_profiles,
    to_ocpp_get_charging_profiles_result,
    to_ocpp_set_charging_profile,
    to_ocpp_set_charging_profile_result,
)

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def build_request(limit: float) -> SetChargingProfileRequest:
    period = ChargingSchedulePeriod(start_period=0, limit=limit)
    schedule = ChargingSchedule(
        id=1,
        charging_rate_unit=ChargingRateUnit.A,
        charging_schedule_period=(period,),
        start_schedule=START,
    )
    profile = ChargingProfile(
        id=1,
        stack_level=0,
        charging_profile_purpose=ChargingProfilePurpose.TX_DEFAULT_PROFILE,
        charging_profile_kind=ChargingProfileKind.ABSOLUTE,
        charging_schedule=(schedule,),
    )
    return SetChargingProfileRequest(evse_id=1, charging_profile=profile)


def install_and_compute() -> float | None:
    config = StationConfig.with_evses(2)
    state = StationState(config, OcppVersion.V201, (Transaction("t1", 1, START),))
    store, result = install(ProfileStore(), build_request(16.0), state)
    accepted: bool = result.accepted
    schedule: CompositeSchedule = composite_schedule(
        store, evse_id=1, start=START, duration=3600, config=config
    )
    first: float = schedule.periods[0].limit
    begins: datetime = schedule.start  # instants are datetimes; *_epoch the same in seconds
    begins_epoch: int = schedule.start_epoch
    assert begins == START and begins_epoch == int(START.timestamp())
    mirror = StationMirror(state).set_charging_profile(build_request(10.0), "Accepted").mirror
    held: int = len(mirror.store)
    now = limit_at(store, evse_id=1, instant=START, config=config)
    return first if accepted and held else now.limit


def balance_a_site() -> int:
    site = Site(
        name="typed",
        time_zone="Europe/Berlin",
        grid=Circuit(id="grid", amps=(32.0, 32.0, 32.0)),
        piles=(
            Pile(
                id="P1",
                circuit="grid",
                evses=(
                    Evse(
                        id=1,
                        sessions=(Session(arrive=START, leave=START + timedelta(hours=2)),),
                    ),
                ),
            ),
        ),
    )
    allocation = balance(site, start=START, duration=7200)
    plan = send_plan(allocation, at=START)
    until: datetime = plan.valid_until
    assert until == allocation.end and plan.valid_until_epoch == allocation.end_epoch
    return len(plan.steps)


def round_trip_through_the_ocpp_package() -> tuple[int, bool, int]:
    """The ``to_ocpp_*`` / ``from_ocpp_*`` adapters are typed: the package's objects are
    :class:`OcppCall` / :class:`OcppCallResult`, the readers return the library's types."""
    request = build_request(16.0)
    call: OcppCall = to_ocpp_set_charging_profile(request, OcppVersion.V201)
    back: SetChargingProfileRequest = from_ocpp_set_charging_profile(call)
    state = StationState(StationConfig.with_evses(2), OcppVersion.V201, ())
    store, result = install(ProfileStore(), back, state)
    answer: OcppCallResult = to_ocpp_set_charging_profile_result(result, OcppVersion.V201)
    accepted: bool = from_ocpp_set_charging_profile_result(answer).accepted
    query = GetChargingProfilesRequest(request_id=7, criteria=ChargingProfileCriteria(evse_id=1))
    asked = from_ocpp_get_charging_profiles(to_ocpp_get_charging_profiles(query, "2.0.1"))
    found = get_charging_profiles(store, asked, OcppVersion.V201)
    reply = to_ocpp_get_charging_profiles_result(found, OcppVersion.V201)
    status: str = from_ocpp_get_charging_profiles_result(reply).status
    return back.charging_profile.id, accepted and status == "Accepted", asked.request_id

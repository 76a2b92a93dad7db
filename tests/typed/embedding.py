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
    return len(plan.steps)

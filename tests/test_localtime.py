"""Local-time plans (localtime.py): the emitted profiles impose the plan at every instant.

The reference is ``LocalTimePlan.limit_at``: the plan's limit for the instant's local
wall-clock time, as ``dateutil.tz`` gives it. The emitted payloads are read back,
installed through the library's own station-side rules and combined with
``composite_schedule``; the composite must equal the reference everywhere checked.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import assert_schema_valid

from ocpp_schedule import (
    ChargingProfilePurpose,
    OcppVersion,
    ProfileStore,
    StationConfig,
    StationState,
    TimestampError,
    Transaction,
    VersionError,
    composite_schedule,
    install,
    read_set_charging_profile,
)
from ocpp_schedule.errors import PlanError
from ocpp_schedule.station import ClearChargingProfileRequest, clear
from ocpp_schedule.tools._localtime import (
    EVERY_DAY,
    WEEKDAYS,
    LocalTimePlan,
    LocalWindow,
    PlannedProfiles,
    Weekday,
    offset_stretches,
    plan_profiles,
)

YEAR_START = datetime(2024, 1, 1, tzinfo=UTC)
YEAR_END = datetime(2025, 1, 1, tzinfo=UTC)
ZONES = ("Europe/Berlin", "America/New_York", "Australia/Lord_Howe")
MINUTE = 60
DAY = 86_400


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


CHANGES_2024: dict[str, list[tuple[datetime, int]]] = {
    # the published 2024 offset changes (UTC instant, new offset in seconds east of UTC)
    "Europe/Berlin": [(utc(2024, 3, 31, 1), 7200), (utc(2024, 10, 27, 1), 3600)],
    "America/New_York": [(utc(2024, 3, 10, 7), -14400), (utc(2024, 11, 3, 6), -18000)],
    "Australia/Lord_Howe": [(utc(2024, 4, 6, 15), 37800), (utc(2024, 10, 5, 15, 30), 39600)],
    "Australia/Sydney": [(utc(2024, 4, 6, 16), 36000), (utc(2024, 10, 5, 16), 39600)],
    "America/Santiago": [(utc(2024, 4, 7, 3), -14400), (utc(2024, 9, 8, 4), -10800)],
    "Asia/Tokyo": [],
    "UTC": [],
}


@pytest.mark.parametrize("zone", sorted(CHANGES_2024))
def test_offset_stretches_cut_at_the_published_changes(zone: str) -> None:
    stretches = offset_stretches(zone, YEAR_START, YEAR_END)
    assert [(s.valid_from, s.utc_offset) for s in stretches[1:]] == CHANGES_2024[zone]
    assert stretches[0].valid_from == YEAR_START
    assert stretches[-1].valid_to == YEAR_END
    assert all(a.end == b.start for a, b in pairwise(stretches))


# Boundaries chosen to fall inside the gap and the fold of every zone tested: Berlin and
# New York jump 02:00 -> 03:00 and fall 03:00 -> 02:00; Lord Howe jumps 02:00 -> 02:30
# and falls 02:00 -> 01:30 (a 30-minute shift).
TRICKY = LocalTimePlan(
    zone="Europe/Berlin",
    unit="A",
    base_limit=32.0,
    windows=(
        LocalWindow("17:00", "21:00", 16.0, days="weekdays"),
        LocalWindow("01:45", "02:15", 7.0),  # every day
        LocalWindow("02:40", "03:30", 5.0, days="sun"),
        LocalWindow("22:00", "06:00", 20.0, days="weekend"),  # past midnight
    ),
)


def in_zone(plan: LocalTimePlan, zone: str) -> LocalTimePlan:
    return LocalTimePlan(zone, plan.unit, plan.base_limit, plan.windows, plan.number_phases)


def install_all(planned: PlannedProfiles, config: StationConfig | None = None) -> ProfileStore:
    """Install the payloads in order through the station rules; every one must be accepted."""
    state = StationState(config or StationConfig(), planned.version)
    store = ProfileStore()
    for payload in planned.payloads:
        request = read_set_charging_profile(payload, planned.version)
        store, result = install(store, request, state)
        assert result.accepted, str(result)
        assert result.replaced == ()
    assert len(store) == len(planned.payloads)
    return store


def composite(store: ProfileStore, plan: LocalTimePlan, start: datetime, duration: int) -> Any:
    return composite_schedule(
        store, evse_id=1, start=start, duration=duration, unit=plan.rate_unit.value
    )


# ------------------------------------------------------------------ every minute


@pytest.mark.parametrize("version", ["2.0.1", "1.6"])
@pytest.mark.parametrize("zone", ZONES)
def test_every_minute_around_each_transition_of_the_year(zone: str, version: str) -> None:
    plan = in_zone(TRICKY, zone)
    planned = plan_profiles(plan, start=YEAR_START, end=YEAR_END, version=version, evse_id=0)
    assert len(planned.payloads) == 3  # two offset changes in 2024
    store = install_all(planned)
    checked = 0
    for change, _ in CHANGES_2024[zone]:
        window_start = change - timedelta(days=1)
        sched = composite(store, plan, window_start, 2 * DAY)
        for minute in range(0, 2 * DAY, MINUTE):
            instant = window_start + timedelta(seconds=minute)
            assert sched.limit_at(instant) == plan.limit_at(instant), instant
            checked += 1
        for second in (-2, -1, 0, 1):
            instant = change + timedelta(seconds=second)
            assert sched.limit_at(instant) == plan.limit_at(instant), instant
    assert checked == 2 * 2 * DAY // MINUTE


def test_the_plan_differs_across_each_transition() -> None:
    """The every-minute test is not vacuous: the UTC times of the windows move."""
    for zone in ZONES:
        plan = in_zone(TRICKY, zone)
        before, after = offset_stretches(zone, YEAR_START, YEAR_END)[:2]
        change = after.start_epoch
        shift = after.utc_offset - before.utc_offset
        assert shift in (1800, 3600, -1800, -3600)
        # the same UTC time a week apart across the change sees different local times
        week = 7 * DAY
        moved = [
            t
            for t in range(change - 3 * DAY, change, 900)
            if plan.limit_at(t) != plan.limit_at(t + week)
        ]
        assert moved, zone


# --------------------------------------------------------- the gap and the fold


def test_berlin_spring_gap_hand_computed() -> None:
    """2024-03-31 (Sunday): 02:00 CET does not happen; clocks go to 03:00 CEST at 01:00Z."""
    planned = plan_profiles(
        TRICKY, start=YEAR_START, end=YEAR_END, version="2.0.1", evse_id=1, first_id=7
    )
    store = install_all(planned)
    sched = composite(store, TRICKY, utc(2024, 3, 30, 21), 6 * 3600)
    got = [(p.start_period // 60, p.limit) for p in sched.periods]
    assert got == [
        (0, 20.0),  # 21:00Z is Saturday 22:00 CET: the weekend night
        (3 * 60 + 45, 7.0),  # 01:45 CET = 00:45Z
        (4 * 60, 5.0),  # 01:00Z = 03:00 CEST: the 02:40 window started in the gap: now
        (4 * 60 + 30, 20.0),  # 03:30 CEST = 01:30Z, back to the weekend night until 06:00
    ]
    # the 01:45-02:15 window ended inside the gap: it ends at the change
    assert TRICKY.limit_at(utc(2024, 3, 31, 0, 59, 59)) == 7.0
    assert TRICKY.limit_at(utc(2024, 3, 31, 1)) == 5.0


def test_berlin_autumn_fold_hand_computed() -> None:
    """2024-10-27 (Sunday): 02:00-03:00 happens twice, CEST then CET; the change is at 01:00Z."""
    planned = plan_profiles(TRICKY, start=YEAR_START, end=YEAR_END, version="1.6", evse_id=1)
    store = install_all(planned)
    sched = composite(store, TRICKY, utc(2024, 10, 26, 23), 4 * 3600)
    got = [(p.start_period // 60, p.limit) for p in sched.periods]
    assert got == [
        (0, 20.0),  # 01:00 CEST, weekend night
        (45, 7.0),  # 01:45-02:15 CEST = 23:45Z-00:15Z
        (75, 20.0),
        (100, 5.0),  # 02:40 CEST = 00:40Z: the Sunday window, first pass
        (120, 7.0),  # 01:00Z: back to 02:00 CET, inside 01:45-02:15 again (second pass)
        (135, 20.0),  # 02:15 CET = 01:15Z
        (160, 5.0),  # 02:40 CET = 01:40Z: the Sunday window, second pass, to 03:30 CET
        (210, 20.0),
    ]


def test_a_window_wholly_inside_the_gap_does_not_happen_that_day() -> None:
    plan = LocalTimePlan(
        "Europe/Berlin", "A", 32.0, (LocalWindow("02:10", "02:50", 6.0, days="daily"),)
    )
    assert plan.recurrency.value == "Daily"
    planned = plan_profiles(
        plan, start=utc(2024, 3, 29), end=utc(2024, 4, 3), version="2.0.1", evse_id=1
    )
    store = install_all(planned)
    day = composite(store, plan, utc(2024, 3, 30, 22), DAY)  # local Sunday 31 March
    assert [p.limit for p in day.periods] == [32.0]
    before = composite(store, plan, utc(2024, 3, 29, 23), DAY)  # local Saturday 30 March
    assert [(p.start_period, p.limit) for p in before.periods] == [
        (0, 32.0),
        (2 * 3600 + 600, 6.0),  # 02:10 CET = 01:10Z
        (2 * 3600 + 3000, 32.0),
    ]


def test_lord_howe_half_hour_shift() -> None:
    """Lord Howe: +11:00 (DST) -> +10:30 on 2024-04-07, back to +11:00 on 2024-10-06."""
    plan = in_zone(TRICKY, "Australia/Lord_Howe")
    stretches = offset_stretches(plan.zone, YEAR_START, YEAR_END)
    assert [s.utc_offset for s in stretches] == [39600, 37800, 39600]
    planned = plan_profiles(plan, start=YEAR_START, end=YEAR_END, version="2.0.1", evse_id=1)
    starts = [
        p["chargingProfile"]["chargingSchedule"][0]["startSchedule"] for p in planned.payloads
    ]
    assert starts == [
        "2024-01-01T00:00:00+11:00",  # a Monday
        "2024-04-01T00:00:00+10:30",
        "2024-09-30T00:00:00+11:00",
    ]
    # fold 01:30-02:00 on Sunday 7 April: 01:45 happens twice, both times in the 01:45 window
    first = utc(2024, 4, 6, 14, 45)  # 01:45 +11:00
    second = first + timedelta(minutes=30)  # 01:45 +10:30
    assert plan.limit_at(first) == plan.limit_at(second) == 7.0
    # at 15:00Z the clock goes from 02:00 +11:00 back to 01:30 +10:30: out of the window
    # (the weekend night's 20 A) until 01:45 comes round again
    assert plan.limit_at(first + timedelta(minutes=15)) == 20.0
    store = install_all(planned)
    sched = composite(store, plan, first - timedelta(hours=1), 3 * 3600)
    for minute in range(0, 3 * 3600, 60):
        instant = first - timedelta(hours=1) + timedelta(seconds=minute)
        assert sched.limit_at(instant) == plan.limit_at(instant)


# ------------------------------------------------------------- what is emitted


def test_one_profile_per_offset_stretch_with_validity_at_the_changes() -> None:
    plan = LocalTimePlan(
        "Europe/Berlin", "W", 22_000, (LocalWindow("17:00", "21:00", 11_000, WEEKDAYS),)
    )
    planned = plan_profiles(plan, start=YEAR_START, end=YEAR_END, version="2.0.1", evse_id=0)
    profiles = [p["chargingProfile"] for p in planned.payloads]
    assert [(p["validFrom"], p["validTo"]) for p in profiles] == [
        ("2024-01-01T00:00:00Z", "2024-03-31T01:00:00Z"),
        ("2024-03-31T01:00:00Z", "2024-10-27T01:00:00Z"),
        ("2024-10-27T01:00:00Z", "2025-01-01T00:00:00Z"),
    ]
    assert [p["chargingSchedule"][0]["startSchedule"] for p in profiles] == [
        "2024-01-01T00:00:00+01:00",  # local Monday 00:00 at or before validFrom
        "2024-03-25T00:00:00+02:00",
        "2024-10-21T00:00:00+01:00",
    ]
    assert {p["stackLevel"] for p in profiles} == {0}
    assert [p["id"] for p in profiles] == [1, 2, 3]
    first = profiles[0]
    assert first["chargingProfileKind"] == "Recurring"
    assert first["recurrencyKind"] == "Weekly"
    periods = first["chargingSchedule"][0]["chargingSchedulePeriod"]
    assert periods[:3] == [
        {"startPeriod": 0, "limit": 22_000.0},
        {"startPeriod": 17 * 3600, "limit": 11_000.0},
        {"startPeriod": 21 * 3600, "limit": 22_000.0},
    ]
    assert len(periods) == 11  # five evenings, and the base from Monday 00:00
    assert planned.resend_before == YEAR_END
    for payload in planned.payloads:
        assert_schema_valid(payload, "2.0.1", "SetChargingProfileRequest")


def test_v16_uses_increasing_stack_levels_because_equal_levels_replace() -> None:
    planned = plan_profiles(
        TRICKY, start=YEAR_START, end=YEAR_END, version="1.6", evse_id=1, stack_level=3
    )
    levels = [p["csChargingProfiles"]["stackLevel"] for p in planned.payloads]
    assert levels == [3, 4, 5]
    for payload in planned.payloads:
        assert_schema_valid(payload, "1.6", "SetChargingProfile")
    install_all(planned)
    # with one level for all, each would replace the previous one (OCPP 1.6 §3.13.2)
    state = StationState(StationConfig(), OcppVersion.V16)
    store = ProfileStore()
    for payload in planned.payloads:
        payload["csChargingProfiles"]["stackLevel"] = 3
        store, _ = install(store, read_set_charging_profile(payload, "1.6"), state)
    assert len(store) == 1


def test_v201_equal_levels_are_accepted_only_because_validities_do_not_overlap() -> None:
    planned = plan_profiles(TRICKY, start=YEAR_START, end=YEAR_END, version="2.0.1", evse_id=1)
    state = StationState(StationConfig(), OcppVersion.V201)
    store = install_all(planned)
    overlapping = dict(planned.payloads[1])
    profile = dict(overlapping["chargingProfile"])
    profile["id"] = 99
    profile["validFrom"] = "2024-03-31T00:59:59Z"  # one second into the first profile
    overlapping["chargingProfile"] = profile
    _, result = install(store, read_set_charging_profile(overlapping, "2.0.1"), state)
    assert result.rule == "K01.FR.06"


def test_daily_plan_is_one_day_of_periods_from_local_midnight() -> None:
    plan = LocalTimePlan(
        "America/New_York",
        "A",
        40.0,
        (LocalWindow(time(16), time(20), 24.0, EVERY_DAY),),
        number_phases=1,
    )
    planned = plan_profiles(
        plan, start=utc(2024, 3, 1), end=utc(2024, 4, 1), version="2.0.1", evse_id=1
    )
    profiles = [p["chargingProfile"] for p in planned.payloads]
    assert [p["recurrencyKind"] for p in profiles] == ["Daily", "Daily"]
    assert [p["chargingSchedule"][0]["startSchedule"] for p in profiles] == [
        "2024-02-29T00:00:00-05:00",
        "2024-03-10T00:00:00-04:00",  # DST began at 07:00Z that day
    ]
    assert profiles[0]["chargingSchedule"][0]["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 40.0, "numberPhases": 1},
        {"startPeriod": 16 * 3600, "limit": 24.0, "numberPhases": 1},
        {"startPeriod": 20 * 3600, "limit": 40.0, "numberPhases": 1},
    ]


def test_max_profiles_sets_the_resend_instant() -> None:
    planned = plan_profiles(
        TRICKY, start=YEAR_START, end=YEAR_END, version="2.0.1", evse_id=1, max_profiles=2
    )
    assert len(planned.payloads) == 2
    assert planned.resend_before == utc(2024, 10, 27, 1)
    one = plan_profiles(
        TRICKY, start=YEAR_START, end=YEAR_END, version="2.0.1", evse_id=1, max_profiles=1
    )
    assert one.resend_before == utc(2024, 3, 31, 1)


def test_a_zone_without_offset_changes_gets_one_profile() -> None:
    plan = in_zone(TRICKY, "Asia/Tokyo")
    planned = plan_profiles(plan, start=YEAR_START, end=YEAR_END, version="2.0.1", evse_id=1)
    assert len(planned.payloads) == 1
    schedule = planned.payloads[0]["chargingProfile"]["chargingSchedule"][0]
    assert schedule["startSchedule"] == "2024-01-01T00:00:00+09:00"


def test_weekly_window_across_sunday_midnight_wraps_to_monday() -> None:
    plan = LocalTimePlan("UTC", "A", 32.0, (LocalWindow("23:00", "01:00", 8.0, days="sun"),))
    assert plan.week_steps == ((0, 8.0), (3600, 32.0), (6 * DAY + 23 * 3600, 8.0))
    assert plan.local_limit(Weekday.MONDAY, 1800) == 8.0
    assert plan.local_limit(Weekday.SUNDAY, 1800) == 32.0


def test_overlapping_windows_take_the_lowest_limit() -> None:
    plan = LocalTimePlan(
        "UTC",
        "A",
        32.0,
        (LocalWindow("10:00", "14:00", 20.0), LocalWindow("12:00", "16:00", 10.0)),
    )
    assert [plan.local_limit(0, h * 3600) for h in (9, 11, 13, 15, 17)] == [
        32.0,
        20.0,
        10.0,
        10.0,
        32.0,
    ]


def test_tx_profile_plan_for_a_transaction() -> None:
    planned = plan_profiles(
        TRICKY,
        start=utc(2024, 5, 1),
        end=utc(2024, 5, 2),
        version="2.0.1",
        evse_id=2,
        purpose="TxProfile",
        transaction_id="tx-9",
    )
    state = StationState(
        StationConfig(), OcppVersion.V201, (Transaction("tx-9", 2, utc(2024, 5, 1)),)
    )
    _, result = install(ProfileStore(), planned.requests[0], state)
    assert result.accepted, str(result)


def test_resend_after_clearing_the_plan_in_201_and_by_replacement_in_16() -> None:
    first = plan_profiles(TRICKY, start=YEAR_START, end=YEAR_END, version="2.0.1", evse_id=1)
    store = install_all(first)
    later = plan_profiles(
        TRICKY, start=utc(2024, 6, 1), end=utc(2025, 6, 1), version="2.0.1", evse_id=1
    )
    state = StationState(StationConfig(), OcppVersion.V201)
    # without clearing, the new first profile overlaps an old one at the same level
    _, result = install(store, later.requests[0], state)
    assert result.rule == "K01.FR.06"
    criteria = ClearChargingProfileRequest(
        evseId=1, chargingProfilePurpose=ChargingProfilePurpose.TX_DEFAULT_PROFILE, stackLevel=0
    )
    store, cleared = clear(store, criteria, OcppVersion.V201)
    assert len(cleared.cleared) == 3
    for request in later.requests:
        store, result = install(store, request, state)
        assert result.accepted, str(result)

    old16 = plan_profiles(TRICKY, start=YEAR_START, end=YEAR_END, version="1.6", evse_id=1)
    store16 = install_all(old16)
    new16 = plan_profiles(
        TRICKY, start=utc(2024, 6, 1), end=utc(2025, 6, 1), version="1.6", evse_id=1
    )
    state16 = StationState(StationConfig(), OcppVersion.V16)
    for request in new16.requests:
        store16, result = install(store16, request, state16)
        assert result.accepted, str(result)
    assert len(store16) == 3  # each new profile replaced the old one at its level


# ---------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: LocalTimePlan("Mars/Olympus", "A", 1.0), "zone"),
        (lambda: LocalTimePlan("../etc/passwd", "A", 1.0), "zone"),
        (lambda: LocalTimePlan("", "A", 1.0), "zone"),
        (lambda: LocalTimePlan("UTC", "V", 1.0), "unit"),
        (lambda: LocalTimePlan("UTC", "A", -1.0), "base_limit"),
        (lambda: LocalTimePlan("UTC", "A", float("nan")), "base_limit"),
        (lambda: LocalTimePlan("UTC", "A", 1.0, number_phases=4), "number_phases"),
        (lambda: LocalWindow("17:00", "17:00", 1.0), "end"),
        (lambda: LocalWindow("25:00", "17:00", 1.0), "start"),
        (lambda: LocalWindow("24:00", "01:00", 1.0), "start"),
        (lambda: LocalWindow("17:60", "18:00", 1.0), "start"),
        (lambda: LocalWindow("5pm", "18:00", 1.0), "start"),
        (lambda: LocalWindow("17:00", "18:00", 1.0, days="funday"), "days"),
        (lambda: LocalWindow("17:00", "18:00", 1.0, days=[7]), "days"),
        (lambda: LocalWindow("17:00", "18:00", 1.0, days=[]), "days"),
        (lambda: LocalWindow("17:00", "18:00", float("inf")), "limit"),
    ],
)
def test_bad_plans_name_the_field(build: Any, field: str) -> None:
    with pytest.raises(PlanError) as info:
        build()
    assert info.value.field == field


def test_bad_horizons_and_purposes() -> None:
    with pytest.raises(PlanError, match="after its start"):
        plan_profiles(TRICKY, start=YEAR_END, end=YEAR_START, version="2.0.1", evse_id=1)
    with pytest.raises(PlanError, match="2037") as info:
        plan_profiles(TRICKY, start=YEAR_START, end=utc(2038, 6, 1), version="2.0.1", evse_id=1)
    assert info.value.rule == "python-dateutil tz"
    with pytest.raises(TimestampError):
        plan_profiles(TRICKY, start=datetime(2024, 1, 1), end=YEAR_END, version="2.0.1", evse_id=1)
    with pytest.raises(PlanError, match=r"K01\.FR\.22"):
        plan_profiles(
            TRICKY,
            start=YEAR_START,
            end=YEAR_END,
            version="2.0.1",
            evse_id=0,
            purpose="ChargingStationExternalConstraints",
        )
    with pytest.raises(PlanError) as tx_info:
        plan_profiles(
            TRICKY, start=YEAR_START, end=YEAR_END, version="2.0.1", evse_id=1, purpose="TxProfile"
        )
    assert tx_info.value.field == "transaction_id"
    with pytest.raises(PlanError, match="max_profiles"):
        plan_profiles(
            TRICKY, start=YEAR_START, end=YEAR_END, version="2.0.1", evse_id=1, max_profiles=0
        )


def test_v16_cannot_carry_hundredths() -> None:
    plan = LocalTimePlan("UTC", "A", 16.25)
    with pytest.raises(VersionError, match=r"multiples of 0\.1"):
        plan_profiles(plan, start=YEAR_START, end=YEAR_END, version="1.6", evse_id=1)
    assert plan_profiles(plan, start=YEAR_START, end=YEAR_END, version="2.0.1", evse_id=1)


# ------------------------------------------------------------------ properties

_TIMES = st.one_of(
    st.integers(0, 96).map(lambda q: q * 900),  # on the quarter hour, 00:00..24:00
    st.integers(0, DAY),
)
_DAY_SETS = st.one_of(
    st.sampled_from(["daily", "weekdays", "weekend", "sun", "sat,sun,mon"]),
    st.sets(st.integers(0, 6), min_size=1).map(sorted),
)
_LIMITS = st.integers(0, 640).map(lambda k: k / 10)


def _clock(seconds: int) -> str:
    h, rest = divmod(seconds, 3600)
    return f"{h:02d}:{rest // 60:02d}:{rest % 60:02d}"


@st.composite
def windows(draw: st.DrawFn) -> LocalWindow:
    start = draw(_TIMES.filter(lambda s: s < DAY))
    end = draw(_TIMES.filter(lambda e, s=start: e != s and not (s == 0 and e == 0)))
    return LocalWindow(_clock(start), _clock(end), draw(_LIMITS), days=draw(_DAY_SETS))


PLAN_ZONES = (*ZONES, "Asia/Tokyo", "Australia/Sydney", "America/Santiago", "UTC")


@st.composite
def plans(draw: st.DrawFn) -> LocalTimePlan:
    return LocalTimePlan(
        zone=draw(st.sampled_from(PLAN_ZONES)),
        unit=draw(st.sampled_from(["A", "W"])),
        base_limit=draw(_LIMITS),
        windows=tuple(draw(st.lists(windows(), max_size=4))),
        number_phases=draw(st.sampled_from([None, 1, 3])),
    )


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_property_emitted_profiles_impose_the_plan_at_random_instants(data: st.DataObject) -> None:
    plan = data.draw(plans())
    version = data.draw(st.sampled_from(["1.6", "2.0.1"]))
    changes = [int(t.timestamp()) for t, _ in CHANGES_2024[plan.zone]]
    if changes and data.draw(st.booleans()):
        # a horizon across one of the zone's offset changes, instants close to it
        change = data.draw(st.sampled_from(changes))
        start = change - data.draw(st.integers(1, 3 * DAY))
        end = change + data.draw(st.integers(1, 3 * DAY))
        near = st.integers(max(start, change - 3 * 3600), min(end, change + 3 * 3600) - 1)
        points = [data.draw(near) for _ in range(4)]
    else:
        instant = int(YEAR_START.timestamp()) + data.draw(st.integers(0, 366 * DAY - 1))
        start = instant - data.draw(st.integers(0, 4 * DAY))
        end = instant + 1 + data.draw(st.integers(0, 4 * DAY))
        points = [instant] + [instant + data.draw(st.integers(-DAY, DAY)) for _ in range(3)]
    planned = plan_profiles(
        plan,
        start=datetime.fromtimestamp(start, UTC),
        end=datetime.fromtimestamp(end, UTC),
        version=version,
        evse_id=data.draw(st.sampled_from([0, 1])),
    )
    store = install_all(planned)
    default = StationConfig().default_limit(plan.rate_unit)
    for t in points:
        got = composite_schedule(store, evse_id=1, start=t, duration=0, unit=plan.rate_unit)
        want = plan.limit_at(t) if start <= t < end else default
        assert got.periods[0].limit == want, (t, planned.payloads)
        if plan.number_phases is not None and start <= t < end:
            assert got.periods[0].number_phases == plan.number_phases


# ------------------------------------------------------------ the guide's example


def test_the_guides_worked_example() -> None:
    """docs/local-time.md: its Python runs and gives the table and times the page shows."""
    import re
    from pathlib import Path

    page = (Path(__file__).resolve().parent.parent / "docs" / "local-time.md").read_text()
    block = re.findall(r"```python\n(.*?)```", page, re.S)[0]
    namespace: dict[str, Any] = {}
    exec(compile(block, "local-time.md", "exec"), namespace)
    planned: PlannedProfiles = namespace["planned"]
    rows = [
        (
            p["chargingProfile"]["id"],
            p["chargingProfile"]["validFrom"],
            p["chargingProfile"]["validTo"],
            p["chargingProfile"]["chargingSchedule"][0]["startSchedule"],
            len(p["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"]),
        )
        for p in planned.payloads
    ]
    for row in rows:
        assert "| " + " | ".join(str(x) for x in row) + " |" in page
    assert planned.resend_before == utc(2024, 6, 1)
    store = install_all(planned)
    plan = namespace["plan"]
    sched = composite(store, plan, utc(2024, 3, 28), 5 * DAY)
    shown = re.findall(r"^(\d{4}-\d\d-\d\dT[\d:]+Z)\s+\d+\s+([\d.]+)", page, re.M)
    got = [(p.start_period, p.limit) for p in sched.periods]
    start = int(utc(2024, 3, 28).timestamp())
    assert [(int(datetime.fromisoformat(t).timestamp()) - start, float(v)) for t, v in shown] == got

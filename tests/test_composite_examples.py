"""Hand-computed composite schedules, each expected answer written out literally.

All instants are offsets from T0 = 2024-05-06T12:00:00Z (a Monday); windows
start at T0 and last one hour unless said otherwise. Defaults: 230 V, 3 phases,
48 A / 33 120 W where nothing is in force. A limit in A is per phase; one in W
is the total, so 1 A on 3 phases is 690 W and on 1 phase 230 W.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from oracle import oracle_composite

from ocpp_schedule import (
    ChargingLimitSource,
    ChargingProfile,
    InstalledProfile,
    StationConfig,
    Transaction,
    composite_schedule,
    read_charging_profile,
)

T0 = datetime(2024, 5, 6, 12, 0, tzinfo=UTC)
WEEK = 7 * 86_400
TXD = "TxDefaultProfile"
TXP = "TxProfile"
MAX = "ChargingStationMaxProfile"
EXT = "ChargingStationExternalConstraints"


def ts(seconds: float) -> str:
    """RFC 3339 text of T0 + seconds."""
    return (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def profile(
    pid: int,
    purpose: str,
    periods: list[tuple[Any, ...]],
    *,
    unit: str = "A",
    kind: str = "Absolute",
    start: float | str | None = 0,
    level: int = 0,
    duration: int | None = None,
    valid_from: float | None = None,
    valid_to: float | None = None,
    recurrency: str | None = None,
    tx: str | None = None,
    min_rate: float | None = None,
) -> ChargingProfile:
    """A profile; ``periods`` are (startPeriod, limit) or (startPeriod, limit, numberPhases);
    ``start`` is the startSchedule as seconds from T0 or as text (None: absent)."""
    sched: dict[str, Any] = {
        "chargingRateUnit": unit,
        "chargingSchedulePeriod": [
            {"startPeriod": p[0], "limit": float(p[1])}
            | ({"numberPhases": p[2]} if len(p) > 2 else {})
            for p in periods
        ],
    }
    if start is not None and kind != "Relative":
        sched["startSchedule"] = start if isinstance(start, str) else ts(start)
    if duration is not None:
        sched["duration"] = duration
    if min_rate is not None:
        sched["minChargingRate"] = min_rate
    prof: dict[str, Any] = {
        "id": pid,
        "stackLevel": level,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": kind,
        "chargingSchedule": [sched],
    }
    if recurrency:
        prof["recurrencyKind"] = recurrency
    if valid_from is not None:
        prof["validFrom"] = ts(valid_from)
    if valid_to is not None:
        prof["validTo"] = ts(valid_to)
    if tx is not None:
        prof["transactionId"] = tx
    return ChargingProfile.model_validate(prof)


def on(evse_id: int, prof: ChargingProfile) -> InstalledProfile:
    source = ChargingLimitSource.EMS if prof.purpose == EXT else ChargingLimitSource.CSO
    return InstalledProfile(evse_id, prof, source)


def periods(
    profiles: list[InstalledProfile],
    *,
    evse: int = 1,
    start: datetime | float = 0,
    duration: int = 3600,
    **kwargs: Any,
) -> list[tuple[int, float, int]]:
    """The engine's (startPeriod, limit, numberPhases); ``start`` is seconds from T0.

    The oracle (tests/oracle.py) must give the same answer, so every literal expectation
    below pins both."""
    when = start if isinstance(start, datetime) else T0 + timedelta(seconds=start)
    args = {"evse_id": evse, "start": when, "duration": duration, **kwargs}
    result = composite_schedule(profiles, **args)
    got = [(p.start_period, p.limit, p.number_phases) for p in result.periods]
    assert oracle_composite(profiles, **args) == got, "the oracle disagrees"
    return got


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def tx(start: float, evse_id: int = 1, tx_id: str = "tx-1") -> Transaction:
    return Transaction(tx_id, evse_id, T0 + timedelta(seconds=start))


# A TxDefault from T0+600: 16 A for 1200 s, then 10 A.
LATE_START = [on(1, profile(1, TXD, [(0, 16), (1200, 10)], start=600))]


def test_period_starting_inside_the_window() -> None:
    # [0, 600): nothing in force -> default 48 A; 600: 16 A; 600 + 1200 = 1800: 10 A
    assert periods(LATE_START) == [(0, 48.0, 3), (600, 16.0, 3), (1800, 10.0, 3)]


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (0, [(0, 48.0, 3)]),  # before the schedule's start
        (599, [(0, 48.0, 3)]),  # one second before
        (600, [(0, 16.0, 3)]),  # its first second
        (1000, [(0, 16.0, 3)]),  # 400 s into period 0
        (1799, [(0, 16.0, 3)]),  # the last second of period 0
        (1800, [(0, 10.0, 3)]),  # period 1 starts at 600 + 1200
    ],
)
def test_duration_zero_answers_the_instant(start: int, expected: list[Any]) -> None:
    # R1: duration 0 answers one period, the limit in force at `start`
    assert periods(LATE_START, start=start, duration=0) == expected


def test_watt_profile_without_phases_under_a_one_phase_amp_cap() -> None:
    # U1, the reference's example: phases in use = min(3 (none named), 1) = 1;
    # 12 420 W / (230 V x 1) = 54 A; min(54, 16) = 16 A on 1 phase = 16 x 230 = 3 680 W
    profiles = [
        on(1, profile(1, TXD, [(0, 12420)], unit="W")),
        on(0, profile(2, MAX, [(0, 16, 1)])),
    ]
    assert periods(profiles) == [(0, 16.0, 1)]
    assert periods(profiles, unit="W") == [(0, 3680.0, 1)]
    # without the cap: 12 420 W / (230 x 3) = 18 A on 3 phases
    assert periods(profiles[:1]) == [(0, 18.0, 3)]


def test_station_total_over_three_evses_capped_by_the_station_max() -> None:
    # TxDefault on EVSE 0 (16 A) applies to EVSEs 1 and 3; EVSE 2 has its own at the same
    # level (1.6 allows both; G1: the EVSE-specific one wins): 10 A.
    # Station max 40 A from T0+1800.
    profiles = [
        on(0, profile(1, TXD, [(0, 16)])),
        on(2, profile(2, TXD, [(0, 10)])),
        on(0, profile(3, "ChargePointMaxProfile", [(0, 40)], start=1800)),
    ]
    config = StationConfig.with_evses(3)
    # [0, 1800): 16 + 10 + 16 = 42 A; [1800, 3600): min(42, 40) = 40 A
    assert periods(profiles, evse=0, config=config) == [(0, 42.0, 3), (1800, 40.0, 3)]
    # W: 16 x 690 + 10 x 690 + 16 x 690 = 28 980 W; the cap 40 x 690 = 27 600 W
    assert periods(profiles, evse=0, config=config, unit="W") == [
        (0, 28980.0, 3),
        (1800, 27600.0, 3),
    ]
    # each EVSE alone: 16 A (the 40 A cap does not bind one EVSE)
    assert periods(profiles, evse=1, config=config) == [(0, 16.0, 3)]
    assert periods(profiles, evse=2, config=config) == [(0, 10.0, 3)]


def test_station_total_phases_are_the_most_any_evse_uses() -> None:
    # R2: EVSE 1 draws 16 A on 1 phase, EVSE 2 16 A on 3 phases (default)
    profiles = [on(1, profile(1, TXD, [(0, 16, 1)])), on(2, profile(2, TXD, [(0, 16)]))]
    config = StationConfig.with_evses(2)
    # A: 16 + 16 = 32 A on the most loaded phase; phases max(1, 3) = 3
    assert periods(profiles, evse=0, config=config) == [(0, 32.0, 3)]
    # W, each EVSE with its own phases: 16 x 230 x 1 + 16 x 230 x 3 = 3 680 + 11 040
    assert periods(profiles, evse=0, config=config, unit="W") == [(0, 14720.0, 3)]


def test_station_evses_without_configuration() -> None:
    # R2: no configured EVSEs -> those named by profiles (here EVSE 2 only), else EVSE 1
    profiles = [on(0, profile(1, TXD, [(0, 20)])), on(2, profile(2, TXD, [(0, 10)]))]
    assert periods(profiles, evse=0) == [(0, 10.0, 3)]  # EVSE 2 alone: its own 10 A
    assert periods([], evse=0) == [(0, 48.0, 3)]  # EVSE 1 alone: the default
    assert periods(profiles[:1], evse=0) == [(0, 20.0, 3)]  # EVSE 1 under the EVSE-0 TxDefault


# A daily TxDefault first started on 2024-05-01 22:00: 10 A, from 01:00 (3 h on) 20 A,
# for 8 h (until 06:00).
NIGHTLY = [
    on(
        1,
        profile(
            1,
            TXD,
            [(0, 10), (3 * 3600, 20)],
            kind="Recurring",
            recurrency="Daily",
            start="2024-05-01T22:00:00Z",
            duration=8 * 3600,
        ),
    )
]


def test_daily_recurrence_crossing_midnight_and_the_query_start() -> None:
    # query 2024-05-06 23:30 for 3 h: the recurrence of 05-06 22:00 is 5 400 s in -> 10 A;
    # its 01:00 period starts 5 400 s into the window -> 20 A (until 06:00, past the window)
    expected = [(0, 10.0, 3), (5400, 20.0, 3)]
    assert periods(NIGHTLY, start=at("2024-05-06T23:30:00+00:00"), duration=10800) == expected
    # A3: the same time of day two weeks before the first startSchedule
    assert periods(NIGHTLY, start=at("2024-04-20T23:30:00+00:00"), duration=10800) == expected
    # 05:30 for 1 h: 20 A until 06:00 (8 h after 22:00), then nothing -> 48 A
    morning = periods(NIGHTLY, start=at("2024-05-07T05:30:00+00:00"))
    assert morning == [(0, 20.0, 3), (1800, 48.0, 3)]
    # 21:30 for 1 h: yesterday's recurrence ended at 06:00 -> 48 A; at 22:00 -> 10 A
    evening = periods(NIGHTLY, start=at("2024-05-06T21:30:00+00:00"))
    assert evening == [(0, 48.0, 3), (1800, 10.0, 3)]


def test_weekly_recurrence() -> None:
    # weekly from Monday 2024-04-29 11:00, 6 A for 2 h: on Monday 05-06 at 12:00 it is
    # 3 600 s in; it ends 7 200 s in, i.e. 3 600 s into the window
    prof = profile(
        1, TXD, [(0, 6)], kind="Recurring", recurrency="Weekly", start=-WEEK - 3600, duration=7200
    )
    assert periods([on(1, prof)], duration=7200) == [(0, 6.0, 3), (3600, 48.0, 3)]


def test_higher_stack_level_whose_duration_ends_inside_the_window() -> None:
    # level 1 (20 A) from 600 for 1 200 s governs [600, 1800); level 0 (10 A) elsewhere
    profiles = [
        on(1, profile(1, TXD, [(0, 10)])),
        on(1, profile(2, TXD, [(0, 20)], start=600, level=1, duration=1200)),
    ]
    assert periods(profiles) == [(0, 10.0, 3), (600, 20.0, 3), (1800, 10.0, 3)]


def test_valid_to_inside_a_period() -> None:
    # level 1: 8 A, from 1 800 12 A, valid until 2 400 (A5: [validFrom, validTo));
    # then level 0's 32 A governs
    high = profile(1, TXD, [(0, 8), (1800, 12)], level=1, valid_to=2400)
    low = profile(2, TXD, [(0, 32)])
    assert periods([on(1, high), on(1, low)]) == [(0, 8.0, 3), (1800, 12.0, 3), (2400, 32.0, 3)]
    # valid only from 900 as well: [0, 900) is level 0's
    both = profile(1, TXD, [(0, 8), (1800, 12)], level=1, valid_from=900, valid_to=2400)
    assert periods([on(1, both), on(1, low)]) == [
        (0, 32.0, 3),
        (900, 8.0, 3),
        (1800, 12.0, 3),
        (2400, 32.0, 3),
    ]


# TxDefault in W: 11 040 W (3 phases), from 1 200 3 680 W on 1 phase;
# station max in A: 32 A (3 phases), from 2 400 10 A on 3 phases.
MIXED = [
    on(1, profile(1, TXD, [(0, 11040), (1200, 3680, 1)], unit="W")),
    on(0, profile(2, MAX, [(0, 32), (2400, 10, 3)])),
]


def test_watts_and_amps_mixed_with_one_phase_periods() -> None:
    # [0, 1200): n = 3; 11 040 / 690 = 16 A vs 32 A -> 16 A, 3 phases
    # [1200, 2400): n = min(1, 3) = 1; 3 680 / 230 = 16 A vs 32 A -> 16 A, 1 phase
    #   (same limit, other phases: not merged)
    # [2400, 3600): n = 1; 16 A vs 10 A -> 10 A, 1 phase
    assert periods(MIXED) == [(0, 16.0, 3), (1200, 16.0, 1), (2400, 10.0, 1)]
    # in W: 11 040 vs 32 x 690 = 22 080; 3 680 vs 32 x 230 = 7 360; 3 680 vs 10 x 230 = 2 300
    assert periods(MIXED, unit="W") == [(0, 11040.0, 3), (1200, 3680.0, 1), (2400, 2300.0, 1)]


def test_default_limit_in_the_gaps() -> None:
    # 16 A in [600, 1200), 20 A in [2400, 3000); elsewhere nothing -> 48 A / 33 120 W
    profiles = [
        on(1, profile(1, TXD, [(0, 16)], start=600, duration=600)),
        on(1, profile(2, TXD, [(0, 20)], start=2400, duration=600, level=1)),
    ]
    assert periods(profiles) == [
        (0, 48.0, 3),
        (600, 16.0, 3),
        (1200, 48.0, 3),
        (2400, 20.0, 3),
        (3000, 48.0, 3),
    ]
    # W: 16 x 690 = 11 040; 20 x 690 = 13 800
    assert periods(profiles, unit="W") == [
        (0, 33120.0, 3),
        (600, 11040.0, 3),
        (1200, 33120.0, 3),
        (2400, 13800.0, 3),
        (3000, 33120.0, 3),
    ]


def test_default_limit_takes_no_part_where_a_cap_is_in_force() -> None:
    # G4: only a 60 A station max from 1 800: the cap is the limit (not min(48, 60))
    profiles = [on(0, profile(1, MAX, [(0, 60)], start=1800))]
    assert periods(profiles) == [(0, 48.0, 3), (1800, 60.0, 3)]
    # a configured default: 32 A on 1 phase where nothing is in force
    config = StationConfig(composite_schedule_default_limit_amps=32, default_number_phases=1)
    assert periods([], config=config) == [(0, 32.0, 1)]


def test_external_constraints_of_the_station_and_of_the_queried_evse() -> None:
    # G3: EVSE 1 is capped by external constraints on EVSE 0 and on EVSE 1, not on EVSE 2
    profiles = [
        on(1, profile(1, TXD, [(0, 32)])),
        on(0, profile(2, EXT, [(0, 20)], start=1200)),
        on(2, profile(3, EXT, [(0, 6)])),
        on(1, profile(4, EXT, [(0, 5520)], unit="W", start=2400)),  # 5 520 / 690 = 8 A
    ]
    assert periods(profiles) == [(0, 32.0, 3), (1200, 20.0, 3), (2400, 8.0, 3)]
    # EVSE 2: min(32, 6) = 6 A throughout
    assert periods(profiles, evse=2) == [(0, 6.0, 3)]


def test_tx_profile_replaces_tx_default_only_where_in_force() -> None:
    # the transaction began at T0-600; its TxProfile (level 0) gives 20 A for 1 200 s,
    # i.e. until T0+600; it replaces (not caps) the level-3 TxDefault of 10 A (G1)
    profiles = [
        on(1, profile(1, TXD, [(0, 10)], start=-3600, level=3)),
        on(1, profile(2, TXP, [(0, 20)], kind="Relative", duration=1200, tx="tx-1")),
    ]
    assert periods(profiles, transaction=tx(-600)) == [(0, 20.0, 3), (600, 10.0, 3)]
    # G2: a TxProfile counts only for its transaction
    other = tx(-600, tx_id="tx-9")
    assert periods(profiles, transaction=other) == [(0, 10.0, 3)]
    assert periods(profiles) == [(0, 10.0, 3)]


def test_relative_tx_profile_anchored_at_a_transaction_started_before_the_window() -> None:
    # transaction from T0-1800: at T0 the schedule is 1 800 s in -> 6 A;
    # 2 400 s in is T0+600 -> 16 A; 3 600 s in is T0+1800 -> 32 A
    prof = profile(1, TXP, [(0, 6), (2400, 16), (3600, 32)], kind="Relative", tx="tx-1")
    assert periods([on(1, prof)], transaction=tx(-1800)) == [
        (0, 6.0, 3),
        (600, 16.0, 3),
        (1800, 32.0, 3),
    ]
    # the same transaction on another EVSE does not bind EVSE 1's profile
    assert periods([on(1, prof)], transaction=tx(-1800, evse_id=2)) == [(0, 48.0, 3)]


def test_v16_absolute_without_start_schedule_starts_with_charging() -> None:
    # A1: a 1.6 Absolute schedule without startSchedule is relative to the start of charging
    prof = read_charging_profile(
        {
            "chargingProfileId": 7,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": {
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [
                    {"startPeriod": 0, "limit": 6},
                    {"startPeriod": 2400, "limit": 16},
                ],
            },
        },
        "1.6",
    )
    # transaction from T0-1800: 2 400 s in is T0+600
    assert periods([on(1, prof)], transaction=tx(-1800)) == [(0, 6.0, 3), (600, 16.0, 3)]
    # no transaction: anchored at the query start
    assert periods([on(1, prof)]) == [(0, 6.0, 3), (2400, 16.0, 3)]


def test_rounding_down_to_one_decimal() -> None:
    # U3: 10 000 W / 690 = 14.49... -> 14.4 A; 12 420 W on 2 phases / 460 = 27 A
    assert periods([on(1, profile(1, TXD, [(0, 10000)], unit="W"))]) == [(0, 14.4, 3)]
    assert periods([on(1, profile(1, TXD, [(0, 12420, 2)], unit="W"))]) == [(0, 27.0, 2)]
    # 0.7 A x 230 = 161 W exactly, though 0.7 * 230 is 160.99999999999997 in floats
    assert periods([on(1, profile(1, TXD, [(0, 0.7, 1)]))], unit="W") == [(0, 161.0, 1)]


def test_fractional_seconds_are_dropped() -> None:
    # T2: a startSchedule at 600.9 s counts from 600; a query start at 0.5 s from 0
    prof = profile(1, TXD, [(0, 16)], start=ts(600.9))
    assert periods([on(1, prof)], start=T0 + timedelta(seconds=0.5), duration=1200) == [
        (0, 48.0, 3),
        (600, 16.0, 3),
    ]


def test_v16_answer() -> None:
    # the mixed example as a 1.6 GetCompositeSchedule.conf
    result = composite_schedule(MIXED, evse_id=1, start=T0, duration=3600)
    assert result.to_payload("1.6") == {
        "status": "Accepted",
        "connectorId": 1,
        "scheduleStart": "2024-05-06T12:00:00Z",
        "chargingSchedule": {
            "duration": 3600,
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": 16.0, "numberPhases": 3},
                {"startPeriod": 1200, "limit": 16.0, "numberPhases": 1},
                {"startPeriod": 2400, "limit": 10.0, "numberPhases": 1},
            ],
        },
    }


def test_v16_answer_with_min_charging_rate() -> None:
    # U4: 11 040 W with minChargingRate 1 000 W; in A on 3 phases: 16 A and
    # 1 000 / 690 = 1.449... rounded *up* to 1.5 A; every period agrees, so 1.6 reports it
    prof = profile(1, TXD, [(0, 11040)], unit="W", min_rate=1000)
    result = composite_schedule([on(1, prof)], evse_id=1, start=T0, duration=600)
    assert result.to_payload("1.6")["chargingSchedule"] == {
        "duration": 600,
        "chargingRateUnit": "A",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0, "numberPhases": 3}],
        "minChargingRate": 1.5,
    }


def test_v201_answer() -> None:
    result = composite_schedule(MIXED, evse_id=1, start=T0, duration=3600, unit="W")
    assert result.to_payload("2.0.1") == {
        "status": "Accepted",
        "schedule": {
            "evseId": 1,
            "duration": 3600,
            "scheduleStart": "2024-05-06T12:00:00Z",
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": 11040.0, "numberPhases": 3},
                {"startPeriod": 1200, "limit": 3680.0, "numberPhases": 1},
                {"startPeriod": 2400, "limit": 2300.0, "numberPhases": 1},
            ],
        },
    }

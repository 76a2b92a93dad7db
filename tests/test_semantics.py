"""One test per decision in docs/semantics.md, hand-computed.

Every window starts at T0 = 2024-01-01T00:00:00Z unless said; offsets in seconds.
At 230 V: 1 A on 3 phases is 690 W, on 1 phase 230 W.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from helpers import T0, at, on, periods, profile, tx
from pydantic import ValidationError

from ocpp_schedule import (
    ChargingProfile,
    InvalidProfileError,
    OcppVersion,
    ProfileStore,
    QueryError,
    RejectionReason,
    StationConfig,
    StationState,
    TimestampError,
    composite_schedule,
    install,
    read_set_charging_profile,
)
from ocpp_schedule.wire import parse_timestamp

TXD = "TxDefaultProfile"


def comp(entries, *, start=0, duration=1200, **kw):
    return composite_schedule(
        entries, evse_id=kw.pop("evse_id", 1), start=at(start), duration=duration, **kw
    )


# ---------------------------------------------------------------- time


def test_t1_naive_timestamp_is_an_error() -> None:
    with pytest.raises(TimestampError, match="no time-zone offset"):
        parse_timestamp("2024-01-01T00:00:00")
    with pytest.raises(ValidationError, match="no time-zone offset"):
        ChargingProfile.model_validate(
            {
                "id": 1,
                "stackLevel": 0,
                "chargingProfilePurpose": TXD,
                "chargingProfileKind": "Absolute",
                "validFrom": "2024-01-01T00:00:00",
                "chargingSchedule": [
                    {
                        "id": 1,
                        "chargingRateUnit": "A",
                        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 1}],
                    }
                ],
            }
        )
    with pytest.raises(TimestampError):
        composite_schedule([], evse_id=1, start=datetime(2024, 1, 1), duration=60)


def test_t2_fractional_seconds_floor() -> None:
    prof = profile(1, TXD, [(0, 10.0)], valid_from=0).model_copy(
        update={"valid_from": parse_timestamp("2024-01-01T00:00:10.7Z")}
    )
    result = composite_schedule(
        [on(1, prof)], evse_id=1, start=parse_timestamp("2024-01-01T00:00:00.9Z"), duration=60
    )
    assert result.start_epoch == int(T0.timestamp())
    # validFrom 10.7 s floors to 10 s: the default limit until then.
    assert periods(result) == [(0, 48.0, 3), (10, 10.0, 3)]


# ----------------------------------------------------- anchoring and validity


def test_a1_absolute_without_start_schedule_is_relative() -> None:
    prof = profile(1, TXD, [(0, 10.0), (600, 20.0)], start=None)
    # With a transaction started at +300 the schedule starts there.
    assert periods(comp([on(1, prof)], transaction=tx(start=300))) == [
        (0, 48.0, 3),
        (300, 10.0, 3),
        (900, 20.0, 3),
    ]
    # Without one it starts at the query start.
    assert periods(comp([on(1, prof)])) == [(0, 10.0, 3), (600, 20.0, 3)]


def _v16(profile_json: dict, connector: int = 1) -> dict:
    return {"connectorId": connector, "csChargingProfiles": profile_json}


def test_a2_v16_relative_ignores_start_schedule() -> None:
    body = {
        "chargingProfileId": 1,
        "stackLevel": 0,
        "chargingProfilePurpose": TXD,
        "chargingProfileKind": "Relative",
        "chargingSchedule": {
            "startSchedule": "2024-01-01T00:05:00Z",
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": 10},
                {"startPeriod": 600, "limit": 20},
            ],
        },
    }
    store, result = install(
        ProfileStore(), read_set_charging_profile(_v16(body)), StationState(version=OcppVersion.V16)
    )
    assert result.accepted
    assert periods(comp(store)) == [(0, 10.0, 3), (600, 20.0, 3)]
    two = {
        "evseId": 1,
        "chargingProfile": {
            "id": 1,
            "stackLevel": 0,
            "chargingProfilePurpose": TXD,
            "chargingProfileKind": "Relative",
            "chargingSchedule": [{**body["chargingSchedule"], "id": 1}],
        },
    }
    _, rejected = install(
        ProfileStore(), read_set_charging_profile(two), StationState(version="2.0.1")
    )
    assert rejected.reason is RejectionReason.RELATIVE_WITH_START_SCHEDULE


def test_a3_recurring_applies_before_start_schedule() -> None:
    # Daily from 12:00 on day 1; at 11:50 on day 1 the 12:00-of-day-0 recurrence is in force,
    # 23 h 50 min into it: its second period (20 A). At 12:00 the first period (10 A) starts.
    prof = profile(
        1, TXD, [(0, 10.0), (3600, 20.0)], kind="Recurring", recurrency="Daily", start=12 * 3600
    )
    assert periods(comp([on(1, prof)], start=11 * 3600 + 3000)) == [(0, 20.0, 3), (600, 10.0, 3)]


def test_a4_recurring_duration_shorter_than_period_falls_back() -> None:
    daily = profile(
        1, TXD, [(0, 10.0)], kind="Recurring", recurrency="Daily", start=0, duration=3600, stack=1
    )
    base = profile(2, TXD, [(0, 30.0)], start=0)
    # 23:50 -> 00:00 base (30), 00:00 -> 01:00 daily (10), then base again.
    result = comp([on(1, daily), on(1, base)], start=86400 - 600, duration=4800)
    assert periods(result) == [(0, 30.0, 3), (600, 10.0, 3), (4200, 30.0, 3)]


def test_a5_valid_to_inside_a_period() -> None:
    high = profile(1, TXD, [(0, 10.0)], stack=1, valid_to=1000)
    low = profile(2, TXD, [(0, 20.0)])
    assert periods(comp([on(1, high), on(1, low)], duration=2000)) == [
        (0, 10.0, 3),
        (1000, 20.0, 3),
    ]


def test_a6_dynamic_anchor() -> None:
    prof = profile(1, TXD, [(0, 12.0)], kind="Dynamic", start=None, duration=500).model_copy(
        update={"dyn_update_time": at(100)}
    )
    assert periods(comp([on(1, prof)], duration=1000)) == [
        (0, 48.0, 3),
        (100, 12.0, 3),
        (600, 48.0, 3),
    ]


# ------------------------------------------------------------- which limit governs


def test_g1_specific_tx_default_wins_at_equal_level() -> None:
    station = profile(1, TXD, [(0, 10.0)], stack=1)
    evse1 = profile(2, TXD, [(0, 20.0)], stack=1)
    entries = [on(0, station), on(1, evse1)]
    assert periods(comp(entries, evse_id=1)) == [(0, 20.0, 3)]
    assert periods(comp(entries, evse_id=2)) == [(0, 10.0, 3)]
    higher = profile(3, TXD, [(0, 5.0)], stack=2)
    assert periods(comp([*entries, on(0, higher)], evse_id=1)) == [(0, 5.0, 3)]


def test_g1_tx_profile_replaces_tx_default() -> None:
    default = profile(1, TXD, [(0, 10.0)])
    txp = profile(2, "TxProfile", [(0, 30.0)], kind="Relative", duration=600, transaction_id="T1")
    result = comp([on(1, default), on(1, txp)], duration=2000, transaction=tx(start=100))
    # The TxProfile (30 A, above the 10 A default) governs only while in force.
    assert periods(result) == [(0, 10.0, 3), (100, 30.0, 3), (700, 10.0, 3)]


def test_g2_tx_profile_needs_its_transaction() -> None:
    default = profile(1, TXD, [(0, 10.0)])
    txp = profile(2, "TxProfile", [(0, 30.0)], kind="Relative", transaction_id="T1")
    entries = [on(1, default), on(1, txp)]
    assert periods(comp(entries, transaction=tx("T2"))) == [(0, 10.0, 3)]
    assert periods(comp(entries)) == [(0, 10.0, 3)]
    assert periods(comp(entries, transaction=tx("T1"))) == [(0, 30.0, 3)]


def test_g3_external_constraints_cap() -> None:
    ext = "ChargingStationExternalConstraints"
    entries = [
        on(0, profile(1, TXD, [(0, 32.0)])),
        on(0, profile(2, ext, [(0, 8.0)], duration=600)),
        on(1, profile(3, ext, [(0, 6.0)], start=300, duration=600)),
    ]
    assert periods(comp(entries, evse_id=1)) == [(0, 8.0, 3), (300, 6.0, 3), (900, 32.0, 3)]
    assert periods(comp(entries, evse_id=2)) == [(0, 8.0, 3), (600, 32.0, 3)]


def test_g4_default_limit_only_where_nothing_is_in_force() -> None:
    cap = profile(1, "ChargingStationMaxProfile", [(0, 100.0)], duration=600)
    # Only the cap is in force until 600: 100 A, not min(100, 48).
    assert periods(comp([on(0, cap)])) == [(0, 100.0, 3), (600, 48.0, 3)]
    config = StationConfig(composite_schedule_default_limit_amps=16)
    assert periods(comp([on(0, cap)], config=config)) == [(0, 100.0, 3), (600, 16.0, 3)]


def test_g5_period_without_limit() -> None:
    prof = ChargingProfile.model_validate(
        {
            "id": 1,
            "stackLevel": 0,
            "chargingProfilePurpose": TXD,
            "chargingProfileKind": "Absolute",
            "chargingSchedule": [
                {
                    "id": 1,
                    "startSchedule": "2024-01-01T00:00:00Z",
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [
                        {"startPeriod": 0, "operationMode": "Idle"},
                        {"startPeriod": 600, "operationMode": "CentralFrequency"},
                    ],
                }
            ],
        }
    )
    assert periods(comp([on(1, prof)])) == [(0, 0.0, 3), (600, 48.0, 3)]


# ---------------------------------------------------------------- units and phases


def test_u1_w_profile_under_one_phase_cap() -> None:
    # The reference's example: 12 420 W (no numberPhases) under 16 A on 1 phase.
    entries = [
        on(0, profile(1, TXD, [(0, 12420.0)], unit="W")),
        on(0, profile(2, "ChargePointMaxProfile", [(0, 16.0, 1)])),
    ]
    assert periods(comp(entries)) == [(0, 16.0, 1)]
    assert periods(comp(entries, unit="W")) == [(0, 3680.0, 1)]
    # Alone, 12 420 W on 3 phases is 18 A.
    assert periods(comp(entries[:1])) == [(0, 18.0, 3)]


def test_u2_default_unit_is_amps() -> None:
    result = comp([on(1, profile(1, TXD, [(0, 6900.0)], unit="W"))])
    assert result.charging_rate_unit.value == "A"
    assert periods(result) == [(0, 10.0, 3)]


def test_u3_round_down_and_merge() -> None:
    # 7000 W / 690 = 10.1449 A -> 10.1; 2.3 A stays 2.3 (no float noise).
    result = comp([on(1, profile(1, TXD, [(0, 7000.0), (600, 2.3 * 690)], unit="W"))])
    assert periods(result) == [(0, 10.1, 3), (600, 2.3, 3)]
    # Equal neighbours merge, keeping both sources.
    entries = [
        on(1, profile(1, TXD, [(0, 16.0), (600, 40.0)])),
        on(0, profile(2, "ChargePointMaxProfile", [(0, 16.0)])),
    ]
    merged = comp(entries)
    assert periods(merged) == [(0, 16.0, 3)]
    assert [s.profile_id for s in merged.periods[0].sources] == [1, 2]


def test_u4_min_charging_rate() -> None:
    result = comp([on(1, profile(1, TXD, [(0, 16.0)], unit="A", min_rate=6.0))])
    assert result.periods[0].min_charging_rate == 6.0
    assert result.to_payload("1.6")["chargingSchedule"]["minChargingRate"] == 6.0
    assert "minChargingRate" not in result.to_payload("2.0.1")["schedule"]
    watts = comp([on(1, profile(1, TXD, [(0, 11040.0)], unit="W", min_rate=4140.0))])
    assert watts.periods[0].min_charging_rate == 6.0  # 4140 W / 690
    assert periods(watts) == [(0, 16.0, 3)]


# ---------------------------------------------------------------------- the answer


def test_r1_duration_zero() -> None:
    result = comp([on(1, profile(1, TXD, [(0, 10.0), (600, 20.0)]))], start=600, duration=0)
    assert periods(result) == [(0, 20.0, 3)]
    assert result.to_payload("2.0.1")["schedule"]["duration"] == 0


def test_r2_evse0_is_the_sum_capped() -> None:
    entries = [
        on(0, profile(1, TXD, [(0, 32.0)])),
        on(0, profile(2, "ChargePointMaxProfile", [(0, 40.0)], duration=600)),
    ]
    config = StationConfig(evse_ids=(1, 2))
    # Each EVSE: min(32, 40) = 32; the station: min(32 + 32, 40) until 600, then 64.
    result = comp(entries, evse_id=0, config=config)
    assert periods(result) == [(0, 40.0, 3), (600, 64.0, 3)]
    # One EVSE: the EVSE-0 answer is that EVSE's composite.
    one = comp(entries, evse_id=0, config=StationConfig(evse_ids=(1,)))
    assert periods(one) == periods(comp(entries, evse_id=1))


def test_r3_unknown_evse() -> None:
    with pytest.raises(QueryError, match="no EVSE 3"):
        comp([], evse_id=3, config=StationConfig(evse_ids=(1, 2)))


# ------------------------------------------------------------------ 2.1 additions


def test_v1_priority_charging() -> None:
    entries = [
        on(0, profile(1, TXD, [(0, 10.0)])),
        on(1, profile(2, "PriorityCharging", [(0, 32.0)])),
        on(0, profile(3, "ChargingStationMaxProfile", [(0, 20.0)])),
    ]
    assert periods(comp(entries, transaction=tx(priority_charging=True))) == [(0, 20.0, 3)]
    assert periods(comp(entries, transaction=tx())) == [(0, 10.0, 3)]


def test_v2_local_generation_adds() -> None:
    entries = [
        on(1, profile(1, TXD, [(0, 5000.0)], unit="W")),
        on(0, profile(2, "LocalGeneration", [(0, 2000.0)], unit="W")),
    ]
    assert periods(comp(entries, unit="W")) == [(0, 7000.0, 3)]


def test_v3_randomized_delay_ignored() -> None:
    prof = profile(1, TXD, [(0, 10.0), (600, 20.0)], randomizedDelay=300)
    assert periods(comp([on(1, prof)])) == [(0, 10.0, 3), (600, 20.0, 3)]


def test_v4_use_local_time_is_refused_by_engine() -> None:
    prof = profile(1, TXD, [(0, 10.0)], useLocalTime=True)
    with pytest.raises(InvalidProfileError, match="useLocalTime"):
        comp([on(1, prof)])


def test_v5_limit_at_soc() -> None:
    prof = profile(1, TXD, [(0, 16.0)], limitAtSoC={"soc": 80, "limit": 8.0})
    assert periods(comp([on(1, prof)], transaction=tx(state_of_charge=85.0))) == [(0, 8.0, 3)]
    assert periods(comp([on(1, prof)], transaction=tx(state_of_charge=50.0))) == [(0, 16.0, 3)]
    assert periods(comp([on(1, prof)], transaction=tx())) == [(0, 16.0, 3)]


def test_r2_station_evses_include_transaction_evses() -> None:
    # No configured EVSEs, profiles only on EVSE 0: the transaction's EVSE 2 is the station.
    entries = [on(0, profile(1, TXD, [(0, 20.0)]))]
    result = comp(entries, evse_id=0, transaction=tx(evse=2))
    assert periods(result) == [(0, 20.0, 3)]
    # With no transaction and nothing naming an EVSE, EVSE 1 alone.
    assert periods(comp(entries, evse_id=0)) == [(0, 20.0, 3)]
    two = comp(
        [*entries, on(3, profile(2, TXD, [(0, 6.0)], stack=1))], evse_id=0, transaction=tx(evse=2)
    )
    assert periods(two) == [(0, 26.0, 3)]  # EVSE 2 (20) + EVSE 3 (6)

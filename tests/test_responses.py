"""GetCompositeSchedule answers: the exact 1.6 and 2.x payloads (docs/semantics.md R4)
and the readable table."""

from __future__ import annotations

import pytest

from ocpp_schedule import (
    ChargingProfilePurpose,
    ChargingRateUnit,
    CompositePeriod,
    CompositeSchedule,
    LimitSource,
    OcppVersion,
    VersionError,
)
from ocpp_schedule.engine import composite_response, explain_table
from ocpp_schedule.wire import rejected_composite_response

P = ChargingProfilePurpose
START = 1_704_067_200  # 2024-01-01T00:00:00Z

TX_DEFAULT = LimitSource(
    kind="profile", profile_id=7, purpose=P.TX_DEFAULT_PROFILE, stack_level=1, evse_id=2
)
STATION_MAX = LimitSource(
    kind="profile", profile_id=3, purpose=P.CHARGING_STATION_MAX_PROFILE, stack_level=0, evse_id=0
)
TX = LimitSource(kind="profile", profile_id=-12, purpose=P.TX_PROFILE, stack_level=4, evse_id=2)
DEFAULT = LimitSource(kind="default")


def period(
    start: int,
    limit: float,
    phases: int,
    *sources: LimitSource,
    rate: float | None = None,
) -> CompositePeriod:
    return CompositePeriod(
        start_period=start,
        limit=limit,
        number_phases=phases,
        sources=tuple(sources),
        min_charging_rate=rate,
    )


HAND_MADE = CompositeSchedule(
    evse_id=2,
    start_epoch=START,
    duration=3600,
    charging_rate_unit=ChargingRateUnit.A,
    periods=(
        period(0, 16.0, 3, TX_DEFAULT, rate=6.0),
        period(900, 10.5, 1, STATION_MAX, TX, rate=6.0),
        period(2700, 48.0, 3, DEFAULT, rate=6.0),
    ),
)
PERIODS = [
    {"startPeriod": 0, "limit": 16.0, "numberPhases": 3},
    {"startPeriod": 900, "limit": 10.5, "numberPhases": 1},
    {"startPeriod": 2700, "limit": 48.0, "numberPhases": 3},
]


def with_rates(*rates: float | None) -> CompositeSchedule:
    periods = tuple(
        period(p.start_period, p.limit, p.number_phases, *p.sources, rate=r)
        for p, r in zip(HAND_MADE.periods, rates, strict=True)
    )
    return CompositeSchedule(
        evse_id=HAND_MADE.evse_id,
        start_epoch=HAND_MADE.start_epoch,
        duration=HAND_MADE.duration,
        charging_rate_unit=HAND_MADE.charging_rate_unit,
        periods=periods,
    )


def test_v16_answer_leaves_start_schedule_out() -> None:
    """1.6 errata 3.57: ``scheduleStart`` carries the time; no inner ``startSchedule``."""
    assert HAND_MADE.to_payload("1.6") == {
        "status": "Accepted",
        "connectorId": 2,
        "scheduleStart": "2024-01-01T00:00:00Z",
        "chargingSchedule": {
            "duration": 3600,
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": PERIODS,
            "minChargingRate": 6.0,
        },
    }


@pytest.mark.parametrize("rates", [(6.0, 6.0, None), (6.0, 8.0, 6.0), (None, None, None)])
def test_v16_min_charging_rate_only_when_all_periods_agree(
    rates: tuple[float | None, ...],
) -> None:
    assert with_rates(*rates).to_payload(OcppVersion.V16) == {
        "status": "Accepted",
        "connectorId": 2,
        "scheduleStart": "2024-01-01T00:00:00Z",
        "chargingSchedule": {
            "duration": 3600,
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": PERIODS,
        },
    }


@pytest.mark.parametrize("version", ["2.0.1", "2.1", OcppVersion.V201, OcppVersion.V21])
def test_v2_answer(version: str) -> None:
    # 2.1 periods also say their operationMode (issue 14, docs/semantics.md V21-8)
    mode = {"operationMode": "ChargingOnly"} if str(version) == "2.1" else {}
    periods = [{**p, **mode} for p in PERIODS]
    assert HAND_MADE.to_payload(version) == {
        "status": "Accepted",
        "schedule": {
            "evseId": 2,
            "duration": 3600,
            "scheduleStart": "2024-01-01T00:00:00Z",
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": periods,
        },
    }


def test_to_payload_is_composite_response() -> None:
    for version in ("1.6", "2.0.1", "2.1"):
        assert HAND_MADE.to_payload(version) == composite_response(HAND_MADE, version)


def test_station_answer_in_watts_with_zero_duration() -> None:
    station = CompositeSchedule(
        evse_id=0,
        start_epoch=0,
        duration=0,
        charging_rate_unit=ChargingRateUnit.W,
        periods=(period(0, 22080.0, 3, STATION_MAX),),
    )
    assert station.to_payload("1.6") == {
        "status": "Accepted",
        "connectorId": 0,
        "scheduleStart": "1970-01-01T00:00:00Z",
        "chargingSchedule": {
            "duration": 0,
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 22080.0, "numberPhases": 3}],
        },
    }
    assert station.to_payload("2.0.1") == {
        "status": "Accepted",
        "schedule": {
            "evseId": 0,
            "duration": 0,
            "scheduleStart": "1970-01-01T00:00:00Z",
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 22080.0, "numberPhases": 3}],
        },
    }


def test_schedule_start_before_1970() -> None:
    early = CompositeSchedule(
        evse_id=1,
        start_epoch=-86_401,
        duration=60,
        charging_rate_unit=ChargingRateUnit.A,
        periods=(period(0, 6.0, 1, DEFAULT),),
    )
    assert early.to_payload("2.1")["schedule"]["scheduleStart"] == "1969-12-30T23:59:59Z"


def test_rejected_answers() -> None:
    assert rejected_composite_response("1.6") == {"status": "Rejected"}
    assert rejected_composite_response("1.6", "UnknownEVSE") == {"status": "Rejected"}
    assert rejected_composite_response("2.0.1") == {"status": "Rejected"}
    assert rejected_composite_response("2.0.1", "UnknownEVSE") == {
        "status": "Rejected",
        "statusInfo": {"reasonCode": "UnknownEVSE"},
    }
    assert rejected_composite_response(OcppVersion.V21, "UnsupportedRateUnit") == {
        "status": "Rejected",
        "statusInfo": {"reasonCode": "UnsupportedRateUnit"},
    }


def test_unknown_version_is_refused() -> None:
    with pytest.raises(VersionError):
        HAND_MADE.to_payload("3.0")
    with pytest.raises(VersionError):
        rejected_composite_response("1.5")


# ------------------------------------------------------------------- explain


def test_explain_names_each_limit_and_what_set_it() -> None:
    text = HAND_MADE.explain()
    assert text == explain_table(HAND_MADE)
    lines = text.splitlines()
    assert "EVSE 2" in lines[0]
    assert "2024-01-01T00:00:00Z" in lines[0]
    assert "2024-01-01T01:00:00Z" in lines[0]
    assert "3600 s" in lines[0]
    rows = lines[3:]
    assert len(rows) == len(HAND_MADE.periods)
    expected = [
        ("2024-01-01T00:00:00Z", "16.0", ["profile 7 "]),
        ("2024-01-01T00:15:00Z", "10.5", ["profile 3 ", "profile -12 "]),
        ("2024-01-01T00:45:00Z", "48.0", ["default limit"]),
    ]
    for row, (when, limit, setters) in zip(rows, expected, strict=True):
        assert row.startswith(when), row
        assert f" {limit} " in row, row
        for setter in setters:
            assert setter in row, row
    assert "TxDefaultProfile" in rows[0]
    assert "ChargingStationMaxProfile" in rows[1]
    assert rows[1].index("profile 3 ") < rows[1].index("profile -12 ")  # time order


def test_explain_in_watts_and_station_sum() -> None:
    station = CompositeSchedule(
        evse_id=0,
        start_epoch=START,
        duration=0,
        charging_rate_unit=ChargingRateUnit.W,
        periods=(period(0, 11040.0, 3, LimitSource(kind="evse_sum")),),
    )
    text = station.explain()
    assert "EVSE 0" in text
    assert "limit W" in text
    assert "11040.0" in text
    assert "sum of the EVSEs' composites" in text

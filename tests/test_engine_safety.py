"""Engine safety: batch answers equal single answers, bounds hold before the work, typed errors.

Each test pins one class of defect of issue 11 (named in its docstring).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, example, given, note, settings
from strategies_engine import Case, station_21_cases

from ocpp_schedule import (
    ChargingProfile,
    ChargingProfilePurpose,
    InstalledProfile,
    ProfileStore,
    StationConfig,
    Transaction,
    composite_schedule,
    station_composites,
)
from ocpp_schedule.fleet import StationInput, recompute_station
from ocpp_schedule.payloads import read_set_charging_profile
from ocpp_schedule.rules import replay
from ocpp_schedule.store import StationState

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
P = ChargingProfilePurpose


def _single(profiles: object, case: Case, evse_id: int, config: object = None) -> object:
    return composite_schedule(
        profiles,  # type: ignore[arg-type]
        evse_id=evse_id,
        start=case.start,
        duration=case.duration,
        unit=case.unit,
        transaction=case.transaction,
        config=config or case.config,  # type: ignore[arg-type]
    )


# ------------------------------------------------------------------------------- F1

F1_START = 1_704_067_200  # 2024-01-01T00:00:00Z


def _f1_profile(pid: int, purpose: str, limit: float, **extra: Any) -> ChargingProfile:
    schedule: dict[str, Any] = {
        "id": 1,
        "chargingRateUnit": "W",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
    }
    if "start" in extra:
        schedule["startSchedule"] = extra.pop("start")
    return ChargingProfile.model_validate(
        {
            "id": pid,
            "stackLevel": extra.pop("stack", 0),
            "chargingProfilePurpose": purpose,
            "chargingProfileKind": extra.pop("kind", "Absolute"),
            "chargingSchedule": [schedule],
            **extra,
        }
    )


def _f1_case() -> Case:
    """The F1 reproduction: EVSE 2's merged LocalGeneration list is a temporary; the next new
    list (EVSE 4's TxProfile chain) got its address, and so its cover."""
    tx = Transaction("t4", 4, datetime.fromtimestamp(F1_START + 196, UTC))
    profiles = [
        InstalledProfile(0, _f1_profile(1, "LocalGeneration", 16533.0, start="2024-01-01T00:06:00Z")),
        InstalledProfile(
            2, _f1_profile(3, "LocalGeneration", 2402.0, start="2023-12-31T23:59:11Z", stack=2)
        ),
        InstalledProfile(3, _f1_profile(5, "LocalGeneration", 3220.0, kind="Relative", stack=2)),
        InstalledProfile(
            4,
            _f1_profile(7, "TxProfile", 18752.0, start="2024-01-01T00:09:34Z", transactionId="t4"),
        ),
    ]
    config = StationConfig(evse_ids=(1, 2, 3, 4, 5))
    return Case(profiles, 0, F1_START, 1800, "W", [tx], config, {4: tx})


@PROPERTY
@given(station_21_cases())
@example(_f1_case())
def test_station_composites_equal_each_single_composite(case: Case) -> None:
    """F1: ``station_composites(...)[e] == composite_schedule(evse_id=e)`` for every EVSE and
    EVSE 0, on 2.1 stations with LocalGeneration, external constraints, PriorityCharging and
    TxProfiles bound to transactions (the batch shares covers between EVSEs; a cover keyed
    on a short-lived object's ``id()`` gave one EVSE another's composite)."""
    batch = station_composites(
        case.profiles,
        start=case.start,
        duration=case.duration,
        unit=case.unit,
        transactions=tuple(case.transactions.values()),
        config=case.config,
    )
    for evse_id, schedule in batch.items():
        single = _single(case.profiles, case, evse_id)
        note(f"EVSE {evse_id}")
        assert schedule == single


def _payload(entry: object) -> dict[str, object]:
    profile = entry.profile.to_json_dict()  # type: ignore[attr-defined]
    for i, schedule in enumerate(profile["chargingSchedule"], 1):
        schedule.setdefault("id", i)
    if profile["chargingProfilePurpose"] == "ChargePointMaxProfile":
        profile["chargingProfilePurpose"] = "ChargingStationMaxProfile"
    return {"evseId": entry.evse_id, "chargingProfile": profile}  # type: ignore[attr-defined]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(station_21_cases())
@example(_f1_case())
def test_fleet_recompute_station_equals_each_single_composite(case: Case) -> None:
    """F1 through the fleet path: ``recompute_station`` replays a 2.1 station's payloads and
    answers every EVSE as ``composite_schedule`` does on the store the rules leave."""
    config = case.config.model_copy(
        update={
            "supported_additional_purposes": frozenset(
                {P.LOCAL_GENERATION, P.PRIORITY_CHARGING}
            )
        }
    )
    payloads = [_payload(e) for e in case.profiles]
    txs = tuple(case.transactions.values())
    result = recompute_station(
        StationInput("cs", payloads, "2.1", txs, config),
        start=case.start,
        duration=case.duration,
        unit=case.unit,
    )
    state = StationState(config, "2.1", txs)
    store = ProfileStore()
    requests = [read_set_charging_profile(p, "2.1") for p in payloads]
    for store, _result in replay(requests, state, local_purposes=True):  # noqa: B007
        pass
    for evse_id, answer in result.composites.items():
        single = _single(store, case, evse_id, config)
        assert answer == single.to_payload("2.1")  # type: ignore[attr-defined]

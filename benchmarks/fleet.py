"""The fleet workload: 1,000 EVSEs across 100 stations, recomputed station by station.

Every station holds a W ChargePointMaxProfile and a daily A TxDefaultProfile
on EVSE 0 (the station-level profiles its EVSEs share) and each of its ten
EVSEs runs a transaction with its own relative TxProfile, as in W1. A
recomputation asks for every EVSE's composite over the next 24 hours.

Sharding is by station: a station's composites need only that station's
profiles, so stations go to worker processes (one machine) or to Dask workers
(several machines, ``examples/fleet_dask.py``) with no shared state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ocpp_schedule import (
    CompositeSchedule,
    OcppVersion,
    ProfileStore,
    StationConfig,
    StationState,
    Transaction,
    read_set_charging_profile,
    replay,
    station_composites,
)

T0 = datetime(2024, 1, 1, tzinfo=UTC)
EVSES_PER_STATION = 10


def _iso(seconds: int) -> str:
    return (T0 + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def station_payloads(station: int) -> list[dict[str, Any]]:
    """The 1.6 SetChargingProfile payloads a station received, in order."""
    base = 11000 + 1000 * (station % 7)
    out: list[dict[str, Any]] = [
        {
            "connectorId": 0,
            "csChargingProfiles": {
                "chargingProfileId": 1,
                "stackLevel": 0,
                "chargingProfilePurpose": "ChargePointMaxProfile",
                "chargingProfileKind": "Absolute",
                "chargingSchedule": {
                    "startSchedule": _iso(0),
                    "chargingRateUnit": "W",
                    "chargingSchedulePeriod": [
                        {
                            "startPeriod": h * 3600,
                            "limit": float(base if h % 2 == 0 else base - 4000),
                        }
                        for h in range(24)
                    ],
                },
            },
        },
        {
            "connectorId": 0,
            "csChargingProfiles": {
                "chargingProfileId": 2,
                "stackLevel": 0,
                "chargingProfilePurpose": "TxDefaultProfile",
                "chargingProfileKind": "Recurring",
                "recurrencyKind": "Daily",
                "chargingSchedule": {
                    "startSchedule": _iso(0),
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [
                        {"startPeriod": 0, "limit": 32.0},
                        {"startPeriod": 21600, "limit": 16.0},
                        {"startPeriod": 43200, "limit": 24.0},
                        {"startPeriod": 64800, "limit": 10.0},
                    ],
                },
            },
        },
    ]
    for evse in range(1, EVSES_PER_STATION + 1):
        out.append(
            {
                "connectorId": evse,
                "csChargingProfiles": {
                    "chargingProfileId": 100 + evse,
                    "transactionId": 1000 * station + evse,
                    "stackLevel": 1,
                    "chargingProfilePurpose": "TxProfile",
                    "chargingProfileKind": "Relative",
                    "chargingSchedule": {
                        "chargingRateUnit": "A",
                        "chargingSchedulePeriod": [
                            {"startPeriod": i * 1800, "limit": float(6 + (2 * i + evse) % 20)}
                            for i in range(10)
                        ],
                    },
                },
            }
        )
    return out


@dataclass
class Station:
    """One station of the fleet: its installed profiles and active transactions."""

    number: int
    store: ProfileStore
    transactions: tuple[Transaction, ...]
    config: StationConfig


def station_transactions(station: int) -> tuple[Transaction, ...]:
    """The transactions running on a station's EVSEs."""
    return tuple(
        Transaction(str(1000 * station + e), e, T0 + timedelta(hours=6, minutes=7 * e + station))
        for e in range(1, EVSES_PER_STATION + 1)
    )


def build_station(station: int) -> Station:
    """Replay a station's payloads through the station-side rules."""
    txs = station_transactions(station)
    config = StationConfig.with_evses(EVSES_PER_STATION)
    state = StationState(config, OcppVersion.V16, txs)
    requests = [read_set_charging_profile(p, "1.6") for p in station_payloads(station)]
    store = ProfileStore()
    for store, result in replay(requests, state):  # noqa: B007
        if not result.accepted:
            raise RuntimeError(f"station {station}: {result}")
    return Station(station, store, txs, config)


def recompute(station: Station, *, include_station: bool = False) -> dict[int, CompositeSchedule]:
    """Every EVSE's composite for the next 24 hours (one pass over the station)."""
    return station_composites(
        station.store,
        start=T0,
        duration=86400,
        unit="A",
        transactions=station.transactions,
        config=station.config,
        include_station=include_station,
    )


def timed_shard(stations: list[int], rounds: int) -> tuple[int, float]:
    """Build a shard's stations, recompute once, then time ``rounds`` recomputations.

    Returns (EVSE composites computed, seconds).
    """
    import time

    built = [build_station(s) for s in stations]
    for station in built:  # warm up: compile and index once, as a running CSMS has
        recompute(station)
    count = 0
    begin = time.perf_counter()
    for _ in range(rounds):
        for station in built:
            count += len(recompute(station))
    return count, time.perf_counter() - begin


def memory_probe(traced: bool) -> float:
    """In a fresh process: build the whole fleet, recompute it, and report memory in MB.

    With ``traced``, the peak of Python allocations (tracemalloc); without, the
    process's max RSS, interpreter and libraries included (tracemalloc's own
    bookkeeping would inflate it, so the two are measured in separate processes).
    """
    import resource
    import tracemalloc

    if traced:
        tracemalloc.start()
    built = [build_station(s) for s in range(100)]
    for station in built:
        recompute(station)
    if traced:
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        return peak
    try:  # VmHWM: this process image's peak (ru_maxrss carries over exec from the parent)
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

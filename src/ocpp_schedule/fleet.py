"""Fleet recomputation, sharded by station.

A station's composite schedules depend on that station's profiles and
transactions only, so a fleet is recomputed station by station with no shared
state. :func:`recompute_station` takes plain, picklable inputs (the JSON
payloads the station received) and returns plain outputs (GetCompositeSchedule
payloads), so it can run in a worker process or on a Dask worker unchanged.
:func:`recompute_fleet` spreads stations over the processes of one machine;
``examples/fleet_dask.py`` spreads them over a Dask cluster.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .composite import station_composites
from .config import StationConfig
from .enums import ChargingRateUnit, OcppVersion
from .payloads import parse_version, read_set_charging_profile
from .rules import replay
from .store import ProfileStore, StationState, Transaction

__all__ = [
    "StationInput",
    "StationResult",
    "recompute_fleet",
    "recompute_station",
    "recompute_stations",
]


@dataclass(frozen=True)
class StationInput:
    """What one station holds: the SetChargingProfile payloads it accepted, in order."""

    station_id: str
    payloads: Sequence[dict[str, Any]]
    version: OcppVersion | str = OcppVersion.V16
    transactions: tuple[Transaction, ...] = ()
    config: StationConfig = field(default_factory=StationConfig)


@dataclass(frozen=True)
class StationResult:
    """A station's GetCompositeSchedule answers by EVSE (0: the station total)."""

    station_id: str
    composites: dict[int, dict[str, Any]]
    rejected: tuple[str, ...] = ()


def recompute_station(
    station: StationInput,
    *,
    start: datetime | int,
    duration: int,
    unit: ChargingRateUnit | str | None = None,
    include_station: bool = True,
) -> StationResult:
    """Replay a station's payloads and compute every EVSE's composite over the window.

    Requests the station-side rules reject are skipped and reported in
    ``rejected``; ChargingStationExternalConstraints and LocalGeneration
    entries are installed as the station's own.
    """
    version = parse_version(station.version)
    state = StationState(station.config, version, station.transactions)
    requests = [read_set_charging_profile(p, version) for p in station.payloads]
    store = ProfileStore()
    rejected = []
    for i, (store, result) in enumerate(replay(requests, state, local_purposes=True), 1):  # noqa: B007
        if not result.accepted:
            rejected.append(f"request {i}: {result}")
    schedules = station_composites(
        store,
        start=start,
        duration=duration,
        unit=unit,
        transactions=station.transactions,
        config=station.config,
        include_station=include_station,
    )
    return StationResult(
        station.station_id,
        {evse: schedule.to_payload(version) for evse, schedule in sorted(schedules.items())},
        tuple(rejected),
    )


def recompute_stations(
    stations: Sequence[StationInput],
    start: datetime | int,
    duration: int,
    unit: ChargingRateUnit | str | None = None,
) -> list[StationResult]:
    """Recompute a group of stations one after the other: the unit of work of a shard.

    Positional arguments only, so it maps directly over a process pool or a
    Dask cluster (``client.map(recompute_stations, groups, start=..., duration=...)``).
    """
    return [recompute_station(s, start=start, duration=duration, unit=unit) for s in stations]


def recompute_fleet(
    stations: Iterable[StationInput],
    *,
    start: datetime | int,
    duration: int,
    unit: ChargingRateUnit | str | None = None,
    processes: int | None = None,
    chunk: int = 10,
) -> list[StationResult]:
    """Recompute many stations over the processes of this machine, in input order.

    Stations are sent to ``processes`` worker processes (default: one per
    core) in chunks of ``chunk`` stations. ``processes=1`` computes in this
    process.
    """
    items = list(stations)
    unit_text = None if unit is None else ChargingRateUnit(unit).value
    if processes == 1 or len(items) <= chunk:
        return recompute_stations(items, start, duration, unit_text)
    batches = [items[i : i + chunk] for i in range(0, len(items), chunk)]
    with ProcessPoolExecutor(processes) as pool:
        results = pool.map(
            recompute_stations,
            batches,
            [start] * len(batches),
            [duration] * len(batches),
            [unit_text] * len(batches),
        )
        return [r for batch in results for r in batch]

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

from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime

from ..errors import QueryError
from ..station._config import StationConfig
from ..wire._enums import ChargingRateUnit
from ..wire._payloads import parse_version
from ._composite import station_payloads
from ._service import (
    FleetService,
    PassReport,
    Shard,
    ShardPass,
    StationInput,
    StationRemoval,
    StationResult,
    _replayed,
)

__all__ = [
    "FleetService",
    "PassReport",
    "Shard",
    "ShardPass",
    "StationRemoval",
    "StationInput",
    "StationResult",
    "recompute_fleet",
    "recompute_station",
    "recompute_stations",
]


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
    _station(station)
    version = parse_version(station.version)
    store, rejected = _replayed(station)
    composites = station_payloads(
        store,
        version,
        start=start,
        duration=duration,
        unit=unit,
        transactions=station.transactions,
        config=station.config,
        include_station=include_station,
    )
    return StationResult(station.station_id, composites, rejected)


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
    return [
        recompute_station(s, start=start, duration=duration, unit=unit) for s in _stations(stations)
    ]


def _station(station: object) -> StationInput:
    if not isinstance(station, StationInput):
        raise QueryError(f"expected a StationInput, got {type(station).__name__}", field="station")
    if isinstance(station.payloads, (str, bytes, Mapping)) or not isinstance(
        station.payloads, Iterable
    ):
        raise QueryError(
            "expected a sequence of SetChargingProfile payloads", field="station.payloads"
        )
    if not isinstance(station.config, StationConfig):
        raise QueryError("expected a StationConfig", field="station.config")
    return station


def _stations(stations: object) -> list[StationInput]:
    if isinstance(stations, (str, bytes, Mapping)) or not isinstance(stations, Iterable):
        raise QueryError("expected an iterable of StationInput", field="stations")
    return [_station(s) for s in stations]


def _positive(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise QueryError("expected an int >= 1", field=name)
    return value


def _unit_text(unit: object) -> str:
    if isinstance(unit, ChargingRateUnit):
        return unit.value
    if unit in ("A", "W"):
        return str(unit)
    raise QueryError(f"unit must be 'A' or 'W', got {unit!r}", field="unit")


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
    items = _stations(stations)
    if processes is not None:
        _positive(processes, "processes")
    _positive(chunk, "chunk")
    unit_text = None if unit is None else _unit_text(unit)
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

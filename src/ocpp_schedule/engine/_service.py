"""A fleet as a service: stations resident where they are computed, passes over what changed.

:func:`~ocpp_schedule.engine.fleet.recompute_fleet` is stateless: every call replays
every station's payloads and ships every result back. A CSMS running a fleet recomputes
often and changes little between passes. :class:`FleetService` keeps each station where
it is computed, replayed and compiled as it arrives and kept as plain compiled data only
(warm; about 15 KiB for a station of 10 EVSEs), and a pass
recomputes only the stations that changed since the last pass over the same window
(a change feed in, composites out). Results go to a sink the caller gives, one shard at
a time, so the client never holds more than a few shards' results, whatever the fleet's
size.

Stations are partitioned by a stable hash of their id into ``partitions`` shards
(:class:`Shard`, plain Python, picklable inputs and outputs). Two engines run the shards:

- ``backend="processes"``: worker processes of this machine, one
  :class:`~concurrent.futures.ProcessPoolExecutor` of one process per worker, so a shard
  always lives in the same process (its state stays warm there);
- ``backend="dask"``: a Dask cluster (``client=``, e.g. a ``distributed.LocalCluster``'s
  or a real cluster's), each shard a Dask actor pinned to one worker.

Both give the same results as :func:`~ocpp_schedule.engine.fleet.recompute_station`
station by station. The engine itself stays pure; only this service keeps state, and
only inside its own shards.
"""

from __future__ import annotations

import dataclasses
import importlib
import pickle
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, NamedTuple, Protocol

from ..errors import QueryError
from ..station._config import StationConfig
from ..station._rules import replay_final
from ..station._store import ProfileStore, StationState, Transaction
from ..wire._enums import ChargingRateUnit, OcppVersion
from ..wire._payloads import parse_version, read_set_charging_profile
from ..wire._timestamps import epoch_or_datetime
from ._collector import collector_paused as _collector_paused
from ._compile import CompiledProfile, compile_profile
from ._composite import station_payloads
from ._index import ProfileIndex, store_index

__all__ = [
    "MAX_PARTITIONS",
    "StationInput",
    "StationResult",
    "FleetService",
    "PassReport",
    "Shard",
    "ShardPass",
    "StationRemoval",
]

MAX_PARTITIONS = 100_000
"""At most this many shards (checked when the service is made)."""

Sink = Callable[[list[Any]], Any]
"""Called with one shard's :class:`~ocpp_schedule.engine.fleet.StationResult` list."""


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


@dataclass(frozen=True)
class StationRemoval:
    """A change that takes a station out of the fleet."""

    station_id: str


@dataclass(frozen=True)
class ShardPass:
    """What one shard did in a pass: which stations, how much, at what cost.

    ``results`` holds the shard's results when they were shipped to the client (no
    sink on the worker); ``sunk`` what a worker-side sink returned; ``bytes`` the
    pickled size of the results (what shipping them costs) when the pass measured it,
    else None; ``take_cpu_s`` the CPU time the shard spent since its last pass taking
    changes (replaying and compiling the stations that arrived).
    """

    shard: int
    stations: int
    evses: int
    cpu_s: float
    bytes: int | None
    results: list[Any] | None = None
    sunk: Any = None
    take_cpu_s: float = 0.0


@dataclass(frozen=True)
class PassReport:
    """One pass over the fleet: stations and EVSEs recomputed, bytes shipped, CPU time.

    ``cpu_s`` is the shards' CPU time (summed over workers); ``wall_s`` the pass's wall
    time as the client saw it; ``shipped_bytes`` the results' pickled size that went to
    the client (0 with a sink on the workers) and ``result_bytes`` all results' pickled
    size. Both are measured only when the pass was asked to (``measure_bytes``): measuring
    pickles every result once more; unmeasured, a size is None (``shipped_bytes`` is still
    0 when nothing was shipped). ``take_cpu_s`` is the workers' CPU time spent, since the
    previous pass, taking the changes this pass answers for (stations are replayed and
    compiled as they arrive, in :meth:`FleetService.update`): a cold pass costs
    ``take_cpu_s + cpu_s``.
    """

    stations: int
    evses: int
    cpu_s: float
    wall_s: float
    shipped_bytes: int | None
    result_bytes: int | None
    shards: int
    take_cpu_s: float = 0.0


@dataclass(slots=True, frozen=True)
class _Resident:
    """A station on its shard, as plain compiled data.

    A station is replayed and compiled when it arrives (:meth:`of`); what stays resident
    is ``index`` (the engine's compiled profiles, grouped), the station's transactions
    and configuration, and the rules' rejections. The payloads, the parsed pydantic
    requests and the installed-profile models are dropped: they were most of a station's
    memory (about 200 of 215 KiB for 10 EVSEs) and no pass needs them again (a changed
    station arrives as a new input).
    """

    version: OcppVersion
    transactions: tuple[Transaction, ...]
    config: StationConfig
    index: ProfileIndex
    profiles: tuple[CompiledProfile, ...]
    rejected: tuple[str, ...]

    @classmethod
    def of(cls, station: StationInput, config: StationConfig) -> _Resident:
        """Replay a station's payloads and compile its store; keep only the compiled form."""
        store, rejected = _replayed(station)
        profiles = tuple(map(compile_profile, store))  # not kept on the entries: they go
        return cls(
            parse_version(station.version),
            tuple(station.transactions),
            config,
            ProfileIndex(profiles),
            profiles,
            rejected,
        )

    def store(self) -> ProfileStore:
        """A store the engine reads through its compiled index only (no models inside).

        The store is empty and its cached index (what the engine reads) is the kept one;
        checked, so a change in how the engine caches its index fails here, not silently.
        """
        index = self.index
        store = ProfileStore()
        store.derived(_INDEX_KEY, lambda _: index)
        if store_index(store) is not index:
            raise RuntimeError("the engine no longer reads a store's index from its cache")
        return store

    def forget(self) -> None:
        """Drop the compiled profiles' caches (occurrences, phases): a pass rebuilds what it
        needs, and kept between passes they would cost as much as the station itself."""
        for cp in self.profiles:
            cp.forget()


_INDEX_KEY = "engine.index"
"""The key :func:`~ocpp_schedule.engine._index.store_index` caches a store's index under."""


@dataclass
class Shard:
    """One partition of a fleet, resident where it runs (a worker process or a Dask actor).

    Plain Python: :meth:`apply` takes changes, :meth:`recompute` returns results (or hands
    them to a sink on the spot). A station's compiled profiles are kept until the station
    changes, so a pass over a new window only computes composites (warm). Stations that
    share a configuration share one copy of it on the shard.
    """

    index: int = 0
    _stations: dict[str, _Resident] = field(default_factory=dict)
    _dirty: set[str] = field(default_factory=set)
    _window: tuple[int, int, str | None] | None = None
    _configs: dict[StationConfig, StationConfig] = field(default_factory=dict)
    _configs_bound: int = 64
    _taken_cpu_s: float = 0.0

    def apply(self, changes: Sequence[Any]) -> int:
        """Take station inputs (new or changed) and removals; return how many stations it holds.

        Each input is replayed and compiled here, as it arrives, so only its compiled form
        is ever resident. The batch is taken whole or not at all: every input is compiled
        before any is installed, so a payload that cannot be read raises with the shard
        unchanged. The CPU time spent is reported by the next pass (``take_cpu_s``).
        """
        begin = time.process_time()
        with _collector_paused():
            residents = [
                None
                if isinstance(change, StationRemoval)
                else _Resident.of(change, self._shared(change.config))
                for change in changes
            ]
        for change, resident in zip(changes, residents, strict=True):
            if resident is None:
                self._stations.pop(change.station_id, None)
                self._dirty.discard(change.station_id)
            else:
                self._stations[change.station_id] = resident
                self._dirty.add(change.station_id)
        self._taken_cpu_s += time.process_time() - begin
        return len(self._stations)

    def _shared(self, config: StationConfig) -> StationConfig:
        """The shard's copy of a configuration equal to ``config`` (stations share one).

        The copies no station uses any more are dropped whenever the table has doubled
        since it was last pruned, so it stays within twice the configurations in use.
        """
        if len(self._configs) >= self._configs_bound:
            self._configs = {r.config: r.config for r in self._stations.values()}
            self._configs_bound = max(64, 2 * len(self._configs))
        return self._configs.setdefault(config, config)

    def recompute(
        self,
        start: int,
        duration: int,
        unit: str | None,
        sink: Sink | None = None,
        everything: bool = False,
        measure: bool = False,
    ) -> ShardPass:
        """Recompute what changed since the last pass over this window (everything on a new
        window or with ``everything``), in station-id order; hand the results to ``sink``
        here when given, else return them. ``measure`` pickles the results to report their
        size (``bytes``, else None): a second serialisation, so it is opt-in."""
        begin = time.process_time()
        window = (start, duration, unit)
        ids = (
            sorted(self._stations) if everything or window != self._window else sorted(self._dirty)
        )
        with _collector_paused():
            results = [self._result(station_id, window) for station_id in ids]
        self._window = window
        self._dirty.clear()
        size = len(pickle.dumps(results, protocol=pickle.HIGHEST_PROTOCOL)) if measure else None
        evses = sum(max(0, len(r.composites) - (0 in r.composites)) for r in results)
        cpu = time.process_time() - begin
        taken, self._taken_cpu_s = self._taken_cpu_s, 0.0
        done = ShardPass(self.index, len(results), evses, cpu, size, take_cpu_s=taken)
        if sink is not None:
            return dataclasses.replace(done, sunk=sink(results))
        return dataclasses.replace(done, results=results)

    def _result(self, station_id: str, window: tuple[int, int, str | None]) -> StationResult:
        resident = self._stations[station_id]
        start, duration, unit = window
        try:
            composites = station_payloads(
                resident.store(),
                resident.version,
                start=start,
                duration=duration,
                unit=unit,
                transactions=resident.transactions,
                config=resident.config,
            )
        finally:
            resident.forget()
        return StationResult(station_id, composites, resident.rejected)

    def memory(self) -> int:
        """This process's peak resident memory in bytes (Linux: ru_maxrss is in KiB)."""
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _replayed(station: StationInput) -> tuple[ProfileStore, tuple[str, ...]]:
    """A station's store after its payloads, and the requests the rules rejected."""
    version = parse_version(station.version)
    state = StationState(station.config, version, station.transactions)
    requests = [read_set_charging_profile(p, version) for p in station.payloads]
    store, rejected = replay_final(requests, state, local_purposes=True)
    return store, tuple(f"request {i}: {result}" for i, result in rejected)


def partition_of(station_id: str, partitions: int) -> int:
    """The shard a station lives in: a stable hash (CRC-32) of its id, modulo the shards."""
    return zlib.crc32(station_id.encode("utf-8")) % partitions


# ------------------------------------------------------------------ the engines


class _Run(NamedTuple):
    """A pass's arguments to every shard (:meth:`Shard.recompute`'s, in its order)."""

    start: int
    duration: int
    unit: str | None
    sink: Sink | None
    everything: bool
    measure: bool


class _Engine(Protocol):
    def apply(self, shard: int, changes: list[Any]) -> Any: ...

    def recompute(self, shard: int, run: _Run) -> Any: ...

    def result(self, handle: Any) -> Any: ...

    def memory(self) -> list[int]: ...

    def close(self) -> None: ...


_REGISTRY: dict[tuple[str, int], Shard] = {}
"""Shards resident in a worker process of the ``processes`` engine, by (service, shard)."""


def _worker_shard(token: str, shard: int) -> Shard:
    return _REGISTRY.setdefault((token, shard), Shard(shard))


def _worker_apply(token: str, shard: int, changes: list[Any]) -> int:
    return _worker_shard(token, shard).apply(changes)


def _worker_recompute(token: str, shard: int, run: _Run) -> ShardPass:
    return _worker_shard(token, shard).recompute(*run)


def _worker_memory() -> int:
    return Shard().memory()


def _worker_drop(token: str) -> None:
    for key in [k for k in _REGISTRY if k[0] == token]:
        del _REGISTRY[key]


class _Processes:
    """Worker processes of this machine; shard k lives in process k mod workers."""

    def __init__(self, workers: int, partitions: int, token: str) -> None:
        self._pools = [ProcessPoolExecutor(1) for _ in range(workers)]
        self._token = token

    def _pool(self, shard: int) -> ProcessPoolExecutor:
        return self._pools[shard % len(self._pools)]

    def apply(self, shard: int, changes: list[Any]) -> Future[int]:
        return self._pool(shard).submit(_worker_apply, self._token, shard, changes)

    def recompute(self, shard: int, run: _Run) -> Future[ShardPass]:
        return self._pool(shard).submit(_worker_recompute, self._token, shard, run)

    def result(self, handle: Any) -> Any:
        return handle.result()

    def memory(self) -> list[int]:
        return [pool.submit(_worker_memory).result() for pool in self._pools]

    def close(self) -> None:
        for pool in self._pools:
            pool.submit(_worker_drop, self._token).result()
            pool.shutdown()


class _Dask:
    """A Dask cluster: each shard a Dask actor, pinned round-robin to the workers."""

    def __init__(self, client: Any, partitions: int) -> None:
        workers = sorted(client.scheduler_info()["workers"])
        if not workers:
            raise QueryError("the Dask cluster has no workers", field="client")
        futures = [
            client.submit(Shard, k, actor=True, workers=[workers[k % len(workers)]], pure=False)
            for k in range(partitions)
        ]
        self._actors = [f.result() for f in futures]
        self._futures = futures
        self._workers = workers
        self._client = client

    def apply(self, shard: int, changes: list[Any]) -> Any:
        return self._actors[shard].apply(changes)

    def recompute(self, shard: int, run: _Run) -> Any:
        return self._actors[shard].recompute(*run)

    def result(self, handle: Any) -> Any:
        return handle.result()

    def memory(self) -> list[int]:
        seen: dict[str, int] = {}
        for k, actor in enumerate(self._actors):
            worker = self._workers[k % len(self._workers)]
            if worker not in seen:
                seen[worker] = actor.memory().result()
        return list(seen.values())

    def close(self) -> None:
        for future in self._futures:
            future.release()
        self._actors = []


# ------------------------------------------------------------------ the service

_TOKENS = iter(range(1, 2**62))


class FleetService:
    """A fleet of stations resident on workers; passes recompute what changed.

    ``partitions`` shards hold the stations (a stable hash of the station id picks the
    shard); ``backend`` ``"processes"`` runs them in ``workers`` processes of this machine
    (default: one per core), ``"dask"`` as actors on the cluster of ``client``. Feed it
    changes with :meth:`update` (a :class:`~ocpp_schedule.engine.fleet.StationInput` adds
    or replaces a station, a :class:`StationRemoval` removes one); :meth:`run_pass`
    recomputes the stations that changed since the last pass over the same window (all of
    them on a new window) and streams each shard's results to ``sink``.

    Use it as a context manager, or call :meth:`close`.
    """

    def __init__(
        self,
        *,
        partitions: int,
        backend: Literal["processes", "dask"] = "processes",
        workers: int | None = None,
        client: Any = None,
        max_in_flight: int | None = None,
    ) -> None:
        if isinstance(partitions, bool) or not isinstance(partitions, int):
            raise QueryError("expected an int", field="partitions")
        if not 1 <= partitions <= MAX_PARTITIONS:
            raise QueryError(f"expected 1..{MAX_PARTITIONS} shards", field="partitions")
        self.partitions = partitions
        self._token = f"fleet-{next(_TOKENS)}"
        engine: _Engine
        if backend == "processes":
            import os

            count = workers if workers is not None else (os.cpu_count() or 1)
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                raise QueryError("expected an int >= 1", field="workers")
            engine = _Processes(count, partitions, self._token)
            self.workers = count
        elif backend == "dask":
            if client is None:
                importlib.import_module("distributed")  # a clear ImportError without the extra
                raise QueryError("backend 'dask' needs client=", field="client")
            engine = _Dask(client, partitions)
            self.workers = len(client.scheduler_info()["workers"])
        else:
            raise QueryError(f"unknown backend {backend!r}", field="backend")
        self._engine = engine
        self._in_flight = max_in_flight if max_in_flight is not None else 2 * self.workers
        if self._in_flight < 1:
            raise QueryError("expected an int >= 1", field="max_in_flight")

    def __enter__(self) -> FleetService:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the workers' shards (the stations leave the workers)."""
        self._engine.close()

    def update(self, changes: Iterable[Any]) -> int:
        """Route changes to their shards; returns how many changes were taken.

        The shards replay and compile each station input as it arrives (the next pass
        reports that CPU time as ``take_cpu_s``), so a payload that cannot be read raises
        here; the shard that raised took none of its batch.
        """
        by_shard: dict[int, list[Any]] = {}
        taken = 0
        for change in changes:
            if not isinstance(change, StationInput | StationRemoval):
                raise QueryError(
                    f"expected a StationInput or StationRemoval, got {type(change).__name__}",
                    field="changes",
                )
            by_shard.setdefault(partition_of(change.station_id, self.partitions), []).append(change)
            taken += 1
        handles = [self._engine.apply(k, batch) for k, batch in by_shard.items()]
        for handle in handles:
            self._engine.result(handle)
        return taken

    def run_pass(
        self,
        *,
        start: datetime | int,
        duration: int,
        unit: ChargingRateUnit | str | None = None,
        sink: Sink | None = None,
        sink_on_workers: bool = False,
        everything: bool = False,
        measure_bytes: bool = False,
    ) -> PassReport:
        """One pass: every shard recomputes what changed and its results go to ``sink``.

        ``sink`` is called on the client with each shard's results as they arrive (at most
        ``max_in_flight`` shards' results are held at once); with ``sink_on_workers`` it is
        shipped to the workers (it must be picklable) and called there, and only its
        return value comes back. Without a sink the results are dropped after counting
        (a dry run). ``everything`` recomputes every station, changed or not.
        ``measure_bytes`` reports the results' pickled size (each shard pickles its
        results once more to count them; off by default).
        """
        s = epoch_or_datetime(start, "start")
        if isinstance(duration, bool) or not isinstance(duration, int) or duration < 0:
            raise QueryError("expected seconds >= 0", field="duration")
        if not isinstance(measure_bytes, bool):
            raise QueryError("expected True or False", field="measure_bytes")
        unit_text = None if unit is None else ChargingRateUnit(unit).value
        remote = sink if sink_on_workers else None
        begin = time.perf_counter()
        stations = evses = shipped = size = 0
        cpu = taken = 0.0
        unmeasured = False
        passes = self._stream(_Run(s, duration, unit_text, remote, everything, measure_bytes))
        for shard_pass in passes:
            if shard_pass.results is not None and sink is not None and not sink_on_workers:
                sink(shard_pass.results)
            stations += shard_pass.stations
            evses += shard_pass.evses
            cpu += shard_pass.cpu_s
            taken += shard_pass.take_cpu_s
            if shard_pass.bytes is None:
                unmeasured = unmeasured or shard_pass.results is not None
            else:
                size += shard_pass.bytes
                shipped += shard_pass.bytes if shard_pass.results is not None else 0
        return PassReport(
            stations,
            evses,
            cpu,
            time.perf_counter() - begin,
            None if unmeasured else shipped,
            size if measure_bytes else None,
            self.partitions,
            taken,
        )

    def _stream(self, run: _Run) -> Iterator[ShardPass]:
        """Shard passes as they complete, at most ``max_in_flight`` outstanding."""
        pending: deque[Any] = deque()
        for k in range(self.partitions):
            handle = self._engine.recompute(k, run)
            pending.append(handle)
            if len(pending) >= self._in_flight:
                yield self._engine.result(pending.popleft())
        while pending:
            yield self._engine.result(pending.popleft())

    def memory(self) -> list[int]:
        """Each worker's peak resident memory, in bytes."""
        return self._engine.memory()

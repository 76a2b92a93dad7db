"""FleetService (issue 17, item 2): stations resident on workers, passes over what changed,
results streamed to a sink; the same answers as recompute_station, on processes and Dask."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ocpp_schedule import QueryError, StationConfig, Transaction
from ocpp_schedule.engine.fleet import (
    FleetService,
    StationInput,
    StationRemoval,
    StationResult,
    recompute_station,
)

T0 = datetime(2024, 1, 1, tzinfo=UTC)
EVSES = 3


def _iso(seconds: int) -> str:
    return (T0 + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def station(number: int, peak: float | None = None) -> StationInput:
    """A 1.6 station: a W station max and a TxProfile on each EVSE's transaction."""
    limit = peak if peak is not None else 11000.0 + 1000 * (number % 5)
    payloads: list[dict[str, Any]] = [
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
                        {"startPeriod": 0, "limit": limit},
                        {"startPeriod": 3600, "limit": limit / 2},
                    ],
                },
            },
        }
    ]
    txs = []
    for evse in range(1, EVSES + 1):
        tx = 100 * number + evse
        txs.append(Transaction(str(tx), evse, T0 + timedelta(minutes=10 * evse)))
        payloads.append(
            {
                "connectorId": evse,
                "csChargingProfiles": {
                    "chargingProfileId": 10 + evse,
                    "transactionId": tx,
                    "stackLevel": 1,
                    "chargingProfilePurpose": "TxProfile",
                    "chargingProfileKind": "Relative",
                    "chargingSchedule": {
                        "chargingRateUnit": "A",
                        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 8.0 + evse}],
                    },
                },
            }
        )
    return StationInput(
        f"CP{number:03d}", payloads, "1.6", tuple(txs), StationConfig.with_evses(EVSES)
    )


def fresh(stations: list[StationInput], start: datetime = T0) -> dict[str, StationResult]:
    return {s.station_id: recompute_station(s, start=start, duration=7200) for s in stations}


class Collect:
    """A client-side sink: keeps every result, and the largest batch it was handed."""

    def __init__(self) -> None:
        self.results: dict[str, StationResult] = {}
        self.batches = 0

    def __call__(self, results: list[StationResult]) -> None:
        self.batches += 1
        for r in results:
            self.results[r.station_id] = r


def count_on_worker(results: list[StationResult]) -> int:
    """A worker-side sink (picklable): only its answer travels back."""
    return len(results)


def exercise(service: FleetService) -> None:
    stations = [station(n) for n in range(24)]
    assert service.update(stations) == 24
    sink = Collect()
    first = service.run_pass(start=T0, duration=7200, sink=sink)
    assert first.stations == 24 and first.evses == 24 * EVSES
    assert sink.results == fresh(stations)
    assert sink.batches == service.partitions
    # nothing changed: nothing recomputed
    assert service.run_pass(start=T0, duration=7200, sink=Collect()).stations == 0
    # three stations change, one leaves: only the three are recomputed, exactly
    changed = [station(n, peak=5000.0 + n) for n in (2, 7, 11)]
    service.update([*changed, StationRemoval("CP005")])
    sink = Collect()
    report = service.run_pass(start=T0, duration=7200, sink=sink)
    assert report.stations == 3
    assert sink.results == fresh(changed)
    # a new window: every station still there, warm, recomputed; the removed one is gone
    later = T0 + timedelta(hours=1)
    sink = Collect()
    report = service.run_pass(start=later, duration=7200, sink=sink)
    now = [
        changed[[2, 7, 11].index(n)] if n in (2, 7, 11) else station(n) for n in range(24) if n != 5
    ]
    assert report.stations == 23
    assert sink.results == fresh(now, later)
    # a sink on the workers: nothing but its answer is shipped
    report = service.run_pass(
        start=T0, duration=60, sink=count_on_worker, sink_on_workers=True, measure_bytes=True
    )
    assert report.stations == 23 and report.shipped_bytes == 0 and report.result_bytes > 0
    assert all(m > 0 for m in service.memory())


def test_processes_backend() -> None:
    with FleetService(partitions=5, workers=2) as service:
        exercise(service)


def test_dask_backend_on_a_local_cluster() -> None:
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
        FleetService(partitions=4, backend="dask", client=client) as service,
    ):
        exercise(service)


def test_bad_input_is_a_query_error() -> None:
    for kwargs, field in (
        ({"partitions": 0}, "partitions"),
        ({"partitions": True}, "partitions"),
        ({"partitions": 2, "backend": "threads"}, "backend"),
        ({"partitions": 2, "workers": 0}, "workers"),
        ({"partitions": 2, "backend": "dask"}, "client"),
    ):
        with pytest.raises(QueryError) as info:
            FleetService(**kwargs)
        assert info.value.field == field
    with FleetService(partitions=2, workers=1) as service:
        with pytest.raises(QueryError) as info:
            service.update([dataclasses.asdict(station(1))])
        assert info.value.field == "changes"
        with pytest.raises(QueryError):
            service.run_pass(start=T0, duration=-1)


def _reachable(root: object) -> list[object]:
    """Every object reachable from ``root`` (classes and modules not followed)."""
    import gc
    import types

    seen: dict[int, object] = {}
    stack = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, type | types.ModuleType | types.FunctionType):
            continue
        seen[id(obj)] = obj
        stack.extend(gc.get_referents(obj))
    return list(seen.values())


def test_a_station_keeps_only_plain_compiled_data() -> None:
    """Issue 17: what stays resident is the compiled form, not payloads or pydantic models,
    and no per-profile cache outlives the pass (counted on the shard's object graph)."""
    from pydantic import BaseModel

    from ocpp_schedule.engine._compile import CompiledProfile
    from ocpp_schedule.engine._service import Shard

    stations = [station(n) for n in range(6)]
    shard = Shard(0)
    shard.apply(stations)
    for when in ("taken", "computed", "warm"):
        if when == "computed":
            sink = Collect()
            first = shard.recompute(int(T0.timestamp()), 7200, None, sink)
            assert sink.results == fresh(stations)
            assert first.take_cpu_s > 0  # the compile on arrival is reported by the pass
        if when == "warm":  # a new window: still equal to a fresh computation
            later = T0 + timedelta(minutes=30)
            sink = Collect()
            again = shard.recompute(int(later.timestamp()), 7200, None, sink)
            assert sink.results == fresh(stations, later)
            assert again.take_cpu_s == 0
        objects = _reachable(shard)
        models = {type(o).__name__ for o in objects if isinstance(o, BaseModel)}
        assert models == {"StationConfig"}, when  # no profile models
        assert sum(isinstance(o, StationConfig) for o in objects) == 1  # one shared copy
        assert not any(isinstance(o, StationInput) for o in objects)  # the payloads are gone
        compiled = [o for o in objects if isinstance(o, CompiledProfile)]
        assert len(compiled) == 6 * (1 + EVSES)
        assert all(not cp._occurrences and not cp._phases_with for cp in compiled)


def test_a_batch_is_taken_whole_or_not_at_all() -> None:
    from ocpp_schedule import PayloadError
    from ocpp_schedule.engine._service import Shard

    shard = Shard(0)
    assert shard.apply([station(1)]) == 1
    broken = dataclasses.replace(station(3), payloads=[{"connectorId": 1}])
    with pytest.raises(PayloadError):
        shard.apply([station(2), broken, StationRemoval("CP001")])
    sink = Collect()
    shard.recompute(int(T0.timestamp()), 7200, None, sink)
    assert set(sink.results) == {"CP001"}


def test_result_bytes_are_measured_only_when_asked() -> None:
    with FleetService(partitions=2, workers=1) as service:
        service.update([station(n) for n in range(4)])
        plain = service.run_pass(start=T0, duration=3600, sink=Collect())
        assert plain.stations == 4 and plain.shipped_bytes is None and plain.result_bytes is None
        measured = service.run_pass(start=T0, duration=3600, sink=Collect(), everything=True)
        assert measured.result_bytes is None
        measured = service.run_pass(
            start=T0, duration=3600, sink=Collect(), everything=True, measure_bytes=True
        )
        assert measured.stations == 4
        assert measured.shipped_bytes == measured.result_bytes
        assert measured.result_bytes is not None and measured.result_bytes > 0
        on_workers = service.run_pass(
            start=T0, duration=3600, sink=count_on_worker, sink_on_workers=True, everything=True
        )
        assert on_workers.shipped_bytes == 0 and on_workers.result_bytes is None
        with pytest.raises(QueryError) as info:
            service.run_pass(start=T0, duration=60, measure_bytes=1)  # type: ignore[arg-type]
        assert info.value.field == "measure_bytes"


def test_the_shared_configurations_stay_bounded() -> None:
    """Stations with equal configurations share one copy; copies no station uses are dropped
    (the table stays within twice the configurations in use, at least 64)."""
    from ocpp_schedule.engine._service import Shard

    shard = Shard(0)
    for round_ in range(5):
        batch = [
            dataclasses.replace(
                station(n),
                station_id=f"R{n}",
                config=StationConfig(
                    evse_ids=(1, 2, 3), charge_profile_max_stack_level=100 + 60 * round_ + n
                ),
            )
            for n in range(60)
        ]
        shard.apply(batch)
        in_use = {s.config for s in shard._stations.values()}
        assert len(in_use) == 60
        assert len(shard._configs) <= max(64, 2 * len(in_use)) + 60
    shard.apply([dataclasses.replace(station(n), station_id=f"S{n}") for n in range(30)])
    assert len({id(r.config) for k, r in shard._stations.items() if k.startswith("S")}) == 1


def test_the_collector_is_paused_only_while_a_shard_works() -> None:
    """A shard pauses the cyclic collector for its work and restores the caller's setting,
    also when the work raises."""
    import gc

    from ocpp_schedule.engine._service import Shard, _collector_paused

    seen: list[bool] = []

    class Watch(list[Any]):
        """Payloads that record whether the collector runs while they are read."""

        def __iter__(self) -> Any:
            seen.append(gc.isenabled())
            return super().__iter__()

    assert gc.isenabled()
    shard = Shard(0)
    shard.apply([dataclasses.replace(station(1), payloads=Watch(station(1).payloads))])
    assert seen == [False] and gc.isenabled()
    with pytest.raises(ZeroDivisionError), _collector_paused():
        1 / 0  # noqa: B018
    assert gc.isenabled()
    gc.disable()
    try:
        with _collector_paused():
            pass
        assert not gc.isenabled()  # the caller had paused it: left paused
    finally:
        gc.enable()

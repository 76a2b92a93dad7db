"""Fleet recomputation sharded by station: processes here, Dask when the extra is installed."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from ocpp_schedule import composite_schedule, read_set_charging_profile, replay
from ocpp_schedule.engine.fleet import StationInput, recompute_fleet, recompute_station
from ocpp_schedule.station import ProfileStore, StationState
from ocpp_schedule.wire import parse_version

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "fleet_dask.py"


def _example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fleet_dask_example", EXAMPLE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _expected(station: StationInput, evse: int) -> dict:
    """The same EVSE's answer computed directly with composite_schedule."""
    version = parse_version(station.version)
    state = StationState(station.config, version, station.transactions)
    store = ProfileStore()
    for store, _ in replay([read_set_charging_profile(p) for p in station.payloads], state):  # noqa: B007
        pass
    ex = _example()
    return composite_schedule(
        store,
        evse_id=evse,
        start=ex.T0,
        duration=86400,
        transaction=station.transactions,
        config=station.config,
    ).to_payload(version)


def test_recompute_station_equals_composite_schedule() -> None:
    ex = _example()
    station = ex.example_station(3)
    result = recompute_station(station, start=ex.T0, duration=86400)
    assert result.station_id == "CP00003"
    assert result.rejected == ()
    assert sorted(result.composites) == list(range(0, 11))
    for evse in (0, 1, 7):
        assert result.composites[evse] == _expected(station, evse)


def test_recompute_station_reports_rejected_requests() -> None:
    ex = _example()
    station = ex.example_station(1)
    bad = dict(station.payloads[0], connectorId=2)  # a station max on a connector
    broken = StationInput(
        "X", [*station.payloads, bad], "1.6", station.transactions, station.config
    )
    result = recompute_station(broken, start=ex.T0, duration=3600)
    assert len(result.rejected) == 1
    assert "MaxProfileNotOnStation" in result.rejected[0]


def test_recompute_fleet_in_processes_matches_one_process() -> None:
    ex = _example()
    stations = [ex.example_station(n) for n in range(24)]
    parallel = recompute_fleet(stations, start=ex.T0, duration=86400, processes=2, chunk=5)
    serial = recompute_fleet(stations, start=ex.T0, duration=86400, processes=1)
    assert [r.station_id for r in parallel] == [s.station_id for s in stations]
    assert parallel == serial


def test_dask_local_cluster_matches_processes() -> None:
    pytest.importorskip("distributed")
    from dask.distributed import Client, LocalCluster

    ex = _example()
    stations = [ex.example_station(n) for n in range(12)]
    expected = recompute_fleet(stations, start=ex.T0, duration=86400, processes=1)
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        got = ex.run(client, stations, group=5)
    assert got == expected

"""The fleet as a service (issue 17): a cold pass and a warm pass with 1 % of stations changed.

    python -m pip install -e '.[dask]'
    python benchmarks/fleet_service.py                       # 100,000 EVSEs, LocalCluster of 2
    python benchmarks/fleet_service.py --evses 1000000       # the issue's million
    python benchmarks/fleet_service.py --backend processes   # worker processes, no Dask

Stations of 10 EVSEs (``benchmarks/fleet.py``'s: a W station max of 24 hourly periods, a
daily TxDefault, a relative TxProfile per EVSE's transaction) are fed to a
:class:`~ocpp_schedule.engine.fleet.FleetService` in batches (the client never holds the
whole fleet), partitioned over ``--partitions`` shards on 2 workers. The workers replay and
compile each station as it arrives (the feed); the cold pass computes every EVSE's
composite over a day; the warm pass changes 1 % of the stations (a new station max, fed
the same way) and recomputes only those. A pass's cost is the workers' CPU to take its
changes plus to compute it. The sink counts the results on the workers (only counts come
back); ``--sink client`` streams every shard's results to the client instead, which
counts and drops them.

Printed: stations and EVSEs, wall and CPU time of each pass and of the feed, throughput,
bytes shipped (the change feed's pickled size; the results' pickled size, measured on the
warm pass only unless ``--measure-bytes``: measuring pickles every result once more), the
peak resident memory of the client and of each worker, and the machine's load.
``--worker-memory`` caps each Dask worker (its nanny restarts a worker past the cap).
"""

from __future__ import annotations

import argparse
import os
import pickle
import resource
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fleet import EVSES_PER_STATION, T0, station_payloads, station_transactions

from ocpp_schedule import StationConfig
from ocpp_schedule.engine.fleet import FleetService, StationInput

CONFIG = StationConfig.with_evses(EVSES_PER_STATION)


def make_station(number: int, variant: int = 0) -> StationInput:
    """Station ``number``; ``variant`` > 0 lowers its station max by a tenth (a change)."""
    payloads = station_payloads(number)
    if variant:
        periods = payloads[0]["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"]
        for period in periods:
            period["limit"] = round(period["limit"] * 0.9, 1)
    return StationInput(
        f"CP{number:07d}", payloads, "1.6", tuple(station_transactions(number)), CONFIG
    )


def batches(
    numbers: range | list[int], size: int, variant: int = 0
) -> Iterator[list[StationInput]]:
    batch: list[StationInput] = []
    for n in numbers:
        batch.append(make_station(n, variant))
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def count(results: list[Any]) -> int:
    """The workers' sink: only the number of results travels back."""
    return len(results)


def feed(service: FleetService, stations: Iterator[list[StationInput]]) -> tuple[float, float, int]:
    """Send the change feed; (wall s, client CPU s, pickled bytes sent)."""
    begin, cpu, sent = time.perf_counter(), time.process_time(), 0
    for batch in stations:
        sent += len(pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL))
        service.update(batch)
    return time.perf_counter() - begin, time.process_time() - cpu, sent


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evses", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--partitions", type=int, default=0, help="default: one per 500 stations")
    parser.add_argument("--backend", choices=["dask", "processes"], default="dask")
    parser.add_argument("--sink", choices=["workers", "client"], default="workers")
    parser.add_argument(
        "--changed", type=float, default=0.01, help="share changed in the warm pass"
    )
    parser.add_argument("--batch", type=int, default=2000, help="stations per feed batch")
    parser.add_argument("--worker-memory", default="3GiB", help="Dask worker memory limit")
    parser.add_argument(
        "--measure-bytes", action="store_true", help="also measure the cold pass's result bytes"
    )
    args = parser.parse_args()
    stations = max(1, args.evses // EVSES_PER_STATION)
    partitions = args.partitions or max(args.workers, stations // 500)
    print(
        f"fleet service: {stations:,} stations, {stations * EVSES_PER_STATION:,} EVSEs, "
        f"{partitions} shards on {args.workers} workers ({args.backend}), sink on {args.sink}"
    )
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    cluster = client = None
    if args.backend == "dask":
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise SystemExit("needs Dask: python -m pip install -e '.[dask]'") from None
        cluster = LocalCluster(
            n_workers=args.workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            memory_limit=args.worker_memory,
        )
        client = Client(cluster)
        service = FleetService(partitions=partitions, backend="dask", client=client)
    else:
        service = FleetService(partitions=partitions, workers=args.workers)
    on_workers = args.sink == "workers"
    seen = [0]

    def client_sink(results: list[Any]) -> None:
        seen[0] += len(results)

    sink = count if on_workers else client_sink
    try:
        wall, cpu, sent = feed(service, batches(range(stations), args.batch))
        print(f"feed (cold): {wall:.1f} s wall, {cpu:.1f} s client CPU, {sent / 1e6:.1f} MB sent")
        cold = service.run_pass(
            start=T0,
            duration=86400,
            sink=sink,
            sink_on_workers=on_workers,
            measure_bytes=args.measure_bytes,
        )
        report("cold pass (every EVSE)", cold)
        step = max(1, round(1 / args.changed)) if args.changed > 0 else stations + 1
        changed = list(range(0, stations, step))
        wall, cpu, sent = feed(service, batches(changed, args.batch, variant=1))
        print(
            f"feed (warm, {len(changed):,} stations changed): {wall:.2f} s wall, "
            f"{sent / 1e6:.2f} MB sent"
        )
        warm = service.run_pass(
            start=T0, duration=86400, sink=sink, sink_on_workers=on_workers, measure_bytes=True
        )
        report(f"warm pass ({len(changed):,} changed)", warm)
        workers = service.memory()
        print(
            f"peak memory: client {rss_mb():.0f} MB; workers "
            + ", ".join(f"{m / 2**20:.0f} MB" for m in workers)
        )
        target = warm.wall_s <= 10 and rss_mb() <= 500
        print(f"load average after: {os.getloadavg()[0]:.2f}")
        print(
            f"[{'ok' if target else 'MISS'}] warm pass <= 10 s and client <= 500 MB "
            f"(issue 17, at 1,000,000 EVSEs; this run: {stations * EVSES_PER_STATION:,})"
        )
    finally:
        service.close()
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    return 0


def report(label: str, p: Any) -> None:
    cpu = p.take_cpu_s + p.cpu_s
    print(
        f"{label}: {p.stations:,} stations, {p.evses:,} EVSEs in {p.wall_s:.2f} s wall; "
        f"worker CPU {p.take_cpu_s:.1f} s taking the changes (replay, compile) + "
        f"{p.cpu_s:.1f} s computing = {cpu:.1f} s; {p.evses / max(p.wall_s, 1e-9):,.0f} "
        f"EVSEs/s wall (pass only), {p.evses / max(cpu, 1e-9):,.0f} EVSEs per CPU-s "
        f"({p.evses / max(p.cpu_s, 1e-9):,.0f} computing only); "
        f"shipped {_mb(p.shipped_bytes)} of {_mb(p.result_bytes)} of results"
    )


def _mb(size: int | None) -> str:
    return "(not measured)" if size is None else f"{size / 1e6:.2f} MB"


if __name__ == "__main__":
    sys.exit(main())

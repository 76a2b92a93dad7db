"""Recompute a fleet's composite schedules on a Dask cluster, sharded by station.

    python -m pip install -e '.[dask]'
    python examples/fleet_dask.py                      # a LocalCluster on this machine
    python examples/fleet_dask.py --scheduler tcp://scheduler:8786 --stations 5000

Each task gets the plain JSON a group of stations received and returns their
GetCompositeSchedule payloads: nothing is shared between stations, so the work
spreads over as many machines as the cluster has. The same function runs in
worker processes on one machine (``ocpp_schedule.engine.fleet.recompute_fleet``).
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from ocpp_schedule import StationConfig, Transaction
from ocpp_schedule.engine.fleet import StationInput, StationResult, recompute_stations

T0 = datetime(2024, 1, 1, tzinfo=UTC)
EVSES = 10


def _iso(seconds: int) -> str:
    return (T0 + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def example_station(number: int) -> StationInput:
    """A station with a W station max, a daily TxDefault and one TxProfile per EVSE (1.6)."""
    peak = 11000.0 + 1000 * (number % 7)
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
                        {"startPeriod": 0, "limit": peak},
                        {"startPeriod": 61200, "limit": peak / 2},
                        {"startPeriod": 75600, "limit": peak},
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
                        {"startPeriod": 25200, "limit": 16.0},
                    ],
                },
            },
        },
    ]
    transactions = []
    for evse in range(1, EVSES + 1):
        tx_id = 1000 * number + evse
        transactions.append(Transaction(str(tx_id), evse, T0 + timedelta(minutes=30 * evse)))
        payloads.append(
            {
                "connectorId": evse,
                "csChargingProfiles": {
                    "chargingProfileId": 100 + evse,
                    "transactionId": tx_id,
                    "stackLevel": 1,
                    "chargingProfilePurpose": "TxProfile",
                    "chargingProfileKind": "Relative",
                    "chargingSchedule": {
                        "chargingRateUnit": "A",
                        "chargingSchedulePeriod": [
                            {"startPeriod": 0, "limit": 10.0},
                            {"startPeriod": 3600, "limit": 20.0},
                        ],
                    },
                },
            }
        )
    return StationInput(
        f"CP{number:05d}", payloads, "1.6", tuple(transactions), StationConfig.with_evses(EVSES)
    )


def run(client: Any, stations: list[StationInput], group: int = 20) -> list[StationResult]:
    """Map station groups over the cluster and gather the results in input order.

    The task function is the library's own ``recompute_stations``, importable on
    every worker that has ocpp-schedule installed.
    """
    groups = [stations[i : i + group] for i in range(0, len(stations), group)]
    futures = client.map(recompute_stations, groups, start=T0, duration=86400, pure=False)
    return [result for batch in client.gather(futures) for result in batch]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scheduler", help="address of a running Dask scheduler")
    parser.add_argument("--stations", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2, help="LocalCluster workers")
    args = parser.parse_args()
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise SystemExit("this example needs Dask: python -m pip install -e '.[dask]'") from None
    stations = [example_station(n) for n in range(args.stations)]
    if args.scheduler:
        client = Client(args.scheduler)
        cluster = None
    else:
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True)
        client = Client(cluster)
    try:
        begin = time.perf_counter()
        results = run(client, stations)
        elapsed = time.perf_counter() - begin
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    evses = sum(len(r.composites) - 1 for r in results)
    print(
        f"{len(results)} stations, {evses} EVSEs recomputed in {elapsed:.2f} s "
        f"({evses / elapsed:,.0f} EVSEs/s, including scheduling and transfer)"
    )
    first = results[0]
    print(
        f"{first.station_id} EVSE 1:",
        first.composites[1]["chargingSchedule"]["chargingSchedulePeriod"],
    )


if __name__ == "__main__":
    main()

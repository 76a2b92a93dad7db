"""Balancing benchmark: a site of 1,000 EVSEs over a day.

    python benchmarks/balance.py [--evses 1000] [--resolution 900|exact]

A grid connection feeds 4 cabinets of 10 feeders; each feeder has 25 piles of
one 22 kW EVSE (phase rotations cycling), every pile holds a daily
TxDefaultProfile with an evening peak, and each EVSE sees one or two vehicles
(a quarter of them on one phase) through a winter day. Prints the time to
balance (median of 3 runs, wall and CPU time; the first run is cold), the slots,
and a check that no circuit is ever over its limit. The target (issue 16) is 0.3 s
of CPU per 1,000 EVSEs; it is not judged when the load exceeds the cores.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import timedelta

from ocpp_schedule.site import (
    DEMO_DAY,
    Circuit,
    Evse,
    LimitStep,
    Pile,
    Session,
    Site,
    balance,
    evening_peak_tx_default,
)

DAY = DEMO_DAY
ROTATIONS = ("L1L2L3", "L2L3L1", "L3L1L2")

TX_DEFAULT = evening_peak_tx_default()


def large_site(evses: int, seed: int = 7) -> Site:
    """A site with ``evses`` EVSEs (a multiple of 25), deterministic for a seed."""
    rnd = random.Random(seed)
    feeders_needed = max(1, evses // 25)
    cabinets = []
    piles = []
    number = 0
    for c in range(max(1, feeders_needed // 10)):
        feeders = []
        for f in range(min(10, feeders_needed - c * 10)):
            fid = f"C{c}F{f}"
            feeders.append(Circuit(id=fid, amps=250.0))
            for _ in range(25):
                number += 1
                sessions = []
                t = rnd.randrange(5 * 60, 10 * 60, 5)
                for _ in range(rnd.choice((1, 1, 2))):
                    stay = rnd.randrange(60, 9 * 60, 15)
                    leave = min(t + stay, 24 * 60 - 1)
                    if leave <= t:
                        break
                    sessions.append(
                        Session(
                            arrive=DAY + timedelta(minutes=t),
                            leave=DAY + timedelta(minutes=leave),
                            phases=rnd.choice((3, 3, 3, 1)),
                            max_amps=rnd.choice((None, None, 16.0, 24.0)),
                        )
                    )
                    t = leave + rnd.randrange(30, 180, 15)
                    if t >= 24 * 60 - 60:
                        break
                piles.append(
                    Pile(
                        id=f"P{number:04d}",
                        circuit=fid,
                        phase_rotation=ROTATIONS[number % 3],  # type: ignore[arg-type]
                        evses=(Evse(id=1, sessions=tuple(sessions)),),
                        requests=(TX_DEFAULT,),
                    )
                )
        cabinets.append(
            Circuit(
                id=f"C{c}",
                amps=1600.0,
                watts=1_000_000.0,
                steps=(
                    LimitStep(start="17:00", amps=1200.0, watts=700_000.0),
                    LimitStep(start="21:00", amps=1600.0, watts=1_000_000.0),
                ),
                children=tuple(feeders),
            )
        )
    grid = Circuit(id="grid", amps=5000.0, children=tuple(cabinets))
    return Site(name=f"{evses} EVSEs", time_zone="Europe/Berlin", grid=grid, piles=tuple(piles))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evses", type=int, default=1000)
    parser.add_argument("--resolution", default="900")
    args = parser.parse_args()
    resolution = None if args.resolution == "exact" else int(args.resolution)
    site = large_site(args.evses)
    times = []
    cpu = []
    allocation = None
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    for _ in range(3):
        begin, begin_cpu = time.perf_counter(), time.process_time()
        allocation = balance(site, start=DAY, duration=86400, resolution=resolution)
        times.append(time.perf_counter() - begin)
        cpu.append(time.process_time() - begin_cpu)
    assert allocation is not None
    sessions = site.sessions_between(DAY, DAY + timedelta(days=1))
    print(
        f"balanced {site.evse_count()} EVSEs ({sessions} sessions, {len(site.paths())} circuits) "
        f"over a day in {len(allocation.slots())} slots: median {statistics.median(times):.3f} s "
        f"(runs: {', '.join(f'{t:.3f}' for t in times)}); CPU median "
        f"{statistics.median(cpu):.3f} s (runs: {', '.join(f'{t:.3f}' for t in cpu)})"
    )
    over = allocation.overloads()
    print("no circuit is ever over its limit" if not over else f"{len(over)} OVERLOADS")
    target = 0.3 * max(1.0, args.evses / 1000)
    met = statistics.median(cpu) <= target
    if os.getloadavg()[0] > (os.cpu_count() or 1):
        print(f"[not judged] the load exceeds the cores; target {target:.1f} s of CPU")
    else:
        print(f"[{'ok' if met else 'MISSED'}] balancing over a day in <= {target:.1f} s of CPU")
    return 0 if not over else 1


if __name__ == "__main__":
    sys.exit(main())

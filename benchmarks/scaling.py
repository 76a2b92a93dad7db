"""Growth exponents of every path that takes a size (issue 17): python benchmarks/scaling.py.

    python benchmarks/scaling.py [--quick] [--only NAME ...]

For each path, CPU time (``time.process_time``, the best of ``--repeats`` runs) at sizes
spanning two orders of magnitude, and the least-squares slope of log(time) against
log(size): 1.0 is linear, the issue's target is at most 1.15.

* ``composite``: an EVSE's composite under N stacked, covered TxDefault profiles (W3-like);
* ``replay``: N SetChargingProfile requests through the station-side rules (distinct ids,
  stack levels and EVSEs, as a busy station receives them);
* ``evse0``: the EVSE-0 total of a station with E EVSEs, each with its own daily profile;
* ``balance``: ``balance`` of a site with E EVSEs over a day, undersubscribed (the supply
  covers everyone) and oversubscribed 3x (``balance-3x``: a third of the demand fits);
* ``balance-fixed``: ``benchmarks/balance.py``'s site with its grid fixed at 5,000 A, so
  that the larger sites are ever more oversubscribed and rule B4 pauses most sessions
  (helper PAUSE17: one at a time this grew as E^2);
* ``send_plan``: the send plan of such a balanced site at 17:00.

The machine's load is printed: exponents measured on a loaded machine are noisy.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from balance import large_site
from workloads import w3

from ocpp_schedule import (
    ChargingProfile,
    InstalledProfile,
    OcppVersion,
    ProfileStore,
    SetChargingProfileRequest,
    StationConfig,
    StationState,
    composite_schedule,
    replay,
)
from ocpp_schedule.site import DEMO_DAY, Circuit, Site, balance, send_plan

START = datetime(2024, 1, 1, tzinfo=UTC)


def cpu(call: Callable[[], Any], repeats: int) -> float:
    """The best CPU time of ``repeats`` calls, in seconds."""
    best = math.inf
    for _ in range(repeats):
        begin = time.process_time()
        call()
        best = min(best, time.process_time() - begin)
    return max(best, 1e-6)


def exponent(points: list[tuple[int, float]]) -> float:
    xs = [math.log(n) for n, _ in points]
    ys = [math.log(t) for _, t in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )


# ------------------------------------------------------------------ the paths


def composite_case(n: int) -> Callable[[], Any]:
    w = w3(n, 100)
    query = w.query()
    return lambda: composite_schedule(w.store, **query)


def _request(k: int) -> SetChargingProfileRequest:
    evse = 1 + k % 50
    profile = ChargingProfile.model_validate(
        {
            "id": k + 1,
            "stackLevel": k // 50,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": [
                {
                    "id": 1,
                    "startSchedule": START,
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": float(6 + k % 20)}],
                }
            ],
        }
    )
    return SetChargingProfileRequest(evse_id=evse, charging_profile=profile)


def replay_case(n: int) -> Callable[[], Any]:
    requests = [_request(k) for k in range(n)]
    config = StationConfig.with_evses(
        50, charge_profile_max_stack_level=n, max_charging_profiles_installed=n + 1
    )
    state = StationState(config, OcppVersion.V201)
    return lambda: [r for _, r in replay(requests, state)]


def _daily(evse: int) -> InstalledProfile:
    profile = ChargingProfile.model_validate(
        {
            "id": evse,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Recurring",
            "recurrencyKind": "Daily",
            "chargingSchedule": [
                {
                    "id": 1,
                    "startSchedule": START + timedelta(minutes=evse % 60),
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [
                        {"startPeriod": 3600 * h, "limit": float(8 + (h + evse) % 24)}
                        for h in range(0, 24, 3)
                    ],
                }
            ],
        }
    )
    return InstalledProfile(evse, profile)


def evse0_case(e: int) -> Callable[[], Any]:
    store = ProfileStore(_daily(k) for k in range(1, e + 1))
    config = StationConfig.with_evses(e)
    return lambda: composite_schedule(store, evse_id=0, start=START, duration=86400, config=config)


def _site(e: int, oversubscribed: float) -> Site:
    site = large_site(e)
    if oversubscribed <= 1:
        return site
    # each EVSE wants up to 32 A: a third of that per EVSE at 3x oversubscription
    amps = 32.0 * e / oversubscribed
    return site.model_copy(
        update={"grid": Circuit(id="grid", amps=amps, children=site.grid.children)}
    )


def _ample(circuit: Circuit, evses: dict[str, int]) -> Circuit:
    """``circuit`` and its children with room for every EVSE below at 32 A, no steps."""
    children = tuple(_ample(child, evses) for child in circuit.children)
    below = evses.get(circuit.id, 0) + sum(evses[c.id] for c in children)
    evses[circuit.id] = below
    return Circuit(id=circuit.id, amps=32.0 * below, children=children)


def _undersubscribed(e: int) -> Site:
    """``benchmarks/balance.py``'s site with every circuit sized for all its EVSEs at 32 A
    (no watts limits, no evening steps): the supply covers everyone."""
    site = large_site(e)
    per_feeder: dict[str, int] = {}
    for pile in site.piles:
        per_feeder[pile.circuit] = per_feeder.get(pile.circuit, 0) + len(pile.evses)
    return site.model_copy(update={"grid": _ample(site.grid, per_feeder)})


def balance_case(e: int, oversubscribed: float = 1.0) -> Callable[[], Any]:
    site = _undersubscribed(e) if oversubscribed <= 1 else _site(e, oversubscribed)
    # 15-minute slots: 10,000 EVSEs x 96 slots are within MAX_CELLS (2,000,000 since
    # BALANCEFAST; it was 1,000,000 and these rows used 30-minute slots)
    return lambda: balance(site, start=DEMO_DAY, duration=86400, resolution=900)


def balance_fixed_case(e: int) -> Callable[[], Any]:
    site = large_site(e)  # the grid stays at 5,000 A whatever the size
    return lambda: balance(site, start=DEMO_DAY, duration=86400, resolution=900)


def send_plan_case(e: int) -> Callable[[], Any]:
    site = _site(e, 1.0)
    allocation = balance(site, start=DEMO_DAY, duration=86400, resolution=1800)
    at = DEMO_DAY + timedelta(hours=17)
    return lambda: send_plan(allocation, at=at)


CASES: dict[str, tuple[Callable[[int], Callable[[], Any]], list[int], list[int]]] = {
    # name: (case, sizes, quick sizes)
    "composite": (composite_case, [1, 3, 10, 30, 100], [1, 10, 100]),
    "replay": (replay_case, [30, 100, 300, 1000, 3000], [30, 300, 3000]),
    "evse0": (evse0_case, [10, 30, 100, 300, 1000], [10, 100, 1000]),
    "balance": (balance_case, [25, 100, 300, 1000, 2500], [25, 250, 2500]),
    "balance-3x": (
        lambda e: balance_case(e, 3.0),
        [100, 300, 1000, 3000, 10000],
        [100, 1000, 10000],
    ),
    "balance-fixed": (balance_fixed_case, [100, 300, 1000, 3000, 10000], [100, 1000, 10000]),
    "send_plan": (send_plan_case, [25, 100, 300, 1000], [25, 250, 1000]),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="three sizes per path")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", nargs="*", choices=sorted(CASES), help="these paths only")
    parser.add_argument("--sizes", type=int, nargs="*", help="these sizes instead of the row's")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    rows = []
    for name, (case, sizes, quick) in CASES.items():
        if args.only and name not in args.only:
            continue
        points = []
        for size in args.sizes or (quick if args.quick else sizes):
            call = case(size)
            points.append((size, cpu(call, args.repeats)))
            print(f"  {name:<11} size {size:>6}: {points[-1][1] * 1e3:10.1f} ms CPU", flush=True)
        slope = exponent(points)
        rows.append((name, points, slope))
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")
    print(f"{'path':<11}  {'sizes':<22}  exponent  (target <= 1.15)")
    for name, points, slope in rows:
        span = f"{points[0][0]}..{points[-1][0]}"
        verdict = "ok" if slope <= 1.15 else "OVER"
        print(f"{name:<11}  {span:<22}  {slope:8.2f}  [{verdict}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())

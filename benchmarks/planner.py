"""Deadline-policy benchmark (issue 13): ``DeadlineAware.plan()`` and ``balance`` at 1,000 EVSEs.

    python benchmarks/planner.py [--evses 1000] [--runs 5] [--resolution 300 900]
                                 [--problem replan day] [--profile] [--outcome]

Problems:

- ``replan``: ``benchmarks/replan.py``'s site (1,000 EVSEs, nearly all with a vehicle
  present at 08:00 with an energy need and a departure 2-12 h away, supply at about
  40 % of the uncongested peak), from 08:00 until the last departure (about 12 h);
- ``day``: ``benchmarks/balance.py``'s site (1,000 EVSEs, one or two vehicles each
  through a winter day), every session given an energy need of 5-60 kWh, over the day.

Per problem and resolution: ``balance(..., policy=DeadlineAware())`` CPU time
(time.process_time, median of ``--runs``), and ``plan()`` alone (timed by wrapping
it), the load average, and [ok]/[MISS] for plan() < 50 ms and balance < 100 ms.
``--outcome`` also prints the energy delivered by the departures and the sessions
fully served, a digest of every limit and one of the whole result (every Allocation
field and every session outcome), to check that a speed-up changes no result.
``--align`` balances on the fixed slot grid, as ``control()`` does.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import os
import pstats
import random
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from balance import large_site
from replan import NOW, horizon, replan_site

from ocpp_schedule.site import DEMO_DAY, Site, balance, session_outcomes
from ocpp_schedule.site._planner import DeadlineAware

PLAN_TARGET_S = 0.050
BALANCE_TARGET_S = 0.100


class Timed(DeadlineAware):
    """DeadlineAware whose ``plan()`` CPU time is recorded."""

    def __init__(self, times: list[float]) -> None:
        super().__init__()
        self.times = times

    def plan(self, problem: Any, progress: Any = None) -> Any:
        begin = time.process_time()
        try:
            return super().plan(problem, progress)
        finally:
            self.times.append(time.process_time() - begin)


def day_site(evses: int, seed: int = 5) -> Site:
    """``large_site`` with an energy need of 5-60 kWh on every session."""
    site = large_site(evses)
    rnd = random.Random(seed)
    data = site.model_dump()
    for pile in data["piles"]:
        for evse in pile["evses"]:
            for session in evse["sessions"]:
                session["energy_kwh"] = float(rnd.randrange(5, 61))
    return Site.model_validate(data)


def problem(name: str, evses: int, resolution: int) -> tuple[Site, datetime, int]:
    """The site, the window's start and its length (s)."""
    if name == "replan":
        site = replan_site(evses)
        return site, NOW, horizon(site, NOW, resolution)
    return day_site(evses), DEMO_DAY, 86400


ALIGN = False
"""Whether to balance on the fixed slot grid (``--align``), as control() does."""


def run_once(site: Site, start: datetime, duration: int, resolution: int) -> tuple[float, float]:
    """CPU seconds of one balance and of its plan()."""
    times: list[float] = []
    begin = time.process_time()
    balance(
        site,
        start=start,
        duration=duration,
        resolution=resolution,
        policy=Timed(times),
        align=ALIGN,
    )
    return time.process_time() - begin, times[0]


def outcome(site: Site, start: datetime, duration: int, resolution: int) -> str:
    """Energy by the departures and sessions fully served."""
    allocation = balance(
        site,
        start=start,
        duration=duration,
        resolution=resolution,
        policy=DeadlineAware(),
        align=ALIGN,
    )
    outs = session_outcomes(allocation)
    energy = sum(o.expected_kwh for o in outs)
    served = sum(1 for o in outs if o.unmet_kwh is not None and o.unmet_kwh <= 1e-6)
    digest = hashlib.sha256(repr(sorted(allocation.amps.items())).encode()).hexdigest()[:12]
    whole = hashlib.sha256()
    for name in FIELDS:
        value = getattr(allocation, name)
        whole.update(repr(sorted(value.items()) if isinstance(value, dict) else value).encode())
    whole.update(repr(outs).encode())
    return (
        f"energy {energy:.3f} kWh, fully served {served}/{len(outs)}, limits {digest},"
        f" all {whole.hexdigest()[:12]}"
    )


FIELDS = (
    "boundaries",
    "amps",
    "phases",
    "caps",
    "sessions",
    "paused",
    "loads",
    "limits",
    "watt_limits",
    "pinned",
)
"""The Allocation fields the whole-result digest covers (with the session outcomes)."""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evses", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--resolution", type=int, nargs="+", default=[300, 900])
    parser.add_argument("--problem", nargs="+", default=["replan", "day"])
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--outcome", action="store_true")
    parser.add_argument("--align", action="store_true")
    args = parser.parse_args()
    global ALIGN
    ALIGN = args.align
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    missed = False
    for name in args.problem:
        for resolution in args.resolution:
            site, start, duration = problem(name, args.evses, resolution)
            slots = duration // resolution
            if args.profile:
                prof = cProfile.Profile()
                prof.enable()
                run_once(site, start, duration, resolution)
                prof.disable()
                pstats.Stats(prof).sort_stats("tottime").print_stats(25)
                continue
            runs = [run_once(site, start, duration, resolution) for _ in range(args.runs)]
            whole = statistics.median(r[0] for r in runs)
            plan = statistics.median(r[1] for r in runs)
            plan_ok, whole_ok = plan < PLAN_TARGET_S, whole < BALANCE_TARGET_S
            missed = missed or not (plan_ok and whole_ok)
            print(
                f"  {name:6} {resolution:4d} s ({slots:3d} slots): plan() {plan * 1000:8.1f} ms"
                f" [{'ok' if plan_ok else 'MISS'}] < 50 ms; balance {whole * 1000:8.1f} ms"
                f" [{'ok' if whole_ok else 'MISS'}] < 100 ms (CPU, median of {args.runs})"
            )
            if args.outcome:
                print(f"         {outcome(site, start, duration, resolution)}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Cost at the engine's resource bounds: python benchmarks/bounds.py.

Times (wall clock, one run each) and Python memory peaks (tracemalloc, in a second run so it
does not slow the timed one) of the inputs that
used to eat minutes or gigabytes (issue 11), so docs/robustness.md can state what each
bound costs. The tests pin the same cases by counted work, never by time.

* F27: N Daily profiles stacked, each in force 30 s a day at its own minute, 30 days;
* F17: EVSE-0 queries over 97 days of 1 000-period daily schedules on many EVSEs,
  staggered by a second (refused at MAX_PERIODS) or aligned (refused at
  MAX_STATION_INTERVALS, or answered just under it);
* MAX_WINDOWS: a stack that recurs more often than the bound (refused before any work).
"""

from __future__ import annotations

import contextlib
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ocpp_schedule import (
    ChargingProfile,
    InstalledProfile,
    OcppScheduleError,
    StationConfig,
    composite_schedule,
)

START = 1_704_067_200  # 2024-01-01T00:00:00Z


def staggered_daily(count: int) -> list[InstalledProfile]:
    """F27's stack: ``count`` Daily profiles, 30 s a day each, at staggered minutes."""
    out = []
    for k in range(count):
        profile = ChargingProfile.model_validate(
            {
                "id": k + 1,
                "stackLevel": 10_000 - k,
                "chargingProfilePurpose": "TxDefaultProfile",
                "chargingProfileKind": "Recurring",
                "recurrencyKind": "Daily",
                "chargingSchedule": [
                    {
                        "id": 1,
                        "startSchedule": datetime.fromtimestamp(START + 60 * k, UTC),
                        "duration": 30,
                        "chargingRateUnit": "A",
                        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": float(6 + k % 20)}],
                    }
                ],
            }
        )
        out.append(InstalledProfile(1, profile))
    return out


def evse_daily(evse_id: int, periods: int, shift: int) -> InstalledProfile:
    """F17's schedule: a daily TxDefaultProfile of ``periods`` periods on one EVSE."""
    step = 86_400 // periods
    rows = [{"startPeriod": 0, "limit": 10.0}]
    rows += [
        {"startPeriod": k * step + shift, "limit": float(6 + (k + evse_id) % 20)}
        for k in range(1, periods)
    ]
    profile = ChargingProfile.model_validate(
        {
            "id": evse_id,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Recurring",
            "recurrencyKind": "Daily",
            "chargingSchedule": [
                {
                    "id": 1,
                    "startSchedule": "2024-01-01T00:00:00Z",
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": rows,
                }
            ],
        }
    )
    return InstalledProfile(evse_id, profile)


def station(count: int, staggered: bool) -> dict[str, Any]:
    return {
        "profiles": [evse_daily(e, 1000, e if staggered else 0) for e in range(1, count + 1)],
        "evse_id": 0,
        "start": START,
        "duration": 97 * 86_400,
        "config": StationConfig(evse_ids=tuple(range(1, count + 1))),
    }


def measure(name: str, call: Callable[[], Any]) -> None:
    """Time one call, then run it again under tracemalloc for the memory peak."""
    begin = time.perf_counter()
    try:
        result = call()
        outcome = f"{len(result.periods)} periods"
    except OcppScheduleError as exc:
        outcome = f"refused: {str(exc)[:60]}"
    seconds = time.perf_counter() - begin
    tracemalloc.start()
    with contextlib.suppress(OcppScheduleError):
        call()
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    print(f"{name:44} {seconds:7.2f} s {peak:8.1f} MB  {outcome}", flush=True)


def main() -> None:
    for count in (100, 400, 1000):
        profiles = staggered_daily(count)
        measure(
            f"F27: {count} stacked daily profiles, 30 days",
            lambda p=profiles: composite_schedule(p, evse_id=1, start=START, duration=30 * 86_400),
        )
    for count, staggered in ((32, True), (10, False), (40, False)):
        kind = "staggered" if staggered else "aligned"
        args = station(count, staggered)
        measure(
            f"F17: EVSE 0 of {count} {kind} EVSEs, 97 days",
            lambda a=args: composite_schedule(**a),
        )
    profiles = staggered_daily(10)
    measure(
        "MAX_WINDOWS: 10 daily profiles, 20 010 days",
        lambda: composite_schedule(profiles, evse_id=1, start=START, duration=20_010 * 86_400),
    )


if __name__ == "__main__":
    main()

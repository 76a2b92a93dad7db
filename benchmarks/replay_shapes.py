"""Growth exponents of ``replay`` on the request shapes that once cost O(N) per request.

    python benchmarks/replay_shapes.py [--repeats 3] [--only SHAPE ...]

``benchmarks/scaling.py``'s ``replay`` row spreads N profiles over stack levels (50 per
level). These shapes put them where a scan once hurt (issue 17, helper REPLAY17):

* ``one-level``: N TxDefaultProfiles at stack level 0, one per EVSE (2.0.1: the
  duplicate rules K01.FR.06/52/53 compared each with every one at the level);
* ``one-level-1.6``: the same in OCPP 1.6 (the replacement rule by level and connector);
* ``phases``: the same with ``phaseToUse`` under a station cap that names one too (the
  phase conflict rule K01.FR.141 compared each with every installed profile);
* ``replace``: N requests over 50 profile ids (each replaces one: the store stays small).

N runs from 10 to 1,000 (a station has at most 1,000 EVSEs). Each run replays the N
requests and reads the final store (it is built when first read). CPU time
(``time.process_time``), the best of ``--repeats``; the exponent fitted as in ``scaling.py``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scaling import START, cpu, exponent

from ocpp_schedule import (
    ChargingProfile,
    OcppVersion,
    SetChargingProfileRequest,
    StationConfig,
    StationState,
    replay,
)

SIZES = [10, 30, 100, 300, 1000]  # a station has at most 1,000 EVSEs (MAX_EVSE_COUNT)


def _profile(pid: int, purpose: str, level: int, phase: int | None) -> ChargingProfile:
    period: dict[str, Any] = {"startPeriod": 0, "limit": float(6 + pid % 20)}
    if phase is not None:
        period |= {"numberPhases": 1, "phaseToUse": phase}
    return ChargingProfile.model_validate(
        {
            "id": pid,
            "stackLevel": level,
            "chargingProfilePurpose": purpose,
            "chargingProfileKind": "Absolute",
            "chargingSchedule": [
                {
                    "id": 1,
                    "startSchedule": START,
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [period],
                }
            ],
        }
    )


def shape_case(shape: str, n: int) -> Callable[[], Any]:
    """A call replaying N requests of ``shape`` and reading the final store."""
    version = OcppVersion.V16 if shape == "one-level-1.6" else OcppVersion.V201
    phase = 1 if shape == "phases" else None
    made: list[tuple[int, ChargingProfile]] = []
    if shape == "phases":
        made.append((0, _profile(n + 1, "ChargingStationMaxProfile", 0, phase)))
    for k in range(n):
        if shape == "replace":
            made.append((1 + k % 50, _profile(1 + k % 50, "TxDefaultProfile", 0, None)))
        else:
            made.append((k + 1, _profile(k + 1, "TxDefaultProfile", 0, phase)))
    requests = [SetChargingProfileRequest(evse_id=e, charging_profile=p) for e, p in made]
    config = StationConfig.with_evses(
        n, max_charging_profiles_installed=n + 2, ac_phase_switching_supported=True
    )
    state = StationState(config, version)

    def run() -> int:
        answers = [(store, result) for store, result in replay(requests, state)]
        assert all(result.accepted for _, result in answers)
        return len(answers[-1][0].entries)

    return run


SHAPES = ["one-level", "one-level-1.6", "phases", "replace"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", nargs="*", choices=SHAPES, help="these shapes only")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    rows = []
    for shape in SHAPES:
        if args.only and shape not in args.only:
            continue
        points = []
        for size in SIZES:
            points.append((size, cpu(shape_case(shape, size), args.repeats)))
            print(f"  {shape:<14} size {size:>6}: {points[-1][1] * 1e3:10.1f} ms CPU", flush=True)
        rows.append((shape, exponent(points)))
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")
    for shape, slope in rows:
        print(f"{shape:<14}  {SIZES[0]}..{SIZES[-1]}  exponent {slope:5.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

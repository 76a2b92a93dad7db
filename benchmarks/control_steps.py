"""control() at 1,000 EVSEs, step by step: CPU per stage and a digest of each result.

    python benchmarks/control_steps.py [900|300] [prof] [--hold SECONDS] [--policy NAME]

Three calls of what a CSMS calls, on benchmarks/replan.py's issue-13 site with the default
policy: cold (every memo cleared), warm (5 minutes later, one vehicle gone and one arrived,
``previous=`` the cold result) and a second warm step (5 minutes after that, ``previous=`` the
first warm result: the steady state, where the previous plan sent only the EVSEs that
changed). Per call it prints the CPU time (``time.process_time``) of control() and of its
balance / send_plan / session_outcomes, the steps and EVSEs sent, and a digest of the
ControlResult (steps with payloads and limits, tails, warnings, EVSEs sent, validity,
sessions, flags), so that a change can be checked to give identical results. ``prof``
prints a cProfile of the first warm call. ``--hold 3600`` runs the warm calls with
control()'s hysteresis (docs/semantics.md CT13); ``--policy EqualShare`` uses that policy
instead of the default. Run from the repository root.
"""

from __future__ import annotations

import cProfile
import hashlib
import json
import pstats
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

sys.path.insert(0, "benchmarks")

import replan

import ocpp_schedule.site._control as control_module
from ocpp_schedule.site import ControlResult, SiteState, control

STAGES: dict[str, float] = {}
HOLD: int | None = None
POLICY: Any = None


def _timed(name: str, work: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.process_time()
        try:
            return work(*args, **kwargs)
        finally:
            STAGES[name] = STAGES.get(name, 0.0) + time.process_time() - start

    return wrapper


for _name in ("balance", "held", "send_plan", "session_outcomes", "_sessions"):
    if hasattr(control_module, _name):  # control() reads outcomes from rows (_sessions)
        setattr(control_module, _name, _timed(_name, getattr(control_module, _name)))


def digest(result: ControlResult) -> str:
    """A short hash of everything the result says."""
    h = hashlib.sha256()
    for s in result.plan.steps:
        step = [s.pile, s.evse, s.purpose.value, s.phase, s.payload, s.limits]
        h.update(json.dumps(step, sort_keys=True, default=str).encode())
    h.update(repr(sorted(result.plan.tails.items())).encode())
    h.update(repr(result.plan.warnings).encode())
    h.update(repr(result.changed).encode())
    h.update(repr((result.valid_until_epoch, result.resend_before_epoch)).encode())
    h.update(repr(result.sessions).encode())
    h.update(repr(result.flags).encode())
    return h.hexdigest()[:12]


def step(label: str, resolution: int, call: Callable[[], ControlResult]) -> ControlResult:
    """Run one control() call and print its figures."""
    STAGES.clear()
    start = time.process_time()
    result = call()
    total = time.process_time() - start
    stages = ", ".join(f"{k} {v * 1000:.0f}" for k, v in STAGES.items())
    print(
        f"res {resolution} {label} {total * 1000:.0f} ms ({stages}) steps"
        f" {len(result.plan.steps)} sent {len(result.changed)} digest {digest(result)}"
    )
    return result


def _warm(
    site: Any, at: Any, resolution: int, previous: ControlResult
) -> Callable[[], ControlResult]:
    """A warm control() call: the site at ``at``, against ``previous``."""
    return lambda: control(
        site,
        SiteState(at=at),
        policy=POLICY,
        resolution=resolution,
        previous=previous,
        hold=HOLD,
    )


def main() -> int:
    global HOLD, POLICY
    if "--hold" in sys.argv:
        at = sys.argv.index("--hold")
        HOLD = int(sys.argv[at + 1])
        del sys.argv[at : at + 2]
    if "--policy" in sys.argv:
        at = sys.argv.index("--policy")
        POLICY = dict(replan.policies())[sys.argv[at + 1]]()
        del sys.argv[at : at + 2]
    resolution = int(sys.argv[1]) if len(sys.argv) > 1 else 900
    profile = len(sys.argv) > 2 and sys.argv[2] == "prof"
    first = replan.replan_site(1000)
    now1 = replan.NOW + timedelta(seconds=replan.STEP)
    now2 = now1 + timedelta(seconds=replan.STEP)
    second = replan.next_site(first, now1)
    third = replan.next_site(second, now2, seed=7)
    replan.clear_caches()
    cold = step(
        "cold",
        resolution,
        lambda: control(first, SiteState(at=replan.NOW), policy=POLICY, resolution=resolution),
    )
    prof = cProfile.Profile()
    if profile:
        prof.enable()
    warm = step("warm", resolution, _warm(second, now1, resolution, cold))
    if profile:
        prof.disable()
        pstats.Stats(prof).sort_stats("cumulative").print_stats(40)
    step("warm2", resolution, _warm(third, now2, resolution, warm))
    return 0


if __name__ == "__main__":
    sys.exit(main())

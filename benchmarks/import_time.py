"""How long ``import ocpp_schedule`` takes, in fresh interpreters (issue 15 item 7, issue 16).

Prints the minimum and median wall and CPU time (``time.process_time``) of N fresh
imports, with the bytecode cache warm (an installed package) and with every module of
the package compiled on each import (a checkout under ``PYTHONDONTWRITEBYTECODE``), the
first use after it (read, install and compute a W1 profile: the models build then), the
floor that pydantic's ``BaseModel`` alone costs, the machine's load average, and the
modules with the largest self CPU time (``-X importtime``'s measure, in CPU time).
On a loaded machine wall time is several times CPU time: judge the CPU figures.

    python benchmarks/import_time.py [-n 15] [--top 15]

``benchmarks/run.py`` calls :func:`measure` for its "Import" table and target.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

TARGET_S = 0.150
"""The import target on an idle machine (issue 15 item 7)."""

FIRST_USE = (
    "import ocpp_schedule as o\n"
    "request = o.read_set_charging_profile({'connectorId': 0, 'csChargingProfiles': {"
    "'chargingProfileId': 1, 'stackLevel': 0, 'chargingProfilePurpose': 'ChargePointMaxProfile',"
    " 'chargingProfileKind': 'Absolute', 'chargingSchedule': {'chargingRateUnit': 'W',"
    " 'startSchedule': '2026-01-01T00:00:00Z', 'chargingSchedulePeriod': ["
    "{'startPeriod': 3600 * i, 'limit': 11000.0 - 4000 * (i % 2)} for i in range(24)]}}}, '1.6')\n"
    "store, result = o.install(o.ProfileStore(), request, o.StationState(version='1.6'))\n"
    "assert result.accepted\n"
    "o.composite_schedule(store, evse_id=0, start=request.charging_profile.charging_schedule[0]"
    ".start_schedule, duration=86400)"
)
"""Import, read a 1.6 SetChargingProfile (W1's station max), install it, compute: the first
use pays what the import defers (model builds, the rules module)."""

_TIMED = (
    "import time\n"
    "wall, cpu = time.perf_counter(), time.process_time()\n"
    "{statement}\n"
    "print(time.perf_counter() - wall, time.process_time() - cpu)\n"
)


def _source_root() -> str:
    """The directory that holds the ``ocpp_schedule`` being measured (not imported here)."""
    spec = importlib.util.find_spec("ocpp_schedule")
    if spec is None or spec.origin is None:
        raise SystemExit("ocpp_schedule is not importable")
    return str(Path(spec.origin).resolve().parent.parent)


def _env(cache: str | None) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": _source_root()}
    env.pop("PYTHONPYCACHEPREFIX", None)
    if cache is None:  # every module of the package compiled on each import
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = cache
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, check=True
    )


def _times(statement: str, runs: int, env: dict[str, str]) -> dict[str, float]:
    """Min and median wall and CPU seconds of ``statement`` in ``runs`` fresh interpreters."""
    walls, cpus = [], []
    for _ in range(runs):
        out = _run(["-c", _TIMED.format(statement=statement)], env).stdout.split()
        walls.append(float(out[0]))
        cpus.append(float(out[1]))
    return {
        "wall_min": min(walls),
        "wall_median": statistics.median(walls),
        "cpu_min": min(cpus),
        "cpu_median": statistics.median(cpus),
    }


_SELF_CPU = """
import importlib.abc, json, sys, time
rows, stack = [], [[0.0]]
class Timed(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        for finder in sys.meta_path:
            spec = None if finder is self else finder.find_spec(name, path, target)
            if spec is not None:
                run = getattr(spec.loader, "exec_module", None)
                if run is not None:
                    def exec_module(module, run=run, name=name):
                        stack.append([0.0]); begin = time.process_time()
                        try:
                            run(module)
                        finally:
                            spent = time.process_time() - begin
                            rows.append((name, spent - stack.pop()[0], spent))
                            stack[-1][0] += spent
                    spec.loader.exec_module = exec_module
                return spec
sys.meta_path.insert(0, Timed())
import ocpp_schedule
print(json.dumps(rows))
"""
"""Self and cumulative CPU time of every module the import executes: ``-X importtime`` in
CPU seconds (its own figures are wall time, three to four times CPU on a loaded machine)."""


def _top_self(runs: int, top: int, env: dict[str, str]) -> list[tuple[str, float, float]]:
    """(module, self s, cumulative s) of the ``top`` largest CPU self times, min over runs."""
    best: dict[str, tuple[float, float]] = {}
    for _ in range(runs):
        for name, own, cumulative in json.loads(_run(["-c", _SELF_CPU], env).stdout):
            old = best.get(name, (float("inf"), float("inf")))
            best[name] = (min(old[0], own), min(old[1], cumulative))
    ranked = sorted(best.items(), key=lambda item: -item[1][0])[:top]
    return [(name, own, cumulative) for name, (own, cumulative) in ranked]


def load_average() -> float:
    """The 1-minute load average (0 where the platform has none)."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return 0.0


def measure(runs: int = 15, top: int = 15) -> dict[str, Any]:
    """Everything this benchmark prints, as data (seconds)."""
    with tempfile.TemporaryDirectory(prefix="ocpp-import-") as cache:
        warm = _env(cache)
        _run(["-c", "import ocpp_schedule"], warm)  # writes the bytecode cache once
        return {
            "load_average": load_average(),
            "cores": os.cpu_count() or 1,
            "runs": runs,
            "cached": _times("import ocpp_schedule", runs, warm),
            "compiled": _times("import ocpp_schedule", runs, _env(None)),
            "first_use": _times(FIRST_USE, runs, warm),
            "pydantic": _times("from pydantic import BaseModel", runs, warm),
            "top_self": _top_self(min(runs, 5), top, warm) if top else [],
        }


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms"


def report(result: dict[str, Any]) -> None:
    """Print ``measure``'s result as tables."""
    print(f"load average: {result['load_average']:.2f} on {result['cores']} cores")
    print(f"{result['runs']} fresh interpreters each; judge CPU when the machine is loaded\n")
    rows = [
        ("import ocpp_schedule (bytecode cached)", result["cached"]),
        ("import ocpp_schedule (compiled each time)", result["compiled"]),
        ("import + read + install + composite (cached)", result["first_use"]),
        ("from pydantic import BaseModel (the floor)", result["pydantic"]),
    ]
    print(f"{'measure':44} {'CPU min':>10} {'CPU median':>11} {'wall min':>10} {'wall median':>12}")
    for label, t in rows:
        print(
            f"{label:44} {_ms(t['cpu_min']):>10} {_ms(t['cpu_median']):>11}"
            f" {_ms(t['wall_min']):>10} {_ms(t['wall_median']):>12}"
        )
    print("\nlargest self CPU times (like python -X importtime; bytecode cached, min over runs)")
    for name, own, cumulative in result["top_self"]:
        print(f"  {_ms(own):>9} self {_ms(cumulative):>10} cumulative  {name}")
    ok = result["cached"]["cpu_min"] <= TARGET_S
    print(f"\ntarget: import <= {_ms(TARGET_S)} (CPU, bytecode cached): {'ok' if ok else 'MISSED'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--runs", type=int, default=15, help="fresh interpreters per row")
    parser.add_argument("--top", type=int, default=15, help="modules with the largest self time")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    result = measure(args.runs, args.top)
    report(result)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

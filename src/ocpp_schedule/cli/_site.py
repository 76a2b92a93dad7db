"""The site subcommands: ``demo``, ``balance SITE_FILE``, ``report SITE_FILE`` and
``simulate SITE_FILE``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from dateutil import tz

from ..site._allocation import Allocation, balance
from ..site._demo import DEMO_DAY, demo_site
from ..site._model import Site, load_site
from ..site._optimise import ExactOptimiser
from ..site._outcomes import SessionOutcome, format_session_outcomes, session_outcomes
from ..site._planner import DeadlineAware
from ..site._planning import Planner
from ..site._plot import _pyplot, plot_allocation
from ..site._policies import EqualShare, Policy, Weighted
from ..site._report import (
    SiteReport,
    _clock,
    _table,
    check_instant,
    format_allocation,
    format_limits_at,
    format_site_report,
    limits_at,
    site_report,
)
from ..site._sendplan import send_plan
from ..site._simulate import SimulationResult, simulate
from ..wire._timestamps import epoch_or_datetime, format_timestamp, from_epoch, to_epoch
from ._common import UsageError, parse_time_option
from ._previous import PreviousPlan, plan_record, previous_allocation, read_previous

__all__ = ["register"]

_POLICIES: dict[str, Callable[[], Policy | Planner]] = {
    "deadline": DeadlineAware,
    "equal": EqualShare,
    "optimal": ExactOptimiser,
    "weighted": Weighted,
}
_SIM_POLICIES: dict[str, Callable[[], Policy | Planner] | None] = {"default": None, **_POLICIES}
"""``simulate --policy``: ``default`` is :func:`balance`'s own default policy."""


def register(sub: Any) -> None:
    """Add ``demo``, ``balance`` and ``report`` to the command line."""
    demo = sub.add_parser(
        "demo",
        help="balance an embedded depot of ten 22 kW piles over a day and print the result",
        description="Balance the embedded demo site (10 piles of 22 kW on two feeders behind a "
        "100 kW cabinet, vehicles through a winter day) and print the limits per EVSE and the "
        "load per circuit, against what the piles would draw unbalanced.",
    )
    _common(demo)
    demo.set_defaults(func=_cmd_demo)

    bal = sub.add_parser(
        "balance",
        help="balance your own site file (JSON or TOML, see docs/site-format.md)",
        description="Balance a site described in SITE_FILE and print the limits per EVSE and "
        "the load per circuit.",
    )
    bal.add_argument("site", metavar="SITE_FILE")
    bal.add_argument("--start", metavar="TIME", help="default: local midnight of the first arrival")
    bal.add_argument(
        "--duration",
        type=int,
        default=None,
        metavar="SECONDS",
        help="default: until the last session leaves (at least a day)",
    )
    bal.add_argument(
        "--at",
        metavar="TIME",
        help="print every EVSE's limit and every circuit's load at this instant instead of "
        "the tables",
    )
    bal.add_argument(
        "--previous",
        metavar="PLAN.json",
        help="re-plan against the plan in this file (what balance --plan-at --json wrote "
        "earlier): send only the EVSEs whose limits changed, lowering before raising",
    )
    _common(bal)
    bal.set_defaults(func=_cmd_balance)

    rep = sub.add_parser(
        "report",
        help="what each pile of a site will draw, per phase, and where a circuit would overload",
    )
    rep.add_argument("site", metavar="SITE_FILE")
    rep.add_argument("--start", metavar="TIME", help="default: local midnight of the first arrival")
    rep.add_argument("--duration", type=int, default=86400, metavar="SECONDS")
    rep.add_argument(
        "--worst-case",
        action="store_true",
        help="count every EVSE as in use all the time (not only during its sessions)",
    )
    rep.add_argument(
        "--json", action="store_true", help="print the report as JSON instead of the table"
    )
    rep.set_defaults(func=_cmd_report)

    sim = sub.add_parser(
        "simulate",
        help="run the site controller every --step seconds against simulated vehicles",
        description="Simulate a site's day closed-loop: the controller re-plans every --step "
        "seconds from what it measures, vehicles draw what their pile holds and they accept "
        "(constant current, tapering above 80 %% state of charge), and every instant is checked "
        "against every circuit limit. Prints per session the energy delivered, when its need "
        "was met and what is unmet, the totals, the violations and the CPU time per re-plan.",
    )
    sim.add_argument("site", metavar="SITE_FILE")
    sim.add_argument(
        "--policy",
        choices=sorted(_SIM_POLICIES),
        default="default",
        help="default: balance's default policy",
    )
    sim.add_argument(
        "--step",
        type=int,
        default=300,
        metavar="SECONDS",
        help="seconds between re-plans, also the slot length (default 300)",
    )
    sim.add_argument("--start", metavar="TIME", help="default: the first arrival")
    sim.add_argument("--end", metavar="TIME", help="default: the last departure")
    sim.add_argument(
        "--horizon",
        type=int,
        metavar="SECONDS",
        help="each plan's length (default: until the present vehicles leave)",
    )
    sim.add_argument(
        "--no-replan",
        action="store_true",
        help="send only the first plan; its safe tail holds afterwards",
    )
    sim.add_argument(
        "--hide-departures",
        action="store_true",
        help="tell the controller estimated departures, not the true ones",
    )
    sim.add_argument("--json", action="store_true", help="print the result as JSON")
    sim.set_defaults(func=_cmd_simulate)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--policy", choices=sorted(_POLICIES), default="deadline")
    parser.add_argument(
        "--resolution",
        default=None,
        metavar="SECONDS|exact",
        help="slot length (default: exact for demo, 900 for balance)",
    )
    parser.add_argument("--plot", metavar="FILE.png", help="draw the result (needs matplotlib)")
    parser.add_argument(
        "--plan-at", metavar="TIME", help="also print the send plan for this moment"
    )
    parser.add_argument("--json", metavar="FILE", help="write the limits and send plan as JSON")
    parser.add_argument(
        "--wide",
        action="store_true",
        help="show every column and every session (default: tables fit 100 columns)",
    )


def _resolution(text: str | None, default: int | None) -> int | None:
    if text is None:
        return default
    if text == "exact":
        return None
    try:
        value = int(text)
    except ValueError:
        raise UsageError(f"--resolution must be seconds or 'exact', not {text!r}") from None
    if value <= 0:
        raise UsageError("--resolution must be positive")
    return value


def _progress() -> Callable[[int, int], None] | None:
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        if total < 50:
            return
        width = 30
        filled = width * done // total
        sys.stderr.write(f"\rbalancing [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return show


def _run(
    site: Site,
    start: datetime | int,
    duration: int,
    args: argparse.Namespace,
    default_resolution: int | None,
    *,
    outcomes: bool = False,
) -> int:
    """Balance, print the tables (with ``outcomes``, also what each session gets), plan, write."""
    resolution = _resolution(args.resolution, default_resolution)
    if args.json:
        _check_writable(args.json)
    previous = _previous(args, site)
    instant = _instant(args, start, duration)
    allocation = balance(
        site,
        start=start,
        duration=duration,
        resolution=resolution,
        policy=_POLICIES[args.policy](),
        progress=_progress(),
    )
    sessions = session_outcomes(allocation) if outcomes else ()
    if instant is not None:
        print(format_limits_at(limits_at(allocation, instant), allocation.site))
    else:
        print(format_allocation(allocation, wide=args.wide))
        if sessions:
            print("\n" + format_session_outcomes(sessions, allocation.site))
    plan_text, plan_json, warnings, at = _plan(allocation, args, previous)
    if plan_text:
        print("\n" + plan_text)
    if args.plot:
        out = plot_allocation(allocation, args.plot)
        print(f"\nplot written to {out}")
    if args.json:
        data = _as_json(allocation, plan_json, warnings)
        if outcomes:
            data["sessions"] = [_session_json(o) for o in sessions]
        if at is not None:
            data["plan"] = plan_record(site, allocation, resolution, args.policy, at, data["evses"])
        text = json.dumps(data, indent=1)
        try:
            Path(args.json).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {args.json}: {exc.strerror or exc}") from None
        print(f"limits written to {args.json}")
    return 0


def _instant(args: argparse.Namespace, start: datetime | int, duration: int) -> int | None:
    """``--at`` as epoch seconds, refused before any work when outside the window."""
    text = getattr(args, "at", None)
    if text is None:
        return None
    begin = epoch_or_datetime(start, "start")
    return check_instant(begin, begin + duration, parse_time_option(text, "--at"))


def _local(t: int, allocation: Allocation) -> str:
    """Epoch seconds as the site's local time (seconds shown only when not zero)."""
    local = from_epoch(t).astimezone(tz.gettz(allocation.site.time_zone))
    return f"{local:%Y-%m-%d %H:%M:%S %Z}" if t % 60 else f"{local:%Y-%m-%d %H:%M %Z}"


def _check_writable(path: str) -> None:
    """Refuse an output path that cannot be written, before any work (F29)."""
    target = Path(path)
    parent = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise UsageError(f"cannot write {path}: it is a directory")
    if not parent.is_dir():
        raise UsageError(f"cannot write {path}: no directory {parent}")
    if not os.access(parent, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise UsageError(f"cannot write {path}: permission denied")


def _previous(args: argparse.Namespace, site: Site) -> tuple[PreviousPlan, Allocation] | None:
    """``--previous``'s plan record and its allocation (balanced again and checked), before
    any other work (needs ``--plan-at``)."""
    path = getattr(args, "previous", None)
    if path is None:
        return None
    if not args.plan_at:
        raise UsageError("--previous needs --plan-at: it re-plans the send plan")
    record = read_previous(path, _POLICIES)
    at = to_epoch(parse_time_option(args.plan_at, "--plan-at"))
    return record, previous_allocation(record, site, at, _POLICIES, _evse_rows)


def _plan(
    allocation: Allocation,
    args: argparse.Namespace,
    previous: tuple[PreviousPlan, Allocation] | None = None,
) -> tuple[str, dict[str, Any], tuple[str, ...], int | None]:
    """The send plan at ``--plan-at`` (a re-plan against ``previous`` when given): its text,
    its JSON, its warnings and its instant (None without ``--plan-at``)."""
    if not args.plan_at:
        return "", {}, (), None
    at = to_epoch(parse_time_option(args.plan_at, "--plan-at"))
    before = None if previous is None else previous[1]
    plan = send_plan(allocation, at=at, previous=before, only_changed=before is not None)
    for warning in plan.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    lowers = sum(1 for s in plan.steps if s.phase == "lower")
    local = from_epoch(plan.at_epoch).astimezone(tz.gettz(allocation.site.time_zone))
    text = (
        f"send plan at {local:%Y-%m-%d %H:%M %Z}: {len(plan.steps)} SetChargingProfile payloads "
        f"({lowers} lower, then {len(plan.steps) - lowers} raise)\n"
        f"valid until {_local(plan.valid_until_epoch, allocation)} (then every EVSE holds its safe "
        f"tail)\nsend the next plan before {_local(plan.resend_before_epoch, allocation)}"
    )
    if previous is not None:
        text += (
            f"\nre-plan against the plan sent at {_local(previous[0].at, allocation)}: "
            f"{len(plan.sent)} of {len(allocation.amps)} EVSEs changed"
        )
    if plan.steps:
        text += "\n\n" + _table(
            ["#", "pile", "EVSE", "purpose", "step", "first limits (from plan start)"],
            [_step_row(i, step, allocation) for i, step in enumerate(plan.steps, 1)],
        )
    rows = [
        {"pile": s.pile, "evse": s.evse, "phase": s.phase, "payload": s.payload} for s in plan.steps
    ]
    data: dict[str, Any] = {
        "send_plan": rows,
        "send_plan_valid_until": format_timestamp(from_epoch(plan.valid_until_epoch)),
        "send_plan_resend_before": format_timestamp(from_epoch(plan.resend_before_epoch)),
    }
    if previous is not None:
        data["send_plan_sent"] = [{"pile": pile, "evse": evse} for pile, evse in plan.sent]
        data["replan_of"] = format_timestamp(from_epoch(previous[0].at))
    return text, data, plan.warnings, at


def _step_row(i: int, step: Any, allocation: Allocation) -> list[str]:
    """One send-plan step for the table: where, which purpose, lower/raise, first limits."""
    payload = step.payload
    profile = payload.get("chargingProfile") or payload.get("csChargingProfiles") or {}
    schedule = profile.get("chargingSchedule", {})
    if isinstance(schedule, list):
        schedule = schedule[0] if schedule else {}
    unit = schedule.get("chargingRateUnit", "")
    periods = schedule.get("chargingSchedulePeriod", [])
    shown = [f"{p.get('limit', '-')}{unit}@{_offset(p.get('startPeriod', 0))}" for p in periods[:3]]
    more = f" +{len(periods) - 3}" if len(periods) > 3 else ""
    purpose = str(profile.get("chargingProfilePurpose", "-")).removesuffix("Profile")
    tx = profile.get("transactionId")
    if tx is not None:
        purpose += f" ({tx})"
    return [str(i), step.pile, str(step.evse), purpose, step.phase, " ".join(shown) + more]


def _offset(seconds: int) -> str:
    """A period's start as +H:MM from the schedule's start."""
    return f"+{seconds // 3600}:{seconds % 3600 // 60:02d}"


def _as_json(
    allocation: Allocation, plan: dict[str, Any], warnings: tuple[str, ...]
) -> dict[str, Any]:
    out = {
        "site": allocation.site.name,
        "policy": allocation.policy,
        "evses": _evse_rows(allocation),
        "send_plan": plan.get("send_plan", []),
        "send_plan_valid_until": plan.get("send_plan_valid_until"),
        "send_plan_resend_before": plan.get("send_plan_resend_before"),
        "send_plan_warnings": list(warnings),
    }
    for key in ("send_plan_sent", "replan_of"):
        if key in plan:
            out[key] = plan[key]
    return out


def _evse_rows(allocation: Allocation) -> list[dict[str, Any]]:
    """Per EVSE, its limits (RFC 3339 times) and energy: the ``evses`` of the JSON output."""
    return [
        {
            "pile": key[0],
            "evse": key[1],
            "limits": [
                {
                    "from": format_timestamp(from_epoch(a)),
                    "to": format_timestamp(from_epoch(b)),
                    "amps": amps,
                    "phases": phases,
                }
                for a, b, amps, phases in allocation.evse_periods(key)
            ],
            "energy_kwh": round(allocation.energy_kwh(key), 3),
        }
        for key in sorted(allocation.amps)
    ]


def _session_json(outcome: SessionOutcome) -> dict[str, Any]:
    """One session's outcome as JSON: times RFC 3339 (UTC), energies in kWh to 3 decimals."""

    def kwh(value: float | None) -> float | None:
        return None if value is None else round(value, 3)

    return {
        "pile": outcome.pile,
        "evse": outcome.evse,
        "transaction_id": outcome.transaction_id,
        "arrive": format_timestamp(outcome.arrive),
        "leave": format_timestamp(outcome.leave),
        "need_kwh": kwh(outcome.need_kwh),
        "expected_kwh": kwh(outcome.expected_kwh),
        "done_at": None if outcome.done_at is None else format_timestamp(outcome.done_at),
        "unmet_kwh": kwh(outcome.unmet_kwh),
        "beyond_window": outcome.beyond_window,
    }


def _cmd_demo(args: argparse.Namespace) -> int:
    site = demo_site()
    if args.plot:
        _check_plotting()
    unbalanced = site_report(site, start=DEMO_DAY, duration=86400)
    print("Without balancing: each pile draws what its own profiles allow while a vehicle is on it")
    print()
    print(format_site_report(unbalanced))
    print()
    print("Balanced: fair shares per phase that keep every circuit within its limits")
    print()
    if args.plan_at is None:
        args.plan_at = format_timestamp(DEMO_DAY + timedelta(hours=17))
    return _run(site, DEMO_DAY, 86400, args, None)


def _site_and_start(args: argparse.Namespace) -> tuple[Site, datetime | int]:
    site = load_site(args.site)
    if args.duration is not None and args.duration <= 0:
        raise UsageError("--duration must be positive")
    if args.start:
        return site, parse_time_option(args.start, "--start")
    arrivals = [s.arrive for p in site.piles for e in p.evses for s in e.sessions]
    if not arrivals:
        raise UsageError("the site has no sessions; give --start")
    zone = tz.gettz(site.time_zone)
    first = min(arrivals).astimezone(zone)
    return site, first.replace(hour=0, minute=0, second=0, microsecond=0)


def _covering_duration(site: Site, start: datetime | int) -> int:
    """A day, or longer so that the window covers every session to its end (W2)."""
    begin = start if isinstance(start, int) else to_epoch(start)
    leaves = [to_epoch(s.leave) for p in site.piles for e in p.evses for s in e.sessions]
    return max([86400, *(leave - begin for leave in leaves)])


def _check_plotting() -> None:
    _pyplot()


def _cmd_balance(args: argparse.Namespace) -> int:
    if args.plot:
        _check_plotting()
    site, start = _site_and_start(args)
    duration = args.duration if args.duration is not None else _covering_duration(site, start)
    return _run(site, start, duration, args, 900, outcomes=True)


def _cmd_report(args: argparse.Namespace) -> int:
    site, start = _site_and_start(args)
    report = site_report(site, start=start, duration=args.duration, idle_draws=args.worst_case)
    if args.json:
        print(json.dumps(_report_json(report), indent=1))
    else:
        print(format_site_report(report))
    return 0


def _report_json(report: SiteReport) -> dict[str, Any]:
    """The site report as JSON: times RFC 3339 (UTC), currents per phase L1/L2/L3 in A."""

    def at(t: int) -> str:
        return format_timestamp(from_epoch(t))

    return {
        "site": report.site.name,
        "start": at(report.start_epoch),
        "end": at(report.end_epoch),
        "piles": [
            {
                "pile": st.pile,
                "circuit": st.circuit,
                "peak_amps": list(st.peak_amps),
                "peak_at": at(st.peak_at_epoch),
                "peak_kw": round(st.peak_watts / 1000, 3),
                "energy_kwh": round(st.energy_kwh, 3),
                "evses": [
                    {
                        "evse": e.evse,
                        "energy_kwh": round(e.energy_kwh, 3),
                        "peak_amps": e.peak_amps,
                        "limits": [
                            {"from": at(a), "to": at(b), "amps": amps, "phases": phases}
                            for a, b, amps, phases in e.steps
                        ],
                    }
                    for e in st.evses
                ],
            }
            for st in report.stations
        ],
        "circuits": {
            name: [
                {
                    "from": at(a),
                    "to": at(b),
                    "load_amps": list(load),
                    "limit_amps": list(limit),
                    "limit_watts": watts,
                }
                for a, b, load, limit, watts in rows
            ]
            for name, rows in report.loads.items()
        },
        "overloads": [
            {"circuit": c, "from": at(a), "to": at(b), "what": what}
            for c, a, b, what in sorted(report.overloads, key=lambda o: (o[1], o[2], o[0]))
        ],
    }


def _cmd_simulate(args: argparse.Namespace) -> int:
    if args.step <= 0:
        raise UsageError("--step must be a positive number of seconds")
    if args.horizon is not None and args.horizon <= 0:
        raise UsageError("--horizon must be a positive number of seconds")
    start = parse_time_option(args.start, "--start") if args.start else None
    end = parse_time_option(args.end, "--end") if args.end else None
    site = load_site(args.site)
    make = _SIM_POLICIES[args.policy]
    result = simulate(
        site,
        policy=None if make is None else make(),
        step=args.step,
        start=start,
        end=end,
        horizon=args.horizon,
        replan=not args.no_replan,
        hide_departures=args.hide_departures,
    )
    if args.json:
        print(json.dumps(_simulation_json(result), indent=1))
    else:
        print(format_simulation(result, site))
    return 0


def _kwh(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def format_simulation(result: SimulationResult, site: Site) -> str:
    """The simulation as text: a row per session, the totals, violations and CPU time."""
    rows = [
        [
            f"{o.pile}/{o.evse}",
            f"{_clock(to_epoch(o.arrive), site)}-{_clock(to_epoch(o.leave), site)}",
            _kwh(o.need_kwh),
            f"{o.delivered_kwh:.1f}",
            "-" if o.done_at is None else _clock(to_epoch(o.done_at), site),
            _kwh(o.unmet_kwh),
        ]
        for o in result.sessions
    ]
    table = _table(
        ["EVSE", "stay (local time)", "need kWh", "delivered kWh", "done at", "unmet kWh"], rows
    )
    worst = result.worst
    lines = [
        table,
        "",
        f"policy {result.policy}, re-plan every {result.step} s"
        + ("" if result.replan else " (first plan only)"),
        f"energy delivered: {result.energy_kwh:.1f} kWh; known needs {result.need_kwh:.1f} kWh,"
        f" {result.unmet_kwh:.1f} kWh of them unmet",
        f"demands met: {result.demands_met} of {result.demands} ({result.met_percent:.1f} %)",
        f"violations: {result.violation_count}"
        + (
            ""
            if worst is None
            else f" (worst: {worst.circuit} {worst.what} {worst.load:.1f} > {worst.limit:.1f}"
            f" at {_clock(worst.at_epoch, site)})"
        ),
        f"control: {len(result.cpu_ms)} re-plans, {result.mean_cpu_ms:.1f} ms CPU each on average,"
        f" {result.max_cpu_ms:.1f} ms at most",
    ]
    return "\n".join(lines)


def _simulation_json(result: SimulationResult) -> dict[str, Any]:
    def kwh(value: float | None) -> float | None:
        return None if value is None else round(value, 3)

    return {
        "policy": result.policy,
        "step": result.step,
        "replan": result.replan,
        "start": format_timestamp(from_epoch(result.start_epoch)),
        "end": format_timestamp(from_epoch(result.end_epoch)),
        "energy_kwh": round(result.energy_kwh, 3),
        "need_kwh": round(result.need_kwh, 3),
        "unmet_kwh": round(result.unmet_kwh, 3),
        "demands": result.demands,
        "demands_met": result.demands_met,
        "violation_count": result.violation_count,
        "violations": [
            {
                "circuit": v.circuit,
                "from": format_timestamp(from_epoch(v.at_epoch)),
                "to": format_timestamp(from_epoch(v.end_epoch)),
                "what": v.what,
                "load": v.load,
                "limit": v.limit,
            }
            for v in result.violations
        ],
        "cpu_ms_mean": round(result.mean_cpu_ms, 3),
        "cpu_ms_max": round(result.max_cpu_ms, 3),
        "sessions": [
            {
                "pile": o.pile,
                "evse": o.evse,
                "transaction_id": o.transaction_id,
                "arrive": format_timestamp(o.arrive),
                "leave": format_timestamp(o.leave),
                "need_kwh": kwh(o.need_kwh),
                "delivered_kwh": kwh(o.delivered_kwh),
                "done_at": None if o.done_at is None else format_timestamp(o.done_at),
                "unmet_kwh": kwh(o.unmet_kwh),
            }
            for o in result.sessions
        ],
    }

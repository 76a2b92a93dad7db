"""Station and site reports: what each pile will draw, per phase, and where a breaker would trip.

:func:`site_report` takes every EVSE's limits over a window (their own limits
while vehicles are on them, or a balanced :class:`~ocpp_schedule.Allocation`),
adds them up per circuit phase through the site's phase rotations, and reports
per pile the composite of each EVSE, their sum per phase, the peak, the energy
each could draw at most, and for the site every interval in which a circuit
would carry more than its limit. :func:`format_allocation` and
:func:`format_site_report` render the readable tables the command line prints.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Any

from ..errors import QueryError
from ..wire._timestamps import check_window, epoch_or_datetime, format_timestamp, from_epoch
from ._allocation import JOULES_PER_KWH, Allocation, EvseKey
from ._model import Site
from ._timelines import (
    MAX_CELLS,
    MAX_SLOTS,
    PhaseAmps,
    check_circuit_steps,
    check_size,
    circuit_timeline,
    evse_timeline,
    pile_store,
)

__all__ = [
    "EvseOutput",
    "LimitsAt",
    "SiteReport",
    "StationReport",
    "check_instant",
    "format_allocation",
    "format_limits_at",
    "format_site_report",
    "limits_at",
    "site_report",
]

Step = tuple[int, int, float, int]
"""(start, end, A per phase, phases) in epoch seconds."""


@dataclass(frozen=True)
class EvseOutput:
    """One EVSE's limits over the window and the most energy they let it draw."""

    pile: str
    evse: int
    steps: tuple[Step, ...]
    energy_kwh: float
    peak_amps: float


@dataclass(frozen=True)
class StationReport:
    """A pile over the window: its EVSEs, their sum per circuit phase, the peak."""

    pile: str
    circuit: str
    evses: tuple[EvseOutput, ...]
    totals: tuple[tuple[int, int, PhaseAmps], ...]
    peak_amps: PhaseAmps
    peak_at_epoch: int
    peak_watts: float
    energy_kwh: float

    @property
    def peak_at(self) -> datetime:
        """When the peak starts, a UTC datetime (``peak_at_epoch``: epoch seconds)."""
        return from_epoch(self.peak_at_epoch)


@dataclass(frozen=True)
class SiteReport:
    """Every pile's report, every circuit's load against its limits, and the overloads."""

    site: Site
    start_epoch: int
    end_epoch: int
    stations: tuple[StationReport, ...]
    loads: dict[str, tuple[tuple[int, int, PhaseAmps, PhaseAmps, float | None], ...]]
    """Per circuit, ``(start, end, load, limit, watt limit)`` rows, times in epoch seconds."""
    overloads: tuple[tuple[str, int, int, str], ...]
    """``(circuit, start, end, what)`` rows, times in epoch seconds."""

    @property
    def start(self) -> datetime:
        """The window's start, a UTC datetime (``start_epoch``: epoch seconds)."""
        return from_epoch(self.start_epoch)

    @property
    def end(self) -> datetime:
        """The window's end, a UTC datetime (``end_epoch``: epoch seconds)."""
        return from_epoch(self.end_epoch)


def _merge(steps: list[Step]) -> list[Step]:
    out: list[Step] = []
    for a, b, amps, phases in steps:
        if out and out[-1][1] == a and out[-1][2] == amps and out[-1][3] == phases:
            out[-1] = (out[-1][0], b, amps, phases)
        elif b > a:
            out.append((a, b, amps, phases))
    return out


def _energy(steps: list[Step], volts: float) -> float:
    return sum(amps * phases * volts * (b - a) for a, b, amps, phases in steps) / JOULES_PER_KWH


def site_report(
    site: Site,
    *,
    start: datetime | int,
    duration: int,
    allocation: Allocation | None = None,
    idle_draws: bool = False,
) -> SiteReport:
    """Report the site over ``[start, start + duration)``.

    Without ``allocation`` each EVSE draws up to its own limit (composite
    schedule, hardware, vehicle) while a vehicle is on it; with
    ``idle_draws`` also while none is (the worst case: any EVSE may be used at
    any time, at what its profiles allow). With ``allocation``, the EVSEs'
    balanced limits are reported instead.
    """
    s = epoch_or_datetime(start, "start")
    if isinstance(duration, bool) or not isinstance(duration, int) or duration <= 0:
        raise QueryError("duration must be a positive number of seconds", field="duration")
    check_window(s, duration, margin=2 * 86400)
    e = s + duration
    check_circuit_steps(site, s, e)
    per_evse: dict[EvseKey, list[Step]] = {}
    counted = 0
    for pile in site.piles:
        store, config = pile_store(pile, site)
        for evse in pile.evses:
            key = (pile.id, evse.id)
            if allocation is not None:
                per_evse[key] = [
                    (max(a, s), min(b, e), amps, phases)
                    for a, b, amps, phases in allocation.evse_periods(key)
                    if a < e and b > s
                ]
            else:
                pieces = evse_timeline(pile, evse, store, config, s, e, idle=idle_draws)
                per_evse[key] = [(p.start, p.end, p.cap, p.phases) for p in pieces]
            counted += len(per_evse[key])
            check_size("the EVSEs' limit pieces", counted, MAX_CELLS)
    return _report(site, s, e, per_evse)


def _report(site: Site, s: int, e: int, per_evse: dict[EvseKey, list[Step]]) -> SiteReport:
    """Sum the EVSEs' steps per pile and circuit over the spans between all their edges.

    Linear: every step list and every circuit's limit pieces are swept once
    against the spans (:func:`_sweep`); the spans are bounded before any
    per-span work (MAX_SLOTS spans, MAX_CELLS spans x (piles + circuits)).
    """
    paths = site.paths()
    circuits = site.circuits()
    check_circuit_steps(site, s, e)
    limit_steps = {
        c: circuit_timeline(circuits[c], site.zone, s, e, site.voltage) for c in circuits
    }
    points = {s, e}
    for steps in per_evse.values():
        for a, b, _, _ in steps:
            points.update((a, b))
    for pieces in limit_steps.values():
        for a, b, _, _ in pieces:
            points.update((a, b))
    check_size("the report's spans", len(points) - 1, MAX_SLOTS)
    check_size(
        "the report's spans x (piles + circuits)",
        (len(points) - 1) * (len(site.piles) + len(circuits)),
        MAX_CELLS,
    )
    edges = sorted(t for t in points if s <= t <= e)
    spans = list(pairwise(edges))
    starts = [a for a, _ in spans]
    stations = []
    circuit_load = {c: [[0.0, 0.0, 0.0] for _ in spans] for c in circuits}
    for pile in site.piles:
        totals = [[0.0, 0.0, 0.0] for _ in spans]
        outputs = []
        for evse in pile.evses:
            key = (pile.id, evse.id)
            steps = _merge(per_evse[key])
            outputs.append(
                EvseOutput(
                    pile.id,
                    evse.id,
                    tuple(steps),
                    _energy(steps, site.voltage),
                    max((amps for _, _, amps, _ in steps), default=0.0),
                )
            )
            wiring = [pile.circuit_phase(p) for p in range(3)]
            for k, step in _sweep([(a, b) for a, b, _, _ in steps], starts):
                _, _, amps, phases = steps[step]
                for p in range(phases):
                    totals[k][wiring[p]] += amps
        for k in range(len(spans)):
            for circuit in paths[pile.circuit]:
                for p in range(3):
                    circuit_load[circuit][k][p] += totals[k][p]
        peak_k = max(range(len(spans)), key=lambda k: sum(totals[k]), default=0)
        peak = totals[peak_k] if spans else [0.0, 0.0, 0.0]
        stations.append(
            StationReport(
                pile.id,
                pile.circuit,
                tuple(outputs),
                tuple((a, b, (t[0], t[1], t[2])) for (a, b), t in zip(spans, totals, strict=True)),
                (peak[0], peak[1], peak[2]),
                spans[peak_k][0] if spans else s,
                sum(peak) * site.voltage,
                sum(o.energy_kwh for o in outputs),
            )
        )
    loads = {}
    overloads = []
    for c in circuits:
        rows = []
        pieces = limit_steps[c]
        for k, piece in _sweep([(a, b) for a, b, _, _ in pieces], starts):
            a, b = spans[k]
            _, _, limit, watts = pieces[piece]
            load = circuit_load[c][k]
            rows.append((a, b, (load[0], load[1], load[2]), limit, watts))
            for p in range(3):
                if load[p] > limit[p] + 1e-6:
                    overloads.append((c, a, b, f"L{p + 1} {load[p]:.1f} A > {limit[p]:.1f} A"))
            if watts is not None and sum(load) * site.voltage > watts + 1e-3:
                overloads.append((c, a, b, f"{sum(load) * site.voltage:,.0f} W > {watts:,.0f} W"))
        loads[c] = tuple(rows)
    return SiteReport(site, s, e, tuple(stations), loads, tuple(_merge_overloads(overloads)))


def _sweep(
    intervals: Sequence[tuple[int, int]], starts: Sequence[int]
) -> Iterator[tuple[int, int]]:
    """``(k, j)`` for every span start ``starts[k]`` inside ``intervals[j]`` (``a <= t < b``).

    Both are in ascending order and the intervals do not overlap, so one pass
    over each suffices: at most ``len(intervals) + len(starts)`` steps, each
    element read a bounded number of times (a test counts the reads).
    """
    j = 0
    n = len(intervals)
    for k in range(len(starts)):
        t = starts[k]
        while j < n and intervals[j][1] <= t:
            j += 1
        if j < n and intervals[j][0] <= t:
            yield k, j


def _merge_overloads(rows: list[tuple[str, int, int, str]]) -> list[tuple[str, int, int, str]]:
    out: list[tuple[str, int, int, str]] = []
    for circuit, a, b, what in sorted(rows, key=lambda r: (r[0], r[3][:2], r[1])):
        last = out[-1] if out else None
        if last and last[0] == circuit and last[2] == a and last[3][:2] == what[:2]:
            out[-1] = (circuit, last[1], b, last[3])
        else:
            out.append((circuit, a, b, what))
    return sorted(out, key=lambda r: (r[1], r[0]))


# ------------------------------------------------------------------ one instant


@dataclass(frozen=True)
class LimitsAt:
    """An allocation at one instant ``at``, which lies in the slot ``[start, end)`` (UTC
    datetimes; ``at_epoch``, ``start_epoch``, ``end_epoch``: epoch seconds).

    Per EVSE: ``amps`` (A per phase), ``phases`` (0: idle) and ``state``
    (``charging``, ``paused`` or ``idle``). Per circuit: ``loads`` and
    ``limits`` (A per circuit phase) and ``watt_limits`` (None: no power limit).
    """

    at_epoch: int
    start_epoch: int
    end_epoch: int
    amps: dict[EvseKey, float]
    phases: dict[EvseKey, int]
    state: dict[EvseKey, str]
    loads: dict[str, PhaseAmps]
    limits: dict[str, PhaseAmps]
    watt_limits: dict[str, float | None]

    @property
    def at(self) -> datetime:
        """The instant asked about, a UTC datetime (``at_epoch``: epoch seconds)."""
        return from_epoch(self.at_epoch)

    @property
    def start(self) -> datetime:
        """The slot's start, a UTC datetime (``start_epoch``: epoch seconds)."""
        return from_epoch(self.start_epoch)

    @property
    def end(self) -> datetime:
        """The slot's end, a UTC datetime (``end_epoch``: epoch seconds)."""
        return from_epoch(self.end_epoch)


def check_instant(start: int, end: int, at: datetime | int) -> int:
    """``at`` as epoch seconds, or a QueryError when it lies outside ``[start, end)``."""
    t = epoch_or_datetime(at, "at")
    if not start <= t < end:
        raise QueryError(
            f"{format_timestamp(from_epoch(t))} lies outside the allocation's window "
            f"[{format_timestamp(from_epoch(start))}, {format_timestamp(from_epoch(end))})",
            field="at",
        )
    return t


def limits_at(allocation: Allocation, at: datetime | int) -> LimitsAt:
    """Every EVSE's limit and every circuit's load at ``at``: the values of its slot.

    The allocation is constant within a slot, so this is a lookup, not a
    computation; ``at`` outside the window is a QueryError (field ``at``).
    """
    t = check_instant(allocation.start_epoch, allocation.end_epoch, at)
    k = bisect_right(allocation.boundaries, t) - 1
    state = {
        key: "paused"
        if allocation.paused[key][k]
        else "idle"
        if allocation.sessions[key][k] < 0
        else "charging"
        for key in allocation.amps
    }
    return LimitsAt(
        at_epoch=t,
        start_epoch=allocation.boundaries[k],
        end_epoch=allocation.boundaries[k + 1],
        amps={key: v[k] for key, v in allocation.amps.items()},
        phases={key: v[k] for key, v in allocation.phases.items()},
        state=state,
        loads={c: v[k] for c, v in allocation.loads.items()},
        limits={c: v[k] for c, v in allocation.limits.items()},
        watt_limits={c: v[k] for c, v in allocation.watt_limits.items()},
    )


def format_limits_at(view: LimitsAt, site: Site) -> str:
    """Tables of every EVSE's limit and every circuit's load at the instant (local time)."""
    at = from_epoch(view.at_epoch).astimezone(site.zone)
    rows = [
        [
            f"{pile.id}/{evse.id}",
            pile.circuit,
            f"{view.amps[(pile.id, evse.id)]:.1f}",
            str(view.phases[(pile.id, evse.id)]),
            view.state[(pile.id, evse.id)],
        ]
        for pile in site.piles
        for evse in pile.evses
    ]
    evse_table = _table(["EVSE", "circuit", "A per phase", "phases", "state"], rows)
    crows = []
    for circuit, load in view.loads.items():
        watts = view.watt_limits[circuit]
        crows.append(
            [
                circuit,
                " / ".join(f"{x:.1f}" for x in load),
                " / ".join(f"{x:.1f}" for x in view.limits[circuit]),
                f"{sum(load) * site.voltage / 1000:.1f}",
                "-" if watts is None else f"{watts / 1000:.1f}",
            ]
        )
    circuit_table = _table(
        ["circuit", "load A L1/L2/L3", "limit A L1/L2/L3", "load kW", "limit kW"], crows
    )
    return (
        f"limits at {at:%Y-%m-%d %H:%M:%S %Z} (slot {_clock(view.start_epoch, site)}-"
        f"{_clock(view.end_epoch, site)})\n\n{evse_table}\n\n{circuit_table}"
    )


# ------------------------------------------------------------------ rendering


def _clock(t: int, site: Site) -> str:
    return from_epoch(t).astimezone(site.zone).strftime("%H:%M")


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    lines = [
        "  ".join(
            h.ljust(w) if i == 0 else h.rjust(w)
            for i, (h, w) in enumerate(zip(headers, widths, strict=True))
        )
    ]
    lines.append("-" * len(lines[0]))
    for r in rows:
        lines.append(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )
    return "\n".join(lines)


TABLE_WIDTH = 100
"""Columns the command line's tables fit in unless ``wide`` (``--wide``) is asked for."""


def _visits(evse: Any, site: Site) -> list[str]:
    """An EVSE's sessions as ``HH:MM-HH:MM Nph``, in time order."""
    return [
        f"{_clock(_epoch(s.arrive), site)}-{_clock(_epoch(s.leave), site)} {s.phases}ph"
        for s in sorted(evse.sessions, key=lambda s: (_epoch(s.arrive), _epoch(s.leave)))
    ]


def _fit_visits(visits: list[str], room: int) -> str:
    """As many visits as fit in ``room`` characters, then ``+N more``."""
    if not visits:
        return "-"
    full = ", ".join(visits)
    if len(full) <= room:
        return full
    shown: list[str] = []
    for i, visit in enumerate(visits):
        rest = len(visits) - i - 1
        candidate = ", ".join([*shown, visit]) + (f", +{rest} more" if rest else "")
        if len(candidate) > room and shown:
            break
        shown.append(visit)
    rest = len(visits) - len(shown)
    return ", ".join(shown) + (f", +{rest} more" if rest else "")


def format_allocation(allocation: Allocation, *, wide: bool = False) -> str:
    """Tables per EVSE (sessions, limits, energy) and per circuit (peak per phase vs limit).

    The EVSE table fits :data:`TABLE_WIDTH` columns: the wiring is left out and the
    vehicles column shows the first sessions (in time order) and how many more. With
    ``wide`` every column and every session is shown.
    """
    site = allocation.site
    rows = []
    visits_of = []
    for pile in site.piles:
        for evse in pile.evses:
            key = (pile.id, evse.id)
            charging = [
                a
                for a, s in zip(allocation.amps[key], allocation.sessions[key], strict=True)
                if s >= 0
            ]
            paused = sum(
                b - a
                for (a, b), p in zip(allocation.slots(), allocation.paused[key], strict=True)
                if p
            )
            visits_of.append(_visits(evse, site))
            rows.append(
                [
                    f"{pile.id}/{evse.id}",
                    pile.circuit,
                    pile.phase_rotation,
                    "",
                    f"{min(charging):.1f}" if charging else "-",
                    f"{max(charging):.1f}" if charging else "-",
                    f"{paused // 60}",
                    f"{allocation.energy_kwh(key):.1f}",
                ]
            )
    headers = [
        "EVSE",
        "circuit",
        "wiring",
        "vehicles (local time)",
        "min A",
        "max A",
        "paused min",
        "kWh max",
    ]
    if not wide:
        headers.pop(2)
        for row in rows:
            row.pop(2)
    column = headers.index("vehicles (local time)")
    others = sum(
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
        for i, h in enumerate(headers)
        if i != column
    )
    room = max(len(headers[column]), TABLE_WIDTH - others - 2 * (len(headers) - 1))
    for row, visits in zip(rows, visits_of, strict=True):
        row[column] = ", ".join(visits) or "-" if wide else _fit_visits(visits, room)
    evse_table = _table(headers, rows)
    crows = []
    for circuit, loads in allocation.loads.items():
        peaks = [max(load[p] for load in loads) for p in range(3)]
        lows = [min(limit[p] for limit in allocation.limits[circuit]) for p in range(3)]
        watts = max(sum(load) for load in loads) * site.voltage
        watt_limits = [w for w in allocation.watt_limits[circuit] if w is not None]
        crows.append(
            [
                circuit,
                " / ".join(f"{x:.1f}" for x in peaks),
                " / ".join(f"{x:.0f}" for x in lows),
                f"{watts / 1000:.1f}",
                f"{min(watt_limits) / 1000:.1f}" if watt_limits else "-",
            ]
        )
    circuit_table = _table(
        ["circuit", "peak A L1/L2/L3", "lowest limit A", "peak kW", "lowest limit kW"], crows
    )
    over = allocation.overloads()
    verdict = "no circuit is ever over its limit" if not over else f"{len(over)} OVERLOADS"
    day = from_epoch(allocation.start_epoch).astimezone(site.zone)
    return (
        f"{site.name}: {site.evse_count()} EVSEs, {len(allocation.slots())} slots from "
        f"{day:%Y-%m-%d %H:%M %Z}, policy {allocation.policy}\n\n"
        f"{evse_table}\n\n{circuit_table}\n\n{verdict}"
    )


def _epoch(value: datetime) -> int:
    return epoch_or_datetime(value, "time")


def format_site_report(report: SiteReport) -> str:
    """Per pile: peak per phase and energy; then every overload interval."""
    site = report.site
    rows = []
    for station in report.stations:
        rows.append(
            [
                station.pile,
                station.circuit,
                " / ".join(f"{x:.1f}" for x in station.peak_amps),
                _clock(station.peak_at_epoch, site),
                f"{station.peak_watts / 1000:.1f}",
                f"{station.energy_kwh:.1f}",
            ]
        )
    text = _table(["pile", "circuit", "peak A L1/L2/L3", "at", "peak kW", "kWh max"], rows)
    if not report.overloads:
        return text + "\n\nno circuit would be over its limit"
    in_time_order = sorted(report.overloads, key=lambda o: (o[1], o[2], o[0]))
    lines = [
        f"  {c}: {_clock(a, site)}-{_clock(b, site)} {what}" for c, a, b, what in in_time_order
    ]
    return text + f"\n\n{len(report.overloads)} overloads:\n" + "\n".join(lines)

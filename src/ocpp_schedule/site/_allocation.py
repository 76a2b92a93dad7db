"""Site load balancing: per-EVSE limits over a window that never trip a breaker, shared fairly.

:func:`balance` cuts the window into slots (``resolution`` seconds, or at
every change of input when ``resolution`` is None) and in each slot gives
every EVSE with a vehicle a current per phase such that:

- no circuit phase anywhere in the tree carries more than its limit, and no
  circuit more than its total power, at any instant of the slot (a slot uses
  the lowest limits and EVSE caps that occur within it, and counts a vehicle
  present for the whole slot if it is there at any moment of it);
- no EVSE gets more than its own limit: its composite schedule (the profiles
  its pile holds, with the session as the transaction), its hardware limit and
  the vehicle's own maximum;
- the split is weighted max-min fair (:mod:`ocpp_schedule.site._fairshare`), with the
  weights of the :mod:`policy <ocpp_schedule.policies>`;
- a session that would get less than its minimum current is paused (0 A)
  rather than given a trickle; the lowest pause rank of the policy goes first,
  one at a time, until everyone left charging gets at least their minimum.

Limits are rounded down to 0.1 A. Vehicles load the circuit phases their
pile is wired to (phase rotation): a 1-phase vehicle loads the circuit phase
of the pile's L1.
"""

from __future__ import annotations

import math
import operator
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import compress, pairwise
from typing import Any, NamedTuple

from ..engine._collector import pauses_collector
from ..errors import QueryError, SafetyError
from ..wire._timestamps import check_window, epoch_or_datetime, from_epoch, to_epoch
from ._model import MAX_WEIGHT, MIN_WEIGHT, Evse, Pile, Session, Site
from ._planner import DeadlineAware
from ._planning import PlanDemand, Planner, PlanningProblem, PlanSession
from ._policies import Policy, Rank
from ._slotshare import _REL_TOL, Memo, _Demand, _floor_tenth, _solve
from ._timelines import (
    MAX_CELLS,
    MAX_SLOTS,
    PhaseAmps,
    Piece,
    check_circuit_steps,
    check_size,
    circuit_timeline,
    evse_timeline,
    pile_store,
    pile_transactions,
)

__all__ = ["JOULES_PER_KWH", "Allocation", "EvseKey", "balance", "present_seconds"]

EvseKey = tuple[str, int]
"""``(pile id, EVSE id)``."""

_INF = math.inf

JOULES_PER_KWH = 3.6e6
"""W x s per kWh: energy in kWh is A x phases x V x s / JOULES_PER_KWH."""


def present_seconds(session: Session, start: int, end: int) -> int:
    """How many seconds of ``[start, end)`` (epoch s) the session's vehicle is on its EVSE."""
    return max(0, min(end, to_epoch(session.leave)) - max(start, to_epoch(session.arrive)))


@dataclass(frozen=True)
class Allocation:
    """The result of :func:`balance`: per slot, each EVSE's limit and each circuit's load.

    ``boundaries`` are the slot edges (epoch seconds, one more than the
    slots). Per EVSE: ``amps`` (the limit given, A per phase; 0 when idle or
    paused), ``phases`` (phases the vehicle loads; 0 when idle), ``caps`` (the
    EVSE's own limit), ``sessions`` (index of the session, -1 when idle) and
    ``paused``. Per circuit: ``loads`` (A per circuit phase), ``limits``
    (A per phase) and ``watt_limits``.
    """

    site: Site
    policy: str
    boundaries: tuple[int, ...]
    amps: dict[EvseKey, tuple[float, ...]]
    phases: dict[EvseKey, tuple[int, ...]]
    caps: dict[EvseKey, tuple[float, ...]]
    sessions: dict[EvseKey, tuple[int, ...]]
    paused: dict[EvseKey, tuple[bool, ...]]
    loads: dict[str, tuple[PhaseAmps, ...]]
    limits: dict[str, tuple[PhaseAmps, ...]]
    watt_limits: dict[str, tuple[float | None, ...]]
    phase_map: dict[EvseKey, tuple[int, ...]] = field(repr=False)
    pinned: dict[EvseKey, tuple[bool, ...]] = field(default_factory=dict, repr=False)
    """Per EVSE and slot: a TxProfile the pile holds for a session that arrives after
    the window start governs it, so no plan sent before that arrival can lower it; its
    ``amps`` are then what it draws under that TxProfile (docs/semantics.md B13)."""

    @property
    def start(self) -> datetime:
        """Window start, a UTC datetime (``start_epoch``: epoch seconds)."""
        return from_epoch(self.boundaries[0])

    @property
    def end(self) -> datetime:
        """Window end, a UTC datetime (``end_epoch``: epoch seconds)."""
        return from_epoch(self.boundaries[-1])

    @property
    def start_epoch(self) -> int:
        """Window start, epoch seconds."""
        return self.boundaries[0]

    @property
    def end_epoch(self) -> int:
        """Window end, epoch seconds."""
        return self.boundaries[-1]

    def slots(self) -> list[tuple[int, int]]:
        """The slots as ``(start, end)`` epoch seconds."""
        b = self.boundaries
        return [(b[k], b[k + 1]) for k in range(len(b) - 1)]

    def evse_periods(self, key: EvseKey) -> list[tuple[int, int, float, int]]:
        """An EVSE's limits as merged ``(start, end, amps, phases)`` pieces."""
        out: list[tuple[int, int, float, int]] = []
        bounds = self.boundaries
        amps_of, phases_of = self.amps[key], self.phases[key]
        if not len(amps_of) == len(phases_of) == len(bounds) - 1:
            raise ValueError(f"allocation rows of {key} do not match its slots")
        # Slots are contiguous: a piece grows while amps and phases stay the same.
        first = 0
        for k in range(1, len(amps_of) + 1):
            if (
                k == len(amps_of)
                or amps_of[k] != amps_of[first]
                or phases_of[k] != phases_of[first]
            ):
                out.append((bounds[first], bounds[k], amps_of[first], phases_of[first]))
                first = k
        return out

    def energy_kwh(self, key: EvseKey) -> float:
        """The most energy the EVSE can draw under its limits over the window (kWh).

        Only the time a vehicle is actually there counts (a slot in which it
        arrives counts from its arrival).
        """
        pile = next(p for p in self.site.piles if p.id == key[0])
        evse = next(e for e in pile.evses if e.id == key[1])
        volts = self.site.voltage
        total = 0.0
        rows = zip(self.slots(), self.amps[key], self.phases[key], self.sessions[key], strict=True)
        for (a, b), amps, phases, session in rows:
            if amps <= 0 or session < 0:
                continue
            present = sum(present_seconds(s, a, b) for s in evse.sessions)
            total += amps * phases * volts * present
        return total / JOULES_PER_KWH

    def overloads(self, tolerance: float = 1e-6) -> list[tuple[str, int, int, str]]:
        """Each (circuit, slot start, slot end, what) where a load exceeds a limit; [] if none."""
        out = []
        volts = self.site.voltage
        for circuit, loads in self.loads.items():
            for k, ((a, b), load) in enumerate(zip(self.slots(), loads, strict=True)):
                limit = self.limits[circuit][k]
                for p in range(3):
                    if load[p] > limit[p] + tolerance:
                        out.append((circuit, a, b, f"L{p + 1} {load[p]:.1f} A > {limit[p]:.1f} A"))
                watts = self.watt_limits[circuit][k]
                if watts is not None and sum(load) * volts > watts + tolerance * volts:
                    out.append((circuit, a, b, f"{sum(load) * volts:.0f} W > {watts:.0f} W"))
        return out


# --------------------------------------------------------------------- balance


class _SlotEvse(NamedTuple):
    """An EVSE within one slot: what every piece of the slot allows, together."""

    cap: float  # the lowest own limit of the slot's pieces
    phases: int  # the most phases
    session: int  # the first session (-1: none)
    sessions: tuple[int, ...]  # every session present
    pinned: bool  # a piece is governed by a TxProfile the plan cannot replace
    draw: float  # the highest own limit of the slot's pieces (what a pinned EVSE draws)


_IDLE = _SlotEvse(0.0, 0, -1, (), False, 0.0)


@pauses_collector
def balance(
    site: Site,
    *,
    start: datetime | int,
    duration: int,
    resolution: int | None = 900,
    policy: Policy | Planner | None = None,
    progress: Callable[[int, int], None] | None = None,
    align: bool = False,
) -> Allocation:
    """Share the site's supply among its charging sessions over ``[start, start + duration)``.

    ``resolution`` is the slot length in seconds (900: the usual 15-minute
    profile periods); None cuts slots at every change of input instead
    (exact, but more slots). ``align`` puts the slot edges on a fixed grid (whole
    multiples of ``resolution`` since the epoch; the first and last slots may be
    shorter), so that re-plans made at different instants cut the same slots (B19).
    ``policy`` defaults to :class:`~ocpp_schedule.DeadlineAware`
    (with no energy needs and one priority class, the same limits as :class:`EqualShare`).

    The result is checked before it is returned (:func:`_verify`): every
    circuit phase and power limit holds at every instant, every EVSE is within
    its own limit, every nonzero limit meets the session's minimum; otherwise
    :class:`~ocpp_schedule.errors.SafetyError`. Sizes are bounded before the
    work (:data:`~ocpp_schedule.site.MAX_SLOTS`,
    :data:`~ocpp_schedule.site.MAX_CELLS`): QueryError.

    The cyclic garbage collector is paused while it works (it makes no reference cycles;
    docs/performance.md, BAL16C), as for ``send_plan``.
    """
    pol = policy or DeadlineAware()
    s = epoch_or_datetime(start, "start")
    if isinstance(duration, bool) or not isinstance(duration, int) or duration <= 0:
        raise QueryError("duration must be a positive number of seconds", field="duration")
    if resolution is not None and (
        isinstance(resolution, bool) or not isinstance(resolution, int) or resolution <= 0
    ):
        raise QueryError("resolution must be a positive number of seconds", field="resolution")
    check_window(s, duration, margin=2 * 86400)
    e = s + duration
    width = site.evse_count() + len(site.paths())
    if resolution is not None:
        _check_slots(-(-duration // resolution) + (1 if align else 0), width)
    check_circuit_steps(site, s, e)
    zone = site.zone
    paths = site.paths()
    circuit_pieces = {
        c.id: circuit_timeline(c, zone, s, e, site.voltage) for c, _ in site.grid.walk()
    }
    evse_pieces: dict[EvseKey, list[Piece]] = {}
    meta: dict[EvseKey, tuple[Pile, Evse]] = {}
    counted = sum(len(p) for p in circuit_pieces.values())
    for pile in site.piles:
        transactions = pile_transactions(pile)  # once for the store and the timelines
        store, config = pile_store(pile, site, transactions)
        for evse, own in zip(pile.evses, transactions, strict=True):
            key = (pile.id, evse.id)
            evse_pieces[key] = evse_timeline(
                pile, evse, store, config, s, e, pin_after=s, transactions=own
            )
            meta[key] = (pile, evse)
            counted += len(evse_pieces[key])
            check_size("the input pieces (EVSE and circuit limits)", counted, MAX_CELLS)
    boundaries = _boundaries(s, e, resolution, evse_pieces, circuit_pieces, align)
    slots = list(pairwise(boundaries))
    _check_slots(len(slots), width)
    ends = boundaries[1:]
    slot_evses = {k: _aggregate_evse(p, slots, ends) for k, p in evse_pieces.items()}
    slot_circuits = {c: _aggregate_circuit(p, slots) for c, p in circuit_pieces.items()}
    wiring = {pile.id: tuple(pile.circuit_phase(p) for p in range(3)) for pile in site.piles}
    phase_map = {key: wiring[pile.id] for key, (pile, _) in meta.items()}  # one per pile
    # Each EVSE's runs of slots with one entry, found once for the problem and the result.
    runs = {key: _same_runs(per_slot) for key, per_slot in slot_evses.items()}
    if isinstance(pol, Planner):
        problem = _problem(
            site, boundaries, meta, paths, phase_map, slot_circuits, slot_evses, runs
        )
        planned: Sequence[Mapping[EvseKey, float]]
        if isinstance(pol, DeadlineAware):
            planned = pol.plan(problem, progress=progress)  # reports each slot
        else:
            planned = pol.plan(problem)
            if progress is not None:
                progress(len(slots), len(slots))
        given = _apply_plan(problem, planned, pol.name)
    else:
        active_per_slot = _active(slot_evses, len(slots))  # a planner reads the runs instead
        given = _columns(
            _share_slots(
                site, pol, meta, paths, phase_map, active_per_slot, slot_circuits, progress
            ),
            len(slots),
        )
    allocation = _allocation(
        site, pol.name, boundaries, slot_evses, slot_circuits, given, phase_map, runs
    )
    _verify(allocation, evse_pieces, circuit_pieces, meta)
    return allocation


Active = tuple[list[EvseKey], list[_SlotEvse]]
"""One slot's EVSEs with a vehicle and their entries, as two lists in the same order (two
lists per slot rather than a pair per cell: no object per cell to build and collect)."""


def _active(slot_evses: dict[EvseKey, list[_SlotEvse]], slots: int) -> list[Active]:
    """Per slot, the EVSEs with a vehicle (in the site's order) and their entries."""
    out: list[Active] = [([], []) for _ in range(slots)]
    for key, per_slot in slot_evses.items():
        # Run by run of one entry (an idle stretch is one test, not one per slot).
        for first, end in _same_runs(per_slot):
            entry = per_slot[first]
            if entry.session >= 0:
                for keys, entries in out[first:end]:
                    keys.append(key)
                    entries.append(entry)
    return out


def _share_slots(
    site: Site,
    pol: Policy,
    meta: dict[EvseKey, tuple[Pile, Evse]],
    paths: dict[str, tuple[str, ...]],
    phase_map: dict[EvseKey, tuple[int, ...]],
    active_per_slot: list[Active],
    slot_circuits: dict[str, list[tuple[PhaseAmps, float | None]]],
    progress: Callable[[int, int], None] | None,
) -> list[dict[EvseKey, tuple[float, bool]]]:
    """Each slot on its own: the policy's weighted max-min fair shares (B3)."""
    results: list[dict[EvseKey, tuple[float, bool]]] = []
    cache: dict[tuple[object, ...], dict[EvseKey, tuple[float, bool]]] = {}
    fixed: dict[tuple[EvseKey, int], tuple[float, float, Rank]] = {}
    built: dict[tuple[EvseKey, _SlotEvse], _Demand] = {}
    memo: Memo = {}
    for k, active in enumerate(active_per_slot):
        demands = []
        for key, entry in zip(*active, strict=True):
            demand = built.get((key, entry))
            if demand is None:
                demand = _demand(key, entry, meta, paths, phase_map, pol, fixed)
                built[(key, entry)] = demand
            demands.append(demand)
        limits = {c: per_slot[k] for c, per_slot in slot_circuits.items()}
        # Everything the slot's solution depends on, the pause ranks (arrival order) included.
        signature = (tuple(demands), tuple(sorted(limits.items())))
        found = cache.get(signature)
        if found is None:
            found = _solve(demands, limits, site.voltage, memo)
            cache[signature] = found
        results.append(found)
        if progress is not None:
            progress(k + 1, len(active_per_slot))
    return results


def _problem(
    site: Site,
    boundaries: tuple[int, ...],
    meta: dict[EvseKey, tuple[Pile, Evse]],
    paths: dict[str, tuple[str, ...]],
    phase_map: dict[EvseKey, tuple[int, ...]],
    slot_circuits: dict[str, list[tuple[PhaseAmps, float | None]]],
    slot_evses: dict[EvseKey, list[_SlotEvse]],
    same_runs: dict[EvseKey, list[tuple[int, int]]] | None = None,
) -> PlanningProblem:
    """The window as plain data for a planner (:mod:`ocpp_schedule.site._planning`).

    Built EVSE by EVSE over its runs of slots with one entry (a piece of its timeline,
    :func:`_entry_runs`), not cell by cell: a run's sessions are read once, and the slots
    of a run with the same seconds present share one (frozen) demand. Each slot's row
    lists its EVSEs in the site's order (as :func:`_active` does); sessions are numbered
    in order of first appearance, slot by slot (:func:`_number_sessions`). ``same_runs``:
    each EVSE's :func:`_same_runs`, when the caller has them.
    """
    slots = len(boundaries) - 1
    runs = _entry_runs(slot_evses, same_runs)
    index, sessions = _number_sessions(runs, meta)
    rows: list[list[PlanDemand]] = [[] for _ in range(slots)]
    widths = [b - a for a, b in pairwise(boundaries)]
    for key, own in runs.items():
        pile, evse = meta[key]
        wiring = phase_map[key]
        path = paths[pile.circuit]
        # The entry, seconds present and demand of this EVSE's last slot.
        last_entry: _SlotEvse | None = None
        last_present = -1
        demand: PlanDemand | None = None
        for first, end, entry in own:
            stays = [
                (sessions[index[(key, i)]].arrive, sessions[index[(key, i)]].leave)
                for i in entry.sessions
            ]
            if entry is not last_entry:
                last_entry, last_present = entry, -1
            for k, present in zip(
                range(first, end), _present(boundaries, widths, first, end, stays), strict=True
            ):
                if present != last_present or demand is None:
                    demand = PlanDemand(
                        key=key,
                        session=index[(key, entry.session)],
                        cap=entry.draw if entry.pinned else entry.cap,
                        phases=entry.phases,
                        circuit_phases=wiring[: entry.phases],
                        path=path,
                        min_amps=max(evse.sessions[i].min_amps for i in entry.sessions),
                        present=present,
                        pinned=entry.pinned,
                    )
                    last_present = present
                rows[k].append(demand)
    limits = tuple({c: per_slot[k] for c, per_slot in slot_circuits.items()} for k in range(slots))
    demands = tuple(tuple(row) for row in rows)
    return PlanningProblem(boundaries, site.voltage, tuple(sessions), demands, limits)


def _present(
    boundaries: tuple[int, ...],
    widths: list[int],
    first: int,
    end: int,
    stays: list[tuple[int, int]],
) -> list[int]:
    """Per slot of ``[first, end)``, the seconds a run's vehicles are present in it: for
    the ``stays`` (arrival, departure) of its sessions, :func:`present_seconds` summed and
    at most the slot.

    With one stay, the slots that lie within it have their whole width present: found by
    bisection and copied from ``widths``; only the slots at its edges are worked out."""
    if len(stays) != 1:
        return _present_each(boundaries, first, end, stays)
    arrive, leave = stays[0]
    # The slots starting at or after the arrival and ending by the departure.
    inner = bisect_left(boundaries, arrive, first, end)
    stop = max(inner, bisect_right(boundaries, leave, first + 1, end + 1) - 1)
    return [
        *_present_each(boundaries, first, inner, stays),
        *widths[inner:stop],
        *_present_each(boundaries, stop, end, stays),
    ]


def _present_each(
    boundaries: tuple[int, ...], first: int, end: int, stays: list[tuple[int, int]]
) -> list[int]:
    """:func:`_present` slot by slot (``present_seconds`` with the epochs read once)."""
    out: list[int] = []
    for k in range(first, end):
        a, b = boundaries[k], boundaries[k + 1]
        present = 0
        for arrive, leave in stays:
            present += max(0, min(b, leave) - max(a, arrive))
        out.append(min(present, b - a))
    return out


Run = tuple[int, int, "_SlotEvse"]
"""Slots ``[first, end)`` of one EVSE with the same entry (the same object)."""


def _entry_runs(
    slot_evses: dict[EvseKey, list[_SlotEvse]],
    same_runs: dict[EvseKey, list[tuple[int, int]]] | None = None,
) -> dict[EvseKey, list[Run]]:
    """Per EVSE with a vehicle in some slot (in the site's order): its runs of slots with
    the same entry (:func:`_same_runs`, or ``same_runs`` when given), idle runs left out."""
    out: dict[EvseKey, list[Run]] = {}
    for key, per_slot in slot_evses.items():
        runs = [
            (first, end, per_slot[first])
            for first, end in (_same_runs(per_slot) if same_runs is None else same_runs[key])
            if per_slot[first].session >= 0
        ]
        if runs:
            out[key] = runs
    return out


def _same_runs(per_slot: Sequence[object]) -> list[tuple[int, int]]:
    """The maximal runs ``[first, end)`` of the same object (identity), in order; the
    neighbours are compared and the edges picked in C (``map(operator.is_not)`` through
    ``compress``), not slot by slot."""
    edges = list(compress(range(1, len(per_slot)), map(operator.is_not, per_slot[1:], per_slot)))
    return list(zip([0, *edges], [*edges, len(per_slot)], strict=True))


def _number_sessions(
    runs: dict[EvseKey, list[Run]], meta: dict[EvseKey, tuple[Pile, Evse]]
) -> tuple[dict[tuple[EvseKey, int], int], list[PlanSession]]:
    """The sessions as planning sessions, numbered in order of first appearance: by the slot
    they first meet, then the EVSE's place in the site, then their place in that slot's
    entry (the order a slot-by-slot scan meets them)."""
    firsts: list[tuple[int, int, int, EvseKey, int]] = []
    for place, (key, own) in enumerate(runs.items()):
        seen: set[int] = set()
        for first, _, entry in own:
            for j, i in enumerate(entry.sessions):
                if i not in seen:
                    seen.add(i)
                    firsts.append((first, place, j, key, i))
    firsts.sort(key=lambda t: (t[0], t[1], t[2]))
    index: dict[tuple[EvseKey, int], int] = {}
    sessions: list[PlanSession] = []
    for _, _, _, key, i in firsts:
        evse = meta[key][1]
        index[(key, i)] = len(sessions)
        sessions.append(_plan_session(len(sessions), key, evse, evse.sessions[i]))
    return index, sessions


def _plan_session(index: int, key: EvseKey, evse: Evse, session: Session) -> PlanSession:
    return PlanSession(
        index=index,
        key=key,
        arrive=to_epoch(session.arrive),
        leave=to_epoch(session.leave),
        departure_known=session.departure_known,
        need_kwh=session.need_kwh,
        phases=min(session.phases, evse.phases),
        min_amps=session.min_amps,
        max_amps=session.max_amps,
        weight=session.weight,
        priority=session.priority,
    )


Columns = dict[EvseKey, tuple[list[float], list[bool]]]
"""Per EVSE with a vehicle in some slot: its limit and its paused flag, per slot."""


def _columns(results: list[dict[EvseKey, tuple[float, bool]]], slots: int) -> Columns:
    """Per-slot results (``{EVSE: (limit, paused)}`` per slot) as per-EVSE columns."""
    out: Columns = {}
    for k, row in enumerate(results):
        for key, (amps, paused) in row.items():
            column = out.get(key)
            if column is None:
                column = out[key] = ([0.0] * slots, [False] * slots)
            column[0][k] = amps
            column[1][k] = paused
    return out


def _apply_plan(
    problem: PlanningProblem, planned: Sequence[Mapping[EvseKey, float]], name: str
) -> Columns:
    """A planner's currents as limits: floored to 0.1 A, capped, 0 below the minimum.

    ``paused`` marks an EVSE given 0 A while its session still needs energy (or its
    need is unknown). A plan of the wrong shape or with a current that is not a
    finite number >= 0 is the planner's error: QueryError naming it.

    Per EVSE, the limit of a slot with the same demand (the same object: a run of equal
    slots, :func:`_problem`) and the same planned current as its previous slot is that
    slot's limit again, not computed anew; the energy left is counted in every slot.
    """
    if len(planned) != problem.slots:
        raise QueryError(
            f"policy {name!r} planned {len(planned)} slots for a window of {problem.slots}",
            field="policy",
            rule="a planner returns one mapping per slot",
        )
    volts = problem.voltage
    slots = problem.slots
    left = [s.need_kwh for s in problem.sessions]
    # Per EVSE, one list: the demand, planned current and limit of its last slot, and its
    # columns of limits and paused flags (one lookup per cell, no tuple built per cell).
    state: dict[EvseKey, list[Any]] = {}
    for k, demands in enumerate(problem.demands):
        get = planned[k].get
        for d in demands:
            key = d.key
            x = get(key, 0.0)
            if type(x) is not float or not 0.0 <= x < _INF:
                x = _planned_current(x, name, key, k)
            mine = state.get(key)
            if mine is None:
                mine = state[key] = [None, None, 0.0, [0.0] * slots, [False] * slots]
            if mine[0] is d and mine[1] == x:
                amps = mine[2]
            else:
                if d.pinned:
                    amps = d.cap
                else:
                    amps = _floor_tenth(min(x, d.cap))
                    if amps < d.min_amps:
                        amps = 0.0
                mine[0], mine[1], mine[2] = d, x, amps
            need = left[d.session]
            mine[3][k] = amps
            if amps > 0:
                if need is not None:
                    left[d.session] = need - amps * d.phases * volts * d.present / JOULES_PER_KWH
            elif not d.pinned and (need is None or need > 1e-9):
                mine[4][k] = True
    return {key: (mine[3], mine[4]) for key, mine in state.items()}


def _planned_current(x: object, name: str, key: EvseKey, k: int) -> float:
    """A planned current that is not a plain float: an int as a float, else QueryError."""
    if isinstance(x, bool) or not isinstance(x, int | float) or not 0 <= x < _INF:
        raise QueryError(
            f"policy {name!r} gives {key[0]}/{key[1]} the current {x!r} in slot {k};"
            " currents are finite numbers >= 0",
            field="policy",
            rule="a planner's currents",
        )
    return float(x)


def _check_slots(slots: int, width: int) -> None:
    """Refuse more than MAX_SLOTS slots, or more than MAX_CELLS (EVSEs + circuits) x slots."""
    check_size("the number of slots", slots, MAX_SLOTS, "resolution")
    check_size("(EVSEs + circuits) x slots", slots * width, MAX_CELLS, "resolution")


def _demand(
    key: EvseKey,
    entry: _SlotEvse,
    meta: dict[EvseKey, tuple[Pile, Evse]],
    paths: dict[str, tuple[str, ...]],
    phase_map: dict[EvseKey, tuple[int, ...]],
    pol: Policy,
    fixed: dict[tuple[EvseKey, int], tuple[float, float, Rank]],
) -> _Demand:
    """An EVSE's demand in a slot; with several sessions in it, the strictest of them.

    Strictest: the highest minimum, the lowest weight and the lowest pause rank
    (the cap is already the lowest and the phases the most, B1).
    """
    pile, evse = meta[key]
    params = []
    for session in entry.sessions:
        known = fixed.get((key, session))
        if known is None:
            sess = evse.sessions[session]
            known = (
                _weight(pol, pile, evse, sess),
                sess.min_amps,
                pol.pause_rank(pile, evse, sess),
            )
            fixed[(key, session)] = known
        params.append(known)
    weight = min(p[0] for p in params)
    min_amps = max(p[1] for p in params)
    rank = min(p[2] for p in params)
    cap = entry.draw if entry.pinned else entry.cap
    return _Demand(
        key,
        cap,
        entry.phases,
        phase_map[key][: entry.phases],
        paths[pile.circuit],
        weight,
        min_amps,
        rank,
        entry.session,
        entry.pinned,
    )


def _weight(pol: Policy, pile: Pile, evse: Evse, session: Session) -> float:
    """The policy's weight for a session, refused outside the accepted range."""
    weight = pol.weight(pile, evse, session)
    if (
        isinstance(weight, bool)
        or not isinstance(weight, int | float)
        or not MIN_WEIGHT <= weight <= MAX_WEIGHT
    ):
        raise QueryError(
            f"policy {pol.name!r} gives pile {pile.id} EVSE {evse.id} the weight {weight!r};"
            f" weights must lie within {MIN_WEIGHT:g} .. {MAX_WEIGHT:g}",
            field="policy",
            rule="weight range (docs/semantics.md B12)",
        )
    return float(weight)


def _boundaries(
    start: int,
    end: int,
    resolution: int | None,
    evse_pieces: dict[EvseKey, list[Piece]],
    circuit_pieces: dict[str, list[tuple[int, int, PhaseAmps, float | None]]],
    align: bool = False,
) -> tuple[int, ...]:
    if resolution is not None:
        first = -(-start // resolution) * resolution if align else start
        edges = [start] if first > start else []
        edges.extend(range(first, end, resolution))
        edges.append(end)
        return tuple(edges)
    points = {start, end}
    for pieces in evse_pieces.values():
        for piece in pieces:
            points.add(piece.start)
            points.add(piece.end)
    for cpieces in circuit_pieces.values():
        for a, b, _, _ in cpieces:
            points.add(a)
            points.add(b)
    return tuple(sorted(t for t in points if start <= t <= end))


def _aggregate_evse(
    pieces: list[Piece], slots: list[tuple[int, int]], ends: Sequence[int] | None = None
) -> list[_SlotEvse]:
    """Per slot: the lowest and highest cap, the most phases, the sessions, pinned or not.

    A slot no session meets is idle. A stretch of idle slots, and the slots a piece covers
    alone (one shared entry, built once per piece), are found by bisection on the slot
    ends (``ends``: the slots' ends, given by a caller that has them) and added at once;
    only a slot that meets several pieces, or part of one, is worked out on its own.
    """
    if ends is None:
        ends = [b for _, b in slots]
    out: list[_SlotEvse] = []
    i = 0
    n = len(pieces)
    total = len(slots)
    alone: _SlotEvse | None = None
    alone_of = -1
    k = 0
    while k < total:
        a, b = slots[k]
        while i < n and pieces[i].end <= a:
            i += 1
        if i >= n:
            out += [_IDLE] * (total - k)
            break
        piece = pieces[i]
        if piece.start >= b:
            stop = bisect_right(ends, piece.start, k)  # the slots ending by its start: idle
            out += [_IDLE] * (stop - k)
            k = stop
            continue
        if piece.start <= a and b <= piece.end:
            if alone_of != i:
                alone, alone_of = _alone(piece), i
            assert alone is not None
            stop = bisect_right(ends, piece.end, k)  # the slots ending within it: alone
            out += [alone] * (stop - k)
            k = stop
            continue
        cap, draw, phases = _INF, 0.0, 0
        pinned_any = False
        sessions: list[int] = []
        j = i
        while j < n and pieces[j].start < b:
            piece = pieces[j]
            cap = min(cap, piece.cap)
            draw = max(draw, piece.cap)
            phases = max(phases, piece.phases)
            pinned_any = pinned_any or piece.pinned
            if piece.session not in sessions:
                sessions.append(piece.session)
            j += 1
        out.append(_SlotEvse(cap, phases, sessions[0], tuple(sessions), pinned_any, draw))
        k += 1
    return out


def _alone(piece: Piece) -> _SlotEvse:
    """The entry of a slot that lies within one piece: what the loop of
    :func:`_aggregate_evse` gives for that piece alone."""
    return _SlotEvse(
        min(_INF, piece.cap),
        max(0, piece.phases),
        piece.session,
        (piece.session,),
        piece.pinned,
        max(0.0, piece.cap),
    )


def _aggregate_circuit(
    pieces: list[tuple[int, int, PhaseAmps, float | None]], slots: list[tuple[int, int]]
) -> list[tuple[PhaseAmps, float | None]]:
    """Per slot: the lowest limit per phase and the lowest total over the pieces it meets."""
    out: list[tuple[PhaseAmps, float | None]] = []
    i = 0
    n = len(pieces)
    for a, b in slots:
        while i < n and pieces[i][1] <= a:
            i += 1
        amps = [_INF, _INF, _INF]
        watts: float | None = None
        j = i
        while j < n and pieces[j][0] < b:
            _, _, piece_amps, piece_watts = pieces[j]
            for p in range(3):
                amps[p] = min(amps[p], piece_amps[p])
            if piece_watts is not None:
                watts = piece_watts if watts is None else min(watts, piece_watts)
            j += 1
        out.append(((amps[0], amps[1], amps[2]), watts))
    return out


def _allocation(
    site: Site,
    policy: str,
    boundaries: tuple[int, ...],
    slot_evses: dict[EvseKey, list[_SlotEvse]],
    slot_circuits: dict[str, list[tuple[PhaseAmps, float | None]]],
    given: Columns,
    phase_map: dict[EvseKey, tuple[int, ...]],
    same_runs: dict[EvseKey, list[tuple[int, int]]] | None = None,
) -> Allocation:
    """The result's rows; ``same_runs``: each EVSE's :func:`_same_runs`, when the caller
    has them."""
    amps: dict[EvseKey, tuple[float, ...]] = {}
    phases: dict[EvseKey, tuple[int, ...]] = {}
    caps: dict[EvseKey, tuple[float, ...]] = {}
    sessions: dict[EvseKey, tuple[int, ...]] = {}
    paused: dict[EvseKey, tuple[bool, ...]] = {}
    pinned: dict[EvseKey, tuple[bool, ...]] = {}
    slots = len(boundaries) - 1
    idle = ([0.0] * slots, [False] * slots)
    for key, per_slot in slot_evses.items():
        limits, stopped = given.get(key, idle)
        amps[key] = tuple(limits)
        paused[key] = tuple(stopped)
        caps[key], sessions[key], phases[key], pinned[key] = _entry_columns(
            per_slot, None if same_runs is None else same_runs[key]
        )
    return Allocation(
        site=site,
        policy=policy,
        boundaries=boundaries,
        amps=amps,
        phases=phases,
        caps=caps,
        sessions=sessions,
        paused=paused,
        loads=_circuit_loads(site, slots, amps, phases, phase_map),
        limits={c: tuple(entry[0] for entry in per) for c, per in slot_circuits.items()},
        watt_limits={c: tuple(entry[1] for entry in per) for c, per in slot_circuits.items()},
        phase_map=phase_map,
        pinned=pinned,
    )


def _entry_columns(
    per_slot: list[_SlotEvse], same_runs: list[tuple[int, int]] | None = None
) -> tuple[tuple[float, ...], tuple[int, ...], tuple[int, ...], tuple[bool, ...]]:
    """An EVSE's caps, sessions, phases (0 when idle) and pinned flags, per slot.

    Consecutive slots with the same entry (one piece of its timeline) are one run:
    its values are worked out once and repeated over the run (``same_runs``: its
    :func:`_same_runs`, when the caller has them).
    """
    caps: list[float] = []
    sessions: list[int] = []
    phases: list[int] = []
    pinned: list[bool] = []
    for first, end in _same_runs(per_slot) if same_runs is None else same_runs:
        entry = per_slot[first]
        run = end - first
        caps += [entry.draw if entry.pinned else entry.cap] * run
        sessions += [entry.session] * run
        phases += [entry.phases if entry.session >= 0 else 0] * run
        pinned += [entry.pinned] * run
    return tuple(caps), tuple(sessions), tuple(phases), tuple(pinned)


def _circuit_loads(
    site: Site,
    slots: int,
    amps: dict[EvseKey, tuple[float, ...]],
    phases: dict[EvseKey, tuple[int, ...]],
    phase_map: dict[EvseKey, tuple[int, ...]],
) -> dict[str, tuple[PhaseAmps, ...]]:
    """Per circuit and slot, A per circuit phase: the limits given, summed up the tree.

    Computed from the EVSEs' limits, their phases and the wiring, not taken from
    the solver, so the post-condition checks what is actually handed out.
    """
    paths = site.paths()
    circuit_of = {p.id: p.circuit for p in site.piles}
    # Per circuit, the three circuit phases' columns (one float per slot).
    direct: dict[str, tuple[list[float], list[float], list[float]]] = {}
    add = operator.add
    for key, row in amps.items():
        counts = phases[key]
        if len(row) != slots or len(counts) != slots:
            raise ValueError(f"allocation rows of {key} do not match its slots")
        if not any(row):
            continue  # never given anything: adds nothing
        own = direct.get(circuit_of[key[0]])
        if own is None:
            own = direct[circuit_of[key[0]]] = ([0.0] * slots, [0.0] * slots, [0.0] * slots)
        wiring = phase_map[key]
        # The EVSE adds its limit to the circuit phase of its p-th phase in the slots where
        # it is given something on more than p phases, and 0.0 elsewhere (x + 0.0 is x):
        # whole columns added in C, in the same order (EVSE by EVSE) as one cell at a
        # time. On a phase that every slot given something loads: the row itself.
        whole = min(row) >= 0  # (a negative limit is refused by the EVSE check, not added)
        # The phases counted where a limit is given (> 0: nonzero, when none is negative).
        loaded = (
            list(compress(counts, row))
            if whole
            else [c for g, c in zip(row, counts, strict=True) if g > 0]
        )
        fewest, most = min(loaded), max(loaded)
        for p in range(most):
            column = own[wiring[p]]
            if p < fewest and whole:
                column[:] = map(add, column, row)
            else:
                part = [g if g > 0 and c > p else 0.0 for g, c in zip(row, counts, strict=True)]
                column[:] = map(add, column, part)
    total: dict[str, tuple[list[float], list[float], list[float]]] = {
        c: ([0.0] * slots, [0.0] * slots, [0.0] * slots) for c in paths
    }
    for circuit, columns in direct.items():
        for node in paths[circuit]:
            target = total[node]
            for p in range(3):
                target[p][:] = map(add, target[p], columns[p])
    # Rounded to 10^-9 A: the sum of tenths then reads as it is written (144.9, not
    # 144.89999999999998), whatever order the EVSEs were added in.
    return {
        c: tuple(
            (round(x, 9), round(y, 9), round(z, 9))
            for x, y, z in zip(rows[0], rows[1], rows[2], strict=True)
        )
        for c, rows in total.items()
    }


def _verify(
    allocation: Allocation,
    evse_pieces: dict[EvseKey, list[Piece]],
    circuit_pieces: dict[str, list[tuple[int, int, PhaseAmps, float | None]]],
    meta: dict[EvseKey, tuple[Pile, Evse]],
) -> None:
    """The post-condition of :func:`balance`; SafetyError instead of an unsafe result.

    Checked against the input timelines, instant by instant (every piece that
    meets a slot), not against the per-slot aggregates the solver used.

    Each EVSE and circuit is first checked by bounds over whole pieces (:func:`_evse_clear`,
    :func:`_circuit_clear`, :func:`_no_overloads`: a maximum or minimum over the slots a piece
    meets, taken in C), which holds exactly when no slot breaks the rule; where a bound
    does not hold, the slot-by-slot check runs and names the first slot that breaks it.
    ``_FAST_VERIFY`` False runs the slot-by-slot checks everywhere (the reference).
    """
    slots = allocation.slots()
    bounds = allocation.boundaries
    for key, pieces in evse_pieces.items():
        evse = meta[key][1]
        if not (_FAST_VERIFY and _evse_clear(allocation, key, pieces, evse, bounds)):
            _verify_evse(allocation, key, pieces, evse, slots)
    volts = allocation.site.voltage
    for circuit, limits in circuit_pieces.items():
        loads = allocation.loads[circuit]
        if _FAST_VERIFY and _circuit_clear(loads, limits, bounds, volts):
            continue
        i = 0
        for k, (a, b) in enumerate(slots):
            while i < len(limits) - 1 and limits[i][1] <= a:
                i += 1
            j = i
            load = loads[k]
            while j < len(limits) and limits[j][0] < b:
                _, _, limit, watts = limits[j]
                for p in range(3):
                    if load[p] > limit[p] * (1 + _REL_TOL) + _REL_TOL:
                        _unsafe(circuit, a, f"L{p + 1} {load[p]:.3f} A > {limit[p]:.3f} A")
                power = sum(load) * volts
                if watts is not None and power > watts * (1 + _REL_TOL) + _REL_TOL:
                    _unsafe(circuit, a, f"{power:.1f} W > {watts:.1f} W")
                j += 1
    if _FAST_VERIFY and _no_overloads(allocation):
        return
    over = allocation.overloads()
    if over:
        circuit, a, _, what = over[0]
        _unsafe(circuit, a, what)


_FAST_VERIFY = True
"""Check by bounds over whole pieces first (:func:`_verify`); False: slot by slot only."""


def _meets(bounds: tuple[int, ...], start: int, end: int) -> tuple[int, int]:
    """The slots ``[first, last)`` that meet ``[start, end)``; slot k is ``bounds[k] ..
    bounds[k + 1]``."""
    first = max(0, bisect_right(bounds, start) - 1)
    last = min(len(bounds) - 1, bisect_left(bounds, end))
    return first, last


def _evse_clear(
    allocation: Allocation,
    key: EvseKey,
    pieces: list[Piece],
    evse: Evse,
    bounds: tuple[int, ...],
) -> bool:
    """True only if :func:`_verify_evse` finds nothing: every limit within 0 .. the EVSE's
    maximum, and per piece, over the slots it meets (none pinned), the highest limit within
    the piece's own, the lowest nonzero one at least the session's minimum, the fewest
    phases counted where a limit is given at least the piece's. False: not shown so (a
    pinned slot, or a bound that does not hold), and the slot-by-slot check decides."""
    amps = allocation.amps[key]
    if not amps or min(amps) < 0 or max(amps) > evse.max_amps * (1 + _REL_TOL):
        return False
    phases = allocation.phases[key]
    pinned = allocation.pinned[key]
    some_pinned = True in pinned  # else no piece's slots need scanning for a pinned one
    for piece in pieces:
        first, last = _meets(bounds, piece.start, piece.end)
        if first >= last:
            continue
        if piece.pinned or (some_pinned and any(pinned[first:last])):
            return False
        given = amps[first:last]
        if max(given) > piece.cap * (1 + _REL_TOL):
            return False
        minimum = evse.sessions[piece.session].min_amps
        # A limit strictly between 0 and the minimum: the least nonzero one (every limit
        # is >= 0 here) below the minimum, found in C.
        if min(given) < minimum and min(filter(None, given), default=_INF) < minimum:
            return False
        if min(phases[first:last]) < piece.phases and any(
            g > 0 and c < piece.phases for g, c in zip(given, phases[first:last], strict=True)
        ):
            return False
    return True


def _circuit_clear(
    loads: tuple[PhaseAmps, ...],
    limits: list[tuple[int, int, PhaseAmps, float | None]],
    bounds: tuple[int, ...],
    volts: float,
) -> bool:
    """True only if no slot's load is over a limit piece that meets it: per piece, the
    highest load per phase and the highest total over the slots it meets, taken in C."""
    if not loads:
        return True
    columns = list(zip(*loads, strict=True))  # per phase, one load per slot
    totals = list(map(sum, loads))
    for start, end, limit, watts in limits:
        first, last = _meets(bounds, start, end)
        if first >= last:
            continue
        for p in range(3):
            if max(columns[p][first:last]) > limit[p] * (1 + _REL_TOL) + _REL_TOL:
                return False
        if (
            watts is not None
            and max(totals[first:last]) * volts > watts * (1 + _REL_TOL) + _REL_TOL
        ):
            return False
    return True


def _no_overloads(allocation: Allocation, tolerance: float = 1e-6) -> bool:
    """True only if :meth:`Allocation.overloads` finds none: per circuit and run of slots
    with the same limits, the highest load per phase and the highest total, taken in C."""
    volts = allocation.site.voltage
    for circuit, loads in allocation.loads.items():
        if not loads:
            continue
        limits = allocation.limits[circuit]
        watt_limits = allocation.watt_limits[circuit]
        columns = list(zip(*loads, strict=True))
        totals = list(map(sum, loads))
        for first, last in _same_values(limits, watt_limits):
            limit, watts = limits[first], watt_limits[first]
            for p in range(3):
                if max(columns[p][first:last]) > limit[p] + tolerance:
                    return False
            if watts is not None and max(totals[first:last]) * volts > watts + tolerance * volts:
                return False
    return True


def _same_values(*rows: Sequence[object]) -> list[tuple[int, int]]:
    """The maximal runs ``[first, end)`` over which every row keeps an equal value."""
    n = len(rows[0])
    changed: set[int] = set()
    for row in rows:
        changed.update(k for k, same in enumerate(map(operator.eq, row[1:], row), 1) if not same)
    edges = sorted(changed)
    return list(zip([0, *edges], [*edges, n], strict=True))


def _verify_evse(
    allocation: Allocation,
    key: EvseKey,
    pieces: list[Piece],
    evse: Evse,
    slots: list[tuple[int, int]],
) -> None:
    """An EVSE's limits: within its own limit at every instant, 0 or at least the minimum.

    A pinned slot's limit is what the EVSE draws under its TxProfile: at least
    every pinned piece's own limit, so the circuits were charged with all of it.
    """
    amps = allocation.amps[key]
    phases = allocation.phases[key]
    pinned = allocation.pinned[key]
    where = f"{key[0]}/{key[1]}"
    top = evse.max_amps * (1 + _REL_TOL)
    i = 0
    n = len(pieces)
    checked: tuple[float, int, bool, int, int] | None = None
    for k, (a, b) in enumerate(slots):
        while i < n and pieces[i].end <= a:
            i += 1
        given = amps[k]
        end = i
        while end < n and pieces[end].start < b:
            end += 1
        # A slot with the same limit, phases and pinned flag as the slot before it, under
        # the same pieces, passes the same checks: checking a run of identical rows once
        # IS checking each of its instants (every check below reads only these values).
        seen = (given, phases[k], pinned[k], i, end)
        if seen == checked:
            continue
        checked = seen
        if given < 0 or given > top:
            _unsafe(where, a, f"limit {given} A outside 0 .. {evse.max_amps} A")
        for j in range(i, end):
            piece = pieces[j]
            if piece.phases > phases[k] and (given > 0 or piece.pinned):
                _unsafe(where, a, f"loads {piece.phases} phases, counted {phases[k]}")
            if pinned[k]:
                if piece.pinned and given < piece.cap:
                    _unsafe(where, a, f"draws {piece.cap} A under its TxProfile, counted {given}")
                continue
            if given > piece.cap * (1 + _REL_TOL):
                _unsafe(where, a, f"limit {given} A above its own {piece.cap} A")
            minimum = evse.sessions[piece.session].min_amps
            if 0 < given < minimum:
                _unsafe(where, a, f"limit {given} A below the session's minimum {minimum} A")


def _unsafe(where: str, at: int, what: str) -> None:
    raise SafetyError(
        f"the balanced result would break a limit at {from_epoch(at).isoformat()}: {what}; refused",
        field=where,
        rule="balance post-condition (docs/semantics.md B3)",
    )

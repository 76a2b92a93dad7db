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
- the split is weighted max-min fair (:mod:`ocpp_schedule.fairshare`), with the
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
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from typing import Any, NamedTuple

from dateutil import tz

from .errors import QueryError
from .fairshare import Constraint, share_fairly
from .policies import EqualShare, Policy, Rank
from .site import Evse, Pile, Site
from .timelines import PhaseAmps, Piece, circuit_timeline, evse_timeline, pile_store
from .timeutil import check_window, epoch_or_datetime, to_epoch

__all__ = ["Allocation", "EvseKey", "balance"]

EvseKey = tuple[str, int]
"""``(pile id, EVSE id)``."""

_INF = math.inf


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

    @property
    def start(self) -> int:
        """Window start, epoch seconds."""
        return self.boundaries[0]

    @property
    def end(self) -> int:
        """Window end, epoch seconds."""
        return self.boundaries[-1]

    def slots(self) -> list[tuple[int, int]]:
        """The slots as ``(start, end)`` epoch seconds."""
        b = self.boundaries
        return [(b[k], b[k + 1]) for k in range(len(b) - 1)]

    def evse_periods(self, key: EvseKey) -> list[tuple[int, int, float, int]]:
        """An EVSE's limits as merged ``(start, end, amps, phases)`` pieces."""
        out: list[tuple[int, int, float, int]] = []
        for (a, b), amps, phases in zip(
            self.slots(), self.amps[key], self.phases[key], strict=True
        ):
            if out and out[-1][2] == amps and out[-1][3] == phases and out[-1][1] == a:
                out[-1] = (out[-1][0], b, amps, phases)
            else:
                out.append((a, b, amps, phases))
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
            present = sum(
                max(0, min(b, to_epoch(s.leave)) - max(a, to_epoch(s.arrive)))
                for s in evse.sessions
            )
            total += amps * phases * volts * present
        return total / 3.6e6

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


class _Demand(NamedTuple):
    key: EvseKey
    cap: float
    phases: int
    circuit_phases: tuple[int, ...]
    path: tuple[str, ...]
    weight: float
    min_amps: float
    rank: Rank
    session: int


def balance(
    site: Site,
    *,
    start: datetime | int,
    duration: int,
    resolution: int | None = 900,
    policy: Policy | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Allocation:
    """Share the site's supply among its charging sessions over ``[start, start + duration)``.

    ``resolution`` is the slot length in seconds (900: the usual 15-minute
    profile periods); None cuts slots at every change of input instead
    (exact, but more slots). ``policy`` defaults to :class:`EqualShare`.
    """
    pol = policy or EqualShare()
    s = epoch_or_datetime(start, "start")
    if isinstance(duration, bool) or not isinstance(duration, int) or duration <= 0:
        raise QueryError("duration must be a positive number of seconds", field="duration")
    if resolution is not None and (not isinstance(resolution, int) or resolution <= 0):
        raise QueryError("resolution must be a positive number of seconds", field="resolution")
    check_window(s, duration, margin=2 * 86400)
    e = s + duration
    zone = tz.gettz(site.time_zone)
    paths = site.paths()
    circuit_pieces = {
        c.id: circuit_timeline(c, zone, s, e, site.voltage) for c, _ in site.grid.walk()
    }
    evse_pieces: dict[EvseKey, list[Piece]] = {}
    meta: dict[EvseKey, tuple[Pile, Evse]] = {}
    for pile in site.piles:
        store, config = pile_store(pile, site)
        for evse in pile.evses:
            key = (pile.id, evse.id)
            evse_pieces[key] = evse_timeline(pile, evse, store, config, s, e)
            meta[key] = (pile, evse)
    boundaries = _boundaries(s, e, resolution, evse_pieces, circuit_pieces)
    slots = list(pairwise(boundaries))
    slot_caps = {k: _aggregate_evse(p, slots) for k, p in evse_pieces.items()}
    slot_circuits = {c: _aggregate_circuit(p, slots) for c, p in circuit_pieces.items()}
    phase_map = {
        key: tuple(pile.circuit_phase(p) for p in range(3)) for key, (pile, _) in meta.items()
    }
    results: list[dict[EvseKey, tuple[float, bool]]] = []
    slot_loads: list[dict[str, list[float]]] = []
    cache: dict[tuple[object, ...], tuple[dict[EvseKey, tuple[float, bool]], Any]] = {}
    active_per_slot: list[list[tuple[EvseKey, float, int, int]]] = [[] for _ in slots]
    for key, per_slot in slot_caps.items():
        for k, (cap, phases, session) in enumerate(per_slot):
            if session >= 0:
                active_per_slot[k].append((key, cap, phases, session))
    fixed: dict[tuple[EvseKey, int], tuple[tuple[str, ...], float, float, Rank]] = {}
    for k, active in enumerate(active_per_slot):
        demands = []
        for key, cap, phases, session in active:
            known = fixed.get((key, session))
            if known is None:
                pile, evse = meta[key]
                sess = evse.sessions[session]
                known = (
                    paths[pile.circuit],
                    pol.weight(pile, evse, sess),
                    sess.min_amps,
                    pol.pause_rank(pile, evse, sess),
                )
                fixed[(key, session)] = known
            path, weight, min_amps, rank = known
            demands.append(
                _Demand(
                    key,
                    cap,
                    phases,
                    phase_map[key][:phases],
                    path,
                    weight,
                    min_amps,
                    rank,
                    session,
                )
            )
        limits = {c: per_slot[k] for c, per_slot in slot_circuits.items()}
        signature = (
            tuple((d.key, d.cap, d.phases, d.weight, d.min_amps) for d in demands),
            tuple(sorted(limits.items())),
        )
        found = cache.get(signature)
        if found is None:
            found = _solve(demands, limits, site.voltage)
            cache[signature] = found
        results.append(found[0])
        slot_loads.append(found[1])
        if progress is not None:
            progress(k + 1, len(slots))
    return _allocation(
        site, pol.name, boundaries, slot_caps, slot_circuits, results, slot_loads, phase_map
    )


def _boundaries(
    start: int,
    end: int,
    resolution: int | None,
    evse_pieces: dict[EvseKey, list[Piece]],
    circuit_pieces: dict[str, list[tuple[int, int, PhaseAmps, float | None]]],
) -> tuple[int, ...]:
    if resolution is not None:
        edges = list(range(start, end, resolution))
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
    pieces: list[Piece], slots: list[tuple[int, int]]
) -> list[tuple[float, int, int]]:
    """Per slot: (lowest cap, most phases, first session) over the pieces it meets.

    A slot no session meets is ``(0.0, 0, -1)``.
    """
    out: list[tuple[float, int, int]] = []
    i = 0
    n = len(pieces)
    for a, b in slots:
        while i < n and pieces[i].end <= a:
            i += 1
        cap, phases, session = _INF, 0, -1
        j = i
        while j < n and pieces[j].start < b:
            piece = pieces[j]
            cap = min(cap, piece.cap)
            phases = max(phases, piece.phases)
            if session < 0:
                session = piece.session
            j += 1
        out.append((0.0, 0, -1) if session < 0 else (cap, phases, session))
    return out


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


def _floor_tenth(value: float) -> float:
    return math.floor(value * 10.0 + 5e-7) / 10.0


def _solve(
    demands: Sequence[_Demand],
    limits: dict[str, tuple[PhaseAmps, float | None]],
    voltage: float,
) -> tuple[dict[EvseKey, tuple[float, bool]], dict[str, list[float]]]:
    """One slot: the fair shares, pausing the lowest ranks until every share meets its minimum.

    Returns each EVSE's (limit, paused) and the load per circuit and circuit phase.
    """
    active = [d for d in demands if d.cap >= d.min_amps and d.cap > 0]
    paused = {d.key for d in demands if not (d.cap >= d.min_amps and d.cap > 0)}
    while True:
        shares = _shares(active, limits, voltage)
        short = [d for d, x in zip(active, shares, strict=True) if x < d.min_amps - 1e-9]
        if not short:
            break
        victim = min(short, key=lambda d: d.rank)
        paused.add(victim.key)
        active = [d for d in active if d.key != victim.key]
    out = {d.key: (0.0, True) for d in demands if d.key in paused}
    flows: dict[tuple[tuple[str, ...], tuple[int, ...]], float] = defaultdict(float)
    for d, x in zip(active, shares, strict=True):
        given = _floor_tenth(x)
        out[d.key] = (given, False)
        if given > 0:
            flows[(d.path, d.circuit_phases)] += given
    loads: dict[str, list[float]] = {}
    for (path, circuit_phases), amps in flows.items():
        for circuit in path:
            row = loads.setdefault(circuit, [0.0, 0.0, 0.0])
            for p in circuit_phases:
                row[p] += amps
    return out, loads


def _shares(
    active: Sequence[_Demand], limits: dict[str, tuple[PhaseAmps, float | None]], voltage: float
) -> list[float]:
    """The fair shares of the active demands under every circuit phase and power limit.

    Demands on the same circuit and circuit phases share all their constraints,
    so constraints are built per such group, not per demand.
    """
    alike: dict[tuple[tuple[str, ...], tuple[int, ...]], list[int]] = defaultdict(list)
    for i, d in enumerate(active):
        alike[(d.path, d.circuit_phases)].append(i)
    # What each constraint would carry with everyone at their cap: a constraint that
    # holds even then never binds and is left out.
    potential: dict[tuple[str, int], float] = defaultdict(float)
    buckets = []
    for (path, circuit_phases), indices in alike.items():
        cap_sum = sum(active[i].cap for i in indices)
        buckets.append((path, circuit_phases, indices))
        for circuit in path:
            for p in circuit_phases:
                potential[(circuit, p)] += cap_sum
            potential[(circuit, -1)] += cap_sum * voltage * len(circuit_phases)
    binding = set()
    for (circuit, p), most in potential.items():
        amps, watts = limits[circuit]
        limit = (watts if watts is not None else _INF) if p < 0 else amps[p]
        if most > limit:
            binding.add((circuit, p))
    groups: dict[tuple[str, int], list[tuple[int, float]]] = defaultdict(list)
    for path, circuit_phases, indices in buckets:
        ones: list[tuple[int, float]] | None = None
        for circuit in path:
            for p in circuit_phases:
                if (circuit, p) in binding:
                    if ones is None:
                        ones = [(i, 1.0) for i in indices]
                    groups[(circuit, p)].extend(ones)
            if (circuit, -1) in binding:
                per_amp = voltage * len(circuit_phases)
                groups[(circuit, -1)].extend((i, per_amp) for i in indices)
    constraints: list[Constraint] = []
    for (circuit, p), members in groups.items():
        amps, watts = limits[circuit]
        bound = watts if p < 0 else amps[p]
        assert bound is not None
        constraints.append((bound, members))
    return share_fairly([d.cap for d in active], [d.weight for d in active], constraints)


def _allocation(
    site: Site,
    policy: str,
    boundaries: tuple[int, ...],
    slot_caps: dict[EvseKey, list[tuple[float, int, int]]],
    slot_circuits: dict[str, list[tuple[PhaseAmps, float | None]]],
    results: list[dict[EvseKey, tuple[float, bool]]],
    slot_loads: list[dict[str, list[float]]],
    phase_map: dict[EvseKey, tuple[int, ...]],
) -> Allocation:
    amps: dict[EvseKey, tuple[float, ...]] = {}
    phases: dict[EvseKey, tuple[int, ...]] = {}
    caps: dict[EvseKey, tuple[float, ...]] = {}
    sessions: dict[EvseKey, tuple[int, ...]] = {}
    paused: dict[EvseKey, tuple[bool, ...]] = {}
    idle = (0.0, False)
    for key, per_slot in slot_caps.items():
        given = [r.get(key, idle) for r in results]
        amps[key] = tuple(g[0] for g in given)
        paused[key] = tuple(g[1] for g in given)
        caps[key] = tuple(entry[0] for entry in per_slot)
        sessions[key] = tuple(entry[2] for entry in per_slot)
        phases[key] = tuple(entry[1] if entry[2] >= 0 else 0 for entry in per_slot)
    idle_row = (0.0, 0.0, 0.0)
    loads = {
        c: tuple(
            (row[0], row[1], row[2]) if (row := per.get(c)) is not None else idle_row
            for per in slot_loads
        )
        for c in site.paths()
    }
    return Allocation(
        site=site,
        policy=policy,
        boundaries=boundaries,
        amps=amps,
        phases=phases,
        caps=caps,
        sessions=sessions,
        paused=paused,
        loads=loads,
        limits={c: tuple(entry[0] for entry in per) for c, per in slot_circuits.items()},
        watt_limits={c: tuple(entry[1] for entry in per) for c, per in slot_circuits.items()},
        phase_map=phase_map,
    )

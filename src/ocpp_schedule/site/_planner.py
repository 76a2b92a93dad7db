"""The deadline- and energy-aware default policy: plan the whole window, slot by slot.

:class:`DeadlineAware` sees the :class:`~ocpp_schedule.site._planning.PlanningProblem`
(every slot's vehicles, every session's remaining need and departure) and plans in two
passes (docs/semantics.md PL1-PL7):

1. **Reservation, as late as possible.** Sessions with a known need, highest priority
   class first, then earliest departure, reserve their need in their latest slots, as
   much as their own limit and the circuits' room left by earlier reservations allow.
   A session that cannot reserve all of it takes the room of a session of its own class
   that needs more (the most vehicles fully served, as Moore and Hodgson's rule) when that
   lets it fit; otherwise it keeps what it could reserve.
2. **Forward, slot by slot.** In each slot, pinned demands draw their own limit; then every
   fully reserved session gets what it must have now to stay on its reservation (the
   reserved energy up to this slot minus what it already got), highest class and earliest
   departure first; then, class by class from the highest, known needs get what is left,
   the fully reserved ones with under 10 minutes of laxity first, then by earliest
   departure (front-loading), and the rest is shared weighted max-min fair
   (:func:`~ocpp_schedule.site._slotshare._shares`, the same progressive filling as
   :class:`~ocpp_schedule.EqualShare`) among the sessions that can still use it. Nothing
   is planned beyond a session's need; a session whose need is met gets 0.

Capacity the vehicles present can use is always used now (work conserving): vehicles that
are not known yet arrive later, and energy delivered early is never lost. The
reservations make it deadline-aware: a vehicle that leaves soon is served before the
capacity it needs later is taken. Energy comes first: a plain max-min plan (needs as
caps; several classes) or EqualShare's shares cut off at each need (one class) replace
the result when they give more energy by the departures. Without needs and with one priority class
the result is exactly :class:`~ocpp_schedule.EqualShare`'s.

Work: the reservation touches each session's slots once (a swap at most twice more; its
victim is found in a per-class list sorted by need); each slot of the forward pass costs
at most one or two fair shares of its sessions, none when everything fits or when no
member could be given anything, and the candidates of PL6 one more pass each, only when
the deadline plan falls short of the energy bound (:meth:`_Planner.most_energy`): about
sessions x slots x log(sessions). Timed in ``benchmarks/planner.py``.
"""

from __future__ import annotations

import math
import operator
from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Sequence
from math import ceil, floor

from ._planning import PlanDemand, PlanningProblem, PlanSession
from ._slotshare import Memo, _Demand, _floor_tenth, _room_left, _shares, _solve_limits

__all__ = ["DeadlineAware"]

EvseKey = tuple[str, int]
Room = dict[str, list[float]]
"""Per circuit: the room left on its three phases (A) and its power (W; inf: no limit)."""

_Placed = tuple[float, int, PlanSession]
"""A fully reserved session in the reservation pass: (need, index, session)."""
_Watch = Callable[[int, dict[EvseKey, float]], None]
"""Called with each slot's row as a pass plans it (slot index, currents)."""
_INF = math.inf
_JOULES_PER_KWH = 3.6e6
_NO_RANK = (0.0, 0, "", 0)
_EPS_KWH = 1e-9
"""Energy (kWh) below which a need counts as met."""
_URGENT_S = 600
"""A fully reserved session with less laxity than this (s) is front-loaded before earlier
departures (PL3): two 5-minute re-plans from having to charge at its limit until it leaves."""


def _ceil_tenth(value: float) -> float:
    """Round up to 0.1 A (float noise of 10^-9 relative rounds down: 2.3 stays 2.3)."""
    return math.ceil(value * 10.0 * (1.0 - 1e-9)) / 10.0


class DeadlineAware:
    """The default policy: energy by each departure first, the most vehicles fully served,
    higher priority classes first, what is left shared fairly (docs/semantics.md PL1-PL7).

    ``weighted=True`` shares what is left in proportion to the sessions' ``weight``
    (as :class:`~ocpp_schedule.Weighted`); by default every session has the same share.
    """

    name = "deadline"

    def __init__(self, *, weighted: bool = False) -> None:
        self.weighted = weighted

    def plan(
        self, problem: PlanningProblem, progress: Callable[[int, int], None] | None = None
    ) -> list[dict[EvseKey, float]]:
        """Per slot, a current (A per phase) for each demand; see the module's description.

        ``progress(done, total)`` is called after each slot of the forward pass.
        """
        sessions = problem.sessions
        if all(x.need_kwh is None for x in sessions) and len({x.priority for x in sessions}) <= 1:
            return _Planner(problem, self.weighted, tables=False).max_min(progress)
        smart = _Planner(problem, self.weighted)
        best, energy = smart.run_capped(progress)
        if energy >= smart.most_energy() * (1.0 - 1e-12):
            # No plan gives more: every session gets its need or all it can take.
            return best
        # Energy first (PL6): with one class EqualShare's shares cut off at each need (so the
        # default is never below max-min), with several the plain plan (needs as caps,
        # nothing reserved, nothing front-loaded, the classes in order) replace it when they
        # give more energy by the departures. One-phase vehicles served first can block
        # three-phase ones on a shared circuit phase, for instance.
        # One class: EqualShare's shares only. The plain plan's extra energy over the
        # window comes from charging every vehicle at once; in closed loop at a 20 %
        # cabinet it finished fewer vehicles and no more energy (docs/performance.md).
        # The candidate is counted slot by slot as it is planned, and given up as soon as
        # it cannot pass the deadline plan's energy whatever its later slots give: the
        # same choice, usually after a few slots.
        other = _Planner(problem, self.weighted, deadline=False, like=smart)
        tally = _Tally(smart, bound=True)

        def watch(k: int, row: dict[EvseKey, float]) -> None:
            tally.add(k, row)
            if tally.cannot_pass(energy):
                raise _GiveUp  # it cannot replace the deadline plan: the rest is not planned

        try:
            if len({x.priority for x in sessions}) <= 1:
                other.max_min(None, watch)  # reads no deadline state
            else:
                other.run(None, watch)
        except _GiveUp:
            return best
        if tally.total > energy * (1.0 + 1e-9) + _EPS_KWH:
            return tally.rows
        return best


_Cell = tuple[int, int, float, float, float]
"""One session's demand in one slot: ``(k, j, kwh_per_amp, next_kwh_per_amp, most)``.

``k`` the slot, ``j`` the demand's place in ``problem.demands[k]``; the energy (kWh) one
planned ampere gives there and in the session's next slot (0 after its last); ``most`` the
most energy (kWh) the session can get from this slot to its last at its caps. A tuple of
numbers, not an object: the collector stops tracking it after its first pass, so the
80,000 cells of a 1,000-EVSE window at 300 s do not trigger full collections (REPLAN13).
Pinned demands' cells have ``next`` and ``most`` 0 (they are not in ``by_session``)."""
_KWH, _NEXT, _MOST = 2, 3, 4
"""Indexes into a :data:`_Cell`."""
_Member = tuple[PlanDemand, _Cell, float]
"""A session open in a forward-pass slot: its demand, its cell, its upper bound (A)."""


class _Planner:
    """The two passes over one problem (kept together: they share the problem's tables)."""

    def __init__(
        self,
        problem: PlanningProblem,
        weighted: bool,
        deadline: bool = True,
        like: _Planner | None = None,
        tables: bool = True,
    ) -> None:
        self.problem = problem
        self.weighted = weighted
        self.deadline = deadline
        """False: no reservation, no front-loading, equal weights (the plain plan, PL6)."""
        self.volts = problem.voltage
        # max_min() alone (tables=False) reads no per-session state either.
        sessions = problem.sessions if tables or like is not None else ()
        self.left = [_INF if s.need_kwh is None else s.need_kwh for s in sessions]
        self.reserved: list[dict[int, float]] = [{} for _ in sessions]
        self.full = [False] * len(sessions)
        self.pinned = [0.0] * len(sessions)
        self.got = [0.0] * len(sessions)
        """Per session, the energy planned so far outside pinned slots (kWh)."""
        self.cells: list[list[_Cell]]
        self.by_session: list[list[_Cell]]
        self.base: list[Room]
        self.any_pinned: list[bool]
        """Per slot, whether a pinned demand is in it."""
        self.front_ranks: list[int] | None = None
        """Per session, its place in front-loading's order (:meth:`_ranks`), once needed."""
        self.counted: list[float] | None = None
        """While :meth:`run_capped` plans: per session, the need left as :class:`_Tally`
        counts it (kWh); None otherwise."""
        self.counted_total = 0.0
        """While :meth:`run_capped` plans: the energy :class:`_Tally` counts so far (kWh)."""
        if like is not None:
            # The same problem's tables (read only after construction): built once.
            self.cells, self.by_session, self.base = like.cells, like.by_session, like.base
            self.any_pinned = like.any_pinned
            return
        if not tables:
            # max_min() alone reads none of the tables: no object per cell to build and collect.
            self.cells, self.by_session, self.base, self.any_pinned = [], [], [], []
            return
        self.cells, self.by_session, self.any_pinned = _tables(problem, len(sessions))
        self.base = [self._room(k, self.any_pinned[k]) for k in range(problem.slots)]

    # ------------------------------------------------------------------ rooms

    def _room(self, k: int, any_pinned: bool) -> Room:
        """Slot ``k``'s circuit limits minus what its pinned demands draw.

        SafetyError when the pinned demands alone overload a circuit (as for every policy).
        """
        pinned = (
            [
                _Demand(
                    d.key, d.cap, d.phases, d.circuit_phases, d.path, 1.0, 0.0, _NO_RANK, 0, True
                )
                for d in self.problem.demands[k]
                if d.pinned
            ]
            if any_pinned
            else []
        )
        limits = _room_left(pinned, dict(self.problem.limits[k]), self.volts)
        return {
            c: [amps[0], amps[1], amps[2], _INF if watts is None else watts]
            for c, (amps, watts) in limits.items()
        }

    def _fits(self, room: Room, d: PlanDemand) -> float:
        """The most current ``d`` can get in ``room`` (A per phase), its own cap aside."""
        most = _INF
        per_amp = self.volts * d.phases
        phases = d.circuit_phases
        for circuit in d.path:
            values = room[circuit]
            for p in phases:
                if values[p] < most:
                    most = values[p]
            watts = values[3] / per_amp
            if watts < most:
                most = watts
        return most

    # ---------------------------------------------------------- reservation

    def reserve(self) -> None:
        """Pass 1: every known need, as late as possible, classes and departures in order."""
        rooms = [{c: list(v) for c, v in room.items()} for room in self.base]
        sessions = self.problem.sessions
        pinned = self._pinned_energy()
        order = sorted(
            (s for s in sessions if s.need_kwh is not None),
            key=self._reserve_key,
        )
        placed: dict[int, list[_Placed]] = {}
        """Per class, the fully reserved sessions in ascending (need, index) order."""
        self.pinned = pinned
        for s in order:
            need = self._need(s)
            if need <= _EPS_KWH:
                continue
            short = self._reserve_one(s, need, rooms)
            if short > _EPS_KWH:
                short = self._swap(s, need, short, placed.get(s.priority, []), rooms)
            if short <= _EPS_KWH:
                insort(placed.setdefault(s.priority, []), (need, s.index, s))
        for group in placed.values():
            for _, index, _s in group:
                self.full[index] = True

    def _need(self, s: PlanSession) -> float:
        """What ``s`` needs from planned slots: its need minus what its pinned slots give."""
        return self.left[s.index] - self.pinned[s.index]

    @staticmethod
    def _reserve_key(s: PlanSession) -> tuple[float, ...]:
        """Reservation order: the highest class, the earliest departure, the smallest need."""
        return (-s.priority, s.leave, s.need_kwh or 0.0, s.index)

    def _reserve_one(self, s: PlanSession, need: float, rooms: list[Room]) -> float:
        """Reserve ``need`` kWh for ``s`` from its last slot backwards; the part left over."""
        own = self.reserved[s.index]
        demands = self.problem.demands
        fits, volts = self._fits, self.volts
        for k, j, kwh_per_amp, _, _ in reversed(self.by_session[s.index]):
            if kwh_per_amp <= 0.0:
                continue
            d = demands[k][j]
            room = rooms[k]
            # _floor_tenth(min(d.cap, fits)) and min(x, max(_ceil_tenth(...), min_amps))
            # written out, each picking as min and max pick.
            x = d.cap
            most = fits(room, d)
            if most < x:
                x = most
            x = floor(x * 10.0 * (1.0 + 1e-12)) / 10.0
            least = d.min_amps
            if x < least or x <= 0.0:
                continue
            whole = ceil(need / kwh_per_amp * 10.0 * (1.0 - 1e-9)) / 10.0
            if least > whole:
                whole = least
            if whole < x:
                x = whole
            own[k] = x
            _take(room, d, x, volts)
            need -= x * kwh_per_amp
            if need <= _EPS_KWH:
                return 0.0
        return need

    def _release(self, s: PlanSession, rooms: list[Room]) -> dict[int, float]:
        """Give back everything ``s`` reserved; returns what it had."""
        own = self.reserved[s.index]
        self.reserved[s.index] = {}
        demands = self.problem.demands
        for k, j, _, _, _ in self.by_session[s.index]:
            x = own.get(k, 0.0)
            if x > 0.0:
                _take(rooms[k], demands[k][j], -x, self.volts)
        return own

    def _restore(self, s: PlanSession, had: dict[int, float], rooms: list[Room]) -> None:
        """Put back reservations taken away by :meth:`_release`."""
        self.reserved[s.index] = had
        demands = self.problem.demands
        for k, j, _, _, _ in self.by_session[s.index]:
            x = had.get(k, 0.0)
            if x > 0.0:
                _take(rooms[k], demands[k][j], x, self.volts)

    def _swap(
        self,
        s: PlanSession,
        need: float,
        short: float,
        placed: list[_Placed],
        rooms: list[Room],
    ) -> float:
        """``s`` does not fit: free the fully reserved session of its class that needs the
        most, if that one needs more than ``s`` and ``s`` then fits (it is served instead:
        one vehicle for another, the smaller need). Returns what ``s`` still lacks.

        ``placed`` is sorted by (need, index): the victim is found from its end, without
        scanning every placed session (PL2)."""
        at = len(placed) - 1
        while at >= 0 and placed[at][0] > need and placed[at][2].leave <= s.arrive:
            at -= 1
        if at < 0 or placed[at][0] <= need:
            return short
        victim = placed[at][2]
        mine = self._release(s, rooms)
        had = self._release(victim, rooms)
        left = self._reserve_one(s, need, rooms)
        if left <= _EPS_KWH:
            # The victim keeps what still fits, as late as possible (perhaps all of it).
            if self._reserve_one(victim, self._need(victim), rooms) > _EPS_KWH:
                del placed[at]
            return 0.0
        self._release(s, rooms)
        self._restore(victim, had, rooms)
        self._restore(s, mine, rooms)
        return short

    def _pinned_energy(self) -> list[float]:
        """Per session, the energy its pinned slots give it (drawn whatever is planned)."""
        out = [0.0] * len(self.problem.sessions)
        for k, pinned in enumerate(self.any_pinned):
            if not pinned:
                continue  # no pinned demand in this slot
            for d, cell in zip(self.problem.demands[k], self.cells[k], strict=True):
                if d.pinned:
                    out[d.session] += d.cap * cell[_KWH]
        return out

    # ---------------------------------------------------------------- forward

    def run(
        self, progress: Callable[[int, int], None] | None, watch: _Watch | None = None
    ) -> list[dict[EvseKey, float]]:
        """Both passes; per slot, the planned currents (each also given to ``watch``)."""
        if self.deadline:
            self.reserve()
        due = [0.0] * len(self.problem.sessions)
        out: list[dict[EvseKey, float]] = []
        slots = self.problem.slots
        for k in range(slots):
            row = self._slot(k, due)
            out.append(row)
            if watch is not None:
                watch(k, row)
            if progress is not None:
                progress(k + 1, slots)
        return out

    def run_capped(
        self, progress: Callable[[int, int], None] | None
    ) -> tuple[list[dict[EvseKey, float]], float]:
        """``self.capped(self.run(progress))``, counted as the slots are planned: each
        slot's :class:`_Tally` step is done in the forward pass's own loop over the slot's
        open cells (row order), so the cells are not walked a second time. The same rows
        (values capped in place of copies) and the same sum, added in the same order."""
        self.counted = [_INF if s.need_kwh is None else s.need_kwh for s in self.problem.sessions]
        self.counted_total = 0.0
        try:
            rows = self.run(progress)
            return rows, self.counted_total
        finally:
            self.counted = None

    def capped(self, plan: list[dict[EvseKey, float]]) -> tuple[list[dict[EvseKey, float]], float]:
        """``plan`` with no current after a need is met, and the slot that meets it asking
        only for the rest (PL4); with the energy it gives by the departures (kWh, each need
        counted up to the need, unknown needs in full)."""
        tally = _Tally(self)
        for k, row in enumerate(plan):
            tally.add(k, row)
        return tally.rows, tally.total

    def most_energy(self) -> float:
        """An upper bound on any plan's energy by the departures (kWh, as :meth:`capped`
        counts it): per session, its need less what its pinned slots give, or all its other
        slots at their caps, if less."""
        sessions = self.problem.sessions
        most = [own[0][_MOST] if own else 0.0 for own in self.by_session]
        pinned = self._pinned_energy()
        return sum(
            m if s.need_kwh is None else min(m, max(0.0, s.need_kwh - p))
            for s, m, p in zip(sessions, most, pinned, strict=True)
        )

    def max_min(
        self, progress: Callable[[int, int], None] | None, watch: _Watch | None = None
    ) -> list[dict[EvseKey, float]]:
        """No needs and one class: each slot exactly as :class:`~ocpp_schedule.EqualShare`
        (or :class:`~ocpp_schedule.Weighted` when ``weighted``) shares it (PL1); each slot's
        row is also given to ``watch``."""
        problem = self.problem
        on_key: dict[EvseKey, list[PlanSession]] = {}
        for x in problem.sessions:
            on_key.setdefault(x.key, []).append(x)
        # An EVSE with one session in the window: its rank in every slot, computed once.
        alone = {key: self._plain_rank(own[0]) for key, own in on_key.items() if len(own) == 1}
        several = self._several_ranks(on_key)
        cache: dict[tuple[object, ...], tuple[list[_Demand], dict[EvseKey, float]]] = {}
        again: dict[tuple[object, ...], dict[EvseKey, float]] = {}
        out: list[dict[EvseKey, float]] = []
        # Per EVSE: the PlanDemand of its last slot, its rank there and the _Demand built for
        # it. A run of slots shares one PlanDemand object (_problem), so with the same rank
        # the same _Demand is reused: no object per cell, and a slot whose demands are the
        # previous slot's objects, under equal limits, has the previous slot's answer.
        # The flag: the EVSE has one session, so the same PlanDemand has the same rank (one
        # lookup per cell on a run of slots instead of two and a comparison).
        made: dict[EvseKey, tuple[PlanDemand, tuple[float, int, str, int], _Demand, bool]] = {}
        before: list[_Demand] = []
        before_limits: object = None
        memo: Memo = {}
        found: dict[EvseKey, float] = {}
        for k, row in enumerate(problem.demands):
            demands = []
            for d in row:
                last = made.get(d.key)
                if last is not None and last[3] and last[0] is d:
                    demands.append(last[2])
                    continue
                rank = alone.get(d.key) or several[k].get(d.key)
                if rank is None:
                    rank = self._plain_rank(problem.sessions[d.session])
                if last is not None and last[0] is d and last[1] == rank:
                    demands.append(last[2])
                    continue
                demand = _Demand(
                    d.key,
                    d.cap,
                    d.phases,
                    d.circuit_phases,
                    d.path,
                    rank[0],
                    d.min_amps,
                    rank,
                    d.session,
                    d.pinned,
                )
                made[d.key] = (d, rank, demand, d.key in alone)
                demands.append(demand)
            limits = problem.limits[k]
            same = (
                len(demands) == len(before)
                and limits == before_limits
                and all(map(operator.is_, demands, before))
            )
            if not same:
                limits = dict(limits)
                # Solved before: equal demands under the same limits. Looked up by the limits
                # and the count first; only a slot of a shape met before has its demands
                # hashed (each demand hashed per solve cost ~0.1 s at 10,000: BAL16C).
                shape = (len(demands), tuple(sorted(limits.items())))
                first = cache.get(shape)
                if first is None:
                    found = _solve_limits(demands, limits, self.volts, memo)[0]
                    cache[shape] = (demands, found)
                else:
                    signature = (tuple(demands), shape)
                    hit = again.get(signature)
                    if hit is None and first[0] == demands:
                        hit = first[1]
                    if hit is None:
                        hit = again[signature] = _solve_limits(demands, limits, self.volts, memo)[0]
                    found = hit
                before, before_limits = demands, problem.limits[k]
            # Slots with the same answer share one (read-only) mapping.
            out.append(found)
            if watch is not None:
                watch(k, found)
            if progress is not None:
                progress(k + 1, len(problem.demands))
        return out

    def _several_ranks(
        self, on_key: dict[EvseKey, list[PlanSession]]
    ) -> list[dict[EvseKey, tuple[float, int, str, int]]]:
        """Per slot, the rank of each EVSE with several sessions in the window: the least
        rank of its sessions meeting the slot (arriving before its end, leaving after its
        start). Worked out per session over its run of slots, found by bisection on the
        boundaries, rather than per cell (BAL16C)."""
        bounds = self.problem.boundaries
        slots = len(bounds) - 1
        out: list[dict[EvseKey, tuple[float, int, str, int]]] = [{} for _ in range(slots)]
        for key, own in on_key.items():
            if len(own) == 1:
                continue
            for x in own:
                rank = self._plain_rank(x)
                first = max(bisect_right(bounds, x.arrive) - 1, 0)
                for at in out[first : min(bisect_left(bounds, x.leave), slots)]:
                    held = at.get(key)
                    if held is None or rank < held:
                        at[key] = rank
        return out

    def _plain_rank(self, x: PlanSession) -> tuple[float, int, str, int]:
        """EqualShare's (or Weighted's) pause rank: lowest weight, then latest arrival."""
        return (x.weight if self.weighted else 1.0, -x.arrive, x.key[0], x.key[1])

    def _slot(self, k: int, due: list[float]) -> dict[EvseKey, float]:
        """Pass 2 for slot ``k``: pinned, then what is due, then the rest shared by class."""
        room = {c: list(v) for c, v in self.base[k].items()}
        given: dict[EvseKey, float] = {}
        sessions = self.problem.sessions
        left = self.left
        upper = self._upper
        open_cells: list[_Member] = []
        counted = self.counted
        for d, cell in zip(self.problem.demands[k], self.cells[k], strict=True):
            if d.pinned:
                given[d.key] = d.cap
                left[d.session] -= d.cap * cell[_KWH]
                if counted is not None:
                    counted[d.session] -= d.cap * cell[_KWH]  # as _Tally.add counts it
                continue
            rest = left[d.session]
            if rest <= _EPS_KWH:
                continue  # its need is met: _upper gives 0
            # _upper(d, cell), its common cases written out (the same operations); the
            # case where a full cap would leave less than the minimum can deliver next
            # asks _upper itself.
            kwh_per_amp = cell[_KWH]
            cap = floor(d.cap * 10.0 * (1.0 + 1e-12)) / 10.0  # _floor_tenth
            if cap < d.min_amps or cap <= 0.0 or kwh_per_amp <= 0.0:
                continue
            if rest == _INF:
                top = cap
            else:
                whole = ceil(rest / kwh_per_amp * 10.0 * (1.0 - 1e-9)) / 10.0  # _ceil_tenth
                if whole <= cap:
                    top = whole if whole >= d.min_amps else d.min_amps  # max(whole, min)
                elif 0.0 < rest - cap * kwh_per_amp < d.min_amps * cell[_NEXT]:
                    top = upper(d, cell)
                else:
                    top = cap
            if top > 0.0:
                open_cells.append((d, cell, top))
        # What each session must get now to stay on its reservation.
        urgent = []
        reserved_of, got, full = self.reserved, self.got, self.full
        for d, cell, top in open_cells:
            s = d.session
            reserved = reserved_of[s].get(k)
            if reserved is None:
                continue  # nothing reserved here: its due grows by 0.0, it is not behind
            due[s] += reserved * cell[_KWH]
            lag = due[s] - got[s]
            # Only a session whose whole need is reserved is kept on its reservation: the
            # part a session that cannot be served in full reserved does not take the room
            # ahead of the vehicles that can still be finished (PL3).
            if full[s] and reserved > 0.0 and lag > _EPS_KWH:
                urgent.append((d, top, lag / cell[_KWH]))
        urgent.sort(key=lambda t: _urgency(sessions[t[0].session]))
        for d, top, must in urgent:
            x = _floor_tenth(min(top, max(_ceil_tenth(must), d.min_amps), self._fits(room, d)))
            if x >= d.min_amps and x > 0.0:
                given[d.key] = x
                _take(room, d, x, self.volts)
        # The rest, class by class, weighted max-min fair.
        classes = sorted({sessions[m[0].session].priority for m in open_cells}, reverse=True)
        for level in classes:
            members = _wanting(
                [m for m in open_cells if sessions[m[0].session].priority == level]
                if len(classes) > 1
                else open_cells,
                given,
            )
            if members and self.deadline:
                self._front_load(members, given, room, self.problem.boundaries[k])
                members = _wanting(members, given)
            if members:
                self._share(members, given, room)
        # Only open cells were given anything besides the pinned ones (one cell per session).
        if counted is not None:
            self._count(open_cells, given, counted)
            return given
        for d, cell, _ in open_cells:
            x = given.get(d.key, 0.0)
            if x > 0.0:
                left[d.session] -= x * cell[_KWH]
                got[d.session] += x * cell[_KWH]
        return given

    def _count(
        self, open_cells: list[_Member], given: dict[EvseKey, float], counted: list[float]
    ) -> None:
        """The end of :meth:`_slot` under :meth:`run_capped`: the need left and the energy
        got, and :meth:`_Tally.add`'s step for the slot, in one loop over the open cells.

        A slot's row holds nothing but its pinned demands (counted in :meth:`_slot`) and
        open cells given a current, so _Tally's step for the other cells changes nothing;
        its sum runs over the given cells in row order, the order of ``open_cells``. The
        capped current replaces the planned one in ``given`` only after the planner's own
        state took the planned one (as the slot's row is copied, then capped)."""
        left, got = self.left, self.got
        total = self.counted_total
        for d, cell, _ in open_cells:
            x = given.get(d.key, 0.0)
            if x > 0.0:
                s = d.session
                kwh_per_amp = cell[_KWH]
                left[s] -= x * kwh_per_amp
                got[s] += x * kwh_per_amp
                rest = counted[s]
                if rest <= _EPS_KWH or kwh_per_amp <= 0.0:
                    given[d.key] = 0.0
                    continue
                if rest != _INF:
                    x = min(x, max(_ceil_tenth(rest / kwh_per_amp), d.min_amps))
                    given[d.key] = x
                energy = x * kwh_per_amp
                total += min(energy, rest)
                counted[s] = rest - energy
        self.counted_total = total

    def _front_load(
        self,
        members: list[_Member],
        given: dict[EvseKey, float],
        room: Room,
        now: int,
    ) -> None:
        """What is left goes to known needs up to their need: first the sessions whose whole
        need is reserved and that have under :data:`_URGENT_S` of laxity, then all by earliest
        departure (PL3): the vehicles that leave first are finished before a later arrival
        can take their last slots.

        Energy given now is never lost, and a vehicle finished early no longer competes
        with the vehicles that arrive later; sessions with an unknown need only share.

        The room only shrinks here, so once what fits a shape of demand (its circuits and
        circuit phases) floors to 0 A, every later member of that shape gets 0 A too: it is
        skipped without working out what fits (the same result, fewer steps).
        """
        left = self.left
        volts = self.volts
        known = [m for m in members if left[m[0].session] != _INF]
        known.sort(key=self._front_key(now))
        fits = self._fits
        exhausted: set[tuple[tuple[str, ...], tuple[int, ...], int]] = set()
        get = given.get
        for d, _, top in known:
            # The shape's tuple is built only once some shape is exhausted.
            if exhausted and (d.path, d.circuit_phases, d.phases) in exhausted:
                continue
            have = get(d.key, 0.0)
            most = fits(room, d)
            least = top - have
            if most < least:  # min(top - have, most), as min picks
                least = most
            x = floor(least * 10.0 * (1.0 + 1e-12)) / 10.0  # _floor_tenth
            if x > 0.0 and have + x >= d.min_amps:
                given[d.key] = have + x
                _take(room, d, x, volts)
            elif _floor_tenth(most) <= 0.0:
                exhausted.add((d.path, d.circuit_phases, d.phases))

    def _front_key(self, now: int) -> Callable[[_Member], int]:
        """Front-loading's order at ``now`` (PL3): the highest class; a fully reserved
        session with under :data:`_URGENT_S` of laxity; the earliest departure; the index.

        As one integer, :meth:`_ranks` plus the number of sessions when the session is calm
        (not urgent): the order of the tuple (-priority, calm, leave, index) without a tuple
        per member and slot."""
        sessions, left, full, volts = self.problem.sessions, self.left, self.full, self.volts
        ranks = self._ranks()
        calm = len(sessions)

        def key(m: _Member) -> int:
            d = m[0]
            i = d.session
            if full[i] and not _slack(sessions[i], left[i], d, now, volts) <= -_URGENT_S:
                return ranks[i]
            return ranks[i] + calm

        return key

    def _ranks(self) -> list[int]:
        """Per session: its class's place (highest first) x 2 x sessions, plus its place by
        (-priority, leave, index); built on first use."""
        if self.front_ranks is None:
            sessions = self.problem.sessions
            count = len(sessions)
            classes = sorted({x.priority for x in sessions}, reverse=True)
            place = {level: n * 2 * count for n, level in enumerate(classes)}
            order = sorted(
                range(count), key=lambda i: (-sessions[i].priority, sessions[i].leave, i)
            )
            ranks = [0] * count
            for n, i in enumerate(order):
                ranks[i] = place[sessions[i].priority] + n
            self.front_ranks = ranks
        return self.front_ranks

    def _upper(self, d: PlanDemand, cell: _Cell) -> float:
        """The most ``d`` (in ``cell``) may get: its cap, and no more than its need (rounded up to
        0.1 A, and at least the session's minimum current, PL4).

        When a full cap now would leave less of the need than the session's minimum current
        can deliver in its next slot, it gets less now, so that the rest can be delivered.
        """
        _, _, kwh_per_amp, next_kwh_per_amp, most = cell
        cap = _floor_tenth(d.cap)
        if cap < d.min_amps or cap <= 0.0 or kwh_per_amp <= 0.0:
            return 0.0
        left = self.left[d.session]
        if left <= _EPS_KWH:
            return 0.0
        if left == _INF:
            return cap
        whole = _ceil_tenth(left / kwh_per_amp)
        if whole <= cap:
            # Less than the minimum would pause it for good: the vehicle stops when full.
            return max(whole, d.min_amps)
        rest = left - cap * kwh_per_amp
        tail = d.min_amps * next_kwh_per_amp
        if 0.0 < rest < tail:
            fewer = _floor_tenth((left - tail) / kwh_per_amp)
            later = most - d.cap * kwh_per_amp
            if left - fewer * kwh_per_amp > later + _EPS_KWH:
                # The later slots at their caps could not deliver what the floored current
                # leaves (the next slot capped at the minimum, say): the least current that
                # leaves no more than the minimum gives next (rounded up to 0.1 A).
                fewer = _ceil_tenth((left - tail) / kwh_per_amp)
            if fewer >= d.min_amps:
                return fewer
        return cap

    def _share(
        self,
        members: list[_Member],
        given: dict[EvseKey, float],
        room: Room,
    ) -> None:
        """Share ``room`` weighted max-min fair among ``members`` up to their upper bounds.

        A member that has nothing yet and whose share is below its minimum current is
        paused (0) rather than given a trickle, all such members of a round at once; the
        others share again; then each paused member that still fits in what is left gets
        it, the least slack first (PL5).
        """
        sessions = self.problem.sessions
        volts = self.volts
        heads = [_floor_tenth(top - given.get(d.key, 0.0)) for d, _, top in members]
        if _fits_all([m[0] for m in members], heads, room, volts):
            # Nothing binds (the common case at an uncongested site): no sharing needed.
            for (d, _, _), head in zip(members, heads, strict=True):
                if head > 0.0:
                    given[d.key] = given.get(d.key, 0.0) + head
                    _take(room, d, head, volts)
            return
        if not self._any_can_get(members, given, room):
            return
        now = self.problem.boundaries[members[0][1][0]]
        active: list[_Demand] = []
        tops: dict[EvseKey, PlanDemand] = {}
        for (d, cell, _), head in zip(members, heads, strict=True):
            s = sessions[d.session]
            tops[d.key] = d
            active.append(
                _Demand(
                    d.key,
                    head,
                    d.phases,
                    d.circuit_phases,
                    d.path,
                    self._weight(s, cell),
                    0.0 if d.key in given else d.min_amps,
                    (_slack(s, self.left[s.index], d, now, volts), -s.arrive, d.key[0], d.key[1]),
                    d.session,
                )
            )
        limits = {c: ((v[0], v[1], v[2]), None if v[3] == _INF else v[3]) for c, v in room.items()}
        paused: list[_Demand] = []
        shares: list[float] = []
        while active:
            shares = _shares(active, limits, volts)
            short = [d for d, x in zip(active, shares, strict=True) if _floor_tenth(x) < d.min_amps]
            if not short:
                break
            # All at once (one fair share per round, not one per paused vehicle); the ones
            # that still fit come back below, the most urgent first.
            paused.extend(short)
            gone = {d.key for d in short}
            active = [d for d in active if d.key not in gone]
            shares = []
        for member, share in zip(active, shares, strict=True):
            x = _floor_tenth(share)
            if x > 0.0:
                given[member.key] = given.get(member.key, 0.0) + x
                _take(room, tops[member.key], x, volts)
        for member in sorted(paused, key=lambda d: d.rank, reverse=True):
            d = tops[member.key]
            x = _floor_tenth(min(member.cap, self._fits(room, d)))
            if x >= member.min_amps and x > 0.0:
                given[member.key] = x
                _take(room, d, x, volts)

    def _any_can_get(self, members: list[_Member], given: dict[EvseKey, float], room: Room) -> bool:
        """Whether any member could be given something by :meth:`_share`.

        A share never exceeds what fits in ``room``, and a member is given a share only
        once floored to 0.1 A and at least its minimum (0 when it already has current):
        when what fits is below that for every member (the room left by front-loading is
        typically a few tenths of an ampere), sharing gives nothing and is skipped.
        """
        fits = self._fits
        for d, _, _ in members:
            least = 0.1 if d.key in given else max(d.min_amps, 0.1)
            if _floor_tenth(fits(room, d)) >= least:
                return True
        return False

    def _weight(self, s: PlanSession, cell: _Cell) -> float:
        """Its weight in the fair share: the share of what it can still get that it needs
        (1 for an unknown need), times its ``weight`` when ``weighted`` (PL5)."""
        base = s.weight if self.weighted else 1.0
        left = self.left[s.index]
        most = cell[_MOST]
        if self.deadline and left != _INF and most > 0.0:
            return base * min(1.0, max(1e-3, left / most))
        return base


class _Tally:
    """:meth:`_Planner.capped` slot by slot (the same rows, the same sum in the same order).

    With ``bound``, it also keeps an upper bound on the energy the plan can reach by the end:
    what is counted so far plus, per session, the least of its need left and what its
    remaining slots give at their caps (PL6: a candidate whose bound is below the deadline
    plan's energy cannot replace it, so it is given up there, :class:`_GiveUp`).
    """

    __slots__ = ("bound", "capped", "cells", "demands", "future", "left", "reach", "rows", "total")

    def __init__(self, planner: _Planner, bound: bool = False) -> None:
        self.cells = planner.cells
        self.demands = planner.problem.demands
        self.left = [_INF if x.need_kwh is None else x.need_kwh for x in planner.problem.sessions]
        self.rows: list[dict[EvseKey, float]] = []
        self.total = 0.0
        self.bound = bound
        self.capped = True
        """False once a plan gave a session more than its cap: the bound no longer holds."""
        self.future = [own[0][_MOST] if own else 0.0 for own in planner.by_session] if bound else []
        """Per session, what its slots not counted yet give at their caps (kWh)."""
        self.reach = sum(map(_reach, self.left, self.future)) if bound else 0.0
        """The sum of :func:`_reach` over the sessions, kept as the slots are counted."""

    def add(self, k: int, row: dict[EvseKey, float]) -> None:
        """Count slot ``k`` of the plan (slots in order); its capped row goes to ``rows``."""
        mine = dict(row)
        left, future, bound = self.left, self.future, self.bound
        total = self.total
        for d, cell in zip(self.demands[k], self.cells[k], strict=True):
            kwh_per_amp = cell[_KWH]
            s = d.session
            rest = left[s]
            before = _reach(rest, future[s]) if bound else 0.0
            if d.pinned:
                rest -= d.cap * kwh_per_amp
            else:
                x = mine.get(d.key, 0.0)
                if bound:
                    future[s] -= d.cap * kwh_per_amp
                    if x > d.cap:
                        self.capped = False
                if x > 0.0:
                    if rest <= _EPS_KWH or kwh_per_amp <= 0.0:
                        mine[d.key] = 0.0
                    else:
                        if rest != _INF:
                            x = min(x, max(_ceil_tenth(rest / kwh_per_amp), d.min_amps))
                            mine[d.key] = x
                        got = x * kwh_per_amp
                        total += min(got, rest)
                        rest -= got
            left[s] = rest
            if bound:
                self.reach += _reach(rest, future[s]) - before
        self.total = total
        self.rows.append(mine)

    def cannot_pass(self, energy: float) -> bool:
        """Whether the plan, whatever its later slots, gives no more than ``energy`` (kWh).

        The running sum screens; a sum computed afresh (``math.fsum``) confirms, so float
        drift in the running sum can never give up a candidate that could pass."""
        if not self.capped or self.total + self.reach > energy * (1.0 - 1e-9):
            return False
        return math.fsum([self.total, *map(_reach, self.left, self.future)]) <= energy


class _GiveUp(Exception):
    """A PL6 candidate that cannot pass the deadline plan: the rest of it is not planned."""


def _reach(left: float, future: float) -> float:
    """The most a session can still be counted: its need left, or its later slots at their
    caps if less (an unknown need: its slots; never below 0)."""
    most = left if left < future else future
    return most if most > 0.0 else 0.0


def _tables(
    problem: PlanningProblem, count: int
) -> tuple[list[list[_Cell]], list[list[_Cell]], list[bool]]:
    """The problem's cells per slot (in the order of ``problem.demands[k]``), each session's
    cells outside pinned slots in slot order, and per slot whether a pinned demand is in it.

    A session's ``next`` and ``most`` are known only from its later cells, so its slots are
    gathered first (numbers in per-session lists) and its cells made from its last slot back.
    """
    volts = problem.voltage
    demands = problem.demands
    cells: list[list[_Cell]] = []
    any_pinned = [False] * problem.slots
    slots: list[list[int]] = [[] for _ in range(count)]
    places: list[list[int]] = [[] for _ in range(count)]
    for k, row in enumerate(demands):
        mine: list[_Cell] = []
        for j, d in enumerate(row):
            kwh_per_amp = d.phases * volts * d.present / _JOULES_PER_KWH
            mine.append((k, j, kwh_per_amp, 0.0, 0.0))
            if d.pinned:
                any_pinned[k] = True
            else:
                slots[d.session].append(k)
                places[d.session].append(j)
        cells.append(mine)
    by_session: list[list[_Cell]] = []
    for own_slots, own_places in zip(slots, places, strict=True):
        most = 0.0
        after = 0.0
        own: list[_Cell] = []
        for k, j in zip(reversed(own_slots), reversed(own_places), strict=True):
            kwh_per_amp = cells[k][j][_KWH]
            most += demands[k][j].cap * kwh_per_amp
            cell = cells[k][j] = (k, j, kwh_per_amp, after, most)
            own.append(cell)
            after = kwh_per_amp
        own.reverse()
        by_session.append(own)
    return cells, by_session, any_pinned


def _fits_all(
    demands: Sequence[PlanDemand], heads: Sequence[float], room: Room, volts: float
) -> bool:
    """Whether every demand at its head fits in ``room`` (then no sharing is needed)."""
    load: dict[str, list[float]] = {}
    for d, head in zip(demands, heads, strict=True):
        watts = head * d.phases * volts
        for circuit in d.path:
            values = load.get(circuit)
            if values is None:
                values = load[circuit] = [0.0, 0.0, 0.0, 0.0]
            for p in d.circuit_phases:
                values[p] += head
            values[3] += watts
    for circuit, values in load.items():
        have = room[circuit]
        for p in range(4):
            if values[p] > have[p] * (1.0 - 1e-12):
                return False
    return True


def _wanting(members: list[_Member], given: dict[EvseKey, float]) -> list[_Member]:
    """The members that could still be given 0.1 A or more below their upper bound
    (``_floor_tenth(top - given) > 0``, the floor's integer compared directly)."""
    get = given.get
    return [
        m for m in members if math.floor((m[2] - get(m[0].key, 0.0)) * 10.0 * (1.0 + 1e-12)) > 0
    ]


def _take(room: Room, d: PlanDemand, amps: float, volts: float) -> None:
    """Charge ``amps`` of ``d`` to every circuit on its path (negative: give back)."""
    watts = amps * d.phases * volts
    phases = d.circuit_phases
    for circuit in d.path:
        values = room[circuit]
        for p in phases:
            values[p] -= amps
        values[3] -= watts


def _urgency(s: PlanSession) -> tuple[int, int, int]:
    """Who gets what is due first: the highest class, then the earliest departure."""
    return (-s.priority, s.leave, s.index)


def _slack(s: PlanSession, left: float, d: PlanDemand, now: int, volts: float) -> float:
    """Minus the seconds the session could still wait (paused first: the lowest value).

    Unknown needs can always wait (-inf); otherwise the time from ``now`` to its departure
    minus the time its need takes at its current cap.
    """
    if left == _INF:
        return -_INF
    watts = d.cap * d.phases * volts
    if watts <= 0.0:
        return _INF
    return -((s.leave - now) - left * _JOULES_PER_KWH / watts)

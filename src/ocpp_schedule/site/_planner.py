"""The deadline- and energy-aware default policy: plan the whole window, slot by slot.

:class:`DeadlineAware` sees the :class:`~ocpp_schedule.site._planning.PlanningProblem`
(every slot's vehicles, every session's remaining need and departure) and plans in two
passes (docs/semantics.md PL1-PL6):

1. **Reservation, as late as possible.** Sessions with a known need, highest priority
   class first, then earliest departure, reserve their need in their latest slots, as
   much as their own limit and the circuits' room left by earlier reservations allow.
   A session that cannot reserve all of it takes the room of a session of its own class
   that needs more (the most vehicles fully served, as Moore and Hodgson's rule) when that
   lets it fit; otherwise it keeps what it could reserve.
2. **Forward, slot by slot.** In each slot, pinned demands draw their own limit; then every
   session gets what it must have now to stay on its reservation (the reserved energy up
   to this slot minus what it already got), highest class and earliest departure first;
   then what is left is shared, class by class from the highest, weighted max-min fair
   (:func:`~ocpp_schedule.site._slotshare._shares`, the same progressive filling as
   :class:`~ocpp_schedule.EqualShare`) among the sessions that can still use it. Nothing
   is planned beyond a session's need; a session whose need is met gets 0.

Capacity the vehicles present can use is always used now (work conserving): vehicles that
are not known yet arrive later, and energy delivered early is never lost. The
reservations make it deadline-aware: a vehicle that leaves soon is served before the
capacity it needs later is taken. Without needs and with one priority class the result
is exactly :class:`~ocpp_schedule.EqualShare`'s.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from ._planning import PlanDemand, PlanningProblem, PlanSession
from ._slotshare import _Demand, _floor_tenth, _room_left, _shares

__all__ = ["DeadlineAware"]

EvseKey = tuple[str, int]
Room = dict[str, list[float]]
"""Per circuit: the room left on its three phases (A) and its power (W; inf: no limit)."""

_INF = math.inf
_JOULES_PER_KWH = 3.6e6
_NO_RANK = (0.0, 0, "", 0)
_EPS_KWH = 1e-9
"""Energy (kWh) below which a need counts as met."""


def _ceil_tenth(value: float) -> float:
    """Round up to 0.1 A (float noise of 10^-9 relative rounds down: 2.3 stays 2.3)."""
    return math.ceil(value * 10.0 * (1.0 - 1e-9)) / 10.0


class DeadlineAware:
    """The default policy: energy by each departure first, the most vehicles fully served,
    higher priority classes first, what is left shared fairly (docs/semantics.md PL1-PL6).

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
        return _Planner(problem, self.weighted).run(progress)


class _Cell:
    """One session's demand in one slot, with what a planned ampere gives it there."""

    __slots__ = ("d", "k", "kwh_per_amp", "next_kwh_per_amp")

    def __init__(self, d: PlanDemand, k: int, kwh_per_amp: float) -> None:
        self.d = d
        self.k = k
        self.kwh_per_amp = kwh_per_amp
        self.next_kwh_per_amp = 0.0


class _Planner:
    """The two passes over one problem (kept together: they share the problem's tables)."""

    def __init__(self, problem: PlanningProblem, weighted: bool) -> None:
        self.problem = problem
        self.weighted = weighted
        self.volts = problem.voltage
        sessions = problem.sessions
        self.left = [_INF if s.need_kwh is None else s.need_kwh for s in sessions]
        self.cells: list[list[_Cell]] = [[] for _ in problem.demands]
        self.by_session: list[list[_Cell]] = [[] for _ in sessions]
        for k, row in enumerate(problem.demands):
            for d in row:
                cell = _Cell(d, k, d.phases * self.volts * d.present / _JOULES_PER_KWH)
                self.cells[k].append(cell)
                if not d.pinned:
                    own = self.by_session[d.session]
                    if own:
                        own[-1].next_kwh_per_amp = cell.kwh_per_amp
                    own.append(cell)
        self.base = [self._room(k) for k in range(problem.slots)]
        self.reserved: list[dict[int, float]] = [{} for _ in sessions]
        self.got = [0.0] * len(sessions)
        """Per session, the energy planned so far outside pinned slots (kWh)."""

    # ------------------------------------------------------------------ rooms

    def _room(self, k: int) -> Room:
        """Slot ``k``'s circuit limits minus what its pinned demands draw.

        SafetyError when the pinned demands alone overload a circuit (as for every policy).
        """
        pinned = [
            _Demand(d.key, d.cap, d.phases, d.circuit_phases, d.path, 1.0, 0.0, _NO_RANK, 0, True)
            for d in (cell.d for cell in self.cells[k])
            if d.pinned
        ]
        limits = _room_left(pinned, dict(self.problem.limits[k]), self.volts)
        return {
            c: [amps[0], amps[1], amps[2], _INF if watts is None else watts]
            for c, (amps, watts) in limits.items()
        }

    def _fits(self, room: Room, d: PlanDemand) -> float:
        """The most current ``d`` can get in ``room`` (A per phase), its own cap aside."""
        most = _INF
        per_amp = self.volts * d.phases
        for circuit in d.path:
            values = room[circuit]
            for p in d.circuit_phases:
                most = min(most, values[p])
            most = min(most, values[3] / per_amp)
        return most

    # ---------------------------------------------------------- reservation

    def reserve(self) -> None:
        """Pass 1: every known need, as late as possible, classes and departures in order."""
        rooms = [{c: list(v) for c, v in room.items()} for room in self.base]
        sessions = self.problem.sessions
        pinned = self._pinned_energy()
        order = sorted(
            (s for s in sessions if s.need_kwh is not None),
            key=lambda s: (-s.priority, s.leave, s.need_kwh, s.index),
        )
        placed: dict[int, list[PlanSession]] = {}
        for s in order:
            need = self.left[s.index] - pinned[s.index]
            if need <= _EPS_KWH:
                continue
            short = self._reserve_one(s, need, rooms)
            if short > _EPS_KWH:
                short = self._swap(s, need, short, placed.get(s.priority, []), rooms)
            if short <= _EPS_KWH:
                placed.setdefault(s.priority, []).append(s)

    def _reserve_one(self, s: PlanSession, need: float, rooms: list[Room]) -> float:
        """Reserve ``need`` kWh for ``s`` from its last slot backwards; the part left over."""
        own = self.reserved[s.index]
        for cell in reversed(self.by_session[s.index]):
            d = cell.d
            if cell.kwh_per_amp <= 0.0:
                continue
            room = rooms[cell.k]
            x = _floor_tenth(min(d.cap, self._fits(room, d)))
            if x < d.min_amps or x <= 0.0:
                continue
            x = min(x, max(_ceil_tenth(need / cell.kwh_per_amp), d.min_amps))
            own[cell.k] = x
            _take(room, d, x, self.volts)
            need -= x * cell.kwh_per_amp
            if need <= _EPS_KWH:
                return 0.0
        return need

    def _release(self, s: PlanSession, rooms: list[Room]) -> dict[int, float]:
        """Give back everything ``s`` reserved; returns what it had."""
        own = self.reserved[s.index]
        self.reserved[s.index] = {}
        for cell in self.by_session[s.index]:
            x = own.get(cell.k, 0.0)
            if x > 0.0:
                _take(rooms[cell.k], cell.d, -x, self.volts)
        return own

    def _restore(self, s: PlanSession, had: dict[int, float], rooms: list[Room]) -> None:
        """Put back reservations taken away by :meth:`_release`."""
        self.reserved[s.index] = had
        for cell in self.by_session[s.index]:
            x = had.get(cell.k, 0.0)
            if x > 0.0:
                _take(rooms[cell.k], cell.d, x, self.volts)

    def _swap(
        self,
        s: PlanSession,
        need: float,
        short: float,
        placed: list[PlanSession],
        rooms: list[Room],
    ) -> float:
        """``s`` does not fit: free the fully reserved session of its class that needs the
        most, if that one needs more than ``s`` and ``s`` then fits (it is served instead:
        one vehicle for another, the smaller need). Returns what ``s`` still lacks."""
        candidates = [p for p in placed if (p.need_kwh or 0.0) > need and p.leave > s.arrive]
        if not candidates:
            return short
        victim = max(candidates, key=lambda p: (p.need_kwh or 0.0, p.index))
        mine = self._release(s, rooms)
        had = self._release(victim, rooms)
        left = self._reserve_one(s, need, rooms)
        if left <= _EPS_KWH:
            placed.remove(victim)
            # The victim keeps what still fits, as late as possible.
            self._reserve_one(victim, self.left[victim.index], rooms)
            return 0.0
        self._release(s, rooms)
        self._restore(victim, had, rooms)
        self._restore(s, mine, rooms)
        return short

    def _pinned_energy(self) -> list[float]:
        """Per session, the energy its pinned slots give it (drawn whatever is planned)."""
        out = [0.0] * len(self.problem.sessions)
        for row in self.cells:
            for cell in row:
                if cell.d.pinned:
                    out[cell.d.session] += cell.d.cap * cell.kwh_per_amp
        return out

    # ---------------------------------------------------------------- forward

    def run(self, progress: Callable[[int, int], None] | None) -> list[dict[EvseKey, float]]:
        """Both passes; per slot, the planned currents."""
        self.reserve()
        due = [0.0] * len(self.problem.sessions)
        out: list[dict[EvseKey, float]] = []
        slots = self.problem.slots
        for k in range(slots):
            out.append(self._slot(k, due))
            if progress is not None:
                progress(k + 1, slots)
        return out

    def _slot(self, k: int, due: list[float]) -> dict[EvseKey, float]:
        """Pass 2 for slot ``k``: pinned, then what is due, then the rest shared by class."""
        room = {c: list(v) for c, v in self.base[k].items()}
        given: dict[EvseKey, float] = {}
        sessions = self.problem.sessions
        open_cells: list[tuple[_Cell, float]] = []
        for cell in self.cells[k]:
            d = cell.d
            if d.pinned:
                given[d.key] = d.cap
                self.left[d.session] -= d.cap * cell.kwh_per_amp
                continue
            top = self._upper(cell)
            if top > 0.0:
                open_cells.append((cell, top))
        # What each session must get now to stay on its reservation.
        urgent = []
        for cell, top in open_cells:
            s = cell.d.session
            reserved = self.reserved[s].get(k, 0.0)
            due[s] += reserved * cell.kwh_per_amp
            lag = due[s] - self.got[s]
            if reserved > 0.0 and lag > _EPS_KWH:
                urgent.append((cell, top, lag / cell.kwh_per_amp))
        urgent.sort(key=lambda t: _urgency(sessions[t[0].d.session]))
        for cell, top, must in urgent:
            d = cell.d
            x = _floor_tenth(min(top, max(_ceil_tenth(must), d.min_amps), self._fits(room, d)))
            if x >= d.min_amps and x > 0.0:
                given[d.key] = x
                _take(room, d, x, self.volts)
        # The rest, class by class, weighted max-min fair.
        classes = sorted({sessions[c.d.session].priority for c, _ in open_cells}, reverse=True)
        for level in classes:
            members = [
                (c, top)
                for c, top in open_cells
                if sessions[c.d.session].priority == level
                and _floor_tenth(top - given.get(c.d.key, 0.0)) > 0.0
            ]
            if members:
                self._share(members, given, room)
        for cell in self.cells[k]:
            d = cell.d
            x = given.get(d.key, 0.0)
            if not d.pinned and x > 0.0:
                self.left[d.session] -= x * cell.kwh_per_amp
                self.got[d.session] += x * cell.kwh_per_amp
        return given

    def _upper(self, cell: _Cell) -> float:
        """The most ``cell`` may get: its cap, and no more than its need (rounded up to
        0.1 A, and at least the session's minimum current, PL4).

        When a full cap now would leave less of the need than the session's minimum current
        can deliver in its next slot, it gets less now, so that the rest can be delivered.
        """
        d = cell.d
        cap = _floor_tenth(d.cap)
        if cap < d.min_amps or cap <= 0.0 or cell.kwh_per_amp <= 0.0:
            return 0.0
        left = self.left[d.session]
        if left <= _EPS_KWH:
            return 0.0
        if left == _INF:
            return cap
        whole = _ceil_tenth(left / cell.kwh_per_amp)
        if whole <= cap:
            # Less than the minimum would pause it for good: the vehicle stops when full.
            return max(whole, d.min_amps)
        rest = left - cap * cell.kwh_per_amp
        tail = d.min_amps * cell.next_kwh_per_amp
        if 0.0 < rest < tail:
            fewer = _floor_tenth((left - tail) / cell.kwh_per_amp)
            if fewer >= d.min_amps:
                return fewer
        return cap

    def _share(
        self,
        members: list[tuple[_Cell, float]],
        given: dict[EvseKey, float],
        room: Room,
    ) -> None:
        """Share ``room`` weighted max-min fair among ``members`` up to their upper bounds.

        A member that has nothing yet and whose share is below its minimum current is
        paused (0) rather than given a trickle: the one that can wait longest first, then
        the latest arrival (as :class:`~ocpp_schedule.EqualShare`), one at a time.
        """
        sessions = self.problem.sessions
        volts = self.volts
        now = self.problem.boundaries[members[0][0].k]
        active: list[_Demand] = []
        tops: dict[EvseKey, _Cell] = {}
        for cell, top in members:
            d = cell.d
            s = sessions[d.session]
            head = _floor_tenth(top - given.get(d.key, 0.0))
            tops[d.key] = cell
            active.append(
                _Demand(
                    d.key,
                    head,
                    d.phases,
                    d.circuit_phases,
                    d.path,
                    s.weight if self.weighted else 1.0,
                    0.0 if d.key in given else d.min_amps,
                    (_slack(s, self.left[s.index], d, now, volts), -s.arrive, d.key[0], d.key[1]),
                    d.session,
                )
            )
        limits = {
            c: ((v[0], v[1], v[2]), None if v[3] == _INF else v[3]) for c, v in room.items()
        }
        while active:
            shares = _shares(active, limits, volts)
            short = [
                d for d, x in zip(active, shares, strict=True) if _floor_tenth(x) < d.min_amps
            ]
            if not short:
                break
            victim = min(short, key=lambda d: d.rank)
            active = [d for d in active if d.key != victim.key]
        else:
            return
        for member, share in zip(active, shares, strict=True):
            x = _floor_tenth(share)
            if x > 0.0:
                given[member.key] = given.get(member.key, 0.0) + x
                _take(room, tops[member.key].d, x, volts)


def _take(room: Room, d: PlanDemand, amps: float, volts: float) -> None:
    """Charge ``amps`` of ``d`` to every circuit on its path (negative: give back)."""
    watts = amps * d.phases * volts
    for circuit in d.path:
        values = room[circuit]
        for p in d.circuit_phases:
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


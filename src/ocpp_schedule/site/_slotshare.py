"""One slot's weighted max-min fair shares under the site's circuits (shared by the policies).

Moved out of :mod:`ocpp_schedule.site._allocation` so that the planners
(:mod:`ocpp_schedule.site._planner`) reuse the same progressive filling
(:func:`_shares`), the circuit room left by pinned demands (:func:`_room_left`)
and the 0.1 A rounding (:func:`_floor_tenth`) without an import cycle.
"""

from __future__ import annotations

import math
import operator
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from itertools import compress, repeat
from typing import NamedTuple

from ..errors import SafetyError
from ._fairshare import fill
from ._policies import Rank
from ._timelines import PhaseAmps

EvseKey = tuple[str, int]

_INF = math.inf

_REL_TOL = 1e-9
"""Relative float tolerance of the post-condition (limits are floored far below it)."""


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
    pinned: bool = False


def _floor_tenth(value: float) -> float:
    """Round down to 0.1 A; float noise of at most 10^-12 relative rounds up (2.3 stays 2.3).

    The noise allowance is far below the post-condition's tolerance, so a sum of
    floored shares never exceeds the limit the shares were cut to.
    """
    return math.floor(value * 10.0 * (1.0 + 1e-12)) / 10.0


def _floors(values: Sequence[float]) -> list[float]:
    """:func:`_floor_tenth` of each value, worked out once per distinct value.

    A slot's shares and caps take a few hundred distinct values over a thousand demands;
    the rounding depends on the value alone (-0.0 and 0.0 both round to 0.0), so a table
    over the set, read back in C, gives each value's own rounding (BAL16B).
    """
    table = {value: _floor_tenth(value) for value in set(values)}
    return list(map(table.__getitem__, values))


Part = tuple[dict[EvseKey, float], set[EvseKey]]
"""A solve's answer as plain numbers: each EVSE's limit, and the EVSEs paused (limit 0)."""

Memo = dict[tuple[str, ...], tuple[list["_Demand"], tuple[object, ...], Part]]
"""Per group of circuits that bind together: the demands, limits and shares of its last solve."""


def _solve(
    demands: Sequence[_Demand],
    limits: dict[str, tuple[PhaseAmps, float | None]],
    voltage: float,
    memo: Memo | None = None,
) -> dict[EvseKey, tuple[float, bool]]:
    """One slot: the fair shares, pausing the lowest ranks until every share meets its minimum.

    Pinned demands (their TxProfile governs) draw their own limit and are
    never paused; the others share what they leave. A share counts as meeting
    the minimum only once rounded down to 0.1 A, so every limit handed out is
    0 or at least the minimum. Returns each EVSE's (limit, paused): :func:`_solve_limits`
    as pairs, in its order.
    """
    amps, paused = _solve_limits(demands, limits, voltage, memo)
    return {key: (x, key in paused) for key, x in amps.items()}


def _solve_limits(
    demands: Sequence[_Demand],
    limits: dict[str, tuple[PhaseAmps, float | None]],
    voltage: float,
    memo: Memo | None = None,
) -> Part:
    """:func:`_solve` as each EVSE's limit and the set of those paused (BAL16B: no pair per
    EVSE and slot for the collector to count; a planner that reads only the limits builds
    none).

    The demands fall apart into groups that share no circuit limit that can bind
    (:func:`_groups`); each group is shared and paused on its own, which is what the
    whole does (a pause changes only its own group's shares, and the lowest rank
    short in a group is paused whatever the other groups hold). With ``memo`` (kept
    by the caller over the slots of one window), a group whose demands are the same
    objects under the same limits as at its last solve has that solve's answer.
    """
    pinned = [d for d in demands if d.pinned]
    room = _room_left(pinned, limits, voltage)
    out: dict[EvseKey, float] = {}
    paused: set[EvseKey] = set()
    active: list[_Demand] = []
    for d, cap in zip(demands, _floors([d.cap for d in demands]), strict=True):
        if d.pinned:
            continue
        if cap >= d.min_amps and d.cap > 0:
            active.append(d)
        else:
            out[d.key] = 0.0
            paused.add(d.key)
    free, groups = _groups(active, room, voltage)
    out.update(zip([d.key for d in free], _floors([d.cap for d in free]), strict=True))
    for circuits, members in groups.items():
        key = tuple(sorted(circuits))
        bounds = tuple(room[c] for c in key)
        last = None if memo is None else memo.get(key)
        if (
            last is not None
            and len(last[0]) == len(members)
            and last[1] == bounds
            and all(map(operator.is_, last[0], members))
        ):
            part = last[2]
        else:
            part = _pause(members, room, voltage)
            if memo is not None:
                memo[key] = (members, bounds, part)
        out.update(part[0])
        paused |= part[1]
    for d in pinned:
        out[d.key] = d.cap
    return out, paused


PAUSE_SINGLY = 8
"""B4: while at most this many sessions of a group are short, they are paused one at a time."""

PAUSE_ROUNDS = 64
"""B4: bisection rounds per group before the rest are paused one at a time again.

Each round pauses at least one session; a group whose shares are monotone needs one.
"""


def _pause(
    active: list[_Demand], room: dict[str, tuple[PhaseAmps, float | None]], voltage: float
) -> Part:
    """One group's limits and paused EVSEs: the lowest short ranks paused until none is short.

    While at most :data:`PAUSE_SINGLY` sessions are short, the lowest short rank is paused
    and the rest re-shared, one at a time (every small case is the rule as first written).
    With more, a round pauses at once the run of lowest short ranks that one-at-a-time
    pausing would take in a row, found by galloping from a guess and binary search
    (:func:`_pause_prefix`): O(log n) re-solves instead of one per pause (issue 17).
    After :data:`PAUSE_ROUNDS` rounds (phases coupled) the rest go one at a time.

    Every re-share is of a subset of the group: once someone is short, the group is classed
    once (:class:`_Classes`) and each re-share reads its subset's classes from it, the same
    shares as :func:`_shares` of the subset (helper BALFIX17).
    """
    out: dict[EvseKey, float] = {}
    paused: set[EvseKey] = set()
    classes: _Classes | None = None
    ids: list[int] = []
    if len(active) >= _CLASSED:
        classes = _Classes(active, room, voltage)
        classes.slack_guessed()
        ids = classes.ids
        shares = _shares(active, room, voltage, classes, ids)
    else:
        shares = _shares(active, room, voltage)
    floors = _floors(shares)  # the limits handed out: rounded once per sharing (BAL16C)
    rounds = 0
    first = True
    while short := _below(active, floors):
        if classes is None:
            classes = _Classes(active, room, voltage)
            ids = classes.ids
        if first:  # the whole group's sharing: leave out what it leaves slack
            classes.slack_at(None if len(active) >= _CLASSED else shares)
            first = False
        if len(short) <= PAUSE_SINGLY or rounds >= PAUSE_ROUNDS:
            victims = [min(short, key=_rank)]
            keep = [d.key != victims[0].key for d in active]
            active = list(compress(active, keep))
            ids = list(compress(ids, keep))
            shares = _shares(active, room, voltage, classes, ids)
        else:
            rounds += 1
            victims, active, ids, shares = _pause_prefix(
                active, shares, room, voltage, classes, ids, floors
            )
        floors = _floors(shares)
        gone = list(map(_KEY, victims))
        out.update(dict.fromkeys(gone, 0.0))
        paused.update(gone)
    out.update(zip([d.key for d in active], floors, strict=True))
    return out, paused


def _rank(demand: _Demand) -> Rank:
    return demand.rank


_RANK = operator.attrgetter("rank")
_KEY = operator.attrgetter("key")
_MIN = operator.attrgetter("min_amps")


def _short(active: Sequence[_Demand], shares: Sequence[float]) -> list[_Demand]:
    """The demands whose share, rounded down to 0.1 A, is below their minimum."""
    return _below(active, _floors(shares))


def _below(active: Sequence[_Demand], floors: Sequence[float]) -> list[_Demand]:
    """The demands whose share already rounded down to 0.1 A is below their minimum."""
    return [d for d, x in zip(active, floors, strict=True) if x < d.min_amps]


def _pause_prefix(
    active: list[_Demand],
    shares: list[float],
    room: dict[str, tuple[PhaseAmps, float | None]],
    voltage: float,
    classes: _Classes | None = None,
    ids: list[int] | None = None,
    floors: Sequence[float] | None = None,
) -> tuple[list[_Demand], list[_Demand], list[int], list[float]]:
    """One bisection round of B4: (paused, the demands left, their class ids, their shares).

    ``classes`` and ``ids`` (the class of each demand of ``active``): re-share through
    :class:`_Classes` (None: classed afresh by :func:`_shares`, ids left empty). ``floors``:
    the shares rounded down to 0.1 A, if the caller has them.

    ``order``: the short demands by pause rank. ``next_victim(m)``: with the first m of
    them paused and the rest re-shared, the lowest short rank is ``order[m]``, the one
    one-at-a-time pausing would take next. It holds for m = 0 and fails for m = all; the
    round pauses the first m for an m at which it fails (someone else is next, or nobody
    is short) while it holds for m - 1, found by galloping from a guess (:func:`_guess`)
    to a bracket and binary search, one re-solve per try; the predicate is not assumed
    monotone, only used so. Where it is true up to a point and false after it (one
    binding constraint and equal minimums, or any monotone case with the thresholds in
    rank order), the round is exactly the pauses one-at-a-time takes, and the caller's
    next round starts from its state.
    """
    # The short, by pause rank (a stable sort of their places in ``active``, in C).
    is_short = map(operator.lt, _floors(shares) if floors is None else floors, map(_MIN, active))
    ranks = list(map(_RANK, active))
    short_at = sorted(compress(range(len(active)), is_short), key=ranks.__getitem__)
    order = list(
        zip(map(active.__getitem__, short_at), map(shares.__getitem__, short_at), strict=True)
    )
    most = len(order)
    tried: dict[int, tuple[list[_Demand], list[int], list[float]]] = {}
    # Per demand, the first place of its EVSE in ``order`` (most: not short): the first m
    # are paused, so a try keeps those placed at m or later, picked in C (BAL16C). The
    # places are written last to first, so the first place of a key is the one kept.
    keys = list(map(_KEY, active))
    place = dict(
        zip(reversed(list(map(keys.__getitem__, short_at))), range(most - 1, -1, -1), strict=True)
    )
    places = list(map(place.get, keys, repeat(most)))

    def next_victim(m: int) -> bool:
        keep = list(map(m.__le__, places))
        left = list(compress(active, keep))
        if classes is None or ids is None:
            left_ids: list[int] = []
            found = _shares(left, room, voltage)
        else:
            left_ids = list(compress(ids, keep))
            found = _shares(left, room, voltage, classes, left_ids)
        tried[m] = (left, left_ids, found)
        if m == most:
            return False
        short = _short(left, found)
        return bool(short) and min(short, key=_rank) is order[m][0]

    low, high = _bracket(_guess(order), most, next_victim)
    while high - low > 1:
        middle = (low + high) // 2
        if next_victim(middle):
            low = middle
        else:
            high = middle
    return list(map(active.__getitem__, short_at[:high])), *tried[high]


def _bracket(guess: int, most: int, holds: Callable[[int], bool]) -> tuple[int, int]:
    """(low, high) with ``holds(low)`` (0 always holds) and not ``holds(high)`` (``most``
    never holds): galloping from ``guess`` (clamped to 1..most), doubling the step, up
    while it holds and down while it fails: O(log |error|) tries around a good guess.
    """
    guess = min(max(guess, 1), most)
    step = 1
    if holds(guess):
        low = guess
        while True:
            high = min(low + step, most)
            if not holds(high):
                return low, high
            low, step = high, 2 * step
    high = guess
    while True:
        low = max(high - step, 0)
        if low == 0 or holds(low):
            return low, high
        high, step = low, 2 * step


def _guess(order: Sequence[tuple[_Demand, float]]) -> int:
    """The fewest first m whose shares would cover what the others lack of their minimum.

    Counted in amps times circuit phases (what a pause frees and a shortfall needs); on
    one binding constraint with equal shares this is the answer up to the 0.1 A rounding.
    """
    need = sum((d.min_amps - x) * len(d.circuit_phases) for d, x in order)
    freed = 0.0
    for m, (d, x) in enumerate(order, 1):
        phases = len(d.circuit_phases)
        freed += x * phases
        need -= (d.min_amps - x) * phases
        if freed >= need:
            return m
    return len(order)


_ONE_GROUP = True
"""False: :func:`_groups` always takes the union-find (the reference of its shortcut)."""


def _groups(
    active: list[_Demand], room: dict[str, tuple[PhaseAmps, float | None]], voltage: float
) -> tuple[list[_Demand], dict[frozenset[str], list[_Demand]]]:
    """The demands no limit can hold back, and the others by group of circuits.

    A circuit limit can bind only if what its subtree can carry exceeds it: per circuit
    phase, the demands on the circuit itself at their caps plus, per child circuit, the
    lesser of the child's limit and what the child's subtree can carry (likewise for
    power, also bounded by the child's phase limits). Demands under a common circuit
    limit that can bind are in one group (union-find over circuits), in their order.
    """
    carry: dict[str, list[float]] = {}
    children: dict[str, dict[str, None]] = {}
    depth: dict[str, int] = {}
    paths = dict.fromkeys(d.path for d in active)  # in order: the same sums on every run
    for path in paths:
        for n, circuit in enumerate(path):
            if circuit not in depth:
                depth[circuit] = n
                carry[circuit] = [0.0, 0.0, 0.0, 0.0]
            if n:
                children.setdefault(path[n - 1], {})[circuit] = None
    for d in active:
        own = carry[d.path[-1]]
        for p in d.circuit_phases:
            own[p] += d.cap
        own[3] += d.cap * voltage * len(d.circuit_phases)
    binding: set[str] = set()
    for circuit in sorted(depth, key=depth.__getitem__, reverse=True):
        total = carry[circuit]
        for child in children.get(circuit, ()):
            below = carry[child]
            amps, watts = room[child]
            most = [min(below[p], amps[p]) for p in range(3)]
            power = min(below[3], voltage * (most[0] + most[1] + most[2]))
            if watts is not None:
                power = min(power, watts)
            for p in range(3):
                total[p] += most[p]
            total[3] += power
        amps, watts = room[circuit]
        if (
            total[0] > amps[0]
            or total[1] > amps[1]
            or total[2] > amps[2]
            or (watts is not None and total[3] > watts)
        ):
            binding.add(circuit)
    top = active[0].path[0] if active else None
    if _ONE_GROUP and top in binding and all(path[0] == top for path in paths):
        # Every path starts at this circuit (a site's grid connection): when it can bind,
        # every binding circuit is joined with it and every demand is in its one group, what
        # the union-find below finds, without a lookup per demand (BAL16B).
        return [], {frozenset(binding): list(active)}
    root: dict[str, str] = {}

    def find(c: str) -> str:
        while root.get(c, c) != c:
            c = root[c]
        return c

    # Per path: its first binding circuit (None: no limit holds it back), joined with the rest.
    first_of: dict[tuple[str, ...], str | None] = {}
    for path in paths:
        held = [c for c in path if c in binding]
        first_of[path] = held[0] if held else None
        for c in held[1:]:
            top, other = find(held[0]), find(c)
            if other != top:
                root[other] = top
    group_of = {path: None if c is None else find(c) for path, c in first_of.items()}
    free: list[_Demand] = []
    members: dict[str, list[_Demand]] = {}
    for d in active:
        name = group_of[d.path]
        if name is None:
            free.append(d)
        else:
            group = members.get(name)
            if group is None:
                group = members[name] = []
            group.append(d)
    circuits: dict[str, set[str]] = {}
    for c in sorted(binding):
        circuits.setdefault(find(c), set()).add(c)
    return free, {frozenset(circuits[top]): group for top, group in members.items()}


def _room_left(
    pinned: Sequence[_Demand], limits: dict[str, tuple[PhaseAmps, float | None]], voltage: float
) -> dict[str, tuple[PhaseAmps, float | None]]:
    """The circuit limits minus what the pinned demands draw; SafetyError if they alone overload."""
    if not pinned:
        return limits
    used: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for d in pinned:
        for circuit in d.path:
            for p in d.circuit_phases:
                used[circuit][p] += d.cap
    room = dict(limits)
    for circuit, load in used.items():
        amps, watts = limits[circuit]
        left = [amps[p] - load[p] for p in range(3)]
        watts_left = None if watts is None else watts - sum(load) * voltage
        for p in range(3):
            if left[p] < -_REL_TOL * max(1.0, amps[p]):
                raise SafetyError(
                    f"vehicles held by TxProfiles a plan cannot replace draw {load[p]:.1f} A"
                    f" on L{p + 1}, above its {amps[p]:.1f} A limit",
                    field=circuit,
                    rule="pinned demands (docs/semantics.md B13)",
                )
        if watts is not None and watts_left is not None and watts_left < -_REL_TOL * watts:
            raise SafetyError(
                f"vehicles held by TxProfiles a plan cannot replace draw"
                f" {sum(load) * voltage:.0f} W, above its {watts:.0f} W limit",
                field=circuit,
                rule="pinned demands (docs/semantics.md B13)",
            )
        room[circuit] = (
            (max(left[0], 0.0), max(left[1], 0.0), max(left[2], 0.0)),
            None if watts_left is None else max(watts_left, 0.0),
        )
    return room


def _shares(
    active: Sequence[_Demand],
    limits: dict[str, tuple[PhaseAmps, float | None]],
    voltage: float,
    classes: _Classes | None = None,
    ids: Sequence[int] = (),
) -> list[float]:
    """The fair shares of the active demands under every circuit phase and power limit.

    With ``classes`` (built over a set of demands of which ``active`` is a subset, under
    these limits) and ``ids`` (each active demand's class there): the same shares, read
    through :meth:`_Classes.shares` (:func:`_pause`'s re-shares, helper BALFIX17).

    Demands alike in everything the share depends on (circuits, the set of circuit phases,
    cap and weight) get the same share, so each such class is one consumer of the progressive
    filling with its size as coefficient (a site of 1,000 EVSEs has a few hundred
    classes, and fewer with equal weights). Demands on the same circuit and circuit
    phases share all their constraints, so constraints are built per such group.
    """
    if classes is not None:
        return classes.shares(ids)
    if not active:
        return []
    # One consumer per class of alike demands: (path, circuit phases, cap, weight).
    index_of: dict[tuple[tuple[str, ...], tuple[int, ...], float, float], int] = {}
    consumer = [0] * len(active)
    caps: list[float] = []
    weights: list[float] = []
    sizes: list[int] = []
    shapes: list[tuple[tuple[str, ...], tuple[int, ...]]] = []
    loads: dict[tuple[int, ...], tuple[int, ...]] = {}
    for n, d in enumerate(active):
        # The circuit phases it loads, in any order: a rotation changes none of its sums.
        phases = loads.get(d.circuit_phases)
        if phases is None:
            phases = loads[d.circuit_phases] = tuple(sorted(d.circuit_phases))
        key = (d.path, phases, d.cap, d.weight)
        i = index_of.get(key)
        if i is None:
            i = index_of[key] = len(caps)
            caps.append(d.cap)
            weights.append(d.weight)
            sizes.append(0)
            shapes.append((d.path, phases))
        sizes[i] += 1
        consumer[n] = i
    alike: dict[tuple[tuple[str, ...], tuple[int, ...]], list[int]] = defaultdict(list)
    for i, shape in enumerate(shapes):
        alike[shape].append(i)
    # What each constraint would carry with everyone at their cap: a constraint that
    # holds even then never binds and is left out.
    potential: dict[tuple[str, int], float] = defaultdict(float)
    buckets = []
    for (path, circuit_phases), indices in alike.items():
        cap_sum = sum(caps[i] * sizes[i] for i in indices)
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
    if not binding:
        return [d.cap for d in active]
    # Per binding constraint: its members' consumer indices and coefficients, as two
    # parallel lists of plain numbers (no pair per membership: fill()).
    groups: dict[tuple[str, int], tuple[list[int], list[float]]] = {}
    for path, circuit_phases, indices in buckets:
        counts: list[float] | None = None
        for circuit in path:
            for p in circuit_phases:
                if (circuit, p) in binding:
                    if counts is None:
                        counts = [float(sizes[i]) for i in indices]
                    group = groups.get((circuit, p))
                    if group is None:
                        group = groups[(circuit, p)] = ([], [])
                    group[0].extend(indices)
                    group[1].extend(counts)
            if (circuit, -1) in binding:
                per_amp = voltage * len(circuit_phases)
                group = groups.get((circuit, -1))
                if group is None:
                    group = groups[(circuit, -1)] = ([], [])
                group[0].extend(indices)
                group[1].extend(per_amp * sizes[i] for i in indices)
    bounds: list[float] = []
    for circuit, p in groups:
        amps, watts = limits[circuit]
        bound = watts if p < 0 else amps[p]
        assert bound is not None
        bounds.append(bound)
    shares = fill(
        caps, weights, bounds, [g[0] for g in groups.values()], [g[1] for g in groups.values()]
    )
    return [shares[i] for i in consumer]


_CLASSED = 512
""":func:`_pause`: a group of at least this many demands is classed (:class:`_Classes`) for
its first sharing too; a smaller one only once someone is short."""

_SLACK = 0.5
""":meth:`_Classes.slack_at`: a constraint the group's sharing loads at most this share of its
limit is left out of the re-shares' fillings (and checked after each)."""

_APART = 4.0
""":meth:`_Classes.slack_guessed`: a constraint that would fill, every member rising alike, at
this many times the level of the first to fill or more is left out of the group's first
filling (and checked after it)."""

_MARGIN = 1e-6
"""A constraint left out of a filling must end below its limit by this share of it."""


class _Classes:
    """A group's demands classed once, for the sharings of its subsets (helper BALFIX17).

    :func:`_pause` shares a group, then re-shares ever smaller subsets of it (2-10 times per
    pausing slot where the grid binds: 1,500-8,400 demands and ~1,400 constraints per group
    at 10,000 EVSEs). Each demand's class of alike demands (as :func:`_shares` forms them)
    and each class shape's constraints are worked out once here, numbered; :meth:`shares`
    reads a subset's classes from the ids in C and builds the filling as :func:`_shares`
    does: the same consumers, constraints, members and coefficients in the same order, so
    the same floats.

    **Slack constraints.** Constraints far from full (a feeder under a binding grid: guessed
    before the first sharing, :meth:`slack_guessed`, then read from it, :meth:`slack_at`)
    are left out of the filling, then checked: the shares must load each below its limit by
    :data:`_MARGIN` (first bounded by the largest share times its members, else summed).
    That is exact: a constraint the full filling fills, at a level within 10^-12 of the
    lowest, freezes its members there, and members it does not freeze end at that level or
    above; so it ends within about 10^-12 of its limit whichever constraints are left out.
    One that ends below by the margin never takes part in the full filling, and every other
    constraint fills at the same levels in the same order (each constraint's arithmetic
    reads only its own members; ties go by the order of the constraints, kept). One that
    fails the check is put back and the filling done again (``refills``), so the answer is
    always the full filling's.
    """

    __slots__ = (
        "bound",
        "caps",
        "full",
        "ids",
        "kept",
        "last",
        "n_phases",
        "per_amp",
        "phase_ids",
        "potential_limit",
        "power",
        "power_ids",
        "refills",
        "shape_of",
        "skip",
        "voltage",
        "walk",
        "weights",
        "xmax",
    )

    def __init__(
        self,
        active: Sequence[_Demand],
        limits: dict[str, tuple[PhaseAmps, float | None]],
        voltage: float,
    ) -> None:
        self.voltage = voltage
        self.refills = 0
        index_of: dict[tuple[tuple[str, ...], tuple[int, ...], float, float], int] = {}
        shape_index: dict[tuple[tuple[str, ...], tuple[int, ...]], int] = {}
        loads: dict[tuple[int, ...], tuple[int, ...]] = {}
        ids: list[int] = []
        caps: list[float] = []
        weights: list[float] = []
        shape_of: list[int] = []
        shapes: list[tuple[tuple[str, ...], tuple[int, ...]]] = []
        for d in active:
            phases = loads.get(d.circuit_phases)
            if phases is None:
                phases = loads[d.circuit_phases] = tuple(sorted(d.circuit_phases))
            key = (d.path, phases, d.cap, d.weight)
            i = index_of.get(key)
            if i is None:
                i = index_of[key] = len(caps)
                caps.append(d.cap)
                weights.append(d.weight)
                shape = (d.path, phases)
                s = shape_index.get(shape)
                if s is None:
                    s = shape_index[shape] = len(shapes)
                    shapes.append(shape)
                shape_of.append(s)
            ids.append(i)
        self.ids, self.caps, self.weights, self.shape_of = ids, caps, weights, shape_of
        # Constraints numbered as met; per shape, its constraints as _shares visits them.
        number: dict[tuple[str, int], int] = {}
        potential_limit: list[float] = []
        bound: list[float] = []

        def numbered(circuit: str, p: int) -> int:
            k = number[(circuit, p)] = len(bound)
            amps, watts = limits[circuit]
            if p < 0:
                potential_limit.append(watts if watts is not None else _INF)
                bound.append(_INF if watts is None else watts)
            else:
                potential_limit.append(amps[p])
                bound.append(amps[p])
            return k

        on: dict[tuple[str, tuple[int, ...]], tuple[list[int], int, list[tuple[int, bool]]]] = {}
        self.phase_ids: list[list[int]] = []
        self.power_ids: list[list[int]] = []
        self.walk: list[list[tuple[int, bool]]] = []
        for path, circuit_phases in shapes:
            own_phase: list[int] = []
            own_power: list[int] = []
            own_walk: list[tuple[int, bool]] = []
            for circuit in path:
                seen = on.get((circuit, circuit_phases))
                if seen is None:
                    ks = [number.get((circuit, p)) for p in circuit_phases]
                    phase_ks = [
                        numbered(circuit, p) if k is None else k
                        for p, k in zip(circuit_phases, ks, strict=True)
                    ]
                    power_k = number.get((circuit, -1))
                    if power_k is None:
                        power_k = numbered(circuit, -1)
                    steps = [(k, False) for k in phase_ks]
                    steps.append((power_k, True))
                    seen = on[(circuit, circuit_phases)] = (phase_ks, power_k, steps)
                own_phase.extend(seen[0])
                own_power.append(seen[1])
                own_walk.extend(seen[2])
            self.phase_ids.append(own_phase)
            self.power_ids.append(own_power)
            self.walk.append(own_walk)
        self.per_amp = [voltage * len(phases) for _, phases in shapes]
        self.n_phases = [len(phases) for _, phases in shapes]
        self.potential_limit, self.bound = potential_limit, bound
        self.power = {k for ks in self.power_ids for k in ks}
        # What each constraint carries with every demand of the group at 1 A.
        per_class = Counter(ids)
        per_shape: dict[int, float] = defaultdict(float)
        for i, n in per_class.items():
            per_shape[shape_of[i]] += n
        self.full = self._carried(per_shape)
        self.skip: set[int] = set()
        self.xmax: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.kept = self.walk

    def _carried(self, per_shape: dict[int, float]) -> list[float]:
        """What each constraint carries, given the amps each shape's demands draw in all."""
        carried = [0.0] * len(self.bound)
        for s, total in per_shape.items():
            for k in self.phase_ids[s]:
                carried[k] += total
            power = total * self.per_amp[s]
            for k in self.power_ids[s]:
                carried[k] += power
        return carried

    def _leave_out(self, skip: set[int]) -> None:
        """Fill without the constraints of ``skip`` from now on (checked after each filling).

        Only constraints of positive, finite limit whose members all have positive
        coefficients (power ones: a positive voltage) are left out, and none while a class
        has a cap not above 0 (:func:`_shares` hands such a class its cap when nothing binds).
        """
        if not all(cap > 0.0 for cap in self.caps):
            skip = set()
        self.skip = {
            k
            for k in skip
            if 0.0 < self.bound[k] < _INF
            and self.full[k] > 0.0
            and (self.voltage > 0.0 or k not in self.power)
        }
        # The largest share at which a left-out constraint holds even with every demand of
        # the group on it at that share.
        self.xmax = {k: self.bound[k] * (1.0 - _MARGIN) / self.full[k] for k in self.skip}
        skip = self.skip
        self.kept = [[step for step in walk if step[0] not in skip] for walk in self.walk]

    def slack_at(self, shares: Sequence[float] | None = None) -> None:
        """Leave out the constraints that the group's demands at ``shares`` (None: the last
        sharing) load at most :data:`_SLACK` of their limit."""
        if shares is not None:
            self.last = defaultdict(float)
            for s, x in zip(map(self.shape_of.__getitem__, self.ids), shares, strict=True):
                self.last[s] += x
        carried = self._carried(self.last)
        self._leave_out({k for k, load in enumerate(carried) if load <= _SLACK * self.bound[k]})

    def slack_guessed(self) -> None:
        """Leave out the constraints that, every demand of the group rising alike, would
        fill at :data:`_APART` times the level of the first to fill or more."""
        levels = [
            limit / full
            for limit, full in zip(self.bound, self.full, strict=True)
            if full > 0.0 and 0.0 <= limit < _INF
        ]
        if levels:
            first = min(levels) * _APART
            self._leave_out(
                {
                    k
                    for k, (limit, full) in enumerate(zip(self.bound, self.full, strict=True))
                    if limit >= first * full
                }
            )

    def shares(self, ids: Sequence[int]) -> list[float]:
        """:func:`_shares` of the demands whose classes are ``ids``: the same floats."""
        if not ids:
            self.last = {}
            return []
        present = list(dict.fromkeys(ids))  # the classes in order of first occurrence
        count = Counter(ids)
        sizes = list(map(count.__getitem__, present))
        consumer = list(map(dict(zip(present, range(len(present)), strict=True)).__getitem__, ids))
        caps = list(map(self.caps.__getitem__, present))
        weights = list(map(self.weights.__getitem__, present))
        alike: dict[int, list[int]] = {}
        for i, s in enumerate(map(self.shape_of.__getitem__, present)):
            same = alike.get(s)
            if same is None:
                alike[s] = [i]
            else:
                same.append(i)
        voltage, n_phases, per_amp_of = self.voltage, self.n_phases, self.per_amp
        while True:
            # What each constraint filled would carry with everyone at their cap, summed in
            # _shares' order (per shape, then its circuits); those left out are checked after.
            kept = self.kept
            potential = [0.0] * len(self.bound)
            for s, indices in alike.items():
                cap_sum = sum(
                    map(
                        operator.mul,
                        map(caps.__getitem__, indices),
                        map(sizes.__getitem__, indices),
                    )
                )
                watts = cap_sum * voltage * n_phases[s]
                for k, power in kept[s]:
                    potential[k] += watts if power else cap_sum
            binding = list(map(operator.gt, potential, self.potential_limit))
            groups: dict[int, tuple[list[int], list[float]]] = {}
            for s, indices in alike.items():
                counts: list[float] | None = None
                for k, power in kept[s]:
                    if not binding[k]:
                        continue
                    group = groups.get(k)
                    if group is None:
                        group = groups[k] = ([], [])
                    group[0].extend(indices)
                    if power:
                        per_amp = per_amp_of[s]
                        group[1].extend(per_amp * sizes[i] for i in indices)
                    else:
                        if counts is None:
                            counts = [float(sizes[i]) for i in indices]
                        group[1].extend(counts)
            if not groups and not self.skip:  # nothing binds: everyone at their cap
                self.last = {}
                return [caps[i] for i in consumer]
            found = fill(
                caps,
                weights,
                [self.bound[k] for k in groups],
                [g[0] for g in groups.values()],
                [g[1] for g in groups.values()],
            )
            self.last = {
                s: sum(
                    map(
                        operator.mul,
                        map(found.__getitem__, indices),
                        map(sizes.__getitem__, indices),
                    )
                )
                for s, indices in alike.items()
            }
            failed = self._over(found)
            if not failed:
                return [found[i] for i in consumer]
            self.refills += 1
            self._leave_out(self.skip - failed)

    def _over(self, found: list[float]) -> set[int]:
        """The constraints left out that the last sharing does not load below their limit
        by :data:`_MARGIN`: bounded by its largest share times all the group's demands on
        each first, summed for those the bound does not settle (binding or not)."""
        if not self.skip:
            return set()
        most = max(found, default=0.0)
        unsure = [k for k, x in self.xmax.items() if not most < x]
        if not unsure:
            return set()
        carried = self._carried(self.last)
        return {k for k in unsure if not carried[k] < self.bound[k] * (1.0 - _MARGIN)}

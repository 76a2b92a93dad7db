"""The post-condition of a send plan: every prefix keeps every circuit within its limits.

The check replays what the piles hold through the library's own station rules
and composite engine; it does not trust the plan's construction. Given each
pile's profiles before the plan and its profiles after each step of the plan
(in sending order), it computes what every EVSE may draw at every instant of
``[start, end)``:

- while a known session is on it: its composite schedule with the session as
  the transaction, at most its hardware and the vehicle's limit, on the
  vehicle's phases (at most the composite's phases);
- while no session is on it: its composite without a transaction, on all the
  phases it is wired for (a vehicle nobody announced may plug in).

The loads are summed per circuit and circuit phase (phase rotation and the
supply tree) and compared with the circuit's limits at that instant. Work is
one composite per EVSE and store version, not per second: the loads are step
functions on the union of all their change points.

A prefix passes when no circuit phase or power is above its limit, or above
what it already was before the plan (the plan never makes anything worse);
the whole plan passes only when every limit holds. When the steps first only
lower loads and then only raise them (each at every instant and phase), every
prefix lies between the state before and the whole plan, so those two are
checked; otherwise every prefix is checked on its own. A circuit already over its
limit before the plan is reported as a warning; anything else raises
:class:`~ocpp_schedule.errors.SafetyError`.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate
from threading import Lock

from dateutil import tz

from ..engine._compile import compiled
from ..engine._leading import leading_rows
from ..errors import OcppScheduleError, SafetyError
from ..station._config import StationConfig
from ..station._rules import _Content
from ..station._store import InstalledProfile, ProfileStore, Transaction
from ..wire._enums import ChargingProfileKind
from ..wire._timestamps import format_timestamp, from_epoch, to_epoch
from ._model import Evse, Pile, Site
from ._timelines import (
    _HASH,
    _KEPT,
    Piece,
    _entry_hash,
    _not_kept,
    circuit_timeline,
    evse_timeline,
    session_transaction,
)

__all__ = ["MEMO_DRAWS", "Draws", "PlanChange", "check_plan", "clear_draw_caches"]

_TOLERANCE = 1e-6

EvseKey = tuple[str, int]


@dataclass(frozen=True)
class PlanChange:
    """A pile's store after one step of the plan, and what the step was (for messages)."""

    pile: str
    store: ProfileStore
    what: str


def _relevant(store: ProfileStore, evse_id: int) -> tuple[InstalledProfile, ...]:
    """The entries an EVSE's composite depends on: those on the EVSE and on EVSE 0."""
    return tuple(e for e in store if e.evse_id in (0, evse_id))


class _Entries:
    """The entries an EVSE's composite depends on, in store order, as a key.

    Hashed on content (each entry's hash computed once), compared by value.
    """

    __slots__ = ("_hash", "entries")

    def __init__(self, store: ProfileStore, evse_id: int) -> None:
        self.entries = _relevant(store, evse_id)
        self._hash = hash(tuple(e.derived(_HASH, _entry_hash) for e in self.entries))

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _Entries):
            return NotImplemented
        return self._hash == other._hash and self.entries == other.entries


Dir = tuple[bool, bool]
"""Whether an EVSE's load goes (down, up) somewhere (:func:`_direction`)."""

_Judge = Callable[[list[Piece], list[Piece]], Dir]

MEMO_DRAWS = 8192
"""Most EVSE draws kept from one plan for the next (least recently used out)."""

CARRY_AHEAD = 6 * 3600
"""How far past its plan's window a kept draw is computed (s): a re-plan minutes later
asks for a window whose end moved on by up to a slot (the allocation's end rounds up
to its resolution), and finds it covered (docs/performance.md, SENDWARM)."""

_CARRIED: OrderedDict[_Content, tuple[int, int, list[Piece]]] = OrderedDict()
_CARRIED_LOCK = Lock()


def clear_draw_caches() -> None:
    """Forget every draw kept for the next plan (benchmarks: a cold start); changes no result."""
    with _CARRIED_LOCK:
        _CARRIED.clear()


def memo_size() -> int:
    """How many draws are kept for the next plan (for tests of the bound)."""
    with _CARRIED_LOCK:
        return len(_CARRIED)


class Draws:
    """What an EVSE may draw under a store over ``[start, end)`` (its timeline, idle included).

    A pure function of the pile, the EVSE, the configuration and the entries on the EVSE
    and on EVSE 0, so within one plan it is computed once per such entries: the send plan's
    ordering and its post-condition ask for the same ones. A pile or configuration other
    than the first one seen under its id within the plan is computed, not kept.

    Across plans (a controller re-planning a few minutes later), a draw is also taken from
    the bounded memo of earlier plans' draws (:data:`MEMO_DRAWS`) when everything it depends
    on is equal by value (:class:`_Content`: the pile id, the EVSE with its sessions, the
    configuration, the entries) and the earlier window covers this one; it is then cut to
    this window (:func:`_carry`, where the argument that it is the same draw is).
    """

    def __init__(self, start: int, end: int) -> None:
        self.start = start
        self.end = end
        self._seen: dict[str, tuple[Pile, StationConfig]] = {}
        self._memo: dict[tuple[str, int, _Entries], list[Piece]] = {}
        self._by_store: dict[tuple[str, int, int], tuple[ProfileStore, list[Piece]]] = {}
        self._directions: dict[tuple[int, int], tuple[list[Piece], list[Piece], _Judge, Dir]] = {}

    def direction(
        self,
        old: list[Piece],
        new: list[Piece],
        judge: _Judge,
    ) -> Dir:
        """``judge(old, new)`` (:func:`_direction`) of two draws, once per pair within the plan.

        The ordering judges each EVSE's direction from its draw under what the pile
        holds to its draw with its new profiles, and the post-condition asks the same of
        each step; where a step is all of an EVSE's change (one profile), the two draws
        are the same lists (from this memo). Keyed on their identity, the lists held by
        the memo itself (so no identity is reused while it lives: one plan); nothing
        changes a draw once made. An answer is reused only from the same ``judge``.
        """
        key = (id(old), id(new))
        found = self._directions.get(key)
        if found is not None and found[0] is old and found[1] is new and found[2] is judge:
            return found[3]
        answer = judge(old, new)
        self._directions[key] = (old, new, judge, answer)
        return answer

    def __call__(
        self, pile: Pile, evse: Evse, store: ProfileStore, config: StationConfig
    ) -> list[Piece]:
        """The EVSE's timeline under ``store``: :func:`evse_timeline` with ``idle``."""
        first = self._seen.setdefault(pile.id, (pile, config))
        if first[0] is not pile or (first[1] is not config and first[1] != config):
            return _timeline(pile, evse, store, config, self.start, self.end)
        # The same store object again (the replay installs into the stores the ordering
        # made, :class:`_sendplan._Installs`): its draw without hashing its entries. Held
        # with the store, so its identity is not reused while this plan's memo lives.
        seen = self._by_store.get((pile.id, evse.id, id(store)))
        if seen is not None and seen[0] is store:
            return seen[1]
        entries = _Entries(store, evse.id)
        key = (pile.id, evse.id, entries)
        found = self._memo.get(key)
        if found is None:
            found = self._carried(pile, evse, store, config, entries)
            self._memo[key] = found
        self._by_store[(pile.id, evse.id, id(store))] = (store, found)
        return found

    def _carried(
        self,
        pile: Pile,
        evse: Evse,
        store: ProfileStore,
        config: StationConfig,
        entries: _Entries,
    ) -> list[Piece]:
        """The draw from an earlier plan's, cut to this window, or computed (and kept)."""
        if not _anchored(entries):
            return _timeline(pile, evse, store, config, self.start, self.end)
        content = _Content((pile.id, evse, config, entries))
        with _CARRIED_LOCK:
            found = _CARRIED.get(content)
            if found is not None:
                _CARRIED.move_to_end(content)
        if found is not None and found[0] <= self.start and self.end <= found[1]:
            return _carry(found[2], self.start, self.end)
        ahead = self.end + CARRY_AHEAD
        try:
            pieces = _timeline(pile, evse, store, config, self.start, ahead)
        except OcppScheduleError:
            # The wider window is only for later plans: where it meets a bound, this
            # plan's own window decides (computed, raised there if at all; not kept).
            return _timeline(pile, evse, store, config, self.start, self.end)
        with _CARRIED_LOCK:
            _CARRIED[content] = (self.start, ahead, pieces)
            _CARRIED.move_to_end(content)
            if len(_CARRIED) > MEMO_DRAWS:
                _CARRIED.popitem(last=False)
        return _carry(pieces, self.start, self.end)


def _anchored(entries: _Entries) -> bool:
    """Whether every entry's schedule has a fixed start (none starts with the window)."""
    return all(_fixed_start(entry) for entry in entries.entries)


def _fixed_start(entry: InstalledProfile) -> bool:
    """Whether the entry's schedule has a fixed start (its compiled ``anchor`` is not None).

    An Absolute profile whose first schedule names ``startSchedule`` is anchored there
    (``engine._compile.compile_profile``): known without compiling it, which a send plan's
    fresh profiles would otherwise be for this question alone (their draws are mostly
    carried from the previous plan). Any other entry is asked of its compiled form.
    Where compiling would refuse the entry, no earlier plan can hold a draw for equal
    entries (compiling is a function of the entry's value), so the draw is computed and
    the refusal is raised there, as before. Pinned by tests/test_send16.py.
    """
    profile = entry.profile
    if (
        profile.charging_profile_kind is ChargingProfileKind.ABSOLUTE
        and profile.charging_schedule[0].start_schedule is not None
    ):
        return True
    return compiled(entry).anchor is not None


def _carry(pieces: list[Piece], start: int, end: int) -> list[Piece]:
    """A draw over a window containing ``[start, end)``, cut to it.

    Why it is the draw :func:`evse_timeline` computes over ``[start, end)`` itself, for the
    same pile, EVSE, configuration and entries (equal by value), when every entry has a
    fixed start (:func:`_anchored`):

    - the timeline is, for each session, the composite with its transaction on the
      session's time clipped to the window, and between sessions the composite without
      one; clipping a session's or a gap's time to the wider window and then to
      ``[start, end)`` is clipping it to ``[start, end)``;
    - the composite at an instant does not depend on the window asked for, except through
      the start of schedules without a fixed one (Relative, 1.6 Absolute without
      startSchedule), which begin at the transaction's start or, with no transaction, at
      the window's start: excluded here (the argument of ``_timelines._stable_window``,
      which memoises the pile stores' composites the same way);
    - the engine merges equal neighbouring periods (limit and phases, and the 2.1 fields),
      so both are the one list of maximal runs of the same function, and the timeline caps
      each period pointwise (hardware, vehicle, wired phases).

    Pinned by tests/test_send_plan_speedups.py (carried == computed over the window).
    A piece already inside the window is shared, not copied (nothing changes a piece once
    made; SEND13B).
    """
    return [
        p
        if start <= p.start and p.end <= end
        else Piece(max(p.start, start), min(p.end, end), p.cap, p.phases, p.session, p.pinned)
        for p in pieces
        if p.end > start and p.start < end
    ]


LEADING = True
"""Whether a draw takes each composite from ``engine._leading.leading_rows`` where it
answers (one profile leads alone); False: always :func:`evse_timeline` (the reference)."""


def _timeline(
    pile: Pile, evse: Evse, store: ProfileStore, config: StationConfig, start: int, end: int
) -> list[Piece]:
    """``evse_timeline(pile, evse, store, config, start, end, idle=True)``: :func:`_quick`
    where it answers, else :func:`evse_timeline` itself."""
    found = _quick(pile, evse, store, config, start, end)
    if found is None:
        return evse_timeline(pile, evse, store, config, start, end, idle=True)
    return found


def _quick(
    pile: Pile, evse: Evse, store: ProfileStore, config: StationConfig, start: int, end: int
) -> list[Piece] | None:
    """``evse_timeline(pile, evse, store, config, start, end, idle=True)`` where one profile
    leads alone in every window, else None.

    The same walk over the EVSE's sessions and the idle time between them, each window's
    composite taken from :func:`~ocpp_schedule.engine._leading.leading_rows` (the plan's
    profile leading alone: its periods, without the engine's index and sweep). None where
    it does not answer for some window, and for a store :func:`pile_store` keeps (its
    composites are memoised there). Pinned against :func:`evse_timeline` by
    tests/test_send16c.py (docs/performance.md, SEND16C).
    """
    if not LEADING or store.derived(_KEPT, _not_kept):
        return None
    pieces: list[Piece] = []
    cursor = start
    sessions = evse.sessions
    order = sorted(range(len(sessions)), key=lambda i: sessions[i].arrive)
    for index in order:
        session = sessions[index]
        tx = session_transaction(pile, evse, session)
        a = max(tx.start_epoch, start)
        b = min(to_epoch(session.leave), end)
        if a >= b:
            continue
        if a > cursor and not _rows_into(
            pieces, store, config, evse.id, None, cursor, a, evse.max_amps, evse.phases, -1
        ):
            return None
        hard = min(evse.max_amps, session.max_amps if session.max_amps is not None else _INF)
        wired = min(session.phases, evse.phases)
        if not _rows_into(pieces, store, config, evse.id, tx, a, b, hard, wired, index):
            return None
        cursor = b
    if cursor < end and not _rows_into(
        pieces, store, config, evse.id, None, cursor, end, evse.max_amps, evse.phases, -1
    ):
        return None
    return pieces


_INF = float("inf")


def _rows_into(
    pieces: list[Piece],
    store: ProfileStore,
    config: StationConfig,
    evse_id: int,
    tx: Transaction | None,
    a: int,
    b: int,
    hard: float,
    wired: int,
    session: int,
) -> bool:
    """Append the EVSE's composite on ``[a, b)`` as pieces capped by ``hard`` and ``wired``
    (``_timelines._pieces``), where :func:`leading_rows` answers; False where it does not."""
    rows = leading_rows(store, config, evse_id, tx, a, b)
    if rows is None:
        return False
    for p_start, p_end, limit, phases in rows:
        pieces.append(
            Piece(
                p_start,
                p_end,
                limit if limit < hard else hard,  # min(hard, limit), the same object
                phases if phases < wired else wired,
                session,
            )
        )
    return True


def _when(t: int) -> str:
    return format_timestamp(from_epoch(t))


class _Loads:
    """Per circuit and phase, the load on every interval of the grid."""

    def __init__(
        self, site: Site, grid: list[int], paths: dict[str, tuple[str, ...]] | None = None
    ) -> None:
        self.site = site
        self.grid = grid
        self.paths = site.paths() if paths is None else paths
        size = len(grid) - 1
        self.amps = {c: [[0.0] * size for _ in range(3)] for c in self.paths}
        self._cells = {t: i for i, t in enumerate(grid)}
        self.exact: tuple[int, dict[tuple[str, int], list[int]]] | None = None
        """The exact running sums :meth:`fill` set (None: the loads were not summed by it)."""

    def fill(self, members: Iterable[tuple[Pile, list[Piece]]]) -> None:
        """Set the loads to the sum of these EVSEs' pieces, each cell summed exactly.

        Every piece adds its cap on its circuit phases over its cells, on every circuit of
        its pile's path (as :meth:`add` does). The sums are exact: each cap is the
        rational its float is, scaled to one power-of-two denominator (so an integer),
        added at the piece's first cell and taken off after its last (a difference row),
        and each cell's running sum is rounded to a float once. Work per row is its
        pieces plus its cells, not pieces times cells; the result does not depend on the
        order of the members (docs/performance.md, SEND16). Pinned against the exact
        sum by tests/test_send16.py.

        The exact sums are kept (:attr:`exact`), so that :meth:`changed` can give the loads
        after some EVSEs change by adding only their differences.
        """
        self._set(self._exact_rows((pile, pieces, 1) for pile, pieces in members))

    def changed(self, moves: Iterable[tuple[Pile, list[Piece], list[Piece]]]) -> _Loads:
        """The loads once each ``(pile, old, new)`` EVSE draws ``new`` instead of ``old``.

        These loads' exact sums plus the moved EVSEs' differences (``new`` added, ``old``
        taken off, exactly), each cell rounded once: the same floats as :meth:`fill` over
        every EVSE's new pieces (both are the one exact rational, rounded once), with work
        in the moved EVSEs' pieces, not every EVSE's (docs/performance.md, SEND13B).
        Pinned against :meth:`fill` by tests/test_send13b.py.
        """
        if self.exact is None:
            raise ValueError("changed() needs loads summed by fill()")
        out = _Loads(self.site, self.grid, self.paths)
        shift, rows = self.exact
        more_shift, more = self._exact_rows(
            (pile, pieces, sign)
            for pile, old, new in moves
            for pieces, sign in ((old, -1), (new, 1))
        )
        top = max(shift, more_shift)
        merged: dict[tuple[str, int], list[int]] = {}
        for key, row in rows.items():
            up = top - shift
            merged[key] = [t << up for t in row] if up else row
        for key, row in more.items():
            up = top - more_shift
            was = merged.get(key)
            if was is None:
                merged[key] = [t << up for t in row] if up else row
            else:
                merged[key] = [a + (b << up) for a, b in zip(was, row, strict=True)]
        out._set((top, merged))
        return out

    def _set(self, exact: tuple[int, dict[tuple[str, int], list[int]]]) -> None:
        """Keep the exact running sums and set each row to them, rounded once per cell."""
        self.exact = exact
        shift, rows = exact
        denominator = 1 << shift
        for (circuit, p), row in rows.items():
            # int / int is the exact quotient rounded once (CPython's true division)
            self.amps[circuit][p] = [t / denominator if t else 0.0 for t in row]

    def _exact_rows(
        self, members: Iterable[tuple[Pile, list[Piece], int]]
    ) -> tuple[int, dict[tuple[str, int], list[int]]]:
        """The exact running sums per (circuit, phase) of these pieces, each added with its
        sign: the shift of the common power-of-two denominator, and the integer rows.

        Pieces are first summed per pile circuit and circuit phases (many EVSEs share
        them, and their pieces share cell boundaries), and each such group's difference
        row is then added to every circuit of its path on each of its phases: per piece
        two integer additions, not two per circuit and phase (SEND13B). Integer sums do
        not depend on the order, so the sums are those of every piece added on its own.
        """
        size = len(self.grid) - 1
        grid = self.grid
        cell = self._cells
        ratios: dict[float, tuple[int, int]] = {}
        groups: dict[tuple[str, tuple[int, ...]], list[tuple[int, int, float, int]]] = {}
        phases_of: dict[tuple[str, int], tuple[str, tuple[int, ...]]] = {}
        for pile, pieces, sign in members:
            for piece in pieces:
                cap = piece.cap
                if cap <= 0 or piece.phases <= 0:
                    continue
                first = cell.get(piece.start)
                if first is None:
                    first = bisect_left(grid, piece.start)
                last = cell.get(piece.end)
                if last is None:
                    last = bisect_left(grid, piece.end)
                if first >= last:
                    continue
                if cap not in ratios:
                    num, den = cap.as_integer_ratio()
                    ratios[cap] = (num, den.bit_length() - 1)
                group = phases_of.get((pile.id, piece.phases))
                if group is None:
                    phases = tuple(pile.circuit_phase(p) for p in range(piece.phases))
                    group = phases_of[(pile.id, piece.phases)] = (pile.circuit, phases)
                found = groups.get(group)
                if found is None:
                    found = groups[group] = []
                found.append((first, last, cap, sign))
        shift = max((bits for _, bits in ratios.values()), default=0)
        scaled = {cap: num << (shift - bits) for cap, (num, bits) in ratios.items()}
        rows: dict[tuple[str, int], list[int]] = {}
        for (circuit_of, phases), slices in groups.items():
            diff = [0] * (size + 1)
            for first, last, cap, sign in slices:
                value = scaled[cap] if sign > 0 else -scaled[cap]
                diff[first] += value
                diff[last] -= value
            for circuit in self.paths[circuit_of]:
                for p in phases:
                    row = rows.get((circuit, p))
                    rows[(circuit, p)] = (
                        diff.copy()
                        if row is None
                        else [a + b for a, b in zip(row, diff, strict=True)]
                    )
        for key, row in rows.items():
            del row[size]  # what the pieces ending at the grid's end take off
            rows[key] = list(accumulate(row))
        return shift, rows

    def add(self, pile: Pile, pieces: list[Piece], sign: float) -> set[tuple[str, int, int]]:
        """Add (sign 1) or remove (-1) an EVSE's pieces; the (circuit, first, last) it touched."""
        touched: set[tuple[str, int, int]] = set()
        path = self.paths[pile.circuit]
        for piece in pieces:
            if piece.cap <= 0 or piece.phases <= 0:
                continue
            first = bisect_left(self.grid, piece.start)
            last = bisect_left(self.grid, piece.end)
            phases = [pile.circuit_phase(p) for p in range(piece.phases)]
            step = sign * piece.cap
            for circuit in path:
                rows = self.amps[circuit]
                for p in phases:
                    row = rows[p]
                    # The same additions, cell by cell and in the same order, as a loop.
                    row[first:last] = [value + step for value in row[first:last]]
                touched.add((circuit, first, last))
        return touched


class _Limits:
    """Per circuit, the phase and power limits on every interval of the grid."""

    def __init__(self, site: Site, grid: list[int], start: int, end: int) -> None:
        zone = tz.gettz(site.time_zone)
        size = len(grid) - 1
        self.amps: dict[str, list[tuple[float, float, float]]] = {}
        self.watts: dict[str, list[float | None]] = {}
        for circuit, _ in site.grid.walk():
            amps: list[tuple[float, float, float]] = [(0.0, 0.0, 0.0)] * size
            watts: list[float | None] = [None] * size
            for a, b, piece_amps, piece_watts in circuit_timeline(
                circuit, zone, start, end, site.voltage
            ):
                for i in range(bisect_left(grid, a), bisect_left(grid, b)):
                    amps[i] = piece_amps
                    watts[i] = piece_watts
            self.amps[circuit.id] = amps
            self.watts[circuit.id] = watts


def check_plan(
    site: Site,
    start: int,
    end: int,
    before: dict[str, tuple[ProfileStore, StationConfig]],
    changes: Sequence[PlanChange],
    *,
    warn_before: bool = True,
    draws: Draws | None = None,
) -> list[str]:
    """Check every prefix of a plan over ``[start, end)``; the warnings, or SafetyError.

    ``before`` holds each pile's store (and configuration) before the plan;
    ``changes`` each step's resulting store, in sending order. With
    ``warn_before``, a circuit over a limit before the plan is a warning.
    ``draws`` (over the same ``[start, end)``) shares the EVSE timelines already
    computed for these stores; by default each is computed here.
    """
    if draws is None or (draws.start, draws.end) != (start, end):
        draws = Draws(start, end)
    piles = {p.id: p for p in site.piles}
    timelines: dict[EvseKey, list[list[Piece]]] = {}
    current = {pid: store for pid, (store, _) in before.items()}
    for pile in site.piles:
        store, config = before[pile.id]
        for evse in pile.evses:
            timelines[(pile.id, evse.id)] = [draws(pile, evse, store, config)]
    events: list[list[EvseKey]] = []
    for change in changes:
        pile = piles[change.pile]
        config = before[pile.id][1]
        moved = []
        differ = (
            _touched(current[pile.id], change.store)
            if TOUCHED and len(pile.evses) > 1  # one EVSE: its entries are compared at once
            else None
        )
        for evse in pile.evses:
            if differ is not None and evse.id not in differ:
                continue  # its entries are the same objects in the same order (_touched)
            if _relevant(current[pile.id], evse.id) != _relevant(change.store, evse.id):
                key = (pile.id, evse.id)
                timelines[key].append(draws(pile, evse, change.store, config))
                moved.append(key)
        current[pile.id] = change.store
        events.append(moved)
    points = {start, end}
    for versions in timelines.values():
        for pieces in versions:
            for piece in pieces:
                points.update((piece.start, piece.end))
    zone = tz.gettz(site.time_zone)
    for node, _ in site.grid.walk():
        for a, b, _amps, _watts in circuit_timeline(node, zone, start, end, site.voltage):
            points.update((a, b))
    grid = sorted(t for t in points if start <= t <= end)
    limits = _Limits(site, grid, start, end)
    loads = _Loads(site, grid)
    loads.fill((piles[key[0]], versions[0]) for key, versions in timelines.items())
    base = {c: [list(row) for row in rows] for c, rows in loads.amps.items()}
    checker = _Checker(site, grid, limits, base)
    warnings = checker.unsafe_before() if warn_before else []
    final = _final_loads(loads, piles, timelines)
    for circuit in final.amps:
        checker.strict(final, circuit, "once the whole plan is applied")
    if _monotone(timelines, events, lambda old, new: draws.direction(old, new, _direction)):
        # Every prefix lies between the state before and the whole plan, instant by instant.
        return warnings
    used = {key: 0 for key in timelines}
    for k, (change, moved) in enumerate(zip(changes, events, strict=True)):
        touched: set[tuple[str, int, int]] = set()
        for key in moved:
            pile = piles[key[0]]
            touched |= loads.add(pile, timelines[key][used[key]], -1.0)
            used[key] += 1
            touched |= loads.add(pile, timelines[key][used[key]], 1.0)
        for circuit, first, last in touched:
            checker.relative(loads, circuit, first, last, f"after step {k + 1} ({change.what})")
    return warnings


TOUCHED = True
"""Whether :func:`check_plan` compares only the entries of the EVSEs a step can have
touched (:func:`_touched`); False: every EVSE's (the reference)."""


def _touched(old: ProfileStore, new: ProfileStore) -> set[int] | None:
    """The EVSEs whose entries may differ between two stores, where the others' are the
    same objects in the same order; None where any EVSE's may differ.

    The entries in one store and not the other (by identity, while both stores hold them)
    name the EVSEs they are on; where none is on EVSE 0 and the entries in both are in the
    same order in both, an EVSE not named has, in each store, the entries on it and on
    EVSE 0 as the same objects in the same order: :func:`_relevant` gives equal tuples,
    which :func:`check_plan` need not build (SEND16C). Pinned by tests/test_send16c.py.
    """
    if old is new:
        return set()
    before, after = old.entries, new.entries
    in_before = {id(e) for e in before}
    in_after = {id(e) for e in after}
    evses = {e.evse_id for e in before if id(e) not in in_after}
    evses.update(e.evse_id for e in after if id(e) not in in_before)
    if 0 in evses:
        return None
    kept_before = [e for e in before if id(e) in in_after]
    kept_after = [e for e in after if id(e) in in_before]
    if len(kept_before) != len(kept_after) or any(
        a is not b for a, b in zip(kept_before, kept_after, strict=True)
    ):
        return None
    return evses


def _final_loads(
    base: _Loads, piles: dict[str, Pile], timelines: dict[EvseKey, list[list[Piece]]]
) -> _Loads:
    """The loads once the whole plan is applied: every EVSE at its last draw.

    Where the EVSEs the plan moves have fewer pieces (old and new) than all EVSEs' last
    draws, they are added to the loads before the plan as differences
    (:meth:`_Loads.changed`, the same floats), else every last draw is summed afresh.
    """
    moved = [(key, versions) for key, versions in timelines.items() if len(versions) > 1]
    work = sum(len(v[0]) + len(v[-1]) for _, v in moved)
    if base.exact is not None and work < sum(len(v[-1]) for v in timelines.values()):
        return base.changed((piles[key[0]], v[0], v[-1]) for key, v in moved)
    final = _Loads(base.site, base.grid, base.paths)
    final.fill((piles[key[0]], versions[-1]) for key, versions in timelines.items())
    return final


def _direction(old: list[Piece], new: list[Piece]) -> tuple[bool, bool]:
    """Whether the EVSE's load on some pile phase goes (down, up) anywhere from old to new."""
    points = sorted({p.start for p in old} | {p.start for p in new})
    down = up = False
    i = j = 0
    for t in points:
        while i + 1 < len(old) and old[i + 1].start <= t:
            i += 1
        while j + 1 < len(new) and new[j + 1].start <= t:
            j += 1
        a = old[i] if old and old[i].start <= t < old[i].end else None
        b = new[j] if new and new[j].start <= t < new[j].end else None
        for phase in range(3):
            before = a.cap if a is not None and a.cap > 0 and phase < a.phases else 0.0
            after = b.cap if b is not None and b.cap > 0 and phase < b.phases else 0.0
            if after > before + _TOLERANCE:
                up = True
            elif after < before - _TOLERANCE:
                down = True
        if down and up:
            break  # nothing further can change the answer
    return down, up


def _monotone(
    timelines: dict[EvseKey, list[list[Piece]]],
    events: list[list[EvseKey]],
    direction: Callable[[list[Piece], list[Piece]], tuple[bool, bool]] | None = None,
) -> bool:
    """True when the steps only lower loads, then only raise them (each at every instant).

    Then every prefix is at most the state before the plan (while lowering) or
    at most the whole plan (while raising), so checking those two suffices.
    ``direction`` is :func:`_direction` or the plan's memo of it (``Draws.direction``).
    """
    if direction is None:
        direction = _direction
    used = {key: 0 for key in timelines}
    raising = False
    for moved in events:
        down = up = False
        for key in moved:
            d, u = direction(timelines[key][used[key]], timelines[key][used[key] + 1])
            used[key] += 1
            down, up = down or d, up or u
        if down and (up or raising):
            return False
        raising = raising or up
    return True


class _Checker:
    def __init__(
        self,
        site: Site,
        grid: list[int],
        limits: _Limits,
        base: dict[str, list[list[float]]],
    ) -> None:
        self.site = site
        self.grid = grid
        self.limits = limits
        self.base = base
        self.volts = site.voltage

    def _over(self, load: float, bound: float) -> bool:
        return load > bound + _TOLERANCE * max(1.0, abs(bound))

    def unsafe_before(self) -> list[str]:
        """A warning per circuit that is over a limit before the plan (the plan lowers it)."""
        out = []
        for circuit, rows in self.base.items():
            found = self._first_violation(circuit, rows, None, 0, len(self.grid) - 1)
            if found is not None:
                out.append(
                    f"before the plan, circuit {circuit} may be over its limit: {found}; "
                    "the plan never makes it worse and removes it once applied"
                )
        return out

    def relative(self, loads: _Loads, circuit: str, first: int, last: int, when: str) -> None:
        found = self._first_violation(circuit, loads.amps[circuit], self.base[circuit], first, last)
        if found is not None:
            raise SafetyError(
                f"{when}, circuit {circuit} would be over its limit and above its load before "
                f"the plan: {found}",
                field=circuit,
                rule="every send-plan prefix is safe",
            )

    def strict(self, loads: _Loads, circuit: str, when: str) -> None:
        found = self._first_violation(circuit, loads.amps[circuit], None, 0, len(self.grid) - 1)
        if found is not None:
            raise SafetyError(
                f"{when}, circuit {circuit} would be over its limit: {found}",
                field=circuit,
                rule="a send plan keeps every circuit within its limits, its tail included",
            )

    def _first_violation(
        self,
        circuit: str,
        rows: list[list[float]],
        base: list[list[float]] | None,
        first: int,
        last: int,
    ) -> str | None:
        amps = self.limits.amps[circuit]
        watts = self.limits.watts[circuit]
        volts = self.volts
        for i in range(first, last):
            for p in range(3):
                bound = amps[i][p]
                if base is not None:
                    bound = max(bound, base[p][i])
                if self._over(rows[p][i], bound):
                    return (
                        f"L{p + 1} {rows[p][i]:.1f} A > {amps[i][p]:.1f} A from "
                        f"{_when(self.grid[i])}"
                    )
            limit_w = watts[i]
            if limit_w is None:
                continue
            total = (rows[0][i] + rows[1][i] + rows[2][i]) * volts
            bound_w = limit_w
            if base is not None:
                bound_w = max(bound_w, (base[0][i] + base[1][i] + base[2][i]) * volts)
            if self._over(total, bound_w):
                return f"{total:.0f} W > {limit_w:.0f} W from {_when(self.grid[i])}"
        return None

"""Inputs of balancing and reports as step functions of time.

For a pile: the profiles it holds (replayed through the station-side rules,
each session active as its transaction). For an EVSE: its own limit while each
session is on it (composite schedule, hardware and vehicle limits, phases). For
a circuit: its limits through the day, local times turned into instants with
the site's time zone (a step at a time that does not exist on a spring-forward
day takes effect at the transition).
"""

from __future__ import annotations

import json
import math
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from itertools import pairwise
from threading import Lock

from dateutil import tz

from ..engine._compile import compiled
from ..engine._composite import composite_schedule, expand_profile
from ..errors import QueryError
from ..station._config import StationConfig
from ..station._rules import replay
from ..station._store import InstalledProfile, ProfileStore, StationState, Transaction
from ..wire._enums import ChargingProfilePurpose, OcppVersion
from ..wire._models import ChargingProfile, SetChargingProfileRequest
from ..wire._payloads import read_set_charging_profile
from ..wire._timestamps import from_epoch, to_epoch
from ._model import Circuit, Evse, Pile, Session, Site

__all__ = [
    "MAX_CELLS",
    "MAX_SLOTS",
    "PhaseAmps",
    "Piece",
    "circuit_timeline",
    "clear_timeline_caches",
    "evse_timeline",
    "pile_store",
    "session_transaction_id",
]

PhaseAmps = tuple[float, float, float]
_INF = math.inf


def session_transaction_id(pile: Pile, evse: Evse, session: Session) -> str:
    """The transaction id of a session: its own, else its arrival (epoch s) and EVSE as digits.

    The default is numeric, so it is also a valid OCPP 1.6 (integer) transaction id.
    Ids are unique per pile (checked when the pile is built). The default only
    models the station's own transaction when replaying what a pile holds; no
    payload a plan sends names it (docs/semantics.md SP9).
    """
    return session.effective_transaction_id(evse.id)


def session_transaction(pile: Pile, evse: Evse, session: Session) -> Transaction:
    """The session as an OCPP transaction on its EVSE."""
    return Transaction(session_transaction_id(pile, evse, session), evse.id, session.arrive)


@dataclass
class Piece:
    """An EVSE's own limit (A per phase) and phases on [start, end); ``session`` -1: no vehicle.

    ``pinned``: a TxProfile the pile holds for the session is in force, so a
    plan's TxDefaultProfile cannot lower the limit (see :func:`evse_timeline`).
    """

    start: int
    end: int
    cap: float
    phases: int
    session: int
    pinned: bool = False


MAX_SLOTS = 100_000
"""Most slots (or report spans) one ``balance`` / ``site_report`` call may have."""

MAX_CELLS = 2_000_000
"""Most (EVSEs + circuits) x slots of one call, and most input pieces (EVSE and circuit).

A day of 15-minute slots for 10,000 EVSEs under as many circuits fits (issue 17); at the
bound a balance costs about 15 s of CPU and 300 MB (measured: 7 us and 160 bytes per
cell on 10,000 EVSEs x 96 slots, docs/performance.md, BALANCEFAST)."""


def check_size(what: str, count: int, bound: int, field: str = "duration") -> None:
    """Refuse work whose size ``count`` is above ``bound`` (a QueryError naming it)."""
    if count > bound:
        raise QueryError(
            f"{what} would be {count:,}, above the bound of {bound:,}; shorten the window"
            " or use coarser slots",
            field=field,
            rule="docs/robustness.md#bounds",
        )


def check_circuit_steps(site: Site, start: int, end: int) -> None:
    """Refuse a window whose circuit step changes alone exceed :data:`MAX_CELLS`.

    Counted (days x steps per circuit) before any step is turned into an instant.
    """
    days = (end - start) // 86400 + 3
    changes = sum(days * (len(c.steps) + 1) for c, _ in site.grid.walk() if c.steps)
    check_size("the circuit step changes in the window", changes, MAX_CELLS)


def pile_transactions(pile: Pile) -> tuple[tuple[Transaction, ...], ...]:
    """Per EVSE of the pile (in order), its sessions as transactions (in order).

    Made once per pile by a caller that needs them twice (:func:`balance` gives them to
    :func:`pile_store` and :func:`evse_timeline`): each is a validated object with its
    start in epoch seconds, worth building once per call."""
    return tuple(
        tuple(session_transaction(pile, evse, s) for s in evse.sessions) for evse in pile.evses
    )


def pile_store(
    pile: Pile,
    site: Site,
    transactions: tuple[tuple[Transaction, ...], ...] | None = None,
) -> tuple[ProfileStore, StationConfig]:
    """The profiles a pile holds, and its configuration at the site's voltage.

    The pile's requests are replayed in order; a TxProfile is installed with
    the session it names as the active transaction on its EVSE.

    Memoised on content (:func:`_replayed`): the requests' canonical JSON, the
    OCPP version, the configuration, the voltage and the sessions' transactions,
    never on the pile object. A controller re-planning every few minutes thus
    replays only the piles whose requests or sessions changed, and gets back the
    same store object for the others, so the engine's index built on it
    (``store.derived``) is reused too. ``transactions``: :func:`pile_transactions`, when
    the caller has them.
    """
    config = _site_config(pile.config, tuple(e.id for e in pile.evses), site.voltage)
    per_evse = pile_transactions(pile) if transactions is None else transactions
    flat = tuple(t for own in per_evse for t in own)
    texts = tuple(json.dumps(payload, sort_keys=True) for payload in pile.requests)
    version = OcppVersion(pile.ocpp)
    if sum(len(text) for text in texts) > MEMO_REQUEST_CHARS:
        return _replay(version, texts, config, flat), config
    return _replayed(version, texts, config, flat), config


@lru_cache(maxsize=4096)
def _site_config(
    config: StationConfig | None, evse_ids: tuple[int, ...], voltage: float
) -> StationConfig:
    """A pile's configuration (:attr:`Pile.station_config`) at the site's voltage, made once
    per distinct value and shared (it is frozen): building and copying the model cost more
    than the rest of a warm :func:`pile_store`."""
    base = config if config is not None else StationConfig(evse_ids=evse_ids)
    return base.model_copy(update={"supply_voltage": voltage})


MEMO_STORES = 4096
"""Most piles' replayed stores kept (least recently used first out)."""

MEMO_REQUEST_CHARS = 200_000
"""A pile whose requests' canonical JSON is longer than this is replayed, not kept."""

MEMO_COMPOSITES = 8192
"""Most EVSE composites kept (least recently used first out)."""

MEMO_PERIODS = 64
"""A composite of more periods than this is computed, not kept (so the memo stays below
MEMO_COMPOSITES x MEMO_PERIODS periods, some tens of MB)."""


@lru_cache(maxsize=MEMO_STORES)
def _replayed(
    version: OcppVersion,
    texts: tuple[str, ...],
    config: StationConfig,
    transactions: tuple[Transaction, ...],
) -> ProfileStore:
    """:func:`_replay`, kept: its store is marked so that its composites are memoised."""
    store = _replay(version, texts, config, transactions)
    store.derived(_KEPT, _kept)
    return store


def _replay(
    version: OcppVersion,
    texts: tuple[str, ...],
    config: StationConfig,
    transactions: tuple[Transaction, ...],
) -> ProfileStore:
    """The store after replaying the requests (canonical JSON) with these transactions.

    Every argument is an immutable value compared by content, so equal inputs give
    equal stores.
    """
    by_id = {t.id: t for t in transactions}
    first_per_evse: dict[int, Transaction] = {}
    for t in sorted(by_id.values(), key=lambda t: t.start):
        first_per_evse.setdefault(t.evse_id, t)
    store = ProfileStore()
    for text in texts:
        request = _read_request(text, version)
        named = by_id.get(request.charging_profile.transaction_id or "")
        active = dict(first_per_evse)
        if named is not None:
            active[named.evse_id] = named
        state = StationState(config, version, tuple(active.values()))
        for installed, _result in replay([request], state, store, local_purposes=True):
            store = installed
    return store


_KEPT = "site.kept"
"""Marks a store :func:`_replayed` returns (its composites are memoised)."""


def _kept(_: ProfileStore) -> bool:
    return True


def _not_kept(_: ProfileStore) -> bool:
    return False


def clear_timeline_caches() -> None:
    """Forget every memoised store, request and composite (benchmarks: a cold start).

    The caches only ever return what would be computed afresh; clearing them
    changes no result, only the time of the next call.
    """
    _replayed.cache_clear()
    _read_request.cache_clear()
    _site_config.cache_clear()
    with _MEMO_LOCK:
        _MEMO.clear()


@lru_cache(maxsize=4096)
def _read_request(text: str, version: OcppVersion) -> SetChargingProfileRequest:
    """A request payload read once: many piles of a site hold the same operator profiles.

    Keyed on the payload's canonical JSON; the models are immutable, so sharing is safe.
    """
    return read_set_charging_profile(json.loads(text), version)


def evse_timeline(
    pile: Pile,
    evse: Evse,
    store: ProfileStore,
    config: StationConfig,
    start: int,
    end: int,
    *,
    idle: bool = False,
    pin_after: int | None = None,
    transactions: Sequence[Transaction] | None = None,
) -> list[Piece]:
    """The EVSE's own limit while each session is on it, within [start, end).

    With ``idle``, the time without a session is included too (``session``
    -1), at the EVSE's composite without a transaction: what it would allow a
    vehicle that plugs in.

    With ``pin_after``, the pieces of a session that arrives after that instant
    are ``pinned`` wherever a TxProfile the pile holds for its transaction is
    in force: a TxProfile beats every TxDefaultProfile, so a plan sent before
    the session starts (which can only hold TxDefaults for it) cannot lower
    the EVSE's limit there. The same holds, whenever it arrives, for a session
    without a caller-given ``transaction_id``: a plan never sends it a TxProfile
    (docs/semantics.md SP9).

    ``transactions``: the EVSE's sessions as transactions (its part of
    :func:`pile_transactions`), when the caller has them.
    """
    pieces: list[Piece] = []
    cursor = start
    no_vehicle = (evse.max_amps, evse.phases, -1)
    order = sorted(range(len(evse.sessions)), key=lambda i: evse.sessions[i].arrive)
    for index in order:
        session = evse.sessions[index]
        tx = (
            session_transaction(pile, evse, session)
            if transactions is None
            else transactions[index]
        )
        arrive = tx.start_epoch  # to_epoch(session.arrive)
        a = max(arrive, start)
        b = min(to_epoch(session.leave), end)
        if a >= b:
            continue
        if idle and a > cursor:
            pieces.extend(_pieces(store, config, evse.id, cursor, a, None, *no_vehicle))
        hard = min(evse.max_amps, session.max_amps if session.max_amps is not None else _INF)
        wired = min(session.phases, evse.phases)
        own = _pieces(store, config, evse.id, a, b, tx, hard, wired, index)
        if pin_after is not None and (arrive > pin_after or session.transaction_id is None):
            own = _pin(own, _tx_profile_windows(store, config, evse.id, a, b, tx))
        pieces.extend(own)
        cursor = b
    if idle and cursor < end:
        pieces.extend(_pieces(store, config, evse.id, cursor, end, None, *no_vehicle))
    return pieces


def _pieces(
    store: ProfileStore,
    config: StationConfig,
    evse_id: int,
    a: int,
    b: int,
    tx: Transaction | None,
    hard: float,
    wired: int,
    session: int,
) -> list[Piece]:
    """The EVSE's composite on [a, b) as pieces, capped by ``hard`` and ``wired``.

    The composite is taken from :func:`_composite_periods` over a window that does
    not move with ``a`` and ``b`` (:func:`_stable_window`) and cut to [a, b), for a
    store :func:`pile_store` keeps (a store built for one step of one plan is rarely
    asked again, and hashing its long plan profiles costs more than it saves: its
    composite is computed on [a, b) directly).
    """
    if store.derived(_KEPT, _not_kept):
        relevant = _relevant(store, evse_id)
        lo, hi = _stable_window(relevant, a, b, tx)
        periods = _composite_periods(relevant, config, evse_id, tx, lo, hi)
    else:
        periods = _composite(store, config, evse_id, tx, a, b)
    out = []
    for p_start, p_end, limit, phases in periods:
        if p_end <= a or p_start >= b:
            continue
        out.append(
            Piece(max(p_start, a), min(p_end, b), min(hard, limit), min(wired, phases), session)
        )
    return out


_DAY = 86400


def _stable_window(relevant: _Relevant, a: int, b: int, tx: Transaction | None) -> tuple[int, int]:
    """A window containing [a, b) over which the composite is the same function of time.

    The composite at an instant does not depend on the window asked for, except
    through the anchor of schedules without a fixed start (Relative, 1.6 Absolute
    without startSchedule): those start at the transaction's start, or at the
    window's start on an EVSE without one. So a session's composite is taken over
    whole days from its transaction's start, and an idle EVSE's over whole UTC days
    when no profile it depends on lacks a fixed start (else exactly [a, b)). A
    re-plan a few minutes later then asks for the same window and finds it memoised.
    """
    if tx is not None:
        lo = tx.start_epoch
        if lo > a:
            return a, b
        return lo, lo + -(-(b - lo) // _DAY) * _DAY
    if any(compiled(entry).anchor is None for entry in relevant.entries):
        return a, b
    return a // _DAY * _DAY, -(-b // _DAY) * _DAY


class _Relevant:
    """The entries of a store one EVSE's composite depends on (on it and on EVSE 0), as a key.

    Hashed on their content, each entry's hash computed once (``entry.derived``);
    compared by value. Stores that differ only on other EVSEs give equal keys, so
    a plan step on one EVSE leaves the memoised composites of the others in use.
    """

    __slots__ = ("_hash", "entries")

    def __init__(self, store: ProfileStore, evse_id: int) -> None:
        self.entries = tuple(
            sorted(
                (e for e in store if e.evse_id in (0, evse_id)),
                key=lambda e: (e.evse_id, e.id),
            )
        )
        self._hash = hash(tuple(e.derived(_HASH, _entry_hash) for e in self.entries))

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _Relevant):
            return NotImplemented
        return self._hash == other._hash and self.entries == other.entries


def _relevant(store: ProfileStore, evse_id: int) -> _Relevant:
    """``_Relevant(store, evse_id)``, made once per kept store and EVSE: the store is
    immutable and kept between re-plans (:func:`pile_store`), so a warm re-plan finds
    each EVSE's entries sorted and hashed already."""
    per_evse = store.derived(_RELEVANT, _no_relevant)
    found = per_evse.get(evse_id)
    if found is None:
        found = per_evse[evse_id] = _Relevant(store, evse_id)
    return found


_RELEVANT = "site.relevant"
"""Marks a store's :func:`_relevant` entries per EVSE id."""


def _no_relevant(_: ProfileStore) -> dict[int, _Relevant]:
    return {}


_HASH = "site.content_hash"


def _entry_hash(entry: InstalledProfile) -> int:
    return hash((entry.evse_id, entry.profile, entry.source, entry.transaction_id))


_MEMO: OrderedDict[tuple[object, ...], tuple[tuple[int, int, float, int], ...]] = OrderedDict()
_MEMO_LOCK = Lock()


def _composite_periods(
    relevant: _Relevant,
    config: StationConfig,
    evse_id: int,
    tx: Transaction | None,
    lo: int,
    hi: int,
) -> tuple[tuple[int, int, float, int], ...]:
    """The composite (A) of ``evse_id`` on [lo, hi) as (start, end, limit, phases), epoch s.

    Memoised on content: the entries, the configuration and the transaction compare
    by value, so an equal input anywhere gets the same answer. Bounded by
    :data:`MEMO_COMPOSITES` and :data:`MEMO_PERIODS`; safe to share between threads.
    """
    key = (relevant, config, evse_id, tx, lo, hi)
    with _MEMO_LOCK:
        found = _MEMO.get(key)
        if found is not None:
            _MEMO.move_to_end(key)
            return found
    periods = _composite(ProfileStore(relevant.entries), config, evse_id, tx, lo, hi)
    if len(periods) <= MEMO_PERIODS:
        with _MEMO_LOCK:
            _MEMO[key] = periods
            if len(_MEMO) > MEMO_COMPOSITES:
                _MEMO.popitem(last=False)
    return periods


def memo_sizes() -> tuple[int, int]:
    """How many stores and composites the memo holds now (for tests of its bounds)."""
    with _MEMO_LOCK:
        return _replayed.cache_info().currsize, len(_MEMO)


def _composite(
    store: ProfileStore,
    config: StationConfig,
    evse_id: int,
    tx: Transaction | None,
    lo: int,
    hi: int,
) -> tuple[tuple[int, int, float, int], ...]:
    """The composite (A) of ``evse_id`` on [lo, hi) as (start, end, limit, phases), epoch s."""
    schedule = composite_schedule(
        store, evse_id=evse_id, start=lo, duration=hi - lo, unit="A", transaction=tx, config=config
    )
    periods = schedule.periods
    out = []
    for k, period in enumerate(periods):
        p_start = lo + period.start_period
        p_end = lo + periods[k + 1].start_period if k + 1 < len(periods) else hi
        out.append((p_start, p_end, period.limit, period.number_phases))
    return tuple(out)


def _tx_profile_windows(
    store: ProfileStore, config: StationConfig, evse_id: int, a: int, b: int, tx: Transaction
) -> list[tuple[int, int]]:
    """Where, within [a, b), a TxProfile the store holds for ``tx`` on the EVSE is in force.

    Asked of the engine itself: the composite of those TxProfiles alone is set
    by a profile exactly where one of them is in force.
    """
    own = [
        e
        for e in store
        if e.evse_id == evse_id
        and e.transaction_id == tx.id
        and e.profile.charging_profile_purpose is ChargingProfilePurpose.TX_PROFILE
    ]
    if not own:
        return []
    alone = ProfileStore(own)
    schedule = composite_schedule(
        alone, evse_id=evse_id, start=a, duration=b - a, unit="A", transaction=tx, config=config
    )
    periods = schedule.periods
    out: list[tuple[int, int]] = []
    for k, period in enumerate(periods):
        if period.source.kind != "profile":
            continue
        p_start = a + period.start_period
        p_end = a + periods[k + 1].start_period if k + 1 < len(periods) else b
        if out and out[-1][1] == p_start:
            out[-1] = (out[-1][0], p_end)
        else:
            out.append((p_start, p_end))
    return out


def _pin(pieces: list[Piece], windows: list[tuple[int, int]]) -> list[Piece]:
    """The pieces cut at the windows' edges, those inside a window marked ``pinned``."""
    if not windows:
        return pieces
    out: list[Piece] = []
    for piece in pieces:
        cuts = {piece.start, piece.end}
        for w0, w1 in windows:
            for t in (w0, w1):
                if piece.start < t < piece.end:
                    cuts.add(t)
        for c0, c1 in pairwise(sorted(cuts)):
            inside = any(w0 <= c0 < w1 for w0, w1 in windows)
            out.append(Piece(c0, c1, piece.cap, piece.phases, piece.session, inside))
    return out


def circuit_timeline(
    circuit: Circuit, zone: tzinfo | None, start: int, end: int, voltage: float = 230.0
) -> list[tuple[int, int, PhaseAmps, float | None]]:
    """The circuit's limits over [start, end) as pieces (start, end, amps, watts).

    Daily steps first, then the circuit's ``profile`` (if any) lowers them
    wherever it is in force.
    """
    pieces = _stepped(circuit, zone, start, end)
    if circuit.profile is None:
        return pieces
    return _with_profile(pieces, circuit.profile, start, end, voltage)


def _stepped(
    circuit: Circuit, zone: tzinfo | None, start: int, end: int
) -> list[tuple[int, int, PhaseAmps, float | None]]:
    if not circuit.steps:
        return [(start, end, circuit.amps, circuit.watts)]
    steps = sorted(circuit.steps, key=lambda s: s.start)
    day = from_epoch(start).astimezone(zone).date() - timedelta(days=1)
    last_day = from_epoch(end).astimezone(zone).date()
    changes: list[tuple[int, PhaseAmps, float | None]] = []
    while day <= last_day:
        changes.append((local_instant(day, time(0), zone), circuit.amps, circuit.watts))
        for step in steps:
            # A step changes only what it names; the rest keeps the circuit's value.
            amps = circuit.amps if step.amps is None else step.amps
            watts = circuit.watts if step.watts is None else step.watts
            changes.append((local_instant(day, step.start, zone), amps, watts))
        day += timedelta(days=1)
    changes.sort(key=lambda c: c[0])
    pieces: list[tuple[int, int, PhaseAmps, float | None]] = []
    for k, (t, amps, watts) in enumerate(changes):
        t_end = changes[k + 1][0] if k + 1 < len(changes) else end
        a, b = max(t, start), min(t_end, end)
        if a < b:
            pieces.append((a, b, amps, watts))
    return pieces


def _with_profile(
    pieces: list[tuple[int, int, PhaseAmps, float | None]],
    profile: ChargingProfile,
    start: int,
    end: int,
    voltage: float,
) -> list[tuple[int, int, PhaseAmps, float | None]]:
    """Lower stepped limits by a profile's periods (A per phase, or W in total)."""
    caps = expand_profile(profile, start=start, duration=end - start)
    points = sorted(
        {a for a, _, _, _ in pieces}
        | {c.start_epoch for c in caps}
        | {c.end_epoch for c in caps}
        | {end}
    )
    out: list[tuple[int, int, PhaseAmps, float | None]] = []
    for a, b in pairwise(points):
        if not start <= a < end:
            continue
        amps, watts = next((p[2], p[3]) for p in pieces if p[0] <= a < p[1])
        cap = next((c for c in caps if c.start_epoch <= a < c.end_epoch), None)
        if cap is not None:
            if cap.charging_rate_unit.value == "A":
                amps = (min(amps[0], cap.limit), min(amps[1], cap.limit), min(amps[2], cap.limit))
            else:
                watts = cap.limit if watts is None else min(watts, cap.limit)
        out.append((a, b, amps, watts))
    return out


def local_instant(day: date, when: time, zone: tzinfo | None) -> int:
    """Epoch seconds of a local wall-clock time.

    A time that does not exist (the spring-forward gap) is the transition
    itself: the first instant whose wall-clock time is not earlier. A time that
    occurs twice (autumn) is its first occurrence.
    """
    local = datetime.combine(day, when).replace(tzinfo=zone, fold=0)
    if tz.datetime_exists(local):
        return to_epoch(local)
    wall = datetime.combine(day, when)
    guess = to_epoch(wall.replace(tzinfo=UTC))
    lo, hi = guess - 15 * 3600, guess + 15 * 3600
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if from_epoch(mid).astimezone(zone).replace(tzinfo=None) >= wall:
            hi = mid
        else:
            lo = mid
    return hi

"""An EVSE's composite where one profile leads alone over the whole window (issue 16).

A send plan draws each EVSE it sends under the pile's store with the plan's new profiles
(docs/performance.md, SEND16C). Such a store typically holds, for that EVSE, the plan's
TxDefaultProfile (and a TxProfile for the running transaction) one stack level above the
operator's own, Absolute from the moment of sending and open-ended, and below it the
operator's profiles (a Recurring TxDefaultProfile on EVSE 0, say). Over a window from
that moment on, the plan's profile leads the EV's stack at every instant and nothing
combines with it, so the composite is that profile's periods, rounded and merged as the
engine rounds and merges them: no index of the store, no cover sweep, no merge of stacks.

:func:`leading_rows` answers exactly that case and nothing else: it returns None wherever
another rule could take part (a cap, an external constraint, LocalGeneration,
PriorityCharging, 2.1 fields, W, a DC EVSE, a leading profile anchored at the start of
charging or not in force over all of the window, a tie of precedence,
an unknown EVSE, a bad window or configuration); the caller then asks
:func:`~ocpp_schedule.engine.composite_schedule`. Pinned against it by
tests/test_send16c.py.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from ..errors import OcppScheduleError
from ..station._config import StationConfig
from ..station._store import ProfileStore, Transaction
from ..wire._enums import ChargingProfilePurpose
from ..wire._timestamps import check_window
from ._compile import CompiledProfile, compiled, in_force_windows
from ._composite import _check_config_numbers, _default_config
from ._index import precedence

__all__ = ["leading_rows"]

P = ChargingProfilePurpose

MOST_PERIODS = 1024
"""A leading profile with more periods than this is left to the engine (its bounds)."""

MOST_OCCURRENCES = 64
"""A Recurring leader with more occurrences in the window than this is left to the engine
(so the engine's bounds on windows and pieces are never what decides)."""

Row = tuple[int, int, float, int]
"""(start, end, limit in A, phases), epoch seconds."""


def leading_rows(
    store: ProfileStore,
    config: StationConfig,
    evse_id: int,
    tx: Transaction | None,
    lo: int,
    hi: int,
) -> tuple[Row, ...] | None:
    """The composite (A) of ``evse_id`` on ``[lo, hi)`` as rows, where one profile leads
    alone, else None.

    The same rows as ``composite_schedule(store, evse_id=evse_id, start=lo,
    duration=hi - lo, unit="A", transaction=tx, config=config)`` read as
    ``(start, end, limit, number_phases)`` in epoch seconds, where:

    - every profile on the EVSE or on EVSE 0 is a TxProfile or a TxDefaultProfile in A
      without 2.1 fields (no cap, external constraint, generation or priority stack can
      combine with the EV's limit, and no profile of the EV's stack needs the 2.1 path);
    - the EV's stack (the transaction's TxProfiles on the EVSE, then the TxDefaultProfiles
      on the EVSE and on EVSE 0, by stack level, EVSE-specific first, then id) is led by
      one profile, strictly, that has a fixed start and is in force over all of
      ``[lo, hi)`` (a Recurring one for its whole recurrence): it then leads at every
      instant (the engine's sweep stops at a profile that alone covers the window, and
      expands no profile below it), and the answer is its periods
      within the window, each limit rounded down to 0.1 as the answer rounds it, equal
      neighbours (limit and phases) merged, a period without phases at the
      configuration's default.

    Every entry of the store is compiled first (once per store, :class:`_Stacks`), as the
    engine's index compiles them, so a profile no station would accept raises the same
    error here.
    """
    if lo >= hi or config.dc_evse_ids or evse_id <= 0:
        return None
    if config.evse_ids is not None and not config.knows_evse(evse_id):
        return None
    try:
        check_window(lo, hi - lo)
        if config is not _default_config():
            _check_config_numbers(config)
    except OcppScheduleError:
        return None
    if tx is not None and tx.evse_id != evse_id:
        tx = None
    stacks = store.derived(_STACKS, _Stacks)
    if 0 in stacks.barred or evse_id in stacks.barred:
        return None
    lead: CompiledProfile | None = None
    tie = False
    if tx is not None:
        lead_key: tuple[int, int, int] | None = None
        for cp in stacks.tx_profiles.get(evse_id, ()):
            if cp.transaction_id is not None and cp.transaction_id != tx.id:
                continue  # not of this transaction's stack
            key = precedence(cp)
            if lead_key is None or key > lead_key:
                lead, lead_key, tie = cp, key, False
            elif key == lead_key:
                tie = True
    if lead is None:
        station = stacks.defaults.get(0)
        own = stacks.defaults.get(evse_id)
        if station is None or (own is not None and own[1] > station[1]):
            station, own = own, station
        if station is None:
            return None
        lead, tie = station[0], station[2] or (own is not None and own[1] == station[1])
    if tie:
        return None
    return _alone(lead, config.default_number_phases, lo, hi)


_STACKS = "engine.leading"
"""Names a store's :class:`_Stacks` (``ProfileStore.derived``)."""


class _Stacks:
    """A store's profiles as :func:`leading_rows` reads them, built once per store (every
    entry compiled, as the engine's index compiles them).

    ``barred``: the EVSEs with a profile that could combine with the EV's limit or needs
    the engine (any purpose but TxProfile and TxDefaultProfile, W, 2.1 fields; a
    TxProfile on EVSE 0); ``defaults``: per EVSE, its TxDefaultProfile of highest
    precedence, that precedence, and whether another one has it too; ``tx_profiles``: per
    EVSE, its TxProfiles.
    """

    __slots__ = ("barred", "defaults", "tx_profiles")

    def __init__(self, store: ProfileStore) -> None:
        barred: set[int] = set()
        defaults: dict[int, tuple[CompiledProfile, tuple[int, int, int], bool]] = {}
        tx_profiles: dict[int, list[CompiledProfile]] = {}
        for entry in store:
            cp = compiled(entry)
            owner = cp.evse_id
            purpose = cp.purpose
            if cp.unit_w or cp.v2x is not None:
                barred.add(owner)
            elif purpose is P.TX_DEFAULT_PROFILE:
                key = precedence(cp)
                found = defaults.get(owner)
                if found is None or key > found[1]:
                    defaults[owner] = (cp, key, False)
                elif key == found[1]:
                    defaults[owner] = (found[0], key, True)
            elif purpose is P.TX_PROFILE and owner != 0:
                tx_profiles.setdefault(owner, []).append(cp)
            else:
                barred.add(owner)
        self.barred = barred
        self.defaults = defaults
        self.tx_profiles = tx_profiles


def _alone(cp: CompiledProfile, default_phases: int, lo: int, hi: int) -> tuple[Row, ...] | None:
    """The rows of ``cp`` alone over ``[lo, hi)``, where it is in force over all of it.

    As the engine covers a stack whose leader alone covers the window: one window (a
    profile with a fixed start, in force from before ``lo`` to at least ``hi``), or one
    per recurrence (a Recurring profile in force for its whole recurrence, which tile the
    window), each occurrence's periods sliced to its window (``_composite._slice``), then
    rounded and merged (``_composite._merge_one``).
    """
    anchor = cp.anchor
    if (
        anchor is None
        or cp.soc_limit is not None
        or cp.valid_from > lo
        or cp.valid_to < hi
        or len(cp.starts) > MOST_PERIODS
    ):
        return None
    rec = cp.recurrence
    if rec:
        if cp.duration < rec or (hi - lo) // rec + 2 > MOST_OCCURRENCES:
            return None
        windows = in_force_windows(cp, lo, hi, anchor)
    elif anchor > lo or anchor + cp.duration < hi:
        return None
    else:
        windows = [(lo, hi, anchor)]
    rows: list[Row] = []
    cur_limit = -1.0
    cur_phases = -1
    for w_lo, w_hi, at in windows:
        starts, segments = cp.occurrence(default_phases, at)
        first = 0 if w_lo == starts[0] else bisect_right(starts, w_lo) - 1
        last = len(starts) if w_hi > starts[-1] else bisect_left(starts, w_hi)
        for k in range(first, last):
            segment = segments[k]
            limit = segment[6]
            phases = segment[4]
            if limit == _INF:
                return None  # a period without a limit: the engine's default applies there
            if limit != cur_limit or phases != cur_phases:
                begin = segment[0] if segment[0] > w_lo else w_lo
                if rows:
                    rows[-1] = (rows[-1][0], begin, cur_limit, cur_phases)
                rows.append((begin, hi, limit, phases))
                cur_limit, cur_phases = limit, phases
    return tuple(rows) if rows else None


_INF = float("inf")

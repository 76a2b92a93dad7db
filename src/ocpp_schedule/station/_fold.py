"""A fold of many installs on private, mutable indexes (issue 17: replay in linear time).

Installing into a :class:`ProfileStore` returns a new store: a copy of its indexes, O(N)
per install and O(N^2) over a replay of N requests. :class:`Fold` is what
:func:`~ocpp_schedule.replay` works on instead: one set of mutable indexes that the rules
read (the same lookups a store answers) and that each accepted install updates in O(1)
(plus the entries it replaces). The stores a replay hands out are made by
:meth:`ProfileStore._after` from the fold's append-only log, in O(1), and built only when
read, so the caller still sees one immutable store per step and the final store costs one
O(N) build.

The fold's indexes go one step further than the store's, so that a rule looks only at the
entries that can trip it (every path linear in the requests): entries by (purpose, stack
level, EVSE), and the entries with a ``phaseToUse`` by (cap purpose or not, EVSE). Lists
drawn from several buckets are merged back into installation order (a sequence number per
entry), so the first entry a rule trips on, and so its message, is the one a scan finds.

Nothing here is shared: a fold lives inside one replay call.
"""

from __future__ import annotations

from collections.abc import Iterable
from heapq import merge
from typing import TypeVar

from ..wire._enums import ChargingProfilePurpose
from ._store import CAP_PURPOSES, InstalledProfile, ProfileStore, phases_to_use

__all__ = ["Fold"]

K = TypeVar("K")

_Bucket = dict[int, InstalledProfile]
"""Entries by profile id, in installation order (a dict keeps insertion order)."""


class Fold:
    """Mutable indexes over a store being built by many installs, and their log."""

    __slots__ = (
        "_base",
        "_by_id",
        "_last",
        "_levels",
        "_log",
        "_next",
        "_on_evse",
        "_seq",
        "_with_phases",
    )

    def __init__(self, base: ProfileStore) -> None:
        self._base = base
        self._by_id: _Bucket = {}
        self._seq: dict[int, int] = {}  # installation order: a later install, a larger number
        self._next = 0
        self._levels: dict[tuple[ChargingProfilePurpose, int], _Bucket] = {}
        self._on_evse: dict[tuple[ChargingProfilePurpose, int, int], _Bucket] = {}
        self._with_phases: dict[tuple[bool, int], _Bucket] = {}
        self._log: list[tuple[tuple[int, ...], InstalledProfile]] = []
        self._last: ProfileStore | None = base  # the store of the log as it stands
        for entry in base:
            self._add(entry)

    # ------------------------------------------------------------ what the rules read

    def get(self, profile_id: int) -> InstalledProfile | None:
        """The entry with this id, if any."""
        return self._by_id.get(profile_id)

    def __len__(self) -> int:
        return len(self._by_id)

    def _level_on(
        self, purpose: ChargingProfilePurpose, stack_level: int, evses: tuple[int, ...] | None
    ) -> Iterable[InstalledProfile]:
        """The entries of ``purpose`` at ``stack_level`` on ``evses`` (None: any EVSE), in
        installation order. Not copied: read it before the next :meth:`apply`."""
        if evses is None:
            return self._levels.get((purpose, stack_level), {}).values()
        return self._merged([self._on_evse.get((purpose, stack_level, e)) for e in evses])

    def _phased(self, cap: bool, evses: tuple[int, ...] | None) -> Iterable[InstalledProfile]:
        """The entries with a ``phaseToUse``, of a cap purpose or not, on ``evses`` (None:
        any EVSE), in installation order."""
        keys = (
            (k for k in self._with_phases if k[0] == cap)
            if evses is None
            else ((cap, e) for e in evses)
        )
        return self._merged([self._with_phases.get(k) for k in keys])

    def _merged(self, buckets: list[_Bucket | None]) -> Iterable[InstalledProfile]:
        """The entries of several buckets in installation order."""
        found = [b for b in buckets if b]
        if not found:
            return ()
        if len(found) == 1:
            return found[0].values()
        seq = self._seq
        return merge(*(b.values() for b in found), key=lambda e: seq[e.profile.id])

    # ------------------------------------------------------------------- the updates

    def apply(self, replaced: tuple[int, ...], entry: InstalledProfile) -> None:
        """Install ``entry``, replacing the profiles ``replaced`` and any with its id: what
        ``store.without(replaced).with_entry(entry)`` gives, in O(1 + replaced)."""
        for profile_id in replaced:
            self._drop(profile_id)
        self._drop(entry.profile.id)
        self._add(entry)
        self._log.append((replaced, entry))
        self._last = None

    def store(self) -> ProfileStore:
        """The store as it stands: O(1) now, built when first read; the same object until
        the next :meth:`apply` (a rejected request leaves the store as it was)."""
        if self._last is None:
            self._last = ProfileStore._after(self._base, self._log, len(self._log))
        return self._last

    def _add(self, entry: InstalledProfile) -> None:
        profile_id, purpose, level = entry.profile.id, entry.purpose, entry.stack_level
        self._by_id[profile_id] = entry
        self._seq[profile_id] = self._next
        self._next += 1
        self._levels.setdefault((purpose, level), {})[profile_id] = entry
        self._on_evse.setdefault((purpose, level, entry.evse_id), {})[profile_id] = entry
        if phases_to_use(entry.profile):
            key = (purpose in CAP_PURPOSES, entry.evse_id)
            self._with_phases.setdefault(key, {})[profile_id] = entry

    def _drop(self, profile_id: int) -> None:
        entry = self._by_id.pop(profile_id, None)
        if entry is None:
            return
        del self._seq[profile_id]
        purpose, level = entry.purpose, entry.stack_level
        _take(self._levels, (purpose, level), profile_id)
        _take(self._on_evse, (purpose, level, entry.evse_id), profile_id)
        _take(self._with_phases, (purpose in CAP_PURPOSES, entry.evse_id), profile_id)


def _take(buckets: dict[K, _Bucket], key: K, profile_id: int) -> None:
    """Take an entry out of its bucket, and the bucket out when it empties."""
    bucket = buckets.get(key)
    if bucket is not None and bucket.pop(profile_id, None) is not None and not bucket:
        del buckets[key]

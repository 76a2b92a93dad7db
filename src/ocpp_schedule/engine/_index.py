"""Installed profiles grouped the way the engine walks them, built once per store.

A :class:`ProfileIndex` sorts each purpose's compiled profiles by precedence
(highest stack level first; at equal level an EVSE-specific profile before
an EVSE-0 one; then higher id) and remembers, per EVSE, the merged
TxDefaultProfile stack. :class:`~ocpp_schedule.ProfileStore` caches its
index, so repeated composites over one store (all EVSEs of a station, or a
CSMS recomputing after each change) share the grouping and compilation work.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..station._store import ProfileStore
from ..wire._enums import ChargingProfilePurpose
from ._compile import CompiledProfile, compiled

__all__ = ["store_index", "ProfileIndex", "precedence"]

P = ChargingProfilePurpose


def precedence(cp: CompiledProfile) -> tuple[int, int, int]:
    """Sort key, highest precedence last: stack level, EVSE-specific, profile id."""
    return (cp.stack_level, 1 if cp.evse_id else 0, cp.profile_id)


def _by_evse(items: list[CompiledProfile]) -> dict[int, list[CompiledProfile]]:
    groups: dict[int, list[CompiledProfile]] = {}
    for cp in items:
        groups.setdefault(cp.evse_id, []).append(cp)
    for group in groups.values():
        group.sort(key=precedence, reverse=True)
    return groups


_EMPTY: list[CompiledProfile] = []


class ProfileIndex:
    """Compiled profiles grouped by purpose and EVSE, each group in precedence order."""

    __slots__ = (
        "_caps",
        "_chains",
        "_converts",
        "_defaults_for",
        "evses",
        "external",
        "generation",
        "has_min_rate",
        "has_unit",
        "has_v2x",
        "priority",
        "station_max",
        "tx_default",
        "tx_profiles",
    )

    def __init__(self, compiled: Iterable[CompiledProfile]) -> None:
        buckets: dict[str, list[CompiledProfile]] = {
            "default": [],
            "tx": [],
            "max": [],
            "ext": [],
            "priority": [],
            "gen": [],
        }
        evses: set[int] = set()
        has_v2x = has_min_rate = False
        units: set[bool] = set()
        for cp in compiled:
            has_v2x = has_v2x or cp.v2x is not None
            has_min_rate = has_min_rate or cp.tx_min_rate is not None
            units.add(cp.unit_w)
            if cp.evse_id > 0:
                evses.add(cp.evse_id)
            purpose = cp.purpose
            if purpose is P.TX_DEFAULT_PROFILE:
                buckets["default"].append(cp)
            elif purpose is P.TX_PROFILE:
                buckets["tx"].append(cp)
            elif purpose.is_max:
                if cp.evse_id == 0:
                    buckets["max"].append(cp)
            elif purpose is P.CHARGING_STATION_EXTERNAL_CONSTRAINTS:
                buckets["ext"].append(cp)
            elif purpose is P.PRIORITY_CHARGING:
                buckets["priority"].append(cp)
            elif purpose is P.LOCAL_GENERATION:
                buckets["gen"].append(cp)
        self.evses: tuple[int, ...] = tuple(sorted(evses))
        self.has_v2x = has_v2x
        """True when a profile has 2.1 fields (the composite then composes them, V21-8)."""
        self.has_min_rate = has_min_rate
        self.has_unit = (False in units, True in units)
        """``has_unit[unit_w]``: whether a profile is in A (``[False]``) or W (``[True]``)."""
        """True when a profile of an EV stack has a ``minChargingRate`` (the one-pass merge
        skips the per-interval rate work otherwise, issue 16)."""
        self.tx_default = _by_evse(buckets["default"])
        self.tx_profiles = _by_evse(buckets["tx"])
        self.station_max = sorted(buckets["max"], key=precedence, reverse=True)
        self.external = _by_evse(buckets["ext"])
        self.priority = _by_evse(buckets["priority"])
        self.generation = _by_evse(buckets["gen"])
        self._defaults_for: dict[int, list[CompiledProfile]] = {}
        self._chains: dict[tuple[int, str, bool], list[CompiledProfile]] = {}
        self._caps: dict[int, list[list[CompiledProfile]]] = {}
        self._converts: dict[int, bool] = {}

    def defaults_for(self, evse_id: int) -> list[CompiledProfile]:
        """The TxDefaultProfile stack of an EVSE: its own and EVSE 0's, in precedence order."""
        chain = self._defaults_for.get(evse_id)
        if chain is None:
            chain = self._merged(self.tx_default, evse_id)
            self._defaults_for[evse_id] = chain
        return chain

    @staticmethod
    def _merged(groups: dict[int, list[CompiledProfile]], evse_id: int) -> list[CompiledProfile]:
        station = groups.get(0, _EMPTY)
        own = groups.get(evse_id, _EMPTY) if evse_id else _EMPTY
        if not own:
            return station
        if not station:
            return own
        return sorted(station + own, key=precedence, reverse=True)

    def ev_chain(
        self, evse_id: int, transaction_id: str | None, priority_active: bool
    ) -> list[CompiledProfile]:
        """The stack that sets the EV's own limit on an EVSE, highest first.

        Activated PriorityCharging, then the TxProfiles of the transaction,
        then the TxDefaultProfiles.
        """
        defaults = self.defaults_for(evse_id)
        if transaction_id is None:
            return defaults
        key = (evse_id, transaction_id, priority_active)
        chain = self._chains.get(key)
        if chain is None:
            chain = self._ev_chain(evse_id, transaction_id, priority_active, defaults)
            if len(self._chains) > 4096:
                self._chains.clear()
            self._chains[key] = chain
        return chain

    def _ev_chain(
        self,
        evse_id: int,
        transaction_id: str,
        priority_active: bool,
        defaults: list[CompiledProfile],
    ) -> list[CompiledProfile]:
        txs = [
            cp
            for cp in self.tx_profiles.get(evse_id, _EMPTY)
            if cp.transaction_id is None or cp.transaction_id == transaction_id
        ]
        prio = self._merged(self.priority, evse_id) if priority_active else _EMPTY
        if not txs and not prio:
            return defaults
        return [*prio, *txs, *defaults]

    def caps(self, evse_id: int) -> list[list[CompiledProfile]]:
        """The cap stacks of an EVSE: station max, EVSE-0 and EVSE external constraints."""
        found = self._caps.get(evse_id)
        if found is None:
            found = self._caps[evse_id] = self._caps_of(evse_id)
        return found

    def _caps_of(self, evse_id: int) -> list[list[CompiledProfile]]:
        out = []
        if self.station_max:
            out.append(self.station_max)
        ext0 = self.external.get(0)
        if ext0:
            out.append(ext0)
        if evse_id:
            own = self.external.get(evse_id)
            if own:
                out.append(own)
        return out

    def converts_once(self, default_phases: int) -> bool:
        """True when an EVSE's composite may take each profile's limits converted once per
        occurrence (:meth:`CompiledProfile.occurrence` with a voltage) instead of per interval.

        That needs the phases in use at every instant to be the converted period's own:
        every period of every profile has the same phases (``default_phases`` where it
        names none), so the minimum over the stacks in force is that number too. And no
        2.1 fields or LocalGeneration, whose composition reads the limits apart (V21-7,
        V21-8). Cached per default phase count (issue 16)."""
        found = self._converts.get(default_phases)
        if found is None:
            found = self._converts[default_phases] = self._uniform(default_phases)
        return found

    def _uniform(self, default_phases: int) -> bool:
        if self.has_v2x or self.generation:
            return False
        seen: set[int] = set()
        for groups in (self.tx_default, self.tx_profiles, self.external, self.priority):
            for group in groups.values():
                for cp in group:
                    seen.update(cp.phases_with(default_phases))
        for cp in self.station_max:
            seen.update(cp.phases_with(default_phases))
        return len(seen) <= 1

    def generation_for(self, evse_id: int) -> list[CompiledProfile]:
        """The LocalGeneration stack of an EVSE (its own and EVSE 0's)."""
        return self._merged(self.generation, evse_id)


def _build(store: ProfileStore) -> ProfileIndex:
    return ProfileIndex(compiled(e) for e in store)


def store_index(store: ProfileStore) -> ProfileIndex:
    """The store's profiles compiled and grouped for the engine, built once per store."""
    return store.derived("engine.index", _build)

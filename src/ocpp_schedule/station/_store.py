"""The installed-profile set of a station, as an immutable value.

:class:`ProfileStore` is a tuple of :class:`InstalledProfile` entries: a profile
and the EVSE it was installed on (0 = the station). Every operation returns a
new store; nothing is changed in place, so a CSMS can keep one store per
station and share it between threads, and the station-side rules
(:mod:`ocpp_schedule.station._rules`, :mod:`ocpp_schedule.station._clearing`) stay pure.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar, cast, overload

from pydantic import ValidationError

from ..errors import PayloadError, QueryError, VersionError
from ..wire._enums import ChargingLimitSource, ChargingProfilePurpose, OcppVersion
from ..wire._models import ChargingProfile, period_columns
from ..wire._payloads import _payload_error, parse_version
from ..wire._timestamps import require_aware, to_epoch
from ._config import StationConfig

__all__ = [
    "MAX_STORE_ENTRIES",
    "STORE_FORMAT",
    "STORE_FORMAT_VERSION",
    "read_store",
    "write_store",
    "ChargingProfileCriteria",
    "InstalledProfile",
    "ProfileStore",
    "StationState",
    "Transaction",
]


T = TypeVar("T")


@dataclass(frozen=True)
class Transaction:
    """An active transaction: its id, the EVSE it runs on and when it started.

    ``priority_charging`` is True while 2.1 priority charging is activated
    (K21/K22); ``state_of_charge`` (percent) lets 2.1 ``limitAtSoC`` apply.
    """

    id: str
    evse_id: int
    start: datetime
    priority_charging: bool = False
    state_of_charge: float | None = None
    start_epoch: int = field(init=False, repr=False, compare=False)
    """``start`` as whole epoch seconds (computed)."""

    def __post_init__(self) -> None:
        _check_transaction_types(self)
        require_aware(self.start, "transaction.start")
        if not isinstance(self.id, str):
            object.__setattr__(self, "id", str(self.id))
        object.__setattr__(self, "start_epoch", to_epoch(self.start))
        if self.evse_id <= 0:
            raise QueryError(
                "a transaction runs on an EVSE > 0", field="transaction.evse_id", rule="K01.FR.16"
            )


def _check_transaction_types(tx: Transaction) -> None:
    """Wrong Python types are a :class:`QueryError` naming the field, not a late crash.

    The id is text (an integer, a 1.6 transaction id, is turned into its text);
    the EVSE an integer (not a bool); the start an aware datetime.
    """
    if isinstance(tx.id, bool) or not isinstance(tx.id, str | int):
        raise QueryError(
            f"expected text (or a 1.6 integer id), got {type(tx.id).__name__}",
            field="transaction.id",
        )
    if isinstance(tx.evse_id, bool) or not isinstance(tx.evse_id, int):
        raise QueryError(
            f"expected an integer EVSE id, got {type(tx.evse_id).__name__}",
            field="transaction.evse_id",
        )
    if not isinstance(tx.start, datetime):
        raise QueryError(
            f"expected an aware datetime, got {type(tx.start).__name__}",
            field="transaction.start",
        )
    if not isinstance(tx.priority_charging, bool):
        raise QueryError(
            f"expected a bool, got {type(tx.priority_charging).__name__}",
            field="transaction.priority_charging",
        )
    soc = tx.state_of_charge
    if soc is not None and (
        isinstance(soc, bool)
        or not isinstance(soc, int | float)
        or not math.isfinite(soc)
        or not 0 <= soc <= 100
    ):
        raise QueryError(
            f"expected a percentage 0..100, got {soc!r}", field="transaction.state_of_charge"
        )


@dataclass(frozen=True)
class InstalledProfile:
    """A profile as the station holds it: on which EVSE, set by whom.

    ``transaction_id`` is the transaction a TxProfile is bound to: the one it
    names, or (1.6, where the field is optional) the one active on its EVSE
    when it was installed.
    """

    evse_id: int
    profile: ChargingProfile
    source: ChargingLimitSource = ChargingLimitSource.CSO
    transaction_id: str | None = None

    @property
    def id(self) -> int:
        """The profile id."""
        return self.profile.id

    @property
    def purpose(self) -> ChargingProfilePurpose:
        """The profile's purpose."""
        return self.profile.charging_profile_purpose

    @property
    def stack_level(self) -> int:
        """The profile's stack level."""
        return self.profile.stack_level

    @property
    def bound_transaction_id(self) -> str | None:
        """The transaction a TxProfile applies to (None for other purposes)."""
        return self.transaction_id or self.profile.transaction_id

    @classmethod
    def _made(
        cls,
        evse_id: int,
        profile: ChargingProfile,
        source: ChargingLimitSource,
        transaction_id: str | None,
    ) -> InstalledProfile:
        """``InstalledProfile(evse_id, profile, source, transaction_id)`` without the frozen
        ``__init__``'s ``object.__setattr__`` per field (a third of its cost; the rules make
        one per accepted request, issue 17): the same fields in the same order."""
        entry = object.__new__(cls)
        entry.__dict__.update(
            {
                "evse_id": evse_id,
                "profile": profile,
                "source": source,
                "transaction_id": transaction_id,
            }
        )
        return entry

    def derived(self, key: str, build: Callable[[InstalledProfile], T]) -> T:
        """Data derived from this entry by a layer above (the engine's compiled form), built once.

        The entry is immutable, so whatever ``build`` computes from it stays valid for
        the entry's life; ``key`` names the deriver. The store knows nothing of what
        is derived, so the station layer does not depend on the engine.
        """
        memo: dict[str, object] = self.__dict__.setdefault("_derived", {})
        if key not in memo:
            memo[key] = build(self)
        return cast(T, memo[key])


@dataclass(frozen=True, init=False)
class StationState:
    """What the station-side rules need to know besides the installed profiles.

    ``version`` is required: the rules differ between OCPP 1.6 and 2.x (a 1.6
    request judged by 2.x rules is answered wrongly), so there is no default.
    Build it as ``StationState(config, "1.6")`` or ``StationState(version="2.0.1")``;
    a missing version raises :class:`~ocpp_schedule.VersionError`.
    """

    config: StationConfig
    version: OcppVersion
    transactions: tuple[Transaction, ...]

    @overload
    def __init__(
        self,
        config: StationConfig,
        version: OcppVersion | str,
        transactions: Iterable[Transaction] = (),
    ) -> None: ...

    @overload
    def __init__(
        self,
        config: StationConfig | None = None,
        *,
        version: OcppVersion | str,
        transactions: Iterable[Transaction] = (),
    ) -> None: ...

    def __init__(
        self,
        config: StationConfig | None = None,
        version: OcppVersion | str | None = None,
        transactions: Iterable[Transaction] = (),
    ) -> None:
        if version is None:
            raise VersionError(
                "StationState needs the station's OCPP version (1.6, 2.0.1 or 2.1): "
                "the rules differ between versions",
                field="version",
                rule="docs/semantics.md (version required)",
            )
        if not isinstance(version, OcppVersion):
            version = parse_version(version)
        if config is None:
            config = StationConfig()
        if not isinstance(config, StationConfig):
            raise QueryError("config must be a StationConfig", field="config")
        if isinstance(transactions, str | bytes | Mapping) or not isinstance(
            transactions, Iterable
        ):
            raise QueryError("transactions must be Transaction objects", field="transactions")
        txs = tuple(transactions)
        for tx in txs:
            if not isinstance(tx, Transaction):
                raise QueryError("transactions must be Transaction objects", field="transactions")
        object.__setattr__(self, "config", config)
        object.__setattr__(self, "version", version)
        object.__setattr__(self, "transactions", txs)

    def transaction_on(self, evse_id: int) -> Transaction | None:
        """The transaction active on an EVSE, if any."""
        for tx in self.transactions:
            if tx.evse_id == evse_id:
                return tx
        return None

    def with_transaction(self, transaction: Transaction) -> StationState:
        """This state with ``transaction`` active (replacing any on its EVSE)."""
        others = tuple(t for t in self.transactions if t.evse_id != transaction.evse_id)
        return StationState(self.config, self.version, (*others, transaction))

    def without_transaction(self, transaction_id: str) -> StationState:
        """This state with the transaction ended."""
        rest = tuple(t for t in self.transactions if t.id != transaction_id)
        return StationState(self.config, self.version, rest)

    def derived(self, key: str, build: Callable[[StationState], T]) -> T:
        """Data derived from this state by the rules, built once per state (e.g. the set of
        EVSE ids, the configuration's hash): a replay asks for it once per request.

        The state is immutable (a new state is a new object, with nothing derived yet), so
        what ``build`` computes stays valid; it is kept beside the fields, not among them
        (equality and hashing see the fields only).
        """
        memo: dict[str, object] = self.__dict__.setdefault("_derived", {})
        if key not in memo:
            memo[key] = build(self)
        return cast(T, memo[key])

    def __getstate__(self) -> dict[str, object]:
        """Pickled without what was derived: a hash is valid only in the process that made it."""
        return {k: v for k, v in self.__dict__.items() if k != "_derived"}


@dataclass(frozen=True)
class ChargingProfileCriteria:
    """GetChargingProfiles criteria (K09); absent fields do not filter.

    ``evse_id`` None: every installed profile (K09.FR.06); 0: the profiles
    installed on the station itself (K09.FR.05); N: those installed on EVSE N
    (K09.FR.04). ``charging_profile_id`` matches any of the ids listed.
    """

    evse_id: int | None = None
    charging_profile_id: tuple[int, ...] | None = None
    stack_level: int | None = None
    charging_profile_purpose: ChargingProfilePurpose | None = None
    charging_limit_source: tuple[ChargingLimitSource | str, ...] | None = None
    """The sources to report; 2.1 allows any string of at most 20 characters besides the
    2.0.1 values, which are held as :class:`ChargingLimitSource` members."""

    def matches(self, entry: InstalledProfile) -> bool:
        """True when ``entry`` meets every given criterion."""
        if self.evse_id is not None and entry.evse_id != self.evse_id:
            return False
        if self.charging_profile_id is not None and entry.id not in self.charging_profile_id:
            return False
        if self.stack_level is not None and entry.stack_level != self.stack_level:
            return False
        if (
            self.charging_profile_purpose is not None
            and entry.purpose != self.charging_profile_purpose
        ):
            return False
        return not (
            self.charging_limit_source is not None
            and entry.source not in self.charging_limit_source
        )


_Key = tuple[ChargingProfilePurpose, int]
_Step = tuple[tuple[int, ...], InstalledProfile]
"""One accepted install of a fold: the ids it replaced, and the entry it added."""


class ProfileStore:
    """An immutable set of installed profiles, at most one per profile id.

    Indexed by profile id and by (purpose, stack level), so the rules' lookups do not
    scan the store. A fold of many installs (:func:`~ocpp_schedule.replay`) does not build
    a store per step: it works on private mutable indexes (``station._fold``) and hands
    out stores that are built from its log the first time they are read (issue 17).
    """

    __slots__ = ("_by_id", "_by_level", "_derived", "_entries", "_pending")

    def __init__(self, entries: Iterable[InstalledProfile] = ()) -> None:
        seen: dict[int, InstalledProfile] = {}
        for entry in entries:
            seen[entry.profile.id] = entry  # a later entry with the same id wins, in place
        self._derived: dict[str, object] = {}
        self._by_level: dict[_Key, tuple[InstalledProfile, ...]] | None = None
        self._set(seen)

    def _set(self, by_id: dict[int, InstalledProfile]) -> None:
        """Hold ``by_id`` and its entries; ``_pending`` cleared last (see :meth:`_ready`)."""
        self._by_id = by_id
        self._entries: tuple[InstalledProfile, ...] = tuple(by_id.values())
        self._pending: tuple[ProfileStore, list[_Step], int] | None = None

    @classmethod
    def _of(cls, by_id: dict[int, InstalledProfile]) -> ProfileStore:
        store = cls.__new__(cls)
        store._derived = {}
        store._by_level = None
        store._set(by_id)
        return store

    @classmethod
    def _after(cls, base: ProfileStore, log: list[_Step], steps: int) -> ProfileStore:
        """The store ``base`` becomes after the first ``steps`` steps of a fold's ``log``,
        built when first read (:meth:`_ready`): O(1) now.

        The log is only ever appended to, so its first ``steps`` steps never change and
        this store's value is fixed from the start, whatever the fold does next.
        """
        store = cls.__new__(cls)
        store._derived = {}
        store._by_level = None
        store._pending = (base, log, steps)
        return store

    def _ready(self) -> None:
        """Build a store made by :meth:`_after`: ``base`` with the logged steps applied,
        as ``without(replaced).with_entry(entry)`` applies each (same order of entries).

        Idempotent; two threads building at once build equal values, and ``_pending``
        is cleared last, so a reader that sees it cleared sees every field set. The level
        index is not touched (built on demand from the entries, equal whoever builds it),
        and every reader of it takes it into a local name once.
        """
        pending = self._pending
        if pending is None:
            return
        base, log, steps = pending
        base._ready()
        by_id = dict(base._by_id)
        for i in range(steps):
            replaced, entry = log[i]
            for profile_id in replaced:
                by_id.pop(profile_id, None)
            by_id.pop(entry.profile.id, None)
            by_id[entry.profile.id] = entry
        self._set(by_id)

    def __getstate__(self) -> object:
        """Pickled built (a fold's log stays behind)."""
        self._ready()
        return (None, {name: getattr(self, name) for name in self.__slots__})

    def derived(self, key: str, build: Callable[[ProfileStore], T]) -> T:
        """Data derived from this store by a layer above (the engine's index), built once.

        The store is immutable, so what ``build`` computes from it stays valid; repeated
        composites over one store (all EVSEs of a station, a CSMS recomputing after each
        change) share it. ``key`` names the deriver.
        """
        if key not in self._derived:
            self._derived[key] = build(self)
        return cast(T, self._derived[key])

    def __iter__(self) -> Iterator[InstalledProfile]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, profile_id: object) -> bool:
        if self._pending is not None:
            self._ready()
        return profile_id in self._by_id

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ProfileStore):
            return NotImplemented
        return sorted(self.entries, key=_entry_key) == sorted(other.entries, key=_entry_key)

    def __hash__(self) -> int:
        return hash(tuple(sorted(e.id for e in self.entries)))

    def __repr__(self) -> str:
        ids = ", ".join(f"{e.id}@{e.evse_id}" for e in self.entries)
        return f"ProfileStore([{ids}])"

    @property
    def entries(self) -> tuple[InstalledProfile, ...]:
        """The installed profiles, in installation order."""
        if self._pending is not None:
            self._ready()
        return self._entries

    def get(self, profile_id: int) -> InstalledProfile | None:
        """The installed profile with this id, if any."""
        if self._pending is not None:
            self._ready()
        return self._by_id.get(profile_id)

    def at_level(
        self, purpose: ChargingProfilePurpose, stack_level: int
    ) -> tuple[InstalledProfile, ...]:
        """The installed profiles of ``purpose`` at ``stack_level``, on any EVSE, in
        installation order (built once per store, on first use)."""
        if self._pending is not None:
            self._ready()
        index = self._by_level
        if index is None:
            levels: dict[_Key, list[InstalledProfile]] = {}
            for entry in self._entries:
                levels.setdefault((entry.purpose, entry.stack_level), []).append(entry)
            index = {key: tuple(found) for key, found in levels.items()}
            self._by_level = index
        return index.get((purpose, stack_level), ())

    def _level_on(
        self, purpose: ChargingProfilePurpose, stack_level: int, evses: tuple[int, ...] | None
    ) -> Iterable[InstalledProfile]:
        """:meth:`at_level`, only the entries on ``evses`` (None: any EVSE); for the rules."""
        found = self.at_level(purpose, stack_level)
        return found if evses is None else tuple(e for e in found if e.evse_id in evses)

    def _phased(self, cap: bool, evses: tuple[int, ...] | None) -> Iterable[InstalledProfile]:
        """The entries with a ``phaseToUse``, of a cap purpose or not (``cap``), on ``evses``
        (None: any EVSE), in installation order; for the rules (K01.FR.141)."""
        return tuple(
            e
            for e in self.entries
            if (e.purpose in CAP_PURPOSES) == cap
            and (evses is None or e.evse_id in evses)
            and phases_to_use(e.profile)
        )

    def with_entry(self, entry: InstalledProfile) -> ProfileStore:
        """A store with ``entry`` added, replacing any profile with the same id."""
        self._ready()
        by_id = dict(self._by_id)
        old = by_id.pop(entry.profile.id, None)
        by_id[entry.profile.id] = entry
        store = ProfileStore._of(by_id)
        index = self._by_level
        if index is not None:  # carry the index: only two levels change
            levels = dict(index)
            if old is not None:
                _drop_from_level(levels, old)
            key = (entry.purpose, entry.stack_level)
            levels[key] = (*levels.get(key, ()), entry)
            store._by_level = levels
        return store

    def without(self, profile_ids: Iterable[int]) -> ProfileStore:
        """A store without the profiles with these ids."""
        self._ready()
        by_id = dict(self._by_id)
        removed = [e for e in (by_id.pop(i, None) for i in set(profile_ids)) if e is not None]
        store = ProfileStore._of(by_id)
        index = self._by_level
        if index is not None and removed:
            levels = dict(index)
            for entry in removed:
                _drop_from_level(levels, entry)
            store._by_level = levels
        elif index is not None:
            store._by_level = index
        return store

    def query(self, criteria: ChargingProfileCriteria) -> tuple[InstalledProfile, ...]:
        """The installed profiles matching GetChargingProfiles criteria (K09)."""
        return tuple(e for e in self.entries if criteria.matches(e))

    def end_transaction(self, transaction_id: str | int) -> ProfileStore:
        """A store without the TxProfiles of a transaction that has ended."""
        tx = str(transaction_id)
        return ProfileStore(
            e
            for e in self.entries
            if not (e.purpose is ChargingProfilePurpose.TX_PROFILE and e.bound_transaction_id == tx)
        )

    def to_json(self) -> str:
        """The store as versioned JSON text, for a CSMS to keep across restarts.

        :meth:`from_json` reads it back into an equal store (same entries, same order).
        The format is described at :func:`write_store`.
        """
        return write_store(self)

    @classmethod
    def from_json(cls, data: str | bytes | Mapping[str, object]) -> ProfileStore:
        """The store that :meth:`to_json` wrote; a bad file raises
        :class:`~ocpp_schedule.PayloadError` naming the field."""
        return read_store(data)

    def by_evse(self) -> Mapping[int, tuple[InstalledProfile, ...]]:
        """The installed profiles grouped by the EVSE they are installed on."""
        groups: dict[int, list[InstalledProfile]] = {}
        for entry in self.entries:
            groups.setdefault(entry.evse_id, []).append(entry)
        return {k: tuple(v) for k, v in sorted(groups.items())}


CAP_PURPOSES = frozenset(
    {
        ChargingProfilePurpose.CHARGING_STATION_MAX_PROFILE,
        ChargingProfilePurpose.CHARGE_POINT_MAX_PROFILE,
        ChargingProfilePurpose.CHARGING_STATION_EXTERNAL_CONSTRAINTS,
    }
)
"""The purposes that cap a station or EVSE (the other side of a K01.FR.141 phase conflict)."""


def phases_to_use(profile: ChargingProfile) -> set[int]:
    """The ``phaseToUse`` values a profile's periods name (empty: none).

    A schedule whose period columns are plain (``wire._models.period_columns``, read once
    and shared with the rules and the compiler) names none: its periods are not walked.
    """
    return {
        p.phase_to_use
        for s in profile.charging_schedule
        if not period_columns(s).plain
        for p in s.charging_schedule_period
        if p.phase_to_use is not None
    }


def _drop_from_level(
    levels: dict[_Key, tuple[InstalledProfile, ...]],
    entry: InstalledProfile,
) -> None:
    """Take ``entry`` out of its (purpose, stack level) in a copied level index."""
    key = (entry.purpose, entry.stack_level)
    rest = tuple(e for e in levels.get(key, ()) if e is not entry)
    if rest:
        levels[key] = rest
    else:
        levels.pop(key, None)


def _entry_key(entry: InstalledProfile) -> int:
    return entry.id


# --- The store as JSON text (ProfileStore.to_json / from_json) ---

STORE_FORMAT = "ocpp-schedule/profile-store"
"""The ``format`` tag of a stored profile set."""

STORE_FORMAT_VERSION = 1
"""The version of the format this library writes (and the newest it reads)."""

MAX_STORE_ENTRIES = 100_000
"""At most this many profiles in one stored set, checked before any profile is read."""

_RULE = f"{STORE_FORMAT} format {STORE_FORMAT_VERSION}"
_TOP_KEYS = frozenset({"format", "formatVersion", "entries"})
_ENTRY_KEYS = frozenset({"evseId", "source", "transactionId", "chargingProfile"})
_ENTRY_REQUIRED = ("evseId", "source", "chargingProfile")


def write_store(store: ProfileStore) -> str:
    """``store`` as JSON text in the current format, entries in installation order.
    A profile store as JSON text, and back: what a CSMS keeps per station across restarts.

    The format is the library's own, versioned (``formatVersion``), and stable: a reader of
    format 1 reads every file a writer of format 1 wrote. Each entry keeps what the store
    holds and nothing else: the EVSE the profile is installed on, who set it
    (``source``), the transaction a TxProfile is bound to, and the profile itself in the
    library's neutral JSON (the 2.x field names; integers stay integers). The profile is
    kept in that neutral form, not in one OCPP version's form, so that writing and reading
    back gives an equal store whatever the profile's origin (a 1.6 profile has no schedule
    id, a profile built in Python may lack fields a version requires on the wire).

    Reading checks everything before building anything: the format and its version, the
    size (:data:`MAX_STORE_ENTRIES`), each entry's keys (unknown keys are errors), types
    and ranges, and each profile through the same model the wire readers use. A bad file
    raises :class:`~ocpp_schedule.PayloadError` naming the field and the rule.
    """
    if not isinstance(store, ProfileStore):
        raise PayloadError("expected a ProfileStore", field="store", rule=_RULE)
    entries = [_entry_json(entry) for entry in store]
    doc = {"format": STORE_FORMAT, "formatVersion": STORE_FORMAT_VERSION, "entries": entries}
    return json.dumps(doc, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _entry_json(entry: InstalledProfile) -> dict[str, Any]:
    out: dict[str, Any] = {"evseId": entry.evse_id, "source": entry.source.value}
    if entry.transaction_id is not None:
        out["transactionId"] = entry.transaction_id
    out["chargingProfile"] = entry.profile.to_json_dict()
    return out


def read_store(data: str | bytes | Mapping[str, Any]) -> ProfileStore:
    """The store that :func:`write_store` wrote (text, bytes or the parsed JSON object)."""
    doc = _document(data)
    _keys(doc, _TOP_KEYS, ("format", "formatVersion", "entries"), "")
    if doc["format"] != STORE_FORMAT:
        raise PayloadError(
            f"expected {STORE_FORMAT!r}, got {doc['format']!r}", field="format", rule=_RULE
        )
    version = doc["formatVersion"]
    if isinstance(version, bool) or not isinstance(version, int):
        raise PayloadError("expected an integer", field="formatVersion", rule=_RULE)
    if not 1 <= version <= STORE_FORMAT_VERSION:
        raise PayloadError(
            f"format version {version} is not one this library reads (1..{STORE_FORMAT_VERSION})",
            field="formatVersion",
            rule=_RULE,
        )
    entries = doc["entries"]
    if not isinstance(entries, list):
        raise PayloadError("expected an array", field="entries", rule=_RULE)
    if len(entries) > MAX_STORE_ENTRIES:
        raise PayloadError(
            f"{len(entries)} entries; at most {MAX_STORE_ENTRIES} are read",
            field="entries",
            rule="resource bound (docs/robustness.md)",
        )
    read = [_entry(raw, f"entries[{i}]") for i, raw in enumerate(entries)]
    ids: set[int] = set()
    for i, entry in enumerate(read):
        if entry.id in ids:
            raise PayloadError(
                f"profile id {entry.id} appears twice; a store holds one profile per id",
                field=f"entries[{i}].chargingProfile.id",
                rule=_RULE,
            )
        ids.add(entry.id)
    return ProfileStore(read)


def _document(data: object, field: str = "store", rule: str = _RULE) -> Mapping[str, Any]:
    """A stored JSON object from text, bytes or the parsed object (``field``: its name)."""
    if isinstance(data, str | bytes | bytearray):
        try:
            data = json.loads(data)
        except (ValueError, RecursionError) as exc:
            raise PayloadError(f"not JSON: {exc}", field=field, rule=rule) from None
    if not isinstance(data, Mapping):
        raise PayloadError("expected a JSON object", field=field, rule=rule)
    return data


def _keys(
    obj: Mapping[str, Any],
    allowed: frozenset[str],
    required: tuple[str, ...],
    at: str,
    rule: str = _RULE,
) -> None:
    """Unknown keys and missing required keys of a stored object, named by their path."""
    where = f"{at}." if at else ""
    for key in obj:
        if key not in allowed:
            raise PayloadError("unknown field", field=f"{where}{key}", rule=rule)
    for key in required:
        if key not in obj:
            raise PayloadError("required field missing", field=f"{where}{key}", rule=rule)


def _entry(raw: object, at: str) -> InstalledProfile:
    if not isinstance(raw, Mapping):
        raise PayloadError("expected an object", field=at, rule=_RULE)
    _keys(raw, _ENTRY_KEYS, _ENTRY_REQUIRED, at)
    evse_id = raw["evseId"]
    if isinstance(evse_id, bool) or not isinstance(evse_id, int) or evse_id < 0:
        raise PayloadError("expected an EVSE id >= 0", field=f"{at}.evseId", rule=_RULE)
    try:
        source = ChargingLimitSource(raw["source"])
    except ValueError:
        known = ", ".join(s.value for s in ChargingLimitSource)
        raise PayloadError(
            f"expected one of {known}, got {raw['source']!r}", field=f"{at}.source", rule=_RULE
        ) from None
    tx = raw.get("transactionId")
    if tx is not None and not isinstance(tx, str):
        raise PayloadError("expected text or absent", field=f"{at}.transactionId", rule=_RULE)
    try:
        profile = ChargingProfile.model_validate(raw["chargingProfile"])
    except ValidationError as exc:
        error = _payload_error(exc, OcppVersion.V21, prefix=(f"{at}.chargingProfile",))
        error.rule = f"{_RULE}: the neutral profile model"
        raise error from None
    return InstalledProfile(evse_id, profile, source, tx)

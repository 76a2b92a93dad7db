"""A profile store as JSON text, and back: what a CSMS keeps per station across restarts.

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

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from ..errors import PayloadError
from ..wire._enums import ChargingLimitSource, OcppVersion
from ..wire._models import ChargingProfile
from ..wire._payloads import _payload_error
from ._store import InstalledProfile, ProfileStore

__all__ = ["MAX_STORE_ENTRIES", "STORE_FORMAT", "STORE_FORMAT_VERSION", "read_store", "write_store"]

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
    """``store`` as JSON text in the current format, entries in installation order."""
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


def _document(data: object) -> Mapping[str, Any]:
    if isinstance(data, str | bytes | bytearray):
        try:
            data = json.loads(data)
        except (ValueError, RecursionError) as exc:
            raise PayloadError(f"not JSON: {exc}", field="store", rule=_RULE) from None
    if not isinstance(data, Mapping):
        raise PayloadError("expected a JSON object", field="store", rule=_RULE)
    return data


def _keys(
    obj: Mapping[str, Any], allowed: frozenset[str], required: tuple[str, ...], at: str
) -> None:
    where = f"{at}." if at else ""
    for key in obj:
        if key not in allowed:
            raise PayloadError("unknown field", field=f"{where}{key}", rule=_RULE)
    for key in required:
        if key not in obj:
            raise PayloadError("required field missing", field=f"{where}{key}", rule=_RULE)


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

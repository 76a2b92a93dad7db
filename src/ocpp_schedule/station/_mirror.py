"""What a CSMS knows a station holds: its profiles and transactions, as the station answered.

A CSMS cannot read a station's memory; it knows what it sent and what the station
answered. :class:`StationMirror` is that knowledge as an immutable value. Each
SetChargingProfile or ClearChargingProfile goes in with the station's answer; the
library predicts the answer from the station-side rules, and **the station's word
wins**: a profile the station accepted is installed even where the rules predicted a
rejection, one it rejected is not, a clear it answered ``Unknown`` removes nothing. Every
disagreement is returned as a :class:`MirrorUpdate` that says so, for the CSMS to log:
it means the station and the library read the specification differently, or the mirror
missed a message.

Transactions started and ended are passed in as they are reported (TransactionEvent /
StartTransaction and StopTransaction); an ended transaction's TxProfiles go with it
("TxProfiles end with their transaction", reference smart-charging.md). The mirror is
what :func:`~ocpp_schedule.check_drift` compares a station's GetCompositeSchedule
answer against. It persists with :meth:`StationMirror.to_json` / :meth:`StationMirror.from_json`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..errors import PayloadError, QueryError
from ..wire._enums import ChargingLimitSource, ChargingProfilePurpose, OcppVersion
from ..wire._models import ChargingProfile, SetChargingProfileRequest
from ..wire._payloads import parse_version, read_set_charging_profile
from ..wire._timestamps import format_timestamp, parse_timestamp
from ._clearing import (
    ClearChargingProfileRequest,
    ClearChargingProfileResult,
    clear,
    read_clear_charging_profile,
)
from ._config import StationConfig
from ._rules import SetChargingProfileResult, _stamped, install
from ._store import (
    InstalledProfile,
    ProfileStore,
    StationState,
    Transaction,
    _document,
    _keys,
    read_store,
    write_store,
)

__all__ = ["MIRROR_FORMAT", "MirrorUpdate", "StationMirror"]

MIRROR_FORMAT = "ocpp-schedule/station-mirror"
"""The ``format`` tag of a stored mirror (format version 1)."""

_SET_STATUSES = {
    OcppVersion.V16: frozenset({"Accepted", "Rejected", "NotSupported"}),
    OcppVersion.V201: frozenset({"Accepted", "Rejected"}),
    OcppVersion.V21: frozenset({"Accepted", "Rejected"}),
}
_CLEAR_STATUSES = frozenset({"Accepted", "Unknown"})


@dataclass(frozen=True)
class MirrorUpdate:
    """The mirror after one request, and whether the station answered as predicted.

    ``predicted`` is the status the station-side rules give, ``answered`` the station's;
    ``prediction`` the rules' full answer (with the rejection's reason and rule, or the
    ids a clear would remove). ``note`` says in words what a disagreement means.
    """

    mirror: StationMirror
    predicted: str
    answered: str
    prediction: SetChargingProfileResult | ClearChargingProfileResult
    note: str = ""

    @property
    def agrees(self) -> bool:
        """True when the station answered what the rules predict."""
        return self.predicted == self.answered


@dataclass(frozen=True)
class StationMirror:
    """A station as the CSMS sees it: its configuration, version, transactions and profiles."""

    state: StationState
    store: ProfileStore = field(default_factory=ProfileStore)

    def __post_init__(self) -> None:
        if not isinstance(self.state, StationState):
            raise QueryError("state must be a StationState", field="state")
        if not isinstance(self.store, ProfileStore):
            raise QueryError("store must be a ProfileStore", field="store")

    @property
    def version(self) -> OcppVersion:
        """The station's OCPP version."""
        return self.state.version

    @property
    def config(self) -> StationConfig:
        """The station's configuration."""
        return self.state.config

    @property
    def transactions(self) -> tuple[Transaction, ...]:
        """The transactions running now."""
        return self.state.transactions

    def set_charging_profile(
        self,
        request: SetChargingProfileRequest | Mapping[str, Any],
        answered: str | Mapping[str, Any],
        *,
        now: datetime | int | None = None,
    ) -> MirrorUpdate:
        """The mirror after the station answered ``answered`` to a SetChargingProfile request.

        ``request`` is the model or the payload sent; ``answered`` the status or the
        response payload. ``now`` is the instant of receipt (it stamps a 2.1 Dynamic
        profile, as :func:`~ocpp_schedule.install` does).
        """
        req = self._set_request(request)
        status = _status(answered, _SET_STATUSES[self.version], "SetChargingProfile")
        store, predicted = install(self.store, req, self.state, now=now)
        if status == "Accepted" and not predicted.accepted:
            store = _as_accepted(self.store, req, self.state, now)
            note = (
                f"the station accepted profile {req.charging_profile.id}, which the rules reject "
                f"({predicted}); the mirror holds it as the station does"
            )
        elif status != "Accepted" and predicted.accepted:
            store = self.store
            note = (
                f"the station answered {status} to profile {req.charging_profile.id}, which the "
                "rules accept; the mirror keeps what it held"
            )
        else:
            note = ""
        mirror = StationMirror(self.state, store)
        return MirrorUpdate(mirror, predicted.status, _set_word(status), predicted, note)

    def clear_charging_profile(
        self,
        request: ClearChargingProfileRequest | Mapping[str, Any],
        answered: str | Mapping[str, Any],
    ) -> MirrorUpdate:
        """The mirror after the station answered ``answered`` to a ClearChargingProfile request.

        ``Accepted`` removes what the rules say the request matches; ``Unknown`` removes
        nothing, whatever the rules say (the station's word wins).
        """
        req = (
            request
            if isinstance(request, ClearChargingProfileRequest)
            else read_clear_charging_profile(request, self.version)
        )
        status = _status(answered, _CLEAR_STATUSES, "ClearChargingProfile")
        store, predicted = clear(self.store, req, self.version)
        note = ""
        if status != "Accepted":
            if predicted.cleared:
                note = (
                    "the station answered Unknown; the rules would clear "
                    f"{list(predicted.cleared)}, which the mirror keeps"
                )
            store = self.store
        elif not predicted.cleared:
            note = (
                "the station cleared something the mirror does not hold: it missed a "
                "SetChargingProfile the station accepted, or the station matched more"
            )
        mirror = StationMirror(self.state, store)
        return MirrorUpdate(mirror, predicted.status, status, predicted, note)

    def transaction_started(self, transaction: Transaction) -> StationMirror:
        """The mirror with ``transaction`` running (replacing any on its EVSE)."""
        if not isinstance(transaction, Transaction):
            raise QueryError("expected a Transaction", field="transaction")
        return StationMirror(self.state.with_transaction(transaction), self.store)

    def transaction_ended(self, transaction_id: str | int) -> StationMirror:
        """The mirror with the transaction ended and its TxProfiles removed."""
        if isinstance(transaction_id, bool) or not isinstance(transaction_id, str | int):
            raise QueryError("expected a transaction id", field="transaction_id")
        tx = str(transaction_id)
        return StationMirror(self.state.without_transaction(tx), self.store.end_transaction(tx))

    def to_json(self) -> str:
        """The mirror as versioned JSON text: version, configuration, transactions, profiles."""
        doc = {
            "format": MIRROR_FORMAT,
            "formatVersion": 1,
            "ocppVersion": self.version.value,
            "config": self.config.model_dump(mode="json"),
            "transactions": [_transaction_json(t) for t in self.transactions],
            "store": json.loads(write_store(self.store)),
        }
        return json.dumps(doc, ensure_ascii=False, allow_nan=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, data: str | bytes | Mapping[str, Any]) -> StationMirror:
        """The mirror :meth:`to_json` wrote; a bad file is a PayloadError naming the field."""
        doc = _mirror_document(data)
        try:
            config = StationConfig.model_validate(doc["config"])
            version = parse_version(doc["ocppVersion"])
            txs = [
                _transaction(raw, f"transactions[{i}]") for i, raw in enumerate(doc["transactions"])
            ]
        except (ValueError, TypeError) as exc:
            field_name = getattr(exc, "field", None) or "mirror"
            raise PayloadError(
                str(exc), field=field_name, rule=f"{MIRROR_FORMAT} format 1"
            ) from None
        return cls(StationState(config, version, txs), read_store(doc["store"]))

    def _set_request(
        self, request: SetChargingProfileRequest | Mapping[str, Any]
    ) -> SetChargingProfileRequest:
        if isinstance(request, SetChargingProfileRequest):
            return request
        return read_set_charging_profile(request, self.version)


def _status(answered: str | Mapping[str, Any], allowed: frozenset[str], message: str) -> str:
    """The status of an answer given as text or as the response payload."""
    status = answered.get("status") if isinstance(answered, Mapping) else answered
    if not isinstance(status, str) or status not in allowed:
        raise PayloadError(
            f"expected one of {', '.join(sorted(allowed))}, got {status!r}",
            field="status",
            rule=f"{message} response",
        )
    return status


def _set_word(status: str) -> str:
    """1.6 ``NotSupported`` is a rejection: it compares as ``Rejected``."""
    return "Rejected" if status == "NotSupported" else status


def _as_accepted(
    store: ProfileStore,
    request: SetChargingProfileRequest,
    state: StationState,
    now: datetime | int | None,
) -> ProfileStore:
    """``store`` holding the request's profile as a station that accepted it holds it.

    The rules refused it, so their replacement is not known; the station holds at most
    one profile per id and, since it accepted a profile with the same EVSE, purpose and
    stack level (and, for a TxProfile, transaction) as one it held, it replaced that one
    (the 1.6 rule, OCPP 1.6 §3.13.2; a 2.x station that accepts such a pair has no other
    reading). A 2.1 Dynamic profile is stamped with ``now`` as on any receipt.
    """
    profile, evse = request.charging_profile, request.evse_id
    bound = _bound_transaction(profile, evse, state)
    replaced = [
        e.id
        for e in store
        if e.id == profile.id
        or (
            e.evse_id == evse
            and e.purpose is profile.charging_profile_purpose
            and e.stack_level == profile.stack_level
            and e.bound_transaction_id == bound
        )
    ]
    stamped = _stamped(profile, now)
    return store.without(replaced).with_entry(
        InstalledProfile(evse, stamped, ChargingLimitSource.CSO, bound)
    )


def _bound_transaction(profile: ChargingProfile, evse: int, state: StationState) -> str | None:
    if profile.charging_profile_purpose is not ChargingProfilePurpose.TX_PROFILE:
        return None
    if profile.transaction_id is not None:
        return profile.transaction_id
    active = state.transaction_on(evse)
    return active.id if active is not None else None


def _transaction_json(tx: Transaction) -> dict[str, Any]:
    out: dict[str, Any] = {"id": tx.id, "evseId": tx.evse_id, "start": format_timestamp(tx.start)}
    if tx.priority_charging:
        out["priorityCharging"] = True
    if tx.state_of_charge is not None:
        out["stateOfCharge"] = tx.state_of_charge
    return out


_TX_KEYS = frozenset({"id", "evseId", "start", "priorityCharging", "stateOfCharge"})


def _transaction(raw: object, at: str) -> Transaction:
    if not isinstance(raw, Mapping):
        raise PayloadError("expected an object", field=at, rule=f"{MIRROR_FORMAT} format 1")
    unknown = sorted(set(raw) - _TX_KEYS)
    if unknown or not {"id", "evseId", "start"} <= set(raw):
        what = f"unknown field {unknown[0]}" if unknown else "id, evseId and start are required"
        raise PayloadError(what, field=at, rule=f"{MIRROR_FORMAT} format 1")
    start = raw["start"]
    if not isinstance(start, str):
        raise PayloadError(
            "expected a timestamp", field=f"{at}.start", rule=f"{MIRROR_FORMAT} format 1"
        )
    return Transaction(
        raw["id"],
        raw["evseId"],
        parse_timestamp(start),
        priority_charging=raw.get("priorityCharging", False),
        state_of_charge=raw.get("stateOfCharge"),
    )


_MIRROR_KEYS = frozenset(
    {"format", "formatVersion", "ocppVersion", "config", "transactions", "store"}
)


def _mirror_document(data: object) -> Mapping[str, Any]:
    rule = f"{MIRROR_FORMAT} format 1"
    data = _document(data, "mirror", rule)
    _keys(data, _MIRROR_KEYS, tuple(sorted(_MIRROR_KEYS)), "", rule)
    if data["format"] != MIRROR_FORMAT:
        raise PayloadError(f"expected {MIRROR_FORMAT!r}", field="format", rule=rule)
    if data["formatVersion"] != 1 or isinstance(data["formatVersion"], bool):
        raise PayloadError("this library reads format version 1", field="formatVersion", rule=rule)
    if not isinstance(data["transactions"], list):
        raise PayloadError("expected an array", field="transactions", rule=rule)
    return data

"""OCPP 2.1 priority charging (K21, K22): UsePriorityCharging and NotifyPriorityCharging.

Activated, a PriorityCharging profile takes the place of the TxDefaultProfile/TxProfile for
one transaction while ChargingStationMaxProfile stays in effect (K21.FR.04, K22.FR.02); the
engine honours it through ``Transaction.priority_charging``. These functions only decide
whether it is activated and return the updated :class:`~ocpp_schedule.Transaction` and the
NotifyPriorityChargingRequest to send.

Station side: :func:`use_priority_charging` (the CSMS asks, K21) and
:func:`request_priority_charging_locally` (the user asks at the station, K22). CSMS side:
:func:`apply_notify_priority_charging` updates the CSMS's view of the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Annotated, Any

from pydantic import Field, StringConstraints, ValidationError

from ..errors import QueryError, UnknownTransactionError, VersionError
from ..wire._enums import ChargingProfilePurpose, OcppVersion
from ..wire._models import Bool, CustomData
from ..wire._models import _Model as _WireModel
from ..wire._payloads import _check_keys, _payload_error
from ._external_limits import require
from ._store import ProfileStore, StationState, Transaction

__all__ = [
    "NotifyPriorityChargingRequest",
    "PriorityChargingResult",
    "UsePriorityChargingRequest",
    "apply_notify_priority_charging",
    "has_priority_profile",
    "read_notify_priority_charging",
    "read_use_priority_charging",
    "request_priority_charging_locally",
    "use_priority_charging",
    "write_notify_priority_charging",
    "write_use_priority_charging",
]

TransactionId = Annotated[str, StringConstraints(strict=True, max_length=36)]
"""2.x ``identifierString[0..36]``: a transaction id."""


class UsePriorityChargingRequest(_WireModel):
    """2.1 UsePriorityChargingRequest: the CSMS asks to start (or stop) priority charging."""

    transaction_id: TransactionId = Field(
        validation_alias="transactionId", serialization_alias="transactionId"
    )
    """``transactionId``: the transaction concerned."""
    activate: Bool
    """``activate``: true to start priority charging, false to stop it."""
    custom_data: CustomData | None = Field(
        default=None, validation_alias="customData", serialization_alias="customData"
    )
    """``customData``, carried verbatim."""


class NotifyPriorityChargingRequest(_WireModel):
    """2.1 NotifyPriorityChargingRequest: the station started (or stopped) priority charging."""

    transaction_id: TransactionId = Field(
        validation_alias="transactionId", serialization_alias="transactionId"
    )
    """``transactionId``: the transaction concerned."""
    activated: Bool
    """``activated``: true when priority charging now applies, false when it stopped."""
    custom_data: CustomData | None = Field(
        default=None, validation_alias="customData", serialization_alias="customData"
    )
    """``customData``, carried verbatim."""


def _read(payload: Any, model: type[_WireModel], flag: str) -> Any:
    v = OcppVersion.V21
    data = _check_keys(
        payload,
        frozenset({"transactionId", flag, "customData"}),
        ("transactionId", flag),
        "",
        v,
    )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _payload_error(exc, v) from None


def read_use_priority_charging(payload: Any) -> UsePriorityChargingRequest:
    """Read a 2.1 UsePriorityChargingRequest payload (a :class:`PayloadError` names the field)."""
    request: UsePriorityChargingRequest = _read(payload, UsePriorityChargingRequest, "activate")
    return request


def write_use_priority_charging(request: UsePriorityChargingRequest) -> dict[str, Any]:
    """The request's 2.1 JSON payload, exactly as read."""
    return request.to_json_dict()


def read_notify_priority_charging(payload: Any) -> NotifyPriorityChargingRequest:
    """Read a 2.1 NotifyPriorityChargingRequest payload."""
    request: NotifyPriorityChargingRequest = _read(
        payload, NotifyPriorityChargingRequest, "activated"
    )
    return request


def write_notify_priority_charging(request: NotifyPriorityChargingRequest) -> dict[str, Any]:
    """The request's 2.1 JSON payload, exactly as read."""
    return request.to_json_dict()


@dataclass(frozen=True)
class PriorityChargingResult:
    """The station's answer and what follows from it.

    ``status``: ``Accepted``, ``Rejected`` (no such transaction, K21.FR.02) or ``NoProfile``
    (no PriorityCharging profile on EVSE 0 or the transaction's EVSE, K21.FR.01);
    ``reason_code`` the optional ``statusInfo.reasonCode`` (``TxNotFound``, ``NotFound``).
    ``transaction`` is the transaction with ``priority_charging`` as it now is (None when
    unknown) and ``state`` the station state holding it; ``notification`` the
    NotifyPriorityChargingRequest to send (K21.FR.05/08, K22.FR.03/05), None when nothing
    changed that must be told.
    """

    status: str
    state: StationState
    transaction: Transaction | None = None
    notification: NotifyPriorityChargingRequest | None = None
    reason_code: str | None = None
    rule: str | None = None
    message: str = ""

    @property
    def accepted(self) -> bool:
        """True for ``Accepted``."""
        return self.status == "Accepted"

    def to_payload(self) -> dict[str, Any]:
        """The UsePriorityChargingResponse payload."""
        return status_payload(self.status, self.reason_code, self.rule, self.message)


def status_payload(
    status: str, reason_code: str | None, rule: str | None, message: str
) -> dict[str, Any]:
    """A 2.x response payload: ``status`` and, with a reason code, ``statusInfo`` whose
    ``additionalInfo`` (at most 1,024 characters) says what and cites the rule."""
    out: dict[str, Any] = {"status": status}
    if reason_code is not None:
        info = f"{message} ({rule})" if rule else message
        out["statusInfo"] = {"reasonCode": reason_code, "additionalInfo": info[:1024]}
    return out


def _v21(state: StationState) -> None:
    if not isinstance(state, StationState):
        raise QueryError(f"expected a StationState, got {type(state).__name__}", field="state")
    if state.version is not OcppVersion.V21:
        raise VersionError(
            f"priority charging is OCPP 2.1 only, not {state.version.value}", field="version"
        )


def _transaction(state: StationState, transaction_id: str) -> Transaction | None:
    for tx in state.transactions:
        if tx.id == transaction_id:
            return tx
    return None


def has_priority_profile(store: ProfileStore, evse_id: int) -> bool:
    """Whether a PriorityCharging profile is installed on EVSE 0 or ``evse_id`` (K21.FR.01:
    "a PriorityCharging profile on EVSE #0 applies to all EVSEs")."""
    if not isinstance(store, ProfileStore):
        raise QueryError(f"expected a ProfileStore, got {type(store).__name__}", field="store")
    return any(
        e.purpose is ChargingProfilePurpose.PRIORITY_CHARGING and e.evse_id in (0, evse_id)
        for e in store
    )


def _switched(
    state: StationState, tx: Transaction, activate: bool, rule: str
) -> PriorityChargingResult:
    """Accepted: the transaction with ``priority_charging = activate``; a notification when it
    is activated (again) or when an active one stops."""
    updated = replace(tx, priority_charging=activate)
    notify = None
    if activate or tx.priority_charging:
        notify = NotifyPriorityChargingRequest(transaction_id=tx.id, activated=activate)
    return PriorityChargingResult(
        "Accepted", state.with_transaction(updated), updated, notify, rule=rule
    )


def use_priority_charging(
    store: ProfileStore, state: StationState, request: UsePriorityChargingRequest
) -> PriorityChargingResult:
    """Station side (K21): answer a UsePriorityChargingRequest.

    - unknown transaction: ``Rejected``, reasonCode TxNotFound (K21.FR.02);
    - ``activate`` false: ``Accepted``, priority charging stops if it was active
      (K21.FR.06/07; NotifyPriorityCharging activated=false only then, K21.FR.08);
    - ``activate`` true without a PriorityCharging profile on EVSE 0 or the transaction's
      EVSE: ``NoProfile``, reasonCode NotFound (K21.FR.01). A station whose
      SupportedAdditionalPurposes lacks PriorityCharging can hold none (K01.FR.120), so it
      answers NoProfile too (docs/semantics.md PRIO-2);
    - else ``Accepted``: the transaction now charges by its PriorityCharging profile
      (K21.FR.03/04) and NotifyPriorityCharging activated=true is to be sent (K21.FR.05).
    """
    _v21(state)
    require(store, ProfileStore, "store")
    if not isinstance(request, UsePriorityChargingRequest):
        raise QueryError("expected a UsePriorityChargingRequest", field="request")
    tx = _transaction(state, request.transaction_id)
    if tx is None:
        return PriorityChargingResult(
            "Rejected",
            state,
            reason_code="TxNotFound",
            rule="K21.FR.02",
            message=f"no ongoing transaction {request.transaction_id!r}",
        )
    return _decide(store, state, tx, request.activate, _REMOTE)


_REMOTE = ("K21.FR.06", "K21.FR.01", "K21.FR.03")
_LOCAL = ("K22.FR.04", "K22.FR.01", "K22.FR.02")
"""The rules cited for (deactivation, no profile, activation), remote (K21) and local (K22)."""


def _decide(
    store: ProfileStore,
    state: StationState,
    tx: Transaction,
    activate: bool,
    rules: tuple[str, str, str],
) -> PriorityChargingResult:
    """The answer for a known transaction: stopping is always accepted; starting needs a
    PriorityCharging profile on EVSE 0 or the transaction's EVSE."""
    stop_rule, missing_rule, start_rule = rules
    if not activate:
        return _switched(state, tx, False, stop_rule)
    if not has_priority_profile(store, tx.evse_id):
        return PriorityChargingResult(
            "NoProfile",
            state,
            tx,
            reason_code="NotFound",
            rule=missing_rule,
            message=f"no PriorityCharging profile on EVSE 0 or EVSE {tx.evse_id}",
        )
    return _switched(state, tx, True, start_rule)


def request_priority_charging_locally(
    store: ProfileStore, state: StationState, transaction_id: str, activate: bool
) -> PriorityChargingResult:
    """Station side (K22): the user asks at the station to start (or end) priority charging.

    Without a PriorityCharging profile for the transaction's EVSE the station cannot
    (``NoProfile``, K22.FR.01: tell the user); else it switches (K22.FR.02/04) and the
    NotifyPriorityChargingRequest is to be sent (K22.FR.03/05). Ending it when it was not
    active changes nothing and tells nothing. Raises :class:`UnknownTransactionError` for a
    transaction the station does not run (the user can only ask for an ongoing one).
    """
    _v21(state)
    require(store, ProfileStore, "store")
    require(transaction_id, str, "transaction_id")
    require(activate, bool, "activate")
    tx = _transaction(state, transaction_id)
    if tx is None:
        raise UnknownTransactionError(
            f"no ongoing transaction {transaction_id!r}", field="transaction_id", rule="K22"
        )
    return _decide(store, state, tx, activate, _LOCAL)


def apply_notify_priority_charging(
    state: StationState, request: NotifyPriorityChargingRequest
) -> StationState:
    """CSMS side (K21.FR.05/08, K22.FR.03/05): the station says priority charging was
    activated or stopped; the CSMS's view of the transaction follows. Raises
    :class:`UnknownTransactionError` for a transaction the view does not hold."""
    _v21(state)
    if not isinstance(request, NotifyPriorityChargingRequest):
        raise QueryError("expected a NotifyPriorityChargingRequest", field="request")
    tx = _transaction(state, request.transaction_id)
    if tx is None:
        raise UnknownTransactionError(
            f"the view holds no transaction {request.transaction_id!r}",
            field="transactionId",
            rule="K21.FR.09/K22.FR.06",
        )
    return state.with_transaction(replace(tx, priority_charging=request.activated))

"""OCPP 2.1 NotifyAllowedEnergyTransfer (Q02): which energy transfer modes a transaction may use.

The CSMS tells the station which ISO 15118 energy transfer modes it allows for a transaction
(for example bidirectional charging, once a third party has allowed it). The station answers
``Accepted`` and starts a service renegotiation with the EV (Q02.FR.05/06); ``Rejected`` is for
technical problems only (§1.44.2). The specification leaves the effect on charging profiles to
Q02.FR.01/02: a transaction that does not transfer bidirectionally gets ChargingOnly periods
without ``dischargeLimit``, ``setpoint`` or ``setpointReactive``. This module reads and writes
the message, answers it, lists the installed periods that would make such a transaction
discharge, and takes discharging out of a 2.1 composite answer (docs/semantics.md AET-1..4).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, StringConstraints, ValidationError

from ..errors import PayloadError, QueryError, VersionError
from ..wire._enums import ChargingProfilePurpose, OcppVersion
from ..wire._models import CustomData
from ..wire._models import _Model as _WireModel
from ..wire._payloads import _check_keys, _payload_error
from ._external_limits import require
from ._priority import status_payload
from ._store import InstalledProfile, ProfileStore, StationState, Transaction

__all__ = [
    "BIDIRECTIONAL_MODES",
    "DischargingPeriod",
    "EnergyTransferMode",
    "NotifyAllowedEnergyTransferRequest",
    "NotifyAllowedEnergyTransferResult",
    "discharging_periods",
    "notify_allowed_energy_transfer",
    "read_notify_allowed_energy_transfer",
    "without_discharge",
    "write_notify_allowed_energy_transfer",
]


class EnergyTransferMode(StrEnum):
    """2.1 ``EnergyTransferModeEnumType``."""

    AC_SINGLE_PHASE = "AC_single_phase"
    AC_TWO_PHASE = "AC_two_phase"
    AC_THREE_PHASE = "AC_three_phase"
    DC = "DC"
    AC_BPT = "AC_BPT"
    AC_BPT_DER = "AC_BPT_DER"
    AC_DER = "AC_DER"
    DC_BPT = "DC_BPT"
    DC_ACDP = "DC_ACDP"
    DC_ACDP_BPT = "DC_ACDP_BPT"
    WPT = "WPT"


BIDIRECTIONAL_MODES = frozenset(
    {
        EnergyTransferMode.AC_BPT,
        EnergyTransferMode.AC_BPT_DER,
        EnergyTransferMode.DC_BPT,
        EnergyTransferMode.DC_ACDP_BPT,
    }
)
"""The bidirectional power transfer (BPT) modes: the only ones in which the EV discharges."""

MAX_ALLOWED_MODES = 64
"""The most ``allowedEnergyTransfer`` entries read (the schema sets no maximum; there are 11
modes, repeats allowed; docs/robustness.md)."""


class NotifyAllowedEnergyTransferRequest(_WireModel):
    """2.1 NotifyAllowedEnergyTransferRequest: the modes the CSMS allows for a transaction."""

    transaction_id: Annotated[str, StringConstraints(strict=True, max_length=36)] = Field(
        validation_alias="transactionId", serialization_alias="transactionId"
    )
    """``transactionId``: the transaction concerned."""
    allowed_energy_transfer: tuple[EnergyTransferMode, ...] = Field(
        validation_alias="allowedEnergyTransfer",
        serialization_alias="allowedEnergyTransfer",
        min_length=1,
    )
    """``allowedEnergyTransfer``: the modes allowed, in the order sent (repeats kept)."""
    custom_data: CustomData | None = Field(
        default=None, validation_alias="customData", serialization_alias="customData"
    )
    """``customData``, carried verbatim."""

    @property
    def discharge_allowed(self) -> bool:
        """True when a bidirectional mode is allowed (AET-2)."""
        return any(mode in BIDIRECTIONAL_MODES for mode in self.allowed_energy_transfer)


def read_notify_allowed_energy_transfer(payload: Any) -> NotifyAllowedEnergyTransferRequest:
    """Read a 2.1 NotifyAllowedEnergyTransferRequest payload (a :class:`PayloadError` names
    the field: an unknown mode, an empty list, a transaction id over 36 characters, ...)."""
    v = OcppVersion.V21
    data = _check_keys(
        payload,
        frozenset({"transactionId", "allowedEnergyTransfer", "customData"}),
        ("transactionId", "allowedEnergyTransfer"),
        "",
        v,
    )
    modes = data["allowedEnergyTransfer"]
    if isinstance(modes, list) and len(modes) > MAX_ALLOWED_MODES:
        raise PayloadError(
            f"{len(modes)} modes; the library reads at most {MAX_ALLOWED_MODES}",
            field="allowedEnergyTransfer",
            rule="docs/robustness.md (MAX_ALLOWED_MODES)",
        )
    if isinstance(modes, list):
        for i, mode in enumerate(modes):
            if not isinstance(mode, str) or mode not in _MODES:
                raise PayloadError(
                    f"{mode!r} is not an EnergyTransferModeEnumType value",
                    field=f"allowedEnergyTransfer[{i}]",
                    rule="OCPP 2.1 schema: enum",
                )
    try:
        return NotifyAllowedEnergyTransferRequest.model_validate(data)
    except ValidationError as exc:
        raise _payload_error(exc, v) from None


_MODES = frozenset(m.value for m in EnergyTransferMode)


def write_notify_allowed_energy_transfer(
    request: NotifyAllowedEnergyTransferRequest,
) -> dict[str, Any]:
    """The request's 2.1 JSON payload, exactly as read."""
    return request.to_json_dict()


@dataclass(frozen=True)
class DischargingPeriod:
    """A period of an installed profile that would make the transaction discharge: a negative
    ``field`` (``dischargeLimit``, ``setpoint`` or an L2/L3 variant) at ``schedule`` /
    ``period`` (indices) of profile ``profile_id`` on ``evse_id``."""

    profile_id: int
    evse_id: int
    schedule: int
    period: int
    field: str
    value: float


@dataclass(frozen=True)
class NotifyAllowedEnergyTransferResult:
    """The station's answer and what the allowed modes imply.

    ``status`` ``Accepted`` (then renegotiate with the EV, Q02.FR.06) or ``Rejected``
    (reasonCode ``TxNotFound``: no such transaction). ``discharge_allowed``: a bidirectional
    mode is allowed. ``conflicts``: the installed periods for the transaction that would make
    it discharge although no bidirectional mode is allowed (Q02.FR.02); the station does not
    discharge by them (:func:`without_discharge`).
    """

    status: str
    transaction: Transaction | None = None
    allowed: tuple[EnergyTransferMode, ...] = ()
    discharge_allowed: bool = False
    conflicts: tuple[DischargingPeriod, ...] = ()
    reason_code: str | None = None
    rule: str | None = None
    message: str = ""

    def to_payload(self) -> dict[str, Any]:
        """The NotifyAllowedEnergyTransferResponse payload."""
        return status_payload(self.status, self.reason_code, self.rule, self.message)


_DISCHARGE_FIELDS = {
    "discharge_limit": "dischargeLimit",
    "discharge_limit_l2": "dischargeLimit_L2",
    "discharge_limit_l3": "dischargeLimit_L3",
    "setpoint": "setpoint",
    "setpoint_l2": "setpoint_L2",
    "setpoint_l3": "setpoint_L3",
}
"""The period values whose negative value means discharging (model name -> JSON key)."""


def _applies(entry: InstalledProfile, tx: Transaction) -> bool:
    """Whether an installed profile can govern the transaction: on EVSE 0 or its EVSE, and
    for a TxProfile, bound to it (or to no transaction)."""
    if entry.evse_id not in (0, tx.evse_id):
        return False
    if entry.purpose is ChargingProfilePurpose.TX_PROFILE:
        bound = entry.bound_transaction_id
        return bound is None or bound == tx.id
    return True


def discharging_periods(
    store: ProfileStore, transaction: Transaction
) -> tuple[DischargingPeriod, ...]:
    """Every period of the profiles that can govern ``transaction`` with a negative discharge
    limit or setpoint (L1, L2 or L3), in store order. At most one entry per field of each
    period: the work is linear in the installed periods."""
    require(store, ProfileStore, "store")
    require(transaction, Transaction, "transaction")
    out = []
    for entry in store:
        if not _applies(entry, transaction):
            continue
        for i, sched in enumerate(entry.profile.charging_schedule):
            for j, period in enumerate(sched.charging_schedule_period):
                for name, key in _DISCHARGE_FIELDS.items():
                    value = getattr(period, name)
                    if value is not None and value < 0:
                        out.append(DischargingPeriod(entry.id, entry.evse_id, i, j, key, value))
    return tuple(out)


def notify_allowed_energy_transfer(
    store: ProfileStore, state: StationState, request: NotifyAllowedEnergyTransferRequest
) -> NotifyAllowedEnergyTransferResult:
    """Station side (Q02.FR.05/06): answer a NotifyAllowedEnergyTransferRequest.

    A transaction the station does not run: ``Rejected``, reasonCode TxNotFound (the only
    "technical problem" a pure function can see; AET-1). Else ``Accepted``; without a
    bidirectional mode the transaction may not discharge, and the installed periods that
    would make it do so are listed (AET-2/3).
    """
    require(store, ProfileStore, "store")
    require(state, StationState, "state")
    if state.version is not OcppVersion.V21:
        raise VersionError(
            f"NotifyAllowedEnergyTransfer is OCPP 2.1 only, not {state.version.value}",
            field="version",
        )
    if not isinstance(request, NotifyAllowedEnergyTransferRequest):
        raise QueryError("expected a NotifyAllowedEnergyTransferRequest", field="request")
    tx = next((t for t in state.transactions if t.id == request.transaction_id), None)
    if tx is None:
        return NotifyAllowedEnergyTransferResult(
            "Rejected",
            reason_code="TxNotFound",
            rule="docs/semantics.md AET-1",
            message=f"no ongoing transaction {request.transaction_id!r}",
        )
    allowed = request.discharge_allowed
    conflicts = () if allowed else discharging_periods(store, tx)
    return NotifyAllowedEnergyTransferResult(
        "Accepted",
        tx,
        request.allowed_energy_transfer,
        allowed,
        conflicts,
        rule="Q02.FR.06",
    )


def without_discharge(answer: Mapping[str, Any]) -> dict[str, Any]:
    """A 2.1 GetCompositeSchedule answer (or its ``schedule``) with discharging taken out
    (AET-4): every ``dischargeLimit``/``_L2``/``_L3`` becomes 0 (no discharge allowed) and every
    negative ``setpoint``/``_L2``/``_L3`` becomes 0 (charge nothing rather than discharge).
    Integers stay integers; the input is not changed. ``setpointReactive`` is reactive power,
    not a discharge, and stays."""
    if not isinstance(answer, Mapping):
        raise QueryError("expected a GetCompositeSchedule answer (a JSON object)", field="answer")
    out = copy.deepcopy(dict(answer))
    if "status" in out and "schedule" not in out:
        return out  # a rejected answer (or one without a schedule) discharges nothing
    schedule = out.get("schedule", out)
    periods = schedule.get("chargingSchedulePeriod") if isinstance(schedule, dict) else None
    if not isinstance(periods, list):
        raise QueryError(
            "expected schedule.chargingSchedulePeriod (a 2.1 composite answer)",
            field="schedule.chargingSchedulePeriod",
        )
    for period in periods:
        for key in _DISCHARGE_FIELDS.values():
            value = period.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
                period[key] = 0 if isinstance(value, int) else 0.0
    return out

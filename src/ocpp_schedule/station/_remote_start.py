"""RequestStartTransaction (2.0.1/2.1) and RemoteStartTransaction (1.6) with a charging profile.

The CSMS may put a charging profile in the request that starts a transaction (F01.FR.08, K05;
OCPP 1.6 §5.11). It must be a TxProfile (F01.FR.09; 1.6 §5.11) without a ``transactionId``
(F01.FR.11; 1.6 errata), and the station uses it for the transaction it starts (F01.FR.10;
1.6 §5.11). A station without Smart Charging ignores the profile (F01.FR.12; 1.6 §5.11
"SHOULD be ignored"); one with Smart Charging answers Rejected to an invalid profile
(F01.FR.26, reasonCode ``InvalidProfile``/``InvalidSchedule``).

Here, as pure functions:

- readers and exact-JSON writers of both requests (:func:`read_remote_start_transaction`,
  :func:`read_request_start_transaction` and their ``write_`` twins); the profile goes
  through the SetChargingProfile profile reader and writer of :mod:`ocpp_schedule.wire`;
- the station's decision on the profile part (:func:`check_remote_start`): the rules above,
  then every SetChargingProfile rule (K01, 1.6 §5.16) as if the profile were set on the
  transaction about to start;
- its installation once the transaction has started (:func:`install_remote_start`): the
  profile, its ``transactionId`` set to the new transaction's, through
  :func:`~ocpp_schedule.install`;
- the CSMS side (:func:`build_remote_start`): a valid request from a profile, refusing one
  that is not a TxProfile or carries a ``transactionId`` (:class:`RemoteStartError`).

docs/semantics.md, "RequestStartTransaction / RemoteStartTransaction with a charging
profile", records the decisions the specification leaves open.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from ..errors import PayloadError, QueryError, RemoteStartError, VersionError
from ..wire._enums import ChargingProfilePurpose, OcppVersion
from ..wire._models import ChargingProfile, JsonObject, SetChargingProfileRequest, _thaw
from ..wire._payloads import parse_version, read_charging_profile, write_charging_profile
from ._rules import RejectionReason, SetChargingProfileResult, install, status_payload
from ._store import ProfileStore, StationState, Transaction

__all__ = [
    "RemoteStartReason",
    "RemoteStartResult",
    "RemoteStartTransactionRequest",
    "RequestStartTransactionRequest",
    "build_remote_start",
    "check_remote_start",
    "install_remote_start",
    "read_remote_start_transaction",
    "read_request_start_transaction",
    "write_remote_start_transaction",
    "write_request_start_transaction",
]

_TX = ChargingProfilePurpose.TX_PROFILE

# ------------------------------------------------------------------------ the requests


@dataclass(frozen=True)
class RemoteStartTransactionRequest:
    """OCPP 1.6 ``RemoteStartTransaction.req``.

    ``id_tag`` is ``idTag`` (at most 20 characters), ``connector_id`` the optional
    ``connectorId`` (> 0 by §5.11; the schema allows any integer, the station judges it) and
    ``charging_profile`` the optional ``chargingProfile``.
    """

    id_tag: str
    connector_id: int | None = None
    charging_profile: ChargingProfile | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.id_tag, str):
            raise PayloadError("expected a string", field="idTag")
        _check_types(self.connector_id, self.charging_profile, "connectorId")

    @property
    def version(self) -> OcppVersion:
        """Always OCPP 1.6."""
        return OcppVersion.V16

    @property
    def evse_id(self) -> int | None:
        """The connector the transaction is to start on (1.6's connector is 2.x's EVSE)."""
        return self.connector_id


@dataclass(frozen=True)
class RequestStartTransactionRequest:
    """OCPP 2.0.1/2.1 ``RequestStartTransactionRequest``.

    ``id_token`` and ``group_id_token`` are ``IdTokenType`` objects and ``custom_data`` the
    ``customData``, each checked against the schema of the version read and carried
    verbatim (frozen). ``evse_id`` (> 0; 2.1's schema says ``minimum 1``) is optional.
    """

    id_token: Mapping[str, Any]
    remote_start_id: int
    evse_id: int | None = None
    charging_profile: ChargingProfile | None = None
    group_id_token: Mapping[str, Any] | None = None
    custom_data: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if isinstance(self.remote_start_id, bool) or not isinstance(self.remote_start_id, int):
            raise PayloadError("expected an integer", field="remoteStartId")
        _check_types(self.evse_id, self.charging_profile, "evseId")
        for name, key in _CARRIED.items():
            value = getattr(self, name)
            if value is not None and not isinstance(value, JsonObject):
                object.__setattr__(self, name, _frozen(value, key))


_CARRIED = {"id_token": "idToken", "group_id_token": "groupIdToken", "custom_data": "customData"}
"""The carried JSON objects of a RequestStartTransactionRequest: attribute -> payload key."""


def _check_types(evse: Any, profile: Any, evse_field: str) -> None:
    """A request built in Python with a wrong type is a PayloadError naming the field."""
    if evse is not None and (isinstance(evse, bool) or not isinstance(evse, int)):
        raise PayloadError("expected an integer", field=evse_field)
    if profile is not None and not isinstance(profile, ChargingProfile):
        raise PayloadError("expected a ChargingProfile", field="chargingProfile")


RemoteStartRequest = RemoteStartTransactionRequest | RequestStartTransactionRequest
"""Either version's request."""


def _frozen(value: Any, field: str) -> JsonObject:
    if not isinstance(value, Mapping):
        raise PayloadError(f"expected a JSON object, got {type(value).__name__}", field=field)
    try:
        return JsonObject(value)
    except (ValueError, TypeError) as exc:
        raise PayloadError(str(exc), field=field) from None


# ------------------------------------------------------------------------ reading


def _rule(version: OcppVersion) -> str:
    return f"OCPP {version.value} schema"


def _object(value: Any, field: str, version: OcppVersion) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        where = f"{field}: " if field else ""
        raise PayloadError(
            f"{where}expected a JSON object", field=field or None, rule=_rule(version)
        )
    return value


def _keys(
    obj: Mapping[str, Any],
    allowed: frozenset[str],
    required: tuple[str, ...],
    where: str,
    version: OcppVersion,
) -> None:
    """Unknown keys, ``null`` values and missing required keys are PayloadErrors."""
    path = (lambda key: f"{where}.{key}") if where else (lambda key: key)
    for key, value in obj.items():
        if key not in allowed:
            raise PayloadError(
                f"field {key!r} is not part of OCPP {version.value}",
                field=path(str(key)),
                rule=f"{_rule(version)}: additionalProperties false",
            )
        if value is None:
            raise PayloadError(
                "null is not a value of any OCPP field; leave the field out",
                field=path(key),
                rule=_rule(version),
            )
    for key in required:
        if key not in obj:
            raise PayloadError("required field is missing", field=path(key), rule=_rule(version))


def _integer(value: Any, field: str, version: OcppVersion) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PayloadError("expected an integer", field=field, rule=_rule(version))
    return value


def _string(value: Any, field: str, version: OcppVersion, max_length: int) -> str:
    if not isinstance(value, str):
        raise PayloadError("expected a string", field=field, rule=_rule(version))
    if len(value) > max_length:
        raise PayloadError(
            f"{len(value)} characters; at most {max_length}",
            field=field,
            rule=f"{_rule(version)}: maxLength {max_length}",
        )
    return value


def _custom_data(value: Any, field: str, version: OcppVersion) -> None:
    obj = _object(value, field, version)
    vendor = obj.get("vendorId")
    if not isinstance(vendor, str):
        raise PayloadError(
            "customData needs a vendorId string",
            field=f"{field}.vendorId",
            rule=f"{_rule(version)}: CustomDataType",
        )
    _string(vendor, f"{field}.vendorId", version, 255)


ID_TOKEN_TYPES_V201 = frozenset(
    {
        "Central",
        "eMAID",
        "ISO14443",
        "ISO15693",
        "KeyCode",
        "Local",
        "MacAddress",
        "NoAuthorization",
    }
)
"""The 2.0.1 ``IdTokenEnumType`` values (2.1 makes ``type`` a string of at most 20)."""

_ID_TOKEN_LENGTH = {OcppVersion.V201: 36, OcppVersion.V21: 255}
"""``idToken`` and ``additionalIdToken`` maxLength by version."""


def _id_token(value: Any, field: str, version: OcppVersion) -> JsonObject:
    """Check an ``IdTokenType`` object against ``version``'s schema and freeze it."""
    obj = _object(value, field, version)
    _keys(
        obj,
        frozenset({"idToken", "type", "additionalInfo", "customData"}),
        ("idToken", "type"),
        field,
        version,
    )
    length = _ID_TOKEN_LENGTH[version]
    _string(obj["idToken"], f"{field}.idToken", version, length)
    kind = obj["type"]
    if version is OcppVersion.V201:
        if kind not in ID_TOKEN_TYPES_V201:
            raise PayloadError(
                f"{kind!r} is not an IdTokenEnumType value; expected one of "
                f"{sorted(ID_TOKEN_TYPES_V201)}",
                field=f"{field}.type",
                rule=f"{_rule(version)}: enum",
            )
    else:
        _string(kind, f"{field}.type", version, 20)
    if "customData" in obj:
        _custom_data(obj["customData"], f"{field}.customData", version)
    if "additionalInfo" in obj:
        infos = obj["additionalInfo"]
        if not isinstance(infos, list) or not infos:
            raise PayloadError(
                "expected a non-empty array",
                field=f"{field}.additionalInfo",
                rule=f"{_rule(version)}: minItems 1",
            )
        for i, info in enumerate(infos):
            where = f"{field}.additionalInfo[{i}]"
            info = _object(info, where, version)
            _keys(
                info,
                frozenset({"additionalIdToken", "type", "customData"}),
                ("additionalIdToken", "type"),
                where,
                version,
            )
            _string(info["additionalIdToken"], f"{where}.additionalIdToken", version, length)
            _string(info["type"], f"{where}.type", version, 50)
            if "customData" in info:
                _custom_data(info["customData"], f"{where}.customData", version)
    return _frozen(obj, field)


def _v2(version: OcppVersion | str) -> OcppVersion:
    v = parse_version(version)
    if not v.is_v2:
        raise VersionError(
            "OCPP 1.6 has RemoteStartTransaction, not RequestStartTransaction "
            "(read_remote_start_transaction)",
            field="version",
        )
    return v


def read_remote_start_transaction(payload: Any) -> RemoteStartTransactionRequest:
    """Read an OCPP 1.6 ``RemoteStartTransaction.req`` payload.

    Raises :class:`~ocpp_schedule.PayloadError` naming the field for an unknown key, a
    ``null``, a wrong type, a missing ``idTag``, an ``idTag`` over 20 characters, or a
    ``chargingProfile`` that is not a 1.6 profile.
    """
    v = OcppVersion.V16
    obj = _object(payload, "", v)
    _keys(obj, frozenset({"connectorId", "idTag", "chargingProfile"}), ("idTag",), "", v)
    id_tag = _string(obj["idTag"], "idTag", v, 20)
    connector = obj.get("connectorId")
    profile = obj.get("chargingProfile")
    return RemoteStartTransactionRequest(
        id_tag=id_tag,
        connector_id=None if connector is None else _integer(connector, "connectorId", v),
        charging_profile=None
        if profile is None
        else read_charging_profile(profile, v, field="chargingProfile"),
    )


def read_request_start_transaction(
    payload: Any, version: OcppVersion | str = OcppVersion.V201
) -> RequestStartTransactionRequest:
    """Read an OCPP 2.0.1 or 2.1 ``RequestStartTransactionRequest`` payload.

    Raises :class:`~ocpp_schedule.PayloadError` naming the field for an unknown key, a
    ``null``, a wrong type, a missing ``idToken``/``remoteStartId``, an ``IdTokenType`` the
    version's schema refuses (2.0.1: ``idToken`` at most 36 characters and ``type`` one of
    :data:`ID_TOKEN_TYPES_V201`; 2.1: at most 255, and ``type`` a string of at most 20), a
    2.1 ``evseId`` below 1, or a ``chargingProfile`` that is not a profile of the version.
    """
    v = _v2(version)
    obj = _object(payload, "", v)
    allowed = frozenset(
        {"customData", "evseId", "groupIdToken", "idToken", "remoteStartId", "chargingProfile"}
    )
    _keys(obj, allowed, ("remoteStartId", "idToken"), "", v)
    evse = obj.get("evseId")
    if evse is not None:
        _integer(evse, "evseId", v)
        if v is OcppVersion.V21 and evse < 1:
            raise PayloadError(
                f"{evse} is below the minimum 1",
                field="evseId",
                rule=f"{_rule(v)}: minimum 1",
            )
    if "customData" in obj:
        _custom_data(obj["customData"], "customData", v)
    group = obj.get("groupIdToken")
    profile = obj.get("chargingProfile")
    return RequestStartTransactionRequest(
        id_token=_id_token(obj["idToken"], "idToken", v),
        remote_start_id=_integer(obj["remoteStartId"], "remoteStartId", v),
        evse_id=evse,
        charging_profile=None
        if profile is None
        else read_charging_profile(profile, v, field="chargingProfile"),
        group_id_token=None if group is None else _id_token(group, "groupIdToken", v),
        custom_data=None if "customData" not in obj else _frozen(obj["customData"], "customData"),
    )


# ------------------------------------------------------------------------ writing


def write_remote_start_transaction(request: RemoteStartTransactionRequest) -> dict[str, Any]:
    """The 1.6 ``RemoteStartTransaction.req`` payload, exactly as read (integers stay integers)."""
    out: dict[str, Any] = {}
    if request.connector_id is not None:
        out["connectorId"] = request.connector_id
    out["idTag"] = request.id_tag
    if request.charging_profile is not None:
        out["chargingProfile"] = write_charging_profile(request.charging_profile, OcppVersion.V16)
    return out


def write_request_start_transaction(
    request: RequestStartTransactionRequest, version: OcppVersion | str = OcppVersion.V201
) -> dict[str, Any]:
    """The 2.0.1/2.1 ``RequestStartTransactionRequest`` payload, exactly as read.

    Written in another 2.x version than read, the id tokens are checked against that
    version's schema: a 2.1 token 2.0.1 cannot carry (over 36 characters, a ``type`` outside
    the 2.0.1 enum) raises :class:`~ocpp_schedule.VersionError` naming the field.
    """
    v = _v2(version)
    out: dict[str, Any] = {}
    if request.evse_id is not None:
        out["evseId"] = request.evse_id
    out["remoteStartId"] = request.remote_start_id
    out["idToken"] = _writable_token(request.id_token, "idToken", v)
    if request.group_id_token is not None:
        out["groupIdToken"] = _writable_token(request.group_id_token, "groupIdToken", v)
    if request.charging_profile is not None:
        out["chargingProfile"] = write_charging_profile(request.charging_profile, v)
    if request.custom_data is not None:
        out["customData"] = _thaw(request.custom_data)
    if v is OcppVersion.V21 and request.evse_id is not None and request.evse_id < 1:
        raise VersionError(
            f"evseId {request.evse_id}: OCPP 2.1 requires evseId >= 1",
            field="evseId",
            rule="OCPP 2.1 schema: minimum 1",
        )
    return out


def _writable_token(token: Mapping[str, Any], field: str, version: OcppVersion) -> dict[str, Any]:
    data: dict[str, Any] = _thaw(token) if isinstance(token, JsonObject) else dict(token)
    try:
        _id_token(data, field, version)
    except PayloadError as exc:
        raise VersionError(
            f"cannot be written in OCPP {version.value}: {exc.message}",
            field=exc.field,
            rule=exc.rule,
        ) from None
    return data


# ------------------------------------------------------------------------ station side


class RemoteStartReason(StrEnum):
    """Why the station rejects a start request for its profile, before the K01 rules run."""

    NOT_TX_PROFILE = "RemoteStartNotTxProfile"
    """The profile's purpose is not TxProfile (F01.FR.09; 1.6 §5.11)."""
    TRANSACTION_ID_SET = "RemoteStartTransactionIdSet"
    """The profile names a transaction (F01.FR.11; 1.6 errata)."""
    NO_EVSE = "RemoteStartNoEvse"
    """No EVSE is named, and the caller did not say which the station would choose
    (F01.FR.07; 1.6 §5.11: the station MAY reject a request without one)."""

    @property
    def reason_code(self) -> str:
        """The 2.x ``statusInfo.reasonCode`` (F01.FR.26 names ``InvalidProfile``)."""
        return "MissingParam" if self is RemoteStartReason.NO_EVSE else "InvalidProfile"


@dataclass(frozen=True)
class RemoteStartResult:
    """The station's decision on the profile part of a start request.

    ``accepted`` False: the station answers Rejected, whatever else it would decide.
    ``accepted`` True: the profile does not make it reject; it may still reject for reasons
    outside smart charging (an occupied or unavailable EVSE, F01.FR.23/24), which this
    library does not judge. ``profile_ignored`` is True when the station does not support
    Smart Charging and ignores the profile (F01.FR.12), or when there is none.
    ``reason`` is a :class:`RemoteStartReason` or the K01 :class:`RejectionReason`;
    ``replaced`` the ids an installed profile replaced.
    """

    accepted: bool
    profile_ignored: bool = False
    reason: RemoteStartReason | RejectionReason | None = None
    rule: str | None = None
    message: str = ""
    replaced: tuple[int, ...] = ()

    @property
    def status(self) -> str:
        """``Accepted`` or ``Rejected``, as in the response payload."""
        return "Accepted" if self.accepted else "Rejected"

    def __str__(self) -> str:
        if self.accepted:
            return "Accepted (profile ignored)" if self.profile_ignored else "Accepted"
        code = self.reason.value if self.reason else ""
        return f"Rejected: {code} ({self.rule}): {self.message}"

    def to_payload(self, version: OcppVersion | str) -> dict[str, Any]:
        """The response payload (1.6 ``RemoteStartTransaction.conf``, 2.x with ``statusInfo``)."""
        return status_payload(self.status, self.reason, self.rule, self.message, version)


_PROVISIONAL_START = datetime(1970, 1, 1, tzinfo=UTC)
"""The start given to the provisional transaction of :func:`check_remote_start`; no
SetChargingProfile rule reads a transaction's start."""


def _check_version(request: RemoteStartRequest, state: StationState) -> None:
    """A request of the station's version, read or built: else a typed error, not a crash."""
    if not isinstance(request, RemoteStartTransactionRequest | RequestStartTransactionRequest):
        raise QueryError(
            "expected a RemoteStartTransactionRequest (1.6) or a RequestStartTransactionRequest "
            f"(2.x), got {type(request).__name__}",
            field="request",
        )
    if not isinstance(state, StationState):
        raise QueryError("expected a StationState", field="state")
    if isinstance(request, RemoteStartTransactionRequest) != (state.version is OcppVersion.V16):
        name = type(request).__name__
        raise VersionError(
            f"a {name} is not a request of an OCPP {state.version.value} station",
            field="request",
        )


def _pre_rules(request: RemoteStartRequest, profile: ChargingProfile) -> RemoteStartResult | None:
    """The start-request rules on the profile (F01.FR.09/11, 1.6 §5.11 + errata), or None."""
    v16 = isinstance(request, RemoteStartTransactionRequest)
    if profile.charging_profile_purpose is not _TX:
        return RemoteStartResult(
            False,
            reason=RemoteStartReason.NOT_TX_PROFILE,
            rule="OCPP 1.6 §5.11" if v16 else "F01.FR.09",
            message=f"the profile of a start request must be a TxProfile, not "
            f"{profile.charging_profile_purpose.value}",
        )
    if profile.transaction_id is not None:
        return RemoteStartResult(
            False,
            reason=RemoteStartReason.TRANSACTION_ID_SET,
            rule="OCPP 1.6 §5.11 (errata)" if v16 else "F01.FR.11",
            message="the profile of a start request must not name a transaction "
            f"(transactionId {profile.transaction_id!r}); the station binds it to the one "
            "it starts",
        )
    return None


def _from_install(result: SetChargingProfileResult) -> RemoteStartResult:
    """The SetChargingProfile rules' answer as the start request's."""
    return RemoteStartResult(
        result.accepted,
        reason=result.reason,
        rule=result.rule,
        message=result.message,
        replaced=result.replaced,
    )


def _provisional_id(state: StationState) -> str:
    taken = {tx.id for tx in state.transactions}
    candidate = "remote-start"
    while candidate in taken:
        candidate += "'"
    return candidate


def check_remote_start(
    store: ProfileStore,
    request: RemoteStartRequest,
    state: StationState,
    *,
    smart_charging: bool = True,
    evse_id: int | None = None,
) -> RemoteStartResult:
    """Whether the station rejects a start request for its profile; nothing is installed.

    ``smart_charging`` says whether the station supports Smart Charging (1.6: the
    SmartCharging feature profile; 2.x: ``SmartChargingCtrlr.Enabled``); without it the
    profile is ignored and the answer is Accepted (F01.FR.12; 1.6 §5.11). ``evse_id`` is the
    EVSE the station would choose when the request names none (F01.FR.07); naming a
    different one than the request raises :class:`~ocpp_schedule.QueryError`.

    With a profile: Rejected when it is not a TxProfile (F01.FR.09), names a transaction
    (F01.FR.11), or no EVSE is known; else the answer of every SetChargingProfile rule for
    the profile on that EVSE, bound to the transaction the request starts: the one already
    running there (whose id a 2.x station returns in the response) or a new one (F01.FR.26).
    """
    _check_version(request, state)
    profile = request.charging_profile
    if profile is None or not smart_charging:
        return RemoteStartResult(True, profile_ignored=True)
    early = _pre_rules(request, profile)
    if early is not None:
        return early
    evse = _evse(request, evse_id)
    if evse is None:
        return RemoteStartResult(
            False,
            reason=RemoteStartReason.NO_EVSE,
            rule="OCPP 1.6 §5.11" if state.version is OcppVersion.V16 else "F01.FR.07",
            message="the request names no EVSE to judge its TxProfile on; pass evse_id, the "
            "EVSE the station would choose",
        )
    probe_state = state
    bound = profile
    if evse > 0:  # an EVSE <= 0 is rejected by the placement rules (K01.FR.16, K01.FR.28)
        active = state.transaction_on(evse)
        if active is None:
            active = Transaction(_provisional_id(state), evse, _PROVISIONAL_START)
            probe_state = state.with_transaction(active)
        if state.version.is_v2:
            bound = profile.model_copy(update={"transaction_id": active.id})
    request_k01 = SetChargingProfileRequest(evse_id=evse, charging_profile=bound)
    _, result = install(store, request_k01, probe_state)
    return _from_install(result)


def _evse(request: RemoteStartRequest, evse_id: int | None) -> int | None:
    named = request.evse_id
    if named is not None and evse_id is not None and named != evse_id:
        raise QueryError(
            f"the request names EVSE {named}; evse_id {evse_id} is only for a request that "
            "names none",
            field="evse_id",
        )
    return named if named is not None else evse_id


_INTEGER_TEXT = re.compile(r"0|-?[1-9][0-9]*")


def install_remote_start(
    store: ProfileStore,
    request: RemoteStartRequest,
    state: StationState,
    transaction: Transaction,
    *,
    now: datetime | int | None = None,
    smart_charging: bool = True,
) -> tuple[ProfileStore, RemoteStartResult]:
    """Install the request's profile on the transaction it started (F01.FR.10; 1.6 §5.11).

    ``transaction`` is the started transaction: its id, its EVSE (the request's, or the one
    the station chose) and its start. The profile is installed through
    :func:`~ocpp_schedule.install` with ``transactionId`` set to the transaction's and the
    transaction active, so every SetChargingProfile rule is judged again against the store
    as it is at the start. Returns the new store and the decision; a rejection (or an ignored
    profile: F01.FR.12, or none) leaves the store as it was. ``now`` stamps a Dynamic
    profile's ``dynUpdateTime`` as :func:`~ocpp_schedule.install` does (default: the
    transaction's start). The caller makes the transaction active in its own state
    (``state.with_transaction(transaction)``).

    Raises :class:`~ocpp_schedule.QueryError` when the transaction runs on another EVSE
    than the request names, or when a 1.6 transaction id is not an integer.
    """
    _check_version(request, state)
    if not isinstance(transaction, Transaction):
        raise QueryError("expected a Transaction", field="transaction")
    if request.evse_id is not None and request.evse_id != transaction.evse_id:
        raise QueryError(
            f"the request starts a transaction on EVSE {request.evse_id}, not "
            f"{transaction.evse_id}",
            field="transaction.evse_id",
        )
    if state.version is OcppVersion.V16 and _INTEGER_TEXT.fullmatch(transaction.id) is None:
        raise QueryError(
            f"OCPP 1.6 transaction ids are integers; {transaction.id!r} is not",
            field="transaction.id",
        )
    profile = request.charging_profile
    if profile is None or not smart_charging:
        return store, RemoteStartResult(True, profile_ignored=True)
    early = _pre_rules(request, profile)
    if early is not None:
        return store, early
    bound = profile.model_copy(update={"transaction_id": transaction.id})
    request_k01 = SetChargingProfileRequest(evse_id=transaction.evse_id, charging_profile=bound)
    new_store, result = install(
        store,
        request_k01,
        state.with_transaction(transaction),
        now=transaction.start if now is None else now,
    )
    return new_store, _from_install(result)


# ------------------------------------------------------------------------ CSMS side


def build_remote_start(
    profile: ChargingProfile | None,
    version: OcppVersion | str,
    *,
    id_token: str | Mapping[str, Any],
    id_token_type: str = "Central",
    evse_id: int | None = None,
    remote_start_id: int | None = None,
    group_id_token: Mapping[str, Any] | None = None,
    custom_data: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A valid start request payload carrying ``profile`` (CSMS side).

    1.6: ``RemoteStartTransaction.req`` with ``idTag`` = ``id_token`` and ``connectorId`` =
    ``evse_id``. 2.x: ``RequestStartTransactionRequest``; ``id_token`` is the ``idToken``
    text (with ``id_token_type``) or a whole ``IdTokenType`` object, and ``remote_start_id``
    is required. The payload is read back with the version's reader before it is returned.

    Raises :class:`~ocpp_schedule.RemoteStartError` naming the field and rule for a profile
    that is not a TxProfile (F01.FR.09; 1.6 §5.11) or carries a ``transactionId``
    (F01.FR.11; 1.6 errata), an ``evse_id`` below 1, a missing 2.x ``remote_start_id`` or a
    1.6 one; :class:`~ocpp_schedule.PayloadError` for a token or ``customData`` the schema
    refuses; :class:`~ocpp_schedule.VersionError` for a profile the version cannot carry.
    """
    v = parse_version(version)
    if profile is not None:
        _refuse_profile(profile, v)
    if evse_id is not None and (
        isinstance(evse_id, bool) or not isinstance(evse_id, int) or evse_id < 1
    ):
        raise RemoteStartError(
            f"evse_id must be an integer >= 1, not {evse_id!r}",
            field="connectorId" if v is OcppVersion.V16 else "evseId",
            rule="OCPP 1.6 §5.11"
            if v is OcppVersion.V16
            else "RequestStartTransactionRequest.evseId > 0",
        )
    payload: dict[str, Any] = {}
    if evse_id is not None:
        payload["connectorId" if v is OcppVersion.V16 else "evseId"] = evse_id
    if v is OcppVersion.V16:
        if remote_start_id is not None or group_id_token is not None or custom_data is not None:
            raise RemoteStartError(
                "OCPP 1.6 RemoteStartTransaction has no remoteStartId, groupIdToken or customData",
                field="remote_start_id"
                if remote_start_id is not None
                else "group_id_token"
                if group_id_token is not None
                else "custom_data",
                rule="OCPP 1.6 schema",
            )
        if not isinstance(id_token, str):
            raise RemoteStartError("OCPP 1.6 idTag is text", field="idTag", rule="OCPP 1.6 schema")
        payload["idTag"] = id_token
        if profile is not None:
            payload["chargingProfile"] = write_charging_profile(profile, v)
        read_remote_start_transaction(payload)
        return payload
    if remote_start_id is None:
        raise RemoteStartError(
            "a RequestStartTransactionRequest needs a remoteStartId",
            field="remoteStartId",
            rule=f"OCPP {v.value} schema: required",
        )
    payload["remoteStartId"] = remote_start_id
    payload["idToken"] = (
        {"idToken": id_token, "type": id_token_type}
        if isinstance(id_token, str)
        else _thaw(id_token)
    )
    if group_id_token is not None:
        payload["groupIdToken"] = _thaw(group_id_token)
    if profile is not None:
        payload["chargingProfile"] = write_charging_profile(profile, v)
    if custom_data is not None:
        payload["customData"] = _thaw(custom_data)
    read_request_start_transaction(payload, v)
    return payload


def _refuse_profile(profile: ChargingProfile, version: OcppVersion) -> None:
    v16 = version is OcppVersion.V16
    if not isinstance(profile, ChargingProfile):
        raise RemoteStartError("expected a ChargingProfile", field="chargingProfile")
    if profile.charging_profile_purpose is not _TX:
        raise RemoteStartError(
            f"the profile of a start request must be a TxProfile, not "
            f"{profile.charging_profile_purpose.value}",
            field="chargingProfile.chargingProfilePurpose",
            rule="OCPP 1.6 §5.11" if v16 else "F01.FR.09",
        )
    if profile.transaction_id is not None:
        raise RemoteStartError(
            "the profile of a start request must not name a transaction; the station binds "
            "it to the one it starts",
            field="chargingProfile.transactionId",
            rule="OCPP 1.6 §5.11 (errata)" if v16 else "F01.FR.11",
        )

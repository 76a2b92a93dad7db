"""Adapters to the ``ocpp`` package (mobilityhouse): its call and call_result objects.

``pip install 'ocpp-schedule[ocpp]'`` installs the package. Importing this
module does not import it: the first conversion does, and raises
:class:`MissingExtraError` (an :class:`ImportError` naming the extra) when it
is not installed. :class:`CompositeQuery` and the answer classes work without it.

For each of SetChargingProfile, ClearChargingProfile and GetCompositeSchedule,
in OCPP 1.6 (``ocpp.v16``), 2.0.1 (``ocpp.v201``) and 2.1 (``ocpp.v21``), there is a
``to_ocpp_*`` function that builds the package's object from the library's
model or result and a ``from_ocpp_*`` function that reads it back:

| the ocpp package | this library |
|---|---|
| `call.SetChargingProfile` | `SetChargingProfileRequest` |
| `call_result.SetChargingProfile` | `SetChargingProfileResult` (to), `StatusAnswer` |
| `call.ClearChargingProfile` | `ClearChargingProfileRequest` |
| `call_result.ClearChargingProfile` | `ClearChargingProfileResult` (to), `StatusAnswer` |
| `call.GetCompositeSchedule` | `CompositeQuery` |
| `call_result.GetCompositeSchedule` | `CompositeSchedule` (to), `CompositeAnswer` |
| `call.RemoteStartTransaction` (1.6) | `RemoteStartTransactionRequest` |
| `call.RequestStartTransaction` (2.x) | `RequestStartTransactionRequest` |
| `call_result` of either | `RemoteStartResult` (to), `StatusAnswer` |

How the package maps a message, and so how these adapters do: a message is a
dataclass whose fields are the payload's top-level keys in snake_case. Nested
objects are the package's ``datatypes`` dataclasses or plain dicts; what the
package *receives* is always plain dicts with every key turned to snake_case
(``ocpp.charge_point.camel_to_snake_case``), which is also what a handler
decorated with ``@on(...)`` gets as keyword arguments. To send, the package
turns dataclasses into dicts, drops ``None`` values and turns keys back with
``snake_to_camel_case``. Where schema validation needs it, it parses OCPP 1.6
numbers as :class:`decimal.Decimal` (SetChargingProfile requests,
GetCompositeSchedule responses).

So ``from_ocpp_*`` accepts a message object *or* the keyword arguments a
handler received (then ``version`` is required), rebuilds the exact JSON the
package puts on the wire (enums as their values, decimals as floats) and reads
it with the library's strict readers; ``to_ocpp_*`` writes the library's JSON
and builds the message as the package would on receipt (nested values are
snake_case dicts, which carry every field, ``customData`` included, where the
package's datatypes have no field for it). Nothing is dropped on the way.

The package's key mapping is not reversible for every key: a vendor key such
as ``my_key`` in ``customData`` reaches the other side as ``myKey``.
``to_ocpp_*`` raises :class:`~ocpp_schedule.PayloadError` naming such a key
instead of letting it change silently.

OCPP 2.1 (docs/semantics.md V21-30). The 2.1 schemas have keys whose case the
package's mapping does not bring back: on receipt ``limit_L2``, ``limit_L3``,
``dischargeLimit_L2``/``_L3``, ``setpoint_L2``/``_L3``,
``setpointReactive_L2``/``_L3`` become the dataclass fields ``limit_l2``,
``limit_l3``, ``discharge_limit_l2``, ... (``ocpp.v21.datatypes.
ChargingSchedulePeriodType``), ``limitAtSoC.soc`` stays ``soc``
(``LimitAtSoCType.soc``) and the price schedules' ``priceScheduleID`` and
``taxRuleID`` become ``price_schedule_id`` and ``tax_rule_id``; the package's
``snake_to_camel_case`` turns them back into ``limitL2``, ``SoC``,
``priceScheduleId``, ``taxRuleId``, which the 2.1 schemas do not have there
(``priceScheduleId`` is right in ``priceLevelSchedule``, wrong in
``absolutePriceSchedule``). These
adapters map them by name (:data:`V21_KEYS`): ``to_ocpp_*`` builds the
dataclass the package would build on receipt (``limit_l2``, ``soc``), and
``from_ocpp_*`` and :func:`ocpp_payload` give the schema's keys back, so a 2.1
message reads and writes back exactly. Outside ``customData`` only; a vendor
key is carried by the package's own mapping, or refused.

The quirk that stays on the package's side: its own send path
(``ChargePoint.call`` for a call, a handler's return value for a
call_result) writes ``limitL2``/``SoC``, and its schema validation then
refuses the message (``FormatViolationError``: additional properties), or with
``skip_schema_validation`` sends keys the other side does not know. A 2.1
message *without* these keys (no per-phase values, no ``limitAtSoC``, no price
schedule) goes through unchanged. To send one with them through the package,
send the JSON of :func:`ocpp_payload` yourself, e.g.
``ocpp.messages.Call(unique_id, action, ocpp_payload(message)).to_json()``.
Receiving is not affected (the package validates the JSON before renaming).
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any, ClassVar, Literal, Protocol, TypeAlias, overload

from ..engine._answers import composite_response
from ..engine._composite import CompositePeriod, CompositeSchedule, composite_schedule
from ..errors import PayloadError, QueryError, VersionError
from ..station._clearing import (
    ClearChargingProfileRequest,
    ClearChargingProfileResult,
    read_clear_charging_profile,
    write_clear_charging_profile,
)
from ..station._config import StationConfig
from ..station._get_profiles import (
    GetChargingProfilesRequest,
    GetChargingProfilesResponse,
    GetChargingProfilesResult,
    ReportChargingProfilesRequest,
    read_get_charging_profiles,
    read_get_charging_profiles_response,
    read_report_charging_profiles,
    write_get_charging_profiles,
    write_get_charging_profiles_response,
    write_report_charging_profiles,
)
from ..station._remote_start import (
    RemoteStartRequest,
    RemoteStartResult,
    RemoteStartTransactionRequest,
    RequestStartTransactionRequest,
    read_remote_start_transaction,
    read_request_start_transaction,
    write_remote_start_transaction,
    write_request_start_transaction,
)
from ..station._rules import RejectionReason, SetChargingProfileResult
from ..station._store import InstalledProfile, ProfileStore, Transaction
from ..wire._answers import rejected_composite_response
from ..wire._enums import ChargingRateUnit, OcppVersion
from ..wire._models import MAX_JSON_DEPTH, JsonObject, SetChargingProfileRequest, _thaw
from ..wire._payloads import parse_version, read_set_charging_profile, write_set_charging_profile
from ..wire._timestamps import parse_timestamp, to_epoch
from ._ev_needs import (
    NotifyEVChargingNeedsRequest,
    NotifyEVChargingNeedsResponse,
    read_notify_ev_charging_needs,
    read_notify_ev_charging_needs_response,
    write_notify_ev_charging_needs,
    write_notify_ev_charging_needs_response,
)
from ._ev_schedule import (
    EvScheduleCheck,
    NotifyEVChargingScheduleRequest,
    NotifyEVChargingScheduleResponse,
    read_notify_ev_charging_schedule,
    read_notify_ev_charging_schedule_response,
    write_notify_ev_charging_schedule,
    write_notify_ev_charging_schedule_response,
)
from ._phases import all_phase_limit

__all__ = [
    "SUPPORTED_VERSIONS",
    "V21_KEYS",
    "CompositeAnswer",
    "CompositeQuery",
    "MAX_MESSAGE_DEPTH",
    "MissingExtraError",
    "StatusAnswer",
    "from_ocpp_clear_charging_profile",
    "from_ocpp_clear_charging_profile_result",
    "from_ocpp_get_composite_schedule",
    "from_ocpp_get_composite_schedule_result",
    "from_ocpp_remote_start",
    "from_ocpp_remote_start_result",
    "from_ocpp_set_charging_profile",
    "from_ocpp_set_charging_profile_result",
    "OcppCall",
    "OcppCallResult",
    "OcppMessage",
    "ocpp_message",
    "ocpp_payload",
    "query_reason_code",
    "to_ocpp_clear_charging_profile",
    "to_ocpp_clear_charging_profile_result",
    "to_ocpp_get_composite_schedule",
    "to_ocpp_get_composite_schedule_result",
    "to_ocpp_remote_start",
    "to_ocpp_remote_start_result",
    "to_ocpp_set_charging_profile",
    "to_ocpp_set_charging_profile_result",
    "from_ocpp_get_charging_profiles",
    "from_ocpp_get_charging_profiles_result",
    "from_ocpp_notify_ev_charging_needs",
    "from_ocpp_notify_ev_charging_needs_result",
    "from_ocpp_notify_ev_charging_schedule",
    "from_ocpp_notify_ev_charging_schedule_result",
    "from_ocpp_report_charging_profiles",
    "to_ocpp_get_charging_profiles",
    "to_ocpp_get_charging_profiles_result",
    "to_ocpp_notify_ev_charging_needs",
    "to_ocpp_notify_ev_charging_needs_result",
    "to_ocpp_notify_ev_charging_schedule",
    "to_ocpp_notify_ev_charging_schedule_result",
    "to_ocpp_report_charging_profiles",
    "to_ocpp_report_charging_profiles_result",
]

Kind = Literal["call", "call_result"]


class OcppCall(Protocol):
    """A ``call`` object of the ocpp package (a dataclass of ``ocpp.v16.call``,
    ``ocpp.v201.call`` or ``ocpp.v21.call``), as ``to_ocpp_*`` builds it for
    ``ChargePoint.call``.

    The package ships no type information, so its classes are ``Any`` to a type
    checker; this protocol (a dataclass: it has ``__dataclass_fields__``) is the
    precise type the adapters promise instead, with no ``Any`` reaching the caller.
    """

    __dataclass_fields__: ClassVar[Mapping[str, object]]


class OcppCallResult(Protocol):
    """A ``call_result`` object of the ocpp package (a dataclass of ``ocpp.v16.call_result``,
    ``ocpp.v201.call_result`` or ``ocpp.v21.call_result``): what a handler returns and
    ``ChargePoint.call`` gives back. Typed as :class:`OcppCall` is, for the same reason."""

    __dataclass_fields__: ClassVar[Mapping[str, object]]


OcppMessage: TypeAlias = OcppCall | OcppCallResult | Mapping[str, object]
"""What ``from_ocpp_*`` reads: a message object of the package, or the keyword arguments a
handler decorated with ``@on(...)`` received (then ``version`` is required)."""

_PACKAGES = {OcppVersion.V16: "v16", OcppVersion.V201: "v201", OcppVersion.V21: "v21"}
SUPPORTED_VERSIONS = (OcppVersion.V16, OcppVersion.V201, OcppVersion.V21)
"""The OCPP versions the ``to_ocpp_*`` / ``from_ocpp_*`` functions convert."""

_EXTRA = "pip install 'ocpp-schedule[ocpp]'"


class MissingExtraError(ImportError):
    """The ``ocpp`` package is not installed; the message names the extra that installs it."""


# ------------------------------------------------------------------ the package, lazily


def _import(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if missing == "ocpp" or missing.startswith("ocpp."):
            raise MissingExtraError(
                f"ocpp_schedule.tools.adapters needs the 'ocpp' package, which the optional extra "
                f"'ocpp' installs: {_EXTRA} ({exc})",
                name=exc.name,
            ) from exc
        raise


V21_KEYS = {
    "limitL2": "limit_L2",
    "limitL3": "limit_L3",
    "dischargeLimitL2": "dischargeLimit_L2",
    "dischargeLimitL3": "dischargeLimit_L3",
    "setpointL2": "setpoint_L2",
    "setpointL3": "setpoint_L3",
    "setpointReactiveL2": "setpointReactive_L2",
    "setpointReactiveL3": "setpointReactive_L3",
    "SoC": "soc",
    "taxRuleId": "taxRuleID",
}
"""OCPP 2.1 keys the ocpp package's ``snake_to_camel_case`` gets wrong, to the schema's key.

Every key of the 2.1 SetChargingProfile, ClearChargingProfile and
GetCompositeSchedule schemas whose snake_case (the package's dataclass field,
e.g. ``limit_l2``) its mapping turns into another key (``limitL2``). One more
depends on where it is: ``price_schedule_id`` is ``priceScheduleID`` directly
in ``absolutePriceSchedule`` and ``priceScheduleId`` (the package's spelling)
in ``priceLevelSchedule``.
"""

_ABSOLUTE_PRICE = frozenset({"absolutePriceSchedule", "absolute_price_schedule"})

_CUSTOM = frozenset({"customData", "custom_data"})


def _package_version(version: OcppVersion | str) -> OcppVersion:
    v = parse_version(version)
    if v not in _PACKAGES:
        raise VersionError(
            f"the ocpp adapters convert OCPP 1.6, 2.0.1 and 2.1, not {v.value}", field="version"
        )
    return v


def _module(version: OcppVersion, kind: Kind) -> Any:
    return _import(f"ocpp.{_PACKAGES[version]}.{kind}")


def _cases() -> tuple[Any, Any]:
    """The package's own ``camel_to_snake_case`` and ``snake_to_camel_case``."""
    cp = _import("ocpp.charge_point")
    return cp.camel_to_snake_case, cp.snake_to_camel_case


def _camel_key(
    key: str, version: OcppVersion | None, custom: bool, parent: str, snake_to_camel: Any
) -> str:
    """One key as the package turns it to camelCase; in 2.1, outside customData, the
    schema's key where the package gets it wrong (:data:`V21_KEYS`; ``parent`` is the key
    of the enclosing object)."""
    camel: str = next(iter(snake_to_camel({key: None})))
    if version is not OcppVersion.V21 or custom:
        return camel
    if camel == "priceScheduleId" and parent in _ABSOLUTE_PRICE:
        return "priceScheduleID"
    return V21_KEYS.get(camel, camel)


def _to_camel(
    data: Any,
    version: OcppVersion | None,
    snake_to_camel: Any,
    custom: bool = False,
    parent: str = "",
) -> Any:
    """Keys to camelCase as the package does, with the 2.1 keys it gets wrong mapped back."""
    if isinstance(data, dict):
        return {
            _camel_key(key, version, custom, parent, snake_to_camel): _to_camel(
                item, version, snake_to_camel, custom or key in _CUSTOM, key
            )
            for key, item in data.items()
        }
    if isinstance(data, list):
        return [_to_camel(item, version, snake_to_camel, custom, parent) for item in data]
    return data


# ---------------------------------------------------------------------- generic mapping


MAX_MESSAGE_DEPTH = MAX_JSON_DEPTH + 8
"""How deep a message given to ``from_ocpp_*`` may nest (objects and arrays).

The deepest OCPP structure these messages have is 6 levels, plus what
``customData`` may carry (:data:`~ocpp_schedule.wire.MAX_JSON_DEPTH`).
Checked before anything walks the message recursively (docs/robustness.md).
"""


def _check_python_input(message: Any) -> None:
    """Refuse, before any recursive walk, what no JSON can carry but Python callers can.

    A :class:`PayloadError` naming the place for: nesting deeper than
    :data:`MAX_MESSAGE_DEPTH`, an object key that is not a string, a
    signalling ``Decimal('sNaN')`` (which no float conversion takes).
    """
    stack: list[tuple[Any, str, int]] = [(message, "", 1)]
    while stack:
        value, where, depth = stack.pop()
        children: Iterable[tuple[Any, Any]]
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            children = ((f.name, getattr(value, f.name)) for f in dataclasses.fields(value))
        elif isinstance(value, Mapping):
            children = value.items()
        elif isinstance(value, list | tuple):
            children = enumerate(value)
        else:
            if isinstance(value, Decimal) and value.is_snan():
                raise PayloadError(
                    "a signalling NaN is not a number any OCPP field takes",
                    field=where or None,
                    rule="OCPP schema: number",
                )
            continue
        if depth > MAX_MESSAGE_DEPTH:
            raise PayloadError(
                f"the message nests deeper than {MAX_MESSAGE_DEPTH} levels",
                field=where or None,
                rule="docs/robustness.md (MAX_MESSAGE_DEPTH)",
            )
        sequence = isinstance(value, list | tuple)
        for key, item in children:
            if not sequence and not isinstance(key, str):
                raise PayloadError(
                    f"object keys are strings; got {type(key).__name__} {key!r}",
                    field=where or None,
                    rule="JSON: object member names are strings",
                )
            path = f"{where}[{key}]" if sequence else (f"{where}.{key}" if where else str(key))
            stack.append((item, path, depth + 1))


def _plain(value: Any) -> Any:
    """Dataclasses to dicts, enums to values, decimals to floats.

    A dataclass field holding ``None`` is an optional field not given and is left
    out; a ``None`` in a mapping or list is a JSON null and is kept.
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _plain(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if getattr(value, f.name) is not None
        }
    if isinstance(value, Mapping):
        # A null a handler received is a null the sender wrote: kept, so that the reader
        # refuses it (as JSON null) instead of taking it for an absent field (F26).
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return float(value)
    return value


def _version_of(message: Any) -> OcppVersion | None:
    """The version of an ocpp message object, from its module (``ocpp.v16.call``)."""
    parts = type(message).__module__.split(".")
    if len(parts) == 3 and parts[0] == "ocpp":
        for version, package in _PACKAGES.items():
            if parts[1] == package:
                return version
        raise VersionError(
            f"{type(message).__module__}.{type(message).__name__} is not an OCPP 1.6, 2.0.1 "
            "or 2.1 message",
            field="version",
        )
    return None


def _resolve(message: Any, version: OcppVersion | str | None) -> OcppVersion:
    if isinstance(message, Mapping):
        if version is None:
            raise VersionError(
                "give the OCPP version of a message passed as keyword arguments", field="version"
            )
        return _package_version(version)
    found = _version_of(message)
    if found is None:
        raise TypeError(
            f"expected an ocpp package message or a mapping, got {type(message).__name__}"
        )
    if version is not None and _package_version(version) is not found:
        raise VersionError(
            f"the message is OCPP {found.value}, not {parse_version(version).value}",
            field="version",
        )
    return found


def ocpp_payload(message: OcppMessage, version: OcppVersion | str | None = None) -> dict[str, Any]:
    """The JSON payload ``message`` stands for, as the OCPP schemas spell it.

    ``message`` is a call or call_result object, or the keyword arguments of a
    handler (snake_case keys; camelCase keys are kept as they are). Enum
    members become their values and decimals floats. Keys are turned to
    camelCase as the ocpp package does, except for OCPP 2.1 (``version``, or
    an ``ocpp.v21`` object), where the keys it gets wrong get the schema's
    spelling (:data:`V21_KEYS`: ``limit_l2`` is ``limit_L2``, not the
    package's ``limitL2``).
    """
    _, snake_to_camel = _cases()
    _check_python_input(message)
    v = parse_version(version) if version is not None else None
    if v is None and not isinstance(message, Mapping):
        v = _version_of(message)
    payload = _to_camel(_plain(message), v, snake_to_camel)
    if not isinstance(payload, dict):
        raise TypeError(f"expected a message or a mapping, got {type(message).__name__}")
    return payload


def _check_carried(
    value: Any,
    where: str,
    camel_to_snake: Any,
    snake_to_camel: Any,
    version: OcppVersion,
    custom: bool = False,
    parent: str = "",
) -> None:
    if value is None:
        raise PayloadError(
            "the ocpp package drops null values; leave the field out",
            field=where,
            rule="ocpp.charge_point.remove_nones",
        )
    if isinstance(value, Mapping):
        for key, item in value.items():
            path = f"{where}.{key}" if where else str(key)
            snake = next(iter(camel_to_snake({key: None})))
            back = _camel_key(snake, version, custom, parent, snake_to_camel)
            if back != key:
                raise PayloadError(
                    f"the ocpp package cannot carry the key {key!r}: its key mapping turns it "
                    f"into {back!r}",
                    field=path,
                    rule="ocpp.charge_point.camel_to_snake_case / snake_to_camel_case",
                )
            inner = custom or key in _CUSTOM
            _check_carried(item, path, camel_to_snake, snake_to_camel, version, inner, key)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_carried(
                item, f"{where}[{i}]", camel_to_snake, snake_to_camel, version, custom, parent
            )


@overload
def ocpp_message(
    kind: Literal["call"], action: str, payload: Mapping[str, Any], version: OcppVersion | str
) -> OcppCall: ...


@overload
def ocpp_message(
    kind: Literal["call_result"],
    action: str,
    payload: Mapping[str, Any],
    version: OcppVersion | str,
) -> OcppCallResult: ...


def ocpp_message(
    kind: Kind, action: str, payload: Mapping[str, Any], version: OcppVersion | str
) -> OcppCall | OcppCallResult:
    """The ocpp package's ``kind`` object for ``action`` with this JSON payload.

    Built as the package builds a message it receives: keys in snake_case,
    nested objects as dicts. Raises :class:`PayloadError` for a key the
    package's mapping would change, or a top-level key its class has no field for.
    """
    v = _package_version(version)
    camel_to_snake, snake_to_camel = _cases()
    _check_carried(payload, "", camel_to_snake, snake_to_camel, v)
    cls = getattr(_module(v, kind), action)  # the package's (untyped) dataclass
    fields = {f.name for f in dataclasses.fields(cls)}
    arguments = camel_to_snake(dict(payload))
    unknown = sorted(set(arguments) - fields)
    if unknown:
        raise PayloadError(
            f"the ocpp package's {kind}.{action} has no field {unknown[0]!r}",
            field=unknown[0],
            rule=f"ocpp.{_PACKAGES[v]}.{kind}.{action}",
        )
    message: OcppCall | OcppCallResult = cls(**arguments)
    return message


def _read(
    message: Any, kind: Kind, action: str, version: OcppVersion | str | None
) -> tuple[OcppVersion, dict[str, Any]]:
    v = _resolve(message, version)
    if not isinstance(message, Mapping):
        expected = f"ocpp.{_PACKAGES[v]}.{kind}.{action}"
        actual = f"{type(message).__module__}.{type(message).__name__}"
        if actual != expected:
            raise TypeError(f"expected {expected}, got {actual}")
    return v, ocpp_payload(message, v)


# --------------------------------------------------------------------- SetChargingProfile


def to_ocpp_set_charging_profile(
    request: SetChargingProfileRequest, version: OcppVersion | str
) -> OcppCall:
    """``call.SetChargingProfile`` of ``version`` carrying ``request``."""
    v = _package_version(version)
    return ocpp_message("call", "SetChargingProfile", write_set_charging_profile(request, v), v)


def from_ocpp_set_charging_profile(
    message: OcppMessage, version: OcppVersion | str | None = None
) -> SetChargingProfileRequest:
    """Read a ``call.SetChargingProfile`` (or a handler's keyword arguments).

    Raises :class:`PayloadError` exactly as
    :func:`~ocpp_schedule.read_set_charging_profile` does.
    """
    v, payload = _read(message, "call", "SetChargingProfile", version)
    return read_set_charging_profile(payload, v)


@dataclass(frozen=True)
class StatusAnswer:
    """A SetChargingProfile or ClearChargingProfile response as it travelled: its JSON.

    ``payload`` is the response payload (camelCase keys), kept whole; the
    properties read it.
    """

    payload: dict[str, Any]
    version: OcppVersion

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any], version: OcppVersion | str) -> StatusAnswer:
        """Check the shape of a response payload and keep it."""
        v = parse_version(version)
        _check_answer(payload, v, frozenset())
        return cls(dict(payload), v)

    @property
    def status(self) -> str:
        """``Accepted``, ``Rejected``, ``Unknown`` (clear), ``NotSupported`` (1.6)."""
        status: str = self.payload["status"]
        return status

    @property
    def accepted(self) -> bool:
        """True when the status is ``Accepted``."""
        return self.status == "Accepted"

    @property
    def reason_code(self) -> str | None:
        """2.x ``statusInfo.reasonCode``, if given."""
        return _status_info(self.payload, "reasonCode")

    @property
    def additional_info(self) -> str | None:
        """2.x ``statusInfo.additionalInfo``, if given."""
        return _status_info(self.payload, "additionalInfo")

    @property
    def reason(self) -> RejectionReason | None:
        """The library's rejection reason, when the station wrote ``additionalInfo`` as it does.

        This library's stations start ``additionalInfo`` with the
        :class:`~ocpp_schedule.RejectionReason` value (``DuplicateProfile
        (K01.FR.06): ...``); for any other text this is None.
        """
        info = self.additional_info
        if not info:
            return None
        head = info.split(" ", 1)[0]
        try:
            return RejectionReason(head)
        except ValueError:
            return None


def _status_info(payload: Mapping[str, Any], key: str) -> str | None:
    info = payload.get("statusInfo")
    if not isinstance(info, Mapping):
        return None
    value = info.get(key)
    return value if isinstance(value, str) else None


def _check_answer(payload: Any, version: OcppVersion, more: frozenset[str]) -> None:
    if not isinstance(payload, Mapping):
        raise PayloadError("a response payload is a JSON object")
    allowed = {"status"} | more | ({"statusInfo", "customData"} if version.is_v2 else set())
    unknown = sorted(set(payload) - allowed)
    if unknown:
        raise PayloadError(
            f"field {unknown[0]!r} is not part of this OCPP {version.value} response",
            field=unknown[0],
            rule=f"OCPP {version.value} schema: additionalProperties false",
        )
    if not isinstance(payload.get("status"), str):
        raise PayloadError("status must be a string", field="status")
    info = payload.get("statusInfo")
    if info is not None and not (
        isinstance(info, Mapping) and isinstance(info.get("reasonCode"), str)
    ):
        raise PayloadError("statusInfo needs a reasonCode string", field="statusInfo.reasonCode")


def _answer_payload(
    answer: StatusAnswer | SetChargingProfileResult | ClearChargingProfileResult,
    version: OcppVersion,
) -> dict[str, Any]:
    if isinstance(answer, StatusAnswer):
        if answer.version is not version:
            raise VersionError(
                f"the answer is OCPP {answer.version.value}, not {version.value}", field="version"
            )
        return answer.payload
    return answer.to_payload(version)


def to_ocpp_set_charging_profile_result(
    result: SetChargingProfileResult | StatusAnswer, version: OcppVersion | str
) -> OcppCallResult:
    """``call_result.SetChargingProfile`` of ``version`` for the station's answer."""
    v = _package_version(version)
    return ocpp_message("call_result", "SetChargingProfile", _answer_payload(result, v), v)


def from_ocpp_set_charging_profile_result(
    message: OcppMessage, version: OcppVersion | str | None = None
) -> StatusAnswer:
    """Read a ``call_result.SetChargingProfile`` (what ``ChargePoint.call`` returns)."""
    v, payload = _read(message, "call_result", "SetChargingProfile", version)
    return StatusAnswer.from_payload(payload, v)


# ------------------------------------------------------------------- ClearChargingProfile


def to_ocpp_clear_charging_profile(
    request: ClearChargingProfileRequest, version: OcppVersion | str
) -> OcppCall:
    """``call.ClearChargingProfile`` of ``version`` carrying ``request``."""
    v = _package_version(version)
    return ocpp_message("call", "ClearChargingProfile", write_clear_charging_profile(request, v), v)


def from_ocpp_clear_charging_profile(
    message: OcppMessage, version: OcppVersion | str | None = None
) -> ClearChargingProfileRequest:
    """Read a ``call.ClearChargingProfile`` (or a handler's keyword arguments), customData kept."""
    v, payload = _read(message, "call", "ClearChargingProfile", version)
    return read_clear_charging_profile(payload, v)


def to_ocpp_clear_charging_profile_result(
    result: ClearChargingProfileResult | StatusAnswer, version: OcppVersion | str
) -> OcppCallResult:
    """``call_result.ClearChargingProfile`` of ``version`` for the station's answer."""
    v = _package_version(version)
    return ocpp_message("call_result", "ClearChargingProfile", _answer_payload(result, v), v)


def from_ocpp_clear_charging_profile_result(
    message: OcppMessage, version: OcppVersion | str | None = None
) -> StatusAnswer:
    """Read a ``call_result.ClearChargingProfile``."""
    v, payload = _read(message, "call_result", "ClearChargingProfile", version)
    return StatusAnswer.from_payload(payload, v)


# ------------------------------------------------------------------- GetCompositeSchedule


def _int(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PayloadError("expected an integer", field=field, rule="OCPP schema")
    return value


@dataclass(frozen=True)
class CompositeQuery:
    """A GetCompositeSchedule request, version-neutral (1.6 ``connectorId`` is ``evse_id``).

    ``custom_data`` is 2.x ``customData``, kept verbatim. Works without the
    ``ocpp`` package.
    """

    evse_id: int
    duration: int
    charging_rate_unit: ChargingRateUnit | None = None
    custom_data: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.custom_data is not None and not isinstance(self.custom_data, JsonObject):
            # A frozen deep copy: the caller's dict may change afterwards (F19).
            try:
                frozen = JsonObject(self.custom_data)
            except (ValueError, TypeError, AttributeError) as exc:
                raise PayloadError(str(exc), field="customData") from None
            object.__setattr__(self, "custom_data", frozen)

    @classmethod
    def from_payload(cls, payload: Any, version: OcppVersion | str) -> CompositeQuery:
        """Read a GetCompositeSchedule request payload of ``version``."""
        v = parse_version(version)
        if not isinstance(payload, Mapping):
            raise PayloadError("a GetCompositeSchedule request is a JSON object")
        evse_key = "evseId" if v.is_v2 else "connectorId"
        allowed = {evse_key, "duration", "chargingRateUnit"} | (
            {"customData"} if v.is_v2 else set()
        )
        unknown = sorted(set(payload) - allowed)
        if unknown:
            raise PayloadError(
                f"field {unknown[0]!r} is not part of OCPP {v.value} GetCompositeSchedule",
                field=unknown[0],
                rule=f"OCPP {v.value} schema: additionalProperties false",
            )
        for key in (evse_key, "duration"):
            if key not in payload:
                raise PayloadError(
                    "required field is missing", field=key, rule=f"OCPP {v.value} schema"
                )
        unit = payload.get("chargingRateUnit")
        if unit is not None and unit not in ("A", "W"):
            raise PayloadError(
                f"{unit!r} is not a charging rate unit (A or W)", field="chargingRateUnit"
            )
        custom = payload.get("customData")
        if custom is not None and not isinstance(custom, Mapping):
            raise PayloadError("expected an object", field="customData")
        return cls(
            evse_id=_int(payload[evse_key], evse_key),
            duration=_int(payload["duration"], "duration"),
            charging_rate_unit=None if unit is None else ChargingRateUnit(unit),
            custom_data=None if custom is None else dict(custom),
        )

    def to_payload(self, version: OcppVersion | str) -> dict[str, Any]:
        """The GetCompositeSchedule request payload of ``version``."""
        v = parse_version(version)
        out: dict[str, Any] = {
            "evseId" if v.is_v2 else "connectorId": self.evse_id,
            "duration": self.duration,
        }
        if self.charging_rate_unit is not None:
            out["chargingRateUnit"] = self.charging_rate_unit.value
        if self.custom_data is not None:
            if not v.is_v2:
                raise VersionError("OCPP 1.6 has no customData", field="customData")
            out["customData"] = _thaw(self.custom_data)
        return out

    def compute(
        self,
        profiles: ProfileStore | Iterable[InstalledProfile],
        *,
        start: datetime | int,
        transactions: Transaction | Sequence[Transaction] | None = None,
        config: StationConfig | None = None,
    ) -> CompositeSchedule:
        """The composite schedule this query asks for, from ``start`` (the time of receipt).

        Without a requested unit, the answer is in A unless the station allows
        only W. Raises :class:`QueryError` for an EVSE the station does not have.
        """
        unit = self.charging_rate_unit
        if unit is None and config is not None:
            allowed = config.charging_schedule_allowed_charging_rate_unit
            unit = ChargingRateUnit.A if ChargingRateUnit.A in allowed else ChargingRateUnit.W
        return composite_schedule(
            profiles,
            evse_id=self.evse_id,
            start=start,
            duration=self.duration,
            unit=unit,
            transaction=transactions,
            config=config,
        )

    def answer(
        self,
        profiles: ProfileStore | Iterable[InstalledProfile],
        version: OcppVersion | str,
        *,
        start: datetime | int,
        transactions: Transaction | Sequence[Transaction] | None = None,
        config: StationConfig | None = None,
    ) -> CompositeAnswer:
        """The station's GetCompositeSchedule answer: Accepted with the schedule, or Rejected.

        Rejected for a query the station cannot answer, with the 2.x
        ``statusInfo`` saying why (:func:`query_reason_code`): ``UnknownEVSE``
        for an EVSE the station does not have (K08.FR.05; 1.6 §5.7),
        ``TooManyElements`` for an answer beyond the size bounds,
        ``OutOfRange`` for a window outside the calendar, ``InvalidValue``
        otherwise (a negative duration), each with the error's text as
        ``additionalInfo``; in 2.x also ``UnsupportedRateUnit`` for a unit the
        station does not allow (K08.FR.07). 1.6 has no such rule and answers
        in the unit asked.
        """
        v = parse_version(version)
        allowed = (config or StationConfig()).charging_schedule_allowed_charging_rate_unit
        unit = self.charging_rate_unit
        if v.is_v2 and unit is not None and unit not in allowed:
            return CompositeAnswer.rejected(v, "UnsupportedRateUnit")
        try:
            schedule = self.compute(profiles, start=start, transactions=transactions, config=config)
        except QueryError as exc:
            return CompositeAnswer.rejected(v, query_reason_code(exc), additional_info=str(exc))
        return CompositeAnswer.of(schedule, v)


def query_reason_code(error: QueryError) -> str:
    """The 2.x ``reasonCode`` (ReasonCodeEnumType) that says why a query was refused.

    ``UnknownEVSE`` only for an EVSE the station lacks (K08.FR.05);
    ``TooManyElements`` when the answer would exceed the documented size
    bounds; ``OutOfRange`` for a window outside 0001..9999; ``InvalidValue``
    for anything else (a negative duration, a malformed argument).
    """
    if error.rule == "K08.FR.05":
        return "UnknownEVSE"
    if error.rule == "docs/robustness.md":
        return "TooManyElements"
    if "window" in error.message:
        return "OutOfRange"
    return "InvalidValue"


@dataclass(frozen=True)
class CompositeAnswer(StatusAnswer):
    """A GetCompositeSchedule response as it travelled: its JSON, kept whole.

    The status properties are :class:`StatusAnswer`'s (``Accepted`` or ``Rejected``);
    :attr:`schedule` reads the answer as a :class:`~ocpp_schedule.CompositeSchedule`.
    Works without the ``ocpp`` package.
    """

    @classmethod
    def of(cls, schedule: CompositeSchedule, version: OcppVersion | str) -> CompositeAnswer:
        """The Accepted answer carrying ``schedule``."""
        v = parse_version(version)
        return cls(composite_response(schedule, v), v)

    @classmethod
    def rejected(
        cls, version: OcppVersion | str, reason_code: str = "", *, additional_info: str = ""
    ) -> CompositeAnswer:
        """A Rejected answer; 2.x carries ``reason_code`` as ``statusInfo.reasonCode``.

        ``additional_info`` (2.x ``statusInfo.additionalInfo``, cut to the
        schema's 512 characters) goes with a reason code only.
        """
        v = parse_version(version)
        payload = rejected_composite_response(v, reason_code)
        info = payload.get("statusInfo")
        if isinstance(info, dict) and additional_info:
            info["additionalInfo"] = additional_info[:512]
        return cls(payload, v)

    @classmethod
    def from_payload(cls, payload: Any, version: OcppVersion | str) -> CompositeAnswer:
        """Check the shape of a response payload and keep it (see :attr:`schedule`)."""
        v = parse_version(version)
        more = frozenset(
            {"schedule"} if v.is_v2 else {"connectorId", "scheduleStart", "chargingSchedule"}
        )
        _check_answer(payload, v, more)
        answer = cls(dict(payload), v)
        answer._read_schedule(check_only=True)
        return answer

    @property
    def schedule(self) -> CompositeSchedule | None:
        """The schedule the answer carries (None when it carries none).

        Read as the library reads time (whole seconds, T2); a period without
        ``numberPhases`` reads as 3 (what OCPP assumes); 1.6's
        ``minChargingRate`` is set on every period; ``sources`` are empty,
        since provenance does not travel. 1.6 answers with a
        ``chargingSchedule.startSchedule`` but no ``scheduleStart`` (written
        before errata 3.57) are read from ``startSchedule``.

        A 2.1 answer may have periods without ``limit`` (an operation mode that
        needs none): such an answer is read and written back as it is, but it is
        no limit schedule, and this raises :class:`PayloadError` naming the
        period's ``limit`` (docs/semantics.md V21-3).

        A 2.1 period with ``limit_L2``/``limit_L3`` gives ``limit`` for phase L1
        (§2.18); its :attr:`CompositePeriod.limit` is the all-phase limit the
        engine derives (V21-8, V21-31): the least phase in use in A, their sum
        in W, a missing L2 or L3 being L1's. The per-phase and other 2.1 values
        stay in :attr:`payload`.
        """
        return self._read_schedule()

    def _read_schedule(self, *, check_only: bool = False) -> CompositeSchedule | None:
        p = self.payload
        if self.version.is_v2:
            inner = p.get("schedule")
            if inner is None:
                return None
            where = "schedule"
            if not isinstance(inner, Mapping):
                raise PayloadError("expected an object", field=where)
            evse = _int(inner.get("evseId"), f"{where}.evseId")
            start_text = inner.get("scheduleStart")
            sched: Mapping[str, Any] = inner
        else:
            inner = p.get("chargingSchedule")
            if inner is None:
                return None
            where = "chargingSchedule"
            if not isinstance(inner, Mapping):
                raise PayloadError("expected an object", field=where)
            evse = _int(p.get("connectorId"), "connectorId")
            start_text = p.get("scheduleStart", inner.get("startSchedule"))
            sched = inner
        if start_text is None:
            raise PayloadError("the answer gives no start", field="scheduleStart")
        start = to_epoch(parse_timestamp(start_text, "scheduleStart"))
        duration = _int(sched.get("duration"), f"{where}.duration")
        unit_text = sched.get("chargingRateUnit")
        if unit_text not in ("A", "W"):
            raise PayloadError("expected A or W", field=f"{where}.chargingRateUnit")
        unit = ChargingRateUnit(unit_text)
        rate = sched.get("minChargingRate")
        min_rate = None if rate is None else _number(rate, f"{where}.minChargingRate")
        raw_periods = sched.get("chargingSchedulePeriod")
        if not isinstance(raw_periods, list) or not raw_periods:
            raise PayloadError(
                "expected a non-empty array", field=f"{where}.chargingSchedulePeriod"
            )
        periods = []
        for i, period in enumerate(raw_periods):
            p_where = f"{where}.chargingSchedulePeriod[{i}]"
            if not isinstance(period, Mapping):
                raise PayloadError("expected an object", field=p_where)
            if "limit" not in period and self.version is OcppVersion.V21:
                if check_only:
                    _int(period.get("startPeriod"), f"{p_where}.startPeriod")
                    _int(period.get("numberPhases", 3), f"{p_where}.numberPhases")
                    continue
                raise PayloadError(
                    "the station answered this period without a limit (2.1 operationMode "
                    f"{period.get('operationMode', 'ChargingOnly')}): the answer is no limit "
                    "schedule",
                    field=f"{p_where}.limit",
                    rule="docs/semantics.md V21-3",
                )
            phases = _int(period.get("numberPhases", 3), f"{p_where}.numberPhases")
            limit = _number(period.get("limit"), f"{p_where}.limit")
            if self.version is OcppVersion.V21:
                limit = all_phase_limit(
                    limit,
                    _optional_number(period, "limit_L2", p_where),
                    _optional_number(period, "limit_L3", p_where),
                    phases,
                    unit is ChargingRateUnit.W,
                )
            periods.append(
                CompositePeriod(
                    start_period=_int(period.get("startPeriod"), f"{p_where}.startPeriod"),
                    limit=limit,
                    number_phases=phases,
                    sources=(),
                    min_charging_rate=min_rate,
                )
            )
        return CompositeSchedule(evse, start, duration, unit, tuple(periods))


def _number(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PayloadError("expected a number", field=field, rule="OCPP schema")
    return float(value)


def _optional_number(period: Mapping[str, Any], key: str, where: str) -> float | None:
    return None if key not in period else _number(period[key], f"{where}.{key}")


def to_ocpp_get_composite_schedule(query: CompositeQuery, version: OcppVersion | str) -> OcppCall:
    """``call.GetCompositeSchedule`` of ``version`` carrying ``query``."""
    v = _package_version(version)
    return ocpp_message("call", "GetCompositeSchedule", query.to_payload(v), v)


def from_ocpp_get_composite_schedule(
    message: OcppMessage, version: OcppVersion | str | None = None
) -> CompositeQuery:
    """Read a ``call.GetCompositeSchedule`` (or a handler's keyword arguments)."""
    v, payload = _read(message, "call", "GetCompositeSchedule", version)
    return CompositeQuery.from_payload(payload, v)


def to_ocpp_get_composite_schedule_result(
    answer: CompositeSchedule | CompositeAnswer, version: OcppVersion | str
) -> OcppCallResult:
    """``call_result.GetCompositeSchedule`` of ``version``: a schedule (Accepted) or an answer."""
    v = _package_version(version)
    if isinstance(answer, CompositeSchedule):
        answer = CompositeAnswer.of(answer, v)
    elif answer.version is not v:
        raise VersionError(
            f"the answer is OCPP {answer.version.value}, not {v.value}", field="version"
        )
    return ocpp_message("call_result", "GetCompositeSchedule", answer.payload, v)


def from_ocpp_get_composite_schedule_result(
    message: OcppMessage, version: OcppVersion | str | None = None
) -> CompositeAnswer:
    """Read a ``call_result.GetCompositeSchedule`` (what ``ChargePoint.call`` returns)."""
    v, payload = _read(message, "call_result", "GetCompositeSchedule", version)
    return CompositeAnswer.from_payload(payload, v)


# ------------------------------------- GetChargingProfiles / ReportChargingProfiles (K09)
# 2.0.1 and 2.1 only: OCPP 1.6 has neither message (VersionError). Issue 15 item 3.


def to_ocpp_get_charging_profiles(
    request: GetChargingProfilesRequest, version: OcppVersion | str
) -> OcppCall:
    """``call.GetChargingProfiles`` carrying a GetChargingProfiles request (CSMS side)."""
    v = _package_version(version)
    return ocpp_message("call", "GetChargingProfiles", write_get_charging_profiles(request, v), v)


def from_ocpp_get_charging_profiles(
    message: OcppMessage, version: OcppVersion | str | None = None
) -> GetChargingProfilesRequest:
    """Read a ``call.GetChargingProfiles`` (or a handler's keyword arguments), station side."""
    v, payload = _read(message, "call", "GetChargingProfiles", version)
    return read_get_charging_profiles(payload, v)


def to_ocpp_get_charging_profiles_result(
    response: GetChargingProfilesResult | GetChargingProfilesResponse, version: OcppVersion | str
) -> OcppCallResult:
    """``call_result.GetChargingProfiles`` for a station's ``GetChargingProfilesResult`` or a
    ``GetChargingProfilesResponse``."""
    v = _package_version(version)
    if isinstance(response, GetChargingProfilesResult):
        payload = response.to_payload()
        read_get_charging_profiles_response(payload, v)  # 1.6 refused here
    else:
        payload = write_get_charging_profiles_response(response, v)
    return ocpp_message("call_result", "GetChargingProfiles", payload, v)


def from_ocpp_get_charging_profiles_result(
    message: OcppMessage, version: OcppVersion | str | None = None
) -> GetChargingProfilesResponse:
    """Read a ``call_result.GetChargingProfiles`` (what ``ChargePoint.call`` returns), CSMS side."""
    v, payload = _read(message, "call_result", "GetChargingProfiles", version)
    return read_get_charging_profiles_response(payload, v)


def to_ocpp_report_charging_profiles(
    report: ReportChargingProfilesRequest | Mapping[str, Any], version: OcppVersion | str
) -> OcppCall:
    """``call.ReportChargingProfiles`` for a report, or one report payload of the station."""
    v = _package_version(version)
    if isinstance(report, Mapping):
        report = read_report_charging_profiles(report, v)
    payload = write_report_charging_profiles(report, v)
    return ocpp_message("call", "ReportChargingProfiles", payload, v)


def from_ocpp_report_charging_profiles(
    message: OcppMessage, version: OcppVersion | str | None = None
) -> ReportChargingProfilesRequest:
    """Read a ``call.ReportChargingProfiles`` (or a handler's keyword arguments), CSMS side;
    assemble several with :func:`~ocpp_schedule.station.assemble_reports`."""
    v, payload = _read(message, "call", "ReportChargingProfiles", version)
    return read_report_charging_profiles(payload, v)


def to_ocpp_report_charging_profiles_result(version: OcppVersion | str) -> OcppCallResult:
    """``call_result.ReportChargingProfiles``: the empty answer to each report."""
    v = _package_version(version)
    if not v.is_v2:
        raise VersionError("OCPP 1.6 has no ReportChargingProfiles", field="version")
    return ocpp_message("call_result", "ReportChargingProfiles", {}, v)


# ------------------------------------ NotifyEVChargingNeeds / NotifyEVChargingSchedule (K15)
# 2.x only. A 2.1 key the package cannot carry (``maxChargePower_L2``, ``fullSoC``, ...)
# is refused by ``to_ocpp_*`` naming it (the package's key mapping would change it).


def to_ocpp_notify_ev_charging_needs(
    request: NotifyEVChargingNeedsRequest, version: OcppVersion | str
) -> OcppCall:
    """``call.NotifyEVChargingNeeds`` carrying a ``NotifyEVChargingNeedsRequest``."""
    v = _package_version(version)
    payload = write_notify_ev_charging_needs(request, v)
    return ocpp_message("call", "NotifyEVChargingNeeds", payload, v)


def from_ocpp_notify_ev_charging_needs(
    message: OcppMessage, version: OcppVersion | str | None = None
) -> NotifyEVChargingNeedsRequest:
    """Read a ``call.NotifyEVChargingNeeds`` (or a handler's keyword arguments)."""
    v, payload = _read(message, "call", "NotifyEVChargingNeeds", version)
    return read_notify_ev_charging_needs(payload, v)


def to_ocpp_notify_ev_charging_needs_result(
    response: NotifyEVChargingNeedsResponse, version: OcppVersion | str
) -> OcppCallResult:
    """``call_result.NotifyEVChargingNeeds`` for a ``NotifyEVChargingNeedsResponse``."""
    v = _package_version(version)
    payload = write_notify_ev_charging_needs_response(response, v)
    return ocpp_message("call_result", "NotifyEVChargingNeeds", payload, v)


def from_ocpp_notify_ev_charging_needs_result(
    message: OcppMessage, version: OcppVersion | str | None = None
) -> NotifyEVChargingNeedsResponse:
    """Read a ``call_result.NotifyEVChargingNeeds``."""
    v, payload = _read(message, "call_result", "NotifyEVChargingNeeds", version)
    return read_notify_ev_charging_needs_response(payload, v)


def to_ocpp_notify_ev_charging_schedule(
    request: NotifyEVChargingScheduleRequest, version: OcppVersion | str
) -> OcppCall:
    """``call.NotifyEVChargingSchedule`` carrying a ``NotifyEVChargingScheduleRequest``."""
    v = _package_version(version)
    payload = write_notify_ev_charging_schedule(request, v)
    return ocpp_message("call", "NotifyEVChargingSchedule", payload, v)


def from_ocpp_notify_ev_charging_schedule(
    message: OcppMessage, version: OcppVersion | str | None = None
) -> NotifyEVChargingScheduleRequest:
    """Read a ``call.NotifyEVChargingSchedule`` (or a handler's keyword arguments)."""
    v, payload = _read(message, "call", "NotifyEVChargingSchedule", version)
    return read_notify_ev_charging_schedule(payload, v)


def to_ocpp_notify_ev_charging_schedule_result(
    answer: EvScheduleCheck | NotifyEVChargingScheduleResponse, version: OcppVersion | str
) -> OcppCallResult:
    """``call_result.NotifyEVChargingSchedule`` for an ``EvScheduleCheck`` or a response."""
    v = _package_version(version)
    response = answer.response() if isinstance(answer, EvScheduleCheck) else answer
    payload = write_notify_ev_charging_schedule_response(response, v)
    return ocpp_message("call_result", "NotifyEVChargingSchedule", payload, v)


def from_ocpp_notify_ev_charging_schedule_result(
    message: OcppMessage, version: OcppVersion | str | None = None
) -> NotifyEVChargingScheduleResponse:
    """Read a ``call_result.NotifyEVChargingSchedule``."""
    v, payload = _read(message, "call_result", "NotifyEVChargingSchedule", version)
    return read_notify_ev_charging_schedule_response(payload, v)


# ------------------------------------- RequestStartTransaction / RemoteStartTransaction


def _start_action(version: OcppVersion) -> str:
    """The action name: 1.6 ``RemoteStartTransaction``, 2.x ``RequestStartTransaction``."""
    return "RemoteStartTransaction" if version is OcppVersion.V16 else "RequestStartTransaction"


def to_ocpp_remote_start(request: RemoteStartRequest, version: OcppVersion | str) -> OcppCall:
    """``call.RemoteStartTransaction`` (1.6) or ``call.RequestStartTransaction`` (2.x).

    ``request`` is the version's request (:class:`~ocpp_schedule.RemoteStartTransactionRequest`
    for 1.6, :class:`~ocpp_schedule.RequestStartTransactionRequest` for 2.x), written exactly.
    """
    v = _package_version(version)
    if v is OcppVersion.V16:
        if not isinstance(request, RemoteStartTransactionRequest):
            raise VersionError("OCPP 1.6 sends a RemoteStartTransactionRequest", field="request")
        payload = write_remote_start_transaction(request)
    else:
        if not isinstance(request, RequestStartTransactionRequest):
            raise VersionError(
                f"OCPP {v.value} sends a RequestStartTransactionRequest", field="request"
            )
        payload = write_request_start_transaction(request, v)
    return ocpp_message("call", _start_action(v), payload, v)


def from_ocpp_remote_start(
    message: OcppMessage, version: OcppVersion | str | None = None
) -> RemoteStartTransactionRequest | RequestStartTransactionRequest:
    """Read a start request (or a handler's keyword arguments) with the version's reader.

    Returns a :class:`~ocpp_schedule.RemoteStartTransactionRequest` (1.6) or a
    :class:`~ocpp_schedule.RequestStartTransactionRequest` (2.x); raises
    :class:`PayloadError` as those readers do.
    """
    v, payload = _read(message, "call", _start_action(_resolve(message, version)), version)
    if v is OcppVersion.V16:
        return read_remote_start_transaction(payload)
    return read_request_start_transaction(payload, v)


def to_ocpp_remote_start_result(
    result: RemoteStartResult | StatusAnswer, version: OcppVersion | str
) -> OcppCallResult:
    """``call_result.RemoteStartTransaction`` / ``RequestStartTransaction`` for the answer."""
    v = _package_version(version)
    if isinstance(result, RemoteStartResult):
        payload = result.to_payload(v)
    else:
        payload = _answer_payload(result, v)
    return ocpp_message("call_result", _start_action(v), payload, v)


def from_ocpp_remote_start_result(
    message: OcppMessage, version: OcppVersion | str | None = None
) -> StatusAnswer:
    """Read the answer to a start request; a 2.x ``transactionId`` is kept in ``payload``."""
    v, payload = _read(message, "call_result", _start_action(_resolve(message, version)), version)
    _check_answer(payload, v, frozenset({"transactionId"}) if v.is_v2 else frozenset())
    return StatusAnswer(dict(payload), v)

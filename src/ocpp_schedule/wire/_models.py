"""Version-neutral, validated, immutable models of OCPP charging profiles.

One set of models serves OCPP 1.6, 2.0.1 and 2.1. Field names are the OCPP
names in snake_case and are the constructors' names; each field's validation
and serialization alias is its 2.x JSON key, so
``ChargingProfile.model_validate(two_x_json_profile)`` works directly. The
version-specific payload shapes (1.6's ``chargingProfileId``, single
``chargingSchedule`` object and integer ``transactionId``) are handled by
:mod:`ocpp_schedule.payloads`, which also rejects keys a version does not have.

Models check types at the boundary; they deliberately accept values that the
station-side rules reject with a reason (a negative limit, an empty period
list, a first ``startPeriod`` other than 0), so that ``install`` can answer
``Rejected`` with the rule rather than fail on reading.

Unknown fields are errors (``extra="forbid"``): a misspelt ``number_phase``
must not be stored and then ignored. Constructors take the snake_case field
names (for every type checker, with or without pydantic's mypy plugin);
``model_validate`` also takes the 2.x JSON keys. The fields a model does not
interpret (``customData`` on every 2.x object, ``salesTariff``, 2.1's
``absolutePriceSchedule``, ``priceLevelSchedule``, ``v2xFreqWattCurve`` and
``v2xSignalWattCurve``) are explicit fields holding a frozen deep copy of the
JSON given (:class:`JsonObject`, tuples for arrays), nested at most
:data:`MAX_JSON_DEPTH` levels, and are written back verbatim as fresh copies.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    Strict,
    WithJsonSchema,
)

from ._enums import (
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    OperationMode,
    RecurrencyKind,
)
from ._timestamps import format_timestamp, parse_timestamp

__all__ = [
    "MAX_JSON_DEPTH",
    "MAX_LIMIT",
    "ChargingProfile",
    "ChargingSchedule",
    "ChargingSchedulePeriod",
    "CustomData",
    "JsonObject",
    "OpaqueArray",
    "OpaqueObject",
    "LimitAtSoC",
    "SetChargingProfileRequest",
    "Timestamp",
]

Timestamp = Annotated[
    datetime,
    PlainValidator(parse_timestamp),
    PlainSerializer(format_timestamp, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
"""An aware datetime read from RFC 3339 text with a mandatory offset."""

MAX_LIMIT = 1e9
"""The largest limit or rate (A or W) the library computes with: 1 GW, or 10^9 A.

Larger values are no charging limit at all and would overflow once converted
and rounded; the station-side rules reject them and the engine refuses them.
"""

MAX_JSON_DEPTH = 32
"""How deep the JSON a model carries verbatim (customData, salesTariff, ...) may nest.

Counted in objects and arrays, the carried value itself being level 1. The
official schemas nest these at most 6 deep; the bound keeps every value read
writable (pydantic refuses to serialize past its own recursion limit) and its
walk cheap (docs/robustness.md).
"""


class JsonObject(Mapping[str, Any]):
    """An immutable JSON object: a deep copy of what was given, nested values frozen too.

    Arrays become tuples and objects :class:`JsonObject`; :meth:`thaw` gives a
    fresh plain ``dict``/``list`` copy. Equal to any mapping with the same items;
    hashable, so the frozen models that hold one are too.
    """

    __slots__ = ("_data", "_hash")

    def __init__(self, data: Mapping[str, Any] | None = None, *, _depth: int = 1) -> None:
        source: Mapping[str, Any] = {} if data is None else data
        self._data: dict[str, Any] = {
            key: _freeze(value, _depth + 1) for key, value in _items(source)
        }
        self._hash: int | None = None

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            # Arrays compare as arrays whether held as tuples or given as lists.
            same: bool = self.thaw() == _plain_json(other)
            return same
        return NotImplemented

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(tuple(sorted(self._data.items(), key=lambda kv: kv[0])))
        return self._hash

    def __repr__(self) -> str:
        return f"JsonObject({self._data!r})"

    def thaw(self) -> dict[str, Any]:
        """A fresh, mutable copy as plain ``dict``/``list`` values."""
        return {key: _thaw(value) for key, value in self._data.items()}


def _items(source: Mapping[Any, Any]) -> list[tuple[str, Any]]:
    items = []
    for key, value in source.items():
        if not isinstance(key, str):
            raise ValueError(f"JSON object keys are strings, not {type(key).__name__} {key!r}")
        items.append((key, value))
    return items


def _freeze(value: Any, depth: int) -> Any:
    """A frozen deep copy of a JSON value; ValueError for what JSON cannot hold."""
    if isinstance(value, Mapping | list | tuple) and depth > MAX_JSON_DEPTH:
        raise ValueError(
            f"nested deeper than {MAX_JSON_DEPTH} levels (docs/robustness.md: MAX_JSON_DEPTH)"
        )
    if isinstance(value, JsonObject) and depth <= MAX_JSON_DEPTH:
        return JsonObject(value._data, _depth=depth)
    if isinstance(value, Mapping):
        return JsonObject(value, _depth=depth)
    if isinstance(value, list | tuple):
        return tuple(_freeze(item, depth + 1) for item in value)
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} is not a JSON number")
        return value
    raise ValueError(f"a {type(value).__name__} is not a JSON value")


def _plain_json(value: Any) -> Any:
    """Mappings to dicts and sequences to lists, all the way down (for comparison)."""
    if isinstance(value, Mapping):
        return {key: _plain_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain_json(item) for item in value]
    return value


def _thaw(value: Any) -> Any:
    if isinstance(value, JsonObject):
        return value.thaw()
    if isinstance(value, tuple):
        return [_thaw(item) for item in value]
    return value


def _object(value: Any) -> JsonObject:
    if not isinstance(value, Mapping):
        raise ValueError(f"expected a JSON object, got {type(value).__name__}")
    return JsonObject(value)


def _custom_data(value: Any) -> JsonObject:
    obj = _object(value)
    if not isinstance(obj.get("vendorId"), str):
        raise ValueError("customData needs a vendorId string (CustomDataType)")
    if len(obj["vendorId"]) > 255:
        raise ValueError("customData.vendorId is at most 255 characters (CustomDataType)")
    return obj


def _array(value: Any) -> tuple[Any, ...]:
    if not isinstance(value, list | tuple):
        raise ValueError(f"expected a JSON array, got {type(value).__name__}")
    frozen: tuple[Any, ...] = _freeze(tuple(value), 1)
    return frozen


OpaqueObject = Annotated[
    Mapping[str, Any],
    PlainValidator(_object),
    PlainSerializer(_thaw, return_type=dict[str, Any]),
    WithJsonSchema({"type": "object"}),
]
"""A JSON object carried verbatim (held as a frozen :class:`JsonObject`)."""

CustomData = Annotated[
    Mapping[str, Any],
    PlainValidator(_custom_data),
    PlainSerializer(_thaw, return_type=dict[str, Any]),
    WithJsonSchema({"type": "object", "required": ["vendorId"]}),
]
"""2.x ``customData``: a JSON object with a ``vendorId`` string, held frozen."""

OpaqueArray = Annotated[
    Sequence[Any],
    PlainValidator(_array),
    PlainSerializer(_thaw, return_type=list[Any]),
    WithJsonSchema({"type": "array"}),
]
"""A JSON array carried verbatim (held as a frozen tuple)."""

Int = Annotated[int, Strict()]
Number = Annotated[float, Strict()]
Bool = Annotated[bool, Strict()]


class _Model(BaseModel):
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
    )

    def to_json_dict(self) -> dict[str, Any]:
        """The model as 2.x-style JSON data (aliases, absent fields left out)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class LimitAtSoC(_Model):
    """2.1 ``limitAtSoC``: cap the limit once the EV's state of charge reaches ``soc``."""

    soc: Int
    limit: Number
    custom_data: CustomData | None = Field(
        default=None, validation_alias="customData", serialization_alias="customData"
    )


class ChargingSchedulePeriod(_Model):
    """One period of a schedule: from ``start_period`` seconds on, at most ``limit``."""

    start_period: Int = Field(validation_alias="startPeriod", serialization_alias="startPeriod")
    limit: Number | None = None
    number_phases: Int | None = Field(
        default=None, validation_alias="numberPhases", serialization_alias="numberPhases"
    )
    phase_to_use: Int | None = Field(
        default=None, validation_alias="phaseToUse", serialization_alias="phaseToUse"
    )
    limit_l2: Number | None = Field(
        default=None, validation_alias="limit_L2", serialization_alias="limit_L2"
    )
    limit_l3: Number | None = Field(
        default=None, validation_alias="limit_L3", serialization_alias="limit_L3"
    )
    discharge_limit: Number | None = Field(
        default=None, validation_alias="dischargeLimit", serialization_alias="dischargeLimit"
    )
    discharge_limit_l2: Number | None = Field(
        default=None, validation_alias="dischargeLimit_L2", serialization_alias="dischargeLimit_L2"
    )
    discharge_limit_l3: Number | None = Field(
        default=None, validation_alias="dischargeLimit_L3", serialization_alias="dischargeLimit_L3"
    )
    setpoint: Number | None = None
    setpoint_l2: Number | None = Field(
        default=None, validation_alias="setpoint_L2", serialization_alias="setpoint_L2"
    )
    setpoint_l3: Number | None = Field(
        default=None, validation_alias="setpoint_L3", serialization_alias="setpoint_L3"
    )
    setpoint_reactive: Number | None = Field(
        default=None, validation_alias="setpointReactive", serialization_alias="setpointReactive"
    )
    setpoint_reactive_l2: Number | None = Field(
        default=None,
        validation_alias="setpointReactive_L2",
        serialization_alias="setpointReactive_L2",
    )
    setpoint_reactive_l3: Number | None = Field(
        default=None,
        validation_alias="setpointReactive_L3",
        serialization_alias="setpointReactive_L3",
    )
    preconditioning_request: Bool | None = Field(
        default=None,
        validation_alias="preconditioningRequest",
        serialization_alias="preconditioningRequest",
    )
    evse_sleep: Bool | None = Field(
        default=None, validation_alias="evseSleep", serialization_alias="evseSleep"
    )
    v2x_baseline: Number | None = Field(
        default=None, validation_alias="v2xBaseline", serialization_alias="v2xBaseline"
    )
    operation_mode: OperationMode | None = Field(
        default=None, validation_alias="operationMode", serialization_alias="operationMode"
    )
    v2x_freq_watt_curve: OpaqueArray | None = Field(
        default=None, validation_alias="v2xFreqWattCurve", serialization_alias="v2xFreqWattCurve"
    )
    v2x_signal_watt_curve: OpaqueArray | None = Field(
        default=None,
        validation_alias="v2xSignalWattCurve",
        serialization_alias="v2xSignalWattCurve",
    )
    custom_data: CustomData | None = Field(
        default=None, validation_alias="customData", serialization_alias="customData"
    )


class ChargingSchedule(_Model):
    """A list of periods in one unit, anchored by the profile's kind."""

    id: Int | None = None
    start_schedule: Timestamp | None = Field(
        default=None, validation_alias="startSchedule", serialization_alias="startSchedule"
    )
    duration: Int | None = None
    charging_rate_unit: ChargingRateUnit = Field(
        validation_alias="chargingRateUnit", serialization_alias="chargingRateUnit"
    )
    charging_schedule_period: tuple[ChargingSchedulePeriod, ...] = Field(
        validation_alias="chargingSchedulePeriod", serialization_alias="chargingSchedulePeriod"
    )
    min_charging_rate: Number | None = Field(
        default=None, validation_alias="minChargingRate", serialization_alias="minChargingRate"
    )
    limit_at_soc: LimitAtSoC | None = Field(
        default=None, validation_alias="limitAtSoC", serialization_alias="limitAtSoC"
    )
    power_tolerance: Number | None = Field(
        default=None, validation_alias="powerTolerance", serialization_alias="powerTolerance"
    )
    signature_id: Int | None = Field(
        default=None, validation_alias="signatureId", serialization_alias="signatureId"
    )
    digest_value: str | None = Field(
        default=None, validation_alias="digestValue", serialization_alias="digestValue"
    )
    use_local_time: Bool | None = Field(
        default=None, validation_alias="useLocalTime", serialization_alias="useLocalTime"
    )
    randomized_delay: Int | None = Field(
        default=None, validation_alias="randomizedDelay", serialization_alias="randomizedDelay"
    )
    sales_tariff: OpaqueObject | None = Field(
        default=None, validation_alias="salesTariff", serialization_alias="salesTariff"
    )
    absolute_price_schedule: OpaqueObject | None = Field(
        default=None,
        validation_alias="absolutePriceSchedule",
        serialization_alias="absolutePriceSchedule",
    )
    price_level_schedule: OpaqueObject | None = Field(
        default=None,
        validation_alias="priceLevelSchedule",
        serialization_alias="priceLevelSchedule",
    )
    custom_data: CustomData | None = Field(
        default=None, validation_alias="customData", serialization_alias="customData"
    )


class ChargingProfile(_Model):
    """A charging profile as the CSMS sends it, whatever the OCPP version.

    ``id`` is 1.6's ``chargingProfileId``; ``transaction_id`` is kept as text
    (1.6 integers are read as their decimal text and written back as integers).
    """

    id: Int
    stack_level: Int = Field(validation_alias="stackLevel", serialization_alias="stackLevel")
    charging_profile_purpose: ChargingProfilePurpose = Field(
        validation_alias="chargingProfilePurpose", serialization_alias="chargingProfilePurpose"
    )
    charging_profile_kind: ChargingProfileKind = Field(
        validation_alias="chargingProfileKind", serialization_alias="chargingProfileKind"
    )
    recurrency_kind: RecurrencyKind | None = Field(
        default=None, validation_alias="recurrencyKind", serialization_alias="recurrencyKind"
    )
    valid_from: Timestamp | None = Field(
        default=None, validation_alias="validFrom", serialization_alias="validFrom"
    )
    valid_to: Timestamp | None = Field(
        default=None, validation_alias="validTo", serialization_alias="validTo"
    )
    transaction_id: str | None = Field(
        default=None, validation_alias="transactionId", serialization_alias="transactionId"
    )
    charging_schedule: tuple[ChargingSchedule, ...] = Field(
        validation_alias="chargingSchedule", serialization_alias="chargingSchedule"
    )
    max_offline_duration: Int | None = Field(
        default=None,
        validation_alias="maxOfflineDuration",
        serialization_alias="maxOfflineDuration",
    )
    invalid_after_offline_duration: Bool | None = Field(
        default=None,
        validation_alias="invalidAfterOfflineDuration",
        serialization_alias="invalidAfterOfflineDuration",
    )
    dyn_update_interval: Int | None = Field(
        default=None, validation_alias="dynUpdateInterval", serialization_alias="dynUpdateInterval"
    )
    dyn_update_time: Timestamp | None = Field(
        default=None, validation_alias="dynUpdateTime", serialization_alias="dynUpdateTime"
    )
    price_schedule_signature: str | None = Field(
        default=None,
        validation_alias="priceScheduleSignature",
        serialization_alias="priceScheduleSignature",
    )
    custom_data: CustomData | None = Field(
        default=None, validation_alias="customData", serialization_alias="customData"
    )

    @property
    def purpose(self) -> ChargingProfilePurpose:
        """Short for ``charging_profile_purpose``."""
        return self.charging_profile_purpose

    @property
    def kind(self) -> ChargingProfileKind:
        """Short for ``charging_profile_kind``."""
        return self.charging_profile_kind

    def schedule(self, schedule_id: int | None = None) -> ChargingSchedule:
        """The schedule that counts: the first, or the one with ``schedule_id``.

        Raises ``KeyError`` when no schedule has that id, ``ValueError`` when
        the profile has no schedule at all.
        """
        if not self.charging_schedule:
            raise ValueError(f"charging profile {self.id} has no chargingSchedule")
        if schedule_id is None:
            return self.charging_schedule[0]
        for sched in self.charging_schedule:
            if sched.id == schedule_id:
                return sched
        raise KeyError(f"charging profile {self.id} has no schedule with id {schedule_id}")


class SetChargingProfileRequest(_Model):
    """A SetChargingProfile request: a profile for an EVSE (1.6: a connector); 0 is the station."""

    evse_id: Int = Field(validation_alias="evseId", serialization_alias="evseId")
    charging_profile: ChargingProfile = Field(
        validation_alias="chargingProfile", serialization_alias="chargingProfile"
    )
    custom_data: CustomData | None = Field(
        default=None, validation_alias="customData", serialization_alias="customData"
    )

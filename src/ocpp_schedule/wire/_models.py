"""Version-neutral, validated, immutable models of OCPP charging profiles.

One set of models serves OCPP 1.6, 2.0.1 and 2.1. Field names are the OCPP
names in snake_case and are the constructors' names; each field's validation
and serialization alias is its 2.x JSON key, so
``ChargingProfile.model_validate(two_x_json_profile)`` works directly. The
version-specific payload shapes (1.6's ``chargingProfileId``, single
``chargingSchedule`` object and integer ``transactionId``) are handled by
:mod:`ocpp_schedule.wire._payloads`, which also rejects keys a version does not have.

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
from operator import itemgetter
from typing import Annotated, Any, NamedTuple, TypeVar

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    SerializerFunctionWrapHandler,
    Strict,
    WithJsonSchema,
    field_serializer,
)

from ._docstrings import DocumentedModel
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
    "V21_PERIOD_KEYS",
    "V21_PERIOD_VALUES",
    "ChargingProfile",
    "ChargingSchedule",
    "ChargingSchedulePeriod",
    "CustomData",
    "JsonObject",
    "OpaqueArray",
    "OpaqueObject",
    "LimitAtSoC",
    "PeriodColumns",
    "SetChargingProfileRequest",
    "Timestamp",
    "LazyPeriods",
    "built_model",
    "lazy_schedule",
    "period_columns",
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

V21_PERIOD_VALUES = (
    "limit_l2",
    "limit_l3",
    "discharge_limit",
    "discharge_limit_l2",
    "discharge_limit_l3",
    "setpoint",
    "setpoint_l2",
    "setpoint_l3",
    "setpoint_reactive",
    "setpoint_reactive_l2",
    "setpoint_reactive_l3",
)
"""The 2.1 ``ChargingSchedulePeriodType`` values besides ``limit`` (model field names): the
per-phase limits, the discharge limits, the setpoints and the reactive setpoints."""

V21_PERIOD_KEYS = (
    "limit_L2",
    "limit_L3",
    "dischargeLimit",
    "dischargeLimit_L2",
    "dischargeLimit_L3",
    "setpoint",
    "setpoint_L2",
    "setpoint_L3",
    "setpointReactive",
    "setpointReactive_L2",
    "setpointReactive_L3",
)
"""The same values by their JSON keys, in the same order."""

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


def _exact_number(value: Any) -> float:
    """A JSON number as given: an int stays an int, a float a float (exact JSON, issue 14).

    ``bool`` and every non-number are refused, as strict pydantic does; so is an
    integer too large for a float (beyond about 1.8e308), which no limit or rate
    computation could hold. A float input is returned unchanged (NaN and the
    infinities included: the station-side rules judge them, docs/semantics.md P1).
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("Input should be a valid number")
    if isinstance(value, int):
        try:
            float(value)
        except OverflowError:
            raise ValueError(
                "Input should be a valid number: an integer this large is no rate"
            ) from None
    return value


def _write_number(value: float) -> float:
    """A number written as it was read: ``16`` stays ``16``, ``16.0`` stays ``16.0``."""
    return value


Int = Annotated[int, Strict()]
Number = Annotated[
    float,
    PlainValidator(_exact_number),
    PlainSerializer(_write_number, return_type=Any),
    WithJsonSchema({"type": "number"}),
]
"""A JSON number kept with its JSON type: an integer is read and written as an integer.

Annotated as ``float`` (an ``int`` is one for every type checker); code that
computes with it needs no change, and writers give back exactly the JSON read.
"""
Bool = Annotated[bool, Strict()]


def _transaction_text(value: Any) -> Any:
    """A 1.6 transaction id is an integer: held as its decimal text, like a 2.x id."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


TransactionId = Annotated[str, BeforeValidator(_transaction_text)]
"""A transaction id as text; an integer (OCPP 1.6) is taken as its decimal text."""


class _Model(DocumentedModel):
    # DocumentedModel: attribute docstrings as descriptions, built on first use (issue 15 item 7)
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

    def model_dump(self, **kwargs: Any) -> dict[str, Any]:
        """pydantic's ``model_dump``, but absent fields are left out by default
        (``exclude_none=True``): an unset 2.1 field is not a ``null`` no schema allows.

        The keys are the JSON ones (``chargingProfilePurpose``). This is the library's
        neutral 2.x shape, not one version's message: write a message for the wire with
        :func:`~ocpp_schedule.write_set_charging_profile` /
        :func:`~ocpp_schedule.write_charging_profile`.
        """
        kwargs.setdefault("exclude_none", True)
        return super().model_dump(**kwargs)

    def model_dump_json(self, **kwargs: Any) -> str:
        """pydantic's ``model_dump_json`` with absent fields left out by default, as
        :meth:`model_dump`."""
        kwargs.setdefault("exclude_none", True)
        return super().model_dump_json(**kwargs)


class LimitAtSoC(_Model):
    """2.1 ``limitAtSoC``: cap the limit once the EV's state of charge reaches ``soc``."""

    soc: Int
    """2.1 ``soc``: the EV's state of charge (%, 0..100) from which ``limit`` applies."""
    limit: Number
    """2.1 ``limit``: the limit once the EV's state of charge has reached ``soc``, in the schedule's
    ``chargingRateUnit`` (K01.FR.100)."""
    custom_data: CustomData | None = Field(
        default=None, validation_alias="customData", serialization_alias="customData"
    )
    """2.x ``customData`` (not in 1.6): vendor data with a ``vendorId`` string, carried verbatim."""


class _PeriodStart(_Model):
    """The field that only a period has first: ``startPeriod`` (a base of
    :class:`ChargingSchedulePeriod`, so that its JSON keys keep their order)."""

    start_period: Int = Field(validation_alias="startPeriod", serialization_alias="startPeriod")
    """2.x ``startPeriod`` (1.6 the same): seconds from the schedule's start at which the period
    begins; 0 for the first (K01.FR.31), then increasing (K01.FR.35)."""


class _PeriodLimit(_Model):
    """``limit``, shared by a period and 2.1's ChargingScheduleUpdate."""

    limit: Number | None = None
    """2.x ``limit`` (1.6 the same): the most the EV may draw, in ``chargingRateUnit`` (A per phase,
    W in total); required in 1.6 and 2.0.1, in 2.1 only where ``operationMode`` needs it."""


class _PeriodPhases(_Model):
    """``numberPhases`` and ``phaseToUse`` (a base of :class:`ChargingSchedulePeriod`, so that
    its JSON keys keep their order)."""

    number_phases: Int | None = Field(
        default=None, validation_alias="numberPhases", serialization_alias="numberPhases"
    )
    """2.x ``numberPhases`` (1.6 the same): how many phases may be used; on AC 3 is assumed when
    absent (K01.FR.49, 1.6 section 7.14)."""
    phase_to_use: Int | None = Field(
        default=None, validation_alias="phaseToUse", serialization_alias="phaseToUse"
    )
    """2.x ``phaseToUse`` (not in 1.6): the phase (1..3) to charge on; only with ``numberPhases`` 1
    and ACPhaseSwitchingSupported (K01.FR.19/20)."""


class _V21PeriodValues(_Model):
    """The 2.1 period values besides ``limit`` (:data:`V21_PERIOD_VALUES`), shared by a period
    and 2.1's ChargingScheduleUpdate (``station._dynamic``)."""

    limit_l2: Number | None = Field(
        default=None, validation_alias="limit_L2", serialization_alias="limit_L2"
    )
    """2.1 ``limit_L2``: the limit on phase L2, in ``chargingRateUnit``; when the L2/L3 values are
    given, ``limit`` is phase L1's."""
    limit_l3: Number | None = Field(
        default=None, validation_alias="limit_L3", serialization_alias="limit_L3"
    )
    """2.1 ``limit_L3``: the limit on phase L3, in ``chargingRateUnit``; when the L2/L3 values are
    given, ``limit`` is phase L1's."""
    discharge_limit: Number | None = Field(
        default=None, validation_alias="dischargeLimit", serialization_alias="dischargeLimit"
    )
    """2.1 ``dischargeLimit``: the most the EV may discharge, as a value <= 0 in
    ``chargingRateUnit``; all phases, or phase L1 when the L2/L3 values are given."""
    discharge_limit_l2: Number | None = Field(
        default=None, validation_alias="dischargeLimit_L2", serialization_alias="dischargeLimit_L2"
    )
    """2.1 ``dischargeLimit_L2``: the discharge limit (<= 0) on phase L2."""
    discharge_limit_l3: Number | None = Field(
        default=None, validation_alias="dischargeLimit_L3", serialization_alias="dischargeLimit_L3"
    )
    """2.1 ``dischargeLimit_L3``: the discharge limit (<= 0) on phase L3."""
    setpoint: Number | None = None
    """2.1 ``setpoint``: the rate the EV should follow as closely as possible, negative to
    discharge, within ``dischargeLimit``..``limit``; all phases, or L1 with L2/L3 values."""
    setpoint_l2: Number | None = Field(
        default=None, validation_alias="setpoint_L2", serialization_alias="setpoint_L2"
    )
    """2.1 ``setpoint_L2``: the setpoint on phase L2."""
    setpoint_l3: Number | None = Field(
        default=None, validation_alias="setpoint_L3", serialization_alias="setpoint_L3"
    )
    """2.1 ``setpoint_L3``: the setpoint on phase L3."""
    setpoint_reactive: Number | None = Field(
        default=None, validation_alias="setpointReactive", serialization_alias="setpointReactive"
    )
    """2.1 ``setpointReactive``: the reactive power (or current) setpoint, positive inductive,
    negative capacitive; all phases, or L1 with L2/L3 values."""
    setpoint_reactive_l2: Number | None = Field(
        default=None,
        validation_alias="setpointReactive_L2",
        serialization_alias="setpointReactive_L2",
    )
    """2.1 ``setpointReactive_L2``: the reactive setpoint on phase L2."""
    setpoint_reactive_l3: Number | None = Field(
        default=None,
        validation_alias="setpointReactive_L3",
        serialization_alias="setpointReactive_L3",
    )
    """2.1 ``setpointReactive_L3``: the reactive setpoint on phase L3."""


class ChargingSchedulePeriod(_V21PeriodValues, _PeriodPhases, _PeriodLimit, _PeriodStart):
    """One period of a schedule: from ``start_period`` seconds on, at most ``limit``.

    Its fields come from small bases (``startPeriod``; ``limit``; ``numberPhases`` and
    ``phaseToUse``; the 2.1 values), in the order of the JSON keys, followed by its own; the
    2.1 ChargingScheduleUpdate shares the ``limit`` and 2.1-value bases.
    """

    preconditioning_request: Bool | None = Field(
        default=None,
        validation_alias="preconditioningRequest",
        serialization_alias="preconditioningRequest",
    )
    """2.1 ``preconditioningRequest``: true asks the EV to keep its battery (BMS) preconditioned
    during the period."""
    evse_sleep: Bool | None = Field(
        default=None, validation_alias="evseSleep", serialization_alias="evseSleep"
    )
    """2.1 ``evseSleep``: true turns the EVSE's power electronics for this transaction off during
    the period (absent: false; K01.FR.126)."""
    v2x_baseline: Number | None = Field(
        default=None, validation_alias="v2xBaseline", serialization_alias="v2xBaseline"
    )
    """2.1 ``v2xBaseline``: the power to which the ``v2xFreqWattCurve`` and ``v2xSignalWattCurve``
    values are added."""
    operation_mode: OperationMode | None = Field(
        default=None, validation_alias="operationMode", serialization_alias="operationMode"
    )
    """2.1 ``operationMode``: how the EV charges or discharges in the period; absent means
    ChargingOnly, which behaves as 2.0.1."""
    v2x_freq_watt_curve: OpaqueArray | None = Field(
        default=None, validation_alias="v2xFreqWattCurve", serialization_alias="v2xFreqWattCurve"
    )
    """2.1 ``v2xFreqWattCurve``: 1..20 frequency/power points, carried verbatim."""
    v2x_signal_watt_curve: OpaqueArray | None = Field(
        default=None,
        validation_alias="v2xSignalWattCurve",
        serialization_alias="v2xSignalWattCurve",
    )
    """2.1 ``v2xSignalWattCurve``: 1..20 signal/power points, carried verbatim."""
    custom_data: CustomData | None = Field(
        default=None, validation_alias="customData", serialization_alias="customData"
    )
    """2.x ``customData`` (not in 1.6): vendor data with a ``vendorId`` string, carried verbatim."""


_NEW = object.__new__
_SET = object.__setattr__
_PERIOD_DEFAULTS: dict[str, Any] = {}

PlainRow = tuple[int, float, int | None, int | None]
"""``startPeriod``, ``limit``, ``numberPhases``, ``phaseToUse`` of a plain period (None: absent)."""


def plain_periods(rows: Sequence[PlainRow]) -> tuple[ChargingSchedulePeriod, ...]:
    """The periods pydantic would build from these ``startPeriod``/``limit``/phase values.

    For the cold path's readers (``wire._payloads``), which have already checked the
    JSON types exactly as the model's validators would accept them (``startPeriod``
    and the phase values ``int``, ``limit`` an ``int`` a float can hold or a ``float``):
    building the instances directly costs a fraction of validating them, and each is the
    same model (field values, fields set, equality, hash, dump, repr;
    ``tests/test_cold_path.py`` pins it against ``model_validate``). Only the fields
    given are in a period's fields set, as after validation.
    """
    if not _PERIOD_DEFAULTS:
        _PERIOD_DEFAULTS.update(
            (name, info.default) for name, info in ChargingSchedulePeriod.model_fields.items()
        )
    defaults, new, set_attr, cls = _PERIOD_DEFAULTS, _NEW, _SET, ChargingSchedulePeriod
    out = []
    for start, limit, phases, use in rows:
        values = defaults.copy()
        values["start_period"] = start
        values["limit"] = limit
        given = {"start_period", "limit"}
        if phases is not None:
            values["number_phases"] = phases
            given.add("number_phases")
        if use is not None:
            values["phase_to_use"] = use
            given.add("phase_to_use")
        period = new(cls)
        set_attr(period, "__dict__", values)
        set_attr(period, "__pydantic_fields_set__", given)
        set_attr(period, "__pydantic_extra__", None)
        set_attr(period, "__pydantic_private__", None)
        out.append(period)
    return tuple(out)


_M = TypeVar("_M", bound=_Model)
_MODEL_DEFAULTS: dict[type[_Model], dict[str, Any]] = {}


def built_model(cls: type[_M], given: Mapping[str, Any]) -> _M:
    """An instance of ``cls`` holding ``given`` (field names to values), the other fields at
    their defaults, built without validation: what pydantic would build from input whose
    every value the caller has checked to be exactly what validation returns for it.

    For the cold path's readers (``wire._payloads``): the instance has the same
    ``__dict__`` (in field order), fields set (the fields given), extra and private
    values as a validated one (``tests/test_cold16b.py`` pins it against
    ``model_validate``). Only for models without validators of their own beyond their
    fields' and without defaults the caller does not give.
    """
    defaults = _MODEL_DEFAULTS.get(cls)
    if defaults is None:
        defaults = {name: info.default for name, info in cls.model_fields.items()}
        _MODEL_DEFAULTS[cls] = defaults
    values = defaults.copy()
    values.update(given)
    model = _NEW(cls)
    _SET(model, "__dict__", values)
    _SET(model, "__pydantic_fields_set__", set(given))
    _SET(model, "__pydantic_extra__", None)
    _SET(model, "__pydantic_private__", None)
    return model


class ChargingSchedule(_Model):
    """A list of periods in one unit, anchored by the profile's kind."""

    id: Int | None = None
    """2.x ``id`` (not in 1.6; required in 2.x): the schedule's id, by which one of a profile's
    ISO 15118 schedules is selected."""
    start_schedule: Timestamp | None = Field(
        default=None, validation_alias="startSchedule", serialization_alias="startSchedule"
    )
    """2.x ``startSchedule`` (1.6 the same): the instant startPeriod 0 refers to; required for
    Absolute and Recurring (K01.FR.40), absent for Relative (K01.FR.41)."""
    duration: Int | None = None
    """2.x ``duration`` (1.6 the same): how many seconds the schedule lasts from its start; absent,
    the last period runs on (K01.FR.12)."""
    charging_rate_unit: ChargingRateUnit = Field(
        validation_alias="chargingRateUnit", serialization_alias="chargingRateUnit"
    )
    """2.x ``chargingRateUnit`` (1.6 the same): the unit of every limit, ``A`` (per phase) or ``W``
    (total) (K01.FR.50/51)."""
    charging_schedule_period: tuple[ChargingSchedulePeriod, ...] = Field(
        validation_alias="chargingSchedulePeriod", serialization_alias="chargingSchedulePeriod"
    )
    """2.x ``chargingSchedulePeriod`` (1.6 the same): the periods, in increasing ``startPeriod``
    order."""
    min_charging_rate: Number | None = Field(
        default=None, validation_alias="minChargingRate", serialization_alias="minChargingRate"
    )
    """2.x ``minChargingRate`` (1.6 the same): the EV's minimum charging rate, in
    ``chargingRateUnit``; advisory, for local balancing (K01.FR.21)."""
    limit_at_soc: LimitAtSoC | None = Field(
        default=None, validation_alias="limitAtSoC", serialization_alias="limitAtSoC"
    )
    """2.1 ``limitAtSoC``: a limit that applies once the EV reaches a state of charge
    (K01.FR.100)."""
    power_tolerance: Number | None = Field(
        default=None, validation_alias="powerTolerance", serialization_alias="powerTolerance"
    )
    """2.1 ``powerTolerance``: the power tolerance when following the EV's power profile
    (ISO 15118-20)."""
    signature_id: Int | None = Field(
        default=None, validation_alias="signatureId", serialization_alias="signatureId"
    )
    """2.1 ``signatureId``: the schedule's id for referencing in a price-schedule signature."""
    digest_value: str | None = Field(
        default=None, validation_alias="digestValue", serialization_alias="digestValue"
    )
    """2.1 ``digestValue``: Base64 hash of the EXI price schedule element, used in its signature."""
    use_local_time: Bool | None = Field(
        default=None, validation_alias="useLocalTime", serialization_alias="useLocalTime"
    )
    """2.1 ``useLocalTime``: true reads the schedule's times as the station's local time, their
    offset ignored (absent: false; K01.FR.90/91)."""
    randomized_delay: Int | None = Field(
        default=None, validation_alias="randomizedDelay", serialization_alias="randomizedDelay"
    )
    """2.1 ``randomizedDelay``: the most seconds by which each period but the first starts late, at
    random (absent: 0; K01.FR.92); TxProfile and TxDefaultProfile only (K01.FR.95)."""
    sales_tariff: OpaqueObject | None = Field(
        default=None, validation_alias="salesTariff", serialization_alias="salesTariff"
    )
    """2.x ``salesTariff`` (not in 1.6): the ISO 15118 sales tariff for the EV, carried verbatim."""
    absolute_price_schedule: OpaqueObject | None = Field(
        default=None,
        validation_alias="absolutePriceSchedule",
        serialization_alias="absolutePriceSchedule",
    )
    """2.1 ``absolutePriceSchedule``: an ISO 15118-20 absolute price schedule, carried verbatim."""
    price_level_schedule: OpaqueObject | None = Field(
        default=None,
        validation_alias="priceLevelSchedule",
        serialization_alias="priceLevelSchedule",
    )
    """2.1 ``priceLevelSchedule``: an ISO 15118-20 price level schedule, carried verbatim."""
    custom_data: CustomData | None = Field(
        default=None, validation_alias="customData", serialization_alias="customData"
    )
    """2.x ``customData`` (not in 1.6): vendor data with a ``vendorId`` string, carried verbatim."""

    # A schedule read from a payload may hold its periods as rows (LazyPeriods) until
    # they are asked for (LAZY16). pydantic reads the fields from ``__dict__`` (its
    # serializer, equality, hash, repr, iteration, pickling): each of those builds them
    # first, and the attribute is a descriptor that does (_PeriodsDescriptor).

    @field_serializer("charging_schedule_period", mode="wrap")
    def _serialize_periods(self, value: Any, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        # No return annotation on purpose: pydantic then takes the field's own schema for
        # the JSON schema, and the handler serializes as before (include, exclude, ...).
        if type(value) is LazyPeriods:
            value = _materialised(self, value)
        return handler(value)

    def __eq__(self, other: object) -> bool:
        _materialise(self)
        if isinstance(other, ChargingSchedule):
            _materialise(other)
        return super().__eq__(other)

    def __iter__(self) -> Any:
        _materialise(self)
        return super().__iter__()

    def __repr_args__(self) -> Any:
        _materialise(self)
        return super().__repr_args__()

    def __getstate__(self) -> dict[Any, Any]:
        _materialise(self)
        return super().__getstate__()


class LazyPeriods:
    """A schedule's plain periods held as columns until a caller asks for the models.

    The cold path (issue 16, LAZY16): a schedule read from a payload whose periods are
    plain (``wire._payloads._plain_rows``) holds one of these in its ``__dict__`` in place
    of the periods tuple; the station rules and the compiler read its
    :class:`PeriodColumns` and never need the models. The attribute
    ``schedule.charging_schedule_period`` (a descriptor), the serializer, equality, hash,
    repr, iteration and pickling build the tuple (:func:`plain_periods`) once, put it in
    the schedule's ``__dict__`` in the field's own place, and keep it here, so that copies
    sharing this object (``model_copy``) get the very same tuple. No caller sees one
    through the field.
    """

    __slots__ = ("_built", "limits", "phases", "starts", "uses")

    def __init__(
        self,
        starts: tuple[int, ...],
        limits: tuple[float, ...],
        phases: tuple[int | None, ...],
        uses: tuple[int | None, ...],
    ) -> None:
        self.starts = starts
        self.limits = limits
        self.phases = phases
        self.uses = uses
        self._built: list[tuple[ChargingSchedulePeriod, ...]] = []

    def periods(self) -> tuple[ChargingSchedulePeriod, ...]:
        """The period models, built on the first call (every later call: the same tuple)."""
        built = self._built
        if not built:
            rows = zip(self.starts, self.limits, self.phases, self.uses, strict=True)
            built.append(plain_periods(list(rows)))
        return built[0]  # the first one appended, should two threads build at once

    def __deepcopy__(self, memo: dict[int, Any]) -> LazyPeriods:
        # A deep copy of a schedule gets new period models, as a deep copy of the tuple did.
        return LazyPeriods(self.starts, self.limits, self.phases, self.uses)

    def __reduce__(self) -> Any:
        raise TypeError("LazyPeriods is not pickled: a schedule pickles its period models")

    __hash__ = None  # type: ignore[assignment]  # no field value anyone hashes


_PERIODS_FIELD = "charging_schedule_period"


def _materialised(
    schedule: ChargingSchedule, lazy: LazyPeriods
) -> tuple[ChargingSchedulePeriod, ...]:
    """Put ``lazy``'s period models in ``schedule``'s ``__dict__`` (in the field's own place,
    so the field order stays) and in its kept columns; return them."""
    periods = lazy.periods()
    values = schedule.__dict__
    values[_PERIODS_FIELD] = periods
    kept = values.get(_COLUMNS_KEY)
    if kept is not None and kept.periods is lazy:
        values[_COLUMNS_KEY] = kept._replace(periods=periods)
    return periods


def _materialise(schedule: ChargingSchedule) -> None:
    """Build ``schedule``'s period models if it holds them as :class:`LazyPeriods`."""
    value = schedule.__dict__.get(_PERIODS_FIELD)
    if type(value) is LazyPeriods:
        _materialised(schedule, value)


class _PeriodsDescriptor:
    """``ChargingSchedule.charging_schedule_period``: the ``__dict__`` value, a
    :class:`LazyPeriods` built into the models first. A data descriptor (it has
    ``__set__``), so it is asked before the instance's ``__dict__``; on the class it raises
    ``AttributeError`` as reading a pydantic field on its class does."""

    def __get__(self, schedule: ChargingSchedule | None, owner: type | None = None) -> Any:
        if schedule is None:
            raise AttributeError(_PERIODS_FIELD)
        try:
            value = schedule.__dict__[_PERIODS_FIELD]
        except KeyError:
            raise AttributeError(
                f"{type(schedule).__name__!r} object has no attribute {_PERIODS_FIELD!r}"
            ) from None
        if type(value) is LazyPeriods:
            return _materialised(schedule, value)
        return value

    def __set__(self, schedule: ChargingSchedule, value: Any) -> None:
        schedule.__dict__[_PERIODS_FIELD] = value  # what object.__setattr__ did without it

    def __delete__(self, schedule: ChargingSchedule) -> None:
        del schedule.__dict__[_PERIODS_FIELD]


_eager_hash = ChargingSchedule.__hash__


def _schedule_hash(self: ChargingSchedule) -> int:
    _materialise(self)
    return _eager_hash(self)


ChargingSchedule.__hash__ = _schedule_hash  # type: ignore[method-assign, assignment]
type.__setattr__(ChargingSchedule, _PERIODS_FIELD, _PeriodsDescriptor())


def lazy_schedule(given: Mapping[str, Any], lazy: LazyPeriods, plain: bool) -> ChargingSchedule:
    """A schedule built by a reader (:func:`built_model` of ``given``: its fields but the
    periods) holding its plain periods as ``lazy``, with their :class:`PeriodColumns`
    (``plain``: no period has ``phaseToUse``)."""
    schedule = built_model(ChargingSchedule, {**given, _PERIODS_FIELD: lazy})
    columns = (lazy, lazy.starts, lazy.limits, lazy.phases, plain, False)
    schedule.__dict__[_COLUMNS_KEY] = _NEW_TUPLE(PeriodColumns, columns)
    return schedule


class PeriodColumns(NamedTuple):
    """A schedule's periods as columns, read once and shared by the station rules and the
    compiler (the cold path, issue 16: each used to walk every period model on its own)."""

    periods: tuple[ChargingSchedulePeriod, ...] | LazyPeriods
    """The periods these columns were read from (the schedule's own ``__dict__`` value, its
    tuple or :class:`LazyPeriods`: checked by identity on each use, so a copy with other
    periods never sees stale columns)."""
    starts: tuple[int, ...]
    """Each period's ``startPeriod``."""
    limits: tuple[float | None, ...]
    """Each period's ``limit`` as given (an ``int`` stays an ``int``; None: absent)."""
    phases: tuple[int | None, ...]
    """Each period's ``numberPhases`` (None: absent)."""
    plain: bool
    """No period has ``operationMode``, ``evseSleep``, ``phaseToUse`` or a 2.1 value
    (:data:`V21_PERIOD_VALUES`): what most 1.6 and 2.x periods are."""
    v2x: bool
    """Some period has ``operationMode`` or a 2.1 value (:data:`V21_PERIOD_VALUES`)."""


_COLUMNS_KEY = "_period_columns"
"""Where a schedule keeps its columns: its ``__dict__``, beside the fields, as
``functools.cached_property`` would (pydantic's equality, hash, dump and repr read the
fields only)."""
_NEW_TUPLE = tuple.__new__
"""Builds a :class:`PeriodColumns` from its six values without the named tuple's Python
``__new__`` (the reader gives every schedule its columns)."""
_COLUMNS = itemgetter("start_period", "limit", "number_phases")
_NOT_PLAIN = itemgetter("operation_mode", "evse_sleep", "phase_to_use", *V21_PERIOD_VALUES)
_NONE_PLAIN = (None,) * (3 + len(V21_PERIOD_VALUES))
_V2X = itemgetter("operation_mode", *V21_PERIOD_VALUES)
_NONE_V2X = (None,) * (1 + len(V21_PERIOD_VALUES))


def period_columns(schedule: ChargingSchedule) -> PeriodColumns:
    """``schedule``'s periods as :class:`PeriodColumns`, read on the first call and kept.

    One pass over the periods' ``__dict__`` (where a model keeps its fields), in C
    (``itemgetter``), instead of one Python loop in the rules and another in the compiler.
    A schedule is frozen, so the columns stay valid; they are kept with the periods tuple
    they were read from and re-read when that is not the schedule's tuple any more (a
    ``model_copy(update=...)`` copies the ``__dict__``).
    """
    values = schedule.__dict__
    periods = values["charging_schedule_period"]
    kept = values.get(_COLUMNS_KEY)
    if kept is not None and kept.periods is periods:
        return kept  # type: ignore[no-any-return]
    if type(periods) is LazyPeriods:  # its columns, without building the models
        plain = periods.uses.count(None) == len(periods.uses)
        row = (periods, periods.starts, periods.limits, periods.phases, plain, False)
        columns = _NEW_TUPLE(PeriodColumns, row)
        values[_COLUMNS_KEY] = columns
        return columns
    dicts = [p.__dict__ for p in periods]
    if dicts:
        starts, limits, phases = zip(*map(_COLUMNS, dicts), strict=True)
    else:
        starts = limits = phases = ()
    plain = set(map(_NOT_PLAIN, dicts)) <= {_NONE_PLAIN}
    v2x = not plain and set(map(_V2X, dicts)) != {_NONE_V2X}
    columns = _NEW_TUPLE(PeriodColumns, (periods, starts, limits, phases, plain, v2x))
    values[_COLUMNS_KEY] = columns
    return columns


class ChargingProfile(_Model):
    """A charging profile as the CSMS sends it, whatever the OCPP version.

    ``id`` is 1.6's ``chargingProfileId``; ``transaction_id`` is kept as text
    (1.6 integers are read as their decimal text and written back as integers).
    """

    id: Int
    """2.x ``id`` (1.6 ``chargingProfileId``): unique on the station; a profile with an installed id
    replaces that one (K01.FR.05)."""
    stack_level: Int = Field(validation_alias="stackLevel", serialization_alias="stackLevel")
    """2.x ``stackLevel`` (1.6 the same): precedence within a purpose, from 0; the highest level in
    force governs (K01.FR.17)."""
    charging_profile_purpose: ChargingProfilePurpose = Field(
        validation_alias="chargingProfilePurpose", serialization_alias="chargingProfilePurpose"
    )
    """2.x ``chargingProfilePurpose`` (1.6 the same): what the profile limits: the station (Max),
    new transactions (TxDefault), one transaction (Tx), ..."""
    charging_profile_kind: ChargingProfileKind = Field(
        validation_alias="chargingProfileKind", serialization_alias="chargingProfileKind"
    )
    """2.x ``chargingProfileKind`` (1.6 the same): how the schedule is anchored: Absolute,
    Recurring, Relative or (2.1) Dynamic."""
    recurrency_kind: RecurrencyKind | None = Field(
        default=None, validation_alias="recurrencyKind", serialization_alias="recurrencyKind"
    )
    """2.x ``recurrencyKind`` (1.6 the same): Daily or Weekly; for a Recurring profile only."""
    valid_from: Timestamp | None = Field(
        default=None, validation_alias="validFrom", serialization_alias="validFrom"
    )
    """2.x ``validFrom`` (1.6 the same): the profile counts from this instant on (K01.FR.36);
    absent, from when it is received."""
    valid_to: Timestamp | None = Field(
        default=None, validation_alias="validTo", serialization_alias="validTo"
    )
    """2.x ``validTo`` (1.6 the same): the profile counts only before this instant (K01.FR.37);
    absent, until it is replaced (K01.FR.10)."""
    transaction_id: TransactionId | None = Field(
        default=None, validation_alias="transactionId", serialization_alias="transactionId"
    )
    """2.x ``transactionId`` (1.6 an integer): the transaction a TxProfile limits, for TxProfile
    only (K01.FR.03); held as text."""
    charging_schedule: tuple[ChargingSchedule, ...] = Field(
        validation_alias="chargingSchedule", serialization_alias="chargingSchedule"
    )
    """2.x ``chargingSchedule`` (1.6: one object): the schedules, 1..3; more than one only with
    ISO 15118 (K01.FR.34)."""
    max_offline_duration: Int | None = Field(
        default=None,
        validation_alias="maxOfflineDuration",
        serialization_alias="maxOfflineDuration",
    )
    """2.1 ``maxOfflineDuration``: seconds the profile stays valid while the station is offline
    (K01.FR.101-103)."""
    invalid_after_offline_duration: Bool | None = Field(
        default=None,
        validation_alias="invalidAfterOfflineDuration",
        serialization_alias="invalidAfterOfflineDuration",
    )
    """2.1 ``invalidAfterOfflineDuration``: true makes the profile invalid for good once offline
    past ``maxOfflineDuration`` (absent: false)."""
    dyn_update_interval: Int | None = Field(
        default=None, validation_alias="dynUpdateInterval", serialization_alias="dynUpdateInterval"
    )
    """2.1 ``dynUpdateInterval``: seconds after the last update at which a Dynamic profile asks for
    the next one (PullDynamicScheduleUpdate)."""
    dyn_update_time: Timestamp | None = Field(
        default=None, validation_alias="dynUpdateTime", serialization_alias="dynUpdateTime"
    )
    """2.1 ``dynUpdateTime``: when a Dynamic profile's limits or setpoints were last updated;
    Dynamic profiles only (K01.FR.122)."""
    price_schedule_signature: str | None = Field(
        default=None,
        validation_alias="priceScheduleSignature",
        serialization_alias="priceScheduleSignature",
    )
    """2.1 ``priceScheduleSignature``: ISO 15118-20 signature over the price schedules of
    ``chargingSchedule``."""
    custom_data: CustomData | None = Field(
        default=None, validation_alias="customData", serialization_alias="customData"
    )
    """2.x ``customData`` (not in 1.6): vendor data with a ``vendorId`` string, carried verbatim."""

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
    """2.x ``evseId`` (1.6 ``connectorId``): the EVSE the profile is for; 0 is the station (a
    TxDefault there applies to every EVSE, a Max limits the total)."""
    charging_profile: ChargingProfile = Field(
        validation_alias="chargingProfile", serialization_alias="chargingProfile"
    )
    """2.x ``chargingProfile`` (1.6 ``csChargingProfiles``): the profile to install."""
    custom_data: CustomData | None = Field(
        default=None, validation_alias="customData", serialization_alias="customData"
    )
    """2.x ``customData`` (not in 1.6): vendor data with a ``vendorId`` string, carried verbatim."""

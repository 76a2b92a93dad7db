"""Read and write the exact JSON of SetChargingProfile in OCPP 1.6, 2.0.1 and 2.1.

Each version's reader checks the payload's shape against that version's JSON
schema (known keys, required keys, version-specific enum values, no ``null``,
1.6 ``multipleOf 0.1``, the JSON type of the objects it carries verbatim such
as ``customData``), maps it onto the version-neutral models and lets pydantic
check the types. Writers do the
reverse; reading a payload and writing it in the same version gives the same
JSON, key order aside.

Cross-version writing maps what has a clear equivalent
(``ChargePointMaxProfile`` <-> ``ChargingStationMaxProfile``, integer <-> text
``transactionId``, a 2.x schedule ``id`` taken from the profile id when 1.6
had none) and raises :class:`~ocpp_schedule.errors.VersionError` for anything
the target version cannot express. ``customData`` is dropped when writing 1.6,
which has no such field.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from itertools import filterfalse
from operator import itemgetter
from typing import Any

from pydantic import ValidationError

from ..errors import PayloadError, VersionError
from ._enums import (
    PURPOSES_BY_VERSION,
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    OcppVersion,
)
from ._models import (
    V21_PERIOD_KEYS,
    ChargingProfile,
    ChargingSchedule,
    LazyPeriods,
    PlainRow,
    SetChargingProfileRequest,
    _thaw,
    lazy_schedule,
    plain_periods,
)
from ._timestamps import parse_timestamp

__all__ = [
    "detect_version",
    "parse_version",
    "read_charging_profile",
    "read_charging_schedule",
    "read_set_charging_profile",
    "write_charging_profile",
    "write_charging_schedule",
    "write_set_charging_profile",
]

_V16_PROFILE = frozenset(
    {
        "chargingProfileId",
        "transactionId",
        "stackLevel",
        "chargingProfilePurpose",
        "chargingProfileKind",
        "recurrencyKind",
        "validFrom",
        "validTo",
        "chargingSchedule",
    }
)
_V16_SCHEDULE = frozenset(
    {"duration", "startSchedule", "chargingRateUnit", "chargingSchedulePeriod", "minChargingRate"}
)
_V16_PERIOD = frozenset({"startPeriod", "limit", "numberPhases"})

_V201_PROFILE = frozenset(
    {
        "customData",
        "id",
        "stackLevel",
        "chargingProfilePurpose",
        "chargingProfileKind",
        "recurrencyKind",
        "validFrom",
        "validTo",
        "chargingSchedule",
        "transactionId",
    }
)
_V201_SCHEDULE = frozenset(
    {
        "customData",
        "id",
        "startSchedule",
        "duration",
        "chargingRateUnit",
        "chargingSchedulePeriod",
        "minChargingRate",
        "salesTariff",
    }
)
_V201_PERIOD = frozenset({"customData", "startPeriod", "limit", "numberPhases", "phaseToUse"})

_V21_PROFILE = _V201_PROFILE | {
    "maxOfflineDuration",
    "invalidAfterOfflineDuration",
    "dynUpdateInterval",
    "dynUpdateTime",
    "priceScheduleSignature",
}
_V21_SCHEDULE = _V201_SCHEDULE | {
    "limitAtSoC",
    "powerTolerance",
    "signatureId",
    "digestValue",
    "useLocalTime",
    "randomizedDelay",
    "absolutePriceSchedule",
    "priceLevelSchedule",
}
_V21_PERIOD = (
    _V201_PERIOD
    | set(V21_PERIOD_KEYS)
    | {
        "preconditioningRequest",
        "evseSleep",
        "v2xBaseline",
        "operationMode",
        "v2xFreqWattCurve",
        "v2xSignalWattCurve",
    }
)

_KEYS = {
    OcppVersion.V16: (_V16_PROFILE, _V16_SCHEDULE, _V16_PERIOD),
    OcppVersion.V201: (_V201_PROFILE, _V201_SCHEDULE, _V201_PERIOD),
    OcppVersion.V21: (_V21_PROFILE, _V21_SCHEDULE, _V21_PERIOD),
}
_REQUIRED_PROFILE_V16 = (
    "chargingProfileId",
    "stackLevel",
    "chargingProfilePurpose",
    "chargingProfileKind",
    "chargingSchedule",
)
_REQUIRED_PROFILE_V2 = (
    "id",
    "stackLevel",
    "chargingProfilePurpose",
    "chargingProfileKind",
    "chargingSchedule",
)
MAX_READ_PERIODS = 10_000
"""The most periods a schedule may have to be read at all (docs/robustness.md)."""

_MAX_V16 = ChargingProfilePurpose.CHARGE_POINT_MAX_PROFILE.value
_MAX_V2 = ChargingProfilePurpose.CHARGING_STATION_MAX_PROFILE.value


_EXACT_VERSIONS = {v.value: v for v in OcppVersion}
"""The versions as OCPP spells them: read with one look-up (every payload and answer)."""


def parse_version(version: OcppVersion | str) -> OcppVersion:
    """``"1.6"``, ``"2.0.1"``, ``"2.1"`` (or the enum) to :class:`OcppVersion`."""
    if isinstance(version, OcppVersion):
        return version
    exact = _EXACT_VERSIONS.get(version) if type(version) is str else None
    if exact is not None:
        return exact
    text = str(version).strip().lower().removeprefix("v").removeprefix("ocpp")
    aliases = {
        "1.6": "1.6",
        "16": "1.6",
        "2.0.1": "2.0.1",
        "201": "2.0.1",
        "2.1": "2.1",
        "21": "2.1",
    }
    if text in aliases:
        return OcppVersion(aliases[text])
    raise VersionError(f"unknown OCPP version {version!r}; use 1.6, 2.0.1 or 2.1", field="version")


def _is_v21_profile(profile: Mapping[str, Any]) -> bool:
    if profile.get("chargingProfilePurpose") in ("PriorityCharging", "LocalGeneration"):
        return True
    if profile.get("chargingProfileKind") == "Dynamic":
        return True
    if set(profile) - _V201_PROFILE:
        return True
    schedules = profile.get("chargingSchedule")
    for sched in schedules if isinstance(schedules, list) else ():
        if not isinstance(sched, Mapping):
            continue
        if set(sched) - _V201_SCHEDULE:
            return True
        periods = sched.get("chargingSchedulePeriod")
        for period in periods if isinstance(periods, list) else ():
            if isinstance(period, Mapping) and (
                set(period) - _V201_PERIOD or "limit" not in period
            ):
                return True
    return False


def detect_version(payload: Any) -> OcppVersion:
    """The OCPP version of a SetChargingProfile request, from its keys.

    ``connectorId`` + ``csChargingProfiles`` is 1.6; ``evseId`` +
    ``chargingProfile`` is 2.1 when it uses anything only 2.1 has (a purpose,
    the Dynamic kind, a field), else 2.0.1.
    """
    if not isinstance(payload, Mapping):
        raise PayloadError(
            f"a SetChargingProfile request is a JSON object, not {_json_type(payload)}",
            rule="SetChargingProfile",
        )
    if "csChargingProfiles" in payload or "connectorId" in payload:
        return OcppVersion.V16
    if "chargingProfile" in payload or "evseId" in payload:
        profile = payload.get("chargingProfile")
        if isinstance(profile, Mapping) and _is_v21_profile(profile):
            return OcppVersion.V21
        return OcppVersion.V201
    raise PayloadError(
        "not a SetChargingProfile request: expected connectorId + csChargingProfiles (1.6) "
        "or evseId + chargingProfile (2.0.1/2.1)",
        rule="SetChargingProfile",
    )


def _json_type(value: Any) -> str:
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if value is None:
        return "null"
    return type(value).__name__


# Fields the library carries verbatim: only their JSON type is checked.
_OPAQUE_TYPES: dict[str, tuple[type, str]] = {
    "customData": (Mapping, "an object"),
    "salesTariff": (Mapping, "an object"),
    "absolutePriceSchedule": (Mapping, "an object"),
    "priceLevelSchedule": (Mapping, "an object"),
    "v2xFreqWattCurve": (list, "an array"),
    "v2xSignalWattCurve": (list, "an array"),
}


def _path(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _check_keys(
    obj: Any, allowed: frozenset[str], required: tuple[str, ...], where: str, version: OcppVersion
) -> Mapping[str, Any]:
    """Check an object's keys; ``where`` is its path as the payload spells it ("" at the top)."""
    if not isinstance(obj, Mapping):
        raise PayloadError(f"expected a JSON object, got {_json_type(obj)}", field=where or None)
    rule = f"OCPP {version.value} schema"
    unknown = [] if obj.keys() <= allowed else sorted(set(obj) - allowed)
    if unknown:
        raise PayloadError(
            f"field {unknown[0]!r} is not part of OCPP {version.value}",
            field=_path(where, unknown[0]),
            rule=f"{rule}: additionalProperties false",
        )
    for key, value in obj.items():
        if value is None:
            raise PayloadError(
                "null is not a value of any OCPP field; leave the field out",
                field=_path(where, key),
                rule=rule,
            )
        if key in _OPAQUE_TYPES and not isinstance(value, _OPAQUE_TYPES[key][0]):
            raise PayloadError(
                f"expected {_OPAQUE_TYPES[key][1]}, got {_json_type(value)}",
                field=_path(where, key),
                rule=rule,
            )
    custom = obj.get("customData")
    if custom is not None and not isinstance(custom.get("vendorId"), str):
        raise PayloadError(
            "customData needs a vendorId string",
            field=_path(where, "customData.vendorId"),
            rule=f"{rule}: CustomDataType",
        )
    for key in required:
        if key not in obj:
            raise PayloadError("required field is missing", field=_path(where, key), rule=rule)
    return obj


_PURPOSE_VALUES = {v: frozenset(p.value for p in PURPOSES_BY_VERSION[v]) for v in OcppVersion}
_KIND_VALUES = {
    v: frozenset(
        k.value
        for k in ChargingProfileKind
        if v is OcppVersion.V21 or k is not ChargingProfileKind.DYNAMIC
    )
    for v in OcppVersion
}


def _check_enum(
    value: Any,
    version: OcppVersion,
    field: str,
    error: type[PayloadError | VersionError] = PayloadError,
) -> None:
    if field.endswith("chargingProfilePurpose"):
        allowed = _PURPOSE_VALUES[version]
    elif field.endswith("chargingProfileKind"):
        allowed = _KIND_VALUES[version]
    else:  # pragma: no cover - only the two enums above differ between versions
        return
    if isinstance(value, str) and value not in allowed:
        raise error(
            f"{value!r} is not a value of OCPP {version.value}; expected one of {sorted(allowed)}",
            field=field,
            rule=f"OCPP {version.value} schema: enum",
        )


def _is_tenths(value: Any) -> bool:
    """False for a float with more than one decimal (1.6 ``multipleOf 0.1``); True otherwise."""
    return not isinstance(value, float) or round(value, 1) == value


def _check_tenths(value: Any, field: str) -> None:
    """1.6 ``multipleOf 0.1``: a finite float with more than one decimal is not 1.6 JSON.

    The reader refuses it, as the 1.6 writer does, so that what the 1.6 reader
    accepts the 1.6 writer gives back (docs/semantics.md P1, V21-6). Non-finite
    values are not JSON at all and are left to the station-side rules.
    """
    if isinstance(value, float) and math.isfinite(value) and not _is_tenths(value):
        raise PayloadError(f"{value!r} is not a multiple of 0.1", field=field, rule=V16_TENTHS_RULE)


V16_TENTHS_RULE = "OCPP 1.6 schema: multipleOf 0.1"
"""The rule a 1.6 limit or minChargingRate with more than one decimal breaks."""


_PLAIN_PERIOD_KEYS = {
    OcppVersion.V16: frozenset({"startPeriod", "limit", "numberPhases"}),
    OcppVersion.V201: frozenset({"startPeriod", "limit", "numberPhases", "phaseToUse"}),
    OcppVersion.V21: frozenset({"startPeriod", "limit", "numberPhases", "phaseToUse"}),
}
_FLOAT_INT_BOUND = 10**308
"""Integers strictly inside +-10^308 convert to a float (the model's number rule)."""


PlainColumns = tuple[
    tuple[int, ...], tuple[float, ...], tuple[int | None, ...], tuple[int | None, ...]
]
"""Plain periods' ``startPeriod``, ``limit``, ``numberPhases``, ``phaseToUse`` columns (None:
absent)."""
_START_LIMIT = itemgetter("startPeriod", "limit")
_DICTS = {dict}
_TWO = {2}
_INTS = {int}
_NUMBERS = frozenset({int, float})


def _two_key_columns(periods: list[Any], version: OcppVersion) -> PlainColumns | None:
    """:func:`_plain_rows`'s answer, checked in C, when every period is a ``dict`` of exactly
    ``startPeriod`` and ``limit`` (most periods); None when it cannot tell (the loop decides).

    Each test is :func:`_plain_rows`'s own over whole columns: the types by set (``bool``
    is its own type, so ``{int}`` refuses it), the integer limits' bound by ``min``/``max``
    (a NaN among them can only make the test fail: the loop then judges), the 1.6 tenths on
    the distinct non-integral floats.
    """
    if set(map(type, periods)) != _DICTS or set(map(len, periods)) != _TWO:
        return None
    try:
        starts, limits = zip(*map(_START_LIMIT, periods), strict=True)
    except KeyError:
        return None
    if set(map(type, starts)) != _INTS:
        return None
    kinds = set(map(type, limits))
    if not kinds <= _NUMBERS:
        return None
    if int in kinds and not (min(limits) > -_FLOAT_INT_BOUND and max(limits) < _FLOAT_INT_BOUND):
        return None
    if version is OcppVersion.V16:
        floats = set(limits) if kinds == {float} else {x for x in limits if type(x) is float}
        if not all(map(_is_tenths, filterfalse(float.is_integer, floats))):
            return None
    none = (None,) * len(starts)
    return starts, limits, none, none


def _plain_rows(periods: list[Any], version: OcppVersion) -> PlainColumns | None:
    """The periods as columns when every one is plain, else None (the cold path's fast read).

    Plain: a ``dict`` with ``startPeriod`` and ``limit`` and at most the phase keys
    (``numberPhases``; 2.x ``phaseToUse``), ``startPeriod`` and the phase values of type
    ``int`` (bool is not), ``limit`` a ``float`` or an ``int`` a float can hold, and in 1.6
    a finite ``limit`` with at most one decimal. For such a period the key checks, the 1.6
    tenths check and pydantic's validation all pass and give exactly
    :func:`~ocpp_schedule.wire._models.plain_periods`'s model; anything else (a ``null``,
    an unknown, missing or 2.1 key, ``customData``, another type, a value one of the
    checks refuses) returns None, and the caller checks and validates every period as
    before, so every error is the one it always was (field and rule named). Periods of
    exactly ``startPeriod`` and ``limit`` are read in C (:func:`_two_key_columns`).
    """
    if periods:
        columns = _two_key_columns(periods, version)
        if columns is not None:
            return columns
    allowed = _PLAIN_PERIOD_KEYS[version]
    rows: list[PlainRow] = []
    floats = set()
    for period in periods:
        if type(period) is not dict:
            return None
        start = period.get("startPeriod")
        limit = period.get("limit")
        if type(start) is not int:
            return None
        if type(limit) is float:
            floats.add(limit)
        elif type(limit) is not int or not -_FLOAT_INT_BOUND < limit < _FLOAT_INT_BOUND:
            return None
        if len(period) == 2:  # both keys read above: exactly startPeriod and limit
            rows.append((start, limit, None, None))
            continue
        if not period.keys() <= allowed:
            return None
        phases = period.get("numberPhases")
        use = period.get("phaseToUse")
        if (("numberPhases" in period) and type(phases) is not int) or (
            ("phaseToUse" in period) and type(use) is not int
        ):
            return None
        rows.append((start, limit, phases, use))
    # Integer-valued floats have no decimal (tested in C); the others one by one.
    if version is OcppVersion.V16 and not all(
        map(_is_tenths, filterfalse(float.is_integer, floats))
    ):
        return None
    if not rows:
        return (), (), (), ()
    starts, limits, phases, uses = zip(*rows, strict=True)
    return starts, limits, phases, uses


def _plain_periods(periods: list[Any], version: OcppVersion) -> tuple[Any, ...] | None:
    """The periods as models when every one is plain (:func:`_plain_rows`), else None."""
    columns = _plain_rows(periods, version)
    return None if columns is None else plain_periods(list(zip(*columns, strict=True)))


_INT_SCHEDULE_KEYS = frozenset({"id", "duration"})
_RATE_UNITS = {unit.value: unit for unit in ChargingRateUnit}


def _plain_schedule(sched: dict[str, Any], columns: PlainColumns) -> ChargingSchedule | None:
    """The schedule model when every field is plain, else None (the cold path's fast read).

    ``sched`` is the shape-checked schedule object with its plain periods (``columns``)
    already built. Plain: at most ``id``, ``startSchedule``, ``duration``,
    ``chargingRateUnit``, ``minChargingRate`` besides the periods, ``id`` and ``duration``
    of type ``int``, ``startSchedule`` text :func:`parse_timestamp` reads,
    ``chargingRateUnit`` ``"A"`` or ``"W"``, ``minChargingRate`` a float or an ``int`` a
    float can hold: pydantic would build exactly this model (the same values, fields set
    and key order; ``tests/test_cold16b.py``). Anything else returns None and pydantic
    validates the schedule as before, so every error is the one it always was. The model
    gets its period columns (``wire._models.period_columns``) from the columns read here.
    """
    given: dict[str, Any] = {}
    for key, value in sched.items():
        if key == "chargingSchedulePeriod":
            continue  # the columns
        if key == "chargingRateUnit":
            unit = _RATE_UNITS.get(value) if type(value) is str else None
            if unit is None:
                return None
            given["charging_rate_unit"] = unit
        elif key == "startSchedule":
            if type(value) is not str:
                return None
            try:
                given["start_schedule"] = parse_timestamp(value)
            except Exception:  # pydantic's path raises the error as it always did
                return None
        elif key == "minChargingRate":
            if type(value) is not float and (
                type(value) is not int or not -_FLOAT_INT_BOUND < value < _FLOAT_INT_BOUND
            ):
                return None
            given["min_charging_rate"] = value
        elif key in _INT_SCHEDULE_KEYS and type(value) is int:
            given[key] = value  # the field names are the keys
        else:
            return None
    return _schedule_on_rows(given, columns)


def _schedule_on_rows(given: dict[str, Any], columns: PlainColumns) -> ChargingSchedule:
    """The schedule of ``given`` (its fields but the periods) holding its periods as columns
    (:class:`~ocpp_schedule.wire._models.LazyPeriods`): the models are built only when a
    caller asks for them; the station rules and the compiler read the columns (LAZY16)."""
    starts, limits, phases, uses = columns
    lazy = LazyPeriods(starts, limits, phases, uses)
    return lazy_schedule(given, lazy, plain=uses.count(None) == len(uses))


def _neutral_schedule(
    sched: Any, version: OcppVersion, s_where: str
) -> dict[str, Any] | ChargingSchedule:
    """Shape-check one ``chargingSchedule`` object of a version (its periods included).

    Returns the neutral JSON object for pydantic to validate, or, when every field is
    plain, the model itself (:func:`_plain_schedule`).

    ``s_where`` is the schedule's path as the payload spells it. Shared by the
    profile reader and :func:`read_charging_schedule` (NotifyEVChargingSchedule,
    NotifyChargingLimit carry a bare ChargingScheduleType).
    """
    _, sched_keys, period_keys = _KEYS[version]
    v16 = version is OcppVersion.V16
    sched_required = ("chargingRateUnit", "chargingSchedulePeriod") + (() if v16 else ("id",))
    period_required = ("startPeriod",) if version is OcppVersion.V21 else ("startPeriod", "limit")
    sched_d = dict(_check_keys(sched, sched_keys, sched_required, s_where, version))
    if "limitAtSoC" in sched_d:
        _check_keys(
            sched_d["limitAtSoC"],
            frozenset({"soc", "limit", "customData"}),
            ("soc", "limit"),
            f"{s_where}.limitAtSoC",
            version,
        )
    periods = sched_d["chargingSchedulePeriod"]
    if not isinstance(periods, list):
        raise PayloadError(
            f"expected an array of periods, got {_json_type(periods)}",
            field=f"{s_where}.chargingSchedulePeriod",
        )
    if len(periods) > MAX_READ_PERIODS:
        raise PayloadError(
            f"{len(periods)} periods; the library reads at most {MAX_READ_PERIODS} "
            "(stations accept far fewer: ChargingScheduleMaxPeriods)",
            field=f"{s_where}.chargingSchedulePeriod",
            rule="docs/robustness.md",
        )
    columns = _plain_rows(periods, version)
    if columns is None:
        for j, period in enumerate(periods):
            p_where = f"{s_where}.chargingSchedulePeriod[{j}]"
            _check_keys(period, period_keys, period_required, p_where, version)
            if v16:
                _check_tenths(period.get("limit"), f"{p_where}.limit")
    if v16:
        _check_tenths(sched_d.get("minChargingRate"), f"{s_where}.minChargingRate")
    if columns is not None:
        built = _plain_schedule(sched_d, columns)
        if built is not None:
            return built  # pydantic takes a ready model as it is (no re-validation)
        sched_d["chargingSchedulePeriod"] = plain_periods(list(zip(*columns, strict=True)))
    return sched_d


def _neutral_profile(profile: Any, version: OcppVersion, where: str) -> dict[str, Any]:
    """Shape-check a version's profile object and return it in the neutral (2.x) key layout."""
    prof_keys = _KEYS[version][0]
    v16 = version is OcppVersion.V16
    required = _REQUIRED_PROFILE_V16 if v16 else _REQUIRED_PROFILE_V2
    prof = dict(_check_keys(profile, prof_keys, required, where, version))
    _check_enum(prof.get("chargingProfilePurpose"), version, f"{where}.chargingProfilePurpose")
    _check_enum(prof.get("chargingProfileKind"), version, f"{where}.chargingProfileKind")
    if v16:
        prof["id"] = prof.pop("chargingProfileId")
        tx = prof.get("transactionId")
        if tx is not None:
            if isinstance(tx, bool) or not isinstance(tx, int):
                raise PayloadError(
                    f"expected an integer, got {_json_type(tx)}",
                    field=f"{where}.transactionId",
                    rule="OCPP 1.6 schema: transactionId is an integer",
                )
            prof["transactionId"] = str(tx)
        schedules: Any = [prof["chargingSchedule"]]
    else:
        schedules = prof["chargingSchedule"]
        if not isinstance(schedules, list):
            raise PayloadError(
                f"expected an array of schedules, got {_json_type(schedules)}",
                field=f"{where}.chargingSchedule",
                rule=f"OCPP {version.value} schema",
            )
        tx = prof.get("transactionId")
        if tx is not None and not isinstance(tx, str):
            raise PayloadError(
                f"expected a string, got {_json_type(tx)}",
                field=f"{where}.transactionId",
                rule=f"OCPP {version.value} schema: transactionId is a string",
            )
    out_schedules = [
        _neutral_schedule(sched, version, f"{where}.chargingSchedule" + ("" if v16 else f"[{i}]"))
        for i, sched in enumerate(schedules)
    ]
    prof["chargingSchedule"] = out_schedules
    return prof


def read_charging_profile(
    profile: Any, version: OcppVersion | str, *, field: str | None = None
) -> ChargingProfile:
    """Read a ``chargingProfile`` (1.6: ``csChargingProfiles``) object of the given version.

    ``field`` is the profile's path in error messages; by default the key that
    holds it in a SetChargingProfile request of ``version``.
    """
    v = parse_version(version)
    if field is None:
        field = "csChargingProfiles" if v is OcppVersion.V16 else "chargingProfile"
    try:
        return ChargingProfile.model_validate(_neutral_profile(profile, v, field))
    except ValidationError as exc:
        raise _payload_error(exc, v, prefix=(field,)) from None


def read_charging_schedule(
    schedule: Any, version: OcppVersion | str, *, field: str = "chargingSchedule"
) -> ChargingSchedule:
    """Read one 2.x ``ChargingScheduleType`` object (as NotifyEVChargingSchedule carries it).

    The same shape checks as inside a profile (known keys, required keys, no
    ``null``, the period bound); ``field`` is its path in error messages. OCPP
    1.6 has no message carrying a bare schedule (:class:`VersionError`).
    """
    v = parse_version(version)
    if not v.is_v2:
        raise VersionError("OCPP 1.6 carries schedules only inside profiles", field="version")
    try:
        return ChargingSchedule.model_validate(_neutral_schedule(schedule, v, field))
    except ValidationError as exc:
        raise _payload_error(exc, v, prefix=(field,)) from None


def write_charging_schedule(
    schedule: ChargingSchedule, version: OcppVersion | str
) -> dict[str, Any]:
    """One schedule as the 2.x ``ChargingScheduleType`` JSON of ``version``.

    What :func:`read_charging_schedule` read it writes back exactly; a field the
    version does not have is a :class:`VersionError`, as for whole profiles.
    """
    v = parse_version(version)
    if not v.is_v2:
        raise VersionError("OCPP 1.6 carries schedules only inside profiles", field="version")
    if schedule.id is None:
        raise VersionError("a 2.x chargingSchedule needs an id", field="chargingSchedule.id")
    data = schedule.to_json_dict()
    _, sched_keys, period_keys = _KEYS[v]
    _check_writable(data, sched_keys, "chargingSchedule", v)
    for period in data["chargingSchedulePeriod"]:
        _check_writable(period, period_keys, "chargingSchedulePeriod", v)
    return data


def read_set_charging_profile(
    payload: Any, version: OcppVersion | str | None = None
) -> SetChargingProfileRequest:
    """Read a SetChargingProfile request payload; the version is detected when not given.

    Raises :class:`PayloadError` for a payload that is not a SetChargingProfile
    request of that version, a field of the wrong type (a naive timestamp among
    them) included; its ``field`` is the path as the payload spells it
    (``csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0].limit``).
    """
    v = detect_version(payload) if version is None else parse_version(version)
    if v is OcppVersion.V16:
        req = _check_keys(
            payload,
            frozenset({"connectorId", "csChargingProfiles"}),
            ("connectorId", "csChargingProfiles"),
            "",
            v,
        )
        evse = req["connectorId"]
        profile = _neutral_profile(req["csChargingProfiles"], v, "csChargingProfiles")
        data: dict[str, Any] = {"evseId": evse, "chargingProfile": profile}
    else:
        req = _check_keys(
            payload,
            frozenset({"evseId", "chargingProfile", "customData"}),
            ("evseId", "chargingProfile"),
            "",
            v,
        )
        data = dict(req)
        data["chargingProfile"] = _neutral_profile(req["chargingProfile"], v, "chargingProfile")
    try:
        return SetChargingProfileRequest.model_validate(data)
    except ValidationError as exc:
        raise _payload_error(exc, v) from None


_V16_NAMES = {
    "chargingProfile": "csChargingProfiles",
    "evseId": "connectorId",
    "id": "chargingProfileId",
}


def _payload_error(
    exc: ValidationError, version: OcppVersion, prefix: tuple[str, ...] = ()
) -> PayloadError:
    """A field-type error as a :class:`PayloadError` naming the field as the payload spells it."""
    err = exc.errors()[0]
    parts: list[str] = list(prefix)
    loc = list(err["loc"])
    for i, part in enumerate(loc):
        if isinstance(part, int):
            if version is OcppVersion.V16 and i > 0 and loc[i - 1] == "chargingSchedule":
                continue
            parts[-1] = f"{parts[-1]}[{part}]"
            continue
        name = str(part)
        if (
            version is OcppVersion.V16
            and name in _V16_NAMES
            and (name != "id" or (i > 0 and loc[i - 1] == "chargingProfile") or (prefix and i == 0))
        ):
            name = _V16_NAMES[name]
        parts.append(name)
    message = str(err["msg"])
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    error = PayloadError(message, field=".".join(parts), rule=f"OCPP {version.value} schema")
    error.errors = exc.errors()
    return error


def _strip_custom_data(obj: dict[str, Any]) -> dict[str, Any]:
    obj.pop("customData", None)
    return obj


def write_charging_profile(profile: ChargingProfile, version: OcppVersion | str) -> dict[str, Any]:
    """The profile as the ``chargingProfile`` (1.6: ``csChargingProfiles``) JSON of ``version``."""
    v = parse_version(version)
    data = profile.to_json_dict()
    prof_keys, sched_keys, period_keys = _KEYS[v]
    purpose = data["chargingProfilePurpose"]
    if v is OcppVersion.V16:
        if purpose == _MAX_V2:
            data["chargingProfilePurpose"] = _MAX_V16
        schedules = data.pop("chargingSchedule")
        if len(schedules) != 1:
            raise VersionError(
                f"OCPP 1.6 carries exactly one chargingSchedule; this profile has {len(schedules)}",
                field="chargingSchedule",
            )
        sched = _strip_custom_data(schedules[0])
        sched.pop("id", None)
        sched["chargingSchedulePeriod"] = [
            _strip_custom_data(p) for p in sched["chargingSchedulePeriod"]
        ]
        data["chargingSchedule"] = sched
        _strip_custom_data(data)
        data["chargingProfileId"] = data.pop("id")
        tx = data.get("transactionId")
        if tx is not None:
            # Only the canonical decimal text of an integer maps back to the same text.
            if re.fullmatch(r"0|-?[1-9][0-9]*", tx) is None:
                raise VersionError(
                    f"OCPP 1.6 transaction ids are integers; {tx!r} is not",
                    field="transactionId",
                )
            data["transactionId"] = int(tx)
        if not _is_tenths(sched.get("minChargingRate")):
            raise VersionError(
                "OCPP 1.6 rates are multiples of 0.1", field="chargingSchedule.minChargingRate"
            )
        for period in sched["chargingSchedulePeriod"]:
            if not _is_tenths(period.get("limit")):
                raise VersionError(
                    "OCPP 1.6 limits are multiples of 0.1", field="chargingSchedulePeriod.limit"
                )
        schedules_out = [sched]
    else:
        if purpose == _MAX_V16:
            data["chargingProfilePurpose"] = _MAX_V2
        for sched in data["chargingSchedule"]:
            sched.setdefault("id", profile.id)
        schedules_out = data["chargingSchedule"]
    _check_enum(data["chargingProfilePurpose"], v, "chargingProfilePurpose", VersionError)
    _check_enum(data["chargingProfileKind"], v, "chargingProfileKind", VersionError)
    _check_writable(data, prof_keys, "chargingProfile", v)
    for sched in schedules_out:
        _check_writable(sched, sched_keys, "chargingSchedule", v)
        for period in sched["chargingSchedulePeriod"]:
            _check_writable(period, period_keys, "chargingSchedulePeriod", v)
    return data


def _check_writable(
    obj: Mapping[str, Any], allowed: frozenset[str], where: str, v: OcppVersion
) -> None:
    extra = sorted(set(obj) - allowed)
    if extra:
        raise VersionError(
            f"OCPP {v.value} has no field {extra[0]!r}; it cannot be written in this version",
            field=f"{where}.{extra[0]}",
        )
    _check_enum_safe(obj, v, where)


def _check_enum_safe(obj: Mapping[str, Any], v: OcppVersion, where: str) -> None:
    if where == "chargingSchedulePeriod" and v is not OcppVersion.V21 and "limit" not in obj:
        raise VersionError(
            f"OCPP {v.value} requires a limit in every period", field=f"{where}.limit"
        )


def write_set_charging_profile(
    request: SetChargingProfileRequest, version: OcppVersion | str
) -> dict[str, Any]:
    """The SetChargingProfile request payload of ``version``."""
    v = parse_version(version)
    profile = write_charging_profile(request.charging_profile, v)
    if v is OcppVersion.V16:
        return {"connectorId": request.evse_id, "csChargingProfiles": profile}
    out: dict[str, Any] = {"evseId": request.evse_id, "chargingProfile": profile}
    if request.custom_data is not None:
        out["customData"] = _thaw(request.custom_data)
    return out

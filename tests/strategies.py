"""Hypothesis strategies for valid SetChargingProfile request payloads (plain JSON dicts).

One strategy per OCPP version: :func:`set_charging_profile_v16`,
:func:`set_charging_profile_v201` and :func:`set_charging_profile_v21`
(:func:`set_charging_profile` picks by version). Every payload they produce is
valid against the official JSON schema of its version (``tests/test_payloads.py``
checks this, so the strategies stay honest), and uses only JSON types: ints,
floats, strings, booleans, lists and dicts.

The payloads are *schema* valid, not necessarily acceptable to a station: the
codecs must read and write whatever the schema allows (a Relative schedule with
a ``startSchedule``, a ``recurrencyKind`` on an Absolute profile, a negative
profile id). Periods do start at 0 and increase, as a real CSMS sends them.

Coverage: every purpose, kind and unit of the version; each optional field both
present and absent; timestamps with ``Z``/``z``, ``+hh:mm``/``-hh:mm`` offsets
and 0..9 fractional digits; 2.x ``customData`` (with vendor extensions) on the
request, profile, schedule and period and inside the tariff objects; 2.1
phase limits, discharge limits, setpoints, operation modes, ``limitAtSoC``,
``randomizedDelay``, V2X curves, and ``salesTariff`` / ``absolutePriceSchedule``
/ ``priceLevelSchedule`` as objects the library must carry verbatim.
"""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema.validators
import ocpp
from hypothesis import strategies as st
from jsonschema.exceptions import ValidationError

Json = Any
Draw = Any

V16_PURPOSES = ("ChargePointMaxProfile", "TxDefaultProfile", "TxProfile")
V201_PURPOSES = (
    "ChargingStationExternalConstraints",
    "ChargingStationMaxProfile",
    "TxDefaultProfile",
    "TxProfile",
)
V21_ONLY_PURPOSES = ("PriorityCharging", "LocalGeneration")
V21_PURPOSES = V201_PURPOSES + V21_ONLY_PURPOSES
V16_KINDS = ("Absolute", "Recurring", "Relative")
V21_KINDS = (*V16_KINDS, "Dynamic")
UNITS = ("A", "W")
RECURRENCY_KINDS = ("Daily", "Weekly")
OPERATION_MODES = (
    "Idle",
    "ChargingOnly",
    "CentralSetpoint",
    "ExternalSetpoint",
    "ExternalLimits",
    "CentralFrequency",
    "LocalFrequency",
    "LocalLoadBalancing",
)
COST_KINDS = ("CarbonDioxideEmission", "RelativePricePercentage", "RenewableGenerationPercentage")

INT32 = 2**31 - 1

# --------------------------------------------------------------------------- scalars

small_ints = st.integers(-(2**31), INT32)
non_negative_ints = st.integers(0, INT32)
finite_floats = st.floats(allow_nan=False, allow_infinity=False)


def _tenths() -> st.SearchStrategy[float]:
    """Floats whose JSON text has at most one decimal (``16.1``): the 1.6 ``multipleOf 0.1``."""
    return st.integers(-(10**7), 10**7).map(lambda k: k / 10)


tenths = _tenths()
"""A number that is a multiple of 0.1 as JSON text: an int or a one-decimal float."""
v16_numbers = st.one_of(st.integers(-(10**6), 10**6), tenths)
v2_numbers = st.one_of(st.integers(-(10**9), 10**9), tenths, finite_floats)
non_positive_numbers = st.one_of(
    st.integers(-(10**6), 0), st.floats(max_value=0, allow_nan=False, allow_infinity=False)
)

short_text = st.text(max_size=12)


_INSTANTS = st.datetimes(
    min_value=datetime(1950, 1, 1), max_value=datetime(2150, 12, 31, 23, 59, 59)
)
_OFFSETS = st.one_of(
    st.sampled_from(["Z", "Z", "z", "+00:00", "-00:00"]),
    st.builds(
        lambda sign, h, m: f"{sign}{h:02d}:{m:02d}",
        st.sampled_from("+-"),
        st.integers(0, 23),
        st.integers(0, 59),
    ),
)
_SEPARATORS = st.sampled_from("TTTt")
_FRACTION_DIGITS = st.integers(0, 9)


@st.composite
def timestamps(draw: Draw) -> str:
    """RFC 3339 text with an offset: ``Z``/``z`` or ``±hh:mm``, 0..9 fractional digits."""
    when = draw(_INSTANTS)
    text = when.strftime(f"%Y-%m-%d{draw(_SEPARATORS)}%H:%M:%S")
    digits = draw(_FRACTION_DIGITS)
    if digits:
        text += f".{draw(st.integers(0, 10**digits - 1)):0{digits}d}"
    return text + draw(_OFFSETS)


TIMESTAMPS = timestamps()


def utc_timestamp(when: datetime) -> str:
    """``when`` (naive = UTC) as ``YYYY-MM-DDThh:mm:ssZ``."""
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


EPOCH_2024 = datetime(2024, 1, 1, tzinfo=UTC)


def at(seconds: int) -> str:
    """The UTC timestamp ``seconds`` after 2024-01-01T00:00:00Z."""
    return utc_timestamp(EPOCH_2024 + timedelta(seconds=seconds))


# ------------------------------------------------------------------ opaque JSON

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    finite_floats,
    short_text,
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(short_text, children, max_size=3),
    ),
    max_leaves=4,
)
"""Any JSON value (null included), small."""


_VENDOR_KEYS = st.text(max_size=10).filter(lambda k: k != "vendorId")
_VENDOR_EXTRAS = st.dictionaries(_VENDOR_KEYS, json_values, max_size=2)


@st.composite
def custom_data(draw: Draw) -> dict[str, Json]:
    """``CustomDataType``: a ``vendorId`` and any vendor properties (the schema allows them)."""
    out: dict[str, Json] = {"vendorId": draw(st.text(max_size=40))}
    out.update(draw(_VENDOR_EXTRAS))
    return out


CUSTOM_DATA = custom_data()
_COIN = st.booleans()
_ONE_IN_FOUR = st.integers(0, 3)


def _optional(draw: Draw, out: dict[str, Json], key: str, strategy: st.SearchStrategy[Any]) -> None:
    """Set ``out[key]`` to a drawn value, or leave the key out."""
    if draw(_COIN):
        out[key] = draw(strategy)


def _rarely(draw: Draw, out: dict[str, Json], key: str, strategy: st.SearchStrategy[Any]) -> None:
    """Like :func:`_optional`, for costly values: present one time in four."""
    if draw(_ONE_IN_FOUR) == 0:
        out[key] = draw(strategy)


def _with_custom_data(draw: Draw, out: dict[str, Json]) -> dict[str, Json]:
    """``out``, sometimes with a ``customData`` (every 2.x object may carry one)."""
    _rarely(draw, out, "customData", CUSTOM_DATA)
    return out


# ----------------------------------------------- objects carried verbatim (opaque)

_SECONDS = st.integers(0, 86_400)
_SHORT_TEXTS = {n: st.text(max_size=n) for n in (20, 32)}


@st.composite
def _cost(draw: Draw) -> dict[str, Json]:
    c: dict[str, Json] = {"costKind": draw(st.sampled_from(COST_KINDS)), "amount": draw(small_ints)}
    _optional(draw, c, "amountMultiplier", st.integers(-3, 3))
    return _with_custom_data(draw, c)


_COSTS = st.lists(_cost(), min_size=1, max_size=3)


@st.composite
def _consumption_cost(draw: Draw) -> dict[str, Json]:
    c: dict[str, Json] = {"startValue": draw(v2_numbers), "cost": draw(_COSTS)}
    return _with_custom_data(draw, c)


_CONSUMPTION_COSTS = st.lists(_consumption_cost(), min_size=1, max_size=2)


@st.composite
def _tariff_entry(draw: Draw) -> dict[str, Json]:
    interval: dict[str, Json] = {"start": draw(_SECONDS)}
    _optional(draw, interval, "duration", _SECONDS)
    _with_custom_data(draw, interval)
    e: dict[str, Json] = {"relativeTimeInterval": interval}
    _optional(draw, e, "ePriceLevel", st.integers(0, 10))
    _rarely(draw, e, "consumptionCost", _CONSUMPTION_COSTS)
    return _with_custom_data(draw, e)


_TARIFF_ENTRIES = st.lists(_tariff_entry(), min_size=1, max_size=2)


@st.composite
def sales_tariffs(draw: Draw, v21: bool = False) -> dict[str, Json]:
    """A 2.x ``SalesTariffType`` (carried verbatim by the library; 2.1: ``id >= 0``)."""
    out: dict[str, Json] = {
        "id": draw(non_negative_ints if v21 else small_ints),
        "salesTariffEntry": draw(_TARIFF_ENTRIES),
    }
    _optional(draw, out, "salesTariffDescription", _SHORT_TEXTS[32])
    _optional(draw, out, "numEPriceLevels", st.integers(0, 10))
    return _with_custom_data(draw, out)


rational_numbers = st.fixed_dictionaries(
    {"exponent": st.integers(-5, 5), "value": st.integers(-(10**6), 10**6)}
)


@st.composite
def _price_rule(draw: Draw) -> dict[str, Json]:
    r: dict[str, Json] = {
        "energyFee": draw(rational_numbers),
        "powerRangeStart": draw(rational_numbers),
    }
    _optional(draw, r, "parkingFeePeriod", st.integers(0, 3600))
    _optional(draw, r, "carbonDioxideEmission", st.integers(0, 1000))
    _optional(draw, r, "renewableGenerationPercentage", st.integers(0, 100))
    _optional(draw, r, "parkingFee", rational_numbers)
    return _with_custom_data(draw, r)


_PRICE_RULE_STACKS = st.lists(
    st.fixed_dictionaries(
        {"duration": _SECONDS, "priceRule": st.lists(_price_rule(), min_size=1, max_size=2)}
    ),
    min_size=1,
    max_size=2,
)
_TAX_RULES = st.lists(
    st.fixed_dictionaries(
        {
            "taxRuleID": non_negative_ints,
            "appliesToEnergyFee": st.booleans(),
            "appliesToParkingFee": st.booleans(),
            "appliesToOverstayFee": st.booleans(),
            "appliesToMinimumMaximumCost": st.booleans(),
            "taxRate": rational_numbers,
        }
    ),
    min_size=1,
    max_size=2,
)
_OVERSTAY_RULE_LIST = st.fixed_dictionaries(
    {
        "overstayRule": st.lists(
            st.fixed_dictionaries(
                {
                    "startTime": _SECONDS,
                    "overstayFeePeriod": st.integers(0, 3600),
                    "overstayFee": rational_numbers,
                }
            ),
            min_size=1,
            max_size=2,
        )
    },
    optional={"overstayTimeThreshold": st.integers(0, 3600)},
)
_SERVICES = st.lists(
    st.fixed_dictionaries({"serviceName": _SHORT_TEXTS[20], "serviceFee": rational_numbers}),
    min_size=1,
    max_size=2,
)


@st.composite
def absolute_price_schedules(draw: Draw) -> dict[str, Json]:
    """A 2.1 ``AbsolutePriceScheduleType`` (carried verbatim by the library)."""
    out: dict[str, Json] = {
        "timeAnchor": draw(TIMESTAMPS),
        "priceScheduleID": draw(non_negative_ints),
        "currency": draw(st.sampled_from(["EUR", "USD", "SEK"])),
        "language": draw(st.sampled_from(["en", "nl-NL", "de"])),
        "priceAlgorithm": draw(st.sampled_from(["org.openchargealliance.costcalc", "x"])),
        "priceRuleStacks": draw(_PRICE_RULE_STACKS),
    }
    _optional(draw, out, "priceScheduleDescription", _SHORT_TEXTS[32])
    _optional(draw, out, "minimumCost", rational_numbers)
    _optional(draw, out, "maximumCost", rational_numbers)
    _rarely(draw, out, "taxRules", _TAX_RULES)
    _rarely(draw, out, "overstayRuleList", _OVERSTAY_RULE_LIST)
    _rarely(draw, out, "additionalSelectedServices", _SERVICES)
    return _with_custom_data(draw, out)


_PRICE_LEVEL_ENTRIES = st.lists(
    st.fixed_dictionaries({"duration": _SECONDS, "priceLevel": st.integers(0, 10)}),
    min_size=1,
    max_size=3,
)


@st.composite
def price_level_schedules(draw: Draw) -> dict[str, Json]:
    """A 2.1 ``PriceLevelScheduleType`` (carried verbatim by the library)."""
    out: dict[str, Json] = {
        "timeAnchor": draw(TIMESTAMPS),
        "priceScheduleId": draw(non_negative_ints),
        "numberOfPriceLevels": draw(st.integers(0, 10)),
        "priceLevelScheduleEntries": draw(_PRICE_LEVEL_ENTRIES),
    }
    _optional(draw, out, "priceScheduleDescription", _SHORT_TEXTS[32])
    return _with_custom_data(draw, out)


@st.composite
def _freq_watt_point(draw: Draw) -> dict[str, Json]:
    point: dict[str, Json] = {"frequency": draw(st.floats(45, 65)), "power": draw(v2_numbers)}
    return _with_custom_data(draw, point)


FREQ_WATT_CURVES = st.lists(_freq_watt_point(), min_size=1, max_size=4)
"""A 2.1 ``v2xFreqWattCurve``: 1..20 (frequency, power) points."""
SIGNAL_WATT_CURVES = st.lists(
    st.fixed_dictionaries({"signal": st.integers(-100, 100), "power": v2_numbers}),
    min_size=1,
    max_size=4,
)
"""A 2.1 ``v2xSignalWattCurve``: 1..20 (signal, power) points."""
SALES_TARIFFS = {False: sales_tariffs(), True: sales_tariffs(v21=True)}
ABSOLUTE_PRICE_SCHEDULES = absolute_price_schedules()
PRICE_LEVEL_SCHEDULES = price_level_schedules()


# --------------------------------------------------------------- schedule parts

_STEPS = st.lists(_SECONDS.map(lambda s: s + 1), max_size=2)
_PHASES_V201 = st.integers(1, 3)
_PHASES_V21 = st.integers(0, 3)
_V21_PERIOD_NUMBERS = (
    "limit_L2",
    "limit_L3",
    "setpoint",
    "setpoint_L2",
    "setpoint_L3",
    "setpointReactive",
    "setpointReactive_L2",
    "setpointReactive_L3",
    "v2xBaseline",
)


def _start_periods(draw: Draw) -> list[int]:
    """Strictly increasing start periods from 0 (1..3 periods)."""
    out = [0]
    for step in draw(_STEPS):
        out.append(out[-1] + step)
    return out


def _period(draw: Draw, start: int, version: str, plain: bool) -> dict[str, Json]:
    p: dict[str, Json] = {"startPeriod": start}
    if version == "1.6":
        p["limit"] = draw(v16_numbers)
        _optional(draw, p, "numberPhases", _PHASES_V201)
        return p
    if version == "2.0.1" or plain or draw(_ONE_IN_FOUR):  # 2.1: limit mostly present
        p["limit"] = draw(v2_numbers)
    phases = _PHASES_V201 if version == "2.0.1" or plain else _PHASES_V21
    _optional(draw, p, "numberPhases", phases)
    _optional(draw, p, "phaseToUse", phases)
    if version == "2.1" and not plain and draw(_COIN):
        for key in _V21_PERIOD_NUMBERS:
            _optional(draw, p, key, v2_numbers)
        for key in ("dischargeLimit", "dischargeLimit_L2", "dischargeLimit_L3"):
            _optional(draw, p, key, non_positive_numbers)
        _optional(draw, p, "preconditioningRequest", _COIN)
        _optional(draw, p, "evseSleep", _COIN)
        _optional(draw, p, "operationMode", st.sampled_from(OPERATION_MODES))
        _rarely(draw, p, "v2xFreqWattCurve", FREQ_WATT_CURVES)
        _rarely(draw, p, "v2xSignalWattCurve", SIGNAL_WATT_CURVES)
    return _with_custom_data(draw, p)


def _schedule(
    draw: Draw, version: str, kind: str, schedule_id: int | None, plain: bool
) -> dict[str, Json]:
    s: dict[str, Json] = {}
    if schedule_id is not None:
        s["id"] = schedule_id
    # startSchedule is drawn for every kind (the schema allows it on Relative too),
    # more often where it belongs.
    if draw(_ONE_IN_FOUR) if kind in ("Absolute", "Recurring") else draw(_COIN):
        s["startSchedule"] = draw(TIMESTAMPS)
    _optional(draw, s, "duration", st.integers(0, 10 * 86_400))
    s["chargingRateUnit"] = draw(st.sampled_from(UNITS))
    s["chargingSchedulePeriod"] = [
        _period(draw, start, version, plain) for start in _start_periods(draw)
    ]
    _optional(draw, s, "minChargingRate", v16_numbers if version == "1.6" else v2_numbers)
    if version == "1.6":
        return s
    _rarely(draw, s, "salesTariff", SALES_TARIFFS[version == "2.1"])
    if version == "2.1" and not plain:
        if draw(_COIN):
            soc: dict[str, Json] = {"soc": draw(st.integers(0, 100)), "limit": draw(v2_numbers)}
            s["limitAtSoC"] = _with_custom_data(draw, soc)
        _optional(draw, s, "powerTolerance", v2_numbers)
        _optional(draw, s, "signatureId", non_negative_ints)
        _optional(draw, s, "digestValue", _SHORT_TEXTS[20])
        _optional(draw, s, "useLocalTime", _COIN)
        _optional(draw, s, "randomizedDelay", st.integers(0, 3600))
        _rarely(draw, s, "absolutePriceSchedule", ABSOLUTE_PRICE_SCHEDULES)
        _rarely(draw, s, "priceLevelSchedule", PRICE_LEVEL_SCHEDULES)
    return _with_custom_data(draw, s)


_TX_V16 = st.integers(-(2**63), 2**63 - 1)
_TX_V2 = st.text(max_size=36)
_SCHEDULE_COUNT = st.sampled_from([1, 1, 1, 1, 1, 2, 3])


def _profile(draw: Draw, version: str, plain: bool = False) -> dict[str, Json]:
    """A profile of ``version``; ``plain``: a 2.1 profile that uses nothing only 2.1 has."""
    purposes = {"1.6": V16_PURPOSES, "2.0.1": V201_PURPOSES, "2.1": V21_PURPOSES}[version]
    kinds = V21_KINDS if version == "2.1" else V16_KINDS
    if plain:
        purposes, kinds = V201_PURPOSES, V16_KINDS
    purpose = draw(st.sampled_from(purposes))
    kind = draw(st.sampled_from(kinds))
    p: dict[str, Json] = {
        "chargingProfileId" if version == "1.6" else "id": draw(small_ints),
        "stackLevel": draw(st.integers(0, 100)),
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": kind,
    }
    if kind == "Recurring":
        p["recurrencyKind"] = draw(st.sampled_from(RECURRENCY_KINDS))
    else:
        _optional(draw, p, "recurrencyKind", st.sampled_from(RECURRENCY_KINDS))
    _optional(draw, p, "validFrom", TIMESTAMPS)
    _optional(draw, p, "validTo", TIMESTAMPS)
    if purpose == "TxProfile" or draw(_ONE_IN_FOUR) == 0:
        _optional(draw, p, "transactionId", _TX_V16 if version == "1.6" else _TX_V2)
    if version == "1.6":
        p["chargingSchedule"] = _schedule(draw, version, kind, None, plain)
        return p
    count = draw(_SCHEDULE_COUNT)
    ids = draw(st.lists(small_ints, min_size=count, max_size=count, unique=True))
    p["chargingSchedule"] = [_schedule(draw, version, kind, sid, plain) for sid in ids]
    if version == "2.1" and not plain:
        _optional(draw, p, "maxOfflineDuration", _SECONDS)
        _optional(draw, p, "invalidAfterOfflineDuration", _COIN)
        if kind == "Dynamic" or draw(_ONE_IN_FOUR) == 0:
            _optional(draw, p, "dynUpdateInterval", st.integers(0, 3600))
            _optional(draw, p, "dynUpdateTime", TIMESTAMPS)
        _optional(draw, p, "priceScheduleSignature", _SHORT_TEXTS[20])
    return _with_custom_data(draw, p)


# ---------------------------------------------------------------- public strategies

_EVSES = st.integers(0, 10)


@st.composite
def set_charging_profile_v16(draw: Draw) -> dict[str, Json]:
    """An OCPP 1.6 ``SetChargingProfile.req`` payload."""
    return {
        "connectorId": draw(_EVSES),
        "csChargingProfiles": _profile(draw, "1.6"),
    }


@st.composite
def set_charging_profile_v201(draw: Draw) -> dict[str, Json]:
    """An OCPP 2.0.1 ``SetChargingProfileRequest`` payload."""
    out: dict[str, Json] = {
        "evseId": draw(_EVSES),
        "chargingProfile": _profile(draw, "2.0.1"),
    }
    return _with_custom_data(draw, out)


@st.composite
def set_charging_profile_v21(draw: Draw) -> dict[str, Json]:
    """An OCPP 2.1 ``SetChargingProfileRequest`` payload.

    One in four uses nothing that only 2.1 has (it is then a valid 2.0.1 payload too).
    """
    out: dict[str, Json] = {
        "evseId": draw(_EVSES),
        "chargingProfile": _profile(draw, "2.1", plain=draw(_ONE_IN_FOUR) == 0),
    }
    return _with_custom_data(draw, out)


def set_charging_profile(version: str) -> st.SearchStrategy[dict[str, Json]]:
    """The payload strategy of ``version`` (``"1.6"``, ``"2.0.1"`` or ``"2.1"``)."""
    return _BY_VERSION[version]


VERSIONS = ("1.6", "2.0.1", "2.1")
_BY_VERSION = {
    "1.6": set_charging_profile_v16(),
    "2.0.1": set_charging_profile_v201(),
    "2.1": set_charging_profile_v21(),
}


# ------------------------------------------------------------- schema validation

_SCHEMA_DIRS = {"1.6": "v16", "2.0.1": "v201", "2.1": "v21"}


def _multiple_of(validator: Any, divisor: Any, instance: Any, schema: Any) -> Any:
    """``multipleOf`` on the decimal text of the number, as JSON means it.

    jsonschema divides binary floats (``0.3 / 0.1 == 2.9999999999999996``) and so
    rejects ``0.3`` as a multiple of 0.1; OCPP 1.6 means the JSON text ``0.3``.
    """
    if not validator.is_type(instance, "number"):
        return
    quotient = Fraction(Decimal(repr(instance))) / Fraction(Decimal(repr(divisor)))
    if quotient.denominator != 1:
        yield ValidationError(f"{instance!r} is not a multiple of {divisor}")


@functools.cache
def schema_validator(version: str, name: str) -> Any:
    """A validator for the official schema ``name`` of ``version``, checking date-times.

    ``name`` is the 2.x message name (``SetChargingProfileRequest``); for 1.6 the
    ``Request`` suffix is dropped, as the 1.6 files are named.
    """
    base = Path(ocpp.__file__).parent / _SCHEMA_DIRS[version] / "schemas"
    file_name = name.removesuffix("Request") if version == "1.6" else name
    schema = json.loads((base / f"{file_name}.json").read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls = jsonschema.validators.extend(cls, {"multipleOf": _multiple_of})
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def schema_errors(payload: Any, version: str, name: str) -> list[str]:
    """The schema violations of ``payload`` (empty when it is valid)."""
    validator = schema_validator(version, name)
    return [
        f"{'/'.join(str(p) for p in e.absolute_path)}: {e.message}"
        for e in validator.iter_errors(payload)
    ]


def assert_schema_valid(payload: Any, version: str, name: str) -> None:
    """Fail with every violation when ``payload`` is not valid against the official schema."""
    errors = schema_errors(payload, version, name)
    assert not errors, f"OCPP {version} {name} schema violations: {errors}\n{payload!r}"

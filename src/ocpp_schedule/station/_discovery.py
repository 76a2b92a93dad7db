"""A StationConfig from what the station reports about itself (issue 15, item 2).

A CSMS learns a station's smart-charging limits at boot: in OCPP 1.6 from a
GetConfiguration answer (a list of ``{key, readonly, value}``), in 2.0.1/2.1 from its
device model, as GetVariables answers or NotifyReport requests (the answer to GetReport)
give it. These functions read those payloads into a :class:`StationConfig`.

They are lenient where a station is sloppy and strict where a CSMS would be misled:

- keys and variables the library does not use are ignored (a station reports hundreds);
- a value that cannot be read, or is out of range, is **reported** as a
  :class:`ConfigProblem` naming the key, and that field keeps its default (or the
  ``base`` configuration's value): one bad key must not stop a CSMS from managing the
  station, and must not be silently taken either;
- a payload that is not the message it claims to be (wrong JSON types, unknown keys in
  its structure) is a :class:`~ocpp_schedule.PayloadError` naming the field.

The 1.6 keys are read exactly as :meth:`StationConfig.from_ocpp16_keys` reads them (the
same code, one key at a time), so the strict and the lenient reading cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError, PayloadError
from ..wire._enums import ChargingProfilePurpose, ChargingRateUnit, OperationMode
from ._config import StationConfig

__all__ = [
    "MAX_REPORTED_VARIABLES",
    "ConfigProblem",
    "DiscoveredConfig",
    "config_from_device_model",
    "config_from_get_configuration",
]

MAX_REPORTED_VARIABLES = 100_000
"""At most this many keys or variables are read, counted before any is read."""

_V16_USED = (
    "ChargeProfileMaxStackLevel",
    "ChargingScheduleAllowedChargingRateUnit",
    "ChargingScheduleMaxPeriods",
    "MaxChargingProfilesInstalled",
    "NumberOfConnectors",
    "ConnectorSwitch3to1PhaseSupported",
)


@dataclass(frozen=True)
class ConfigProblem:
    """A reported value the library could not use: which key, its text, and why."""

    key: str
    value: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.key} = {self.value!r}: {self.message}"


@dataclass(frozen=True)
class DiscoveredConfig:
    """The configuration read from a station's report, and what was used or refused.

    ``used`` lists the keys (1.6) or ``Component[.instance].Variable[instance]`` names
    (2.x) that set a field; ``problems`` those whose value was refused (the field kept
    its default or ``base`` value).
    """

    config: StationConfig
    used: tuple[str, ...]
    problems: tuple[ConfigProblem, ...]

    @property
    def complete(self) -> bool:
        """True when no reported value was refused."""
        return not self.problems


# --------------------------------------------------------------------------- 1.6


def config_from_get_configuration(
    answer: Mapping[str, Any] | Iterable[Mapping[str, Any]],
    *,
    base: StationConfig | None = None,
) -> DiscoveredConfig:
    """A configuration from a 1.6 GetConfiguration answer.

    ``answer`` is the ``GetConfiguration.conf`` payload (``configurationKey`` and
    ``unknownKey``) or its ``configurationKey`` list. Keys the library does not use are
    ignored; a key without a ``value`` was not reported. ``base`` gives the fields no key
    sets (default: :class:`StationConfig` defaults).
    """
    items = _v16_items(answer)
    values: dict[str, str] = {}
    for i, item in enumerate(items):
        key, value = _v16_item(item, f"configurationKey[{i}]")
        if key in _V16_USED and value is not None:
            values[key] = value
    fields = _base_fields(base)
    good: dict[str, str] = {}
    problems: list[ConfigProblem] = []
    for key, value in values.items():
        try:
            StationConfig.from_ocpp16_keys({key: value})
        except ConfigError as exc:
            problems.append(ConfigProblem(key, value, exc.message))
            continue
        good[key] = value
    config = StationConfig.from_ocpp16_keys(good, **_without_v16_fields(fields, good))
    return DiscoveredConfig(config, tuple(good), tuple(problems))


def _v16_items(answer: object) -> list[Any]:
    if isinstance(answer, Mapping):
        unknown = sorted(set(answer) - {"configurationKey", "unknownKey"})
        if unknown:
            raise PayloadError(
                "unknown field", field=unknown[0], rule="OCPP 1.6 GetConfiguration.conf"
            )
        items = answer.get("configurationKey", [])
    else:
        items = answer
    if isinstance(items, tuple):
        items = list(items)
    return _array(items, "configurationKey", "OCPP 1.6 GetConfiguration.conf")


def _v16_item(item: object, at: str) -> tuple[str, str | None]:
    rule = "OCPP 1.6 GetConfiguration.conf KeyValue"
    if not isinstance(item, Mapping):
        raise PayloadError("expected an object", field=at, rule=rule)
    unknown = sorted(set(item) - {"key", "readonly", "value"})
    if unknown:
        raise PayloadError("unknown field", field=f"{at}.{unknown[0]}", rule=rule)
    key, value = item.get("key"), item.get("value")
    if not isinstance(key, str):
        raise PayloadError("expected text", field=f"{at}.key", rule=rule)
    if not isinstance(item.get("readonly"), bool):
        raise PayloadError("expected a boolean", field=f"{at}.readonly", rule=rule)
    if value is not None and not isinstance(value, str):
        raise PayloadError("expected text", field=f"{at}.value", rule=rule)
    return key, value


_V16_FIELDS = {
    "ChargeProfileMaxStackLevel": "charge_profile_max_stack_level",
    "ChargingScheduleAllowedChargingRateUnit": "charging_schedule_allowed_charging_rate_unit",
    "ChargingScheduleMaxPeriods": "charging_schedule_max_periods",
    "MaxChargingProfilesInstalled": "max_charging_profiles_installed",
    "NumberOfConnectors": "evse_ids",
    "ConnectorSwitch3to1PhaseSupported": "connector_switch_3to1_phase_supported",
}


def _without_v16_fields(fields: dict[str, Any], keys: Mapping[str, str]) -> dict[str, Any]:
    """``base``'s fields less those the 1.6 keys set (the keys win)."""
    set_by_keys = {_V16_FIELDS[k] for k in keys}
    return {name: value for name, value in fields.items() if name not in set_by_keys}


# --------------------------------------------------------------------------- 2.0.1 / 2.1

_Parser = Callable[[str], Any]


def _integer(text: str) -> int:
    value = text.strip()
    if not value.lstrip("-").isdigit():
        raise ValueError("not an integer")
    return int(value)


def _boolean(text: str) -> bool:
    value = text.strip().lower()
    if value not in ("true", "false"):
        raise ValueError("expected true or false")
    return value == "true"


def _decimal(text: str) -> float:
    return float(text.strip())


def _members(kind: type[Any]) -> _Parser:
    def parse(text: str) -> frozenset[Any]:
        names = [t.strip() for t in text.split(",") if t.strip()]
        try:
            return frozenset(kind(name) for name in names)
        except ValueError:
            known = ", ".join(m.value for m in kind)
            raise ValueError(f"expected members of {known}") from None

    return parse


def _units(text: str) -> frozenset[ChargingRateUnit]:
    units = _members(ChargingRateUnit)(text)
    if not units:
        raise ValueError("a station supports at least one of A, W")
    return units  # type: ignore[no-any-return]


def _text(text: str) -> str:
    return text


# (component, variable, variable instance) -> (StationConfig field, parser)
_DEVICE_MODEL: dict[tuple[str, str, str | None], tuple[str, _Parser]] = {
    ("SmartChargingCtrlr", "ProfileStackLevel", None): ("charge_profile_max_stack_level", _integer),
    ("SmartChargingCtrlr", "RateUnit", None): (
        "charging_schedule_allowed_charging_rate_unit",
        _units,
    ),
    ("SmartChargingCtrlr", "PeriodsPerSchedule", None): ("charging_schedule_max_periods", _integer),
    ("SmartChargingCtrlr", "ACPhaseSwitchingSupported", None): (
        "ac_phase_switching_supported",
        _boolean,
    ),
    ("SmartChargingCtrlr", "Phases3to1", None): ("connector_switch_3to1_phase_supported", _boolean),
    ("SmartChargingCtrlr", "SupportedAdditionalPurposes", None): (
        "supported_additional_purposes",
        _members(ChargingProfilePurpose),
    ),
    ("SmartChargingCtrlr", "MaxExternalConstraintsId", None): (
        "max_external_constraints_id",
        _integer,
    ),
    ("SmartChargingCtrlr", "SupportsFeature", "DynamicProfiles"): (
        "supports_dynamic_profiles",
        _boolean,
    ),
    ("SmartChargingCtrlr", "SupportsFeature", "UseLocalTime"): (
        "supports_use_local_time",
        _boolean,
    ),
    ("SmartChargingCtrlr", "SupportsFeature", "RandomizedDelay"): (
        "supports_randomized_delay",
        _boolean,
    ),
    ("SmartChargingCtrlr", "SupportsFeature", "LimitAtSoC"): ("supports_limit_at_soc", _boolean),
    ("SmartChargingCtrlr", "SupportsFeature", "EvseSleep"): ("supports_evse_sleep", _boolean),
    ("SmartChargingCtrlr", "V2XSupportedOperationModes", None): (
        "v2x_supported_operation_modes",
        _members(OperationMode),
    ),
    # EVerest's SmartChargingCtrlr variables (not OCPP's, but what libocpp stations report)
    ("SmartChargingCtrlr", "CompositeScheduleDefaultLimitAmps", None): (
        "composite_schedule_default_limit_amps",
        _decimal,
    ),
    ("SmartChargingCtrlr", "CompositeScheduleDefaultLimitWatts", None): (
        "composite_schedule_default_limit_watts",
        _decimal,
    ),
    ("SmartChargingCtrlr", "CompositeScheduleDefaultNumberPhases", None): (
        "default_number_phases",
        _integer,
    ),
    ("SmartChargingCtrlr", "SupplyVoltage", None): ("supply_voltage", _decimal),
    ("ClockCtrlr", "TimeZone", None): ("time_zone", _text),
}
_ENTRIES = ("SmartChargingCtrlr", "Entries", "ChargingProfiles")


@dataclass(frozen=True)
class _Reported:
    """One variable's Actual value (and a report's maxLimit), as a station reported it."""

    component: str
    evse_id: int | None
    variable: str
    instance: str | None
    value: str | None
    max_limit: float | None = None

    @property
    def name(self) -> str:
        evse = f"[EVSE {self.evse_id}]" if self.evse_id is not None else ""
        inst = f"[{self.instance}]" if self.instance else ""
        return f"{self.component}{evse}.{self.variable}{inst}"


def config_from_device_model(
    reports: Mapping[str, Any] | Iterable[Mapping[str, Any]],
    *,
    base: StationConfig | None = None,
) -> DiscoveredConfig:
    """A configuration from a 2.0.1/2.1 station's device model.

    ``reports`` is one payload or a list of them, each a GetVariables response
    (``getVariableResult``) or a NotifyReport request (``reportData``, the answer to
    GetReport, possibly in several parts). Only ``Actual`` values of accepted results are
    read. What is read: ``SmartChargingCtrlr`` (ProfileStackLevel, RateUnit,
    PeriodsPerSchedule, ACPhaseSwitchingSupported, Phases3to1, Entries[ChargingProfiles]
    ``maxLimit`` from a report's characteristics, the 2.1 SupportedAdditionalPurposes,
    MaxExternalConstraintsId, SupportsFeature[...], V2XSupportedOperationModes, and
    EVerest's CompositeScheduleDefault* and SupplyVoltage), ``ClockCtrlr.TimeZone``, and
    the EVSE components: their ids, and ``SupplyPhases`` 0 (DC) and the 2.1
    ``DCInputPhaseControl``.
    """
    found = _device_variables(reports)
    data: dict[str, Any] = {}
    used: list[str] = []
    problems: list[ConfigProblem] = []
    for item in found:
        _take(item, data, used, problems)
    _take_evses(found, data, used, problems)
    fields = {**_base_fields(base), **data}
    return DiscoveredConfig(StationConfig(**fields), tuple(used), tuple(problems))


def _take(
    item: _Reported, data: dict[str, Any], used: list[str], problems: list[ConfigProblem]
) -> None:
    """Read one variable into ``data`` when the library uses it; refuse a bad value."""
    key = (item.component, item.variable, item.instance)
    if key == _ENTRIES and item.max_limit is not None:
        _accept(item, "max_charging_profiles_installed", item.max_limit, data, used, problems)
        return
    entry = _DEVICE_MODEL.get(key)
    if entry is None or item.value is None or item.evse_id is not None:
        return
    field_name, parse = entry
    try:
        value = parse(item.value)
    except ValueError as exc:
        problems.append(ConfigProblem(item.name, item.value, str(exc)))
        return
    _accept(item, field_name, value, data, used, problems)


def _accept(
    item: _Reported,
    field_name: str,
    value: Any,
    data: dict[str, Any],
    used: list[str],
    problems: list[ConfigProblem],
) -> None:
    """Keep ``value`` for ``field_name`` when StationConfig accepts it alone."""
    if field_name == "max_charging_profiles_installed":
        if value != int(value):
            problems.append(ConfigProblem(item.name, str(value), "maxLimit is not an integer"))
            return
        value = int(value)
    try:
        StationConfig(**{field_name: value})
    except ConfigError as exc:
        problems.append(
            ConfigProblem(
                item.name, item.value if item.value is not None else str(value), exc.message
            )
        )
        return
    data[field_name] = value
    used.append(item.name)


def _take_evses(
    found: list[_Reported], data: dict[str, Any], used: list[str], problems: list[ConfigProblem]
) -> None:
    """The EVSE ids the device model names, and which of them are DC."""
    evses = sorted({i.evse_id for i in found if i.evse_id is not None and i.evse_id > 0})
    if evses:
        try:
            StationConfig(evse_ids=tuple(evses))
        except ConfigError as exc:
            problems.append(ConfigProblem("EVSE components", str(len(evses)), exc.message))
        else:
            data["evse_ids"] = tuple(evses)
            used.append("EVSE components")
    dc: set[int] = set()
    for item in found:
        if item.component != "EVSE" or item.evse_id is None or item.value is None:
            continue
        if item.variable == "SupplyPhases":
            try:
                phases = _integer(item.value)
            except ValueError as exc:
                problems.append(ConfigProblem(item.name, item.value, str(exc)))
                continue
            if phases == 0:
                dc.add(item.evse_id)
            used.append(item.name)
        elif item.variable == "DCInputPhaseControl":
            try:
                data["dc_input_phase_control"] = data.get(
                    "dc_input_phase_control", False
                ) or _boolean(item.value)
            except ValueError as exc:
                problems.append(ConfigProblem(item.name, item.value, str(exc)))
                continue
            used.append(item.name)
    if dc:
        data["dc_evse_ids"] = frozenset(dc)


def _device_variables(reports: object) -> list[_Reported]:
    payloads = [reports] if isinstance(reports, Mapping) else reports
    if isinstance(payloads, str | bytes) or not isinstance(payloads, Iterable):
        raise PayloadError("expected a payload or a list of payloads", field="reports")
    out: list[_Reported] = []
    for n, payload in enumerate(payloads):
        at = f"reports[{n}]"
        if not isinstance(payload, Mapping):
            raise PayloadError("expected an object", field=at)
        if "getVariableResult" in payload:
            out.extend(_get_variables(payload, at))
        elif "reportData" in payload or "requestId" in payload:
            out.extend(_notify_report(payload, at))
        else:
            raise PayloadError(
                "expected a GetVariables response (getVariableResult) or a NotifyReport request "
                "(reportData)",
                field=at,
            )
        if len(out) > MAX_REPORTED_VARIABLES:
            raise PayloadError(
                f"more than {MAX_REPORTED_VARIABLES} variables",
                field=at,
                rule="resource bound (docs/robustness.md)",
            )
    return out


def _get_variables(payload: Mapping[str, Any], at: str) -> list[_Reported]:
    rule = "GetVariablesResponse"
    _known(payload, {"getVariableResult", "customData"}, at, rule)
    results = _array(payload["getVariableResult"], f"{at}.getVariableResult", rule)
    out = []
    for i, result in enumerate(results):
        where = f"{at}.getVariableResult[{i}]"
        if not isinstance(result, Mapping):
            raise PayloadError("expected an object", field=where, rule=rule)
        _known(
            result,
            {
                "attributeStatus",
                "attributeStatusInfo",
                "attributeType",
                "attributeValue",
                "component",
                "variable",
                "customData",
            },
            where,
            rule,
        )
        status = result.get("attributeStatus")
        if not isinstance(status, str):
            raise PayloadError("expected text", field=f"{where}.attributeStatus", rule=rule)
        if status != "Accepted" or result.get("attributeType", "Actual") != "Actual":
            continue
        value = _optional_text(result.get("attributeValue"), f"{where}.attributeValue", rule)
        out.append(_reported(result, value, None, where, rule))
    return out


def _notify_report(payload: Mapping[str, Any], at: str) -> list[_Reported]:
    rule = "NotifyReportRequest"
    _known(
        payload, {"requestId", "generatedAt", "tbc", "seqNo", "reportData", "customData"}, at, rule
    )
    out = []
    for i, data in enumerate(_array(payload.get("reportData", []), f"{at}.reportData", rule)):
        where = f"{at}.reportData[{i}]"
        if not isinstance(data, Mapping):
            raise PayloadError("expected an object", field=where, rule=rule)
        _known(
            data,
            {"component", "variable", "variableAttribute", "variableCharacteristics", "customData"},
            where,
            rule,
        )
        value = None
        for j, attribute in enumerate(
            _array(data.get("variableAttribute", []), f"{where}.variableAttribute", rule)
        ):
            a_at = f"{where}.variableAttribute[{j}]"
            if not isinstance(attribute, Mapping):
                raise PayloadError("expected an object", field=a_at, rule=rule)
            if attribute.get("type", "Actual") == "Actual":
                value = _optional_text(attribute.get("value"), f"{a_at}.value", rule)
        out.append(_reported(data, value, _max_limit(data, where, rule), where, rule))
    return out


def _max_limit(data: Mapping[str, Any], at: str, rule: str) -> float | None:
    chars = data.get("variableCharacteristics")
    if chars is None:
        return None
    if not isinstance(chars, Mapping):
        raise PayloadError("expected an object", field=f"{at}.variableCharacteristics", rule=rule)
    limit = chars.get("maxLimit")
    if limit is None:
        return None
    if isinstance(limit, bool) or not isinstance(limit, int | float):
        raise PayloadError(
            "expected a number", field=f"{at}.variableCharacteristics.maxLimit", rule=rule
        )
    return float(limit)


def _reported(
    obj: Mapping[str, Any], value: str | None, max_limit: float | None, at: str, rule: str
) -> _Reported:
    component, variable = obj.get("component"), obj.get("variable")
    if not isinstance(component, Mapping) or not isinstance(component.get("name"), str):
        raise PayloadError("expected a component with a name", field=f"{at}.component", rule=rule)
    if not isinstance(variable, Mapping) or not isinstance(variable.get("name"), str):
        raise PayloadError("expected a variable with a name", field=f"{at}.variable", rule=rule)
    evse = component.get("evse")
    evse_id = None
    if evse is not None:
        if (
            not isinstance(evse, Mapping)
            or isinstance(evse.get("id"), bool)
            or not isinstance(evse.get("id"), int)
        ):
            raise PayloadError(
                "expected an EVSE with an integer id", field=f"{at}.component.evse", rule=rule
            )
        evse_id = evse["id"]
    instance = _optional_text(variable.get("instance"), f"{at}.variable.instance", rule)
    return _Reported(component["name"], evse_id, variable["name"], instance, value, max_limit)


def _known(obj: Mapping[str, Any], allowed: set[str], at: str, rule: str) -> None:
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise PayloadError("unknown field", field=f"{at}.{unknown[0]}", rule=rule)


def _array(value: object, at: str, rule: str) -> list[Any]:
    if not isinstance(value, list):
        raise PayloadError("expected an array", field=at, rule=rule)
    if len(value) > MAX_REPORTED_VARIABLES:
        raise PayloadError(
            f"more than {MAX_REPORTED_VARIABLES} entries",
            field=at,
            rule="resource bound (docs/robustness.md)",
        )
    return value


def _optional_text(value: object, at: str, rule: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise PayloadError("expected text", field=at, rule=rule)
    return value


def _base_fields(base: StationConfig | None) -> dict[str, Any]:
    if base is None:
        return {}
    if not isinstance(base, StationConfig):
        raise ConfigError("base must be a StationConfig", field="base")
    return {name: getattr(base, name) for name in base.model_fields_set}

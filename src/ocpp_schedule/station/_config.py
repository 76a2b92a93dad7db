"""The station's Smart Charging configuration as one typed, immutable object.

Field names follow the OCPP 1.6 configuration keys (in snake_case) and each
field's description names the OCPP 2.0.1/2.1 ``SmartChargingCtrlr`` variable
it mirrors. Defaults are generous, so that a station described by nothing but
defaults accepts any profile the specifications allow; tighten them to model a
real station (``from_ocpp16_keys`` reads a GetConfiguration answer).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import ConfigDict, Field, ValidationError, field_validator

from ..errors import ConfigError
from ..wire._docstrings import DocumentedModel
from ..wire._enums import ChargingProfilePurpose, ChargingRateUnit, OperationMode

__all__ = [
    "MAX_EVSE_COUNT",
    "MAX_EVSE_ID",
    "MAX_SUPPLY_VOLTAGE",
    "MIN_SUPPLY_VOLTAGE",
    "StationConfig",
]

MAX_EVSE_COUNT = 1_000
"""The most EVSEs a configuration may list (docs/robustness.md); checked before any is built."""
MAX_EVSE_ID = 2**31 - 1
"""The largest EVSE (1.6: connector) id: OCPP integers are 32-bit."""
MIN_SUPPLY_VOLTAGE = 1.0
"""The lowest supply voltage accepted (V); below it W <-> A conversions overflow to nonsense."""
MAX_SUPPLY_VOLTAGE = 100_000.0
"""The highest supply voltage accepted (V)."""

SupplyVoltage = Annotated[float, Field(ge=MIN_SUPPLY_VOLTAGE, le=MAX_SUPPLY_VOLTAGE)]
"""A supply voltage in V (line to neutral), finite, within the bounds above."""
PhaseCount = Annotated[int, Field(ge=1, le=3)]
"""A number of phases: 1, 2 or 3."""
_MAX_DEFAULT_LIMIT = 1e9
"""The largest default limit (A or W), the same bound as every limit (``wire.MAX_LIMIT``)."""

_ALL_UNITS = frozenset({ChargingRateUnit.A, ChargingRateUnit.W})


class StationConfig(DocumentedModel):
    """What a station accepts and how it computes composite schedules."""

    # DocumentedModel: attribute docstrings as descriptions, built on first use (issue 15 item 7)
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    if not TYPE_CHECKING:
        # At run time every out-of-range value is a ConfigError naming the field; type
        # checkers keep the typed constructor pydantic synthesizes.
        def __init__(self, **data: Any) -> None:
            try:
                super().__init__(**data)
            except ValidationError as exc:
                raise _config_error(exc) from None

        @classmethod
        def model_validate(cls, obj: Any, **kwargs: Any) -> StationConfig:
            try:
                return super().model_validate(obj, **kwargs)
            except ValidationError as exc:
                raise _config_error(exc) from None

    evse_ids: tuple[int, ...] | None = Field(
        default=None,
        description="EVSEs (1.6: connectors) the station has, ids > 0. None: every id > 0 is "
        "known, so K01.FR.28 cannot reject; the EVSE-0 composite then uses the EVSEs named "
        "by the installed profiles. Mirrors 1.6 NumberOfConnectors / 2.0.1 EVSE components.",
    )
    charge_profile_max_stack_level: int = Field(
        default=100,
        ge=0,
        description="1.6 ChargeProfileMaxStackLevel; 2.0.1 SmartChargingCtrlr.ProfileStackLevel.",
    )
    charging_schedule_allowed_charging_rate_unit: frozenset[ChargingRateUnit] = Field(
        default=_ALL_UNITS,
        description="1.6 ChargingScheduleAllowedChargingRateUnit (Current -> A, Power -> W); "
        "2.0.1 SmartChargingCtrlr.RateUnit.",
    )
    charging_schedule_max_periods: int = Field(
        default=1024,
        ge=1,
        description="1.6 ChargingScheduleMaxPeriods; 2.0.1 SmartChargingCtrlr.PeriodsPerSchedule.",
    )
    max_charging_profiles_installed: int = Field(
        default=1000,
        ge=1,
        description="1.6 MaxChargingProfilesInstalled; 2.0.1 SmartChargingCtrlr.Entries"
        "[ChargingProfiles].maxLimit.",
    )
    ac_phase_switching_supported: bool = Field(
        default=False, description="2.0.1 SmartChargingCtrlr.ACPhaseSwitchingSupported."
    )
    connector_switch_3to1_phase_supported: bool = Field(
        default=False,
        description="1.6 ConnectorSwitch3to1PhaseSupported; 2.0.1 SmartChargingCtrlr.Phases3to1.",
    )
    supply_voltage: SupplyVoltage = Field(
        default=230.0,
        description="Nominal line-to-neutral voltage used for W <-> A (K01.FR.50), 1..100 000 V.",
    )
    default_number_phases: PhaseCount = Field(
        default=3,
        description="Phases assumed where a period names none (1.6 §7.14, K01.FR.49).",
    )
    composite_schedule_default_limit_amps: float = Field(
        default=48.0,
        ge=0,
        le=_MAX_DEFAULT_LIMIT,
        description="Limit where no profile is in force, in A (the EVSE's hardware limit; "
        "EVerest's CompositeScheduleDefaultLimitAmps).",
    )
    composite_schedule_default_limit_watts: float = Field(
        default=33_120.0,
        ge=0,
        le=_MAX_DEFAULT_LIMIT,
        description="Limit where no profile is in force, in W (48 A at 230 V on 3 phases; "
        "EVerest's CompositeScheduleDefaultLimitWatts).",
    )
    supported_additional_purposes: frozenset[ChargingProfilePurpose] = Field(
        default=frozenset(),
        description="2.1 SmartChargingCtrlr.SupportedAdditionalPurposes "
        "(PriorityCharging, LocalGeneration).",
    )
    v2x_supported_operation_modes: frozenset[OperationMode] = Field(
        default=frozenset(),
        description="2.1 V2XSupportedOperationModes: operation modes besides ChargingOnly that "
        "the station accepts (K01.FR.115).",
    )
    supports_dynamic_profiles: bool = Field(
        default=False, description="2.1 SmartChargingCtrlr.SupportsFeature[DynamicProfiles]."
    )
    supports_use_local_time: bool = Field(
        default=False, description="2.1 SmartChargingCtrlr.SupportsFeature[UseLocalTime]."
    )
    supports_randomized_delay: bool = Field(
        default=False, description="2.1 SmartChargingCtrlr.SupportsFeature[RandomizedDelay]."
    )
    supports_limit_at_soc: bool = Field(
        default=False, description="2.1 SmartChargingCtrlr.SupportsFeature[LimitAtSoC]."
    )
    supports_evse_sleep: bool = Field(
        default=False, description="2.1 SmartChargingCtrlr.SupportsFeature[EvseSleep]."
    )
    dc_evse_ids: frozenset[int] = Field(
        default=frozenset(),
        description="The EVSEs of type DC; the others are AC (the default: all AC). Not an OCPP "
        "variable but the EVSE's kind, which K01.FR.43/44/54 depend on (docs/semantics.md "
        "V21-33).",
    )
    dc_input_phase_control: bool = Field(
        default=False,
        description="2.1 EVSE.DCInputPhaseControl, for every DC EVSE: numberPhases/phaseToUse "
        "select the DC EVSE's input phases (K01.FR.54) instead of being rejected (K01.FR.44).",
    )
    min_enforceable_phases: PhaseCount = Field(
        default=1,
        description="The fewest phases the station can hold an AC EVSE's charging to: a "
        "numberPhases below it cannot be ensured and is Rejected (K01.FR.43). The default 1 "
        "means any numberPhases can be ensured (docs/semantics.md V21-34). Not an OCPP variable.",
    )
    max_external_constraints_id: int | None = Field(
        default=None, description="2.1 SmartChargingCtrlr.MaxExternalConstraintsId (K01.FR.81)."
    )
    external_constraints_profile_disallowed: bool = Field(
        default=False,
        description="2.1 SmartChargingCtrlr.ExternalConstraintsProfileDisallowed: external "
        "limits are ignored, no ChargingStationExternalConstraints profile is made "
        "(K11.FR.07, Q06.FR.08).",
    )
    iso15118_schedules: bool = Field(
        default=False,
        description="True when the EV negotiates schedules over ISO 15118, so a profile may "
        "carry up to three schedules (K01.FR.34).",
    )
    limit_decimal_places: int | None = Field(
        default=None,
        ge=0,
        description="Decimal places a period's limit (and limit_L2/limit_L3) may have, as its "
        "JSON text writes it. None: any. Not an OCPP variable: a property of the station's "
        "firmware (OCPP 1.6's schema itself allows one, multipleOf 0.1).",
    )
    relative_max_profile_supported: bool = Field(
        default=True,
        description="Whether the station accepts a Relative ChargePointMaxProfile / "
        "ChargingStationMaxProfile (2.x rejects one anyway: K01.FR.38). Not an OCPP variable.",
    )
    recurring_max_profile_supported: bool = Field(
        default=True,
        description="Whether the station accepts a Recurring ChargePointMaxProfile / "
        "ChargingStationMaxProfile. Not an OCPP variable.",
    )
    time_zone: str | None = Field(
        default=None,
        description="IANA time zone of the station's local time (2.1 useLocalTime; "
        "2.0.1 ClockCtrlr.TimeZone).",
    )

    @field_validator("evse_ids")
    @classmethod
    def _positive_evses(cls, value: tuple[int, ...] | None) -> tuple[int, ...] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("a station has at least one EVSE")
        if len(value) > MAX_EVSE_COUNT:
            raise ValueError(f"{len(value)} EVSEs; a station has at most {MAX_EVSE_COUNT}")
        if any(e <= 0 for e in value):
            raise ValueError("EVSE ids are > 0 (EVSE 0 is the station itself)")
        if any(e > MAX_EVSE_ID for e in value):
            raise ValueError(f"EVSE ids are at most {MAX_EVSE_ID} (OCPP integers are 32-bit)")
        return tuple(sorted(set(value)))

    def default_limit(self, unit: ChargingRateUnit) -> float:
        """The limit where no profile is in force, in ``unit``."""
        if unit is ChargingRateUnit.A:
            return self.composite_schedule_default_limit_amps
        return self.composite_schedule_default_limit_watts

    def knows_evse(self, evse_id: int) -> bool:
        """True for EVSE 0 and for every EVSE the station has."""
        if evse_id == 0:
            return True
        if evse_id < 0:
            return False
        return self.evse_ids is None or evse_id in self.evse_ids

    @classmethod
    def with_evses(cls, count: int, **fields: Any) -> StationConfig:
        """A configuration for a station with EVSEs 1..count (1..:data:`MAX_EVSE_COUNT`).

        The count is checked before any id is built: ``with_evses(10**9)`` is a
        :class:`ConfigError` at once, not a billion-element tuple.
        """
        return cls(evse_ids=_evse_range(count, "evses"), **fields)

    @classmethod
    def from_ocpp16_keys(cls, keys: Mapping[str, str], **fields: Any) -> StationConfig:
        """Build from 1.6 configuration keys as GetConfiguration reports them (values as text).

        A value that is not an integer, an unknown unit or a value out of range raises
        :class:`ConfigError` naming the key; other keys are ignored.
        """
        data: dict[str, Any] = dict(fields)
        try:
            if "ChargeProfileMaxStackLevel" in keys:
                data["charge_profile_max_stack_level"] = int(keys["ChargeProfileMaxStackLevel"])
            if "ChargingScheduleMaxPeriods" in keys:
                data["charging_schedule_max_periods"] = int(keys["ChargingScheduleMaxPeriods"])
            if "MaxChargingProfilesInstalled" in keys:
                data["max_charging_profiles_installed"] = int(keys["MaxChargingProfilesInstalled"])
            if "NumberOfConnectors" in keys:
                count = int(keys["NumberOfConnectors"])
                data["evse_ids"] = _evse_range(count, "NumberOfConnectors")
        except ConfigError as exc:
            raise ConfigError(
                f"{keys['NumberOfConnectors']!r} is out of range: {exc.message}",
                field="NumberOfConnectors",
                rule="OCPP 1.6 §9.4",
            ) from None
        except ValueError as exc:
            raise ConfigError(f"not an integer: {exc}", rule="OCPP 1.6 §9.4") from None
        if "ChargingScheduleAllowedChargingRateUnit" in keys:
            names = {"current": ChargingRateUnit.A, "power": ChargingRateUnit.W}
            units = set()
            for item in keys["ChargingScheduleAllowedChargingRateUnit"].split(","):
                name = item.strip().lower()
                if name not in names:
                    raise ConfigError(
                        f"unknown unit {item.strip()!r}; expected Current or Power",
                        field="ChargingScheduleAllowedChargingRateUnit",
                        rule="OCPP 1.6 §9.4",
                    )
                units.add(names[name])
            data["charging_schedule_allowed_charging_rate_unit"] = frozenset(units)
        if "ConnectorSwitch3to1PhaseSupported" in keys:
            value = keys["ConnectorSwitch3to1PhaseSupported"].strip().lower() == "true"
            data["connector_switch_3to1_phase_supported"] = value
        try:
            return cls(**data)
        except ConfigError as exc:
            key = _OCPP16_KEYS.get(exc.field or "")
            if key is None or key not in keys:
                raise
            raise ConfigError(
                f"{keys[key]!r} is out of range: {exc.message}",
                field=key,
                rule="OCPP 1.6 §9.4",
            ) from None


def _evse_range(count: Any, field: str) -> tuple[int, ...]:
    """EVSE ids 1..count, the count checked (type and bound) before the tuple is built."""
    if isinstance(count, bool) or not isinstance(count, int):
        raise ConfigError(f"expected an integer count, got {count!r}", field=field)
    if count < 1:
        raise ConfigError("a station has at least one EVSE", field=field)
    if count > MAX_EVSE_COUNT:
        raise ConfigError(
            f"a station has at most {MAX_EVSE_COUNT} EVSEs",
            field=field,
            rule="docs/robustness.md (MAX_EVSE_COUNT)",
        )
    return tuple(range(1, count + 1))


def _config_error(exc: ValidationError) -> ConfigError:
    """pydantic's first error as a :class:`ConfigError` naming the field."""
    err = exc.errors()[0]
    loc = err["loc"]
    field = str(loc[0]) if loc else None
    why = str(err["msg"]).removeprefix("Value error, ")
    value = err.get("input")
    shown = f"{value!r}: " if isinstance(value, str | int | float) and len(repr(value)) < 40 else ""
    error = ConfigError(f"{shown}{why}"[:300], field=field, rule="StationConfig")
    return error


_OCPP16_KEYS = {
    "charge_profile_max_stack_level": "ChargeProfileMaxStackLevel",
    "charging_schedule_max_periods": "ChargingScheduleMaxPeriods",
    "max_charging_profiles_installed": "MaxChargingProfilesInstalled",
    "evse_ids": "NumberOfConnectors",
}

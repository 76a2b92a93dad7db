"""Station configuration (config.py): defaults (decision S8), 1.6 keys, validation, EVSEs."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from ocpp_schedule import ChargingProfilePurpose, ChargingRateUnit, ConfigError, StationConfig

A, W = ChargingRateUnit.A, ChargingRateUnit.W


def keys(**values: str) -> dict[str, str]:
    """1.6 GetConfiguration values (text), keyed by their OCPP names."""
    return dict(values)


# --------------------------------------------------------------------------- defaults (S8)


def test_s8_defaults() -> None:
    cfg = StationConfig()
    assert cfg.evse_ids is None
    assert cfg.charge_profile_max_stack_level == 100
    assert cfg.charging_schedule_max_periods == 1024
    assert cfg.max_charging_profiles_installed == 1000
    assert cfg.charging_schedule_allowed_charging_rate_unit == frozenset({A, W})
    assert cfg.supply_voltage == 230.0
    assert cfg.default_number_phases == 3
    assert cfg.composite_schedule_default_limit_amps == 48.0
    assert cfg.composite_schedule_default_limit_watts == 33_120.0
    assert cfg.ac_phase_switching_supported is False
    assert cfg.connector_switch_3to1_phase_supported is False
    assert cfg.supported_additional_purposes == frozenset()
    assert cfg.supports_dynamic_profiles is False
    assert cfg.supports_use_local_time is False
    assert cfg.supports_randomized_delay is False
    assert cfg.supports_limit_at_soc is False
    assert cfg.supports_evse_sleep is False
    assert cfg.max_external_constraints_id is None
    assert cfg.iso15118_schedules is False
    assert cfg.time_zone is None


def test_s8_default_watts_are_48_amps_at_230_volts_on_3_phases() -> None:
    cfg = StationConfig()
    assert cfg.default_limit(W) == 48 * 230 * 3
    assert cfg.default_limit(A) == 48.0


def test_default_limit_follows_configuration() -> None:
    cfg = StationConfig(
        composite_schedule_default_limit_amps=32.0, composite_schedule_default_limit_watts=7400.0
    )
    assert (cfg.default_limit(A), cfg.default_limit(W)) == (32.0, 7400.0)


def test_config_is_frozen_and_closed() -> None:
    cfg = StationConfig()
    with pytest.raises(ValidationError):
        cfg.supply_voltage = 240.0  # type: ignore[misc]
    with pytest.raises(ConfigError):
        StationConfig(max_stack_level=3)  # type: ignore[call-arg]


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("charge_profile_max_stack_level", -1),
        ("charging_schedule_max_periods", 0),
        ("max_charging_profiles_installed", 0),
        ("supply_voltage", 0.0),
        ("supply_voltage", -230.0),
        ("supply_voltage", float("inf")),
        ("supply_voltage", float("nan")),
        ("supply_voltage", 1e-300),
        ("supply_voltage", 0.5),
        ("supply_voltage", 100_001.0),
        ("composite_schedule_default_limit_amps", float("inf")),
        ("composite_schedule_default_limit_amps", 1e308),
        ("composite_schedule_default_limit_watts", 1e9 + 1),
        ("composite_schedule_default_limit_watts", float("nan")),
        ("evse_ids", tuple(range(1, 1002))),
        ("evse_ids", (2**31,)),
        ("no_such_field", 1),
        ("default_number_phases", 0),
        ("default_number_phases", 4),
        ("composite_schedule_default_limit_amps", -0.1),
        ("composite_schedule_default_limit_watts", -1.0),
        ("evse_ids", (0, 1)),
        ("evse_ids", (-1,)),
        ("evse_ids", ()),
        ("charging_schedule_allowed_charging_rate_unit", frozenset({"V"})),
        ("supported_additional_purposes", frozenset({"Unknown"})),
    ],
)
def test_bad_values_are_rejected(field: str, value: Any) -> None:
    """Out-of-range values are a ConfigError naming the field (F13), not pydantic's error."""
    with pytest.raises(ConfigError) as err:
        StationConfig(**{field: value})
    assert err.value.field == field
    with pytest.raises(ConfigError):
        StationConfig.model_validate({field: value})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("charge_profile_max_stack_level", 0),
        ("charging_schedule_max_periods", 1),
        ("max_charging_profiles_installed", 1),
        ("default_number_phases", 1),
        ("composite_schedule_default_limit_amps", 0.0),
    ],
)
def test_boundary_values_are_accepted(field: str, value: Any) -> None:
    assert getattr(StationConfig(**{field: value}), field) == value


def test_evse_ids_are_sorted_and_unique() -> None:
    assert StationConfig(evse_ids=(3, 1, 3)).evse_ids == (1, 3)


def test_units_and_purposes_accept_their_text() -> None:
    cfg = StationConfig(
        charging_schedule_allowed_charging_rate_unit=frozenset({"W"}),
        supported_additional_purposes=frozenset({"PriorityCharging"}),
    )
    assert cfg.charging_schedule_allowed_charging_rate_unit == frozenset({W})
    assert cfg.supported_additional_purposes == frozenset(
        {ChargingProfilePurpose.PRIORITY_CHARGING}
    )


def test_with_evses() -> None:
    cfg = StationConfig.with_evses(3, supply_voltage=240.0)
    assert cfg.evse_ids == (1, 2, 3)
    assert cfg.supply_voltage == 240.0


@pytest.mark.parametrize("count", [0, -2])
def test_with_evses_needs_one(count: int) -> None:
    with pytest.raises(ConfigError) as err:
        StationConfig.with_evses(count)
    assert err.value.field == "evses"


# ------------------------------------------------------------------ knows_evse (K01.FR.28, S4)


def test_knows_evse_without_evse_list() -> None:
    cfg = StationConfig()
    assert cfg.knows_evse(0) is True
    assert cfg.knows_evse(1) is True
    assert cfg.knows_evse(999) is True
    assert cfg.knows_evse(-1) is False


def test_knows_evse_with_evse_list() -> None:
    cfg = StationConfig(evse_ids=(1, 2))
    assert [cfg.knows_evse(e) for e in (-1, 0, 1, 2, 3)] == [False, True, True, True, False]


# --------------------------------------------------------------------------- from_ocpp16_keys


def test_from_ocpp16_keys_reads_every_key() -> None:
    cfg = StationConfig.from_ocpp16_keys(
        keys(
            ChargeProfileMaxStackLevel="8",
            ChargingScheduleAllowedChargingRateUnit="Current,Power",
            ChargingScheduleMaxPeriods="24",
            MaxChargingProfilesInstalled="16",
            NumberOfConnectors="2",
            ConnectorSwitch3to1PhaseSupported="true",
        )
    )
    assert cfg.charge_profile_max_stack_level == 8
    assert cfg.charging_schedule_allowed_charging_rate_unit == frozenset({A, W})
    assert cfg.charging_schedule_max_periods == 24
    assert cfg.max_charging_profiles_installed == 16
    assert cfg.evse_ids == (1, 2)
    assert cfg.connector_switch_3to1_phase_supported is True


def test_from_ocpp16_keys_without_keys_is_the_default() -> None:
    assert StationConfig.from_ocpp16_keys({}) == StationConfig()


def test_from_ocpp16_keys_ignores_unrelated_keys_and_keeps_fields() -> None:
    cfg = StationConfig.from_ocpp16_keys(
        keys(HeartbeatInterval="300", MaxChargingProfilesInstalled="5"), supply_voltage=120.0
    )
    assert cfg.max_charging_profiles_installed == 5
    assert cfg.supply_voltage == 120.0


@pytest.mark.parametrize(
    ("text", "units"),
    [
        ("Current", {A}),
        ("Power", {W}),
        ("Current,Power", {A, W}),
        ("Power,Current", {A, W}),
        (" power , CURRENT ", {A, W}),
        ("Current,Current", {A}),
    ],
)
def test_from_ocpp16_keys_rate_units(text: str, units: set[ChargingRateUnit]) -> None:
    cfg = StationConfig.from_ocpp16_keys(keys(ChargingScheduleAllowedChargingRateUnit=text))
    assert cfg.charging_schedule_allowed_charging_rate_unit == frozenset(units)


@pytest.mark.parametrize("text", ["", "A", "W", "Current;Power", "Current,", "Voltage"])
def test_from_ocpp16_keys_unknown_rate_unit(text: str) -> None:
    with pytest.raises(ConfigError) as err:
        StationConfig.from_ocpp16_keys(keys(ChargingScheduleAllowedChargingRateUnit=text))
    assert err.value.field == "ChargingScheduleAllowedChargingRateUnit"
    assert err.value.rule == "OCPP 1.6 §9.4"


@pytest.mark.parametrize(
    ("text", "expected"), [("true", True), ("True", True), (" TRUE ", True), ("false", False)]
)
def test_from_ocpp16_keys_phase_switch(text: str, expected: bool) -> None:
    cfg = StationConfig.from_ocpp16_keys(keys(ConnectorSwitch3to1PhaseSupported=text))
    assert cfg.connector_switch_3to1_phase_supported is expected


@pytest.mark.parametrize(
    "key",
    [
        "ChargeProfileMaxStackLevel",
        "ChargingScheduleMaxPeriods",
        "MaxChargingProfilesInstalled",
        "NumberOfConnectors",
    ],
)
@pytest.mark.parametrize("text", ["ten", "", "1.5"])
def test_from_ocpp16_keys_not_an_integer(key: str, text: str) -> None:
    with pytest.raises(ConfigError) as err:
        StationConfig.from_ocpp16_keys({key: text})
    assert err.value.rule == "OCPP 1.6 §9.4"


@pytest.mark.parametrize(
    ("key", "text"),
    [
        ("ChargeProfileMaxStackLevel", "-1"),
        ("ChargingScheduleMaxPeriods", "0"),
        ("MaxChargingProfilesInstalled", "0"),
        ("NumberOfConnectors", "0"),
        ("NumberOfConnectors", "-3"),
    ],
)
def test_from_ocpp16_keys_out_of_range(key: str, text: str) -> None:
    with pytest.raises(ConfigError) as err:
        StationConfig.from_ocpp16_keys({key: text})
    assert err.value.field == key
    assert err.value.rule == "OCPP 1.6 §9.4"


def test_from_ocpp16_keys_out_of_range_message() -> None:
    with pytest.raises(ConfigError) as err:
        StationConfig.from_ocpp16_keys(keys(NumberOfConnectors="0"))
    assert str(err.value) == (
        "NumberOfConnectors: '0' is out of range: a station has at least one EVSE (OCPP 1.6 §9.4)"
    )


def test_from_ocpp16_keys_bad_python_field_names_the_python_field() -> None:
    """Only values read from the keys are named by their key; the caller's own fields keep
    their Python name (a ConfigError, like every StationConfig error)."""
    with pytest.raises(ConfigError) as err:
        StationConfig.from_ocpp16_keys(keys(NumberOfConnectors="2"), supply_voltage=0.0)
    assert err.value.field == "supply_voltage"

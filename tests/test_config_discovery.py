"""StationConfig from what a station reports about itself (issue 15, item 2).

1.6: a GetConfiguration answer. 2.0.1/2.1: GetVariables answers and NotifyReport requests.
Unknown keys are ignored, bad values reported (the field keeps its default), malformed
payloads a PayloadError naming the field.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ocpp_schedule import (
    ChargingProfilePurpose,
    ChargingRateUnit,
    ConfigError,
    ConfigProblem,
    DiscoveredConfig,
    PayloadError,
    StationConfig,
    config_from_device_model,
    config_from_get_configuration,
)

A, W = ChargingRateUnit.A, ChargingRateUnit.W


def kv(key: str, value: str | None, readonly: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {"key": key, "readonly": readonly}
    if value is not None:
        out["value"] = value
    return out


def test_a_16_answer_sets_every_key_it_reports() -> None:
    answer = {
        "configurationKey": [
            kv("ChargeProfileMaxStackLevel", "8"),
            kv("ChargingScheduleAllowedChargingRateUnit", "Current"),
            kv("ChargingScheduleMaxPeriods", "24"),
            kv("MaxChargingProfilesInstalled", "16"),
            kv("NumberOfConnectors", "2"),
            kv("ConnectorSwitch3to1PhaseSupported", "false", readonly=False),
            kv("HeartbeatInterval", "300", readonly=False),
            kv("ChargingScheduleMaxPeriods_typo", "1"),
        ],
        "unknownKey": ["Foo"],
    }
    found = config_from_get_configuration(answer)
    assert isinstance(found, DiscoveredConfig) and found.complete
    cfg = found.config
    assert cfg.charge_profile_max_stack_level == 8
    assert cfg.charging_schedule_allowed_charging_rate_unit == frozenset({A})
    assert cfg.charging_schedule_max_periods == 24
    assert cfg.max_charging_profiles_installed == 16
    assert cfg.evse_ids == (1, 2)
    assert "HeartbeatInterval" not in found.used
    # the list alone is read the same way
    assert config_from_get_configuration(answer["configurationKey"]).config == cfg


def test_a_bad_16_value_is_reported_and_the_rest_is_used() -> None:
    found = config_from_get_configuration(
        [
            kv("ChargingScheduleMaxPeriods", "many"),
            kv("NumberOfConnectors", "0"),
            kv("ChargeProfileMaxStackLevel", "3"),
        ]
    )
    assert not found.complete
    assert [p.key for p in found.problems] == ["ChargingScheduleMaxPeriods", "NumberOfConnectors"]
    assert all(isinstance(p, ConfigProblem) for p in found.problems)
    assert (
        found.config.charging_schedule_max_periods == StationConfig().charging_schedule_max_periods
    )
    assert found.config.charge_profile_max_stack_level == 3
    assert found.used == ("ChargeProfileMaxStackLevel",)


def test_a_key_without_a_value_was_not_reported() -> None:
    found = config_from_get_configuration([kv("ChargingScheduleMaxPeriods", None)])
    assert found.complete and found.used == () and found.config == StationConfig()


def test_the_base_gives_what_no_key_sets_and_the_keys_win() -> None:
    base = StationConfig(supply_voltage=120.0, charging_schedule_max_periods=5)
    found = config_from_get_configuration([kv("ChargingScheduleMaxPeriods", "7")], base=base)
    assert found.config.supply_voltage == 120.0
    assert found.config.charging_schedule_max_periods == 7


@given(
    st.dictionaries(
        st.sampled_from(
            [
                "ChargeProfileMaxStackLevel",
                "ChargingScheduleMaxPeriods",
                "MaxChargingProfilesInstalled",
                "NumberOfConnectors",
                "ChargingScheduleAllowedChargingRateUnit",
                "ConnectorSwitch3to1PhaseSupported",
            ]
        ),
        st.one_of(
            st.integers(-3, 2000).map(str),
            st.sampled_from(["Current", "Power", "Current,Power", "true", "false", "x", ""]),
        ),
    )
)
def test_property_lenient_equals_strict_where_strict_accepts(keys: dict[str, str]) -> None:
    """The lenient reading is the strict one, key by key: when from_ocpp16_keys accepts
    every key, discovery gives the same configuration and no problem; otherwise each
    refused key is a problem and the rest is the strict reading of the rest."""
    found = config_from_get_configuration([kv(k, v) for k, v in keys.items()])
    try:
        strict = StationConfig.from_ocpp16_keys(keys)
    except ConfigError:
        assert found.problems
        good = {k: v for k, v in keys.items() if k not in {p.key for p in found.problems}}
        assert found.config == StationConfig.from_ocpp16_keys(good)
    else:
        assert found.complete and found.config == strict


@pytest.mark.parametrize(
    ("answer", "field"),
    [
        ({"configurationKey": {}}, "configurationKey"),
        ({"configurationKey": [], "extra": 1}, "extra"),
        ([{"key": 1, "readonly": True}], "configurationKey[0].key"),
        ([{"key": "K", "readonly": "yes"}], "configurationKey[0].readonly"),
        ([{"key": "K", "readonly": True, "value": 5}], "configurationKey[0].value"),
        ([{"key": "K", "readonly": True, "other": 5}], "configurationKey[0].other"),
        (["K"], "configurationKey[0]"),
    ],
)
def test_a_malformed_16_answer_names_the_field(answer: Any, field: str) -> None:
    with pytest.raises(PayloadError) as info:
        config_from_get_configuration(answer)
    assert info.value.field == field


# --------------------------------------------------------------------------- 2.x


def var(
    component: str,
    variable: str,
    value: str | None,
    *,
    instance: str | None = None,
    evse: int | None = None,
    status: str = "Accepted",
) -> dict[str, Any]:
    comp: dict[str, Any] = {"name": component}
    if evse is not None:
        comp["evse"] = {"id": evse}
    variable_obj: dict[str, Any] = {"name": variable}
    if instance is not None:
        variable_obj["instance"] = instance
    out: dict[str, Any] = {"attributeStatus": status, "component": comp, "variable": variable_obj}
    if value is not None:
        out["attributeValue"] = value
    return out


def test_get_variables_sets_the_smart_charging_fields() -> None:
    answer = {
        "getVariableResult": [
            var("SmartChargingCtrlr", "ProfileStackLevel", "5"),
            var("SmartChargingCtrlr", "RateUnit", "A,W"),
            var("SmartChargingCtrlr", "PeriodsPerSchedule", "48"),
            var("SmartChargingCtrlr", "ACPhaseSwitchingSupported", "true"),
            var("SmartChargingCtrlr", "SupportedAdditionalPurposes", "PriorityCharging"),
            var("SmartChargingCtrlr", "SupportsFeature", "True", instance="DynamicProfiles"),
            var("SmartChargingCtrlr", "MaxExternalConstraintsId", "1000"),
            var("SmartChargingCtrlr", "Phases3to1", None, status="UnknownVariable"),
            var("ClockCtrlr", "TimeZone", "Europe/Berlin"),
            var("OCPPCommCtrlr", "HeartbeatInterval", "60"),
        ]
    }
    found = config_from_device_model(answer)
    assert found.complete
    cfg = found.config
    assert cfg.charge_profile_max_stack_level == 5
    assert cfg.charging_schedule_allowed_charging_rate_unit == frozenset({A, W})
    assert cfg.charging_schedule_max_periods == 48
    assert cfg.ac_phase_switching_supported is True
    assert cfg.supported_additional_purposes == frozenset(
        {ChargingProfilePurpose.PRIORITY_CHARGING}
    )
    assert cfg.supports_dynamic_profiles is True
    assert cfg.max_external_constraints_id == 1000
    assert cfg.time_zone == "Europe/Berlin"
    assert "SmartChargingCtrlr.SupportsFeature[DynamicProfiles]" in found.used


def test_a_report_gives_entries_max_limit_and_the_evses() -> None:
    report = {
        "requestId": 1,
        "generatedAt": "2026-01-01T00:00:00Z",
        "seqNo": 0,
        "tbc": False,
        "reportData": [
            {
                "component": {"name": "SmartChargingCtrlr"},
                "variable": {"name": "Entries", "instance": "ChargingProfiles"},
                "variableAttribute": [{"type": "Actual", "value": "3"}],
                "variableCharacteristics": {
                    "dataType": "integer",
                    "maxLimit": 24,
                    "supportsMonitoring": False,
                },
            },
            {
                "component": {"name": "EVSE", "evse": {"id": 1}},
                "variable": {"name": "SupplyPhases"},
                "variableAttribute": [{"value": "3"}],
            },
            {
                "component": {"name": "EVSE", "evse": {"id": 2}},
                "variable": {"name": "SupplyPhases"},
                "variableAttribute": [{"value": "0"}],
            },
            {
                "component": {"name": "Connector", "evse": {"id": 2, "connectorId": 1}},
                "variable": {"name": "ConnectorType"},
                "variableAttribute": [{"value": "cCCS2"}],
            },
        ],
    }
    found = config_from_device_model([report])
    assert found.complete
    assert found.config.max_charging_profiles_installed == 24
    assert found.config.evse_ids == (1, 2)
    assert found.config.dc_evse_ids == frozenset({2})


def test_a_bad_device_model_value_is_reported_and_keeps_the_default() -> None:
    found = config_from_device_model(
        {
            "getVariableResult": [
                var("SmartChargingCtrlr", "RateUnit", "kW"),
                var("SmartChargingCtrlr", "PeriodsPerSchedule", "0"),
                var("SmartChargingCtrlr", "ProfileStackLevel", "2"),
                var("SmartChargingCtrlr", "SupportsFeature", "maybe", instance="LimitAtSoC"),
            ]
        }
    )
    assert [p.key for p in found.problems] == [
        "SmartChargingCtrlr.RateUnit",
        "SmartChargingCtrlr.PeriodsPerSchedule",
        "SmartChargingCtrlr.SupportsFeature[LimitAtSoC]",
    ]
    default = StationConfig()
    assert (
        found.config.charging_schedule_allowed_charging_rate_unit
        == default.charging_schedule_allowed_charging_rate_unit
    )
    assert found.config.charging_schedule_max_periods == default.charging_schedule_max_periods
    assert found.config.charge_profile_max_stack_level == 2


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"something": []}, "reports[0]"),
        ({"getVariableResult": {}}, "reports[0].getVariableResult"),
        (
            {
                "getVariableResult": [
                    {"attributeStatus": "Accepted", "component": {"name": "X"}, "variable": {}}
                ]
            },
            "reports[0].getVariableResult[0].variable",
        ),
        (
            {
                "getVariableResult": [
                    {
                        "attributeStatus": "Accepted",
                        "component": {"name": "X", "evse": {"id": "1"}},
                        "variable": {"name": "V"},
                    }
                ]
            },
            "reports[0].getVariableResult[0].component.evse",
        ),
        (
            {"getVariableResult": [{"attributeStatus": 1}]},
            "reports[0].getVariableResult[0].attributeStatus",
        ),
        ({"getVariableResult": [], "bogus": 1}, "reports[0].bogus"),
        (
            {
                "requestId": 1,
                "reportData": [
                    {
                        "component": {"name": "X"},
                        "variable": {"name": "V"},
                        "variableCharacteristics": {"maxLimit": "9"},
                    }
                ],
            },
            "reports[0].reportData[0].variableCharacteristics.maxLimit",
        ),
    ],
)
def test_a_malformed_device_model_payload_names_the_field(payload: Any, field: str) -> None:
    with pytest.raises(PayloadError) as info:
        config_from_device_model(payload)
    assert info.value.field == field


def test_the_variable_bound_is_checked_first() -> None:
    from ocpp_schedule.station._discovery import MAX_REPORTED_VARIABLES

    with pytest.raises(PayloadError, match="more than") as info:
        config_from_get_configuration([None] * (MAX_REPORTED_VARIABLES + 1))
    assert info.value.field == "configurationKey"
    with pytest.raises(PayloadError, match="more than"):
        config_from_device_model({"getVariableResult": [None] * (MAX_REPORTED_VARIABLES + 1)})

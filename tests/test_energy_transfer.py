"""OCPP 2.1 NotifyAllowedEnergyTransfer (Q02): issue 14 item 6; docs/semantics.md AET-1..AET-4.

Exact JSON on payloads generated from the official 2.1 schema, example tests per requirement
and decision, and hypothesis properties: without a bidirectional mode nothing in the answer
discharges, and the listed periods are exactly those with a negative discharge value.
"""

from __future__ import annotations

import random
import zlib
from typing import Any

import pytest
from helpers import at, on, profile, tx
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import schema_errors
from test_exact_json import as_wire, exactly_equal, official_schema, payloads, random_json

from ocpp_schedule import (
    ChargingProfile,
    DischargingPeriod,
    EnergyTransferMode,
    NotifyAllowedEnergyTransferRequest,
    OperationMode,
    PayloadError,
    ProfileStore,
    QueryError,
    StationConfig,
    StationState,
    VersionError,
    composite_schedule,
    discharging_periods,
    notify_allowed_energy_transfer,
    read_notify_allowed_energy_transfer,
    without_discharge,
    write_notify_allowed_energy_transfer,
)

NAME = "NotifyAllowedEnergyTransferRequest"


def _check_exact(payload: Any) -> None:
    payload = as_wire(payload)
    assert not schema_errors(payload, "2.1", NAME), "the generator left its schema"
    written = as_wire(
        write_notify_allowed_energy_transfer(read_notify_allowed_energy_transfer(payload))
    )
    assert exactly_equal(written, payload), (payload, written)


def test_seeded_schema_valid_payloads_read_and_write_back_exactly() -> None:
    root = official_schema("2.1", NAME)
    rng = random.Random(zlib.crc32(f"{NAME} 2.1".encode()))
    for index in range(2000):
        payload = random_json(rng, root, root, top=True)
        try:
            _check_exact(payload)
        except (AssertionError, PayloadError) as exc:
            raise AssertionError(f"example {index}: {payload!r}") from exc


@settings(max_examples=200, deadline=None, database=None)
@given(payloads("2.1", NAME))
def test_schema_valid_payloads_read_and_write_back_exactly(payload: Any) -> None:
    _check_exact(payload)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"transactionId": "T1"}, "allowedEnergyTransfer"),
        ({"transactionId": "T1", "allowedEnergyTransfer": []}, "allowedEnergyTransfer"),
        (
            {"transactionId": "T1", "allowedEnergyTransfer": ["AC_BPTDER"]},
            "allowedEnergyTransfer[0]",
        ),
        ({"transactionId": "T1", "allowedEnergyTransfer": ["DC", 3]}, "allowedEnergyTransfer[1]"),
        ({"transactionId": "T1", "allowedEnergyTransfer": "DC"}, "allowedEnergyTransfer"),
        ({"transactionId": "x" * 37, "allowedEnergyTransfer": ["DC"]}, "transactionId"),
        ({"transactionId": "T1", "allowedEnergyTransfer": ["DC"] * 65}, "allowedEnergyTransfer"),
        ({"transactionId": "T1", "allowedEnergyTransfer": ["DC"], "x": 1}, "x"),
    ],
)
def test_the_reader_refuses_what_the_schema_refuses(payload: Any, field: str) -> None:
    with pytest.raises(PayloadError) as info:
        read_notify_allowed_energy_transfer(payload)
    assert info.value.field == field


# ------------------------------------------------------------------------ station side

V2X = StationConfig(
    evse_ids=(1, 2),
    v2x_supported_operation_modes=frozenset({OperationMode.CENTRAL_SETPOINT}),
)
STATE = StationState(V2X, "2.1", (tx("T1", 1), tx("T2", 2)))


def _request(tid: str, *modes: str) -> NotifyAllowedEnergyTransferRequest:
    return read_notify_allowed_energy_transfer(
        {"transactionId": tid, "allowedEnergyTransfer": list(modes)}
    )


def _v2x(pid: int, purpose: str, setpoint: float, discharge: float, **kw: Any) -> ChargingProfile:
    data = profile(pid, purpose, [(0, 32)], kind="Relative", **kw).to_json_dict()
    data["chargingSchedule"][0]["chargingSchedulePeriod"][0].update(
        {"operationMode": "CentralSetpoint", "setpoint": setpoint, "dischargeLimit": discharge}
    )
    return ChargingProfile.model_validate(data)


def _store() -> ProfileStore:
    return ProfileStore(
        [
            on(1, _v2x(1, "TxProfile", -10, -16, transaction_id="T1")),
            on(2, _v2x(2, "TxProfile", -8, -16, transaction_id="T2")),
            on(0, profile(3, "TxDefaultProfile", [(0, 16)], kind="Relative")),
        ]
    )


def test_aet_1_an_unknown_transaction_is_rejected() -> None:
    result = notify_allowed_energy_transfer(_store(), STATE, _request("T9", "DC"))
    assert (result.status, result.reason_code) == ("Rejected", "TxNotFound")
    assert result.to_payload()["status"] == "Rejected"


def test_q02_fr_06_a_known_transaction_is_accepted() -> None:
    result = notify_allowed_energy_transfer(_store(), STATE, _request("T1", "DC_BPT", "DC"))
    assert result.status == "Accepted" and result.rule == "Q02.FR.06"
    assert result.discharge_allowed and result.conflicts == ()
    assert result.to_payload() == {"status": "Accepted"}
    assert result.allowed == (EnergyTransferMode.DC_BPT, EnergyTransferMode.DC)


@pytest.mark.parametrize("mode", ["AC_BPT", "AC_BPT_DER", "DC_BPT", "DC_ACDP_BPT"])
def test_aet_2_only_bidirectional_modes_allow_discharge(mode: str) -> None:
    assert _request("T1", mode).discharge_allowed
    assert not _request("T1", "AC_DER").discharge_allowed
    every_other = [m.value for m in EnergyTransferMode if "BPT" not in m.value]
    assert not _request("T1", *every_other).discharge_allowed


def test_aet_3_q02_fr_02_periods_that_discharge_are_listed() -> None:
    result = notify_allowed_energy_transfer(_store(), STATE, _request("T1", "AC_three_phase"))
    assert result.status == "Accepted" and not result.discharge_allowed
    assert result.conflicts == (
        DischargingPeriod(1, 1, 0, 0, "dischargeLimit", -16),
        DischargingPeriod(1, 1, 0, 0, "setpoint", -10),
    )
    # T2's own TxProfile is not T1's
    assert all(c.profile_id != 2 for c in result.conflicts)


def test_aet_4_the_composite_answer_without_discharge() -> None:
    t1 = STATE.transaction_on(1)
    answer = composite_schedule(
        _store(), evse_id=1, start=at(0), duration=600, transaction=t1, config=V2X
    ).to_payload("2.1")
    period = answer["schedule"]["chargingSchedulePeriod"][0]
    assert period["setpoint"] < 0 and period["dischargeLimit"] < 0
    charging = without_discharge(answer)
    fixed = charging["schedule"]["chargingSchedulePeriod"][0]
    assert fixed["dischargeLimit"] == 0 and fixed["setpoint"] == 0
    assert fixed["limit"] == period["limit"]
    assert answer["schedule"]["chargingSchedulePeriod"][0]["setpoint"] < 0  # input unchanged
    assert without_discharge({"status": "Rejected"}) == {"status": "Rejected"}
    with pytest.raises(QueryError):
        without_discharge({"schedule": {}})


def test_aet_4_integers_stay_integers() -> None:
    answer = {
        "chargingSchedulePeriod": [{"startPeriod": 0, "setpoint": -5, "dischargeLimit": -7.5}]
    }
    out = without_discharge(answer)["chargingSchedulePeriod"][0]
    assert exactly_equal(out, {"startPeriod": 0, "setpoint": 0, "dischargeLimit": 0.0})


def test_notify_allowed_energy_transfer_is_2_1_only() -> None:
    old = StationState(StationConfig(), "2.0.1", (tx("T1", 1),))
    with pytest.raises(VersionError):
        notify_allowed_energy_transfer(ProfileStore(), old, _request("T1", "DC"))
    with pytest.raises(QueryError):
        discharging_periods([], tx("T1", 1))  # type: ignore[arg-type]


# ------------------------------------------------------------------------ properties

_VALUES = st.one_of(st.none(), st.integers(-50, 50), st.floats(-50, 50))


@st.composite
def _profiles(draw: Any) -> list[Any]:
    out = []
    for pid in range(1, draw(st.integers(0, 4)) + 1):
        purpose = draw(st.sampled_from(["TxProfile", "TxDefaultProfile"]))
        evse = draw(st.integers(1, 2)) if purpose == "TxProfile" else draw(st.integers(0, 2))
        data = profile(pid, purpose, [(0, 32)], kind="Relative").to_json_dict()
        period = data["chargingSchedule"][0]["chargingSchedulePeriod"][0]
        for key in ("setpoint", "setpoint_L2", "setpoint_L3"):
            value = draw(_VALUES)
            if value is not None:
                period[key] = value
        for key in ("dischargeLimit", "dischargeLimit_L2", "dischargeLimit_L3"):
            value = draw(_VALUES)
            if value is not None:
                period[key] = -abs(value)
        bound = draw(st.sampled_from(["T1", "T2"])) if purpose == "TxProfile" else None
        out.append(on(evse, ChargingProfile.model_validate(data), bound))
    return out


@settings(max_examples=300, deadline=None, database=None)
@given(_profiles(), st.lists(st.sampled_from([m.value for m in EnergyTransferMode]), min_size=1))
def test_the_listed_periods_are_exactly_those_that_discharge(
    entries: list[Any], modes: list[str]
) -> None:
    store = ProfileStore(entries)
    result = notify_allowed_energy_transfer(store, STATE, _request("T1", *modes))
    bidirectional = any("BPT" in m for m in modes)
    assert result.discharge_allowed is bidirectional
    if bidirectional:
        assert result.conflicts == ()
        return
    expected = set()
    for e in entries:
        if e.evse_id not in (0, 1) or (e.transaction_id not in (None, "T1")):
            continue
        period = e.profile.charging_schedule[0].charging_schedule_period[0]
        for key, value in period.to_json_dict().items():
            discharging = key.startswith(("setpoint", "dischargeLimit"))
            if discharging and "Reactive" not in key and value < 0:
                expected.add((e.id, key))
    assert {(c.profile_id, c.field) for c in result.conflicts} == expected


@settings(max_examples=300, deadline=None, database=None)
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(
                [
                    "limit",
                    "setpoint",
                    "setpoint_L2",
                    "setpoint_L3",
                    "dischargeLimit",
                    "dischargeLimit_L2",
                    "dischargeLimit_L3",
                    "setpointReactive",
                ]
            ),
            st.one_of(st.integers(-100, 100), st.floats(-100, 100)),
        ),
        max_size=4,
    )
)
def test_without_discharge_nothing_is_negative_but_reactive_power(
    periods: list[dict[str, Any]],
) -> None:
    answer = {"status": "Accepted", "schedule": {"chargingSchedulePeriod": periods}}
    out = without_discharge(answer)["schedule"]["chargingSchedulePeriod"]
    for before, after in zip(periods, out, strict=True):
        assert before.keys() == after.keys()
        for key, value in after.items():
            if key.startswith(("setpoint", "dischargeLimit")) and key != "setpointReactive":
                assert value >= 0 and type(value) is type(before[key])
                assert value == max(before[key], 0)
            else:
                assert exactly_equal(value, before[key])


def test_wrong_python_types_raise_a_typed_error_naming_the_argument() -> None:
    for call, field in [
        (lambda: notify_allowed_energy_transfer([], STATE, _request("T1", "DC")), "store"),  # type: ignore[arg-type]
        (
            lambda: notify_allowed_energy_transfer(ProfileStore(), None, _request("T1", "DC")),
            "state",
        ),  # type: ignore[arg-type]
        (lambda: notify_allowed_energy_transfer(ProfileStore(), STATE, {}), "request"),  # type: ignore[arg-type]
        (lambda: discharging_periods(ProfileStore(), "T1"), "transaction"),  # type: ignore[arg-type]
        (lambda: without_discharge([]), "answer"),  # type: ignore[arg-type]
    ]:
        with pytest.raises(QueryError) as info:
            call()
        assert info.value.field == field

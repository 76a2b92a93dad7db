"""K01 rules of issue 14 item 10: K01.FR.82, K01.FR.43, K01.FR.44 and numberPhases 0.

docs/semantics.md V21-32..V21-35. The rejection table in ``test_rules.py`` has one case
per reason; these are the examples around each rule's edges.
"""

from __future__ import annotations

from typing import Any

import pytest
from test_rules import EXT, period, send, station, v2, v16

from ocpp_schedule import RejectionReason as R

DC1 = {"dc_evse_ids": frozenset({1}), "evse_ids": (1, 2)}
ALL_DC = {"dc_evse_ids": frozenset({1, 2}), "evse_ids": (1, 2)}


def _answer(payload: dict[str, Any], version: str, local: bool = False, **config: Any) -> Any:
    return send(payload, station(version, **config), local=local)[1]


# ------------------------------------------------------------------------------ K01.FR.82


def test_k01_fr_82_station_external_constraints_use_ids_up_to_the_maximum() -> None:
    cfg = {"max_external_constraints_id": 10}
    above = _answer(v2(pid=11, **EXT), "2.1", local=True, **cfg)
    assert (above.reason, above.rule) == (R.INVALID_PROFILE_ID, "K01.FR.82")
    assert _answer(v2(pid=10, **EXT), "2.1", local=True, **cfg).accepted
    assert _answer(v2(pid=-5, **EXT), "2.1", local=True, **cfg).accepted
    # Without MaxExternalConstraintsId any id will do (negative ids are only RECOMMENDED).
    assert _answer(v2(pid=11, **EXT), "2.1", local=True).accepted


def test_k01_fr_82_only_for_external_constraints_created_by_the_station() -> None:
    cfg = {"max_external_constraints_id": 10}
    # A LocalGeneration profile is no ExternalConstraints profile: K01.FR.82 says nothing.
    local_gen = v2(0, pid=11, purpose="LocalGeneration")
    ok = _answer(
        local_gen, "2.1", local=True, supported_additional_purposes={"LocalGeneration"}, **cfg
    )
    assert ok.accepted, str(ok)
    # From the CSMS the ids up to the maximum are refused instead (K01.FR.81).
    csms = _answer(v2(pid=10), "2.1", **cfg)
    assert (csms.reason, csms.rule) == (R.INVALID_PROFILE_ID, "K01.FR.81")
    assert _answer(v2(pid=11), "2.1", **cfg).accepted


def test_s10_is_not_k01_fr_82() -> None:
    """The rule once cited as K01.FR.82 (a local profile reusing a CSMS id) is the library's S10."""
    state = station("2.0.1")
    store, first = send(v2(pid=5), state)
    assert first.accepted
    result = send(v2(pid=5, **EXT), state, store, local=True)[1]
    assert (result.reason, result.rule) == (R.INVALID_PROFILE_ID, "docs/semantics.md S10")


# ------------------------------------------------------------------------------ numberPhases 0


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
def test_v21_32_zero_phases_are_rejected_in_2x(version: str) -> None:
    result = _answer(v2(periods=[period(0, 16.0, numberPhases=0)]), version)
    assert (result.reason, result.rule) == (R.INVALID_NUMBER_PHASES, "docs/semantics.md V21-32")
    assert result.reason.reason_code == "InvalidSchedule"
    assert "0 phases" in result.message


def test_v21_32_zero_phases_in_16_keep_their_rule() -> None:
    result = _answer(v16(periods=[period(0, 16.0, numberPhases=0)]), "1.6")
    assert (result.reason, result.rule) == (R.INVALID_NUMBER_PHASES, "OCPP 1.6 §7.14")


def test_v21_32_zero_phases_on_a_dc_evse_are_no_phase_for_dc() -> None:
    result = _answer(v2(periods=[period(0, 16.0, numberPhases=0)]), "2.1", **DC1)
    assert (result.reason, result.rule) == (R.NO_PHASE_FOR_DC, "K01.FR.44")


# ------------------------------------------------------------------------------ K01.FR.44


@pytest.mark.parametrize(
    "fields",
    [
        {"numberPhases": 3},
        {"numberPhases": 1},
        {"numberPhases": 1, "phaseToUse": 2},
        {"phaseToUse": 2},
    ],
)
def test_k01_fr_44_phases_on_a_dc_evse_are_rejected_in_21(fields: dict[str, int]) -> None:
    payload = v2(periods=[period(0, 16.0), period(60, 10.0, **fields)])
    result = _answer(payload, "2.1", ac_phase_switching_supported=True, **DC1)
    assert (result.reason, result.rule) == (R.NO_PHASE_FOR_DC, "K01.FR.44")
    assert result.to_payload("2.1")["statusInfo"]["reasonCode"] == "NoPhaseForDC"
    assert "period 1" in result.message


def test_k01_fr_44_where_the_rule_does_not_apply() -> None:
    phases = v2(periods=[period(0, 16.0, numberPhases=3)])
    assert _answer(phases, "2.1", dc_input_phase_control=True, **DC1).accepted  # K01.FR.54
    assert _answer(v2(2, periods=[period(0, 16.0, numberPhases=3)]), "2.1", **DC1).accepted  # AC
    assert _answer(v2(periods=[period(0, 16.0)]), "2.1", **DC1).accepted  # no phase fields
    assert _answer(phases, "2.0.1", **DC1).accepted  # 2.0.1: MAY accept and ignore
    assert _answer(v16(periods=[period(0, 16.0, numberPhases=3)]), "1.6", **DC1).accepted


def test_k01_fr_44_on_evse_0_only_when_every_evse_is_dc() -> None:
    max_profile = v2(
        0, purpose="ChargingStationMaxProfile", periods=[period(0, 32.0, numberPhases=3)]
    )
    assert _answer(max_profile, "2.1", **DC1).accepted  # EVSE 2 is AC
    result = _answer(max_profile, "2.1", **ALL_DC)
    assert (result.reason, result.rule) == (R.NO_PHASE_FOR_DC, "K01.FR.44")


# ------------------------------------------------------------------------------ K01.FR.43


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
def test_k01_fr_43_phases_the_station_cannot_ensure(version: str) -> None:
    cfg = {"min_enforceable_phases": 2}
    one = _answer(v2(periods=[period(0, 16.0), period(60, 16.0, numberPhases=1)]), version, **cfg)
    assert (one.reason, one.rule) == (R.PHASES_NOT_ENFORCEABLE, "K01.FR.43")
    assert one.reason.reason_code == "InvalidSchedule"  # the 2.1 text recommends it
    assert _answer(v2(periods=[period(0, 16.0, numberPhases=2)]), version, **cfg).accepted
    assert _answer(v2(periods=[period(0, 16.0)]), version, **cfg).accepted  # K01.FR.49: 3


def test_k01_fr_43_where_the_rule_does_not_apply() -> None:
    one_phase = v2(periods=[period(0, 16.0, numberPhases=1)])
    assert _answer(one_phase, "2.0.1").accepted  # default: any numberPhases can be ensured
    # A DC EVSE is not AC (2.0.1 accepts the phases there, K01.FR.44).
    assert _answer(one_phase, "2.0.1", min_enforceable_phases=3, **DC1).accepted
    # 1.6 has no such rule (errata 3.34: apply the limit on the phases used).
    assert _answer(
        v16(periods=[period(0, 16.0, numberPhases=1)]), "1.6", min_enforceable_phases=3
    ).accepted

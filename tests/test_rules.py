"""Station-side rules of SetChargingProfile (rules.py): every rejection, replacement, replay.

Requests are built as real OCPP JSON payloads (1.6 ``connectorId`` + ``csChargingProfiles``,
2.0.1/2.1 ``evseId`` + ``chargingProfile``) and read with ``read_set_charging_profile``.
Requirement ids (K01.FR.xx, OCPP 1.6 sections) are in the test ids and names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ocpp_schedule import (
    ChargingLimitSource,
    ChargingProfilePurpose,
    ChargingRateUnit,
    OcppVersion,
    OperationMode,
    ProfileStore,
    RejectionReason,
    SetChargingProfileResult,
    StationConfig,
    StationState,
    Transaction,
    check_set_charging_profile,
    install,
    install_local,
    read_set_charging_profile,
    replay,
)

R = RejectionReason
T0 = "2024-06-01T00:00:00Z"
T1 = "2024-06-02T00:00:00Z"
T2 = "2024-06-03T00:00:00Z"
TX_START = datetime(2024, 6, 1, tzinfo=UTC)
PC = ChargingProfilePurpose.PRIORITY_CHARGING
LG = ChargingProfilePurpose.LOCAL_GENERATION


# --------------------------------------------------------------------------- helpers


def period(start: int = 0, limit: float | None = 16.0, **extra: Any) -> dict[str, Any]:
    """A chargingSchedulePeriod; ``limit=None`` leaves the limit out (2.1)."""
    out: dict[str, Any] = {"startPeriod": start}
    if limit is not None:
        out["limit"] = limit
    return {**out, **extra}


def _schedule(kind: str, periods: list[dict[str, Any]] | None, unit: str, extra: dict[str, Any]):
    sched: dict[str, Any] = {
        "chargingRateUnit": unit,
        "chargingSchedulePeriod": [period()] if periods is None else periods,
    }
    if kind in ("Absolute", "Recurring"):
        sched["startSchedule"] = T0
    sched.update(extra)
    return {k: v for k, v in sched.items() if v is not None}


def _profile(pid: int, level: int, purpose: str, kind: str, fields: dict[str, Any]):
    prof = {
        "stackLevel": level,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": kind,
        **fields,
    }
    return pid, {k: v for k, v in prof.items() if v is not None}


def v2(
    evse: int = 1,
    *,
    pid: int = 1,
    level: int = 0,
    purpose: str = "TxDefaultProfile",
    kind: str = "Absolute",
    periods: list[dict[str, Any]] | None = None,
    unit: str = "A",
    sched: dict[str, Any] | None = None,
    schedules: list[dict[str, Any]] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A 2.0.1/2.1 SetChargingProfileRequest; ``fields`` are extra profile keys (None drops)."""
    if schedules is None:
        schedules = [{"id": 1, **_schedule(kind, periods, unit, sched or {})}]
    pid, prof = _profile(pid, level, purpose, kind, fields)
    return {"evseId": evse, "chargingProfile": {"id": pid, **prof, "chargingSchedule": schedules}}


def v16(
    connector: int = 1,
    *,
    pid: int = 1,
    level: int = 0,
    purpose: str = "TxDefaultProfile",
    kind: str = "Absolute",
    periods: list[dict[str, Any]] | None = None,
    unit: str = "A",
    sched: dict[str, Any] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A 1.6 SetChargingProfile.req; ``fields`` are extra csChargingProfiles keys."""
    pid, prof = _profile(pid, level, purpose, kind, fields)
    schedule = _schedule(kind, periods, unit, sched or {})
    return {
        "connectorId": connector,
        "csChargingProfiles": {"chargingProfileId": pid, **prof, "chargingSchedule": schedule},
    }


def sched2(sid: int, **extra: Any) -> dict[str, Any]:
    """One 2.x Absolute chargingSchedule entry with id ``sid``."""
    return {"id": sid, **_schedule("Absolute", None, "A", extra)}


def station(version: str = "2.0.1", txs: dict[int, str] | None = None, **config: Any):
    """A StationState; ``txs`` maps EVSE -> active transaction id."""
    transactions = tuple(Transaction(t, e, TX_START) for e, t in (txs or {}).items())
    return StationState(StationConfig(**config), OcppVersion(version), transactions)


def send(
    payload: dict[str, Any],
    state: StationState,
    store: ProfileStore | None = None,
    *,
    local: bool = False,
) -> tuple[ProfileStore, SetChargingProfileResult]:
    """Read ``payload`` in the state's version and install it (locally when ``local``)."""
    request = read_set_charging_profile(payload, state.version)
    entry = install_local if local else install
    return entry(ProfileStore() if store is None else store, request, state)


def build(state: StationState, *payloads: dict[str, Any], local: bool = False) -> ProfileStore:
    """A store holding ``payloads``, each of which must be accepted."""
    store = ProfileStore()
    for payload in payloads:
        store, result = send(payload, state, store, local=local)
        assert result.accepted, str(result)
    return store


# --------------------------------------------------------------------------- the rejection table


@dataclass
class Case:
    """One rule: a request the station rejects and a minimally different one it accepts.

    ``good`` defaults to ``bad`` (then ``good_config`` is what differs); ``setup`` and
    ``local_setup`` are installed first (from the CSMS / by the station's EMS).
    """

    id: str
    version: str
    reason: RejectionReason
    rule: str
    code: str
    bad: dict[str, Any]
    good: dict[str, Any] | None = None
    config: dict[str, Any] = field(default_factory=dict)
    good_config: dict[str, Any] = field(default_factory=dict)
    txs: dict[int, str] = field(default_factory=dict)
    setup: tuple[dict[str, Any], ...] = ()
    local_setup: tuple[dict[str, Any], ...] = ()
    local: bool = False
    good_local: bool | None = None


MAX2 = {"evse": 0, "purpose": "ChargingStationMaxProfile"}
MAX16 = {"connector": 0, "purpose": "ChargePointMaxProfile"}
EXT = {"evse": 0, "purpose": "ChargingStationExternalConstraints"}
TXP = {"purpose": "TxProfile", "transactionId": "tx-1"}
ONLY_A = {"charging_schedule_allowed_charging_rate_unit": frozenset({ChargingRateUnit.A})}
SWITCHING = {"ac_phase_switching_supported": True}
V2X = {"v2x_supported_operation_modes": frozenset(OperationMode)}  # K01.FR.115
ONE_PHASE = {"numberPhases": 1}

CASES = [
    # --- placement
    Case(
        "K01.FR.28-unknown-evse",
        "2.0.1",
        R.UNKNOWN_EVSE,
        "K01.FR.28",
        "UnknownEVSE",
        bad=v2(3),
        good=v2(2),
        config={"evse_ids": (1, 2)},
    ),
    Case(
        "K01.FR.28-negative-evse-default-config",
        "2.0.1",
        R.UNKNOWN_EVSE,
        "K01.FR.28",
        "UnknownEVSE",
        bad=v2(-1),
        good=v2(1),
    ),
    Case(
        "v16-5.16-unknown-connector",
        "1.6",
        R.UNKNOWN_EVSE,
        "OCPP 1.6 §5.16",
        "UnknownEVSE",
        bad=v16(3),
        good=v16(2),
        config={"evse_ids": (1, 2)},
    ),
    Case(
        "K01.FR.22-external-constraints-from-csms",
        "2.0.1",
        R.PURPOSE_SET_LOCALLY_ONLY,
        "K01.FR.22",
        "InvalidValue",
        bad=v2(**EXT),
        good_local=True,
    ),
    Case(
        "K01.FR.22-local-generation-from-csms-2.1",
        "2.1",
        R.PURPOSE_SET_LOCALLY_ONLY,
        "K01.FR.22",
        "InvalidValue",
        bad=v2(0, purpose="LocalGeneration"),
        config={"supported_additional_purposes": frozenset({LG})},
        good_local=True,
    ),
    Case(
        "K01.FR.120-priority-charging-unsupported-2.1",
        "2.1",
        R.UNSUPPORTED_PURPOSE,
        "K01.FR.120",
        "UnsupportedPurpose",
        bad=v2(purpose="PriorityCharging"),
        good_config={"supported_additional_purposes": frozenset({PC})},
    ),
    Case(
        "K01.FR.120-local-generation-unsupported-2.1",
        "2.1",
        R.UNSUPPORTED_PURPOSE,
        "K01.FR.120",
        "UnsupportedPurpose",
        bad=v2(0, purpose="LocalGeneration"),
        local=True,
        good_config={"supported_additional_purposes": frozenset({LG})},
    ),
    Case(
        "2.0.1-3.2-station-max-on-evse",
        "2.0.1",
        R.MAX_PROFILE_NOT_ON_STATION,
        "OCPP 2.0.1 §3.2",
        "InvalidProfile",
        bad=v2(1, purpose="ChargingStationMaxProfile"),
        good=v2(0, purpose="ChargingStationMaxProfile"),
    ),
    Case(
        "v16-3.13.1-charge-point-max-on-connector",
        "1.6",
        R.MAX_PROFILE_NOT_ON_STATION,
        "OCPP 1.6 §3.13.1",
        "InvalidProfile",
        bad=v16(1, purpose="ChargePointMaxProfile"),
        good=v16(0, purpose="ChargePointMaxProfile"),
    ),
    Case(
        "K01.FR.16-tx-profile-on-evse-0",
        "2.0.1",
        R.TX_PROFILE_ON_STATION,
        "K01.FR.16",
        "InvalidProfile",
        bad=v2(0, **TXP),
        good=v2(1, **TXP),
        txs={1: "tx-1"},
    ),
    Case(
        "v16-3.13.1-tx-profile-on-connector-0",
        "1.6",
        R.TX_PROFILE_ON_STATION,
        "OCPP 1.6 §3.13.1",
        "InvalidProfile",
        bad=v16(0, purpose="TxProfile", transactionId=1),
        good=v16(1, purpose="TxProfile", transactionId=1),
        txs={1: "1"},
    ),
    # --- transactions
    Case(
        "K01.FR.03-tx-profile-without-transaction-id",
        "2.0.1",
        R.TX_PROFILE_WITHOUT_TRANSACTION_ID,
        "K01.FR.03",
        "MissingParam",
        bad=v2(purpose="TxProfile"),
        good=v2(**TXP),
        txs={1: "tx-1"},
    ),
    Case(
        "2.0.1-transaction-id-on-tx-default",
        "2.0.1",
        R.TRANSACTION_ID_ON_OTHER_PURPOSE,
        "OCPP 2.0.1 ChargingProfileType.transactionId",
        "InvalidProfile",
        bad=v2(transactionId="tx-1"),
        good=v2(),
        txs={1: "tx-1"},
    ),
    Case(
        "v16-7.8-transaction-id-on-tx-default",
        "1.6",
        R.TRANSACTION_ID_ON_OTHER_PURPOSE,
        "OCPP 1.6 §7.8",
        "InvalidProfile",
        bad=v16(transactionId=1),
        good=v16(),
        txs={1: "1"},
    ),
    Case(
        "K01.FR.09-tx-profile-without-active-transaction",
        "2.0.1",
        R.NO_ACTIVE_TRANSACTION,
        "K01.FR.09",
        "TxNotFound",
        bad=v2(2, **TXP),
        good=v2(1, **TXP),
        txs={1: "tx-1"},
    ),
    Case(
        "v16-3.13.1-tx-profile-without-active-transaction",
        "1.6",
        R.NO_ACTIVE_TRANSACTION,
        "OCPP 1.6 §3.13.1",
        "TxNotFound",
        bad=v16(2, purpose="TxProfile"),
        good=v16(1, purpose="TxProfile"),
        txs={1: "1"},
    ),
    Case(
        "K01.FR.33-tx-profile-for-another-transaction",
        "2.0.1",
        R.UNKNOWN_TRANSACTION,
        "K01.FR.33",
        "TxNotFound",
        bad=v2(purpose="TxProfile", transactionId="tx-2"),
        good=v2(**TXP),
        txs={1: "tx-1"},
    ),
    Case(
        "v16-7.8-tx-profile-for-another-transaction",
        "1.6",
        R.UNKNOWN_TRANSACTION,
        "OCPP 1.6 §7.8",
        "TxNotFound",
        bad=v16(purpose="TxProfile", transactionId=2),
        good=v16(purpose="TxProfile", transactionId=1),
        txs={1: "1"},
    ),
    # --- ids and stack levels
    Case(
        "K01.FR.81-id-reserved-for-external-constraints-2.1",
        "2.1",
        R.INVALID_PROFILE_ID,
        "K01.FR.81",
        "InvalidProfileId",
        bad=v2(pid=100),
        good=v2(pid=101),
        config={"max_external_constraints_id": 100},
    ),
    Case(
        "K01.FR.05-csms-cannot-replace-external-constraints",
        "2.0.1",
        R.EXTERNAL_CONSTRAINTS_NOT_REPLACEABLE,
        "K01.FR.05",
        "InvalidProfileId",
        bad=v2(pid=7, **MAX2),
        good=v2(pid=8, **MAX2),
        local_setup=(v2(pid=7, **EXT),),
    ),
    Case(
        "K01.FR.05-csms-cannot-replace-local-generation-2.1",
        "2.1",
        R.EXTERNAL_CONSTRAINTS_NOT_REPLACEABLE,
        "K01.FR.05",
        "InvalidProfileId",
        bad=v2(pid=7),
        good=v2(pid=8),
        config={"supported_additional_purposes": frozenset({LG})},
        local_setup=(v2(0, pid=7, purpose="LocalGeneration"),),
    ),
    Case(
        "ProfileStackLevel-above-maximum",
        "2.0.1",
        R.STACK_LEVEL_OUT_OF_RANGE,
        "SmartChargingCtrlr.ProfileStackLevel",
        "InvalidStackLevel",
        bad=v2(level=6),
        good=v2(level=5),
        config={"charge_profile_max_stack_level": 5},
    ),
    Case(
        "ProfileStackLevel-negative",
        "2.0.1",
        R.STACK_LEVEL_OUT_OF_RANGE,
        "SmartChargingCtrlr.ProfileStackLevel",
        "InvalidStackLevel",
        bad=v2(level=-1),
        good=v2(level=0),
    ),
    Case(
        "v16-ChargeProfileMaxStackLevel",
        "1.6",
        R.STACK_LEVEL_OUT_OF_RANGE,
        "OCPP 1.6 ChargeProfileMaxStackLevel",
        "InvalidStackLevel",
        bad=v16(level=6),
        good=v16(level=5),
        config={"charge_profile_max_stack_level": 5},
    ),
    # --- kinds (2.1 Dynamic)
    Case(
        "K01.FR.121-dynamic-unsupported-2.1",
        "2.1",
        R.UNSUPPORTED_KIND,
        "K01.FR.121",
        "UnsupportedKind",
        bad=v2(kind="Dynamic"),
        good_config={"supports_dynamic_profiles": True},
    ),
    Case(
        "K01.FR.122-dyn-update-interval-on-absolute-2.1",
        "2.1",
        R.DYNAMIC_FIELDS_ON_OTHER_KIND,
        "K01.FR.122",
        "InvalidProfile",
        bad=v2(dynUpdateInterval=60),
        good=v2(),
    ),
    Case(
        "K01.FR.122-dyn-update-time-on-relative-2.1",
        "2.1",
        R.DYNAMIC_FIELDS_ON_OTHER_KIND,
        "K01.FR.122",
        "InvalidProfile",
        bad=v2(kind="Relative", dynUpdateTime=T0),
        good=v2(kind="Dynamic", dynUpdateTime=T0),
        config={"supports_dynamic_profiles": True},
    ),
    Case(
        "K28.FR.01-dynamic-with-two-periods-2.1",
        "2.1",
        R.INVALID_DYNAMIC_SCHEDULE,
        "K28.FR.01",
        "InvalidSchedule",
        bad=v2(kind="Dynamic", periods=[period(0), period(600)]),
        good=v2(kind="Dynamic", periods=[period(0)]),
        config={"supports_dynamic_profiles": True},
    ),
    # --- recurrence, startSchedule, validity
    Case(
        "2.0.1-recurring-without-recurrency-kind",
        "2.0.1",
        R.MISSING_RECURRENCY_KIND,
        "OCPP 2.0.1 ChargingProfileType.recurrencyKind",
        "InvalidProfile",
        bad=v2(kind="Recurring"),
        good=v2(kind="Recurring", recurrencyKind="Daily"),
    ),
    Case(
        "v16-7.8-recurring-without-recurrency-kind",
        "1.6",
        R.MISSING_RECURRENCY_KIND,
        "OCPP 1.6 §7.8",
        "InvalidProfile",
        bad=v16(kind="Recurring"),
        good=v16(kind="Recurring", recurrencyKind="Weekly"),
    ),
    Case(
        "2.0.1-recurrency-kind-on-absolute",
        "2.0.1",
        R.RECURRENCY_KIND_ON_OTHER_KIND,
        "OCPP 2.0.1 ChargingProfileType.recurrencyKind",
        "InvalidProfile",
        bad=v2(recurrencyKind="Daily"),
        good=v2(),
    ),
    Case(
        "v16-errata-3.56-recurrency-kind-on-relative",
        "1.6",
        R.RECURRENCY_KIND_ON_OTHER_KIND,
        "OCPP 1.6 errata 3.56",
        "InvalidProfile",
        bad=v16(kind="Relative", recurrencyKind="Daily"),
        good=v16(kind="Relative"),
    ),
    Case(
        "K01.FR.40-absolute-without-start-schedule",
        "2.0.1",
        R.MISSING_START_SCHEDULE,
        "K01.FR.40",
        "InvalidSchedule",
        bad=v2(sched={"startSchedule": None}),
        good=v2(),
    ),
    Case(
        "K01.FR.40-recurring-without-start-schedule",
        "2.0.1",
        R.MISSING_START_SCHEDULE,
        "K01.FR.40",
        "InvalidSchedule",
        bad=v2(kind="Recurring", recurrencyKind="Daily", sched={"startSchedule": None}),
        good=v2(kind="Recurring", recurrencyKind="Daily"),
    ),
    Case(
        "v16-7.13-recurring-without-start-schedule",
        "1.6",
        R.MISSING_START_SCHEDULE,
        "OCPP 1.6 §7.13",
        "InvalidSchedule",
        bad=v16(kind="Recurring", recurrencyKind="Daily", sched={"startSchedule": None}),
        good=v16(kind="Recurring", recurrencyKind="Daily"),
    ),
    Case(
        "K01.FR.41-relative-with-start-schedule",
        "2.0.1",
        R.RELATIVE_WITH_START_SCHEDULE,
        "K01.FR.41",
        "InvalidSchedule",
        bad=v2(kind="Relative", sched={"startSchedule": T0}),
        good=v2(kind="Relative"),
    ),
    Case(
        "K01.FR.38-relative-station-max",
        "2.0.1",
        R.RELATIVE_MAX_PROFILE,
        "K01.FR.38",
        "InvalidProfile",
        bad=v2(kind="Relative", **MAX2),
        good=v2(kind="Absolute", **MAX2),
    ),
    Case(
        "capability-relative-max-profile-not-accepted-1.6",
        "1.6",
        R.UNSUPPORTED_MAX_PROFILE_KIND,
        "StationConfig.relative_max_profile_supported",
        "UnsupportedKind",
        bad=v16(kind="Relative", **MAX16),
        config={"relative_max_profile_supported": False},
        good_config={"relative_max_profile_supported": True},
    ),
    Case(
        "capability-recurring-max-profile-not-accepted-2.0.1",
        "2.0.1",
        R.UNSUPPORTED_MAX_PROFILE_KIND,
        "StationConfig.recurring_max_profile_supported",
        "UnsupportedKind",
        bad=v2(kind="Recurring", recurrencyKind="Daily", **MAX2),
        good=v2(kind="Absolute", **MAX2),
        config={"recurring_max_profile_supported": False},
    ),
    Case(
        "K01.FR.36/37-valid-from-equals-valid-to",
        "2.0.1",
        R.EMPTY_VALIDITY,
        "K01.FR.36/K01.FR.37",
        "InvalidProfile",
        bad=v2(validFrom=T1, validTo=T1),
        good=v2(validFrom=T1, validTo=T2),
    ),
    Case(
        "v16-7.8-valid-from-after-valid-to",
        "1.6",
        R.EMPTY_VALIDITY,
        "OCPP 1.6 §7.8",
        "InvalidProfile",
        bad=v16(validFrom=T2, validTo=T1),
        good=v16(validFrom=T1, validTo=T2),
    ),
    # --- schedules and periods
    Case(
        "2.0.1-schema-no-schedule",
        "2.0.1",
        R.NO_SCHEDULE,
        "OCPP schema: chargingSchedule",
        "InvalidProfile",
        bad=v2(schedules=[]),
        good=v2(schedules=[sched2(1)]),
    ),
    Case(
        "K01.FR.34-two-schedules-outside-iso15118",
        "2.0.1",
        R.TOO_MANY_SCHEDULES,
        "K01.FR.34",
        "TooManyElements",
        bad=v2(schedules=[sched2(1), sched2(2)]),
        good_config={"iso15118_schedules": True},
    ),
    Case(
        "K01.FR.34-four-schedules-with-iso15118",
        "2.0.1",
        R.TOO_MANY_SCHEDULES,
        "K01.FR.34",
        "TooManyElements",
        bad=v2(schedules=[sched2(1), sched2(2), sched2(3), sched2(4)]),
        good=v2(schedules=[sched2(1), sched2(2), sched2(3)]),
        config={"iso15118_schedules": True},
    ),
    Case(
        "2.0.1-schema-no-periods",
        "2.0.1",
        R.NO_PERIODS,
        "OCPP 2.0.1 ChargingScheduleType.chargingSchedulePeriod",
        "InvalidSchedule",
        bad=v2(periods=[]),
        good=v2(periods=[period()]),
    ),
    Case(
        "v16-7.13-no-periods",
        "1.6",
        R.NO_PERIODS,
        "OCPP 1.6 §7.13",
        "InvalidSchedule",
        bad=v16(periods=[]),
        good=v16(periods=[period()]),
    ),
    Case(
        "PeriodsPerSchedule-exceeded",
        "2.0.1",
        R.TOO_MANY_PERIODS,
        "SmartChargingCtrlr.PeriodsPerSchedule",
        "TooManyElements",
        bad=v2(periods=[period(0), period(60), period(120)]),
        good=v2(periods=[period(0), period(60)]),
        config={"charging_schedule_max_periods": 2},
    ),
    Case(
        "v16-ChargingScheduleMaxPeriods-exceeded",
        "1.6",
        R.TOO_MANY_PERIODS,
        "OCPP 1.6 ChargingScheduleMaxPeriods",
        "TooManyElements",
        bad=v16(periods=[period(0), period(60), period(120)]),
        good=v16(periods=[period(0), period(60)]),
        config={"charging_schedule_max_periods": 2},
    ),
    Case(
        "K01.FR.31-first-period-not-zero",
        "2.0.1",
        R.FIRST_PERIOD_NOT_ZERO,
        "K01.FR.31",
        "InvalidSchedule",
        bad=v2(periods=[period(60)]),
        good=v2(periods=[period(0)]),
    ),
    Case(
        "v16-7.13-first-period-not-zero",
        "1.6",
        R.FIRST_PERIOD_NOT_ZERO,
        "OCPP 1.6 §7.13",
        "InvalidSchedule",
        bad=v16(periods=[period(1), period(60)]),
        good=v16(periods=[period(0), period(60)]),
    ),
    Case(
        "K01.FR.35-equal-start-periods",
        "2.0.1",
        R.PERIODS_NOT_INCREASING,
        "K01.FR.35",
        "InvalidSchedule",
        bad=v2(periods=[period(0), period(600), period(600)]),
        good=v2(periods=[period(0), period(600), period(1200)]),
    ),
    Case(
        "v16-7.13-decreasing-start-periods",
        "1.6",
        R.PERIODS_NOT_INCREASING,
        "OCPP 1.6 §7.13",
        "InvalidSchedule",
        bad=v16(periods=[period(0), period(600), period(300)]),
        good=v16(periods=[period(0), period(300), period(600)]),
    ),
    Case(
        "2.0.1-negative-duration",
        "2.0.1",
        R.NEGATIVE_DURATION,
        "OCPP 2.0.1 ChargingScheduleType.duration",
        "InvalidSchedule",
        bad=v2(sched={"duration": -1}),
        good=v2(sched={"duration": 0}),
    ),
    Case(
        "v16-7.13-negative-duration",
        "1.6",
        R.NEGATIVE_DURATION,
        "OCPP 1.6 §7.13",
        "InvalidSchedule",
        bad=v16(sched={"duration": -60}),
        good=v16(sched={"duration": 60}),
    ),
    Case(
        "K01.FR.26-unit-not-allowed",
        "2.0.1",
        R.UNSUPPORTED_RATE_UNIT,
        "K01.FR.26",
        "UnsupportedRateUnit",
        bad=v2(unit="W", periods=[period(0, 11000.0)]),
        good=v2(unit="A", periods=[period(0, 16.0)]),
        config=ONLY_A,
    ),
    Case(
        "v16-ChargingScheduleAllowedChargingRateUnit",
        "1.6",
        R.UNSUPPORTED_RATE_UNIT,
        "OCPP 1.6 ChargingScheduleAllowedChargingRateUnit",
        "UnsupportedRateUnit",
        bad=v16(unit="W", periods=[period(0, 11000.0)]),
        good=v16(unit="A", periods=[period(0, 16.0)]),
        config=ONLY_A,
    ),
    # --- limits
    Case(
        "2.0.1-negative-limit",
        "2.0.1",
        R.INVALID_LIMIT,
        "OCPP 2.0.1 ChargingSchedulePeriodType.limit",
        "InvalidSchedule",
        bad=v2(periods=[period(0, -0.1)]),
        good=v2(periods=[period(0, 0.0)]),
    ),
    Case(
        "capability-limit-with-too-many-decimals-2.0.1",
        "2.0.1",
        R.TOO_MANY_DECIMALS,
        "StationConfig.limit_decimal_places",
        "InvalidSchedule",
        bad=v2(periods=[period(0, 16.0), period(60, 7.25)]),
        good=v2(periods=[period(0, 16.0), period(60, 7.2)]),
        config={"limit_decimal_places": 1},
    ),
    Case(
        "capability-limit-decimals-1.6-integer-station",
        "1.6",
        R.TOO_MANY_DECIMALS,
        "StationConfig.limit_decimal_places",
        "InvalidSchedule",
        bad=v16(periods=[period(0, 6.5)]),
        good=v16(periods=[period(0, 6.0)]),
        config={"limit_decimal_places": 0},
    ),
    Case(
        "capability-limit-L2-with-too-many-decimals-2.1",
        "2.1",
        R.TOO_MANY_DECIMALS,
        "StationConfig.limit_decimal_places",
        "InvalidSchedule",
        bad=v2(periods=[period(0, 16.0, limit_L2=1.5)], **TXP),
        good_config={"limit_decimal_places": 1},
        config={"limit_decimal_places": 0},
        txs={1: "tx-1"},
    ),
    Case(
        "2.0.1-infinite-limit",
        "2.0.1",
        R.INVALID_LIMIT,
        "OCPP 2.0.1 ChargingSchedulePeriodType.limit",
        "InvalidSchedule",
        bad=v2(periods=[period(0, 16.0), period(60, float("inf"))]),
        good=v2(periods=[period(0, 16.0), period(60, 1e9)]),
    ),
    Case(
        "v16-7.14-negative-limit",
        "1.6",
        R.INVALID_LIMIT,
        "OCPP 1.6 §7.14",
        "InvalidSchedule",
        bad=v16(periods=[period(0, -0.5)]),
        good=v16(periods=[period(0, 6.0)]),
    ),
    Case(
        "2.1-positive-discharge-limit",
        "2.1",
        R.INVALID_LIMIT,
        "OCPP 2.1 ChargingSchedulePeriodType.dischargeLimit",
        "InvalidSchedule",
        bad=v2(periods=[period(0, 16.0, dischargeLimit=5.0)]),
        good=v2(periods=[period(0, 16.0, dischargeLimit=-5.0)]),
    ),
    Case(
        "2.1-negative-limit-L2",
        "2.1",
        R.INVALID_LIMIT,
        "OCPP 2.1 ChargingSchedulePeriodType",
        "InvalidSchedule",
        bad=v2(periods=[period(0, 16.0, limit_L2=-1.0)], **TXP),
        good=v2(periods=[period(0, 16.0, limit_L2=1.0)], **TXP),
        txs={1: "tx-1"},
    ),
    Case(
        "2.1-limit-at-soc-above-100",
        "2.1",
        R.INVALID_LIMIT,
        "OCPP 2.1 schema",
        "InvalidSchedule",
        bad=v2(sched={"limitAtSoC": {"soc": 101, "limit": 8.0}}),
        good=v2(sched={"limitAtSoC": {"soc": 100, "limit": 8.0}}),
        config={"supports_limit_at_soc": True},
    ),
    Case(
        "2.1-charging-only-period-without-limit",
        "2.1",
        R.MISSING_LIMIT,
        "OCPP 2.1 ChargingSchedulePeriodType.limit",
        "InvalidSchedule",
        bad=v2(periods=[period(0, None)]),
        good=v2(periods=[period(0, None, operationMode="Idle")]),
        config=V2X,
    ),
    # Issue 14: this case used to pin a CentralSetpoint period without a limit as
    # MissingLimit; 2.1 makes the limit optional there (the schema's description of
    # ChargingSchedulePeriodType.limit) and needs the setpoint instead (V21-1, V21-2).
    Case(
        "2.1-central-frequency-period-without-limit",
        "2.1",
        R.MISSING_LIMIT,
        "OCPP 2.1 ChargingSchedulePeriodType.limit",
        "InvalidSchedule",
        bad=v2(periods=[period(0, None, operationMode="CentralFrequency", setpoint=5.0)]),
        good=v2(periods=[period(0, 16.0, operationMode="CentralFrequency", setpoint=5.0)]),
        config=V2X,
    ),
    Case(
        "2.1-central-setpoint-period-without-setpoint",
        "2.1",
        R.MISSING_SETPOINT,
        "OCPP 2.1 ChargingSchedulePeriodType.setpoint",
        "InvalidSchedule",
        bad=v2(periods=[period(0, 16.0, operationMode="CentralSetpoint")]),
        good=v2(periods=[period(0, None, operationMode="CentralSetpoint", setpoint=5.0)]),
        config=V2X,
    ),
    # --- phases
    Case(
        "K01.FR.49-four-phases",
        "2.0.1",
        R.INVALID_NUMBER_PHASES,
        "K01.FR.49",
        "InvalidSchedule",
        bad=v2(periods=[period(0, 16.0, numberPhases=4)]),
        good=v2(periods=[period(0, 16.0, numberPhases=3)]),
    ),
    Case(
        "v16-7.14-zero-phases",
        "1.6",
        R.INVALID_NUMBER_PHASES,
        "OCPP 1.6 §7.14",
        "InvalidSchedule",
        bad=v16(periods=[period(0, 16.0, numberPhases=0)]),
        good=v16(periods=[period(0, 16.0, numberPhases=1)]),
    ),
    Case(
        "K01.FR.19-phase-to-use-with-three-phases",
        "2.0.1",
        R.INVALID_PHASE_TO_USE,
        "K01.FR.19",
        "InvalidSchedule",
        bad=v2(periods=[period(0, 16.0, numberPhases=3, phaseToUse=1)]),
        good=v2(periods=[period(0, 16.0, numberPhases=1, phaseToUse=1)]),
        config=SWITCHING,
    ),
    Case(
        "K01.FR.19-phase-to-use-without-number-phases",
        "2.0.1",
        R.INVALID_PHASE_TO_USE,
        "K01.FR.19",
        "InvalidSchedule",
        bad=v2(periods=[period(0, 16.0, phaseToUse=2)]),
        good=v2(periods=[period(0, 16.0, numberPhases=1, phaseToUse=2)]),
        config=SWITCHING,
    ),
    Case(
        "2.0.1-phase-to-use-4",
        "2.0.1",
        R.INVALID_PHASE_TO_USE,
        "OCPP 2.0.1 ChargingSchedulePeriodType.phaseToUse",
        "InvalidSchedule",
        bad=v2(periods=[period(0, 16.0, numberPhases=1, phaseToUse=4)]),
        good=v2(periods=[period(0, 16.0, numberPhases=1, phaseToUse=3)]),
        config=SWITCHING,
    ),
    Case(
        "K01.FR.48-phase-to-use-without-phase-switching",
        "2.0.1",
        R.PHASE_SWITCHING_NOT_SUPPORTED,
        "K01.FR.48",
        "InvalidSchedule",
        bad=v2(periods=[period(0, 16.0, numberPhases=1, phaseToUse=2)]),
        good_config=SWITCHING,
    ),
    Case(
        "K01.FR.141-phase-conflict-with-station-max",
        "2.0.1",
        R.PHASE_CONFLICT,
        "K01.FR.141",
        "PhaseConflict",
        bad=v2(pid=2, periods=[period(0, 16.0, numberPhases=1, phaseToUse=3)]),
        good=v2(pid=2, periods=[period(0, 16.0, numberPhases=1, phaseToUse=1)]),
        config=SWITCHING,
        setup=(v2(pid=1, periods=[period(0, 32.0, numberPhases=1, phaseToUse=1)], **MAX2),),
    ),
    Case(
        "K01.FR.141-station-max-conflicts-with-tx-default",
        "2.0.1",
        R.PHASE_CONFLICT,
        "K01.FR.141",
        "PhaseConflict",
        bad=v2(pid=2, periods=[period(0, 32.0, numberPhases=1, phaseToUse=1)], **MAX2),
        good=v2(pid=2, periods=[period(0, 32.0, numberPhases=1, phaseToUse=2)], **MAX2),
        config=SWITCHING,
        setup=(v2(2, pid=1, periods=[period(0, 16.0, numberPhases=1, phaseToUse=2)]),),
    ),
    Case(
        "K01.FR.144-limit-L2-outside-tx-profile-2.1",
        "2.1",
        R.PHASE_LIMITS_NOT_ALLOWED,
        "K01.FR.144",
        "PhaseConflict",
        bad=v2(periods=[period(0, 16.0, limit_L2=16.0)]),
        good=v2(periods=[period(0, 16.0, limit_L2=16.0)], **TXP),
        txs={1: "tx-1"},
    ),
    Case(
        "K01.FR.146-limit-L3-without-limit-2.1",
        "2.1",
        R.PHASE_LIMITS_NOT_ALLOWED,
        "K01.FR.146",
        "PhaseConflict",
        bad=v2(periods=[period(0, None, operationMode="Idle", limit_L3=10.0)], **TXP),
        good=v2(periods=[period(0, 10.0, operationMode="Idle", limit_L3=10.0)], **TXP),
        txs={1: "tx-1"},
        config=V2X,
    ),
    # --- 2.1 setpoints, operation modes, features
    Case(
        "V2X.05-setpoint-above-limit-2.1",
        "2.1",
        R.INVALID_SETPOINT,
        "V2X.05",
        "InvalidSchedule",
        bad=v2(periods=[period(0, 16.0, operationMode="CentralSetpoint", setpoint=16.5)]),
        good=v2(periods=[period(0, 16.0, operationMode="CentralSetpoint", setpoint=16.0)]),
        config=V2X,
    ),
    Case(
        "V2X.05-setpoint-below-discharge-limit-2.1",
        "2.1",
        R.INVALID_SETPOINT,
        "V2X.05",
        "InvalidSchedule",
        bad=v2(periods=[period(0, 16.0, dischargeLimit=-10.0, setpoint=-11.0)]),
        good=v2(periods=[period(0, 16.0, dischargeLimit=-10.0, setpoint=-10.0)]),
    ),
    Case(
        "K01.FR.111-station-max-central-setpoint-2.1",
        "2.1",
        R.INVALID_OPERATION_MODE,
        "K01.FR.111",
        "InvalidOperationMode",
        bad=v2(periods=[period(0, 32.0, operationMode="CentralSetpoint")], **MAX2),
        good=v2(periods=[period(0, 32.0, operationMode="ChargingOnly")], **MAX2),
    ),
    Case(
        "K01.FR.71-priority-charging-idle-2.1",
        "2.1",
        R.INVALID_OPERATION_MODE,
        "K01.FR.71",
        "InvalidOperationMode",
        bad=v2(purpose="PriorityCharging", periods=[period(0, 32.0, operationMode="Idle")]),
        good=v2(purpose="PriorityCharging", periods=[period(0, 32.0)]),
        config={"supported_additional_purposes": frozenset({PC})},
    ),
    Case(
        "K01.FR.112-external-constraints-central-setpoint-2.1",
        "2.1",
        R.INVALID_OPERATION_MODE,
        "K01.FR.112",
        "InvalidOperationMode",
        bad=v2(periods=[period(0, 32.0, operationMode="CentralSetpoint")], **EXT),
        good=v2(periods=[period(0, 32.0, operationMode="ExternalSetpoint")], **EXT),
        local=True,
    ),
    Case(
        "K01.FR.113-local-generation-external-setpoint-2.1",
        "2.1",
        R.INVALID_OPERATION_MODE,
        "K01.FR.113",
        "InvalidOperationMode",
        bad=v2(0, purpose="LocalGeneration", periods=[period(0, 5.0, operationMode="Idle")]),
        good=v2(
            0, purpose="LocalGeneration", periods=[period(0, 5.0, operationMode="ExternalLimits")]
        ),
        config={"supported_additional_purposes": frozenset({LG})},
        local=True,
    ),
    Case(
        "K01.FR.70-priority-charging-with-duration-2.1",
        "2.1",
        R.PRIORITY_CHARGING_WITH_DURATION,
        "K01.FR.70",
        "InvalidSchedule",
        bad=v2(purpose="PriorityCharging", sched={"duration": 3600}),
        good=v2(purpose="PriorityCharging"),
        config={"supported_additional_purposes": frozenset({PC})},
    ),
    Case(
        "K01.FR.123-use-local-time-unsupported-2.1",
        "2.1",
        R.UNSUPPORTED_FEATURE,
        "K01.FR.123",
        "InvalidSchedule",
        bad=v2(sched={"useLocalTime": True}),
        good_config={"supports_use_local_time": True},
    ),
    Case(
        "K01.FR.124-randomized-delay-unsupported-2.1",
        "2.1",
        R.UNSUPPORTED_FEATURE,
        "K01.FR.124",
        "InvalidSchedule",
        bad=v2(sched={"randomizedDelay": 300}),
        good_config={"supports_randomized_delay": True},
    ),
    Case(
        "2.1-schema-negative-randomized-delay",
        "2.1",
        R.INVALID_RANDOMIZED_DELAY,
        "OCPP 2.1 schema",
        "InvalidSchedule",
        bad=v2(sched={"randomizedDelay": -1}),
        good=v2(sched={"randomizedDelay": 0}),
    ),
    Case(
        "K01.FR.125-limit-at-soc-unsupported-2.1",
        "2.1",
        R.UNSUPPORTED_FEATURE,
        "K01.FR.125",
        "InvalidSchedule",
        bad=v2(sched={"limitAtSoC": {"soc": 80, "limit": 8.0}}),
        good_config={"supports_limit_at_soc": True},
    ),
    Case(
        "K01.FR.126-evse-sleep-unsupported-2.1",
        "2.1",
        R.UNSUPPORTED_FEATURE,
        "K01.FR.126",
        "InvalidSchedule",
        bad=v2(periods=[period(0, 16.0, evseSleep=True)]),
        good=v2(periods=[period(0, 16.0, evseSleep=True, operationMode="Idle")]),
        config={"v2x_supported_operation_modes": frozenset({OperationMode.IDLE})},
    ),
    Case(
        # The library's own rule (S10); until issue 14 this case was named after K01.FR.82,
        # which says something else (the case below).
        "S10-local-profile-reusing-a-csms-id",
        "2.0.1",
        R.INVALID_PROFILE_ID,
        "docs/semantics.md S10",
        "InvalidProfileId",
        bad=v2(pid=5, **EXT),
        good=v2(pid=6, **EXT),
        setup=(v2(pid=5),),
        local=True,
    ),
    Case(
        "K01.FR.82-station-external-constraints-id-above-max-2.1",
        "2.1",
        R.INVALID_PROFILE_ID,
        "K01.FR.82",
        "InvalidProfileId",
        bad=v2(pid=11, **EXT),
        good=v2(pid=10, **EXT),
        config={"max_external_constraints_id": 10},
        local=True,
    ),
    Case(
        "K01.FR.44-phases-on-a-dc-evse-2.1",
        "2.1",
        R.NO_PHASE_FOR_DC,
        "K01.FR.44",
        "NoPhaseForDC",
        bad=v2(periods=[period(0, 16.0, numberPhases=3)]),
        good_config={"dc_input_phase_control": True},
        config={"dc_evse_ids": frozenset({1})},
    ),
    Case(
        "K01.FR.43-phases-the-station-cannot-ensure",
        "2.0.1",
        R.PHASES_NOT_ENFORCEABLE,
        "K01.FR.43",
        "InvalidSchedule",
        bad=v2(periods=[period(0, 16.0, numberPhases=1)]),
        good=v2(periods=[period(0, 16.0, numberPhases=3)]),
        config={"min_enforceable_phases": 3},
    ),
    Case(
        "K01.FR.115-operation-mode-not-supported-2.1",
        "2.1",
        R.INVALID_OPERATION_MODE,
        "K01.FR.115",
        "InvalidOperationMode",
        bad=v2(periods=[period(0, 16.0, operationMode="CentralSetpoint", setpoint=8.0)]),
        good_config={"v2x_supported_operation_modes": frozenset({OperationMode.CENTRAL_SETPOINT})},
    ),
    Case(
        "K01.FR.95-randomized-delay-on-station-max-2.1",
        "2.1",
        R.RANDOMIZED_DELAY_NOT_ALLOWED,
        "K01.FR.95",
        "InvalidSchedule",
        bad=v2(sched={"randomizedDelay": 300}, **MAX2),
        good=v2(0, sched={"randomizedDelay": 300}),
        config={"supports_randomized_delay": True},
    ),
    # --- against the installed profiles (2.0.1)
    Case(
        "K01.FR.06-same-level-purpose-evse-overlapping-validity",
        "2.0.1",
        R.DUPLICATE_PROFILE,
        "K01.FR.06",
        "DuplicateProfile",
        bad=v2(pid=2, validFrom=T0, **MAX2),
        good=v2(pid=2, validFrom=T1, **MAX2),
        setup=(v2(pid=1, validTo=T1, **MAX2),),
    ),
    Case(
        "K01.FR.06-tx-default-same-evse",
        "2.0.1",
        R.DUPLICATE_PROFILE,
        "K01.FR.06",
        "DuplicateProfile",
        bad=v2(1, pid=2, level=3),
        good=v2(2, pid=2, level=3),
        setup=(v2(1, pid=1, level=3),),
    ),
    Case(
        "K01.FR.39-tx-profile-same-level-and-transaction",
        "2.0.1",
        R.DUPLICATE_TX_PROFILE,
        "K01.FR.39",
        "DuplicateProfile",
        bad=v2(pid=2, level=0, **TXP),
        good=v2(pid=2, level=1, **TXP),
        txs={1: "tx-1"},
        setup=(v2(pid=1, level=0, **TXP),),
    ),
    Case(
        "K01.FR.52-tx-default-on-evse-0-after-evse-1",
        "2.0.1",
        R.DUPLICATE_TX_DEFAULT_ON_STATION,
        "K01.FR.52",
        "DuplicateProfile",
        bad=v2(0, pid=2, level=4),
        good=v2(0, pid=2, level=5),
        setup=(v2(1, pid=1, level=4),),
    ),
    Case(
        "K01.FR.53-tx-default-on-evse-1-after-evse-0",
        "2.0.1",
        R.DUPLICATE_TX_DEFAULT_ON_EVSE,
        "K01.FR.53",
        "DuplicateProfile",
        bad=v2(1, pid=2, level=4),
        good=v2(1, pid=2, level=3),
        setup=(v2(0, pid=1, level=4),),
    ),
    # --- capacity
    Case(
        "Entries-maxLimit-store-full",
        "2.0.1",
        R.STORE_FULL,
        "SmartChargingCtrlr.Entries[ChargingProfiles].maxLimit",
        "OutOfStorage",
        bad=v2(2, pid=2),
        good=v2(2, pid=1, periods=[period(0, 10.0)]),
        config={"max_charging_profiles_installed": 1},
        setup=(v2(pid=1),),
    ),
    Case(
        "v16-MaxChargingProfilesInstalled",
        "1.6",
        R.STORE_FULL,
        "OCPP 1.6 MaxChargingProfilesInstalled",
        "OutOfStorage",
        bad=v16(pid=2, level=1),
        good=v16(pid=2, level=0),
        config={"max_charging_profiles_installed": 1},
        setup=(v16(pid=1, level=0),),
    ),
]


def _prepare(case: Case, config: dict[str, Any]) -> tuple[StationState, ProfileStore]:
    state = station(case.version, case.txs, **config)
    store = ProfileStore()
    for payload in case.local_setup:
        store, result = send(payload, state, store, local=True)
        assert result.accepted, str(result)
    for payload in case.setup:
        store, result = send(payload, state, store)
        assert result.accepted, str(result)
    return state, store


def test_every_rejection_reason_has_a_case() -> None:
    assert {case.reason for case in CASES} == set(RejectionReason)


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES])
def test_rule_rejects(case: Case) -> None:
    state, before = _prepare(case, case.config)

    after, result = send(case.bad, state, before, local=case.local)

    assert result.accepted is False
    assert result.status == "Rejected"
    assert result.reason is case.reason
    assert result.rule == case.rule
    assert result.message
    assert result.replaced == ()
    assert after is before
    assert case.reason.reason_code == case.code
    payload = result.to_payload(case.version)
    if case.version == "1.6":
        assert payload == {"status": "Rejected"}
    else:
        assert payload["status"] == "Rejected"
        assert payload["statusInfo"]["reasonCode"] == case.code
        assert payload["statusInfo"]["additionalInfo"].startswith(
            f"{case.reason.value} ({case.rule}): "
        )
    assert result.to_payload("2.0.1")["statusInfo"]["reasonCode"] == case.code


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES])
def test_rule_accepts_minimally_different_request(case: Case) -> None:
    state, before = _prepare(case, {**case.config, **case.good_config})
    good = case.bad if case.good is None else case.good
    local = case.local if case.good_local is None else case.good_local

    after, result = send(good, state, before, local=local)

    assert result.accepted is True, str(result)
    assert (result.reason, result.rule, result.message) == (None, None, "")
    assert result.to_payload(case.version) == {"status": "Accepted"}
    request = read_set_charging_profile(good, case.version)
    installed = after.get(request.charging_profile.id)
    assert installed is not None
    assert installed.profile == request.charging_profile
    assert installed.evse_id == request.evse_id
    assert len(after) == len(before) + 1 - len(result.replaced)


def test_good_and_bad_differ() -> None:
    """A case whose accepted variant is the same request must differ in configuration."""
    for case in CASES:
        same_request = case.good is None or case.good == case.bad
        same_station = not case.good_config and case.good_local in (None, case.local)
        assert not (same_request and same_station), case.id


# --------------------------------------------------------------------------- 1.6 vs 2.x differences


def test_k01_fr_40_v16_absolute_without_start_schedule_is_accepted() -> None:
    """1.6 §7.13 makes startSchedule optional (decision A1); 2.x rejects it (K01.FR.40)."""
    payload = v16(sched={"startSchedule": None})
    _, result = send(payload, station("1.6"))
    assert result.accepted is True


def test_k01_fr_41_v16_relative_with_start_schedule_is_accepted() -> None:
    """Decision A2: 1.6 has no K01.FR.41."""
    _, result = send(v16(kind="Relative", sched={"startSchedule": T0}), station("1.6"))
    assert result.accepted is True


def test_k01_fr_38_v16_relative_charge_point_max_is_accepted() -> None:
    _, result = send(v16(kind="Relative", **MAX16), station("1.6"))
    assert result.accepted is True


def test_k01_fr_03_v16_tx_profile_without_transaction_id_binds_to_active_transaction() -> None:
    """1.6 §7.8: transactionId is optional; the profile is for the current transaction (G2)."""
    store, result = send(v16(purpose="TxProfile"), station("1.6", {1: "42"}))
    assert result.accepted is True
    entry = store.get(1)
    assert entry is not None
    assert entry.profile.transaction_id is None
    assert entry.transaction_id == "42"
    assert entry.bound_transaction_id == "42"


def test_k01_fr_04_v2_tx_profile_is_bound_to_named_transaction() -> None:
    store, result = send(v2(**TXP), station(txs={1: "tx-1"}))
    assert result.accepted is True
    entry = store.get(1)
    assert entry is not None
    assert (entry.transaction_id, entry.bound_transaction_id) == ("tx-1", "tx-1")
    assert entry.source is ChargingLimitSource.CSO


def test_tx_default_is_not_bound_to_the_active_transaction() -> None:
    store, result = send(v2(), station(txs={1: "tx-1"}))
    assert result.accepted is True
    entry = store.get(1)
    assert entry is not None
    assert entry.transaction_id is None
    assert entry.bound_transaction_id is None


def test_k01_fr_22_rejection_also_in_2_1() -> None:
    _, result = send(v2(**EXT), station("2.1"))
    assert (result.reason, result.rule) == (R.PURPOSE_SET_LOCALLY_ONLY, "K01.FR.22")


def test_install_local_external_constraints_records_source() -> None:
    """S3: install_local is the station's entry for external constraints."""
    state = station()
    request = read_set_charging_profile(v2(pid=-3, **EXT), "2.0.1")
    store, result = install_local(ProfileStore(), request, state, source=ChargingLimitSource.SO)
    assert result.accepted is True
    entry = store.get(-3)
    assert entry is not None
    assert entry.source is ChargingLimitSource.SO
    store, _ = install_local(ProfileStore(), request, state)
    default_entry = store.get(-3)
    assert default_entry is not None
    assert default_entry.source is ChargingLimitSource.EMS


def test_k01_fr_81_local_external_constraints_may_use_reserved_ids() -> None:
    state = station("2.1", max_external_constraints_id=100)
    _, result = send(v2(pid=5, **EXT), state, local=True)
    assert result.accepted is True


def test_k01_fr_95_local_external_constraints_may_carry_randomized_delay() -> None:
    state = station("2.1", supports_randomized_delay=True)
    payload = v2(sched={"randomizedDelay": 60}, **EXT)
    _, result = send(payload, state, local=True)
    assert result.accepted is True


def test_k01_fr_126_evse_sleep_supported() -> None:
    state = station("2.1", supports_evse_sleep=True)
    _, result = send(v2(periods=[period(0, 16.0, evseSleep=True)]), state)
    assert result.accepted is True


def test_k01_fr_48_phase_to_use_checked_per_period() -> None:
    payload = v2(periods=[period(0, 16.0), period(60, 16.0, numberPhases=1, phaseToUse=1)])
    _, result = send(payload, station())
    assert result.reason is R.PHASE_SWITCHING_NOT_SUPPORTED
    assert "period 1 (startPeriod 60)" in result.message


def test_k01_fr_141_phase_conflict_ignores_other_evses() -> None:
    """A TxDefault on EVSE 2 does not conflict with one on EVSE 1, nor with a cap elsewhere."""
    state = station(**SWITCHING)
    store = build(state, v2(1, pid=1, periods=[period(0, 16.0, numberPhases=1, phaseToUse=1)]))
    _, result = send(
        v2(2, pid=2, periods=[period(0, 8.0, **ONE_PHASE, phaseToUse=2)]), state, store
    )
    assert result.accepted is True


# --------------------------------------------------------------------------- replacement


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_k01_fr_05_same_id_replaces(version: str) -> None:
    make = v16 if version == "1.6" else v2
    state = station(version)
    store = build(state, make(pid=1, periods=[period(0, 16.0)]))

    after, result = send(make(pid=1, level=2, periods=[period(0, 10.0)]), state, store)

    assert result.accepted is True
    assert result.replaced == (1,)
    assert len(after) == 1
    entry = after.get(1)
    assert entry is not None
    assert entry.stack_level == 2
    assert entry.profile.charging_schedule[0].charging_schedule_period[0].limit == 10.0


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_k01_fr_05_same_id_replaces_across_evses(version: str) -> None:
    make = v16 if version == "1.6" else v2
    state = station(version)
    store = build(state, make(1, pid=1))

    after, result = send(make(2, pid=1), state, store)

    assert result.replaced == (1,)
    assert [(e.id, e.evse_id) for e in after] == [(1, 2)]


def test_v16_same_level_and_purpose_on_same_connector_replaces() -> None:
    """1.6 §3.13.2/§5.16.3 (decision S1)."""
    state = station("1.6")
    store = build(state, v16(1, pid=1, level=2))

    after, result = send(v16(1, pid=2, level=2), state, store)

    assert result.accepted is True
    assert result.replaced == (1,)
    assert [e.id for e in after] == [2]


@pytest.mark.parametrize(
    "other",
    [
        pytest.param(v16(2, pid=2, level=2), id="other-connector"),
        pytest.param(v16(1, pid=2, level=3), id="other-level"),
        pytest.param(v16(0, pid=2, level=2), id="connector-0"),
        pytest.param(v16(0, pid=2, level=2, purpose="ChargePointMaxProfile"), id="other-purpose"),
    ],
)
def test_v16_same_level_elsewhere_does_not_replace(other: dict[str, Any]) -> None:
    """1.6 §3.13.1: replaced 'only for that specific connector'; S2: EVSE 0 and EVSE both kept."""
    state = station("1.6")
    store = build(state, v16(1, pid=1, level=2))

    after, result = send(other, state, store)

    assert result.accepted is True
    assert result.replaced == ()
    assert sorted(e.id for e in after) == [1, 2]


def test_v16_replaces_by_id_and_by_level_together() -> None:
    state = station("1.6")
    store = build(state, v16(1, pid=1, level=0), v16(1, pid=2, level=1), v16(2, pid=3, level=1))

    after, result = send(v16(1, pid=1, level=1), state, store)

    assert result.replaced == (1, 2)
    assert sorted((e.id, e.stack_level) for e in after) == [(1, 1), (3, 1)]


def test_v16_tx_profile_same_level_replaces() -> None:
    state = station("1.6", {1: "7"})
    store = build(state, v16(pid=1, purpose="TxProfile", transactionId=7))

    after, result = send(v16(pid=2, purpose="TxProfile"), state, store)

    assert result.replaced == (1,)
    assert [e.id for e in after] == [2]


def test_k01_fr_06_same_level_on_other_evse_is_accepted() -> None:
    state = station()
    store = build(state, v2(1, pid=1, level=3))
    after, result = send(v2(2, pid=2, level=3), state, store)
    assert result.accepted is True
    assert result.replaced == ()
    assert len(after) == 2


def test_k01_fr_06_partial_overlap_rejected_and_touching_accepted() -> None:
    state = station()
    store = build(state, v2(pid=1, validFrom=T1, validTo=T2))

    _, overlap = send(v2(pid=2, validFrom=T0, validTo="2024-06-02T00:00:01Z"), state, store)
    _, before = send(v2(pid=3, validFrom=T0, validTo=T1), state, store)
    _, after = send(v2(pid=4, validFrom=T2), state, store)

    assert (overlap.reason, overlap.rule) == (R.DUPLICATE_PROFILE, "K01.FR.06")
    assert before.accepted is True
    assert after.accepted is True


def test_k01_fr_06_same_id_is_a_replacement_not_a_duplicate() -> None:
    state = station()
    store = build(state, v2(pid=1, level=3))
    after, result = send(v2(pid=1, level=3, periods=[period(0, 6.0)]), state, store)
    assert result.accepted is True
    assert result.replaced == (1,)
    assert len(after) == 1


def test_k01_fr_06_v16_has_no_duplicate_rejection() -> None:
    """In 1.6 the same level + purpose + connector replaces instead (S1)."""
    state = station("1.6")
    store = build(state, v16(0, pid=1, purpose="ChargePointMaxProfile"))
    _, result = send(v16(0, pid=2, purpose="ChargePointMaxProfile"), state, store)
    assert result.accepted is True
    assert result.replaced == (1,)


def test_k01_fr_39_same_level_other_transaction_is_accepted() -> None:
    state = station(txs={1: "tx-1", 2: "tx-2"})
    store = build(state, v2(1, pid=1, **TXP))
    after, result = send(v2(2, pid=2, purpose="TxProfile", transactionId="tx-2"), state, store)
    assert result.accepted is True
    assert len(after) == 2


def test_k01_fr_39_ignores_validity() -> None:
    state = station(txs={1: "tx-1"})
    store = build(state, v2(pid=1, validTo=T1, **TXP))
    _, result = send(v2(pid=2, validFrom=T2, **TXP), state, store)
    assert (result.reason, result.rule) == (R.DUPLICATE_TX_PROFILE, "K01.FR.39")


@pytest.mark.parametrize(
    ("first", "second", "rule"),
    [
        pytest.param(v2(1, pid=1, validTo=T1), v2(0, pid=2, validFrom=T2), "K01.FR.52", id="52"),
        pytest.param(v2(0, pid=1, validTo=T1), v2(1, pid=2, validFrom=T2), "K01.FR.53", id="53"),
    ],
)
def test_k01_fr_52_53_rejected_even_with_disjoint_validity(
    first: dict[str, Any], second: dict[str, Any], rule: str
) -> None:
    """Decision S2: the requirement names no validity condition."""
    state = station()
    store = build(state, first)
    after, result = send(second, state, store)
    assert result.accepted is False
    assert result.rule == rule
    assert after is store


def test_k01_fr_52_53_do_not_apply_to_other_purposes() -> None:
    """A station max on EVSE 0 and a TxDefault on EVSE 1 at one level are fine."""
    state = station()
    store = build(state, v2(pid=1, level=0, **MAX2))
    _, result = send(v2(1, pid=2, level=0), state, store)
    assert result.accepted is True


def test_k01_fr_05_csms_cannot_replace_external_constraints_store_unchanged() -> None:
    state = station()
    store = build(state, v2(pid=-1, **EXT), local=True)

    after, result = send(v2(0, pid=-1), state, store)

    assert (result.reason, result.rule) == (R.EXTERNAL_CONSTRAINTS_NOT_REPLACEABLE, "K01.FR.05")
    assert after is store
    entry = after.get(-1)
    assert entry is not None
    assert entry.purpose is ChargingProfilePurpose.CHARGING_STATION_EXTERNAL_CONSTRAINTS


def test_install_local_replaces_its_own_external_constraints() -> None:
    state = station()
    store = build(state, v2(pid=-1, **EXT), local=True)
    after, result = send(v2(pid=-1, periods=[period(0, 8.0)], **EXT), state, store, local=True)
    assert result.accepted is True
    assert result.replaced == (-1,)
    assert len(after) == 1


def test_install_local_skips_duplicate_checks() -> None:
    """install_local: the CSMS-only duplicate rules (K01.FR.06) do not apply."""
    state = station()
    store = build(state, v2(pid=-1, **EXT), local=True)
    after, result = send(v2(pid=-2, **EXT), state, store, local=True)
    assert result.accepted is True
    assert len(after) == 2


def test_rejected_request_leaves_store_unchanged() -> None:
    state = station()
    store = build(state, v2(pid=1), v2(pid=2, **MAX2))
    snapshot = list(store.entries)

    after, result = send(v2(pid=1, periods=[period(60)]), state, store)

    assert result.reason is R.FIRST_PERIOD_NOT_ZERO
    assert after is store
    assert list(store.entries) == snapshot
    entry = store.get(1)
    assert entry is not None
    assert entry.profile.charging_schedule[0].charging_schedule_period[0].start_period == 0


def test_accepted_request_does_not_change_the_input_store() -> None:
    state = station()
    store = build(state, v2(pid=1))
    after, result = send(v2(pid=2, **MAX2), state, store)
    assert result.accepted is True
    assert [e.id for e in store] == [1]
    assert [e.id for e in after] == [1, 2]


# --------------------------------------------------------------------------- store full (S5)


def test_s5_store_full_counts_after_replacement_v16() -> None:
    state = station("1.6", max_charging_profiles_installed=2)
    store = build(state, v16(1, pid=1, level=0), v16(2, pid=2, level=0))

    _, new = send(v16(1, pid=3, level=1), state, store)
    after, replacing = send(v16(1, pid=3, level=0), state, store)

    assert (new.reason, new.rule) == (R.STORE_FULL, "OCPP 1.6 MaxChargingProfilesInstalled")
    assert replacing.accepted is True
    assert replacing.replaced == (1,)
    assert sorted(e.id for e in after) == [2, 3]


def test_s5_store_full_counts_after_replacement_v2() -> None:
    state = station(max_charging_profiles_installed=2)
    store = build(state, v2(1, pid=1), v2(2, pid=2))

    _, new = send(v2(3, pid=3), state, store)
    _, same_id = send(v2(3, pid=2), state, store)

    assert new.reason is R.STORE_FULL
    assert "2 profiles" in new.message
    assert same_id.accepted is True
    assert same_id.replaced == (2,)


def test_s5_store_one_below_the_maximum_accepts() -> None:
    state = station(max_charging_profiles_installed=3)
    store = build(state, v2(1, pid=1), v2(2, pid=2))
    after, result = send(v2(3, pid=3), state, store)
    assert result.accepted is True
    assert len(after) == 3


def test_s5_local_profiles_count_towards_store_full() -> None:
    state = station(max_charging_profiles_installed=1)
    store = build(state, v2(pid=-1, **EXT), local=True)
    _, result = send(v2(pid=1), state, store)
    assert result.reason is R.STORE_FULL


# --------------------------------------------------------------------------- entry points


def test_check_set_charging_profile_does_not_install() -> None:
    state = station()
    store = ProfileStore()
    request = read_set_charging_profile(v2(), "2.0.1")
    result = check_set_charging_profile(store, request, state)
    assert result.accepted is True
    assert len(store) == 0
    bad = read_set_charging_profile(v2(periods=[]), "2.0.1")
    assert check_set_charging_profile(store, bad, state).reason is R.NO_PERIODS


def test_result_str() -> None:
    _, bad = send(v2(periods=[period(30)]), station())
    _, good = send(v2(), station())
    assert str(good) == "Accepted"
    assert (
        str(bad) == "Rejected: FirstPeriodNotZero (K01.FR.31): the first period starts at 30, not 0"
    )


def test_additional_info_is_at_most_512_characters() -> None:
    many = [period(i * 60) for i in range(3)]
    _, result = send(v2(periods=many), station(charging_schedule_max_periods=2))
    info = result.to_payload("2.1")["statusInfo"]["additionalInfo"]
    assert info == "TooManyPeriods (SmartChargingCtrlr.PeriodsPerSchedule): 3 periods; " + (
        "the station accepts at most 2"
    )
    long_result = SetChargingProfileResult(False, R.NO_PERIODS, "x", "y" * 1000)
    assert len(long_result.to_payload("2.0.1")["statusInfo"]["additionalInfo"]) == 512


def test_replay_yields_store_and_answer_per_request() -> None:
    state = station()
    requests = [
        read_set_charging_profile(v2(pid=1), "2.0.1"),
        read_set_charging_profile(v2(pid=2, periods=[]), "2.0.1"),
        read_set_charging_profile(v2(**EXT, pid=3), "2.0.1"),
        read_set_charging_profile(v2(pid=1, level=1), "2.0.1"),
    ]

    steps = list(replay(requests, state))

    assert [r.status for _, r in steps] == ["Accepted", "Rejected", "Rejected", "Accepted"]
    assert [r.reason for _, r in steps] == [None, R.NO_PERIODS, R.PURPOSE_SET_LOCALLY_ONLY, None]
    assert steps[1][0] is steps[0][0]
    assert [e.id for e in steps[3][0]] == [1]
    assert steps[3][1].replaced == (1,)


def test_replay_with_local_purposes_installs_external_constraints() -> None:
    state = station()
    start = build(state, v2(pid=9))
    requests = [read_set_charging_profile(v2(**EXT, pid=3), "2.0.1")]
    [(store, result)] = list(replay(requests, state, start, local_purposes=True))
    assert result.accepted is True
    entry = store.get(3)
    assert entry is not None
    assert entry.source is ChargingLimitSource.EMS
    assert sorted(e.id for e in store) == [3, 9]


# --------------------------------------------------------------------------- properties

_LIMITS = st.one_of(st.floats(min_value=-5, max_value=64, allow_nan=False), st.just(float("nan")))


@st.composite
def _requests(draw: st.DrawFn) -> dict[str, Any]:
    purpose = draw(st.sampled_from(["TxDefaultProfile", "ChargingStationMaxProfile", "TxProfile"]))
    starts = draw(st.lists(st.integers(-10, 3600), min_size=0, max_size=4))
    periods = [period(s, draw(_LIMITS)) for s in starts]
    fields: dict[str, Any] = {}
    if purpose == "TxProfile":
        fields["transactionId"] = draw(st.sampled_from(["tx-1", "tx-2"]))
    if draw(st.booleans()):
        fields["validTo"] = draw(st.sampled_from([T0, T1, T2]))
        fields["validFrom"] = draw(st.sampled_from([T0, T1, T2]))
    return v2(
        draw(st.integers(-1, 3)),
        pid=draw(st.integers(1, 4)),
        level=draw(st.integers(-1, 3)),
        purpose=purpose,
        kind=draw(st.sampled_from(["Absolute", "Relative"])),
        periods=periods,
        unit=draw(st.sampled_from(["A", "W"])),
        **fields,
    )


@given(st.lists(_requests(), min_size=1, max_size=8))
def test_property_rejected_request_never_changes_store(payloads: list[dict[str, Any]]) -> None:
    state = station(
        txs={1: "tx-1"},
        evse_ids=(1, 2),
        charge_profile_max_stack_level=2,
        max_charging_profiles_installed=3,
        charging_schedule_allowed_charging_rate_unit=frozenset({ChargingRateUnit.A}),
    )
    store = ProfileStore()
    for payload in payloads:
        before = list(store.entries)
        after, result = send(payload, state, store)
        if result.accepted:
            assert result.reason is None
            new_id = payload["chargingProfile"]["id"]
            assert new_id in after
            assert len(after) <= 3
            assert {e.id for e in after} == ({e.id for e in store} - set(result.replaced)) | {
                new_id
            }
        else:
            assert after is store
            assert list(after.entries) == before
            assert result.reason is not None
            assert result.rule
        store = after

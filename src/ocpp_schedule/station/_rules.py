"""Station-side rules for SetChargingProfile: accept or reject, and what is replaced.

:func:`install` is what a station does with a SetChargingProfile request from
the CSMS: it checks the request against every rule a station can check
(OCPP 1.6 §3.13/§5.16 and errata; OCPP 2.0.1/2.1 K01), and either answers
``Rejected`` with a machine-readable :class:`RejectionReason`, or ``Accepted``
with the new store (replacing by id and, in 1.6, by stack level + purpose +
connector). :func:`install_local` is the entry for the station's own energy
management, which sets ChargingStationExternalConstraints (and 2.1
LocalGeneration) profiles that a CSMS may not send (K01.FR.22).

Each reason carries the rule it enforces and, for 2.0.1/2.1, the
``statusInfo.reasonCode`` the specification recommends.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from operator import lt
from threading import Lock
from typing import Any, Protocol, cast

from ..wire._enums import (
    ChargingLimitSource,
    ChargingProfileKind,
    ChargingProfilePurpose,
    OcppVersion,
    OperationMode,
)
from ..wire._models import (
    MAX_LIMIT,
    ChargingProfile,
    ChargingSchedule,
    SetChargingProfileRequest,
    period_columns,
)
from ..wire._payloads import parse_version
from ..wire._timestamps import epoch_or_datetime, from_epoch
from ._fold import Fold
from ._store import CAP_PURPOSES, InstalledProfile, ProfileStore, StationState, phases_to_use

__all__ = [
    "RejectionReason",
    "SetChargingProfileResult",
    "MEMO_FIELD_CHECKS",
    "check_set_charging_profile",
    "clear_rule_caches",
    "decimal_places",
    "install",
    "install_local",
]

P = ChargingProfilePurpose
K = ChargingProfileKind


class RejectionReason(StrEnum):
    """Why a SetChargingProfile request is rejected. Values are stable, machine-readable codes."""

    UNKNOWN_EVSE = "UnknownEvse"
    PURPOSE_SET_LOCALLY_ONLY = "PurposeSetLocallyOnly"
    UNSUPPORTED_PURPOSE = "UnsupportedPurpose"
    MAX_PROFILE_NOT_ON_STATION = "MaxProfileNotOnStation"
    TX_PROFILE_ON_STATION = "TxProfileOnStation"
    TX_PROFILE_WITHOUT_TRANSACTION_ID = "TxProfileWithoutTransactionId"
    TRANSACTION_ID_ON_OTHER_PURPOSE = "TransactionIdOnOtherPurpose"
    NO_ACTIVE_TRANSACTION = "NoActiveTransaction"
    UNKNOWN_TRANSACTION = "UnknownTransaction"
    INVALID_PROFILE_ID = "InvalidProfileId"
    EXTERNAL_CONSTRAINTS_NOT_REPLACEABLE = "ExternalConstraintsNotReplaceable"
    STACK_LEVEL_OUT_OF_RANGE = "StackLevelOutOfRange"
    UNSUPPORTED_KIND = "UnsupportedKind"
    DYNAMIC_FIELDS_ON_OTHER_KIND = "DynamicFieldsOnOtherKind"
    INVALID_DYNAMIC_SCHEDULE = "InvalidDynamicSchedule"
    MISSING_RECURRENCY_KIND = "MissingRecurrencyKind"
    RECURRENCY_KIND_ON_OTHER_KIND = "RecurrencyKindOnOtherKind"
    MISSING_START_SCHEDULE = "MissingStartSchedule"
    RELATIVE_WITH_START_SCHEDULE = "RelativeWithStartSchedule"
    RELATIVE_MAX_PROFILE = "RelativeMaxProfile"
    UNSUPPORTED_MAX_PROFILE_KIND = "UnsupportedMaxProfileKind"
    EMPTY_VALIDITY = "EmptyValidity"
    NO_SCHEDULE = "NoSchedule"
    TOO_MANY_SCHEDULES = "TooManySchedules"
    NO_PERIODS = "NoPeriods"
    TOO_MANY_PERIODS = "TooManyPeriods"
    FIRST_PERIOD_NOT_ZERO = "FirstPeriodNotZero"
    PERIODS_NOT_INCREASING = "PeriodsNotIncreasing"
    NEGATIVE_DURATION = "NegativeDuration"
    UNSUPPORTED_RATE_UNIT = "UnsupportedRateUnit"
    INVALID_LIMIT = "InvalidLimit"
    TOO_MANY_DECIMALS = "TooManyDecimals"
    MISSING_LIMIT = "MissingLimit"
    MISSING_SETPOINT = "MissingSetpoint"
    INVALID_NUMBER_PHASES = "InvalidNumberPhases"
    INVALID_PHASE_TO_USE = "InvalidPhaseToUse"
    PHASE_SWITCHING_NOT_SUPPORTED = "PhaseSwitchingNotSupported"
    PHASE_CONFLICT = "PhaseConflict"
    PHASE_LIMITS_NOT_ALLOWED = "PhaseLimitsNotAllowed"
    NO_PHASE_FOR_DC = "NoPhaseForDc"
    PHASES_NOT_ENFORCEABLE = "PhasesNotEnforceable"
    INVALID_SETPOINT = "InvalidSetpoint"
    INVALID_OPERATION_MODE = "InvalidOperationMode"
    PRIORITY_CHARGING_WITH_DURATION = "PriorityChargingWithDuration"
    UNSUPPORTED_FEATURE = "UnsupportedFeature"
    RANDOMIZED_DELAY_NOT_ALLOWED = "RandomizedDelayNotAllowed"
    INVALID_RANDOMIZED_DELAY = "InvalidRandomizedDelay"
    DUPLICATE_PROFILE = "DuplicateProfile"
    DUPLICATE_TX_PROFILE = "DuplicateTxProfile"
    DUPLICATE_TX_DEFAULT_ON_STATION = "DuplicateTxDefaultOnStation"
    DUPLICATE_TX_DEFAULT_ON_EVSE = "DuplicateTxDefaultOnEvse"
    STORE_FULL = "StoreFull"

    @property
    def reason_code(self) -> str:
        """The 2.0.1/2.1 ``statusInfo.reasonCode`` for this reason."""
        return _REASON_CODES[self]


_REASON_CODES: dict[RejectionReason, str] = {
    RejectionReason.UNKNOWN_EVSE: "UnknownEVSE",
    RejectionReason.PURPOSE_SET_LOCALLY_ONLY: "InvalidValue",
    RejectionReason.UNSUPPORTED_PURPOSE: "UnsupportedPurpose",
    RejectionReason.MAX_PROFILE_NOT_ON_STATION: "InvalidProfile",
    RejectionReason.TX_PROFILE_ON_STATION: "InvalidProfile",
    RejectionReason.TX_PROFILE_WITHOUT_TRANSACTION_ID: "MissingParam",
    RejectionReason.TRANSACTION_ID_ON_OTHER_PURPOSE: "InvalidProfile",
    RejectionReason.NO_ACTIVE_TRANSACTION: "TxNotFound",
    RejectionReason.UNKNOWN_TRANSACTION: "TxNotFound",
    RejectionReason.INVALID_PROFILE_ID: "InvalidProfileId",
    RejectionReason.EXTERNAL_CONSTRAINTS_NOT_REPLACEABLE: "InvalidProfileId",
    RejectionReason.STACK_LEVEL_OUT_OF_RANGE: "InvalidStackLevel",
    RejectionReason.UNSUPPORTED_KIND: "UnsupportedKind",
    RejectionReason.DYNAMIC_FIELDS_ON_OTHER_KIND: "InvalidProfile",
    RejectionReason.INVALID_DYNAMIC_SCHEDULE: "InvalidSchedule",
    RejectionReason.MISSING_RECURRENCY_KIND: "InvalidProfile",
    RejectionReason.RECURRENCY_KIND_ON_OTHER_KIND: "InvalidProfile",
    RejectionReason.MISSING_START_SCHEDULE: "InvalidSchedule",
    RejectionReason.RELATIVE_WITH_START_SCHEDULE: "InvalidSchedule",
    RejectionReason.RELATIVE_MAX_PROFILE: "InvalidProfile",
    RejectionReason.UNSUPPORTED_MAX_PROFILE_KIND: "UnsupportedKind",
    RejectionReason.EMPTY_VALIDITY: "InvalidProfile",
    RejectionReason.NO_SCHEDULE: "InvalidProfile",
    RejectionReason.TOO_MANY_SCHEDULES: "TooManyElements",
    RejectionReason.NO_PERIODS: "InvalidSchedule",
    RejectionReason.TOO_MANY_PERIODS: "TooManyElements",
    RejectionReason.FIRST_PERIOD_NOT_ZERO: "InvalidSchedule",
    RejectionReason.PERIODS_NOT_INCREASING: "InvalidSchedule",
    RejectionReason.NEGATIVE_DURATION: "InvalidSchedule",
    RejectionReason.UNSUPPORTED_RATE_UNIT: "UnsupportedRateUnit",
    RejectionReason.INVALID_LIMIT: "InvalidSchedule",
    RejectionReason.TOO_MANY_DECIMALS: "InvalidSchedule",
    RejectionReason.MISSING_LIMIT: "InvalidSchedule",
    RejectionReason.MISSING_SETPOINT: "InvalidSchedule",
    RejectionReason.INVALID_NUMBER_PHASES: "InvalidSchedule",
    RejectionReason.INVALID_PHASE_TO_USE: "InvalidSchedule",
    RejectionReason.PHASE_SWITCHING_NOT_SUPPORTED: "InvalidSchedule",
    RejectionReason.PHASE_CONFLICT: "PhaseConflict",
    RejectionReason.PHASE_LIMITS_NOT_ALLOWED: "PhaseConflict",
    RejectionReason.NO_PHASE_FOR_DC: "NoPhaseForDC",
    RejectionReason.PHASES_NOT_ENFORCEABLE: "InvalidSchedule",
    RejectionReason.INVALID_SETPOINT: "InvalidSchedule",
    RejectionReason.INVALID_OPERATION_MODE: "InvalidOperationMode",
    RejectionReason.PRIORITY_CHARGING_WITH_DURATION: "InvalidSchedule",
    RejectionReason.UNSUPPORTED_FEATURE: "InvalidSchedule",
    RejectionReason.RANDOMIZED_DELAY_NOT_ALLOWED: "InvalidSchedule",
    RejectionReason.INVALID_RANDOMIZED_DELAY: "InvalidSchedule",
    RejectionReason.DUPLICATE_PROFILE: "DuplicateProfile",
    RejectionReason.DUPLICATE_TX_PROFILE: "DuplicateProfile",
    RejectionReason.DUPLICATE_TX_DEFAULT_ON_STATION: "DuplicateProfile",
    RejectionReason.DUPLICATE_TX_DEFAULT_ON_EVSE: "DuplicateProfile",
    RejectionReason.STORE_FULL: "OutOfStorage",
}


@dataclass(frozen=True)
class SetChargingProfileResult:
    """The station's answer to one SetChargingProfile request.

    ``rule`` cites the requirement (``K01.FR.09``, ``OCPP 1.6 §5.16.4``, ...);
    ``message`` says what was wrong in words; ``replaced`` lists the ids of the
    profiles that the accepted one replaced.
    """

    accepted: bool
    reason: RejectionReason | None = None
    rule: str | None = None
    message: str = ""
    replaced: tuple[int, ...] = ()

    @property
    def status(self) -> str:
        """``Accepted`` or ``Rejected``, as in the response payload."""
        return "Accepted" if self.accepted else "Rejected"

    def __str__(self) -> str:
        if self.accepted:
            return "Accepted"
        return f"Rejected: {self.reason.value if self.reason else ''} ({self.rule}): {self.message}"

    def to_payload(self, version: OcppVersion | str) -> dict[str, Any]:
        """The SetChargingProfile response payload (1.6 ``.conf`` or 2.x ``Response``)."""
        return status_payload(self.status, self.reason, self.rule, self.message, version)


class _Coded(Protocol):
    """A rejection reason: a machine-readable value and its 2.x ``reasonCode``."""

    @property
    def value(self) -> str: ...

    @property
    def reason_code(self) -> str: ...


def status_payload(
    status: str, reason: _Coded | None, rule: str | None, message: str, version: OcppVersion | str
) -> dict[str, Any]:
    """A response payload: ``status``, and in 2.x a ``statusInfo`` for a rejection's reason.

    ``additionalInfo`` (reason, rule and message) is cut to 512 characters, the 2.0.1 maximum.
    """
    out: dict[str, Any] = {"status": status}
    if parse_version(version).is_v2 and reason is not None:
        info = f"{reason.value} ({rule}): {message}"
        out["statusInfo"] = {"reasonCode": reason.reason_code, "additionalInfo": info[:512]}
    return out


class _Rejected(Exception):
    def __init__(self, reason: RejectionReason, rule: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.rule = rule
        self.message = message


def _reject(reason: RejectionReason, rule: str, message: str) -> _Rejected:
    return _Rejected(reason, rule, message)


def _rule(version: OcppVersion, v16: str, v2: str) -> str:
    return v16 if version is OcppVersion.V16 else v2


# --------------------------------------------------------------------------- checks


def _check_placement(request: SetChargingProfileRequest, state: StationState) -> None:
    profile, evse, v = request.charging_profile, request.evse_id, state.version
    purpose = profile.charging_profile_purpose
    if not _knows_evse(state, evse):
        raise _reject(
            RejectionReason.UNKNOWN_EVSE,
            _rule(v, "OCPP 1.6 §5.16", "K01.FR.28"),
            f"the station has no EVSE {evse}",
        )
    if purpose in (P.PRIORITY_CHARGING, P.LOCAL_GENERATION) and (
        purpose not in state.config.supported_additional_purposes
    ):
        raise _reject(
            RejectionReason.UNSUPPORTED_PURPOSE,
            "K01.FR.120",
            f"{purpose.value} is not in SupportedAdditionalPurposes",
        )
    if purpose.is_max and evse != 0:
        raise _reject(
            RejectionReason.MAX_PROFILE_NOT_ON_STATION,
            _rule(v, "OCPP 1.6 §3.13.1", "OCPP 2.0.1 §3.2"),
            f"a {purpose.value} applies to the whole station and must be set on EVSE 0, not {evse}",
        )
    if purpose is P.TX_PROFILE and evse == 0:
        raise _reject(
            RejectionReason.TX_PROFILE_ON_STATION,
            _rule(v, "OCPP 1.6 §3.13.1", "K01.FR.16"),
            "a TxProfile applies to one transaction and must be set on an EVSE > 0",
        )


def _knows_evse(state: StationState, evse: int) -> bool:
    """``state.config.knows_evse(evse)`` with the EVSE ids as a set, built once per state
    (a tuple is searched in O(EVSEs), once per request of a replay: issue 17)."""
    known = state.derived("rules.evse_ids", _evse_id_set)
    return evse == 0 or (evse > 0 and (known is None or evse in known))


def _evse_id_set(state: StationState) -> frozenset[int] | None:
    ids = state.config.evse_ids
    return None if ids is None else frozenset(ids)


def _check_transaction(request: SetChargingProfileRequest, state: StationState) -> str | None:
    """Check a TxProfile's transaction; return the transaction it binds to."""
    profile, evse, v = request.charging_profile, request.evse_id, state.version
    if profile.charging_profile_purpose is not P.TX_PROFILE:
        if profile.transaction_id is not None:
            raise _reject(
                RejectionReason.TRANSACTION_ID_ON_OTHER_PURPOSE,
                _rule(v, "OCPP 1.6 §7.8", "OCPP 2.0.1 ChargingProfileType.transactionId"),
                "transactionId may only be set on a TxProfile",
            )
        return None
    if v.is_v2 and profile.transaction_id is None:
        raise _reject(
            RejectionReason.TX_PROFILE_WITHOUT_TRANSACTION_ID,
            "K01.FR.03",
            "a TxProfile must name its transaction (transactionId)",
        )
    active = state.transaction_on(evse)
    if active is None:
        raise _reject(
            RejectionReason.NO_ACTIVE_TRANSACTION,
            _rule(v, "OCPP 1.6 §3.13.1", "K01.FR.09"),
            f"no transaction is active on EVSE {evse}",
        )
    if profile.transaction_id is not None and profile.transaction_id != active.id:
        raise _reject(
            RejectionReason.UNKNOWN_TRANSACTION,
            _rule(v, "OCPP 1.6 §7.8", "K01.FR.33"),
            f"transaction {profile.transaction_id!r} is not the one active on EVSE {evse} "
            f"({active.id!r})",
        )
    return active.id


MEMO_FIELD_CHECKS = 8192
"""Most profiles remembered as having passed their field checks (least recently used out)."""


class _Content:
    """A value as a memo key: hashed once (a long profile's hash is not cheap), compared by
    value. Also the key of the send plans' draw memo (``site._plancheck``)."""

    __slots__ = ("_hash", "value")

    def __init__(self, value: tuple[object, ...]) -> None:
        self.value = value
        self._hash = hash(value)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _Content):
            return NotImplemented
        return self._hash == other._hash and self.value == other.value


_PASSED: OrderedDict[_Content, None] = OrderedDict()
_PASSED_LOCK = Lock()


def clear_rule_caches() -> None:
    """Forget every profile remembered as passing its field checks (benchmarks: a cold start).

    The memo only ever skips checks that would pass again; clearing it changes no result.
    """
    with _PASSED_LOCK:
        _PASSED.clear()


def _check_fields_once(profile: ChargingProfile, state: StationState, local: bool) -> None:
    """:func:`_check_profile_fields`, skipped for a profile equal to one that passed.

    The field checks depend only on the profile, the OCPP version, the configuration and
    ``local``, not on the store: a send plan installs each profile it builds two or three
    times (to order its steps, to replay them, and in the next plan to know what the pile
    holds), and this checks it once. The key is the profile's content (a frozen model,
    hashed and compared by value), never the object.

    Only a pass is remembered; a rejection is checked afresh every time, so its reason,
    rule and message are always the ones of this very profile. Why an equal profile passes
    too: equality compares every field by value; the checks read fields only through
    comparisons, ``math.isfinite``, lengths, enum identity and decimal places, which give the
    same answer for equal values (a validated model holds enum members, and an ``int`` equal
    to a ``float`` has no decimals, as that float has none). A profile that cannot be hashed
    (e.g. an unhashable ``customData`` value) is checked every time.
    """
    if all(_plain_periods_pass(s, state, local) for s in profile.charging_schedule):
        # Plain periods are checked faster than the profile is hashed for the memo (the
        # cold path: a profile seen once pays no hash); they passed, the rest is cheap.
        _check_profile_fields(profile, state, local, periods_passed=True)
        return
    try:
        key = _Content((profile, state.version, state.derived("rules.config", _config_key), local))
    except TypeError:
        _check_profile_fields(profile, state, local)
        return
    with _PASSED_LOCK:
        if key in _PASSED:
            _PASSED.move_to_end(key)
            return
    _check_profile_fields(profile, state, local)  # a rejection raises: never remembered
    with _PASSED_LOCK:
        _PASSED[key] = None
        if len(_PASSED) > MEMO_FIELD_CHECKS:
            _PASSED.popitem(last=False)


def _config_key(state: StationState) -> _Content:
    """The configuration in the memo's key, hashed once per state (its hash walks every
    field, the EVSE ids among them: O(EVSEs) once per request of a replay otherwise)."""
    return _Content((state.config,))


def memo_size() -> int:
    """How many passed profiles the memo holds now (for tests of its bound)."""
    with _PASSED_LOCK:
        return len(_PASSED)


def _check_profile_fields(
    profile: ChargingProfile, state: StationState, local: bool, *, periods_passed: bool = False
) -> None:
    """Every field check of the profile; ``periods_passed``: its periods are known to pass
    :func:`_check_period` (:func:`_plain_periods_pass` said so), so they are not checked again
    (the first rejection is then a profile or schedule one, in the same order as ever)."""
    v, cfg = state.version, state.config
    purpose, kind = profile.charging_profile_purpose, profile.charging_profile_kind
    if (
        not local
        and cfg.max_external_constraints_id is not None
        and (profile.id <= cfg.max_external_constraints_id)
    ):
        raise _reject(
            RejectionReason.INVALID_PROFILE_ID,
            "K01.FR.81",
            f"profile id {profile.id} is within the ids reserved for external constraints "
            f"(<= {cfg.max_external_constraints_id})",
        )
    _check_external_constraints_id(profile, state, local)
    if not 0 <= profile.stack_level <= cfg.charge_profile_max_stack_level:
        raise _reject(
            RejectionReason.STACK_LEVEL_OUT_OF_RANGE,
            _rule(v, "OCPP 1.6 ChargeProfileMaxStackLevel", "SmartChargingCtrlr.ProfileStackLevel"),
            f"stackLevel {profile.stack_level} is outside 0..{cfg.charge_profile_max_stack_level}",
        )
    if kind is K.DYNAMIC and not cfg.supports_dynamic_profiles:
        raise _reject(
            RejectionReason.UNSUPPORTED_KIND,
            "K01.FR.121",
            "the station does not support Dynamic profiles",
        )
    if kind is not K.DYNAMIC and (
        profile.dyn_update_interval is not None or profile.dyn_update_time is not None
    ):
        raise _reject(
            RejectionReason.DYNAMIC_FIELDS_ON_OTHER_KIND,
            "K01.FR.122",
            "dynUpdateInterval/dynUpdateTime are only allowed on a Dynamic profile",
        )
    if kind is K.RECURRING and profile.recurrency_kind is None:
        raise _reject(
            RejectionReason.MISSING_RECURRENCY_KIND,
            _rule(v, "OCPP 1.6 §7.8", "OCPP 2.0.1 ChargingProfileType.recurrencyKind"),
            "a Recurring profile needs recurrencyKind (Daily or Weekly)",
        )
    if kind is not K.RECURRING and profile.recurrency_kind is not None:
        raise _reject(
            RejectionReason.RECURRENCY_KIND_ON_OTHER_KIND,
            _rule(v, "OCPP 1.6 errata 3.56", "OCPP 2.0.1 ChargingProfileType.recurrencyKind"),
            f"recurrencyKind is only allowed on a Recurring profile, not {kind.value}",
        )
    if v.is_v2 and purpose is P.CHARGING_STATION_MAX_PROFILE and kind is K.RELATIVE:
        raise _reject(
            RejectionReason.RELATIVE_MAX_PROFILE,
            "K01.FR.38",
            "a ChargingStationMaxProfile cannot be Relative",
        )
    if purpose.is_max and (
        (kind is K.RELATIVE and not cfg.relative_max_profile_supported)
        or (kind is K.RECURRING and not cfg.recurring_max_profile_supported)
    ):
        flag = "relative" if kind is K.RELATIVE else "recurring"
        raise _reject(
            RejectionReason.UNSUPPORTED_MAX_PROFILE_KIND,
            f"StationConfig.{flag}_max_profile_supported",
            f"the station does not accept a {kind.value} {purpose.value}",
        )
    if (
        profile.valid_from is not None
        and profile.valid_to is not None
        and profile.valid_from >= profile.valid_to
    ):
        raise _reject(
            RejectionReason.EMPTY_VALIDITY,
            _rule(v, "OCPP 1.6 §7.8", "K01.FR.36/K01.FR.37"),
            "validFrom must be before validTo",
        )
    count = len(profile.charging_schedule)
    if count == 0:
        raise _reject(
            RejectionReason.NO_SCHEDULE,
            "OCPP schema: chargingSchedule",
            "the profile has no schedule",
        )
    allowed = 3 if cfg.iso15118_schedules else 1
    if count > allowed:
        raise _reject(
            RejectionReason.TOO_MANY_SCHEDULES,
            "K01.FR.34",
            f"{count} schedules; outside ISO 15118 a profile has exactly one"
            if allowed == 1
            else f"{count} schedules; at most 3 are allowed",
        )
    if kind is K.DYNAMIC:
        sched = profile.charging_schedule[0]
        starts = period_columns(sched).starts
        if count != 1 or len(starts) != 1 or starts[0] != 0:
            raise _reject(
                RejectionReason.INVALID_DYNAMIC_SCHEDULE,
                "K28.FR.01",
                "a Dynamic profile has exactly one schedule with one period at startPeriod 0",
            )
    for sched in profile.charging_schedule:
        _check_schedule(profile, sched, state, local, periods_passed)


def _check_schedule(
    profile: ChargingProfile,
    sched: ChargingSchedule,
    state: StationState,
    local: bool,
    periods_passed: bool = False,
) -> None:
    v, cfg = state.version, state.config
    purpose, kind = profile.charging_profile_purpose, profile.charging_profile_kind
    if (
        kind in (K.ABSOLUTE, K.RECURRING)
        and sched.start_schedule is None
        and (v.is_v2 or kind is K.RECURRING)
    ):
        raise _reject(
            RejectionReason.MISSING_START_SCHEDULE,
            _rule(v, "OCPP 1.6 §7.13", "K01.FR.40"),
            f"an {kind.value} schedule needs startSchedule",
        )
    if v.is_v2 and kind is K.RELATIVE and sched.start_schedule is not None:
        raise _reject(
            RejectionReason.RELATIVE_WITH_START_SCHEDULE,
            "K01.FR.41",
            "a Relative schedule must not have startSchedule",
        )
    if sched.duration is not None and sched.duration < 0:
        raise _reject(
            RejectionReason.NEGATIVE_DURATION,
            _rule(v, "OCPP 1.6 §7.13", "OCPP 2.0.1 ChargingScheduleType.duration"),
            f"duration {sched.duration} is negative",
        )
    if purpose is P.PRIORITY_CHARGING and sched.duration is not None:
        raise _reject(
            RejectionReason.PRIORITY_CHARGING_WITH_DURATION,
            "K01.FR.70",
            "a PriorityCharging schedule has no duration",
        )
    if sched.charging_rate_unit not in cfg.charging_schedule_allowed_charging_rate_unit:
        raise _reject(
            RejectionReason.UNSUPPORTED_RATE_UNIT,
            _rule(v, "OCPP 1.6 ChargingScheduleAllowedChargingRateUnit", "K01.FR.26"),
            f"the station does not accept schedules in {sched.charging_rate_unit.value}",
        )
    _check_features(profile, sched, state, local)
    if not _finite_nonneg(sched.min_charging_rate):
        raise _reject(
            RejectionReason.INVALID_LIMIT,
            _rule(v, "OCPP 1.6 §7.13", "OCPP 2.0.1 ChargingScheduleType.minChargingRate"),
            f"minChargingRate {sched.min_charging_rate} is negative, not finite or above "
            f"{MAX_LIMIT:g}",
        )
    rate = sched.min_charging_rate
    if v is OcppVersion.V16 and not local and rate is not None and decimal_places(rate) > 1:
        raise _reject(
            RejectionReason.TOO_MANY_DECIMALS,
            V16_DECIMALS_RULE,
            f"minChargingRate {rate!r} has more than 1 decimal place",
        )
    starts = period_columns(sched).starts  # read once, shared with the compiler
    if not starts:
        raise _reject(
            RejectionReason.NO_PERIODS,
            _rule(v, "OCPP 1.6 §7.13", "OCPP 2.0.1 ChargingScheduleType.chargingSchedulePeriod"),
            "the schedule has no periods",
        )
    if len(starts) > cfg.charging_schedule_max_periods:
        raise _reject(
            RejectionReason.TOO_MANY_PERIODS,
            _rule(
                v, "OCPP 1.6 ChargingScheduleMaxPeriods", "SmartChargingCtrlr.PeriodsPerSchedule"
            ),
            f"{len(starts)} periods; the station accepts at most "
            f"{cfg.charging_schedule_max_periods}",
        )
    if starts[0] != 0:
        raise _reject(
            RejectionReason.FIRST_PERIOD_NOT_ZERO,
            _rule(v, "OCPP 1.6 §7.13", "K01.FR.31"),
            f"the first period starts at {starts[0]}, not 0",
        )
    if not all(map(lt, starts, starts[1:])):
        for i in range(1, len(starts)):
            if starts[i] <= starts[i - 1]:
                raise _reject(
                    RejectionReason.PERIODS_NOT_INCREASING,
                    _rule(v, "OCPP 1.6 §7.13", "K01.FR.35"),
                    f"period {i} starts at {starts[i]}, not after {starts[i - 1]}",
                )
    if periods_passed or _plain_periods_pass(sched, state, local):
        return
    for i, period in enumerate(sched.charging_schedule_period):
        _check_period(profile, i, period, state, local)


def _plain_periods_pass(sched: ChargingSchedule, state: StationState, local: bool) -> bool:
    """True when every period is plain and passes :func:`_check_period`; False: check each.

    Plain (:attr:`~ocpp_schedule.wire._models.PeriodColumns.plain`): no operationMode,
    evseSleep, phaseToUse or 2.1 value (per-phase limits, discharge limits, setpoints),
    which is what 1.6 and most 2.x periods are. For such a period :func:`_check_period`
    reads only ``limit`` (present, finite, 0..MAX_LIMIT, at most the decimals allowed) and
    ``numberPhases`` (absent or 1..3): ChargingOnly is allowed for every purpose and needs
    a limit but no setpoint. Those are checked here on the schedule's columns
    (:func:`~ocpp_schedule.wire._models.period_columns`, read once and shared with the
    compiler), each distinct limit and phase count once (equal numbers have the same
    decimals). On False the caller runs :func:`_check_period` on each period, which raises
    the first period's rejection with its own message, as it always did;
    ``tests/test_cold_path.py`` pins that both agree.
    """
    columns = period_columns(sched)
    if not columns.plain:
        return False
    named = set(columns.phases)
    named.discard(None)
    phases = cast(set[int], named)
    if phases and not (min(phases) >= 1 and max(phases) <= 3):
        return False
    given = set(columns.limits)
    if not given:
        return True  # no periods: the schedule's own check rejects it
    if None in given:
        return False
    limits = cast(set[float], given)
    # 0..MAX_LIMIT with no NaN: min and max may step over a NaN, the sum never does
    # (finite values in range cannot overflow it).
    if not (min(limits) >= 0 and max(limits) <= MAX_LIMIT and not math.isnan(math.fsum(limits))):
        return False
    places = limit_places(state.version, state.config.limit_decimal_places, local)
    if places is None or set(map(int, limits)) == limits:
        return True  # every limit integer-valued (equal to its int): no decimals
    return all(
        isinstance(limit, int) or limit.is_integer() or decimal_places(limit) <= places
        for limit in limits
    )


def _check_features(
    profile: ChargingProfile, sched: ChargingSchedule, state: StationState, local: bool
) -> None:
    cfg, purpose = state.config, profile.charging_profile_purpose
    if sched.use_local_time and not cfg.supports_use_local_time:
        raise _reject(
            RejectionReason.UNSUPPORTED_FEATURE,
            "K01.FR.123",
            "the station does not support useLocalTime",
        )
    delay = sched.randomized_delay
    if delay is not None and delay < 0:
        raise _reject(
            RejectionReason.INVALID_RANDOMIZED_DELAY,
            "OCPP 2.1 schema",
            "randomizedDelay is negative",
        )
    if delay:
        if not local and purpose not in (P.TX_PROFILE, P.TX_DEFAULT_PROFILE):
            raise _reject(
                RejectionReason.RANDOMIZED_DELAY_NOT_ALLOWED,
                "K01.FR.95",
                "only TxProfile and TxDefaultProfile from the CSMS may carry a randomizedDelay",
            )
        if not cfg.supports_randomized_delay:
            raise _reject(
                RejectionReason.UNSUPPORTED_FEATURE,
                "K01.FR.124",
                "the station does not support randomizedDelay",
            )
    if sched.limit_at_soc is not None and not cfg.supports_limit_at_soc:
        raise _reject(
            RejectionReason.UNSUPPORTED_FEATURE,
            "K01.FR.125",
            "the station does not support limitAtSoC",
        )
    if sched.limit_at_soc is not None and not 0 <= sched.limit_at_soc.soc <= 100:
        raise _reject(
            RejectionReason.INVALID_LIMIT, "OCPP 2.1 schema", "limitAtSoC.soc is outside 0..100"
        )


_MODES_BY_PURPOSE: dict[ChargingProfilePurpose, frozenset[OperationMode]] = {
    P.PRIORITY_CHARGING: frozenset({OperationMode.CHARGING_ONLY}),
    P.CHARGING_STATION_MAX_PROFILE: frozenset({OperationMode.CHARGING_ONLY}),
    P.CHARGING_STATION_EXTERNAL_CONSTRAINTS: frozenset(
        {
            OperationMode.CHARGING_ONLY,
            OperationMode.EXTERNAL_LIMITS,
            OperationMode.EXTERNAL_SETPOINT,
        }
    ),
    P.LOCAL_GENERATION: frozenset({OperationMode.CHARGING_ONLY, OperationMode.EXTERNAL_LIMITS}),
}
_MODE_RULES = {
    P.PRIORITY_CHARGING: "K01.FR.71",
    P.CHARGING_STATION_MAX_PROFILE: "K01.FR.111",
    P.CHARGING_STATION_EXTERNAL_CONSTRAINTS: "K01.FR.112",
    P.LOCAL_GENERATION: "K01.FR.113",
}
# OCPP 2.1 ChargingSchedulePeriodType.limit: "Optional only when not required by the
# operationMode, as in CentralSetpoint, ExternalSetpoint, ExternalLimits, LocalFrequency,
# LocalLoadBalancing". ChargingOnly and CentralFrequency are not in that list; Idle draws
# nothing, so a limit says nothing there (docs/semantics.md V21-1).
_NEEDS_LIMIT = frozenset({OperationMode.CHARGING_ONLY, OperationMode.CENTRAL_FREQUENCY})
# CentralSetpoint is the CSMS's setpoint: a period without one has nothing to follow
# (docs/semantics.md V21-2).
_NEEDS_SETPOINT = frozenset({OperationMode.CENTRAL_SETPOINT})


def _finite_nonneg(value: float | None) -> bool:
    """No value, or a finite one in 0..MAX_LIMIT (1 GW / 10^9 A: beyond it is no limit)."""
    return value is None or (math.isfinite(value) and 0 <= value <= MAX_LIMIT)


def _check_period(
    profile: ChargingProfile, index: int, period: Any, state: StationState, local: bool
) -> None:
    v, cfg = state.version, state.config
    purpose = profile.charging_profile_purpose
    where = f"period {index} (startPeriod {period.start_period})"
    mode = period.operation_mode or OperationMode.CHARGING_ONLY
    allowed_modes = _MODES_BY_PURPOSE.get(purpose)
    if allowed_modes is not None and mode not in allowed_modes:
        raise _reject(
            RejectionReason.INVALID_OPERATION_MODE,
            _MODE_RULES[purpose],
            f"{where}: operationMode {mode.value} is not allowed in a {purpose.value}",
        )
    if (
        not local
        and mode is not OperationMode.CHARGING_ONLY
        and mode not in cfg.v2x_supported_operation_modes
    ):
        raise _reject(
            RejectionReason.INVALID_OPERATION_MODE,
            "K01.FR.115",
            f"{where}: operationMode {mode.value} is not in V2XSupportedOperationModes",
        )
    if period.limit is None:
        if mode in _NEEDS_LIMIT:
            raise _reject(
                RejectionReason.MISSING_LIMIT,
                "OCPP 2.1 ChargingSchedulePeriodType.limit",
                f"{where}: operationMode {mode.value} needs a limit",
            )
    elif not _finite_nonneg(period.limit):
        raise _reject(
            RejectionReason.INVALID_LIMIT,
            _rule(v, "OCPP 1.6 §7.14", "OCPP 2.0.1 ChargingSchedulePeriodType.limit"),
            f"{where}: limit {period.limit} is negative, not finite or above {MAX_LIMIT:g}",
        )
    if period.setpoint is None and mode in _NEEDS_SETPOINT:
        raise _reject(
            RejectionReason.MISSING_SETPOINT,
            "OCPP 2.1 ChargingSchedulePeriodType.setpoint",
            f"{where}: operationMode {mode.value} needs a setpoint",
        )
    for name in ("limit_l2", "limit_l3"):
        value = getattr(period, name)
        if value is None:
            continue
        if purpose is not P.TX_PROFILE:
            raise _reject(
                RejectionReason.PHASE_LIMITS_NOT_ALLOWED,
                "K01.FR.144",
                f"{where}: limit_L2/limit_L3 are only allowed in a TxProfile",
            )
        if period.limit is None:
            raise _reject(
                RejectionReason.PHASE_LIMITS_NOT_ALLOWED,
                "K01.FR.146",
                f"{where}: limit_L2/limit_L3 need limit (for L1)",
            )
        if not _finite_nonneg(value):
            raise _reject(
                RejectionReason.INVALID_LIMIT,
                "OCPP 2.1 ChargingSchedulePeriodType",
                f"{where}: {name} {value} is negative, not finite or above {MAX_LIMIT:g}",
            )
    places = limit_places(v, cfg.limit_decimal_places, local)
    v16_rule = places != cfg.limit_decimal_places
    _check_decimals(period, where, places, v16_rule)
    _check_discharge_and_setpoint(period, where)
    phases = period.number_phases
    if phases is not None and not 1 <= phases <= 3:
        zero_2x = phases == 0 and v.is_v2
        raise _reject(
            RejectionReason.INVALID_NUMBER_PHASES,
            "docs/semantics.md V21-32" if zero_2x else _rule(v, "OCPP 1.6 §7.14", "K01.FR.49"),
            f"{where}: numberPhases {phases} is outside 1..3"
            + (
                " (0 phases leave nothing to charge on; on a DC EVSE leave it out)"
                if zero_2x
                else ""
            ),
        )
    if period.phase_to_use is not None:
        if not 1 <= period.phase_to_use <= 3:
            raise _reject(
                RejectionReason.INVALID_PHASE_TO_USE,
                "OCPP 2.0.1 ChargingSchedulePeriodType.phaseToUse",
                f"{where}: phaseToUse {period.phase_to_use} is outside 1..3",
            )
        if phases != 1:
            raise _reject(
                RejectionReason.INVALID_PHASE_TO_USE,
                "K01.FR.19",
                f"{where}: phaseToUse is only allowed with numberPhases = 1",
            )
        if not cfg.ac_phase_switching_supported:
            raise _reject(
                RejectionReason.PHASE_SWITCHING_NOT_SUPPORTED,
                "K01.FR.48",
                f"{where}: phaseToUse needs ACPhaseSwitchingSupported",
            )
    if period.evse_sleep and mode is not OperationMode.IDLE and not cfg.supports_evse_sleep:
        raise _reject(
            RejectionReason.UNSUPPORTED_FEATURE,
            "K01.FR.126",
            f"{where}: the station does not support evseSleep",
        )


def decimal_places(value: float) -> int:
    """The decimal places of a number as its JSON text writes it (``16.0`` has none)."""
    if not math.isfinite(value):
        return 0
    exponent = Decimal(repr(value)).normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


V16_DECIMALS_RULE = "OCPP 1.6 schema: multipleOf 0.1"
"""The rule a 1.6 limit or rate with more than one decimal breaks."""


def limit_places(version: OcppVersion, configured: int | None, local: bool = False) -> int | None:
    """The decimals a limit may have: the station's, and in 1.6 at most one.

    OCPP 1.6's schema writes limits and rates as ``multipleOf 0.1``, so a 1.6
    request with finer limits is one the library cannot write (and a 1.6
    station's schema validation refuses): the rules reject it at validation,
    not only the writer (U5). Profiles a station sets itself (``local``) do
    not travel, so only the station's own setting applies to them.
    """
    if version is OcppVersion.V16 and not local:
        return 1 if configured is None else min(configured, 1)
    return configured


def _check_decimals(period: Any, where: str, places: int | None, v16: bool = False) -> None:
    if places is None:
        return
    for name, key in (("limit", "limit"), ("limit_l2", "limit_L2"), ("limit_l3", "limit_L3")):
        value = getattr(period, name)
        if value is not None and decimal_places(value) > places:
            raise _reject(
                RejectionReason.TOO_MANY_DECIMALS,
                V16_DECIMALS_RULE if v16 else "StationConfig.limit_decimal_places",
                f"{where}: {key} {value!r} has more than {places} decimal place"
                + ("" if places == 1 else "s"),
            )


_SIGNED_2X = (
    "setpoint",
    "setpoint_l2",
    "setpoint_l3",
    "setpoint_reactive",
    "setpoint_reactive_l2",
    "setpoint_reactive_l3",
)


def _check_discharge_and_setpoint(period: Any, where: str) -> None:
    for name in ("discharge_limit", "discharge_limit_l2", "discharge_limit_l3"):
        value = getattr(period, name)
        if value is not None and not (math.isfinite(value) and -MAX_LIMIT <= value <= 0):
            raise _reject(
                RejectionReason.INVALID_LIMIT,
                "OCPP 2.1 ChargingSchedulePeriodType.dischargeLimit",
                f"{where}: {name} {value} must be a finite value in {-MAX_LIMIT:g}..0",
            )
    for first in ("discharge_limit", "setpoint", "setpoint_reactive"):
        if getattr(period, first) is None and (
            getattr(period, first + "_l2") is not None or getattr(period, first + "_l3") is not None
        ):
            raise _reject(
                RejectionReason.INVALID_LIMIT
                if first == "discharge_limit"
                else RejectionReason.INVALID_SETPOINT,
                "docs/semantics.md V21-36 (as K01.FR.146)",
                f"{where}: {first}_L2/{first}_L3 need {first} (for L1)",
            )
    for name in _SIGNED_2X:
        value = getattr(period, name)
        if value is not None and not (math.isfinite(value) and -MAX_LIMIT <= value <= MAX_LIMIT):
            raise _reject(
                RejectionReason.INVALID_SETPOINT,
                "OCPP 2.1 ChargingSchedulePeriodType.setpoint",
                f"{where}: {name} {value} is not finite or outside"
                f" {-MAX_LIMIT:g}..{MAX_LIMIT:g} (docs/semantics.md V21-36)",
            )
    if period.setpoint is None:
        return
    if not math.isfinite(period.setpoint):
        raise _reject(
            RejectionReason.INVALID_SETPOINT, "V2X.05", f"{where}: setpoint is not finite"
        )
    high = period.limit
    low = period.discharge_limit
    if (high is not None and period.setpoint > high) or (low is not None and period.setpoint < low):
        raise _reject(
            RejectionReason.INVALID_SETPOINT,
            "V2X.05",
            f"{where}: setpoint {period.setpoint} is outside [dischargeLimit, limit]",
        )


# ------------------------------------------------------------------ against the store


# ------------------------------------------------- K01.FR.43/44/82 (issue 14, V21-30..V21-34)


def _check_external_constraints_id(
    profile: ChargingProfile, state: StationState, local: bool
) -> None:
    """K01.FR.82: with MaxExternalConstraintsId set, a ChargingStationExternalConstraints profile
    the station creates uses an id <= MaxExternalConstraintsId (the ids above are the CSMS's,
    K01.FR.80/81)."""
    limit = state.config.max_external_constraints_id
    if (
        local
        and limit is not None
        and profile.charging_profile_purpose is P.CHARGING_STATION_EXTERNAL_CONSTRAINTS
        and profile.id > limit
    ):
        raise _reject(
            RejectionReason.INVALID_PROFILE_ID,
            "K01.FR.82",
            f"profile id {profile.id} of a ChargingStationExternalConstraints profile the station "
            f"creates is above MaxExternalConstraintsId ({limit})",
        )


def _is_dc(evse: int, state: StationState) -> bool:
    """Whether the EVSE is DC; EVSE 0 (the whole station) only when every EVSE is DC."""
    cfg = state.config
    if evse != 0:
        return evse in cfg.dc_evse_ids
    return bool(cfg.evse_ids) and all(e in cfg.dc_evse_ids for e in cfg.evse_ids or ())


def _periods(profile: ChargingProfile) -> list[Any]:
    return [p for s in profile.charging_schedule for p in s.charging_schedule_period]


def _check_dc_phases(request: SetChargingProfileRequest, state: StationState) -> None:
    """K01.FR.44 (2.1): numberPhases or phaseToUse for a DC EVSE without DCInputPhaseControl is
    Rejected with NoPhaseForDC (SHOULD; 2.0.1 says the station MAY accept them, and 1.6 has no
    such rule: both accept as before)."""
    if state.version is not OcppVersion.V21 or state.config.dc_input_phase_control:
        return
    if not _is_dc(request.evse_id, state):
        return
    for i, period in enumerate(_periods(request.charging_profile)):
        for name, value in (
            ("numberPhases", period.number_phases),
            ("phaseToUse", period.phase_to_use),
        ):
            if value is not None:
                raise _reject(
                    RejectionReason.NO_PHASE_FOR_DC,
                    "K01.FR.44",
                    f"period {i} (startPeriod {period.start_period}): {name} on DC EVSE "
                    f"{request.evse_id}, which has no DCInputPhaseControl",
                )


def _check_enforceable_phases(request: SetChargingProfileRequest, state: StationState) -> None:
    """K01.FR.43 (2.x): a numberPhases an AC EVSE cannot ensure (below
    ``StationConfig.min_enforceable_phases``) is Rejected; 1.6 has no such rule (errata 3.34:
    apply the limit on the phases used)."""
    least = state.config.min_enforceable_phases
    if not state.version.is_v2 or least <= 1 or _is_dc(request.evse_id, state):
        return
    for i, period in enumerate(_periods(request.charging_profile)):
        if period.number_phases is not None and period.number_phases < least:
            raise _reject(
                RejectionReason.PHASES_NOT_ENFORCEABLE,
                "K01.FR.43",
                f"period {i} (startPeriod {period.start_period}): numberPhases "
                f"{period.number_phases}, but the station cannot hold the EVSE to fewer than "
                f"{least} phases",
            )


def _overlaps(a: ChargingProfile, b: ChargingProfile) -> bool:
    a_from, a_to = a.valid_from, a.valid_to
    b_from, b_to = b.valid_from, b.valid_to
    starts_before_b_ends = a_from is None or b_to is None or a_from < b_to
    b_starts_before_a_ends = b_from is None or a_to is None or b_from < a_to
    return starts_before_b_ends and b_starts_before_a_ends


class _Installed(Protocol):
    """What the rules read of the installed profiles: a :class:`ProfileStore`, or the
    mutable indexes of a replay (:class:`~ocpp_schedule.station._fold.Fold`)."""

    def get(self, profile_id: int) -> InstalledProfile | None: ...

    def __len__(self) -> int: ...

    def _level_on(
        self, purpose: ChargingProfilePurpose, stack_level: int, evses: tuple[int, ...] | None
    ) -> Iterable[InstalledProfile]: ...

    def _phased(self, cap: bool, evses: tuple[int, ...] | None) -> Iterable[InstalledProfile]: ...


def _replaced_ids(
    store: _Installed, evse: int, profile: ChargingProfile, state: StationState, local: bool
) -> tuple[int, ...]:
    """Ids the new profile replaces; raises when it would replace what it may not."""
    existing = store.get(profile.id)
    replaced: list[int] = []
    if existing is not None:
        if local and existing.source is ChargingLimitSource.CSO:
            raise _reject(
                RejectionReason.INVALID_PROFILE_ID,
                "docs/semantics.md S10",
                f"profile id {profile.id} belongs to a profile set by the CSMS; the station's "
                "own profiles use ids of their own",
            )
        if not local and existing.purpose.is_local:
            raise _reject(
                RejectionReason.EXTERNAL_CONSTRAINTS_NOT_REPLACEABLE,
                "K01.FR.05",
                f"profile {profile.id} is a {existing.purpose.value} profile set by the station; "
                "the CSMS cannot replace it",
            )
        replaced.append(profile.id)
    if state.version is OcppVersion.V16:
        level = store._level_on(profile.charging_profile_purpose, profile.stack_level, (evse,))
        replaced.extend(entry.id for entry in level if entry.id != profile.id)
    return tuple(replaced)


def _conflict_candidates(
    store: _Installed, evse: int, purpose: ChargingProfilePurpose, stack_level: int
) -> Iterable[InstalledProfile]:
    """The installed profiles at the new one's purpose and stack level that
    :func:`_check_conflicts` could reject it for, in installation order (issue 17: no scan of
    the other EVSEs' profiles).

    A TxProfile is compared with every one at its level (K01.FR.39 is about transactions,
    not EVSEs; at most one per transaction, so as many as the transactions). A
    TxDefaultProfile on EVSE 0 with every one (the first on an EVSE > 0 rejects it,
    K01.FR.52, so the scan stops there). A TxDefaultProfile on EVSE N trips only on those on
    EVSE 0 (K01.FR.53) and on EVSE N (K01.FR.06); any other purpose only on its EVSE's.
    """
    if purpose is P.TX_PROFILE or (purpose is P.TX_DEFAULT_PROFILE and evse == 0):
        return store._level_on(purpose, stack_level, None)
    if purpose is P.TX_DEFAULT_PROFILE:
        return store._level_on(purpose, stack_level, (0, evse))
    return store._level_on(purpose, stack_level, (evse,))


def _check_conflicts(
    store: _Installed,
    evse: int,
    profile: ChargingProfile,
    bound_tx: str | None,
    state: StationState,
) -> None:
    """2.0.1/2.1 rules that compare the new profile with the installed ones."""
    purpose = profile.charging_profile_purpose
    for entry in _conflict_candidates(store, evse, purpose, profile.stack_level):
        if entry.id == profile.id:
            continue
        if purpose is P.TX_PROFILE:
            if entry.bound_transaction_id == bound_tx:
                raise _reject(
                    RejectionReason.DUPLICATE_TX_PROFILE,
                    "K01.FR.39",
                    f"TxProfile {entry.id} already has stackLevel {profile.stack_level} for "
                    f"transaction {bound_tx!r}",
                )
            continue
        if purpose is P.TX_DEFAULT_PROFILE and evse == 0 and entry.evse_id > 0:
            raise _reject(
                RejectionReason.DUPLICATE_TX_DEFAULT_ON_STATION,
                "K01.FR.52",
                f"TxDefaultProfile {entry.id} on EVSE {entry.evse_id} already has stackLevel "
                f"{profile.stack_level}",
            )
        if purpose is P.TX_DEFAULT_PROFILE and evse > 0 and entry.evse_id == 0:
            raise _reject(
                RejectionReason.DUPLICATE_TX_DEFAULT_ON_EVSE,
                "K01.FR.53",
                f"TxDefaultProfile {entry.id} on EVSE 0 already has stackLevel "
                f"{profile.stack_level}",
            )
        if entry.evse_id == evse and _overlaps(entry.profile, profile):
            raise _reject(
                RejectionReason.DUPLICATE_PROFILE,
                "K01.FR.06",
                f"profile {entry.id} already has stackLevel {profile.stack_level} and purpose "
                f"{purpose.value} on EVSE {evse} with an overlapping validity",
            )
    _check_phase_conflict(store, evse, profile)


def _check_phase_conflict(store: _Installed, evse: int, profile: ChargingProfile) -> None:
    """K01.FR.141: a cap (station max, external constraints) and a profile under it that
    name different phases, on the same EVSE or with one on EVSE 0."""
    mine = phases_to_use(profile)
    if not mine:
        return
    is_cap = profile.charging_profile_purpose in CAP_PURPOSES
    for entry in store._phased(not is_cap, None if evse == 0 else (0, evse)):
        if entry.id == profile.id:
            continue
        theirs = phases_to_use(entry.profile)
        if theirs != mine:
            raise _reject(
                RejectionReason.PHASE_CONFLICT,
                "K01.FR.141",
                f"phaseToUse {sorted(mine)} conflicts with phaseToUse {sorted(theirs)} of "
                f"profile {entry.id}",
            )


# ----------------------------------------------------------------------- entry points


def check_set_charging_profile(
    store: ProfileStore, request: SetChargingProfileRequest, state: StationState
) -> SetChargingProfileResult:
    """Whether the station would accept ``request``, without installing it."""
    return install(store, request, state)[1]


def install(
    store: ProfileStore,
    request: SetChargingProfileRequest,
    state: StationState,
    *,
    now: datetime | int | None = None,
) -> tuple[ProfileStore, SetChargingProfileResult]:
    """Apply a SetChargingProfile request from the CSMS to the installed profiles.

    Returns the new store and the station's answer. A rejected request leaves
    the store as it was. ``now`` is the instant of receipt: an accepted 2.1
    Dynamic profile is stored with ``dynUpdateTime`` = ``now`` (K28); without
    it the profile is stored as sent (V21-16).
    """
    return _install(store, request, state, local=False, now=now)


def install_local(
    store: ProfileStore,
    request: SetChargingProfileRequest,
    state: StationState,
    *,
    source: ChargingLimitSource = ChargingLimitSource.EMS,
    now: datetime | int | None = None,
) -> tuple[ProfileStore, SetChargingProfileResult]:
    """Install a profile set by the station's local energy management (EMS, grid operator).

    This is the way in for ChargingStationExternalConstraints and 2.1
    LocalGeneration profiles, which a CSMS may not send (K01.FR.22). The
    structural rules still apply; the CSMS-only rules (K01.FR.22, K01.FR.81,
    the duplicate checks) do not. ``now`` stamps a Dynamic profile's
    ``dynUpdateTime`` as in :func:`install`.
    """
    return _install(store, request, state, local=True, source=source, now=now)


def _install(
    store: ProfileStore,
    request: SetChargingProfileRequest,
    state: StationState,
    *,
    local: bool,
    source: ChargingLimitSource = ChargingLimitSource.CSO,
    now: datetime | int | None = None,
) -> tuple[ProfileStore, SetChargingProfileResult]:
    try:
        replaced, entry = _judge(store, request, state, local, source, now)
    except _Rejected as rejected:
        return store, _rejection(rejected)
    new_store = store.without(replaced).with_entry(entry)
    return new_store, SetChargingProfileResult(True, replaced=replaced)


def _judge(
    store: _Installed,
    request: SetChargingProfileRequest,
    state: StationState,
    local: bool,
    source: ChargingLimitSource,
    now: datetime | int | None,
) -> tuple[tuple[int, ...], InstalledProfile]:
    """Every rule, in order: the ids the request replaces and the entry it installs, or
    :class:`_Rejected` for the first rule it breaks. Reads ``store``, changes nothing."""
    profile, evse = request.charging_profile, request.evse_id
    if not local and profile.charging_profile_purpose.is_local:
        raise _reject(
            RejectionReason.PURPOSE_SET_LOCALLY_ONLY,
            "K01.FR.22",
            f"{profile.charging_profile_purpose.value} profiles are set by the station's local "
            "energy management, not by the CSMS",
        )
    _check_placement(request, state)
    _check_dc_phases(request, state)
    bound_tx = _check_transaction(request, state)
    _check_fields_once(profile, state, local)
    _check_enforceable_phases(request, state)
    replaced = _replaced_ids(store, evse, profile, state, local)
    if state.version.is_v2 and not local:
        _check_conflicts(store, evse, profile, bound_tx, state)
    remaining = len(store) - len(replaced)
    if remaining >= state.config.max_charging_profiles_installed:
        raise _reject(
            RejectionReason.STORE_FULL,
            _rule(
                state.version,
                "OCPP 1.6 MaxChargingProfilesInstalled",
                "SmartChargingCtrlr.Entries[ChargingProfiles].maxLimit",
            ),
            f"the station already holds {remaining} profiles, its maximum",
        )
    entry = InstalledProfile._made(
        evse, _stamped(profile, now), source if local else ChargingLimitSource.CSO, bound_tx
    )
    return replaced, entry


def _rejection(rejected: _Rejected) -> SetChargingProfileResult:
    return SetChargingProfileResult(False, rejected.reason, rejected.rule, rejected.message)


def _stamped(profile: ChargingProfile, now: datetime | int | None) -> ChargingProfile:
    """A Dynamic profile with ``dynUpdateTime`` = ``now`` (K28, V21-16); else as given."""
    if now is None or profile.charging_profile_kind is not K.DYNAMIC:
        return profile
    stamp = from_epoch(epoch_or_datetime(now, "now"))
    return profile.model_copy(update={"dyn_update_time": stamp})


def replay(
    requests: list[SetChargingProfileRequest],
    state: StationState,
    store: ProfileStore | None = None,
    *,
    local_purposes: bool = False,
) -> Iterator[tuple[ProfileStore, SetChargingProfileResult]]:
    """Install requests in order, yielding the store and the answer after each.

    With ``local_purposes`` True, ChargingStationExternalConstraints and
    LocalGeneration requests are installed as set locally (the station's
    whole state), not rejected as coming from the CSMS.

    The answers and stores are those of :func:`install` (:func:`install_local`) applied
    one after the other, but the rules read one set of mutable indexes (a private
    :class:`~ocpp_schedule.station._fold.Fold`) and each store yielded is built only when
    read, so a replay of N requests takes O(N), not a copy of the store per request
    (issue 17). A rejected request yields the same store object as the step before.
    """
    fold = Fold(store if store is not None else ProfileStore())
    for request in requests:
        local = local_purposes and request.charging_profile.charging_profile_purpose.is_local
        source = ChargingLimitSource.EMS if local else ChargingLimitSource.CSO
        try:
            replaced, entry = _judge(fold, request, state, local, source, None)
        except _Rejected as rejected:
            yield fold.store(), _rejection(rejected)
            continue
        fold.apply(replaced, entry)
        yield fold.store(), SetChargingProfileResult(True, replaced=replaced)


def replay_final(
    requests: Iterable[SetChargingProfileRequest],
    state: StationState,
    store: ProfileStore | None = None,
    *,
    local_purposes: bool = False,
) -> tuple[ProfileStore, list[tuple[int, SetChargingProfileResult]]]:
    """:func:`replay`'s last store and its rejections ``(request number from 1, answer)``,
    without a store or an answer per accepted request (a fleet takes a station's whole
    payload list this way, issue 17). The same rules on the same fold, in the same order:
    the same store and the same rejections as reading :func:`replay` to its end.
    """
    fold = Fold(store if store is not None else ProfileStore())
    rejected: list[tuple[int, SetChargingProfileResult]] = []
    cso, ems = ChargingLimitSource.CSO, ChargingLimitSource.EMS
    for number, request in enumerate(requests, 1):
        local = local_purposes and request.charging_profile.charging_profile_purpose.is_local
        try:
            replaced, entry = _judge(fold, request, state, local, ems if local else cso, None)
        except _Rejected as rejection:
            rejected.append((number, _rejection(rejection)))
            continue
        fold.apply(replaced, entry)
    return fold.store(), rejected

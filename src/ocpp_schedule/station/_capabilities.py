"""What a station accepts, whether a payload will pass, and an equivalent one that will.

Stations accept different subsets of OCPP Smart Charging: some take only
amperes, some at most 24 periods or 3 stack levels, some limits with one
decimal, some no Recurring ChargePointMaxProfile. :class:`StationCapabilities`
describes that subset; :func:`check` says before sending whether such a station
rejects a SetChargingProfile payload and why, and :func:`adapt` rewrites a
payload into an equivalent one the station accepts, or raises
:class:`~ocpp_schedule.errors.AdaptationError` naming the field and the rule
when none exists.

``check`` is the library's own station-side rules (:func:`~ocpp_schedule.install`)
under the :class:`~ocpp_schedule.StationConfig` that
:meth:`StationCapabilities.to_config` derives, so it rejects exactly what those
rules reject. ``docs/capabilities.md`` describes every rewrite ``adapt`` makes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from pydantic import ConfigDict, Field, field_validator

from ..errors import AdaptationError, QueryError, VersionError
from ..wire._docstrings import DocumentedModel
from ..wire._enums import (
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    OcppVersion,
)
from ..wire._models import (
    ChargingProfile,
    ChargingSchedule,
    ChargingSchedulePeriod,
    SetChargingProfileRequest,
)
from ..wire._payloads import (
    detect_version,
    parse_version,
    read_set_charging_profile,
    write_set_charging_profile,
)
from ..wire._timestamps import from_epoch, to_epoch
from ._config import PhaseCount, StationConfig, SupplyVoltage
from ._rules import (
    RejectionReason,
    SetChargingProfileResult,
    decimal_places,
    install,
    limit_places,
)
from ._store import ProfileStore, StationState, Transaction

__all__ = [
    "OCPP16_DEFAULTS",
    "OCPP201_DEFAULTS",
    "OCPP21_DEFAULTS",
    "Adaptation",
    "StationCapabilities",
    "adapt",
    "check",
    "round_limits",
]

P = ChargingProfilePurpose
K = ChargingProfileKind
A, W = ChargingRateUnit.A, ChargingRateUnit.W
_ALL_UNITS = frozenset({A, W})


class StationCapabilities(DocumentedModel):
    """What one station accepts in SetChargingProfile, as an immutable value.

    Every field has the permissive OCPP default; the presets
    :data:`OCPP16_DEFAULTS`, :data:`OCPP201_DEFAULTS` and :data:`OCPP21_DEFAULTS`
    add what each version's schema or rules impose (1.6: one decimal; 2.x: no
    Relative ChargingStationMaxProfile, K01.FR.38).
    """

    # DocumentedModel: attribute docstrings as descriptions, built on first use (issue 15 item 7)
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    ocpp_version: OcppVersion = Field(
        description="The version spoken (required: the rules differ between versions)."
    )
    rate_units: frozenset[ChargingRateUnit] = Field(
        default=_ALL_UNITS,
        description="1.6 ChargingScheduleAllowedChargingRateUnit; 2.x SmartChargingCtrlr.RateUnit.",
    )
    max_stack_level: int = Field(
        default=100,
        ge=0,
        description="1.6 ChargeProfileMaxStackLevel; 2.x SmartChargingCtrlr.ProfileStackLevel.",
    )
    max_periods_per_schedule: int = Field(
        default=1024,
        ge=1,
        description="1.6 ChargingScheduleMaxPeriods; 2.x SmartChargingCtrlr.PeriodsPerSchedule.",
    )
    max_installed_profiles: int = Field(
        default=1000,
        ge=1,
        description="1.6 MaxChargingProfilesInstalled; 2.x Entries[ChargingProfiles].maxLimit.",
    )
    limit_decimal_places: int | None = Field(
        default=None, ge=0, description="Decimal places a limit may have; None: any."
    )
    accepts_relative_max_profile: bool = Field(
        default=True, description="Whether a Relative ChargePointMax/ChargingStationMax passes."
    )
    accepts_recurring_max_profile: bool = Field(
        default=True, description="Whether a Recurring ChargePointMax/ChargingStationMax passes."
    )
    supply_voltage: SupplyVoltage = Field(
        default=230.0,
        description="Line-to-neutral volts, 1..100 000 (as StationConfig).",
    )
    supply_phases: PhaseCount = Field(
        default=3,
        description="Phases of the supply, assumed where a period names none.",
    )
    evse_ids: tuple[int, ...] | None = Field(
        default=None, description="The station's EVSEs (ids > 0); None: any id > 0."
    )
    stack_level_error: Literal["Rejected", "PropertyConstraintViolation"] = Field(
        default="Rejected",
        description=(
            "How the station answers a stackLevel above its maximum: with status Rejected "
            "(OCPP), or with a CALLERROR PropertyConstraintViolation (MicroOcpp does)."
        ),
    )

    @field_validator("rate_units")
    @classmethod
    def _some_unit(cls, value: frozenset[ChargingRateUnit]) -> frozenset[ChargingRateUnit]:
        if not value:
            raise ValueError("a station accepts at least one rate unit")
        return value

    def to_config(self, base: StationConfig | None = None) -> StationConfig:
        """The :class:`StationConfig` under which the library's rules judge like this station.

        Fields the capabilities do not describe come from ``base`` (default: the
        library's defaults).
        """
        update: dict[str, Any] = {
            "charging_schedule_allowed_charging_rate_unit": self.rate_units,
            "charge_profile_max_stack_level": self.max_stack_level,
            "charging_schedule_max_periods": self.max_periods_per_schedule,
            "max_charging_profiles_installed": self.max_installed_profiles,
            "limit_decimal_places": self.limit_decimal_places,
            "relative_max_profile_supported": self.accepts_relative_max_profile,
            "recurring_max_profile_supported": self.accepts_recurring_max_profile,
            "supply_voltage": self.supply_voltage,
            "default_number_phases": self.supply_phases,
        }
        if self.evse_ids is not None:
            update["evse_ids"] = self.evse_ids
        cfg = base or StationConfig()
        return StationConfig.model_validate({**cfg.model_dump(), **update})

    @classmethod
    def from_config(cls, config: StationConfig, version: OcppVersion | str) -> StationCapabilities:
        """The capabilities a :class:`StationConfig` describes, for a station of ``version``."""
        return cls(
            ocpp_version=parse_version(version),
            rate_units=config.charging_schedule_allowed_charging_rate_unit,
            max_stack_level=config.charge_profile_max_stack_level,
            max_periods_per_schedule=config.charging_schedule_max_periods,
            max_installed_profiles=config.max_charging_profiles_installed,
            limit_decimal_places=config.limit_decimal_places,
            accepts_relative_max_profile=config.relative_max_profile_supported,
            accepts_recurring_max_profile=config.recurring_max_profile_supported,
            supply_voltage=config.supply_voltage,
            supply_phases=config.default_number_phases,
            evse_ids=config.evse_ids,
        )

    def answer(self, result: SetChargingProfileResult) -> dict[str, Any]:
        """The answer this station sends for ``result`` (from :func:`check`).

        The SetChargingProfile response payload (:meth:`SetChargingProfileResult.to_payload`),
        except where the station answers with a CALLERROR instead: then the OCPP-J
        CALLERROR's ``{"errorCode", "errorDescription", "errorDetails"}``. A station
        whose ``stack_level_error`` is ``PropertyConstraintViolation`` answers so for a
        stackLevel above its maximum (docs/semantics.md V21-14).
        """
        if not isinstance(result, SetChargingProfileResult):
            raise QueryError(
                f"expected a SetChargingProfileResult, got {type(result).__name__}",
                field="result",
            )
        if (
            self.stack_level_error == "PropertyConstraintViolation"
            and result.reason is RejectionReason.STACK_LEVEL_OUT_OF_RANGE
        ):
            return {
                "errorCode": "PropertyConstraintViolation",
                "errorDescription": f"stackLevel: {result.message}"[:255],
                "errorDetails": {},
            }
        return result.to_payload(self.ocpp_version)

    @classmethod
    def defaults(cls, version: OcppVersion | str) -> StationCapabilities:
        """The preset of ``version``: :data:`OCPP16_DEFAULTS`, ... ."""
        return _PRESETS[parse_version(version)]


OCPP16_DEFAULTS = StationCapabilities(ocpp_version=OcppVersion.V16, limit_decimal_places=1)
"""A 1.6 station with the library's defaults: limits are multiples of 0.1 (1.6 schema)."""
OCPP201_DEFAULTS = StationCapabilities(
    ocpp_version=OcppVersion.V201, accepts_relative_max_profile=False
)
"""A 2.0.1 station with the library's defaults; no Relative ChargingStationMax (K01.FR.38)."""
OCPP21_DEFAULTS = StationCapabilities(
    ocpp_version=OcppVersion.V21, accepts_relative_max_profile=False
)
"""A 2.1 station with the library's defaults: no Relative ChargingStationMaxProfile (K01.FR.38)."""
_PRESETS = {
    OcppVersion.V16: OCPP16_DEFAULTS,
    OcppVersion.V201: OCPP201_DEFAULTS,
    OcppVersion.V21: OCPP21_DEFAULTS,
}


# ---------------------------------------------------------------------------- check


def _request(
    payload: Mapping[str, Any] | SetChargingProfileRequest, version: OcppVersion
) -> SetChargingProfileRequest:
    """Read a payload as the station would; a model is first written in the station's version."""
    if isinstance(payload, SetChargingProfileRequest):
        payload = write_set_charging_profile(payload, version)
    return read_set_charging_profile(payload, version)


def check(
    payload: Mapping[str, Any] | SetChargingProfileRequest,
    capabilities: StationCapabilities,
    *,
    store: ProfileStore | None = None,
    transactions: Sequence[Transaction] = (),
    config: StationConfig | None = None,
) -> SetChargingProfileResult:
    """Whether a station with ``capabilities`` accepts ``payload``, and why not.

    ``store`` is what the station already holds (default: nothing), ``transactions``
    the transactions running on it, ``config`` the rest of its configuration (the
    capabilities override what they describe). The answer is exactly the library's
    rules' answer (:func:`~ocpp_schedule.install`) under
    ``capabilities.to_config(config)``.

    A payload the station could not even read (not a SetChargingProfile of its
    version: a CALLERROR on the wire, not a Rejected) raises
    :class:`~ocpp_schedule.errors.PayloadError`; a model the station's version cannot
    express raises :class:`~ocpp_schedule.errors.VersionError`.
    """
    version = capabilities.ocpp_version
    request = _request(payload, version)
    state = StationState(capabilities.to_config(config), version, tuple(transactions))
    return install(store if store is not None else ProfileStore(), request, state)[1]


# ---------------------------------------------------------------------------- adapt


@dataclass(frozen=True)
class Adaptation:
    """What :func:`adapt` produced: payloads to send in order, and what was changed.

    Usually one payload; several when a schedule was split to fit the station's
    period limit. ``changes`` lists every rewrite in words (empty when the payload
    was acceptable as it was).
    """

    version: OcppVersion
    payloads: tuple[dict[str, Any], ...]
    requests: tuple[SetChargingProfileRequest, ...]
    changes: tuple[str, ...]

    @property
    def payload(self) -> dict[str, Any]:
        """The one payload; raises :class:`AdaptationError` when the schedule was split."""
        if len(self.payloads) != 1:
            raise AdaptationError(
                f"the schedule was split into {len(self.payloads)} profiles; use .payloads",
                field="chargingSchedulePeriod",
            )
        return self.payloads[0]


_FIELDS = {
    RejectionReason.UNKNOWN_EVSE: "evseId",
    RejectionReason.STACK_LEVEL_OUT_OF_RANGE: "stackLevel",
    RejectionReason.DUPLICATE_PROFILE: "stackLevel",
    RejectionReason.DUPLICATE_TX_PROFILE: "stackLevel",
    RejectionReason.DUPLICATE_TX_DEFAULT_ON_EVSE: "stackLevel",
    RejectionReason.DUPLICATE_TX_DEFAULT_ON_STATION: "stackLevel",
    RejectionReason.UNSUPPORTED_RATE_UNIT: "chargingRateUnit",
    RejectionReason.TOO_MANY_PERIODS: "chargingSchedulePeriod",
    RejectionReason.TOO_MANY_DECIMALS: "chargingSchedulePeriod.limit",
    RejectionReason.RELATIVE_MAX_PROFILE: "chargingProfileKind",
    RejectionReason.UNSUPPORTED_MAX_PROFILE_KIND: "chargingProfileKind",
    RejectionReason.NO_ACTIVE_TRANSACTION: "transactionId",
    RejectionReason.UNKNOWN_TRANSACTION: "transactionId",
    RejectionReason.TX_PROFILE_WITHOUT_TRANSACTION_ID: "transactionId",
    RejectionReason.MISSING_START_SCHEDULE: "startSchedule",
    RejectionReason.RELATIVE_WITH_START_SCHEDULE: "startSchedule",
}


def _rejection_error(result: SetChargingProfileResult, what: str) -> AdaptationError:
    reason = result.reason
    field = _FIELDS.get(reason, "chargingProfile") if reason else "chargingProfile"
    error = AdaptationError(
        f"the station rejects {what} and no equivalent rewrite avoids it: "
        f"{reason.value if reason else ''}: {result.message}",
        field=field,
        rule=result.rule,
    )
    error.reason = reason.value if reason else None
    return error


def _noise_free(value: float) -> float:
    """``value`` without binary noise (``69.00000000000001`` -> ``69.0``)."""
    tidy = round(value, 6)
    return tidy if abs(value - tidy) < 1e-9 else value


def _round_down(value: float, places: int) -> float:
    """``value`` rounded down to ``places`` decimals (float noise is not a digit)."""
    return _round(value, places, math.floor)


def _round_up(value: float, places: int) -> float:
    """``value`` rounded up to ``places`` decimals."""
    return _round(value, places, math.ceil)


def _round(value: float, places: int, direction: Callable[[float], int]) -> float:
    if decimal_places(value) <= places:
        return value
    scale: int = 10**places
    scaled = value * scale
    nearest = round(scaled)
    units = nearest if abs(scaled - nearest) < 1e-6 else direction(scaled)
    return units / scale


_Rounded = TypeVar("_Rounded", SetChargingProfileRequest, ChargingProfile, ChargingSchedule)


def round_limits(
    value: _Rounded, version: OcppVersion | str, *, places: int | None = None
) -> _Rounded:
    """``value`` with its limits rounded **down** to what ``version`` (and the station) takes.

    ``value`` is a SetChargingProfile request, a profile or a schedule; the
    result is the same type, a new object. Every period's ``limit``,
    ``limit_L2`` and ``limit_L3`` get at most ``places`` decimals (the
    station's ``limit_decimal_places``; None: any) and, in OCPP 1.6 (whose
    schema says ``multipleOf 0.1``), at most one; a 1.6 ``minChargingRate``
    is rounded **up** to 0.1. Rounding down never lets more through than was
    asked; rounding the minimum rate up never asks the EV for less than its
    minimum. Float noise is not a digit (``16.000000000000004`` is 16.0). The
    result passes the rules' decimal checks and the 1.6 writer.
    """
    v = parse_version(version)
    allowed = limit_places(v, places)
    if isinstance(value, SetChargingProfileRequest):
        profile = round_limits(value.charging_profile, v, places=places)
        return value.model_copy(update={"charging_profile": profile})
    if isinstance(value, ChargingProfile):
        schedules = tuple(round_limits(s, v, places=places) for s in value.charging_schedule)
        return value.model_copy(update={"charging_schedule": schedules})
    if not isinstance(value, ChargingSchedule):
        raise TypeError(
            "round_limits takes a SetChargingProfileRequest, ChargingProfile or ChargingSchedule, "
            f"not {type(value).__name__}"
        )
    update: dict[str, Any] = {}
    if allowed is not None:
        update["charging_schedule_period"] = tuple(
            _round_period(p, allowed) for p in value.charging_schedule_period
        )
    rate = value.min_charging_rate
    if v is OcppVersion.V16 and rate is not None and math.isfinite(rate):
        update["min_charging_rate"] = _round_up(rate, 1)
    return value.model_copy(update=update)


def _round_period(period: ChargingSchedulePeriod, places: int) -> ChargingSchedulePeriod:
    update = {}
    for name in ("limit", "limit_l2", "limit_l3"):
        value = getattr(period, name)
        if value is not None and math.isfinite(value) and decimal_places(value) > places:
            update[name] = _round_down(value, places)
    return period.model_copy(update=update) if update else period


def _convert(value: float, to_w: bool, voltage: float, phases: int) -> float:
    factor = voltage * phases
    return _noise_free(value * factor if to_w else value / factor)


# Period fields whose value is in the schedule's unit and that adapt does not convert.
_UNCONVERTED_PERIOD_FIELDS = (
    ("limit_l2", "limit_L2"),
    ("limit_l3", "limit_L3"),
    ("discharge_limit", "dischargeLimit"),
    ("discharge_limit_l2", "dischargeLimit_L2"),
    ("discharge_limit_l3", "dischargeLimit_L3"),
    ("setpoint", "setpoint"),
    ("setpoint_l2", "setpoint_L2"),
    ("setpoint_l3", "setpoint_L3"),
    ("setpoint_reactive", "setpointReactive"),
    ("setpoint_reactive_l2", "setpointReactive_L2"),
    ("setpoint_reactive_l3", "setpointReactive_L3"),
    ("v2x_baseline", "v2xBaseline"),
)


class _Fitter:
    """The rewrites of one adaptation, with the notes of what changed."""

    def __init__(self, caps: StationCapabilities, transactions: Sequence[Transaction]) -> None:
        self.caps = caps
        self.target = caps.ocpp_version
        self.transactions = tuple(transactions)
        self.changes: list[str] = []

    def note(self, text: str) -> None:
        if text not in self.changes:
            self.changes.append(text)

    def transaction_on(self, evse: int) -> Transaction | None:
        for tx in self.transactions:
            if tx.evse_id == evse:
                return tx
        return None

    # -- version shapes ---------------------------------------------------------

    def version_shape(self, profile: ChargingProfile, evse: int) -> ChargingProfile:
        """Rewrite what the target version expresses differently (docs/capabilities.md)."""
        if not self.target.is_v2:
            if len(profile.charging_schedule) != 1:
                raise AdaptationError(
                    f"OCPP 1.6 carries one chargingSchedule; this profile has "
                    f"{len(profile.charging_schedule)} (the choice among them is the EV's, "
                    "ISO 15118)",
                    field="chargingSchedule",
                    rule="OCPP 1.6 §7.8",
                )
            return profile
        kind = profile.charging_profile_kind
        schedules = list(profile.charging_schedule)
        if kind is K.ABSOLUTE and any(s.start_schedule is None for s in schedules):
            # 1.6: an Absolute schedule without startSchedule is relative to the start of
            # charging (semantics A1); 2.x says that with kind Relative (K01.FR.40).
            profile = profile.model_copy(update={"charging_profile_kind": K.RELATIVE})
            kind = K.RELATIVE
            self.note("Absolute without startSchedule written as Relative (K01.FR.40, A1)")
        if kind is K.RELATIVE and any(s.start_schedule is not None for s in schedules):
            schedules = [s.model_copy(update={"start_schedule": None}) for s in schedules]
            profile = profile.model_copy(update={"charging_schedule": tuple(schedules)})
            self.note("startSchedule of a Relative schedule left out (K01.FR.41, A2)")
        if profile.charging_profile_purpose is P.TX_PROFILE and profile.transaction_id is None:
            tx = self.transaction_on(evse)
            if tx is None:
                raise AdaptationError(
                    "a 2.x TxProfile names its transaction; no transaction is given for "
                    f"EVSE {evse}",
                    field="transactionId",
                    rule="K01.FR.03",
                )
            profile = profile.model_copy(update={"transaction_id": tx.id})
            self.note(f"transactionId {tx.id!r} of the transaction on EVSE {evse} (K01.FR.03)")
        return profile

    # -- one schedule -------------------------------------------------------------

    def fit_unit(self, sched: ChargingSchedule) -> ChargingSchedule:
        caps = self.caps
        unit = sched.charging_rate_unit
        if unit in caps.rate_units:
            return sched
        to_w = unit is A
        target = W if to_w else A
        periods = []
        used = set()
        for i, p in enumerate(sched.charging_schedule_period):
            for name, key in _UNCONVERTED_PERIOD_FIELDS:
                if getattr(p, name) is not None:
                    raise AdaptationError(
                        f"the station does not accept {unit.value} and {key} is not converted "
                        f"to {target.value}",
                        field=f"chargingSchedulePeriod[{i}].{key}",
                        rule="K01.FR.26",
                    )
            phases = p.number_phases or caps.supply_phases
            used.add(phases)
            update: dict[str, Any] = {"number_phases": phases}
            if p.limit is not None:
                update["limit"] = _convert(p.limit, to_w, caps.supply_voltage, phases)
            periods.append(p.model_copy(update=update))
        update_s: dict[str, Any] = {
            "charging_rate_unit": target,
            "charging_schedule_period": tuple(periods),
        }
        for name, key in (("min_charging_rate", "minChargingRate"), ("limit_at_soc", "limitAtSoC")):
            value = getattr(sched, name)
            if value is None:
                continue
            if len(used) != 1:
                raise AdaptationError(
                    f"{key} cannot be converted to {target.value}: the periods use different "
                    "numbers of phases",
                    field=f"chargingSchedule.{key}",
                    rule="K01.FR.50",
                )
            n = next(iter(used))
            if name == "min_charging_rate":
                update_s[name] = _convert(value, to_w, caps.supply_voltage, n)
            else:
                update_s[name] = value.model_copy(
                    update={"limit": _convert(value.limit, to_w, caps.supply_voltage, n)}
                )
        if sched.power_tolerance is not None:
            raise AdaptationError(
                f"powerTolerance is not converted to {target.value}",
                field="chargingSchedule.powerTolerance",
                rule="K01.FR.26",
            )
        self.note(
            f"{unit.value} converted to {target.value} at {caps.supply_voltage:g} V with each "
            "period's phases (written as numberPhases)"
        )
        return sched.model_copy(update=update_s)

    def places(self) -> int | None:
        places = self.caps.limit_decimal_places
        if self.target is OcppVersion.V16:  # the 1.6 schema: multipleOf 0.1
            places = 1 if places is None else min(places, 1)
        return places

    def fit_decimals(self, sched: ChargingSchedule) -> ChargingSchedule:
        places = self.places()
        if places is None:
            return sched
        periods = []
        changed = False
        for p in sched.charging_schedule_period:
            update = {}
            for name in ("limit", "limit_l2", "limit_l3"):
                value = getattr(p, name)
                if value is not None and math.isfinite(value) and decimal_places(value) > places:
                    update[name] = _round_down(value, places)
            if update:
                changed = True
                p = p.model_copy(update=update)
            periods.append(p)
        update_s: dict[str, Any] = {"charging_schedule_period": tuple(periods)}
        rate = sched.min_charging_rate
        if self.target is OcppVersion.V16 and rate is not None and decimal_places(rate) > 1:
            update_s["min_charging_rate"] = _round_up(rate, 1)
            self.note("minChargingRate rounded up to 0.1 (OCPP 1.6 schema)")
        if changed:
            self.note(f"limits rounded down to {places} decimal place(s)")
        return sched.model_copy(update=update_s)

    def fit_periods(
        self, sched: ChargingSchedule, recurrence: int | None
    ) -> list[ChargingSchedulePeriod]:
        """The periods, with never-reached ones dropped and equal neighbours merged if needed."""
        periods = list(sched.charging_schedule_period)
        most = self.caps.max_periods_per_schedule
        if len(periods) <= most:
            return periods
        end = sched.duration
        if recurrence is not None:
            end = recurrence if end is None else min(end, recurrence)
        if end is not None:
            reached = [p for p in periods if p.start_period < end] or periods[:1]
            if len(reached) < len(periods):
                self.note("periods that start after the schedule ends left out (K01.FR.11)")
            periods = reached
        merged: list[ChargingSchedulePeriod] = []
        for p in periods:
            if merged and _same_but_start(merged[-1], p):
                continue
            merged.append(p)
        if len(merged) < len(periods):
            self.note("equal neighbouring periods merged")
        return merged


def _same_but_start(a: ChargingSchedulePeriod, b: ChargingSchedulePeriod) -> bool:
    da = a.model_dump(exclude={"start_period"}, exclude_none=True)
    db = b.model_dump(exclude={"start_period"}, exclude_none=True)
    return da == db


def _split(
    profile: ChargingProfile,
    sched: ChargingSchedule,
    periods: list[ChargingSchedulePeriod],
    most: int,
    recurrence: int | None,
) -> list[tuple[ChargingProfile, bool]]:
    """Slices of ``most`` periods, each its own profile; True where it needs a stack level."""
    kind = profile.charging_profile_kind
    if sched.start_schedule is None or kind not in (K.ABSOLUTE, K.RECURRING):
        raise AdaptationError(
            f"{len(periods)} periods exceed the station's {most} and a {kind.value} schedule "
            "anchored at the start of charging cannot be split into profiles",
            field="chargingSchedulePeriod",
            rule="ChargingScheduleMaxPeriods / PeriodsPerSchedule",
        )
    start = to_epoch(sched.start_schedule)
    end = sched.duration
    if recurrence is not None:
        end = recurrence if end is None else min(end, recurrence)
    groups = [periods[i : i + most] for i in range(0, len(periods), most)]
    out: list[tuple[ChargingProfile, bool]] = []
    for k, group in enumerate(groups):
        offset = group[0].start_period
        nxt = groups[k + 1][0].start_period if k + 1 < len(groups) else None
        stop = nxt if end is None else (end if nxt is None else min(nxt, end))
        rebased = tuple(
            p.model_copy(update={"start_period": p.start_period - offset}) for p in group
        )
        s_update: dict[str, Any] = {
            "charging_schedule_period": rebased,
            "duration": None if stop is None else stop - offset,
        }
        if offset:
            s_update["start_schedule"] = from_epoch(start + offset)
        update: dict[str, Any] = {"charging_schedule": (sched.model_copy(update=s_update),)}
        if kind is K.ABSOLUTE:
            valid_from = profile.valid_from
            valid_to = profile.valid_to
            if k > 0:
                lo = from_epoch(start + offset)
                valid_from = lo if valid_from is None or valid_from < lo else valid_from
            if stop is not None and k + 1 < len(groups):
                hi = from_epoch(start + stop)
                valid_to = hi if valid_to is None or valid_to > hi else valid_to
            if valid_from is not None and valid_to is not None and valid_from >= valid_to:
                continue  # never in force
            update["valid_from"] = valid_from
            update["valid_to"] = valid_to
        needs_level = kind is K.RECURRING or profile.charging_profile_purpose is P.TX_PROFILE
        out.append((profile.model_copy(update=update), needs_level))
    return out


def _same_purpose_levels(store: ProfileStore, purpose: ChargingProfilePurpose) -> set[int]:
    family = {purpose}
    if purpose.is_max:
        family = {P.CHARGE_POINT_MAX_PROFILE, P.CHARGING_STATION_MAX_PROFILE}
    return {e.stack_level for e in store if e.purpose in family}


def _levels(
    pieces: list[tuple[ChargingProfile, bool]],
    caps: StationCapabilities,
    store: ProfileStore,
    fitter: _Fitter,
) -> list[ChargingProfile]:
    """Stack levels for the pieces: one level, or consecutive ones where pieces would collide."""
    base = pieces[0][0].stack_level
    purpose = pieces[0][0].charging_profile_purpose
    distinct = len(pieces) > 1 and (
        fitter.target is OcppVersion.V16 or any(needs for _, needs in pieces)
    )
    count = len(pieces) if distinct else 1
    taken = _same_purpose_levels(store, purpose)
    top = base + count - 1
    if top > caps.max_stack_level:
        if taken:
            raise AdaptationError(
                f"stackLevel {top} exceeds the station's {caps.max_stack_level}, and other "
                f"{purpose.value} profiles are installed, so a lower level would change which "
                "profile governs",
                field="stackLevel",
                rule="ChargeProfileMaxStackLevel / ProfileStackLevel",
            )
        new_base = caps.max_stack_level - count + 1
        if new_base < 0:
            raise AdaptationError(
                f"{count} profiles need {count} stack levels; the station has "
                f"{caps.max_stack_level + 1}",
                field="stackLevel",
                rule="ChargeProfileMaxStackLevel / ProfileStackLevel",
            )
        fitter.note(f"stackLevel {base} lowered to {new_base} (no other {purpose.value})")
        base = new_base
    if distinct:
        clash = sorted(taken & set(range(base + 1, base + count)))
        if clash:
            raise AdaptationError(
                f"splitting needs stack levels {base}..{base + count - 1}, and level {clash[0]} "
                f"already holds a {purpose.value}, whose precedence would change",
                field="stackLevel",
                rule="ChargeProfileMaxStackLevel / ProfileStackLevel",
            )
    return [
        profile.model_copy(update={"stack_level": base + (i if distinct else 0)})
        for i, (profile, _) in enumerate(pieces)
    ]


def _fallbacks(
    purpose: ChargingProfilePurpose, allowed: Iterable[ChargingProfilePurpose | str]
) -> list[ChargingProfilePurpose]:
    chain = [P.TX_DEFAULT_PROFILE, P.TX_PROFILE]
    allowed_set = {ChargingProfilePurpose(p) for p in allowed}
    if purpose.is_max:
        below = chain
    elif purpose is P.TX_DEFAULT_PROFILE:
        below = chain[1:]
    else:
        below = []
    return [purpose, *(p for p in below if p in allowed_set)]


def adapt(
    payload: Mapping[str, Any] | SetChargingProfileRequest,
    capabilities: StationCapabilities,
    *,
    source_version: OcppVersion | str | None = None,
    store: ProfileStore | None = None,
    transactions: Sequence[Transaction] = (),
    config: StationConfig | None = None,
    purpose_fallback: Iterable[ChargingProfilePurpose | str] = (),
    new_ids: Iterable[int] | None = None,
) -> Adaptation:
    """An equivalent SetChargingProfile the station accepts, or :class:`AdaptationError`.

    ``payload`` is read in ``source_version`` (detected when None). The rewrites,
    each only where the station needs it (``docs/capabilities.md``): the
    station's OCPP version; A <-> W with the station's voltage and each period's
    phases; limits rounded down to the station's decimals; never-reached periods
    dropped and equal neighbours merged, then a schedule still too long split
    into several profiles (Absolute and Recurring only; ids from ``new_ids``,
    default above every id in use); a stack level above the station's maximum
    lowered when no other profile of the purpose is installed; and, only for the
    purposes listed in ``purpose_fallback``, ChargePointMax/ChargingStationMax ->
    TxDefaultProfile -> TxProfile (of the one transaction given) when the station
    rejects the original purpose.

    Every payload returned passes :func:`check` in order against ``store`` and
    ``transactions``. Raises :class:`AdaptationError` (field and rule named) when no
    equivalent payload exists, :class:`~ocpp_schedule.errors.PayloadError` for a
    payload that cannot be read.
    """
    caps = capabilities
    target = caps.ocpp_version
    store = store if store is not None else ProfileStore()
    if isinstance(payload, SetChargingProfileRequest):
        request = payload
    else:
        request = read_set_charging_profile(payload, source_version)
    fitter = _Fitter(caps, transactions)
    evse = request.evse_id
    profile = fitter.version_shape(request.charging_profile, evse)
    recurrence = None
    if profile.kind is K.RECURRING and profile.recurrency_kind is not None:
        recurrence = profile.recurrency_kind.seconds
    schedules = []
    split_periods: list[ChargingSchedulePeriod] | None = None
    for sched in profile.charging_schedule:
        sched = fitter.fit_decimals(fitter.fit_unit(sched))
        periods = fitter.fit_periods(sched, recurrence)
        if len(periods) > caps.max_periods_per_schedule:
            if len(profile.charging_schedule) > 1:
                raise AdaptationError(
                    "a profile with several schedules (ISO 15118) cannot be split",
                    field="chargingSchedulePeriod",
                    rule="ChargingScheduleMaxPeriods / PeriodsPerSchedule",
                )
            split_periods = periods
        sched = sched.model_copy(update={"charging_schedule_period": tuple(periods)})
        schedules.append(sched)
    profile = profile.model_copy(update={"charging_schedule": tuple(schedules)})
    if split_periods is not None:
        pieces = _split(
            profile, schedules[0], split_periods, caps.max_periods_per_schedule, recurrence
        )
        fitter.note(f"schedule split into {len(pieces)} profiles")
    else:
        pieces = [(profile, False)]
    profiles = _levels(pieces, caps, store, fitter)
    ids = _ids(profiles[0].id, len(profiles), store, new_ids)
    profiles = [p.model_copy(update={"id": i}) for p, i in zip(profiles, ids, strict=True)]

    first_failure: tuple[SetChargingProfileResult, str] | None = None
    for purpose in _fallbacks(profile.charging_profile_purpose, purpose_fallback):
        try:
            candidate_evse, candidates = _as_purpose(profiles, evse, purpose, fitter)
        except AdaptationError:
            if first_failure is None:
                raise
            continue
        outcome = _try(candidates, candidate_evse, caps, store, transactions, config)
        if isinstance(outcome, Adaptation):
            changes = list(fitter.changes)
            if purpose is not profile.charging_profile_purpose:
                changes.append(
                    f"{purpose.value} on EVSE {candidate_evse} instead of "
                    f"{profile.charging_profile_purpose.value} (allowed fallback)"
                )
            source = _source_version(source_version, payload)
            if source is not None and source is not target:
                changes.insert(0, f"written in OCPP {target.value}")
            return Adaptation(target, outcome.payloads, outcome.requests, tuple(changes))
        if first_failure is None:
            first_failure = (outcome, purpose.value)
    assert first_failure is not None
    result, what = first_failure
    raise _rejection_error(result, f"this {what}")


def _source_version(
    source_version: OcppVersion | str | None,
    payload: Mapping[str, Any] | SetChargingProfileRequest,
) -> OcppVersion | None:
    """The version the caller's payload was in (None for a model: it has none)."""
    if source_version is not None:
        return parse_version(source_version)
    if isinstance(payload, SetChargingProfileRequest):
        return None
    return detect_version(payload)


def _ids(first: int, count: int, store: ProfileStore, new_ids: Iterable[int] | None) -> list[int]:
    if count == 1:
        return [first]
    if new_ids is not None:
        extra = list(new_ids)[: count - 1]
        if len(extra) < count - 1:
            raise AdaptationError(
                f"splitting needs {count - 1} new profile ids; {len(extra)} given",
                field="new_ids",
            )
        return [first, *extra]
    top = max([first, *(e.id for e in store)])
    return [first, *range(top + 1, top + count)]


def _as_purpose(
    profiles: list[ChargingProfile], evse: int, purpose: ChargingProfilePurpose, fitter: _Fitter
) -> tuple[int, list[ChargingProfile]]:
    original = profiles[0].charging_profile_purpose
    if purpose is original:
        return evse, profiles
    update: dict[str, Any] = {"charging_profile_purpose": purpose}
    target_evse = evse
    if purpose is P.TX_PROFILE:
        candidates = (
            [t for t in fitter.transactions if t.evse_id == evse]
            if evse > 0
            else list(fitter.transactions)
        )
        if len(candidates) != 1:
            raise AdaptationError(
                "a TxProfile fallback needs exactly one transaction on the profile's EVSE",
                field="transactions",
                rule="K01.FR.09",
            )
        update["transaction_id"] = candidates[0].id
        target_evse = candidates[0].evse_id
    return target_evse, [p.model_copy(update=update) for p in profiles]


def _try(
    profiles: list[ChargingProfile],
    evse: int,
    caps: StationCapabilities,
    store: ProfileStore,
    transactions: Sequence[Transaction],
    config: StationConfig | None,
) -> Adaptation | SetChargingProfileResult:
    """Write and check the profiles in order; the first rejection, or the adaptation."""
    target = caps.ocpp_version
    state = StationState(caps.to_config(config), target, tuple(transactions))
    payloads = []
    requests = []
    current = store
    for profile in profiles:
        request = SetChargingProfileRequest(evse_id=evse, charging_profile=profile)
        try:
            written = write_set_charging_profile(request, target)
        except VersionError as exc:
            raise AdaptationError(
                f"cannot be written in OCPP {target.value}: {exc.message}",
                field=exc.field,
                rule=exc.rule or f"OCPP {target.value} schema",
            ) from None
        read = read_set_charging_profile(written, target)
        current, result = install(current, read, state)
        if not result.accepted:
            return result
        payloads.append(written)
        requests.append(read)
    return Adaptation(target, tuple(payloads), tuple(requests), ())

"""Version-neutral, validated, immutable models of OCPP charging profiles.

One set of models serves OCPP 1.6, 2.0.1 and 2.1. Field names are the OCPP
names in snake_case; each field's alias is its 2.x JSON key, so
``ChargingProfile.model_validate(two_x_json_profile)`` works directly. The
version-specific payload shapes (1.6's ``chargingProfileId``, single
``chargingSchedule`` object and integer ``transactionId``) are handled by
:mod:`ocpp_schedule.payloads`, which also rejects keys a version does not have.

Models check types at the boundary; they deliberately accept values that the
station-side rules reject with a reason (a negative limit, an empty period
list, a first ``startPeriod`` other than 0), so that ``install`` can answer
``Rejected`` with the rule rather than fail on reading.

Fields a model does not interpret (``customData``, ``salesTariff``, 2.1 price
schedules and V2X curves) are kept verbatim as extra fields and written back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    Strict,
    WithJsonSchema,
)

from .enums import (
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    OperationMode,
    RecurrencyKind,
)
from .timeutil import format_timestamp, parse_timestamp

__all__ = [
    "ChargingProfile",
    "ChargingSchedule",
    "ChargingSchedulePeriod",
    "LimitAtSoC",
    "SetChargingProfileRequest",
    "Timestamp",
]

Timestamp = Annotated[
    datetime,
    PlainValidator(parse_timestamp),
    PlainSerializer(format_timestamp, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
"""An aware datetime read from RFC 3339 text with a mandatory offset."""

Int = Annotated[int, Strict()]
Number = Annotated[float, Strict()]
Bool = Annotated[bool, Strict()]


class _Model(BaseModel):
    model_config = ConfigDict(
        frozen=True,
        extra="allow",
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
    )

    def to_json_dict(self) -> dict[str, Any]:
        """The model as 2.x-style JSON data (aliases, absent fields left out)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class LimitAtSoC(_Model):
    """2.1 ``limitAtSoC``: cap the limit once the EV's state of charge reaches ``soc``."""

    soc: Int
    limit: Number


class ChargingSchedulePeriod(_Model):
    """One period of a schedule: from ``start_period`` seconds on, at most ``limit``."""

    start_period: Int = Field(alias="startPeriod")
    limit: Number | None = None
    number_phases: Int | None = Field(default=None, alias="numberPhases")
    phase_to_use: Int | None = Field(default=None, alias="phaseToUse")
    limit_l2: Number | None = Field(default=None, alias="limit_L2")
    limit_l3: Number | None = Field(default=None, alias="limit_L3")
    discharge_limit: Number | None = Field(default=None, alias="dischargeLimit")
    discharge_limit_l2: Number | None = Field(default=None, alias="dischargeLimit_L2")
    discharge_limit_l3: Number | None = Field(default=None, alias="dischargeLimit_L3")
    setpoint: Number | None = None
    setpoint_l2: Number | None = Field(default=None, alias="setpoint_L2")
    setpoint_l3: Number | None = Field(default=None, alias="setpoint_L3")
    setpoint_reactive: Number | None = Field(default=None, alias="setpointReactive")
    setpoint_reactive_l2: Number | None = Field(default=None, alias="setpointReactive_L2")
    setpoint_reactive_l3: Number | None = Field(default=None, alias="setpointReactive_L3")
    preconditioning_request: Bool | None = Field(default=None, alias="preconditioningRequest")
    evse_sleep: Bool | None = Field(default=None, alias="evseSleep")
    v2x_baseline: Number | None = Field(default=None, alias="v2xBaseline")
    operation_mode: OperationMode | None = Field(default=None, alias="operationMode")


class ChargingSchedule(_Model):
    """A list of periods in one unit, anchored by the profile's kind."""

    id: Int | None = None
    start_schedule: Timestamp | None = Field(default=None, alias="startSchedule")
    duration: Int | None = None
    charging_rate_unit: ChargingRateUnit = Field(alias="chargingRateUnit")
    charging_schedule_period: tuple[ChargingSchedulePeriod, ...] = Field(
        alias="chargingSchedulePeriod"
    )
    min_charging_rate: Number | None = Field(default=None, alias="minChargingRate")
    limit_at_soc: LimitAtSoC | None = Field(default=None, alias="limitAtSoC")
    power_tolerance: Number | None = Field(default=None, alias="powerTolerance")
    signature_id: Int | None = Field(default=None, alias="signatureId")
    digest_value: str | None = Field(default=None, alias="digestValue")
    use_local_time: Bool | None = Field(default=None, alias="useLocalTime")
    randomized_delay: Int | None = Field(default=None, alias="randomizedDelay")


class ChargingProfile(_Model):
    """A charging profile as the CSMS sends it, whatever the OCPP version.

    ``id`` is 1.6's ``chargingProfileId``; ``transaction_id`` is kept as text
    (1.6 integers are read as their decimal text and written back as integers).
    """

    id: Int
    stack_level: Int = Field(alias="stackLevel")
    charging_profile_purpose: ChargingProfilePurpose = Field(alias="chargingProfilePurpose")
    charging_profile_kind: ChargingProfileKind = Field(alias="chargingProfileKind")
    recurrency_kind: RecurrencyKind | None = Field(default=None, alias="recurrencyKind")
    valid_from: Timestamp | None = Field(default=None, alias="validFrom")
    valid_to: Timestamp | None = Field(default=None, alias="validTo")
    transaction_id: str | None = Field(default=None, alias="transactionId")
    charging_schedule: tuple[ChargingSchedule, ...] = Field(alias="chargingSchedule")
    max_offline_duration: Int | None = Field(default=None, alias="maxOfflineDuration")
    invalid_after_offline_duration: Bool | None = Field(
        default=None, alias="invalidAfterOfflineDuration"
    )
    dyn_update_interval: Int | None = Field(default=None, alias="dynUpdateInterval")
    dyn_update_time: Timestamp | None = Field(default=None, alias="dynUpdateTime")
    price_schedule_signature: str | None = Field(default=None, alias="priceScheduleSignature")

    @property
    def purpose(self) -> ChargingProfilePurpose:
        """Short for ``charging_profile_purpose``."""
        return self.charging_profile_purpose

    @property
    def kind(self) -> ChargingProfileKind:
        """Short for ``charging_profile_kind``."""
        return self.charging_profile_kind

    def schedule(self, schedule_id: int | None = None) -> ChargingSchedule:
        """The schedule that counts: the first, or the one with ``schedule_id``.

        Raises ``KeyError`` when no schedule has that id, ``ValueError`` when
        the profile has no schedule at all.
        """
        if not self.charging_schedule:
            raise ValueError(f"charging profile {self.id} has no chargingSchedule")
        if schedule_id is None:
            return self.charging_schedule[0]
        for sched in self.charging_schedule:
            if sched.id == schedule_id:
                return sched
        raise KeyError(f"charging profile {self.id} has no schedule with id {schedule_id}")


class SetChargingProfileRequest(_Model):
    """A SetChargingProfile request: a profile for an EVSE (1.6: a connector); 0 is the station."""

    evse_id: Int = Field(alias="evseId")
    charging_profile: ChargingProfile = Field(alias="chargingProfile")

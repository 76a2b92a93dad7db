"""OCPP JSON in and out: the room for everything that touches the wire format.

The enumerations, the version-neutral pydantic models of charging profiles, the
per-version readers and writers of SetChargingProfile (1.6, 2.0.1, 2.1), RFC 3339
timestamps, and the writers of GetCompositeSchedule answers (plain data in, JSON
out). Nothing here knows what a station holds or how a composite is computed:
every other subpackage builds on this one.
"""

from ._answers import composite_answer, format_instant, rejected_composite_response
from ._enums import (
    ChargingLimitSource,
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    OcppVersion,
    OperationMode,
    RecurrencyKind,
)
from ._models import (
    MAX_JSON_DEPTH,
    MAX_LIMIT,
    ChargingProfile,
    ChargingSchedule,
    ChargingSchedulePeriod,
    CustomData,
    JsonObject,
    LimitAtSoC,
    SetChargingProfileRequest,
)
from ._payloads import (
    MAX_READ_PERIODS,
    detect_version,
    parse_version,
    read_charging_profile,
    read_set_charging_profile,
    write_charging_profile,
    write_set_charging_profile,
)
from ._timestamps import format_timestamp, parse_timestamp

__all__ = [
    "MAX_JSON_DEPTH",
    "MAX_LIMIT",
    "MAX_READ_PERIODS",
    "ChargingLimitSource",
    "ChargingProfile",
    "ChargingProfileKind",
    "ChargingProfilePurpose",
    "ChargingRateUnit",
    "ChargingSchedule",
    "ChargingSchedulePeriod",
    "CustomData",
    "JsonObject",
    "LimitAtSoC",
    "OcppVersion",
    "OperationMode",
    "RecurrencyKind",
    "SetChargingProfileRequest",
    "composite_answer",
    "detect_version",
    "format_instant",
    "format_timestamp",
    "parse_timestamp",
    "parse_version",
    "read_charging_profile",
    "read_set_charging_profile",
    "rejected_composite_response",
    "write_charging_profile",
    "write_set_charging_profile",
]

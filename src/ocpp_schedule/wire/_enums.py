"""The OCPP enumerations used by Smart Charging, across 1.6, 2.0.1 and 2.1.

Values are the exact strings of the OCPP JSON schemas. Purposes of 1.6 and
2.x are one enum: ``ChargePointMaxProfile`` (1.6) and
``ChargingStationMaxProfile`` (2.x) are distinct members that the engine
treats alike (see :data:`MAX_PURPOSES`).
"""

from __future__ import annotations

from enum import StrEnum


class OcppVersion(StrEnum):
    """An OCPP protocol version."""

    V16 = "1.6"
    V201 = "2.0.1"
    V21 = "2.1"

    @property
    def is_v2(self) -> bool:
        """True for 2.0.1 and 2.1."""
        return self is not OcppVersion.V16


class ChargingProfilePurpose(StrEnum):
    """``chargingProfilePurpose``."""

    CHARGE_POINT_MAX_PROFILE = "ChargePointMaxProfile"
    CHARGING_STATION_MAX_PROFILE = "ChargingStationMaxProfile"
    CHARGING_STATION_EXTERNAL_CONSTRAINTS = "ChargingStationExternalConstraints"
    TX_DEFAULT_PROFILE = "TxDefaultProfile"
    TX_PROFILE = "TxProfile"
    PRIORITY_CHARGING = "PriorityCharging"
    LOCAL_GENERATION = "LocalGeneration"

    @property
    def is_max(self) -> bool:
        """True for the station-wide cap (ChargePointMax / ChargingStationMax)."""
        return self in MAX_PURPOSES

    @property
    def is_local(self) -> bool:
        """True for purposes set by the station's local energy management, not the CSMS."""
        return self in LOCAL_PURPOSES


MAX_PURPOSES = frozenset(
    {
        ChargingProfilePurpose.CHARGE_POINT_MAX_PROFILE,
        ChargingProfilePurpose.CHARGING_STATION_MAX_PROFILE,
    }
)
LOCAL_PURPOSES = frozenset(
    {
        ChargingProfilePurpose.CHARGING_STATION_EXTERNAL_CONSTRAINTS,
        ChargingProfilePurpose.LOCAL_GENERATION,
    }
)


class ChargingProfileKind(StrEnum):
    """``chargingProfileKind``; ``Dynamic`` exists in 2.1 only."""

    ABSOLUTE = "Absolute"
    RECURRING = "Recurring"
    RELATIVE = "Relative"
    DYNAMIC = "Dynamic"


class RecurrencyKind(StrEnum):
    """``recurrencyKind`` of a Recurring profile."""

    DAILY = "Daily"
    WEEKLY = "Weekly"

    @property
    def seconds(self) -> int:
        """Length of one recurrence in seconds."""
        return 86_400 if self is RecurrencyKind.DAILY else 604_800


class ChargingRateUnit(StrEnum):
    """``chargingRateUnit``: ``A`` is per phase, ``W`` is the total over phases."""

    A = "A"
    W = "W"


class OperationMode(StrEnum):
    """2.1 ``operationMode`` of a schedule period (absent means ChargingOnly)."""

    IDLE = "Idle"
    CHARGING_ONLY = "ChargingOnly"
    CENTRAL_SETPOINT = "CentralSetpoint"
    EXTERNAL_SETPOINT = "ExternalSetpoint"
    EXTERNAL_LIMITS = "ExternalLimits"
    CENTRAL_FREQUENCY = "CentralFrequency"
    LOCAL_FREQUENCY = "LocalFrequency"
    LOCAL_LOAD_BALANCING = "LocalLoadBalancing"


class ChargingLimitSource(StrEnum):
    """Who set a profile (2.0.1 ``chargingLimitSource``)."""

    EMS = "EMS"
    OTHER = "Other"
    SO = "SO"
    CSO = "CSO"


V16_PURPOSES = frozenset(
    {
        ChargingProfilePurpose.CHARGE_POINT_MAX_PROFILE,
        ChargingProfilePurpose.TX_DEFAULT_PROFILE,
        ChargingProfilePurpose.TX_PROFILE,
    }
)
V201_PURPOSES = frozenset(
    {
        ChargingProfilePurpose.CHARGING_STATION_MAX_PROFILE,
        ChargingProfilePurpose.CHARGING_STATION_EXTERNAL_CONSTRAINTS,
        ChargingProfilePurpose.TX_DEFAULT_PROFILE,
        ChargingProfilePurpose.TX_PROFILE,
    }
)
V21_PURPOSES = V201_PURPOSES | {
    ChargingProfilePurpose.PRIORITY_CHARGING,
    ChargingProfilePurpose.LOCAL_GENERATION,
}

PURPOSES_BY_VERSION = {
    OcppVersion.V16: V16_PURPOSES,
    OcppVersion.V201: V201_PURPOSES,
    OcppVersion.V21: V21_PURPOSES,
}

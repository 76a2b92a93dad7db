"""ocpp-schedule: the arithmetic of OCPP Smart Charging.

Typed models of charging profiles for OCPP 1.6, 2.0.1 and 2.1, the
station-side rules of SetChargingProfile / ClearChargingProfile, and the
composite schedule (GetCompositeSchedule), as pure functions.
"""

from .clearing import ClearChargingProfileRequest, ClearChargingProfileResult, clear
from .composite import (
    CompositePeriod,
    CompositeSchedule,
    LimitSource,
    ProfilePeriod,
    composite_schedule,
    expand_profile,
    limit_at,
    station_composites,
)
from .config import StationConfig
from .enums import (
    ChargingLimitSource,
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    OcppVersion,
    OperationMode,
    RecurrencyKind,
)
from .errors import (
    ConfigError,
    InvalidProfileError,
    OcppScheduleError,
    PayloadError,
    QueryError,
    TimestampError,
    VersionError,
)
from .models import (
    ChargingProfile,
    ChargingSchedule,
    ChargingSchedulePeriod,
    LimitAtSoC,
    SetChargingProfileRequest,
)
from .payloads import (
    detect_version,
    read_charging_profile,
    read_set_charging_profile,
    write_charging_profile,
    write_set_charging_profile,
)
from .rules import (
    RejectionReason,
    SetChargingProfileResult,
    check_set_charging_profile,
    install,
    install_local,
    replay,
)
from .store import (
    ChargingProfileCriteria,
    InstalledProfile,
    ProfileStore,
    StationState,
    Transaction,
)

__version__ = "0.1.0"

__all__ = [
    "ChargingLimitSource",
    "ChargingProfile",
    "ChargingProfileCriteria",
    "ChargingProfileKind",
    "ChargingProfilePurpose",
    "ChargingRateUnit",
    "ChargingSchedule",
    "ChargingSchedulePeriod",
    "ClearChargingProfileRequest",
    "ClearChargingProfileResult",
    "CompositePeriod",
    "CompositeSchedule",
    "ConfigError",
    "InstalledProfile",
    "InvalidProfileError",
    "LimitAtSoC",
    "LimitSource",
    "OcppScheduleError",
    "OcppVersion",
    "OperationMode",
    "PayloadError",
    "ProfilePeriod",
    "ProfileStore",
    "QueryError",
    "RecurrencyKind",
    "RejectionReason",
    "SetChargingProfileRequest",
    "SetChargingProfileResult",
    "StationConfig",
    "StationState",
    "TimestampError",
    "Transaction",
    "VersionError",
    "__version__",
    "check_set_charging_profile",
    "clear",
    "composite_schedule",
    "detect_version",
    "expand_profile",
    "install",
    "install_local",
    "limit_at",
    "read_charging_profile",
    "read_set_charging_profile",
    "replay",
    "station_composites",
    "write_charging_profile",
    "write_set_charging_profile",
]

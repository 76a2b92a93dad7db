"""ocpp-schedule: the arithmetic of OCPP Smart Charging.

Typed models of charging profiles for OCPP 1.6, 2.0.1 and 2.1, the
station-side rules of SetChargingProfile / ClearChargingProfile, and the
composite schedule (GetCompositeSchedule), as pure functions.
"""

from .capabilities import (
    OCPP16_DEFAULTS,
    OCPP21_DEFAULTS,
    OCPP201_DEFAULTS,
    Adaptation,
    StationCapabilities,
    adapt,
    round_limits,
)
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
from .drift import (
    DriftFinding,
    DriftReport,
    ReportedSchedule,
    check_drift,
    read_composite_response,
)
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
    AdaptationError,
    ConfigError,
    InvalidProfileError,
    OcppScheduleError,
    PayloadError,
    PlanError,
    QueryError,
    SafetyError,
    TimestampError,
    VersionError,
)
from .localtime import (
    EVERY_DAY,
    WEEKDAYS,
    WEEKEND,
    LocalTimePlan,
    LocalWindow,
    PlannedProfiles,
    Weekday,
    plan_profiles,
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
from .sendplan import SendPlanError
from .site import SiteError
from .store import (
    ChargingProfileCriteria,
    InstalledProfile,
    ProfileStore,
    StationState,
    Transaction,
)

__version__ = "0.1.0"

__all__ = [
    "Adaptation",
    "AdaptationError",
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
    "DriftFinding",
    "DriftReport",
    "EVERY_DAY",
    "InstalledProfile",
    "InvalidProfileError",
    "LimitAtSoC",
    "LimitSource",
    "LocalTimePlan",
    "LocalWindow",
    "OCPP16_DEFAULTS",
    "OCPP201_DEFAULTS",
    "OCPP21_DEFAULTS",
    "OcppScheduleError",
    "OcppVersion",
    "OperationMode",
    "PayloadError",
    "PlanError",
    "PlannedProfiles",
    "ProfilePeriod",
    "ProfileStore",
    "QueryError",
    "SafetyError",
    "SiteError",
    "SendPlanError",
    "RecurrencyKind",
    "RejectionReason",
    "ReportedSchedule",
    "SetChargingProfileRequest",
    "SetChargingProfileResult",
    "StationCapabilities",
    "StationConfig",
    "StationState",
    "TimestampError",
    "Transaction",
    "VersionError",
    "WEEKDAYS",
    "WEEKEND",
    "Weekday",
    "__version__",
    "adapt",
    "check_drift",
    "check_set_charging_profile",
    "clear",
    "composite_schedule",
    "detect_version",
    "expand_profile",
    "install",
    "install_local",
    "limit_at",
    "plan_profiles",
    "read_charging_profile",
    "read_composite_response",
    "read_set_charging_profile",
    "replay",
    "round_limits",
    "station_composites",
    "write_charging_profile",
    "write_set_charging_profile",
]

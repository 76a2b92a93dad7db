"""ocpp-schedule: the arithmetic of OCPP Smart Charging.

Typed models of charging profiles for OCPP 1.6, 2.0.1 and 2.1, the
station-side rules of SetChargingProfile / ClearChargingProfile, the
composite schedule (GetCompositeSchedule) as pure functions, and site load
balancing on top. This module is the public face: every name a user needs
imports from here. The subpackages hold the concerns, in layers
(``docs/architecture.md``): ``wire`` <- ``station`` <- ``engine`` <-
``site`` | ``tools`` <- ``cli``.
"""

import importlib
import importlib.abc
import importlib.machinery
import sys
from types import ModuleType
from typing import TYPE_CHECKING, Any

from .engine import (
    CompositePeriod,
    CompositeSchedule,
    LimitSource,
    ProfilePeriod,
    V2xFields,
    composite_schedule,
    expand_profile,
    limit_at,
    station_composites,
)
from .errors import (
    AdaptationError,
    ConfigError,
    InvalidProfileError,
    OcppScheduleError,
    PayloadError,
    PlanError,
    QueryError,
    RemoteStartError,
    SafetyError,
    TimestampError,
    VersionError,
)
from .station import (  # 2.1 Dynamic profiles and offline validity, remote start (issue 14)
    OCPP16_DEFAULTS,
    OCPP21_DEFAULTS,
    OCPP201_DEFAULTS,
    Adaptation,
    ChargingProfileCriteria,
    ChargingScheduleUpdate,
    ClearChargingProfileRequest,
    ClearChargingProfileResult,
    ConfigProblem,
    DiscoveredConfig,
    DynamicUpdatesDue,
    InstalledProfile,
    MirrorUpdate,
    ProfileStore,
    RejectionReason,
    RemoteStartReason,
    RemoteStartResult,
    RemoteStartTransactionRequest,
    RequestStartTransactionRequest,
    SetChargingProfileResult,
    StationCapabilities,
    StationConfig,
    StationMirror,
    StationState,
    Transaction,
    UpdateDynamicScheduleRequest,
    UpdateDynamicScheduleResult,
    adapt,
    build_remote_start,
    check_remote_start,
    check_set_charging_profile,
    clear,
    config_from_device_model,
    config_from_get_configuration,
    drop_invalid_after_offline,
    dynamic_updates_due,
    install,
    install_local,
    install_remote_start,
    read_remote_start_transaction,
    read_request_start_transaction,
    replay,
    round_limits,
    update_dynamic_schedule,
    write_remote_start_transaction,
    write_request_start_transaction,
)
from .wire import (
    ChargingLimitSource,
    ChargingProfile,
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    ChargingSchedule,
    ChargingSchedulePeriod,
    LimitAtSoC,
    OcppVersion,
    OperationMode,
    RecurrencyKind,
    SetChargingProfileRequest,
    detect_version,
    format_timestamp,
    parse_timestamp,
    read_charging_profile,
    read_set_charging_profile,
    write_charging_profile,
    write_set_charging_profile,
)

__version__ = "0.1.0"


if TYPE_CHECKING:  # type checkers and IDEs see every name; at run time they load on first use
    from .site import (
        Allocation,
        Circuit,
        ControlError,
        ControlResult,
        DeadlineAware,
        EqualShare,
        Evse,
        EvseMeasurement,
        ExactOptimiser,
        LimitsAt,
        LimitStep,
        LimitViolation,
        MeasurementFlag,
        OptimiserUnavailable,
        Pile,
        PlotUnavailable,
        SendPlan,
        SendPlanError,
        Session,
        SessionControl,
        SessionOutcome,
        SimulatedSession,
        SimulationResult,
        Site,
        SiteError,
        SiteReport,
        SiteState,
        StepRecord,
        VehicleModel,
        Weighted,
        balance,
        control,
        limits_at,
        load_site,
        send_plan,
        session_outcomes,
        simulate,
        site_report,
    )
    from .tools import (
        EVERY_DAY,
        WEEKDAYS,
        WEEKEND,
        DriftFinding,
        DriftReport,
        LocalTimePlan,
        LocalWindow,
        PlannedProfiles,
        ReportedSchedule,
        Weekday,
        check_drift,
        plan_profiles,
        read_composite_response,
    )
    from .tools.adapters import MissingExtraError

# The site controller and the CSMS tools load on first use, not with the package: a
# firmware or CSMS that only reads profiles and computes composites never pays their import
# (issue 15: `import ocpp_schedule` was 1.3-1.7 s, most of it in these).
_LAZY: dict[str, str] = {
    "Allocation": "ocpp_schedule.site",
    "Circuit": "ocpp_schedule.site",
    "ControlError": "ocpp_schedule.site",
    "ControlResult": "ocpp_schedule.site",
    "DeadlineAware": "ocpp_schedule.site",
    "DriftFinding": "ocpp_schedule.tools",
    "DriftReport": "ocpp_schedule.tools",
    "EVERY_DAY": "ocpp_schedule.tools",
    "EqualShare": "ocpp_schedule.site",
    "Evse": "ocpp_schedule.site",
    "EvseMeasurement": "ocpp_schedule.site",
    "ExactOptimiser": "ocpp_schedule.site",
    "LimitStep": "ocpp_schedule.site",
    "LimitViolation": "ocpp_schedule.site",
    "LimitsAt": "ocpp_schedule.site",
    "LocalTimePlan": "ocpp_schedule.tools",
    "LocalWindow": "ocpp_schedule.tools",
    "MeasurementFlag": "ocpp_schedule.site",
    "MissingExtraError": "ocpp_schedule.tools.adapters",
    "OptimiserUnavailable": "ocpp_schedule.site",
    "Pile": "ocpp_schedule.site",
    "PlannedProfiles": "ocpp_schedule.tools",
    "PlotUnavailable": "ocpp_schedule.site",
    "ReportedSchedule": "ocpp_schedule.tools",
    "SendPlan": "ocpp_schedule.site",
    "SendPlanError": "ocpp_schedule.site",
    "Session": "ocpp_schedule.site",
    "SessionControl": "ocpp_schedule.site",
    "SessionOutcome": "ocpp_schedule.site",
    "SimulatedSession": "ocpp_schedule.site",
    "SimulationResult": "ocpp_schedule.site",
    "Site": "ocpp_schedule.site",
    "SiteError": "ocpp_schedule.site",
    "SiteReport": "ocpp_schedule.site",
    "SiteState": "ocpp_schedule.site",
    "StepRecord": "ocpp_schedule.site",
    "VehicleModel": "ocpp_schedule.site",
    "WEEKDAYS": "ocpp_schedule.tools",
    "WEEKEND": "ocpp_schedule.tools",
    "Weekday": "ocpp_schedule.tools",
    "Weighted": "ocpp_schedule.site",
    "balance": "ocpp_schedule.site",
    "check_drift": "ocpp_schedule.tools",
    "control": "ocpp_schedule.site",
    "limits_at": "ocpp_schedule.site",
    "load_site": "ocpp_schedule.site",
    "plan_profiles": "ocpp_schedule.tools",
    "read_composite_response": "ocpp_schedule.tools",
    "send_plan": "ocpp_schedule.site",
    "session_outcomes": "ocpp_schedule.site",
    "simulate": "ocpp_schedule.site",
    "site_report": "ocpp_schedule.site",
}


def __getattr__(name: str) -> Any:
    """Load a site or tools name on first use (PEP 562); cache it on the package."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ocpp_schedule' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "RemoteStartReason",
    "RemoteStartResult",
    "RemoteStartTransactionRequest",
    "RequestStartTransactionRequest",
    "build_remote_start",
    "check_remote_start",
    "install_remote_start",
    "read_remote_start_transaction",
    "read_request_start_transaction",
    "write_remote_start_transaction",
    "write_request_start_transaction",
    "ControlError",
    "ControlResult",
    "EvseMeasurement",
    "MeasurementFlag",
    "SessionControl",
    "SiteState",
    "control",
    "LimitViolation",
    "SimulatedSession",
    "SimulationResult",
    "StepRecord",
    "VehicleModel",
    "simulate",
    "MissingExtraError",
    "site_report",
    "send_plan",
    "load_site",
    "balance",
    "Weighted",
    "SiteReport",
    "Site",
    "Session",
    "SessionOutcome",
    "session_outcomes",
    "LimitsAt",
    "limits_at",
    "SendPlan",
    "PlotUnavailable",
    "Pile",
    "LimitStep",
    "Evse",
    "DeadlineAware",
    "EqualShare",
    "ExactOptimiser",
    "OptimiserUnavailable",
    "Circuit",
    "Allocation",
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
    "V2xFields",
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
    "MirrorUpdate",
    "StationMirror",
    "format_timestamp",
    "parse_timestamp",
    "ConfigProblem",
    "DiscoveredConfig",
    "config_from_device_model",
    "config_from_get_configuration",
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
    "RemoteStartError",
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
    # 2.1 Dynamic profiles and offline validity (issue 14)
    "ChargingScheduleUpdate",
    "DynamicUpdatesDue",
    "UpdateDynamicScheduleRequest",
    "UpdateDynamicScheduleResult",
    "drop_invalid_after_offline",
    "dynamic_updates_due",
    "update_dynamic_schedule",
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

# The flat module paths of 0.1 (``ocpp_schedule.allocation``, ``ocpp_schedule.store``, ...)
# before the package was split into subpackages (docs/architecture.md). They stay importable
# as aliases of the modules that now hold their code, so code written against them keeps
# working; new code imports from ``ocpp_schedule`` or a subpackage's public face.
MOVED_MODULES = {
    "adapters": "tools.adapters",
    "allocation": "site._allocation",
    "capabilities": "station._capabilities",
    "cli_check": "cli._check",
    "cli_common": "cli._common",
    "cli_site": "cli._site",
    "clearing": "station._clearing",
    "composite": "engine._composite",
    "config": "station._config",
    "demo": "site._demo",
    "drift": "tools._drift",
    "enums": "wire._enums",
    "fairshare": "site._fairshare",
    "fleet": "engine.fleet",
    "index": "engine._index",
    "localtime": "tools._localtime",
    "models": "wire._models",
    "payloads": "wire._payloads",
    "plancheck": "site._plancheck",
    "plot": "site._plot",
    "policies": "site._policies",
    "provenance": "engine._provenance",
    "report": "site._report",
    "reporting": "station._get_profiles",
    "responses": "engine._answers",
    "rules": "station._rules",
    "safetail": "site._safetail",
    "segments": "engine._compile",
    "sendplan": "site._sendplan",
    "store": "station._store",
    "timelines": "site._timelines",
    "timeutil": "wire._timestamps",
}
"""Old flat module name -> the module below ``ocpp_schedule`` that now holds its code."""


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports an old flat path (``ocpp_schedule.store``) as the module that now holds its
    code, on first import only: the package does not load every module up front."""

    def find_spec(
        self, fullname: str, path: object = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        prefix, _, old = fullname.partition(".")
        if prefix != __name__ or old not in MOVED_MODULES:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        old = spec.name.partition(".")[2]
        return importlib.import_module(f"{__name__}.{MOVED_MODULES[old]}")

    def exec_module(self, module: ModuleType) -> None:
        """The module is already executed: it is the one that holds the code."""


if not any(isinstance(finder, _MovedModules) for finder in sys.meta_path):
    sys.meta_path.append(_MovedModules())

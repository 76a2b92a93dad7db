"""What a charging station holds and decides, as pure functions over immutable values.

Its configuration (the 1.6 keys and 2.x SmartChargingCtrlr variables), the
immutable profile store, the SetChargingProfile rules (acceptance, replacement,
every rejection with its reason and requirement), ClearChargingProfile,
GetChargingProfiles/ReportChargingProfiles (K09), RequestStartTransaction /
RemoteStartTransaction with a charging profile (F01, K05), and capabilities: whether a
station with given limits accepts a payload, and an equivalent one it does accept.
Builds on :mod:`ocpp_schedule.wire`; the composite engine builds on this.
"""

from ._capabilities import (
    OCPP16_DEFAULTS,
    OCPP21_DEFAULTS,
    OCPP201_DEFAULTS,
    Adaptation,
    StationCapabilities,
    adapt,
    check,
    round_limits,
)
from ._clearing import (
    ClearChargingProfileRequest,
    ClearChargingProfileResult,
    clear,
    read_clear_charging_profile,
    write_clear_charging_profile,
)
from ._config import MAX_EVSE_COUNT, MAX_EVSE_ID, StationConfig
from ._dynamic import (
    ChargingScheduleUpdate,
    DynamicUpdatesDue,
    UpdateDynamicScheduleRequest,
    UpdateDynamicScheduleResult,
    drop_invalid_after_offline,
    dynamic_updates_due,
    read_update_dynamic_schedule,
    update_dynamic_schedule,
    write_update_dynamic_schedule,
)
from ._get_profiles import (
    GetChargingProfilesRequest,
    GetChargingProfilesResult,
    get_charging_profiles,
    read_get_charging_profiles,
    report_charging_profiles,
    write_get_charging_profiles,
)
from ._remote_start import (
    RemoteStartReason,
    RemoteStartResult,
    RemoteStartTransactionRequest,
    RequestStartTransactionRequest,
    build_remote_start,
    check_remote_start,
    install_remote_start,
    read_remote_start_transaction,
    read_request_start_transaction,
    write_remote_start_transaction,
    write_request_start_transaction,
)
from ._rules import (
    RejectionReason,
    SetChargingProfileResult,
    check_set_charging_profile,
    install,
    install_local,
    replay,
)
from ._store import (
    ChargingProfileCriteria,
    InstalledProfile,
    ProfileStore,
    StationState,
    Transaction,
)

__all__ = [
    "ChargingScheduleUpdate",
    "DynamicUpdatesDue",
    "UpdateDynamicScheduleRequest",
    "UpdateDynamicScheduleResult",
    "drop_invalid_after_offline",
    "dynamic_updates_due",
    "read_update_dynamic_schedule",
    "update_dynamic_schedule",
    "write_update_dynamic_schedule",
    "MAX_EVSE_COUNT",
    "MAX_EVSE_ID",
    "OCPP16_DEFAULTS",
    "OCPP201_DEFAULTS",
    "OCPP21_DEFAULTS",
    "Adaptation",
    "ChargingProfileCriteria",
    "ClearChargingProfileRequest",
    "ClearChargingProfileResult",
    "GetChargingProfilesRequest",
    "GetChargingProfilesResult",
    "InstalledProfile",
    "ProfileStore",
    "RejectionReason",
    "SetChargingProfileResult",
    "StationCapabilities",
    "StationConfig",
    "StationState",
    "Transaction",
    "adapt",
    "check",
    "check_set_charging_profile",
    "clear",
    "get_charging_profiles",
    "install",
    "install_local",
    "read_clear_charging_profile",
    "read_get_charging_profiles",
    "write_get_charging_profiles",
    "replay",
    "report_charging_profiles",
    "round_limits",
    "write_clear_charging_profile",
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
]

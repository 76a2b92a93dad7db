"""Tools for CSMS and firmware integrators, around the engine.

Local-time plans (``plan_profiles``: "11 kW from 17:00 to 21:00 on weekdays,
Europe/Berlin" as profiles that stay right across DST), the drift check
(``check_drift``: does a station's GetCompositeSchedule answer match what it was
told?), ISO 15118 through OCPP 2.x (NotifyEVChargingNeeds and NotifyEVChargingSchedule:
the EV's needs as plain values, its schedule checked against the composite), and
:mod:`ocpp_schedule.tools.adapters`, the bridge to the ``ocpp`` package's call objects
(optional extra ``ocpp``). Builds on the engine, the station and the wire layers;
independent of :mod:`ocpp_schedule.site._model`.
"""

from ._drift import (
    DEFAULT_TOLERANCE,
    DriftFinding,
    DriftReport,
    ReportedPeriod,
    ReportedSchedule,
    check_drift,
    compare,
    read_composite_response,
)
from ._ev_needs import (
    EvChargingNeed,
    NotifyEVChargingNeedsRequest,
    NotifyEVChargingNeedsResponse,
    charging_needs_response,
    check_needs_parameters,
    check_profile_for_needs,
    ev_charging_need,
    read_notify_ev_charging_needs,
    read_notify_ev_charging_needs_response,
    write_notify_ev_charging_needs,
    write_notify_ev_charging_needs_response,
)
from ._ev_schedule import (
    EvScheduleCheck,
    Exceedance,
    NotifyEVChargingScheduleRequest,
    NotifyEVChargingScheduleResponse,
    check_ev_schedule,
    read_notify_ev_charging_schedule,
    read_notify_ev_charging_schedule_response,
    schedule_selection,
    selected_schedule_id,
    write_notify_ev_charging_schedule,
    write_notify_ev_charging_schedule_response,
)
from ._localtime import (
    EVERY_DAY,
    WEEKDAYS,
    WEEKEND,
    LocalTimePlan,
    LocalWindow,
    PlannedProfiles,
    Weekday,
    plan_profiles,
)

__all__ = [
    "EvChargingNeed",
    "NotifyEVChargingNeedsRequest",
    "NotifyEVChargingNeedsResponse",
    "charging_needs_response",
    "check_needs_parameters",
    "check_profile_for_needs",
    "ev_charging_need",
    "read_notify_ev_charging_needs",
    "read_notify_ev_charging_needs_response",
    "write_notify_ev_charging_needs",
    "write_notify_ev_charging_needs_response",
    "EvScheduleCheck",
    "Exceedance",
    "NotifyEVChargingScheduleRequest",
    "NotifyEVChargingScheduleResponse",
    "check_ev_schedule",
    "read_notify_ev_charging_schedule",
    "read_notify_ev_charging_schedule_response",
    "schedule_selection",
    "selected_schedule_id",
    "write_notify_ev_charging_schedule",
    "write_notify_ev_charging_schedule_response",
    "DEFAULT_TOLERANCE",
    "EVERY_DAY",
    "WEEKDAYS",
    "WEEKEND",
    "DriftFinding",
    "DriftReport",
    "LocalTimePlan",
    "LocalWindow",
    "PlannedProfiles",
    "ReportedPeriod",
    "ReportedSchedule",
    "Weekday",
    "check_drift",
    "compare",
    "plan_profiles",
    "read_composite_response",
]

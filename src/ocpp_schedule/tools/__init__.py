"""Tools for CSMS and firmware integrators, around the engine.

Local-time plans (``plan_profiles``: "11 kW from 17:00 to 21:00 on weekdays,
Europe/Berlin" as profiles that stay right across DST), the drift check
(``check_drift``: does a station's GetCompositeSchedule answer match what it was
told?), and :mod:`ocpp_schedule.tools.adapters`, the bridge to the ``ocpp``
package's call objects (optional extra ``ocpp``). Builds on the engine, the
station and the wire layers; independent of :mod:`ocpp_schedule.site._model`.
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

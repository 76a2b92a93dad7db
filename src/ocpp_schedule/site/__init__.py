"""Site load balancing: a tree of circuits, piles and vehicles, kept within its limits.

The site model (``Site``, circuits with per-phase and power limits and daily steps,
piles wired with phase rotation, EVSEs and sessions), each EVSE's and circuit's
limits over time (``_timelines``, through the engine), the fair share and its
policies, ``balance`` (every circuit phase and power limit checked at every
instant before a result is returned), ``send_plan`` (SetChargingProfile payloads
whose every prefix, and the safe tail after they end, are replayed through the
station rules and checked), the site report, the demo and the plot. Builds on the
engine, station and wire layers; independent of :mod:`ocpp_schedule.tools`.

On top, the closed loop: ``control`` (what a CSMS calls when something happens: the
measured state in, the adjusted site balanced, a plan that sends only what changed, what each
session gets out) and ``simulate`` (``control`` every step against a vehicle model, every
instant checked against every circuit limit).
"""

from ._allocation import Allocation, EvseKey, balance
from ._control import (
    DEFAULT_HORIZON_CAP,
    EXTENSION_S,
    FLAG_TOLERANCE,
    TAPER_HEADROOM,
    ControlError,
    ControlResult,
    EvseMeasurement,
    MeasurementFlag,
    SessionControl,
    SiteState,
    control,
)
from ._demo import DEMO_DAY, demo_site, evening_peak_tx_default
from ._model import (
    DEFAULT_DWELL_S,
    MAX_DWELL_S,
    MAX_WEIGHT,
    MIN_WEIGHT,
    Circuit,
    Evse,
    LimitStep,
    Pile,
    Session,
    Site,
    SiteError,
    load_site,
)
from ._optimise import ExactOptimiser, OptimiserUnavailable
from ._outcomes import SessionOutcome, format_session_outcomes, session_outcomes
from ._planner import DeadlineAware
from ._plot import PlotUnavailable, plot_allocation
from ._policies import EqualShare, Policy, Weighted
from ._report import (
    EvseOutput,
    LimitsAt,
    SiteReport,
    StationReport,
    format_allocation,
    format_limits_at,
    format_site_report,
    limits_at,
    site_report,
)
from ._safetail import safe_tails
from ._sendplan import (
    MIN_RESEND_MARGIN,
    RESEND_FRACTION,
    PlanStep,
    SendPlan,
    SendPlanError,
    send_plan,
)
from ._simulate import (
    MAX_SIMULATION_CELLS,
    LimitViolation,
    SimulatedSession,
    SimulationResult,
    StepRecord,
    VehicleModel,
    simulate,
)
from ._timelines import MAX_CELLS, MAX_SLOTS, pile_store, session_transaction

__all__ = [
    "DEFAULT_DWELL_S",
    "MAX_DWELL_S",
    "DEFAULT_HORIZON_CAP",
    "EXTENSION_S",
    "FLAG_TOLERANCE",
    "TAPER_HEADROOM",
    "ControlError",
    "ControlResult",
    "EvseMeasurement",
    "MeasurementFlag",
    "SessionControl",
    "SiteState",
    "control",
    "MAX_SIMULATION_CELLS",
    "LimitViolation",
    "SimulatedSession",
    "SimulationResult",
    "StepRecord",
    "VehicleModel",
    "simulate",
    "DEMO_DAY",
    "MAX_CELLS",
    "MAX_SLOTS",
    "MAX_WEIGHT",
    "MIN_RESEND_MARGIN",
    "MIN_WEIGHT",
    "RESEND_FRACTION",
    "Allocation",
    "Circuit",
    "DeadlineAware",
    "EqualShare",
    "Evse",
    "EvseKey",
    "EvseOutput",
    "ExactOptimiser",
    "LimitStep",
    "LimitsAt",
    "OptimiserUnavailable",
    "Pile",
    "PlanStep",
    "PlotUnavailable",
    "Policy",
    "SendPlan",
    "SendPlanError",
    "Session",
    "SessionOutcome",
    "Site",
    "SiteError",
    "SiteReport",
    "StationReport",
    "Weighted",
    "balance",
    "demo_site",
    "evening_peak_tx_default",
    "format_allocation",
    "format_limits_at",
    "format_session_outcomes",
    "format_site_report",
    "limits_at",
    "load_site",
    "pile_store",
    "plot_allocation",
    "safe_tails",
    "send_plan",
    "session_outcomes",
    "session_transaction",
    "site_report",
]

"""The composite schedule (GetCompositeSchedule) as pure functions.

Installed profiles are compiled once to integer data (``_compile``), grouped by
precedence (``_index``), and merged into the limit in force at every instant of a
window (``_composite``), each output period with the profile that set it
(``_provenance``). :mod:`ocpp_schedule.engine.fleet` recomputes many stations,
sharded across processes. Builds on :mod:`ocpp_schedule.station`; the site
controller and the CSMS tools build on this.
"""

from ._answers import composite_response, explain_table
from ._composite import (
    CompositePeriod,
    CompositeSchedule,
    LimitHold,
    ProfilePeriod,
    V2xFields,
    composite_schedule,
    expand_profile,
    limit_at,
    next_change,
    station_composites,
)
from ._provenance import DEFAULT_SOURCE, EVSE_SUM_SOURCE, REPORTED_SOURCE, LimitSource

__all__ = [
    "LimitHold",
    "next_change",
    "DEFAULT_SOURCE",
    "EVSE_SUM_SOURCE",
    "REPORTED_SOURCE",
    "CompositePeriod",
    "CompositeSchedule",
    "LimitSource",
    "ProfilePeriod",
    "V2xFields",
    "composite_response",
    "composite_schedule",
    "expand_profile",
    "explain_table",
    "fleet",
    "limit_at",
    "station_composites",
]


def __getattr__(name: str) -> object:
    """``fleet`` (process pools, Dask) loads on first use, not with the engine."""
    if name == "fleet":
        import importlib

        return importlib.import_module(f"{__name__}.fleet")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""Provenance: what set a composite limit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..wire._enums import ChargingProfilePurpose

__all__ = ["DEFAULT_SOURCE", "EVSE_SUM_SOURCE", "REPORTED_SOURCE", "LimitSource", "SourceKind"]

SourceKind = Literal["profile", "default", "evse_sum", "reported"]


@dataclass(frozen=True, slots=True)
class LimitSource:
    """What set a composite limit: a profile, the default limit, or (EVSE 0) the EVSEs' sum.

    ``reported`` marks a limit read from a station's answer: the station does
    not say which profile set it, so there is no provenance.

    For a profile: its id, purpose, stack level and the EVSE it is installed on.
    """

    kind: SourceKind
    profile_id: int | None = None
    purpose: ChargingProfilePurpose | None = None
    stack_level: int | None = None
    evse_id: int | None = None

    def __str__(self) -> str:
        if self.kind == "default":
            return "default limit"
        if self.kind == "evse_sum":
            return "sum of the EVSEs' composites"
        if self.kind == "reported":
            return "reported by the station"
        purpose = self.purpose.value if self.purpose else "?"
        return (
            f"profile {self.profile_id} ({purpose}, stack {self.stack_level}, EVSE {self.evse_id})"
        )


DEFAULT_SOURCE = LimitSource("default")
"""No profile is in force: the station's default limit applies."""

EVSE_SUM_SOURCE = LimitSource("evse_sum")
"""EVSE 0: the sum of the EVSEs' composites governs."""

REPORTED_SOURCE = LimitSource("reported")
"""A limit read from a station's GetCompositeSchedule answer: no provenance is known."""

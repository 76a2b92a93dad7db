"""The planning problem a cross-slot policy solves: plain data, built once by :func:`balance`.

Weighted max-min policies (:class:`~ocpp_schedule.EqualShare`,
:class:`~ocpp_schedule.Weighted`) share each slot on its own. A *planner* sees the
whole window at once: every slot's active EVSEs with their own limits, every
circuit's limits per slot, and every session's remaining energy need and
departure. It returns a current per EVSE and slot. :func:`balance` then floors
each current to 0.1 A, pauses one below the session's minimum, caps it at the
EVSE's own limit, and checks the result like any other (the post-condition does
not trust the planner).

Units: currents in A per phase, times in epoch seconds, energy in kWh. A
session's energy in a slot is ``amps x phases x voltage x present / 3.6e6``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = ["PlanDemand", "PlanSession", "Planner", "PlanningProblem", "SlotLimits"]

EvseKey = tuple[str, int]
SlotLimits = Mapping[str, tuple[tuple[float, float, float], float | None]]
"""Per circuit id: its limit per circuit phase (A) and on its total power (W, or None)."""


@dataclass(frozen=True, slots=True)
class PlanSession:
    """A session the window meets, with what it still needs at the window's start."""

    index: int
    """Its position in :attr:`PlanningProblem.sessions`."""
    key: EvseKey
    """The EVSE it charges on."""
    arrive: int
    """Arrival, epoch seconds (may lie before the window's start)."""
    leave: int
    """Departure, epoch seconds (an estimate when ``departure_known`` is False)."""
    departure_known: bool
    """Whether ``leave`` was given by the caller (False: an expected dwell time)."""
    need_kwh: float | None
    """The energy it still needs at the window's start (kWh, >= 0); None when unknown."""
    phases: int
    """The phases it loads (the lesser of the vehicle's and the EVSE's)."""
    min_amps: float
    """The least useful current per phase; below it the EVSE is paused."""
    max_amps: float | None
    """The vehicle's own limit per phase, if any (already part of every slot's ``cap``)."""
    weight: float
    """Its weight under the ``weighted`` policy (normalised by the planner as it likes)."""
    priority: int
    """Its priority class (0..9; a higher class is served first)."""


@dataclass(frozen=True, slots=True)
class PlanDemand:
    """One EVSE with a vehicle in one slot."""

    key: EvseKey
    """``(pile id, EVSE id)``."""
    session: int
    """Index into :attr:`PlanningProblem.sessions` of the session in the slot (the first one
    when two meet the slot; the strictest limits of both are used)."""
    cap: float
    """Its own limit in the slot (A per phase): composite schedule, hardware, vehicle."""
    phases: int
    """The phases it loads in the slot."""
    circuit_phases: tuple[int, ...]
    """The circuit phases (0-2) it loads, by the pile's phase rotation."""
    path: tuple[str, ...]
    """The circuits from the grid connection down to its pile's circuit; it loads each."""
    min_amps: float
    """The least current it may be given unless paused (0)."""
    present: int
    """Seconds of the slot its vehicle is there (energy counts only these)."""
    pinned: bool
    """A TxProfile the plan cannot replace governs it: it draws ``cap`` whatever is planned."""


@dataclass(frozen=True, slots=True)
class PlanningProblem:
    """Everything a planner needs, as plain values."""

    boundaries: tuple[int, ...]
    """Slot edges, epoch seconds (one more than the slots)."""
    voltage: float
    """Line-to-neutral voltage (V)."""
    sessions: tuple[PlanSession, ...]
    """Every session that meets the window."""
    demands: tuple[tuple[PlanDemand, ...], ...]
    """Per slot, the EVSEs with a vehicle."""
    limits: tuple[SlotLimits, ...]
    """Per slot, every circuit's limits (the lowest within the slot)."""

    @property
    def slots(self) -> int:
        """How many slots the window has."""
        return len(self.boundaries) - 1

    def seconds(self, k: int) -> int:
        """Length of slot ``k`` in seconds."""
        return self.boundaries[k + 1] - self.boundaries[k]


@runtime_checkable
class Planner(Protocol):
    """A policy that plans the whole window at once (energy- and deadline-aware policies)."""

    name: str

    def plan(self, problem: PlanningProblem) -> Sequence[Mapping[EvseKey, float]]:
        """Per slot, a current (A per phase) for each of the slot's demands (missing: 0).

        The result is floored to 0.1 A, paused below the session's minimum, capped at the
        demand's ``cap`` and checked against every circuit limit by :func:`balance`; a
        plan that breaks a circuit limit is refused with SafetyError, not repaired.
        """
        ...

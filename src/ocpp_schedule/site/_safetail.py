"""The safe tail of a send plan: the limit every EVSE keeps after the plan's window.

A plan is computed for a window; the profiles it sends outlive it. Whatever
the profiles say after their last slot is what the piles do until the next
plan arrives, with vehicles still plugged in, vehicles arriving that nobody
announced, and at any time of any day. So the last period of every profile a
plan sends is open-ended and holds each EVSE's *safe tail*: a limit such that
every EVSE of the site at its tail at once, all on every phase it is wired for,
keeps every circuit within the lowest limits it ever has (its base limits,
every daily step, every limit its external profile names), phase and power.

The tail is a static equal share, among all EVSEs, of what is left of each
circuit once the TxProfiles the piles hold for known sessions that last past
the window are reserved at their highest limit (those override any TxDefault
the plan sends while their session runs; after it, the EVSE gets its share).
A tail below the minimum current of the EVSE's sessions (6 A when none is
known) is 0: a vehicle is paused rather than given a trickle. Tails are
rounded down to 0.1 A.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping

from ..station._config import StationConfig
from ..station._store import ProfileStore
from ..wire._enums import ChargingProfilePurpose, ChargingRateUnit
from ..wire._models import ChargingProfile
from ..wire._timestamps import to_epoch
from ._model import Circuit, Evse, Pile, Session, Site
from ._timelines import pile_store, session_transaction_id

__all__ = ["DEFAULT_MIN_AMPS", "lowest_limits", "pinned_amps", "safe_tails"]

DEFAULT_MIN_AMPS = 6.0
"""The least useful current assumed for an EVSE without known sessions (IEC 61851's 6 A)."""

EvseKey = tuple[str, int]


def lowest_limits(circuit: Circuit) -> tuple[tuple[float, float, float], float | None]:
    """The lowest limit per phase (A) and in total (W) the circuit ever has.

    The base limits, every step, and every limit its profile names (A for each
    phase, W for the total), whether or not they are in force at the same time.
    """
    amps = list(circuit.amps)
    watts = circuit.watts
    for step in circuit.steps:
        if step.amps is not None:
            amps = [min(a, b) for a, b in zip(amps, step.amps, strict=True)]
        if step.watts is not None:
            watts = step.watts if watts is None else min(watts, step.watts)
    if circuit.profile is not None:
        for sched in circuit.profile.charging_schedule:
            values = [
                v
                for p in sched.charging_schedule_period
                for v in (p.limit, p.limit_l2, p.limit_l3)
                if v is not None
            ]
            if not values:
                continue
            low = max(0.0, min(values))
            if sched.charging_rate_unit is ChargingRateUnit.A:
                amps = [min(a, low) for a in amps]
            else:
                watts = low if watts is None else min(watts, low)
    return (amps[0], amps[1], amps[2]), watts


def _profile_amps(profile: ChargingProfile, voltage: float) -> float:
    """The highest current a profile allows on a phase (W counted on one phase: the worst)."""
    most = 0.0
    for sched in profile.charging_schedule:
        for p in sched.charging_schedule_period:
            for v in (p.limit, p.limit_l2, p.limit_l3):
                if v is None:
                    continue
                amps = v if sched.charging_rate_unit is ChargingRateUnit.A else v / voltage
                most = max(most, amps)
    return most


def pinned_amps(
    pile: Pile,
    site: Site,
    after: int | None = None,
    store: ProfileStore | None = None,
) -> dict[int, tuple[float, int]]:
    """Per EVSE, the most a TxProfile the pile holds for a known session lets it draw.

    Such a profile overrides every TxDefaultProfile while its session runs, so a
    plan cannot lower it; the EVSE is counted at this limit (A per phase, at most
    its hardware and the vehicle's limit) on the vehicle's phases. With
    ``after``, only sessions still there after that instant count. ``store`` is
    ``pile_store(pile, site)[0]`` when the caller has it (a send plan computes it once).
    """
    if store is None:
        store, _ = pile_store(pile, site)
    held = [e for e in store if e.purpose is ChargingProfilePurpose.TX_PROFILE]
    if not held:
        return {}  # no TxProfile held: nothing pinned (and no session ids to work out)
    sessions: dict[str, tuple[Evse, Session]] = {
        session_transaction_id(pile, evse, s): (evse, s)
        for evse in pile.evses
        for s in evse.sessions
    }
    out: dict[int, tuple[float, int]] = {}
    for entry in held:
        found = sessions.get(entry.bound_transaction_id or "")
        if found is None:
            continue
        evse, session = found
        if entry.evse_id != evse.id or (after is not None and to_epoch(session.leave) <= after):
            continue
        vehicle = session.max_amps if session.max_amps is not None else math.inf
        amps = min(evse.max_amps, vehicle, _profile_amps(entry.profile, site.voltage))
        phases = min(session.phases, evse.phases)
        was = out.get(evse.id, (0.0, 0))
        out[evse.id] = (max(was[0], amps), max(was[1], phases))
    return out


def _floor_tenth(value: float) -> float:
    return math.floor(value * 10.0 + 5e-7) / 10.0


def _loaded_phases(pile: Pile, evse: Evse) -> tuple[int, ...]:
    """The circuit phases an EVSE can load: all three, or its pile's L1 for a 1-phase EVSE."""
    return tuple(pile.circuit_phase(p) for p in range(evse.phases))


def safe_tails(
    site: Site,
    after: int | None = None,
    stores: Mapping[str, tuple[ProfileStore, StationConfig]] | None = None,
) -> dict[EvseKey, float]:
    """Every EVSE's safe tail (A per phase), see the module docstring.

    ``after`` is where the tail begins (the plan's window end): held TxProfiles of
    sessions that are gone by then reserve nothing. ``stores`` are the piles'
    ``pile_store(pile, site)`` by pile id when the caller has them (a send plan
    computes them once for its tails and for what the piles hold).
    """
    paths = site.paths()
    lowest = {c.id: lowest_limits(c) for c, _ in site.grid.walk()}
    volts = site.voltage
    reserved: dict[tuple[str, int], float] = defaultdict(float)  # (circuit, phase or -1)
    for pile in site.piles:
        store = stores[pile.id][0] if stores is not None else None
        for held, held_phases in pinned_amps(pile, site, after, store).values():
            for circuit in paths[pile.circuit]:
                for p in range(held_phases):
                    reserved[(circuit, pile.circuit_phase(p))] += held
                reserved[(circuit, -1)] += held * volts * held_phases
    count: dict[tuple[str, int], float] = defaultdict(float)
    members: list[tuple[Pile, Evse]] = [(p, e) for p in site.piles for e in p.evses]
    for pile, evse in members:
        phases = _loaded_phases(pile, evse)
        for circuit in paths[pile.circuit]:
            for p in phases:
                count[(circuit, p)] += 1
            count[(circuit, -1)] += volts * len(phases)
    tails: dict[EvseKey, float] = {}
    for pile, evse in members:
        share = evse.max_amps
        for circuit in paths[pile.circuit]:
            amps, watts = lowest[circuit]
            for p in _loaded_phases(pile, evse):
                share = min(share, (amps[p] - reserved[(circuit, p)]) / count[(circuit, p)])
            if watts is not None:
                share = min(share, (watts - reserved[(circuit, -1)]) / count[(circuit, -1)])
        share = _floor_tenth(max(0.0, share))
        least = max((s.min_amps for s in evse.sessions), default=DEFAULT_MIN_AMPS)
        tails[(pile.id, evse.id)] = share if share >= least else 0.0
    return tails

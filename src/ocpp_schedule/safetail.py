"""The safe tail of a send plan: the limit every EVSE keeps after the plan's window.

A plan is computed for a window; the profiles it sends outlive it. Whatever
the profiles say after their last slot is what the piles do until the next
plan arrives, with vehicles still plugged in, vehicles arriving that nobody
announced, and at any time of any day. So the last period of every profile a
plan sends is open-ended and holds each EVSE's *safe tail*: a limit such that
every EVSE of the site at its tail at once, all on every phase it is wired for,
keeps every circuit within the lowest limits it ever has (its base limits,
every daily step, every limit its external profile names), phase and power.

The tail is a static equal share of what is left of each circuit once the
TxProfiles the piles hold for known sessions are counted at their highest
limit (those override any TxDefault the plan sends, so their EVSEs are
reserved at that limit instead). A tail below the minimum current of the
EVSE's sessions (6 A when none is known) is 0: a vehicle is paused rather than
given a trickle. Tails are rounded down to 0.1 A.
"""

from __future__ import annotations

import math
from collections import defaultdict

from .enums import ChargingProfilePurpose, ChargingRateUnit
from .models import ChargingProfile
from .site import Circuit, Evse, Pile, Site
from .timelines import pile_store

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


def pinned_amps(pile: Pile, site: Site) -> dict[int, float]:
    """Per EVSE, the most a TxProfile the pile holds (for a known session) lets it draw.

    Such a profile overrides every TxDefaultProfile while its session runs, so a
    plan cannot lower it; the EVSE is counted at this limit (at most its hardware).
    """
    store, _ = pile_store(pile, site)
    hardware = {e.id: e.max_amps for e in pile.evses}
    out: dict[int, float] = {}
    for entry in store:
        if entry.purpose is not ChargingProfilePurpose.TX_PROFILE:
            continue
        if entry.evse_id not in hardware:
            continue
        amps = min(hardware[entry.evse_id], _profile_amps(entry.profile, site.voltage))
        out[entry.evse_id] = max(out.get(entry.evse_id, 0.0), amps)
    return out


def _floor_tenth(value: float) -> float:
    return math.floor(value * 10.0 + 5e-7) / 10.0


def _loaded_phases(pile: Pile, evse: Evse) -> tuple[int, ...]:
    """The circuit phases an EVSE can load: all three, or its pile's L1 for a 1-phase EVSE."""
    return tuple(pile.circuit_phase(p) for p in range(evse.phases))


def safe_tails(site: Site) -> dict[EvseKey, float]:
    """Every EVSE's safe tail (A per phase), see the module docstring."""
    paths = site.paths()
    lowest = {c.id: lowest_limits(c) for c, _ in site.grid.walk()}
    volts = site.voltage
    pinned: dict[EvseKey, float] = {}
    for pile in site.piles:
        for evse_id, amps in pinned_amps(pile, site).items():
            pinned[(pile.id, evse_id)] = amps
    reserved: dict[tuple[str, int], float] = defaultdict(float)  # (circuit, phase or -1)
    count: dict[tuple[str, int], float] = defaultdict(float)
    members: list[tuple[Pile, Evse]] = [(p, e) for p in site.piles for e in p.evses]
    for pile, evse in members:
        key = (pile.id, evse.id)
        phases = _loaded_phases(pile, evse)
        for circuit in paths[pile.circuit]:
            if key in pinned:
                for p in phases:
                    reserved[(circuit, p)] += pinned[key]
                reserved[(circuit, -1)] += pinned[key] * volts * len(phases)
            else:
                for p in phases:
                    count[(circuit, p)] += 1
                count[(circuit, -1)] += volts * len(phases)
    tails: dict[EvseKey, float] = {}
    for pile, evse in members:
        key = (pile.id, evse.id)
        if key in pinned:
            tails[key] = _floor_tenth(pinned[key])
            continue
        share = evse.max_amps
        for circuit in paths[pile.circuit]:
            amps, watts = lowest[circuit]
            for p in _loaded_phases(pile, evse):
                share = min(share, (amps[p] - reserved[(circuit, p)]) / count[(circuit, p)])
            if watts is not None:
                share = min(share, (watts - reserved[(circuit, -1)]) / count[(circuit, -1)])
        share = _floor_tenth(max(0.0, share))
        least = max((s.min_amps for s in evse.sessions), default=DEFAULT_MIN_AMPS)
        tails[key] = share if share >= least else 0.0
    return tails

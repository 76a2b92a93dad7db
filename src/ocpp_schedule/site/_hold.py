"""The controller's hysteresis (docs/semantics.md CT13): keep what a pile holds when a re-plan
changes an EVSE's limits only later than the next ``hold`` seconds.

A deadline-aware re-plan after one arrival and one departure moves energy across slots for
half a large site, mostly hours ahead (docs/performance.md, helper SENDFAST2). A controller
that re-plans every few minutes never lets those later limits take effect: before they
begin, a newer plan replaces them. Sending them costs the CSMS a payload per profile and the
library the building, installing and replay of each. :func:`held` keeps, per EVSE, the
limits its pile holds from the previous plan (so :func:`~ocpp_schedule.send_plan` with
``only_changed`` sends nothing for it) when:

- they equal the new allocation's at every slot that starts before ``at + hold`` (the
  limits in force until then are the new plan's, to the ampere and phase);
- the previous plan covers the same window end, and its limits are constant on every new
  slot (so the held limits are rows of this allocation); an EVSE whose safe tail changed
  is still sent (``send_plan`` compares the tails too), with its held limits;
- at every slot they give current only where the new allocation may (a session there, not
  paused, not pinned by a held TxProfile, at most the EVSE's cap), else they are equal;
- every circuit stays within every phase and power limit at every slot with them
  (checked; an EVSE whose held limits would break one is not kept, largest excess first).

The allocation returned is the new one with the kept EVSEs' rows and every circuit's loads
recomputed (:func:`~ocpp_schedule.site._allocation._circuit_loads`); if it is not within
every limit (it is, by the greedy above; checked again after the loads are summed in the
allocation's own order), the new allocation is returned unchanged. The send plan's own
post-condition (every prefix and the tail replayed through the station rules and the
engine) runs on the result either way.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import replace

from ._allocation import Allocation, EvseKey, _circuit_loads

__all__ = ["held"]

_TOLERANCE = 1e-6
"""As :meth:`Allocation.overloads`: a load more than this above a limit is over it."""

Row = tuple[tuple[float, ...], tuple[int, ...]]


def held(allocation: Allocation, previous: Allocation, at: int, hold: int) -> Allocation:
    """The allocation with every EVSE that may keep its held limits given them (CT13)."""
    if previous.end_epoch != allocation.end_epoch or not previous.start_epoch <= at:
        return allocation
    aligned = _aligned(allocation, previous, at)
    slot_of = {t: k for k, t in enumerate(allocation.boundaries)}
    until = bisect_left(allocation.boundaries, at + hold)  # the slots that start before it
    rows: dict[EvseKey, Row] = {}
    for key in allocation.amps:
        if key in previous.amps:
            if aligned is None:
                row = _expanded(allocation, previous.evse_periods(key), slot_of)
            else:
                row = (previous.amps[key][aligned:], previous.phases[key][aligned:])
            if row is not None and _may_keep(allocation, key, row, until):
                rows[key] = row
    if not rows:
        return allocation
    _drop_unsafe(allocation, rows)
    if not rows:
        return allocation
    amps = dict(allocation.amps)
    phases = dict(allocation.phases)
    for key, (row_amps, row_phases) in rows.items():
        if aligned is not None and 0.0 in row_amps:
            # The held limits exactly as the pile holds them (a zero's sign as in the
            # previous plan's merged pieces): the slices equal them but for that sign.
            exact = _expanded(allocation, previous.evse_periods(key), slot_of)
            if exact is not None:  # (it is: no piece changes within a new slot)
                row_amps, row_phases = exact
        amps[key], phases[key] = row_amps, row_phases
    slots = len(allocation.boundaries) - 1
    loads = _circuit_loads(allocation.site, slots, amps, phases, allocation.phase_map)
    kept = replace(allocation, amps=amps, phases=phases, loads=loads)
    return allocation if kept.overloads(_TOLERANCE) else kept


def _aligned(allocation: Allocation, previous: Allocation, at: int) -> int | None:
    """The previous slot ``j`` that holds ``at`` when the previous slots from ``j + 1`` on are
    the new slots from 1 on (the slot grid of B19, same end), else None.

    Then an EVSE's held limits on the new slots are its previous rows from ``j`` on (what
    :func:`_expanded` makes of its merged pieces, equal value by value): no piece changes
    within a new slot.
    """
    new, old = allocation.boundaries, previous.boundaries
    j = bisect_right(old, at) - 1
    if j < 0 or len(old) - j != len(new) or old[j + 1 :] != new[1:]:
        return None
    return j


def _expanded(
    allocation: Allocation, old: list[tuple[int, int, float, int]], slot_of: dict[int, int]
) -> Row | None:
    """The held limits (``old``: the previous allocation's pieces, same window end) as rows of
    ``allocation``, or None when they change within one of its slots."""
    bounds = allocation.boundaries
    out_amps: list[float] = []
    out_phases: list[int] = []
    for a, b, amps, phases in old:
        if b <= bounds[0]:
            continue
        first, last = slot_of.get(max(a, bounds[0])), slot_of.get(b)
        if first is None or last is None:
            return None  # the held limits change within a slot
        out_amps.extend([amps] * (last - first))
        out_phases.extend([phases] * (last - first))
    if len(out_amps) != len(bounds) - 1:
        return None
    return tuple(out_amps), tuple(out_phases)


def _may_keep(allocation: Allocation, key: EvseKey, row: Row, until: int) -> bool:
    """Whether the EVSE may keep its held limits ``row``.

    Not when they are the same as the new rows (nothing to keep), differ in a slot that starts
    before ``at + hold`` (the first ``until`` slots), or give current where the new
    allocation may not (no session, paused, pinned, above the cap) and differ there.
    """
    new = (allocation.amps[key], allocation.phases[key])
    if row == new:
        return False
    out_amps, out_phases = row
    new_amps, new_phases = new
    if out_amps[:until] != new_amps[:until] or out_phases[:until] != new_phases[:until]:
        return False
    caps, sessions = allocation.caps[key], allocation.sessions[key]
    paused, pinned = allocation.paused[key], allocation.pinned.get(key)
    for k in range(until, len(out_amps)):
        amps = out_amps[k]
        if amps == new_amps[k] and out_phases[k] == new_phases[k]:
            continue
        if sessions[k] < 0 or paused[k] or (pinned is not None and pinned[k]) or amps > caps[k]:
            return False
    return True


def _drop_unsafe(allocation: Allocation, rows: dict[EvseKey, Row]) -> None:
    """Remove from ``rows`` the EVSEs whose held limits would put a circuit over a limit.

    The loads with every held row are the allocation's plus each held row's difference from
    its new row; at the first slot and circuit over a limit, the kept EVSE under it adding
    the most there is dropped (its difference taken back), until none is over.
    """
    site = allocation.site
    paths = site.paths()
    circuit_of = {p.id: p.circuit for p in site.piles}
    slots = len(allocation.boundaries) - 1
    loads = {
        c: [list(column) for column in zip(*rows_, strict=True)]
        for c, rows_ in allocation.loads.items()
    }
    for c, columns in loads.items():
        if not columns:
            loads[c] = [[0.0] * slots for _ in range(3)]

    def add(key: EvseKey, sign: float) -> None:
        new_amps, new_phases = allocation.amps[key], allocation.phases[key]
        row_amps, row_phases = rows[key]
        wiring = allocation.phase_map[key]
        differ = [
            k for k in range(slots) if row_amps[k] != new_amps[k] or row_phases[k] != new_phases[k]
        ]
        for node in paths[circuit_of[key[0]]]:
            columns = loads[node]
            for k in differ:
                for p in range(row_phases[k]):
                    columns[wiring[p]][k] += sign * row_amps[k]
                for p in range(new_phases[k]):
                    columns[wiring[p]][k] -= sign * new_amps[k]

    for key in rows:
        add(key, 1.0)
    while rows:
        over = _first_over(allocation, loads)
        if over is None:
            return
        circuit, k = over
        under = [key for key in rows if circuit in paths[circuit_of[key[0]]]]
        if not under:
            rows.clear()  # not from a held row: keep nothing (the allocation is checked)
            return
        worst = max(under, key=lambda key: _excess(allocation, rows[key], key, k))
        add(worst, -1.0)
        del rows[worst]


def _excess(allocation: Allocation, row: Row, key: EvseKey, k: int) -> float:
    """How much more current (A summed over phases) the held row gives at slot ``k``."""
    return row[0][k] * row[1][k] - allocation.amps[key][k] * allocation.phases[key][k]


def _first_over(
    allocation: Allocation, loads: dict[str, list[list[float]]]
) -> tuple[str, int] | None:
    """The first (circuit, slot) over a phase or power limit, as :meth:`Allocation.overloads`."""
    volts = allocation.site.voltage
    for circuit, columns in loads.items():
        limits = allocation.limits[circuit]
        watts = allocation.watt_limits[circuit]
        for k in range(len(limits)):
            total = 0.0
            for p in range(3):
                load = columns[p][k]
                total += load
                if load > limits[k][p] + _TOLERANCE:
                    return circuit, k
            limit_w = watts[k]
            if limit_w is not None and total * volts > limit_w + _TOLERANCE * volts:
                return circuit, k
    return None

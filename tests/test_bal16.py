"""balance's fast paths of helper BAL16 (issues 16, 17) give exactly the reference result.

- The post-condition checks bounds over whole pieces first (:func:`_evse_clear`,
  :func:`_circuit_clear`, :func:`_no_overloads`) and slot by slot only where a bound fails:
  on balanced allocations, and on allocations with broken limits, phases and circuit loads,
  it refuses exactly what the slot-by-slot check refuses, with the same message
  (``_FAST_VERIFY`` False is the reference).
- The EVSE's entries per slot found by bisection (:func:`_aggregate_evse`) equal them worked
  out slot by slot.
- The planning problem built EVSE by EVSE (:func:`_problem`) and the circuit loads added a
  column at a time (:func:`_circuit_loads`) are compared with their per-cell references in
  ``tests/test_balance_runs.py``; here, the whole Allocation of ``balance`` with and without
  the fast post-condition, and a crowded site's digest.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies_site import T0, _tx_default, hostile_sites, sites, sites_with_needs

from ocpp_schedule import EqualShare, QueryError, SafetyError, Site, balance
from ocpp_schedule.site import Circuit, Evse, Pile, Session
from ocpp_schedule.site import _allocation as alloc
from ocpp_schedule.site._allocation import Allocation
from ocpp_schedule.site._timelines import Piece

HOUR = 3600
SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
SITES = st.one_of(sites(), sites_with_needs(), hostile_sites())
RESOLUTIONS = st.sampled_from([None, 300, 900])


def _captured(site: Site, resolution: int | None, policy: Any = None) -> Any:
    """The balanced allocation and what its post-condition read, or None when refused."""
    captured: list[Any] = []
    real = alloc._verify

    def keep(allocation: Allocation, evse_pieces: Any, circuit_pieces: Any, meta: Any) -> None:
        captured.append((allocation, evse_pieces, circuit_pieces, meta))
        real(allocation, evse_pieces, circuit_pieces, meta)

    try:
        with mock.patch.object(alloc, "_verify", keep):
            balance(site, start=T0, duration=6 * HOUR, resolution=resolution, policy=policy)
    except (SafetyError, QueryError):
        return None
    return captured[-1]


def _verdict(fast: bool, allocation: Allocation, evse_pieces: Any, circuits: Any, meta: Any) -> Any:
    """None when the post-condition passes, else its message."""
    with mock.patch.object(alloc, "_FAST_VERIFY", fast):
        try:
            alloc._verify(allocation, evse_pieces, circuits, meta)
        except SafetyError as error:
            return (error.field, str(error))
    return None


def _broken(allocation: Allocation, data: Any) -> Allocation:
    """The allocation with one random run of slots broken: an EVSE's limits, its phases or
    pinned flags, or a circuit's loads (scaled or shifted, by a little or a lot)."""
    slots = len(allocation.boundaries) - 1
    first = data.draw(st.integers(0, slots - 1))
    last = data.draw(st.integers(first, slots - 1))
    span = last + 1 - first
    what = data.draw(st.sampled_from(["amps", "phases", "pinned", "loads"]))
    fields = dict(allocation.__dict__)
    if what == "loads":
        circuit = data.draw(st.sampled_from(sorted(allocation.loads)))
        factor = data.draw(st.sampled_from([1.0, 1 + 1e-10, 1 + 1e-8, 1.000001, 1.01, 2.0]))
        shift = data.draw(st.sampled_from([0.0, 1e-10, 1e-6, 0.05, 1.0, 50.0, -1.0]))
        phase = data.draw(st.sampled_from([0, 1, 2, None]))
        # or just over (or at) the slot's limit: by less than, about, or more than a tolerance
        near = data.draw(st.sampled_from([None, 0.0, 1e-10, 5e-7, 2e-6, 1e-5, 1e-3]))
        rows = list(allocation.loads[circuit])
        limits = allocation.limits[circuit]
        for k in range(first, last + 1):
            rows[k] = tuple(  # type: ignore[assignment]
                (x * factor + shift if near is None else limits[k][p] + near)
                if phase in (None, p)
                else x
                for p, x in enumerate(rows[k])
            )
        watts = allocation.watt_limits[circuit]
        over = data.draw(st.sampled_from([None, 0.0, 1e-10, 1e-4, 5e-4, 1e-3, 1.0]))
        if over is not None:  # or a total just over (or at) the slot's power limit
            volts = allocation.site.voltage
            for k in range(first, last + 1):
                if watts[k] is not None:
                    third = (watts[k] / volts + over) / 3  # type: ignore[operator]
                    rows[k] = (third, third, third)
        fields["loads"] = {**allocation.loads, circuit: tuple(rows)}
        return Allocation(**fields)
    key = data.draw(st.sampled_from(sorted(allocation.amps)))
    present = [k for k, i in enumerate(allocation.sessions[key]) if i >= 0]
    if present and data.draw(st.booleans()):  # a run that starts where a vehicle is
        first = data.draw(st.sampled_from(present))
        last = data.draw(st.integers(first, slots - 1))
        span = last + 1 - first
    row = list(getattr(allocation, what)[key])
    if what == "amps":
        menu = [0.0, 0.05, 1.0, 5.9, 6.0, 16.0, 32.0, 32.1, 80.0, -1.0]
    elif what == "phases":
        menu = [0, 1, 2, 3]
    else:
        menu = [False, True]
    value = data.draw(st.sampled_from(menu))
    if what == "amps" and data.draw(st.booleans()):
        # relative to the EVSE's own limit in the run's first slot: just over it, or under
        factor = data.draw(st.sampled_from([0.5, 0.99, 1.0, 1 + 1e-10, 1 + 1e-8, 1.01, 1.2]))
        value = allocation.caps[key][first] * factor
    row[first : last + 1] = [value] * span
    fields[what] = {**getattr(allocation, what), key: tuple(row)}
    return Allocation(**fields)


@SETTINGS
@given(SITES, RESOLUTIONS, st.data())
def test_property_the_fast_post_condition_refuses_what_the_slot_check_refuses(
    site: Site, resolution: int | None, data: Any
) -> None:
    """Bounds over whole pieces, then slot by slot where a bound fails, give the verdict (and
    the message naming the first broken slot) of the slot-by-slot check, on balanced and on
    broken allocations."""
    captured = _captured(site, resolution, data.draw(st.sampled_from([None, EqualShare()])))
    if captured is None:
        return
    allocation, evse_pieces, circuits, meta = captured
    assert _verdict(True, allocation, evse_pieces, circuits, meta) is None
    for _ in range(3):
        broken = _broken(allocation, data)
        expected = _verdict(False, broken, evse_pieces, circuits, meta)
        assert _verdict(True, broken, evse_pieces, circuits, meta) == expected


@SETTINGS
@given(SITES, RESOLUTIONS, st.data())
def test_property_the_fast_bounds_are_never_looser_than_the_slot_check(
    site: Site, resolution: int | None, data: Any
) -> None:
    """Each bound says "clear" only where its slot-by-slot check finds nothing (checked on
    its own, so a loose bound cannot hide behind another check)."""
    captured = _captured(site, resolution)
    if captured is None:
        return
    allocation, evse_pieces, circuits, meta = captured
    for _ in range(3):
        broken = _broken(allocation, data)
        bounds = broken.boundaries
        slots = broken.slots()
        for key, pieces in evse_pieces.items():
            evse = meta[key][1]
            if alloc._evse_clear(broken, key, pieces, evse, bounds):
                alloc._verify_evse(broken, key, pieces, evse, slots)  # must not raise
        for circuit, limits in circuits.items():
            if alloc._circuit_clear(broken.loads[circuit], limits, bounds, site.voltage):
                only = {circuit: limits}
                with mock.patch.object(alloc, "_FAST_VERIFY", False):
                    try:
                        alloc._verify(broken, {}, only, meta)
                    except SafetyError as error:
                        assert error.field != circuit
        if alloc._no_overloads(broken):
            assert broken.overloads() == []


def _crowded(evses: int) -> Site:
    """One feeder, over-subscribed, vehicles coming and going every 10 minutes."""
    piles = tuple(
        Pile(
            id=f"p{n}",
            circuit="f",
            phase_rotation=("L1L2L3", "L2L3L1", "L3L1L2")[n % 3],  # type: ignore[arg-type]
            evses=(
                Evse(
                    id=1,
                    sessions=(
                        Session(
                            arrive=T0 + timedelta(minutes=10 * (n % 7)),
                            leave=T0 + timedelta(minutes=70 + 25 * (n % 11)),
                            phases=1 if n % 4 == 0 else 3,
                            max_amps=None if n % 3 else 16.0,
                        ),
                    ),
                ),
            ),
        )
        for n in range(evses)
    )
    grid = Circuit(id="g", amps=400.0, children=(Circuit(id="f", amps=250.0),))
    return Site(grid=grid, piles=piles)


def test_the_fast_post_condition_gives_the_same_allocation_on_a_crowded_site() -> None:
    """The whole Allocation (every field) is the same with the fast post-condition or without."""
    site = _crowded(60)
    for policy in (None, EqualShare()):
        for resolution in (None, 300, 900):
            fast = balance(site, start=T0, duration=4 * HOUR, resolution=resolution, policy=policy)
            with mock.patch.object(alloc, "_FAST_VERIFY", False):
                slow = balance(
                    site, start=T0, duration=4 * HOUR, resolution=resolution, policy=policy
                )
            assert fast == slow
            assert fast.overloads() == []


def test_a_broken_circuit_run_is_named_at_its_first_slot() -> None:
    """A circuit's loads raised over a run of slots: the fast check falls back and names the
    run's first slot, as the slot-by-slot check does."""
    site = _crowded(30)
    captured = _captured(site, 900)
    assert captured is not None
    allocation, evse_pieces, circuits, meta = captured
    rows = list(allocation.loads["f"])
    rows[5:9] = [(300.0, 300.0, 300.0)] * 4
    broken = Allocation(**{**allocation.__dict__, "loads": {**allocation.loads, "f": tuple(rows)}})
    fast = _verdict(True, broken, evse_pieces, circuits, meta)
    assert fast == _verdict(False, broken, evse_pieces, circuits, meta)
    assert fast is not None and fast[0] == "f"
    assert alloc.from_epoch(broken.boundaries[5]).isoformat() in fast[1]


def test_a_limit_over_a_profile_below_the_evse_maximum_is_refused_by_the_fast_check() -> None:
    """A limit within the EVSE's maximum but over its profile's lower limit in one slot:
    the piece's bound fails, and the slot check names that slot."""
    site = _crowded(30)
    # 10 A for the first three hours, then 32 A (the EVSEs' maximum)
    piles = tuple(
        p.model_copy(update={"requests": (_tx_default(1, 0, [10, 32]),)}) for p in site.piles
    )
    site = site.model_copy(update={"piles": piles})
    captured = _captured(site, 900)
    assert captured is not None
    allocation, evse_pieces, circuits, meta = captured
    key = next(k for k, row in allocation.caps.items() if 0 < min(c for c in row if c > 0) < 32)
    k = next(k for k, c in enumerate(allocation.caps[key]) if 0 < c < 32)
    row = list(allocation.amps[key])
    row[k] = allocation.caps[key][k] * 1.01
    broken = Allocation(**{**allocation.__dict__, "amps": {**allocation.amps, key: tuple(row)}})
    assert not alloc._evse_clear(broken, key, evse_pieces[key], meta[key][1], broken.boundaries)
    fast = _verdict(True, broken, evse_pieces, circuits, meta)
    assert fast is not None and fast == _verdict(False, broken, evse_pieces, circuits, meta)


def _aggregate_per_slot(pieces: list[Piece], slots: list[tuple[int, int]]) -> list[Any]:
    """The entries worked out slot by slot, every piece that meets a slot read."""
    out = []
    for a, b in slots:
        meeting = [p for p in pieces if p.end > a and p.start < b]
        if not meeting:
            out.append(alloc._IDLE)
            continue
        sessions: list[int] = []
        for p in meeting:
            if p.session not in sessions:
                sessions.append(p.session)
        out.append(
            alloc._SlotEvse(
                min(p.cap for p in meeting),
                max(p.phases for p in meeting),
                sessions[0],
                tuple(sessions),
                any(p.pinned for p in meeting),
                max(0.0, *(p.cap for p in meeting)),
            )
        )
    return out


@st.composite
def _pieces_and_slots(draw: Any) -> tuple[list[Piece], list[tuple[int, int]]]:
    """Sorted, disjoint pieces with gaps, and slots over them (some edges shared)."""
    pieces = []
    t = draw(st.integers(-50, 50))
    for _ in range(draw(st.integers(0, 6))):
        t += draw(st.sampled_from([0, 0, 5, 30]))
        length = draw(st.integers(1, 120))
        pieces.append(
            Piece(
                t,
                t + length,
                draw(st.sampled_from([0.0, 6.0, 10.0, 16.0, 32.0])),
                draw(st.integers(1, 3)),
                draw(st.integers(0, 2)),
                draw(st.booleans()),
            )
        )
        t += length
    edges = sorted(
        set(draw(st.lists(st.integers(-60, t + 60), min_size=2, max_size=30)))
        | {p.start for p in pieces if draw(st.booleans())}
    )
    if len(edges) < 2:
        edges = [-60, t + 60]
    return pieces, list(itertools.pairwise(edges))


@settings(max_examples=400, deadline=None)
@given(_pieces_and_slots())
def test_property_entries_by_bisection_equal_them_slot_by_slot(case: Any) -> None:
    """Idle stretches and slots a piece covers alone, found by bisection, give every slot's
    entry as working it out slot by slot does; a piece's slots share one entry."""
    pieces, slots = case
    fast = alloc._aggregate_evse(pieces, slots)
    assert fast == _aggregate_per_slot(pieces, slots)
    assert fast == alloc._aggregate_evse(pieces, slots, [b for _, b in slots])
    for k in range(1, len(slots)):
        if fast[k] == fast[k - 1] and fast[k].sessions and len(fast[k].sessions) == 1:
            inside = [p for p in pieces if p.start <= slots[k - 1][0] and slots[k][1] <= p.end]
            if inside:
                assert fast[k] is fast[k - 1]

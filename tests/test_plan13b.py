"""The deadline balance's fast paths of helper PLAN13B (issues 13, 16) give exactly the
reference result.

- :func:`_present` (the slots within one stay found by bisection, their widths copied)
  equals :func:`_present_each`, slot by slot.
- :func:`pile_transactions`, made once per pile, give the same store and timelines as the
  transactions each function made for itself.
- :func:`_relevant` (kept per store and EVSE) is the :class:`_Relevant` made afresh.
- The post-condition's check of a limit between 0 and the minimum (the least nonzero
  limit, found in C) is the generator it replaced; the phases loaded picked with
  ``compress`` are the comprehension's.
- The whole Allocation, with every reference path put back at once (per-slot presence,
  transactions and entries made per call, runs found per use, ``_active`` computed), is
  the same on random sites, every resolution, the default policy and EqualShare.
"""

from __future__ import annotations

import math
from datetime import timedelta
from itertools import compress, pairwise
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies_site import T0, hostile_sites, sites, sites_with_needs

from ocpp_schedule import EqualShare, QueryError, SafetyError, Site, balance
from ocpp_schedule.site import Circuit, Evse, Pile, Session
from ocpp_schedule.site import _allocation as alloc
from ocpp_schedule.site import _timelines as timelines
from ocpp_schedule.site._allocation import Allocation

HOUR = 3600
SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
SITES = st.one_of(sites(), sites_with_needs(), hostile_sites())
RESOLUTIONS = st.sampled_from([None, 300, 900])
POLICIES = st.sampled_from([None, EqualShare()])


# ------------------------------------------------------------------ presence per run


@st.composite
def runs_and_stays(draw: Any) -> tuple[tuple[int, ...], int, int, list[tuple[int, int]]]:
    """Slot edges (uneven widths), a run ``[first, end)`` of them and one to three stays
    that may start or end anywhere (inside a slot, on an edge, outside the run)."""
    widths = draw(st.lists(st.integers(1, 900), min_size=1, max_size=12))
    start = draw(st.integers(0, 5000))
    edges = [start]
    for w in widths:
        edges.append(edges[-1] + w)
    slots = len(widths)
    first = draw(st.integers(0, slots - 1))
    end = draw(st.integers(first + 1, slots))
    span = st.integers(start - 1000, edges[-1] + 1000)
    stays = []
    for _ in range(draw(st.integers(1, 3))):
        a = draw(st.one_of(span, st.sampled_from(edges)))
        b = draw(st.one_of(span, st.sampled_from(edges)))
        stays.append((min(a, b), max(a, b) + draw(st.integers(0, 1))))
    return tuple(edges), first, end, stays


@settings(max_examples=500, deadline=None)
@given(runs_and_stays())
def test_property_present_by_bisection_is_present_slot_by_slot(
    case: tuple[tuple[int, ...], int, int, list[tuple[int, int]]],
) -> None:
    """Every slot of the run gets the seconds present it got slot by slot (one stay: the
    slots within it copied from the widths; several: slot by slot)."""
    boundaries, first, end, stays = case
    widths = [b - a for a, b in pairwise(boundaries)]
    got = alloc._present(boundaries, widths, first, end, stays)
    want = []
    for k in range(first, end):
        a, b = boundaries[k], boundaries[k + 1]
        total = sum(max(0, min(b, leave) - max(a, arrive)) for arrive, leave in stays)
        want.append(min(total, b - a))
    assert got == want


def test_present_copies_the_widths_within_the_stay_and_works_out_its_edges() -> None:
    """A stay from inside slot 1 to inside slot 4: slots 2 and 3 whole (copied), 1 and 4 in
    part; slot 0 and 5 not at all."""
    boundaries = (0, 100, 200, 300, 400, 500, 600)
    widths = [100] * 6
    assert alloc._present(boundaries, widths, 0, 6, [(150, 420)]) == [0, 50, 100, 100, 20, 0]
    # Exactly on the edges: every slot of the stay whole.
    assert alloc._present(boundaries, widths, 1, 5, [(100, 500)]) == [100, 100, 100, 100]


# ------------------------------------------------------- transactions once per pile


@SETTINGS
@given(SITES)
def test_property_transactions_made_once_give_the_same_store_and_timelines(site: Site) -> None:
    """``pile_store`` and ``evse_timeline`` given the pile's transactions return what they
    return when each makes its own (the same kept store, equal pieces)."""
    start = int(T0.timestamp())
    for pile in site.piles:
        transactions = timelines.pile_transactions(pile)
        assert transactions == tuple(
            tuple(timelines.session_transaction(pile, e, s) for s in e.sessions) for e in pile.evses
        )
        try:
            mine = timelines.pile_store(pile, site, transactions)
            theirs = timelines.pile_store(pile, site)
        except (QueryError, SafetyError):
            continue
        assert mine[0] == theirs[0] and mine[1] == theirs[1]
        store, config = mine
        for evse, own in zip(pile.evses, transactions, strict=True):
            got = timelines.evse_timeline(
                pile,
                evse,
                store,
                config,
                start,
                start + 6 * HOUR,
                pin_after=start,
                transactions=own,
            )
            want = timelines.evse_timeline(
                pile, evse, store, config, start, start + 6 * HOUR, pin_after=start
            )
            assert got == want


@SETTINGS
@given(SITES)
def test_property_relevant_entries_kept_per_store_are_made_afresh(site: Site) -> None:
    """The kept entries of an EVSE equal (and hash as) a fresh ``_Relevant``; asked again,
    the same object; another EVSE of the store has its own."""
    for pile in site.piles:
        try:
            store, _ = timelines.pile_store(pile, site)
        except (QueryError, SafetyError):
            continue
        for evse in pile.evses:
            kept = timelines._relevant(store, evse.id)
            fresh = timelines._Relevant(store, evse.id)
            assert kept == fresh and hash(kept) == hash(fresh)
            assert kept.entries == fresh.entries
            assert timelines._relevant(store, evse.id) is kept
        ids = [e.id for e in pile.evses]
        if len(ids) > 1:
            assert timelines._relevant(store, ids[0]) is not timelines._relevant(store, ids[1])


# ------------------------------------------------------------- post-condition checks

AMPS = st.lists(
    st.one_of(st.sampled_from([0.0, -0.0, 0.1, 5.9, 6.0, 6.000000001, 16.0]), st.floats(0, 64)),
    min_size=1,
    max_size=30,
)


@settings(max_examples=500, deadline=None)
@given(AMPS, st.one_of(st.sampled_from([0.0, 0.1, 6.0, 8.0]), st.floats(0, 32)))
def test_property_least_nonzero_limit_tells_a_trickle_as_the_generator_did(
    given_: list[float], minimum: float
) -> None:
    """``min(given) < minimum and min(filter(None, given)) < minimum`` (limits >= 0) is
    ``min(given) < minimum and any(0 < g < minimum for g in given)``."""
    fast = min(given_) < minimum and min(filter(None, given_), default=math.inf) < minimum
    slow = min(given_) < minimum and any(0 < g < minimum for g in given_)
    assert fast == slow


def test_a_trickle_between_zero_and_the_minimum_is_still_refused() -> None:
    """The post-condition still names a limit below the session's minimum (the fast check
    does not hide it): a crafted allocation with 3 A for a 6 A minimum."""
    session = Session(arrive=T0, leave=T0 + timedelta(hours=1), min_amps=6.0)
    site = Site(
        grid=Circuit(id="grid", amps=100),
        piles=(Pile(id="P", circuit="grid", evses=(Evse(id=1, sessions=(session,)),)),),
    )
    good = balance(site, start=T0, duration=HOUR, resolution=900)
    amps = dict(good.amps)
    amps[("P", 1)] = (0.0, 3.0, 16.0, 16.0)
    bad = Allocation(**{**good.__dict__, "amps": amps})
    start = int(T0.timestamp())
    pile = site.piles[0]
    store, config = timelines.pile_store(pile, site)
    pieces = {
        ("P", 1): timelines.evse_timeline(
            pile, pile.evses[0], store, config, start, start + HOUR, pin_after=start
        )
    }
    circuits = {
        c.id: timelines.circuit_timeline(c, site.zone, start, start + HOUR, site.voltage)
        for c, _ in site.grid.walk()
    }
    meta = {("P", 1): (pile, pile.evses[0])}
    assert not alloc._evse_clear(bad, ("P", 1), pieces[("P", 1)], pile.evses[0], bad.boundaries)
    try:
        alloc._verify(bad, pieces, circuits, meta)
    except SafetyError as error:
        assert "below the session's minimum" in str(error)
    else:
        raise AssertionError("a 3 A limit for a 6 A minimum passed the post-condition")


# ------------------------------------------------------- the whole result, reference


def _outcome(site: Site, resolution: int | None, policy: Any) -> str:
    """Every field of the Allocation as text (``repr``: -0.0 and 0.0 told apart), or the
    error."""
    try:
        return repr(
            vars(balance(site, start=T0, duration=6 * HOUR, resolution=resolution, policy=policy))
        )
    except (SafetyError, QueryError) as error:
        return f"{type(error).__name__}: {error}"


def _present_reference(
    boundaries: tuple[int, ...], widths: list[int], first: int, end: int, stays: Any
) -> list[int]:
    return alloc._present_each(boundaries, first, end, stays)


def _timeline_reference(*args: Any, transactions: Any = None, **kwargs: Any) -> Any:
    return timelines.evse_timeline(*args, **kwargs)  # makes its own transactions


@SETTINGS
@given(SITES, RESOLUTIONS, POLICIES)
def test_property_balance_equals_every_reference_path_at_once(
    site: Site, resolution: int | None, policy: Any
) -> None:
    """The whole Allocation (every field) or the error is the same with every PLAN13B path
    replaced by its reference: presence slot by slot, transactions and entries made per
    call, each EVSE's runs found where they are used."""
    fast = _outcome(site, resolution, policy)
    runs, columns = alloc._entry_runs, alloc._entry_columns
    with (
        mock.patch.object(alloc, "_present", _present_reference),
        mock.patch.object(alloc, "evse_timeline", _timeline_reference),
        mock.patch.object(timelines, "_relevant", timelines._Relevant),
        mock.patch.object(alloc, "_entry_runs", lambda slot_evses, _=None: runs(slot_evses)),
        mock.patch.object(alloc, "_entry_columns", lambda per_slot, _=None: columns(per_slot)),
    ):
        slow = _outcome(site, resolution, policy)
    assert fast == slow


ROWS = st.lists(
    st.tuples(
        st.one_of(st.sampled_from([0.0, -0.0, 0.1, 6.0]), st.floats(0, 64)),
        st.integers(0, 3),
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=500, deadline=None)
@given(ROWS)
def test_property_phases_loaded_by_compress_are_the_comprehensions(
    cells: list[tuple[float, int]],
) -> None:
    """With no negative limit (``_circuit_loads``' condition), the phases counted where a
    limit is given, picked with ``compress``, are the ones ``g > 0`` picked."""
    row = [g for g, _ in cells]
    counts = [c for _, c in cells]
    assert min(row) >= 0
    assert list(compress(counts, row)) == [c for g, c in zip(row, counts, strict=True) if g > 0]

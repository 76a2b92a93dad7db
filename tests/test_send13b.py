"""The warm send plan's fast paths (issues 13, 16, helper SEND13B) against their references.

- the loads after some EVSEs change, as the loads before plus their differences
  (``_Loads.changed``), against summing every EVSE's new pieces afresh (``_Loads.fill``):
  the same floats, cell by cell; and ``fill`` by groups of pile circuit and phases against
  the exact sum of every piece (tests/test_send16.py's reference, kept);
- a re-plan taking the previous allocation's piles' stores, safe tails and limits from the
  previous plan (``SendPlan.worked``) against working them out again: the same plan or
  the same error, and the same values; a previous plan made for another allocation object
  (or sent after its start) is not taken (or only its stores and tails);
- a re-plan taking what a pile holds from the previous plan (``_Held``) where it holds the
  same from the plan's moment on, against rebuilding it from the previous allocation
  (``HELD`` off): the same plan or error along chains of re-plans, and the same draw for
  every EVSE of every pile taken (docs/semantics.md SPX2);
"""

from __future__ import annotations

import dataclasses
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from strategies_site import hostile_sites, sites
from test_send16 import _exact, _members, _snap
from test_send_plan_speedups import REPLAN_CASES, ReplanCase, _plan, _replan, replan_cases

from ocpp_schedule import SafetyError
from ocpp_schedule.site import Site, _sendplan
from ocpp_schedule.site._plancheck import _Loads
from ocpp_schedule.site._safetail import safe_tails
from ocpp_schedule.site._sendplan import SendPlan, SendPlanError
from ocpp_schedule.site._timelines import Piece, evse_timeline


@st.composite
def _moves(draw: st.DrawFn) -> tuple[Any, list[int], list[Any], list[Any]]:
    """A site's EVSEs before (``members``) and the same EVSEs after, some with new pieces."""
    site, grid, members = draw(_members())
    _, _, others = draw(_members())
    after = []
    for k, (pile, pieces) in enumerate(members):
        if draw(st.booleans()):
            # new pieces: another draw's pieces for some EVSE, or none at all
            replacement = others[k % len(others)][1] if others else []
            after.append((pile, replacement))
        else:
            after.append((pile, pieces))
    return site, grid, members, after


@settings(max_examples=200, deadline=None)
@given(_moves())
def test_changed_is_fill_of_the_new_pieces(case: Any) -> None:
    """The loads before plus the moved EVSEs' differences equal the new pieces summed afresh
    (the same floats, also where a row becomes or stays all zero), and are exact."""
    site, grid, before, after = case
    grid = _snap(grid, [*before, *after])
    base = _Loads(site, grid)
    base.fill(before)
    moves = [
        (pile, old, new)
        for (pile, old), (_, new) in zip(before, after, strict=True)
        if old is not new
    ]
    changed = base.changed(moves)
    fresh = _Loads(site, grid)
    fresh.fill(after)
    assert changed.amps == fresh.amps
    exact = _exact(site, grid, after)
    for circuit, rows in exact.items():
        for p in range(3):
            assert changed.amps[circuit][p] == [float(x) for x in rows[p]]


def test_changed_aligns_the_denominators() -> None:
    """Loads whose caps need 2^-1 plus a change whose caps need 2^-2 (and the reverse):
    the two exact sums are brought to one denominator before they are added."""
    from test_sendwarm import _small_site

    site = _small_site()
    pile = site.piles[0]
    grid = [0, 10, 20]
    for old_cap, new_cap in ((0.5, 0.25), (0.25, 0.5), (3.0, 0.75)):
        before = [(pile, [Piece(0, 20, old_cap, 3, -1)]), (pile, [Piece(0, 10, 1.5, 1, -1)])]
        after = [(pile, [Piece(0, 20, old_cap, 3, -1)]), (pile, [Piece(0, 20, new_cap, 2, -1)])]
        base = _Loads(site, grid)
        base.fill(before)
        changed = base.changed([(pile, before[1][1], after[1][1])])
        fresh = _Loads(site, grid)
        fresh.fill(after)
        assert changed.amps == fresh.amps, (old_cap, new_cap)


# ------------------------------------------------------------------ the previous plan's work


def _worked_off(plan: SendPlan | str) -> SendPlan | str:
    """The plan without what it worked out (the reference: a re-plan works it out again)."""
    return dataclasses.replace(plan, worked=None) if isinstance(plan, SendPlan) else plan


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@REPLAN_CASES
def test_property_the_previous_plans_work_gives_the_same_plan(case: ReplanCase) -> None:
    """A re-plan with the previous plan's stores, tails and limits gives the plan (or the
    error) it gives working them out; what the plan kept equals working them out; a plan
    sent after its allocation's start lends its stores and tails, not its limits."""
    try:
        old, new, at = _replan(*case[:5])
    except (SafetyError, SendPlanError):
        return
    for first_at in (old.start_epoch, min(old.start_epoch + 900, old.end_epoch - 1)):
        first = _plan(old, at=first_at)
        if not isinstance(first, SendPlan):
            continue
        worked = first.worked
        assert worked is not None and worked.allocation is old
        assert worked.stores == _sendplan._stores(old.site)
        assert worked.tails == safe_tails(old.site, old.end_epoch)
        assert worked.limits.start == first_at
        for key in old.amps:
            assert worked.limits(key) == _sendplan._limits(old, key, first_at, worked.tails[key])
        kwargs = {"at": at, "previous": old, "only_changed": case.only_changed}
        assert _plan(new, previous_plan=first, **kwargs) == _plan(
            new, previous_plan=_worked_off(first), **kwargs
        )


def test_a_plan_for_another_allocation_lends_nothing() -> None:
    """The work is taken only from a plan made for this very allocation object: an equal
    allocation rebuilt (another object) or another one works it out again."""
    from test_sendwarm import _small_site

    from ocpp_schedule.site import balance

    site = _small_site()
    old = balance(site, start=site_start(site), duration=3600, resolution=900)
    again = dataclasses.replace(old)
    plan = _sendplan.send_plan(old)
    calls = []
    real = _sendplan._stores

    def spy(site: Any) -> Any:
        calls.append(site)
        return real(site)

    with patch.object(_sendplan, "_stores", spy):
        _sendplan.send_plan(old, at=old.start_epoch + 900, previous=old, previous_plan=plan)
        assert len(calls) == 1  # the new allocation's own stores only
        _sendplan.send_plan(old, at=old.start_epoch + 900, previous=again, previous_plan=plan)
        assert len(calls) == 3  # and the previous allocation's, worked out again


def site_start(site: Site) -> Any:
    """The first session's arrival (the small site's day)."""
    return min(s.arrive for p in site.piles for e in p.evses for s in e.sessions)


# ------------------------------------------------------------------ what the piles hold


def _chain(case: ReplanCase) -> list[SendPlan | str]:
    """A plan, a re-plan against it and two more re-plans of the new allocation a slot and
    two slots later (each against the one before): what a controller sends."""
    try:
        old, new, at = _replan(*case[:5])
    except (SafetyError, SendPlanError):
        return []
    plans: list[SendPlan | str] = [_plan(old)]
    previous, previous_plan = old, plans[0]
    for k, when in enumerate((at, at + 900, at + 1800)):
        if when >= new.end_epoch:
            break
        plan = _plan(
            new,
            at=when,
            previous=previous,
            only_changed=case.only_changed or k > 0,
            previous_plan=previous_plan if isinstance(previous_plan, SendPlan) else None,
        )
        plans.append(plan)
        if not isinstance(plan, SendPlan):
            break
        previous, previous_plan = new, plan
    return plans


@st.composite
def _tight_sites(draw: st.DrawFn) -> Site:
    """Random sites whose piles take few periods per schedule (plan profiles get their
    tail merged, differently from each anchor), some only W (every plan profile fitted)
    or with one decimal (limits rounded)."""
    from ocpp_schedule.station import StationConfig
    from ocpp_schedule.wire._enums import ChargingRateUnit

    site = draw(sites())
    piles = []
    for pile in site.piles:
        extra: dict[str, Any] = {}
        if draw(st.integers(0, 3)) == 0:
            extra["charging_schedule_allowed_charging_rate_unit"] = frozenset({ChargingRateUnit.W})
        if draw(st.booleans()):
            extra["limit_decimal_places"] = 0
        config = StationConfig(
            evse_ids=tuple(e.id for e in pile.evses),
            charging_schedule_max_periods=draw(st.integers(1, 4)),
            **extra,
        )
        piles.append(pile.model_copy(update={"config": config}))
    return site.model_copy(update={"piles": tuple(piles)})


_HELD_CASES = replan_cases(st.one_of(sites(), hostile_sites(), _tight_sites()))
"""REPLAN_CASES' inputs, a third of the sites with piles of few periods, W only or whole
amps (:func:`_tight_sites`)."""


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@_HELD_CASES
def test_property_what_the_piles_hold_gives_the_same_plans(case: ReplanCase) -> None:
    """Along a chain of re-plans, taking what each pile holds from the previous plan gives
    every plan (steps, payloads, order, tails, warnings, validity, EVSEs sent) or error
    that rebuilding it from the previous allocation gives."""
    fast = _chain(case)
    with patch.object(_sendplan, "HELD", False):
        reference = _chain(case)
    assert fast == reference


def _stores_before(new: Any, at: int, previous: Any, previous_plan: Any, held: bool) -> Any:
    """What ``_send_plan`` takes the piles to hold before the plan, with or without the
    previous plan's ``_Held``."""
    site = new.site
    stores = _sendplan._stores(site)
    carried = _sendplan._carried(previous_plan, previous)
    with patch.object(_sendplan, "HELD", held):
        old_stores, old_limits, kept = _sendplan._previous_work(previous, previous_plan)
    return _sendplan._before(site, stores, previous, old_stores, old_limits, at, carried, kept)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@_HELD_CASES
def test_property_a_held_store_draws_what_the_rebuilt_one_draws(case: ReplanCase) -> None:
    """Every pile taken from what the previous plan left (SPX2): each of its EVSEs draws,
    over the plan's window, exactly what it draws under the store rebuilt from the
    previous allocation (each computed afresh by the engine), the stores hold the same
    ids, purposes, levels and transactions, and what the plan records of it is exact."""
    try:
        old, new, at = _replan(*case[:5])
    except (SafetyError, SendPlanError):
        return
    first = _plan(old)
    if not isinstance(first, SendPlan):
        return
    second = _plan(new, at=at, previous=old, only_changed=True, previous_plan=first)
    if not isinstance(second, SendPlan):
        return
    later = at + 900
    if later >= new.end_epoch:
        return
    held, _, held_specs = _stores_before(new, later, new, second, True)
    rebuilt, _, rebuilt_specs = _stores_before(new, later, new, second, False)
    end = _sendplan._horizon(new, new, later)
    for pile in new.site.piles:
        store, config = held[pile.id]
        other, _ = rebuilt[pile.id]
        if store is other:
            continue
        if held_specs[pile.id] is not None and rebuilt_specs[pile.id] is not None:
            assert held_specs[pile.id].keys() == rebuilt_specs[pile.id].keys()

        def shape(s: Any) -> list[Any]:
            return sorted(
                (e.evse_id, e.id, e.purpose.value, e.profile.stack_level, e.bound_transaction_id)
                for e in s
            )

        assert shape(store) == shape(other)
        for evse in pile.evses:
            mine = evse_timeline(pile, evse, store, config, later, end, idle=True)
            theirs = evse_timeline(pile, evse, other, config, later, end, idle=True)
            assert mine == theirs, (pile.id, evse.id)


def test_a_forged_held_store_that_overloads_is_caught_by_the_post_condition() -> None:
    """Mutation check: what the previous plan says a pile holds, forged (its plan profiles
    at 32 A instead of the share, the same specs), is taken as what the piles hold for EVSEs
    the re-plan keeps; the replay finds the feeder over its limit and raises."""
    from test_send_plan_speedups import T0, _pair_site

    from ocpp_schedule.site import balance
    from ocpp_schedule.station._store import ProfileStore

    site = _pair_site()
    old = balance(site, start=T0, duration=3600)
    plan = send_plan_of(old)
    worked = plan.worked
    assert worked is not None and worked.held
    kwargs: dict[str, Any] = {"at": old.start_epoch + 600, "previous": old, "only_changed": True}
    assert _sendplan.send_plan(old, previous_plan=plan, **kwargs).sent == ()
    forged = {}
    for pid, held in worked.held.items():
        entries = []
        for entry in held.store:
            if entry.id >= _sendplan.PLAN_ID_BASE:
                profile = entry.profile
                schedule = profile.charging_schedule[0]
                periods = tuple(
                    p.model_copy(update={"limit": 32.0}) for p in schedule.charging_schedule_period
                )
                schedule = schedule.model_copy(update={"charging_schedule_period": periods})
                profile = profile.model_copy(update={"charging_schedule": (schedule,)})
                entry = dataclasses.replace(entry, profile=profile)
            entries.append(entry)
        forged[pid] = dataclasses.replace(held, store=ProfileStore(entries))
    lie = dataclasses.replace(plan, worked=dataclasses.replace(worked, held=forged))
    with pytest.raises(SafetyError, match="circuit f"):
        _sendplan.send_plan(old, previous_plan=lie, **kwargs)


def send_plan_of(allocation: Any) -> SendPlan:
    """The plan of an allocation, sent at its start."""
    plan = _sendplan.send_plan(allocation)
    assert isinstance(plan, SendPlan)
    return plan


@st.composite
def _rows_pair(draw: st.DrawFn) -> tuple[list[Any], list[Any], int]:
    """Two profiles' periods (contiguous, some equal neighbours, open-ended or not) sharing
    a common suffix now and then, and an instant."""

    def rows(start: int) -> list[Any]:
        out = []
        cursor = start
        for _ in range(draw(st.integers(1, 5))):
            length = draw(st.integers(1, 4)) * 100
            out.append(
                (
                    cursor,
                    cursor + length,
                    draw(st.sampled_from([0.0, 6.0, 16.0])),
                    draw(st.integers(0, 3)),
                )
            )
            cursor += length
        if draw(st.booleans()):
            out[-1] = (*out[-1][:1], _sendplan.FOREVER, *out[-1][2:])
        return out

    a = rows(draw(st.integers(0, 3)) * 100)
    b = rows(draw(st.integers(0, 3)) * 100)
    if draw(st.booleans()) and len(a) > 1:
        cut = draw(st.integers(1, len(a) - 1))
        shared = a[cut:]
        first = shared[0][0]
        b = [row for row in b if row[1] <= first]
        b = [*b[:-1], (b[-1][0], first, *b[-1][2:])] if b and b[-1][1] != first else b
        b = [*b, *shared] if b and b[-1][1] == first else shared
    return a, b, draw(st.integers(0, 2500))


@settings(max_examples=400, deadline=None)
@given(_rows_pair())
@example(([(0, 100, 6.0, 3), (100, 200, 16.0, 3)], [(0, 100, 6.0, 3), (100, 200, 0.0, 3)], 50))
@example(([(0, 100, 6.0, 3), (100, 200, 16.0, 3)], [(50, 100, 6.0, 3), (100, 200, 16.0, 3)], 60))
def test_same_from_is_equal_merged_periods_from_the_instant(case: Any) -> None:
    """Whether two profiles give the same limits from an instant on: the fast comparison
    (from the periods covering it) answers as comparing their merged periods from it."""
    a, b, at = case
    assert _sendplan._same_from(a, b, at) == (_sendplan._merged(a, at) == _sendplan._merged(b, at))

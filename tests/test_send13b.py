"""The warm send plan's fast paths (issues 13, 16, helper SEND13B) against their references.

- the loads after some EVSEs change, as the loads before plus their differences
  (``_Loads.changed``), against summing every EVSE's new pieces afresh (``_Loads.fill``):
  the same floats, cell by cell; and ``fill`` by groups of pile circuit and phases against
  the exact sum of every piece (tests/test_send16.py's reference, kept);
- a re-plan taking the previous allocation's piles' stores, safe tails and limits from the
  previous plan (``SendPlan.worked``) against working them out again: the same plan or
  the same error, and the same values; a previous plan made for another allocation object
  (or sent after its start) is not taken (or only its stores and tails);
"""

from __future__ import annotations

import dataclasses
from typing import Any
from unittest.mock import patch

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_send16 import _exact, _members, _snap
from test_send_plan_speedups import REPLAN_CASES, _plan, _replan

from ocpp_schedule import SafetyError
from ocpp_schedule.site import Site, _sendplan
from ocpp_schedule.site._plancheck import _Loads
from ocpp_schedule.site._safetail import safe_tails
from ocpp_schedule.site._sendplan import SendPlan, SendPlanError
from ocpp_schedule.site._timelines import Piece


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
def test_property_the_previous_plans_work_gives_the_same_plan(
    site: Site,
    old_window: tuple[int, int],
    new_window: tuple[int, int],
    slot: int,
    resolution: Any,
    only_changed: bool,
) -> None:
    """A re-plan with the previous plan's stores, tails and limits gives the plan (or the
    error) it gives working them out; what the plan kept equals working them out; a plan
    sent after its allocation's start lends its stores and tails, not its limits."""
    try:
        old, new, at = _replan(site, old_window, new_window, slot, resolution)
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
        kwargs = {"at": at, "previous": old, "only_changed": only_changed}
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

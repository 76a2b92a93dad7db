"""The warm send plan (issues 13, 16; helper SENDWARM) against its reference paths.

- A draw kept for later plans is computed :data:`~ocpp_schedule.site._plancheck.CARRY_AHEAD`
  past its plan's window and cut to it: every draw equals the one computed over its own
  window, and a later plan whose window ends up to that much later takes it from the memo.
- The whole plan with the draws kept ahead and without (``CARRY_AHEAD`` 0, as before):
  the same plan or the same error, cold and as a re-plan with the previous plan.
- ``send_plan`` and ``control`` pause the cyclic garbage collector: they leave it as they
  found it (also when they raise), and they make no reference cycles, the condition under
  which pausing it frees nothing later than reference counting does.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies_site import T0, hostile_sites, sites
from test_draws_carry import _sites
from test_send_plan_speedups import _WINDOWS, REPLAN_CASES, ReplanCase, _plan, _replan

from ocpp_schedule import SafetyError
from ocpp_schedule.engine._compile import CompiledProfile
from ocpp_schedule.site import Site, SiteState, _plancheck, _sendplan, control
from ocpp_schedule.site._sendplan import SendPlan, SendPlanError, send_plan
from ocpp_schedule.site._timelines import evse_timeline, pile_store
from ocpp_schedule.station._store import ProfileStore
from ocpp_schedule.wire._timestamps import to_epoch

START = to_epoch(T0)
AHEAD = _plancheck.CARRY_AHEAD

# ------------------------------------------------------------------ draws kept ahead


class _Counting:
    """``evse_timeline`` as ``_plancheck`` calls it, counting the calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return evse_timeline(*args, **kwargs)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    _sites(),
    st.integers(0, 12).map(lambda h: h * 1800),
    st.integers(0, 8).map(lambda h: h * 1800),
    st.integers(0, AHEAD // 300).map(lambda k: k * 300),
)
def test_property_a_draw_kept_ahead_is_the_draw_over_a_later_longer_window(
    site: Site, length: int, later: int, longer: int
) -> None:
    """A plan over [s0, e0), then one over [s, e) with e up to CARRY_AHEAD past e0: every
    EVSE's draw equals the one computed over its own window, and the later plan computes
    none whose profiles all have a fixed start (it takes them from the memo)."""
    s0, e0 = START, START + 3600 + length
    s, e = min(s0 + later, e0 - 1), e0 + longer  # a plan's window is never empty
    _plancheck.clear_draw_caches()
    first, second = _plancheck.Draws(s0, e0), _plancheck.Draws(s, e)
    stores = {}
    for pile in site.piles:
        kept, config = pile_store(pile, site)
        stores[pile.id] = (ProfileStore(list(kept)), config)
        for evse in pile.evses:
            store = stores[pile.id][0]
            assert first(pile, evse, store, config) == evse_timeline(
                pile, evse, store, config, s0, e0, idle=True
            )
    counting = _Counting()
    with patch.object(_plancheck, "evse_timeline", counting):
        for pile in site.piles:
            store, config = stores[pile.id]
            for evse in pile.evses:
                before = counting.calls
                got = second(pile, evse, store, config)
                assert got == evse_timeline(pile, evse, store, config, s, e, idle=True)
                entries = _plancheck._Entries(store, evse.id)
                if _plancheck._anchored(entries):
                    assert counting.calls == before, "a draw kept ahead was computed again"


def _small_site() -> Site:
    from test_draws_carry import _one_pile_site

    from ocpp_schedule.site import Session

    session = Session(arrive=T0, leave=T0 + timedelta(hours=3), max_amps=16.0)
    return _one_pile_site((), (session,))


def test_a_window_past_the_kept_one_is_computed() -> None:
    """A later plan ending more than CARRY_AHEAD past the earlier one computes its draws."""
    site = _small_site()
    pile, evse = site.piles[0], site.piles[0].evses[0]
    kept, config = pile_store(pile, site)
    _plancheck.clear_draw_caches()
    _plancheck.Draws(START, START + 3600)(pile, evse, kept, config)
    counting = _Counting()
    window = (START + 900, START + 3600 + AHEAD + 1)
    with patch.object(_plancheck, "evse_timeline", counting):
        got = _plancheck.Draws(*window)(pile, evse, kept, config)
    assert counting.calls == 1
    assert got == evse_timeline(pile, evse, kept, config, *window, idle=True)


def test_a_bound_met_only_ahead_computes_the_plans_own_window() -> None:
    """Where the wider window raises, the draw over the plan's own window is returned
    (the plan's result is what it was without the wider window) and nothing is kept."""
    from ocpp_schedule.errors import QueryError

    site = _small_site()
    pile, evse = site.piles[0], site.piles[0].evses[0]
    kept, config = pile_store(pile, site)
    end = START + 7200

    def refusing_ahead(*args: Any, **kwargs: Any) -> Any:
        if args[5] > end:
            raise QueryError("too far", field="duration")
        return evse_timeline(*args, **kwargs)

    _plancheck.clear_draw_caches()
    with patch.object(_plancheck, "evse_timeline", refusing_ahead):
        got = _plancheck.Draws(START, end)(pile, evse, kept, config)
    assert got == evse_timeline(pile, evse, kept, config, START, end, idle=True)
    assert _plancheck.memo_size() == 0


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@REPLAN_CASES
def test_property_draws_kept_ahead_give_the_same_plans(case: ReplanCase) -> None:
    """With draws kept ahead and without (CARRY_AHEAD 0): the same plans (steps, tails,
    warnings, validity, EVSEs sent) or the same error, cold and as a re-plan."""
    try:
        old, new, at = _replan(*case[:5])
    except (SafetyError, SendPlanError):
        return
    kwargs = {"at": at, "previous": old, "only_changed": case.only_changed}
    answers = []
    for ahead in (AHEAD, 0):
        _plancheck.clear_draw_caches()
        with patch.object(_plancheck, "CARRY_AHEAD", ahead):
            first = _plan(old)
            carried = first if isinstance(first, SendPlan) else None
            answers.append((first, _plan(new, previous_plan=carried, **kwargs)))
    assert answers[0] == answers[1]


# ------------------------------------------------------------------ the collector


@contextmanager
def _collector(enabled: bool) -> Iterator[None]:
    """The collector on or off for the block, restored after."""
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        yield
    finally:
        (gc.enable if was else gc.disable)()


@pytest.mark.parametrize("enabled", [True, False])
def test_send_plan_and_control_leave_the_collector_as_they_found_it(enabled: bool) -> None:
    """Paused while they work; as before after they return, and after they raise."""
    from ocpp_schedule.site import balance

    site = _small_site()
    seen: list[bool] = []
    real_order = _sendplan._order

    def order(*args: Any) -> Any:
        seen.append(gc.isenabled())
        return real_order(*args)

    allocation = balance(site, start=T0, duration=3600)
    with _collector(enabled), patch.object(_sendplan, "_order", order):
        send_plan(allocation)
        assert gc.isenabled() is enabled
        control(site, SiteState(at=T0))
        assert gc.isenabled() is enabled
        with pytest.raises(SendPlanError):
            send_plan(allocation, at=T0 + timedelta(hours=2))
        assert gc.isenabled() is enabled
        with pytest.raises(SendPlanError):
            send_plan(allocation, resend_margin=-1)
        assert gc.isenabled() is enabled
    assert seen == [False, False]


def _garbage_of(work: Any) -> list[Any]:
    """The objects ``work()`` leaves in reference cycles (found by a collection after it)."""
    # Generation 0 only: with the collector off, everything ``work`` makes stays young,
    # so a young collection finds its cycles without walking the whole test session's heap.
    with _collector(False):
        gc.collect(0)
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            work()
            gc.collect(0)
            found = list(gc.garbage)
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
    return found


def _not_of_compiled_profiles(garbage: list[Any]) -> list[Any]:
    """The garbage not reachable, within it, from an engine ``CompiledProfile``.

    The engine's compiled profiles are in cycles by design (their occurrence cache's
    segments name the profile, for provenance); one is made per profile entry a plan
    compiles, so what they hold is bounded by the plan's own work.
    """
    ids = {id(o) for o in garbage}
    reached: set[int] = set()
    todo = [o for o in garbage if isinstance(o, CompiledProfile)]
    while todo:
        obj = todo.pop()
        if id(obj) in reached:
            continue
        reached.add(id(obj))
        todo.extend(r for r in gc.get_referents(obj) if id(r) in ids and id(r) not in reached)
    return [o for o in garbage if id(o) not in reached]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(sites(), hostile_sites()), _WINDOWS, _WINDOWS, st.integers(0, 40))
def test_property_plans_make_no_reference_cycles_of_their_own(
    site: Site, old_window: tuple[int, int], new_window: tuple[int, int], slot: int
) -> None:
    """A plan, a re-plan and control() (cold and warm) leave for the collector at most the
    engine's compiled profiles (in cycles by design, one per profile compiled): what the
    pause relies on (reference counting frees the rest of what they drop as they go)."""
    try:
        old, new, at = _replan(site, old_window, new_window, slot, 900)
        first = send_plan(old)
    except (SafetyError, SendPlanError):
        return
    if old.start_epoch > at:
        return  # the old plan cannot have been sent before ``at``: no re-plan against it
    assert _not_of_compiled_profiles(_garbage_of(lambda: send_plan(old))) == []
    replan = _garbage_of(lambda: send_plan(new, at=at, previous=old, previous_plan=first))
    assert _not_of_compiled_profiles(replan) == []
    try:
        result = control(site, SiteState(at=new.start))
    except SafetyError:
        return
    later = SiteState(at=new.start + timedelta(minutes=5))
    assert (
        _not_of_compiled_profiles(_garbage_of(lambda: control(site, later, previous=result))) == []
    )


def test_the_benchmark_site_plans_make_no_reference_cycles() -> None:
    """The re-plan benchmark's site at 100 EVSEs: a cold and a warm control() leave nothing
    in reference cycles at all (their compiled profiles are kept by the memos)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))
    import replan

    from ocpp_schedule.site._planner import DeadlineAware

    first = replan.replan_site(100)
    later_now = replan.NOW + timedelta(seconds=replan.STEP)
    later = replan.next_site(first, later_now)
    results: list[Any] = []
    cold = _garbage_of(
        lambda: results.append(replan.control_once(first, replan.NOW, 900, DeadlineAware()))
    )
    warm = _garbage_of(
        lambda: replan.control_once(later, later_now, 900, DeadlineAware(), results[0])
    )
    assert (len(cold), len(warm)) == (0, 0)

"""BAL16C (issues 16, 17): balance's fast paths against their references.

- ``_Planner.max_min`` takes the rank of an EVSE with several sessions per session run
  (``_several_ranks``, by bisection on the boundaries) instead of per cell, and looks a
  solve up by the slot's limits and demand count before hashing its demands. Its rows
  equal those of the reference below (the per-cell ranks and the full-signature cache of
  the code before BAL16C) on random, hostile and crowded sites, weighted or not, and no
  slot already solved is solved again.
- ``balance`` pauses the cyclic garbage collector while it works (``pauses_collector``):
  it leaves the collector as it found it, also when it raises, and makes no cycles.
"""

from __future__ import annotations

import gc
import operator
from contextlib import suppress
from datetime import timedelta
from itertools import pairwise
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies_site import T0, hostile_sites, sites, sites_with_needs
from test_bal16 import _crowded
from test_sendwarm import _collector

from ocpp_schedule import EqualShare, QueryError, SafetyError, Site, balance
from ocpp_schedule.site import _allocation as alloc
from ocpp_schedule.site import _planner as planner
from ocpp_schedule.site._planning import PlanningProblem
from ocpp_schedule.site._slotshare import Memo, _Demand, _solve_limits

HOUR = 3600
SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
SITES = st.one_of(sites(), sites_with_needs(), hostile_sites())
RESOLUTIONS = st.sampled_from([None, 300, 900])


def _reference_max_min(problem: PlanningProblem, weighted: bool) -> list[dict[Any, float]]:
    """``max_min`` as it was before BAL16C: each cell's rank from the sessions meeting its
    slot, and every solve looked up by the whole (demands, limits) signature."""
    self = planner._Planner(problem, weighted, tables=False)
    on_key: dict[Any, list[Any]] = {}
    for x in problem.sessions:
        on_key.setdefault(x.key, []).append(x)
    alone = {key: self._plain_rank(own[0]) for key, own in on_key.items() if len(own) == 1}
    cache: dict[tuple[object, ...], dict[Any, float]] = {}
    out: list[dict[Any, float]] = []
    made: dict[Any, tuple[Any, Any, _Demand, bool]] = {}
    before: list[_Demand] = []
    before_limits: object = None
    memo: Memo = {}
    found: dict[Any, float] = {}
    for k, row in enumerate(problem.demands):
        a, b = problem.boundaries[k], problem.boundaries[k + 1]
        demands = []
        for d in row:
            last = made.get(d.key)
            if last is not None and last[3] and last[0] is d:
                demands.append(last[2])
                continue
            rank = alone.get(d.key)
            if rank is None:
                meeting = [x for x in on_key[d.key] if x.arrive < b and x.leave > a]
                rank = min(self._plain_rank(x) for x in meeting or [problem.sessions[d.session]])
            if last is not None and last[0] is d and last[1] == rank:
                demands.append(last[2])
                continue
            demand = _Demand(
                d.key, d.cap, d.phases, d.circuit_phases, d.path, rank[0], d.min_amps, rank,
                d.session, d.pinned,
            )  # fmt: skip
            made[d.key] = (d, rank, demand, d.key in alone)
            demands.append(demand)
        limits = problem.limits[k]
        same = (
            len(demands) == len(before)
            and limits == before_limits
            and all(map(operator.is_, demands, before))
        )
        if not same:
            limits = dict(limits)
            signature = (tuple(demands), tuple(sorted(limits.items())))
            hit = cache.get(signature)
            if hit is None:
                hit = cache[signature] = _solve_limits(demands, limits, self.volts, memo)[0]
            found = hit
            before, before_limits = demands, problem.limits[k]
        out.append(found)
    return out


def _problems(site: Site, resolution: int | None, policy: Any = None) -> list[PlanningProblem]:
    """The planning problems ``balance`` hands its planner (none if it refuses the site)."""
    seen: list[PlanningProblem] = []
    real = planner.DeadlineAware.plan

    def plan(self: Any, problem: PlanningProblem, *args: Any, **kwargs: Any) -> Any:
        seen.append(problem)
        return real(self, problem, *args, **kwargs)

    with mock.patch.object(planner.DeadlineAware, "plan", plan), suppress(SafetyError, QueryError):
        balance(site, start=T0, duration=6 * HOUR, resolution=resolution, policy=policy)
    return seen


def _check_max_min(problem: PlanningProblem, weighted: bool) -> None:
    """The rows equal the reference's (or both raise the same SafetyError), and no
    (demands, limits) is solved twice."""
    solved: list[tuple[object, ...]] = []
    real = planner._solve_limits

    def counted(demands: Any, limits: Any, volts: float, memo: Any) -> Any:
        solved.append((tuple(demands), tuple(sorted(limits.items()))))
        return real(demands, limits, volts, memo)

    with mock.patch.object(planner, "_solve_limits", counted):
        rows = _outcome(lambda: planner._Planner(problem, weighted, tables=False).max_min(None))
    assert rows == _outcome(lambda: _reference_max_min(problem, weighted))
    assert len(solved) == len(set(solved))


def _outcome(work: Any) -> Any:
    """What ``work()`` returns, or the SafetyError it raises (pinned demands over a limit)
    as its message: both paths must raise the same one at the same slot."""
    try:
        return work()
    except SafetyError as error:
        return str(error)


@SETTINGS
@given(SITES, RESOLUTIONS, st.booleans())
def test_property_max_min_equals_the_per_cell_reference(
    site: Site, resolution: int | None, weighted: bool
) -> None:
    for problem in _problems(site, resolution):
        _check_max_min(problem, weighted)


def test_max_min_equals_the_reference_on_a_crowded_site_with_repeated_slots() -> None:
    """Vehicles come and go every 10 minutes on one over-subscribed feeder; the exact
    slots and 300 s slots return to earlier contents (the cache is used)."""
    for resolution in (None, 300, 900):
        for problem in _problems(_crowded(60), resolution, EqualShare()) or _problems(
            _crowded(60), resolution
        ):
            for weighted in (False, True):
                _check_max_min(problem, weighted)


def _two_sessions_each(evses: int) -> Site:
    """Every EVSE sees two vehicles, so every rank is per session run."""
    site = _crowded(evses)
    piles = []
    for n, pile in enumerate(site.piles):
        first = pile.evses[0].sessions[0]
        second = first.model_copy(
            update={
                "arrive": first.leave + timedelta(minutes=5 * (n % 4)),
                "leave": first.leave + timedelta(minutes=50 + 10 * (n % 5)),
            }
        )
        evse = pile.evses[0].model_copy(update={"sessions": (first, second)})
        piles.append(pile.model_copy(update={"evses": (evse,)}))
    return site.model_copy(update={"piles": tuple(piles)})


def test_several_ranks_are_the_least_rank_of_the_sessions_meeting_each_slot() -> None:
    """Per slot and EVSE with several sessions: the least rank over the sessions that
    arrive before the slot's end and leave after its start; none where none meets it."""
    site = _two_sessions_each(30)
    for resolution in (None, 300, 900):
        for problem in _problems(site, resolution):
            self = planner._Planner(problem, False, tables=False)
            on_key: dict[Any, list[Any]] = {}
            for x in problem.sessions:
                on_key.setdefault(x.key, []).append(x)
            got = self._several_ranks(on_key)
            bounds = problem.boundaries
            assert len(got) == len(bounds) - 1
            for k, (a, b) in enumerate(pairwise(bounds)):
                want = {}
                for key, own in on_key.items():
                    meeting = [x for x in own if x.arrive < b and x.leave > a]
                    if len(own) > 1 and meeting:
                        want[key] = min(self._plain_rank(x) for x in meeting)
                assert got[k] == want
            _check_max_min(problem, False)


# ------------------------------------------------------------------ the collector


@pytest.mark.parametrize("enabled", [True, False])
def test_balance_pauses_the_collector_and_leaves_it_as_it_found_it(enabled: bool) -> None:
    """Paused while the plan is made; as before after balance returns, and after it raises."""
    site = _crowded(12)
    seen: list[bool] = []
    real = alloc._apply_plan

    def apply_plan(*args: Any) -> Any:
        seen.append(gc.isenabled())
        return real(*args)

    with _collector(enabled), mock.patch.object(alloc, "_apply_plan", apply_plan):
        balance(site, start=T0, duration=HOUR)
        assert gc.isenabled() is enabled
        with pytest.raises(QueryError):
            balance(site, start=T0, duration=-1)
        assert gc.isenabled() is enabled
    assert seen == [False]


def test_balance_makes_no_reference_cycles() -> None:
    """What balance drops is freed by reference counting: a young collection right after
    it (the collector off, so all it made is young) finds no garbage."""
    site = _crowded(40)
    for policy in (None, EqualShare()):
        with _collector(False):
            gc.collect(0)
            gc.set_debug(gc.DEBUG_SAVEALL)
            try:
                balance(site, start=T0, duration=2 * HOUR, resolution=300, policy=policy)
                gc.collect(0)
                found = list(gc.garbage)
            finally:
                gc.set_debug(0)
                gc.garbage.clear()
        assert found == []

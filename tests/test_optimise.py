"""Issue 13: the exact optimiser (extra ``[optimize]``): energy by departure, then fairness.

Skipped when SciPy is missing (CI installs the extra). Examples per rule (deadline
order, priority classes, minimum currents, pinned demands, the size bound, the
missing solver) and properties over random sites: never above a circuit limit,
never beyond a vehicle's need (but for the finishing slot), and at least the
energy that equal sharing delivers.
"""

from __future__ import annotations

import itertools
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from strategies_site import T0, WINDOW, hostile_sites, sites

pytest.importorskip("scipy.optimize")

import ocpp_schedule.site._optimise as optimise_module
from ocpp_schedule import (
    EqualShare,
    ExactOptimiser,
    OcppScheduleError,
    OptimiserUnavailable,
    QueryError,
    SafetyError,
)
from ocpp_schedule.site import (
    Allocation,
    Circuit,
    Evse,
    Pile,
    Session,
    Site,
    balance,
)
from ocpp_schedule.site._allocation import present_seconds
from ocpp_schedule.site._planning import PlanningProblem

DAY = datetime(2024, 3, 4, tzinfo=UTC)


def _session(arrive_h: float, leave_h: float, kwh: float | None, **kw: Any) -> Session:
    return Session(
        arrive=DAY + timedelta(hours=arrive_h),
        leave=DAY + timedelta(hours=leave_h),
        energy_kwh=kwh,
        **kw,
    )


def _site(amps: float, *sessions: Session, watts: float | None = None) -> Site:
    rotations = ("L1L2L3", "L2L3L1", "L3L1L2")
    piles = tuple(
        Pile(
            id=f"P{i}",
            circuit="cab",
            phase_rotation=rotations[i % 3],
            evses=(Evse(id=1, sessions=(s,)),),
        )
        for i, s in enumerate(sessions)
    )
    return Site(grid=Circuit(id="cab", amps=amps, watts=watts), piles=piles)


def delivered(
    allocation: Allocation, *, unpinned: bool = False
) -> list[tuple[float | None, float, float]]:
    """Per session: (need, energy its limits allow while present, what it takes: the lesser).

    ``unpinned``: only the EVSEs no TxProfile governs in any slot (a pinned EVSE draws
    what its TxProfile gives, whatever the plan).
    """
    out = []
    site = allocation.site
    for pile in site.piles:
        for evse in pile.evses:
            key = (pile.id, evse.id)
            if unpinned and any(allocation.pinned[key]):
                continue
            rows = zip(
                allocation.slots(), allocation.amps[key], allocation.phases[key], strict=True
            )
            per = [0.0] * len(evse.sessions)
            for (a, b), amps, phases in rows:
                for i, s in enumerate(evse.sessions):
                    own = min(phases, s.phases)  # a slot's phases are the most of its sessions'
                    per[i] += amps * own * site.voltage * present_seconds(s, a, b) / 3.6e6
            for s, kwh in zip(evse.sessions, per, strict=True):
                need = s.need_kwh
                out.append((need, kwh, kwh if need is None else min(kwh, need)))
    return out


# ---------------------------------------------------------------- examples


def test_the_vehicle_leaving_first_is_served_first() -> None:
    # 16 A on one circuit: both cannot charge at once (6 A minimum, 3 phases, 16 A each max).
    early = _session(0, 1, 10.0, max_amps=16.0)  # 11 kWh/h at 16 A: needs most of its hour
    late = _session(0, 8, 20.0, max_amps=16.0)
    site = _site(16.0, early, late)
    allocation = balance(
        site, start=DAY, duration=8 * 3600, resolution=900, policy=ExactOptimiser()
    )
    (need_e, _, got_e), (need_l, _, got_l) = delivered(allocation)
    assert got_e == pytest.approx(need_e, abs=0.05)
    assert got_l == pytest.approx(need_l, abs=0.05)
    assert allocation.policy == "optimal"
    assert allocation.overloads() == []


def test_equal_share_misses_what_the_optimiser_delivers() -> None:
    early = _session(0, 1, 10.0, max_amps=16.0)
    late = _session(0, 8, 20.0, max_amps=16.0)
    site = _site(16.0, early, late)
    fair = delivered(balance(site, start=DAY, duration=8 * 3600, policy=EqualShare()))
    best = delivered(balance(site, start=DAY, duration=8 * 3600, policy=ExactOptimiser()))
    assert sum(g for _, _, g in best) > sum(g for _, _, g in fair) + 1.0


def test_a_higher_priority_class_is_served_first() -> None:
    # Room for one vehicle at 16 A for two hours: about 22 kWh; both want 20 kWh.
    low = _session(0, 2, 20.0, max_amps=16.0)
    high = _session(0, 2, 20.0, max_amps=16.0, priority=5)
    allocation = balance(
        _site(16.0, low, high), start=DAY, duration=2 * 3600, policy=ExactOptimiser()
    )
    (_, _, got_low), (need_high, _, got_high) = delivered(allocation)
    assert got_high == pytest.approx(need_high, abs=0.05)
    assert got_low < 3.0


def test_currents_are_zero_or_at_least_the_minimum() -> None:
    # 10 A for three vehicles of minimum 6 A: at most one charges at a time.
    vehicles = [_session(0, 3, 8.0, max_amps=16.0, min_amps=6.0) for _ in range(3)]
    allocation = balance(
        _site(10.0, *vehicles), start=DAY, duration=3 * 3600, policy=ExactOptimiser()
    )
    for row in allocation.amps.values():
        assert all(a == 0 or a >= 6.0 for a in row)
    assert allocation.overloads() == []
    assert sum(g for _, _, g in delivered(allocation)) > 0.9 * 10 * 230 * 3 * 3 / 1000


def test_the_last_crumb_of_a_need_is_delivered_at_the_minimum() -> None:
    # 0.5 kWh at 6..16 A on 3 phases is less than one 15-minute slot at 6 A (1.04 kWh): the
    # LP wants about 2.9 A for one slot; the plan gives the minimum, the vehicle stops when full.
    vehicle = _session(0, 2, 0.5, max_amps=16.0, min_amps=6.0)
    allocation = balance(
        _site(32.0, vehicle), start=DAY, duration=2 * 3600, policy=ExactOptimiser()
    )
    ((need, planned, got),) = delivered(allocation)
    assert got == pytest.approx(need)
    assert planned <= need + 6.0 * 3 * 230 * 900 / 3.6e6  # at most one slot at the minimum


def test_power_limits_hold() -> None:
    vehicles = [_session(0, 4, 30.0, max_amps=32.0) for _ in range(4)]
    allocation = balance(
        _site(200.0, *vehicles, watts=30_000.0),
        start=DAY,
        duration=4 * 3600,
        policy=ExactOptimiser(),
    )
    assert allocation.overloads() == []
    loads = allocation.loads["cab"]
    assert max(sum(load) * 230 for load in loads) <= 30_000.0
    assert max(sum(load) * 230 for load in loads) > 29_000.0  # and it uses what it may


def test_unknown_needs_take_what_is_left() -> None:
    vehicles = [_session(0, 2, None, max_amps=16.0), _session(0, 2, 5.0, max_amps=16.0)]
    allocation = balance(
        _site(20.0, *vehicles), start=DAY, duration=2 * 3600, policy=ExactOptimiser()
    )
    (_, _, unknown), (need, _, known) = delivered(allocation)
    assert known == pytest.approx(need, abs=0.05)
    assert unknown > 5.0


def test_the_programme_is_bounded_before_it_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(optimise_module, "MAX_LP_VARIABLES", 10)
    built: list[object] = []
    monkeypatch.setattr(optimise_module, "_build", lambda *a: built.append(a))
    vehicles = [_session(0, 4, 10.0) for _ in range(3)]  # 3 x 16 slots = 48 variables
    with pytest.raises(QueryError, match="optimiser's variables") as caught:
        balance(_site(32.0, *vehicles), start=DAY, duration=4 * 3600, policy=ExactOptimiser())
    assert caught.value.field == "policy"
    assert built == []


def test_a_missing_solver_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "scipy.optimize", None)
    with pytest.raises(OptimiserUnavailable, match=r"ocpp-schedule\[optimize\]") as caught:
        balance(
            _site(32.0, _session(0, 1, 5.0)),
            start=DAY,
            duration=3600,
            policy=ExactOptimiser(),
        )
    assert isinstance(caught.value, OcppScheduleError)


def test_a_bad_early_bonus_is_refused() -> None:
    with pytest.raises(QueryError, match="early_bonus"):
        ExactOptimiser(early_bonus=-1.0)


class _Capture:
    """A planner that keeps the problem it is given and plans nothing."""

    name = "capture"

    def __init__(self) -> None:
        self.problem: PlanningProblem | None = None

    def plan(self, problem: PlanningProblem) -> list[dict[tuple[str, int], float]]:
        self.problem = problem
        return [{} for _ in range(problem.slots)]


def test_relaxed_is_an_upper_bound_of_the_plan() -> None:
    vehicles = [_session(0, 1 + i, 6.0 + 3 * i, max_amps=16.0, min_amps=6.0) for i in range(4)]
    site = _site(25.0, *vehicles)
    capture = _Capture()
    balance(site, start=DAY, duration=4 * 3600, policy=capture)
    assert capture.problem is not None
    bound = ExactOptimiser().relaxed(capture.problem)
    planned = delivered(balance(site, start=DAY, duration=4 * 3600, policy=ExactOptimiser()))
    assert sum(bound.values()) >= sum(g for _, _, g in planned) - 1e-6
    assert all(
        kwh <= s.need_kwh + 1e-6
        for s, kwh in zip(
            capture.problem.sessions, [bound.get(i, 0.0) for i in range(4)], strict=True
        )
        if s.need_kwh is not None
    )


# ---------------------------------------------------------------- properties


@st.composite
def sites_with_needs(draw: Any, hostile: bool = False) -> Site:
    """A random site whose sessions all carry an energy need (1..60 kWh); on a hostile site
    (any weights, TxProfiles) some also a higher priority class."""
    site = draw(hostile_sites() if hostile else sites())
    piles = []
    for pile in site.piles:
        evses = []
        for evse in pile.evses:
            own = tuple(
                Session.model_validate(
                    {
                        **s.model_dump(),
                        "energy_kwh": float(draw(st.integers(1, 60))),
                        "priority": draw(st.sampled_from([0, 0, 0, 1])) if hostile else 0,
                    }
                )
                for s in evse.sessions
            )
            evses.append(evse.model_copy(update={"sessions": own}))
        piles.append(pile.model_copy(update={"evses": tuple(evses)}))
    return site.model_copy(update={"piles": tuple(piles)})


def _finishing_allowance(site: Site) -> float:
    """One slot (900 s) at the largest minimum current + 0.1 A on 3 phases: what finishing a
    session (a slot at its minimum, a last 0.1 A step) may plan beyond its need."""
    most = max((s.min_amps for p in site.piles for e in p.evses for s in e.sessions), default=0.0)
    return (most + 0.1) * 3 * site.voltage * 900 / 3.6e6 + 1e-9


@settings(max_examples=100, deadline=None)
@given(sites_with_needs(hostile=True))
def test_never_above_a_limit_nor_beyond_a_need(site: Site) -> None:
    try:
        allocation = balance(
            site, start=T0, duration=WINDOW, resolution=900, policy=ExactOptimiser()
        )
    except SafetyError:
        # Only TxProfiles that alone overload a circuit make every plan unsafe: equal
        # sharing is refused too.
        with pytest.raises(SafetyError):
            balance(site, start=T0, duration=WINDOW, resolution=900, policy=EqualShare())
        return
    assert allocation.overloads() == []
    allowance = _finishing_allowance(site)
    for need, planned, _ in delivered(allocation, unpinned=True):
        assert need is not None
        assert planned <= need + allowance
    for row in allocation.amps.values():
        assert all(a >= 0 for a in row)


def _without_minimums(site: Site) -> Site:
    piles = []
    for pile in site.piles:
        evses = []
        for evse in pile.evses:
            own = tuple(s.model_copy(update={"min_amps": 0.0}) for s in evse.sessions)
            evses.append(evse.model_copy(update={"sessions": own}))
        piles.append(pile.model_copy(update={"evses": tuple(evses)}))
    return site.model_copy(update={"piles": tuple(piles)})


def _no_shared_slots(site: Site) -> bool:
    """No two sessions of one EVSE meet the same 15-minute slot (then a slot's current is
    capped by both needs: the optimiser is conservative there, documented)."""
    for pile in site.piles:
        for evse in pile.evses:
            slots = [
                {
                    int((t - T0).total_seconds()) // 900
                    for t in (s.arrive, s.leave - timedelta(seconds=1))
                }
                for s in evse.sessions
            ]
            for first, second in itertools.pairwise(slots):
                if max(first) >= min(second):
                    return False
    return True


def _energies(site: Site) -> tuple[float, float]:
    fair = balance(site, start=T0, duration=WINDOW, resolution=900, policy=EqualShare())
    best = balance(site, start=T0, duration=WINDOW, resolution=900, policy=ExactOptimiser())
    return sum(g for _, _, g in delivered(fair)), sum(g for _, _, g in delivered(best))


@settings(max_examples=100, deadline=None)
@given(sites_with_needs())
def test_at_least_the_energy_of_equal_sharing(site: Site) -> None:
    # One priority class (a higher class may rightly take energy others would use better) and
    # no minimum currents: the LP's optimum, less the early bonus (the fill pass takes back
    # what rounding to 0.1 A lost), bounds what equal sharing delivers.
    assume(_no_shared_slots(site))
    got_fair, got_best = _energies(_without_minimums(site))
    assert got_best >= got_fair * (1 - 2 * optimise_module.EARLY_BONUS) - 1e-6


@settings(max_examples=100, deadline=None)
@given(sites_with_needs())
def test_never_below_equal_sharing_with_minimum_currents(site: Site) -> None:
    # Minimum currents make the problem integer: the minimum pass is a heuristic (which
    # vehicles to turn on is a knapsack; a counterexample found 11 % below equal sharing).
    # The default policy's plan is a candidate (OP5), so within one priority class the
    # optimiser is never below it, nor below equal sharing (PL6).
    assume(_no_shared_slots(site))
    assume(len({s.priority for p in site.piles for e in p.evses for s in e.sessions}) <= 1)
    got_fair, got_best = _energies(site)
    assert got_best >= got_fair * (1 - 1e-9) - 1e-6

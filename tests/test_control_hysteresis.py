"""control()'s hysteresis (docs/semantics.md CT13, helper SENDFAST2): with ``hold``, an EVSE
whose re-planned limits differ from what its pile holds only later than ``hold`` seconds
keeps what it holds (it is not sent), wherever every circuit stays within its limits.

``held`` is tested on its own (random sites and random held plans: safety, the near window
equal to the new plan, current only where the new allocation may give it), and through
``control`` (the kept EVSEs are not sent, the send plan's post-condition still runs, no
``previous``: no change).
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies_site import T0, sites

from ocpp_schedule import EqualShare, QueryError, SiteState, control
from ocpp_schedule.site import Allocation, Site, balance
from ocpp_schedule.site._allocation import _circuit_loads
from ocpp_schedule.site._hold import held

HOUR = 3600


def _with_rows(allocation: Allocation, rows: dict[Any, tuple[float, ...]]) -> Allocation:
    """The allocation with some EVSEs' amps replaced (phases kept), loads recomputed."""
    amps = {**allocation.amps, **rows}
    loads = _circuit_loads(
        allocation.site,
        len(allocation.boundaries) - 1,
        amps,
        allocation.phases,
        allocation.phase_map,
    )
    return dataclasses.replace(allocation, amps=amps, loads=loads)


def _new(site: Site) -> Allocation:
    return balance(site, start=T0, duration=6 * HOUR, resolution=900, policy=EqualShare())


def _charging(allocation: Allocation) -> list[Any]:
    """EVSEs with a session, never paused, in every slot (their rows may be lowered)."""
    return [
        key
        for key, sessions in allocation.sessions.items()
        if all(s >= 0 for s in sessions) and not any(allocation.paused[key])
    ]


@st.composite
def _held_plans(draw: st.DrawFn) -> tuple[Allocation, Allocation, int]:
    """A new allocation, a 'previous' one whose rows differ at random slots (any amps up to
    the cap and 8 A above it: higher rows can overload a circuit), and a hold."""
    new = _new(draw(sites()))
    slots = len(new.boundaries) - 1
    rows = {}
    for key in draw(st.lists(st.sampled_from(sorted(new.amps)), max_size=6, unique=True)):
        row = list(new.amps[key])
        for k in draw(st.lists(st.integers(0, slots - 1), max_size=slots, unique=True)):
            row[k] = float(draw(st.integers(0, 10 * int(new.caps[key][k]) + 80))) / 10
        rows[key] = tuple(row)
    hold = draw(st.sampled_from([900, HOUR, 3 * HOUR, 24 * HOUR]))
    return new, _with_rows(new, rows), hold


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_held_plans())
def test_property_held_limits_are_safe_and_equal_to_the_new_plan_until_hold(
    case: tuple[Allocation, Allocation, int],
) -> None:
    """Whatever the previous plan held: no circuit over a limit; each EVSE's rows are the new
    plan's or the held ones; held ones differ from the new plan only in slots starting at or
    after at + hold, and only where the new allocation may give current (session, not
    paused or pinned, at most the cap)."""
    new, previous, hold = case
    at = new.start_epoch
    result = held(new, previous, at, hold)
    assert result.overloads() == []
    assert result.boundaries == new.boundaries and result.caps == new.caps
    for key, row in result.amps.items():
        assert row in (new.amps[key], previous.amps[key])
        assert result.phases[key] in (new.phases[key], previous.phases[key])
        for k, amps in enumerate(row):
            if amps == new.amps[key][k] and result.phases[key][k] == new.phases[key][k]:
                continue
            assert new.boundaries[k] >= at + hold
            assert new.sessions[key][k] >= 0 and not new.paused[key][k]
            assert amps <= new.caps[key][k]


def test_a_later_lower_limit_is_kept_and_a_near_one_is_not() -> None:
    """Held limits lower than the new plan's from 2 h on are kept with hold = 1 h; with
    hold = 3 h they are not (they differ before then); an earlier difference never."""
    site = _site()
    new = _new(site)
    key = _charging(new)[0]
    row = list(new.amps[key])
    for k in range(8, len(row)):  # from T0 + 2 h
        row[k] = max(0.0, row[k] - 2.0)
    previous = _with_rows(new, {key: tuple(row)})
    assert held(new, previous, new.start_epoch, HOUR).amps[key] == tuple(row)
    assert held(new, previous, new.start_epoch, 3 * HOUR).amps[key] == new.amps[key]
    assert held(new, previous, new.start_epoch, 2 * HOUR).amps[key] == tuple(row)  # 2 h: not before


def test_a_held_limit_that_would_overload_a_circuit_is_not_kept() -> None:
    """Held limits raised to the EVSE's cap on a full feeder would put it over its limit:
    the new plan's are kept instead (safety before fewer payloads)."""
    site = _site()
    new = _new(site)
    key = _charging(new)[0]
    raised = tuple(
        new.caps[key][k] if k >= 8 else new.amps[key][k] for k in range(len(new.amps[key]))
    )
    assert raised != new.amps[key]
    previous = _with_rows(new, {key: raised})
    assert previous.overloads()  # the site is full: raising one EVSE breaks a limit
    result = held(new, previous, new.start_epoch, HOUR)
    assert result.amps[key] == new.amps[key]
    assert result.overloads() == []


def _site() -> Site:
    """Two feeders of 32 A, four 3-phase 32 A EVSEs each with a vehicle all day: full."""
    from ocpp_schedule.site import Circuit, Evse, Pile, Session

    def pile(n: int, feeder: str) -> Pile:
        session = Session(arrive=T0 - timedelta(hours=1), leave=T0 + timedelta(hours=8))
        return Pile(
            id=f"P{n}",
            circuit=feeder,
            evses=(Evse(id=1, max_amps=32, sessions=(session,)),),
        )

    feeders = (Circuit(id="F1", amps=32), Circuit(id="F2", amps=32))
    grid = Circuit(id="grid", amps=64, children=feeders)
    piles = tuple(pile(n, "F1" if n < 2 else "F2") for n in range(4))
    return Site(name="full", time_zone="UTC", grid=grid, piles=piles)


def test_control_with_hold_sends_fewer_and_is_otherwise_the_same_without_previous() -> None:
    """Without ``previous`` the hold changes nothing; with it, a re-plan sends a subset of
    the EVSEs the plain re-plan sends, and the limits in force until ``at + hold`` are the
    plain re-plan's."""
    site = _site()
    state = SiteState(at=T0)
    first = control(site, state, policy=EqualShare())
    assert control(site, state, policy=EqualShare(), hold=HOUR) == first
    later = SiteState(at=T0 + timedelta(minutes=5))
    plain = control(site, later, policy=EqualShare(), previous=first)
    kept = control(site, later, policy=EqualShare(), previous=first, hold=HOUR)
    assert set(kept.changed) <= set(plain.changed)
    for key in site_keys(site):
        for t in range(kept.at_epoch, kept.at_epoch + HOUR, 300):
            assert kept.limit_at(key, t) == plain.limit_at(key, t)


def site_keys(site: Site) -> list[Any]:
    return [(p.id, e.id) for p in site.piles for e in p.evses]


@pytest.mark.parametrize("bad", [0, -5, True, 1.5, "3600"])
def test_a_bad_hold_is_a_query_error(bad: Any) -> None:
    with pytest.raises(QueryError, match="hold"):
        control(_site(), SiteState(at=T0), hold=bad)


def test_a_held_limit_above_the_evses_cap_is_not_kept() -> None:
    """On a roomy site, held limits above what the EVSE may take now (its cap) are not kept,
    even where no circuit would be over its limit."""
    from ocpp_schedule.site import Circuit, Evse, Pile, Session

    session = Session(arrive=T0 - timedelta(hours=1), leave=T0 + timedelta(hours=8))
    pile = Pile(id="P", circuit="grid", evses=(Evse(id=1, max_amps=16, sessions=(session,)),))
    site = Site(name="roomy", time_zone="UTC", grid=Circuit(id="grid", amps=200), piles=(pile,))
    new = _new(site)
    key = ("P", 1)
    assert set(new.caps[key]) == {16.0}
    raised = tuple(20.0 if k >= 8 else a for k, a in enumerate(new.amps[key]))
    previous = _with_rows(new, {key: raised})
    assert previous.overloads() == []
    assert held(new, previous, new.start_epoch, HOUR).amps[key] == new.amps[key]
    lowered = tuple(10.0 if k >= 8 else a for k, a in enumerate(new.amps[key]))
    assert held(new, _with_rows(new, {key: lowered}), new.start_epoch, HOUR).amps[key] == lowered

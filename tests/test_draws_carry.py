"""An EVSE's draw carried from an earlier plan is the draw computed afresh (issue 13).

``site._plancheck.Draws`` keeps each draw (the EVSE's timeline under a store, idle time
included) for later plans, keyed on everything it depends on by value; a later plan whose
window lies within the earlier one's takes it cut to its window (``_carry``), unless a
profile it depends on has no fixed start (its schedule would start with the window).
Pinned here against ``evse_timeline`` over the later window itself, on random sites with
and without such profiles, and for the memo's bound. The send plans as a whole are pinned
against a reference without any memo in tests/test_send_plan_speedups.py.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest.mock import patch

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies_site import T0, hostile_sites, sites

from ocpp_schedule.site import Evse, Pile, Session, Site, _plancheck
from ocpp_schedule.site._timelines import evse_timeline, pile_store
from ocpp_schedule.station._store import ProfileStore
from ocpp_schedule.wire._timestamps import to_epoch

START = to_epoch(T0)


def _relative_default(level: int, limits: list[int]) -> dict[str, Any]:
    """A Relative TxDefaultProfile on EVSE 0: without a transaction it starts with the window."""
    return {
        "connectorId": 0,
        "csChargingProfiles": {
            "chargingProfileId": 90,
            "stackLevel": level,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Relative",
            "chargingSchedule": {
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [
                    {"startPeriod": i * 1800, "limit": float(v)} for i, v in enumerate(limits)
                ],
            },
        },
    }


@st.composite
def _sites(draw: Any) -> Site:
    """A random site; on some piles, also a Relative TxDefaultProfile (no fixed start)."""
    site = draw(st.one_of(sites(), hostile_sites()))
    piles = []
    for pile in site.piles:
        if draw(st.booleans()):
            limits = draw(st.lists(st.integers(0, 32), min_size=2, max_size=4))
            extra = _relative_default(draw(st.integers(0, 3)), limits)
            pile = pile.model_copy(update={"requests": (*pile.requests, extra)})
        piles.append(pile)
    return Site.model_validate({**site.model_dump(), "piles": [p.model_dump() for p in piles]})


_HOURS = st.integers(0, 12).map(lambda h: h * 1800)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_sites(), _HOURS, _HOURS, _HOURS, _HOURS)
def test_property_a_carried_draw_is_the_draw_over_the_later_window(
    site: Site, early: int, later: int, length: int, shorter: int
) -> None:
    """A plan over [s0, e0), then one over [s, e) within it: every EVSE's draw under the same
    store (a copy, as a send plan's stores are) equals the one computed over [s, e)."""
    s0, e0 = START - 3600 + early, START + 8 * 3600 + length
    s = min(s0 + later, e0 - 1)
    e = max(s + 1, e0 - shorter)
    _plancheck.clear_draw_caches()
    first, second = _plancheck.Draws(s0, e0), _plancheck.Draws(s, e)
    for pile in site.piles:
        kept, config = pile_store(pile, site)
        store = ProfileStore(list(kept))
        for evse in pile.evses:
            assert first(pile, evse, store, config) == evse_timeline(
                pile, evse, store, config, s0, e0, idle=True
            )
            assert second(pile, evse, store, config) == evse_timeline(
                pile, evse, store, config, s, e, idle=True
            )


def _one_pile_site(requests: tuple[dict[str, Any], ...], sessions: tuple[Session, ...]) -> Site:
    from ocpp_schedule.site import Circuit

    pile = Pile(id="P1", circuit="grid", evses=(Evse(id=1, sessions=sessions),), requests=requests)
    return Site(name="one", grid=Circuit(id="grid", amps=100.0), piles=(pile,))


def test_a_draw_under_a_profile_without_fixed_start_is_computed_again() -> None:
    """Idle, a Relative TxDefaultProfile starts with the window: 6 A for 30 min, then 16 A.
    A window 15 min later has its 6 A up to 45 min, not the earlier window's 30 min."""
    site = _one_pile_site((_relative_default(0, [6, 16]),), ())
    pile, evse = site.piles[0], site.piles[0].evses[0]
    kept, config = pile_store(pile, site)
    store = ProfileStore(list(kept))
    _plancheck.clear_draw_caches()
    _plancheck.Draws(START, START + 7200)(pile, evse, store, config)
    later = _plancheck.Draws(START + 900, START + 7200)(pile, evse, store, config)
    assert later == evse_timeline(pile, evse, store, config, START + 900, START + 7200, idle=True)
    assert [(p.start - START, p.cap) for p in later] == [(900, 6.0), (900 + 1800, 16.0)]


def test_a_draw_over_a_window_the_earlier_one_does_not_cover_is_computed() -> None:
    session = Session(arrive=T0, leave=T0 + timedelta(hours=3), max_amps=16.0)
    site = _one_pile_site((), (session,))
    pile, evse = site.piles[0], site.piles[0].evses[0]
    kept, config = pile_store(pile, site)
    _plancheck.clear_draw_caches()
    _plancheck.Draws(START + 900, START + 3600)(pile, evse, kept, config)
    for window in ((START, START + 3600), (START + 900, START + 7200)):
        got = _plancheck.Draws(*window)(pile, evse, kept, config)
        assert got == evse_timeline(pile, evse, kept, config, *window, idle=True)


def test_the_draw_memo_is_bounded() -> None:
    """Never more than MEMO_DRAWS draws kept (least recently used out)."""
    _plancheck.clear_draw_caches()
    with patch.object(_plancheck, "MEMO_DRAWS", 3):
        for k in range(8):
            session = Session(arrive=T0, leave=T0 + timedelta(hours=k + 1), max_amps=16.0)
            site = _one_pile_site((), (session,))
            pile, evse = site.piles[0], site.piles[0].evses[0]
            kept, config = pile_store(pile, site)
            _plancheck.Draws(START, START + 86400)(pile, evse, kept, config)
            assert _plancheck.memo_size() <= 3
    assert _plancheck.memo_size() == 3
    _plancheck.clear_draw_caches()
    assert _plancheck.memo_size() == 0


def test_an_evse_whose_sessions_changed_is_not_carried() -> None:
    """The same pile, EVSE id, configuration and profiles, but the vehicle now leaves earlier:
    its draw is computed again (the EVSE with its sessions is part of the key)."""
    draws = []
    for hours in (3, 1):
        session = Session(arrive=T0, leave=T0 + timedelta(hours=hours), max_amps=16.0)
        site = _one_pile_site((), (session,))
        pile, evse = site.piles[0], site.piles[0].evses[0]
        kept, config = pile_store(pile, site)
        store = ProfileStore(list(kept))
        if hours == 3:
            _plancheck.clear_draw_caches()
        got = _plancheck.Draws(START + 900 * (3 - hours), START + 7200)(pile, evse, store, config)
        window = (START + 900 * (3 - hours), START + 7200)
        assert got == evse_timeline(pile, evse, store, config, *window, idle=True)
        draws.append(got)
    assert draws[0] != draws[1]

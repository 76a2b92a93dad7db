"""Re-plan caches (issue 13): a warm re-plan gives exactly what a cold one gives.

The site layer memoises, by content, each pile's replayed store and each EVSE's
composite over a window that does not move with the re-plan
(``site/_timelines.py``). These tests compare a warm re-plan (after one at an
earlier instant, so every cache is filled) with a reference computed the way the
library did before the caches: every cache cleared and each composite taken over
exactly the window asked for. They also check that a changed request or session
is never answered from the cache.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest.mock import patch

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies_site import T0, WINDOW, hostile_sites, sites

from ocpp_schedule.errors import OcppScheduleError
from ocpp_schedule.site import (
    Allocation,
    Circuit,
    Evse,
    Pile,
    Session,
    Site,
    _timelines,
    balance,
    evening_peak_tx_default,
    send_plan,
    session_outcomes,
)
from ocpp_schedule.site._timelines import (
    Piece,
    clear_timeline_caches,
    evse_timeline,
    pile_store,
)
from ocpp_schedule.station._config import StationConfig
from ocpp_schedule.station._store import ProfileStore, Transaction


def _exact_pieces(
    store: ProfileStore,
    config: StationConfig,
    evse_id: int,
    a: int,
    b: int,
    tx: Transaction | None,
    hard: float,
    wired: int,
    session: int,
) -> list[Piece]:
    """The pieces as the library computed them before the caches: a composite over [a, b)."""
    return [
        Piece(p0, p1, min(hard, limit), min(wired, phases), session)
        for p0, p1, limit, phases in _timelines._composite(store, config, evse_id, tx, a, b)
    ]


def _replan(site: Site, start: int, duration: int, resolution: int | None) -> Any:
    """Everything a re-plan returns, as plain values; an error as its type and text."""
    try:
        allocation = balance(site, start=start, duration=duration, resolution=resolution)
        plan = send_plan(allocation, at=start)
        outcomes = session_outcomes(allocation)
    except OcppScheduleError as error:
        return (type(error).__name__, str(error))
    return (_values(allocation), plan, outcomes)


def _values(allocation: Allocation) -> tuple[Any, ...]:
    return (
        allocation.boundaries,
        allocation.amps,
        allocation.phases,
        allocation.caps,
        allocation.sessions,
        allocation.paused,
        allocation.loads,
        allocation.limits,
        allocation.watt_limits,
        allocation.pinned,
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(sites(), hostile_sites()),
    st.integers(0, 12).map(lambda k: k * 900),
    st.integers(1, 6).map(lambda k: k * 300),
    st.sampled_from([None, 300, 900]),
)
def test_a_warm_replan_equals_a_cold_exact_one(
    site: Site, offset: int, later: int, resolution: int | None
) -> None:
    first = int(T0.timestamp()) + offset
    second = first + later
    duration = WINDOW
    clear_timeline_caches()
    _replan(site, first, duration, resolution)  # fills every cache
    warm = _replan(site, second, duration, resolution)
    clear_timeline_caches()
    with patch.object(_timelines, "_pieces", _exact_pieces):
        reference = _replan(site, second, duration, resolution)
    assert warm == reference


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(sites(), hostile_sites()), st.integers(0, 24).map(lambda k: k * 600))
def test_every_timeline_equals_the_exact_one(site: Site, offset: int) -> None:
    """Session and idle timelines, after the caches were filled at another window."""
    start = int(T0.timestamp()) + offset
    for pile in site.piles:
        store, config = pile_store(pile, site)
        for evse in pile.evses:
            for window in ((start - 1800, start + WINDOW), (start, start + WINDOW + 86400)):
                for idle in (False, True):
                    got = evse_timeline(pile, evse, store, config, *window, idle=idle)
                    with patch.object(_timelines, "_pieces", _exact_pieces):
                        want = evse_timeline(pile, evse, store, config, *window, idle=idle)
                    assert _as_function(got) == _as_function(want)


def _as_function(pieces: list[Piece]) -> list[tuple[int, int, float, int, int, bool]]:
    """The pieces with equal neighbours merged: the step function they describe."""
    out: list[tuple[int, int, float, int, int, bool]] = []
    for p in pieces:
        if out and out[-1][1] == p.start and out[-1][2:] == (p.cap, p.phases, p.session, p.pinned):
            out[-1] = (out[-1][0], p.end, *out[-1][2:])
        else:
            out.append((p.start, p.end, p.cap, p.phases, p.session, p.pinned))
    return out


# ------------------------------------------------------------------ invalidation


def _pile(limit: float, arrive_minutes: int = 60, tx: str | None = None) -> Pile:
    request = evening_peak_tx_default()
    request["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] = limit
    session = Session(
        arrive=T0 + timedelta(minutes=arrive_minutes),
        leave=T0 + timedelta(hours=20),
        transaction_id=tx,
    )
    return Pile(
        id="P1", circuit="grid", evses=(Evse(id=1, sessions=(session,)),), requests=(request,)
    )


def _site(pile: Pile) -> Site:
    return Site(grid=Circuit(id="grid", amps=100.0), piles=(pile,))


def _timeline(pile: Pile) -> list[Piece]:
    site = _site(pile)
    store, config = pile_store(pile, site)
    start = int(T0.timestamp())
    return evse_timeline(pile, pile.evses[0], store, config, start, start + 86400)


def test_a_changed_request_is_not_answered_from_the_cache() -> None:
    clear_timeline_caches()
    before = _timeline(_pile(32.0))
    after = _timeline(_pile(20.0))
    assert before != after
    assert max(p.cap for p in after) == 20.0
    clear_timeline_caches()
    assert _timeline(_pile(20.0)) == after


def test_a_changed_session_is_not_answered_from_the_cache() -> None:
    clear_timeline_caches()
    early = _timeline(_pile(32.0, arrive_minutes=60))
    late = _timeline(_pile(32.0, arrive_minutes=120))
    assert early[0].start != late[0].start
    clear_timeline_caches()
    assert _timeline(_pile(32.0, arrive_minutes=120)) == late


def test_a_changed_transaction_replays_the_pile_again() -> None:
    """The store depends on the sessions' transactions (a TxProfile binds to one)."""
    clear_timeline_caches()
    site = _site(_pile(32.0, tx="7"))
    first, _ = pile_store(site.piles[0], site)
    other = _site(_pile(32.0, tx="8"))
    second, _ = pile_store(other.piles[0], other)
    assert _timelines._replayed.cache_info().misses == 2
    assert first == second  # no TxProfile: the same profiles, replayed twice


def test_equal_piles_built_apart_share_one_store() -> None:
    """Keyed on content, never on the object: a pile rebuilt equal finds the memo."""
    clear_timeline_caches()
    a, b = _site(_pile(32.0)), _site(_pile(32.0))
    assert a.piles[0] is not b.piles[0]
    assert pile_store(a.piles[0], a)[0] is pile_store(b.piles[0], b)[0]
    c = _site(_pile(31.0))
    assert pile_store(c.piles[0], c)[0] is not pile_store(a.piles[0], a)[0]


def _relative_default() -> dict[str, Any]:
    """A Relative TxDefaultProfile: on an EVSE without a transaction it starts with the window."""
    return {
        "connectorId": 0,
        "csChargingProfiles": {
            "chargingProfileId": 5,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Relative",
            "chargingSchedule": {
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [
                    {"startPeriod": 0, "limit": 10.0},
                    {"startPeriod": 3600, "limit": 20.0},
                ],
            },
        },
    }


def test_an_idle_evse_under_a_relative_profile_is_taken_over_the_window_asked() -> None:
    """Its composite moves with the window, so no other window's answer may serve it."""
    pile = Pile(id="P1", circuit="grid", evses=(Evse(id=1),), requests=(_relative_default(),))
    site = _site(pile)
    store, config = pile_store(pile, site)
    start = int(T0.timestamp())
    clear_timeline_caches()
    for shift in (0, 900, 1800):
        got = evse_timeline(
            pile, pile.evses[0], store, config, start + shift, start + 7200, idle=True
        )
        with patch.object(_timelines, "_pieces", _exact_pieces):
            want = evse_timeline(
                pile, pile.evses[0], store, config, start + shift, start + 7200, idle=True
            )
        assert got == want
        assert got[0].cap == 10.0 and got[0].end == start + shift + 3600


# ------------------------------------------------------------------ bounds


def test_the_composite_memo_is_bounded_in_entries_and_periods() -> None:
    """docs/robustness.md: at most MEMO_COMPOSITES composites, none above MEMO_PERIODS."""
    clear_timeline_caches()
    with patch.object(_timelines, "MEMO_COMPOSITES", 3):
        for minutes in range(10):
            _timeline(_pile(32.0, arrive_minutes=30 + minutes))
        assert _timelines.memo_sizes()[1] == 3
    clear_timeline_caches()
    with patch.object(_timelines, "MEMO_PERIODS", 0):
        got = _timeline(_pile(32.0))
        assert _timelines.memo_sizes()[1] == 0
    clear_timeline_caches()
    assert _timeline(_pile(32.0)) == got


def test_a_pile_with_long_requests_is_replayed_not_kept() -> None:
    clear_timeline_caches()
    with patch.object(_timelines, "MEMO_REQUEST_CHARS", 10):
        site = _site(_pile(32.0))
        first, _ = pile_store(site.piles[0], site)
        second, _ = pile_store(site.piles[0], site)
        assert first is not second and first == second
        assert _timelines.memo_sizes()[0] == 0

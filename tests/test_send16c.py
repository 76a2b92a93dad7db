"""A send plan's draws where one profile leads alone (SEND16C, issue 16) are the engine's.

``engine._leading.leading_rows`` answers an EVSE's composite without the engine's index,
sweep and merge where one profile (the plan's TxProfile or TxDefaultProfile, typically)
leads the EV's stack over the whole window and nothing can combine with it; else None.
``site._plancheck._timeline`` is ``evse_timeline(..., idle=True)`` with each window's
composite from it where it answers. Pinned here:

- ``leading_rows`` against the engine's composite (``_timelines._composite``, the rows
  ``composite_schedule`` answers) on the engine's random single-EVSE cases (every purpose,
  kind, stack level, validity window, transaction binding, 1.6 shape), each with a
  plan-like profile added on top (or below, or tied, or not covering the window), and
  on a Recurring TxDefaultProfile on EVSE 0 that leads;
- ``_timeline`` against ``evse_timeline`` for every store a send plan's post-condition
  is given (before the plan and after each step), cold and re-planned, on random sites
  whose piles may also hold a Recurring TxDefaultProfile on EVSE 0 (which binds where
  the plan's profile does not lead) or a Relative one (no fixed start);
- whole plans with the fast path on and off (``_plancheck.LEADING``): the same plan or
  the same error;
- examples: the benchmark's pile answers without the engine (not a vacuous fast path),
  and a cap, a W profile or a tie leaves it to the engine.
"""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from strategies_engine import T0, Case, at, iso, single_evse_cases
from strategies_site import hostile_sites, sites
from test_send_plan_speedups import (
    ReplanCase,
    _plan,
    cold_plan_then_replan,
    replan_cases,
)

from ocpp_schedule import (
    ChargingLimitSource,
    ChargingProfile,
    InstalledProfile,
    StationConfig,
    Transaction,
)
from ocpp_schedule.engine._leading import leading_rows
from ocpp_schedule.errors import OcppScheduleError
from ocpp_schedule.site import Site, _plancheck, _sendplan, evening_peak_tx_default
from ocpp_schedule.site._sendplan import SendPlan
from ocpp_schedule.site._timelines import _composite, evse_timeline
from ocpp_schedule.station._store import ProfileStore

# ------------------------------------------------------------------ leading_rows


def _engine(store: ProfileStore, case: Case, tx: Transaction | None, lo: int, hi: int) -> Any:
    """The engine's rows, or its error as (type, message)."""
    try:
        return _composite(store, case.config, case.evse_id, tx, lo, hi)
    except OcppScheduleError as error:
        return (type(error).__name__, str(error))


def _fast(store: ProfileStore, case: Case, tx: Transaction | None, lo: int, hi: int) -> Any:
    try:
        return leading_rows(store, case.config, case.evse_id, tx, lo, hi)
    except OcppScheduleError as error:
        return (type(error).__name__, str(error))


@st.composite
def _plan_like(draw: st.DrawFn, case: Case, tx: Transaction | None) -> list[InstalledProfile]:
    """0-2 profiles such as a send plan installs on the queried EVSE: Absolute, fixed start
    (mostly at or before the window), open-ended (mostly), at a stack level that may be
    above, equal to or below the others'; a TxDefaultProfile and/or a TxProfile for the
    transaction (or another one), in A (rarely W)."""
    out = []
    for pid, purpose in ((9001, "TxDefaultProfile"), (9002, "TxProfile")):
        if draw(st.integers(0, 3)) == 0:
            continue
        starts = [0]
        for _ in range(draw(st.integers(0, 4))):
            starts.append(starts[-1] + draw(st.sampled_from([300, 900, 1800, 3600, 7])))
        unit = draw(st.sampled_from(["A"] * 9 + ["W"]))
        periods = []
        for s in starts:
            period: dict[str, Any] = {
                "startPeriod": s,
                "limit": draw(
                    st.one_of(
                        st.integers(0, 32).map(float),
                        st.integers(0, 320).map(lambda x: x / 10),
                        st.integers(0, 32_000).map(lambda x: x / 1000),
                    )
                ),
            }
            phases = draw(st.sampled_from([None, None, 1, 3]))
            if phases is not None:
                period["numberPhases"] = phases
            periods.append(period)
        schedule: dict[str, Any] = {
            "startSchedule": iso(case.start - draw(st.sampled_from([0, 0, 600, 86400, -600]))),
            "chargingRateUnit": unit,
            "chargingSchedulePeriod": periods,
        }
        if draw(st.integers(0, 4)) == 0:
            schedule["duration"] = draw(st.sampled_from([600, 3600, 10**6]))
        profile: dict[str, Any] = {
            "id": pid,
            "stackLevel": draw(st.one_of(st.integers(0, 5), st.integers(4, 6))),
            "chargingProfilePurpose": purpose,
            "chargingProfileKind": "Absolute",
            "chargingSchedule": [schedule],
        }
        if draw(st.integers(0, 5)) == 0:
            profile["validTo"] = iso(case.start + draw(st.sampled_from([600, 7200, 10**6])))
        if draw(st.integers(0, 5)) == 0:
            profile["validFrom"] = iso(case.start + draw(st.sampled_from([-600, 0, 600])))
        bound = None
        if purpose == "TxProfile":
            name = tx.id if tx is not None and draw(st.booleans()) else "tx-other"
            if draw(st.booleans()):
                profile["transactionId"] = name
            else:
                bound = name
        out.append(
            InstalledProfile(
                case.evse_id,
                ChargingProfile.model_validate(profile),
                ChargingLimitSource.CSO,
                bound,
            )
        )
    return out


_EV_PURPOSES = ("TxDefaultProfile", "TxProfile")


@st.composite
def _cases(draw: st.DrawFn) -> tuple[Case, list[InstalledProfile], Transaction | None, int, int]:
    case = draw(single_evse_cases())
    tx = case.transactions.get(case.evse_id) if draw(st.booleans()) else None
    if tx is None and draw(st.integers(0, 3)) == 0:  # a transaction that starts in the window
        tx = Transaction(f"tx-{case.evse_id}", case.evse_id, at(case.start + 300))
    lo = case.start
    hi = lo + max(case.duration, draw(st.sampled_from([1, 600, 3600, 86400, 3 * 86400])))
    own = case.profiles
    if draw(st.integers(0, 2)) > 0:  # mostly only EV stacks in A: the fast path applies
        own = [
            e
            for e in own
            if e.profile.charging_profile_purpose.value in _EV_PURPOSES
            and e.profile.charging_schedule[0].charging_rate_unit.value == "A"
        ]
    profiles = [*own, *draw(_plan_like(case, tx))]
    order = draw(st.permutations(range(len(profiles))))
    return case, [profiles[k] for k in order], tx, lo, hi


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_cases())
def test_property_leading_rows_are_the_engine_composite(drawn: Any) -> None:
    """Where ``leading_rows`` answers, the engine's composite is the same rows (or the same
    error is raised by both)."""
    case, profiles, tx, lo, hi = drawn
    store = ProfileStore(profiles)
    fast = _fast(store, case, tx, lo, hi)
    event("answered" if isinstance(fast, tuple) and fast and fast[0].__class__ is tuple else "not")
    if fast is None:
        return
    assert fast == _engine(ProfileStore(profiles), case, tx, lo, hi)


_EVSE0_RECURRING = evening_peak_tx_default()


def _store(*profiles: dict[str, Any], evse: int = 1) -> ProfileStore:
    """Installed profiles (2.x JSON, each with its EVSE as ``_evse``; default ``evse``)."""
    out = []
    for p in profiles:
        p = dict(p)
        owner = p.pop("_evse", evse)
        bound = p.pop("_tx", None)
        out.append(
            InstalledProfile(
                owner, ChargingProfile.model_validate(p), ChargingLimitSource.CSO, bound
            )
        )
    return ProfileStore(out)


def _profile(pid: int, purpose: str, level: int, start: int, limits: list[float], **extra: Any):
    return {
        "id": pid,
        "stackLevel": level,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": "Absolute",
        "chargingSchedule": [
            {
                "startSchedule": iso(start),
                "chargingRateUnit": extra.pop("unit", "A"),
                "chargingSchedulePeriod": [
                    {"startPeriod": 900 * k, "limit": v, "numberPhases": 3}
                    for k, v in enumerate(limits)
                ],
            }
        ],
        **extra,
    }


_RECURRING = {
    "_evse": 0,
    "id": 1,
    "stackLevel": 0,
    "chargingProfilePurpose": "TxDefaultProfile",
    "chargingProfileKind": "Recurring",
    "recurrencyKind": "Daily",
    "chargingSchedule": [
        {
            "startSchedule": iso(T0 - 86400 * 3 + 3600),
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": 32.0},
                {"startPeriod": 61200, "limit": 16.0},
                {"startPeriod": 75600, "limit": 32.0},
            ],
        }
    ],
}


_RECURRING_WITH_GAPS = {
    **_RECURRING,
    "chargingSchedule": [{**_RECURRING["chargingSchedule"][0], "duration": 3600}],
}
"""In force one hour a day: the default limit between."""


def _both(store: ProfileStore, tx: Transaction | None, lo: int, hi: int) -> Any:
    config = StationConfig()
    fast = leading_rows(store, config, 1, tx, lo, hi)
    return fast, _composite(store, config, 1, tx, lo, hi)


def test_the_plan_profiles_answer_without_the_engine() -> None:
    """The benchmark's pile: a Recurring TxDefaultProfile on EVSE 0 below the plan's
    TxDefaultProfile and TxProfile. Every window answers, the same as the engine: with the
    transaction (its TxProfile leads), without it (the plan's TxDefaultProfile leads), and
    before the TxDefaultProfile is installed (the Recurring one leads, over days)."""
    tx = Transaction("t1", 1, at(T0 - 1800))
    plan_default = _profile(2_000_000_002, "TxDefaultProfile", 1, T0, [10.0, 12.5, 6.25])
    plan_tx = _profile(2_000_000_003, "TxProfile", 0, T0, [8.0, 8.0, 16.04], transactionId="t1")
    full = _store(_RECURRING, plan_default, plan_tx)
    for store, tx_ in ((full, tx), (full, None), (_store(_RECURRING, plan_tx), None)):
        for lo, hi in ((T0, T0 + 7200), (T0 + 300, T0 + 3 * 86400 + 17)):
            fast, engine = _both(store, tx_, lo, hi)
            assert fast is not None
            assert fast == engine
    fast, _ = _both(full, tx, T0, T0 + 7200)
    assert fast == ((T0, T0 + 1800, 8.0, 3), (T0 + 1800, T0 + 7200, 16.0, 3))


def test_what_can_combine_is_left_to_the_engine() -> None:
    """A cap, an external constraint, a W profile, a profile not in force over the whole
    window (a later start, a validTo or validFrom inside it, a Recurring one in force only
    part of each day), or an unknown EVSE: None (the engine answers)."""
    tx = Transaction("t1", 1, at(T0 - 1800))
    plan = _profile(2_000_000_002, "TxDefaultProfile", 1, T0, [10.0])
    cases = [
        _store(plan, {**_profile(5, "ChargingStationMaxProfile", 0, T0, [20.0]), "_evse": 0}),
        _store(plan, {**_profile(6, "ChargingStationExternalConstraints", 0, T0, [20.0])}),
        _store(_profile(2_000_000_002, "TxDefaultProfile", 1, T0, [7000.0], unit="W")),
        _store(_profile(2_000_000_002, "TxDefaultProfile", 1, T0 + 600, [10.0])),
        _store(_profile(7, "TxDefaultProfile", 1, T0, [10.0], validTo=iso(T0 + 3600))),
        _store(_profile(8, "TxDefaultProfile", 1, T0, [10.0], validFrom=iso(T0 + 600))),
        _store(_RECURRING_WITH_GAPS),
    ]
    for store in cases:
        assert _both(store, tx, T0, T0 + 7200)[0] is None
    tied = _store(plan, {**_profile(2_000_000_002, "TxDefaultProfile", 1, T0, [9.0]), "_evse": 0})
    assert _both(tied, None, T0, T0 + 7200)[0] is not None  # EVSE-specific first: no tie
    unknown = StationConfig(evse_ids=(2,))
    assert leading_rows(_store(plan), unknown, 1, None, T0, T0 + 60) is None


# ------------------------------------------------------------------ the draws


def _with_evse0_defaults(draw: st.DrawFn, site: Site) -> Site:
    """On some piles, a Recurring TxDefaultProfile on EVSE 0 (the benchmark's, which binds
    where nothing above it is in force) or a Relative one (no fixed start)."""
    piles = []
    for pile in site.piles:
        kind = draw(st.sampled_from(["none", "recurring", "recurring", "relative"]))
        extra: dict[str, Any] | None = None
        if kind == "recurring":
            extra = {
                **_EVSE0_RECURRING,
                "csChargingProfiles": {
                    **_EVSE0_RECURRING["csChargingProfiles"],
                    "chargingProfileId": 77,
                    "stackLevel": draw(st.integers(0, 2)),
                },
            }
        elif kind == "relative":
            extra = {
                "connectorId": 0,
                "csChargingProfiles": {
                    "chargingProfileId": 78,
                    "stackLevel": draw(st.integers(0, 2)),
                    "chargingProfilePurpose": "TxDefaultProfile",
                    "chargingProfileKind": "Relative",
                    "chargingSchedule": {
                        "chargingRateUnit": "A",
                        "chargingSchedulePeriod": [
                            {"startPeriod": 0, "limit": 20.0},
                            {"startPeriod": 3600, "limit": 12.0},
                        ],
                    },
                },
            }
        if extra is not None:
            pile = pile.model_copy(update={"requests": (*pile.requests, extra)})
        piles.append(pile)
    return Site.model_validate({**site.model_dump(), "piles": [p.model_dump() for p in piles]})


@st.composite
def _sites(draw: st.DrawFn) -> Site:
    return _with_evse0_defaults(draw, draw(st.one_of(sites(), hostile_sites())))


SITES = replan_cases(_sites())


def _checked_stores(allocation: Any, **kwargs: Any) -> list[tuple[int, int, Any]]:
    """(start, end, {pile: store} before, [(pile, store) after each step]) the post-condition
    is given, with the plan's site."""
    seen: list[Any] = []
    real = _sendplan.check_plan

    def spy(site: Any, start: int, end: int, before: Any, changes: Any, **rest: Any) -> Any:
        stores = [(pid, store, config) for pid, (store, config) in before.items()]
        configs = {pid: config for pid, (_, config) in before.items()}
        stores += [(c.pile, c.store, configs[c.pile]) for c in changes]
        seen.append((site, start, end, stores))
        return real(site, start, end, before, changes, **rest)

    with patch.object(_sendplan, "check_plan", spy):
        _plan(allocation, **kwargs)
    return seen


def _draws_agree(allocation: Any, **kwargs: Any) -> None:
    answered = 0
    for site, start, end, stores in _checked_stores(allocation, **kwargs):
        piles = {p.id: p for p in site.piles}
        for pid, store, config in stores:
            pile = piles[pid]
            for evse in pile.evses:
                expected = evse_timeline(pile, evse, store, config, start, end, idle=True)
                try:
                    with patch.object(_plancheck, "evse_timeline", _not_called):
                        fast = _plancheck._timeline(pile, evse, store, config, start, end)
                    answered += 1
                except _Fallback:  # not answered without the engine: its timeline
                    fast = _plancheck._timeline(pile, evse, store, config, start, end)
                assert fast == expected
    event(f"draws answered without the engine: {min(answered, 10)}{'+' if answered >= 10 else ''}")


class _Fallback(Exception):
    pass


def _not_called(*args: Any, **kwargs: Any) -> Any:
    raise _Fallback


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@SITES
def test_property_every_checked_draw_is_evse_timeline(case: ReplanCase) -> None:
    """Every store the post-condition is given, cold and re-planned (with the previous
    plan): each EVSE's draw is ``evse_timeline``'s."""
    cold = cold_plan_then_replan(case, _plan)
    if cold is None:
        return
    new, carried, kwargs = cold
    _draws_agree(kwargs["previous"])
    _draws_agree(new, previous_plan=carried, **kwargs)


def _reference(allocation: Any, **kwargs: Any) -> SendPlan | str:
    """send_plan without SEND16C's fast paths: every draw from ``evse_timeline`` (none
    carried from an earlier plan's memo), every EVSE's entries compared at every step."""
    _plancheck.clear_draw_caches()
    with patch.object(_plancheck, "LEADING", False), patch.object(_plancheck, "TOUCHED", False):
        return _plan(allocation, **kwargs)


# ------------------------------------------------------------------ the touched EVSEs


@st.composite
def _store_pairs(draw: st.DrawFn) -> tuple[ProfileStore, ProfileStore]:
    """Two stores sharing some entry objects, each in its own order (ids may repeat: a
    later entry with the same id wins)."""
    pool = []
    for k in range(draw(st.integers(1, 8))):
        evse = draw(st.integers(0, 3))
        pid = draw(st.integers(1, 6))
        profile = _profile(pid, "TxDefaultProfile", draw(st.integers(0, 2)), T0, [float(k)])
        pool.append(
            InstalledProfile(evse, ChargingProfile.model_validate(profile), ChargingLimitSource.CSO)
        )
    old = draw(st.lists(st.sampled_from(pool), max_size=8))
    if draw(st.booleans()):
        new = list(old)
        for _ in range(draw(st.integers(0, 2))):  # a step: replace or add one entry
            new.append(draw(st.sampled_from(pool)))
    else:
        new = draw(st.permutations(draw(st.lists(st.sampled_from(pool), max_size=8))))
    return ProfileStore(old), ProfileStore(new)


@settings(max_examples=500, deadline=None)
@given(_store_pairs())
def test_property_an_evse_not_touched_has_the_same_entries(pair: Any) -> None:
    """Every EVSE ``_touched`` does not name has equal entries (on it and EVSE 0) in both."""
    old, new = pair
    touched = _plancheck._touched(old, new)
    event("all may differ" if touched is None else f"touched: {len(touched)}")
    if touched is None:
        return
    for evse in (1, 2, 3):
        if evse not in touched:
            assert _plancheck._relevant(old, evse) == _plancheck._relevant(new, evse)
    assert _plancheck._touched(old, old) == set()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@SITES
def test_property_the_plan_is_the_reference_plan(case: ReplanCase) -> None:
    """The same plan (steps, payloads, order, tails, warnings, validity, EVSEs sent) or the
    same error with the fast path on and off, cold and re-planned (memos cleared between,
    so that no draw is carried from the other)."""
    _plancheck.clear_draw_caches()
    cold = cold_plan_then_replan(case, _reference)
    if cold is None:
        return
    new, carried, kwargs = cold
    _plancheck.clear_draw_caches()
    fast = _plan(new, previous_plan=carried, **kwargs)
    assert fast == _reference(new, previous_plan=carried, **kwargs)

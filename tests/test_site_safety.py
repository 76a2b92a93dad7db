"""Issue 11, site part: balancing is never unsafe, and every bad site is a typed error.

One test (or property) per defect class: F20 weights, W1 steps, F3 pause cache, F2
minimum after rounding and sessions sharing a slot, F6 TxProfiles held for later
sessions (pinned demands), F21 duplicate transaction ids, F25 time zones, F8 step
offsets, F10/F11 calendar ends, F16/F22 size bounds, F19(c) caller dicts, deep and
non-UTF-8 site files, unknown fields.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from strategies_site import T0, WINDOW, hostile_sites

import ocpp_schedule.site._allocation as allocation_module
import ocpp_schedule.site._slotshare as slotshare_module
from ocpp_schedule import (
    OcppScheduleError,
    QueryError,
    SafetyError,
    composite_schedule,
    install,
    read_set_charging_profile,
)
from ocpp_schedule.site import (
    MAX_CELLS,
    MAX_SLOTS,
    Allocation,
    EqualShare,
    Weighted,
    balance,
    pile_store,
    session_transaction,
)
from ocpp_schedule.site._fairshare import share_fairly
from ocpp_schedule.site._model import (
    Circuit,
    Evse,
    LimitStep,
    Pile,
    Session,
    Site,
    SiteError,
    load_site,
    site_zone,
)
from ocpp_schedule.site._report import _sweep, site_report
from ocpp_schedule.station import StationState

REPRO = Path("/work/shared/reproductions")
HOUR = 3600


def _h(x: float) -> datetime:
    return T0 + timedelta(hours=x)


def _write(tmp_path: Path, data: Any, name: str = "site.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def _minimal(**session: Any) -> dict[str, Any]:
    s = {"arrive": "2024-03-04T08:00:00Z", "leave": "2024-03-04T10:00:00Z", **session}
    return {
        "grid": {"id": "g", "amps": 32},
        "piles": [{"id": "P", "circuit": "g", "evses": [{"id": 1, "sessions": [s]}]}],
    }


def _feeder_site(sessions: list[Session], feeder: float = 40.0, **circuit: Any) -> Site:
    piles = tuple(
        Pile(id=f"P{i}", circuit="f", evses=(Evse(id=1, sessions=(s,)),))
        for i, s in enumerate(sessions)
    )
    grid = Circuit(id="g", amps=1000.0, children=(Circuit(id="f", amps=feeder, **circuit),))
    return Site(grid=grid, piles=piles)


# ------------------------------------------------------------------ the oracle


def _circuit_limit_at(circuit: Circuit, t: int) -> tuple[tuple[float, ...], float | None]:
    """The circuit's limits at ``t`` read straight from the model (UTC sites, no profile)."""
    tod = datetime.fromtimestamp(t, UTC).time()
    amps, watts = tuple(circuit.amps), circuit.watts
    for step in sorted(circuit.steps, key=lambda s: s.start):
        if step.start <= tod:
            amps = tuple(circuit.amps if step.amps is None else step.amps)
            watts = circuit.watts if step.watts is None else step.watts
    return amps, watts


def _plan_tx_default(evse: int, periods: list[tuple[int, int, float, int]]) -> dict[str, Any]:
    start = periods[0][0]
    return {
        "connectorId": evse,
        "csChargingProfiles": {
            "chargingProfileId": 9000 + evse,
            "stackLevel": 100,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": {
                "startSchedule": datetime.fromtimestamp(start, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [
                    {"startPeriod": a - start, "limit": amps} for a, _, amps, _ in periods
                ],
            },
        },
    }


def _draws(allocation: Allocation, pile: Pile, times: list[int]) -> dict[int, list[float]]:
    """What each EVSE of the pile actually draws at each instant under the plan.

    A session running at the window start is held by the plan's own TxProfile: it
    draws at most its given limit. A later session has only the plan's TxDefault
    (installed here, at the top stack level, through the library's own rules) and
    draws the pile's composite with it: a TxProfile held for it beats the TxDefault.
    """
    site = allocation.site
    start = allocation.start_epoch
    out: dict[int, list[float]] = {}
    for evse in pile.evses:
        key = (pile.id, evse.id)
        row = [0.0] * len(times)
        store, config = pile_store(pile, site)
        request = read_set_charging_profile(
            _plan_tx_default(evse.id, allocation.evse_periods(key)), "1.6"
        )
        for session in evse.sessions:
            arrive, leave = int(session.arrive.timestamp()), int(session.leave.timestamp())
            hard = min(evse.max_amps, session.max_amps or math.inf)
            tx = session_transaction(pile, evse, session)
            later = arrive > start
            if arrive >= allocation.end_epoch or leave <= start:
                continue
            if later:
                held, result = install(store, request, StationState(config, pile.ocpp, (tx,)))
                assert result.status == "Accepted", result
                lo = max(arrive, start)
                schedule = composite_schedule(
                    held,
                    evse_id=evse.id,
                    start=lo,
                    duration=min(leave, allocation.end_epoch) - lo,
                    unit="A",
                    transaction=tx,
                    config=config,
                )
            for n, t in enumerate(times):
                if not arrive <= t < leave:
                    continue
                k = next(k for k, (a, b) in enumerate(allocation.slots()) if a <= t < b)
                if later:
                    row[n] = min(schedule.period_at(t).limit, hard)
                else:
                    row[n] = allocation.amps[key][k]
        out[evse.id] = row
    return out


def _assert_safe(allocation: Allocation) -> None:
    """No circuit phase or power limit exceeded at any instant; EVSE limits and minima."""
    site = allocation.site
    times = list(range(allocation.start_epoch, allocation.end_epoch, 300))
    paths = site.paths()
    circuits = site.circuits()
    loads = {c: [[0.0, 0.0, 0.0] for _ in times] for c in circuits}
    for pile in site.piles:
        draws = _draws(allocation, pile, times)
        for evse in pile.evses:
            for n, t in enumerate(times):
                present = [
                    s for s in evse.sessions if s.arrive.timestamp() <= t < s.leave.timestamp()
                ]
                if not present:
                    continue
                phases = min(max(s.phases for s in present), evse.phases)
                for p in range(phases):
                    for c in paths[pile.circuit]:
                        loads[c][n][pile.circuit_phase(p)] += draws[evse.id][n]
        for evse in pile.evses:
            key = (pile.id, evse.id)
            for k, (a, b) in enumerate(allocation.slots()):
                given = allocation.amps[key][k]
                assert 0 <= given <= evse.max_amps
                if given == 0 or allocation.pinned[key][k]:
                    continue
                for s in evse.sessions:
                    if s.arrive.timestamp() < b and s.leave.timestamp() > a:
                        assert given >= s.min_amps, (key, k, given, s.min_amps)
                        assert s.max_amps is None or given <= s.max_amps
    for c, rows in loads.items():
        for n, load in enumerate(rows):
            amps, watts = _circuit_limit_at(circuits[c], times[n])
            for p in range(3):
                assert load[p] <= amps[p] + 1e-6, (c, times[n], p, load, amps)
            if watts is not None:
                assert sum(load) * site.voltage <= watts + 1e-3, (c, times[n], load, watts)


@settings(max_examples=300, deadline=None)
@given(hostile_sites(), st.sampled_from([None, 900]), st.sampled_from(["equal", "weighted"]))
def test_property_balanced_limits_are_safe_for_any_weights_steps_and_held_profiles(
    site: Site, resolution: int | None, policy: str
) -> None:
    """F20, W1, F2, F6: whatever the weights (accepted range), steps and held profiles."""
    pol = EqualShare() if policy == "equal" else Weighted()
    try:
        allocation = balance(site, start=T0, duration=WINDOW, resolution=resolution, policy=pol)
    except SafetyError as exc:
        # Only TxProfiles the plan cannot replace may overload a circuit by themselves.
        assert exc.rule is not None and "pinned" in exc.rule, exc
        assert exc.field in site.circuits()
        event("pinned demands alone overload a circuit")
        return
    event("pinned slots" if any(any(v) for v in allocation.pinned.values()) else "no pins")
    _assert_safe(allocation)
    assert allocation.overloads() == []


@settings(max_examples=200, deadline=None)
@given(
    st.integers(100, 8000).map(lambda x: x / 100),
    st.lists(st.integers(0, 1000).map(lambda x: x / 100), min_size=1, max_size=5),
)
def test_property_every_limit_is_zero_or_at_least_the_minimum(
    feeder: float, minima: list[float]
) -> None:
    """F2(a): minima and feeders with any two decimals; shares are cut to 0.1 A."""
    sessions = [
        Session(arrive=T0 + timedelta(minutes=i), leave=_h(2), min_amps=m)
        for i, m in enumerate(minima)
    ]
    allocation = balance(_feeder_site(sessions, feeder=feeder), start=_h(0.5), duration=HOUR)
    for i, m in enumerate(minima):
        for limit in allocation.amps[(f"P{i}", 1)]:
            assert limit == 0 or limit >= m, (feeder, minima, i, limit)
    assert allocation.overloads() == []


# ------------------------------------------------------------------ F20 weights


@pytest.mark.parametrize(
    "weights",
    [[1e17, 1.0, 1.0], [1e-16, 1e-16, 1e-16], [1e-16, 1e-16, 1.0], [1e200, 1e-100, 1.0]],
)
def test_share_fairly_respects_a_full_constraint_whatever_the_weights(weights) -> None:
    x = share_fairly([32.0] * 3, weights, [(40.0, [(0, 1.0), (1, 1.0), (2, 1.0)])])
    assert sum(x) <= 40.0 * (1 + 1e-12)
    assert sum(x) >= 40.0 * (1 - 1e-9)  # and it is filled


def test_share_fairly_refuses_weights_that_are_not_positive_and_finite() -> None:
    for bad in (0.0, -1.0, math.inf, math.nan):
        with pytest.raises(ValueError):
            share_fairly([1.0, 1.0], [1.0, bad], [])
    with pytest.raises(ValueError, match="float range"):  # 1e-300 / 1e300 underflows to 0
        share_fairly([1.0, 1.0], [1e300, 1e-300], [])


def test_weights_outside_the_accepted_range_are_site_errors(tmp_path) -> None:
    for w in (1e17, 1e-16, 1e-4, 1001.0):
        with pytest.raises(SiteError) as info:
            load_site(_write(tmp_path, _minimal(weight=w)))
        assert info.value.field == "piles.0.evses.0.sessions.0.weight"
    with pytest.raises(SiteError):
        load_site(REPRO / "f20_site_vip_weight.json")
    load_site(_write(tmp_path, _minimal(weight=1e3)))
    load_site(_write(tmp_path, _minimal(weight=1e-3)))


def test_weights_at_the_ends_of_the_range_share_a_feeder_safely() -> None:
    sessions = [Session(arrive=T0, leave=_h(1), weight=w) for w in (1e3, 1e-3, 1e-3)]
    allocation = balance(_feeder_site(sessions), start=T0, duration=HOUR, policy=Weighted())
    given = [allocation.amps[(f"P{i}", 1)][0] for i in range(3)]
    assert sum(given) <= 40.0 and given[0] == 32.0


def test_a_policy_weight_outside_the_range_is_a_query_error() -> None:
    class Vip(Weighted):
        def weight(self, pile, evse, session):  # type: ignore[no-untyped-def]
            return 1e17

    site = _feeder_site([Session(arrive=T0, leave=_h(1))])
    with pytest.raises(QueryError) as info:
        balance(site, start=T0, duration=HOUR, policy=Vip())
    assert info.value.field == "policy"


def test_the_post_condition_refuses_an_unsafe_result(monkeypatch) -> None:
    """A broken solver (everyone at their cap) is caught: SafetyError, no result."""
    monkeypatch.setattr(slotshare_module, "fill", lambda caps, w, b, i, c: list(caps))
    site = _feeder_site([Session(arrive=T0, leave=_h(1)) for _ in range(3)])
    with pytest.raises(SafetyError) as info:
        balance(site, start=T0, duration=HOUR)
    assert info.value.field in {"f", "g"}
    assert isinstance(info.value, OcppScheduleError)


def test_the_post_condition_checks_instants_inside_a_slot(monkeypatch) -> None:
    """Aggregation that forgot a step inside a slot would overload at 00:10: refused."""
    real = allocation_module._aggregate_circuit

    def first_piece_only(pieces, slots):  # type: ignore[no-untyped-def]
        return real(pieces[:1], slots)

    monkeypatch.setattr(allocation_module, "_aggregate_circuit", first_piece_only)
    step = LimitStep(start=time(0, 10), amps=(10.0, 10.0, 10.0))
    site = _feeder_site([Session(arrive=T0, leave=_h(1))], feeder=40.0, steps=(step,))
    with pytest.raises(SafetyError):
        balance(site, start=T0, duration=HOUR)


# ------------------------------------------------------------------ W1 steps


def test_a_step_changes_only_what_it_names(tmp_path) -> None:
    site = load_site(REPRO / "w1_step_drops_watts.json")
    allocation = balance(site, start=datetime(2024, 1, 1, 16, tzinfo=UTC), duration=3 * HOUR)
    assert allocation.overloads() == []
    for k, (a, _) in enumerate(allocation.slots()):
        assert allocation.watt_limits["grid"][k] == 30000.0
        assert sum(allocation.loads["grid"][k]) * 230 <= 30000.0
        assert allocation.limits["grid"][k][0] == (
            80.0 if a >= T0.replace(2024, 1, 1, 17).timestamp() else 100.0
        )
    watts_only = LimitStep(start="17:00", watts=5000.0)
    assert watts_only.amps is None
    circuit = Circuit(id="c", amps=50.0, watts=20000.0, steps=(watts_only,))
    assert _circuit_limit_at(circuit, int(datetime(2024, 1, 1, 18, tzinfo=UTC).timestamp())) == (
        (50.0, 50.0, 50.0),
        5000.0,
    )
    with pytest.raises(ValueError, match="amps, watts or both"):
        LimitStep(start="17:00")


# ------------------------------------------------------------------ F3 pause order


def test_pause_decisions_follow_arrival_order_not_a_cached_slot() -> None:
    a = Pile(id="A", circuit="f", evses=(Evse(id=1, sessions=(
        Session(arrive=_h(0), leave=_h(2)), Session(arrive=_h(2), leave=_h(4)))),))  # fmt: skip
    b = Pile(
        id="B", circuit="f", evses=(Evse(id=1, sessions=(Session(arrive=_h(1), leave=_h(4)),)),)
    )
    site = Site(
        grid=Circuit(id="g", amps=100.0, children=(Circuit(id="f", amps=10.0),)), piles=(a, b)
    )
    whole = balance(site, start=_h(0), duration=4 * HOUR, resolution=HOUR)
    late = balance(site, start=_h(2), duration=2 * HOUR, resolution=HOUR)
    assert whole.amps[("B", 1)][2:] == late.amps[("B", 1)] == (10.0, 10.0)
    assert whole.amps[("A", 1)] == (10.0, 10.0, 0.0, 0.0)


# ------------------------------------------------------------------ F2 minimum


def test_a_share_rounded_below_the_minimum_pauses_instead() -> None:
    sessions = [
        Session(arrive=T0 + timedelta(minutes=i), leave=_h(2), min_amps=6.05) for i in (1, 2)
    ]
    allocation = balance(_feeder_site(sessions, feeder=12.15), start=_h(0.1), duration=HOUR)
    given = {k: v[0] for k, v in allocation.amps.items()}
    assert given == {("P0", 1): 12.1, ("P1", 1): 0.0}  # the later arrival waits
    assert all(x == 0 or x >= 6.05 for row in allocation.amps.values() for x in row)


def test_two_sessions_in_one_slot_take_the_strictest_minimum() -> None:
    ev = Evse(id=1, sessions=(
        Session(arrive=_h(9), leave=_h(9) + timedelta(minutes=65), min_amps=6.0),
        Session(arrive=_h(9) + timedelta(minutes=70), leave=_h(12), min_amps=8.0, max_amps=6.0),
    ))  # fmt: skip
    site = Site(grid=Circuit(id="g", amps=100.0), piles=(Pile(id="P", circuit="g", evses=(ev,)),))
    allocation = balance(site, start=_h(9), duration=3 * HOUR, resolution=900)
    # Slot 10:00-10:15 holds both: the 8 A minimum of the second and its own 6 A max pause it.
    assert allocation.amps[("P", 1)][:5] == (32.0, 32.0, 32.0, 32.0, 0.0)
    assert allocation.paused[("P", 1)][4]
    assert set(allocation.amps[("P", 1)][5:]) == {0.0}


# ------------------------------------------------------------------ F6 pinned


def _txprofile(tx: int, limit: float) -> dict[str, Any]:
    return {"connectorId": 1, "csChargingProfiles": {
        "chargingProfileId": 7, "stackLevel": 0, "transactionId": tx,
        "chargingProfilePurpose": "TxProfile", "chargingProfileKind": "Relative",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}]}}}  # fmt: skip


def _f6_site(limit: float, feeder: float = 32.0) -> Site:
    a = Pile(id="A", circuit="f", requests=(_txprofile(42, limit),), evses=(Evse(id=1, sessions=(
        Session(arrive=_h(2), leave=_h(4), transaction_id="42"),)),))  # fmt: skip
    b = Pile(
        id="B", circuit="f", evses=(Evse(id=1, sessions=(Session(arrive=_h(0), leave=_h(4)),)),)
    )
    grid = Circuit(id="g", amps=100.0, children=(Circuit(id="f", amps=feeder),))
    return Site(grid=grid, piles=(a, b))


def test_a_txprofile_held_for_a_later_session_is_a_pinned_demand() -> None:
    allocation = balance(_f6_site(20.0), start=_h(0), duration=4 * HOUR)
    assert allocation.pinned[("A", 1)] == (False,) * 8 + (True,) * 8
    assert not any(allocation.pinned[("B", 1)])
    assert allocation.amps[("A", 1)][8:] == (20.0,) * 8  # what the TxProfile lets it draw
    assert allocation.amps[("B", 1)][8:] == (12.0,) * 8  # the rest of the 32 A feeder
    _assert_safe(allocation)


def test_pinned_demands_that_alone_overload_are_a_safety_error() -> None:
    with pytest.raises(SafetyError) as info:
        balance(_f6_site(32.0, feeder=30.0), start=_h(0), duration=4 * HOUR)
    assert info.value.field == "f"
    assert "pinned" in (info.value.rule or "")


def test_a_session_running_at_the_window_start_is_not_pinned() -> None:
    allocation = balance(_f6_site(32.0), start=_h(2), duration=2 * HOUR)
    assert not any(allocation.pinned[("A", 1)])
    assert allocation.amps[("A", 1)][0] == allocation.amps[("B", 1)][0] == 16.0


# ------------------------------------------------------------------ F21 transaction ids


def test_duplicate_transaction_ids_on_a_pile_are_site_errors(tmp_path) -> None:
    with pytest.raises(SiteError, match="transaction id '7'"):
        load_site(REPRO / "f21_site.json")
    data = _minimal(transaction_id="7")
    evse2 = json.loads(json.dumps(data["piles"][0]["evses"][0]))
    evse2["id"] = 2
    data["piles"][0]["evses"].append(evse2)
    with pytest.raises(SiteError, match="unique per station"):
        load_site(_write(tmp_path, data))  # per pile (station), not per EVSE
    other = json.loads(json.dumps(data["piles"][0]))
    data["piles"][0]["evses"].pop()
    other["id"] = "Q"
    other["evses"].pop()
    data["piles"].append(other)
    load_site(_write(tmp_path, data))  # two stations may use the same id


# ------------------------------------------------------------------ F25 zones, F8 offsets


@pytest.mark.parametrize(
    "zone",
    ["", ":", ":Europe/Berlin", "/usr/share/zoneinfo/UTC", "/etc/localtime",
     "../../../../usr/share/zoneinfo/Asia/Tokyo", "usr/share/zoneinfo/Asia/Tokyo",
     "EST5", "Europe/Nowhere", " UTC", "zone.tab"],
)  # fmt: skip
def test_only_iana_zone_names(tmp_path, zone: str) -> None:
    data = _minimal()
    data["time_zone"] = zone
    with pytest.raises(SiteError) as info:
        load_site(_write(tmp_path, data))
    assert info.value.field == "time_zone"


def test_iana_zone_names_are_accepted() -> None:
    for name in ("UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires", "Etc/GMT+5"):
        assert site_zone(name) is not None


def test_a_step_start_with_an_offset_is_refused(tmp_path) -> None:
    with pytest.raises(SiteError) as info:
        load_site(REPRO / "f08_site_step_mixed_offset.json")
    assert info.value.field == "grid.steps.1.start"
    for text in ("18:00:00Z", "18:00:00+00:00", "18:00:00-05:30"):
        with pytest.raises(ValueError, match="no UTC offset"):
            LimitStep(start=text, amps=10.0)


# ------------------------------------------------------------------ F10/F11 calendar


@pytest.mark.parametrize(
    ("arrive", "leave"),
    [
        ("0001-01-01T00:30:00+01:00", "0001-01-02T05:00:00Z"),
        ("0001-01-01T01:00:00Z", "0001-01-01T05:00:00Z"),
        ("9999-12-31T20:00:00Z", "9999-12-31T23:00:00Z"),
        ("9999-12-30T20:00:00Z", "9999-12-31T23:59:59-01:00"),
    ],
)
def test_session_times_near_the_calendar_ends_are_site_errors(tmp_path, arrive, leave) -> None:
    with pytest.raises(SiteError, match=r"0001-01-05 \.\. 9999-12-27"):
        load_site(_write(tmp_path, _minimal(arrive=arrive, leave=leave)))


@pytest.mark.parametrize("zone", ["America/New_York", "Pacific/Kiritimati", "UTC"])
def test_the_first_and_last_accepted_days_balance_and_report(tmp_path, zone) -> None:
    for arrive, leave in (
        ("0001-01-05T00:00:00Z", "0001-01-05T05:00:00Z"),
        ("9999-12-26T20:00:00Z", "9999-12-27T00:00:00Z"),
    ):
        data = _minimal(arrive=arrive, leave=leave)
        data["time_zone"] = zone
        data["grid"]["steps"] = [{"start": "01:00", "amps": 20}]
        site = load_site(_write(tmp_path, data))
        first = site.piles[0].evses[0].sessions[0].arrive.astimezone(site.zone)
        midnight = first.replace(hour=0, minute=0, second=0)
        balance(site, start=midnight, duration=86400)
        site_report(site, start=midnight, duration=86400)


# ------------------------------------------------------------------ F16/F22 bounds


def _never(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("the work started before the bound was checked")


def test_slots_are_bounded_before_any_work(monkeypatch) -> None:
    monkeypatch.setattr(allocation_module, "evse_timeline", _never)
    monkeypatch.setattr(allocation_module, "circuit_timeline", _never)
    site = _feeder_site([Session(arrive=T0, leave=_h(1))])
    with pytest.raises(QueryError, match="number of slots") as info:
        balance(site, start=T0, duration=MAX_SLOTS + 1, resolution=1)
    assert info.value.field == "resolution"
    with pytest.raises(QueryError, match="slots"):
        balance(site, start=T0, duration=365 * 86400, resolution=1)


def test_evse_slot_cells_are_bounded_before_any_work(monkeypatch) -> None:
    monkeypatch.setattr(allocation_module, "evse_timeline", _never)
    piles = tuple(
        Pile(id=f"P{i}", circuit="g", evses=tuple(Evse(id=e + 1) for e in range(10)))
        for i in range(20)
    )
    site = Site(grid=Circuit(id="g", amps=100.0), piles=piles)
    slots = MAX_CELLS // (site.evse_count() + 1) + 1
    assert slots <= MAX_SLOTS
    with pytest.raises(QueryError, match=r"\(EVSEs \+ circuits\) x slots"):
        balance(site, start=T0, duration=slots * 60, resolution=60)


def test_exact_slots_are_bounded_before_the_slot_work(monkeypatch) -> None:
    monkeypatch.setattr(allocation_module, "_aggregate_evse", _never)
    steps = tuple(LimitStep(start=time(h), amps=10.0 + h) for h in range(24))
    site = _feeder_site([Session(arrive=T0, leave=_h(1))], steps=steps)
    days = MAX_SLOTS // 24 + 2
    with pytest.raises(QueryError, match="number of slots"):
        balance(site, start=T0, duration=days * 86400, resolution=None)


def test_circuit_step_changes_are_counted_before_they_are_built(monkeypatch) -> None:
    monkeypatch.setattr(allocation_module, "circuit_timeline", _never)
    steps = tuple(LimitStep(start=time(h, m), amps=10.0) for h in range(24) for m in (0, 30))
    site = _feeder_site([Session(arrive=T0, leave=_h(1))], steps=steps)
    days = MAX_CELLS // len(steps) + 1  # more step changes than MAX_CELLS, in whole years
    with pytest.raises(QueryError, match="circuit step changes"):
        balance(site, start=T0, duration=-(-days // 365) * 365 * 86400, resolution=86400 * 365)


def test_report_spans_are_bounded(monkeypatch) -> None:
    steps = tuple(LimitStep(start=time(h), amps=10.0 + h) for h in range(24))
    site = _feeder_site([Session(arrive=T0, leave=_h(1))], steps=steps)
    with pytest.raises(QueryError, match="spans"):
        site_report(site, start=T0, duration=(MAX_SLOTS // 24 + 2) * 86400)


class _Counted(list):  # type: ignore[type-arg]
    reads = 0

    def __getitem__(self, index):  # type: ignore[no-untyped-def]
        type(self).reads += 1
        return super().__getitem__(index)


@pytest.mark.parametrize("size", [10, 1_000, 10_000])
def test_report_sweep_reads_each_element_a_bounded_number_of_times(size) -> None:
    intervals = _Counted((10 * k, 10 * k + 10) for k in range(size))
    starts = _Counted(5 * k for k in range(2 * size))
    _Counted.reads = 0
    found = list(_sweep(intervals, starts))
    assert found == [(k, k // 2) for k in range(2 * size)]
    assert _Counted.reads <= 3 * (len(intervals) + len(starts))


# ------------------------------------------------------------------ F19(c), files, fields


def test_a_site_keeps_its_own_copy_of_the_requests() -> None:
    op = {"connectorId": 0, "csChargingProfiles": {
        "chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute", "chargingSchedule": {
            "startSchedule": "2024-03-04T00:00:00Z", "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 32.0}]}}}  # fmt: skip
    site = Site.model_validate({"grid": {"id": "g", "amps": 63}, "piles": [{
        "id": "P", "circuit": "g", "requests": [op], "evses": [{"id": 1, "sessions": [
            {"arrive": "2024-03-04T00:00:00Z", "leave": "2024-03-04T02:00:00Z"}]}]}]})  # fmt: skip
    before = balance(site, start=T0, duration=HOUR).amps[("P", 1)]
    op["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] = 6.0
    assert balance(site, start=T0, duration=HOUR).amps[("P", 1)] == before == (32.0,) * 4


def test_deep_and_non_utf8_site_files_are_site_errors(tmp_path) -> None:
    deep_json = tmp_path / "deep.json"
    deep_json.write_text("[" * 100_000 + "]" * 100_000)
    deep_toml = tmp_path / "deep.toml"
    deep_toml.write_text("a = " + "[" * 5000 + "]" * 5000 + "\n")
    bad = tmp_path / "bad.json"
    bad.write_bytes(b'{"name": "\xff\xfe"}')
    # A circuit tree 5,000 deep: valid JSON, but too deep for the model.
    tree = tmp_path / "tree.json"
    depth = 5000
    grid = "".join(f'{{"id": "c{n}", "amps": 32, "children": [' for n in range(depth))
    grid += "]}" * depth
    tree.write_text(f'{{"grid": {grid}, "piles": []}}')
    for path in (deep_json, deep_toml, bad, tree):
        with pytest.raises(SiteError):
            load_site(path)


@pytest.mark.parametrize(
    "where",
    ["site", "grid", "step", "pile", "evse", "session"],
)
def test_unknown_fields_are_site_errors(tmp_path, where) -> None:
    data = _minimal()
    data["grid"]["steps"] = [{"start": "17:00", "amps": 20}]
    target = {
        "site": data,
        "grid": data["grid"],
        "step": data["grid"]["steps"][0],
        "pile": data["piles"][0],
        "evse": data["piles"][0]["evses"][0],
        "session": data["piles"][0]["evses"][0]["sessions"][0],
    }[where]
    target["wieght"] = 2
    with pytest.raises(SiteError, match=r"xtra|not permitted"):
        load_site(_write(tmp_path, data))


@pytest.mark.parametrize(
    ("field", "value"),
    [("voltage", 1e-300), ("voltage", 1e6), ("amps", 1e300)],
)
def test_absurd_site_numbers_are_site_errors(tmp_path, field, value) -> None:
    data = _minimal()
    if field == "voltage":
        data["voltage"] = value
    else:
        data["grid"]["amps"] = value
    with pytest.raises(SiteError):
        load_site(_write(tmp_path, data))

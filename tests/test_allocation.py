"""Site load balancing: the properties of issue 5 and hand-made cases."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies_site import T0, WINDOW, sites

from ocpp_schedule import composite_schedule
from ocpp_schedule.site import (
    Allocation,
    Circuit,
    EqualShare,
    Evse,
    Pile,
    Session,
    Site,
    Weighted,
    balance,
    pile_store,
    send_plan,
    session_transaction,
)
from ocpp_schedule.site._fairshare import share_fairly

TOL = 1e-6


def _loads(allocation: Allocation, amps: dict) -> dict[str, list[list[float]]]:
    """Circuit loads recomputed from EVSE limits, the wiring and the tree (not the engine's)."""
    site = allocation.site
    paths = site.paths()
    piles = {p.id: p for p in site.piles}
    out = {c: [[0.0, 0.0, 0.0] for _ in allocation.slots()] for c in paths}
    for key, per_slot in amps.items():
        pile = piles[key[0]]
        for k, value in enumerate(per_slot):
            for p in range(allocation.phases[key][k]):
                for circuit in paths[pile.circuit]:
                    out[circuit][k][pile.circuit_phase(p)] += value
    return out


def _assert_within_limits(allocation: Allocation, amps: dict) -> None:
    volts = allocation.site.voltage
    for circuit, rows in _loads(allocation, amps).items():
        for k, load in enumerate(rows):
            limit = allocation.limits[circuit][k]
            for p in range(3):
                assert load[p] <= limit[p] + TOL, (circuit, k, p, load, limit)
            watts = allocation.watt_limits[circuit][k]
            if watts is not None:
                assert sum(load) * volts <= watts + TOL * volts, (circuit, k, load, watts)


@settings(max_examples=120, deadline=None)
@given(sites(), st.sampled_from([None, 900, 1800]), st.sampled_from(["equal", "weighted"]))
def test_no_circuit_phase_ever_exceeds_its_limit(site: Site, resolution, policy) -> None:
    pol = EqualShare() if policy == "equal" else Weighted()
    allocation = balance(site, start=T0, duration=WINDOW, resolution=resolution, policy=pol)
    _assert_within_limits(allocation, allocation.amps)
    assert allocation.overloads() == []


@settings(max_examples=80, deadline=None)
@given(sites(), st.sampled_from([None, 900]))
def test_no_evse_exceeds_its_composite_or_hardware_limit(site: Site, resolution) -> None:
    allocation = balance(site, start=T0, duration=WINDOW, resolution=resolution)
    for pile in site.piles:
        store, config = pile_store(pile, site)
        for evse in pile.evses:
            key = (pile.id, evse.id)
            for (a, b), amps, session in zip(
                allocation.slots(), allocation.amps[key], allocation.sessions[key], strict=True
            ):
                if amps == 0:
                    continue
                assert session >= 0
                sess = evse.sessions[session]
                assert amps <= evse.max_amps + TOL
                if sess.max_amps is not None:
                    assert amps <= sess.max_amps + TOL
                lo = max(a, int(sess.arrive.timestamp()))
                hi = min(b, int(sess.leave.timestamp()))
                if lo >= hi:
                    continue
                composite = composite_schedule(
                    store,
                    evse_id=evse.id,
                    start=lo,
                    duration=hi - lo,
                    transaction=session_transaction(pile, evse, sess),
                    config=config,
                )
                assert amps <= min(p.limit for p in composite.periods) + TOL


@settings(max_examples=80, deadline=None)
@given(sites(), st.randoms(use_true_random=False))
def test_result_does_not_depend_on_evse_order(site: Site, rnd: random.Random) -> None:
    piles = list(site.piles)
    rnd.shuffle(piles)
    shuffled = site.model_copy(
        update={
            "piles": tuple(
                p.model_copy(update={"evses": tuple(rnd.sample(p.evses, len(p.evses)))})
                for p in piles
            )
        }
    )
    a = balance(site, start=T0, duration=WINDOW, resolution=900)
    b = balance(shuffled, start=T0, duration=WINDOW, resolution=900)
    assert a.amps == b.amps
    assert a.paused == b.paused


@settings(max_examples=80, deadline=None)
@given(sites())
def test_equal_weights_get_equal_shares_unless_their_own_limit_binds(site: Site) -> None:
    """Two charging EVSEs of equal weight behind the same circuit on the same circuit phases
    get the same limit unless one is held by its own limit (cap) or paused."""
    allocation = balance(site, start=T0, duration=WINDOW, resolution=900)
    piles = {p.id: p for p in site.piles}
    keys = list(allocation.amps)
    for k in range(len(allocation.slots())):
        charging = []
        for key in keys:
            s = allocation.sessions[key][k]
            if s < 0 or allocation.paused[key][k]:
                continue
            pile = piles[key[0]]
            evse = next(e for e in pile.evses if e.id == key[1])
            phases = frozenset(pile.circuit_phase(p) for p in range(allocation.phases[key][k]))
            charging.append((key, pile.circuit, phases, evse.sessions[s].weight))
        for key_a, circuit_a, phases_a, _ in charging:
            for key_b, circuit_b, phases_b, _ in charging:
                if circuit_a != circuit_b or phases_a != phases_b:
                    continue
                a, b = allocation.amps[key_a][k], allocation.amps[key_b][k]
                if a < b - 0.1 - TOL:
                    assert a >= allocation.caps[key_a][k] - 0.1 - TOL, (key_a, key_b, a, b)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.floats(0, 40), min_size=1, max_size=8),
    st.data(),
)
def test_share_fairly_is_max_min_fair(caps: list[float], data) -> None:
    """Every consumer below its cap has a full constraint in which it has the most per weight."""
    n = len(caps)
    weights = data.draw(st.lists(st.sampled_from([0.5, 1.0, 2.0]), min_size=n, max_size=n))
    groups = data.draw(
        st.lists(
            st.tuples(
                st.floats(0, 60),
                st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True),
                st.sampled_from([1.0, 2.0, 3.0]),
            ),
            max_size=4,
        )
    )
    constraints = [(limit, [(i, coef) for i in members]) for limit, members, coef in groups]
    x = share_fairly(caps, weights, constraints)
    for i in range(n):
        assert -TOL <= x[i] <= caps[i] + TOL
    for limit, members in constraints:
        assert sum(c * x[i] for i, c in members) <= limit + 1e-6
    for i in range(n):
        if x[i] >= caps[i] - 1e-9:
            continue
        tight = [
            members
            for limit, members in constraints
            if any(j == i for j, _ in members) and sum(c * x[j] for j, c in members) >= limit - 1e-6
        ]
        assert any(
            all(x[i] / weights[i] >= x[j] / weights[j] - 1e-6 for j, _ in members)
            for members in tight
        ), (i, x, caps, weights, constraints)


@settings(max_examples=80, deadline=None)
@given(sites(), st.sampled_from([None, 900]), st.integers(0, WINDOW // 900 - 1), st.data())
def test_every_prefix_of_a_send_plan_keeps_circuits_within_limits(
    site: Site, resolution, slot, data
) -> None:
    old = balance(site, start=T0, duration=WINDOW, resolution=resolution, policy=EqualShare())
    # A new plan under different weights: some EVSEs go up, some down, some both.
    new = balance(site, start=T0, duration=WINDOW, resolution=resolution, policy=Weighted())
    at = int(T0.timestamp()) + slot * 900
    plan = send_plan(new, at=at, previous=old)
    assert new.boundaries == old.boundaries
    current = {key: list(values) for key, values in old.amps.items()}
    for step in plan.steps:
        if step.purpose.value != "TxDefaultProfile":
            continue  # the TxDefault step carries the EVSE's whole limit schedule
        key = (step.pile, step.evse)
        for k, (a, _b) in enumerate(new.slots()):
            if a < at:
                continue
            current[key][k] = next(
                (amps for s, e, amps, _ in step.limits if s <= a < e), current[key][k]
            )
        _assert_within_limits(new, {key: tuple(v) for key, v in current.items()})


def _one_feeder_site(weights=(1.0, 1.0, 1.0), phases=(3, 3, 3), feeder=40.0) -> Site:
    piles = []
    for i, (w, ph) in enumerate(zip(weights, phases, strict=True), 1):
        session = Session(arrive=T0, leave=T0 + timedelta(hours=2), phases=ph, weight=w)
        piles.append(
            Pile(
                id=f"P{i}",
                circuit="feeder",
                evses=(Evse(id=1, max_amps=32.0, sessions=(session,)),),
            )
        )
    grid = Circuit(id="grid", amps=200.0, children=(Circuit(id="feeder", amps=feeder),))
    return Site(grid=grid, piles=tuple(piles))


def test_three_equal_vehicles_share_a_feeder_equally() -> None:
    allocation = balance(_one_feeder_site(), start=T0, duration=3600)
    assert {allocation.amps[(f"P{i}", 1)][0] for i in (1, 2, 3)} == {13.3}  # 40 / 3 rounded down


def test_weights_split_in_proportion() -> None:
    allocation = balance(
        _one_feeder_site(weights=(2.0, 1.0, 1.0)), start=T0, duration=3600, policy=Weighted()
    )
    assert [allocation.amps[(f"P{i}", 1)][0] for i in (1, 2, 3)] == [20.0, 10.0, 10.0]


def test_phase_rotation_spreads_one_phase_vehicles() -> None:
    # Three 1-phase vehicles on a 20 A feeder: wired on the same phase they share 20 A,
    # with rotated piles each has a phase of its own and gets 20 A.
    same = _one_feeder_site(phases=(1, 1, 1), feeder=20.0)
    assert [
        same_a := balance(same, start=T0, duration=3600).amps[(f"P{i}", 1)][0] for i in (1, 2, 3)
    ] == [6.6, 6.6, 6.6]
    assert same_a == 6.6
    rotated = same.model_copy(
        update={
            "piles": tuple(
                p.model_copy(update={"phase_rotation": r})
                for p, r in zip(same.piles, ("L1L2L3", "L2L3L1", "L3L1L2"), strict=True)
            )
        }
    )
    assert [balance(rotated, start=T0, duration=3600).amps[(f"P{i}", 1)][0] for i in (1, 2, 3)] == [
        20.0,
        20.0,
        20.0,
    ]


def test_minimum_rate_pauses_the_latest_arrival() -> None:
    # 10 A for two vehicles with a 6 A minimum: one is paused, the later one.
    first = Session(arrive=T0, leave=T0 + timedelta(hours=2), min_amps=6.0)
    later = Session(arrive=T0 + timedelta(minutes=5), leave=T0 + timedelta(hours=2), min_amps=6.0)
    piles = (
        Pile(id="A", circuit="f", evses=(Evse(id=1, sessions=(first,)),)),
        Pile(id="B", circuit="f", evses=(Evse(id=1, sessions=(later,)),)),
    )
    site = Site(
        grid=Circuit(id="g", amps=100.0, children=(Circuit(id="f", amps=10.0),)), piles=piles
    )
    allocation = balance(site, start=T0 + timedelta(minutes=10), duration=3600)
    assert allocation.amps[("A", 1)][0] == 10.0
    assert allocation.amps[("B", 1)][0] == 0.0
    assert allocation.paused[("B", 1)][0] is True


def test_bad_queries_are_typed_errors() -> None:
    from ocpp_schedule import QueryError

    with pytest.raises(QueryError):
        balance(_one_feeder_site(), start=T0, duration=0)
    with pytest.raises(QueryError):
        balance(_one_feeder_site(), start=T0, duration=60, resolution=0)

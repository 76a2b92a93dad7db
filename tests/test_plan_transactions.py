"""Send plans name only transaction ids the caller gave (issue 13, item 5; docs/semantics.md SP9).

A pile rejects a TxProfile for a transaction it does not have (K01.FR.03/16), so a
plan never names an id the library made up: a running session without a
caller-given ``transaction_id`` gets no TxProfile, and its EVSE is governed by the
plan's TxDefaultProfile, which carries the same limits from the moment of sending.
The station's own transaction is modelled here with an id of the station's
choosing, unrelated to anything the library computes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies_site import hostile_sites, sites
from test_send_plan_safety import _held, _horizon, _replan, verify

from ocpp_schedule import (
    OcppVersion,
    SafetyError,
    StationState,
    Transaction,
    composite_schedule,
    install,
    read_set_charging_profile,
)
from ocpp_schedule.site import Allocation, Circuit, Evse, Pile, Session, Site, balance, pile_store
from ocpp_schedule.site._sendplan import SendPlan, SendPlanError, send_plan
from ocpp_schedule.wire._timestamps import to_epoch

H0 = datetime(2024, 3, 4, 8, tzinfo=UTC)


def h(x: float) -> datetime:
    return H0 + timedelta(hours=x)


def _site(*piles: Pile, feeder: float = 40.0) -> Site:
    grid = Circuit(id="g", amps=100.0, children=(Circuit(id="f", amps=feeder),))
    return Site(grid=grid, piles=piles)


def _pile(pid: str, session: Session, ocpp: str = "1.6", **fields: Any) -> Pile:
    return Pile(id=pid, circuit="f", ocpp=ocpp, evses=(Evse(id=1, sessions=(session,)),), **fields)


def _profile(payload: dict[str, Any]) -> dict[str, Any]:
    return payload.get("csChargingProfiles") or payload["chargingProfile"]


def _named(plan: SendPlan) -> list[tuple[str, int, Any]]:
    """(pile, EVSE, transactionId) of every payload that names one."""
    return [
        (s.pile, s.evse, _profile(s.payload)["transactionId"])
        for s in plan.steps
        if "transactionId" in _profile(s.payload)
    ]


def _pile_composite(pile: Pile, site: Site, plan: SendPlan, tx: Transaction, end: int) -> list:
    """What the pile computes for EVSE 1 with the plan installed, its own transaction running."""
    store, config = pile_store(pile, site)
    state = StationState(config, OcppVersion(pile.ocpp), (tx,))
    for step in plan.steps:
        if step.pile != pile.id:
            continue
        request = read_set_charging_profile(step.payload, pile.ocpp)
        store, result = install(store, request, state)
        assert result.accepted, str(result)
    schedule = composite_schedule(
        store,
        evse_id=1,
        start=plan.at_epoch,
        duration=end - plan.at_epoch,
        transaction=tx,
        config=config,
    )
    return [(plan.at_epoch + p.start_period, p.limit) for p in schedule.periods]


def _planned(plan: SendPlan, pile: str, end: int) -> list:
    """The planned limits of the pile's EVSE 1 within [at, end), neighbours merged."""
    limits = next(s.limits for s in plan.steps if s.pile == pile)
    out: list[tuple[int, float]] = []
    for a, _, amps, _ in limits:
        if a < end and (not out or out[-1][1] != amps):
            out.append((a, amps))
    return out


# ------------------------------------------------------------------ examples


@pytest.mark.parametrize("ocpp", ["1.6", "2.0.1"])
def test_a_session_without_an_id_gets_only_the_txdefault_which_governs_it(ocpp: str) -> None:
    """No TxProfile, no transactionId anywhere; the pile's composite is the planned limits."""
    a = _pile("A", Session(arrive=h(0), leave=h(5)), ocpp)
    b = _pile("B", Session(arrive=h(0), leave=h(5)), ocpp)
    site = _site(a, b)
    allocation = balance(site, start=h(0), duration=4 * 3600)
    plan = send_plan(allocation, at=h(1))
    assert [(s.pile, s.purpose.value) for s in plan.steps] == [
        ("A", "TxDefaultProfile"),
        ("B", "TxDefaultProfile"),
    ]
    assert _named(plan) == []
    end = to_epoch(h(5))
    # The station's own transaction, with an id of its choosing: the TxDefault governs it.
    tx = Transaction("station-own-4711" if ocpp != "1.6" else "4711", 1, h(0))
    assert _pile_composite(a, site, plan, tx, end) == _planned(plan, "A", end)
    assert _planned(plan, "A", end)[0] == (to_epoch(h(1)), 20.0)  # the running session covered


@pytest.mark.parametrize(
    ("ocpp", "given", "wire"), [("1.6", "17", 17), ("2.0.1", "tx-17", "tx-17")]
)
def test_a_session_with_an_id_gets_its_txprofile_naming_exactly_it(
    ocpp: str, given: str, wire: Any
) -> None:
    a = _pile("A", Session(arrive=h(0), leave=h(5), transaction_id=given), ocpp)
    b = _pile("B", Session(arrive=h(0), leave=h(5)), ocpp)
    site = _site(a, b)
    plan = send_plan(balance(site, start=h(0), duration=4 * 3600), at=h(1))
    assert [(s.pile, s.purpose.value) for s in plan.steps] == [
        ("A", "TxProfile"),
        ("A", "TxDefaultProfile"),
        ("B", "TxDefaultProfile"),
    ]
    assert _named(plan) == [("A", 1, wire)]
    end = to_epoch(h(5))
    tx = Transaction(given, 1, h(0))
    assert _pile_composite(a, site, plan, tx, end) == _planned(plan, "A", end)


def test_a_held_txprofile_of_a_session_without_an_id_is_pinned_not_overridden() -> None:
    """The plan cannot replace an operator TxProfile bound to such a session: balance pins it.

    Before SP9 the plan's own TxProfile overrode it; with TxDefaults only, balance
    counts what the held 32 A TxProfile lets the EVSE draw and gives the rest away.
    """
    held = {
        "connectorId": 1,
        "csChargingProfiles": {
            "chargingProfileId": 5,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxProfile",  # 1.6: no transactionId, the active one
            "chargingProfileKind": "Relative",
            "chargingSchedule": {
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 32.0}],
            },
        },
    }
    a = _pile("A", Session(arrive=h(0), leave=h(4)), requests=(held,))
    b = _pile("B", Session(arrive=h(0), leave=h(4)))
    site = _site(a, b)
    allocation = balance(site, start=h(0), duration=3 * 3600)
    assert all(allocation.pinned[("A", 1)])
    assert allocation.amps[("A", 1)][0] == 32.0 and allocation.amps[("B", 1)][0] == 8.0
    plan = send_plan(allocation, at=h(1))
    assert _named(plan) == []
    verify(site, plan, None, _horizon(site, allocation))


def test_the_late_session_warning_names_no_made_up_id() -> None:
    site = _site(_pile("A", Session(arrive=h(0), leave=h(9))))
    plan = send_plan(balance(site, start=h(0), duration=2 * 3600))
    assert len(plan.warnings) == 1
    assert "arriving at 2024-03-04T08:00:00Z" in plan.warnings[0]
    assert Session(arrive=h(0), leave=h(9)).effective_transaction_id(1) not in plan.warnings[0]


# ------------------------------------------------------------------ the property


@st.composite
def _mixed_ids(draw, site: Site) -> Site:
    """Some sessions carry a caller-given (numeric: 1.6) transaction id, the others none."""
    piles = []
    for pile in site.piles:
        evses = []
        for evse in pile.evses:
            sessions = []
            for k, s in enumerate(evse.sessions):
                given = str(900 + 10 * evse.id + k) if draw(st.booleans()) else None
                sessions.append(s.model_copy(update={"transaction_id": given}))
            evses.append(evse.model_copy(update={"sessions": tuple(sessions)}))
        piles.append(pile.model_copy(update={"evses": tuple(evses)}))
    return site.model_copy(update={"piles": tuple(piles)})


def _check_ids(site: Site, plan: SendPlan) -> None:
    """Every payload naming a transaction is a TxProfile for the caller-given id running there."""
    piles = {p.id: p for p in site.piles}
    for step in plan.steps:
        evse = next(e for e in piles[step.pile].evses if e.id == step.evse)
        running = [
            s for s in evse.sessions if to_epoch(s.arrive) <= plan.at_epoch < to_epoch(s.leave)
        ]
        given = running[0].transaction_id if running else None
        named = _profile(step.payload).get("transactionId")
        if step.purpose.value == "TxProfile":
            assert given is not None and str(named) == given, (step.pile, step.evse, named)
        else:
            assert named is None, (step.pile, step.evse, named)
    # and each running session with a caller id gets its TxProfile
    for pile in site.piles:
        for evse in pile.evses:
            for s in evse.sessions:
                if s.transaction_id is not None and to_epoch(s.arrive) <= plan.at_epoch < to_epoch(
                    s.leave
                ):
                    assert any(
                        x.pile == pile.id and x.evse == evse.id and x.purpose.value == "TxProfile"
                        for x in plan.steps
                    ), (pile.id, evse.id)


_WINDOWS = st.sampled_from([(0, 2), (0, 6), (1, 3), (0, 9), (2, 1), (1, 10)])


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(sites(), hostile_sites()),
    _WINDOWS,
    _WINDOWS,
    st.integers(0, 40),
    st.sampled_from([None, 900]),
    st.booleans(),
    st.data(),
)
def test_property_txprofiles_name_only_caller_ids_and_every_prefix_is_safe(
    site, old_window, new_window, slot, resolution, hold, data
) -> None:
    """Sessions with and without ids, re-plans, held profiles: every TxProfile names the
    caller-given id of the session running on its EVSE at ``at``, no other payload names
    one, and the plan passes the independent verifier (every prefix and the tail)."""
    site = data.draw(_mixed_ids(site))
    if hold:
        site = data.draw(_held(site))
    try:
        old, new, at = _replan(site, old_window, new_window, slot, resolution, site)
        previous = old if old.start_epoch <= at else None
        plan = send_plan(new, at=at, previous=previous)
    except (SafetyError, SendPlanError):
        # Only where profiles the plan cannot replace are held (hostile sites hold some).
        assert hold or any(p.requests for p in site.piles)
        return
    _check_ids(site, plan)
    if previous is not None and not _sendable(previous):
        # The verifier installs the old plan as sent; where the old plan itself was refused
        # (a held TxProfile pins more than a later circuit step allows), nothing was sent
        # before, so there is no "before" to verify against. Only held profiles do that.
        assert hold or any(p.requests for p in site.piles)
        return
    verify(site, plan, previous, _horizon(site, old, new))


def _sendable(allocation: Allocation) -> bool:
    """Whether ``allocation``'s own send plan passes its post-condition."""
    try:
        send_plan(allocation)
    except (SafetyError, SendPlanError):
        return False
    return True

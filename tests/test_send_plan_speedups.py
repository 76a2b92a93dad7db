"""send_plan's fast paths (issue 13) give exactly what the plain computation gives.

The fast paths, each compared here with the way the library computed before them:

- ``Draws``: an EVSE's timeline under a store is computed once per plan for the entries
  it depends on, shared by the ordering and the post-condition (reference: every
  timeline computed afresh);
- ``PlanStep.read_back``: the request a payload is read as is kept from building it,
  not read back from the written payload (reference: every payload read again; that
  reading gives the same request is pinned for every version);
- a lower-only EVSE's steps reuse its raise steps' payloads (same limits);
- ``previous_plan``: the profiles the previous plan built are reused, where built from
  exactly the same inputs, to know what the piles hold (reference: built again).

And a carried state that is wrong is either ignored (its inputs differ) or caught by
the post-condition; it cannot be changed in place (frozen).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from contextlib import ExitStack
from datetime import timedelta
from typing import Any, NamedTuple
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from strategies_site import T0, hostile_sites, sites

from ocpp_schedule import SafetyError
from ocpp_schedule.site import (
    Allocation,
    Circuit,
    EqualShare,
    Evse,
    Pile,
    Session,
    Site,
    Weighted,
    _plancheck,
    _sendplan,
    balance,
    send_plan,
)
from ocpp_schedule.site._sendplan import (
    FOREVER,
    P,
    PlanStep,
    SendPlan,
    SendPlanError,
    _Levels,
    _payload,
)
from ocpp_schedule.site._timelines import evse_timeline
from ocpp_schedule.wire._enums import OcppVersion
from ocpp_schedule.wire._payloads import read_set_charging_profile, write_set_charging_profile

_WINDOWS = st.sampled_from([(0, 2), (0, 6), (1, 3), (0, 9), (2, 1), (1, 10)])


class ReplanCase(NamedTuple):
    """One re-plan property's inputs (shared by the send-plan fast-path tests)."""

    site: Site
    old_window: tuple[int, int]
    new_window: tuple[int, int]
    slot: int
    """The re-plan's slot in the new window."""
    resolution: Any
    only_changed: bool


def replan_cases(site_strategy: st.SearchStrategy[Site]) -> Callable[..., Any]:
    """``given`` one :class:`ReplanCase`, its site drawn from ``site_strategy``."""
    return given(
        st.builds(
            ReplanCase,
            site_strategy,
            _WINDOWS,
            _WINDOWS,
            st.integers(0, 40),
            st.sampled_from([None, 900]),
            st.booleans(),
        )
    )


REPLAN_CASES = replan_cases(st.one_of(sites(), hostile_sites()))
"""The re-plan properties' inputs: a site, the old and new windows, the re-plan's slot,
the resolution and ``only_changed``."""


class _NoMemo(_plancheck.Draws):
    """The reference: every timeline computed afresh."""

    def __call__(self, pile: Any, evse: Any, store: Any, config: Any) -> Any:
        return evse_timeline(pile, evse, store, config, self.start, self.end, idle=True)


_real_fit = _sendplan._fit
_real_order = _sendplan._order


def _fit_reading(pile: Any, step: PlanStep, *args: Any) -> Any:
    """The reference: the payload read back from what was written."""
    return _real_fit(pile, dataclasses.replace(step, read_back=None), *args)


def _order_rebuilding(allocation: Allocation, *args: Any) -> Any:
    """The reference: every step's payload built on its own (lower steps too)."""
    steps = _real_order(allocation, *args)
    site = allocation.site
    piles = {p.id: p for p in site.piles}
    out = []
    for step in steps:
        pile = piles[step.pile]
        evse = next(e for e in pile.evses if e.id == step.evse)
        levels = _Levels.of(pile, _sendplan.pile_store(pile, site)[0])
        tx = step.payload.get("chargingProfile", step.payload.get("csChargingProfiles", {}))
        transaction = tx.get("transactionId")
        rebuilt = _sendplan._step(
            pile,
            evse,
            step.purpose,
            step.phase,
            list(step.limits),
            levels,
            None if transaction is None else str(transaction),
        )
        assert rebuilt == step  # the same payload, built again
        out.append(rebuilt)
    return out


def _reference(allocation: Allocation, **kwargs: Any) -> SendPlan | str:
    """send_plan with every fast path off (and no carried state); an error as its text."""
    kwargs.pop("previous_plan", None)
    with ExitStack() as stack:
        stack.enter_context(patch.object(_sendplan, "Draws", _NoMemo))
        stack.enter_context(patch.object(_sendplan, "_fit", _fit_reading))
        stack.enter_context(patch.object(_sendplan, "_order", _order_rebuilding))
        return _plan(allocation, **kwargs)


def _plan(allocation: Allocation, **kwargs: Any) -> SendPlan | str:
    try:
        return send_plan(allocation, **kwargs)
    except (SafetyError, SendPlanError) as error:
        return f"{type(error).__name__}: {error}"


def _replan(
    site: Site, old_window: tuple[int, int], new_window: tuple[int, int], slot: int, res: Any
) -> tuple[Allocation, Allocation, int]:
    old = balance(
        site,
        start=T0 + timedelta(hours=old_window[0]),
        duration=old_window[1] * 3600,
        resolution=res,
        policy=EqualShare(),
    )
    new = balance(
        site,
        start=T0 + timedelta(hours=new_window[0]),
        duration=new_window[1] * 3600,
        resolution=res,
        policy=Weighted(),
    )
    at = min(max(new.start_epoch + slot * 900, old.start_epoch), new.end_epoch - 1)
    return old, new, at


def cold_plan_then_replan(
    case: ReplanCase, reference: Callable[..., SendPlan | str]
) -> tuple[Allocation, SendPlan | None, dict[str, Any]] | None:
    """The case's re-plan (None where balancing refuses it), its cold plan checked against
    ``reference``: (the new allocation, the cold plan if one, the re-plan's arguments)."""
    try:
        old, new, at = _replan(*case[:5])
    except (SafetyError, SendPlanError):
        return None
    first = _plan(old)
    assert first == reference(old)
    carried = first if isinstance(first, SendPlan) else None
    return new, carried, {"at": at, "previous": old, "only_changed": case.only_changed}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@REPLAN_CASES
def test_property_the_fast_path_gives_exactly_the_reference_plan(case: ReplanCase) -> None:
    """Same steps (payloads, limits, order, phases), tails, warnings, validity and EVSEs sent,
    or the same error, with and without the previous plan's carried profiles."""
    cold = cold_plan_then_replan(case, _reference)
    if cold is None:
        return
    new, carried, kwargs = cold
    fast = _plan(new, previous_plan=carried, **kwargs)
    assert fast == _plan(new, **kwargs)
    assert fast == _reference(new, **kwargs)
    wrong = _plan(new)  # built for other inputs: ignored
    if isinstance(wrong, SendPlan):
        assert _plan(new, previous_plan=wrong, **kwargs) == fast
    if isinstance(fast, SendPlan):
        for built in fast.built:  # each kept request is its payload as the pile reads it
            version = OcppVersion(next(p for p in case.site.piles if p.id == built.key[0]).ocpp)
            payload = write_set_charging_profile(built.request, version)
            assert read_set_charging_profile(payload, version) == built.request
        assert all(step.read_back is None for step in fast.steps)  # not kept in the plan


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(list(OcppVersion)),
    st.sampled_from([P.TX_DEFAULT_PROFILE, P.TX_PROFILE]),
    st.lists(
        st.tuples(
            st.integers(1, 7200),
            st.floats(0, 63, allow_nan=False).map(lambda a: round(a, 1)),
            st.sampled_from([0, 1, 2, 3]),
        ),
        min_size=1,
        max_size=8,
    ),
    st.integers(0, 3),
    st.booleans(),
    st.integers(1, 4),
)
def test_property_a_built_request_is_what_the_pile_reads_from_its_payload(
    version: OcppVersion,
    purpose: P,
    pieces: list[tuple[int, float, int]],
    level: int,
    open_ended: bool,
    evse_id: int,
) -> None:
    """read(write(request)) == request for every profile a plan builds, in every version:
    why ``_payload`` need not read its own payload back."""
    start = 1_709_535_600
    limits = []
    t = start
    for length, amps, phases in pieces:
        limits.append((t, t + length, amps, phases))
        t += length
    if open_ended:
        limits.append((t, FOREVER, 0.0, 0))
    pile = Pile(
        id="P",
        circuit="f",
        ocpp=version.value,
        evses=tuple(Evse(id=i) for i in range(1, 5)),
    )
    evse = pile.evses[evse_id - 1]
    transaction = "1234" if purpose is P.TX_PROFILE else None
    payload, request = _payload(pile, evse, purpose, limits, _Levels(level, level), transaction)
    assert read_set_charging_profile(payload, version) == request


# ------------------------------------------------------------------ a wrong carried state


def _pair_site() -> Site:
    evses = lambda: tuple(  # noqa: E731
        Evse(id=i, sessions=(Session(arrive=T0, leave=T0 + timedelta(hours=6)),)) for i in (1, 2)
    )
    piles = tuple(Pile(id=p, circuit="f", evses=evses()) for p in "AB")
    return Site(name="pair", time_zone="UTC", grid=Circuit(id="f", amps=64.0), piles=piles)


def _forged(plan: SendPlan, amps: float) -> SendPlan:
    """The plan with every carried TxDefaultProfile's limits raised to ``amps``."""
    built = []
    for b in plan.built:
        profile = b.request.charging_profile
        schedule = profile.charging_schedule[0]
        periods = tuple(
            p.model_copy(update={"limit": amps}) for p in schedule.charging_schedule_period
        )
        schedule = schedule.model_copy(update={"charging_schedule_period": periods})
        profile = profile.model_copy(update={"charging_schedule": (schedule,)})
        request = b.request.model_copy(update={"charging_profile": profile})
        built.append(dataclasses.replace(b, request=request))
    # Without what the plan says its piles hold (SEND13B's ``worked``), a re-plan rebuilds
    # the piles' stores from the carried profiles: the path this forgery is aimed at
    # (tests/test_send13b.py forges what the piles hold instead).
    return dataclasses.replace(plan, built=tuple(built), worked=None)


def test_a_carried_state_is_frozen() -> None:
    site = _pair_site()
    plan = send_plan(balance(site, start=T0, duration=3600))
    assert plan.built and isinstance(plan.built, tuple)
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.built[0].request = plan.built[1].request  # type: ignore[misc]
    with pytest.raises(ValidationError):  # a frozen model
        plan.built[0].request.evse_id = 3  # type: ignore[misc]


def test_a_carried_state_for_other_inputs_is_ignored() -> None:
    """The plan of another allocation (other limits) is not used: the result is the reference."""
    site = _pair_site()
    old = balance(site, start=T0, duration=3600)
    roomy = site.model_copy(update={"grid": Circuit(id="f", amps=128.0)})
    other = balance(roomy, start=T0, duration=3600)  # 32 A each, where the piles hold 16 A
    for new in (old, balance(site, start=T0 + timedelta(minutes=5), duration=3600)):
        kwargs: dict[str, Any] = {"at": new.start, "previous": old, "only_changed": True}
        assert send_plan(new, previous_plan=send_plan(other), **kwargs) == _reference(new, **kwargs)
    with pytest.raises(SendPlanError, match="previous_plan"):
        send_plan(new, previous_plan=old, **kwargs)  # type: ignore[arg-type]


def test_a_forged_carried_state_that_overloads_is_caught_by_the_post_condition() -> None:
    """Mutation check: a carried profile forged (same inputs, 32 A instead of the share) for
    EVSEs the re-plan keeps is what the piles would hold; the replay finds the feeder over
    its limit and raises, it never returns the plan."""
    site = _pair_site()
    old = balance(site, start=T0, duration=3600)
    new = balance(site, start=T0, duration=3600)
    plan = send_plan(old)
    kwargs: dict[str, Any] = {"at": new.start, "previous": old, "only_changed": True}
    assert send_plan(new, previous_plan=plan, **kwargs).sent == ()  # nothing changes
    with pytest.raises(SafetyError, match="circuit f"):
        send_plan(new, previous_plan=_forged(plan, 32.0), **kwargs)

"""send_plan's fast paths (issue 16, helper SEND16) against their reference paths.

Each fast path is checked against what it replaces, on random input:

- the post-condition's loads summed exactly by difference rows (``_Loads.fill``) against
  the exact sum of every piece, and against the piece-by-piece additions (``_Loads.add``)
  within rounding;
- a plan profile validated around periods built directly (``_sendplan._validated``)
  against validating the whole profile: the same model, or the same error;
- an entry's fixed start known without compiling (``_plancheck._fixed_start``) against
  its compiled anchor;
- and the whole plan, with every SEND16 fast path on (the stores once per plan, the
  installs and directions memoised within the plan, exact loads, plain periods) and off:
  the same plan or the same error, on random sites and re-plans.
"""

from __future__ import annotations

from contextlib import ExitStack
from fractions import Fraction
from typing import Any
from unittest.mock import patch

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import set_charging_profile
from strategies_site import hostile_sites, sites
from test_send_fast import _PURPOSES, _TRANSACTIONS, _VERSIONS, _limits
from test_send_plan_speedups import (
    _WINDOWS,
    REPLAN_CASES,
    ReplanCase,
    _plan,
    _replan,
    cold_plan_then_replan,
)

from ocpp_schedule import SafetyError
from ocpp_schedule.engine._compile import compiled
from ocpp_schedule.errors import OcppScheduleError
from ocpp_schedule.site import Site, _plancheck, _sendplan
from ocpp_schedule.site._plancheck import _Loads
from ocpp_schedule.site._sendplan import SendPlan, SendPlanError, _profile_json, _validated
from ocpp_schedule.site._timelines import Piece
from ocpp_schedule.station import install
from ocpp_schedule.station._store import InstalledProfile
from ocpp_schedule.wire._enums import OcppVersion
from ocpp_schedule.wire._models import ChargingProfile
from ocpp_schedule.wire._payloads import read_set_charging_profile

# ------------------------------------------------------------------ exact loads


_CAPS = st.one_of(
    st.integers(-4, 64).map(float),
    st.floats(-1.0, 80.0, allow_nan=False, allow_infinity=False),
    st.sampled_from([0.1, 0.2, 0.3, 6.1, 10.3, 1e-9, 5e-324, 1e-300, 31.7]),
)


@st.composite
def _members(draw: st.DrawFn) -> tuple[Site, list[int], list[tuple[object, list[Piece]]]]:
    site = draw(sites())
    grid = sorted(set(draw(st.lists(st.integers(0, 50), min_size=2, max_size=12))))
    if len(grid) < 2:
        grid = [0, 10]
    members = []
    for pile in site.piles:
        for _ in pile.evses:
            pieces = []
            cursor = draw(st.integers(grid[0] - 5, grid[-1]))
            for _ in range(draw(st.integers(0, 4))):
                length = draw(st.integers(1, 20))
                pieces.append(
                    Piece(
                        cursor,
                        cursor + length,
                        draw(_CAPS),
                        draw(st.integers(0, 3)),
                        -1,
                    )
                )
                cursor += length + draw(st.integers(0, 5))
            members.append((pile, pieces))
    return site, grid, members


def _exact(site: Site, grid: list[int], members) -> dict[str, list[list[Fraction]]]:
    """Every cell's load as the exact sum of the pieces that cover it."""
    paths = site.paths()
    size = len(grid) - 1
    out = {c: [[Fraction(0)] * size for _ in range(3)] for c in paths}
    for pile, pieces in members:
        for piece in pieces:
            if piece.cap <= 0 or piece.phases <= 0:
                continue
            for i in range(size):
                # a cell is covered when the piece starts at or before it and ends after it
                if piece.start <= grid[i] and grid[i] < piece.end:
                    for circuit in paths[pile.circuit]:
                        for p in range(piece.phases):
                            out[circuit][pile.circuit_phase(p)][i] += Fraction(piece.cap)
    return out


def _snap(grid: list[int], members):
    """The pieces with ends on grid points (as the check's grid is built from them)."""
    points = set(grid)
    for _, pieces in members:
        for piece in pieces:
            points.update((piece.start, piece.end))
    return sorted(points)


@settings(max_examples=150, deadline=None)
@given(_members())
def test_fill_is_the_exact_sum_rounded_once(case) -> None:
    """``fill`` gives every cell the exact sum of its pieces, rounded once to a float."""
    site, grid, members = case
    grid = _snap(grid, members)
    loads = _Loads(site, grid)
    loads.fill(members)
    exact = _exact(site, grid, members)
    for circuit, rows in exact.items():
        for p in range(3):
            assert loads.amps[circuit][p] == [float(x) for x in rows[p]], (circuit, p)


@settings(max_examples=150, deadline=None)
@given(_members())
def test_fill_matches_the_piece_by_piece_additions(case) -> None:
    """The piece-by-piece additions (the reference path) agree within float rounding."""
    site, grid, members = case
    grid = _snap(grid, members)
    fast = _Loads(site, grid)
    fast.fill(members)
    slow = _Loads(site, grid)
    for pile, pieces in members:
        slow.add(pile, pieces, 1.0)
    for circuit in fast.amps:
        for p in range(3):
            for a, b in zip(fast.amps[circuit][p], slow.amps[circuit][p], strict=True):
                assert abs(a - b) <= 1e-9 * max(1.0, abs(b))


# ------------------------------------------------------------------ plain periods


def _fields_set(model: Any) -> Any:
    """Every nested model's fields set, in a comparable form."""
    if isinstance(model, tuple | list):
        return [_fields_set(m) for m in model]
    if not hasattr(model, "model_fields_set"):
        return model
    return {
        name: _fields_set(getattr(model, name))
        for name in sorted(type(model).model_fields)
        if name in model.model_fields_set
    } | {"__set__": sorted(model.model_fields_set)}


@settings(max_examples=300, deadline=None)
@given(_VERSIONS, _PURPOSES, _TRANSACTIONS, _limits(), st.integers(0, 5))
def test_validated_is_the_whole_profile_validated(
    version: OcppVersion, purpose: Any, transaction: str, limits: Any, level: int
) -> None:
    """The same model (equality, fields set at every level, dump, hash) or the same error."""
    profile = _profile_json(version, 3, purpose, level, transaction, limits)
    try:
        reference = ChargingProfile.model_validate(profile)
    except OcppScheduleError as exc:
        try:
            _validated(profile, version)
        except OcppScheduleError as mine:
            assert (type(mine), mine.message, mine.field, mine.rule) == (
                type(exc),
                exc.message,
                exc.field,
                exc.rule,
            )
            return
        raise AssertionError("the fast path accepted what validation refuses") from None
    fast = _validated(profile, version)
    assert fast == reference
    assert _fields_set(fast) == _fields_set(reference)
    assert fast.model_dump() == reference.model_dump()
    assert hash(fast) == hash(reference)
    assert repr(fast) == repr(reference)


# ------------------------------------------------------------------ the whole plan


def _install_every_time(self: Any, pile: str, store: Any, request: Any, state: Any) -> Any:
    """The reference: every install done again."""
    return install(store, request, state)


def _fill_by_pieces(self: _Loads, members: Any) -> None:
    """The reference: the loads added piece by piece (as before SEND16)."""
    for pile, pieces in members:
        self.add(pile, pieces, 1.0)


def _direction_every_time(self: Any, old: Any, new: Any, judge: Any) -> Any:
    """The reference: every direction judged again."""
    return judge(old, new)


def _reference(allocation: Any, **kwargs: Any) -> SendPlan | str:
    """send_plan with SEND16's fast paths off."""
    with ExitStack() as stack:
        stack.enter_context(patch.object(_sendplan._Installs, "__call__", _install_every_time))
        stack.enter_context(patch.object(_plancheck._Loads, "fill", _fill_by_pieces))
        stack.enter_context(patch.object(_plancheck.Draws, "direction", _direction_every_time))
        stack.enter_context(
            patch.object(
                _sendplan,
                "_validated",
                lambda profile, version: ChargingProfile.model_validate(profile),
            )
        )
        stack.enter_context(
            patch.object(
                _sendplan,
                "_stores",
                lambda site: {p.id: _sendplan.pile_store(p, site) for p in site.piles},
            )
        )
        return _plan(allocation, **kwargs)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@REPLAN_CASES
def test_property_the_fast_paths_give_the_reference_plan(case: ReplanCase) -> None:
    """Same steps (payloads, limits, order, phases), tails, warnings, validity and EVSEs
    sent, or the same error, cold and as a re-plan with the previous plan."""
    cold = cold_plan_then_replan(case, _reference)
    if cold is None:
        return
    new, carried, kwargs = cold
    assert _plan(new, previous_plan=carried, **kwargs) == _reference(
        new, previous_plan=carried, **kwargs
    )


def _replayed_stores(allocation: Any, **kwargs: Any) -> list[Any]:
    """The stores the post-condition is given: before the plan, and after each step."""
    seen: list[Any] = []
    real = _sendplan.check_plan

    def spy(site: Any, start: int, end: int, before: Any, changes: Any, **rest: Any) -> Any:
        seen.append(sorted((pid, tuple(store)) for pid, (store, _) in before.items()))
        seen.append([(c.pile, c.what, tuple(c.store)) for c in changes])
        return real(site, start, end, before, changes, **rest)

    with patch.object(_sendplan, "check_plan", spy):
        _plan(allocation, **kwargs)
    return seen


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(sites(), hostile_sites()), _WINDOWS, _WINDOWS, st.integers(0, 40))
def test_property_the_replay_checks_the_same_stores(
    site: Site, old_window: tuple[int, int], new_window: tuple[int, int], slot: int
) -> None:
    """With the installs memoised, the post-condition replays exactly the same stores
    (before the plan, and after each step) as with every install done again."""
    try:
        old, new, at = _replan(site, old_window, new_window, slot, 900)
    except (SafetyError, SendPlanError):
        return
    kwargs = {"at": at, "previous": old, "only_changed": True}
    fast = _replayed_stores(new, **kwargs)
    with patch.object(_sendplan._Installs, "__call__", _install_every_time):
        assert fast == _replayed_stores(new, **kwargs)


_PIECES = st.lists(
    st.builds(
        lambda start, length, cap, phases: Piece(start, start + length, cap, phases, -1),
        st.integers(0, 40),
        st.integers(1, 10),
        st.sampled_from([0.0, 6.0, 10.5, 16.0, 32.0]),
        st.integers(0, 3),
    ),
    max_size=4,
).map(lambda pieces: sorted(pieces, key=lambda p: p.start))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(_PIECES, min_size=1, max_size=5),
    st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), max_size=30),
)
def test_direction_memo_answers_each_pair(
    draws: list[list[Piece]], pairs: list[tuple[int, int]]
) -> None:
    """Asked about pairs of draws sharing lists, the plan's memo of directions gives what
    judging each pair afresh gives (and never another judge's answer)."""
    memo = _plancheck.Draws(0, 100)
    both = lambda a, b: (True, True)  # noqa: E731 - another judge
    for judge in (_plancheck._direction, both, _plancheck._direction):
        for i, j in pairs:
            old, new = draws[i % len(draws)], draws[j % len(draws)]
            assert memo.direction(old, new, judge) == judge(old, new)


# ------------------------------------------------------------------ fixed starts


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(["1.6", "2.0.1", "2.1"]).flatmap(set_charging_profile))
def test_fixed_start_is_the_compiled_anchor(payload: dict[str, Any]) -> None:
    """Wherever the profile compiles, the shortcut says what its compiled anchor says."""
    try:
        request = read_set_charging_profile(payload)
    except OcppScheduleError:
        return
    entry = InstalledProfile(request.evse_id, request.charging_profile)
    try:
        anchor = compiled(entry).anchor
    except OcppScheduleError:
        return  # refused by the compiler: the draw is computed, which raises (see _fixed_start)
    assert _plancheck._fixed_start(entry) == (anchor is not None)


def test_as_lower_is_replace() -> None:
    """A lower-only EVSE's step: every field of ``dataclasses.replace(step, phase="lower")``."""
    import dataclasses

    step = _sendplan.PlanStep(
        "P1",
        2,
        _sendplan.P.TX_DEFAULT_PROFILE,
        "raise",
        {"evseId": 2},
        ((0, 10, 6.0, 3),),
        read_back=None,
    )
    for read_back in (None, object()):
        raised = dataclasses.replace(step, read_back=read_back)
        mine, reference = _sendplan._as_lower(raised), dataclasses.replace(raised, phase="lower")
        for f in dataclasses.fields(_sendplan.PlanStep):
            assert getattr(mine, f.name) is getattr(reference, f.name) or getattr(
                mine, f.name
            ) == getattr(reference, f.name), f.name

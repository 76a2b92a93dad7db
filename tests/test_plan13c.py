"""The deadline balance's fast paths (helper PLAN13C, issues 13 and 16): each compared with
the code it replaced, kept here as the reference, on random, hostile and congested sites.

- the deadline plan counted as it is planned (:meth:`_Planner.run_capped`) against the
  plan capped afterwards (``capped(run())``, the reference).
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies_site import NEEDS, T0, hostile_sites, sites, sites_with_needs

from ocpp_schedule import Circuit, DeadlineAware, Evse, Pile, Session, Site, balance
from ocpp_schedule.errors import OcppScheduleError
from ocpp_schedule.site._planner import _Planner

HOUR = 3600
ROTATIONS = ("L1L2L3", "L2L3L1", "L3L1L2")
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RESOLUTIONS = st.sampled_from([None, 300, 900])


@st.composite
def _hostile_with_needs(draw: Any) -> Site:
    """:func:`hostile_sites` (held TxProfiles: pinned demands, any weights, minima that are
    not whole tenths) with an energy need, or none, on each session and priority classes."""
    site = draw(hostile_sites())
    piles = []
    for pile in site.piles:
        evses = []
        for evse in pile.evses:
            own = []
            for session in evse.sessions:
                need = draw(NEEDS) or {}
                priority = draw(st.sampled_from([0, 0, 1, 5]))
                own.append(
                    Session.model_validate({**session.model_dump(), **need, "priority": priority})
                )
            evses.append(evse.model_copy(update={"sessions": tuple(own)}))
        piles.append(pile.model_copy(update={"evses": tuple(evses)}))
    return site.model_copy(update={"piles": tuple(piles)})


SITES = st.one_of(sites(), sites_with_needs(), _hostile_with_needs())


def _congested(vehicles: int = 16, amps: float = 60.0) -> Site:
    """A feeder far smaller than its vehicles want, needs and departures spread, one- and
    three-phase vehicles, minima that are not whole tenths."""
    piles = []
    for i in range(vehicles):
        session = Session(
            arrive=T0 - timedelta(minutes=10 * (i % 3)),
            leave=T0 + timedelta(minutes=70 + 23 * i),
            phases=3 if i % 4 else 1,
            max_amps=32.0 if i % 5 else 16.0,
            min_amps=6.0 if i % 3 else 7.33,
            energy_kwh=4.0 + 3.7 * (i % 7),
            priority=1 if i % 6 == 0 else 0,
        )
        piles.append(
            Pile(
                id=f"P{i}",
                circuit="F",
                phase_rotation=ROTATIONS[i % 3],  # type: ignore[arg-type]
                evses=(Evse(id=1, sessions=(session,)),),
            )
        )
    grid = Circuit(id="grid", amps=amps, children=(Circuit(id="F", amps=amps),))
    return Site(name="congested", time_zone="UTC", grid=grid, piles=tuple(piles))


class _Capture(DeadlineAware):
    """DeadlineAware that keeps the planning problems it is given."""

    def __init__(self, weighted: bool = False) -> None:
        super().__init__(weighted=weighted)
        self.problems: list[Any] = []

    def plan(self, problem: Any, progress: Any = None) -> Any:
        self.problems.append(problem)
        return super().plan(problem, progress)


def _problems(site: Site, resolution: int | None, weighted: bool = False) -> list[Any]:
    capture = _Capture(weighted)
    # Refused after planning (or before): the problems seen are still compared.
    with contextlib.suppress(OcppScheduleError):
        balance(site, start=T0, duration=6 * HOUR, resolution=resolution, policy=capture)
    return capture.problems


def _same(a: Any, b: Any) -> None:
    """Equal bit for bit (``repr``: a different rounding or a zero's sign shows)."""
    assert repr(a) == repr(b)


# ------------------------------------------------------------------ references


def _reference_run_capped(
    planner: _Planner, progress: Any = None
) -> tuple[list[dict[Any, float]], float]:
    """The deadline plan, then capped over the whole plan (as before PLAN13C)."""
    return planner.capped(planner.run(progress))


def _state(planner: _Planner) -> Any:
    return (planner.left, planner.got, planner.full, planner.reserved)


# ------------------------------------------------------------------ counted as planned


def _check_counted(problem: Any, weighted: bool) -> None:
    try:
        fast = _Planner(problem, weighted)
    except OcppScheduleError:
        return  # pinned demands alone overload a circuit: refused before any plan
    slow = _Planner(problem, weighted)
    _same(fast.run_capped(None), _reference_run_capped(slow))
    _same(_state(fast), _state(slow))  # the planner's own state took the planned currents
    assert fast.counted is None


@SETTINGS
@given(SITES, RESOLUTIONS, st.booleans())
def test_property_counting_as_planned_equals_capping_afterwards(
    site: Site, resolution: int | None, weighted: bool
) -> None:
    """The rows and the energy of ``run_capped`` are ``capped(run())``'s, bit for bit, and
    the planner's state after it is the same."""
    for problem in _problems(site, resolution, weighted):
        _check_counted(problem, weighted)


def test_counting_as_planned_on_a_congested_feeder() -> None:
    """Where front-loading and the reservations cut shares and needs are met mid-slot."""
    for resolution in (None, 300, 900):
        for weighted in (False, True):
            problems = _problems(_congested(), resolution, weighted)
            assert problems
            for problem in problems:
                _check_counted(problem, weighted)


def test_a_current_above_the_need_is_capped_in_the_row_and_counted_capped() -> None:
    """A planned current above what the need left allows is cut in the row and counted cut,
    while the planner's own state takes the planned current (as the reference does)."""
    problem = _problems(_congested(4, 200.0), 900)[0]

    # Make the forward pass plan more than the rounded-up need: every open cell gets its cap.
    def upper(self: _Planner, d: Any, cell: Any) -> float:
        return float(d.cap) if self.left[d.session] > 1e-9 and cell[2] > 0.0 else 0.0

    with mock.patch.object(_Planner, "_upper", upper):
        fast = _Planner(problem, False)
        slow = _Planner(problem, False)
        rows, total = fast.run_capped(None)
        _same((rows, total), _reference_run_capped(slow))
        _same(_state(fast), _state(slow))
    planned = _Planner(problem, False)
    with mock.patch.object(_Planner, "_upper", upper):
        raw = planned.run(None)
    assert any(rows[k].get(key) != x for k, row in enumerate(raw) for key, x in row.items()), (
        "the example must cap some current"
    )


@SETTINGS
@given(SITES, RESOLUTIONS)
def test_property_the_allocation_is_the_reference_allocation(
    site: Site, resolution: int | None
) -> None:
    """The whole balance (every field of the Allocation, or the same error) equals the
    balance with every reference path put back."""

    def run(patches: list[Any]) -> str:
        try:
            with _patched(patches):
                return repr(balance(site, start=T0, duration=6 * HOUR, resolution=resolution))
        except OcppScheduleError as exc:
            return f"{type(exc).__name__}: {exc}"

    assert run([]) == run(_REFERENCES)


_REFERENCES: list[Any] = [
    mock.patch.object(_Planner, "run_capped", _reference_run_capped),
]


class _patched:
    """Enter every patch of a list (a context manager)."""

    def __init__(self, patches: list[Any]) -> None:
        self.patches = patches

    def __enter__(self) -> None:
        for p in self.patches:
            p.__enter__()

    def __exit__(self, *exc: object) -> None:
        for p in reversed(self.patches):
            p.__exit__(*exc)

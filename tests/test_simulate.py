"""The closed-loop simulator (issue 13, item 6) and ``ocpp-schedule simulate`` (item 7).

Examples pin the vehicle model and the report; the properties say that no circuit phase or
power limit is ever exceeded by the actual draws, whatever the weights, priorities, needs and
departures, and that the safe tail holds after a plan expires with no new plan.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from strategies_site import T0, sites
from test_control import _with_needs

from ocpp_schedule import (
    EqualShare,
    QueryError,
    SimulationResult,
    VehicleModel,
    Weighted,
    simulate,
)
from ocpp_schedule.cli import main
from ocpp_schedule.site import Circuit, Evse, Pile, Session, Site
from ocpp_schedule.site._model import SiteError
from ocpp_schedule.site._simulate import MAX_SIMULATION_CELLS
from ocpp_schedule.wire._timestamps import to_epoch

H0 = datetime(2024, 3, 4, 8, tzinfo=UTC)
EXAMPLE = str(Path(__file__).resolve().parent.parent / "examples" / "site.json")


def h(x: float) -> datetime:
    return H0 + timedelta(hours=x)


def one_pile(amps: float, *sessions: Session, evse_amps: float = 32.0) -> Site:
    return Site(
        grid=Circuit(id="grid", amps=amps),
        piles=(
            Pile(
                id="P",
                circuit="grid",
                evses=tuple(
                    Evse(id=i + 1, max_amps=evse_amps, sessions=(s,))
                    for i, s in enumerate(sessions)
                ),
            ),
        ),
    )


def kwh(amps: float, hours: float, phases: int = 3) -> float:
    return amps * phases * 230 * hours / 1000


# ------------------------------------------------------------------ the vehicle model


def test_a_constant_current_vehicle_draws_its_limit_until_its_need_is_met() -> None:
    need = kwh(16, 1.0)  # an hour at 16 A
    site = one_pile(16.0, Session(arrive=h(0), leave=h(3), energy_kwh=need))
    result = simulate(site)
    (only,) = result.sessions
    assert only.delivered_kwh == pytest.approx(need)
    assert only.done_at == h(1) and only.unmet_kwh == 0 and only.met
    assert result.violation_count == 0 and result.worst is None
    assert result.demands == result.demands_met == 1 and result.met_percent == 100.0
    assert len(result.cpu_ms) == 36  # a call every 300 s over 3 h


def test_a_vehicle_without_a_need_draws_until_it_leaves() -> None:
    site = one_pile(16.0, Session(arrive=h(0), leave=h(2)))
    (only,) = simulate(site).sessions
    assert only.delivered_kwh == pytest.approx(kwh(16, 2.0))
    assert only.need_kwh is None and only.met is None and only.unmet_kwh is None


def test_a_full_vehicles_current_goes_to_the_other_at_the_next_step() -> None:
    small = Session(arrive=h(0), leave=h(4), energy_kwh=kwh(16, 0.5))
    big = Session(arrive=h(0), leave=h(4))
    # Equal shares: 16 A each until the small one is full (the default would front-load it).
    result = simulate(one_pile(32.0, small, big), step=300, end=h(2), policy=EqualShare())
    first, second = result.sessions
    assert first.done_at == h(0.5)
    # 16 A for 30 min, then 32 A from the next step on (at most one step late).
    assert second.delivered_kwh >= kwh(16, 0.5) + kwh(32, 1.5) - kwh(32, 300 / 3600) - 1e-6
    assert result.violation_count == 0


def test_the_taper_model_falls_linearly_above_its_threshold() -> None:
    model = VehicleModel(taper_soc_percent=80, floor_fraction=0.1)
    evse = Evse(id=1, max_amps=32.0)
    session = Session(
        arrive=h(0), leave=h(9), soc_percent=50, battery_kwh=50, target_soc_percent=100
    )
    assert model.accepts(session, evse, 0.0) == 32.0
    assert model.accepts(session, evse, 15.0) == pytest.approx(32.0)  # at 80 %
    assert model.accepts(session, evse, 20.0) == pytest.approx(32.0 * (1 - 0.9 * 0.5))  # 90 %
    assert model.accepts(session, evse, 25.0) == pytest.approx(3.2)  # at 100 %
    plain = Session(arrive=h(0), leave=h(9), energy_kwh=50)
    assert model.accepts(plain, evse, 49.0) == 32.0  # no state of charge: constant current
    with pytest.raises(ValidationError):
        VehicleModel(floor_fraction=2.0)


def test_a_tapering_vehicles_unused_current_goes_to_the_other() -> None:
    """At 95 % a 32 A vehicle accepts 10.4 A, falling to 3.2 A: the other gets the rest."""
    tapering = Session(
        arrive=h(0), leave=h(6), soc_percent=95, battery_kwh=100, target_soc_percent=100
    )
    other = Session(arrive=h(0), leave=h(6))
    result = simulate(one_pile(32.0, tapering, other), end=h(3))
    assert result.violation_count == 0
    first, second = result.sessions
    assert first.met and first.done_at is not None
    tapered = (to_epoch(first.done_at) - to_epoch(h(0))) / 3600
    assert tapered > 1.0
    # Without the reactive rule the other would get 16 A until the first is full.
    fair = kwh(16, tapered) + kwh(32, 3 - tapered)
    assert second.delivered_kwh > fair + kwh(4, tapered)


# ------------------------------------------------------------------ departures, sessions


def test_hidden_departures_are_estimated_and_learnt_at_unplugging() -> None:
    short = Session(arrive=h(0), leave=h(0.5), energy_kwh=100)
    other = Session(arrive=h(0), leave=h(3), energy_kwh=100)
    site = one_pile(32.0, short, other)
    known = simulate(site, end=h(2), policy=EqualShare())  # equal splits: 16 A each
    hidden = simulate(site, end=h(2), hide_departures=True, policy=EqualShare())
    for result in (known, hidden):
        assert result.violation_count == 0
        assert result.sessions[0].delivered_kwh == pytest.approx(kwh(16, 0.5))
        # After the short one leaves, the other gets 32 A (at the next step at the latest).
        assert result.sessions[1].delivered_kwh >= kwh(16, 0.5) + kwh(32, 1.5) - kwh(32, 1 / 12)


def test_a_vehicle_plugged_in_at_a_call_is_not_taken_as_tapering() -> None:
    """At its arrival instant a vehicle has no meter value of its own: the CSMS learns of it by
    StartTransaction. Reporting 0 A there made CT3 cap it at its minimum for its first step,
    under the limit the EVSE still held from before (here the first session's plan), so a
    vehicle needing its whole stay at its maximum was never served by any policy."""
    first = Session(arrive=h(0), leave=h(1), energy_kwh=1.0)
    second = Session(arrive=h(1), leave=h(1.5), energy_kwh=kwh(32, 0.5))
    site = Site(
        grid=Circuit(id="grid", amps=32.0),
        piles=(Pile(id="P", circuit="grid", evses=(Evse(id=1, sessions=(first, second)),)),),
    )
    result = simulate(site, end=h(1.5))
    assert result.violation_count == 0
    assert [s.met for s in result.sessions] == [True, True]


def test_sessions_can_be_placed_on_the_site() -> None:
    site = one_pile(32.0, Session(arrive=h(0), leave=h(1)))
    placed = {("P", 1): [Session(arrive=h(2), leave=h(3), energy_kwh=5)]}
    result = simulate(site, placed)
    assert [s.arrive for s in result.sessions] == [h(2)]
    assert result.start_epoch == to_epoch(h(2)) and result.sessions[0].met
    with pytest.raises(QueryError, match="not an EVSE"):
        simulate(site, {("P", 9): []})
    with pytest.raises(SiteError, match="overlap"):
        simulate(
            site, {("P", 1): [Session(arrive=h(0), leave=h(2)), Session(arrive=h(1), leave=h(3))]}
        )


def test_records_and_cpu_time_are_reported() -> None:
    site = one_pile(32.0, Session(arrive=h(0), leave=h(1)))
    result = simulate(site, records=True, policy=EqualShare())
    assert isinstance(result, SimulationResult)
    assert len(result.records) == len(result.cpu_ms) == 12
    assert result.records[0].sent == 1 and result.records[1].sent == 0  # nothing changed
    assert result.mean_cpu_ms >= 0 and result.max_cpu_ms >= result.mean_cpu_ms
    assert result.policy == "equal-share"


def test_violations_are_measured_and_reported_never_hidden(monkeypatch) -> None:
    """A plan that would overload (here: forced by breaking the plan the piles hold) is seen."""
    import ocpp_schedule.site._simulate as sim

    site = one_pile(32.0, Session(arrive=h(0), leave=h(1)), Session(arrive=h(0), leave=h(1)))
    monkeypatch.setattr(sim._Run, "_limit", lambda self, key, t: (32.0, 0))
    result = simulate(site)
    assert result.violation_count == 12 * 3  # every step, every phase
    worst = result.worst
    assert worst is not None and worst.circuit == "grid" and worst.load == 64.0
    assert worst.limit == 32.0 and worst.excess == 1.0


def test_the_work_is_bounded_before_it_starts() -> None:
    site = one_pile(32.0, Session(arrive=h(0), leave=h(1)))
    with pytest.raises(QueryError, match="above the bound"):
        simulate(site, step=1, end=h(0) + timedelta(seconds=MAX_SIMULATION_CELLS + 1))
    with pytest.raises(QueryError, match="step"):
        simulate(site, step=0)
    with pytest.raises(QueryError, match="end"):
        simulate(site, start=h(1), end=h(1))
    with pytest.raises(QueryError, match="give start"):
        simulate(one_pile(32.0, Session(arrive=h(0), leave=h(1))), {})


# ------------------------------------------------------------------ properties


def _weights(draw: Any, site: Site) -> Site:
    piles = []
    for pile in site.piles:
        evses = []
        for evse in pile.evses:
            own = tuple(
                s.model_copy(update={"weight": draw(st.sampled_from([1e-3, 0.5, 1.0, 7.0, 1e3]))})
                for s in evse.sessions
            )
            evses.append(evse.model_copy(update={"sessions": own}))
        piles.append(pile.model_copy(update={"evses": tuple(evses)}))
    return site.model_copy(update={"piles": tuple(piles)})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sites(), st.booleans(), st.booleans(), st.data())
def test_property_no_circuit_limit_is_ever_exceeded(
    site: Site, weighted: bool, hide: bool, data: st.DataObject
) -> None:
    """Any weights, priorities, needs, unknown or hidden departures, taper: zero violations."""
    site = _weights(data.draw, _with_needs(data.draw, site))
    start = to_epoch(T0) + data.draw(st.integers(0, 4)) * 900
    result = simulate(
        site,
        policy=Weighted() if weighted else None,
        step=900,
        start=start,
        end=start + 4 * 3600,
        hide_departures=hide,
    )
    assert result.violation_count == 0, result.worst
    for s in result.sessions:
        if s.need_kwh is not None:
            assert s.delivered_kwh <= s.need_kwh + 1e-9


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sites(), st.sampled_from([900, 1800]), st.data())
def test_property_the_safe_tail_holds_after_expiry(site: Site, horizon: int, data: Any) -> None:
    """One plan, no re-plan: long after its horizon, the vehicles draw its safe tail and no
    circuit is ever over its limit."""
    site = _with_needs(data.draw, site)
    start = to_epoch(T0) + data.draw(st.integers(0, 4)) * 900
    result = simulate(
        site, step=900, start=start, end=start + 8 * 3600, horizon=horizon, replan=False
    )
    assert len(result.cpu_ms) == 1
    assert result.violation_count == 0, result.worst


# ------------------------------------------------------------------ the command line


def test_cli_simulate_prints_the_table(capsys) -> None:
    assert main(["simulate", EXAMPLE, "--policy", "equal", "--step", "900"]) == 0
    out = capsys.readouterr().out
    assert "EVSE" in out and "delivered kWh" in out and "done at" in out and "unmet kWh" in out
    assert "CP-1/1" in out and "10:" in out
    assert "violations: 0" in out and "demands met:" in out and "ms CPU" in out


def test_cli_simulate_json(capsys) -> None:
    args = ["simulate", EXAMPLE, "--json", "--step", "900", "--no-replan", "--horizon", "3600"]
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["violation_count"] == 0 and data["replan"] is False
    assert {"pile", "evse", "delivered_kwh", "done_at", "unmet_kwh"} <= set(data["sessions"][0])


@pytest.mark.parametrize(
    "args, message",
    [
        (["--step", "0"], "--step"),
        (["--horizon", "-5"], "--horizon"),
        (["--start", "yesterday"], "--start"),
        (["--start", "2024-06-03T10:00:00Z", "--end", "2024-06-03T09:00:00Z"], "end"),
        (["--step", "1", "--end", "2030-01-01T00:00:00Z"], "above the bound"),
    ],
)
def test_cli_simulate_bad_input_is_one_line_exit_2(args: list[str], message: str, capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["simulate", EXAMPLE, *args])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_cli_simulate_a_missing_file_is_one_line_exit_2(tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["simulate", str(tmp_path / "none.json")])
    assert info.value.code == 2 and capsys.readouterr().err.count("\n") == 1


@pytest.mark.parametrize("policy", ["default", "deadline", "equal", "optimal", "weighted"])
def test_cli_simulate_runs_every_policy_without_violations(policy: str, capsys) -> None:
    if policy == "optimal":
        pytest.importorskip("scipy")
    assert main(["simulate", EXAMPLE, "--policy", policy, "--step", "1800"]) == 0
    out = capsys.readouterr().out
    assert "violations: 0" in out
    assert f"policy {policy if policy != 'equal' else 'equal-share'}" in out or policy == "default"

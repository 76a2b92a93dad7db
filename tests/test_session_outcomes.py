"""Issue 13, first slice: sessions carry an energy need, and each gets its outcome.

Inputs: ``energy_kwh`` or ``soc_percent`` + ``battery_kwh`` + ``target_soc_percent``
(never both), ``priority``. Outputs: :func:`session_outcomes` reads an allocation and
says, per session, the energy by departure (capped at the need), when the need is met
and what is left unmet. The balancing itself does not change.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from strategies_site import T0, sites_with_needs

import ocpp_schedule
from ocpp_schedule import (
    Allocation,
    Circuit,
    EqualShare,
    Evse,
    Pile,
    Session,
    SessionOutcome,
    Site,
    SiteError,
    balance,
    load_site,
    session_outcomes,
)
from ocpp_schedule.cli import main

DAY = datetime(2024, 6, 3, tzinfo=UTC)
HOUR = 3600
ROOT = Path(__file__).resolve().parent.parent


def _at(hours: float) -> datetime:
    return DAY + timedelta(hours=hours)


def _site(*sessions: Session, amps: float = 100.0, evse_amps: float = 32.0) -> Site:
    """One pile per session on a grid connection of ``amps`` per phase, 3-phase EVSEs."""
    piles = tuple(
        Pile(id=f"P{i}", circuit="grid", evses=(Evse(id=1, max_amps=evse_amps, sessions=(s,)),))
        for i, s in enumerate(sessions, 1)
    )
    return Site(grid=Circuit(id="grid", amps=amps), piles=piles)


def _only(site: Site, hours: float = 24, start: float = 0, **options: Any) -> SessionOutcome:
    allocation = balance(site, start=_at(start), duration=int(hours * HOUR), **options)
    (outcome,) = session_outcomes(allocation)
    return outcome


# ------------------------------------------------------------------ examples


def test_a_vehicle_served_early_is_done_and_gets_no_more_than_its_need() -> None:
    # 32 A x 3 phases x 230 V = 22.08 kW: 11.04 kWh take exactly half an hour.
    session = Session(arrive=_at(8), leave=_at(12), energy_kwh=11.04)
    outcome = _only(_site(session))
    assert outcome.need_kwh == 11.04
    assert outcome.expected_kwh == 11.04
    assert outcome.done_at == _at(8.5)
    assert outcome.unmet_kwh == 0.0
    assert not outcome.beyond_window
    assert (outcome.pile, outcome.evse) == ("P1", 1)
    assert outcome.transaction_id == session.effective_transaction_id(1)
    assert (outcome.arrive, outcome.leave) == (_at(8), _at(12))


def test_done_at_is_rounded_up_to_the_second() -> None:
    # 22.08 kW for 100.5 s is 0.616400 kWh: met during second 101 (under equal shares, which
    # give the vehicle its whole 32 A; the default policy gives it only what its need takes).
    need = 22080 * 100.5 / 3.6e6
    site = _site(Session(arrive=_at(8), leave=_at(12), energy_kwh=need))
    outcome = _only(site, policy=EqualShare())
    assert outcome.done_at == _at(8) + timedelta(seconds=101)


def test_a_vehicle_short_of_energy_has_unmet_energy() -> None:
    # 16 A per phase for the site: 11.04 kWh in the hour, 20 kWh asked.
    outcome = _only(_site(Session(arrive=_at(8), leave=_at(9), energy_kwh=20), amps=16))
    assert outcome.expected_kwh == pytest.approx(11.04)
    assert outcome.unmet_kwh == pytest.approx(20 - 11.04)
    assert outcome.done_at is None


def test_an_unknown_need_gives_none_and_the_energy_its_limits_allow() -> None:
    site = _site(Session(arrive=_at(8), leave=_at(10)), amps=20)
    allocation = balance(site, start=_at(0), duration=86400)
    (outcome,) = session_outcomes(allocation)
    assert outcome.need_kwh is None and outcome.done_at is None and outcome.unmet_kwh is None
    assert outcome.expected_kwh == pytest.approx(20 * 3 * 230 * 2 / 1000)
    assert outcome.expected_kwh == pytest.approx(allocation.energy_kwh(("P1", 1)))


def test_a_session_past_the_window_is_flagged_and_counted_within_it() -> None:
    session = Session(arrive=_at(8), leave=_at(14), energy_kwh=100)
    outcome = _only(_site(session), hours=2, start=8)
    assert outcome.beyond_window
    assert outcome.expected_kwh == pytest.approx(22.08 * 2)
    assert outcome.unmet_kwh == pytest.approx(100 - 22.08 * 2)
    assert outcome.done_at is None


def test_a_session_running_at_the_window_start_counts_from_the_start() -> None:
    outcome = _only(_site(Session(arrive=_at(6), leave=_at(9))), hours=2, start=8)
    assert outcome.expected_kwh == pytest.approx(22.08)
    assert not outcome.beyond_window


def test_sessions_outside_the_window_are_left_out() -> None:
    site = _site(
        Session(arrive=_at(1), leave=_at(2)),
        Session(arrive=_at(8), leave=_at(9)),
        Session(arrive=_at(20), leave=_at(21)),
    )
    outcomes = session_outcomes(balance(site, start=_at(6), duration=6 * HOUR))
    assert [o.pile for o in outcomes] == ["P2"]


def test_the_soc_form_equals_the_kwh_form() -> None:
    soc = Session(
        arrive=_at(8), leave=_at(9), soc_percent=20, battery_kwh=50, target_soc_percent=80
    )
    kwh = Session(arrive=_at(8), leave=_at(9), energy_kwh=30)
    assert soc.need_kwh == pytest.approx(30)
    by_soc = _only(_site(soc, amps=16))
    by_kwh = _only(_site(kwh, amps=16))
    assert by_soc.need_kwh == pytest.approx(by_kwh.need_kwh)
    assert by_soc.expected_kwh == pytest.approx(by_kwh.expected_kwh)
    assert by_soc.unmet_kwh == pytest.approx(by_kwh.unmet_kwh)
    assert by_soc.done_at == by_kwh.done_at


def test_two_sessions_of_one_evse_in_one_slot_each_get_their_own_time() -> None:
    # The slot 08:00-08:15 loads 3 phases (the second vehicle's); the first loads one.
    first = Session(arrive=_at(8), leave=_at(8) + timedelta(minutes=5), phases=1)
    second = Session(arrive=_at(8) + timedelta(minutes=10), leave=_at(9), energy_kwh=1)
    site = Site(
        grid=Circuit(id="grid", amps=100),
        piles=(Pile(id="P", circuit="grid", evses=(Evse(id=1, sessions=(second, first)),)),),
    )
    a, b = session_outcomes(balance(site, start=_at(0), duration=86400))
    assert a.arrive == first.arrive and b.arrive == second.arrive  # by arrival
    assert a.expected_kwh == pytest.approx(32 * 230 * 5 / 60 / 1000)
    assert b.expected_kwh == pytest.approx(1.0) and b.done_at is not None


def test_needs_and_priorities_change_no_equal_share_decision() -> None:
    # Equal shares ignore needs and priorities (the default policy uses them: test_planner.py).
    plain = [Session(arrive=_at(8 + i), leave=_at(12)) for i in range(3)]
    needy = [
        s.model_copy(update={"energy_kwh": 5.0 * (i + 1), "priority": 9 - i})
        for i, s in enumerate(plain)
    ]
    one = balance(_site(*plain, amps=40), start=_at(0), duration=86400, policy=EqualShare())
    two = balance(_site(*needy, amps=40), start=_at(0), duration=86400, policy=EqualShare())
    assert one.amps == two.amps and one.paused == two.paused


# ------------------------------------------------------------------ inputs


def _session(**fields: Any) -> dict[str, Any]:
    return {"arrive": "2024-06-03T08:00:00Z", "leave": "2024-06-03T12:00:00Z", **fields}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"energy_kwh": 10, "soc_percent": 10, "battery_kwh": 50, "target_soc_percent": 80},
            "energy_kwh and soc_percent both give the energy need",
        ),
        ({"energy_kwh": 10, "battery_kwh": 50}, "energy_kwh and battery_kwh"),
        ({"soc_percent": 10, "battery_kwh": 50}, "target_soc_percent is missing"),
        ({"battery_kwh": 50, "target_soc_percent": 80}, "soc_percent is missing"),
        (
            {"soc_percent": 80, "battery_kwh": 50, "target_soc_percent": 80},
            "target_soc_percent must be above soc_percent",
        ),
    ],
)
def test_the_need_is_given_in_one_whole_form(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Session.model_validate(_session(**fields))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("energy_kwh", 0),
        ("energy_kwh", -1),
        ("energy_kwh", 10_000.5),
        ("energy_kwh", float("inf")),
        ("energy_kwh", float("nan")),
        ("battery_kwh", 0),
        ("battery_kwh", 20_000),
        ("soc_percent", -1),
        ("soc_percent", 100.5),
        ("target_soc_percent", 101),
        ("priority", -1),
        ("priority", 10),
        ("priority", 1.5),
        ("priority", True),
        ("priority", "high"),
    ],
)
def test_out_of_range_inputs_are_errors_naming_the_field(field: str, value: Any) -> None:
    fields = {field: value}
    if field in ("soc_percent", "battery_kwh", "target_soc_percent"):
        fields = {"soc_percent": 10, "battery_kwh": 50, "target_soc_percent": 90, **fields}
    with pytest.raises(ValidationError) as info:
        Session.model_validate(_session(**fields))
    assert info.value.errors()[0]["loc"] == (field,)


def test_the_largest_need_and_every_priority_class_are_accepted() -> None:
    assert Session.model_validate(_session(energy_kwh=10_000)).need_kwh == 10_000
    for priority in range(10):
        assert Session.model_validate(_session(priority=priority)).priority == priority
    assert Session.model_validate(_session()).priority == 0


def test_a_site_file_with_both_forms_is_a_site_error_naming_the_session(tmp_path: Path) -> None:
    data = json.loads((ROOT / "examples" / "site.json").read_text())
    data["piles"][1]["evses"][0]["sessions"][0]["energy_kwh"] = 12
    path = tmp_path / "site.json"
    path.write_text(json.dumps(data))
    with pytest.raises(SiteError, match="energy_kwh and soc_percent") as info:
        load_site(path)
    assert info.value.field == "piles.1.evses.0.sessions.0"
    data["piles"][1]["evses"][0]["sessions"][0]["energy_kwh"] = 0
    data["piles"][1]["evses"][0]["sessions"][0].pop("soc_percent")
    path.write_text(json.dumps(data))
    with pytest.raises(SiteError) as info:
        load_site(path)
    assert info.value.field == "piles.1.evses.0.sessions.0.energy_kwh"


# ------------------------------------------------------------------ command line


def test_balance_prints_and_writes_each_sessions_outcome(tmp_path: Path, capsys) -> None:
    out = tmp_path / "limits.json"
    assert main(["balance", str(ROOT / "examples" / "site.json"), "--json", str(out)]) == 0
    text = capsys.readouterr().out
    table = text[text.index("EVSE    stay (local time)") :]
    lines = table.splitlines()
    assert lines[2].split() == ["CP-1/1", "08:00-12:30", "30.0", "30.0", "09:29", "0.0"]
    assert lines[3].split() == ["CP-1/1", "17:30-22:00", "-", "17.0", "-", "-"]
    assert lines[5].split()[:3] == ["CP-2/1", "09:00-18:30", "36.0"]
    sessions = json.loads(out.read_text())["sessions"]
    assert len(sessions) == 5
    first = sessions[0]
    assert first == {
        "pile": "CP-1",
        "evse": 1,
        "transaction_id": first["transaction_id"],
        "arrive": "2024-06-03T06:00:00Z",
        "leave": "2024-06-03T10:30:00Z",
        "need_kwh": 30.0,
        "expected_kwh": 30.0,
        "done_at": "2024-06-03T07:29:57Z",
        "unmet_kwh": 0.0,
        "beyond_window": False,
    }
    assert sessions[1]["need_kwh"] is None and sessions[1]["unmet_kwh"] is None


def test_balance_marks_sessions_past_a_short_window(capsys) -> None:
    path = str(ROOT / "examples" / "site.json")
    assert main(["balance", path, "--duration", str(12 * HOUR)]) == 0
    text = capsys.readouterr().out
    assert "08:30-17:00*" in text and "the figures cover the window only" in text


# ------------------------------------------------------------------ properties


def _oracle(allocation: Allocation, pile: Pile, evse: Evse, session: Session) -> list[float]:
    """kWh delivered by the end of each second of the session within the window, one by one.

    Second by second: the slot's limit x the phases the vehicle loads there (at most its
    own and the EVSE's, B2) x the site's voltage.
    """
    key = (pile.id, evse.id)
    bounds = allocation.boundaries
    begin = max(allocation.start_epoch, int(session.arrive.timestamp()))
    end = min(allocation.end_epoch, int(session.leave.timestamp()))
    total, out = 0.0, []
    for t in range(begin, end):
        k = bisect_right(bounds, t) - 1
        phases = min(allocation.phases[key][k], session.phases, evse.phases)
        total += allocation.amps[key][k] * phases * allocation.site.voltage / 3.6e6
        out.append(total)
    return out


_WINDOWS = st.tuples(st.sampled_from([0, 3600, 7200]), st.sampled_from([1800, 3600, 5400]))


@settings(max_examples=200, deadline=None)
@given(sites_with_needs(), _WINDOWS, st.sampled_from([None, 900]))
def test_property_energy_never_beyond_the_need_and_equal_to_an_oracle(
    site: Site, window: tuple[int, int], resolution: int | None
) -> None:
    offset, duration = window
    start = T0 + timedelta(seconds=offset)
    allocation = balance(site, start=start, duration=duration, resolution=resolution)
    outcomes = {(o.pile, o.evse, o.arrive): o for o in session_outcomes(allocation)}
    for pile in site.piles:
        for evse in pile.evses:
            for session in evse.sessions:
                cumulative = _oracle(allocation, pile, evse, session)
                outcome = outcomes.pop((pile.id, evse.id, session.arrive), None)
                if not cumulative:
                    assert outcome is None  # outside the window
                    continue
                assert outcome is not None
                _check(outcome, session, cumulative, allocation)
    assert not outcomes


def _check(
    outcome: SessionOutcome, session: Session, cumulative: list[float], allocation: Allocation
) -> None:
    need = session.need_kwh
    full = cumulative[-1]
    assert outcome.need_kwh == need
    assert outcome.beyond_window == (session.leave.timestamp() > allocation.end_epoch)
    if need is None:
        event("unknown need")
        assert outcome.done_at is None and outcome.unmet_kwh is None
        assert outcome.expected_kwh == pytest.approx(full, rel=1e-9, abs=1e-9)
        return
    assert outcome.unmet_kwh is not None and outcome.unmet_kwh >= 0
    assert outcome.expected_kwh <= need
    assert abs(outcome.expected_kwh + outcome.unmet_kwh - need) <= 1e-6
    if full < need - 1e-6:
        event("need unmet")
        assert outcome.done_at is None
        assert outcome.expected_kwh == pytest.approx(full, rel=1e-9, abs=1e-9)
        return
    event("need met")
    assert outcome.expected_kwh == pytest.approx(need, rel=1e-9, abs=1e-9)
    assert outcome.done_at is not None
    first = max(allocation.start_epoch, int(session.arrive.timestamp()))
    seconds = int(outcome.done_at.timestamp()) - first  # seconds delivered when done
    assert 0 <= seconds <= len(cumulative)
    assert seconds == 0 or cumulative[seconds - 1] >= need - 1e-6
    assert seconds <= 1 or cumulative[seconds - 2] < need + 1e-9


def test_the_public_face_exports_the_outcomes() -> None:
    assert ocpp_schedule.session_outcomes is session_outcomes
    assert ocpp_schedule.SessionOutcome is SessionOutcome

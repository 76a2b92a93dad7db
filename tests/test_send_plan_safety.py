"""Send plans are safe: every prefix, the tail after the window, against what the piles hold.

Issue 11: W2/F7 (plans fail open after their window), F5 (payloads the pile's
configuration rejects), F12 (ids that shift between plans), F6 (held TxProfiles
for later sessions), F4 (a pile added since the previous plan), F21 (the
running session's transaction), and the post-condition itself.

The checker here (:func:`verify`) is independent of ``plancheck``: it installs
the payloads one by one with the library's station rules, asks the composite
engine for every EVSE over the whole horizon, and evaluates the site's load at
every instant where anything changes.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from dateutil import tz
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies_site import T0, hostile_sites, sites

from ocpp_schedule import (
    OcppVersion,
    SafetyError,
    StationConfig,
    composite_schedule,
    install,
    read_set_charging_profile,
)
from ocpp_schedule.cli import main
from ocpp_schedule.site import (
    Allocation,
    Circuit,
    EqualShare,
    Evse,
    LimitStep,
    Pile,
    Session,
    Site,
    Weighted,
    balance,
    safe_tails,
)
from ocpp_schedule.site._sendplan import (
    FOREVER,
    SendPlan,
    SendPlanError,
    plan_profile_id,
    send_plan,
)
from ocpp_schedule.site._timelines import circuit_timeline, pile_store, session_transaction
from ocpp_schedule.station import ProfileStore, StationState
from ocpp_schedule.wire._timestamps import to_epoch

TOL = 1e-6
EXAMPLE = str(Path(__file__).resolve().parent.parent / "examples" / "site.json")
H0 = datetime(2024, 3, 4, 8, tzinfo=UTC)


def h(x: float) -> datetime:
    return H0 + timedelta(hours=x)


# ------------------------------------------------------------------ independent checker


def _running(pile: Pile, at: int) -> tuple:
    return tuple(
        session_transaction(pile, evse, s)
        for evse in pile.evses
        for s in evse.sessions
        if to_epoch(s.arrive) <= at < to_epoch(s.leave)
    )


def _install_all(pile: Pile, store: ProfileStore, payloads: list, at: int, strict: bool):
    state = StationState(pile.station_config, OcppVersion(pile.ocpp), _running(pile, at))
    for payload in payloads:
        request = read_set_charging_profile(payload, pile.ocpp)
        store, result = install(store, request, state)
        if strict:
            assert result.accepted, (pile.id, str(result))
    return store


def _before(site: Site, previous: Allocation | None, at: int) -> dict[str, ProfileStore]:
    """Each pile's store before the plan: its own requests, then the previous plan as sent."""
    stores = {p.id: pile_store(p, site)[0] for p in site.piles}
    if previous is None:
        return stores
    old_plan = send_plan(previous)
    old_piles = {p.id for p in previous.site.piles}
    for pile in site.piles:
        if pile.id not in old_piles:
            continue
        mine = [s.payload for s in old_plan.steps if s.pile == pile.id]
        known = {e.id for e in pile.evses}
        mine = [p for p in mine if (p.get("evseId", p.get("connectorId"))) in known]
        stores[pile.id] = _install_all(
            pile, stores[pile.id], mine, previous.start_epoch, strict=False
        )
        for evse in pile.evses:
            for s in evse.sessions:
                if to_epoch(s.leave) <= at:
                    tx = session_transaction(pile, evse, s).id
                    stores[pile.id] = stores[pile.id].end_transaction(tx)
    return stores


def _rows(store, evse_id, a, b, tx, config) -> list[tuple[int, float, int | None]]:
    periods = composite_schedule(
        store, evse_id=evse_id, start=a, duration=b - a, transaction=tx, config=config
    ).periods
    return [(a + p.start_period, p.limit, p.number_phases) for p in periods]


def _evse_draw(pile: Pile, site: Site, store: ProfileStore, at: int, end: int) -> dict:
    """Per EVSE: its composite without a transaction, and with each session's, over [at, end)."""
    config = pile_store(pile, site)[1]
    out = {}
    for evse in pile.evses:
        idle = _rows(store, evse.id, at, end, None, config)
        sessions = []
        for s in evse.sessions:
            a, b = max(to_epoch(s.arrive), at), min(to_epoch(s.leave), end)
            if a < b:
                tx = session_transaction(pile, evse, s)
                hard = min(evse.max_amps, s.max_amps if s.max_amps is not None else 1e9)
                wired = min(s.phases, evse.phases)
                sessions.append((a, b, _rows(store, evse.id, a, b, tx, config), hard, wired))
        out[evse.id] = (evse, idle, sessions)
    return out


def _lookup(rows: list, t: int) -> tuple[float, int]:
    keys = [r[0] for r in rows]
    i = bisect_right(keys, t) - 1
    assert i >= 0, (rows, t)
    return rows[i][1], rows[i][2] or 3


def _value(entry, t: int) -> tuple[float, int]:
    """What an EVSE may draw at ``t`` (A per phase, phases)."""
    evse, idle, sessions = entry
    for a, b, rows, hard, wired in sessions:
        if a <= t < b:
            limit, phases = _lookup(rows, t)
            return min(limit, hard), min(wired, phases)
    limit, phases = _lookup(idle, t)
    return min(limit, evse.max_amps), min(evse.phases, phases)


def _points(entry) -> set[int]:
    _, idle, sessions = entry
    out = {r[0] for r in idle}
    for a, b, rows, _, _ in sessions:
        out |= {a, b} | {r[0] for r in rows}
    return out


def verify(site: Site, plan: SendPlan, previous: Allocation | None, end: int) -> None:
    """Every prefix of ``plan`` (and the whole plan, tail included) is safe up to ``end``."""
    at = plan.at_epoch
    piles = {p.id: p for p in site.piles}
    stores = _before(site, previous, at)
    draws = {pid: _evse_draw(piles[pid], site, stores[pid], at, end) for pid in piles}
    zone = tz.gettz(site.time_zone)
    limits = {c.id: circuit_timeline(c, zone, at, end, site.voltage) for c, _ in site.grid.walk()}
    paths = site.paths()

    def instants() -> list[int]:
        points = {at}
        for per_pile in draws.values():
            for entry in per_pile.values():
                points |= _points(entry)
        for pieces in limits.values():
            points.update(a for a, _, _, _ in pieces)
        return sorted(t for t in points if at <= t < end)

    def loads(t: int) -> dict[str, list[float]]:
        out = {c: [0.0, 0.0, 0.0] for c in paths}
        for pid, per_pile in draws.items():
            pile = piles[pid]
            for entry in per_pile.values():
                amps, phases = _value(entry, t)
                for c in paths[pile.circuit]:
                    for p in range(phases):
                        out[c][pile.circuit_phase(p)] += amps
        return out

    def limit(c: str, t: int):
        for a, b, amps, watts in limits[c]:
            if a <= t < b:
                return amps, watts
        raise AssertionError((c, t))

    base = {t: loads(t) for t in instants()}

    def check(strict: bool, label: str) -> None:
        for t in instants():
            now = loads(t)
            before = base.get(t) or loads(t)
            for c, row in now.items():
                amps, watts = limit(c, t)
                for p in range(3):
                    bound = amps[p] if strict else max(amps[p], before[c][p])
                    assert row[p] <= bound + TOL * max(1, bound), (label, c, t, p, row, amps)
                if watts is not None:
                    total = sum(row) * site.voltage
                    bound_w = watts if strict else max(watts, sum(before[c]) * site.voltage)
                    assert total <= bound_w + TOL * max(1, bound_w), (label, c, t, total, watts)

    for k, step in enumerate(plan.steps):
        pile = piles[step.pile]
        stores[pile.id] = _install_all(pile, stores[pile.id], [step.payload], at, strict=True)
        draws[pile.id] = _evse_draw(pile, site, stores[pile.id], at, end)
        check(strict=False, label=f"prefix {k + 1}")
    check(strict=True, label="whole plan")


def _horizon(site: Site, *allocations: Allocation) -> int:
    last = max(a.end_epoch for a in allocations)
    for p in site.piles:
        for e in p.evses:
            for s in e.sessions:
                last = max(last, to_epoch(s.leave))
    return last + 86400


def _site(piles, feeder: float = 32.0, **circuit: Any) -> Site:
    grid = Circuit(id="g", amps=100.0, children=(Circuit(id="f", amps=feeder, **circuit),))
    return Site(grid=grid, piles=tuple(piles))


def _pile(pid: str, *sessions: Session, **fields: Any) -> Pile:
    return Pile(id=pid, circuit="f", evses=(Evse(id=1, sessions=sessions),), **fields)


# ------------------------------------------------------------------ W2 / F7: the safe tail


def test_w2_every_profile_ends_in_an_open_ended_safe_tail() -> None:
    """W2: after the window, every profile holds the tail: 3 x 21 A on a 63 A grid."""
    night = [Session(arrive=h(12), leave=h(22), transaction_id=str(11 + i)) for i in range(3)]
    site = Site(
        grid=Circuit(id="grid", amps=63.0),
        piles=tuple(
            Pile(id=p, circuit="grid", evses=(Evse(id=1, sessions=(s,)),))
            for p, s in zip("ABC", night, strict=True)
        ),
    )
    allocation = balance(site, start=h(12), duration=3 * 3600)  # ends before the vehicles leave
    plan = send_plan(allocation, at=h(13))
    assert plan.tails == {("A", 1): 21.0, ("B", 1): 21.0, ("C", 1): 21.0}
    for step in plan.steps:
        sched = step.payload["csChargingProfiles"]["chargingSchedule"]
        assert "duration" not in sched  # open-ended
        assert sched["chargingSchedulePeriod"][-1]["limit"] == 21.0
    assert len(plan.warnings) == 3 and all("after the plan's window" in w for w in plan.warnings)
    verify(site, plan, None, _horizon(site, allocation))


def test_f7_shorter_replan_keeps_the_tail_after_its_window() -> None:
    """F7: a 2-hour re-plan of an 8-hour plan: after 11:00 the piles hold the tail, not 32 A."""
    piles = [_pile(p, Session(arrive=h(0), leave=h(8))) for p in "AB"]
    site = _site(piles)
    old = balance(site, start=h(0), duration=8 * 3600)
    new = balance(site, start=h(1), duration=2 * 3600)
    plan = send_plan(new, at=h(1), previous=old)
    verify(site, plan, old, _horizon(site, old, new))
    stores = _before(site, old, to_epoch(h(1)))
    total = 0.0
    for pile in site.piles:
        stores[pile.id] = _install_all(
            pile,
            stores[pile.id],
            [s.payload for s in plan.steps if s.pile == pile.id],
            to_epoch(h(1)),
            strict=True,
        )
        tx = session_transaction(pile, pile.evses[0], pile.evses[0].sessions[0])
        at12 = composite_schedule(
            stores[pile.id], evse_id=1, start=h(4), duration=60, transaction=tx
        ).periods[0]
        total += at12.limit
    assert total <= 32.0


def test_tail_counts_lowest_limits_of_steps_and_profiles() -> None:
    """The tail is the equal share of the lowest limit the circuit ever has (steps, profile)."""
    external = {
        "id": -1,
        "stackLevel": 0,
        "chargingProfilePurpose": "ChargingStationExternalConstraints",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": [
            {
                "id": 1,
                "startSchedule": "2024-03-04T01:00:00Z",
                "duration": 3600,
                "chargingRateUnit": "W",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6900.0}],
            }
        ],
    }
    piles = [_pile(p, Session(arrive=h(0), leave=h(2), min_amps=0.0)) for p in "AB"]
    stepped = _site(piles, feeder=40.0, steps=(LimitStep(start="18:00", amps=20.0),))
    assert set(safe_tails(stepped).values()) == {10.0}
    capped = _site(piles, feeder=40.0, profile=external)
    assert set(safe_tails(capped).values()) == {5.0}  # 6900 W / (2 x 3 x 230 V)
    # Below the sessions' minimum, the tail pauses instead.
    slow = [_pile(p, Session(arrive=h(0), leave=h(2), min_amps=6.0)) for p in "ABCDEF"]
    assert set(safe_tails(_site(slow, feeder=30.0)).values()) == {0.0}


# ------------------------------------------------------------------ F5: the pile's capabilities


def _f5_site(config: StationConfig) -> Site:
    op = {
        "connectorId": 0,
        "csChargingProfiles": {
            "chargingProfileId": 1,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": {
                "startSchedule": "2024-03-04T00:00:00Z",
                "chargingRateUnit": "W",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 22080.0}],
            },
        },
    }
    piles = [
        _pile(f"P{i}", Session(arrive=h(0), leave=h(3)), requests=(op,), config=config)
        for i in (1, 2, 3)
    ]
    return _site(piles, feeder=20.0)


@pytest.mark.parametrize(
    ("config", "check"),
    [
        (
            StationConfig(evse_ids=(1,), charging_schedule_allowed_charging_rate_unit={"W"}),
            lambda sched: sched["chargingRateUnit"] == "W",
        ),
        (
            StationConfig(evse_ids=(1,), limit_decimal_places=0),
            lambda sched: all(
                float(p["limit"]).is_integer() for p in sched["chargingSchedulePeriod"]
            ),
        ),
    ],
    ids=["W-only", "integer-limits"],
)
def test_f5_payloads_are_fitted_to_the_pile(config: StationConfig, check) -> None:
    site = _f5_site(config)
    allocation = balance(site, start=h(0), duration=3 * 3600)
    plan = send_plan(allocation, at=h(1))
    assert plan.steps
    for step in plan.steps:
        assert check(step.payload["csChargingProfiles"]["chargingSchedule"])
    verify(site, plan, None, _horizon(site, allocation))


def test_f5_a_full_store_is_a_send_plan_error_naming_pile_and_rule() -> None:
    site = _f5_site(StationConfig(evse_ids=(1,), max_charging_profiles_installed=1))
    allocation = balance(site, start=h(0), duration=3 * 3600)
    with pytest.raises(SendPlanError, match="pile P1") as info:
        send_plan(allocation, at=h(1))
    assert "MaxChargingProfilesInstalled" in str(info.value.rule)


# ------------------------------------------------------------------ F12: stable ids


def _op201(pid: int, purpose: str, limit: float) -> dict:
    return {
        "evseId": 0,
        "chargingProfile": {
            "id": pid,
            "stackLevel": 0,
            "chargingProfilePurpose": purpose,
            "chargingProfileKind": "Absolute",
            "chargingSchedule": [
                {
                    "id": 1,
                    "startSchedule": "2024-03-04T00:00:00Z",
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
                }
            ],
        },
    }


@pytest.mark.parametrize("operator_id", [1, 999, 1000, 1001, 123_456, 1_999_999_999])
def test_f12_ids_are_stable_across_plans_whatever_the_operator_ids(operator_id: int) -> None:
    va = Session(arrive=h(0), leave=h(4), transaction_id="tA")
    vb = Session(arrive=h(1), leave=h(4), transaction_id="tB")

    def site(reqs, b_sessions):
        a = Pile(
            id="A", circuit="f", ocpp="2.0.1", requests=reqs, evses=(Evse(id=1, sessions=(va,)),)
        )
        b = Pile(id="B", circuit="f", ocpp="2.0.1", evses=(Evse(id=1, sessions=b_sessions),))
        return _site([a, b])

    before = site((_op201(999, "TxDefaultProfile", 32.0),), ())
    after = site(
        (
            _op201(999, "TxDefaultProfile", 32.0),
            _op201(operator_id, "ChargingStationMaxProfile", 63.0),
        )
        if operator_id != 999
        else (_op201(999, "TxDefaultProfile", 32.0),),
        (vb,),
    )
    old = balance(before, start=h(0), duration=4 * 3600)
    new = balance(after, start=h(0), duration=4 * 3600)
    plan_old = send_plan(old, at=h(0))
    plan_new = send_plan(new, at=h(1), previous=old)
    ids = {(s.pile, s.purpose): s.payload["chargingProfile"]["id"] for s in plan_old.steps}
    for step in plan_new.steps:
        expected = plan_profile_id(step.evse, step.purpose)
        assert step.payload["chargingProfile"]["id"] == expected
        if (step.pile, step.purpose) in ids:
            assert ids[(step.pile, step.purpose)] == expected
    verify(after, plan_new, old, _horizon(after, old, new))


def test_f12_an_operator_profile_with_a_plan_id_is_refused() -> None:
    taken = plan_profile_id(1, send_plan.__globals__["P"].TX_DEFAULT_PROFILE)
    a = Pile(
        id="A",
        circuit="f",
        ocpp="2.0.1",
        requests=(_op201(taken, "TxDefaultProfile", 32.0),),
        evses=(Evse(id=1, sessions=(Session(arrive=h(0), leave=h(2)),)),),
    )
    allocation = balance(_site([a]), start=h(0), duration=2 * 3600)
    with pytest.raises(SendPlanError, match="pile A") as info:
        send_plan(allocation, at=h(1))
    assert info.value.field == "chargingProfile.id"


# ------------------------------------------------------------------ F6: held TxProfiles


def test_f6_a_held_txprofile_for_a_later_session_is_never_left_unaccounted() -> None:
    """The plan is either safe with the held 32 A TxProfile counted, or refused (SafetyError)."""
    txp = {
        "connectorId": 1,
        "csChargingProfiles": {
            "chargingProfileId": 7,
            "stackLevel": 0,
            "transactionId": 42,
            "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Relative",
            "chargingSchedule": {
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 32.0}],
            },
        },
    }
    a = _pile("A", Session(arrive=h(2), leave=h(4), transaction_id="42"), requests=(txp,))
    b = _pile("B", Session(arrive=h(0), leave=h(4)))
    site = _site([a, b])
    allocation = balance(site, start=h(0), duration=4 * 3600)
    try:
        plan = send_plan(allocation, at=h(1))
    except SafetyError as exc:
        assert exc.field == "f"
        return
    verify(site, plan, None, _horizon(site, allocation))


# ------------------------------------------------------------------ F4: a pile added since


def test_f4_a_pile_the_previous_plan_lacks_starts_from_its_own_limits() -> None:
    a = _pile("A", Session(arrive=h(0), leave=h(2)))
    b = _pile("B", Session(arrive=h(1), leave=h(4)))
    old = balance(_site([a], feeder=10.0), start=h(0), duration=4 * 3600)
    site = _site([a, b], feeder=10.0)
    new = balance(site, start=h(0), duration=4 * 3600)
    plan = send_plan(new, at=h(1), previous=old)
    assert {s.pile for s in plan.steps} == {"A", "B"}
    assert any("before the plan" in w for w in plan.warnings)  # B draws its own 32 A now
    verify(site, plan, old, _horizon(site, old, new))


# ------------------------------------------------------------------ F21: the running session


def test_f21_the_txprofile_is_for_the_session_running_at_the_moment_of_sending() -> None:
    sessions = (
        Session(arrive=h(0), leave=h(1), transaction_id="7"),
        Session(arrive=h(2), leave=h(4), transaction_id="8"),
    )
    site = _site([Pile(id="P", circuit="f", evses=(Evse(id=1, sessions=sessions),))])
    allocation = balance(site, start=h(0), duration=4 * 3600)
    plan = send_plan(allocation, at=h(3))
    tx = [s for s in plan.steps if s.purpose.value == "TxProfile"]
    assert [s.payload["csChargingProfiles"]["transactionId"] for s in tx] == [8]
    verify(site, plan, None, _horizon(site, allocation))


def test_f21_duplicate_transaction_ids_never_crash() -> None:
    """Two sessions with one id: refused when the site is built, or planned for the running one."""
    from pydantic import ValidationError

    from ocpp_schedule.errors import OcppScheduleError

    try:
        evse = Evse(
            id=1,
            sessions=(
                Session(arrive=h(0), leave=h(1), transaction_id="7"),
                Session(arrive=h(2), leave=h(4), transaction_id="7"),
            ),
        )
        site = Site(
            grid=Circuit(id="g", amps=32.0), piles=(Pile(id="P", circuit="g", evses=(evse,)),)
        )
        allocation = balance(site, start=h(0), duration=4 * 3600)
    except (ValidationError, OcppScheduleError):
        return
    try:
        plan = send_plan(allocation, at=h(3))
    except OcppScheduleError:
        return
    assert plan.steps


# ------------------------------------------------------------------ the post-condition


def test_post_condition_refuses_an_unsafe_tail(monkeypatch) -> None:
    import ocpp_schedule.site._sendplan as sendplan

    piles = [_pile(p, Session(arrive=h(0), leave=h(8))) for p in "AB"]
    allocation = balance(_site(piles), start=h(0), duration=2 * 3600)
    monkeypatch.setattr(
        sendplan,
        "safe_tails",
        lambda site, after=None, stores=None: dict.fromkeys(safe_tails(site), 32.0),
    )
    with pytest.raises(SafetyError, match="circuit f") as info:
        send_plan(allocation, at=h(1))
    assert info.value.field == "f"


def test_post_condition_refuses_an_unsafe_order(monkeypatch) -> None:
    """Raising one EVSE before lowering the other would overload the feeder for a moment."""
    import ocpp_schedule.site._sendplan as sendplan

    piles = [
        _pile("A", Session(arrive=h(0), leave=h(4), weight=3.0)),
        _pile("B", Session(arrive=h(0), leave=h(4))),
    ]
    site = _site(piles)
    old = balance(site, start=h(0), duration=4 * 3600, policy=Weighted())
    new = balance(site, start=h(0), duration=4 * 3600, policy=EqualShare())
    send_plan(new, at=h(1), previous=old)  # the safe order passes
    monkeypatch.setattr(sendplan, "_direction", lambda old, new: (False, True))  # all "raise"
    with pytest.raises(SafetyError, match="after step"):
        send_plan(
            balance(
                site.model_copy(update={"piles": tuple(reversed(site.piles))}),
                start=h(0),
                duration=4 * 3600,
                policy=EqualShare(),
            ),
            at=h(1),
            previous=old,
        )


# ------------------------------------------------------------------ the CLI


def test_cli_default_window_covers_every_session(tmp_path, capsys) -> None:
    import json

    night = {"arrive": "2024-01-01T20:00:00+01:00", "leave": "2024-01-02T06:00:00+01:00"}
    data = {
        "name": "overnight depot (W2)",
        "time_zone": "Europe/Berlin",
        "grid": {"id": "grid", "amps": 63},
        "piles": [
            {
                "id": p,
                "circuit": "grid",
                "evses": [{"id": 1, "sessions": [{**night, "transaction_id": str(11 + i)}]}],
            }
            for i, p in enumerate("ABC")
        ],
    }
    path = tmp_path / "site.json"
    path.write_text(json.dumps(data))
    out = tmp_path / "out.json"
    code = main(
        ["balance", str(path), "--plan-at", "2024-01-01T21:00:00+01:00", "--json", str(out)]
    )
    assert code == 0
    assert "warning" not in capsys.readouterr().err
    limits = json.loads(out.read_text())["evses"][0]["limits"]
    assert limits[-1]["to"] >= "2024-01-02T05:00:00Z"
    code = main(
        ["balance", str(path), "--plan-at", "2024-01-01T21:00:00+01:00", "--duration", "79200"]
    )
    err = capsys.readouterr().err
    assert code == 0 and err.count("warning:") == 3 and "safe tail" in err


@pytest.mark.parametrize("target", ["missing/dir/x.json", "."])
def test_f29_unwritable_json_path_is_one_line_exit_2_before_the_work(
    tmp_path, capsys, target
) -> None:
    path = tmp_path / "missing" if target.startswith("missing") else tmp_path
    out = str(tmp_path / target) if target != "." else str(path)
    with pytest.raises(SystemExit) as info:
        main(["balance", EXAMPLE, "--json", out])
    assert info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # refused before balancing
    assert captured.err.count("\n") == 1 and "cannot write" in captured.err


# ------------------------------------------------------------------ the properties


_WINDOWS = st.sampled_from([(0, 2), (0, 6), (1, 3), (0, 9), (2, 1), (1, 10)])


@st.composite
def _held(draw, site: Site) -> Site:
    """The site's piles, some holding a station max, an EVSE TxDefault, or a session's TxProfile."""
    piles = []
    for pile in site.piles:
        requests = list(pile.requests)
        if draw(st.booleans()):
            requests.append(
                {
                    "connectorId": 0,
                    "csChargingProfiles": {
                        "chargingProfileId": 90,
                        "stackLevel": draw(st.integers(0, 3)),
                        "chargingProfilePurpose": "ChargePointMaxProfile",
                        "chargingProfileKind": "Absolute",
                        "chargingSchedule": {
                            "startSchedule": "2024-03-04T00:00:00Z",
                            "chargingRateUnit": draw(st.sampled_from(["A", "W"])),
                            "chargingSchedulePeriod": [
                                {"startPeriod": 0, "limit": float(draw(st.integers(10, 40)))},
                                {
                                    "startPeriod": 3 * 3600,
                                    "limit": float(draw(st.integers(10, 40))),
                                },
                            ],
                        },
                    },
                }
            )
        sessions = [(e, s) for e in pile.evses for s in e.sessions]
        if sessions and draw(st.booleans()):
            evse, session = draw(st.sampled_from(sessions))
            tx = session_transaction(pile, evse, session).id
            requests.append(
                {
                    "connectorId": evse.id,
                    "csChargingProfiles": {
                        "chargingProfileId": 91,
                        "stackLevel": 0,
                        "transactionId": int(tx),
                        "chargingProfilePurpose": "TxProfile",
                        "chargingProfileKind": "Relative",
                        "chargingSchedule": {
                            "chargingRateUnit": "A",
                            "chargingSchedulePeriod": [
                                {"startPeriod": 0, "limit": float(draw(st.integers(0, 32)))}
                            ],
                        },
                    },
                }
            )
        piles.append(pile.model_copy(update={"requests": tuple(requests)}))
    return site.model_copy(update={"piles": tuple(piles)})


def _weights(site: Site, weights: list[float]) -> Site:
    piles = []
    k = 0
    for pile in site.piles:
        evses = []
        for evse in pile.evses:
            sessions = []
            for s in evse.sessions:
                sessions.append(s.model_copy(update={"weight": weights[k % len(weights)]}))
                k += 1
            evses.append(evse.model_copy(update={"sessions": tuple(sessions)}))
        piles.append(pile.model_copy(update={"evses": tuple(evses)}))
    return site.model_copy(update={"piles": tuple(piles)})


def _replan(site: Site, old_window, new_window, slot: int, resolution, previous_site: Site):
    old = balance(
        previous_site,
        start=T0 + timedelta(hours=old_window[0]),
        duration=old_window[1] * 3600,
        resolution=resolution,
        policy=EqualShare(),
    )
    new = balance(
        site,
        start=T0 + timedelta(hours=new_window[0]),
        duration=new_window[1] * 3600,
        resolution=resolution,
        policy=Weighted(),
    )
    at = min(max(new.start_epoch + slot * 900, old.start_epoch), new.end_epoch - 1)
    return old, new, at


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(sites(), hostile_sites()),  # hostile: amps-only, watts-only and both steps
    _WINDOWS,
    _WINDOWS,
    st.integers(0, 40),
    st.sampled_from([None, 900]),
    st.lists(
        st.one_of(
            st.floats(min_value=1e-3, max_value=1e3),
            st.sampled_from([1e-3, 1e3]),  # site.MIN_WEIGHT, MAX_WEIGHT
        ),
        min_size=1,
        max_size=4,
    ),
    st.booleans(),
    st.data(),
)
def test_property_every_prefix_and_the_tail_are_safe(
    site, old_window, new_window, slot, resolution, weights, drop_a_pile, data
) -> None:
    """Whatever send_plan returns is safe at every prefix and instant, tail included.

    Any weights, circuit steps, held profiles (station max, TxDefault, TxProfiles
    for running or later sessions), re-plans with shorter or longer windows, a
    previous plan that lacks a pile. A plan it cannot make safe is a typed error.
    """
    site = _weights(data.draw(_held(site)), weights)
    previous_site = site
    if drop_a_pile and len(site.piles) > 1:
        previous_site = site.model_copy(update={"piles": site.piles[:-1]})
    try:  # balance refuses, typed, where held TxProfiles alone overload a circuit
        old, new, at = _replan(site, old_window, new_window, slot, resolution, previous_site)
        plan = send_plan(new, at=at, previous=old)
        send_plan(old)  # what the piles hold: the previous plan, as it was sent
    except (SafetyError, SendPlanError):
        return
    verify(site, plan, old, _horizon(site, old, new))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sites(), _WINDOWS, _WINDOWS, st.integers(0, 40), st.sampled_from([None, 900]))
def test_property_replans_of_a_balanced_site_are_always_made(
    site, old_window, new_window, slot, resolution
) -> None:
    """Same site, moderate weights, no TxProfiles held: the plan is made (and is safe)."""
    old, new, at = _replan(site, old_window, new_window, slot, resolution, site)
    if at < old.start_epoch:  # the previous plan cannot have been sent yet
        with pytest.raises(SendPlanError, match="previous"):
            send_plan(new, at=at, previous=old)
        return
    plan = send_plan(new, at=at, previous=old)
    assert all(
        "duration" not in (s.payload.get("csChargingProfiles") or {}).get("chargingSchedule", {})
        for s in plan.steps
    )
    verify(site, plan, old, _horizon(site, old, new))


def test_forever_is_beyond_any_calendar_instant() -> None:
    assert to_epoch(datetime(9999, 12, 31, tzinfo=UTC)) < FOREVER


def test_f29_a_write_that_fails_after_the_work_is_one_line_exit_2(tmp_path, capsys, monkeypatch):
    def refuse(self, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", refuse)
    with pytest.raises(SystemExit) as info:
        main(["balance", EXAMPLE, "--json", str(tmp_path / "out.json")])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "No space left on device" in err


def test_post_condition_work_is_one_timeline_per_evse_and_step(monkeypatch) -> None:
    """The check costs composites per EVSE and step, never per second (counted, not timed)."""
    import ocpp_schedule.site._plancheck as plancheck
    from ocpp_schedule.site import DEMO_DAY, demo_site

    calls = []
    real = plancheck.evse_timeline

    def counted(*args, **kwargs):
        calls.append(args[1].id)
        return real(*args, **kwargs)

    monkeypatch.setattr(plancheck, "evse_timeline", counted)
    site = demo_site()
    allocation = balance(site, start=DEMO_DAY, duration=86400, resolution=None)
    plan = send_plan(allocation, at=DEMO_DAY + timedelta(hours=17))
    assert len(calls) <= site.evse_count() + len(plan.steps)


def test_a_lowering_never_draws_more_on_any_phase() -> None:
    """8 A on 3 phases loads phases that 10 A on 1 phase left alone: 0 A first, then raised.
    12 A on 1 phase instead of 10 A on 3: 10 A on that phase first."""
    from ocpp_schedule.site._sendplan import FOREVER, _lower_of
    from ocpp_schedule.site._timelines import Piece

    one = [Piece(0, 100, 10.0, 1, -1)]
    three = [Piece(0, 100, 8.0, 3, -1)]
    assert _lower_of(one, three, [(0, 100, 8.0, 0)]) == [(0, FOREVER, 0.0, 0)]
    assert _lower_of(
        [Piece(0, 100, 10.0, 3, -1)], [Piece(0, 100, 12.0, 1, -1)], [(0, 100, 12.0, 1)]
    ) == [(0, FOREVER, 10.0, 1)]

"""Send plans are accepted by the library's own station rules and valid OCPP; the demo's numbers."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from strategies import assert_schema_valid

from ocpp_schedule import OcppVersion, StationState, install, read_set_charging_profile
from ocpp_schedule.cli import main
from ocpp_schedule.site import (
    DEMO_DAY,
    SiteError,
    balance,
    demo_site,
    load_site,
    pile_store,
    send_plan,
    session_transaction,
    site_report,
)

ROOT = Path(__file__).resolve().parent.parent


def _replay_plan(site, plan) -> None:
    """Install every step after the pile's own requests, as the station would."""
    piles = {p.id: p for p in site.piles}
    stores = {p.id: pile_store(p, site)[0] for p in site.piles}
    for step in plan.steps:
        pile = piles[step.pile]
        evse = next(e for e in pile.evses if e.id == step.evse)
        running = tuple(
            session_transaction(pile, e, s)
            for e in pile.evses
            for s in e.sessions
            if s.arrive.timestamp() <= plan.at_epoch < s.leave.timestamp()
        )
        state = StationState(pile.station_config, OcppVersion(pile.ocpp), running)
        request = read_set_charging_profile(step.payload, pile.ocpp)
        stores[pile.id], result = install(stores[pile.id], request, state)
        assert result.accepted, (step.pile, step.evse, str(result))
        name = "SetChargingProfile" if pile.ocpp == "1.6" else "SetChargingProfileRequest"
        assert_schema_valid(step.payload, pile.ocpp, name)
        assert evse.id == request.evse_id


@pytest.mark.parametrize("hour", [0, 8, 17, 23])
def test_demo_send_plans_are_accepted_and_schema_valid(hour: int) -> None:
    site = demo_site()
    allocation = balance(site, start=DEMO_DAY, duration=86400, resolution=None)
    plan = send_plan(allocation, at=DEMO_DAY + timedelta(hours=hour))
    assert plan.steps
    _replay_plan(site, plan)


def test_v201_piles_get_v201_payloads() -> None:
    site = demo_site()
    site = site.model_copy(
        update={
            "piles": tuple(
                p.model_copy(update={"ocpp": OcppVersion.V201, "requests": ()}) for p in site.piles
            )
        }
    )
    allocation = balance(site, start=DEMO_DAY, duration=86400)
    plan = send_plan(allocation, at=DEMO_DAY + timedelta(hours=9))
    assert all("evseId" in s.payload for s in plan.steps)
    # The demo's sessions carry no transaction id: TxDefaults only, no made-up id (SP9).
    assert not any("transactionId" in s.payload["chargingProfile"] for s in plan.steps)
    _replay_plan(site, plan)
    # Given the ids, the running sessions get TxProfiles naming exactly them.
    with_ids = site.model_copy(
        update={
            "piles": tuple(
                p.model_copy(
                    update={
                        "evses": tuple(
                            e.model_copy(
                                update={
                                    "sessions": tuple(
                                        s.model_copy(
                                            update={"transaction_id": f"{p.id}-{e.id}-{k}"}
                                        )
                                        for k, s in enumerate(e.sessions)
                                    )
                                }
                            )
                            for e in p.evses
                        )
                    }
                )
                for p in site.piles
            )
        }
    )
    plan = send_plan(
        balance(with_ids, start=DEMO_DAY, duration=86400), at=DEMO_DAY + timedelta(hours=9)
    )
    named = [s.payload["chargingProfile"].get("transactionId") for s in plan.steps]
    assert any(named)
    assert all(n is None or n.startswith(s.pile) for n, s in zip(named, plan.steps, strict=True))
    _replay_plan(with_ids, plan)


def test_demo_numbers() -> None:
    site = demo_site()
    unbalanced = site_report(site, start=DEMO_DAY, duration=86400)
    # Left alone, the piles overload the feeders and the cabinet 21 times (per phase/total).
    assert len(unbalanced.overloads) == 21
    assert unbalanced.overloads[0] == (
        "feeder-A",
        int((DEMO_DAY + timedelta(hours=7, minutes=45)).timestamp()),
        int((DEMO_DAY + timedelta(hours=11, minutes=15)).timestamp()),
        "L1 96.0 A > 80.0 A",
    )
    allocation = balance(site, start=DEMO_DAY, duration=86400, resolution=None)
    assert allocation.overloads() == []
    energy = {key[0]: round(allocation.energy_kwh(key), 1) for key in allocation.amps}
    assert energy == {
        "P01": 161.1,
        "P02": 39.6,
        "P03": 77.2,
        "P04": 177.0,
        "P05": 113.4,
        "P06": 139.1,
        "P07": 154.6,
        "P08": 36.6,
        "P09": 119.7,
        "P10": 120.8,
    }
    # P02's 1-phase vehicle (16 A max) is never cut: 16 A x 230 V x 10.75 h = 39.56 kWh.
    assert energy["P02"] == round(16 * 230 * 10.75 / 1000, 1)
    peaks = {
        c: tuple(max(load[p] for load in loads) for p in range(3))
        for c, loads in allocation.loads.items()
    }
    assert peaks == {
        "grid": (120.0, 144.9, 120.0),
        "cabinet": (120.0, 144.9, 120.0),
        "feeder-A": (64.0, 80.0, 64.0),
        "feeder-B": (64.0, 80.0, 64.0),
    }
    # The evening cap of 75 kW holds from 17:00 to 21:00 local time.
    evening = [
        sum(load) * 230
        for (a, _), load in zip(allocation.slots(), allocation.loads["cabinet"], strict=True)
        if (DEMO_DAY + timedelta(hours=17)).timestamp()
        <= a
        < (DEMO_DAY + timedelta(hours=21)).timestamp()
    ]
    assert max(evening) <= 75_000


def test_demo_command_runs() -> None:
    # Its time is a benchmark figure (docs/performance.md), never asserted here.
    proc = subprocess.run(
        [sys.executable, "-m", "ocpp_schedule", "demo"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert "no circuit is ever over its limit" in proc.stdout
    assert "21 overloads" in proc.stdout
    assert "send plan at 2024-01-15 17:00 CET" in proc.stdout


def test_demo_plot_without_matplotlib_is_a_clear_error(capsys, monkeypatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--plot", "x.png"])
    assert exit_info.value.code == 2
    assert "pip install 'ocpp-schedule[plot]'" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["site.json", "site.toml"])
def test_example_site_files_balance(name: str, capsys, tmp_path) -> None:
    out = tmp_path / "limits.json"
    code = main(
        [
            "balance",
            str(ROOT / "examples" / name),
            "--json",
            str(out),
            "--plan-at",
            "2024-06-03T18:00:00+02:00",
        ]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert "no circuit is ever over its limit" in text
    data = json.loads(out.read_text())
    assert {e["pile"] for e in data["evses"]} == {"CP-1", "CP-2", "CP-3"}
    assert data["send_plan"]


def test_report_command(capsys) -> None:
    code = main(["report", str(ROOT / "examples" / "site.json")])
    assert code == 0
    assert "CP-1" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "is not valid"),
        (
            '{"grid": {"id": "g", "amps": 10}, "piles": [{"id": "A", "circuit": "nope", '
            '"evses": [{"id": 1}]}]}',
            "unknown circuit",
        ),
        ('{"grid": {"id": "g", "amps": -1}, "piles": []}', "grid.amps"),
        (
            '{"time_zone": "Mars/Olympus", "grid": {"id": "g", "amps": 1}, "piles": []}',
            "unknown time zone",
        ),
    ],
)
def test_bad_site_files(tmp_path, capsys, content: str, message: str) -> None:
    path = tmp_path / "site.json"
    path.write_text(content)
    with pytest.raises(SiteError, match=message):
        load_site(path)
    with pytest.raises(SystemExit) as exit_info:
        main(["balance", str(path), "--start", "2024-01-01T00:00:00Z"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_too_many_periods_keep_the_lowest_limit_of_the_rest() -> None:
    """B8: a pile that accepts 3 periods gets its first two and the lowest of the rest."""
    from ocpp_schedule import StationConfig

    site = demo_site()
    small = StationConfig(evse_ids=(1,), charging_schedule_max_periods=3)
    site = site.model_copy(
        update={"piles": tuple(p.model_copy(update={"config": small}) for p in site.piles)}
    )
    allocation = balance(site, start=DEMO_DAY, duration=86400, resolution=None)
    plan = send_plan(allocation, at=DEMO_DAY + timedelta(hours=6))
    for step in plan.steps:
        periods = step.payload["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"]
        assert len(periods) <= 3
        if len(periods) == 3 and len(step.limits) > 3:
            assert periods[2]["limit"] == min(a for _, _, a, _ in step.limits[2:])
    _replay_plan(site, plan)


def test_circuit_step_in_the_spring_gap_takes_effect_at_the_transition() -> None:
    """B9: Europe/Berlin skips 02:00-03:00 on 2024-03-31; a 02:30 step starts at 03:00 CEST."""
    from datetime import UTC, datetime

    from ocpp_schedule.site import Circuit, Evse, LimitStep, Pile, Session, Site

    day = datetime(2024, 3, 30, 23, 0, tzinfo=UTC)  # local midnight, CET
    session = Session(arrive=day, leave=day + timedelta(hours=4))
    site = Site(
        time_zone="Europe/Berlin",
        grid=Circuit(id="g", amps=32.0, steps=(LimitStep(start="02:30", amps=10.0),)),
        piles=(Pile(id="P", circuit="g", evses=(Evse(id=1, sessions=(session,)),)),),
    )
    allocation = balance(site, start=day, duration=4 * 3600, resolution=None)
    periods = [
        (a - int(day.timestamp()), amps) for a, _, amps, _ in allocation.evse_periods(("P", 1))
    ]
    # 00:00-03:00 CEST is 2 h of UTC (the clock jumps at 02:00 CET = 01:00 UTC).
    assert periods == [(0, 32.0), (2 * 3600, 10.0)]


def test_progress_is_reported_per_slot() -> None:
    seen = []
    balance(
        demo_site(), start=DEMO_DAY, duration=3 * 3600, progress=lambda d, t: seen.append((d, t))
    )
    assert seen == [(k, 12) for k in range(1, 13)]


def test_circuit_profile_lowers_the_limit_where_in_force() -> None:
    """A circuit limited by a grid operator's profile (2.0.1 JSON): 13 800 W from 01:00 to 02:00,
    and 10 A per phase from 02:00 on (a 1.6 payload works the same)."""
    from datetime import UTC, datetime

    from ocpp_schedule.site import Circuit, Evse, Pile, Session, Site

    day = datetime(2024, 5, 1, tzinfo=UTC)
    external = {
        "id": -1,
        "stackLevel": 0,
        "chargingProfilePurpose": "ChargingStationExternalConstraints",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": [
            {
                "id": 1,
                "startSchedule": "2024-05-01T01:00:00Z",
                "duration": 3600,
                "chargingRateUnit": "W",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 13800}],
            }
        ],
    }
    amps16 = {
        "chargingProfileId": 7,
        "stackLevel": 0,
        "chargingProfilePurpose": "ChargePointMaxProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": {
            "startSchedule": "2024-05-01T02:00:00Z",
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10}],
        },
    }
    session = Session(arrive=day, leave=day + timedelta(hours=3))
    piles = tuple(
        Pile(id=f"P{i}", circuit="f", evses=(Evse(id=1, sessions=(session,)),)) for i in (1, 2)
    )
    site = Site(
        grid=Circuit(
            id="g",
            amps=100.0,
            children=(
                Circuit(id="f", amps=40.0, profile=external),
                Circuit(id="h", amps=40.0, profile=amps16),
            ),
        ),
        piles=piles,
    )
    allocation = balance(site, start=day, duration=3 * 3600, resolution=None)
    t0 = int(day.timestamp())
    assert [(a - t0, amps) for a, _, amps, _ in allocation.evse_periods(("P1", 1))] == [
        (0, 20.0),  # 40 A per phase shared by two
        (3600, 10.0),  # 13 800 W / (2 vehicles x 3 phases x 230 V) = 10 A
        (7200, 20.0),
    ]
    h = site.circuits()["h"]
    from ocpp_schedule.site._timelines import circuit_timeline

    assert circuit_timeline(h, UTC, t0, t0 + 3 * 3600) == [
        (t0, t0 + 7200, (40.0, 40.0, 40.0), None),
        (t0 + 7200, t0 + 3 * 3600, (10.0, 10.0, 10.0), None),
    ]

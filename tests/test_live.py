"""End to end: ``examples/csms.py`` and ``examples/charge_point.py`` over WebSockets on loopback.

Both run in-process on one event loop (127.0.0.1, an ephemeral port), for
OCPP 1.6, 2.0.1 and 2.1; one more test starts both scripts as processes, as the
README tells a user to. Every wait has a timeout.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from ocpp_schedule import ChargingRateUnit, OcppVersion

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"examples_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


csms = _load("csms")
charge_point = _load("charge_point")


async def _session(version: OcppVersion, **options: Any) -> tuple[Any, Any]:
    """Run the CSMS and one charge point; return the CSMS's outcome and the station's state."""
    loop = asyncio.get_running_loop()
    port: asyncio.Future[int] = loop.create_future()
    ready_timeout = options.pop("ready_timeout", 10)
    server = asyncio.create_task(
        csms.serve(
            "127.0.0.1", 0, stations=1, ready_timeout=ready_timeout, on_listen=port.set_result
        )
    )
    try:
        url = f"ws://127.0.0.1:{await asyncio.wait_for(port, 10)}"
        station = asyncio.create_task(
            charge_point.run_charge_point(url, "CP7", version, response_timeout=10, **options)
        )
        outcomes = await asyncio.wait_for(server, 30)
        smart = await asyncio.wait_for(station, 10)
    finally:
        server.cancel()
    assert len(outcomes) == 1
    return outcomes[0], smart


def _run(version: OcppVersion, **options: Any) -> tuple[Any, Any]:
    return asyncio.run(asyncio.wait_for(_session(version, **options), 60))


@pytest.mark.parametrize("version", [OcppVersion.V16, OcppVersion.V201, OcppVersion.V21])
def test_live_session_matches_the_library(version: OcppVersion) -> None:
    outcome, smart = _run(version)
    assert outcome.findings == {"config": [], "prediction": [], "drift": []}, csms.report(outcome)
    # The CSMS discovered the station's own limits (not the library's defaults) and the
    # mirror agrees with every answer the station gave.
    assert outcome.config == smart.config
    assert outcome.config.charge_profile_max_stack_level == 8
    assert all(ex.note == "" for ex in outcome.exchanges)
    assert outcome.mirror is not None and outcome.mirror.store == smart.store
    assert outcome.ok
    answers = [(e.action, e.answer["status"]) for e in outcome.exchanges]
    set_, clear_, get = "SetChargingProfile", "ClearChargingProfile", "GetCompositeSchedule"
    assert answers == [
        (set_, "Accepted"),
        (set_, "Accepted"),
        (set_, "Accepted"),
        (set_, "Accepted"),  # the TxProfile of the station's transaction
        (set_, "Rejected"),  # a station max on EVSE 1
        (get, "Accepted"),
        (get, "Accepted"),
        (get, "Accepted"),
        (clear_, "Accepted"),
        (clear_, "Unknown"),
        (get, "Accepted"),
    ]
    rejected = outcome.exchanges[4].answer
    if version is OcppVersion.V16:
        assert rejected == {"status": "Rejected"}
    else:
        assert rejected["statusInfo"]["reasonCode"] == "InvalidProfile"
        assert rejected["statusInfo"]["additionalInfo"].startswith("MaxProfileNotOnStation")

    # The station's own answers, against values worked out by hand from the plan.
    (tx,) = outcome.transactions
    assert tx.evse_id == 1
    evse1, evse2, total, after_clear = (e.reported.schedule for e in outcome.composites())
    assert evse1.charging_rate_unit is ChargingRateUnit.A
    assert evse1.limit_at(evse1.start) == 10.0  # TxProfile, first period
    assert evse1.limit_at(tx.start_epoch + 600) == 14.5  # TxProfile, second period
    assert evse1.periods[-1][1:3] == (25.0, 1)  # 7400 W on 1 phase under the 25 A max
    assert evse2.charging_rate_unit is ChargingRateUnit.W
    assert evse2.periods[0][1:3] == (3680.0, 1)  # 16 A on 1 phase
    assert total.periods[0][1] == 26.0  # 10 A + 16 A
    assert after_clear.periods[0][1:3] == (15.9, 3)  # 11 kW on 3 phases, EVSE 0 TxDefault

    # The station holds what the CSMS's mirror predicts.
    assert smart.store == outcome.store
    assert sorted(e.id for e in smart.store) == [1, 2, 11]
    assert smart.transactions == outcome.transactions


def test_the_checks_report_a_different_answer() -> None:
    outcome, _ = _run(OcppVersion.V201)
    exchanges = list(outcome.exchanges)
    composite = exchanges[5]
    assert composite.mirror is not None
    assert [e.id for e in composite.mirror.store] == [1, 2, 3, 11]
    changed = dict(composite.answer)
    changed["schedule"] = dict(changed["schedule"], duration=60)
    exchanges[5] = dataclasses.replace(composite, answer=changed)
    exchanges[4] = dataclasses.replace(exchanges[4], answer={"status": "Accepted"})
    tampered = dataclasses.replace(outcome, exchanges=exchanges)
    findings = csms.check_prediction(tampered)
    assert len(findings) == 2
    assert "station ('Accepted', None), library ('Rejected', 'InvalidProfile')" in findings[0]
    assert findings[1].startswith("step 6: GetCompositeSchedule")
    # A shorter window with the same limits is no drift; a limit off by more than 0.1 is.
    assert csms.drift_check(tampered) == []
    periods = [dict(p) for p in changed["schedule"]["chargingSchedulePeriod"]]
    periods[0]["limit"] += 0.5
    changed = dict(changed, schedule=dict(changed["schedule"], chargingSchedulePeriod=periods))
    exchanges[5] = dataclasses.replace(composite, answer=changed)
    (drift,) = csms.drift_check(dataclasses.replace(outcome, exchanges=exchanges))
    assert drift.startswith("step 6: GetCompositeSchedule")
    assert "reported 10.5 A, expected 10.0 A (+0.5)" in drift
    assert "should be set by profile 11 (TxProfile" in drift


def test_a_station_that_never_gets_ready_is_a_failed_outcome_not_a_hang() -> None:
    outcome, smart = _run(OcppVersion.V16, transaction_evse=None, ready_timeout=0.5)
    assert not outcome.ok
    assert outcome.findings["session"] == [
        "TimeoutError: no BootNotification and 1 started transaction(s) within 0.5 s"
    ]
    assert len(smart.store) == 0


def test_the_scripts_run_as_documented() -> None:
    """``python examples/csms.py --port 0`` and ``python examples/charge_point.py --url ...``."""

    async def run() -> tuple[int, str, int]:
        server = await asyncio.create_subprocess_exec(
            sys.executable,
            str(EXAMPLES / "csms.py"),
            "--port",
            "0",
            stdout=asyncio.subprocess.PIPE,
        )
        station = None
        try:
            assert server.stdout is not None
            first = (await asyncio.wait_for(server.stdout.readline(), 90)).decode()
            assert first.startswith("listening on ws://127.0.0.1:")
            url = first.split()[-1]
            station = await asyncio.create_subprocess_exec(
                sys.executable,
                str(EXAMPLES / "charge_point.py"),
                "--ocpp",
                "1.6",
                "--url",
                url,
                stdout=asyncio.subprocess.DEVNULL,
            )
            out, _ = await asyncio.wait_for(server.communicate(), 90)
            station_rc = await asyncio.wait_for(station.wait(), 10)
            return server.returncode or 0, out.decode(), station_rc
        finally:
            for proc in (server, station):
                if proc is not None and proc.returncode is None:
                    proc.kill()
                    await proc.wait()

    rc, out, station_rc = asyncio.run(run())
    assert (rc, station_rc) == (0, 0), out
    assert "CP1 (OCPP 1.6)" in out
    assert "station: Rejected; library: Rejected" in out
    assert out.rstrip().endswith("all checks passed")

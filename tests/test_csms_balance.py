"""``examples/csms.py``'s balanced site: the :class:`SiteBalancer` driven by events, and live.

The balancer is plain Python: each test feeds it the events a CSMS gets (a transaction
starts, a meter value, a transaction ends, a periodic tick) at given instants and looks at
what it would send. The live tests run the CSMS with ``balance=`` and the example charge
point in-process over loopback (OCPP 1.6 and 2.0.1); every wait has a timeout.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from ocpp_schedule import Circuit, ControlError, EqualShare, Evse, OcppVersion, Pile, Site

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _load(name: str) -> ModuleType:
    """The example as a module (the one tests/test_live.py loaded, if it did)."""
    loaded = sys.modules.get(f"examples_{name}")
    if loaded is not None:
        return loaded
    spec = importlib.util.spec_from_file_location(f"examples_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


csms = _load("csms")
charge_point = _load("charge_point")

T0 = datetime(2024, 6, 3, 8, tzinfo=UTC)


def _site(version: OcppVersion = OcppVersion.V16, pile: str = "A") -> Site:
    """Two piles of two 32 A EVSEs under a 32 A grid connection."""
    return Site(
        grid=Circuit(id="grid", amps=32),
        piles=(
            Pile(id=pile, circuit="grid", ocpp=version, evses=(Evse(id=1), Evse(id=2))),
            Pile(id="B", circuit="grid", ocpp=OcppVersion.V201, evses=(Evse(id=1),)),
        ),
    )


def _limits(sends: list[tuple[str, dict[str, Any]]]) -> dict[tuple[str, int, str], float]:
    """The first period's limit of every payload, by (pile, EVSE, purpose)."""
    out = {}
    for pile, payload in sends:
        if "csChargingProfiles" in payload:  # 1.6
            evse, profile = payload["connectorId"], payload["csChargingProfiles"]
            schedule = profile["chargingSchedule"]
        else:
            evse, profile = payload["evseId"], payload["chargingProfile"]
            schedule = profile["chargingSchedule"][0]
        first = schedule["chargingSchedulePeriod"][0]["limit"]
        out[(pile, evse, profile["chargingProfilePurpose"])] = first
    return out


def test_a_start_gives_that_evse_a_plan() -> None:
    balancer = csms.SiteBalancer(_site(), policy=EqualShare())
    sends = balancer.on_start("A", 1, "7", T0)
    limits = _limits(sends)
    assert limits[("A", 1, "TxProfile")] == 32.0  # alone on the site: all of it
    assert limits[("A", 1, "TxDefaultProfile")] == 32.0
    assert limits[("A", 2, "TxDefaultProfile")] == 0.0  # idle EVSEs hold 0 A now
    tx = next(p for _, p in sends if p.get("csChargingProfiles", {}).get("transactionId"))
    assert tx["csChargingProfiles"]["transactionId"] == 7  # the station's id, as 1.6 wants it
    (session,) = balancer.last.sessions
    assert (session.pile, session.evse, session.transaction_id) == ("A", 1, "7")
    assert session.departure_known is False  # a CSMS does not know when the vehicle leaves


def test_a_second_start_shares_and_a_tapering_vehicle_gives_current_back() -> None:
    balancer = csms.SiteBalancer(_site(), policy=EqualShare())
    balancer.on_start("A", 1, "7", T0)
    second = _limits(balancer.on_start("B", 1, "B-1", T0 + timedelta(minutes=5)))
    assert second[("A", 1, "TxProfile")] == 16.0
    assert second[("B", 1, "TxDefaultProfile")] == 16.0
    # (A's idle EVSE 2 is sent again here: the plan now ends when B is expected to leave, five
    # minutes later, so its safe tail starts later.)
    # B's vehicle draws 5 A of its 16 A: it tapers, A gets the rest; A's EVSE 2 is untouched.
    sends = balancer.on_meter_values("B", 1, (5.0, 5.0, 5.0), 2.0, T0 + timedelta(minutes=10))
    limits = _limits(sends)
    assert {(p, e) for p, e, _ in limits} == {("A", 1), ("B", 1)}
    assert limits[("B", 1, "TxDefaultProfile")] == 6.0  # what it draws + headroom, >= min
    assert limits[("A", 1, "TxProfile")] == 26.0
    status = {(s.pile, s.evse): s.status for s in balancer.last.sessions}
    assert status == {("A", 1): "charging", ("B", 1): "tapering"}
    # A repeated identical meter value changes nothing: nothing is sent.
    at = T0 + timedelta(minutes=15)
    assert balancer.on_meter_values("B", 1, (5.0, 5.0, 5.0), 2.1, at) == []


def test_a_full_vehicle_leaves_the_sharing() -> None:
    balancer = csms.SiteBalancer(_site(), policy=EqualShare())
    balancer.on_start("A", 1, "7", T0, energy_kwh=5.0)
    balancer.on_start("B", 1, "B-1", T0)
    limits = _limits(balancer.on_meter_values("A", 1, (16, 16, 16), 5.0, T0 + timedelta(hours=1)))
    assert limits[("A", 1, "TxProfile")] == 0.0
    assert limits[("B", 1, "TxDefaultProfile")] == 32.0
    status = {(s.pile, s.evse): s.status for s in balancer.last.sessions}
    assert status[("A", 1)] == "full"


def test_a_stop_removes_the_session() -> None:
    balancer = csms.SiteBalancer(_site(), policy=EqualShare())
    balancer.on_start("A", 1, "7", T0)
    balancer.on_start("B", 1, "B-1", T0)
    limits = _limits(balancer.on_stop("A", 1, T0 + timedelta(minutes=30)))
    assert ("A", 1) not in balancer.sessions
    assert limits[("A", 1, "TxDefaultProfile")] == 0.0
    assert limits[("B", 1, "TxDefaultProfile")] == 32.0
    assert [(s.pile, s.evse) for s in balancer.last.sessions] == [("B", 1)]
    assert balancer.on_stop("A", 1, T0 + timedelta(minutes=31)) == []  # twice: nothing new
    assert balancer.on_meter_values("A", 1, (3, 3, 3), 1, T0 + timedelta(minutes=32)) == []


def test_a_tick_re_sends_only_when_the_plan_is_due() -> None:
    balancer = csms.SiteBalancer(_site(), policy=EqualShare())
    assert balancer.on_tick(T0) == []  # nothing to plan yet
    balancer.on_start("A", 1, "7", T0)
    first = balancer.last
    due = first.resend_before
    assert balancer.on_tick(due - timedelta(seconds=1)) == []
    assert balancer.last is first
    # Due: it re-plans; the slots and the end lie on the same grid (B19), so an unchanged
    # plan sends nothing.
    assert balancer.on_tick(due) == []
    assert balancer.last is not first
    assert balancer.last.valid_until_epoch == first.valid_until_epoch
    # At the estimated departure a meter value says the vehicle is still there: the estimate
    # is extended (CT5), the plan goes on further and is sent.
    later = first.valid_until
    sends = balancer.on_meter_values("A", 1, (16.0, 16.0, 16.0), 5.0, later)
    assert ("A", 1, "TxProfile") in _limits(sends)
    assert balancer.last.valid_until_epoch > first.valid_until_epoch


def test_events_go_forward_in_time_and_name_the_site_s_evses() -> None:
    balancer = csms.SiteBalancer(_site(), policy=EqualShare())
    balancer.on_start("A", 1, "7", T0)
    balancer.on_start("B", 1, "B-1", T0 - timedelta(minutes=5))  # a late event: taken as now
    assert balancer.last.at_epoch == int(T0.timestamp())
    with pytest.raises(ControlError, match="pile 'Z' EVSE 1 is not in the site"):
        balancer.on_start("Z", 1, "1", T0)


def test_meter_readings_of_both_versions() -> None:
    v16 = [
        {
            "timestamp": "2024-06-03T08:00:00Z",
            "sampled_value": [
                {"value": "12.5", "measurand": "Current.Import", "phase": "L1", "unit": "A"},
                {"value": "12.0", "measurand": "Current.Import", "phase": "L2", "unit": "A"},
                {"value": "11.5", "measurand": "Current.Import", "phase": "L3", "unit": "A"},
                {"value": "1500", "unit": "Wh"},
            ],
        }
    ]
    assert csms.meter_reading(v16) == ((12.5, 12.0, 11.5), 1.5)
    v201 = [
        {
            "timestamp": "2024-06-03T08:00:00Z",
            "sampled_value": [
                {"value": 8, "measurand": "Current.Import"},
                {
                    "value": 2.25,
                    "measurand": "Energy.Active.Import.Register",
                    "unit_of_measure": {"unit": "kWh"},
                },
            ],
        }
    ]
    assert csms.meter_reading(v201) == ((8.0, 8.0, 8.0), 2.25)
    assert csms.meter_reading([]) == (None, None)


# ------------------------------------------------------------------------------ live


async def _balanced(version: OcppVersion) -> tuple[Any, Any, Any]:
    loop = asyncio.get_running_loop()
    port: asyncio.Future[int] = loop.create_future()
    balancer = csms.SiteBalancer(_site(version, pile="CP7"))
    server = asyncio.create_task(
        csms.serve(
            "127.0.0.1",
            0,
            stations=1,
            ready_timeout=10,
            on_listen=port.set_result,
            balance=balancer,
            hold=0.2,
        )
    )
    try:
        url = f"ws://127.0.0.1:{await asyncio.wait_for(port, 10)}"
        station = asyncio.create_task(
            charge_point.run_charge_point(url, "CP7", version, response_timeout=10)
        )
        outcomes = await asyncio.wait_for(server, 30)
        smart = await asyncio.wait_for(station, 10)
    finally:
        server.cancel()
    assert len(outcomes) == 1
    return outcomes[0], smart, balancer


@pytest.mark.parametrize("version", [OcppVersion.V16, OcppVersion.V201])
def test_live_the_balanced_csms_sends_the_plan_after_the_start(version: OcppVersion) -> None:
    outcome, smart, balancer = asyncio.run(asyncio.wait_for(_balanced(version), 60))
    assert outcome.ok, csms.report(outcome)
    (tx,) = outcome.transactions
    assert tx.evse_id == 1
    # The plan the balancer made at the start went out whole, and the station took it.
    planned = [payload for pile, payload in balancer.last.plan.payloads() if pile == "CP7"]
    assert [e.request for e in outcome.exchanges] == planned
    assert [e.answer["status"] for e in outcome.exchanges] == ["Accepted"] * len(planned)
    (session,) = balancer.last.sessions
    assert session.transaction_id == tx.id
    held = sorted((p.evse_id, p.purpose.value, p.transaction_id) for p in smart.store)
    assert held == [
        (1, "TxDefaultProfile", None),
        (1, "TxProfile", tx.id),  # the plan's TxProfile, bound to the station's transaction
        (2, "TxDefaultProfile", None),
    ]
    assert smart.store == outcome.store  # the station holds what the CSMS predicted


def test_balance_option_with_a_bad_site_file_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "site.json"
    bad.write_text('{"grid": {"id": "grid", "amps": 32}, "piles": [], "extra": 1}')
    assert csms.main(["--balance", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("csms: ")
    assert csms.main(["--balance", str(tmp_path / "missing.json")]) == 2

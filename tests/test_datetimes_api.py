"""Datetimes in public results, epoch seconds as a secondary attribute (issue 15, item 4).

The rule (docs/semantics.md API1): an instant a public result holds is a timezone-aware UTC
``datetime`` under its public name, and the same instant in whole epoch seconds is the
``int`` attribute ``<name>_epoch``. The walker below builds one of every public result
type from a real computation and checks every instant attribute it names, and that no
result type has an ``int`` attribute named like an instant without its datetime twin.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, get_type_hints

import pytest

import ocpp_schedule
from ocpp_schedule import (
    ChargingProfile,
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    ChargingSchedule,
    ChargingSchedulePeriod,
    EvseMeasurement,
    ProfileStore,
    SetChargingProfileRequest,
    SiteState,
    StationConfig,
    composite_schedule,
    control,
    expand_profile,
    next_change,
    session_outcomes,
)
from ocpp_schedule.site import DEMO_DAY, balance, demo_site, limits_at, send_plan, site_report
from ocpp_schedule.site._model import load_site
from ocpp_schedule.site._simulate import LimitViolation, simulate
from ocpp_schedule.tools import check_drift, read_composite_response
from ocpp_schedule.tools._ev_schedule import Exceedance
from ocpp_schedule.tools._localtime import LocalTimePlan, offset_stretches, plan_profiles
from ocpp_schedule.wire._timestamps import to_epoch

T0 = datetime(2024, 1, 1, tzinfo=UTC)
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "site.json"
INSTANT_NAMES = frozenset(
    {"start", "end", "at", "until", "valid_until", "resend_before", "peak_at", "arrive", "leave"}
    | {"done_at"}
)
"""The names an instant goes by in the public results."""


def _profile(limit: float = 16.0) -> ChargingProfile:
    period = ChargingSchedulePeriod(start_period=0, limit=limit)
    second = ChargingSchedulePeriod(start_period=1800, limit=limit / 2)
    schedule = ChargingSchedule(
        id=1,
        charging_rate_unit=ChargingRateUnit.A,
        charging_schedule_period=(period, second),
        start_schedule=T0,
    )
    return ChargingProfile(
        id=1,
        stack_level=0,
        charging_profile_purpose=ChargingProfilePurpose.TX_DEFAULT_PROFILE,
        charging_profile_kind=ChargingProfileKind.ABSOLUTE,
        charging_schedule=(schedule,),
    )


def _results() -> Iterator[tuple[str, object]]:
    """One of every public result type that holds an instant, from real computations."""
    config = StationConfig.with_evses(1)
    store = ProfileStore()
    store, _ = ocpp_schedule.install(
        store,
        SetChargingProfileRequest(evse_id=1, charging_profile=_profile()),
        ocpp_schedule.StationState(config, "2.0.1"),
    )
    schedule = composite_schedule(store, evse_id=1, start=T0, duration=3600, config=config)
    yield "CompositeSchedule", schedule
    yield "LimitHold", next_change(store, evse_id=1, instant=T0, config=config)
    yield "ProfilePeriod", expand_profile(_profile(), start=T0, duration=3600)[0]
    yield "ReportedSchedule", read_composite_response(schedule.to_payload("2.0.1"), "2.0.1")
    louder = schedule.to_payload("2.0.1")
    louder["schedule"]["chargingSchedulePeriod"][0]["limit"] = 20.0
    drift = check_drift(store, read_composite_response(louder, "2.0.1"), config=config)
    yield "DriftFinding", drift.findings[0]
    yield "Exceedance", Exceedance(0, 60, 1.0, 0.5, "limit", None, schedule.periods[0].source)
    yield "OffsetStretch", offset_stretches("Europe/Berlin", T0, T0 + timedelta(days=1))[0]
    local = LocalTimePlan("Europe/Berlin", "A", 16.0)
    end = T0 + timedelta(days=2)
    yield "PlannedProfiles", plan_profiles(local, start=T0, end=end, version="2.0.1", evse_id=1)
    site = demo_site()
    evening = balance(site, start=DEMO_DAY + timedelta(hours=16), duration=6 * 3600)
    yield "Allocation", evening
    plan = send_plan(evening, at=DEMO_DAY + timedelta(hours=17))
    yield "SendPlan", plan
    yield "LimitsAt", limits_at(evening, DEMO_DAY + timedelta(hours=18))
    report = site_report(site, start=DEMO_DAY, duration=86400)
    yield "SiteReport", report
    yield "StationReport", report.stations[0]
    day = balance(load_site(EXAMPLE), start=datetime(2024, 6, 2, 22, tzinfo=UTC), duration=86400)
    yield "SessionOutcome", next(o for o in session_outcomes(day) if o.done_at is not None)
    at = DEMO_DAY + timedelta(hours=17)
    state = SiteState(
        at=at,
        evses=(EvseMeasurement(pile="P01", evse=1, amps=(10.0, 10.0, 10.0), energy_kwh=5.0),),
    )
    result = control(site, state)
    yield "ControlResult", result
    yield "SessionControl", result.sessions[0]
    sim = simulate(site, step=1800, start=at, end=at + timedelta(hours=2), records=True)
    yield "SimulationResult", sim
    yield "SimulatedSession", sim.sessions[0]
    yield "StepRecord", sim.records[0]
    yield "LimitViolation", LimitViolation("grid", to_epoch(at), to_epoch(at) + 60, "L1", 9, 8)


RESULTS = dict(_results())


def _instants(obj: object) -> list[str]:
    """The attribute names of ``obj`` (fields and properties) that name an instant."""
    names = {n for n in dir(type(obj)) if not n.startswith("_")}
    if dataclasses.is_dataclass(obj):
        names |= {f.name for f in dataclasses.fields(obj)}
    names |= set(getattr(type(obj), "_fields", ()))
    return sorted(n for n in names if n in INSTANT_NAMES)


@pytest.mark.parametrize("name", sorted(RESULTS))
def test_every_instant_is_a_utc_datetime_with_its_epoch_twin(name: str) -> None:
    obj = RESULTS[name]
    found = _instants(obj)
    assert found, f"{name} names no instant"
    for attr in found:
        value = getattr(obj, attr)
        twin = getattr(obj, f"{attr}_epoch")
        if value is None:
            assert twin is None, f"{name}.{attr}"
            continue
        assert isinstance(value, datetime) and value.utcoffset() == timedelta(0), (
            f"{name}.{attr} is {value!r}"
        )
        assert type(twin) is int and twin == to_epoch(value), f"{name}.{attr}_epoch"


def test_the_walk_covers_every_public_result_with_an_instant() -> None:
    """Every class exported at the package root (and the site/tools result types) that has
    an instant-named attribute is walked above, so a new result type is not forgotten."""
    exported = {
        n: getattr(ocpp_schedule, n)
        for n in ocpp_schedule.__all__
        if isinstance(getattr(ocpp_schedule, n), type)
    }
    inputs = {
        "ChargingProfile",
        "ChargingSchedule",
        "Session",
        "SiteState",
        "EvseMeasurement",
        "Transaction",
        "LimitStep",
        "StationState",
        "CompositeQuery",
        "LocalWindow",
        "RemoteStartTransactionRequest",
        "RequestStartTransactionRequest",
        "StationMirror",
        "MirrorUpdate",
    }
    missing = []
    for n, cls in exported.items():
        if n in inputs or n in RESULTS or issubclass(cls, BaseException):
            continue
        fields = set(getattr(cls, "__dataclass_fields__", {})) | set(getattr(cls, "_fields", ()))
        props = {p for p in dir(cls) if isinstance(getattr(cls, p, None), property)}
        if (fields | props) & INSTANT_NAMES:
            missing.append(n)
    assert missing == []


@pytest.mark.parametrize("name", sorted(RESULTS))
def test_no_int_field_is_named_like_an_instant(name: str) -> None:
    """An ``int`` field named ``start``, ``at``, ... would be the old API: the stored field
    is ``*_epoch``."""
    cls = type(RESULTS[name])
    hints: dict[str, Any] = get_type_hints(cls) if dataclasses.is_dataclass(cls) else {}
    hints |= getattr(cls, "__annotations__", {})
    for attr in INSTANT_NAMES & set(hints):
        assert "int" not in str(hints[attr]).replace("_epoch", ""), f"{name}.{attr}"


def test_inputs_keep_accepting_datetime_or_epoch_seconds() -> None:
    store = ProfileStore()
    config = StationConfig.with_evses(1)
    by_dt = composite_schedule(store, evse_id=1, start=T0, duration=60, config=config)
    by_int = composite_schedule(store, evse_id=1, start=to_epoch(T0), duration=60, config=config)
    assert by_dt == by_int and by_dt.start == T0 and by_dt.start_epoch == to_epoch(T0)
    assert by_dt.schedule_start == by_dt.start
    assert by_dt.limit_at(T0) == by_dt.limit_at(to_epoch(T0))

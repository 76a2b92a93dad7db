"""External charging limits: NotifyChargingLimit and ClearedChargingLimit (K11, K12, K13, K27).

Issue 14 item 6; docs/semantics.md EXT-1..EXT-7. Exact JSON on payloads generated from the
official 2.0.1 and 2.1 schemas (the generator of ``test_exact_json``), example tests per rule,
and hypothesis properties: imposing an external limit never raises a composite; releasing it
gives back the store (and so the composite) from before.
"""

from __future__ import annotations

import random
import zlib
from typing import Any

import pytest
from helpers import at, on, profile, tx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import schema_errors
from strategies_engine import Case, single_evse_cases, station_cases
from test_exact_json import as_wire, exactly_equal, official_schema, payloads, random_json

from ocpp_schedule import (
    ChargingLimitSource,
    ChargingProfilePurpose,
    ClearedChargingLimitRequest,
    ExternalLimitError,
    InstalledProfile,
    NotifyChargingLimitRequest,
    PayloadError,
    ProfileStore,
    QueryError,
    StationConfig,
    StationState,
    VersionError,
    apply_cleared_charging_limit,
    apply_notify_charging_limit,
    composite_schedule,
    external_profile_id,
    impose_external_limit,
    install,
    read_cleared_charging_limit,
    read_notify_charging_limit,
    release_external_limit,
    write_cleared_charging_limit,
    write_notify_charging_limit,
)
from ocpp_schedule.station import MAX_LIMIT_SCHEDULES

P = ChargingProfilePurpose
EXT = P.CHARGING_STATION_EXTERNAL_CONSTRAINTS
S201 = StationState(StationConfig(evse_ids=(1, 2)), "2.0.1")
S21 = StationState(StationConfig(evse_ids=(1, 2)), "2.1")

# ------------------------------------------------------------------------ exact JSON

ROUNDTRIPS = {
    "NotifyChargingLimitRequest": lambda p, v: write_notify_charging_limit(
        read_notify_charging_limit(p, v), v
    ),
    "ClearedChargingLimitRequest": lambda p, v: write_cleared_charging_limit(
        read_cleared_charging_limit(p, v), v
    ),
}
CASES = [(name, v) for name in ROUNDTRIPS for v in ("2.0.1", "2.1")]
SEEDED = 2000


def _check_exact(payload: Any, version: str, name: str) -> None:
    payload = as_wire(payload)
    assert not schema_errors(payload, version, name), "the generator left its schema"
    written = as_wire(ROUNDTRIPS[name](payload, version))
    assert exactly_equal(written, payload), (payload, written)


@pytest.mark.parametrize(("name", "version"), CASES)
def test_seeded_schema_valid_payloads_read_and_write_back_exactly(name: str, version: str) -> None:
    """Every schema-valid payload (2,000 per message and version) reads and writes back with
    the same JSON: integers stay integers, empty objects stay (issue 14 item 7)."""
    root = official_schema(version, name)
    rng = random.Random(zlib.crc32(f"{name} {version}".encode()))
    for index in range(SEEDED):
        payload = random_json(rng, root, root, top=True)
        try:
            _check_exact(payload, version, name)
        except (AssertionError, PayloadError) as exc:
            raise AssertionError(f"example {index}: {payload!r}") from exc


@pytest.mark.parametrize(("name", "version"), CASES)
def test_schema_valid_payloads_read_and_write_back_exactly(name: str, version: str) -> None:
    @settings(
        max_examples=100,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(payloads(version, name))
    def check(payload: Any) -> None:
        _check_exact(payload, version, name)

    check()


def _notify(source: str = "EMS", **extra: Any) -> dict[str, Any]:
    return {"chargingLimit": {"chargingLimitSource": source}, **extra}


def _sched(limit: float = 10, start: int | None = 0, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": 1,
        "chargingRateUnit": "A",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
        **extra,
    }
    if start is not None:
        out["startSchedule"] = at(start).strftime("%Y-%m-%dT%H:%M:%SZ")
    return out


@pytest.mark.parametrize(
    ("payload", "version", "field"),
    [
        (_notify(extra=1), "2.0.1", "extra"),
        (_notify(evseId=None), "2.0.1", "evseId"),
        (_notify("DSO"), "2.0.1", "chargingLimit.chargingLimitSource"),
        (_notify("x" * 21), "2.1", "chargingLimit.chargingLimitSource"),
        (_notify(evseId=-1), "2.1", "evseId"),
        (
            {"chargingLimit": {"chargingLimitSource": "EMS", "isLocalGeneration": True}},
            "2.0.1",
            "chargingLimit.isLocalGeneration",
        ),
        ({"chargingLimit": {"chargingLimitSource": "EMS", "isGridCritical": 1}}, "2.1", None),
        (_notify(chargingSchedule=[]), "2.1", "chargingSchedule"),
        (
            _notify(chargingSchedule=[_sched()] * (MAX_LIMIT_SCHEDULES + 1)),
            "2.1",
            "chargingSchedule",
        ),
        (
            _notify(
                chargingSchedule=[{**_sched(), "chargingSchedulePeriod": [{"startPeriod": 0}]}]
            ),
            "2.0.1",
            "chargingSchedule[0].chargingSchedulePeriod[0].limit",
        ),
        ({"chargingLimit": {}}, "2.1", "chargingLimit.chargingLimitSource"),
    ],
)
def test_the_reader_refuses_what_the_schema_refuses(
    payload: dict[str, Any], version: str, field: str | None
) -> None:
    with pytest.raises(PayloadError) as info:
        read_notify_charging_limit(payload, version)
    if field is not None:
        assert info.value.field == field


def test_cleared_reader_refuses_what_the_schema_refuses() -> None:
    with pytest.raises(PayloadError):
        read_cleared_charging_limit({"chargingLimitSource": "DSO"}, "2.0.1")
    with pytest.raises(PayloadError):
        read_cleared_charging_limit({"chargingLimitSource": "SO", "evseId": -2}, "2.1")
    with pytest.raises(PayloadError):
        read_cleared_charging_limit({"evseId": 1}, "2.1")
    with pytest.raises(VersionError):
        read_cleared_charging_limit({"chargingLimitSource": "SO"}, "1.6")


def test_2_1_only_values_cannot_be_written_in_2_0_1() -> None:
    req = read_notify_charging_limit(_notify("DSO-grid"), "2.1")
    assert req.charging_limit.charging_limit_source == "DSO-grid"
    with pytest.raises(VersionError):
        write_notify_charging_limit(req, "2.0.1")
    local = read_notify_charging_limit(
        {"chargingLimit": {"chargingLimitSource": "EMS", "isLocalGeneration": False}}, "2.1"
    )
    with pytest.raises(VersionError):
        write_notify_charging_limit(local, "2.0.1")
    cleared = read_cleared_charging_limit({"chargingLimitSource": "DSO-grid"}, "2.1")
    with pytest.raises(VersionError):
        write_cleared_charging_limit(cleared, "2.0.1")


def test_known_sources_are_enum_members() -> None:
    req = read_notify_charging_limit(_notify("SO"), "2.1")
    assert req.charging_limit.charging_limit_source is ChargingLimitSource.SO


# ------------------------------------------------------------------------ station side


def _limit(
    limit: float = 10,
    *,
    evse: int | None = 1,
    source: str = "EMS",
    start: int | None = 0,
    local_generation: bool | None = None,
    version: str = "2.0.1",
    **sched: Any,
) -> NotifyChargingLimitRequest:
    charging_limit: dict[str, Any] = {"chargingLimitSource": source}
    if local_generation is not None:
        charging_limit["isLocalGeneration"] = local_generation
    payload: dict[str, Any] = {
        "chargingLimit": charging_limit,
        "chargingSchedule": [_sched(limit, start, **sched)],
    }
    if evse is not None:
        payload["evseId"] = evse
    return read_notify_charging_limit(payload, version)


def _store(*entries: Any) -> ProfileStore:
    return ProfileStore(entries)


def test_k11_fr_01_no_faster_than_the_external_limit_during_a_transaction() -> None:
    txp = profile(1, "TxDefaultProfile", [(0, 32)])
    store = _store(on(1, txp))
    t = tx("T1", 1)
    before = composite_schedule(store, evse_id=1, start=at(0), duration=600, transaction=t)
    assert before.periods[0].limit == 32
    result = impose_external_limit(store, _limit(10), S201)
    assert result.accepted
    after = composite_schedule(result.store, evse_id=1, start=at(0), duration=600, transaction=t)
    assert [p.limit for p in after.periods] == [10]


def test_k12_fr_01_the_station_total_stays_within_a_station_wide_limit() -> None:
    txd = profile(1, "TxDefaultProfile", [(0, 16)])
    store = _store(on(0, txd))
    result = impose_external_limit(store, _limit(20, evse=None), S201)
    assert result.accepted
    entry = result.store.get(result.profile_id or 0)
    assert entry is not None and entry.evse_id == 0
    total = composite_schedule(
        result.store, evse_id=0, start=at(0), duration=600, config=S201.config
    )
    assert max(p.limit for p in total.periods) <= 20
    before = composite_schedule(store, evse_id=0, start=at(0), duration=600, config=S201.config)
    assert before.periods[0].limit == 32  # two EVSEs of 16 A each


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
def test_k11_fr_05_k12_fr_04_a_cso_source_is_refused(version: str) -> None:
    state = S201 if version == "2.0.1" else S21
    cso = _limit(source="CSO", version=version)
    with pytest.raises(ExternalLimitError) as info:
        impose_external_limit(ProfileStore(), cso, state)
    assert info.value.rule == "K11.FR.05/K12.FR.04"
    with pytest.raises(ExternalLimitError):
        apply_notify_charging_limit(ProfileStore(), cso, state)
    with pytest.raises(ExternalLimitError):
        release_external_limit(ProfileStore(), "CSO")
    cleared = read_cleared_charging_limit({"chargingLimitSource": "CSO"}, version)
    with pytest.raises(ExternalLimitError):
        apply_cleared_charging_limit(ProfileStore(), cleared)


def test_k11_fr_06_the_limit_is_a_station_external_constraints_profile() -> None:
    result = impose_external_limit(ProfileStore(), _limit(10), S201)
    entry = result.store.get(result.profile_id or 0)
    assert entry is not None
    assert entry.purpose is EXT
    assert entry.source is ChargingLimitSource.EMS
    assert entry.profile.charging_profile_kind.value == "Absolute"
    relative = impose_external_limit(ProfileStore(), _limit(10, start=None), S201)
    rel = relative.store.get(relative.profile_id or 0)
    assert rel is not None and rel.profile.charging_profile_kind.value == "Relative"


def test_ext_2_ids_are_negative_or_at_most_max_external_constraints_id() -> None:
    """K11.FR.06 note (negative ids), E21 2.28 / K01.FR.82 (<= MaxExternalConstraintsId)."""
    assert external_profile_id(ProfileStore(), S201) == -1
    taken = _store(on(1, profile(-1, "TxDefaultProfile", [(0, 16)])))
    assert external_profile_id(taken, S201) == -2
    with_max = StationState(StationConfig(max_external_constraints_id=100), "2.1")
    assert external_profile_id(ProfileStore(), with_max) == 100
    assert external_profile_id(ProfileStore(), S21) == -1
    # 2.0.1 has no MaxExternalConstraintsId: the setting is not read there
    v201_max = StationState(StationConfig(max_external_constraints_id=100), "2.0.1")
    assert external_profile_id(ProfileStore(), v201_max) == -1
    result = impose_external_limit(ProfileStore(), _limit(10, version="2.1"), with_max)
    assert result.accepted and result.profile_id == 100


def test_ext_2_the_id_search_is_bounded_by_the_store() -> None:
    """At most len(store) + 1 candidates: a store full of the ids below the ceiling."""
    store = _store(*(on(1, profile(-i, "TxDefaultProfile", [(0, 16)])) for i in range(1, 50)))
    assert external_profile_id(store, S201) == -50


def test_k11_fr_07_disallowed_external_constraints_are_ignored_in_2_1() -> None:
    state = StationState(StationConfig(external_constraints_profile_disallowed=True), "2.1")
    result = impose_external_limit(ProfileStore(), _limit(10, version="2.1"), state)
    assert not result.accepted
    assert (result.reason, result.rule) == ("Disallowed", "K11.FR.07")
    assert len(result.store) == 0 and result.notification is None
    # the 2.1 variable does not exist in 2.0.1
    old = StationState(StationConfig(external_constraints_profile_disallowed=True), "2.0.1")
    assert impose_external_limit(ProfileStore(), _limit(10), old).accepted


def test_k11_fr_03_the_notification_carries_the_schedule_only_when_asked() -> None:
    plain = impose_external_limit(ProfileStore(), _limit(10), S201)
    assert plain.notification is not None
    assert plain.notification.charging_schedule is None
    assert write_notify_charging_limit(plain.notification, "2.0.1") == {
        "chargingLimit": {"chargingLimitSource": "EMS"},
        "evseId": 1,
    }
    full = impose_external_limit(ProfileStore(), _limit(10), S201, with_schedules=True)
    assert full.notification is not None
    sent = write_notify_charging_limit(full.notification, "2.0.1")
    assert sent["chargingSchedule"][0]["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 10}
    ]
    station = impose_external_limit(ProfileStore(), _limit(10, evse=0), S201)
    assert station.notification is not None
    assert "evseId" not in write_notify_charging_limit(station.notification, "2.0.1")


def test_an_external_limit_to_impose_is_one_schedule() -> None:
    two = _limit(10).model_copy(
        update={"charging_schedule": (_limit(10).charging_schedule or ())[0:1] * 2}
    )
    with pytest.raises(ExternalLimitError) as info:
        impose_external_limit(ProfileStore(), two, S201)
    assert info.value.field == "chargingSchedule"
    none = _limit(10).model_copy(update={"charging_schedule": None})
    with pytest.raises(ExternalLimitError):
        impose_external_limit(ProfileStore(), none, S201)


def test_ext_3_a_new_limit_of_the_same_source_replaces_the_previous_one() -> None:
    """E21 2.15: every update replaces the profile, which may keep its id."""
    first = impose_external_limit(ProfileStore(), _limit(10), S201)
    second = impose_external_limit(first.store, _limit(20), S201)
    assert second.accepted
    assert second.profile_id == first.profile_id
    assert second.replaced == (first.profile_id,)
    assert len(second.store) == 1
    t = tx("T1", 1)
    out = composite_schedule(second.store, evse_id=1, start=at(0), duration=60, transaction=t)
    assert out.periods[0].limit == 20


def test_ext_3_another_source_on_the_same_evse_is_a_conflict() -> None:
    first = impose_external_limit(ProfileStore(), _limit(10), S201)
    other = impose_external_limit(first.store, _limit(5, source="SO"), S201)
    assert not other.accepted
    assert other.reason == "SourceConflict"
    assert other.store is first.store
    # on another EVSE (or the station) it is a separate cap: both count
    elsewhere = impose_external_limit(first.store, _limit(5, source="SO", evse=0), S201)
    assert elsewhere.accepted and len(elsewhere.store) == 2


def test_a_station_rule_refusal_leaves_the_store_as_it_was() -> None:
    unknown_evse = impose_external_limit(ProfileStore(), _limit(10, evse=7), S201)
    assert not unknown_evse.accepted
    assert unknown_evse.reason is not None and unknown_evse.rule == "K01.FR.28"


def test_s10_an_id_of_a_csms_profile_is_not_taken() -> None:
    store, result = install(
        ProfileStore(),
        _set_request(-1),
        S201,
    )
    assert result.accepted
    imposed = impose_external_limit(store, _limit(10), S201)
    assert imposed.accepted and imposed.profile_id == -2


def _set_request(pid: int) -> Any:
    from ocpp_schedule import SetChargingProfileRequest

    return SetChargingProfileRequest(
        evse_id=1, charging_profile=profile(pid, "TxDefaultProfile", [(0, 16)])
    )


def test_k27_fr_01_local_generation_is_a_local_generation_profile() -> None:
    state = StationState(
        StationConfig(supported_additional_purposes=frozenset({P.LOCAL_GENERATION})), "2.1"
    )
    txd = profile(1, "TxDefaultProfile", [(0, 5000)], unit="W")
    store = _store(on(1, txd))
    gen = _limit(2000, local_generation=True, version="2.1", chargingRateUnit="W")
    result = impose_external_limit(store, gen, state)
    assert result.accepted
    entry = result.store.get(result.profile_id or 0)
    assert entry is not None and entry.purpose is P.LOCAL_GENERATION
    t = tx("T1", 1)
    out = composite_schedule(
        result.store, evse_id=1, start=at(0), duration=60, unit="W", transaction=t
    )
    assert out.periods[0].limit == 7000  # K27: 5 kW + 2 kW
    # K01.FR.120: a station without LocalGeneration support refuses it
    refused = impose_external_limit(store, gen, S21)
    assert not refused.accepted and refused.rule == "K01.FR.120"


def test_k27_fr_03_local_generation_comes_from_ems_or_other() -> None:
    gen = _limit(2000, local_generation=True, version="2.1", source="SO")
    with pytest.raises(ExternalLimitError) as info:
        impose_external_limit(ProfileStore(), gen, S21)
    assert info.value.rule == "K27.FR.03"
    with pytest.raises(VersionError):
        impose_external_limit(ProfileStore(), _limit(1, local_generation=True, version="2.1"), S201)


def test_k13_fr_01_02_release_stops_the_limit_and_says_so() -> None:
    txp = profile(1, "TxDefaultProfile", [(0, 32)])
    store = _store(on(1, txp))
    imposed = impose_external_limit(store, _limit(10), S201)
    released = release_external_limit(imposed.store, "EMS", evse_id=1)
    assert released.released == (imposed.profile_id,)
    assert released.store == store
    t = tx("T1", 1)
    out = composite_schedule(released.store, evse_id=1, start=at(0), duration=60, transaction=t)
    assert out.periods[0].limit == 32  # K13.FR.01
    assert released.notification is not None  # K13.FR.02
    assert write_cleared_charging_limit(released.notification, "2.0.1") == {
        "chargingLimitSource": "EMS",
        "evseId": 1,
    }
    # nothing of that source there: nothing to release, nothing to send
    nothing = release_external_limit(imposed.store, "SO", evse_id=1)
    assert nothing.released == () and nothing.notification is None
    assert nothing.store is imposed.store


def test_release_keeps_the_csms_profiles_and_other_sources() -> None:
    txp = profile(1, "TxDefaultProfile", [(0, 32)])
    a = impose_external_limit(_store(on(1, txp)), _limit(10), S201)
    b = impose_external_limit(a.store, _limit(12, source="SO", evse=0), S201)
    released = release_external_limit(b.store, "EMS", evse_id=1)
    assert sorted(e.id for e in released.store) == sorted([1, b.profile_id or 0])


# ------------------------------------------------------------------------ CSMS side


def test_the_csms_view_holds_what_the_station_holds() -> None:
    txp = profile(1, "TxDefaultProfile", [(0, 32)])
    store = _store(on(1, txp))
    station = impose_external_limit(store, _limit(10), S201, with_schedules=True)
    assert station.notification is not None
    sent = as_wire(write_notify_charging_limit(station.notification, "2.0.1"))
    view = apply_notify_charging_limit(store, read_notify_charging_limit(sent, "2.0.1"), S201)
    assert view.accepted
    assert view.store == station.store
    cleared = ClearedChargingLimitRequest(charging_limit_source="EMS", evse_id=1)
    back = apply_cleared_charging_limit(view.store, cleared)
    assert back.store == store and back.released == (view.profile_id,)


def test_ext_6_a_notification_without_a_schedule_leaves_the_view() -> None:
    store = _store(on(1, profile(1, "TxDefaultProfile", [(0, 32)])))
    bare = read_notify_charging_limit(_notify(evseId=1), "2.0.1")
    result = apply_notify_charging_limit(store, bare, S201)
    assert not result.accepted and result.reason == "NoSchedule"
    assert result.store is store


def test_ext_7_cleared_without_an_evse_clears_that_source_everywhere() -> None:
    a = impose_external_limit(ProfileStore(), _limit(10, evse=1), S201)
    b = impose_external_limit(a.store, _limit(12, evse=2), S201)
    c = impose_external_limit(b.store, _limit(12, evse=0, source="SO"), S201)
    gone = apply_cleared_charging_limit(
        c.store, ClearedChargingLimitRequest(charging_limit_source="EMS")
    )
    assert sorted(gone.released) == sorted([a.profile_id or 0, b.profile_id or 0])
    assert [e.id for e in gone.store] == [c.profile_id]


def test_ext_5_a_2_1_only_source_is_held_as_other() -> None:
    dso = _limit(10, source="DSO-feeder", version="2.1")
    result = impose_external_limit(ProfileStore(), dso, S21)
    entry = result.store.get(result.profile_id or 0)
    assert entry is not None and entry.source is ChargingLimitSource.OTHER
    assert result.notification is not None
    assert result.notification.charging_limit.charging_limit_source == "DSO-feeder"
    assert release_external_limit(result.store, "DSO-feeder", evse_id=1).released


# ------------------------------------------------------------------------ properties

_SOURCES = st.sampled_from(["SO", "Other"])


@st.composite
def _external(draw: Any, evses: tuple[int, ...]) -> NotifyChargingLimitRequest:
    """A plain external limit: one Absolute or Relative schedule, no numberPhases (EXT-4)."""
    count = draw(st.integers(1, 3))
    starts = sorted(draw(st.sets(st.integers(1, 5000), min_size=count - 1, max_size=count - 1)))
    unit = draw(st.sampled_from(["A", "W"]))
    limits = st.integers(0, 64) if unit == "A" else st.integers(0, 44_000)
    periods = [{"startPeriod": s, "limit": draw(limits)} for s in [0, *starts]]
    sched: dict[str, Any] = {"id": 1, "chargingRateUnit": unit, "chargingSchedulePeriod": periods}
    if draw(st.booleans()):
        sched["startSchedule"] = at(draw(st.integers(-3600, 3600))).strftime("%Y-%m-%dT%H:%M:%SZ")
    if draw(st.booleans()):
        sched["duration"] = draw(st.integers(1, 7200))
    payload: dict[str, Any] = {
        "chargingLimit": {"chargingLimitSource": draw(_SOURCES)},
        "chargingSchedule": [sched],
    }
    evse = draw(st.sampled_from((0, *evses)))
    if evse:
        payload["evseId"] = evse
    return read_notify_charging_limit(payload, "2.0.1")


def _instants(a: Any, b: Any) -> list[int]:
    return sorted({a.start_epoch + p.start_period for p in (*a.periods, *b.periods)})


_NO_DEFAULT = {
    "composite_schedule_default_limit_amps": 1e9,
    "composite_schedule_default_limit_watts": 1e9,
    # A limit without numberPhases counts the default phases; fewer than another profile's
    # would turn that profile's W into more A per phase at the same power (EXT-4).
    "default_number_phases": 3,
}


def _never_above(case: Case, limit: NotifyChargingLimitRequest) -> None:
    # The default limit stands only where no profile is in force: any profile, an external
    # limit too, replaces it, above or below (EXT-4). Out of the way here.
    case.config = case.config.model_copy(update=_NO_DEFAULT)
    if case.config.evse_ids is None:
        # Without the EVSE list the EVSE-0 total sums the EVSEs that profiles name (S4): an
        # external profile on a new EVSE would add an EVSE, not raise a limit.
        evses = tuple(sorted({1, 2, *case.transactions}))
        case.config = case.config.model_copy(update={"evse_ids": evses})
    store = ProfileStore(case.profiles)
    state = StationState(case.config, "2.0.1", case.transactions.values())
    result = impose_external_limit(store, limit, state)
    if not result.accepted:
        assert result.store is store
        return
    before = composite_schedule(store, **case.kwargs())
    after = composite_schedule(result.store, **case.kwargs())
    for t in _instants(before, after):
        if t < before.start_epoch + max(before.duration, 1):
            assert after.limit_at(t) <= before.limit_at(t) + 1e-9 * max(1.0, before.limit_at(t))
    source = limit.charging_limit.charging_limit_source
    released = release_external_limit(result.store, source, evse_id=limit.station_evse)
    assert released.store == store
    assert composite_schedule(released.store, **case.kwargs()) == before


_PROPERTY = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@_PROPERTY
@given(single_evse_cases(), st.data())
def test_imposing_an_external_limit_never_raises_an_evse_composite(case: Case, data: Any) -> None:
    """K11.FR.01 as a property: whatever the CSMS installed, an external limit only lowers (or
    keeps) the EVSE's composite at every instant; released, the store and the composite are
    the ones from before (K13.FR.01)."""
    _never_above(case, data.draw(_external((1, 2))))


@_PROPERTY
@given(station_cases(), st.data())
def test_imposing_an_external_limit_never_raises_the_station_composite(
    case: Case, data: Any
) -> None:
    """K12.FR.01 as a property, on the EVSE-0 (station total) composite."""
    _never_above(case, data.draw(_external((1, 2))))


@_PROPERTY
@given(single_evse_cases(with_transaction=True), st.data())
def test_the_composite_is_within_the_external_limit_where_it_is_in_force(
    case: Case, data: Any
) -> None:
    """K11.FR.01: a constant external limit on the queried EVSE caps its composite."""
    unit = case.unit or "A"
    value = data.draw(st.integers(0, 64) if unit == "A" else st.integers(0, 44_000))
    payload = {
        "chargingLimit": {"chargingLimitSource": "SO"},
        "evseId": case.evse_id,
        "chargingSchedule": [
            {
                "id": 1,
                "chargingRateUnit": unit,
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": value}],
            }
        ],
    }
    limit = read_notify_charging_limit(payload, "2.0.1")
    state = StationState(case.config, "2.0.1", case.transactions.values())
    entries = list(case.profiles)
    bound = value
    if data.draw(st.booleans()):
        # another source's limit already on the EVSE: neither may hide or replace the other
        other = data.draw(st.sampled_from([0, value // 2, 10**6]))
        stack = data.draw(st.integers(0, 3))
        ems = profile(99, EXT.value, [(0, other)], stack=stack, kind="Relative", unit=unit)
        entries.append(InstalledProfile(case.evse_id, ems, ChargingLimitSource.EMS))
        bound = min(value, other)
    result = impose_external_limit(ProfileStore(entries), limit, state)
    if not result.accepted:
        assert result.reason == "SourceConflict"
        return
    out = composite_schedule(result.store, **case.kwargs())
    assert all(p.limit <= bound for p in out.periods)


def test_wrong_python_types_raise_a_typed_error_naming_the_argument() -> None:
    good = _limit(10)
    for call, field in [
        (lambda: impose_external_limit([], good, S201), "store"),  # type: ignore[arg-type]
        (lambda: impose_external_limit(ProfileStore(), {}, S201), "limit"),  # type: ignore[arg-type]
        (lambda: impose_external_limit(ProfileStore(), good, "2.0.1"), "state"),  # type: ignore[arg-type]
        (lambda: release_external_limit(ProfileStore(), 7), "chargingLimitSource"),  # type: ignore[arg-type]
        (lambda: release_external_limit(ProfileStore(), "EMS", evse_id=True), "evse_id"),
        (lambda: apply_notify_charging_limit(ProfileStore(), {}, S201), "request"),  # type: ignore[arg-type]
        (lambda: apply_cleared_charging_limit(None, good), "view"),  # type: ignore[arg-type]
    ]:
        with pytest.raises(QueryError) as info:
            call()
        assert info.value.field == field

"""StationMirror: what a CSMS knows a station holds, as the station answered (issue 15, item 1).

The station's word wins over the rules' prediction, and every disagreement is reported;
transactions end with their TxProfiles; check_drift compares against the mirror; the
mirror persists as versioned JSON.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ocpp_schedule import (
    MirrorUpdate,
    PayloadError,
    ProfileStore,
    QueryError,
    StationConfig,
    StationMirror,
    StationState,
    Transaction,
    check_drift,
    composite_schedule,
    install,
    read_set_charging_profile,
)
from tests.strategies import set_charging_profile

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def _request(
    pid: int,
    limit: float,
    *,
    evse: int = 1,
    stack: int = 0,
    purpose: str = "TxDefaultProfile",
    tx: str | None = None,
) -> dict[str, Any]:
    profile: dict[str, Any] = {
        "id": pid,
        "stackLevel": stack,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": "Absolute",
        "chargingSchedule": [
            {
                "id": pid,
                "startSchedule": "2026-03-01T00:00:00Z",
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
            }
        ],
    }
    if tx is not None:
        profile["transactionId"] = tx
    return {"evseId": evse, "chargingProfile": profile}


def _mirror(version: str = "2.0.1") -> StationMirror:
    return StationMirror(StationState(StationConfig.with_evses(2), version))


def test_agreeing_answers_build_what_the_rules_build() -> None:
    mirror = _mirror()
    update = mirror.set_charging_profile(_request(1, 16), "Accepted")
    assert isinstance(update, MirrorUpdate)
    assert update.agrees and update.note == "" and update.predicted == "Accepted"
    assert [e.id for e in update.mirror.store] == [1]
    # the response payload is accepted as well as the status
    again = update.mirror.set_charging_profile(_request(2, 10, stack=1), {"status": "Accepted"})
    assert again.agrees and [e.id for e in again.mirror.store] == [1, 2]


def test_the_station_accepting_what_the_rules_reject_wins_and_is_reported() -> None:
    # K01.FR.09: a TxProfile without a running transaction is rejected by the rules
    mirror = _mirror()
    update = mirror.set_charging_profile(_request(7, 6, purpose="TxProfile", tx="t1"), "Accepted")
    assert not update.agrees
    assert update.predicted == "Rejected" and update.answered == "Accepted"
    assert "rules reject" in update.note
    held = update.mirror.store.get(7)
    assert held is not None and held.bound_transaction_id == "t1"


def test_a_forced_profile_replaces_its_evse_purpose_stack_twin() -> None:
    mirror = _mirror().set_charging_profile(_request(1, 16), "Accepted").mirror
    # 2.x rules reject a second TxDefault at the same EVSE and stack level (K01.FR.39)
    update = mirror.set_charging_profile(_request(2, 8), "Accepted")
    assert not update.agrees
    assert [e.id for e in update.mirror.store] == [2]


def test_the_station_rejecting_what_the_rules_accept_leaves_the_mirror() -> None:
    mirror = _mirror()
    update = mirror.set_charging_profile(_request(1, 16), "Rejected")
    assert not update.agrees and "keeps what it held" in update.note
    assert len(update.mirror.store) == 0


def test_16_not_supported_is_a_rejection() -> None:
    mirror = _mirror("1.6")
    payload = {
        "connectorId": 1,
        "csChargingProfiles": {
            "chargingProfileId": 1,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Relative",
            "chargingSchedule": {
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10}],
            },
        },
    }
    update = mirror.set_charging_profile(payload, "NotSupported")
    assert update.answered == "Rejected" and not update.agrees
    with pytest.raises(PayloadError) as info:
        _mirror().set_charging_profile(_request(1, 1), "NotSupported")  # not a 2.x status
    assert info.value.field == "status"


def test_clear_unknown_keeps_and_accepted_removes() -> None:
    mirror = _mirror().set_charging_profile(_request(1, 16), "Accepted").mirror
    unknown = mirror.clear_charging_profile({"chargingProfileId": 1}, "Unknown")
    assert not unknown.agrees and len(unknown.mirror.store) == 1
    accepted = mirror.clear_charging_profile({"chargingProfileId": 1}, {"status": "Accepted"})
    assert accepted.agrees and len(accepted.mirror.store) == 0
    surprise = mirror.clear_charging_profile({"chargingProfileId": 9}, "Accepted")
    assert not surprise.agrees and "does not hold" in surprise.note
    assert len(surprise.mirror.store) == 1


def test_a_transaction_ends_with_its_tx_profiles() -> None:
    mirror = _mirror().transaction_started(Transaction("t1", 1, T0))
    update = mirror.set_charging_profile(_request(5, 6, purpose="TxProfile", tx="t1"), "Accepted")
    assert update.agrees
    ended = update.mirror.transaction_ended("t1")
    assert ended.transactions == () and len(ended.store) == 0
    with pytest.raises(QueryError):
        mirror.transaction_started("t1")  # type: ignore[arg-type]


def test_check_drift_against_the_mirror_and_against_a_store() -> None:
    mirror = _mirror().transaction_started(Transaction("t1", 1, T0))
    for request in (_request(1, 16), _request(5, 6, purpose="TxProfile", tx="t1")):
        mirror = mirror.set_charging_profile(request, "Accepted").mirror
    predicted = composite_schedule(
        mirror.store,
        evse_id=1,
        start=T0,
        duration=3600,
        transaction=mirror.transactions,
        config=mirror.config,
    )
    answer = predicted.to_payload("2.0.1")
    assert check_drift(mirror, answer).agrees
    planted = copy.deepcopy(answer)
    planted["schedule"]["chargingSchedulePeriod"][0]["limit"] = 12
    assert not check_drift(mirror, planted).agrees
    # a bare store: without the transaction, the TxProfile does not count
    bare = check_drift(mirror.store, answer, config=mirror.config)
    assert not bare.agrees
    assert check_drift(
        mirror.store, answer, config=mirror.config, transactions=mirror.transactions
    ).agrees


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(["1.6", "2.0.1", "2.1"]).flatmap(
        lambda v: st.tuples(st.just(v), st.lists(set_charging_profile(v), max_size=5))
    )
)
def test_property_agreeing_answers_equal_the_rules_replay_and_persist(
    case: tuple[str, list[dict[str, Any]]],
) -> None:
    version, payloads = case
    state = StationState(StationConfig(), version)
    mirror, store = StationMirror(state), ProfileStore()
    for payload in payloads:
        request = read_set_charging_profile(payload, version)
        store, result = install(store, request, state)
        update = mirror.set_charging_profile(request, result.status)
        assert update.agrees
        mirror = update.mirror
    assert mirror.store.entries == store.entries
    assert StationMirror.from_json(mirror.to_json()) == mirror


def test_the_mirror_persists_with_its_transactions() -> None:
    mirror = _mirror("2.1").transaction_started(
        Transaction("t1", 2, T0, priority_charging=True, state_of_charge=40.5)
    )
    mirror = mirror.set_charging_profile(_request(1, 16), "Accepted").mirror
    back = StationMirror.from_json(mirror.to_json())
    assert back == mirror
    assert back.transactions[0].priority_charging and back.transactions[0].state_of_charge == 40.5


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.pop("config"), "config"),
        (lambda d: d.update(extra=1), "extra"),
        (lambda d: d.update(formatVersion=2), "formatVersion"),
        (lambda d: d.update(transactions={}), "transactions"),
        (lambda d: d.update(transactions=[{"id": "t"}]), "transactions[0]"),
    ],
)
def test_a_bad_mirror_file_names_the_field(change: Any, field: str) -> None:
    import json

    doc = json.loads(_mirror().to_json())
    change(doc)
    with pytest.raises(PayloadError) as info:
        StationMirror.from_json(json.dumps(doc))
    assert info.value.field == field

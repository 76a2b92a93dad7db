"""The installed-profile store (store.py): immutability, GetChargingProfiles queries (K09),
transactions ending, and the station state."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from ocpp_schedule import (
    ChargingLimitSource,
    ChargingProfileCriteria,
    ChargingProfilePurpose,
    InstalledProfile,
    OcppVersion,
    ProfileStore,
    QueryError,
    StationConfig,
    StationState,
    TimestampError,
    Transaction,
    install,
    read_set_charging_profile,
)

P = ChargingProfilePurpose
S = ChargingLimitSource
START = datetime(2024, 6, 1, tzinfo=UTC)


# --------------------------------------------------------------------------- helpers


def v2(evse: int, pid: int, purpose: str = "TxDefaultProfile", level: int = 0, **fields: Any):
    """A 2.x SetChargingProfileRequest payload."""
    return {
        "evseId": evse,
        "chargingProfile": {
            "id": pid,
            "stackLevel": level,
            "chargingProfilePurpose": purpose,
            "chargingProfileKind": "Relative",
            "chargingSchedule": [
                {
                    "id": 1,
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10.0}],
                }
            ],
            **fields,
        },
    }


def v16(connector: int, pid: int, purpose: str = "TxDefaultProfile", level: int = 0, **fields):
    """A 1.6 SetChargingProfile.req payload."""
    return {
        "connectorId": connector,
        "csChargingProfiles": {
            "chargingProfileId": pid,
            "stackLevel": level,
            "chargingProfilePurpose": purpose,
            "chargingProfileKind": "Relative",
            "chargingSchedule": {
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10.0}],
            },
            **fields,
        },
    }


def entry(payload: dict[str, Any], version: str = "2.0.1", **kw: Any) -> InstalledProfile:
    """An InstalledProfile straight from a payload (no rules applied)."""
    request = read_set_charging_profile(payload, version)
    return InstalledProfile(request.evse_id, request.charging_profile, **kw)


def tx(tid: str, evse: int) -> Transaction:
    return Transaction(tid, evse, START)


def ids(entries: Any) -> list[int]:
    return [e.id for e in entries]


@pytest.fixture
def store() -> ProfileStore:
    """Profiles on a two-EVSE station, from the CSMS and from the EMS."""
    return ProfileStore(
        [
            entry(v2(0, 1, "ChargingStationMaxProfile")),
            entry(v2(0, 2, level=1)),
            entry(v2(1, 3)),
            entry(v2(2, 4, level=2)),
            entry(v2(1, 5, "TxProfile", transactionId="tx-1"), transaction_id="tx-1"),
            entry(v2(2, 6, "TxProfile", transactionId="tx-2"), transaction_id="tx-2"),
            entry(v2(0, -1, "ChargingStationExternalConstraints"), source=S.EMS),
            entry(v2(1, -2, "ChargingStationExternalConstraints"), source=S.SO),
        ]
    )


# --------------------------------------------------------------------------- immutability


def test_operations_return_new_stores(store: ProfileStore) -> None:
    before = list(store.entries)
    added = store.with_entry(entry(v2(2, 7)))
    removed = store.without([1, 3])
    ended = store.end_transaction("tx-1")

    assert ids(added) == [*ids(before), 7]
    assert ids(removed) == [2, 4, 5, 6, -1, -2]
    assert ids(ended) == [1, 2, 3, 4, 6, -1, -2]
    assert list(store.entries) == before
    assert all(s is not store for s in (added, removed, ended))


def test_entries_are_a_tuple_and_frozen(store: ProfileStore) -> None:
    assert isinstance(store.entries, tuple)
    first = store.entries[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.evse_id = 3  # type: ignore[misc]
    with pytest.raises(ValidationError):
        first.profile.stack_level = 9  # type: ignore[misc]
    with pytest.raises(AttributeError):
        store.extra = 1  # type: ignore[attr-defined]


def test_install_does_not_modify_its_input(store: ProfileStore) -> None:
    before = list(store.entries)
    request = read_set_charging_profile(v2(2, 9, level=5), "2.0.1")
    after, result = install(store, request, StationState(version="2.0.1"))
    assert result.accepted is True
    assert list(store.entries) == before
    assert ids(after) == [*ids(before), 9]


def test_with_entry_replaces_same_id_and_moves_it_last(store: ProfileStore) -> None:
    replacement = entry(v2(2, 3, level=4))
    after = store.with_entry(replacement)
    assert len(after) == len(store)
    assert ids(after)[-1] == 3
    assert after.get(3) is replacement


def test_constructor_keeps_one_entry_per_id_the_last() -> None:
    first, second = entry(v2(1, 1)), entry(v2(2, 1, level=3))
    store = ProfileStore([first, entry(v2(1, 2)), second])
    assert ids(store) == [1, 2]
    assert store.get(1) is second


def test_without_unknown_ids_is_equal(store: ProfileStore) -> None:
    assert store.without([99]) == store
    assert store.without([]) == store


def test_container_protocol(store: ProfileStore) -> None:
    assert len(store) == 8
    assert 3 in store
    assert 99 not in store
    assert "3" not in store
    assert store.get(99) is None
    found = store.get(-1)
    assert found is not None
    assert found.purpose is P.CHARGING_STATION_EXTERNAL_CONSTRAINTS
    assert ids(iter(store)) == ids(store.entries)
    assert len(ProfileStore()) == 0
    assert repr(ProfileStore([entry(v2(2, 4))])) == "ProfileStore([4@2])"


def test_equality_ignores_order_and_hash_agrees(store: ProfileStore) -> None:
    reordered = ProfileStore(reversed(store.entries))
    assert reordered == store
    assert hash(reordered) == hash(store)
    assert store != store.without([1])
    different_evse = store.with_entry(entry(v2(2, 3)))
    assert different_evse != store
    assert store.__eq__(object()) is NotImplemented


def test_by_evse_groups_in_evse_order(store: ProfileStore) -> None:
    groups = store.by_evse()
    assert list(groups) == [0, 1, 2]
    assert {k: ids(v) for k, v in groups.items()} == {
        0: [1, 2, -1],
        1: [3, 5, -2],
        2: [4, 6],
    }


def test_installed_profile_properties() -> None:
    e = entry(v2(1, 8, "TxProfile", level=2, transactionId="tx-9"))
    assert (e.id, e.purpose, e.stack_level, e.source) == (8, P.TX_PROFILE, 2, S.CSO)
    assert e.transaction_id is None
    assert e.bound_transaction_id == "tx-9"


# --------------------------------------------------------------------------- query (K09)


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        pytest.param(ChargingProfileCriteria(), [1, 2, 3, 4, 5, 6, -1, -2], id="K09.FR.06-all"),
        pytest.param(ChargingProfileCriteria(evse_id=0), [1, 2, -1], id="K09.FR.05-evse-0"),
        pytest.param(ChargingProfileCriteria(evse_id=1), [3, 5, -2], id="K09.FR.04-evse-1"),
        pytest.param(ChargingProfileCriteria(evse_id=3), [], id="K09.FR.04-evse-3-none"),
        pytest.param(
            ChargingProfileCriteria(charging_profile_id=(3, 6, 99)), [3, 6], id="id-list-any"
        ),
        pytest.param(ChargingProfileCriteria(charging_profile_id=()), [], id="empty-id-list"),
        pytest.param(ChargingProfileCriteria(stack_level=0), [1, 3, 5, 6, -1, -2], id="level"),
        pytest.param(
            ChargingProfileCriteria(charging_profile_purpose=P.TX_DEFAULT_PROFILE),
            [2, 3, 4],
            id="purpose",
        ),
        pytest.param(
            ChargingProfileCriteria(charging_limit_source=(S.CSO,)),
            [1, 2, 3, 4, 5, 6],
            id="source-cso",
        ),
        pytest.param(
            ChargingProfileCriteria(charging_limit_source=(S.EMS, S.SO)), [-1, -2], id="sources"
        ),
        pytest.param(
            ChargingProfileCriteria(evse_id=1, charging_profile_purpose=P.TX_PROFILE),
            [5],
            id="K09.FR.04-and",
        ),
        pytest.param(
            ChargingProfileCriteria(evse_id=0, stack_level=0, charging_limit_source=(S.EMS,)),
            [-1],
            id="K09.FR.05-and",
        ),
        pytest.param(
            ChargingProfileCriteria(charging_profile_id=(1, 2), stack_level=1), [2], id="ids-and"
        ),
    ],
)
def test_query(store: ProfileStore, criteria: ChargingProfileCriteria, expected: list[int]):
    result = store.query(criteria)
    assert isinstance(result, tuple)
    assert ids(result) == expected
    assert all(criteria.matches(e) for e in result)


def test_k09_fr_04_evse_query_does_not_include_station_profiles(store: ProfileStore) -> None:
    """A station-wide TxDefault (EVSE 0) applies to EVSE 1 but is not installed on it."""
    assert 2 not in ids(store.query(ChargingProfileCriteria(evse_id=1)))


# --------------------------------------------------------------------------- transactions


def test_end_transaction_removes_exactly_its_tx_profiles(store: ProfileStore) -> None:
    after = store.end_transaction("tx-2")
    assert ids(after) == [1, 2, 3, 4, 5, -1, -2]
    assert after.end_transaction("tx-2") == after


def test_end_unknown_transaction_changes_nothing(store: ProfileStore) -> None:
    assert store.end_transaction("tx-9") == store


def test_end_transaction_keeps_tx_default_profiles_of_that_evse(store: ProfileStore) -> None:
    after = store.end_transaction("tx-1")
    assert 3 in after
    assert 2 in after


def test_end_transaction_uses_the_profile_transaction_id_when_not_bound() -> None:
    store = ProfileStore([entry(v2(1, 1, "TxProfile", transactionId="tx-1")), entry(v2(1, 2))])
    assert ids(store.end_transaction("tx-1")) == [2]


def test_v16_tx_profile_without_transaction_id_ends_with_active_transaction() -> None:
    """1.6 §7.8 (decision G2): a TxProfile without transactionId is bound on install."""
    state = StationState(StationConfig(), OcppVersion.V16, (tx("17", 1), tx("18", 2)))
    store = ProfileStore()
    for payload in (
        v16(1, 1, "TxProfile"),
        v16(2, 2, "TxProfile", transactionId=18),
        v16(1, 3),
    ):
        store, result = install(store, read_set_charging_profile(payload, "1.6"), state)
        assert result.accepted, str(result)

    assert ids(store.end_transaction(17)) == [2, 3]
    assert ids(store.end_transaction("17")) == [2, 3]
    assert ids(store.end_transaction(18)) == [1, 3]


# --------------------------------------------------------------------------- station state


def test_state_defaults() -> None:
    state = StationState(version="2.0.1")
    assert state.config == StationConfig()
    assert state.version is OcppVersion.V201
    assert state.transactions == ()
    assert state.transaction_on(1) is None


def test_with_transaction_adds_and_replaces_on_same_evse() -> None:
    base = StationState(version=OcppVersion.V16)
    one = base.with_transaction(tx("a", 1))
    two = one.with_transaction(tx("b", 2))
    replaced = two.with_transaction(tx("c", 1))

    assert base.transactions == ()
    assert [t.id for t in one.transactions] == ["a"]
    assert [t.id for t in two.transactions] == ["a", "b"]
    assert [t.id for t in replaced.transactions] == ["b", "c"]
    assert replaced.transaction_on(1) == tx("c", 1)
    assert replaced.version is OcppVersion.V16
    assert replaced.config is base.config


def test_without_transaction() -> None:
    state = StationState(version="2.0.1", transactions=(tx("a", 1), tx("b", 2)))
    after = state.without_transaction("a")
    assert [t.id for t in after.transactions] == ["b"]
    assert after.transaction_on(1) is None
    assert [t.id for t in state.transactions] == ["a", "b"]
    assert state.without_transaction("zzz") == state


def test_transaction_id_is_text() -> None:
    t = Transaction(42, 1, START)  # type: ignore[arg-type]
    assert t.id == "42"
    assert t.priority_charging is False
    assert t.state_of_charge is None


@pytest.mark.parametrize("evse", [0, -1])
def test_transaction_on_station_is_an_error(evse: int) -> None:
    with pytest.raises(QueryError) as err:
        Transaction("a", evse, START)
    assert err.value.rule == "K01.FR.16"
    assert err.value.field == "transaction.evse_id"


def test_transaction_start_must_be_aware() -> None:
    with pytest.raises(TimestampError):
        Transaction("a", 1, datetime(2024, 6, 1))

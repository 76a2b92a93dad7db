"""OCPP 2.1 priority charging: UsePriorityCharging (K21) and NotifyPriorityCharging (K22).

Issue 14 item 6; docs/semantics.md PRIO-1..PRIO-4. Exact JSON on payloads generated from the
official 2.1 schemas, example tests per requirement, and hypothesis properties: the answer is
decided by the transaction and the installed PriorityCharging profiles alone, and an accepted
activation makes the composite follow the PriorityCharging profile under the station maximum.
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
from test_exact_json import as_wire, exactly_equal, official_schema, payloads, random_json

from ocpp_schedule import (
    NotifyPriorityChargingRequest,
    PayloadError,
    ProfileStore,
    QueryError,
    StationConfig,
    StationState,
    UnknownTransactionError,
    UsePriorityChargingRequest,
    VersionError,
    apply_notify_priority_charging,
    composite_schedule,
    has_priority_profile,
    read_notify_priority_charging,
    read_use_priority_charging,
    request_priority_charging_locally,
    use_priority_charging,
    write_notify_priority_charging,
    write_use_priority_charging,
)

ROUNDTRIPS = {
    "UsePriorityChargingRequest": lambda p: write_use_priority_charging(
        read_use_priority_charging(p)
    ),
    "NotifyPriorityChargingRequest": lambda p: write_notify_priority_charging(
        read_notify_priority_charging(p)
    ),
}


def _check_exact(payload: Any, name: str) -> None:
    payload = as_wire(payload)
    assert not schema_errors(payload, "2.1", name), "the generator left its schema"
    written = as_wire(ROUNDTRIPS[name](payload))
    assert exactly_equal(written, payload), (payload, written)


@pytest.mark.parametrize("name", list(ROUNDTRIPS))
def test_seeded_schema_valid_payloads_read_and_write_back_exactly(name: str) -> None:
    root = official_schema("2.1", name)
    rng = random.Random(zlib.crc32(f"{name} 2.1".encode()))
    for index in range(2000):
        payload = random_json(rng, root, root, top=True)
        try:
            _check_exact(payload, name)
        except (AssertionError, PayloadError) as exc:
            raise AssertionError(f"example {index}: {payload!r}") from exc


@pytest.mark.parametrize("name", list(ROUNDTRIPS))
def test_schema_valid_payloads_read_and_write_back_exactly(name: str) -> None:
    @settings(max_examples=200, deadline=None, database=None)
    @given(payloads("2.1", name))
    def check(payload: Any) -> None:
        _check_exact(payload, name)

    check()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"transactionId": "T1"}, "activate"),
        ({"activate": True}, "transactionId"),
        ({"transactionId": "x" * 37, "activate": True}, "transactionId"),
        ({"transactionId": 7, "activate": True}, "transactionId"),
        ({"transactionId": "T1", "activate": 1}, "activate"),
        ({"transactionId": "T1", "activate": None}, "activate"),
        ({"transactionId": "T1", "activate": True, "extra": 1}, "extra"),
        ({"transactionId": "T1", "activate": True, "customData": {}}, "customData.vendorId"),
    ],
)
def test_the_reader_refuses_what_the_schema_refuses(payload: Any, field: str) -> None:
    with pytest.raises(PayloadError) as info:
        read_use_priority_charging(payload)
    assert info.value.field == field
    renamed = {("activated" if k == "activate" else k): v for k, v in payload.items()}
    with pytest.raises(PayloadError):
        read_notify_priority_charging(renamed)


def test_the_response_payload() -> None:
    assert use_priority_charging(ProfileStore(), STATE, _use("T9")).to_payload() == {
        "status": "Rejected",
        "statusInfo": {
            "reasonCode": "TxNotFound",
            "additionalInfo": "no ongoing transaction 'T9' (K21.FR.02)",
        },
    }


# ------------------------------------------------------------------------ station side

PRIO = "PriorityCharging"
STATE = StationState(
    StationConfig(evse_ids=(1, 2)),
    "2.1",
    (tx("T1", 1), tx("T2", 2)),
)


def _use(tid: str, activate: bool = True) -> UsePriorityChargingRequest:
    return UsePriorityChargingRequest(transaction_id=tid, activate=activate)


def _prio_store(evse: int = 0, limit: float = 32) -> ProfileStore:
    return ProfileStore(
        [
            on(1, profile(1, "TxDefaultProfile", [(0, 6)])),
            on(evse, profile(2, PRIO, [(0, limit)], kind="Relative")),
        ]
    )


def test_k21_fr_02_an_unknown_transaction_is_rejected() -> None:
    result = use_priority_charging(_prio_store(), STATE, _use("nope"))
    assert (result.status, result.reason_code, result.rule) == (
        "Rejected",
        "TxNotFound",
        "K21.FR.02",
    )
    assert result.state is STATE and result.transaction is None and result.notification is None


def test_k21_fr_01_no_priority_profile_answers_no_profile() -> None:
    store = ProfileStore([on(1, profile(1, "TxDefaultProfile", [(0, 6)]))])
    result = use_priority_charging(store, STATE, _use("T1"))
    assert (result.status, result.reason_code, result.rule) == (
        "NoProfile",
        "NotFound",
        "K21.FR.01",
    )
    assert result.state is STATE and result.notification is None
    # a PriorityCharging profile on another EVSE is not the transaction's
    other = use_priority_charging(_prio_store(evse=2), STATE, _use("T1"))
    assert other.status == "NoProfile"


@pytest.mark.parametrize("evse", [0, 1])
def test_k21_fr_03_04_05_accepted_on_evse_0_or_the_transactions_evse(evse: int) -> None:
    result = use_priority_charging(_prio_store(evse=evse), STATE, _use("T1"))
    assert result.status == "Accepted"
    assert result.transaction is not None and result.transaction.priority_charging
    assert result.state.transaction_on(1) == result.transaction
    assert result.notification == NotifyPriorityChargingRequest(transaction_id="T1", activated=True)


def test_k21_fr_04_the_composite_follows_the_priority_profile_under_the_station_maximum() -> None:
    store = ProfileStore(
        [
            *_prio_store(evse=0, limit=32),
            on(0, profile(3, "ChargingStationMaxProfile", [(0, 20)])),
        ]
    )
    t1 = STATE.transaction_on(1)
    before = composite_schedule(store, evse_id=1, start=at(0), duration=60, transaction=t1)
    assert before.periods[0].limit == 6  # TxDefaultProfile
    result = use_priority_charging(store, STATE, _use("T1"))
    after = composite_schedule(
        store, evse_id=1, start=at(0), duration=60, transaction=result.transaction
    )
    assert after.periods[0].limit == 20  # PriorityCharging 32, ChargingStationMaxProfile 20


def test_k21_fr_06_07_08_deactivation_is_accepted_and_told_only_when_it_was_active() -> None:
    store = _prio_store()
    idle = use_priority_charging(store, STATE, _use("T1", activate=False))
    assert idle.status == "Accepted" and idle.notification is None  # FR.06: no effect
    assert idle.transaction is not None and not idle.transaction.priority_charging
    active = use_priority_charging(store, STATE, _use("T1")).state
    stop = use_priority_charging(store, active, _use("T1", activate=False))
    assert stop.status == "Accepted"
    assert stop.transaction is not None and not stop.transaction.priority_charging  # FR.07
    assert stop.notification == NotifyPriorityChargingRequest(transaction_id="T1", activated=False)
    # deactivating needs no profile (FR.06 names none)
    bare = use_priority_charging(ProfileStore(), STATE, _use("T1", activate=False))
    assert bare.status == "Accepted"


def test_prio_2_without_supported_purpose_the_answer_is_no_profile() -> None:
    """A station without PriorityCharging in SupportedAdditionalPurposes holds no such profile
    (K01.FR.120), so K21.FR.01 answers NoProfile."""
    result = use_priority_charging(ProfileStore(), STATE, _use("T1"))
    assert result.status == "NoProfile"


def test_k22_local_request() -> None:
    store = _prio_store(evse=1)
    on_ = request_priority_charging_locally(store, STATE, "T1", True)
    assert on_.status == "Accepted" and on_.rule == "K22.FR.02"
    assert on_.notification == NotifyPriorityChargingRequest(transaction_id="T1", activated=True)
    off = request_priority_charging_locally(store, on_.state, "T1", False)
    assert off.rule == "K22.FR.04"
    assert off.notification == NotifyPriorityChargingRequest(transaction_id="T1", activated=False)
    none = request_priority_charging_locally(ProfileStore(), STATE, "T1", True)
    assert (none.status, none.rule) == ("NoProfile", "K22.FR.01")
    with pytest.raises(UnknownTransactionError):
        request_priority_charging_locally(store, STATE, "T9", True)


def test_priority_charging_is_2_1_only() -> None:
    old = StationState(StationConfig(), "2.0.1", (tx("T1", 1),))
    with pytest.raises(VersionError):
        use_priority_charging(ProfileStore(), old, _use("T1"))
    with pytest.raises(VersionError):
        apply_notify_priority_charging(
            old, NotifyPriorityChargingRequest(transaction_id="T1", activated=True)
        )
    with pytest.raises(QueryError):
        use_priority_charging(ProfileStore(), STATE, {"transactionId": "T1"})  # type: ignore[arg-type]
    with pytest.raises(QueryError):
        has_priority_profile([], 1)  # type: ignore[arg-type]


# ------------------------------------------------------------------------ CSMS side


def test_the_csms_view_follows_notify_priority_charging() -> None:
    view = STATE
    on_ = apply_notify_priority_charging(
        view, read_notify_priority_charging({"transactionId": "T2", "activated": True})
    )
    t2 = on_.transaction_on(2)
    assert t2 is not None and t2.priority_charging
    assert on_.transaction_on(1) == STATE.transaction_on(1)
    off = apply_notify_priority_charging(
        on_, NotifyPriorityChargingRequest(transaction_id="T2", activated=False)
    )
    assert off.transaction_on(2) == STATE.transaction_on(2)
    with pytest.raises(UnknownTransactionError) as info:
        apply_notify_priority_charging(
            view, NotifyPriorityChargingRequest(transaction_id="T9", activated=True)
        )
    assert info.value.field == "transactionId"


def test_station_and_csms_agree() -> None:
    """What the station sends, applied on the CSMS's view, gives the station's own state."""
    result = use_priority_charging(_prio_store(), STATE, _use("T1"))
    assert result.notification is not None
    sent = as_wire(write_notify_priority_charging(result.notification))
    view = apply_notify_priority_charging(STATE, read_notify_priority_charging(sent))
    assert view == result.state


# ------------------------------------------------------------------------ properties


@st.composite
def _stores(draw: Any) -> ProfileStore:
    entries = []
    for pid in range(1, draw(st.integers(0, 4)) + 1):
        purpose = draw(st.sampled_from([PRIO, "TxDefaultProfile", "ChargingStationMaxProfile"]))
        evse = 0 if purpose == "ChargingStationMaxProfile" else draw(st.integers(0, 2))
        entries.append(on(evse, profile(pid, purpose, [(0, draw(st.integers(0, 64)))])))
    return ProfileStore(entries)


@settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    _stores(),
    st.sampled_from(["T1", "T2", "T3"]),
    st.booleans(),
    st.booleans(),
)
def test_the_answer_depends_on_the_transaction_and_its_priority_profiles(
    store: ProfileStore, tid: str, activate: bool, already: bool
) -> None:
    """K21.FR.01-08 as one property: Rejected iff the transaction is unknown; NoProfile iff
    activating without a PriorityCharging profile on EVSE 0 or its EVSE; otherwise Accepted
    with ``priority_charging == activate``, the other transactions untouched and a
    notification iff something is to be told."""
    t1 = tx("T1", 1, priority_charging=already)
    state = StationState(StationConfig(evse_ids=(1, 2)), "2.1", (t1, tx("T2", 2)))
    result = use_priority_charging(store, state, _use(tid, activate))
    known = {t.id: t for t in state.transactions}
    if tid not in known:
        assert result.status == "Rejected" and result.state is state
        return
    tx_ = known[tid]
    has = any(e.purpose.value == PRIO and e.evse_id in (0, tx_.evse_id) for e in store)
    if activate and not has:
        assert result.status == "NoProfile" and result.state is state
        return
    assert result.status == "Accepted"
    assert result.transaction is not None
    assert result.transaction.priority_charging is activate
    others = [t for t in result.state.transactions if t.id != tid]
    assert others == [t for t in state.transactions if t.id != tid]
    told = activate or tx_.priority_charging
    assert (result.notification is not None) is told
    if result.notification is not None:
        assert result.notification.activated is activate


def test_wrong_python_types_raise_a_typed_error_naming_the_argument() -> None:
    for call, field in [
        (lambda: use_priority_charging([], STATE, _use("T1")), "store"),  # type: ignore[arg-type]
        (
            lambda: request_priority_charging_locally(ProfileStore(), STATE, 1, True),
            "transaction_id",
        ),  # type: ignore[arg-type]
        (lambda: request_priority_charging_locally(ProfileStore(), STATE, "T1", 1), "activate"),  # type: ignore[arg-type]
        (lambda: apply_notify_priority_charging(None, None), "state"),  # type: ignore[arg-type]
    ]:
        with pytest.raises(QueryError) as info:
            call()
        assert info.value.field == field

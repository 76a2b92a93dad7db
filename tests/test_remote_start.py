"""RequestStartTransaction (2.x) / RemoteStartTransaction (1.6) with a charging profile.

Issue 14 item 6, first bullet: F01.FR.07-12/26, K05, OCPP 1.6 §5.11 and its errata.
docs/semantics.md, section "RequestStartTransaction / RemoteStartTransaction with a charging
profile" (RS1..RS7).
"""

from __future__ import annotations

from typing import Any

import pytest
from helpers import at, iso, profile, tx
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import (
    CUSTOM_DATA,
    Draw,
    Json,
    _profile,
    _with_custom_data,
    assert_schema_valid,
)

from ocpp_schedule import (
    ChargingProfile,
    PayloadError,
    ProfileStore,
    QueryError,
    RejectionReason,
    RemoteStartError,
    RemoteStartReason,
    RemoteStartTransactionRequest,
    RequestStartTransactionRequest,
    SetChargingProfileRequest,
    StationConfig,
    StationState,
    VersionError,
    build_remote_start,
    check_remote_start,
    install,
    install_remote_start,
    read_remote_start_transaction,
    read_request_start_transaction,
    write_charging_profile,
    write_remote_start_transaction,
    write_request_start_transaction,
)
from ocpp_schedule.station._remote_start import ID_TOKEN_TYPES_V201

TXP = "TxProfile"
V2 = ("2.0.1", "2.1")
VERSIONS = ("1.6", "2.0.1", "2.1")


def tx_profile(pid: int = 5, *, stack: int = 0, **kw: Any) -> ChargingProfile:
    """A Relative TxProfile of 16 A without a transactionId: what a start request carries."""
    return profile(pid, TXP, [(0, 16)], stack=stack, kind=kw.pop("kind", "Relative"), **kw)


def request(
    version: str, prof: ChargingProfile | None, evse: int | None = 1
) -> RemoteStartTransactionRequest | RequestStartTransactionRequest:
    """A start request of ``version`` carrying ``prof`` on ``evse``."""
    if version == "1.6":
        return RemoteStartTransactionRequest("TAG", evse, prof)
    return RequestStartTransactionRequest({"idToken": "T", "type": "Central"}, 1, evse, prof)


def state(version: str, **config: Any) -> StationState:
    return StationState(StationConfig(**config), version)


# ------------------------------------------------------------------ station: the rules


@pytest.mark.parametrize("version", VERSIONS)
def test_f01_fr_09_a_profile_that_is_not_a_tx_profile_is_rejected(version: str) -> None:
    prof = profile(5, "TxDefaultProfile", [(0, 16)], kind="Relative")
    result = check_remote_start(ProfileStore(), request(version, prof), state(version))
    assert not result.accepted
    assert result.reason is RemoteStartReason.NOT_TX_PROFILE
    assert result.rule == ("OCPP 1.6 §5.11" if version == "1.6" else "F01.FR.09")
    payload = result.to_payload(version)
    assert payload["status"] == "Rejected"
    if version == "1.6":
        assert payload == {"status": "Rejected"}
        assert_schema_valid(payload, "1.6", "RemoteStartTransactionResponse")
    else:  # F01.FR.26: reasonCode InvalidProfile
        assert payload["statusInfo"]["reasonCode"] == "InvalidProfile"
        assert_schema_valid(payload, version, "RequestStartTransactionResponse")


@pytest.mark.parametrize("version", VERSIONS)
def test_f01_fr_11_a_profile_with_a_transaction_id_is_rejected(version: str) -> None:
    prof = tx_profile(transaction_id="77")
    req = request(version, prof)
    result = check_remote_start(ProfileStore(), req, state(version))
    assert result.reason is RemoteStartReason.TRANSACTION_ID_SET
    assert result.rule == ("OCPP 1.6 §5.11 (errata)" if version == "1.6" else "F01.FR.11")
    store, installed = install_remote_start(ProfileStore(), req, state(version), tx("9", 1))
    assert not installed.accepted and len(store) == 0


@pytest.mark.parametrize("version", VERSIONS)
def test_f01_fr_12_without_smart_charging_the_profile_is_ignored(version: str) -> None:
    bad = profile(
        5, "ChargingStationMaxProfile" if version != "1.6" else "TxDefaultProfile", [(0, 1)]
    )
    req = request(version, bad)
    result = check_remote_start(ProfileStore(), req, state(version), smart_charging=False)
    assert result.accepted and result.profile_ignored
    assert result.to_payload(version) == {"status": "Accepted"}
    store, installed = install_remote_start(
        ProfileStore(), req, state(version), tx("9", 1), smart_charging=False
    )
    assert installed.accepted and installed.profile_ignored and len(store) == 0


@pytest.mark.parametrize("version", VERSIONS)
def test_f01_fr_10_the_profile_is_installed_on_the_started_transaction(version: str) -> None:
    req = request(version, tx_profile())
    st_ = state(version)
    assert check_remote_start(ProfileStore(), req, st_).accepted
    started = tx("42", 1, start=600)
    store, result = install_remote_start(ProfileStore(), req, st_, started)
    assert result.accepted and not result.profile_ignored
    (entry,) = store.entries
    assert entry.evse_id == 1 and entry.transaction_id == "42"
    assert entry.profile == req.charging_profile.model_copy(update={"transaction_id": "42"})
    # The installed profile is a SetChargingProfile TxProfile of that transaction (K01.FR.03).
    again = SetChargingProfileRequest(evse_id=1, charging_profile=entry.profile)
    assert install(ProfileStore(), again, st_.with_transaction(started))[1].accepted


def test_f01_fr_10_a_1_6_installed_profile_writes_its_integer_transaction_id() -> None:
    store, _ = install_remote_start(
        ProfileStore(), request("1.6", tx_profile()), state("1.6"), tx("42", 1)
    )
    assert write_charging_profile(store.entries[0].profile, "1.6")["transactionId"] == 42


def test_1_6_a_transaction_id_that_is_no_integer_is_a_query_error() -> None:
    with pytest.raises(QueryError) as err:
        install_remote_start(ProfileStore(), request("1.6", tx_profile()), state("1.6"), tx("T1"))
    assert err.value.field == "transaction.id"


@pytest.mark.parametrize("version", VERSIONS)
def test_f01_fr_26_an_invalid_profile_is_rejected_with_the_k01_reason(version: str) -> None:
    # The first period does not start at 0 (K01.FR.31; 1.6 §7.8 equivalent).
    prof = profile(5, TXP, [(60, 16)], kind="Relative")
    result = check_remote_start(ProfileStore(), request(version, prof), state(version))
    assert not result.accepted
    assert result.reason is RejectionReason.FIRST_PERIOD_NOT_ZERO
    if version != "1.6":
        assert result.to_payload(version)["statusInfo"]["reasonCode"] == "InvalidSchedule"
        assert_schema_valid(result.to_payload(version), version, "RequestStartTransactionResponse")


@pytest.mark.parametrize("version", VERSIONS)
def test_k01_stack_level_rule_applies_to_the_start_request(version: str) -> None:
    req = request(version, tx_profile(stack=4))
    result = check_remote_start(
        ProfileStore(), req, state(version, charge_profile_max_stack_level=3)
    )
    assert result.reason is RejectionReason.STACK_LEVEL_OUT_OF_RANGE


@pytest.mark.parametrize("version", VERSIONS)
def test_k01_fr_16_a_tx_profile_on_evse_0_is_rejected(version: str) -> None:
    result = check_remote_start(ProfileStore(), request(version, tx_profile(), 0), state(version))
    assert result.reason is RejectionReason.TX_PROFILE_ON_STATION


@pytest.mark.parametrize("version", VERSIONS)
def test_k01_fr_28_an_unknown_evse_is_rejected(version: str) -> None:
    req = request(version, tx_profile(), 3)
    result = check_remote_start(ProfileStore(), req, state(version, evse_ids=(1, 2)))
    assert result.reason is RejectionReason.UNKNOWN_EVSE
    negative = check_remote_start(
        ProfileStore(), request(version, tx_profile(), -1), state(version)
    )
    assert negative.reason is RejectionReason.UNKNOWN_EVSE


@pytest.mark.parametrize("version", VERSIONS)
def test_f01_fr_07_without_an_evse_the_profile_cannot_be_judged(version: str) -> None:
    req = request(version, tx_profile(), None)
    result = check_remote_start(ProfileStore(), req, state(version))
    assert result.reason is RemoteStartReason.NO_EVSE
    if version != "1.6":
        assert result.to_payload(version)["statusInfo"]["reasonCode"] == "MissingParam"
    chosen = check_remote_start(ProfileStore(), req, state(version), evse_id=2)
    assert chosen.accepted
    store, installed = install_remote_start(ProfileStore(), req, state(version), tx("7", 2))
    assert installed.accepted and store.entries[0].evse_id == 2


def test_evse_id_that_contradicts_the_request_is_a_query_error() -> None:
    req = request("2.0.1", tx_profile(), 1)
    with pytest.raises(QueryError) as err:
        check_remote_start(ProfileStore(), req, state("2.0.1"), evse_id=2)
    assert err.value.field == "evse_id"
    with pytest.raises(QueryError) as err:
        install_remote_start(ProfileStore(), req, state("2.0.1"), tx("7", 2))
    assert err.value.field == "transaction.evse_id"


def test_k01_fr_39_an_already_started_transaction_is_the_one_the_profile_binds_to() -> None:
    """RS4: a transaction already running on the EVSE (cable first) gets the profile."""
    running = tx("T1", 1)
    st_ = state("2.0.1").with_transaction(running)
    existing = SetChargingProfileRequest(
        evse_id=1, charging_profile=tx_profile(9, transaction_id="T1")
    )
    store, accepted = install(ProfileStore(), existing, st_)
    assert accepted.accepted
    result = check_remote_start(store, request("2.0.1", tx_profile()), st_)
    assert result.reason is RejectionReason.DUPLICATE_TX_PROFILE
    other_level = check_remote_start(store, request("2.0.1", tx_profile(stack=1)), st_)
    assert other_level.accepted


def test_rs5_the_rules_are_judged_again_at_the_start() -> None:
    """RS5: the store may change between the request and the start; install judges anew."""
    st_ = state("2.0.1", max_charging_profiles_installed=1)
    req = request("2.0.1", tx_profile())
    assert check_remote_start(ProfileStore(), req, st_).accepted
    other = SetChargingProfileRequest(
        evse_id=0, charging_profile=profile(1, "TxDefaultProfile", [(0, 32)], kind="Relative")
    )
    full, _ = install(ProfileStore(), other, st_)
    store, result = install_remote_start(full, req, st_, tx("T9", 1))
    assert result.reason is RejectionReason.STORE_FULL and store == full


def test_no_profile_is_accepted_and_installs_nothing() -> None:
    req = request("2.1", None)
    assert check_remote_start(ProfileStore(), req, state("2.1")).profile_ignored
    store, result = install_remote_start(ProfileStore(), req, state("2.1"), tx("x", 1))
    assert result.accepted and len(store) == 0


def test_a_request_of_another_version_than_the_station_is_a_version_error() -> None:
    with pytest.raises(VersionError):
        check_remote_start(ProfileStore(), request("1.6", tx_profile()), state("2.0.1"))
    with pytest.raises(VersionError):
        check_remote_start(ProfileStore(), request("2.0.1", tx_profile()), state("1.6"))


def test_k28_a_dynamic_tx_profile_is_stamped_at_the_start() -> None:
    prof = profile(5, TXP, [(0, 16)], kind="Dynamic", start=0)
    st_ = state("2.1", supports_dynamic_profiles=True)
    store, result = install_remote_start(
        ProfileStore(), request("2.1", prof), st_, tx("T", 1, start=300)
    )
    assert result.accepted
    assert store.entries[0].profile.dyn_update_time == at(300)


# ------------------------------------------------------------------ readers and writers

V16_PAYLOAD = {
    "connectorId": 2,
    "idTag": "ABCDEFGHIJ0123456789",
    "chargingProfile": {
        "chargingProfileId": 3,
        "stackLevel": 1,
        "chargingProfilePurpose": TXP,
        "chargingProfileKind": "Relative",
        "chargingSchedule": {
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": 11000, "numberPhases": 3},
                {"startPeriod": 600, "limit": 7400.5},
            ],
            "minChargingRate": 1380,
        },
    },
}

V2_PAYLOAD = {
    "customData": {"vendorId": "acme", "x": [1, {"y": 2.0}]},
    "evseId": 1,
    "remoteStartId": 12,
    "idToken": {
        "idToken": "04A1B2C3",
        "type": "ISO14443",
        "additionalInfo": [
            {"additionalIdToken": "n", "type": "t", "customData": {"vendorId": "v"}}
        ],
    },
    "groupIdToken": {"idToken": "G", "type": "Central"},
    "chargingProfile": {
        "id": 3,
        "stackLevel": 0,
        "chargingProfilePurpose": TXP,
        "chargingProfileKind": "Absolute",
        "chargingSchedule": [
            {
                "id": 1,
                "startSchedule": iso(0),
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}],
            }
        ],
    },
}


def test_1_6_round_trip_is_exact_json() -> None:
    assert_schema_valid(V16_PAYLOAD, "1.6", "RemoteStartTransaction")
    req = read_remote_start_transaction(V16_PAYLOAD)
    assert req.id_tag == "ABCDEFGHIJ0123456789" and req.evse_id == 2
    written = write_remote_start_transaction(req)
    assert written == V16_PAYLOAD
    period = written["chargingProfile"]["chargingSchedule"]["chargingSchedulePeriod"][0]
    assert type(period["limit"]) is int


@pytest.mark.parametrize("version", V2)
def test_2x_round_trip_is_exact_json(version: str) -> None:
    assert_schema_valid(V2_PAYLOAD, version, "RequestStartTransactionRequest")
    req = read_request_start_transaction(V2_PAYLOAD, version)
    assert req.remote_start_id == 12 and req.id_token["idToken"] == "04A1B2C3"
    written = write_request_start_transaction(req, version)
    assert written == V2_PAYLOAD
    assert (
        type(
            written["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"][0]["limit"]
        )
        is int
    )
    assert type(written["customData"]["x"][1]["y"]) is float


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"idTag": "a", "extra": 1}, "extra"),
        ({"connectorId": 1}, "idTag"),
        ({"idTag": "a" * 21}, "idTag"),
        ({"idTag": 5}, "idTag"),
        ({"idTag": "a", "connectorId": None}, "connectorId"),
        ({"idTag": "a", "connectorId": True}, "connectorId"),
        ({"idTag": "a", "connectorId": 1.0}, "connectorId"),
        (
            {"idTag": "a", "chargingProfile": {**V16_PAYLOAD["chargingProfile"], "id": 1}},
            "chargingProfile.id",
        ),
    ],
)
def test_1_6_reader_refuses_with_the_field(payload: dict[str, Any], field: str) -> None:
    with pytest.raises(PayloadError) as err:
        read_remote_start_transaction(payload)
    assert err.value.field == field


def test_1_6_reader_refuses_a_limit_that_is_no_multiple_of_a_tenth() -> None:
    bad = {
        "idTag": "a",
        "chargingProfile": {
            **V16_PAYLOAD["chargingProfile"],
            "chargingSchedule": {
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 0.25}],
            },
        },
    }
    with pytest.raises(PayloadError) as err:
        read_remote_start_transaction(bad)
    assert err.value.field == "chargingProfile.chargingSchedule.chargingSchedulePeriod[0].limit"


def _v2(**changes: Any) -> dict[str, Any]:
    out = {"remoteStartId": 1, "idToken": {"idToken": "a", "type": "Central"}}
    out.update(changes)
    return {k: v for k, v in out.items() if v is not ...}


@pytest.mark.parametrize(
    ("version", "payload", "field"),
    [
        ("2.0.1", _v2(extra=1), "extra"),
        ("2.0.1", _v2(remoteStartId=...), "remoteStartId"),
        ("2.0.1", _v2(idToken=...), "idToken"),
        ("2.0.1", _v2(remoteStartId="1"), "remoteStartId"),
        ("2.0.1", _v2(evseId=None), "evseId"),
        ("2.0.1", _v2(idToken={"idToken": "a" * 37, "type": "Central"}), "idToken.idToken"),
        ("2.0.1", _v2(idToken={"idToken": "a", "type": "Other"}), "idToken.type"),
        ("2.0.1", _v2(idToken={"idToken": "a"}), "idToken.type"),
        ("2.0.1", _v2(idToken={"idToken": "a", "type": "Local", "x": 1}), "idToken.x"),
        (
            "2.0.1",
            _v2(idToken={"idToken": "a", "type": "Local", "additionalInfo": []}),
            "idToken.additionalInfo",
        ),
        (
            "2.0.1",
            _v2(
                idToken={
                    "idToken": "a",
                    "type": "Local",
                    "additionalInfo": [{"additionalIdToken": "b"}],
                }
            ),
            "idToken.additionalInfo[0].type",
        ),
        ("2.0.1", _v2(groupIdToken="G"), "groupIdToken"),
        ("2.0.1", _v2(customData={"x": 1}), "customData.vendorId"),
        ("2.1", _v2(idToken={"idToken": "a" * 256, "type": "Central"}), "idToken.idToken"),
        ("2.1", _v2(idToken={"idToken": "a", "type": "t" * 21}), "idToken.type"),
        ("2.1", _v2(evseId=0), "evseId"),
        (
            "2.0.1",
            _v2(chargingProfile={**V2_PAYLOAD["chargingProfile"], "chargingSchedule": {}}),
            "chargingProfile.chargingSchedule",
        ),
        (
            "2.0.1",
            _v2(
                chargingProfile={**V2_PAYLOAD["chargingProfile"], "chargingProfileKind": "Dynamic"}
            ),
            "chargingProfile.chargingProfileKind",
        ),
    ],
)
def test_2x_reader_refuses_with_the_field(
    version: str, payload: dict[str, Any], field: str
) -> None:
    with pytest.raises(PayloadError) as err:
        read_request_start_transaction(payload, version)
    assert err.value.field == field


def test_2_1_token_rules_are_wider_than_2_0_1() -> None:
    """2.1 IdTokenType: idToken up to 255, type any string up to 20 (IdTokenEnumStringType)."""
    payload = _v2(idToken={"idToken": "a" * 255, "type": "VendorType"}, evseId=0)
    payload.pop("evseId")
    req = read_request_start_transaction(payload, "2.1")
    assert write_request_start_transaction(req, "2.1") == payload
    with pytest.raises(VersionError) as err:
        write_request_start_transaction(req, "2.0.1")
    assert err.value.field == "idToken.idToken"
    zero = read_request_start_transaction(_v2(evseId=0), "2.0.1")  # 2.0.1 schema: no minimum
    with pytest.raises(VersionError):
        write_request_start_transaction(zero, "2.1")


def test_2x_reader_is_not_for_1_6() -> None:
    with pytest.raises(VersionError):
        read_request_start_transaction(_v2(), "1.6")


# ------------------------------------------------------------------ CSMS side


@pytest.mark.parametrize("version", VERSIONS)
def test_build_remote_start_writes_a_schema_valid_request(version: str) -> None:
    prof = tx_profile()
    if version == "1.6":
        payload = build_remote_start(prof, version, id_token="TAG", evse_id=1)
        assert_schema_valid(payload, "1.6", "RemoteStartTransaction")
        read_back = read_remote_start_transaction(payload).charging_profile
        assert read_back is not None
        assert write_charging_profile(read_back, "1.6") == write_charging_profile(prof, "1.6")
    else:
        payload = build_remote_start(
            prof,
            version,
            id_token="TAG",
            evse_id=1,
            remote_start_id=5,
            custom_data={"vendorId": "v"},
        )
        assert_schema_valid(payload, version, "RequestStartTransactionRequest")
        assert payload["idToken"] == {"idToken": "TAG", "type": "Central"}
        assert read_request_start_transaction(payload, version).charging_profile == prof


@pytest.mark.parametrize("version", VERSIONS)
def test_build_remote_start_refuses_a_profile_that_is_not_a_tx_profile(version: str) -> None:
    prof = profile(5, "TxDefaultProfile", [(0, 16)], kind="Relative")
    with pytest.raises(RemoteStartError) as err:
        build_remote_start(
            prof, version, id_token="T", remote_start_id=None if version == "1.6" else 1
        )
    assert err.value.field == "chargingProfile.chargingProfilePurpose"
    assert err.value.rule == ("OCPP 1.6 §5.11" if version == "1.6" else "F01.FR.09")


@pytest.mark.parametrize("version", VERSIONS)
def test_build_remote_start_refuses_a_transaction_id(version: str) -> None:
    prof = tx_profile(transaction_id="12")
    with pytest.raises(RemoteStartError) as err:
        build_remote_start(
            prof, version, id_token="T", remote_start_id=None if version == "1.6" else 1
        )
    assert err.value.field == "chargingProfile.transactionId"
    assert err.value.rule == ("OCPP 1.6 §5.11 (errata)" if version == "1.6" else "F01.FR.11")


def test_build_remote_start_refuses_what_the_version_lacks_or_needs() -> None:
    with pytest.raises(RemoteStartError) as err:
        build_remote_start(tx_profile(), "2.0.1", id_token="T")
    assert err.value.field == "remoteStartId"
    with pytest.raises(RemoteStartError) as err:
        build_remote_start(tx_profile(), "1.6", id_token="T", remote_start_id=3)
    assert err.value.field == "remote_start_id"
    with pytest.raises(RemoteStartError) as err:
        build_remote_start(tx_profile(), "2.1", id_token="T", remote_start_id=3, evse_id=0)
    assert err.value.field == "evseId"
    with pytest.raises(PayloadError) as perr:
        build_remote_start(tx_profile(), "1.6", id_token="x" * 21)
    assert perr.value.field == "idTag"
    with pytest.raises(PayloadError) as perr:
        build_remote_start(
            tx_profile(), "2.0.1", id_token="T", id_token_type="Bad", remote_start_id=1
        )
    assert perr.value.field == "idToken.type"


# ------------------------------------------------------------------ properties

_TEXT36 = st.text(max_size=36)
_TEXT50 = st.text(max_size=50)


@st.composite
def id_tokens(draw: Draw, version: str) -> dict[str, Json]:
    """An ``IdTokenType`` object valid against ``version``'s schema."""
    length = 36 if version == "2.0.1" else 255
    token: dict[str, Json] = {
        "idToken": draw(st.text(max_size=length)),
        "type": draw(
            st.sampled_from(sorted(ID_TOKEN_TYPES_V201))
            if version == "2.0.1"
            else st.text(max_size=20)
        ),
    }
    if draw(st.booleans()):
        token["additionalInfo"] = [
            _with_custom_data(
                draw,
                {"additionalIdToken": draw(st.text(max_size=length)), "type": draw(_TEXT50)},
            )
            for _ in range(draw(st.integers(1, 2)))
        ]
    return _with_custom_data(draw, token)


@st.composite
def remote_start_payloads(draw: Draw, version: str) -> dict[str, Json]:
    """A schema-valid start request payload of ``version``."""
    prof = _profile(draw, version, plain=version == "2.1" and draw(st.integers(0, 3)) == 0)
    with_profile = draw(st.booleans())
    if version == "1.6":
        out: dict[str, Json] = {"idTag": draw(st.text(max_size=20))}
        if draw(st.booleans()):
            out["connectorId"] = draw(st.integers(-5, 10))
        if with_profile:
            out["chargingProfile"] = prof
        return out
    out = {
        "remoteStartId": draw(st.integers(-(2**31), 2**31 - 1)),
        "idToken": draw(id_tokens(version)),
    }
    if draw(st.booleans()):
        out["evseId"] = draw(st.integers(1 if version == "2.1" else -5, 10))
    if draw(st.booleans()):
        out["groupIdToken"] = draw(id_tokens(version))
    if with_profile:
        out["chargingProfile"] = prof
    if draw(st.booleans()):
        out["customData"] = draw(CUSTOM_DATA)
    return out


@pytest.mark.parametrize("version", VERSIONS)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_property_read_then_write_is_the_identity(version: str, data: st.DataObject) -> None:
    """Every generated schema-valid payload reads and writes back exactly (JSON types too)."""
    payload = data.draw(remote_start_payloads(version))
    name = "RemoteStartTransaction" if version == "1.6" else "RequestStartTransactionRequest"
    assert_schema_valid(payload, version, name)
    if version == "1.6":
        written: Any = write_remote_start_transaction(read_remote_start_transaction(payload))
    else:
        written = write_request_start_transaction(
            read_request_start_transaction(payload, version), version
        )
    assert written == payload
    assert _json_types(written) == _json_types(payload)


def _json_types(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json_types(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_types(v) for v in value]
    return type(value).__name__


@st.composite
def start_tx_profiles(draw: Draw, version: str) -> ChargingProfile:
    """A TxProfile a station mostly accepts: Relative or Absolute, 1..3 periods, A or W."""
    kind = draw(st.sampled_from(["Relative", "Absolute"]))
    starts = sorted(draw(st.sets(st.integers(1, 7200), max_size=2)))
    limits = [draw(st.integers(0, 640)) / 10 for _ in range(len(starts) + 1)]
    periods = [(s, lim) for s, lim in zip([0, *starts], limits, strict=True)]
    return profile(
        draw(st.integers(1, 50)),
        TXP,
        periods,
        stack=draw(st.integers(0, 4)),
        kind=kind,
        unit=draw(st.sampled_from(["A", "W"])),
        start=draw(st.integers(0, 3600)) if kind == "Absolute" else None,
        duration=draw(st.none() | st.integers(1, 86_400)),
    )


@st.composite
def stores(draw: Draw, version: str) -> ProfileStore:
    """A store built by the SetChargingProfile rules: TxDefault / Max profiles and one TxProfile."""
    st_ = state(version).with_transaction(tx("OTHER", 2))
    store = ProfileStore()
    for pid in draw(st.lists(st.integers(1, 50), max_size=3, unique=True)):
        purpose = draw(st.sampled_from(["TxDefaultProfile", "TxProfile"]))
        evse = 2 if purpose == TXP else draw(st.integers(0, 2))
        prof = profile(
            pid,
            purpose,
            [(0, 32)],
            stack=draw(st.integers(0, 4)),
            kind="Relative",
            transaction_id="OTHER" if purpose == TXP and version != "1.6" else None,
        )
        if version == "1.6" and purpose == TXP:
            prof = prof.model_copy(update={"transaction_id": None})
        store, _ = install(
            store, SetChargingProfileRequest(evse_id=evse, charging_profile=prof), st_
        )
    return store


@pytest.mark.parametrize("version", VERSIONS)
@settings(max_examples=120, deadline=None)
@given(data=st.data())
def test_property_an_accepted_request_installs_its_profile_on_the_transaction(
    version: str, data: st.DataObject
) -> None:
    """check Accepted <=> install Accepted; then the store holds the request's profile with
    transactionId = the started transaction's, bound to it, and nothing else changed but
    what the K01 rules replace (F01.FR.10)."""
    store = data.draw(stores(version))
    prof = data.draw(start_tx_profiles(version))
    req = request(version, prof)
    st_ = state(version, charge_profile_max_stack_level=3).with_transaction(tx("OTHER", 2))
    checked = check_remote_start(store, req, st_)
    started = tx("123", 1, start=data.draw(st.integers(0, 7200)))
    new_store, installed = install_remote_start(store, req, st_, started)
    assert checked.accepted == installed.accepted
    assert (checked.reason, checked.rule) == (installed.reason, installed.rule)
    if not installed.accepted:
        assert new_store == store
        return
    entry = new_store.get(prof.id)
    assert entry is not None and entry.evse_id == 1 and entry.transaction_id == "123"
    assert entry.profile == prof.model_copy(update={"transaction_id": "123"})
    kept = {e.id for e in store} - set(installed.replaced)
    assert {e.id for e in new_store} == kept | {prof.id}


@pytest.mark.parametrize("version", VERSIONS)
@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_property_the_start_rules_come_first_and_smart_charging_off_ignores_all(
    version: str, data: st.DataObject
) -> None:
    """Any schema-valid profile: not a TxProfile -> NOT_TX_PROFILE, else a transactionId ->
    TRANSACTION_ID_SET, whatever the rest; without Smart Charging always Accepted, store kept."""
    payload = data.draw(remote_start_payloads(version).filter(lambda p: "chargingProfile" in p))
    req: Any = (
        read_remote_start_transaction(payload)
        if version == "1.6"
        else read_request_start_transaction(payload, version)
    )
    prof = req.charging_profile
    st_ = state(version)
    result = check_remote_start(
        ProfileStore(), req, st_, evse_id=None if req.evse_id is not None else 1
    )
    if prof.charging_profile_purpose.value != TXP:
        assert result.reason is RemoteStartReason.NOT_TX_PROFILE
    elif prof.transaction_id is not None:
        assert result.reason is RemoteStartReason.TRANSACTION_ID_SET
    else:
        assert not isinstance(result.reason, RemoteStartReason)
    ignored = check_remote_start(ProfileStore(), req, st_, smart_charging=False)
    assert ignored.accepted and ignored.profile_ignored
    if req.evse_id is None or req.evse_id > 0:
        started = tx("1", req.evse_id or 1)
        store, off = install_remote_start(ProfileStore(), req, st_, started, smart_charging=False)
        assert off.accepted and off.profile_ignored and len(store) == 0


def test_deep_carried_json_is_a_payload_error_naming_the_field() -> None:
    """docs/robustness.md: carried JSON (idToken, customData) nests at most MAX_JSON_DEPTH."""
    deep: Any = 1
    for _ in range(40):
        deep = {"a": deep}
    token = {"idToken": "a", "type": "Central", "customData": {"vendorId": "v", "x": deep}}
    with pytest.raises(PayloadError) as err:
        read_request_start_transaction(_v2(idToken=token), "2.0.1")
    assert err.value.field == "idToken"
    with pytest.raises(PayloadError) as err:
        read_request_start_transaction(_v2(customData={"vendorId": "v", "x": deep}), "2.1")
    assert err.value.field == "customData"


# ------------------------------------------------------------------ ocpp package adapters


@pytest.mark.parametrize("version", VERSIONS)
def test_adapters_carry_the_request_and_the_answer_exactly(version: str) -> None:
    from ocpp_schedule.tools import adapters

    payload: dict[str, Any] = V16_PAYLOAD if version == "1.6" else V2_PAYLOAD
    req: Any = (
        read_remote_start_transaction(payload)
        if version == "1.6"
        else read_request_start_transaction(payload, version)
    )
    message = adapters.to_ocpp_remote_start(req, version)
    action = "RemoteStartTransaction" if version == "1.6" else "RequestStartTransaction"
    assert type(message).__name__ == action
    assert adapters.ocpp_payload(message) == payload
    assert adapters.from_ocpp_remote_start(message) == req
    handler_kwargs = {f: getattr(message, f) for f in message.__dataclass_fields__}
    kwargs = {k: v for k, v in handler_kwargs.items() if v is not None}
    assert adapters.from_ocpp_remote_start(kwargs, version) == req
    rejected = check_remote_start(ProfileStore(), req, state(version, evse_ids=(5,)))
    answer = adapters.to_ocpp_remote_start_result(rejected, version)
    read_back = adapters.from_ocpp_remote_start_result(answer)
    assert read_back.payload == rejected.to_payload(version) and read_back.status == "Rejected"
    with pytest.raises(VersionError):
        adapters.to_ocpp_remote_start(
            request("2.0.1" if version == "1.6" else "1.6", None), version
        )


def test_adapters_keep_a_2x_transaction_id_in_the_answer() -> None:
    from ocpp.v201 import call_result

    from ocpp_schedule.tools import adapters

    answer = call_result.RequestStartTransaction(status="Accepted", transaction_id="T-1")
    read = adapters.from_ocpp_remote_start_result(answer)
    assert read.accepted and read.payload == {"status": "Accepted", "transactionId": "T-1"}


def test_requests_built_in_python_with_wrong_types_are_payload_errors() -> None:
    with pytest.raises(PayloadError) as err:
        RemoteStartTransactionRequest(5)  # type: ignore[arg-type]
    assert err.value.field == "idTag"
    with pytest.raises(PayloadError) as err:
        RemoteStartTransactionRequest("a", True)
    assert err.value.field == "connectorId"
    with pytest.raises(PayloadError) as err:
        RequestStartTransactionRequest({"idToken": "a", "type": "Central"}, "1")  # type: ignore[arg-type]
    assert err.value.field == "remoteStartId"
    with pytest.raises(PayloadError) as err:
        RequestStartTransactionRequest({"idToken": "a", "type": "Central"}, 1, 1, {"id": 1})  # type: ignore[arg-type]
    assert err.value.field == "chargingProfile"
    with pytest.raises(PayloadError) as err:
        RequestStartTransactionRequest("token", 1)  # type: ignore[arg-type]
    assert err.value.field == "idToken"


def test_a_request_of_the_wrong_type_is_a_query_error() -> None:
    with pytest.raises(QueryError) as err:
        check_remote_start(ProfileStore(), {"idTag": "a"}, state("1.6"))  # type: ignore[arg-type]
    assert err.value.field == "request"
    with pytest.raises(QueryError) as err:
        install_remote_start(ProfileStore(), request("1.6", None), state("1.6"), "42")  # type: ignore[arg-type]
    assert err.value.field == "transaction"

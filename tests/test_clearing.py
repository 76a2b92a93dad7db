"""ClearChargingProfile (clearing.py): by id, by criteria, external constraints, payloads.

OCPP 1.6 §5.5/§6.13 and errata 3.25/3.26; OCPP 2.0.1/2.1 K10; decision S7.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from ocpp_schedule import (
    ChargingProfilePurpose,
    ClearChargingProfileRequest,
    OcppVersion,
    PayloadError,
    ProfileStore,
    StationConfig,
    StationState,
    Transaction,
    VersionError,
    clear,
    install,
    install_local,
    read_set_charging_profile,
)
from ocpp_schedule.station import (
    ClearChargingProfileResult,
    read_clear_charging_profile,
    write_clear_charging_profile,
)

T0 = "2024-06-01T00:00:00Z"
P = ChargingProfilePurpose


# --------------------------------------------------------------------------- helpers


def v2(evse: int, pid: int, purpose: str = "TxDefaultProfile", level: int = 0, **fields: Any):
    """A 2.x SetChargingProfileRequest payload with one Absolute 16 A schedule."""
    return {
        "evseId": evse,
        "chargingProfile": {
            "id": pid,
            "stackLevel": level,
            "chargingProfilePurpose": purpose,
            "chargingProfileKind": "Absolute",
            "chargingSchedule": [
                {
                    "id": 1,
                    "startSchedule": T0,
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
                }
            ],
            **fields,
        },
    }


def v16(connector: int, pid: int, purpose: str = "TxDefaultProfile", level: int = 0, **fields):
    """A 1.6 SetChargingProfile.req payload with one Absolute 16 A schedule."""
    return {
        "connectorId": connector,
        "csChargingProfiles": {
            "chargingProfileId": pid,
            "stackLevel": level,
            "chargingProfilePurpose": purpose,
            "chargingProfileKind": "Absolute",
            "chargingSchedule": {
                "startSchedule": T0,
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
            },
            **fields,
        },
    }


def state(version: str = "2.0.1") -> StationState:
    cfg = StationConfig(supported_additional_purposes=frozenset({P.LOCAL_GENERATION}))
    tx = Transaction("1" if version == "1.6" else "tx-1", 1, datetime(2024, 6, 1, tzinfo=UTC))
    return StationState(cfg, OcppVersion(version), (tx,))


def build(version: str, csms: list[dict[str, Any]], local: list[dict[str, Any]] = ()):
    """A store with ``csms`` installed by the CSMS and ``local`` by the station's EMS."""
    st_ = state(version)
    store = ProfileStore()
    for payload, entry in [(p, install_local) for p in local] + [(p, install) for p in csms]:
        store, result = entry(store, read_set_charging_profile(payload, version), st_)
        assert result.accepted, str(result)
    return store


def station_v2(version: str = "2.0.1") -> ProfileStore:
    """Six profiles on a two-EVSE station: ids 1..5 from the CSMS, -1 external (EMS)."""
    return build(
        version,
        [
            v2(0, 1, "ChargingStationMaxProfile"),
            v2(0, 2, level=1),
            v2(1, 3),
            v2(2, 4),
            v2(1, 5, "TxProfile", transactionId="tx-1"),
        ],
        local=[v2(0, -1, "ChargingStationExternalConstraints")],
    )


def station_v16() -> ProfileStore:
    return build(
        "1.6",
        [
            v16(0, 1, "ChargePointMaxProfile"),
            v16(0, 2, level=1),
            v16(1, 3),
            v16(2, 4),
            v16(1, 5, "TxProfile", level=1, transactionId=1),
        ],
    )


def clear_payload(store: ProfileStore, payload: dict[str, Any], version: str):
    """Read a ClearChargingProfile payload and apply it."""
    return clear(store, read_clear_charging_profile(payload, version), version)


def ids(store: ProfileStore) -> list[int]:
    return sorted(e.id for e in store)


# --------------------------------------------------------------------------- by id


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
def test_k10_fr_03_clear_by_id_accepted(version: str) -> None:
    store = station_v2(version)
    after, result = clear_payload(store, {"chargingProfileId": 3}, version)
    assert result.cleared == (3,)
    assert result.status == "Accepted"
    assert result.to_payload(version) == {"status": "Accepted"}
    assert ids(after) == [-1, 1, 2, 4, 5]
    assert ids(store) == [-1, 1, 2, 3, 4, 5]


def test_k10_fr_01_clear_unknown_id_answers_unknown() -> None:
    store = station_v2()
    after, result = clear_payload(store, {"chargingProfileId": 99}, "2.0.1")
    assert result.cleared == ()
    assert result.status == "Unknown"
    assert result.to_payload("2.0.1") == {"status": "Unknown"}
    assert after == store


def test_v16_clear_by_id() -> None:
    store = station_v16()
    after, result = clear_payload(store, {"id": 5}, "1.6")
    assert result.cleared == (5,)
    assert result.to_payload("1.6") == {"status": "Accepted"}
    assert ids(after) == [1, 2, 3, 4]


def test_v16_clear_unknown_id() -> None:
    store = station_v16()
    after, result = clear_payload(store, {"id": 42}, "1.6")
    assert result.to_payload("1.6") == {"status": "Unknown"}
    assert after == store


# --------------------------------------------------------------------------- by criteria


@pytest.mark.parametrize(
    ("criteria", "cleared"),
    [
        pytest.param({"evseId": 1}, (3, 5), id="evse-1"),
        pytest.param({"evseId": 0}, (1, 2), id="evse-0-station-level"),
        pytest.param({"chargingProfilePurpose": "TxDefaultProfile"}, (2, 3, 4), id="purpose"),
        pytest.param({"stackLevel": 1}, (2,), id="stack-level"),
        pytest.param({"stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile"}, (3, 4)),
        pytest.param({"evseId": 0, "chargingProfilePurpose": "TxDefaultProfile"}, (2,)),
        pytest.param({"evseId": 1, "chargingProfilePurpose": "TxProfile", "stackLevel": 0}, (5,)),
        pytest.param({"evseId": 2, "chargingProfilePurpose": "TxProfile"}, (), id="no-match"),
        pytest.param({"evseId": 0, "stackLevel": 0}, (1,), id="evse-0-not-external"),
    ],
)
def test_k10_fr_04_criteria_are_anded(criteria: dict[str, Any], cleared: tuple[int, ...]) -> None:
    store = station_v2()
    after, result = clear_payload(store, {"chargingProfileCriteria": criteria}, "2.0.1")
    assert result.cleared == cleared
    assert result.status == ("Accepted" if cleared else "Unknown")
    assert ids(after) == sorted(set(ids(store)) - set(cleared))
    assert -1 in after


@pytest.mark.parametrize(
    ("payload", "cleared"),
    [
        pytest.param({"connectorId": 1}, (3, 5), id="connector-1"),
        pytest.param({"connectorId": 0}, (1, 2), id="connector-0"),
        pytest.param({"chargingProfilePurpose": "TxDefaultProfile"}, (2, 3, 4), id="purpose"),
        pytest.param({"stackLevel": 1}, (2, 5), id="stack-level"),
        pytest.param({"connectorId": 1, "stackLevel": 1}, (5,), id="connector-and-level"),
        pytest.param({"chargingProfilePurpose": "ChargePointMaxProfile", "stackLevel": 1}, ()),
    ],
)
def test_v16_criteria_are_anded(payload: dict[str, Any], cleared: tuple[int, ...]) -> None:
    store = station_v16()
    after, result = clear_payload(store, payload, "1.6")
    assert result.cleared == cleared
    assert ids(after) == sorted(set(ids(store)) - set(cleared))


# --------------------------------------------------------------------------- id with criteria


def test_v16_id_overrides_other_fields() -> None:
    """1.6 §5.5 / errata 3.25: with an id, the other fields are ignored."""
    store = station_v16()
    after, result = clear_payload(
        store,
        {"id": 3, "connectorId": 2, "stackLevel": 5, "chargingProfilePurpose": "TxProfile"},
        "1.6",
    )
    assert result.cleared == (3,)
    assert ids(after) == [1, 2, 4, 5]


def test_v16_unknown_id_does_not_fall_back_to_criteria() -> None:
    store = station_v16()
    after, result = clear_payload(store, {"id": 99, "connectorId": 1}, "1.6")
    assert result.status == "Unknown"
    assert after == store


@pytest.mark.parametrize(
    ("criteria", "cleared"),
    [
        pytest.param({"evseId": 1}, (3,), id="id-and-matching-evse"),
        pytest.param({"evseId": 2}, (), id="id-and-other-evse"),
        pytest.param({"chargingProfilePurpose": "TxDefaultProfile", "stackLevel": 0}, (3,)),
        pytest.param({"stackLevel": 1}, (), id="id-and-other-level"),
    ],
)
def test_s7_v2_id_and_criteria_must_all_match(
    criteria: dict[str, Any], cleared: tuple[int, ...]
) -> None:
    """K10.FR.04 / decision S7: in 2.x the id and the criteria are matched together."""
    store = station_v2()
    payload = {"chargingProfileId": 3, "chargingProfileCriteria": criteria}
    after, result = clear_payload(store, payload, "2.0.1")
    assert result.cleared == cleared
    assert len(after) == len(store) - len(cleared)


# --------------------------------------------------------------------------- empty request


def test_v16_empty_request_clears_all() -> None:
    """1.6 errata 3.25: a request with no fields clears every profile."""
    store = station_v16()
    after, result = clear_payload(store, {}, "1.6")
    assert result.cleared == (1, 2, 3, 4, 5)
    assert len(after) == 0


def test_s7_v2_empty_request_clears_all_but_external_constraints() -> None:
    store = station_v2()
    after, result = clear_payload(store, {}, "2.0.1")
    assert result.cleared == (1, 2, 3, 4, 5)
    assert ids(after) == [-1]


def test_v2_empty_criteria_object_is_an_empty_request() -> None:
    store = station_v2()
    _, result = clear_payload(store, {"chargingProfileCriteria": {}}, "2.0.1")
    assert result.cleared == (1, 2, 3, 4, 5)


def test_clear_on_empty_store() -> None:
    after, result = clear(ProfileStore(), ClearChargingProfileRequest(), "2.0.1")
    assert result.status == "Unknown"
    assert len(after) == 0


# --------------------------------------------------------------------------- external constraints


def test_k10_fr_09_id_of_external_constraints_answers_unknown() -> None:
    store = station_v2()
    after, result = clear_payload(store, {"chargingProfileId": -1}, "2.0.1")
    assert result.status == "Unknown"
    assert result.cleared == ()
    assert after == store


def test_k10_fr_08_criteria_matching_only_external_constraints_answer_unknown() -> None:
    store = station_v2()
    payload = {
        "chargingProfileCriteria": {"chargingProfilePurpose": "ChargingStationExternalConstraints"}
    }
    after, result = clear_payload(store, payload, "2.0.1")
    assert result.status == "Unknown"
    assert after == store


def test_k10_fr_04_external_constraints_not_counted_among_matches() -> None:
    """Criteria matching an external-constraints profile and others clear only the others."""
    store = station_v2()
    after, result = clear_payload(store, {"chargingProfileCriteria": {"evseId": 0}}, "2.0.1")
    assert result.cleared == (1, 2)
    assert -1 not in result.cleared
    assert ids(after) == [-1, 3, 4, 5]


def test_k10_2_1_local_generation_is_never_cleared() -> None:
    """2.1 K10.FR.04/08/09 treat LocalGeneration like external constraints."""
    store = build("2.1", [v2(1, 3)], local=[v2(0, 7, "LocalGeneration")])

    by_id, r_id = clear_payload(store, {"chargingProfileId": 7}, "2.1")
    by_purpose, r_purpose = clear_payload(
        store, {"chargingProfileCriteria": {"chargingProfilePurpose": "LocalGeneration"}}, "2.1"
    )
    everything, r_all = clear_payload(store, {}, "2.1")

    assert (r_id.status, r_purpose.status) == ("Unknown", "Unknown")
    assert by_id == store
    assert by_purpose == store
    assert r_all.cleared == (3,)
    assert ids(everything) == [7]


def test_clear_result_status_follows_cleared() -> None:
    assert ClearChargingProfileResult(()).status == "Unknown"
    assert ClearChargingProfileResult((1,)).to_payload("1.6") == {"status": "Accepted"}
    with pytest.raises(VersionError):
        ClearChargingProfileResult((1,)).to_payload("3.0")


# ------------------------------------------------------------------ payload readers and writers


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        pytest.param({}, ClearChargingProfileRequest(), id="empty"),
        pytest.param({"id": 3}, ClearChargingProfileRequest(charging_profile_id=3), id="id"),
        pytest.param(
            {"id": 3, "connectorId": 1, "chargingProfilePurpose": "TxProfile", "stackLevel": 2},
            ClearChargingProfileRequest(
                charging_profile_id=3,
                evse_id=1,
                charging_profile_purpose=P.TX_PROFILE,
                stack_level=2,
            ),
            id="all-fields",
        ),
        pytest.param(
            {"chargingProfilePurpose": "ChargePointMaxProfile"},
            ClearChargingProfileRequest(charging_profile_purpose=P.CHARGE_POINT_MAX_PROFILE),
            id="max-purpose",
        ),
    ],
)
def test_v16_payload_round_trip(payload: dict[str, Any], expected: ClearChargingProfileRequest):
    request = read_clear_charging_profile(payload, "1.6")
    assert request == expected
    assert write_clear_charging_profile(request, "1.6") == payload


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        pytest.param({}, ClearChargingProfileRequest(), id="empty"),
        pytest.param(
            {"chargingProfileId": 3}, ClearChargingProfileRequest(charging_profile_id=3), id="id"
        ),
        pytest.param(
            {"chargingProfileCriteria": {"evseId": 0, "stackLevel": 1}},
            ClearChargingProfileRequest(evse_id=0, stack_level=1),
            id="criteria",
        ),
        pytest.param(
            {
                "chargingProfileId": 3,
                "chargingProfileCriteria": {
                    "evseId": 1,
                    "chargingProfilePurpose": "ChargingStationMaxProfile",
                    "stackLevel": 0,
                },
            },
            ClearChargingProfileRequest(
                charging_profile_id=3,
                evse_id=1,
                charging_profile_purpose=P.CHARGING_STATION_MAX_PROFILE,
                stack_level=0,
            ),
            id="id-and-criteria",
        ),
    ],
)
def test_v201_payload_round_trip(payload: dict[str, Any], expected: ClearChargingProfileRequest):
    request = read_clear_charging_profile(payload, "2.0.1")
    assert request == expected
    assert write_clear_charging_profile(request, "2.0.1") == payload


def test_v2_reader_keeps_custom_data() -> None:
    payload = {
        "customData": {"vendorId": "x"},
        "chargingProfileCriteria": {"evseId": 1, "customData": {"vendorId": "y"}},
    }
    request = read_clear_charging_profile(payload, "2.0.1")
    assert request == ClearChargingProfileRequest(
        evse_id=1, custom_data={"vendorId": "x"}, criteria_custom_data={"vendorId": "y"}
    )
    assert write_clear_charging_profile(request, "2.0.1") == payload
    assert "customData" not in write_clear_charging_profile(request, "1.6")


def test_v21_reader_accepts_2_1_purposes() -> None:
    payload = {"chargingProfileCriteria": {"chargingProfilePurpose": "PriorityCharging"}}
    request = read_clear_charging_profile(payload, "2.1")
    assert request.charging_profile_purpose is P.PRIORITY_CHARGING
    assert write_clear_charging_profile(request, "2.1") == payload


@pytest.mark.parametrize(
    ("payload", "version", "field"),
    [
        pytest.param({"chargingProfileId": 3}, "1.6", "chargingProfileId", id="v16-2x-id-key"),
        pytest.param({"evseId": 1}, "1.6", "evseId", id="v16-evseId"),
        pytest.param({"customData": {}}, "1.6", "customData", id="v16-customData"),
        pytest.param({"id": 3}, "2.0.1", "id", id="v201-1.6-id-key"),
        pytest.param({"connectorId": 1}, "2.0.1", "connectorId", id="v201-connectorId"),
        pytest.param({"evseId": 1}, "2.0.1", "evseId", id="v201-criteria-outside-object"),
        pytest.param(
            {"chargingProfileCriteria": {"connectorId": 1}},
            "2.0.1",
            "chargingProfileCriteria.connectorId",
            id="v201-unknown-criterion",
        ),
        pytest.param(
            {"chargingProfileCriteria": {"chargingProfileId": [1]}},
            "2.1",
            "chargingProfileCriteria.chargingProfileId",
            id="v21-get-criteria-key",
        ),
    ],
)
def test_reader_rejects_unknown_keys(payload: dict[str, Any], version: str, field: str) -> None:
    with pytest.raises(PayloadError) as err:
        read_clear_charging_profile(payload, version)
    assert err.value.field == field
    assert err.value.rule == f"OCPP {version} schema: additionalProperties false"


@pytest.mark.parametrize(
    ("payload", "version"),
    [
        pytest.param({"chargingProfilePurpose": "ChargingStationMaxProfile"}, "1.6", id="v16-max"),
        pytest.param(
            {"chargingProfilePurpose": "ChargingStationExternalConstraints"}, "1.6", id="v16-ext"
        ),
        pytest.param(
            {"chargingProfileCriteria": {"chargingProfilePurpose": "ChargePointMaxProfile"}},
            "2.0.1",
            id="v201-1.6-max",
        ),
        pytest.param(
            {"chargingProfileCriteria": {"chargingProfilePurpose": "LocalGeneration"}},
            "2.0.1",
            id="v201-2.1-purpose",
        ),
        pytest.param(
            {"chargingProfileCriteria": {"chargingProfilePurpose": "ChargePointMaxProfile"}},
            "2.1",
            id="v21-1.6-max",
        ),
        pytest.param(
            {"chargingProfileCriteria": {"chargingProfilePurpose": 1}}, "2.0.1", id="v201-number"
        ),
    ],
)
def test_reader_rejects_purpose_not_in_version(payload: dict[str, Any], version: str) -> None:
    with pytest.raises(PayloadError) as err:
        read_clear_charging_profile(payload, version)
    where = "" if version == "1.6" else "chargingProfileCriteria."
    assert err.value.field == f"{where}chargingProfilePurpose"
    assert err.value.rule == f"OCPP {version} schema: enum"


@pytest.mark.parametrize("bad", [[], "x", None, 3])
def test_reader_rejects_non_object_payload(bad: Any) -> None:
    with pytest.raises(PayloadError):
        read_clear_charging_profile(bad, "2.0.1")


@pytest.mark.parametrize("criteria", [[], [1], "evse", 0])
def test_reader_rejects_non_object_criteria(criteria: Any) -> None:
    with pytest.raises(PayloadError) as err:
        read_clear_charging_profile({"chargingProfileCriteria": criteria}, "2.0.1")
    assert err.value.field == "chargingProfileCriteria"


@pytest.mark.parametrize(
    ("payload", "version"),
    [
        pytest.param({"id": "3"}, "1.6", id="v16-id-text"),
        pytest.param({"connectorId": True}, "1.6", id="v16-connector-bool"),
        pytest.param({"chargingProfileCriteria": {"stackLevel": 1.5}}, "2.0.1", id="v201-level"),
    ],
)
def test_reader_rejects_wrong_types(payload: dict[str, Any], version: str) -> None:
    """A wrongly typed field is the reader's PayloadError naming it (F26), not pydantic's error."""
    with pytest.raises(PayloadError) as err:
        read_clear_charging_profile(payload, version)
    assert not isinstance(err.value, ValidationError)
    assert err.value.field is not None
    assert err.value.field.split(".")[-1] in {"id", "connectorId", "stackLevel"}


def test_reader_rejects_unknown_version() -> None:
    with pytest.raises(VersionError):
        read_clear_charging_profile({}, "1.5")


@pytest.mark.parametrize(
    ("purpose", "version", "written"),
    [
        pytest.param(P.CHARGING_STATION_MAX_PROFILE, "1.6", "ChargePointMaxProfile", id="to-1.6"),
        pytest.param(P.CHARGE_POINT_MAX_PROFILE, "2.0.1", "ChargingStationMaxProfile", id="to-2"),
    ],
)
def test_writer_maps_max_purpose_between_versions(
    purpose: ChargingProfilePurpose, version: str, written: str
) -> None:
    request = ClearChargingProfileRequest(charging_profile_purpose=purpose)
    payload = write_clear_charging_profile(request, version)
    purpose_out = (
        payload["chargingProfilePurpose"]
        if version == "1.6"
        else payload["chargingProfileCriteria"]["chargingProfilePurpose"]
    )
    assert purpose_out == written
    assert read_clear_charging_profile(payload, version).charging_profile_purpose.value == written


@pytest.mark.parametrize(
    ("purpose", "version"),
    [
        (P.CHARGING_STATION_EXTERNAL_CONSTRAINTS, "1.6"),
        (P.PRIORITY_CHARGING, "1.6"),
        (P.LOCAL_GENERATION, "2.0.1"),
    ],
)
def test_writer_rejects_purpose_not_in_version(
    purpose: ChargingProfilePurpose, version: str
) -> None:
    with pytest.raises(VersionError) as err:
        write_clear_charging_profile(
            ClearChargingProfileRequest(charging_profile_purpose=purpose), version
        )
    assert err.value.field == "chargingProfilePurpose"


def test_request_model_by_alias_and_name() -> None:
    by_alias = ClearChargingProfileRequest.model_validate({"chargingProfileId": 4, "evseId": 0})
    by_name = ClearChargingProfileRequest(charging_profile_id=4, evse_id=0)
    assert by_alias == by_name
    with pytest.raises(ValidationError):
        ClearChargingProfileRequest.model_validate({"connectorId": 1})


_PURPOSES = {
    "1.6": [P.CHARGE_POINT_MAX_PROFILE, P.TX_DEFAULT_PROFILE, P.TX_PROFILE],
    "2.0.1": [
        P.CHARGING_STATION_MAX_PROFILE,
        P.TX_DEFAULT_PROFILE,
        P.TX_PROFILE,
        P.CHARGING_STATION_EXTERNAL_CONSTRAINTS,
    ],
}


@st.composite
def _clear_requests(draw: st.DrawFn, version: str) -> ClearChargingProfileRequest:
    maybe = st.none() | st.integers(-5, 1000)
    return ClearChargingProfileRequest(
        charging_profile_id=draw(maybe),
        evse_id=draw(st.none() | st.integers(0, 8)),
        charging_profile_purpose=draw(st.none() | st.sampled_from(_PURPOSES[version])),
        stack_level=draw(st.none() | st.integers(0, 10)),
    )


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
@given(data=st.data())
def test_property_write_then_read_is_identity(version: str, data: st.DataObject) -> None:
    request = data.draw(_clear_requests(version))
    payload = write_clear_charging_profile(request, version)
    assert read_clear_charging_profile(payload, version) == request
    assert write_clear_charging_profile(read_clear_charging_profile(payload, version), version) == (
        payload
    )


# --------------------------------------------------------------------------- properties over stores


@given(
    pid=st.integers(1, 50),
    evse=st.integers(1, 3),
    level=st.integers(0, 3),
)
def test_property_install_then_clear_by_id_restores_store(pid: int, evse: int, level: int) -> None:
    store = station_v2()
    if pid in store:
        store, _ = clear(store, ClearChargingProfileRequest(charging_profile_id=pid), "2.0.1")
    before = store
    request = read_set_charging_profile(v2(evse, pid, level=level + 2), "2.0.1")

    installed, result = install(store, request, state())
    assert result.accepted, str(result)
    after, cleared = clear(installed, ClearChargingProfileRequest(charging_profile_id=pid), "2.0.1")

    assert cleared.cleared == (pid,)
    assert after == before


@given(
    request=st.builds(
        ClearChargingProfileRequest,
        charging_profile_id=st.none() | st.integers(-2, 7),
        evse_id=st.none() | st.integers(0, 3),
        charging_profile_purpose=st.none() | st.sampled_from(_PURPOSES["2.0.1"]),
        stack_level=st.none() | st.integers(0, 2),
    ),
    version=st.sampled_from(["1.6", "2.0.1"]),
)
def test_property_clear_removes_exactly_what_it_reports(
    request: ClearChargingProfileRequest, version: str
) -> None:
    store = station_v2()
    after, result = clear(store, request, version)
    assert ids(after) == sorted(set(ids(store)) - set(result.cleared))
    assert set(result.cleared) <= set(ids(store))
    assert -1 in after
    assert result.status == ("Accepted" if result.cleared else "Unknown")
    again, second = clear(after, request, version)
    assert second.status == "Unknown"
    assert again == after

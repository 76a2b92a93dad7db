"""ProfileStore.to_json() / from_json(): a CSMS's mirror kept across restarts (issue 15, item 1).

The format is versioned and stable; writing then reading gives an equal store with its
entries in the same order, and the text written again is identical. A bad file is a
PayloadError naming the field.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ocpp_schedule import (
    ChargingLimitSource,
    InstalledProfile,
    PayloadError,
    ProfileStore,
    read_set_charging_profile,
)
from ocpp_schedule.station._store import MAX_STORE_ENTRIES, STORE_FORMAT
from tests.strategies import set_charging_profile

VERSIONS = ("1.6", "2.0.1", "2.1")


def _entries(payloads: list[dict[str, Any]], version: str) -> list[InstalledProfile]:
    out = []
    for i, payload in enumerate(payloads):
        request = read_set_charging_profile(payload, version)
        source = list(ChargingLimitSource)[i % len(ChargingLimitSource)]
        tx = None if i % 3 else f"tx-{i}"
        out.append(InstalledProfile(i % 4, request.charging_profile, source, tx))
    return out


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(VERSIONS).flatmap(
        lambda v: st.tuples(st.just(v), st.lists(set_charging_profile(v), max_size=4))
    )
)
def test_property_a_store_reads_back_equal_in_order(case: tuple[str, list[dict[str, Any]]]) -> None:
    version, payloads = case
    store = ProfileStore(_entries(payloads, version))
    text = store.to_json()
    back = ProfileStore.from_json(text)
    assert back == store
    assert back.entries == store.entries  # same order, same entries
    assert back.to_json() == text
    assert ProfileStore.from_json(text.encode()) == store
    assert ProfileStore.from_json(json.loads(text)) == store


def test_integers_stay_integers_and_the_format_is_tagged() -> None:
    payload = {
        "evseId": 1,
        "chargingProfile": {
            "id": 5,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": [
                {
                    "id": 1,
                    "startSchedule": "2026-01-01T00:00:00Z",
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [
                        {"startPeriod": 0, "limit": 16},
                        {"startPeriod": 60, "limit": 10.5},
                    ],
                }
            ],
        },
    }
    profile = read_set_charging_profile(payload, "2.0.1").charging_profile
    doc = json.loads(ProfileStore([InstalledProfile(1, profile)]).to_json())
    assert doc["format"] == STORE_FORMAT and doc["formatVersion"] == 1
    periods = doc["entries"][0]["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"]
    assert periods == payload["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"]  # type: ignore[index]
    assert isinstance(periods[0]["limit"], int)
    assert "transactionId" not in doc["entries"][0]


def test_an_empty_store_round_trips() -> None:
    assert ProfileStore.from_json(ProfileStore().to_json()) == ProfileStore()


def _doc(**changes: Any) -> dict[str, Any]:
    profile = {
        "id": 1,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": [
            {
                "id": 1,
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6}],
            }
        ],
    }
    entry = {"evseId": 1, "source": "CSO", "chargingProfile": profile}
    entry.update(changes)
    return {"format": STORE_FORMAT, "formatVersion": 1, "entries": [entry]}


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ("not json", "store"),
        ([], "store"),
        ({"formatVersion": 1, "entries": []}, "format"),
        ({"format": "other", "formatVersion": 1, "entries": []}, "format"),
        ({"format": STORE_FORMAT, "formatVersion": 2, "entries": []}, "formatVersion"),
        ({"format": STORE_FORMAT, "formatVersion": True, "entries": []}, "formatVersion"),
        ({"format": STORE_FORMAT, "formatVersion": 1, "entries": {}}, "entries"),
        ({"format": STORE_FORMAT, "formatVersion": 1, "entries": [], "x": 1}, "x"),
        (_doc(evseId=-1), "entries[0].evseId"),
        (_doc(evseId=True), "entries[0].evseId"),
        (_doc(source="Grid"), "entries[0].source"),
        (_doc(transactionId=7), "entries[0].transactionId"),
        (_doc(extra=1), "entries[0].extra"),
        (_doc(chargingProfile={"id": 1}), "entries[0].chargingProfile.stackLevel"),
    ],
)
def test_a_bad_file_names_the_field(doc: Any, field: str) -> None:
    data = doc if isinstance(doc, str) else json.dumps(doc)
    with pytest.raises(PayloadError) as info:
        ProfileStore.from_json(data)
    assert info.value.field == field


def test_a_duplicate_profile_id_is_refused() -> None:
    doc = _doc()
    doc["entries"].append(dict(doc["entries"][0], evseId=2))
    with pytest.raises(PayloadError, match="twice") as info:
        ProfileStore.from_json(json.dumps(doc))
    assert info.value.field == "entries[1].chargingProfile.id"


def test_the_entry_bound_is_checked_before_any_profile_is_read() -> None:
    doc = {"format": STORE_FORMAT, "formatVersion": 1, "entries": [None] * (MAX_STORE_ENTRIES + 1)}
    with pytest.raises(PayloadError, match="at most") as info:
        ProfileStore.from_json(doc)
    assert info.value.field == "entries"

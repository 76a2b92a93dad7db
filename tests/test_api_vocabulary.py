"""One vocabulary across the API (issue 15, item 4): what a typed caller meets."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

import ocpp_schedule
from ocpp_schedule import ChargingProfile, format_timestamp, parse_timestamp

PROFILE = {
    "id": 1,
    "stackLevel": 0,
    "chargingProfilePurpose": "TxProfile",
    "chargingProfileKind": "Relative",
    "chargingSchedule": [
        {
            "id": 1,
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6}],
        }
    ],
}


def test_a_16_integer_transaction_id_is_taken_as_its_text() -> None:
    profile = ChargingProfile.model_validate({**PROFILE, "transactionId": 4711})
    assert profile.transaction_id == "4711"
    with pytest.raises(ValidationError):
        ChargingProfile.model_validate({**PROFILE, "transactionId": True})


def test_model_dump_leaves_absent_fields_out() -> None:
    profile = ChargingProfile.model_validate(PROFILE)
    dumped = profile.model_dump(mode="json")
    assert None not in dumped.values()
    assert "maxOfflineDuration" not in dumped and "transactionId" not in dumped
    assert dumped == profile.to_json_dict()
    assert json.loads(profile.model_dump_json()) == dumped
    # an explicit choice still wins
    assert profile.model_dump(exclude_none=False)["transactionId"] is None


def test_timestamp_helpers_are_public() -> None:
    when = parse_timestamp("2026-03-01T08:00:00+01:00")
    assert when == datetime(2026, 3, 1, 7, 0, tzinfo=UTC)
    assert format_timestamp(when) == "2026-03-01T08:00:00+01:00"  # as read: exact JSON
    assert format_timestamp(datetime(2026, 3, 1, 7, 0, tzinfo=UTC)) == "2026-03-01T07:00:00Z"
    assert ocpp_schedule.parse_timestamp is parse_timestamp

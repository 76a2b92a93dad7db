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


# ------------------------------------------------ transactions= and state= (issue 15 item 4)

from datetime import timedelta  # noqa: E402

from ocpp_schedule import (  # noqa: E402
    InstalledProfile,
    ProfileStore,
    QueryError,
    StationConfig,
    StationState,
    Transaction,
    composite_schedule,
    limit_at,
    next_change,
    station_composites,
)

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def _store() -> ProfileStore:
    tx_profile = ChargingProfile.model_validate(
        {
            **PROFILE,
            "transactionId": "t1",
            "chargingSchedule": [
                {
                    "id": 1,
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [
                        {"startPeriod": 0, "limit": 6},
                        {"startPeriod": 600, "limit": 10},
                    ],
                }
            ],
        }
    )
    return ProfileStore([InstalledProfile(1, tx_profile, transaction_id="t1")])


def test_transactions_and_state_are_accepted_and_agree() -> None:
    config = StationConfig.with_evses(2)
    tx = Transaction("t1", 1, T0)
    store = _store()
    old = composite_schedule(
        store, evse_id=1, start=T0, duration=3600, transaction=tx, config=config
    )
    assert (
        composite_schedule(
            store, evse_id=1, start=T0, duration=3600, transactions=[tx], config=config
        )
        == old
    )
    state = StationState(config, "2.0.1", (tx,))
    assert composite_schedule(store, evse_id=1, start=T0, duration=3600, state=state) == old
    assert limit_at(store, evse_id=1, instant=T0, state=state).limit == 6
    both = station_composites(store, start=T0, duration=3600, state=state)
    assert both[1] == old
    for kwargs, field in (
        ({"transaction": tx, "transactions": [tx]}, "transactions"),
        ({"state": state, "config": config}, "state"),
        ({"state": state, "transactions": [tx]}, "state"),
        ({"state": "x"}, "state"),
    ):
        with pytest.raises(QueryError) as info:
            composite_schedule(store, evse_id=1, start=T0, duration=60, **kwargs)  # type: ignore[arg-type]
        assert info.value.field == field


def test_next_change_says_until_when_the_limit_holds() -> None:
    state = StationState(StationConfig.with_evses(2), "2.0.1", (Transaction("t1", 1, T0),))
    hold = next_change(_store(), evse_id=1, instant=T0 + timedelta(minutes=2), state=state)
    assert hold.period.limit == 6
    assert hold.until == T0 + timedelta(minutes=10) and hold.until_epoch is not None
    after = next_change(_store(), evse_id=1, instant=T0 + timedelta(minutes=20), state=state)
    assert after.period.limit == 10 and after.until is None  # no change within a week
    with pytest.raises(QueryError) as info:
        next_change(_store(), evse_id=1, instant=T0, state=state, lookahead=0)
    assert info.value.field == "lookahead"

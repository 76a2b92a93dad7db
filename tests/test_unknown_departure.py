"""A session whose departure is unknown: the estimate, its marker, the errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from ocpp_schedule import Session
from ocpp_schedule.site import DEFAULT_DWELL_S

ARRIVE = datetime(2026, 1, 1, 8, tzinfo=UTC)


def test_without_leave_the_default_dwell_is_the_estimate() -> None:
    session = Session(arrive=ARRIVE)
    assert session.leave == ARRIVE + timedelta(seconds=DEFAULT_DWELL_S)
    assert not session.departure_known


def test_expected_dwell_gives_the_estimate() -> None:
    session = Session(arrive=ARRIVE, expected_dwell_s=5400)
    assert session.leave == ARRIVE + timedelta(seconds=5400)
    assert not session.departure_known


def test_a_given_leave_is_known() -> None:
    session = Session(arrive=ARRIVE, leave=ARRIVE + timedelta(hours=2))
    assert session.departure_known


def test_the_estimate_survives_a_round_trip() -> None:
    session = Session(arrive=ARRIVE, expected_dwell_s=600)
    assert Session.model_validate(session.model_dump()) == session
    assert Session.model_validate_json(session.model_dump_json()) == session


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"leave": ARRIVE + timedelta(hours=1), "expected_dwell_s": 60}, "expected_dwell_s"),
        ({"departure_known": True, "expected_dwell_s": 60}, "leave"),
        ({"expected_dwell_s": 0}, "expected_dwell_s"),
        ({"expected_dwell_s": 31 * 86400}, "expected_dwell_s"),
        ({"expected_dwell_s": 60.5}, "expected_dwell_s"),
        ({"expected_dwell_s": True}, "expected_dwell_s"),
    ],
)
def test_contradictory_or_bad_departures_are_refused(data: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as err:
        Session(arrive=ARRIVE, **data)  # type: ignore[arg-type]
    assert field in str(err.value)

"""Timestamps at the boundary (docs/semantics.md T1-T3): RFC 3339 with a mandatory
offset, whole epoch seconds by floor, and the original text written back."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import TIMESTAMPS

from ocpp_schedule import OcppScheduleError, TimestampError
from ocpp_schedule.wire._timestamps import (
    epoch_or_datetime,
    format_timestamp,
    from_epoch,
    parse_timestamp,
    require_aware,
    to_epoch,
)

PROPS = settings(max_examples=100, deadline=None)


# ----------------------------------------------------------------- accepted


@pytest.mark.parametrize(
    ("text", "epoch", "offset_minutes"),
    [
        ("2024-01-01T00:00:00Z", 1_704_067_200, 0),
        ("2024-01-01t00:00:00z", 1_704_067_200, 0),
        ("2024-01-01T01:00:00+01:00", 1_704_067_200, 60),
        ("2023-12-31T19:30:00-04:30", 1_704_067_200, -270),
        ("2024-01-01T00:00:00+00:00", 1_704_067_200, 0),
        ("2024-01-01T00:00:00-00:00", 1_704_067_200, 0),
        ("2024-01-01T05:30:00.5+05:30", 1_704_067_200, 330),
        ("2024-01-01T00:00:00.123456789Z", 1_704_067_200, 0),
        ("2024-01-01T23:59:59+23:59", 1_704_067_200 + 86_399 - 86_340, 1439),
        ("2024-02-29T12:00:00Z", 1_709_208_000, 0),
        ("1970-01-01T00:00:00Z", 0, 0),
    ],
)
def test_accepted_forms(text: str, epoch: int, offset_minutes: int) -> None:
    value = parse_timestamp(text)
    assert value.tzinfo is not None
    assert value.utcoffset() == timedelta(minutes=offset_minutes)
    assert to_epoch(value) == epoch
    assert format_timestamp(value) == text


@pytest.mark.parametrize("digits", range(1, 10))
def test_fractional_seconds_of_any_length(digits: int) -> None:
    text = "2024-03-01T10:00:00." + "9" * digits + "Z"
    value = parse_timestamp(text)
    assert value.microsecond == int(("9" * digits + "000000")[:6])
    assert to_epoch(value) == to_epoch(parse_timestamp("2024-03-01T10:00:00Z"))
    assert format_timestamp(value) == text


# ----------------------------------------------------------------- rejected


@pytest.mark.parametrize(
    "text",
    [
        "2024-01-01T00:00:00",
        "2024-01-01T00:00:00.000",
        "2024-01-01T00:00",
        "2024-01-01 00:00:00",
    ],
)
def test_offset_is_required(text: str) -> None:
    with pytest.raises(TimestampError, match="offset") as info:
        parse_timestamp(text, field="validFrom")
    assert info.value.field == "validFrom"
    assert info.value.rule == "timestamps must carry an offset"


@pytest.mark.parametrize(
    "text",
    [
        "2024-06-30T23:59:60Z",  # leap second
        "2024-13-01T00:00:00Z",  # month 13
        "2024-00-10T00:00:00Z",
        "2024-01-32T00:00:00Z",
        "2023-02-29T00:00:00Z",  # not a leap year
        "2024-01-01T24:00:00Z",
        "2024-01-01T00:60:00Z",
        "2024-01-01T00:00:00+24:00",
        "2024-01-01T00:00:00+01:60",
        "2024-01-01T00:00:00+0100",
        "2024-01-01T00:00:00+01",
        "2024-01-01T00:00:00.Z",
        "2024-01-01T00:00:00,5Z",
        "0000-01-01T00:00:00Z",
        "24-01-01T00:00:00Z",
        "2024-1-01T00:00:00Z",
        "2024-01-01 00:00:00Z",
        "2024-01-01T00:00:00Z\n",
        " 2024-01-01T00:00:00Z",
        "2024-01-01T00:00:00ZZ",
        "2024-01-01",
        "",
        "now",
        "\u0662\u0660\u0662\u0664-01-01T00:00:00Z",  # Arabic-Indic digits
    ],
)
def test_malformed_text_is_rejected(text: str) -> None:
    with pytest.raises(TimestampError) as info:
        parse_timestamp(text, field="startSchedule")
    assert info.value.field == "startSchedule"
    assert isinstance(info.value, OcppScheduleError)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("value", [1_704_067_200, 1.5, None, b"2024-01-01T00:00:00Z", [], {}])
def test_non_strings_are_rejected(value: object) -> None:
    with pytest.raises(TimestampError):
        parse_timestamp(value)


def test_datetimes_pass_through_when_aware() -> None:
    aware = datetime(2024, 1, 1, tzinfo=UTC)
    assert parse_timestamp(aware) is aware
    with pytest.raises(TimestampError):
        parse_timestamp(datetime(2024, 1, 1))
    with pytest.raises(TimestampError):
        require_aware(datetime(2024, 1, 1), "start")
    assert require_aware(aware) is aware


# ----------------------------------------------------------------- epoch


@pytest.mark.parametrize(
    ("text", "epoch"),
    [
        ("1970-01-01T00:00:00.999999999Z", 0),
        ("1969-12-31T23:59:59.5Z", -1),
        ("1969-12-31T23:59:59.000001Z", -1),
        ("1969-12-31T23:59:59Z", -1),
        ("1960-06-01T00:00:00.25+02:00", -302_493_600),
        ("2024-01-01T00:00:59.999Z", 1_704_067_259),
    ],
)
def test_to_epoch_floors(text: str, epoch: int) -> None:
    assert to_epoch(parse_timestamp(text)) == epoch


def test_to_epoch_floors_plain_datetimes_before_1970() -> None:
    assert to_epoch(datetime(1969, 12, 31, 23, 59, 59, 1, tzinfo=UTC)) == -1
    assert to_epoch(datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)) == -1
    assert to_epoch(datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC)) == 0
    with pytest.raises(TimestampError):
        to_epoch(datetime(1970, 1, 1))


_OFFSET_MINUTES = st.integers(-(24 * 60 - 1), 24 * 60 - 1)


@PROPS
@given(
    st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2200, 12, 30)),
    st.integers(0, 9),
    st.data(),
    _OFFSET_MINUTES,
)
def test_parse_against_calendar_arithmetic(
    local: datetime, digits: int, data: st.DataObject, offset: int
) -> None:
    """Epoch seconds computed independently (calendar.timegm minus the offset)."""
    text = local.strftime("%Y-%m-%dT%H:%M:%S")
    if digits:
        text += f".{data.draw(st.integers(0, 10**digits - 1)):0{digits}d}"
    sign = "-" if offset < 0 else "+"
    text += f"{sign}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"
    expected = calendar.timegm(local.replace(microsecond=0).timetuple()) - offset * 60
    value = parse_timestamp(text)
    assert to_epoch(value) == expected
    assert value.utcoffset() == timedelta(minutes=offset)
    assert format_timestamp(value) == text


@PROPS
@given(TIMESTAMPS)
def test_parsed_text_is_written_back_verbatim(text: str) -> None:
    value = parse_timestamp(text)
    assert format_timestamp(value) == text
    assert format_timestamp(parse_timestamp(format_timestamp(value))) == text


@PROPS
@given(
    st.datetimes(
        min_value=datetime(1900, 1, 2),
        max_value=datetime(2200, 12, 30),
        timezones=st.builds(lambda m: timezone(timedelta(minutes=m)), _OFFSET_MINUTES),
    )
)
def test_plain_datetimes_are_written_in_utc(value: datetime) -> None:
    text = format_timestamp(value)
    assert text.endswith("Z")
    assert parse_timestamp(text) == value
    utc = value.astimezone(UTC)
    assert text.startswith(utc.strftime("%Y-%m-%dT%H:%M:%S"))
    assert ("." in text) == bool(utc.microsecond)


def test_format_plain_datetimes() -> None:
    assert format_timestamp(datetime(2024, 1, 1, tzinfo=UTC)) == "2024-01-01T00:00:00Z"
    assert (
        format_timestamp(datetime(2024, 1, 1, 2, tzinfo=timezone(timedelta(hours=2))))
        == "2024-01-01T00:00:00Z"
    )
    assert (
        format_timestamp(datetime(2024, 1, 1, 0, 0, 0, 5, tzinfo=UTC))
        == "2024-01-01T00:00:00.000005Z"
    )
    with pytest.raises(TimestampError):
        format_timestamp(datetime(2024, 1, 1))


def test_derived_datetimes_do_not_keep_the_original_text() -> None:
    """Arithmetic on a parsed value gives a new instant; its old text must not leak."""
    value = parse_timestamp("2024-01-01T00:00:00.000+02:00")
    later = value + timedelta(hours=1)
    assert format_timestamp(later) == "2023-12-31T23:00:00Z"
    assert format_timestamp(value.astimezone(UTC)) == "2023-12-31T22:00:00Z"
    assert format_timestamp(value.replace(hour=3)) == "2024-01-01T01:00:00Z"
    assert format_timestamp(value) == "2024-01-01T00:00:00.000+02:00"


@PROPS
@given(st.integers(-(10**10), 10**10))
def test_from_epoch_inverts_to_epoch(seconds: int) -> None:
    value = from_epoch(seconds)
    assert value.utcoffset() == timedelta(0)
    assert to_epoch(value) == seconds
    assert to_epoch(parse_timestamp(format_timestamp(value))) == seconds


def test_epoch_or_datetime() -> None:
    assert epoch_or_datetime(5, "start") == 5
    assert epoch_or_datetime(-5, "start") == -5
    assert epoch_or_datetime(datetime(1970, 1, 1, 0, 0, 1, 500_000, tzinfo=UTC), "start") == 1
    assert epoch_or_datetime("1970-01-01T00:00:01.9Z", "start") == 1
    for bad in (True, datetime(2024, 1, 1), "2024-01-01T00:00:00", 1.5, None):
        with pytest.raises(TimestampError) as info:
            epoch_or_datetime(bad, "start")  # type: ignore[arg-type]
        assert info.value.field == "start"

"""Timestamps at the boundary: RFC 3339 text in, aware datetimes and epoch seconds out.

OCPP timestamps are RFC 3339 ``date-time`` values. This module accepts them
only with an explicit offset (``Z`` or ``+hh:mm``): a naive timestamp is an
error, never a guess. Fractional seconds are accepted and kept on the model;
the engine works on whole epoch seconds and drops the fraction (floor).

A timestamp read from text remembers that text, so writing a payload back
gives exactly the string that was read (``.000Z`` stays ``.000Z``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from ..errors import QueryError, TimestampError

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:[0-5]\d)$"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)


class OcppDateTime(datetime):
    """A datetime read from an OCPP payload; it keeps the text it was read from."""

    __slots__ = ("ocpp_text",)
    ocpp_text: str


def parse_timestamp(value: Any, field: str | None = None) -> datetime:
    """Read an RFC 3339 timestamp with an offset; an aware datetime passes through.

    Raises :class:`TimestampError` for naive values, other types and malformed text.
    """
    if isinstance(value, datetime):
        return require_aware(value, field)
    if not isinstance(value, str):
        raise TimestampError(
            f"expected an RFC 3339 date-time string, got {type(value).__name__}",
            field=field,
            rule="date-time",
        )
    m = _RFC3339.match(value)
    if m is None:
        if re.match(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$", value):
            raise TimestampError(
                f"timestamp {value!r} has no time-zone offset; add 'Z' or '+hh:mm'",
                field=field,
                rule="timestamps must carry an offset",
            )
        raise TimestampError(
            f"{value!r} is not an RFC 3339 date-time", field=field, rule="date-time"
        )
    text = value[:-1] + "+00:00" if value[-1] in "Zz" else value
    frac = m.group(7)
    if frac is not None and len(frac) > 7:
        text = text.replace(frac, frac[:7], 1)
    try:
        parsed = datetime.fromisoformat(text.replace("t", "T"))
    except ValueError as exc:
        raise TimestampError(f"{value!r}: {exc}", field=field, rule="date-time") from None
    stamped = OcppDateTime(
        parsed.year,
        parsed.month,
        parsed.day,
        parsed.hour,
        parsed.minute,
        parsed.second,
        parsed.microsecond,
        tzinfo=parsed.tzinfo,
    )
    stamped.ocpp_text = value
    return stamped


def require_aware(value: datetime, field: str | None = None) -> datetime:
    """Return ``value`` if it carries a UTC offset, else raise :class:`TimestampError`."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise TimestampError(
            f"datetime {value.isoformat()} has no time zone",
            field=field,
            rule="timestamps must carry an offset",
        )
    return value


def format_timestamp(value: datetime) -> str:
    """Write a datetime as RFC 3339: the original text if it was read, else ``...Z`` in UTC."""
    if type(value) is datetime and value.tzinfo is UTC:
        # The common case (every instant the engine writes): isoformat ends "+00:00" and
        # shows the microseconds exactly when there are some, as the general path does.
        return value.isoformat()[:-6] + "Z"
    text = getattr(value, "ocpp_text", None)
    if text is not None:
        return str(text)
    require_aware(value)
    utc = value.astimezone(UTC)
    spec = "microseconds" if utc.microsecond else "seconds"
    return utc.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def to_epoch(value: datetime) -> int:
    """Whole epoch seconds of an aware datetime, sub-second part dropped (floor)."""
    require_aware(value)
    return (value - _EPOCH) // _SECOND


def from_epoch(seconds: int) -> datetime:
    """The UTC datetime of whole epoch seconds."""
    return _EPOCH + timedelta(seconds=seconds)


def epoch_or_datetime(value: datetime | int, field: str) -> int:
    """Accept an aware datetime or epoch seconds (int) and return epoch seconds."""
    if isinstance(value, bool):
        raise TimestampError("expected a datetime or epoch seconds, got bool", field=field)
    if isinstance(value, int):
        return value
    if isinstance(value, datetime):
        if value.utcoffset() is None:
            require_aware(value, field)
        return (value - _EPOCH) // _SECOND
    if isinstance(value, str):
        return to_epoch(parse_timestamp(value, field))
    raise TimestampError(
        f"expected a datetime or epoch seconds, got {type(value).__name__}", field=field
    )


FIRST_SECOND = -62_135_596_800
"""0001-01-01T00:00:00Z in epoch seconds: the first instant a datetime can hold."""
LAST_SECOND = 253_402_300_799
"""9999-12-31T23:59:59Z in epoch seconds: the last instant a datetime can hold."""


def check_window(start: int, duration: int, margin: int = 0) -> None:
    """Refuse a window that leaves the calendar datetimes can express.

    ``margin`` seconds are kept free at both ends (local-time arithmetic near
    the ends of the calendar needs a day).
    """
    if start < FIRST_SECOND + margin:
        raise QueryError("the window must start after 0001-01-01", field="start")
    if start + duration > LAST_SECOND + 1 - margin:
        raise QueryError("the window must end before 9999-12-31", field="duration")

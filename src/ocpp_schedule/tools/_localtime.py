"""Plans written in local time, turned into UTC-anchored OCPP profiles that survive DST.

An operator says "limit to 11 kW from 17:00 to 21:00 on weekdays, Europe/Berlin".
OCPP Recurring profiles repeat every 86 400 s (or 604 800 s) from a UTC
instant, so one profile cannot follow a zone across a change of its UTC
offset. :func:`plan_profiles` therefore emits one validity-bounded Recurring
profile per stretch of constant UTC offset in the horizon: ``validFrom`` /
``validTo`` at the offset changes, ``startSchedule`` at the local midnight
(Daily) or local Monday 00:00 (Weekly) written in that stretch's offset.
Inside a stretch, local wall-clock time is UTC plus a constant, so the
recurrence reproduces the plan exactly.

The plan's meaning (``docs/local-time.md``): the limit at an instant is the
plan's limit for that instant's local wall-clock time (weekday and time of
day). Local times that do not exist (the spring gap) never occur; local times
that occur twice (the autumn fold) have the same limit both times. A window
that starts or ends inside the gap therefore starts or ends at the offset
change, a window wholly inside the gap does not happen that day, and a window
boundary inside the fold is crossed twice.

Only ``dateutil.tz`` is used. It reads the compiled zone tables, whose explicit
transitions end in 2037, and does not extrapolate the zone's rule beyond them;
horizons that end after 2037 are refused rather than answered wrongly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, tzinfo
from enum import IntEnum
from functools import lru_cache
from itertools import pairwise
from typing import Any

from dateutil import tz

from ..errors import PlanError
from ..wire._enums import (
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    OcppVersion,
    RecurrencyKind,
)
from ..wire._models import SetChargingProfileRequest
from ..wire._payloads import parse_version, write_set_charging_profile
from ..wire._timestamps import format_timestamp, from_epoch, require_aware, to_epoch

__all__ = [
    "EVERY_DAY",
    "WEEKDAYS",
    "WEEKEND",
    "LocalTimePlan",
    "LocalWindow",
    "OffsetStretch",
    "PlannedProfiles",
    "Weekday",
    "offset_stretches",
    "plan_profiles",
]

DAY = 86_400
WEEK = 7 * DAY
_LAST_SUPPORTED = 2_145_916_800  # 2038-01-01T00:00:00Z: the end of dateutil's zone tables
_SCAN_STEP = 3_600


class Weekday(IntEnum):
    """Days of the week, Monday = 0 (as ``datetime.weekday()``)."""

    MONDAY = 0
    TUESDAY = 1
    WEDNESDAY = 2
    THURSDAY = 3
    FRIDAY = 4
    SATURDAY = 5
    SUNDAY = 6


WEEKDAYS = frozenset(Weekday(d) for d in range(5))
"""Monday to Friday."""
WEEKEND = frozenset({Weekday.SATURDAY, Weekday.SUNDAY})
"""Saturday and Sunday."""
EVERY_DAY = frozenset(Weekday)
"""Every day of the week."""

_DAY_NAMES = {
    "mon": Weekday.MONDAY,
    "tue": Weekday.TUESDAY,
    "wed": Weekday.WEDNESDAY,
    "thu": Weekday.THURSDAY,
    "fri": Weekday.FRIDAY,
    "sat": Weekday.SATURDAY,
    "sun": Weekday.SUNDAY,
}
_DAY_SETS = {
    "weekdays": WEEKDAYS,
    "weekend": WEEKEND,
    "weekends": WEEKEND,
    "daily": EVERY_DAY,
    "every day": EVERY_DAY,
    "all": EVERY_DAY,
}
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_ZONE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*$")


def _days(value: object) -> frozenset[Weekday]:
    if isinstance(value, str):
        key = value.strip().lower()
        if key in _DAY_SETS:
            return _DAY_SETS[key]
        items: Iterable[object] = [part for part in re.split(r"[,\s]+", key) if part]
    elif isinstance(value, Iterable):
        items = value
    else:
        raise PlanError(f"days must be names or numbers, not {value!r}", field="days")
    out = set()
    for item in items:
        if isinstance(item, bool):
            raise PlanError(f"{item!r} is not a day", field="days")
        if isinstance(item, int):
            if not 0 <= item <= 6:
                raise PlanError(f"day {item} is outside 0 (Monday)..6 (Sunday)", field="days")
            out.add(Weekday(item))
        elif isinstance(item, str) and item.strip().lower()[:3] in _DAY_NAMES:
            out.add(_DAY_NAMES[item.strip().lower()[:3]])
        else:
            raise PlanError(f"{item!r} is not a day of the week", field="days")
    if not out:
        raise PlanError("a window needs at least one day", field="days")
    return frozenset(out)


def _clock(value: object, name: str) -> int:
    """Seconds after local midnight of ``HH:MM[:SS]`` text or a ``time`` (24:00 allowed)."""
    if isinstance(value, time):
        if value.tzinfo is not None:
            raise PlanError("a window time is local wall-clock time, without a zone", field=name)
        if value.microsecond:
            raise PlanError("window times are whole seconds", field=name)
        return value.hour * 3600 + value.minute * 60 + value.second
    if not isinstance(value, str):
        raise PlanError(f"expected HH:MM text or a time, not {value!r}", field=name)
    m = _CLOCK.match(value.strip())
    if m is None:
        raise PlanError(f"{value!r} is not HH:MM or HH:MM:SS", field=name)
    h, mi, s = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    seconds = h * 3600 + mi * 60 + s
    if mi > 59 or s > 59 or seconds > DAY:
        raise PlanError(f"{value!r} is not a time of day (00:00..24:00)", field=name)
    return seconds


def _limit(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PlanError(f"expected a number, not {value!r}", field=name)
    limit = float(value)
    if not (limit >= 0 and limit != float("inf")):
        raise PlanError(f"limit {value!r} must be a finite number >= 0", field=name)
    return limit


@dataclass(frozen=True)
class LocalWindow:
    """A limit on some days from ``start`` to ``end`` local wall-clock time.

    ``start``/``end`` are ``"HH:MM"`` (or ``"HH:MM:SS"``) text or ``datetime.time``;
    ``end`` may be ``"24:00"``. An ``end`` at or before ``start`` runs past midnight
    into the next day (``"22:00"``-``"06:00"``); ``days`` are the days the window
    *starts* on: ``"weekdays"``, ``"weekend"``, ``"daily"``, day names
    (``"mon,tue"``) or numbers (0 = Monday). ``start == end`` is refused (say
    ``"00:00"``-``"24:00"`` for a whole day).
    """

    start: str | time
    end: str | time
    limit: float
    days: str | Iterable[int | str] = "daily"
    start_second: int = field(init=False, repr=False, compare=False)
    """``start`` as seconds after local midnight (computed)."""
    end_second: int = field(init=False, repr=False, compare=False)
    """``end`` as seconds after the local midnight of the start day: after ``start_second``,
    at most a day later (computed)."""
    weekdays: frozenset[Weekday] = field(init=False, repr=False)
    """``days`` as a set of :class:`Weekday` (computed)."""

    def __post_init__(self) -> None:
        start = _clock(self.start, "start")
        end = _clock(self.end, "end")
        if start == DAY:
            raise PlanError("a window cannot start at 24:00; start at 00:00", field="start")
        if start == end:
            raise PlanError(
                f"start and end are both {self.start!r}: say 00:00-24:00 for a whole day",
                field="end",
            )
        if end <= start:
            end += DAY
        object.__setattr__(self, "start_second", start)
        object.__setattr__(self, "end_second", end)
        object.__setattr__(self, "limit", _limit(self.limit, "limit"))
        object.__setattr__(self, "weekdays", _days(self.days))
        if not isinstance(self.days, str):
            object.__setattr__(self, "days", tuple(sorted(self.weekdays)))

    def week_intervals(self) -> list[tuple[int, int]]:
        """The window as ``[start, end)`` seconds after local Monday 00:00 (wrapped at a week)."""
        out = []
        for day in sorted(self.weekdays):
            lo = day * DAY + self.start_second
            hi = day * DAY + self.end_second
            if hi <= WEEK:
                out.append((lo, hi))
            else:
                out.append((lo, WEEK))
                out.append((0, hi - WEEK))
        return out


@lru_cache(maxsize=64)
def _zone(name: str) -> tzinfo:
    if not _ZONE_NAME.match(name):
        raise PlanError(f"{name!r} is not an IANA time-zone name", field="zone")
    found = tz.gettz(name)
    if found is None or isinstance(found, tz.tzlocal):
        raise PlanError(f"unknown time zone {name!r}", field="zone", rule="IANA tz database")
    return found


@dataclass(frozen=True)
class LocalTimePlan:
    """A limit schedule written in local time: ``base_limit`` outside the windows.

    ``zone`` is an IANA name (``"Europe/Berlin"``); ``unit`` is ``A`` (per phase) or
    ``W`` (total); ``number_phases`` (1..3), when given, is written on every period.
    Where windows overlap, the lowest of their limits applies.
    """

    zone: str
    unit: ChargingRateUnit | str
    base_limit: float
    windows: tuple[LocalWindow, ...] = ()
    number_phases: int | None = None
    _steps: tuple[tuple[int, float], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _zone(self.zone)
        try:
            unit = ChargingRateUnit(str(self.unit).upper())
        except ValueError:
            raise PlanError(f"unknown unit {self.unit!r}; use A or W", field="unit") from None
        object.__setattr__(self, "unit", unit)
        object.__setattr__(self, "base_limit", _limit(self.base_limit, "base_limit"))
        windows = tuple(self.windows)
        for i, w in enumerate(windows):
            if not isinstance(w, LocalWindow):
                raise PlanError(f"expected a LocalWindow, not {w!r}", field=f"windows[{i}]")
        object.__setattr__(self, "windows", windows)
        if self.number_phases is not None and (
            isinstance(self.number_phases, bool) or self.number_phases not in (1, 2, 3)
        ):
            raise PlanError(
                f"numberPhases {self.number_phases!r} is outside 1..3", field="number_phases"
            )
        object.__setattr__(self, "_steps", self._week_steps())

    @property
    def rate_unit(self) -> ChargingRateUnit:
        """``unit`` as the enum."""
        return ChargingRateUnit(self.unit)

    @property
    def tzinfo(self) -> tzinfo:
        """The zone, from ``dateutil.tz``."""
        return _zone(self.zone)

    def _week_steps(self) -> tuple[tuple[int, float], ...]:
        cuts = {0}
        intervals = []
        for w in self.windows:
            for lo, hi in w.week_intervals():
                cuts.update((lo, hi))
                intervals.append((lo, hi, w.limit))
        cuts.discard(WEEK)
        steps: list[tuple[int, float]] = []
        for t in sorted(cuts):
            covering = [lim for lo, hi, lim in intervals if lo <= t < hi]
            limit = min(covering) if covering else self.base_limit
            if not steps or steps[-1][1] != limit:
                steps.append((t, limit))
        return tuple(steps)

    @property
    def week_steps(self) -> tuple[tuple[int, float], ...]:
        """The plan as ``(second after local Monday 00:00, limit)`` steps, from 0."""
        return self._steps

    @property
    def recurrency(self) -> RecurrencyKind:
        """Daily when every day of the week looks the same, else Weekly."""
        points = {(t + k * DAY) % WEEK for t, _ in self._steps for k in range(7)}
        for t in points:
            if self.local_limit(t // DAY, t % DAY) != self.local_limit(0, t % DAY):
                return RecurrencyKind.WEEKLY
        return RecurrencyKind.DAILY

    def local_limit(self, weekday: int, second: int) -> float:
        """The limit at a local wall-clock time: ``weekday`` (0 = Monday), ``second`` of the day."""
        t = int(weekday) * DAY + second
        limit = self._steps[0][1]
        for start, value in self._steps:
            if start > t:
                break
            limit = value
        return limit

    def limit_at(self, instant: datetime | int) -> float:
        """The plan's limit at an instant: the limit of its local wall-clock time."""
        epoch = instant if isinstance(instant, int) else to_epoch(instant)
        local = datetime.fromtimestamp(epoch, self.tzinfo)
        second = local.hour * 3600 + local.minute * 60 + local.second
        return self.local_limit(local.weekday(), second)

    def schedule_periods(self) -> list[dict[str, Any]]:
        """The ``chargingSchedulePeriod`` list of one recurrence (Daily or Weekly)."""
        length = self.recurrency.seconds
        out: list[dict[str, Any]] = []
        for start, limit in self._steps:
            if start >= length:
                break
            period: dict[str, Any] = {"startPeriod": start, "limit": limit}
            if self.number_phases is not None:
                period["numberPhases"] = self.number_phases
            out.append(period)
        return out


# ----------------------------------------------------------------------- UTC offsets


def _offset(zone: tzinfo, epoch: int) -> int:
    delta = datetime.fromtimestamp(epoch, zone).utcoffset()
    return 0 if delta is None else int(delta.total_seconds())


@lru_cache(maxsize=256)
def _year_transitions(name: str, year: int) -> tuple[int, ...]:
    """Instants t of a UTC year at which the zone's UTC offset differs from the second before."""
    zone = _zone(name)
    lo = to_epoch(datetime(year, 1, 1, tzinfo=tz.UTC))
    hi = to_epoch(datetime(year + 1, 1, 1, tzinfo=tz.UTC))
    samples = [lo - 1, *range(lo, hi, _SCAN_STEP), hi - 1]
    out = []
    a, off_a = samples[0], _offset(zone, samples[0])
    for b in samples[1:]:
        off_b = _offset(zone, b)
        while off_a != off_b:
            x, y = a, b  # offset(x) == off_a, offset(y) != off_a
            while y - x > 1:
                mid = (x + y) // 2
                if _offset(zone, mid) == off_a:
                    x = mid
                else:
                    y = mid
            out.append(y)
            a, off_a = y, _offset(zone, y)
        a, off_a = b, off_b
    return tuple(out)


@dataclass(frozen=True)
class OffsetStretch:
    """A stretch ``[start, end)`` (UTC datetimes; ``start_epoch``, ``end_epoch`` in epoch
    seconds) in which the zone's UTC offset is constant."""

    start_epoch: int
    end_epoch: int
    utc_offset: int
    """Seconds east of UTC."""

    @property
    def start(self) -> datetime:
        """Where the stretch starts, a UTC datetime."""
        return from_epoch(self.start_epoch)

    @property
    def end(self) -> datetime:
        """Where the stretch ends (exclusive), a UTC datetime."""
        return from_epoch(self.end_epoch)

    @property
    def valid_from(self) -> datetime:
        """``start``, as the profile field it becomes (``validFrom``)."""
        return from_epoch(self.start_epoch)

    @property
    def valid_to(self) -> datetime:
        """``end``, as the profile field it becomes (``validTo``)."""
        return from_epoch(self.end_epoch)


def offset_stretches(zone: str, start: datetime | int, end: datetime | int) -> list[OffsetStretch]:
    """``[start, end)`` cut at the zone's UTC-offset changes, with each stretch's offset."""
    lo = start if isinstance(start, int) else to_epoch(require_aware(start, "start"))
    hi = end if isinstance(end, int) else to_epoch(require_aware(end, "end"))
    if hi <= lo:
        raise PlanError("the horizon's end must be after its start", field="end")
    if hi > _LAST_SUPPORTED:
        raise PlanError(
            "the horizon ends after 2037; dateutil's zone tables end there and later offsets "
            "would be guessed",
            field="end",
            rule="python-dateutil tz",
        )
    zone_info = _zone(zone)
    cuts: list[int] = []
    for year in range(from_epoch(lo).year, from_epoch(hi - 1).year + 1):
        cuts.extend(t for t in _year_transitions(zone, year) if lo < t < hi)
    bounds = [lo, *sorted(cuts), hi]
    return [OffsetStretch(a, b, _offset(zone_info, a)) for a, b in pairwise(bounds)]


# -------------------------------------------------------------------------- profiles


@dataclass(frozen=True)
class PlannedProfiles:
    """What :func:`plan_profiles` emits.

    ``payloads`` are SetChargingProfile request payloads of ``version``, to send in
    order; ``requests`` the same as models; ``stretches`` the UTC-offset stretch
    each one covers. ``resend_before`` is the instant by which the plan must be
    sent again: the end of the horizon, or the start of the first stretch left out
    when ``max_profiles`` cut the list short.
    """

    version: OcppVersion
    payloads: tuple[dict[str, Any], ...]
    requests: tuple[SetChargingProfileRequest, ...]
    stretches: tuple[OffsetStretch, ...]
    resend_before: datetime

    @property
    def resend_before_epoch(self) -> int:
        """``resend_before`` in epoch seconds."""
        return to_epoch(self.resend_before)


def _offset_text(seconds: int) -> str:
    sign = "+" if seconds >= 0 else "-"
    h, m = divmod(abs(seconds) // 60, 60)
    return f"{sign}{h:02d}:{m:02d}"


def _anchor(stretch: OffsetStretch, recurrence: RecurrencyKind) -> str:
    """Local midnight (Daily) or local Monday 00:00 (Weekly) at or before the stretch's start.

    Written in the stretch's own offset (``2024-03-31T00:00:00+02:00``); an offset
    that is not whole minutes (historic local mean time) is written in UTC.
    """
    wall = stretch.start_epoch + stretch.utc_offset
    day = wall // DAY
    if recurrence is RecurrencyKind.WEEKLY:
        day -= (day + 3) % 7  # 1970-01-01 was a Thursday (weekday 3)
    wall_midnight = day * DAY
    if stretch.utc_offset % 60:
        return format_timestamp(from_epoch(wall_midnight - stretch.utc_offset))
    local = from_epoch(wall_midnight).replace(tzinfo=None)
    return local.strftime("%Y-%m-%dT%H:%M:%S") + _offset_text(stretch.utc_offset)


def plan_profiles(
    plan: LocalTimePlan,
    *,
    start: datetime,
    end: datetime,
    version: OcppVersion | str,
    evse_id: int,
    purpose: ChargingProfilePurpose | str = ChargingProfilePurpose.TX_DEFAULT_PROFILE,
    first_id: int = 1,
    stack_level: int = 0,
    transaction_id: str | None = None,
    max_profiles: int | None = None,
) -> PlannedProfiles:
    """SetChargingProfile payloads that impose ``plan`` over ``[start, end)``.

    One Recurring profile per stretch of constant UTC offset (see the module
    docstring), with ids ``first_id``, ``first_id + 1``, ... in time order. In
    2.0.1/2.1 every profile has ``stack_level``: their validities do not overlap,
    so K01.FR.06 accepts them. In 1.6 a profile with the same stack level, purpose
    and connector *replaces* the installed one, so the profiles take
    ``stack_level``, ``stack_level + 1``, ...; only one is ever in force, so the
    order of levels does not matter among them.

    ``purpose`` and ``evse_id`` are the caller's (a TxProfile needs
    ``transaction_id``); ``max_profiles`` caps how many are emitted (a station's
    storage or stack levels), and ``resend_before`` then says when to send the next.
    Raises :class:`PlanError` for an empty or unsupported horizon, and
    :class:`~ocpp_schedule.errors.VersionError` when ``version`` cannot carry the
    limits (1.6: multiples of 0.1).
    """
    v = parse_version(version)
    require_aware(start, "start")
    require_aware(end, "end")
    try:
        purpose_enum = ChargingProfilePurpose(purpose)
    except ValueError:
        raise PlanError(f"unknown purpose {purpose!r}", field="purpose") from None
    if purpose_enum.is_local:
        raise PlanError(
            f"{purpose_enum.value} profiles are set by the station, not sent by the CSMS",
            field="purpose",
            rule="K01.FR.22",
        )
    if (purpose_enum is ChargingProfilePurpose.TX_PROFILE) != (transaction_id is not None):
        raise PlanError(
            "transaction_id goes with purpose TxProfile, and only with it",
            field="transaction_id",
            rule="K01.FR.03",
        )
    if max_profiles is not None and max_profiles < 1:
        raise PlanError("max_profiles must be at least 1", field="max_profiles")
    stretches = offset_stretches(plan.zone, start, end)
    emitted = stretches if max_profiles is None else stretches[:max_profiles]
    resend = end if len(emitted) == len(stretches) else stretches[len(emitted)].valid_from
    recurrence = plan.recurrency
    periods = plan.schedule_periods()
    requests = []
    payloads = []
    for i, stretch in enumerate(emitted):
        level = stack_level + i if v is OcppVersion.V16 else stack_level
        profile: dict[str, Any] = {
            "id": first_id + i,
            "stackLevel": level,
            "chargingProfilePurpose": purpose_enum.value,
            "chargingProfileKind": ChargingProfileKind.RECURRING.value,
            "recurrencyKind": recurrence.value,
            "validFrom": format_timestamp(stretch.valid_from),
            "validTo": format_timestamp(stretch.valid_to),
            "chargingSchedule": [
                {
                    "id": 1,
                    "startSchedule": _anchor(stretch, recurrence),
                    "chargingRateUnit": plan.rate_unit.value,
                    "chargingSchedulePeriod": periods,
                }
            ],
        }
        if transaction_id is not None:
            profile["transactionId"] = transaction_id
        request = SetChargingProfileRequest.model_validate(
            {"evseId": evse_id, "chargingProfile": profile}
        )
        payloads.append(write_set_charging_profile(request, v))
        requests.append(request)
    return PlannedProfiles(
        version=v,
        payloads=tuple(payloads),
        requests=tuple(requests),
        stretches=tuple(emitted),
        resend_before=from_epoch(to_epoch(resend)),
    )

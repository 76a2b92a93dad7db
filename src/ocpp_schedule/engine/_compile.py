"""Profiles as plain integer data, and the expansion of one profile over a window.

The engine never touches pydantic models in its loops: each installed profile
is compiled once (:func:`compile_profile`, cached on
:class:`~ocpp_schedule.InstalledProfile`) into a :class:`CompiledProfile`
of epoch seconds and tuples. :func:`expand` then yields the pieces of a
window in which the profile is in force, with the period that applies, by
binary search on the period starts: its cost grows with the pieces it returns,
not with the length of the window or the number of periods.

Times are whole epoch seconds; an open bound is ``NEG_INF`` / ``POS_INF``.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from itertools import repeat
from operator import itemgetter, lt, mul, truediv
from typing import Any, NamedTuple, cast

from ..errors import InvalidProfileError, QueryError
from ..station._store import InstalledProfile
from ..wire._enums import (
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    OperationMode,
)
from ..wire._models import MAX_LIMIT, V21_PERIOD_VALUES, period_columns
from ..wire._timestamps import to_epoch
from ._provenance import LimitSource

__all__ = [
    "V2xPeriod",
    "ROUNDING_NOISE",
    "compiled",
    "MAX_LIMIT",
    "NEG_INF",
    "POS_INF",
    "CompiledProfile",
    "compile_profile",
    "expand",
    "in_force_windows",
]

NEG_INF = -(2**62)
POS_INF = 2**62

_NO_LIMIT = math.inf
ROUNDING_NOISE = 5e-7
"""Float noise ignored when rounding to tenths (in units of a tenth): the composite rounds a
limit down as ``(x * 10 + ROUNDING_NOISE) // 1 / 10``."""
_OCCURRENCE_CACHE = 64

_TX_CHAIN = frozenset(
    {
        ChargingProfilePurpose.TX_PROFILE,
        ChargingProfilePurpose.TX_DEFAULT_PROFILE,
        ChargingProfilePurpose.PRIORITY_CHARGING,
    }
)


class V2xPeriod(NamedTuple):
    """One period's 2.1 fields as floats in the schedule's unit (None: absent).

    ``limit_phases`` is (L1, L2, L3) when ``limit_L2`` or ``limit_L3`` is given
    (``limit`` is then L1's; a missing L2 or L3 value is L1's, V21-8), else
    None. ``discharge_phases``, ``setpoint_phases`` and ``reactive_phases`` are
    the same for ``dischargeLimit``, ``setpoint`` and ``setpointReactive``.
    ``mode`` is the period's ``operationMode`` (None: ChargingOnly).
    """

    limit_phases: tuple[float, float, float] | None
    discharge: float | None
    discharge_phases: tuple[float, float, float] | None
    setpoint: float | None
    setpoint_phases: tuple[float, float, float] | None
    reactive: float | None
    reactive_phases: tuple[float, float, float] | None
    mode: OperationMode | None


class CompiledProfile:
    """One installed profile's schedule as plain numbers.

    ``anchor`` is the epoch second of ``startPeriod`` 0 for Absolute,
    Recurring and Dynamic schedules, or None when the schedule is anchored at
    the start of charging (Relative, and 1.6 Absolute without startSchedule).
    ``recurrence`` is 86 400 / 604 800 for Recurring, else 0. ``duration`` is
    the in-force length from each anchor (``POS_INF`` when open, cut at the
    recurrence). ``limits`` are in the schedule's unit (``unit_w`` True for W),
    ``phases`` are 0 where a period names none.
    """

    __slots__ = (
        "_occurrences",
        "_phases_with",
        "anchor",
        "duration",
        "evse_id",
        "limits",
        "min_rate",
        "phases",
        "profile_id",
        "purpose",
        "recurrence",
        "soc_limit",
        "source",
        "sources",
        "stack_level",
        "starts",
        "transaction_id",
        "tx_min_rate",
        "unit_w",
        "v2x",
        "valid_from",
        "valid_to",
    )

    def __init__(
        self,
        *,
        profile_id: int,
        evse_id: int,
        purpose: ChargingProfilePurpose,
        stack_level: int,
        anchor: int | None,
        recurrence: int,
        duration: int,
        valid_from: int,
        valid_to: int,
        unit_w: bool,
        starts: tuple[int, ...],
        limits: tuple[float, ...],
        phases: tuple[int, ...],
        min_rate: float | None,
        transaction_id: str | None,
        soc_limit: tuple[int, float] | None = None,
        v2x: tuple[V2xPeriod, ...] | None = None,
    ) -> None:
        self.profile_id = profile_id
        self.evse_id = evse_id
        self.purpose = purpose
        self.stack_level = stack_level
        self.anchor = anchor
        self.recurrence = recurrence
        self.duration = duration
        self.valid_from = valid_from
        self.valid_to = valid_to
        self.unit_w = unit_w
        self.starts = starts
        self.limits = limits
        self.phases = phases
        self.min_rate = min_rate
        self.transaction_id = transaction_id
        self.soc_limit = soc_limit
        self.v2x = v2x
        self._phases_with: dict[int, tuple[int, ...]] = {}
        self._occurrences: dict[tuple[float, ...], tuple[list[int], list[Any]]] = {}
        self.source = LimitSource("profile", profile_id, purpose, stack_level, evse_id)
        self.sources = (self.source,)
        """``(source,)``: an answer period's ``sources`` when this profile alone set it."""
        self.tx_min_rate = min_rate if purpose in _TX_CHAIN else None

    def phases_with(self, default: int) -> tuple[int, ...]:
        """The periods' phases with ``default`` where a period names none (cached)."""
        resolved = self._phases_with.get(default)
        if resolved is None:
            phases = self.phases
            if not any(phases):  # no period names its phases (the usual case), in C
                resolved = (default,) * len(phases)
            elif 0 not in phases:  # every period names them
                resolved = phases
            else:
                resolved = tuple(n or default for n in phases)
            self._phases_with[default] = resolved
        return resolved

    def occurrence(
        self, default_phases: int, anchor: int, voltage: float = 0.0
    ) -> tuple[list[int], list[Any]]:
        """The segments of the occurrence anchored at ``anchor``, cached.

        Returns ``(starts, segments)``: the absolute start of each period that
        begins before the occurrence ends (``anchor + duration``), and the
        segments ``(start, end, limit, unit_w, phases, self, rounded)`` that cover
        the occurrence, ``rounded`` being the limit rounded down to 0.1 as the answer
        rounds it (:func:`rounded_down`). Validity is not applied here; callers clip
        to a window.
        A profile keeps the occurrences of its last few anchors (a recurring
        profile is asked for the same recurrences again and again).

        A non-zero ``voltage`` asks for the limits in the other unit (A for a W
        profile, W for an A one), each converted with its own period's phases as
        the composite converts them (``limit / (voltage * phases)``,
        ``limit * voltage * phases``: the same operations, so the same floats),
        and the segments say that unit. The composite uses them only where the
        phases in use are always the period's own (issue 16: W1's cap is
        converted once per occurrence instead of once per interval).
        """
        key = (default_phases, anchor) if not voltage else (default_phases, anchor, voltage)
        cached = self._occurrences.get(key)
        if cached is None:
            if len(self._occurrences) >= _OCCURRENCE_CACHE:
                self._occurrences.clear()
            end = anchor + self.duration
            count = bisect_left(self.starts, self.duration)
            starts = [anchor + t for t in self.starts[:count]]
            ends = starts[1:]
            ends.append(end)
            phases = self.phases_with(default_phases)[:count]
            limits: Sequence[float] = self.limits[:count]
            unit_w = self.unit_w
            if voltage:
                limits = list(_converted(limits, phases, voltage, to_w=not unit_w))
                unit_w = not unit_w
            segs: list[Any] = list(
                zip(
                    starts, ends, limits, repeat(unit_w), phases, repeat(self), rounded_down(limits)
                )
            )
            cached = (starts, segs)
            self._occurrences[key] = cached
        return cached

    def forget(self) -> None:
        """Drop the cached occurrences and phases (a long-lived holder bounds its memory)."""
        self._occurrences.clear()
        self._phases_with.clear()

    def __repr__(self) -> str:
        return (
            f"CompiledProfile(id={self.profile_id}, evse={self.evse_id}, "
            f"{self.purpose.value}, stack={self.stack_level}, periods={len(self.starts)})"
        )


def rounded_down(limits: Sequence[float]) -> list[float]:
    """Each limit rounded down to 0.1 as the composite's answer rounds it, computed once
    per occurrence so that the warm merge only picks it (issue 16): ``(x * 10 +
    ROUNDING_NOISE) // 1 / 10``, the same operations, so the same floats (a comprehension:
    half the cost of a chain of ``map`` calls). No limit (infinity) stays infinite."""
    noise = ROUNDING_NOISE
    out = [(x * 10.0 + noise) // 1.0 / 10.0 for x in limits]
    if _NO_LIMIT in limits:  # inf // 1 is nan: a 2.1 period without a limit
        out = [_NO_LIMIT if x == _NO_LIMIT else r for x, r in zip(limits, out, strict=True)]
    return out


def _converted(
    limits: Iterable[float], phases: Iterable[int], voltage: float, *, to_w: bool
) -> Iterable[float]:
    """Limits converted to W (``limit * voltage * phases``) or to A (``limit / (voltage *
    phases)``), each with its period's phases: the composite's conversion, operation for
    operation, done in C by ``map``."""
    if to_w:
        return map(mul, map(mul, limits, repeat(voltage)), phases)
    return map(truediv, limits, map(mul, repeat(voltage), phases))


def _invalid(profile_id: int, message: str, rule: str, field: str) -> InvalidProfileError:
    return InvalidProfileError(f"profile {profile_id}: {message}", field=field, rule=rule)


def _period_limit(period_limit: float | None, mode: OperationMode | None) -> float:
    if period_limit is None:
        # 2.1 periods may omit the limit; Idle means no power at all, other
        # modes without a limit do not constrain (docs/semantics.md).
        return 0.0 if mode is OperationMode.IDLE else _NO_LIMIT
    # A JSON integer is kept as an int on the model (exact JSON); the engine
    # computes in floats, as it did before.
    return float(period_limit)


_V2X_NAMES = (*V21_PERIOD_VALUES, "operation_mode")


def _number(pid: int, period: Any, name: str, low: float, high: float) -> float | None:
    """A 2.1 field of a period as a float, or InvalidProfileError when outside low..high."""
    value = getattr(period, name)
    if value is None:
        return None
    number = float(value)
    if not (math.isfinite(number) and low <= number <= high):
        raise _invalid(
            pid, f"{name} {value!r} is not finite or outside {low:g}..{high:g}", name, name
        )
    return number


def _triple(
    pid: int, period: Any, names: tuple[str, str, str], low: float, high: float
) -> tuple[float | None, tuple[float, float, float] | None]:
    """The all-phase (or L1) value and, when L2 or L3 is given, the (L1, L2, L3) values."""
    first = _number(pid, period, names[0], low, high)
    second = _number(pid, period, names[1], low, high)
    third = _number(pid, period, names[2], low, high)
    if second is None and third is None:
        return first, None
    if first is None and names[0] != "limit":
        # Only limit has its own rule (K01.FR.146, checked by the caller); the others
        # follow it: L2/L3 values need the L1 one (docs/semantics.md V21-36).
        raise _invalid(pid, f"{names[1]}/{names[2]} need {names[0]} (for L1)", "V21-36", names[0])
    l1 = math.inf if first is None else first
    return first, (
        l1,
        l1 if second is None else second,
        l1 if third is None else third,
    )


_V2X_VALUES = itemgetter(*_V2X_NAMES)
"""A period's 2.1 values, from its ``__dict__`` (where a model keeps its fields)."""
_NO_V2X = (None,) * len(_V2X_NAMES)


def _v2x_periods(pid: int, periods: Any) -> tuple[V2xPeriod, ...] | None:
    """Each period's 2.1 fields, or None when no period has one (V21-8)."""
    if all(_V2X_VALUES(p.__dict__) == _NO_V2X for p in periods):
        return None
    out = []
    for p in periods:
        limit = None if p.limit is None else float(p.limit)
        _, limit_phases = _triple(pid, p, ("limit", "limit_l2", "limit_l3"), 0.0, MAX_LIMIT)
        if limit_phases is not None and limit is None:
            raise _invalid(pid, "limit_L2/limit_L3 need limit (for L1)", "K01.FR.146", "limit")
        discharge, discharge_phases = _triple(
            pid,
            p,
            ("discharge_limit", "discharge_limit_l2", "discharge_limit_l3"),
            -MAX_LIMIT,
            0.0,
        )
        setpoint, setpoint_phases = _triple(
            pid, p, ("setpoint", "setpoint_l2", "setpoint_l3"), -MAX_LIMIT, MAX_LIMIT
        )
        reactive, reactive_phases = _triple(
            pid,
            p,
            ("setpoint_reactive", "setpoint_reactive_l2", "setpoint_reactive_l3"),
            -MAX_LIMIT,
            MAX_LIMIT,
        )
        out.append(
            V2xPeriod(
                limit_phases,
                discharge,
                discharge_phases,
                setpoint,
                setpoint_phases,
                reactive,
                reactive_phases,
                p.operation_mode,
            )
        )
    return tuple(out)


def _in_range(raw: Any) -> bool:
    """Every limit given and in 0..MAX_LIMIT, checked in C (``min``, ``max``, ``math.fsum``:
    finite values in range cannot overflow it; min and max may step over a NaN, a sum never).
    """
    return (
        None not in raw
        and min(raw) >= 0
        and max(raw) <= MAX_LIMIT
        and not math.isnan(math.fsum(raw))
    )


def _limits(pid: int, periods: Any, raw: Any) -> tuple[float, ...]:
    """Each period's limit as a float (no limit: infinity, Idle: 0), or InvalidProfileError.

    The common case, every limit given and in 0..MAX_LIMIT, is checked in C (``min``,
    ``max``, ``math.fsum``: finite values in range cannot overflow it); otherwise each
    period is looked at in order for the error (negative or NaN, infinite, too large).
    """
    if _in_range(raw):
        return tuple(map(float, raw))
    limits = tuple(_period_limit(p.limit, p.operation_mode) for p in periods)
    for value in limits:
        if value < 0 or math.isnan(value) or value == -math.inf:
            raise _invalid(pid, f"limit {value} is negative or not a number", "limit", "limit")
    for p in periods:
        if p.limit is not None and math.isinf(p.limit):
            raise _invalid(pid, "limit is not finite", "limit", "limit")
        if p.limit is not None and p.limit > MAX_LIMIT:
            raise _invalid(pid, f"limit {p.limit} is above {MAX_LIMIT:g}", "limit", "limit")
    return limits


def compile_profile(entry: InstalledProfile, schedule_id: int | None = None) -> CompiledProfile:
    """Turn an installed profile into a :class:`CompiledProfile`.

    Raises :class:`InvalidProfileError` for a profile that no station would
    have accepted and that would make the answer meaningless (no periods, a
    first ``startPeriod`` other than 0, periods out of order, a negative or
    non-finite limit, ``numberPhases`` outside 1..3, a Recurring schedule
    without ``recurrencyKind`` or ``startSchedule``, a negative duration).
    """
    if not isinstance(entry, InstalledProfile):
        raise QueryError(f"expected an InstalledProfile, got {type(entry).__name__}", field="entry")
    if schedule_id is not None and (
        isinstance(schedule_id, bool) or not isinstance(schedule_id, int)
    ):
        raise QueryError(
            f"expected a schedule id (int), got {type(schedule_id).__name__}", field="schedule_id"
        )
    profile = entry.profile
    pid = profile.id
    try:
        sched = profile.schedule(schedule_id)
    except (KeyError, ValueError) as exc:
        raise _invalid(pid, str(exc.args[0]), "chargingSchedule", "chargingSchedule") from None
    if sched.use_local_time:
        raise _invalid(
            pid,
            "useLocalTime schedules need the station's time zone, which the engine is not given",
            "K01.FR.90",
            "useLocalTime",
        )
    columns = period_columns(sched)  # read once, shared with the station rules
    starts, raw, numbers = columns.starts, columns.limits, columns.phases
    if not starts:
        raise _invalid(pid, "the schedule has no periods", "K01.FR.31", "chargingSchedulePeriod")
    if starts[0] != 0:
        raise _invalid(pid, "the first startPeriod is not 0", "K01.FR.31", "startPeriod")
    if not all(map(lt, starts, starts[1:])):
        raise _invalid(pid, "startPeriods do not increase", "K01.FR.35", "startPeriod")
    if _in_range(raw):  # the common case, without the period models (no None in raw)
        limits = tuple(map(float, cast("tuple[float, ...]", raw)))
    else:
        limits = _limits(pid, sched.charging_schedule_period, raw)
    v2x = _v2x_periods(pid, sched.charging_schedule_period) if columns.v2x else None
    rate = sched.min_charging_rate
    if rate is not None and not (math.isfinite(rate) and 0 <= rate <= MAX_LIMIT):
        raise _invalid(
            pid,
            f"minChargingRate {rate} is outside 0..{MAX_LIMIT:g}",
            "minChargingRate",
            "minChargingRate",
        )
    if numbers.count(None) == len(numbers):  # no period names its phases (in C)
        phases: tuple[int, ...] = (0,) * len(numbers)
    else:
        phases = tuple(n or 0 for n in numbers)
    if min(phases) < 0 or max(phases) > 3:
        for n in phases:
            if not 0 <= n <= 3:
                raise _invalid(
                    pid, f"numberPhases {n} is outside 1..3", "K01.FR.49", "numberPhases"
                )
    kind = profile.charging_profile_kind
    recurrence = 0
    anchor: int | None = None
    if sched.start_schedule is not None and kind is not ChargingProfileKind.RELATIVE:
        anchor = to_epoch(sched.start_schedule)
    if kind is ChargingProfileKind.RECURRING:
        if profile.recurrency_kind is None or anchor is None:
            raise _invalid(
                pid,
                "a Recurring profile needs recurrencyKind and startSchedule",
                "K01.FR.40",
                "recurrencyKind",
            )
        recurrence = profile.recurrency_kind.seconds
    elif kind is ChargingProfileKind.DYNAMIC and anchor is None and profile.dyn_update_time:
        anchor = to_epoch(profile.dyn_update_time)
    duration = POS_INF if sched.duration is None else sched.duration
    if duration < 0:
        raise _invalid(pid, "duration is negative", "duration", "duration")
    if recurrence:
        duration = min(duration, recurrence)
    updated = profile.dyn_update_time if kind is ChargingProfileKind.DYNAMIC else None
    if updated is not None and anchor is not None and duration < POS_INF:
        # K28.FR.13-15: a Dynamic profile lapses `duration` after its last update (V21-18).
        duration = max(0, to_epoch(updated) + duration - anchor)
    valid_from = NEG_INF if profile.valid_from is None else to_epoch(profile.valid_from)
    valid_to = POS_INF if profile.valid_to is None else to_epoch(profile.valid_to)
    return CompiledProfile(
        profile_id=pid,
        evse_id=entry.evse_id,
        purpose=profile.charging_profile_purpose,
        stack_level=profile.stack_level,
        anchor=anchor,
        recurrence=recurrence,
        duration=duration,
        valid_from=valid_from,
        valid_to=valid_to,
        unit_w=sched.charging_rate_unit is ChargingRateUnit.W,
        starts=starts,
        limits=limits,
        phases=phases,
        min_rate=None if sched.min_charging_rate is None else float(sched.min_charging_rate),
        transaction_id=entry.bound_transaction_id,
        soc_limit=None
        if sched.limit_at_soc is None
        else (sched.limit_at_soc.soc, float(sched.limit_at_soc.limit)),
        v2x=v2x,
    )


def in_force_windows(
    cp: CompiledProfile, lo: int, hi: int, relative_anchor: int
) -> list[tuple[int, int, int]]:
    """The parts of ``[lo, hi)`` in which ``cp`` is in force, as ``(start, end, anchor)``.

    One window per occurrence (one for Absolute/Relative, one per recurrence
    for Recurring), clipped to the validity and to the schedule's duration.
    ``anchor`` is the instant that ``startPeriod`` 0 of that occurrence refers to.
    """
    valid_from, valid_to = cp.valid_from, cp.valid_to
    if valid_from > lo:  # max() and min() are calls; this runs per stack and query (issue 16)
        lo = valid_from
    if valid_to < hi:
        hi = valid_to
    if lo >= hi:
        return []
    anchor = relative_anchor if cp.anchor is None else cp.anchor
    rec = cp.recurrence
    if not rec:
        w_lo = anchor if anchor > lo else lo
        w_hi = anchor + cp.duration
        if w_hi > hi:
            w_hi = hi
        return [(w_lo, w_hi, anchor)] if w_lo < w_hi else []
    out: list[tuple[int, int, int]] = []
    duration = cp.duration
    k_anchor = anchor + ((lo - anchor) // rec) * rec
    while k_anchor < hi:
        w_lo = k_anchor if k_anchor > lo else lo
        w_hi = k_anchor + duration
        if w_hi > hi:
            w_hi = hi
        if w_lo < w_hi:
            out.append((w_lo, w_hi, k_anchor))
        k_anchor += rec
    return out


def expand(
    cp: CompiledProfile, lo: int, hi: int, relative_anchor: int
) -> list[tuple[int, int, int]]:
    """The pieces of ``[lo, hi)`` in which ``cp`` is in force, as ``(start, end, period index)``.

    ``relative_anchor`` is where a schedule without a fixed anchor starts (the
    transaction start, or the query start when there is none). Pieces are in
    ascending order, non-empty and do not overlap; a period split by a
    recurrence boundary yields two pieces.
    """
    out: list[tuple[int, int, int]] = []
    starts = cp.starts
    for w_lo, w_hi, anchor in in_force_windows(cp, lo, hi, relative_anchor):
        first = bisect_right(starts, w_lo - anchor) - 1
        last = bisect_left(starts, w_hi - anchor)
        xs = [w_lo, *(anchor + t for t in starts[first + 1 : last])]
        ends = [*xs[1:], w_hi]
        out.extend(zip(xs, ends, range(first, last), strict=True))
    return out


def compiled(entry: InstalledProfile) -> CompiledProfile:
    """The entry's compiled form (first schedule), built once and kept with the entry."""
    return entry.derived("engine.compiled", compile_profile)

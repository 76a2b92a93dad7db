"""A brute-force reference evaluator for composite schedules.

Written from ``shared/reference/smart-charging.md`` and ``docs/semantics.md``
alone, without looking at the engine. It evaluates the rules at *every second*
of the window and then cuts the seconds into periods. Arithmetic is exact
(:class:`fractions.Fraction`, limits read from their decimal text), so the only
rounding is the one the contract asks for (U3: round down to 0.1 after removing
noise below 10**-6 of a tenth).

Readings taken where the documents leave room (see the test report):

* Relative schedules (and Absolute ones without ``startSchedule``, A1) are
  anchored at the start of the transaction on the EVSE being evaluated, else at
  the query start. For a profile on EVSE 0 evaluated at the station level (the
  EVSE-0 caps in R2) that is the query start.
* EVSE 0 (R2): the per-EVSE composites are summed unrounded; only the result
  is rounded. The sum's phases are the most any EVSE uses; the station caps
  are converted with those phases.
* A 2.1-only feature (PriorityCharging, LocalGeneration, Dynamic, limitAtSoC,
  periods without ``limit``) is not modelled: the generators never produce one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction

from ocpp_schedule import (
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    InstalledProfile,
    StationConfig,
    Transaction,
)

P = ChargingProfilePurpose
MAX_PURPOSES = (P.CHARGE_POINT_MAX_PROFILE, P.CHARGING_STATION_MAX_PROFILE)
EXTERNAL = P.CHARGING_STATION_EXTERNAL_CONSTRAINTS
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Period = tuple[int, float, int]  # (start_period, limit, number_phases)


def epoch(value: datetime | int) -> int:
    """Whole epoch seconds; a sub-second part is dropped (T2)."""
    if isinstance(value, int):
        return value
    return (value - EPOCH) // timedelta(seconds=1)


def _opt(value: datetime | None) -> int | None:
    return None if value is None else epoch(value)


@dataclass(frozen=True)
class Schedule:
    """One installed profile reduced to integers: what "in force" needs (rules 1-4)."""

    valid_from: int | None
    valid_to: int | None
    anchor: int | None  # Absolute startSchedule / first Recurring startSchedule; None: relative
    recurrence: int | None  # 86 400 or 604 800 for Recurring
    duration: int | None
    unit: ChargingRateUnit
    periods: tuple[tuple[int, float, int | None], ...]  # (startPeriod, limit, numberPhases)

    @classmethod
    def of(cls, entry: InstalledProfile) -> Schedule:
        profile = entry.profile
        schedule = profile.schedule()  # rule 7: the first schedule counts
        kind = profile.charging_profile_kind
        anchor = _opt(schedule.start_schedule)
        if kind is ChargingProfileKind.RELATIVE:
            anchor = None  # A2: a Relative schedule's startSchedule is ignored
        # A1: an Absolute schedule without startSchedule keeps anchor None (start of charging)
        recurrence = None
        if kind is ChargingProfileKind.RECURRING:
            recurrence = profile.recurrency_kind.seconds
        return cls(
            _opt(profile.valid_from),
            _opt(profile.valid_to),
            anchor,
            recurrence,
            schedule.duration,
            schedule.charging_rate_unit,
            tuple(
                (p.start_period, p.limit, p.number_phases)
                for p in schedule.charging_schedule_period
            ),
        )

    def period_at(self, t: int, relative_anchor: int):
        """(unit, limit, numberPhases) of the period in force at ``t``, or None."""
        # 1. validity [validFrom, validTo) (A5)
        if self.valid_from is not None and t < self.valid_from:
            return None
        if self.valid_to is not None and t >= self.valid_to:
            return None
        # 2. anchor
        if self.recurrence is not None:
            k = (t - self.anchor) // self.recurrence  # any integer, negative included (A3)
            anchor = self.anchor + k * self.recurrence  # the latest recurrence not after t
        elif self.anchor is not None:
            anchor = self.anchor
        else:  # Relative, or Absolute without startSchedule (A1)
            anchor = relative_anchor
        offset = t - anchor
        # 3. duration (for Recurring offset < recurrence always: a longer duration is cut, A4)
        if offset < 0:
            return None
        if self.duration is not None and offset >= self.duration:
            return None
        # 4. the last period that has started
        _, limit, phases = [p for p in self.periods if p[0] <= offset][-1]
        return (self.unit, limit, phases)


def first_in_force(stack: Sequence[Schedule], t: int, relative_anchor: int):
    """The period in force of the first schedule of a stack (ordered highest first)."""
    for schedule in stack:
        period = schedule.period_at(t, relative_anchor)
        if period is not None:
            return period
    return None


@dataclass(frozen=True)
class _Settings:
    out: ChargingRateUnit
    voltage: Fraction
    default_phases: int
    default_limit: Fraction


def _fraction(x: float) -> Fraction:
    return Fraction(repr(float(x)))  # the decimal the limit was written as


def convert(limit: float, unit: ChargingRateUnit, s: _Settings, phases: int) -> Fraction:
    """``W = A x V x n``, ``A = W / (V x n)``."""
    value = _fraction(limit)
    if unit is s.out:
        return value
    if s.out is ChargingRateUnit.W:
        return value * s.voltage * phases
    return value / (s.voltage * phases)


def combine(parts: Sequence[tuple], s: _Settings) -> tuple[Fraction, int]:
    """Minimum of the limits in force, converted with the phases in use (U1, G3, G4)."""
    if not parts:
        return (s.default_limit, s.default_phases)  # G4: nothing in force
    phases = min(s.default_phases if n is None else n for _, _, n in parts)
    return (min(convert(limit, unit, s, phases) for unit, limit, _ in parts), phases)


def _by_level(entries: Iterable[InstalledProfile]) -> list[Schedule]:
    """A cap stack, highest first: stack level, then (ties) higher id."""
    ordered = sorted(entries, key=lambda e: (e.profile.stack_level, e.profile.id), reverse=True)
    return [Schedule.of(e) for e in ordered]


class _Evse:
    """The stacks that govern one EVSE (G1-G3); for EVSE 0 only ``caps[:2]`` are used."""

    def __init__(self, entries, evse_id, tx, query_start):
        self.anchor = epoch(tx.start) if tx is not None else query_start

        def rank(e: InstalledProfile):
            is_tx = e.profile.charging_profile_purpose is P.TX_PROFILE
            specific = e.evse_id == evse_id
            return (is_tx, e.profile.stack_level, specific, e.profile.id)

        tx_profiles = [
            e
            for e in entries
            if e.profile.charging_profile_purpose is P.TX_PROFILE
            and e.evse_id == evse_id
            and tx is not None
            and e.bound_transaction_id == tx.id  # G2
        ]
        tx_defaults = [
            e
            for e in entries
            if e.profile.charging_profile_purpose is P.TX_DEFAULT_PROFILE
            and e.evse_id in (0, evse_id)
        ]
        ev = sorted(tx_profiles + tx_defaults, key=rank, reverse=True)
        self.ev_stack = [Schedule.of(e) for e in ev]
        self.caps = [
            _by_level(e for e in entries if e.profile.charging_profile_purpose in MAX_PURPOSES),
            _by_level(
                e
                for e in entries
                if e.profile.charging_profile_purpose is EXTERNAL and e.evse_id == 0
            ),
            _by_level(
                e
                for e in entries
                if e.profile.charging_profile_purpose is EXTERNAL and e.evse_id == evse_id
            ),
        ]

    def in_force(self, t: int) -> tuple:
        """The periods in force at ``t``: the governing EV-limit period and each cap's."""
        stacks = [self.ev_stack, *self.caps]
        return tuple(p for p in (first_in_force(x, t, self.anchor) for x in stacks) if p)


def round_down(value: Fraction) -> float:
    """U3: round down to one decimal after removing noise below 10**-6 of a tenth."""
    return float(Fraction(math.floor(round(value * 10, 6)), 10))


def oracle_composite(
    profiles: Iterable[InstalledProfile],
    *,
    evse_id: int,
    start: datetime | int,
    duration: int,
    unit: ChargingRateUnit | str | None = None,
    transaction: Transaction | Sequence[Transaction] | None = None,
    config: StationConfig | None = None,
) -> list[Period]:
    """The composite schedule's periods as ``(start_period, limit, number_phases)``."""
    cfg = config or StationConfig()
    entries = list(profiles)
    out = ChargingRateUnit(unit) if unit is not None else ChargingRateUnit.A  # U2
    s = _Settings(
        out, _fraction(cfg.supply_voltage), cfg.default_number_phases,
        _fraction(cfg.default_limit(out)),
    )  # fmt: skip
    t0 = epoch(start)
    if transaction is None:
        transactions = {}
    elif isinstance(transaction, Transaction):
        transactions = {transaction.evse_id: transaction}
    else:
        transactions = {tx.evse_id: tx for tx in transaction}

    def evse(e: int) -> _Evse:
        return _Evse(entries, e, transactions.get(e), t0)

    if evse_id > 0:
        one = evse(evse_id)

        def in_force(t: int) -> tuple:
            return one.in_force(t)

        def value(parts: tuple) -> tuple[Fraction, int]:
            return combine(parts, s)

    else:  # R2: the sum of the EVSEs' composites, capped by the station's own stacks
        # R2: configured EVSEs, else those named by profiles or transactions, else EVSE 1
        named = {e.evse_id for e in entries if e.evse_id > 0} | set(transactions)
        ids = cfg.evse_ids or sorted(named) or [1]
        evses = [evse(e) for e in ids]
        station_caps = _Evse(entries, 0, None, t0).caps[:2]  # max and EVSE-0 external

        def in_force(t: int) -> tuple:
            each = tuple(ev.in_force(t) for ev in evses)
            return (each, tuple(first_in_force(stack, t, t0) for stack in station_caps))

        def value(parts: tuple) -> tuple[Fraction, int]:
            each = [combine(p, s) for p in parts[0]]
            total = sum(v for v, _ in each)
            phases = max(n for _, n in each)
            caps = [convert(lim, u, s, phases) for u, lim, _ in (c for c in parts[1] if c)]
            return (min([total, *caps]), phases)

    memo: dict[tuple, tuple[float, int]] = {}  # the answer depends on the periods in force only
    seconds = range(t0, t0 + max(duration, 1))  # R1: duration 0 answers the instant `start`
    periods: list[Period] = []
    for t in seconds:
        parts = in_force(t)
        if parts not in memo:
            exact, n = value(parts)
            memo[parts] = (round_down(exact), n)
        limit, phases = memo[parts]
        if periods and periods[-1][1:] == (limit, phases):
            continue  # merge equal neighbours (limit and phases)
        periods.append((t - t0, limit, phases))
    return periods

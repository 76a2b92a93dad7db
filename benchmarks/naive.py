"""The naive baseline: the composite schedule evaluated second by second.

A straightforward reading of ``../shared/reference/smart-charging.md``: for
every second of the window, find each purpose's highest stack level in force,
take the minimum of the EV limit and the caps in one unit with the phases in
use, and cut the seconds into periods. It shares no code with the engine
beyond the models; the benchmark checks that both give the same answer and
reports how much faster the engine is.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from datetime import UTC, datetime, timedelta

from ocpp_schedule import (
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    InstalledProfile,
    StationConfig,
    Transaction,
)

P = ChargingProfilePurpose
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _sec(value: datetime) -> int:
    return (value - _EPOCH) // timedelta(seconds=1)


class _Plain:
    """One profile as plain numbers."""

    def __init__(self, entry: InstalledProfile) -> None:
        prof = entry.profile
        sched = prof.charging_schedule[0]
        self.evse = entry.evse_id
        self.purpose = prof.charging_profile_purpose
        self.stack = prof.stack_level
        self.tx = entry.bound_transaction_id
        self.id = prof.id
        kind = prof.charging_profile_kind
        fixed = sched.start_schedule is not None and kind is not ChargingProfileKind.RELATIVE
        self.anchor = _sec(sched.start_schedule) if fixed and sched.start_schedule else None
        self.period = prof.recurrency_kind.seconds if prof.recurrency_kind else 0
        self.duration = sched.duration
        self.valid_from = _sec(prof.valid_from) if prof.valid_from else None
        self.valid_to = _sec(prof.valid_to) if prof.valid_to else None
        self.watts = sched.charging_rate_unit is ChargingRateUnit.W
        self.periods = [
            (p.start_period, p.limit, p.number_phases) for p in sched.charging_schedule_period
        ]
        self.starts = [p[0] for p in self.periods]

    def at(self, t: int, relative: int) -> tuple[float, int | None] | None:
        """(limit, numberPhases) of the period in force at t, or None."""
        if self.valid_from is not None and t < self.valid_from:
            return None
        if self.valid_to is not None and t >= self.valid_to:
            return None
        start = relative if self.anchor is None else self.anchor
        if self.period:
            start += ((t - start) // self.period) * self.period
        offset = t - start
        if offset < 0:
            return None
        limit_of = self.duration if self.duration is not None else math.inf
        if self.period:
            limit_of = min(limit_of, self.period)
        if offset >= limit_of:
            return None
        i = bisect_right(self.starts, offset) - 1
        return self.periods[i][1], self.periods[i][2]


def _first(stack: list[_Plain], t: int, relative: int) -> tuple[float, int | None, bool] | None:
    for prof in stack:
        got = prof.at(t, relative)
        if got is not None:
            return got[0], got[1], prof.watts
    return None


def naive_composite(
    profiles: list[InstalledProfile],
    *,
    evse_id: int,
    start: datetime,
    duration: int,
    unit: str = "A",
    transaction: Transaction | None = None,
    config: StationConfig | None = None,
) -> list[tuple[int, float, int]]:
    """The composite of one EVSE (> 0), second by second: [(startPeriod, limit, phases)]."""
    cfg = config or StationConfig()
    plain = [_Plain(e) for e in profiles]
    order = lambda p: (p.stack, 1 if p.evse else 0, p.id)  # noqa: E731
    on_tx = transaction is not None and transaction.evse_id == evse_id
    txs = sorted(
        (
            p
            for p in plain
            if p.purpose is P.TX_PROFILE
            and p.evse == evse_id
            and on_tx
            and p.tx in (None, transaction.id if transaction else None)
        ),
        key=order,
        reverse=True,
    )
    defaults = sorted(
        (p for p in plain if p.purpose is P.TX_DEFAULT_PROFILE and p.evse in (0, evse_id)),
        key=order,
        reverse=True,
    )
    caps = [
        sorted((p for p in plain if p.purpose.is_max and p.evse == 0), key=order, reverse=True),
        sorted(
            (
                p
                for p in plain
                if p.purpose is P.CHARGING_STATION_EXTERNAL_CONSTRAINTS and p.evse == 0
            ),
            key=order,
            reverse=True,
        ),
        sorted(
            (
                p
                for p in plain
                if p.purpose is P.CHARGING_STATION_EXTERNAL_CONSTRAINTS and p.evse == evse_id
            ),
            key=order,
            reverse=True,
        ),
    ]
    stacks = [txs + defaults, *[c for c in caps if c]]
    t0 = _sec(start)
    relative = _sec(transaction.start) if on_tx and transaction else t0
    out_w = unit == "W"
    volts, dp = cfg.supply_voltage, cfg.default_number_phases
    default = (
        cfg.composite_schedule_default_limit_watts
        if out_w
        else (cfg.composite_schedule_default_limit_amps)
    )
    result: list[tuple[int, float, int]] = []
    for t in range(t0, t0 + max(duration, 1)):
        found = [f for f in (_first(s, t, relative) for s in stacks) if f is not None]
        if not found:
            value, phases = default, dp
        else:
            phases = min(f[1] or dp for f in found)
            value = math.inf
            for limit, _, watts in found:
                if watts != out_w:
                    limit = limit * volts * phases if out_w else limit / (volts * phases)
                value = min(value, limit)
            if value == math.inf:
                value = default
        limit = math.floor(round(value * 10.0, 6)) / 10.0
        if not result or result[-1][1:] != (limit, phases):
            result.append((t - t0, limit, phases))
    return result

"""The composite schedule: what a station answers to GetCompositeSchedule.

:func:`composite_schedule` combines the installed profiles of an EVSE over a
window, following ``docs/semantics.md``:

1. per purpose, the highest stack level whose schedule is in force governs
   (TxProfile above TxDefaultProfile, an activated 2.1 PriorityCharging above
   both; an EVSE-specific TxDefault above an EVSE-0 one at the same level);
2. the result is the minimum of that limit and the caps in force
   (ChargePointMax/ChargingStationMax, ChargingStationExternalConstraints),
   converted to one unit with the number of phases in use at that instant;
3. 2.1 LocalGeneration is added on top; where nothing is in force the
   station's default limit applies;
4. for EVSE 0 the answer is the station's expected draw: the sum of its EVSEs'
   composites, capped by the station-wide profiles.

The work is output-sensitive: each purpose's stack is walked from the top and
only the gaps left by higher levels are expanded, so profiles that never
govern cost next to nothing. Every output period records which profile (or
the default limit) set it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from .config import StationConfig
from .enums import ChargingProfilePurpose, ChargingRateUnit, OcppVersion
from .errors import QueryError
from .segments import CompiledProfile, compile_profile, expand
from .store import InstalledProfile, ProfileStore, Transaction
from .timeutil import epoch_or_datetime, from_epoch, to_epoch

__all__ = [
    "CompositePeriod",
    "CompositeSchedule",
    "LimitSource",
    "composite_schedule",
    "limit_at",
]

P = ChargingProfilePurpose
_INF = math.inf
_TX_CHAIN = frozenset({P.TX_PROFILE, P.TX_DEFAULT_PROFILE, P.PRIORITY_CHARGING})

SourceKind = Literal["profile", "default", "evse_sum"]


@dataclass(frozen=True, slots=True)
class LimitSource:
    """What set a composite limit: a profile, the default limit, or (EVSE 0) the EVSEs' sum."""

    kind: SourceKind
    profile_id: int | None = None
    purpose: ChargingProfilePurpose | None = None
    stack_level: int | None = None
    evse_id: int | None = None

    def __str__(self) -> str:
        if self.kind == "default":
            return "default limit"
        if self.kind == "evse_sum":
            return "sum of the EVSEs' composites"
        purpose = self.purpose.value if self.purpose else "?"
        return (
            f"profile {self.profile_id} ({purpose}, stack {self.stack_level}, EVSE {self.evse_id})"
        )


DEFAULT_SOURCE = LimitSource("default")
EVSE_SUM_SOURCE = LimitSource("evse_sum")


@dataclass(frozen=True, slots=True)
class CompositePeriod:
    """One output period: from ``start_period`` seconds after the schedule start.

    ``sources`` names what set the limit, in time order (several when equal
    neighbouring limits from different profiles were merged).
    ``min_charging_rate`` is the governing Tx/TxDefault schedule's
    ``minChargingRate`` in the output unit, where it has one.
    """

    start_period: int
    limit: float
    number_phases: int
    sources: tuple[LimitSource, ...]
    min_charging_rate: float | None = None

    @property
    def source(self) -> LimitSource:
        """What set the limit at the start of the period."""
        return self.sources[0]


@dataclass(frozen=True, slots=True)
class CompositeSchedule:
    """The composite schedule of one EVSE (0: the station) over ``[start, start + duration)``."""

    evse_id: int
    start: int
    duration: int
    charging_rate_unit: ChargingRateUnit
    periods: tuple[CompositePeriod, ...]

    @property
    def schedule_start(self) -> datetime:
        """The start as a UTC datetime."""
        return from_epoch(self.start)

    def period_at(self, instant: datetime | int) -> CompositePeriod:
        """The output period in force at ``instant`` (within the window)."""
        t = epoch_or_datetime(instant, "instant") - self.start
        if not 0 <= t < max(self.duration, 1):
            raise QueryError(
                f"instant is outside the schedule's window (offset {t} s)", field="instant"
            )
        lo, hi = 0, len(self.periods)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self.periods[mid].start_period <= t:
                lo = mid
            else:
                hi = mid
        return self.periods[lo]

    def limit_at(self, instant: datetime | int) -> float:
        """The limit in force at ``instant``."""
        return self.period_at(instant).limit

    def to_payload(self, version: OcppVersion | str) -> dict[str, Any]:
        """The GetCompositeSchedule response payload (status Accepted) of ``version``."""
        from .responses import composite_response

        return composite_response(self, version)

    def explain(self) -> str:
        """A readable table of the periods and what set each one."""
        from .responses import explain_table

        return explain_table(self)


# ----------------------------------------------------------------------- public API


def composite_schedule(
    profiles: ProfileStore | Iterable[InstalledProfile],
    *,
    evse_id: int,
    start: datetime | int,
    duration: int,
    unit: ChargingRateUnit | str | None = None,
    transaction: Transaction | Sequence[Transaction] | None = None,
    config: StationConfig | None = None,
    schedule_ids: Mapping[int, int] | None = None,
) -> CompositeSchedule:
    """Compute the composite schedule of ``evse_id`` over ``[start, start + duration)``.

    ``profiles`` are the installed profiles (a :class:`ProfileStore` or any
    iterable of :class:`InstalledProfile`). ``transaction`` is the active
    transaction(s); a TxProfile counts only for its own transaction, and
    Relative schedules start at the transaction start (or at ``start`` on an
    EVSE without one). ``unit`` defaults to A. ``config`` gives the supply
    voltage, default phases and default limits, and the station's EVSEs for
    the EVSE-0 total. ``schedule_ids`` selects, per profile id, which of a 2.x
    profile's schedules counts (default: the first).

    ``duration`` 0 answers the limit in force at ``start`` as one period.
    Raises :class:`QueryError` for a negative duration or an EVSE the station
    does not have, :class:`InvalidProfileError` for a profile that no station
    would have accepted.
    """
    cfg = config or StationConfig()
    s = epoch_or_datetime(start, "start")
    if isinstance(duration, bool) or not isinstance(duration, int):
        raise QueryError("duration must be whole seconds (int)", field="duration")
    if duration < 0:
        raise QueryError(f"duration {duration} is negative", field="duration")
    if evse_id < 0 or not cfg.knows_evse(evse_id):
        raise QueryError(f"the station has no EVSE {evse_id}", field="evse_id", rule="K08.FR.05")
    out_unit = _unit(unit)
    txs = _transactions(transaction)
    compiled = _compile_all(profiles, schedule_ids)
    e = s + max(duration, 1)
    ctx = _Context(s, e, out_unit is ChargingRateUnit.W, cfg)
    if evse_id == 0:
        raw = _station_raw(ctx, compiled, txs, _station_evses(cfg, compiled))
    else:
        raw = _evse_raw(ctx, compiled, evse_id, txs.get(evse_id))
    return CompositeSchedule(evse_id, s, duration, out_unit, _finalize(raw, s))


def limit_at(
    profiles: ProfileStore | Iterable[InstalledProfile],
    *,
    evse_id: int,
    instant: datetime | int,
    unit: ChargingRateUnit | str | None = None,
    transaction: Transaction | Sequence[Transaction] | None = None,
    config: StationConfig | None = None,
) -> CompositePeriod:
    """The composite limit in force at one instant (a one-second composite's only period)."""
    return composite_schedule(
        profiles,
        evse_id=evse_id,
        start=instant,
        duration=0,
        unit=unit,
        transaction=transaction,
        config=config,
    ).periods[0]


# ------------------------------------------------------------------------ internals


class _Context:
    __slots__ = ("cfg", "default_limit", "default_phases", "end", "out_w", "start", "voltage")

    def __init__(self, start: int, end: int, out_w: bool, cfg: StationConfig) -> None:
        self.start = start
        self.end = end
        self.out_w = out_w
        self.cfg = cfg
        self.voltage = cfg.supply_voltage
        self.default_phases = cfg.default_number_phases
        self.default_limit = cfg.default_limit(ChargingRateUnit.W if out_w else ChargingRateUnit.A)


def _unit(unit: ChargingRateUnit | str | None) -> ChargingRateUnit:
    if unit is None:
        return ChargingRateUnit.A
    if isinstance(unit, ChargingRateUnit):
        return unit
    try:
        return ChargingRateUnit(str(unit).upper())
    except ValueError:
        raise QueryError(f"unknown unit {unit!r}; use A or W", field="unit") from None


def _transactions(
    transaction: Transaction | Sequence[Transaction] | None,
) -> dict[int, Transaction]:
    if transaction is None:
        return {}
    items = [transaction] if isinstance(transaction, Transaction) else list(transaction)
    out: dict[int, Transaction] = {}
    for tx in items:
        if not isinstance(tx, Transaction):
            raise QueryError("transaction must be a Transaction", field="transaction")
        if tx.evse_id in out:
            raise QueryError(f"two transactions on EVSE {tx.evse_id}", field="transaction")
        out[tx.evse_id] = tx
    return out


def _compile_all(
    profiles: ProfileStore | Iterable[InstalledProfile], schedule_ids: Mapping[int, int] | None
) -> list[CompiledProfile]:
    if schedule_ids:
        return [
            compile_profile(p, schedule_ids[p.id]) if p.id in schedule_ids else p.compiled
            for p in profiles
        ]
    return [p.compiled for p in profiles]


def _station_evses(cfg: StationConfig, compiled: list[CompiledProfile]) -> tuple[int, ...]:
    if cfg.evse_ids is not None:
        return cfg.evse_ids
    named = sorted({cp.evse_id for cp in compiled if cp.evse_id > 0})
    return tuple(named) if named else (1,)


def _priority(cp: CompiledProfile) -> tuple[int, int, int]:
    return (cp.stack_level, 1 if cp.evse_id else 0, cp.profile_id)


_Seg = tuple[int, int, float, bool, int, Any]
"""A piece of a purpose's leading schedule: (start, end, limit, unit_w, phases, source)."""


def _cover(
    chain: list[CompiledProfile], ctx: _Context, rel_anchor: int, soc: float | None = None
) -> list[_Seg]:
    """The leading schedule of a stack of profiles (highest priority first) over the window.

    ``soc`` is the EV's state of charge, for 2.1 ``limitAtSoC``.
    """
    segs: list[_Seg] = []
    if not chain:
        return segs
    gaps = [(ctx.start, ctx.end)]
    for cp in chain:
        limits, phases, unit_w = cp.limits, cp.phases, cp.unit_w
        if cp.soc_limit is not None and soc is not None and soc >= cp.soc_limit[0]:
            cap = cp.soc_limit[1]
            limits = tuple(min(v, cap) for v in limits)
        new_gaps: list[tuple[int, int]] = []
        for a, b in gaps:
            cursor = a
            for x, y, i in expand(cp, a, b, rel_anchor):
                if x > cursor:
                    new_gaps.append((cursor, x))
                segs.append((x, y, limits[i], unit_w, phases[i], cp))
                cursor = y
            if cursor < b:
                new_gaps.append((cursor, b))
        gaps = new_gaps
        if not gaps:
            break
    segs.sort(key=_seg_start)
    return segs


def _seg_start(seg: _Seg) -> int:
    return seg[0]


def _evse_chains(
    compiled: list[CompiledProfile], evse_id: int, tx: Transaction | None
) -> tuple[list[CompiledProfile], list[list[CompiledProfile]], list[CompiledProfile]]:
    """The stacks that govern one EVSE: the Tx chain, the caps, and LocalGeneration."""
    priority: list[CompiledProfile] = []
    tx_profiles: list[CompiledProfile] = []
    defaults: list[CompiledProfile] = []
    station_max: list[CompiledProfile] = []
    ext_station: list[CompiledProfile] = []
    ext_evse: list[CompiledProfile] = []
    generation: list[CompiledProfile] = []
    for cp in compiled:
        on = cp.evse_id
        if on != 0 and on != evse_id:
            continue
        purpose = cp.purpose
        if purpose is P.TX_DEFAULT_PROFILE:
            defaults.append(cp)
        elif purpose is P.TX_PROFILE:
            if tx is not None and on == evse_id and cp.transaction_id in (None, tx.id):
                tx_profiles.append(cp)
        elif purpose.is_max:
            if on == 0:
                station_max.append(cp)
        elif purpose is P.CHARGING_STATION_EXTERNAL_CONSTRAINTS:
            (ext_station if on == 0 else ext_evse).append(cp)
        elif purpose is P.PRIORITY_CHARGING:
            if tx is not None and tx.priority_charging:
                priority.append(cp)
        elif purpose is P.LOCAL_GENERATION:
            generation.append(cp)
    for group in (priority, tx_profiles, defaults, station_max, ext_station, ext_evse, generation):
        group.sort(key=_priority, reverse=True)
    caps = [c for c in (station_max, ext_station, ext_evse) if c]
    return priority + tx_profiles + defaults, caps, generation


def _rel_anchor(ctx: _Context, tx: Transaction | None) -> int:
    return ctx.start if tx is None else to_epoch(tx.start)


_Raw = list[tuple[int, float, int, Any, float | None]]
"""Elementary intervals: (start, value in the output unit, phases, source, min rate)."""


def _evse_raw(
    ctx: _Context, compiled: list[CompiledProfile], evse_id: int, tx: Transaction | None
) -> _Raw:
    tx_chain, caps, generation = _evse_chains(compiled, evse_id, tx)
    rel = _rel_anchor(ctx, tx)
    soc = None if tx is None else tx.state_of_charge
    covers = [_cover(tx_chain, ctx, rel, soc)] + [_cover(c, ctx, rel, soc) for c in caps]
    gen = _cover(generation, ctx, rel) if generation else []
    return _combine(ctx, covers, gen)


def _station_raw(
    ctx: _Context,
    compiled: list[CompiledProfile],
    txs: dict[int, Transaction],
    evses: tuple[int, ...],
) -> _Raw:
    """EVSE 0: the sum of the EVSEs' composites, capped by the station-wide profiles."""
    per_evse = [_evse_raw(ctx, compiled, e, txs.get(e)) for e in evses]
    summed = _sum_raw(ctx, per_evse)
    station_caps: list[list[CompiledProfile]] = [
        sorted(
            (cp for cp in compiled if cp.evse_id == 0 and cp.purpose.is_max),
            key=_priority,
            reverse=True,
        ),
        sorted(
            (
                cp
                for cp in compiled
                if cp.evse_id == 0 and cp.purpose is P.CHARGING_STATION_EXTERNAL_CONSTRAINTS
            ),
            key=_priority,
            reverse=True,
        ),
    ]
    covers = [summed] + [_cover(c, ctx, ctx.start) for c in station_caps if c]
    return _combine(ctx, covers, [])


def _sum_raw(ctx: _Context, per_evse: list[_Raw]) -> list[_Seg]:
    """Add the EVSEs' composites; the phases of the sum are the most any EVSE uses."""
    points = sorted({t for raw in per_evse for t, *_ in raw})
    idx = [0] * len(per_evse)
    segs: list[_Seg] = []
    for k, t in enumerate(points):
        total = 0.0
        phases = 0
        for j, raw in enumerate(per_evse):
            i = idx[j]
            while i + 1 < len(raw) and raw[i + 1][0] <= t:
                i += 1
            idx[j] = i
            total += raw[i][1]
            phases = max(phases, raw[i][2])
        end = points[k + 1] if k + 1 < len(points) else ctx.end
        segs.append((t, end, total, ctx.out_w, phases, EVSE_SUM_SOURCE))
    return segs


def _convert(limit: float, unit_w: bool, out_w: bool, phases: int, voltage: float) -> float:
    if unit_w == out_w:
        return limit
    if out_w:
        return limit * voltage * phases
    return limit / (voltage * phases)


def _combine(ctx: _Context, covers: list[list[_Seg]], gen: list[_Seg]) -> _Raw:
    """The minimum over the purposes' leading schedules, interval by interval, plus generation."""
    start, end, out_w, voltage = ctx.start, ctx.end, ctx.out_w, ctx.voltage
    default_phases = ctx.default_phases
    covers = [c for c in covers if c]
    points_set = {start}
    for cov in (*covers, gen):
        for seg in cov:
            points_set.add(seg[0])
            points_set.add(seg[1])
    points = sorted(t for t in points_set if start <= t < end)
    ptrs = [0] * len(covers)
    gen_ptr = 0
    raw: _Raw = []
    for t in points:
        active: list[_Seg] = []
        phases = 4
        for c, cov in enumerate(covers):
            i = ptrs[c]
            n = len(cov)
            while i < n and cov[i][1] <= t:
                i += 1
            ptrs[c] = i
            if i < n and cov[i][0] <= t:
                seg = cov[i]
                active.append(seg)
                ph = seg[4] or default_phases
                if ph < phases:
                    phases = ph
        value = _INF
        source: Any = DEFAULT_SOURCE
        min_rate: float | None = None
        if not active:
            phases = default_phases
        else:
            for seg in active:
                v = _convert(seg[2], seg[3], out_w, phases, voltage)
                if v < value:
                    value = v
                    source = seg[5]
            for seg in active:
                src = seg[5]
                if (
                    src.__class__ is CompiledProfile
                    and src.min_rate is not None
                    and (src.purpose in _TX_CHAIN)
                ):
                    min_rate = _convert(src.min_rate, src.unit_w, out_w, phases, voltage)
        if value == _INF:
            value = ctx.default_limit
            source = DEFAULT_SOURCE
        if gen:
            while gen_ptr < len(gen) and gen[gen_ptr][1] <= t:
                gen_ptr += 1
            if gen_ptr < len(gen) and gen[gen_ptr][0] <= t:
                g = gen[gen_ptr]
                if g[2] != _INF:
                    value += _convert(g[2], g[3], out_w, phases, voltage)
        raw.append((t, value, phases, source, min_rate))
    return raw


def _floor_tenth(value: float) -> float:
    """Round down to one decimal place, ignoring float noise below 1e-6 of a tenth."""
    return math.floor(round(value * 10.0, 6)) / 10.0


def _ceil_tenth(value: float) -> float:
    return math.ceil(round(value * 10.0, 6)) / 10.0


def _source(obj: Any, cache: dict[int, LimitSource]) -> LimitSource:
    if isinstance(obj, LimitSource):
        return obj
    key = id(obj)
    src = cache.get(key)
    if src is None:
        src = LimitSource("profile", obj.profile_id, obj.purpose, obj.stack_level, obj.evse_id)
        cache[key] = src
    return src


def _finalize(raw: _Raw, start: int) -> tuple[CompositePeriod, ...]:
    """Round down, merge equal neighbours (limit and phases) and attach provenance."""
    cache: dict[int, LimitSource] = {}
    periods: list[CompositePeriod] = []
    cur_start = -1
    cur_limit = -1.0
    cur_phases = -1
    cur_sources: list[LimitSource] = []
    cur_rate: float | None = None
    for t, value, phases, obj, rate in raw:
        limit = _floor_tenth(value)
        src = _source(obj, cache)
        if limit == cur_limit and phases == cur_phases:
            if cur_sources[-1] != src:
                cur_sources.append(src)
            if rate is not None and (cur_rate is None or rate > cur_rate):
                cur_rate = rate
            continue
        if cur_start >= 0:
            periods.append(_period(cur_start, cur_limit, cur_phases, cur_sources, cur_rate))
        cur_start, cur_limit, cur_phases, cur_sources, cur_rate = (
            t - start,
            limit,
            phases,
            [src],
            rate,
        )
    periods.append(_period(cur_start, cur_limit, cur_phases, cur_sources, cur_rate))
    return tuple(periods)


def _period(
    start: int, limit: float, phases: int, sources: list[LimitSource], rate: float | None
) -> CompositePeriod:
    return CompositePeriod(
        start, limit, phases, tuple(sources), None if rate is None else _ceil_tenth(rate)
    )

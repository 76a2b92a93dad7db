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

The work is near-linear: each purpose's stack is merged by one sweep over the
windows in which its profiles are in force, with a heap ordered by precedence
(profiles below one that covers the whole window are not expanded at all),
and the EVSE-0 total is a k-way merge of the EVSEs' change points. Every
resource bound is counted before or while the work is done (docs/robustness.md).
Every output period records which profile (or the default limit) set it.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from itertools import chain, repeat, starmap
from operator import add, itemgetter, sub
from typing import Any, NamedTuple

from ..errors import QueryError
from ..station._config import StationConfig
from ..station._store import InstalledProfile, ProfileStore, StationState, Transaction
from ..wire._answers import composite_answer, explain_text
from ..wire._enums import ChargingProfilePurpose, ChargingRateUnit, OcppVersion, OperationMode
from ..wire._models import ChargingProfile
from ..wire._payloads import parse_version
from ..wire._timestamps import (
    FIRST_SECOND,
    LAST_SECOND,
    check_window,
    epoch_or_datetime,
    from_epoch,
)
from ._compile import (
    MAX_LIMIT,
    ROUNDING_NOISE,
    CompiledProfile,
    compile_profile,
    compiled,
    expand,
    in_force_windows,
    rounded_down,
)
from ._index import ProfileIndex, store_index
from ._provenance import DEFAULT_SOURCE, EVSE_SUM_SOURCE, REPORTED_SOURCE, LimitSource
from ._v2x import V2xFields, evse_fields, stacks_have_v2x, station_fields

__all__ = [
    "V2xFields",
    "CompositePeriod",
    "CompositeSchedule",
    "LimitSource",
    "ProfilePeriod",
    "composite_schedule",
    "expand_profile",
    "limit_at",
    "LimitHold",
    "MAX_LOOKAHEAD",
    "next_change",
    "station_composites",
]

P = ChargingProfilePurpose
_INF = math.inf
_UTC = UTC


class CompositePeriod(NamedTuple):
    """One output period: from ``start_period`` seconds after the schedule start.

    ``sources`` names what set the limit, in time order (several when equal
    neighbouring limits from different profiles were merged).
    ``min_charging_rate`` is the governing Tx/TxDefault schedule's
    ``minChargingRate`` in the output unit, where it has one. ``limit`` is
    the all-phase limit (A: per phase; W: the total); where per-phase limits
    take part it is derived from them (A: the least phase in use, W: their sum)
    and ``v2x`` holds the per-phase values (V21-8).
    """

    start_period: int
    limit: float
    number_phases: int
    sources: tuple[LimitSource, ...]
    min_charging_rate: float | None = None
    v2x: V2xFields | None = None
    """The 2.1 fields (per-phase limits, discharge limits, setpoints, operationMode) where a
    profile in force has any (docs/semantics.md V21-8..V21-12); None otherwise."""

    @property
    def source(self) -> LimitSource:
        """What set the limit at the start of the period.

        A period read from a station's answer (``adapters.CompositeAnswer``) has
        no ``sources``: its source is :data:`REPORTED_SOURCE` (kind ``reported``).
        """
        return self.sources[0] if self.sources else REPORTED_SOURCE


_MIN_RATE = itemgetter(4)
"""A :class:`CompositePeriod`'s ``min_charging_rate`` (its fifth field)."""
_ANSWER_ROW = itemgetter(0, 1, 2)
"""A :class:`CompositePeriod`'s ``start_period``, ``limit``, ``number_phases``: an answer's row."""


@dataclass(frozen=True, slots=True)
class CompositeSchedule:
    """The composite schedule of one EVSE (0: the station) over ``[start, start + duration)``.

    ``start`` is a UTC datetime and ``start_epoch`` the same instant in epoch seconds (the
    stored field: the datetime is made on access, not on the warm path; docs/semantics.md
    API1). ``schedule_start`` is ``start`` under the name of the OCPP field.
    """

    evse_id: int
    start_epoch: int
    duration: int
    charging_rate_unit: ChargingRateUnit
    periods: tuple[CompositePeriod, ...]

    @property
    def start(self) -> datetime:
        """The start of the window (and of the first period), a UTC datetime."""
        return from_epoch(self.start_epoch)

    @property
    def schedule_start(self) -> datetime:
        """The start as a UTC datetime: :attr:`start`, as the OCPP field ``scheduleStart``."""
        return from_epoch(self.start_epoch)

    def period_at(self, instant: datetime | int) -> CompositePeriod:
        """The output period in force at ``instant`` (within the window)."""
        t = epoch_or_datetime(instant, "instant") - self.start_epoch
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
        """The GetCompositeSchedule response payload (status Accepted) of ``version``.

        In 1.6, ``minChargingRate`` is given when every period governed by a
        Tx/TxDefault schedule with one agrees on it.
        """
        version = parse_version(version)
        rates = set(map(_MIN_RATE, self.periods))
        answer = composite_answer(
            version,
            evse_id=self.evse_id,
            schedule_start=self.schedule_start,
            duration=self.duration,
            unit=self.charging_rate_unit.value,
            periods=list(map(_ANSWER_ROW, self.periods)),
            min_charging_rate=rates.pop() if len(rates) == 1 and None not in rates else None,
        )
        if version is OcppVersion.V21:
            # 2.1: every period says its operationMode, with the 2.1 fields composed (V21-8)
            for out, p in zip(
                answer["schedule"]["chargingSchedulePeriod"], self.periods, strict=True
            ):
                if p.v2x is None:
                    out["operationMode"] = OperationMode.CHARGING_ONLY.value
                else:
                    out.update(p.v2x.to_wire(p.limit))
                    if _set_locally(p):
                        del out["limit"]  # V21-21: the station sets it; the default is no draw
        return answer

    def explain(self) -> str:
        """A readable table of the periods and what set each one.

        A period with 2.1 fields lists under it every field it reports (per-phase limits,
        discharge limits, setpoints, reactive setpoints, operationMode) with its value and
        what set it (docs/semantics.md V21-8: provenance covers every field).
        """
        details = None
        if any(p.v2x is not None for p in self.periods):
            details = [() if p.v2x is None else p.v2x.explain_lines() for p in self.periods]
        return explain_text(
            evse_id=self.evse_id,
            start=self.start_epoch,
            duration=self.duration,
            unit=self.charging_rate_unit.value,
            rows=[
                (
                    p.start_period,
                    p.limit,
                    p.number_phases,
                    "; then ".join(str(s) for s in p.sources) or str(p.source),
                )
                for p in self.periods
            ],
            details=details,
        )


def _schedule(
    evse_id: int,
    start: int,
    duration: int,
    unit: ChargingRateUnit,
    periods: tuple[CompositePeriod, ...],
) -> CompositeSchedule:
    """The one place the engine builds a :class:`CompositeSchedule` (start in epoch seconds).

    The fields are set through their slots: the frozen dataclass's ``__init__`` sets
    each with ``object.__setattr__``, which costs 0.3 µs more per warm call (issue 16)."""
    schedule = _new_object(CompositeSchedule)
    _set_evse_id(schedule, evse_id)
    _set_start_epoch(schedule, start)
    _set_duration(schedule, duration)
    _set_unit(schedule, unit)
    _set_periods(schedule, periods)
    return schedule


def _slot_setter(name: str) -> Callable[[CompositeSchedule, Any], None]:
    """The setter of one of :class:`CompositeSchedule`'s slots (bypasses the frozen check)."""
    setter: Callable[[CompositeSchedule, Any], None] = getattr(CompositeSchedule, name).__set__
    return setter


_new_object = object.__new__
_set_evse_id = _slot_setter("evse_id")
_set_start_epoch = _slot_setter("start_epoch")
_set_duration = _slot_setter("duration")
_set_unit = _slot_setter("charging_rate_unit")
_set_periods = _slot_setter("periods")


_LOCAL_MODES = frozenset({OperationMode.LOCAL_FREQUENCY, OperationMode.LOCAL_LOAD_BALANCING})


def _set_locally(period: CompositePeriod) -> bool:
    """True when the period's power is set locally and nothing limits it (V21-21).

    In LocalFrequency and LocalLoadBalancing the station (or EV) sets the power at run time;
    where no profile gives a limit, the default limit the period carries is an upper bound,
    not the expected draw, so the 2.1 answer leaves ``limit`` out.
    """
    v2x = period.v2x
    return (
        v2x is not None
        and v2x.operation_mode in _LOCAL_MODES
        and v2x.limit_l1 is None
        and all(s.kind == "default" for s in period.sources)
    )


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
    offline_since: datetime | int | None = None,
    transactions: Sequence[Transaction] | None = None,
    state: StationState | None = None,
) -> CompositeSchedule:
    """Compute the composite schedule of ``evse_id`` over ``[start, start + duration)``.

    ``profiles`` are the installed profiles (a :class:`ProfileStore` or any
    iterable of :class:`InstalledProfile`). ``transaction`` is the active
    transaction(s); a TxProfile counts only for its own transaction, and
    Relative schedules start at the transaction start (or at ``start`` on an
    EVSE without one). ``unit`` defaults to A. ``config`` gives the supply
    voltage, default phases and default limits, and the station's EVSEs for
    the EVSE-0 total. ``schedule_ids`` selects, per profile id, which of a 2.x
    profile's schedules counts (default: the first). ``offline_since`` is when
    the station went offline (it stays offline through the window): a 2.1
    profile stops counting once the station has been offline for its
    ``maxOfflineDuration`` (K01.FR.101/103, V21-19); absent, the station is online.

    ``transactions`` is the same as ``transaction`` under the name the rest of the API
    uses (give one or the other); ``state`` (a :class:`StationState`) gives the
    configuration and the transactions at once (then give neither ``config`` nor a
    transaction).

    ``duration`` 0 answers the limit in force at ``start`` as one period.
    Raises :class:`QueryError` for a negative duration or an EVSE the station
    does not have, :class:`InvalidProfileError` for a profile that no station
    would have accepted.
    """
    if transactions is not None or state is not None:
        transaction, config = _station_inputs(transaction, transactions, config, state)
    cfg = _default_config() if config is None else _config(config)
    if evse_id.__class__ is not int:  # the check without the call where it is plainly an int
        _whole(evse_id, "evse_id")
    s = _window(start, duration)
    if evse_id < 0 or (cfg.evse_ids is not None and not cfg.knows_evse(evse_id)):
        raise QueryError(f"the station has no EVSE {evse_id}", field="evse_id", rule="K08.FR.05")
    out_unit = _unit(unit)
    txs = _transactions(transaction)
    if offline_since is not None:
        profiles = _offline_view(profiles, offline_since)
    if schedule_ids is None and isinstance(profiles, ProfileStore):
        index = store_index(profiles)  # the common case of _index, without the call
    else:
        index = _index(profiles, _schedule_ids(schedule_ids))
    ctx = _Context(s, s + (duration or 1), out_unit is ChargingRateUnit.W, cfg)
    if evse_id == 0:
        evses = _station_evses(cfg, index, txs)
        _check_dc_units(cfg, index, txs, evses, ctx.out_w)
        raw = _station_raw(ctx, index, txs, evses)
    else:
        if cfg.dc_evse_ids:
            _check_dc_units(cfg, index, txs, (evse_id,), ctx.out_w)
        if index.has_unit[not ctx.out_w] and index.converts_once(ctx.default_phases):
            ctx.convert_at = ctx.voltage  # a profile in the other unit, converted once
        return _schedule(
            evse_id, s, duration, out_unit, _evse_answer(ctx, index, evse_id, txs.get(evse_id))
        )
    return _schedule(evse_id, s, duration, out_unit, _finalize(raw, s))


def limit_at(
    profiles: ProfileStore | Iterable[InstalledProfile],
    *,
    evse_id: int,
    instant: datetime | int,
    unit: ChargingRateUnit | str | None = None,
    transaction: Transaction | Sequence[Transaction] | None = None,
    config: StationConfig | None = None,
    offline_since: datetime | int | None = None,
    transactions: Sequence[Transaction] | None = None,
    state: StationState | None = None,
) -> CompositePeriod:
    """The composite limit in force at one instant (a one-second composite's only period).

    :func:`next_change` also says until when it holds.
    """
    return composite_schedule(
        profiles,
        evse_id=evse_id,
        start=epoch_or_datetime(instant, "instant"),
        duration=0,
        unit=unit,
        transaction=transaction,
        config=config,
        offline_since=offline_since,
        transactions=transactions,
        state=state,
    ).periods[0]


MAX_LOOKAHEAD = 366 * 86400
"""The longest window :func:`next_change` looks into for the next change (a year)."""


class LimitHold(NamedTuple):
    """The limit in force at an instant and until when it holds.

    ``until`` is the instant the composite next changes (limit, phases or anything the
    period carries), or None when it does not change within the look-ahead; ``until_epoch``
    the same in epoch seconds.
    """

    period: CompositePeriod
    until: datetime | None
    until_epoch: int | None


def next_change(
    profiles: ProfileStore | Iterable[InstalledProfile],
    *,
    evse_id: int,
    instant: datetime | int,
    unit: ChargingRateUnit | str | None = None,
    transactions: Sequence[Transaction] | None = None,
    config: StationConfig | None = None,
    state: StationState | None = None,
    lookahead: int = 7 * 86400,
) -> LimitHold:
    """The limit in force at ``instant`` and the instant it next changes.

    Looks ``lookahead`` seconds ahead (default a week, at most :data:`MAX_LOOKAHEAD`);
    without a change in that window ``until`` is None.
    """
    if isinstance(lookahead, bool) or not isinstance(lookahead, int):
        raise QueryError("expected whole seconds", field="lookahead")
    if not 1 <= lookahead <= MAX_LOOKAHEAD:
        raise QueryError(f"expected 1..{MAX_LOOKAHEAD} seconds", field="lookahead")
    start = epoch_or_datetime(instant, "instant")
    schedule = composite_schedule(
        profiles,
        evse_id=evse_id,
        start=start,
        duration=lookahead,
        unit=unit,
        transactions=transactions,
        config=config,
        state=state,
    )
    first = schedule.periods[0]
    if len(schedule.periods) == 1:
        return LimitHold(first, None, None)
    until = start + schedule.periods[1].start_period
    return LimitHold(first, from_epoch(until), until)


class ProfilePeriod(NamedTuple):
    """A piece of one profile's schedule in force: ``[start, end)``, UTC datetimes;
    ``start_epoch`` and ``end_epoch`` are the same instants in epoch seconds."""

    start_epoch: int
    end_epoch: int
    limit: float
    charging_rate_unit: ChargingRateUnit
    number_phases: int | None
    period_index: int

    @property
    def start(self) -> datetime:
        """Where the piece starts, a UTC datetime."""
        return from_epoch(self.start_epoch)

    @property
    def end(self) -> datetime:
        """Where the piece ends (exclusive), a UTC datetime."""
        return from_epoch(self.end_epoch)


def expand_profile(
    profile: InstalledProfile | ChargingProfile,
    *,
    start: datetime | int,
    duration: int,
    transaction_start: datetime | int | None = None,
    schedule_id: int | None = None,
) -> tuple[ProfilePeriod, ...]:
    """One profile's schedule over ``[start, start + duration)``: where it is in force, at what.

    Validity, anchoring (Absolute, Relative at ``transaction_start`` or else at
    ``start``, Recurring), duration and the period boundaries are applied; no
    other profile is considered. A period cut by the window or by a recurrence
    appears as several pieces. ``number_phases`` is None where the period names
    none. ``schedule_id`` selects one of a 2.x profile's schedules.
    """
    if isinstance(profile, InstalledProfile):
        entry = profile
    elif isinstance(profile, ChargingProfile):
        entry = InstalledProfile(0, profile)
    else:
        raise QueryError(
            f"expected an InstalledProfile or a ChargingProfile, got {type(profile).__name__}",
            field="profile",
        )
    if schedule_id is not None:
        _whole(schedule_id, "schedule_id")
    s = _window(start, duration)
    rel = (
        s
        if transaction_start is None
        else epoch_or_datetime(transaction_start, "transaction_start")
    )
    cp = compiled(entry) if schedule_id is None else compile_profile(entry, schedule_id)
    unit = ChargingRateUnit.W if cp.unit_w else ChargingRateUnit.A
    return tuple(
        ProfilePeriod(x, y, cp.limits[i], unit, cp.phases[i] or None, i)
        for x, y, i in expand(cp, s, s + duration, rel)
    )


def station_composites(
    profiles: ProfileStore | Iterable[InstalledProfile],
    *,
    start: datetime | int,
    duration: int,
    unit: ChargingRateUnit | str | None = None,
    transactions: Sequence[Transaction] = (),
    config: StationConfig | None = None,
    evse_ids: Sequence[int] | None = None,
    include_station: bool = True,
    offline_since: datetime | int | None = None,
    state: StationState | None = None,
) -> dict[int, CompositeSchedule]:
    """The composite schedule of every EVSE of a station over one window, in one pass.

    Returns ``{evse_id: CompositeSchedule}`` for the station's EVSEs (``evse_ids``,
    else the configured ones, else those named by the profiles, else EVSE 1),
    and under key 0 the station total when ``include_station`` is true. The
    result equals calling :func:`composite_schedule` for each EVSE, but the
    station-level stacks (station max, external constraints, EVSE-0
    TxDefaultProfiles) are expanded once and shared by all EVSEs.
    ``offline_since`` and ``state`` are as in :func:`composite_schedule`.
    """
    work = _StationWork(
        profiles, start, duration, unit, transactions, config, evse_ids, include_station,
        offline_since, state,
    )  # fmt: skip
    s, out_unit = work.ctx.start, work.out_unit
    result = {
        e: _schedule(e, s, duration, out_unit, _finalize(raw, s)) for e, raw in work.raws.items()
    }
    if include_station:
        result[0] = _schedule(0, s, duration, out_unit, _finalize(work.total(), s))
    return result


def station_payloads(
    profiles: ProfileStore | Iterable[InstalledProfile],
    version: OcppVersion,
    *,
    start: datetime | int,
    duration: int,
    unit: ChargingRateUnit | str | None = None,
    transactions: Sequence[Transaction] = (),
    config: StationConfig | None = None,
    include_station: bool = True,
) -> dict[int, dict[str, Any]]:
    """``{evse_id: schedule.to_payload(version)}`` of :func:`station_composites`, by EVSE id.

    The fleet's answers (``engine.fleet``): each EVSE's raw composite is rounded and merged
    straight into the payload's rows (:func:`_answer_rows`), without the periods' sources,
    which a payload does not carry, and without a :class:`CompositeSchedule` in between
    (issue 17). A composite with 2.1 fields, or a 2.1 answer (which says each period's
    operationMode), goes the general way.
    """
    work = _StationWork(
        profiles, start, duration, unit, transactions, config, None, include_station, None, None
    )
    s, out_unit = work.ctx.start, work.out_unit
    when = from_epoch(s)  # every answer's scheduleStart
    answers = {
        e: _payload(e, raw, s, when, duration, out_unit, version) for e, raw in work.raws.items()
    }
    if include_station:
        answers[0] = _payload(0, work.total(), s, when, duration, out_unit, version)
    return dict(sorted(answers.items()))


class _StationWork:
    """A station's query checked and its EVSEs' raw composites built, for
    :func:`station_composites` and :func:`station_payloads`; :meth:`total` builds the
    station total (after the EVSEs' answers, as it always came)."""

    __slots__ = ("ctx", "evses", "index", "out_unit", "raws", "txs")

    def __init__(
        self,
        profiles: ProfileStore | Iterable[InstalledProfile],
        start: datetime | int,
        duration: int,
        unit: ChargingRateUnit | str | None,
        transactions: Sequence[Transaction],
        config: StationConfig | None,
        evse_ids: Sequence[int] | None,
        include_station: bool,
        offline_since: datetime | int | None,
        state: StationState | None,
    ) -> None:
        none_given = isinstance(transactions, tuple) and not transactions  # the default ()
        given, config = _station_inputs(None, None if none_given else transactions, config, state)
        cfg = _config(config)
        s = _window(start, duration)
        self.out_unit = _unit(unit)
        txs = self.txs = _transactions(given)
        if not isinstance(include_station, bool):
            raise QueryError("include_station must be True or False", field="include_station")
        index = self.index = _index(_offline_view(profiles, offline_since), None)
        evses = _evse_ids(evse_ids) if evse_ids is not None else _station_evses(cfg, index, txs)
        for e in evses:
            if e <= 0 or not cfg.knows_evse(e):
                raise QueryError(f"the station has no EVSE {e}", field="evse_ids", rule="K08.FR.05")
        self.evses = evses
        ctx = self.ctx = _Context(s, s + max(duration, 1), self.out_unit is ChargingRateUnit.W, cfg)
        _check_dc_units(cfg, index, txs, evses, ctx.out_w)
        ctx.covers = {}
        self.raws = _evse_raws(ctx, index, txs, evses, total=include_station)

    def total(self) -> _Raw:
        """The station total's raw composite (EVSE 0)."""
        ctx, index, txs, evses, raws = self.ctx, self.index, self.txs, self.evses, self.raws
        terms = raws
        if index.generation:
            # LocalGeneration goes on top of the capped total, EVSE 0's once (V21-7).
            terms = _evse_raws(ctx, index, txs, evses, total=True, station_generation=False)
        gens = _generation_covers(ctx, index, txs, evses)
        return _station_total(ctx, index, list(terms.values()), gens, list(raws.values()))


def _payload(
    evse_id: int,
    raw: _Raw,
    start: int,
    when: datetime,
    duration: int,
    unit: ChargingRateUnit,
    version: OcppVersion,
) -> dict[str, Any]:
    """``_schedule(evse_id, ..., _finalize(raw, start)).to_payload(version)``, the rows built
    from ``raw`` directly where that applies (:func:`_answer_rows`)."""
    if version is not OcppVersion.V21 and getattr(raw, "fields", None) is None:
        rows = _answer_rows(raw, start)
        if rows is not None:
            periods, rates = rows
            return composite_answer(
                version,
                evse_id=evse_id,
                schedule_start=when,
                duration=duration,
                unit=unit.value,
                periods=periods,
                min_charging_rate=rates.pop() if len(rates) == 1 and None not in rates else None,
            )
    return _schedule(evse_id, start, duration, unit, _finalize(raw, start)).to_payload(version)


def _answer_rows(
    raw: _Raw, start: int
) -> tuple[list[tuple[int, float, int]], set[float | None]] | None:
    """The answer's rows ``(startPeriod, limit, numberPhases)`` of a raw composite and the
    set of its periods' minimum charging rates: :func:`_finalize`'s periods without their
    sources (the same rounding, the same merging of equal neighbours, the same rates).

    Limits are rounded with ``(x * 10 + noise) // 1 / 10``, the same float as ``floor(x *
    10 + noise) / 10`` for every finite value (the merge's rounding, issue 16); an infinite
    or NaN value, on which ``floor`` raises, returns None: the caller then goes the way of
    :func:`_finalize`.
    """
    noise, ceil = _NOISE, math.ceil
    rows: list[tuple[int, float, int]] = []
    append = rows.append
    rates: set[float | None] = set()
    cur_start = 0
    cur_limit = -1.0
    cur_phases = -1
    cur_rate: float | None = None
    first = True
    for t, value, phases, _src, rate in raw:
        limit = (value * 10.0 + noise) // 1.0 / 10.0
        if limit == cur_limit and phases == cur_phases:
            if rate is not None and (cur_rate is None or rate > cur_rate):
                cur_rate = rate
            continue
        if limit != limit:  # NaN: from an infinite or NaN value
            return None
        if first:
            first = False
        else:
            append((cur_start - start, cur_limit, cur_phases))
            rates.add(None if cur_rate is None else ceil(cur_rate * 10.0 - noise) / 10.0)
        cur_start = t
        cur_limit = limit
        cur_phases = phases
        cur_rate = rate
    append((cur_start - start, cur_limit, cur_phases))
    rates.add(None if cur_rate is None else ceil(cur_rate * 10.0 - noise) / 10.0)
    return rows, rates


# ------------------------------------------------------------------------ internals


@cache
def _default_config() -> StationConfig:
    """The default configuration, built on first use: building a model at import would load
    pydantic's validator machinery with the package (issue 15 item 7). It is frozen, so its
    numbers are checked once, here, and never again per query."""
    cfg = StationConfig()
    _check_config_numbers(cfg)
    return cfg


MAX_SEGMENTS = 100_000
"""The most schedule pieces one purpose may contribute to an answer (see docs/robustness.md)."""

MAX_WINDOWS = 200_000
"""The most in-force windows (occurrences of recurring profiles) one purpose's stack may have
in a query's window, counted before they are built (see docs/robustness.md)."""

MAX_PERIODS = 100_000
"""The most periods an answer may have, counted before equal neighbours merge; a longer
answer is refused with :class:`QueryError`."""

MAX_STATION_INTERVALS = 1_000_000
"""The most intervals the EVSEs' composites of one EVSE-0 query (or one ``station_composites``
batch) may have together (each EVSE's is at most MAX_PERIODS); counted as each EVSE's is
built (see docs/robustness.md)."""


def _whole(value: object, name: str) -> int:
    """``value`` as an int, or QueryError naming ``name`` (bool is not a number here)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise QueryError(f"expected an int, got {type(value).__name__}", field=name)
    return value


def _config(config: object) -> StationConfig:
    if config is None:
        return _default_config()
    if not isinstance(config, StationConfig):
        raise QueryError(f"expected a StationConfig, got {type(config).__name__}", field="config")
    return config


def _evse_ids(evse_ids: object) -> tuple[int, ...]:
    if isinstance(evse_ids, (str, bytes, Mapping)) or not isinstance(evse_ids, Iterable):
        raise QueryError("expected a sequence of EVSE ids (int)", field="evse_ids")
    return tuple(_whole(e, "evse_ids") for e in evse_ids)


def _schedule_ids(schedule_ids: object) -> Mapping[int, int] | None:
    if schedule_ids is None:
        return None
    if not isinstance(schedule_ids, Mapping):
        raise QueryError("expected a mapping of profile id to schedule id", field="schedule_ids")
    for key, value in schedule_ids.items():
        _whole(key, "schedule_ids")
        _whole(value, "schedule_ids")
    return schedule_ids


def _window(start: datetime | int, duration: int) -> int:
    """The query start in epoch seconds, after checking the window (QueryError if bad).

    A whole-second UTC datetime (the usual query) is read by ``timestamp()``, exact for
    whole seconds and half the cost of the general conversion (issue 16)."""
    if start.__class__ is datetime and start.tzinfo is _UTC and not start.microsecond:
        s = int(start.timestamp())
    else:
        s = epoch_or_datetime(start, "start")
    if isinstance(duration, bool) or not isinstance(duration, int):
        raise QueryError("duration must be whole seconds (int)", field="duration")
    if duration < 0:
        raise QueryError(f"duration {duration} is negative", field="duration")
    check_window(s, duration)
    return s


_CoverKey = tuple[tuple[CompiledProfile, ...], int | None, float | None]
"""A shared cover's key: the stack's profiles, and the anchor / state of charge when they matter."""


class _Context:
    """The query's constants, read once."""

    __slots__ = (
        "convert_at",
        "covers",
        "default_limit",
        "default_phases",
        "end",
        "out_w",
        "start",
        "voltage",
    )

    def __init__(self, start: int, end: int, out_w: bool, cfg: StationConfig) -> None:
        if cfg is not _default_config():  # the default one is checked once, when built
            _check_config_numbers(cfg)
        self.covers: dict[_CoverKey, list[_Seg]] | None = None
        self.convert_at = 0.0
        """The voltage at which covers take profiles' limits converted once per occurrence
        (:meth:`ProfileIndex.converts_once`); 0.0: each limit is converted where it is used."""
        self.start = start
        self.end = end
        self.out_w = out_w
        self.voltage = cfg.supply_voltage
        self.default_phases = cfg.default_number_phases
        self.default_limit = (
            cfg.composite_schedule_default_limit_watts
            if out_w
            else cfg.composite_schedule_default_limit_amps
        )


ENGINE_VOLTAGE_RANGE = (1.0, 1e6)
"""Supply voltages (V) the engine computes with: within it, converting any limit up to
``MAX_LIMIT`` between A and W stays finite, so an overflow can never pass for "no limit"."""


def _check_config_numbers(cfg: StationConfig) -> None:
    """Refuse a configuration whose numbers would overflow the conversions (F13)."""
    low, high = ENGINE_VOLTAGE_RANGE
    voltage = cfg.supply_voltage
    if not (math.isfinite(voltage) and low <= voltage <= high):
        raise QueryError(
            f"supply voltage {voltage!r} is outside {low:g}..{high:g} V",
            field="config.supply_voltage",
        )
    for name in ("composite_schedule_default_limit_amps", "composite_schedule_default_limit_watts"):
        value = getattr(cfg, name)
        if not (math.isfinite(value) and 0 <= value <= MAX_LIMIT):
            raise QueryError(f"{value!r} is outside 0..{MAX_LIMIT:g}", field=f"config.{name}")


_UNITS: dict[Any, ChargingRateUnit] = {
    None: ChargingRateUnit.A,
    "A": ChargingRateUnit.A,
    "W": ChargingRateUnit.W,
    ChargingRateUnit.A: ChargingRateUnit.A,
    ChargingRateUnit.W: ChargingRateUnit.W,
}


def _unit(unit: ChargingRateUnit | str | None) -> ChargingRateUnit:
    if unit is not None and not isinstance(unit, str):
        raise QueryError(f"unit must be 'A' or 'W', got {type(unit).__name__}", field="unit")
    found = _UNITS.get(unit)
    if found is not None:
        return found
    try:
        return ChargingRateUnit(str(unit).upper())
    except ValueError:
        raise QueryError(f"unknown unit {unit!r}; use A or W", field="unit") from None


def _station_inputs(
    transaction: Transaction | Sequence[Transaction] | None,
    transactions: Sequence[Transaction] | None,
    config: StationConfig | None,
    state: StationState | None,
) -> tuple[Transaction | Sequence[Transaction] | None, StationConfig | None]:
    """The transactions and configuration from ``transaction``/``transactions`` and
    ``config``, or from ``state``; giving one thing twice is a :class:`QueryError`."""
    if transaction is not None and transactions is not None:
        raise QueryError(
            "give the transactions once: transaction= or transactions=", field="transactions"
        )
    given = transaction if transaction is not None else transactions
    if state is None:
        return given, config
    if not isinstance(state, StationState):
        raise QueryError("state must be a StationState", field="state")
    if given is not None or config is not None:
        raise QueryError(
            "state= gives the configuration and the transactions; give neither besides it",
            field="state",
        )
    return state.transactions, state.config


def _transactions(
    transaction: Transaction | Sequence[Transaction] | None,
) -> dict[int, Transaction]:
    if transaction is None:
        return {}
    if isinstance(transaction, Transaction):
        return {transaction.evse_id: transaction}
    if isinstance(transaction, (str, bytes, Mapping)) or not isinstance(transaction, Iterable):
        raise QueryError(
            f"expected a Transaction or a sequence of them, got {type(transaction).__name__}",
            field="transaction",
        )
    out: dict[int, Transaction] = {}
    for tx in transaction:
        if not isinstance(tx, Transaction):
            raise QueryError("transaction must be a Transaction", field="transaction")
        if tx.evse_id in out:
            raise QueryError(f"two transactions on EVSE {tx.evse_id}", field="transaction")
        out[tx.evse_id] = tx
    return out


def _index(
    profiles: ProfileStore | Iterable[InstalledProfile], schedule_ids: Mapping[int, int] | None
) -> ProfileIndex:
    if isinstance(profiles, ProfileStore) and not schedule_ids:
        return store_index(profiles)
    profiles = _installed(profiles)
    if schedule_ids:
        return ProfileIndex(
            compile_profile(p, schedule_ids[p.id]) if p.id in schedule_ids else compiled(p)
            for p in profiles
        )
    return ProfileIndex(compiled(p) for p in profiles)


def _offline_view(
    profiles: ProfileStore | Iterable[InstalledProfile], offline_since: datetime | int | None
) -> ProfileStore | Iterable[InstalledProfile]:
    """The profiles as they count while the station is offline since ``offline_since``.

    K01.FR.101: a profile with ``maxOfflineDuration`` m is invalid from ``offline_since + m``
    on (its ``validTo`` is cut there; one not yet valid by then is left out), so the next
    lower stack level or purpose governs; K01.FR.103: without the field nothing changes.
    None (online): the profiles as given.
    """
    if offline_since is None:
        return profiles
    since = epoch_or_datetime(offline_since, "offline_since")
    if not FIRST_SECOND <= since <= LAST_SECOND:
        raise QueryError("offline_since is outside 0001..9999", field="offline_since")
    out: list[InstalledProfile] = []
    changed = False
    for entry in _installed(profiles):
        cut = _offline_cut(entry.profile, since)
        if cut is None:
            out.append(entry)
            continue
        changed = True
        p = entry.profile
        if p.valid_from is not None and epoch_or_datetime(p.valid_from, "validFrom") >= cut:
            continue
        clipped = p.model_copy(update={"valid_to": from_epoch(cut)})
        out.append(InstalledProfile(entry.evse_id, clipped, entry.source, entry.transaction_id))
    # an unchanged store keeps its cached index; any other iterable was consumed above
    return profiles if not changed and isinstance(profiles, ProfileStore) else out


def _offline_cut(profile: ChargingProfile, since: int) -> int | None:
    """Where offline time ends ``profile``'s validity before its ``validTo``, else None."""
    limit = profile.max_offline_duration
    if limit is None or since + limit > LAST_SECOND:
        return None
    cut = since + max(limit, 0)
    if profile.valid_to is not None and epoch_or_datetime(profile.valid_to, "validTo") <= cut:
        return None
    return cut


def _installed(profiles: object) -> list[InstalledProfile]:
    """The installed profiles of an iterable, or QueryError for anything else."""
    if isinstance(profiles, (str, bytes, Mapping)) or not isinstance(profiles, Iterable):
        raise QueryError(
            "expected a ProfileStore or an iterable of InstalledProfile, "
            f"got {type(profiles).__name__}",
            field="profiles",
        )
    out = list(profiles)
    for p in out:
        if not isinstance(p, InstalledProfile):
            raise QueryError(
                f"expected InstalledProfile items, got {type(p).__name__}", field="profiles"
            )
    return out


def _check_dc_units(
    cfg: StationConfig,
    index: ProfileIndex,
    txs: dict[int, Transaction],
    evses: Sequence[int],
    out_w: bool,
) -> None:
    """Refuse a composite that would convert W<->A on a DC EVSE (V21-37), before the work.

    K01.FR.50 converts with the nominal AC line voltage and numberPhases; a DC EVSE has no
    phases, and its DC voltage (the EV battery's) is not known to the station in advance,
    so no conversion of its profiles would be right: every profile that can govern a DC
    EVSE (its EV stack, caps and LocalGeneration) must be in the unit asked.
    """
    for e in evses:
        if e not in cfg.dc_evse_ids:
            continue
        tx = txs.get(e)
        chain = index.ev_chain(e, tx.id, tx.priority_charging) if tx else index.defaults_for(e)
        stacks = [chain, *index.caps(e)]
        if index.generation:
            stacks.append(index.generation_for(e))
        for stack in stacks:
            for cp in stack:
                if cp.unit_w != out_w:
                    have, want = ("W", "A") if cp.unit_w else ("A", "W")
                    raise QueryError(
                        f"EVSE {e} is DC: profile {cp.source.profile_id} in {have} cannot be "
                        f"answered in {want} (no phases, and the DC voltage is unknown); ask "
                        f"in {have}",
                        field="unit",
                        rule="docs/semantics.md V21-37",
                    )


def _station_evses(
    cfg: StationConfig, index: ProfileIndex, txs: dict[int, Transaction]
) -> tuple[int, ...]:
    """The station's EVSEs: configured, else those named by profiles or transactions, else 1."""
    if cfg.evse_ids is not None:
        return cfg.evse_ids
    named = set(index.evses) | set(txs)
    return tuple(sorted(named)) if named else (1,)


_Seg = tuple[int, int, float, bool, int, Any, float | None]
"""A piece of a purpose's leading schedule: (start, end, limit, unit_w, phases, source, rounded).

``phases`` is already resolved (a period without numberPhases has the default).
``rounded`` is ``limit`` rounded down to 0.1 as the answer rounds it (``rounded_down``;
infinite for no limit), which the one-pass merge picks instead of rounding per interval;
None on the EVSE sum's segments (the EVSE-0 total, which only the general path merges).
"""


def _window_count(cp: CompiledProfile, lo: int, hi: int) -> int:
    """At most how many in-force windows ``cp`` has in ``[lo, hi)``, in constant time."""
    if not cp.recurrence:
        return 1
    span = min(hi, cp.valid_to) - max(lo, cp.valid_from)
    return span // cp.recurrence + 2 if span > 0 else 0


def _covers_alone(cp: CompiledProfile, lo: int, hi: int, rel_anchor: int) -> bool:
    """True when ``cp`` is in force over all of ``[lo, hi)`` (constant time)."""
    if cp.valid_from > lo or cp.valid_to < hi:
        return False
    if cp.recurrence:
        return cp.duration >= cp.recurrence
    anchor = rel_anchor if cp.anchor is None else cp.anchor
    return anchor <= lo and anchor + cp.duration >= hi


def _emit(
    cp: CompiledProfile,
    lo: int,
    hi: int,
    anchor: int,
    dp: int,
    limits: tuple[float, ...],
    out: list[_Seg],
) -> None:
    """Append the segments of ``cp`` over ``[lo, hi)``, inside its occurrence at ``anchor``."""
    if limits is cp.limits:
        _slice(cp.occurrence(dp, anchor), lo, hi, out)
        return
    starts = cp.starts
    first = bisect_right(starts, lo - anchor) - 1
    last = bisect_left(starts, hi - anchor)
    phases = cp.phases_with(dp)
    xs = [lo, *[anchor + t for t in starts[first + 1 : last]]]
    ends = xs[1:]
    ends.append(hi)
    values = limits[first:last]
    out.extend(
        zip(
            xs,
            ends,
            values,
            repeat(cp.unit_w),
            phases[first:last],
            repeat(cp),
            rounded_down(values),
        )
    )


def _slice(occurrence: tuple[list[int], list[_Seg]], lo: int, hi: int, out: list[_Seg]) -> None:
    """Append an occurrence's segments within ``[lo, hi)`` (inside the occurrence), clipped."""
    starts, segs = occurrence
    first = 0 if lo == starts[0] else bisect_right(starts, lo) - 1
    last = len(starts) if hi > starts[-1] else bisect_left(starts, hi)
    head = segs[first]
    if first == last - 1:
        out.append((lo, hi, *head[2:]))
        return
    out.append((lo, *head[1:]) if head[0] != lo else head)
    out.extend(segs[first + 1 : last - 1])
    tail = segs[last - 1]
    out.append((tail[0], hi, *tail[2:]) if tail[1] != hi else tail)


def _too_many_pieces() -> QueryError:
    return QueryError(
        f"the answer would need more than {MAX_SEGMENTS} schedule pieces; ask for a shorter window",
        field="duration",
        rule="docs/robustness.md",
    )


def _stack_windows(
    chain: list[CompiledProfile], ctx: _Context, rel_anchor: int
) -> list[tuple[int, int, int, int]]:
    """Every in-force window of the stack's profiles, as ``(start, rank, end, anchor)`` sorted.

    ``rank`` is the profile's place in ``chain`` (0 leads). Profiles below one that
    alone covers the whole query window can never lead and are not expanded. The
    windows are counted first (in constant time per profile; a non-recurring
    profile has one at most, built as it is counted), and more than
    :data:`MAX_WINDOWS` are refused with :class:`QueryError` before any recurrence is built.
    """
    start, end = ctx.start, ctx.end
    if len(chain) == 1 and not chain[0].recurrence:  # one cap, typically: one window at most
        for w_lo, w_hi, anchor in in_force_windows(chain[0], start, end, rel_anchor):
            return [(w_lo, 0, w_hi, anchor)]
        return []
    out: list[tuple[int, int, int, int]] = []
    recurring: list[tuple[int, CompiledProfile]] = []
    total = 0
    for rank, cp in enumerate(chain):
        if cp.recurrence:  # built once all are counted
            total += _window_count(cp, start, end)
            recurring.append((rank, cp))
            if _covers_alone(cp, start, end, rel_anchor):
                break
            continue
        total += 1
        found = in_force_windows(cp, start, end, rel_anchor)  # one window at most
        if found:
            w_lo, w_hi, anchor = found[0]
            out.append((w_lo, rank, w_hi, anchor))
            if w_lo == start and w_hi == end:  # in force over all of it (_covers_alone)
                break
    if total > MAX_WINDOWS:
        raise QueryError(
            f"the stack would be in force in more than {MAX_WINDOWS} separate windows "
            f"({total}: recurring profiles over a long window); ask for a shorter window",
            field="duration",
            rule="docs/robustness.md",
        )
    for rank, cp in recurring:
        for w_lo, w_hi, anchor in in_force_windows(cp, start, end, rel_anchor):
            out.append((w_lo, rank, w_hi, anchor))
    if len(out) > 1:
        out.sort()
    return out


def _cover(
    chain: list[CompiledProfile], ctx: _Context, rel_anchor: int, soc: float | None = None
) -> list[_Seg]:
    """The leading schedule of a stack of profiles (highest precedence first) over the window.

    A sweep over the windows in which each profile is in force, in time order,
    with a heap of the windows open at the current instant ordered by
    precedence: the top of the heap leads until its window ends or a window of
    a higher profile opens. Each window is pushed and popped once, so the work
    is ``O(W log W)`` for ``W`` windows plus the pieces produced, however the
    profiles' windows interleave (the previous walk over the gaps each profile
    left was quadratic in the number of stacked profiles, F27). ``soc`` is the
    EV's state of charge, for 2.1 ``limitAtSoC``. Where no profile of the stack
    is in force the cover holds a filler segment (no limit, phases
    ``_NO_PHASES``), so a cover is either empty (nothing in force in the whole
    window) or spans it. The pieces are counted as they are produced; more than
    :data:`MAX_SEGMENTS` are refused.
    """
    wins = _stack_windows(chain, ctx, rel_anchor)
    if not wins:
        return []
    if len(wins) <= 2:
        return _cover_two(chain, ctx, wins, soc)
    return _cover_sweep(chain, ctx, wins, soc)


def _cover_sweep(
    chain: list[CompiledProfile],
    ctx: _Context,
    wins: list[tuple[int, int, int, int]],
    soc: float | None,
) -> list[_Seg]:
    """:func:`_cover` of any number of windows: the sweep with a heap of the open windows."""
    end, dp, out_w = ctx.end, ctx.default_phases, ctx.out_w
    limits_of: dict[int, tuple[float, ...]] = {}
    segs: list[_Seg] = []
    heap: list[tuple[int, int, int]] = []
    push, pop = heapq.heappush, heapq.heappop
    count = len(wins)
    i = 0
    t = ctx.start
    while t < end:
        while i < count and wins[i][0] <= t:
            _, rank, w_hi, anchor = wins[i]
            push(heap, (rank, w_hi, anchor))
            i += 1
        while heap and heap[0][1] <= t:
            pop(heap)
        if not heap:
            stop = wins[i][0] if i < count else end
            segs.append((t, stop, _INF, out_w, _NO_PHASES, _DEFAULT, _INF))
            t = stop
            continue
        rank, stop, anchor = heap[0]
        while i < count and wins[i][0] < stop:
            w_lo, other, w_hi, other_anchor = wins[i]
            if other < rank:
                stop = w_lo
                break
            push(heap, (other, w_hi, other_anchor))
            i += 1
        cp = chain[rank]
        if soc is None or cp.soc_limit is None:
            convert = ctx.convert_at if cp.unit_w is not out_w else 0.0
            _slice(cp.occurrence(dp, anchor, convert), t, stop, segs)
        else:
            limits = limits_of.get(rank)
            if limits is None:
                limits = limits_of[rank] = _soc_limits(cp, soc)
            _emit(cp, t, stop, anchor, dp, limits, segs)
        if len(segs) > MAX_SEGMENTS:
            raise _too_many_pieces()
        t = stop
    return segs


def _cover_two(
    chain: list[CompiledProfile],
    ctx: _Context,
    wins: list[tuple[int, int, int, int]],
    soc: float | None,
) -> list[_Seg]:
    """:func:`_cover` of a stack in force in one or two windows, without the heap.

    One window: the profile's pieces there, with a filler before and after where the
    window is shorter than the query's. Two (a TxProfile over a TxDefault, say): the
    leading window's pieces, the other's before and after it, and a filler where neither
    is in force; the same segments as :func:`_cover_sweep` (tested)."""
    segs: list[_Seg] = []
    if len(wins) == 1:
        _fill(chain, ctx, wins[0], ctx.start, ctx.end, soc, segs)
    else:
        lead, other = wins
        if other[1] < lead[1]:
            lead, other = other, lead
        _fill(chain, ctx, other, ctx.start, lead[0], soc, segs)
        _fill(chain, ctx, lead, lead[0], lead[2], soc, segs)
        _fill(chain, ctx, other, lead[2], ctx.end, soc, segs)
    if len(segs) > MAX_SEGMENTS:
        raise _too_many_pieces()
    return segs


def _fill(
    chain: list[CompiledProfile],
    ctx: _Context,
    window: tuple[int, int, int, int],
    lo: int,
    hi: int,
    soc: float | None,
    segs: list[_Seg],
) -> None:
    """Append ``[lo, hi)`` covered by ``window``'s profile where it is in force, else filler."""
    if lo >= hi:
        return
    w_lo = window[0] if window[0] > lo else lo
    w_hi = window[2] if window[2] < hi else hi
    if w_lo >= w_hi:
        segs.append((lo, hi, _INF, ctx.out_w, _NO_PHASES, _DEFAULT, _INF))
        return
    if lo < w_lo:
        segs.append((lo, w_lo, _INF, ctx.out_w, _NO_PHASES, _DEFAULT, _INF))
    cp = chain[window[1]]
    if soc is None or cp.soc_limit is None:
        convert = ctx.convert_at if cp.unit_w is not ctx.out_w else 0.0
        _slice(cp.occurrence(ctx.default_phases, window[3], convert), w_lo, w_hi, segs)
    else:
        _emit(cp, w_lo, w_hi, window[3], ctx.default_phases, _soc_limits(cp, soc), segs)
    if w_hi < hi:
        segs.append((w_hi, hi, _INF, ctx.out_w, _NO_PHASES, _DEFAULT, _INF))


def _soc_limits(cp: CompiledProfile, soc: float | None) -> tuple[float, ...]:
    """The profile's limits, capped by its 2.1 ``limitAtSoC`` once the EV's SoC reaches it."""
    if cp.soc_limit is not None and soc is not None and soc >= cp.soc_limit[0]:
        cap = cp.soc_limit[1]
        return tuple(min(v, cap) for v in cp.limits)
    return cp.limits


_Raw = list[tuple[int, float, int, Any, float | None]]
"""Elementary intervals: (start, value in the output unit, phases, source, min rate)."""


def _evse_raw(
    ctx: _Context,
    index: ProfileIndex,
    evse_id: int,
    tx: Transaction | None,
    *,
    station_generation: bool = True,
) -> _Raw:
    """The unrounded composite of one EVSE.

    With ``station_generation`` (an EVSE's own answer) the LocalGeneration stack
    is the EVSE's and EVSE 0's merged; without it (a term of the EVSE-0 sum) there
    is none: the station total adds every LocalGeneration on top of its capped sum,
    EVSE 0's once (V21-7).
    """
    return _evse_work(ctx, index, evse_id, tx, station_generation, answer=False)[0]


def _evse_answer(
    ctx: _Context, index: ProfileIndex, evse_id: int, tx: Transaction | None
) -> tuple[CompositePeriod, ...]:
    """The answer's periods for one EVSE: :func:`_finalize` of :func:`_evse_raw`, with the
    common case (at most two purposes, no LocalGeneration, no 2.1 fields) in one pass."""
    raw, periods = _evse_work(ctx, index, evse_id, tx, True, answer=True)
    return _finalize(raw, ctx.start) if periods is None else periods


def _evse_work(
    ctx: _Context,
    index: ProfileIndex,
    evse_id: int,
    tx: Transaction | None,
    station_generation: bool,
    *,
    answer: bool,
) -> tuple[_Raw, tuple[CompositePeriod, ...] | None]:
    """The covers of one EVSE, combined: ``(raw, None)``, or with ``answer`` where the
    one-pass merge applies ``([], periods)`` (see :func:`_evse_raw`, :func:`_evse_answer`)."""
    if tx is None:
        chain = index.defaults_for(evse_id)
        rel, soc = ctx.start, None
    else:
        chain = index.ev_chain(evse_id, tx.id, tx.priority_charging)
        rel, soc = tx.start_epoch, tx.state_of_charge
    cover = _cover if ctx.covers is None else _shared_cover
    ev_cover = cover(chain, ctx, rel, soc) if chain else []
    caps = index.caps(evse_id)
    cap_covers = []
    for cap in caps:  # a loop, not a comprehension: this runs on every warm call
        cap_covers.append(cover(cap, ctx, rel, soc))
    generation: list[CompiledProfile] | None = None
    if index.generation and station_generation:
        generation = index.generation_for(evse_id)
    gen = cover(generation, ctx, rel, soc) if generation else []
    v2x = index.has_v2x and stacks_have_v2x([chain, *caps, generation or []])
    if answer and not gen and not v2x and len(cap_covers) < 2:
        periods = _one_pass(ctx, ev_cover, cap_covers[0] if cap_covers else [], index.has_min_rate)
        if periods is not None:
            return [], periods
    raw = _combine(ctx, [ev_cover, *cap_covers], gen, index.has_min_rate)
    if v2x:
        new_raw, fields = evse_fields(
            raw,
            ev_cover,
            cap_covers,
            gen,
            rel=rel,
            evse_id=evse_id,
            out_w=ctx.out_w,
            voltage=ctx.voltage,
            default_limit=ctx.default_limit,
        )
        return _FieldRaw(new_raw, fields), None
    return raw, None


def _one_pass(
    ctx: _Context, first: list[_Seg], second: list[_Seg], rates: bool = True
) -> tuple[CompositePeriod, ...] | None:
    """The answer of the EV stack's cover and at most one cap's, merged, rounded and built
    in one pass (either may be empty: nothing of it in force); None when that does not
    apply (both empty, or possibly more than :data:`MAX_PERIODS` intervals: the general
    path then decides, as before). ``rates`` as in :func:`_merge_two`."""
    if not first:
        first, second = second, first
    if not first or len(first) + len(second) > MAX_PERIODS:
        return None
    if second:
        rows = _merge_two(ctx, first, second, True, rates)
    else:
        rows = _merge_one(ctx, first, True, rates)
    # starmap over zip hands tuple.__new__ zip's (reused) argument tuple: one allocation
    # per period less than map (0.27 µs of W1's 27 periods, issue 16)
    return tuple(starmap(tuple.__new__, zip(repeat(CompositePeriod), rows)))  # noqa: RUF058


class _FieldRaw(list):  # type: ignore[type-arg]
    """A raw composite with the 2.1 fields of each of its intervals (V21-8)."""

    __slots__ = ("fields",)

    def __init__(self, raw: list[Any], fields: list[V2xFields | None]) -> None:
        super().__init__(raw)
        self.fields = fields


def _shared_cover(
    chain: list[CompiledProfile], ctx: _Context, rel_anchor: int, soc: float | None = None
) -> list[_Seg]:
    """``_cover`` remembered for the query: EVSEs that share a stack share its cover.

    The key is the stack's profiles themselves (a tuple holding them, compared
    by identity of the compiled profiles it keeps alive), never ``id()`` of the
    list: stack lists are often temporaries, and CPython reuses a freed list's
    address for the next one, which gave one EVSE another's cover (F1). The
    key ignores the anchor and the state of charge when no profile of the
    stack depends on them.
    """
    assert ctx.covers is not None
    relative = False
    for cp in chain:  # a loop, not any() over a generator: two profiles, typically
        if cp.anchor is None:
            relative = True
            break
    soc_bound = soc is not None and any(cp.soc_limit is not None for cp in chain)
    key = (tuple(chain), rel_anchor if relative else None, soc if soc_bound else None)
    found = ctx.covers.get(key)
    if found is None:
        found = _cover(chain, ctx, rel_anchor, soc)
        ctx.covers[key] = found
    return found


def _station_raw(
    ctx: _Context, index: ProfileIndex, txs: dict[int, Transaction], evses: tuple[int, ...]
) -> _Raw:
    """EVSE 0: the sum of the EVSEs' composites, capped by the station-wide profiles."""
    per_evse = _evse_raws(ctx, index, txs, evses, total=True, station_generation=False)
    answers = per_evse
    if index.generation:
        answers = _evse_raws(ctx, index, txs, evses, total=False)
    gens = _generation_covers(ctx, index, txs, evses)
    return _station_total(ctx, index, list(per_evse.values()), gens, list(answers.values()))


def _generation_covers(
    ctx: _Context, index: ProfileIndex, txs: dict[int, Transaction], evses: Sequence[int]
) -> list[list[_Seg]]:
    """The LocalGeneration the EVSE-0 total adds on top (V21-7): EVSE 0's once (Relative
    ones anchored at the query start, like the station caps), and each EVSE's own (anchored
    at its transaction, as in the EVSE's answer)."""
    cover = _cover if ctx.covers is None else _shared_cover
    out = []
    for e in (0, *evses):
        stack = index.generation.get(e)
        if stack:
            tx = txs.get(e) if e else None
            rel, soc = (ctx.start, None) if tx is None else (tx.start_epoch, tx.state_of_charge)
            out.append(cover(stack, ctx, rel, soc))
    return out


def _evse_raws(
    ctx: _Context,
    index: ProfileIndex,
    txs: dict[int, Transaction],
    evses: Sequence[int],
    *,
    total: bool,
    station_generation: bool = True,
) -> dict[int, _Raw]:
    """The unrounded composites of ``evses``, built one by one within the station bounds.

    All of them together may have at most :data:`MAX_STATION_INTERVALS` intervals.
    With ``total`` (the EVSE-0 sum follows), the instants at which any of them
    changes are counted as they come: the total changes at each, so once there
    are more than :data:`MAX_PERIODS` the query is refused before the next EVSE
    is built (F17: the bound used to be checked only after every EVSE's
    composite was built and summed).
    """
    out: dict[int, _Raw] = {}
    points: set[int] = set()
    built = 0
    for e in evses:
        raw = (
            _evse_raw(ctx, index, e, txs.get(e))
            if station_generation
            else _evse_raw(ctx, index, e, txs.get(e), station_generation=False)
        )
        built += len(raw)
        if built > MAX_STATION_INTERVALS:
            raise QueryError(
                f"the EVSEs' composites would need more than {MAX_STATION_INTERVALS} "
                f"intervals together ({len(evses)} EVSEs); ask for a shorter window",
                field="duration",
                rule="docs/robustness.md",
            )
        if total:
            points.update(map(_T0, raw))
            if len(points) > MAX_PERIODS:
                raise _too_many_periods(len(points))
        out[e] = raw
    return out


def _too_many_periods(count: int) -> QueryError:
    return QueryError(
        f"the answer would have {count} periods, more than {MAX_PERIODS}; ask for a shorter window",
        field="duration",
        rule="docs/robustness.md",
    )


def _station_total(
    ctx: _Context,
    index: ProfileIndex,
    per_evse: list[_Raw],
    gens: list[list[_Seg]],
    answers: list[_Raw],
) -> _Raw:
    """The EVSEs' composites added up, capped by the station max and EVSE-0 constraints.

    ``per_evse`` hold no LocalGeneration; ``gens`` (EVSE 0's and each EVSE's own) are
    added on top of the capped sum, converted with its phases, EVSE 0's once (V21-7):
    generation is capacity beside the grid, which the station caps do not limit.
    ``answers`` are the EVSEs' own answers (the same as ``per_evse`` without generation),
    whose 2.1 setpoints and discharge limits the total adds (V21-12).
    """
    cover = _cover if ctx.covers is None else _shared_cover
    caps = index.caps(0)
    cap_covers = [cover(cap, ctx, ctx.start) for cap in caps]
    total = _combine(ctx, [_sum_raw(ctx, per_evse), *cap_covers], [])
    for gen in gens:
        total = _add_generation(ctx, total, gen)
    with_fields = [getattr(raw, "fields", None) for raw in per_evse]
    gen_v2x = any(seg[5].v2x is not None for gen in gens for seg in gen if _is_profile(seg))
    if index.has_v2x and (
        any(f is not None for f in with_fields) or stacks_have_v2x(caps) or gen_v2x
    ):
        new_total, fields = station_fields(
            total,
            list(zip(per_evse, with_fields, strict=True)),
            [(raw, getattr(raw, "fields", None)) for raw in answers],
            cap_covers,
            gens,
            start=ctx.start,
            out_w=ctx.out_w,
            voltage=ctx.voltage,
            default_limit=ctx.default_limit,
        )
        return _FieldRaw(new_total, fields)
    return total


class _Marker:
    """The source object of a raw entry that is not a profile (default limit, EVSE sum)."""

    __slots__ = ("source", "sources", "tx_min_rate", "unit_w")

    def __init__(self, source: LimitSource) -> None:
        self.source = source
        self.sources = (source,)
        self.tx_min_rate: float | None = None
        self.unit_w = False


_DEFAULT = _Marker(DEFAULT_SOURCE)
_NO_PHASES = 99
"""Phases of a filler segment: more than any real period, so it never lowers the minimum."""
_SUM = _Marker(EVSE_SUM_SOURCE)


def _is_profile(seg: _Seg) -> bool:
    """True for a cover segment set by a profile (not a filler)."""
    return isinstance(seg[5], CompiledProfile)


def _sum_raw(ctx: _Context, per_evse: list[_Raw]) -> list[_Seg]:
    """Add the EVSEs' composites; the phases of the sum are the most any EVSE uses.

    The sum changes where any EVSE's composite changes: at each of those instants
    (sorted once) every EVSE's value is laid out in a column, and the columns are added
    pairwise, level by level, as a balanced tree over the EVSEs (padded with zeros to a
    power of two): the same additions in the same order as a segment tree updated at
    each change point, so the same floats, but each level is one ``map`` in C over all
    the instants instead of a Python step per change and level. The work is linear in
    the number of instants times the EVSEs (F17's bound on the instants is checked as
    the EVSEs' composites are built). More than :data:`MAX_PERIODS` intervals are
    refused. Every raw composite starts at the window's start and rises strictly (as
    the engine builds them).
    """
    start, end, out_w = ctx.start, ctx.end, ctx.out_w
    if len(per_evse) == 1:
        raw = per_evse[0]
        ends = [r[0] for r in raw[1:]]
        ends.append(end)
        return [
            (t, stop, value, out_w, phases, _SUM, None)
            for (t, value, phases, _s, _r), stop in zip(raw, ends, strict=True)
        ]
    points: set[int] = set()
    phase_set: set[int] = set()
    for raw in per_evse:
        points.update(map(_T0, raw))
        phase_set.update(map(_T2, raw))
    points.discard(start)
    bounds = sorted(points)
    bounds.insert(0, start)
    count = len(bounds)
    if count - 1 > MAX_PERIODS:
        raise _too_many_periods(MAX_PERIODS + 1)
    where = dict(zip(bounds, range(count), strict=True))
    at = where.__getitem__
    level: list[list[float] | None] = []
    phase_cols: list[list[int]] = []
    uniform = len(phase_set) == 1
    for raw in per_evse:
        pos = list(map(at, map(_T0, raw)))
        pos[0] = 0
        pos.append(count)
        runs = list(map(sub, pos[1:], pos))
        level.append(list(chain.from_iterable(map(repeat, map(_T1, raw), runs))))
        if not uniform:
            phase_cols.append(list(chain.from_iterable(map(repeat, map(_T2, raw), runs))))
    size = 1
    while size < len(level):
        size *= 2
    padded = size > len(level)
    level.extend([None] * (size - len(level)))
    while len(level) > 1:
        level = [
            a if b is None else list(map(add, a, b))  # type: ignore[arg-type]
            for a, b in zip(level[::2], level[1::2], strict=True)
        ]
    totals = level[0]
    assert totals is not None
    if padded and 0.0 in totals:
        # The tree adds each padding leaf (0.0) where it meets a real subtree: x + 0.0 is
        # x, but for -0.0, which it turns into 0.0. So a sum differs only in the sign of a
        # zero, and with padding a zero sum is 0.0 (never -0.0); adding 0.0 at the root
        # gives exactly that (a sum is -0.0 only when all its terms are).
        totals = list(map(add, totals, repeat(0.0, count)))
    most: Iterable[int]
    if uniform:
        only = phase_set.pop()
        most = repeat(max(only, 0) if padded else only)
    else:
        if padded:
            phase_cols.append([0] * count)
        most = map(max, *phase_cols)
    ends = bounds[1:]
    ends.append(end)
    return list(zip(bounds, ends, totals, repeat(out_w), most, repeat(_SUM), repeat(None)))


_T0, _T1, _T2 = itemgetter(0), itemgetter(1), itemgetter(2)
"""A raw interval's start, value and phases."""


def _convert(limit: float, unit_w: bool, out_w: bool, phases: int, voltage: float) -> float:
    if unit_w == out_w:
        return limit
    if out_w:
        return limit * voltage * phases
    return limit / (voltage * phases)


def _combine(ctx: _Context, covers: list[list[_Seg]], gen: list[_Seg], rates: bool = True) -> _Raw:
    """The minimum over the purposes' leading schedules, interval by interval, plus generation.

    ``covers[0]`` is the EV-limit stack (or the EVSE sum), the rest are caps;
    where values tie, the earlier stack is named as the source. ``rates`` False says no
    profile has a minimum charging rate (:attr:`ProfileIndex.has_min_rate`): the merges of
    one or two covers then skip the per-interval rate work (every rate is None anyway).
    """
    covers = [c for c in covers if c]
    if not covers:
        raw: _Raw = [(ctx.start, ctx.default_limit, ctx.default_phases, _DEFAULT, None)]
    elif len(covers) == 1:
        raw = _combine_one(ctx, covers[0], rates)
    elif len(covers) == 2:
        raw = _combine_two(ctx, covers[0], covers[1], rates)
    else:
        raw = _combine_many(ctx, covers)
    if len(raw) > MAX_PERIODS:
        raise _too_many_periods(len(raw))
    if gen:
        raw = _add_generation(ctx, raw, gen)
    return raw


def _combine_one(ctx: _Context, cover: list[_Seg], rates: bool = True) -> _Raw:
    """One purpose in force: convert its periods, the default limit where it has none."""
    return _merge_one(ctx, cover, False, rates)


def _merge_one(ctx: _Context, cover: list[_Seg], final: bool, rates: bool = True) -> list[Any]:
    """One gap-free cover converted, the default limit where it has no limit.

    ``final`` and ``rates`` as in :func:`_merge_two` (the same rounding and merging, one
    cover). The emission at the end of the loop is :func:`_merge_two`'s, kept inline on
    purpose: a call per interval would cost about what the one pass saves
    (docs/performance.md).
    """
    out_w, voltage, origin = ctx.out_w, ctx.voltage, ctx.start
    default_phases, default_limit = ctx.default_phases, ctx.default_limit
    inf, default, noise, ceil = _INF, _DEFAULT, _NOISE, math.ceil
    out: list[Any] = []
    append = out.append
    cur_limit: float | None = _INF  # None only on the general path (the EVSE sum's segments)
    cur_n, cur_src = -1, None
    default_rounded = (default_limit * 10.0 + noise) // 1.0 / 10.0
    rate = None
    for t, _, va, ua, n, src, limit in cover:
        if ua is not out_w:  # units are bools: `is` is cheaper than `!=` here
            va = va * voltage * n if out_w else va / (voltage * n)
            if final:
                limit = (va * 10.0 + noise) // 1.0 / 10.0
        if rates:
            rate = src.tx_min_rate
            if rate is not None:
                rate = _convert(rate, src.unit_w, out_w, n, voltage)
                if final:
                    rate = ceil(rate * 10.0 - noise) / 10.0
        if va == inf:
            va, src, limit = default_limit, default, default_rounded
            if n > 3:
                n = default_phases
        if not final:
            append((t, va, n, src, rate))
        else:
            if limit != cur_limit or n != cur_n:
                append((t - origin, limit, n, src.sources, rate, None))
                cur_limit, cur_n, cur_src = limit, n, src
            elif src is not cur_src or rate is not None:
                out[-1] = _merged_row(out[-1], src.source, rate)
                cur_src = src
    return out


def _combine_two(ctx: _Context, first: list[_Seg], second: list[_Seg], rates: bool = True) -> _Raw:
    """Two purposes (the EV limit and one cap, typically): a two-pointer merge."""
    return _merge_two(ctx, first, second, False, rates)


def _merge_two(
    ctx: _Context, first: list[_Seg], second: list[_Seg], final: bool, rates: bool = True
) -> list[Any]:
    """The minimum of two gap-free covers, stepping from one segment end to the next.

    Not ``final``: the raw intervals ``(start, value, phases, source, min rate)``.
    ``final``: the answer's periods as plain tuples, rounded and with equal
    neighbours merged as :func:`_finalize` does, in the same pass (no raw
    interval is built: this is the warm path of an EVSE's answer, issue 16).
    ``rates`` False says no profile of ``first`` has a minimum charging rate
    (:attr:`ProfileIndex.has_min_rate`): the per-interval rate work is skipped.
    ``final`` takes the rounded limit from the segment that sets it (rounded once per
    occurrence: rounding down is monotone, so the rounded minimum is the minimum's
    rounding), and rounds here only what it converts.
    Units are compared with ``is``: they are bools (``unit_w``, ``out_w``), and
    CPython 3.11 specialises ``is`` but not ``!=`` on bools (issue 16).
    """
    end, out_w, voltage, origin = ctx.end, ctx.out_w, ctx.voltage, ctx.start
    default_phases, default_limit = ctx.default_phases, ctx.default_limit
    inf, default, noise, ceil = _INF, _DEFAULT, _NOISE, math.ceil
    out: list[Any] = []
    append = out.append
    cur_limit: float | None = _INF  # None only on the general path (the EVSE sum's segments)
    cur_n, cur_src = -1, None
    ia = ib = 0
    sa, sb = first[0], second[0]
    t = origin
    default_rounded = (default_limit * 10.0 + noise) // 1.0 / 10.0
    rate = None
    while True:
        _, ea, va, ua, n, src, ra = sa
        _, eb, vb, ub, pb, src_b, rb = sb
        if pb < n:
            n = pb
        if ua is not out_w:
            va = va * voltage * n if out_w else va / (voltage * n)
            if final:
                ra = (va * 10.0 + noise) // 1.0 / 10.0
        if ub is not out_w:
            vb = vb * voltage * n if out_w else vb / (voltage * n)
            if final:
                rb = (vb * 10.0 + noise) // 1.0 / 10.0
        if rates:
            rate = src.tx_min_rate
            if rate is not None:
                rate = _convert(rate, src.unit_w, out_w, n, voltage)
                if final:
                    rate = ceil(rate * 10.0 - noise) / 10.0
        if vb < va:
            va, src, limit = vb, src_b, rb
        elif va == inf:
            va, src, limit = default_limit, default, default_rounded
            if n > 3:
                n = default_phases
        else:
            limit = ra
        if not final:
            append((t, va, n, src, rate))
        else:
            if limit != cur_limit or n != cur_n:
                append((t - origin, limit, n, src.sources, rate, None))
                cur_limit, cur_n, cur_src = limit, n, src
            elif src is not cur_src or rate is not None:
                out[-1] = _merged_row(out[-1], src.source, rate)
                cur_src = src
        if ea < eb:
            t = ea
            ia += 1
            sa = first[ia]
        elif eb < ea:
            t = eb
            ib += 1
            sb = second[ib]
        else:
            if ea >= end:
                return out
            t = ea
            ia += 1
            ib += 1
            sa, sb = first[ia], second[ib]


def _merged_row(row: tuple[Any, ...], source: LimitSource, rate: float | None) -> tuple[Any, ...]:
    """A period row extended by an equal neighbour: its source (unless the same as the
    last) and the larger minimum charging rate (rates are rounded up, which commutes with max)."""
    sources = row[3] if source is row[3][-1] else (*row[3], source)
    old = row[4]
    if rate is None or (old is not None and old >= rate):
        rate = old
    return (row[0], row[1], row[2], sources, rate, None)


def _combine_many(ctx: _Context, covers: list[list[_Seg]]) -> _Raw:
    """Several purposes: at each change point, the minimum with the phases in use."""
    start, end, out_w, voltage = ctx.start, ctx.end, ctx.out_w, ctx.voltage
    default_phases, default_limit = ctx.default_phases, ctx.default_limit
    bounds = {start}
    for cov in covers:
        for seg in cov:
            bounds.add(seg[0])
            bounds.add(seg[1])
    count = len(covers)
    ptrs = [0] * count
    sizes = [len(c) for c in covers]
    raw: _Raw = []
    append = raw.append
    active: list[_Seg] = []
    for t in sorted(bounds):
        if t >= end:
            break
        active.clear()
        phases = 4
        for c in range(count):
            cov = covers[c]
            i = ptrs[c]
            size = sizes[c]
            while i < size and cov[i][1] <= t:
                i += 1
            ptrs[c] = i
            if i < size and cov[i][0] <= t:
                seg = cov[i]
                active.append(seg)
                if seg[4] < phases:
                    phases = seg[4]
        if not active:
            append((t, default_limit, default_phases, _DEFAULT, None))
            continue
        value = _INF
        best: Any = _DEFAULT
        rate: float | None = None
        for seg in active:
            v = seg[2]
            if seg[3] != out_w:
                v = v * voltage * phases if out_w else v / (voltage * phases)
            if v < value:
                value = v
                best = seg[5]
        lead = active[0][5]
        if active[0] is _current(covers[0], ptrs[0], t) and lead.tx_min_rate is not None:
            rate = _convert(lead.tx_min_rate, lead.unit_w, out_w, phases, voltage)
        if value == _INF:
            append((t, default_limit, default_phases if phases > 3 else phases, _DEFAULT, rate))
        else:
            append((t, value, phases, best, rate))
    return raw


def _current(cover: list[_Seg], i: int, t: int) -> _Seg | None:
    if i < len(cover) and cover[i][0] <= t:
        return cover[i]
    return None


def _add_generation(ctx: _Context, raw: _Raw, gen: list[_Seg]) -> _Raw:
    """Add 2.1 LocalGeneration on top, converted with the phases in use."""
    bounds = sorted({r[0] for r in raw} | {g[0] for g in gen} | {g[1] for g in gen})
    out: _Raw = []
    ri = gi = 0
    for t in bounds:
        if t >= ctx.end:
            break
        while ri + 1 < len(raw) and raw[ri + 1][0] <= t:
            ri += 1
        while gi < len(gen) and gen[gi][1] <= t:
            gi += 1
        _, value, phases, source, rate = raw[ri]
        if gi < len(gen) and gen[gi][0] <= t and gen[gi][2] != _INF:
            g = gen[gi]
            value = value + _convert(g[2], g[3], ctx.out_w, phases, ctx.voltage)
        out.append((t, value, phases, source, rate))
    return out


_NOISE = ROUNDING_NOISE
"""Float noise ignored when rounding to tenths (in units of a tenth)."""


def _toward_zero(value: float) -> float:
    """A 2.1 value rounded to 0.1 towards zero (a limit down, a discharge limit up, V21-8)."""
    if value >= 0:
        return math.floor(value * 10.0 + _NOISE) / 10.0 + 0.0
    return -math.floor(-value * 10.0 + _NOISE) / 10.0 + 0.0


def _round_fields(fields: V2xFields | None) -> V2xFields | None:
    if fields is None:
        return None
    return fields.rebuilt([None if v is None else _toward_zero(v) for v in fields.numbers()])


def _merge_sources(
    first: V2xFields, second: V2xFields
) -> tuple[tuple[str, tuple[LimitSource, ...]], ...]:
    """Each field's sources of two merged neighbours, in time order, without repeats."""
    later = dict(second.sources)
    out = []
    for name, found in first.sources:
        more = list(found)
        for src in later.get(name, ()):
            if src != more[-1]:
                more.append(src)
        out.append((name, tuple(more)))
    return tuple(out)


def _finalize_v2x(
    raw: _Raw, fields: list[V2xFields | None], start: int
) -> tuple[CompositePeriod, ...]:
    """:func:`_finalize` for a composite with 2.1 fields: neighbours merge only when their
    rounded limit, phases and 2.1 fields are all equal."""
    periods = list(_finalize(list(raw), start, split=True))
    out: list[CompositePeriod] = []
    for period, extra in zip(periods, fields, strict=True):
        v2x = _round_fields(extra)
        if out:
            prev = out[-1]
            same = prev.v2x.values() if prev.v2x else None
            if (
                prev.limit == period.limit
                and prev.number_phases == period.number_phases
                and same == (v2x.values() if v2x else None)
            ):
                sources = list(prev.sources)
                for src in period.sources:
                    if src != sources[-1]:
                        sources.append(src)
                rates = [
                    r for r in (prev.min_charging_rate, period.min_charging_rate) if r is not None
                ]
                merged_v2x = (
                    None
                    if v2x is None or prev.v2x is None
                    else prev.v2x.rebuilt(prev.v2x.numbers(), _merge_sources(prev.v2x, v2x))
                )
                out[-1] = prev._replace(
                    sources=tuple(sources),
                    min_charging_rate=max(rates) if rates else None,
                    v2x=merged_v2x,
                )
                continue
        out.append(period._replace(v2x=v2x))
    return tuple(out)


def _finalize(raw: _Raw, start: int, split: bool = False) -> tuple[CompositePeriod, ...]:
    """Round down to 0.1, merge equal neighbours (limit and phases), keep provenance.

    Limits are rounded down (so a rounded cap is never exceeded) after removing
    float noise: a value within 5e-7 of a tenth below the next tenth counts as
    that tenth (``floor(round(x * 10, 6))`` without the cost of ``round``, so
    23 / 10 stays 2.3). Minimum charging rates are rounded up the same way.
    A raw composite with 2.1 fields goes to :func:`_finalize_v2x`; ``split``
    keeps one period per raw interval (it merges afterwards).
    """
    fields = getattr(raw, "fields", None)
    if fields is not None and not split:
        return _finalize_v2x(raw, fields, start)
    floor, new, noise, period = math.floor, tuple.__new__, _NOISE, CompositePeriod
    periods: list[CompositePeriod] = []
    append = periods.append
    cur_start = 0
    cur_limit = -1.0
    cur_phases = -1
    cur_src: Any = None
    cur_source: Any = None
    more: list[LimitSource] | None = None
    cur_rate: float | None = None
    for t, value, phases, src, rate in raw:
        limit = floor(value * 10.0 + noise) / 10.0
        if limit == cur_limit and phases == cur_phases and not split:
            if src is not cur_src:
                cur_src = src
                source = src.source
                if more is None:
                    if source is not cur_source:
                        more = [cur_source, source]
                elif source is not more[-1]:
                    more.append(source)
            if rate is not None and (cur_rate is None or rate > cur_rate):
                cur_rate = rate
            continue
        if cur_src is not None:
            if cur_rate is not None:
                cur_rate = math.ceil(cur_rate * 10.0 - _NOISE) / 10.0
            sources = (cur_source,) if more is None else tuple(more)
            append(new(period, (cur_start - start, cur_limit, cur_phases, sources, cur_rate, None)))
        cur_start = t
        cur_limit = limit
        cur_phases = phases
        cur_rate = rate
        cur_src = src
        cur_source = src.source
        more = None
    if cur_rate is not None:
        cur_rate = math.ceil(cur_rate * 10.0 - _NOISE) / 10.0
    sources = (cur_source,) if more is None else tuple(more)
    append(
        new(CompositePeriod, (cur_start - start, cur_limit, cur_phases, sources, cur_rate, None))
    )
    return tuple(periods)

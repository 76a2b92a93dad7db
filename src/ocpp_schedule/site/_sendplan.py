"""Send plans: an allocation as SetChargingProfile payloads, in an order that is safe.

For every EVSE the plan holds a TxDefaultProfile on that EVSE (the limits for
sessions that start later) and, when a transaction whose id the caller gave
(``Session.transaction_id``) runs at the moment the plan is sent, a TxProfile
for it with the same limits. A running session without a caller-given id gets
no TxProfile: a pile rejects one for a transaction it does not have, so the
TxDefaultProfile, which carries the same limits from the moment of sending,
governs it (docs/semantics.md SP9). Both run from the moment of
sending to the allocation's end and then end in the EVSE's *safe tail*
(:mod:`ocpp_schedule.site._safetail`), an open-ended last period that keeps the site
safe whatever happens after the plan's window, until the next plan.

Ids are fixed per EVSE and purpose (:func:`plan_profile_id`), whatever the
operator's own profiles use, so a new plan replaces the previous one profile by
profile; stack levels are one above the operator's own on that EVSE or EVSE 0.

Order: a station applies a plan one payload at a time. Steps that only lower
what an EVSE draws come first; steps that raise it come last; an EVSE whose
draw goes down at some times and up at others first gets limits under which it
draws no more than before nor after, and its new limits in the second half.
What an EVSE draws is its composite from what the pile holds, before and with
the new profiles (docs/semantics.md B7).

Every payload is fitted to its pile's capabilities (``capabilities.adapt``:
unit, decimals, stack level) or refused with :class:`SendPlanError`. Before the
plan is returned, :func:`~ocpp_schedule.site._model._plancheck.check_plan` replays it
through the library's own station rules and composite engine, prefix by
prefix, and raises :class:`~ocpp_schedule.errors.SafetyError` rather than
return a plan under which a circuit could be over its limit.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from ..engine._collector import collector_paused
from ..errors import AdaptationError, OcppScheduleError
from ..station._capabilities import StationCapabilities, adapt
from ..station._config import StationConfig
from ..station._rules import SetChargingProfileResult, install
from ..station._store import ProfileStore, StationState, Transaction
from ..wire._enums import ChargingProfilePurpose, OcppVersion
from ..wire._models import ChargingProfile, SetChargingProfileRequest
from ..wire._payloads import (
    _plain_periods,
    read_set_charging_profile,
    write_set_charging_profile,
)
from ..wire._timestamps import (
    epoch_or_datetime,
    format_timestamp,
    from_epoch,
    to_epoch,
)
from ._allocation import Allocation, EvseKey
from ._model import Evse, Pile, Session, Site
from ._plancheck import Draws, PlanChange, _direction, check_plan
from ._safetail import safe_tails
from ._timelines import (
    Piece,
    pile_store,
    session_transaction,
    session_transaction_id,
)

__all__ = [
    "MIN_RESEND_MARGIN",
    "PLAN_ID_BASE",
    "RESEND_FRACTION",
    "PlanStep",
    "SendPlan",
    "SendPlanError",
    "plan_profile_id",
    "send_plan",
]

P = ChargingProfilePurpose


class SendPlanError(OcppScheduleError, ValueError):
    """An allocation cannot be expressed as profiles a pile accepts."""


Limits = list[tuple[int, int, float, int]]
"""An EVSE's limits as (start, end, amps, phases), epoch seconds; end FOREVER: open-ended."""

FOREVER = 2**62
"""The end of a safe tail: the last period of a plan's profile has no end."""

PLAN_ID_BASE = 2_000_000_000
"""Plan profile ids: ``PLAN_ID_BASE + 2 * evse`` (TxDefault) and ``+ 1`` (TxProfile)."""

_MAX_ID = 2**31 - 1

MIN_RESEND_MARGIN = 300
"""The default re-send margin is at least this many seconds (docs/semantics.md SP7)."""

RESEND_FRACTION = 10
"""... and at least 1/RESEND_FRACTION of the span from sending to ``valid_until`` (SP7)."""
_TAIL_MARGIN = 86400


def plan_profile_id(evse_id: int, purpose: ChargingProfilePurpose) -> int:
    """The id a plan's profile of ``purpose`` on ``evse_id`` always has (B6)."""
    return PLAN_ID_BASE + 2 * evse_id + (1 if purpose is P.TX_PROFILE else 0)


@dataclass(frozen=True)
class _Built:
    """A profile :func:`_payload` built, with every input it was built from.

    The request is the payload as the pile's version reads it (an immutable model); it
    is reused only for exactly the same inputs, so it is what :func:`_payload` would
    build again.
    """

    key: tuple[str, int, ChargingProfilePurpose]
    """The pile, EVSE and purpose."""
    inputs: tuple[object, ...]
    """Everything the profile was built from (:func:`_inputs`)."""
    request: SetChargingProfileRequest
    """The profile as built (frozen)."""


def _inputs(
    pile: Pile,
    evse: Evse,
    purpose: ChargingProfilePurpose,
    limits: Limits,
    levels: _Levels,
    transaction: str | None,
    config: StationConfig,
) -> tuple[object, ...]:
    """Everything :func:`_payload` depends on, as a value (``config``: the pile's)."""
    return (
        pile.ocpp,
        config.charging_schedule_max_periods,
        evse.id,
        purpose,
        tuple(limits),
        levels,
        transaction,
    )


@dataclass(frozen=True)
class _Worked:
    """What a plan worked out from its allocation alone, for a re-plan against it.

    Each is a pure function of the allocation (and, for ``limits``, of ``limits.start``):
    its site's piles' own stores and configurations (:func:`_stores`), its safe tails
    (:func:`~ocpp_schedule.site._safetail.safe_tails` at its end) and its limits per EVSE
    (:class:`_LimitsFrom`). A re-plan whose ``previous`` is this very allocation object
    (held here, so its identity stays its own) takes them instead of working them out
    again: the same values (tests/test_send13b.py).
    """

    allocation: Allocation
    stores: dict[str, tuple[ProfileStore, StationConfig]]
    tails: dict[EvseKey, float]
    limits: _LimitsFrom
    held: dict[str, _Held] = field(default_factory=dict)
    """Per pile (where known exactly), what it holds once this plan is applied."""


Spec = dict[ChargingProfilePurpose, tuple[int, str | None, Limits]]
"""What an EVSE's plan profiles were built from, per purpose: the stack level, the
transaction (a TxProfile's; None for a TxDefaultProfile) and the periods as built
(:func:`_rows`: absolute, merged, at most the pile's number of periods)."""


@dataclass(frozen=True)
class _Held:
    """What a pile holds once a plan is applied, in the plan's own model of it (SEND13B).

    ``store`` is the pile's store after the plan's last step (its own profiles, the plan
    profiles of the EVSEs it sent, and for the others what it held before: the previous
    plan's profiles); ``own`` and ``config`` are the pile's own store and configuration
    the plan had; ``specs`` per EVSE id what each plan profile in ``store`` was built
    from. Kept only where every plan profile in ``store`` was installed as built (none
    fitted, none refused), so ``specs`` describes ``store`` exactly.
    """

    store: ProfileStore
    own: ProfileStore
    config: StationConfig
    specs: dict[int, Spec]


@dataclass(frozen=True)
class PlanStep:
    """One payload to send to one pile; ``phase`` says whether it only lowers limits."""

    pile: str
    evse: int
    purpose: ChargingProfilePurpose
    phase: Literal["lower", "raise"]
    payload: dict[str, Any]
    limits: tuple[tuple[int, int, float, int], ...]
    read_back: SetChargingProfileRequest | None = field(
        default=None, compare=False, repr=False, kw_only=True
    )
    """The payload as the pile's version reads it (kept so it is read once), if known."""

    @property
    def request(self) -> SetChargingProfileRequest:
        """The payload read back as a request."""
        return read_set_charging_profile(self.payload)


@dataclass(frozen=True)
class SendPlan:
    """The ordered steps of a plan sent at ``at``.

    ``at``, ``valid_until`` and ``resend_before`` are UTC datetimes; ``at_epoch``,
    ``valid_until_epoch`` and ``resend_before_epoch`` the same in epoch seconds (stored;
    the datetimes are made on access, docs/semantics.md API1).

    ``tails`` is each EVSE's safe tail (A per phase after the allocation's end);
    ``warnings`` what the caller should know: sessions that last past the
    window (they get the tail from its end on), circuits already over a limit
    before the plan.
    """

    at_epoch: int
    steps: tuple[PlanStep, ...]
    warnings: tuple[str, ...] = ()
    tails: dict[EvseKey, float] = field(default_factory=dict)
    valid_until_epoch: int = field(kw_only=True)
    """Epoch seconds: the allocation's end; from then on each EVSE holds its safe tail."""
    resend_before_epoch: int = field(kw_only=True)
    """Epoch seconds: the next plan should be sent by then, to be in force by ``valid_until``."""
    sent: tuple[EvseKey, ...] = field(default=(), kw_only=True)
    """The EVSEs the plan sends profiles for, in the site's order: every EVSE, or with
    ``only_changed`` those whose limits differ from what their pile holds (CT7)."""
    built: tuple[_Built, ...] = field(default=(), compare=False, repr=False, kw_only=True)
    """Per EVSE and purpose, the profile this plan built from its allocation (before any
    fitting), with everything it was built from: a re-plan against this plan's allocation
    (``send_plan(..., previous_plan=)``) reuses it instead of building it again."""
    worked: _Worked | None = field(default=None, compare=False, repr=False, kw_only=True)
    """What this plan worked out from its allocation alone (its piles' stores, safe tails
    and limits): a re-plan against that allocation takes them instead of working them
    out again (SEND13B)."""

    @property
    def at(self) -> datetime:
        """When the plan is sent (where its profiles start), a UTC datetime."""
        return from_epoch(self.at_epoch)

    @property
    def valid_until(self) -> datetime:
        """The allocation's end, a UTC datetime; from then on each EVSE holds its safe tail."""
        return from_epoch(self.valid_until_epoch)

    @property
    def resend_before(self) -> datetime:
        """When the next plan should be sent by, a UTC datetime (in force by ``valid_until``)."""
        return from_epoch(self.resend_before_epoch)

    def needs_resend(self, now: datetime | int) -> bool:
        """Whether a new plan is due at ``now`` (at or after ``resend_before``); no clock read."""
        return epoch_or_datetime(now, "now") >= self.resend_before_epoch

    def payloads(self) -> list[tuple[str, dict[str, Any]]]:
        """``(pile id, SetChargingProfile payload)`` in sending order."""
        return [(s.pile, s.payload) for s in self.steps]


def send_plan(
    allocation: Allocation,
    *,
    at: datetime | int | None = None,
    previous: Allocation | None = None,
    resend_margin: int | None = None,
    only_changed: bool = False,
    previous_plan: SendPlan | None = None,
) -> SendPlan:
    """The allocation from ``at`` (default: its start) as an ordered, checked send plan.

    ``previous`` is the allocation the piles hold now (as sent at its start,
    so not after ``at``); without it, or for an EVSE it lacks, the piles'
    current limits are their own (composite and hardware) limits. Raises
    :class:`SendPlanError` when a pile cannot accept the plan,
    :class:`~ocpp_schedule.errors.SafetyError` when a prefix of the plan, or
    its tail, could overload a circuit.

    The plan is valid until the allocation's end (``valid_until``); it should
    be replaced by ``resend_before``: ``resend_margin`` seconds before
    ``valid_until`` (default: the larger of :data:`MIN_RESEND_MARGIN` and a
    :data:`RESEND_FRACTION`-th of the span from ``at``), never before ``at``
    (docs/semantics.md SP7). A margin that is not a whole number of seconds
    >= 0 is a :class:`SendPlanError`.

    With ``only_changed`` (and ``previous``), an EVSE whose limits from ``at`` on, its safe
    tail included, equal what its pile holds from ``previous`` (and that needs no new
    TxProfile) gets no payload; its pile keeps the previous plan, which the post-condition
    replays with the rest (docs/semantics.md CT7). ``SendPlan.sent`` names the EVSEs sent.

    ``previous_plan`` is the plan made for ``previous`` (a controller keeps it): the
    profiles it built are reused, where built from exactly the same inputs, to know
    what the piles hold instead of being built again. It changes no result, only time.

    The cyclic garbage collector is paused while the plan is made (it makes no reference
    cycles; docs/performance.md, SENDWARM): the plan's many surviving objects set off full
    collections over the whole heap, which a re-plan's heap makes costly.
    """
    with collector_paused():
        return _send_plan(allocation, at, previous, resend_margin, only_changed, previous_plan)


def _send_plan(
    allocation: Allocation,
    at: datetime | int | None,
    previous: Allocation | None,
    resend_margin: int | None,
    only_changed: bool,
    previous_plan: SendPlan | None,
) -> SendPlan:
    """:func:`send_plan`, with the collector paused."""
    start = allocation.start_epoch if at is None else epoch_or_datetime(at, "at")
    if not allocation.start_epoch <= start < allocation.end_epoch:
        raise SendPlanError("'at' lies outside the allocation's window", field="at")
    resend_before = _resend_before(start, allocation.end_epoch, resend_margin)
    if previous is not None and start < previous.start_epoch:
        raise SendPlanError(
            "the previous allocation starts after 'at': its plan cannot have been sent yet",
            field="previous",
            rule="a plan is sent within its window",
        )
    site = allocation.site
    stores = _stores(site)
    tails = safe_tails(site, allocation.end_epoch, stores)
    end = _horizon(allocation, previous, start)
    new_limits = _LimitsFrom(allocation, start, tails)
    carried = _carried(previous_plan, previous)
    old_stores, old_limits, held = _previous_work(previous, previous_plan)
    before, own, specs = _before(
        site, stores, previous, old_stores, old_limits, start, carried, held
    )
    keep = (
        _unchanged(allocation, previous, start, new_limits, old_limits)
        if only_changed and previous is not None and old_limits is not None
        else set()
    )
    draws = Draws(start, end)
    built: list[_Built] = []
    installs = _Installs()
    in_progress: dict[str, tuple[Transaction, ...]] = {}
    sent_specs: dict[EvseKey, Spec] = {}
    ordered = _order(
        allocation,
        start,
        new_limits,
        before,
        own,
        keep,
        draws,
        built,
        installs,
        in_progress,
        sent_specs,
    )
    fitted: set[str] = set()
    steps, requests, changes = _fit_and_replay(
        site, start, before, ordered, installs, in_progress, fitted
    )
    _check_transaction_ids(site, start, steps, requests)
    warnings = check_plan(
        site, start, end, before, changes, warn_before=previous is not None, draws=draws
    )
    return SendPlan(
        start,
        tuple(steps),
        (*_late_sessions(allocation, start, tails), *warnings),
        tails,
        valid_until_epoch=allocation.end_epoch,
        resend_before_epoch=resend_before,
        sent=tuple((p.id, e.id) for p in site.piles for e in p.evses if (p.id, e.id) not in keep),
        built=tuple(built),
        worked=_Worked(
            allocation,
            stores,
            tails,
            new_limits,
            _held_after(site, before, own, specs, sent_specs, changes, fitted),
        ),
    )


def _held_after(
    site: Site,
    before: dict[str, tuple[ProfileStore, StationConfig]],
    own: dict[str, ProfileStore],
    specs: dict[str, dict[int, Spec] | None],
    sent_specs: dict[EvseKey, Spec],
    changes: Sequence[PlanChange],
    fitted: set[str],
) -> dict[str, _Held]:
    """What each pile holds once the plan is applied (:class:`_Held`), where known exactly:
    its store before the plan was described exactly (``specs``), none of its steps was
    fitted, and each EVSE sent replaces every plan profile it held (same purposes or more).
    """
    final = {pid: store for pid, (store, _) in before.items()}
    for change in changes:
        final[change.pile] = change.store
    out: dict[str, _Held] = {}
    for pile in site.piles:
        known = specs.get(pile.id)
        if known is None or pile.id in fitted:
            continue
        after = dict(known)
        exact = True
        for evse in pile.evses:
            new = sent_specs.get((pile.id, evse.id))
            if new is None:
                continue
            if not set(after.get(evse.id, {})) <= set(new):
                exact = False
                break
            after[evse.id] = new
        if exact:
            out[pile.id] = _Held(final[pile.id], own[pile.id], before[pile.id][1], after)
    return out


def _previous_work(
    previous: Allocation | None, previous_plan: SendPlan | None
) -> tuple[dict[str, tuple[ProfileStore, StationConfig]], _LimitsFrom | None, dict[str, _Held]]:
    """The previous allocation's piles' own stores, its limits from its start, and what
    the piles hold once the previous plan is applied (:class:`_Held`).

    Taken from ``previous_plan`` where it was made from this very ``previous`` object
    (:class:`_Worked`; the limits where it was sent at the allocation's start), else
    worked out (docs/performance.md, SEND13B).
    """
    if previous is None:
        return {}, None, {}
    worked = previous_plan.worked if previous_plan is not None else None
    if worked is None or worked.allocation is not previous:
        stores = _stores(previous.site)
        tails = safe_tails(previous.site, previous.end_epoch, stores)
        return stores, _LimitsFrom(previous, previous.start_epoch, tails), {}
    held = worked.held if HELD else {}
    if worked.limits.start != previous.start_epoch:
        return worked.stores, _LimitsFrom(previous, previous.start_epoch, worked.tails), held
    return worked.stores, worked.limits.copy(), held


HELD = True
"""Whether a re-plan takes what a pile holds from the previous plan where it is the same
from the plan's moment on (:func:`_held_store`); False: always rebuilt (the reference)."""


def _stores(site: Site) -> dict[str, tuple[ProfileStore, StationConfig]]:
    """Each pile's own store and configuration (``pile_store``), once per plan: the safe
    tails and what the piles hold both start from them."""
    return {pile.id: pile_store(pile, site) for pile in site.piles}


def _carried(
    previous_plan: SendPlan | None, previous: Allocation | None
) -> dict[tuple[str, int, ChargingProfilePurpose], _Built]:
    """The profiles ``previous_plan`` built, by pile, EVSE and purpose (none without
    ``previous``: then the piles hold only their own profiles)."""
    if previous_plan is None or previous is None:
        return {}
    if not isinstance(previous_plan, SendPlan):
        raise SendPlanError(
            "previous_plan must be the SendPlan made for 'previous', or None",
            field="previous_plan",
        )
    return {b.key: b for b in previous_plan.built}


def _unchanged(
    allocation: Allocation,
    previous: Allocation,
    start: int,
    new_limits: _LimitsFrom,
    old_limits: _LimitsFrom,
) -> set[EvseKey]:
    """The EVSEs whose pile already holds exactly the new limits (CT7).

    An EVSE is unchanged when its pile's own profiles are the same as in ``previous``, its
    limits from ``start`` for ever (allocation, then safe tail) equal the previous plan's from
    ``start`` (so the old plan covers the new horizon), and the session running now needs
    no TxProfile the previous plan did not hold (a caller-given id other than the one
    running when the previous plan was sent).
    """
    old_piles = {p.id: p for p in previous.site.piles}
    out: set[EvseKey] = set()
    for pile in allocation.site.piles:
        old_pile = old_piles.get(pile.id)
        if old_pile is None or old_pile.requests != pile.requests:
            continue
        old_evses = {e.id: e for e in old_pile.evses}
        for evse in pile.evses:
            key = (pile.id, evse.id)
            old_evse = old_evses.get(evse.id)
            if old_evse is None or key not in previous.amps:
                continue
            new = _merged(new_limits(key), start)
            old = _merged(old_limits(key), start)
            if new != old:
                continue
            running = _running(pile, evse, start)
            held = _running(old_pile, old_evse, previous.start_epoch)
            tx = None if running is None else running.transaction_id
            if tx is not None and (held is None or held.transaction_id != tx):
                continue
            out.add(key)
    return out


def _merged(limits: Limits, start: int) -> Limits:
    """The limits from ``start`` on, equal neighbours merged (how two plans are compared)."""
    out: Limits = []
    for a, b, amps, phases in limits:
        if b <= start:
            continue
        a = max(a, start)
        if out and out[-1][1] == a and out[-1][2] == amps and out[-1][3] == phases:
            out[-1] = (out[-1][0], b, amps, phases)
        else:
            out.append((a, b, amps, phases))
    return out


def _resend_before(at: int, valid_until: int, margin: int | None) -> int:
    """When the next plan is due: ``margin`` (or the default, SP7) before ``valid_until``."""
    if margin is None:
        margin = max(MIN_RESEND_MARGIN, (valid_until - at) // RESEND_FRACTION)
    elif isinstance(margin, bool) or not isinstance(margin, int) or margin < 0:
        raise SendPlanError(
            f"resend_margin must be a whole number of seconds >= 0, not {margin!r}",
            field="resend_margin",
            rule="the re-send margin (docs/semantics.md SP7)",
        )
    return max(at, valid_until - margin)


def _order(
    allocation: Allocation,
    start: int,
    new_limits: _LimitsFrom,
    before: dict[str, tuple[ProfileStore, StationConfig]],
    own: dict[str, ProfileStore],
    keep: set[EvseKey],
    draws: Draws,
    built: list[_Built],
    installs: _Installs,
    in_progress: dict[str, tuple[Transaction, ...]],
    sent_specs: dict[EvseKey, Spec],
) -> list[PlanStep]:
    """Every EVSE's steps: those that only lower first, then those that raise (B7).

    Fills ``built`` (the profiles built, :class:`_Built`), ``in_progress`` (each pile's
    running transactions at ``start``, which the replay installs with too) and
    ``sent_specs`` (what each EVSE's profiles are built from, :data:`Spec`).

    Lower and raise are judged on what the EVSE actually draws, per phase, at
    every instant (the library's composite of what the pile holds, before and
    with the new profiles), not on the profiles' limits: a held TxProfile, a cap
    in W or a change of phases can make a lower limit draw more.
    """
    site = allocation.site
    lower: list[PlanStep] = []
    raise_: list[PlanStep] = []
    for pile in site.piles:
        store, config = before[pile.id]
        levels = _Levels.of(pile, own[pile.id], config)
        transactions = in_progress[pile.id] = _transactions(pile, start)
        for evse in pile.evses:
            if (pile.id, evse.id) in keep:
                continue  # its pile already holds these limits (CT7)
            new = new_limits((pile.id, evse.id))
            running = _running(pile, evse, start)
            steps = _steps(pile, evse, "raise", new, levels, running, config)
            transaction = None if running is None else running.transaction_id
            sent_specs[(pile.id, evse.id)] = _spec(
                [s.purpose for s in steps],
                levels[evse.id],
                transaction,
                _rows(new, config.charging_schedule_max_periods),
            )
            for step in steps:
                assert step.read_back is not None
                inputs = _inputs(
                    pile, evse, step.purpose, new, levels[evse.id], transaction, config
                )
                built.append(_Built((pile.id, evse.id, step.purpose), inputs, step.read_back))
            with_new = store
            for step in steps:
                _, with_new = _fit(pile, step, with_new, config, start, transactions, installs)
            old_draw = draws(pile, evse, store, config)
            new_draw = draws(pile, evse, with_new, config)
            down, up = draws.direction(old_draw, new_draw, _direction)
            if not up:
                # The same limits as the raise steps, so the same payloads (built once).
                lower.extend(_as_lower(step) for step in steps)
                continue
            if down:
                first = _lower_of(old_draw, new_draw, new)
                lower.extend(_steps(pile, evse, "lower", first, levels, running, config))
            raise_.extend(steps)
    return [*lower, *raise_]


def _as_lower(step: PlanStep) -> PlanStep:
    """``dataclasses.replace(step, phase="lower")``, built directly (cheaper)."""
    return PlanStep(
        step.pile,
        step.evse,
        step.purpose,
        "lower",
        step.payload,
        step.limits,
        read_back=step.read_back,
    )


# ------------------------------------------------------------------ limits over time


class _LimitsFrom:
    """An allocation's limits per EVSE from ``start`` on (:func:`_limits`), each computed
    once per plan: the CT7 comparison, the ordering and the previous plan's profiles ask
    for the same ones. The lists are shared, so nothing may change them (nothing does)."""

    def __init__(self, allocation: Allocation, start: int, tails: dict[EvseKey, float]) -> None:
        self.allocation = allocation
        self.start = start
        self.tails = tails
        self._memo: dict[EvseKey, Limits] = {}

    def copy(self) -> _LimitsFrom:
        """The same limits, with a memo of its own (a re-plan adds to it; SEND13B)."""
        out = _LimitsFrom(self.allocation, self.start, self.tails)
        out._memo = self._memo.copy()
        return out

    def __call__(self, key: EvseKey) -> Limits:
        """:func:`_limits` of ``key`` (from ``start``, then its safe tail)."""
        found = self._memo.get(key)
        if found is None:
            found = _limits(self.allocation, key, self.start, self.tails[key])
            self._memo[key] = found
        return found


def _limits(allocation: Allocation, key: EvseKey, start: int, tail: float) -> Limits:
    """The EVSE's allocation from ``start`` on, then its safe tail for ever."""
    out: Limits = []
    for a, b, amps, phases in allocation.evse_periods(key):
        if b <= start:
            continue
        out.append((max(a, start), b, amps, phases))
    out.append((allocation.end_epoch, FOREVER, tail, 0))
    return out


def _value_at(limits: Limits, t: int) -> tuple[float, int]:
    """The limit and phases (0: not restricted) at ``t``; (0, 0) where the limits say nothing."""
    i = bisect_right(limits, t, key=lambda piece: piece[0]) - 1
    if i >= 0 and limits[i][0] <= t < limits[i][1]:
        return limits[i][2], limits[i][3]
    return 0.0, 0


def _piece_at(pieces: list[Piece], t: int) -> Piece | None:
    i = bisect_right(pieces, t, key=lambda piece: piece.start) - 1
    if i >= 0 and pieces[i].start <= t < pieces[i].end:
        return pieces[i]
    return None


def _lower_of(old: list[Piece], new: list[Piece], limits: Limits) -> Limits:
    """Limits under which the EVSE draws at most what it draws now and what it will draw.

    The new limits, on their phases, at most the current draw; 0 A wherever
    they would load more phases than the EVSE loads now (until raised).
    """
    points = sorted({p.start for p in old} | {p.start for p in new} | {a for a, _, _, _ in limits})
    out: Limits = []
    for k, t in enumerate(points):
        amps, phases = _value_at(limits, t)
        now, after = _piece_at(old, t), _piece_at(new, t)
        drawn = now.cap if now is not None else 0.0
        loaded = now.phases if now is not None and now.cap > 0 else 0
        if after is not None and after.cap > 0 and after.phases > loaded:
            amps = 0.0
        nxt = points[k + 1] if k + 1 < len(points) else FOREVER
        out.append((t, nxt, min(amps, max(drawn, 0.0)), phases))
    return out


def _horizon(allocation: Allocation, previous: Allocation | None, start: int) -> int:
    """Where the check stops: a day after every window and session ends (tails in force)."""
    last = max(allocation.end_epoch, previous.end_epoch if previous is not None else start)
    for pile in allocation.site.piles:
        for evse in pile.evses:
            for session in evse.sessions:
                last = max(last, to_epoch(session.leave))
    return last + _TAIL_MARGIN


def _running(pile: Pile, evse: Evse, at: int) -> Session | None:
    """The session on the EVSE at ``at`` (by time, never by transaction id: F21)."""
    for session in evse.sessions:
        if to_epoch(session.arrive) <= at < to_epoch(session.leave):
            return session
    return None


def _late_sessions(allocation: Allocation, start: int, tails: dict[EvseKey, float]) -> list[str]:
    out = []
    for pile in allocation.site.piles:
        for evse in pile.evses:
            for session in evse.sessions:
                leave = to_epoch(session.leave)
                if leave > allocation.end_epoch and leave > start:
                    who = (
                        f"session {session.transaction_id}"
                        if session.transaction_id is not None
                        else f"the session arriving at {format_timestamp(session.arrive)}"
                    )
                    out.append(
                        f"pile {pile.id} EVSE {evse.id}: {who} leaves at "
                        f"{format_timestamp(session.leave)}, after the plan's window ends at "
                        f"{format_timestamp(allocation.end)}; from then on it gets "
                        f"the safe tail of {tails[(pile.id, evse.id)]:g} A"
                    )
    return out


# ------------------------------------------------------------------ profiles


@dataclass(frozen=True)
class _Levels:
    default_level: int
    tx_level: int

    @classmethod
    def of(
        cls, pile: Pile, operator: ProfileStore, config: StationConfig | None = None
    ) -> dict[int, _Levels]:
        """Per EVSE, stack levels above the operator's own; ids that collide are refused.

        ``config`` is the pile's configuration when the caller has it (else its own).
        """
        ours = {
            plan_profile_id(e.id, p)
            for e in pile.evses
            for p in (P.TX_DEFAULT_PROFILE, P.TX_PROFILE)
        }
        taken = sorted(ours & {entry.id for entry in operator})
        if taken:
            raise SendPlanError(
                f"pile {pile.id} holds an operator profile with id {taken[0]}, which send plans "
                "reserve for their own profiles",
                field="chargingProfile.id",
                rule="plan profile ids (docs/semantics.md B6)",
            )
        if max(ours) > _MAX_ID:
            raise SendPlanError(
                f"pile {pile.id}: EVSE ids too large for plan profile ids",
                field="evse.id",
                rule="plan profile ids fit a 32-bit integer",
            )
        limit = (config or pile.station_config).charge_profile_max_stack_level
        out = {}
        for evse in pile.evses:
            default_levels = [
                e.stack_level
                for e in operator
                if e.purpose is P.TX_DEFAULT_PROFILE and e.evse_id in (0, evse.id)
            ]
            tx_levels = [
                e.stack_level
                for e in operator
                if e.purpose is P.TX_PROFILE and e.evse_id == evse.id
            ]
            levels = cls(max(default_levels, default=-1) + 1, max(tx_levels, default=-1) + 1)
            if max(levels.default_level, levels.tx_level) > limit:
                raise SendPlanError(
                    f"pile {pile.id} has no stack level left above the operator's profiles",
                    field="stackLevel",
                    rule="ChargeProfileMaxStackLevel",
                )
            out[evse.id] = levels
        return out


def _steps(
    pile: Pile,
    evse: Evse,
    phase: Literal["lower", "raise"],
    limits: Limits,
    levels: dict[int, _Levels],
    running: Session | None,
    config: StationConfig | None = None,
) -> list[PlanStep]:
    """The EVSE's TxProfile (for the running session) and TxDefaultProfile, same limits.

    The TxProfile names the running session's caller-given ``transaction_id``; a
    session without one gets none (its id would be made up, and a pile rejects a
    TxProfile for a transaction it does not have): the TxDefaultProfile governs it.
    """
    transaction = None if running is None else running.transaction_id
    purposes = (
        [P.TX_DEFAULT_PROFILE] if transaction is None else [P.TX_PROFILE, P.TX_DEFAULT_PROFILE]
    )
    return [
        _step(pile, evse, purpose, phase, limits, levels, transaction, config)
        for purpose in purposes
    ]


def _step(
    pile: Pile,
    evse: Evse,
    purpose: ChargingProfilePurpose,
    phase: Literal["lower", "raise"],
    limits: Limits,
    levels: dict[int, _Levels],
    transaction: str | None,
    config: StationConfig | None = None,
) -> PlanStep:
    """One profile of an EVSE's steps (see :func:`_steps`)."""
    payload, request = _payload(pile, evse, purpose, limits, levels[evse.id], transaction, config)
    return PlanStep(pile.id, evse.id, purpose, phase, payload, tuple(limits), read_back=request)


def _payload(
    pile: Pile,
    evse: Evse,
    purpose: ChargingProfilePurpose,
    limits: Limits,
    levels: _Levels,
    transaction: str | None,
    config: StationConfig | None = None,
) -> tuple[dict[str, Any], SetChargingProfileRequest]:
    """The SetChargingProfile payload for these limits, and the payload as the pile reads it.

    The request model is validated once, from the profile's JSON; the payload is that
    JSON in the pile's version (:func:`_written`, the wire writer's output written
    directly), or the wire writer's where it has a value to judge.
    ``config`` is the pile's configuration when the caller has it (building the default
    one per payload costs more than the rest of the setup).
    """
    merged = _rows(limits, (config or pile.station_config).charging_schedule_max_periods)
    if not merged:
        raise SendPlanError(
            f"pile {pile.id} EVSE {evse.id}: no limits to send", field="limits", rule="send plan"
        )
    version = OcppVersion(pile.ocpp)
    level = levels.tx_level if purpose is P.TX_PROFILE else levels.default_level
    profile = _profile_json(version, evse.id, purpose, level, transaction, merged)
    try:
        request = SetChargingProfileRequest(
            evse_id=evse.id, charging_profile=_validated(profile, version)
        )
        # Reading the written payload back gives ``request`` itself (pinned for every
        # version by tests/test_send_plan_speedups.py), so it is not read again.
        payload = _written(version, evse.id, profile)
        if payload is None:
            payload = write_set_charging_profile(request, version)
        return payload, request
    except OcppScheduleError as exc:
        raise SendPlanError(
            f"pile {pile.id} EVSE {evse.id}: {exc.message}", field=exc.field, rule=exc.rule
        ) from None


def _rows(limits: Limits, most: int) -> Limits:
    """The periods a plan profile is built with: equal neighbours merged, and past the
    pile's ``most`` periods the rest as one period at their lowest limit (and most phases).
    """
    merged: Limits = []
    for a, b, amps, phases in limits:
        if merged and merged[-1][2] == amps and merged[-1][3] == phases and merged[-1][1] == a:
            merged[-1] = (merged[-1][0], b, amps, phases)
        else:
            merged.append((a, b, amps, phases))
    if len(merged) > most:
        tail = merged[most - 1 :]
        low = min(m[2] for m in tail)
        merged = [*merged[: most - 1], (tail[0][0], tail[-1][1], low, max(m[3] for m in tail))]
    return merged


def _validated(profile: dict[str, Any], version: OcppVersion) -> ChargingProfile:
    """``ChargingProfile.model_validate(profile)``, its periods built without validation
    where they are plain.

    A plan profile's periods are ``startPeriod`` (int), ``limit`` and at most
    ``numberPhases`` (int): the cold path's reader builds such periods directly
    (``wire._payloads._plain_periods``, the same models pydantic would build; None for
    anything else, e.g. a 1.6 limit with more than one decimal), and pydantic then
    validates the profile around the ready periods. Anything else is validated whole,
    so every error is the one it was. Equal to validating the whole profile:
    tests/test_send16.py.
    """
    (schedule,) = profile["chargingSchedule"]
    built = _plain_periods(schedule["chargingSchedulePeriod"], version)
    if built is None:
        return ChargingProfile.model_validate(profile)
    ready = {**schedule, "chargingSchedulePeriod": built}
    return ChargingProfile.model_validate({**profile, "chargingSchedule": [ready]})


def _profile_json(
    version: OcppVersion,
    evse_id: int,
    purpose: ChargingProfilePurpose,
    level: int,
    transaction: str | None,
    merged: Limits,
) -> dict[str, Any]:
    """The plan profile as the library's neutral 2.x JSON (the model is validated from it).

    Keys in the order the wire writer writes them. A 1.6 schedule has no id: the model
    is then what a 1.6 pile reads from the payload.
    """
    anchor = merged[0][0]
    periods = []
    for a, _, amps, phases in merged:
        period: dict[str, Any] = {"startPeriod": a - anchor, "limit": amps}
        if phases:
            period["numberPhases"] = phases
        periods.append(period)
    schedule: dict[str, Any] = {} if version is OcppVersion.V16 else {"id": 1}
    schedule["startSchedule"] = format_timestamp(from_epoch(anchor))
    if merged[-1][1] < FOREVER:
        schedule["duration"] = merged[-1][1] - anchor
    schedule["chargingRateUnit"] = "A"
    schedule["chargingSchedulePeriod"] = periods
    profile: dict[str, Any] = {
        "id": plan_profile_id(evse_id, purpose),
        "stackLevel": level,
        "chargingProfilePurpose": purpose.value,
        "chargingProfileKind": "Absolute",
    }
    if purpose is P.TX_PROFILE:
        profile["transactionId"] = transaction
    profile["chargingSchedule"] = [schedule]
    return profile


_V16_TRANSACTION = re.compile(r"0|-?[1-9][0-9]*")


def _written(version: OcppVersion, evse_id: int, profile: dict[str, Any]) -> dict[str, Any] | None:
    """The SetChargingProfile payload the wire writer writes for a plan profile, or None.

    ``profile`` is :func:`_profile_json`'s, validated: the writer's output is then this
    JSON itself (2.x) or its 1.6 shape (no schedule id, one schedule, ``chargingProfileId``
    last, an integer transaction id), which is written here directly instead of dumping
    the model and checking every field name again (about half the cost of a payload).
    None where the 1.6 writer has to judge a value (a transaction id that is not an
    integer's text, a limit with more than one decimal): it then gives its payload or
    its error. Equal to the writer's payload, every version: tests/test_send_fast.py.
    """
    if version is not OcppVersion.V16:
        return {"evseId": evse_id, "chargingProfile": profile}
    (schedule,) = profile["chargingSchedule"]
    for period in schedule["chargingSchedulePeriod"]:
        limit = period["limit"]
        if isinstance(limit, float) and round(limit, 1) != limit:
            return None
    out = {k: v for k, v in profile.items() if k not in ("id", "chargingSchedule")}
    tx = out.get("transactionId")
    if tx is not None:
        if not isinstance(tx, str) or _V16_TRANSACTION.fullmatch(tx) is None:
            return None
        out["transactionId"] = int(tx)
    out["chargingSchedule"] = {
        **schedule,
        "chargingSchedulePeriod": [dict(p) for p in schedule["chargingSchedulePeriod"]],
    }
    out["chargingProfileId"] = profile["id"]
    return {"connectorId": evse_id, "csChargingProfiles": out}


# ------------------------------------------------------------------ fitting and replay


def _transactions(pile: Pile, at: int) -> tuple[Transaction, ...]:
    return tuple(
        session_transaction(pile, evse, session)
        for evse in pile.evses
        if (session := _running(pile, evse, at)) is not None
    )


class _Installs:
    """Within one plan, each install of a request into a pile's store done once.

    The ordering installs each EVSE's steps into what its pile holds to judge its
    direction; the replay installs the same requests, in sending order, and where a
    pile's first steps are one EVSE's, into the same store objects. The station rules
    are a pure function of the store, the request and the pile's state (its
    configuration and running transactions, fixed per pile within a plan), so the
    answer is the same. Keyed on the pile and on the identity of the store and the
    request, which the memo holds itself (so no identity is reused while it lives); it
    lives for one plan.
    """

    def __init__(self) -> None:
        self._memo: dict[
            tuple[str, int, int],
            tuple[ProfileStore, SetChargingProfileRequest, ProfileStore, SetChargingProfileResult],
        ] = {}

    def __call__(
        self,
        pile: str,
        store: ProfileStore,
        request: SetChargingProfileRequest,
        state: StationState,
    ) -> tuple[ProfileStore, SetChargingProfileResult]:
        """``install(store, request, state)``, for ``state`` the pile's in this plan."""
        key = (pile, id(store), id(request))
        found = self._memo.get(key)
        if found is not None and found[0] is store and found[1] is request:
            return found[2], found[3]
        installed, result = install(store, request, state)
        self._memo[key] = (store, request, installed, result)
        return installed, result


def _fit(
    pile: Pile,
    step: PlanStep,
    store: ProfileStore,
    config: StationConfig,
    at: int,
    transactions: tuple[Transaction, ...] | None = None,
    installs: _Installs | None = None,
) -> tuple[list[tuple[dict[str, Any], SetChargingProfileRequest]], ProfileStore]:
    """The step's payload as the pile accepts it (each with its request), and the pile's store
    once installed.

    A payload the pile's own rules accept goes as it is; otherwise
    ``capabilities.adapt`` fits it (unit, decimals, stack level) or the pile
    cannot take the plan (:class:`SendPlanError` naming the pile and the rule).
    ``transactions`` is ``_transactions(pile, at)`` when the caller has it; ``installs``
    the plan's memo of installs (:class:`_Installs`) where ``at`` is the plan's moment.
    """
    version = OcppVersion(pile.ocpp)
    payload = step.payload
    request = step.read_back
    if request is None:
        request = read_set_charging_profile(payload, version)
    if transactions is None:
        transactions = _transactions(pile, at)
    state = StationState(config, version, transactions)
    if installs is not None:
        installed, result = installs(pile.id, store, request, state)
    else:
        installed, result = install(store, request, state)
    if result.accepted:
        return [(payload, request)], installed
    caps = StationCapabilities.from_config(config, version)
    try:
        fitted = adapt(
            payload,
            caps,
            source_version=version,
            store=store,
            transactions=transactions,
            config=config,
        )
    except AdaptationError as exc:
        raise SendPlanError(
            f"pile {pile.id} does not accept the plan: {exc.message}",
            field=exc.field,
            rule=exc.rule,
        ) from None
    for fitted_request in fitted.requests:
        store, result = install(store, fitted_request, state)
        if not result.accepted:  # adapt promises otherwise; never send what is refused
            raise SendPlanError(
                f"pile {pile.id} rejects the plan: {result}",
                field="chargingProfile",
                rule=result.rule,
            )
    return list(zip(fitted.payloads, fitted.requests, strict=True)), store


def _check_transaction_ids(
    site: Site,
    at: int,
    steps: Sequence[PlanStep],
    requests: Sequence[SetChargingProfileRequest] | None = None,
) -> None:
    """Every TxProfile of the plan names the caller-given id of the session it limits.

    That is, the ``transaction_id`` of the session running on the step's EVSE at
    ``at``; never an id the library made up (SP9). A plan that breaks this is
    never returned (:class:`SendPlanError`). ``requests`` are the steps' payloads as
    their piles read them, when known (else each payload is read).
    """
    piles = {p.id: p for p in site.piles}
    for k, step in enumerate(steps):
        request = step.request if requests is None else requests[k]
        named = request.charging_profile.transaction_id
        if step.purpose is not P.TX_PROFILE and named is None:
            continue
        pile = piles[step.pile]
        evse = next(e for e in pile.evses if e.id == step.evse)
        running = _running(pile, evse, at)
        given = None if running is None else running.transaction_id
        if step.purpose is not P.TX_PROFILE or given is None or named != given:
            raise SendPlanError(
                f"pile {pile.id} EVSE {evse.id}: the plan's {step.purpose.value} names "
                f"transaction {named!r}, not the id the caller gave for the session "
                f"running there ({given!r})",
                field="transactionId",
                rule="TxProfiles name caller-given transaction ids (docs/semantics.md SP9)",
            )


def _fit_and_replay(
    site: Site,
    at: int,
    before: dict[str, tuple[ProfileStore, StationConfig]],
    steps: Iterable[PlanStep],
    installs: _Installs | None = None,
    in_progress: dict[str, tuple[Transaction, ...]] | None = None,
    fitted_piles: set[str] | None = None,
) -> tuple[list[PlanStep], list[SetChargingProfileRequest], list[PlanChange]]:
    """The steps as fitted to their piles, each one's request, and each pile's store after
    each step (installed through the pile's rules, in sending order). ``in_progress`` holds
    piles' running transactions at ``at`` already known (the others are computed);
    ``fitted_piles`` gets the piles a step of which was not installed as built."""
    piles = {p.id: p for p in site.piles}
    stores = {pid: store for pid, (store, _) in before.items()}
    out: list[PlanStep] = []
    requests: list[SetChargingProfileRequest] = []
    changes: list[PlanChange] = []
    running = {} if in_progress is None else dict(in_progress)
    for step in steps:
        pile = piles[step.pile]
        if pile.id not in running:
            running[pile.id] = _transactions(pile, at)
        fitted, stores[pile.id] = _fit(
            pile, step, stores[pile.id], before[pile.id][1], at, running[pile.id], installs
        )
        if fitted_piles is not None and (len(fitted) != 1 or fitted[0][0] is not step.payload):
            fitted_piles.add(pile.id)
        for payload, request in fitted:
            # Returned without the request: a plan a controller keeps stays small.
            out.append(
                PlanStep(step.pile, step.evse, step.purpose, step.phase, payload, step.limits)
            )
            requests.append(request)
        what = f"pile {pile.id} EVSE {step.evse} {step.purpose.value} ({step.phase})"
        changes.append(PlanChange(pile.id, stores[pile.id], what))
    return out, requests, changes


def _before(
    site: Site,
    stores: dict[str, tuple[ProfileStore, StationConfig]],
    previous: Allocation | None,
    old_stores: dict[str, tuple[ProfileStore, StationConfig]],
    old_limits: _LimitsFrom | None,
    at: int,
    carried: dict[tuple[str, int, ChargingProfilePurpose], _Built],
    held: dict[str, _Held] | None = None,
) -> tuple[
    dict[str, tuple[ProfileStore, StationConfig]],
    dict[str, ProfileStore],
    dict[str, dict[int, Spec] | None],
]:
    """What each pile holds before the plan: its own profiles and the previous plan's
    (with its configuration), its own profiles alone, and what each plan profile it holds
    was built from (:data:`Spec`; None where not known exactly).

    Where the previous plan left a pile (``held``, :class:`_Held`) holding profiles that
    are the same as those rebuilt here from ``at`` on, that store is taken instead of
    rebuilding it (:func:`_held_store`, SEND13B).

    The previous plan is taken as sent at its allocation's start; a profile of it
    the pile would not accept is not held, TxProfiles of transactions over by
    ``at`` are gone, and a pile or EVSE it did not know holds only its own (F4).
    ``stores`` are the piles' own stores (:func:`_stores`), ``old_stores`` those of the
    previous allocation's site; ``old_limits`` its limits from its start.
    """
    out = {}
    own = {}
    specs: dict[str, dict[int, Spec] | None] = {}
    previous_piles = {p.id: p for p in previous.site.piles} if previous is not None else {}
    for pile in site.piles:
        store, config = stores[pile.id]
        own[pile.id] = store
        specs[pile.id] = {}
        old_pile = previous_piles.get(pile.id)
        if previous is not None and old_limits is not None and old_pile is not None:
            reference = _reference_specs(previous, old_limits, old_pile, old_stores, pile)
            found = _held_store(held, pile.id, reference, store, config, at)
            if found is not None:
                store, specs[pile.id] = found
            else:
                store, clean = _previous_profiles(
                    previous,
                    old_limits,
                    old_pile,
                    old_stores[old_pile.id],
                    pile,
                    store,
                    config,
                    carried,
                )
                specs[pile.id] = ({} if reference is None else reference) if clean else None
            ended = {
                session_transaction_id(p, evse, s)
                for p in (pile, old_pile)
                for evse in p.evses
                for s in evse.sessions
                if to_epoch(s.leave) <= at
            }
            count = len(store)
            for tx in sorted(ended):
                store = store.end_transaction(tx)
            if len(store) != count:
                specs[pile.id] = _without_ended(specs[pile.id], store)
        out[pile.id] = (store, config)
    return out, own, specs


def _without_ended(specs: dict[int, Spec] | None, store: ProfileStore) -> dict[int, Spec] | None:
    """``specs`` without the TxProfiles no longer in ``store`` (their transaction ended)."""
    if specs is None:
        return None
    present = {(e.evse_id, e.id) for e in store}
    out: dict[int, Spec] = {}
    for evse_id, spec in specs.items():
        tx_id = plan_profile_id(evse_id, P.TX_PROFILE)
        if P.TX_PROFILE in spec and (evse_id, tx_id) not in present:
            spec = {k: v for k, v in spec.items() if k is not P.TX_PROFILE}
        out[evse_id] = spec
    return out


def _same_from(a: Limits, b: Limits, at: int) -> bool:
    """Whether two profiles' periods (:func:`_rows`) give the same limit and phases at
    every instant from ``at`` on: from the periods covering ``at`` on, the same periods
    (the first one's start aside); else, as their periods from ``at`` with equal
    neighbours merged (:func:`_merged`)."""
    if a is b:
        return True
    i = bisect_right(a, at, key=lambda row: row[0]) - 1
    j = bisect_right(b, at, key=lambda row: row[0]) - 1
    if (
        i >= 0
        and j >= 0
        and a[i][1:] == b[j][1:]
        and len(a) - i == len(b) - j
        and a[i + 1 :] == b[j + 1 :]
    ):
        return True
    return _merged(a, at) == _merged(b, at)


def _spec(
    purposes: Iterable[ChargingProfilePurpose],
    levels: _Levels,
    transaction: str | None,
    rows: Limits,
) -> Spec:
    """What an EVSE's plan profiles of these purposes are built from (:data:`Spec`)."""
    return {
        purpose: (
            levels.tx_level if purpose is P.TX_PROFILE else levels.default_level,
            transaction if purpose is P.TX_PROFILE else None,
            rows,
        )
        for purpose in purposes
    }


def _reference_specs(
    previous: Allocation,
    old_limits: _LimitsFrom,
    old_pile: Pile,
    old_stores: dict[str, tuple[ProfileStore, StationConfig]],
    pile: Pile,
) -> dict[int, Spec] | None:
    """What :func:`_previous_profiles` builds each plan profile of the pile from (without
    building it): per EVSE it installs, its purposes, levels, transaction and periods.
    None where the pile has no levels left (it then installs none)."""
    operator, config = old_stores[old_pile.id]
    try:
        levels = _Levels.of(old_pile, operator, config)
    except SendPlanError:
        return None
    sent = previous.start_epoch
    known = {e.id for e in pile.evses}
    most = config.charging_schedule_max_periods
    out: dict[int, Spec] = {}
    for evse in old_pile.evses:
        key = (old_pile.id, evse.id)
        if evse.id not in known or key not in previous.amps:
            continue
        running = _running(old_pile, evse, sent)
        transaction = None if running is None else running.transaction_id
        purposes = (
            [P.TX_DEFAULT_PROFILE] if transaction is None else [P.TX_PROFILE, P.TX_DEFAULT_PROFILE]
        )
        out[evse.id] = _spec(purposes, levels[evse.id], transaction, _rows(old_limits(key), most))
    return out


def _held_store(
    held: dict[str, _Held] | None,
    pile_id: str,
    reference: dict[int, Spec] | None,
    own: ProfileStore,
    config: StationConfig,
    at: int,
) -> tuple[ProfileStore, dict[int, Spec]] | None:
    """The store the previous plan left the pile with, where it holds the same as the
    store rebuilt from the previous allocation (``reference``) from ``at`` on, else None.

    The same: the pile's own store and configuration are equal; the same EVSEs hold plan
    profiles, of the same purposes, stack levels and transactions; and each profile's
    periods give the same limit and phases at every instant from ``at`` on. Both are
    Absolute, start at or before ``at``, have no validity bounds and no end (their last
    period is the safe tail), so each one's limit at an instant from ``at`` on is its
    period there: what the piles draw from ``at`` on is the same (docs/semantics.md
    SPX2), and every rule a later step is judged by reads ids, purposes, levels and
    transactions, which are the same. Pinned against rebuilding by tests/test_send13b.py.
    """
    if held is None or reference is None:
        return None
    found = held.get(pile_id)
    if found is None:
        return None
    if (found.own is not own and found.own != own) or (
        found.config is not config and found.config != config
    ):
        return None
    if found.specs.keys() != reference.keys():
        return None
    for evse_id, spec in reference.items():
        mine = found.specs[evse_id]
        if mine.keys() != spec.keys():
            return None
        for purpose, (level, transaction, rows) in spec.items():
            level_held, transaction_held, rows_held = mine[purpose]
            if level_held != level or transaction_held != transaction:
                return None
            if not _same_from(rows_held, rows, at):
                return None
    return found.store, found.specs


def _previous_profiles(
    previous: Allocation,
    old_limits: _LimitsFrom,
    old_pile: Pile,
    old_own: tuple[ProfileStore, StationConfig],
    pile: Pile,
    store: ProfileStore,
    config: StationConfig,
    carried: dict[tuple[str, int, ChargingProfilePurpose], _Built],
) -> tuple[ProfileStore, bool]:
    """The pile's store with the previous plan's profiles installed as sent at its start,
    and whether each was installed as built (none fitted or refused).

    A profile the previous plan built from exactly the same inputs (``carried``) is
    installed as it was built; any other is built again (the same function of the same
    inputs either way). ``old_own`` is the old pile's own store and configuration in the
    previous site.
    """
    sent = previous.start_epoch
    # The old pile's configuration at the site's voltage: the levels and the payloads
    # read only its stack-level and period bounds, which the voltage does not change.
    operator, own = old_own
    try:
        levels = _Levels.of(old_pile, operator, own)
    except SendPlanError:
        return store, True
    clean = True
    known = {e.id for e in pile.evses}
    transactions = _transactions(old_pile, sent)
    state = StationState(config, OcppVersion(old_pile.ocpp), transactions)
    for evse in old_pile.evses:
        key = (old_pile.id, evse.id)
        if evse.id not in known or key not in previous.amps:
            continue
        limits = old_limits(key)  # from ``sent``, its start
        running = _running(old_pile, evse, sent)
        transaction = None if running is None else running.transaction_id
        purposes = (
            [P.TX_DEFAULT_PROFILE] if transaction is None else [P.TX_PROFILE, P.TX_DEFAULT_PROFILE]
        )
        for purpose in purposes:
            found = carried.get((old_pile.id, evse.id, purpose))
            if found is not None and found.inputs == _inputs(
                old_pile, evse, purpose, limits, levels[evse.id], transaction, own
            ):
                installed, result = install(store, found.request, state)
                if result.accepted:
                    store = installed
                    continue
            step = _step(old_pile, evse, purpose, "lower", limits, levels, transaction, own)
            try:
                fitted, store = _fit(old_pile, step, store, config, sent, transactions)
            except SendPlanError:
                clean = False
                continue  # the pile would not hold it
            clean = clean and len(fitted) == 1 and fitted[0][0] is step.payload
    return store, clean

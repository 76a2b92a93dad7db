"""Per session: how much energy an allocation gives the vehicle, when its need is met, what is left.

:func:`session_outcomes` reads an :class:`~ocpp_schedule.Allocation` as it is and
changes nothing: for every session that meets the allocation's window it integrates
the EVSE's limit (A per phase) x the phases the vehicle loads x the site's voltage
over the time the vehicle is there, slot by slot, in order. The vehicle is assumed
to draw its whole limit (the closed-loop controller of later work refines this with
measurements). The energy is never counted beyond the session's need: once the need
is met, ``done_at`` says when, and the rest of the session's limits give it nothing.
A session without a need (:attr:`~ocpp_schedule.Session.need_kwh` None) gets the
energy its limits allow and None for ``done_at`` and ``unmet_kwh``.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from ..wire._timestamps import from_epoch, to_epoch
from ._allocation import JOULES_PER_KWH, Allocation
from ._model import Evse, Pile, Session, Site
from ._report import _clock, _table

__all__ = [
    "SessionOutcome",
    "SessionTimes",
    "format_session_outcomes",
    "session_energy",
    "session_outcomes",
]

_MET_KWH = 1e-9
"""Energy (kWh) below which a need counts as met: float noise, far below any meter."""


class SessionTimes:
    """``arrive``, ``leave`` and ``done_at`` (UTC datetimes, stored) in epoch seconds too.

    Shared by :class:`SessionOutcome`, ``SessionControl`` and ``SimulatedSession``: every
    instant of a public result has its ``*_epoch`` twin (docs/semantics.md API1).
    """

    __slots__ = ()
    arrive: datetime
    leave: datetime
    done_at: datetime | None

    @property
    def arrive_epoch(self) -> int:
        """``arrive`` in epoch seconds."""
        return to_epoch(self.arrive)

    @property
    def leave_epoch(self) -> int:
        """``leave`` in epoch seconds."""
        return to_epoch(self.leave)

    @property
    def done_at_epoch(self) -> int | None:
        """``done_at`` in epoch seconds (None when it is None)."""
        return None if self.done_at is None else to_epoch(self.done_at)


@dataclass(frozen=True)
class SessionOutcome(SessionTimes):
    """What an allocation gives one session by its departure, within the allocation's window."""

    pile: str
    """The pile's id."""
    evse: int
    """The EVSE's id."""
    transaction_id: str
    """The session's transaction id (:meth:`~ocpp_schedule.Session.effective_transaction_id`)."""
    arrive: datetime
    """When the vehicle arrives (UTC)."""
    leave: datetime
    """When the vehicle leaves (UTC)."""
    need_kwh: float | None
    """The energy the vehicle still needs at arrival (kWh); None when unknown."""
    expected_kwh: float
    """The energy the allocation gives it by its departure within the window (kWh), assuming it
    draws its limit; never above ``need_kwh``."""
    done_at: datetime | None
    """The instant (UTC, rounded up to the second) its need is met; None when it is not met
    within the window or the need is unknown."""
    unmet_kwh: float | None
    """``need_kwh - expected_kwh`` (>= 0); None when the need is unknown."""
    beyond_window: bool
    """True when the vehicle leaves after the allocation's end: the figures cover only the
    window, and a later plan may still give it more."""


def session_outcomes(allocation: Allocation) -> tuple[SessionOutcome, ...]:
    """Every session that meets the allocation's window, with its expected energy and need met.

    In the site's order of piles and EVSEs, each EVSE's sessions by arrival. Pure: reads
    the allocation only. A session running at the window's start is counted from the
    window's start, so its need should be what it still needs then.
    """
    site = allocation.site
    start, end = allocation.start_epoch, allocation.end_epoch
    out: list[SessionOutcome] = []
    for pile in site.piles:
        for evse in pile.evses:
            sessions = evse.sessions
            if len(sessions) > 1:
                sessions = tuple(sorted(sessions, key=lambda s: s.arrive))
            for session in sessions:
                arrive, leave = to_epoch(session.arrive), to_epoch(session.leave)
                if min(end, leave) - max(start, arrive) > 0:  # present_seconds, epochs read once
                    out.append(_outcome(allocation, pile, evse, session, arrive, leave))
    return tuple(out)


def _outcome(
    allocation: Allocation, pile: Pile, evse: Evse, session: Session, arrive: int, leave: int
) -> SessionOutcome:
    """One session (``arrive``, ``leave``: its epochs): :func:`session_energy` on its rows."""
    key = (pile.id, evse.id)
    need = session.need_kwh
    total, done = session_energy(
        allocation.boundaries,
        allocation.amps[key],
        allocation.phases[key],
        arrive,
        leave,
        min(session.phases, evse.phases),
        allocation.site.voltage,
        need,
    )
    return SessionOutcome(
        pile=pile.id,
        evse=evse.id,
        transaction_id=session.effective_transaction_id(evse.id),
        arrive=session.arrive,
        leave=session.leave,
        need_kwh=need,
        expected_kwh=total,
        done_at=None if done is None else from_epoch(done),
        unmet_kwh=None if need is None else max(0.0, need - total),
        beyond_window=leave > allocation.end_epoch,
    )


def session_energy(
    bounds: Sequence[int],
    amps: Sequence[float],
    phases: Sequence[int],
    arrive: int,
    leave: int,
    wired: int,
    volts: float,
    need: float | None,
) -> tuple[float, int | None]:
    """The energy (kWh) an EVSE's limits give a vehicle there on ``[arrive, leave)``, and when
    its ``need`` is met (epoch s, rounded up; None when not within the slots or unknown).

    ``bounds`` are the slot edges, ``amps`` and ``phases`` the EVSE's row, ``wired`` the phases
    the vehicle can load. Slot by slot from its arrival, in order (the same float operations
    in the same order whoever calls it): limit x phases x volts over the time it is there; at
    the slot where the need is met, the rest gives it nothing.
    """
    total = 0.0
    threshold = math.inf if need is None else need - _MET_KWH
    first = max(0, bisect_right(bounds, arrive) - 1)
    stop = min(bisect_left(bounds, leave), len(bounds) - 1)  # the first slot from ``leave`` on
    for k in range(first, stop):
        ph = phases[k]
        watts = amps[k] * (ph if ph < wired else wired) * volts
        if watts <= 0:
            continue
        a, b = bounds[k], bounds[k + 1]
        begin = a if a > arrive else arrive
        seconds = (b if b < leave else leave) - begin  # > 0: the slot meets the stay
        energy = watts * seconds / JOULES_PER_KWH
        reached = total + energy
        if reached >= threshold:
            assert need is not None
            needed = max(0.0, (need - total) * JOULES_PER_KWH / watts)
            return need, min(begin + seconds, begin + math.ceil(needed - 1e-6))
        total = reached
    return total, None


def format_session_outcomes(outcomes: tuple[SessionOutcome, ...], site: Site) -> str:
    """A table per session: EVSE, stay (local time), need, expected, done at, unmet ("-": unknown).

    A stay marked ``*`` lasts past the window: its figures cover the window only.
    """
    rows = []
    for o in outcomes:
        stay = f"{_clock(to_epoch(o.arrive), site)}-{_clock(to_epoch(o.leave), site)}"
        rows.append(
            [
                f"{o.pile}/{o.evse}",
                stay + ("*" if o.beyond_window else ""),
                "-" if o.need_kwh is None else f"{o.need_kwh:.1f}",
                f"{o.expected_kwh:.1f}",
                "-" if o.done_at is None else _clock(to_epoch(o.done_at), site),
                "-" if o.unmet_kwh is None else f"{o.unmet_kwh:.1f}",
            ]
        )
    text = _table(
        ["EVSE", "stay (local time)", "need kWh", "expected kWh", "done at", "unmet kWh"], rows
    )
    if any(o.beyond_window for o in outcomes):
        text += "\n* leaves after the window: the figures cover the window only"
    return text

"""Sharing policies for site load balancing: who gets what share, who is paused first.

A policy gives every charging session a weight (its share relative to others
under a common bottleneck) and a pause rank (when the capacity cannot give
everyone their minimum charging rate, the lowest-ranked sessions are paused
first). :class:`EqualShare` and :class:`Weighted` are provided; any object
with the same two methods is a policy.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from ..wire._timestamps import to_epoch
from ._model import Evse, Pile, Session

__all__ = ["EqualShare", "Policy", "Rank", "Weighted"]


Rank = tuple[float, int, str, int]
"""A pause rank: weight, minus the arrival (epoch s), pile id, EVSE id."""


@runtime_checkable
class Policy(Protocol):
    """How capacity is shared among charging sessions."""

    name: str

    def weight(self, pile: Pile, evse: Evse, session: Session) -> float:
        """The session's share relative to others (> 0)."""
        ...

    def pause_rank(self, pile: Pile, evse: Evse, session: Session) -> Rank:
        """Sort key: the lowest rank is paused first when minimum rates cannot all be met."""
        ...


def _stable_rank(pile: Pile, evse: Evse, session: Session, weight: float) -> Rank:
    # Lower weight is paused first; among equals the latest arrival waits (it has
    # charged least, and the order never changes while the sessions last), then ids.
    return (weight, -to_epoch(session.arrive), pile.id, evse.id)


class EqualShare:
    """Every session gets an equal share; ties for pausing go against the latest arrival."""

    name = "equal-share"

    def weight(self, pile: Pile, evse: Evse, session: Session) -> float:
        """1 for every session."""
        return 1.0

    def pause_rank(self, pile: Pile, evse: Evse, session: Session) -> Rank:
        """Latest arrival first."""
        return _stable_rank(pile, evse, session, 1.0)


class Weighted:
    """Shares in proportion to each session's ``weight`` (e.g. 2 for a fleet vehicle)."""

    name = "weighted"

    def weight(self, pile: Pile, evse: Evse, session: Session) -> float:
        """The session's own weight."""
        return session.weight

    def pause_rank(self, pile: Pile, evse: Evse, session: Session) -> Rank:
        """Lowest weight first, then latest arrival."""
        return _stable_rank(pile, evse, session, session.weight)

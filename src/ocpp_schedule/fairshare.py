"""Weighted max-min fair sharing under linear capacity constraints (progressive filling).

:func:`share_fairly` raises every consumer's allocation in proportion to its
weight until a constraint it takes part in is full or it reaches its own cap;
consumers in a full constraint are frozen there and the others keep rising.
The result is the weighted max-min fair allocation: no consumer can get more
without taking from one that has, relative to its weight, no more.

Each constraint is ``sum(coef_i * x_i) <= limit`` over its members (a circuit
phase: coefficient 1 per A; a circuit's total power: V x phases per A).
Work per level is linear in the members of the constraints that changed, so a
tree of circuits with a thousand consumers is shared in milliseconds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["Constraint", "share_fairly"]

Constraint = tuple[float, Sequence[tuple[int, float]]]
"""``(limit, [(consumer index, coefficient), ...])``."""

_INF = math.inf
_REL = 1e-12


def share_fairly(
    caps: Sequence[float], weights: Sequence[float], constraints: Sequence[Constraint]
) -> list[float]:
    """The weighted max-min fair allocation with ``0 <= x[i] <= caps[i]``.

    Consumers with a cap of 0 get 0. A constraint whose limit is already
    exceeded by nothing at all (limit < 0) gives its members 0.
    """
    n = len(caps)
    x = [0.0] * n
    frozen = [c <= 0.0 for c in caps]
    thresholds = [caps[i] / weights[i] if not frozen[i] else 0.0 for i in range(n)]
    order = sorted(range(n), key=thresholds.__getitem__)
    rank = [0] * n
    for position, i in enumerate(order):
        rank[i] = position
    limits = [float(limit) for limit, _ in constraints]
    members = [
        sorted(((i, c) for i, c in m if c > 0 and not frozen[i]), key=lambda ic: rank[ic[0]])
        for _, m in constraints
    ]
    belongs: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    for g, group in enumerate(members):
        for i, c in group:
            belongs[i].append((g, c))
    used = [0.0] * len(constraints)
    level_of = [_INF] * len(constraints)
    dirty = set(range(len(constraints)))
    left = sum(1 for f in frozen if not f)
    while left:
        for g in dirty:
            level_of[g] = _level(members[g], frozen, caps, weights, thresholds, used[g], limits[g])
        dirty.clear()
        best = min(level_of, default=_INF)
        if best == _INF:
            for i in range(n):
                if not frozen[i]:
                    x[i] = float(caps[i])
            break
        bound = best + abs(best) * _REL + _REL
        for g, level in enumerate(level_of):
            if level > bound:
                continue
            for i, _c in members[g]:
                if frozen[i]:
                    continue
                value = min(caps[i], weights[i] * max(best, 0.0))
                x[i] = value
                frozen[i] = True
                left -= 1
                for g2, c2 in belongs[i]:
                    used[g2] += c2 * value
                    dirty.add(g2)
            level_of[g] = _INF
            dirty.add(g)
    return x


def _level(
    members: list[tuple[int, float]],
    frozen: list[bool],
    caps: Sequence[float],
    weights: Sequence[float],
    thresholds: list[float],
    used: float,
    limit: float,
) -> float:
    """The fill level at which this constraint becomes full (inf: never)."""
    rising = 0.0
    for i, c in members:
        if not frozen[i]:
            rising += c * weights[i]
    if rising == 0.0:
        return _INF
    room = limit - used
    if room <= 0.0:
        return 0.0
    capped = 0.0
    for i, c in members:
        if frozen[i]:
            continue
        t = thresholds[i]
        if capped + rising * t >= room:
            return (room - capped) / rising
        capped += c * caps[i]
        rising -= c * weights[i]
        if rising <= 0.0:
            return _INF
    return _INF

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
from heapq import heappop, heappush

__all__ = ["Constraint", "share_fairly"]

Constraint = tuple[float, Sequence[tuple[int, float]]]
"""``(limit, [(consumer index, coefficient), ...])``."""

_INF = math.inf
_REL = 1e-12


def share_fairly(
    caps: Sequence[float], weights: Sequence[float], constraints: Sequence[Constraint]
) -> list[float]:
    """The weighted max-min fair allocation with ``0 <= x[i] <= caps[i]``.

    Consumers with a cap of 0 get 0. A constraint whose limit is below 0
    gives its members 0.
    """
    n = len(caps)
    x = [0.0] * n
    frozen = [c <= 0.0 for c in caps]
    thresholds = [0.0 if frozen[i] else caps[i] / weights[i] for i in range(n)]
    groups = len(constraints)
    limits = [float(limit) for limit, _ in constraints]
    belongs: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    for g, (limit, group) in enumerate(constraints):
        if sum(c * caps[i] for i, c in group if c > 0) <= limit:
            continue  # even everyone at their cap fits: this constraint never binds
        for i, c in group:
            if c > 0 and not frozen[i]:
                belongs[i].append((g, c))
    # Members of every constraint in ascending threshold order, without sorting each one.
    members: list[list[tuple[int, float]]] = [[] for _ in range(groups)]
    rising = [0.0] * groups
    for i in sorted(range(n), key=thresholds.__getitem__):
        if frozen[i]:
            continue
        w = weights[i]
        for g, c in belongs[i]:
            members[g].append((i, c))
            rising[g] += c * w
    used = [0.0] * groups
    level_of = [_INF] * groups
    heap: list[tuple[float, int]] = []
    dirty = set(range(groups))
    left = n - sum(frozen)
    while left:
        for g in dirty:
            level = _level(
                members[g], frozen, caps, weights, thresholds, used[g], limits[g], rising[g]
            )
            level_of[g] = level
            if level != _INF:
                heappush(heap, (level, g))
        dirty.clear()
        while heap and heap[0][0] != level_of[heap[0][1]]:
            heappop(heap)  # stale: the constraint's level changed since it was pushed
        if not heap:
            for i in range(n):
                if not frozen[i]:
                    x[i] = float(caps[i])
            break
        best = heap[0][0]
        bound = best + abs(best) * _REL + _REL
        level = max(best, 0.0)
        while heap and heap[0][0] <= bound:
            _, g = heappop(heap)
            if level_of[g] > bound:
                continue
            for i, _c in members[g]:
                if frozen[i]:
                    continue
                value = min(caps[i], weights[i] * level)
                x[i] = value
                frozen[i] = True
                left -= 1
                w = weights[i]
                for g2, c2 in belongs[i]:
                    used[g2] += c2 * value
                    rising[g2] -= c2 * w
                    dirty.add(g2)
            level_of[g] = _INF
            dirty.discard(g)
    return x


def _level(
    members: list[tuple[int, float]],
    frozen: list[bool],
    caps: Sequence[float],
    weights: Sequence[float],
    thresholds: list[float],
    used: float,
    limit: float,
    rising: float,
) -> float:
    """The fill level at which this constraint becomes full (inf: never).

    ``rising`` is the sum of coefficient x weight over the unfrozen members.
    """
    if rising <= 1e-15:
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
        if rising <= 1e-15:
            return _INF
    return _INF

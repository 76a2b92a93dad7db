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
import operator
from collections.abc import Sequence
from heapq import heappop, heappush

__all__ = ["Constraint", "fill", "share_fairly"]

Constraint = tuple[float, Sequence[tuple[int, float]]]
"""``(limit, [(consumer index, coefficient), ...])``."""

_INF = math.inf
_FRESH = 1e-3
"""A running sum of weights that fell below this share of its last fresh value is summed afresh."""
_REL = 1e-12
"""Levels within this relative distance of the lowest are filled together (never above it)."""


def share_fairly(
    caps: Sequence[float], weights: Sequence[float], constraints: Sequence[Constraint]
) -> list[float]:
    """The weighted max-min fair allocation with ``0 <= x[i] <= caps[i]``.

    Consumers with a cap of 0 get 0. A constraint whose limit is below 0
    gives its members 0. Weights must be positive and finite; they are
    normalised (the largest becomes 1), and a running sum of weights is summed
    afresh from positive terms before cancellation can make it meaningless
    (see :func:`_level`), so the result does not depend on the weights' scale
    and no full constraint is ever taken for "never binding" by rounding.
    """
    return fill(
        caps,
        weights,
        [limit for limit, _ in constraints],
        [[i for i, _ in group] for _, group in constraints],
        [[c for _, c in group] for _, group in constraints],
    )


def fill(
    caps: Sequence[float],
    weights: Sequence[float],
    bounds: Sequence[float],
    indices: Sequence[Sequence[int]],
    coefficients: Sequence[Sequence[float]],
) -> list[float]:
    """:func:`share_fairly` with each constraint as its limit, its members' indices and
    their coefficients in three parallel sequences.

    The same arithmetic in the same order; the memberships are held in lists of plain
    numbers rather than one pair per member, so a large share builds no object per
    membership for the garbage collector to walk (docs/performance.md, BALANCEFAST).
    """
    n = len(caps)
    w = _normalised(weights)
    x = [0.0] * n
    frozen = [c <= 0.0 for c in caps]
    thresholds = [0.0 if frozen[i] else caps[i] / w[i] for i in range(n)]
    groups = len(bounds)
    limits = [float(limit) for limit in bounds]
    in_g: list[list[int]] = [[] for _ in range(n)]
    in_c: list[list[float]] = [[] for _ in range(n)]
    for g in range(groups):
        group_i, group_c = indices[g], coefficients[g]
        if _at_caps(caps, group_i, group_c) <= limits[g]:
            continue  # even everyone at their cap fits: this constraint never binds
        for i, c in zip(group_i, group_c, strict=True):
            if c > 0 and not frozen[i]:
                in_g[i].append(g)
                in_c[i].append(c)
    # Members of every constraint in ascending threshold order, without sorting each one.
    mem_i: list[list[int]] = [[] for _ in range(groups)]
    mem_c: list[list[float]] = [[] for _ in range(groups)]
    rising = [0.0] * groups
    for i in sorted(range(n), key=thresholds.__getitem__):
        if frozen[i]:
            continue
        wi = w[i]
        for g, c in zip(in_g[i], in_c[i], strict=True):
            mem_i[g].append(i)
            mem_c[g].append(c)
            rising[g] += c * wi
    peak = list(rising)
    used = [0.0] * groups
    level_of = [_INF] * groups
    heap: list[tuple[float, int]] = []
    dirty = set(range(groups))
    left = n - sum(frozen)
    while left:
        for g in dirty:
            if rising[g] < peak[g] * _FRESH:
                rising[g] = peak[g] = _rising(mem_i[g], mem_c[g], frozen, w, 0)
            level = _level(
                mem_i[g], mem_c[g], frozen, caps, w, thresholds, used[g], limits[g], rising[g]
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
        level = max(heap[0][0], 0.0)
        bound = level * (1.0 + _REL)
        # Everyone in a constraint that fills at (about) this level stops at the
        # lowest level: never above any constraint's own filling level.
        while heap and heap[0][0] <= bound:
            _, g = heappop(heap)
            if level_of[g] > bound:
                continue
            for i in mem_i[g]:
                if frozen[i]:
                    continue
                value = min(caps[i], w[i] * level)
                x[i] = value
                frozen[i] = True
                left -= 1
                wi = w[i]
                for g2, c2 in zip(in_g[i], in_c[i], strict=True):
                    used[g2] += c2 * value
                    rising[g2] -= c2 * wi
                    dirty.add(g2)
            level_of[g] = _INF
            dirty.discard(g)
    return x


def _at_caps(caps: Sequence[float], group_i: Sequence[int], group_c: Sequence[float]) -> float:
    """What a constraint carries with every member of positive coefficient at its cap.

    When every coefficient is positive (``0.0 < c``, false for NaN), the products are
    taken and summed in C, the same terms in the same order as the filtered sum
    (BAL16B)."""
    if len(group_i) == len(group_c) and all(map(_ZERO.__lt__, group_c)):
        total: float = sum(map(operator.mul, group_c, map(caps.__getitem__, group_i)))
        return total
    return sum(c * caps[i] for i, c in zip(group_i, group_c, strict=True) if c > 0)


_ZERO = 0.0


def _normalised(weights: Sequence[float]) -> list[float]:
    """The weights divided by the largest; ValueError for a weight not positive and finite."""
    top = max(weights, default=1.0)
    for value in weights:
        if not (value > 0.0 and math.isfinite(value)):
            raise ValueError(f"weights must be positive and finite, not {value!r}")
    out = [value / top for value in weights]
    if any(value <= 0.0 for value in out):
        raise ValueError("weights span more than the float range")
    return out


def _rising(
    members: list[int],
    coefficients: list[float],
    frozen: list[bool],
    weights: Sequence[float],
    first: int,
) -> float:
    """Coefficient x weight summed afresh over the unfrozen members from ``first`` on."""
    return sum(
        c * weights[i]
        for i, c in zip(members[first:], coefficients[first:], strict=True)
        if not frozen[i]
    )


def _level(
    members: list[int],
    coefficients: list[float],
    frozen: list[bool],
    caps: Sequence[float],
    weights: Sequence[float],
    thresholds: list[float],
    used: float,
    limit: float,
    rising: float,
) -> float:
    """The fill level at which this constraint becomes full (inf: never).

    Members are in ascending threshold order (the level at which each reaches
    its cap), with their coefficients in the same order. ``rising`` is the sum of
    coefficient x weight over the unfrozen
    members. It is kept by subtraction, which loses a small remainder to
    cancellation once large weights are taken from a sum that absorbed small
    ones; so whenever it falls below :data:`_FRESH` of the sum it was last
    computed from, it is summed afresh from the members left (positive terms
    only). Its relative error then stays below about 10^-12.
    """
    room = limit - used
    if room <= 0.0:
        return 0.0 if any(not frozen[i] for i in members) else _INF
    top = rising
    capped = 0.0
    for k, i in enumerate(members):
        if frozen[i]:
            continue
        if rising < top * _FRESH:
            rising = top = _rising(members, coefficients, frozen, weights, k)
        if rising <= 0.0:
            return _INF  # only underflowed weights left (outside any accepted range)
        if capped + rising * thresholds[i] >= room:
            return (room - capped) / rising
        c = coefficients[k]
        capped += c * caps[i]
        rising -= c * weights[i]
    return _INF

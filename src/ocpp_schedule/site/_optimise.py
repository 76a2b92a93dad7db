"""The exact optimiser: the window as linear programmes, solved by HiGHS (extra ``[optimize]``).

:class:`ExactOptimiser` is a :class:`~ocpp_schedule.site._planning.Planner`
(name ``"optimal"``). Over the window's slots, one variable per EVSE with a
vehicle and slot: its current (A per phase), ``0 <= x <= cap``. Constraints:

- every circuit phase limit and every circuit power limit in every slot
  (``W = V x phases x A``, summed over the circuit's subtree);
- every session's energy at most what it still needs
  (``kWh = A x phases x V x present / 3.6e6``);
- a pinned demand (a TxProfile the plan cannot replace) draws its cap: it is a
  constant, taken off the limits and the need it shares.

Objectives, lexicographic:

1. the energy delivered by departure, one LP per priority class from the
   highest down, each keeping the classes above at their optimum (less a
   relative slack of :data:`ENERGY_SLACK`). Energy in slot ``k`` for a session
   weighs ``1 + EARLY_BONUS x (share of the window still to come) x (1 +
   share of the window left after the session leaves)``: among plans of equal
   energy the one delivering earlier wins, and the earlier slots go first to the
   vehicles that leave first, since vehicles the plan does not know yet arrive
   later and compete for the later slots;
2. fairness: maximise the least fraction of its deliverable need (the need,
   or what its caps allow within the window if less) that any session gets,
   keeping every class's weighted energy at its optimum less the slack.

Minimum currents: an LP cannot say "0 or at least ``min_amps``". A current the
LP puts strictly between 0 and the minimum is fixed at 0 and the programmes are
solved once more with those fixed; a current still below its minimum after that
is set to 0 (lowering a current never breaks a limit: every constraint is an
upper bound with non-negative coefficients). Currents are then rounded to
0.1 A (down, except float noise of 10^-6 A below a tenth), repaired should the
rounding break a row, and topped up by 0.1 A where every row still has room.
:func:`~ocpp_schedule.balance` checks the result like any other plan.

The solver is SciPy's ``linprog(method="highs")``, imported only when a plan is
made; without SciPy, :class:`OptimiserUnavailable` names the pip command. The
programme's size is bounded before it is built (:data:`MAX_LP_VARIABLES`,
:data:`MAX_LP_NONZEROS`, docs/robustness.md).
"""

from __future__ import annotations

import contextlib
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import OcppScheduleError, QueryError
from ._planner import DeadlineAware, _Planner
from ._planning import PlanningProblem

__all__ = [
    "EARLY_BONUS",
    "ENERGY_SLACK",
    "MAX_LP_NONZEROS",
    "MAX_LP_VARIABLES",
    "ExactOptimiser",
    "OptimiserUnavailable",
]

EvseKey = tuple[str, int]

MAX_LP_VARIABLES = 250_000
"""Most variables (EVSE x slot cells with a vehicle) one programme may have."""
MAX_LP_NONZEROS = 5_000_000
"""Most constraint coefficients one programme may have (counted before it is built)."""
EARLY_BONUS = 1e-3
"""Extra weight of energy in the window's first slot over its last (linear in between)."""
ENERGY_SLACK = 1e-6
"""Relative slack on the energy a later objective must keep (absorbs solver tolerances)."""
_FAIR_TIE = 1e-3
"""Weight of the (normalised) energy in the fairness objective: picks the fuller vertex."""
_JOULES_PER_KWH = 3.6e6
_SNAP = 1e-6
"""A current this close below a tenth of an ampere is that tenth (solver noise)."""
_TOL = 1e-9
_NOISE = 1e-3
"""A current (A) this close to 0 or to a minimum is there: what the energy slack and the
solver's tolerances leave is no decision."""


class OptimiserUnavailable(OcppScheduleError, RuntimeError):
    """The exact optimiser's solver (SciPy, with HiGHS) is not installed."""


def _solver() -> tuple[Any, Any, Any]:
    """``(numpy, scipy.optimize.linprog, scipy.sparse)``, or :class:`OptimiserUnavailable`."""
    try:
        import numpy
        from scipy import sparse
        from scipy.optimize import linprog
    except ImportError:
        raise OptimiserUnavailable(
            "the exact optimiser needs SciPy (HiGHS):"
            " python -m pip install 'ocpp-schedule[optimize]'",
            field="policy",
            rule="optional extra [optimize]",
        ) from None
    return numpy, linprog, sparse


@dataclass
class _Programme:
    """The window as ``A x <= b``, ``0 <= x <= ub``, with what each column stands for."""

    slot: list[int] = field(default_factory=list)
    key: list[EvseKey] = field(default_factory=list)
    session: list[int] = field(default_factory=list)
    ub: list[float] = field(default_factory=list)
    lb: list[float] = field(default_factory=list)
    min_amps: list[float] = field(default_factory=list)
    kwh_per_amp: list[float] = field(default_factory=list)
    shares: list[tuple[tuple[int, float], ...]] = field(default_factory=list)
    """Per column: (session, kWh per A) for each session present in its slot on its EVSE."""
    weight: list[float] = field(default_factory=list)
    priority: list[int] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    cols: list[int] = field(default_factory=list)
    vals: list[float] = field(default_factory=list)
    rhs: list[float] = field(default_factory=list)
    pinned: list[dict[EvseKey, float]] = field(default_factory=list)
    pinned_kwh: dict[int, float] = field(default_factory=dict)
    need_rows: set[int] = field(default_factory=set)
    """Which rows are need rows (the others are circuit rows)."""
    need_row: dict[int, int] = field(default_factory=dict)
    """Per session with a need row: that row."""
    turned: list[int] = field(default_factory=list)
    """Columns the minimum pass turned on."""
    relaxed: dict[int, float] = field(default_factory=dict)
    """Need rows the minimum pass widened, by how much (kWh)."""
    need_room: dict[int, float] = field(default_factory=dict)
    """Per session with a known need: the energy it may still get in the window (kWh)."""
    overloaded: bool = False
    """Pinned demands alone break a limit: no plan is safe (balance refuses it)."""


def _size(problem: PlanningProblem) -> None:
    """Refuse a programme above :data:`MAX_LP_VARIABLES` or :data:`MAX_LP_NONZEROS`."""
    variables = sum(len(row) for row in problem.demands)
    nonzeros = sum(
        len(d.path) * (len(d.circuit_phases) + 1) + 1 for row in problem.demands for d in row
    )
    for what, count, bound in (
        ("the optimiser's variables (EVSEs with a vehicle x slots)", variables, MAX_LP_VARIABLES),
        ("the optimiser's constraint coefficients", nonzeros, MAX_LP_NONZEROS),
    ):
        if count > bound:
            raise QueryError(
                f"{what} would be {count:,}, above the bound of {bound:,}; shorten the window"
                " or use coarser slots",
                field="policy",
                rule="docs/robustness.md#bounds",
            )


def _build(problem: PlanningProblem, early_bonus: float) -> _Programme:
    """Columns, circuit rows and need rows; rows that can never bind are left out."""
    lp = _Programme()
    volts = problem.voltage
    start, end = problem.boundaries[0], problem.boundaries[-1]
    span = max(1, end - start)
    needs: dict[int, float | None] = {s.index: s.need_kwh for s in problem.sessions}
    on_evse: dict[EvseKey, list[tuple[int, int, int, int]]] = defaultdict(list)
    for sess in problem.sessions:
        on_evse[sess.key].append((sess.index, sess.arrive, sess.leave, sess.phases))
    priority = {s.index: s.priority for s in problem.sessions}
    # Urgency (0..1): how much earlier than the window's end a session leaves.
    urgency = {s.index: (end - min(s.leave, end)) / span for s in problem.sessions}
    for k, demands in enumerate(problem.demands):
        a, b = problem.boundaries[k], problem.boundaries[k + 1]
        early = early_bonus * (end - (a + b) / 2) / span
        pinned: dict[EvseKey, float] = {}
        columns: list[int] = []
        for d in demands:
            kwh = d.phases * volts * d.present / _JOULES_PER_KWH
            shares = _shares(on_evse[d.key], a, b, volts) or ((d.session, kwh),)
            if d.pinned:
                pinned[d.key] = d.cap
                for s, per_amp in shares:
                    lp.pinned_kwh[s] = lp.pinned_kwh.get(s, 0.0) + d.cap * per_amp
                continue
            usable = d.cap > 0 and d.cap >= d.min_amps and d.present > 0 and needs[d.session] != 0
            columns.append(len(lp.ub))
            lp.slot.append(k)
            lp.key.append(d.key)
            lp.session.append(d.session)
            lp.ub.append(d.cap if usable else 0.0)
            lp.lb.append(0.0)
            lp.min_amps.append(d.min_amps)
            lp.kwh_per_amp.append(kwh)
            lp.shares.append(shares)
            lp.weight.append(1.0 + early * (1.0 + urgency[d.session]))
            lp.priority.append(priority[d.session])
        lp.pinned.append(pinned)
        _circuit_rows(lp, problem, k, columns)
    _need_rows(lp, needs)
    return lp


def _shares(
    sessions: list[tuple[int, int, int, int]], a: int, b: int, volts: float
) -> tuple[tuple[int, float], ...]:
    """Each session on the EVSE present in ``[a, b)``, with its kWh per A of the slot (on
    its own phases)."""
    out = []
    for index, arrive, leave, phases in sessions:
        present = min(b, leave) - max(a, arrive)
        if present > 0:
            out.append((index, phases * volts * present / _JOULES_PER_KWH))
    return tuple(out)


def _circuit_rows(lp: _Programme, problem: PlanningProblem, k: int, columns: list[int]) -> None:
    """Slot ``k``: a row per circuit phase and circuit power limit that can bind."""
    volts = problem.voltage
    members: dict[tuple[str, int], list[tuple[int, float]]] = defaultdict(list)
    used: dict[tuple[str, int], float] = defaultdict(float)
    demands = problem.demands[k]
    by_key = {d.key: d for d in demands}
    for d in demands:
        if d.pinned:
            for c in d.path:
                for p in d.circuit_phases:
                    used[(c, p)] += d.cap
                used[(c, -1)] += d.cap * d.phases * volts
    for i in columns:
        d = by_key[lp.key[i]]
        for c in d.path:
            for p in d.circuit_phases:
                members[(c, p)].append((i, 1.0))
            members[(c, -1)].append((i, d.phases * volts))
    for (c, p), row in list(members.items()) + [(kp, []) for kp in used if kp not in members]:
        amps, watts = problem.limits[k][c]
        limit = (math.inf if watts is None else watts) if p < 0 else amps[p]
        if not math.isfinite(limit):
            continue
        room = limit - used[(c, p)]
        if room < -_TOL * max(1.0, limit):
            lp.overloaded = True
        if sum(lp.ub[i] * coef for i, coef in row) <= room:
            continue  # never binds
        _add_row(lp, row, max(room, 0.0))


def _need_rows(lp: _Programme, needs: Mapping[int, float | None]) -> None:
    """Per session with a known need: its energy over the window at most what it needs."""
    members: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for i, shares in enumerate(lp.shares):
        if lp.ub[i] > 0:
            for s, per_amp in shares:
                members[s].append((i, per_amp))
    for s, row in members.items():
        need = needs[s]
        if need is None:
            continue
        room = max(0.0, need - lp.pinned_kwh.get(s, 0.0))
        lp.need_room[s] = room
        if sum(lp.ub[i] * coef for i, coef in row) > room:
            lp.need_rows.add(len(lp.rhs))
            lp.need_row[s] = len(lp.rhs)
            _add_row(lp, row, room)


def _add_row(lp: _Programme, row: Sequence[tuple[int, float]], rhs: float) -> None:
    r = len(lp.rhs)
    lp.rhs.append(rhs)
    for i, coef in row:
        lp.rows.append(r)
        lp.cols.append(i)
        lp.vals.append(coef)


def _minimum_pass(lp: _Programme, x: Sequence[float]) -> bool:
    """Round the currents the LP left between 0 and their minimum to 0 or to the minimum.

    A current of a session with a minimum keeps its side: at 0 it stays 0, at the
    minimum or above it stays there, so the second solve only moves energy among
    currents that are on and creates no new currents below a minimum.

    Per session (higher priority classes first, then the earliest, then the most
    energy in such currents), the energy
    of those currents is gathered into its earliest of them, as few as carry it
    at the minimum: those are turned on (the minimum becomes their lower bound)
    where every circuit row still holds with every current at its lower bound
    (so the programme stays feasible), the others off (0 becomes their upper bound).
    What the session still needs then comes first, at the minimum, rather than
    as trickles that are never given. The last one turned on may carry more
    than the session needs: its need row gets the difference (less than one
    slot at the minimum), the vehicle stops drawing once full. Returns whether
    any bound changed.
    """
    crumbs: dict[int, list[int]] = defaultdict(list)
    for i in sorted(range(len(x)), key=lambda i: lp.slot[i]):
        least = lp.min_amps[i]
        if least <= 0:
            continue
        if x[i] <= _TOL:
            lp.ub[i] = 0.0  # off stays off ...
        elif x[i] >= least - _NOISE:
            lp.lb[i] = least  # ... and on stays on: the second solve makes no new crumbs
        else:
            crumbs[lp.session[i]].append(i)
    col_rows = _column_rows(lp)
    at_lb = [0.0] * len(lp.rhs)  # each row's load with every current at its lower bound
    for i, rows in enumerate(col_rows):
        for r, coef in rows:
            at_lb[r] += coef * lp.lb[i]

    def rank(cols: list[int]) -> tuple[int, int, float]:
        crumb_kwh = sum(x[i] * lp.kwh_per_amp[i] for i in cols)
        return (-lp.priority[cols[0]], lp.slot[cols[0]], -crumb_kwh)

    order = sorted(crumbs.values(), key=rank)
    for columns in order:
        energy: dict[int, float] = defaultdict(float)
        for i in columns:
            for s, per_amp in lp.shares[i]:
                energy[s] += x[i] * per_amp
        first = lp.session[columns[0]]
        carried: dict[int, float] = defaultdict(float)
        for i in columns:
            least = lp.min_amps[i]
            fits = least <= lp.ub[i] and all(
                r in lp.need_rows
                or at_lb[r] + coef * least <= lp.rhs[r] + _TOL * max(1.0, lp.rhs[r])
                for r, coef in col_rows[i]
            )  # a new lower bound that breaks no circuit row keeps the programme feasible
            if carried[first] < energy[first] - _TOL and fits:
                lp.lb[i] = least
                lp.turned.append(i)
                for r, coef in col_rows[i]:
                    at_lb[r] += coef * least
                for s, per_amp in lp.shares[i]:
                    carried[s] += least * per_amp
            else:
                lp.ub[i] = 0.0
        for s, most in carried.items():
            row = lp.need_row.get(s)
            if row is not None and most > energy[s]:
                lp.relaxed[row] = lp.relaxed.get(row, 0.0) + most - energy[s]
                lp.rhs[row] += most - energy[s]
    return bool(crumbs)


def _column_rows(lp: _Programme) -> list[list[tuple[int, float]]]:
    """Per column, the rows it is in with its coefficient."""
    col_rows: list[list[tuple[int, float]]] = [[] for _ in lp.ub]
    for r, i, v in zip(lp.rows, lp.cols, lp.vals, strict=True):
        col_rows[i].append((r, v))
    return col_rows


def _all_off(lp: _Programme) -> None:
    """Undo :func:`_minimum_pass`'s turning on: those currents are 0 instead."""
    for i in lp.turned:
        lp.lb[i] = 0.0
        lp.ub[i] = 0.0
    for row, more in lp.relaxed.items():
        lp.rhs[row] -= more
    lp.turned.clear()
    lp.relaxed.clear()


class ExactOptimiser:
    """Energy by departure, then fairness, as linear programmes (a :class:`Planner`).

    ``early_bonus`` is the extra weight of energy delivered at the window's
    start (:data:`EARLY_BONUS`; 0 for an offline optimum where every vehicle is
    known); ``fairness`` turns the second objective off when False.
    """

    name = "optimal"

    def __init__(self, *, early_bonus: float = EARLY_BONUS, fairness: bool = True) -> None:
        if not (isinstance(early_bonus, int | float) and 0 <= early_bonus <= 0.1):
            raise QueryError(
                f"early_bonus {early_bonus!r} must lie within 0 .. 0.1",
                field="early_bonus",
                rule="ExactOptimiser",
            )
        self.early_bonus = float(early_bonus)
        self.fairness = fairness

    def plan(self, problem: PlanningProblem) -> list[dict[EvseKey, float]]:
        """Per slot, each demand's current: the lexicographic optimum, in tenths of an ampere."""
        _size(problem)
        np, _, _ = _solver()
        lp = _build(problem, self.early_bonus)
        out: list[dict[EvseKey, float]] = [dict(p) for p in lp.pinned]
        if lp.overloaded or not lp.ub:
            return out  # nothing to choose, or pinned demands alone overload: balance refuses
        x: Sequence[float] = self._lexicographic(lp)
        if _minimum_pass(lp, x):
            x = self._on_or_off(lp, x)
        amps = _round(lp, np.asarray(x))
        for i, v in enumerate(amps):
            if v > 0:
                out[lp.slot[i]][lp.key[i]] = v
        return _at_least_the_default(problem, out)

    def relaxed(self, problem: PlanningProblem) -> dict[int, float]:
        """The LP relaxation: kWh per session index at the lexicographic optimum (no minimum
        currents, no rounding): an upper bound on what any plan of the window delivers."""
        _size(problem)
        lp = _build(problem, self.early_bonus)
        energy = dict(lp.pinned_kwh)
        if lp.overloaded or not lp.ub:
            return energy
        x = self._lexicographic(lp)
        for i, v in enumerate(x):
            for s, per_amp in lp.shares[i]:
                energy[s] = energy.get(s, 0.0) + v * per_amp
        return energy

    # ---------------------------------------------------------------- programmes

    def _on_or_off(self, lp: _Programme, first: Sequence[float]) -> Sequence[float]:
        """Solve again with the currents below their minimum turned on, and with them off;
        keep the solution that delivers more energy, class by class from the highest (the
        turned-on one on a tie). ``lp`` is left with the kept solution's bounds."""
        on: Sequence[float] | None = None
        with contextlib.suppress(_Infeasible):
            on = self._lexicographic(lp)
        state = (list(lp.lb), list(lp.ub), list(lp.rhs))
        _all_off(lp)
        off: Sequence[float] = first
        with contextlib.suppress(_Infeasible):  # else the first solution, those currents 0
            off = self._lexicographic(lp)
        if on is not None and _score(lp, on) >= _score(lp, off):
            lp.lb, lp.ub, lp.rhs = state
            return on
        return off

    def _lexicographic(self, lp: _Programme) -> list[float]:
        """Energy per priority class from the highest down, then fairness."""
        np, _, sparse = _solver()
        n = len(lp.ub)
        a = sparse.csr_matrix((lp.vals, (lp.rows, lp.cols)), shape=(len(lp.rhs), n))
        b = np.asarray(lp.rhs, dtype=float)
        value = np.asarray(lp.kwh_per_amp) * np.asarray(lp.weight)
        priority = np.asarray(lp.priority)
        kept: list[tuple[Any, float]] = []  # (objective row, its optimum)
        x = np.zeros(n)
        for cls in sorted(set(lp.priority), reverse=True):
            objective = np.where(priority == cls, value, 0.0)
            x = _solve(-objective, a, b, lp.lb, lp.ub, kept)
            best = float(objective @ x)
            kept.append((objective, best))
        if self.fairness:
            x = _fair(lp, a, b, kept, x)
        return [float(v) for v in x]


class _Infeasible(Exception):
    """The programme has no solution (currents turned on by the minimum pass do not fit)."""


def _score(lp: _Programme, x: Sequence[float]) -> tuple[float, ...]:
    """Energy actually delivered (each session's capped at its need), per priority class from
    the highest, rounded to 10^-6 kWh so that solver noise does not decide."""
    served: dict[int, float] = defaultdict(float)
    for i, shares in enumerate(lp.shares):
        for s, per_amp in shares:
            served[s] += float(x[i]) * per_amp
    classes: dict[int, float] = dict.fromkeys(lp.priority, 0.0)
    priority_of = {lp.session[i]: lp.priority[i] for i in range(len(lp.session))}
    for s, kwh in served.items():
        classes[priority_of.get(s, 0)] += min(kwh, lp.need_room.get(s, math.inf))
    return tuple(round(classes[c], 6) for c in sorted(classes, reverse=True))


def _solve(
    c: Any,
    a: Any,
    b: Any,
    lb: Sequence[float],
    ub: Sequence[float],
    kept: Sequence[tuple[Any, float]],
) -> Any:
    """``min c.x`` s.t. ``a x <= b``, ``lb <= x <= ub``, every kept objective at its optimum."""
    np, linprog, sparse = _solver()
    if kept:
        extra = sparse.csr_matrix(np.vstack([-row for row, _ in kept]))
        a = sparse.vstack([a, extra], format="csr")
        b = np.concatenate([b, [-(best - ENERGY_SLACK * abs(best)) for _, best in kept]])
    bounds = np.column_stack([np.asarray(lb, dtype=float), np.asarray(ub, dtype=float)])
    if a.shape[0] == 0:
        a, b = None, None
    result = linprog(c, A_ub=a, b_ub=b, bounds=bounds, method="highs")
    if result.status == 2:
        raise _Infeasible
    if result.status != 0 or result.x is None:
        raise QueryError(
            f"the optimiser's solver found no optimum: {result.message}",
            field="policy",
            rule="ExactOptimiser",
        )
    return np.clip(result.x, np.asarray(lb, dtype=float), np.asarray(ub, dtype=float))


def _fair(lp: _Programme, a: Any, b: Any, kept: Sequence[tuple[Any, float]], x: Any) -> Any:
    """Maximise the least fraction of deliverable need served, keeping the energy optima.

    A session's deliverable need is its need, or what its caps allow within the
    window if that is less; one whose optimum already serves it all is left out.
    """
    np, _, sparse = _solver()
    n = len(lp.ub)
    served: dict[int, float] = defaultdict(float)
    deliverable: dict[int, float] = defaultdict(float)
    columns: dict[int, list[int]] = defaultdict(list)
    for i, shares in enumerate(lp.shares):
        if lp.ub[i] > 0:
            for s, per_amp in shares:
                served[s] += float(x[i]) * per_amp
                deliverable[s] += lp.ub[i] * per_amp
                columns[s].append(i)
    targets = {}
    for s, most in deliverable.items():
        target = min(most, lp.need_room.get(s, math.inf))
        if target > 1e-6:
            targets[s] = target
    if not targets or all(served[s] >= t * (1 - 1e-6) for s, t in targets.items()):
        return x  # everyone gets all they can: nothing to make fairer
    rows, cols, vals = [], [], []
    for r, (s, target) in enumerate(targets.items()):
        for i in columns[s]:
            rows.append(r)
            cols.append(i)
            vals.append(-dict(lp.shares[i])[s])
        rows.append(r)
        cols.append(n)
        vals.append(target)
    fair_rows = sparse.csr_matrix((vals, (rows, cols)), shape=(len(targets), n + 1))
    wide = sparse.hstack([a, sparse.csr_matrix((a.shape[0], 1))], format="csr")
    a2 = sparse.vstack([wide, fair_rows], format="csr")
    b2 = np.concatenate([b, np.zeros(len(targets))])
    total = sum(best for _, best in kept) or 1.0
    energy = sum(row for row, _ in kept)
    c = np.concatenate([-_FAIR_TIE * energy / total, [-1.0]])
    kept2 = [(np.concatenate([row, [0.0]]), best) for row, best in kept]
    y = _solve(c, a2, b2, [*lp.lb, 0.0], [*lp.ub, 1.0], kept2)
    return y[:n]


def _round(lp: _Programme, x: Any) -> list[float]:
    """Tenths of an ampere within every circuit row, 0 below the minimum, topped up.

    1. Each current is rounded down to 0.1 A (one within :data:`_SNAP` below a
       tenth is that tenth); one below its minimum becomes 0.
    2. A row the snapping broke is repaired by lowering its largest members.
    3. Finishing: the earliest current of a session that the LP left between 0
       and its minimum (the crumb that completes its need) is raised to the
       minimum where every circuit row it loads has room; its need row may then
       be exceeded, by less than one slot at the minimum current: the limit is
       a ceiling and the vehicle stops drawing once full.
    4. Each current that lost something to the rounding gets 0.1 A more where it
       and every circuit row it is in have room, and its need row is not yet met.

    Circuit rows hold throughout: ``A x <= b`` on every circuit phase and power row.
    """
    n = len(lp.ub)
    col_rows = _column_rows(lp)
    amps = []
    crumbs: dict[int, int] = {}  # session -> its earliest column below the minimum
    for i in range(n):
        v = min(float(x[i]), lp.ub[i])
        tenth = _floor_tenth(v + _SNAP)
        if tenth > lp.ub[i] * (1 + 1e-12):
            tenth = _floor_tenth(v)
        if tenth > 0 and tenth >= lp.min_amps[i] - _TOL:
            amps.append(tenth)
            continue
        amps.append(0.0)
        if v > _NOISE and lp.session[i] not in crumbs:
            crumbs[lp.session[i]] = i
    slack = list(lp.rhs)
    for i, v in enumerate(amps):
        for r, coef in col_rows[i]:
            slack[r] -= coef * v
    for r in range(len(slack)):
        _repair(lp, r, amps, slack, col_rows)
    for i in crumbs.values():
        least = math.ceil(lp.min_amps[i] * 10.0 * (1 - 1e-12)) / 10.0
        if 0 < least <= lp.ub[i] and _room(lp, i, least, slack, col_rows):
            _raise(i, least, amps, slack, col_rows)
    order = sorted(range(n), key=lambda i: (lp.slot[i], amps[i] - float(x[i])))
    for i in order:
        _fill(lp, i, amps, slack, col_rows)
    return amps


def _fill(
    lp: _Programme,
    i: int,
    amps: list[float],
    slack: list[float],
    col_rows: list[list[tuple[int, float]]],
) -> None:
    """Give column ``i`` what its circuit rows and its need row still leave, in tenths of an
    ampere (the need row rounded up to the next tenth: less than 0.1 A beyond it); a need
    smaller than the minimum gets the minimum where the circuit rows leave it (the last
    crumb: less than one slot at the minimum beyond the need). Nothing below the minimum."""
    room = lp.ub[i] - amps[i]  # what the circuit rows and the cap leave
    need = math.inf  # what the need row leaves, up to the next tenth
    for r, coef in col_rows[i]:
        if coef <= 0:
            continue
        if r in lp.need_rows:
            if slack[r] <= _TOL * max(1.0, lp.rhs[r]):
                return
            need = min(need, math.ceil(slack[r] / coef * 10.0) / 10.0)
        else:
            room = min(room, slack[r] / coef)
    new = _floor_tenth(amps[i] + min(room, need))
    least = math.ceil(lp.min_amps[i] * 10.0 * (1 - 1e-12)) / 10.0
    if new < least <= _floor_tenth(amps[i] + room):
        new = least  # a last crumb at the minimum: the vehicle stops drawing once full
    if new > lp.ub[i] * (1 + 1e-12):
        new = _floor_tenth(lp.ub[i])
    if new <= amps[i] or new < lp.min_amps[i] - _TOL:
        return
    for r, coef in col_rows[i]:
        if r not in lp.need_rows and slack[r] - coef * (new - amps[i]) < -_TOL * max(
            1.0, lp.rhs[r]
        ):
            return  # float noise of the floor: leave it
    _raise(i, new, amps, slack, col_rows)


def _room(
    lp: _Programme, i: int, more: float, slack: list[float], col_rows: list[list[tuple[int, float]]]
) -> bool:
    """Whether column ``i`` may carry ``more`` A: every circuit row has room, its need row is
    not yet met."""
    for r, coef in col_rows[i]:
        if r in lp.need_rows:
            if slack[r] <= _TOL * max(1.0, lp.rhs[r]):
                return False
        elif slack[r] - more * coef < -_TOL * max(1.0, lp.rhs[r]):
            return False
    return True


def _raise(
    i: int,
    new: float,
    amps: list[float],
    slack: list[float],
    col_rows: list[list[tuple[int, float]]],
) -> None:
    for r, coef in col_rows[i]:
        slack[r] -= coef * (new - amps[i])
    amps[i] = new


def _repair(
    lp: _Programme,
    r: int,
    amps: list[float],
    slack: list[float],
    col_rows: list[list[tuple[int, float]]],
) -> None:
    """Lower row ``r``'s largest members by 0.1 A (to 0 below their minimum) until it holds."""
    while slack[r] < -_TOL * max(1.0, lp.rhs[r]):
        members = [
            i for i in range(len(amps)) if amps[i] > 0 and any(q == r for q, _ in col_rows[i])
        ]
        i = max(members, key=lambda j: amps[j])
        lower = round(amps[i] - 0.1, 1)
        new = lower if lower >= lp.min_amps[i] - _TOL else 0.0
        for q, coef in col_rows[i]:
            slack[q] += coef * (amps[i] - new)
        amps[i] = new


def _floor_tenth(value: float) -> float:
    """Round down to 0.1 A (as balance does; float noise of 10^-12 relative rounds up)."""
    return math.floor(value * 10.0 * (1.0 + 1e-12)) / 10.0


def _at_least_the_default(
    problem: PlanningProblem, out: list[dict[EvseKey, float]]
) -> list[dict[EvseKey, float]]:
    """The optimiser's plan, or the default policy's when it delivers more energy (OP5).

    Minimum currents make the problem integer and the rounding pass is a heuristic; within
    one priority class the default's plan (never below max-min, PL6) is a candidate, so the
    optimiser is never below the default, nor below equal shares.
    """
    if len({s.priority for s in problem.sessions}) > 1:
        return out
    judge = _Planner(problem, False)
    _, energy = judge.capped(out)
    other, more = judge.capped(DeadlineAware().plan(problem))
    return other if more > energy * (1.0 + 1e-9) + 1e-9 else out

"""A closed-loop simulator: :func:`control` every ``step`` seconds against a vehicle model.

Operators size a cabinet or compare policies with it; the benchmark runs it. Every ``step``
seconds from ``start``, the simulator tells the controller what a CSMS would know (the
sessions that have arrived, the measured currents, energy delivered, plugged in or not, still
drawing or not), calls :func:`~ocpp_schedule.site.control` with the previous result, and
"sends" the plan: an EVSE holds the limits of the last plan that sent it (the allocation over
the plan's window, then its safe tail for ever). Between calls, each vehicle draws the least
of what its pile holds and what it accepts (:class:`VehicleModel`); it stops drawing when its
need is met and leaves at its departure (docs/semantics.md CT8-CT10).

Every instant at which any draw or limit changes is checked: the actual draws, summed up
the supply tree by phase rotation, against every circuit phase and power limit in force.
Violations are counted and reported, never hidden. The CPU time of each control call is
measured with :func:`time.process_time` (reported, never used to decide anything).
"""

from __future__ import annotations

import heapq
import math
import operator
import time
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic import ConfigDict, Field

from ..errors import QueryError
from ..wire._docstrings import DocumentedModel
from ..wire._timestamps import epoch_or_datetime, from_epoch, to_epoch
from ._allocation import JOULES_PER_KWH, EvseKey
from ._control import ControlResult, EvseMeasurement, SiteState, control
from ._model import MAX_ENERGY_KWH, Evse, Pile, Session, Site
from ._outcomes import SessionTimes
from ._planning import Planner
from ._policies import Policy
from ._timelines import check_circuit_steps, check_size, circuit_timeline

__all__ = [
    "MAX_SIMULATION_CELLS",
    "SimulatedSession",
    "SimulationResult",
    "StepRecord",
    "VehicleModel",
    "LimitViolation",
    "simulate",
]

MAX_SIMULATION_CELLS = 20_000_000
"""At most this many (instants x EVSEs) per simulation, checked before any work: instants are
one per ``min(step, TAPER_STEP)`` seconds, two per session and every circuit step of every day
(an upper estimate of where draws are evaluated; control calls are one per ``step``)."""
TAPER_STEP = 60
"""While a vehicle tapers, its accepted current is re-evaluated at least every this many s."""
MAX_VIOLATION_RECORDS = 1000
"""At most this many violations are kept as records; all are counted."""
_MET_KWH = 1e-6
_REL_TOL = 1e-9


class VehicleModel(DocumentedModel):
    """How a simulated vehicle accepts current (A per phase).

    Constant current up to the limit offered and its own maximum (the session's ``max_amps``,
    else the EVSE's hardware limit); nothing below the session's ``min_amps``. With a need
    given as state of charge (``soc_percent``, ``battery_kwh``), above ``taper_soc_percent``
    the accepted current falls linearly to ``floor_fraction`` of its maximum at 100 %.
    Without those fields: constant current only.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")  # descriptions: DocumentedModel

    taper_soc_percent: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)] = 80.0
    """The state of charge (%) above which the vehicle tapers; 100: never."""
    floor_fraction: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = 0.1
    """The fraction of its maximum the vehicle still accepts at 100 %."""

    def accepts(self, session: Session, evse: Evse, delivered_kwh: float) -> float:
        """The most current per phase (A) the vehicle accepts after ``delivered_kwh``."""
        most = min(evse.max_amps, math.inf if session.max_amps is None else session.max_amps)
        soc = _soc(session, delivered_kwh)
        if soc is None or soc <= self.taper_soc_percent or self.taper_soc_percent >= 100:
            return most
        gone = min(1.0, (soc - self.taper_soc_percent) / (100.0 - self.taper_soc_percent))
        return most * (1.0 - (1.0 - self.floor_fraction) * gone)

    def tapers(self, session: Session, delivered_kwh: float) -> bool:
        """Whether the accepted current changes with the state of charge right now."""
        soc = _soc(session, delivered_kwh)
        return soc is not None and self.taper_soc_percent < 100 and soc > self.taper_soc_percent


def _soc(session: Session, delivered_kwh: float) -> float | None:
    if session.soc_percent is None or session.battery_kwh is None:
        return None
    return session.soc_percent + 100.0 * delivered_kwh / session.battery_kwh


@dataclass(frozen=True)
class LimitViolation:
    """A circuit phase or power above its limit under the actual draws, from ``at`` to ``end``."""

    circuit: str
    """The circuit's id."""
    at_epoch: int
    """Epoch seconds: where it starts."""
    end_epoch: int
    """Epoch seconds: where the draws or limits next change."""
    what: str
    """``L1``, ``L2``, ``L3`` (circuit phases, A) or ``power`` (W)."""
    load: float
    """The load (A or W)."""
    limit: float
    """The limit (A or W)."""

    @property
    def at(self) -> datetime:
        """Where it starts, a UTC datetime (``at_epoch``: epoch seconds)."""
        return from_epoch(self.at_epoch)

    @property
    def end(self) -> datetime:
        """Where the draws or limits next change, a UTC datetime (``end_epoch``: epoch seconds)."""
        return from_epoch(self.end_epoch)

    @property
    def excess(self) -> float:
        """How far above the limit, relative to it (0.1: 10 % over)."""
        return (self.load - self.limit) / max(self.limit, 1e-9)


@dataclass(frozen=True)
class SimulatedSession(SessionTimes):
    """What one session got in the simulation."""

    pile: str
    """The pile's id."""
    evse: int
    """The EVSE's id."""
    transaction_id: str
    """Its transaction id (caller-given, or the digits the library models it with)."""
    arrive: datetime
    """Its arrival (UTC)."""
    leave: datetime
    """Its true departure (UTC)."""
    need_kwh: float | None
    """Its need at arrival (kWh); None when unknown."""
    delivered_kwh: float
    """The energy it drew (kWh)."""
    done_at: datetime | None
    """When its need was met (UTC); None when not met or unknown."""
    unmet_kwh: float | None
    """``need_kwh - delivered_kwh`` (>= 0); None when the need is unknown."""

    @property
    def met(self) -> bool | None:
        """Whether its need was met by its departure; None when the need is unknown."""
        return None if self.need_kwh is None else self.done_at is not None


@dataclass(frozen=True)
class StepRecord:
    """One control call of the simulation."""

    at_epoch: int
    """Epoch seconds of the call."""
    cpu_ms: float
    """CPU time of the :func:`control` call (ms)."""
    sent: int
    """How many EVSEs its plan sent profiles to."""
    payloads: int
    """How many SetChargingProfile payloads it sent."""
    flags: int
    """How many measurements it flagged above their limit."""

    @property
    def at(self) -> datetime:
        """When the call was made, a UTC datetime (``at_epoch``: epoch seconds)."""
        return from_epoch(self.at_epoch)


@dataclass(frozen=True)
class SimulationResult:
    """What :func:`simulate` measured."""

    start_epoch: int
    """Epoch seconds: the first control call."""
    end_epoch: int
    """Epoch seconds: where the simulation stops."""
    step: int
    """Seconds between control calls."""
    policy: str
    """The policy's name."""
    replan: bool
    """False: only the first call's plan was sent; its safe tail held afterwards."""
    sessions: tuple[SimulatedSession, ...]
    """Every session that met ``[start, end)``, in the site's order."""
    violations: tuple[LimitViolation, ...]
    """The first :data:`MAX_VIOLATION_RECORDS` violations, in time order."""
    violation_count: int
    """How many (interval, circuit, phase or power) violations there were."""
    worst: LimitViolation | None
    """The violation with the largest relative excess; None without any."""
    cpu_ms: tuple[float, ...]
    """CPU time of each control call (ms)."""
    records: tuple[StepRecord, ...] = ()
    """Per control call, when asked for (``records=True``)."""

    @property
    def start(self) -> datetime:
        """The first control call, a UTC datetime (``start_epoch``: epoch seconds)."""
        return from_epoch(self.start_epoch)

    @property
    def end(self) -> datetime:
        """Where the simulation stops, a UTC datetime (``end_epoch``: epoch seconds)."""
        return from_epoch(self.end_epoch)

    @property
    def energy_kwh(self) -> float:
        """Energy delivered in total (kWh)."""
        return sum(s.delivered_kwh for s in self.sessions)

    @property
    def need_kwh(self) -> float:
        """The sum of the known needs (kWh)."""
        return sum(s.need_kwh for s in self.sessions if s.need_kwh is not None)

    @property
    def unmet_kwh(self) -> float:
        """The sum of the unmet energy of sessions with a known need (kWh)."""
        return sum(s.unmet_kwh for s in self.sessions if s.unmet_kwh is not None)

    @property
    def demands(self) -> int:
        """How many sessions had a known need."""
        return sum(1 for s in self.sessions if s.need_kwh is not None)

    @property
    def demands_met(self) -> int:
        """How many of them had it met by their departure."""
        return sum(1 for s in self.sessions if s.met)

    @property
    def met_percent(self) -> float:
        """``demands_met`` in % of ``demands`` (100 without any)."""
        return 100.0 if not self.demands else 100.0 * self.demands_met / self.demands

    @property
    def mean_cpu_ms(self) -> float:
        """Mean CPU time per control call (ms)."""
        return sum(self.cpu_ms) / len(self.cpu_ms) if self.cpu_ms else 0.0

    @property
    def max_cpu_ms(self) -> float:
        """Longest CPU time of a control call (ms)."""
        return max(self.cpu_ms, default=0.0)


SessionsArg = Mapping[EvseKey, Sequence[Session]] | None


def simulate(
    site: Site,
    sessions: SessionsArg = None,
    policy: Policy | Planner | None = None,
    step: int = 300,
    *,
    start: datetime | int | None = None,
    end: datetime | int | None = None,
    vehicle: VehicleModel | None = None,
    horizon: int | None = None,
    replan: bool = True,
    hide_departures: bool = False,
    records: bool = False,
) -> SimulationResult:
    """Run :func:`control` every ``step`` seconds against simulated vehicles (CT8-CT10).

    ``sessions`` None simulates the site's own sessions; a mapping ``{(pile id, EVSE id):
    [Session, ...]}`` replaces every EVSE's sessions (an EVSE it does not name gets none).
    ``start`` defaults to the first arrival, ``end`` to the last departure. The controller
    learns a session when it arrives (at the first call at or after its arrival); with
    ``hide_departures`` it is told an estimated departure (the session's ``expected_dwell_s``
    or the default dwell) instead of the true one, and learns of the departure when the
    vehicle unplugs. ``replan=False`` sends only the first call's plan (the controller is
    then told every session at once) and shows its safe tail holding afterwards.
    ``horizon`` is passed to :func:`control`, ``step`` is also its resolution.

    Sizes are bounded before the work: (instants x EVSEs) at most
    :data:`MAX_SIMULATION_CELLS` (:class:`~ocpp_schedule.QueryError`).
    """
    truth = _with_sessions(site, sessions)
    if isinstance(step, bool) or not isinstance(step, int) or step <= 0:
        raise QueryError("step must be a positive number of seconds", field="step")
    if vehicle is not None and not isinstance(vehicle, VehicleModel):
        raise QueryError("vehicle must be a VehicleModel", field="vehicle")
    model = vehicle or VehicleModel()
    begin, stop = _window(truth, start, end)
    check_circuit_steps(truth, begin, stop)
    check_size(
        "the simulation (instants x EVSEs)",
        _instants(truth, begin, stop, step) * max(1, truth.evse_count()),
        MAX_SIMULATION_CELLS,
        field="end",
    )
    run = _Run(truth, model, policy, step, horizon, replan, hide_departures, begin, stop)
    return run.go(records)


def _instants(site: Site, begin: int, stop: int, step: int) -> int:
    """An upper estimate of the instants the draws are evaluated at: one per ``step`` and per
    taper re-evaluation, two per session, the circuit steps of every day."""
    sessions = sum(len(e.sessions) for p in site.piles for e in p.evses)
    days = (stop - begin) // 86400 + 2
    steps = sum(days * (len(c.steps) + 1) for c, _ in site.grid.walk())
    return (stop - begin) // min(step, TAPER_STEP) + 1 + 2 * sessions + steps


def _with_sessions(site: Site, sessions: SessionsArg) -> Site:
    """The site with ``sessions`` placed on its EVSEs (validated as a site would be)."""
    if not isinstance(site, Site):
        raise QueryError("site must be a Site", field="site")
    if sessions is None:
        return site
    if not isinstance(sessions, Mapping):
        raise QueryError(
            "sessions must map (pile id, EVSE id) to a sequence of Session", field="sessions"
        )
    known = {(p.id, e.id) for p in site.piles for e in p.evses}
    for key, placed in sessions.items():
        if key not in known:
            raise QueryError(
                f"sessions names {key!r}, which is not an EVSE of the site", field="sessions"
            )
        if isinstance(placed, str | bytes) or not all(isinstance(s, Session) for s in placed):
            raise QueryError(f"sessions[{key!r}] must be a sequence of Session", field="sessions")
    from pydantic import ValidationError

    from ._model import SiteError

    try:
        piles = tuple(
            Pile.model_validate(
                {
                    **dict(pile),
                    "evses": tuple(
                        Evse.model_validate(
                            {**dict(evse), "sessions": tuple(sessions.get((pile.id, evse.id), ()))}
                        )
                        for evse in pile.evses
                    ),
                }
            )
            for pile in site.piles
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ")
        raise SiteError(msg, field=loc or None, rule="sessions placed on the site") from None
    return site.model_copy(update={"piles": piles})


def _window(
    site: Site, start: datetime | int | None, end: datetime | int | None
) -> tuple[int, int]:
    every = [s for p in site.piles for e in p.evses for s in e.sessions]
    if start is None:
        if not every:
            raise QueryError("the site has no sessions: give start", field="start")
        begin = min(to_epoch(s.arrive) for s in every)
    else:
        begin = epoch_or_datetime(start, "start")
    if end is None:
        if not every:
            raise QueryError("the site has no sessions: give end", field="end")
        stop = max(to_epoch(s.leave) for s in every)
    else:
        stop = epoch_or_datetime(end, "end")
    if stop <= begin:
        raise QueryError("end must be after start", field="end")
    return begin, stop


@dataclass
class _Car:
    """One session's truth and its state in the run."""

    pile: Pile
    evse: Evse
    session: Session
    arrive: int
    leave: int
    view: Session
    delivered: float = 0.0
    done_at: int | None = None
    drawn: float = 0.0
    phases: int = 0
    told_gone: bool = False

    @property
    def key(self) -> EvseKey:
        return (self.pile.id, self.evse.id)

    def need(self) -> float | None:
        return self.session.need_kwh

    def is_done(self) -> bool:
        need = self.need()
        return need is not None and self.delivered >= need - _MET_KWH


class _Run:
    """The state of one simulation (kept out of :func:`simulate` for short functions)."""

    def __init__(
        self,
        truth: Site,
        model: VehicleModel,
        policy: Policy | Planner | None,
        step: int,
        horizon: int | None,
        replan: bool,
        hide: bool,
        begin: int,
        stop: int,
    ) -> None:
        self.truth = truth
        self.model = model
        self.policy = policy
        self.step = step
        self.horizon = horizon
        self.replan = replan
        self.begin = begin
        self.stop = stop
        self.volts = truth.voltage
        self.cars = [
            _Car(p, e, s, to_epoch(s.arrive), to_epoch(s.leave), _view(s, hide))
            for p in truth.piles
            for e in p.evses
            for s in sorted(e.sessions, key=lambda x: x.arrive)
            if to_epoch(s.arrive) < stop and to_epoch(s.leave) > begin
        ]
        self.held: dict[EvseKey, ControlResult] = {}
        self.previous: ControlResult | None = None
        self.last_call: int | None = None
        self.paths = truth.paths()
        self.circuit_of = {p.id: p.circuit for p in truth.piles}
        zone = truth.zone
        self.limits = {
            c.id: circuit_timeline(c, zone, begin, stop, truth.voltage)
            for c, _ in truth.grid.walk()
        }
        self.violations: list[LimitViolation] = []
        self.evse_copies: dict[EvseKey, Evse] = {}
        self.pile_copies: dict[str, Pile] = {}
        self.site_copy: Site | None = None
        self.count = 0
        self.worst: LimitViolation | None = None

    # -------------------------------------------------------------- the loop

    def go(self, keep_records: bool) -> SimulationResult:
        calls = list(range(self.begin, self.stop, self.step)) if self.replan else [self.begin]
        times: list[int] = [*calls, *(c.arrive for c in self.cars), *(c.leave for c in self.cars)]
        for pieces in self.limits.values():
            times.extend(b for _, b, _, _ in pieces)
        heapq.heapify(times)
        pending = set(calls)
        cpu: list[float] = []
        steps: list[StepRecord] = []
        t = self.begin
        while t < self.stop:
            if t in pending:
                record = self._control(t)
                cpu.append(record.cpu_ms)
                if keep_records:
                    steps.append(record)
            while times and times[0] <= t:
                heapq.heappop(times)
            nxt = min(times[0] if times else self.stop, self.stop, self._next_change(t))
            if any(self._tapers(c, t) for c in self.cars):
                nxt = min(nxt, t + TAPER_STEP)
            self._advance(t, nxt)
            t = nxt
        return SimulationResult(
            start_epoch=self.begin,
            end_epoch=self.stop,
            step=self.step,
            policy=self.previous.allocation.policy if self.previous is not None else "",
            replan=self.replan,
            sessions=tuple(self._outcome(c) for c in self.cars),
            violations=tuple(self.violations),
            violation_count=self.count,
            worst=self.worst,
            cpu_ms=tuple(cpu),
            records=tuple(steps),
        )

    def _next_change(self, t: int) -> int:
        """The first slot edge after ``t`` of any plan an EVSE holds (its end: the tail)."""
        nxt = self.stop
        for result in {r.at_epoch: r for r in self.held.values()}.values():  # one per call
            bounds = result.allocation.boundaries
            i = bisect_right(bounds, t)
            if i < len(bounds):
                nxt = min(nxt, bounds[i])
        return nxt

    def _tapers(self, car: _Car, t: int) -> bool:
        return (
            car.arrive <= t < car.leave
            and not car.is_done()
            and self.model.tapers(car.session, car.delivered)
        )

    # -------------------------------------------------------------- control

    def _control(self, t: int) -> StepRecord:
        """One call: what the CSMS knows at ``t`` in, the plan out, its EVSEs now holding it."""
        site, state = self._known(t)
        began = time.process_time()
        result = control(
            site,
            state,
            policy=self.policy,
            horizon=self.horizon,
            resolution=self.step,
            previous=self.previous,
        )
        spent = (time.process_time() - began) * 1000.0
        for key in result.changed:
            self.held[key] = result
        self.previous = result
        self.last_call = t
        for car in self.cars:
            if car.leave <= t and not car.told_gone:
                # The CSMS knows it has gone (StopTransaction): as control() ended it.
                car.told_gone = True
                ended = min(to_epoch(car.view.leave), t) if car.view.departure_known else t
                car.view = car.view.model_copy(update={"leave": from_epoch(ended)})
        return StepRecord(t, spent, len(result.changed), len(result.plan.steps), len(result.flags))

    def _known(self, t: int) -> tuple[Site, SiteState]:
        """The site as the CSMS knows it at ``t`` (arrived sessions, its views) and the state."""
        last = self.last_call
        seen = [
            c
            for c in self.cars
            if (c.arrive <= t or not self.replan)
            and (last is None or not c.told_gone or to_epoch(c.view.leave) > last)
        ]
        by_evse: dict[EvseKey, list[_Car]] = {}
        for car in seen:
            by_evse.setdefault(car.key, []).append(car)
        measurements: list[EvseMeasurement] = []
        for cars in by_evse.values():
            newest = max(cars, key=lambda c: c.arrive)
            for car in cars:
                if car is not newest and to_epoch(car.view.leave) > newest.arrive:
                    car.view = car.view.model_copy(update={"leave": from_epoch(newest.arrive)})
            if newest.arrive <= t:
                measurements.append(self._measure(newest, t))
        return self._site(by_evse), SiteState(at=from_epoch(t), evses=tuple(measurements))

    def _site(self, by_evse: Mapping[EvseKey, list[_Car]]) -> Site:
        """The site with each EVSE's sessions as the CSMS knows them (``by_evse``: its cars).

        An EVSE whose views are the same objects as at the last call is the same copy, and so
        is a pile whose EVSEs all are, and the site when every pile is (all immutable): a
        step copies only what changed, not 1,000 EVSEs.
        """
        piles: list[Pile] = []
        for pile in self.truth.piles:
            evses: list[Evse] = []
            for evse in pile.evses:
                key = (pile.id, evse.id)
                views = tuple(c.view for c in by_evse.get(key, ()))
                known = self.evse_copies.get(key)
                if known is None or not _same(known.sessions, views):
                    known = self.evse_copies[key] = evse.model_copy(update={"sessions": views})
                evses.append(known)
            copy = self.pile_copies.get(pile.id)
            if copy is None or not _same(copy.evses, evses):
                copy = self.pile_copies[pile.id] = pile.model_copy(update={"evses": tuple(evses)})
            piles.append(copy)
        if self.site_copy is None or not _same(self.site_copy.piles, piles):
            self.site_copy = self.truth.model_copy(update={"piles": tuple(piles)})
        return self.site_copy

    def _measure(self, car: _Car, t: int) -> EvseMeasurement:
        """What the CSMS knows of the car's EVSE at ``t``: meter values and status."""
        key = car.key
        offered = self._limit(key, t)[0] if key in self.held else None
        if car.leave <= t:
            return EvseMeasurement(pile=key[0], evse=key[1], plugged=False, offered_amps=offered)
        amps = [car.drawn if p < car.phases else 0.0 for p in range(3)]
        # A vehicle plugged in at this very instant has no meter value of its own yet
        # (StartTransaction): no current, not 0 A, which CT3 would take as tapering.
        return EvseMeasurement(
            pile=key[0],
            evse=key[1],
            amps=None if car.arrive == t else (amps[0], amps[1], amps[2]),
            energy_kwh=min(car.delivered, MAX_ENERGY_KWH),
            drawing=not car.is_done(),
            offered_amps=offered,
        )

    def _limit(self, key: EvseKey, t: int) -> tuple[float, int]:
        """What the EVSE's pile holds at ``t``: the last plan that sent it (0 A before any)."""
        result = self.held.get(key)
        if result is None:
            return 0.0, 0
        return result.limit_at(key, t)

    # -------------------------------------------------------------- vehicles

    def _advance(self, t: int, nxt: int) -> None:
        """Every present vehicle draws over ``[t, nxt)``; the loads at ``t`` are checked."""
        direct: dict[str, list[float]] = {}
        for car in self.cars:
            car.drawn, car.phases = 0.0, 0
            if not car.arrive <= t < car.leave or car.is_done():
                continue
            amps, phases = self._draw(car, t)
            if amps <= 0:
                continue
            car.drawn, car.phases = amps, phases
            load = direct.setdefault(self.circuit_of[car.pile.id], [0.0, 0.0, 0.0])
            for p in range(phases):
                load[car.pile.circuit_phase(p)] += amps
            self._charge(car, t, nxt, amps * phases * self.volts)
        self._check(direct, t, nxt)

    def _draw(self, car: _Car, t: int) -> tuple[float, int]:
        """The least of the limit held and what the vehicle accepts; 0 below its minimum."""
        limit, allowed = self._limit(car.key, t)
        phases: int = min(car.session.phases, car.evse.phases)
        if allowed:
            phases = min(phases, allowed)
        if limit < car.session.min_amps or limit <= 0:
            return 0.0, 0  # a limit below the minimum pauses the vehicle (IEC 61851)
        amps = min(limit, self.model.accepts(car.session, car.evse, car.delivered))
        return (amps, phases) if amps > 0 else (0.0, 0)

    def _charge(self, car: _Car, t: int, nxt: int, watts: float) -> None:
        """Add the energy of ``[t, min(nxt, leave))``, stopping where the need is met."""
        seconds = min(nxt, car.leave) - t
        energy = watts * seconds / JOULES_PER_KWH
        need = car.need()
        if need is not None and car.delivered + energy >= need - _MET_KWH:
            left = max(0.0, need - car.delivered)
            car.done_at = t + math.ceil(left * JOULES_PER_KWH / watts - 1e-6)
            car.delivered = need
            return
        car.delivered += energy

    def _check(self, direct: dict[str, list[float]], t: int, nxt: int) -> None:
        """Sum the draws up the tree; every circuit phase and power against its limit at ``t``."""
        total: dict[str, list[float]] = {}
        for circuit, load in direct.items():
            for node in self.paths[circuit]:
                row = total.setdefault(node, [0.0, 0.0, 0.0])
                for p in range(3):
                    row[p] += load[p]
        for circuit, load in total.items():
            pieces = self.limits[circuit]
            i = bisect_right(pieces, t, key=lambda piece: piece[0]) - 1
            _, _, amps, watts = pieces[max(i, 0)]
            for p in range(3):
                if load[p] > amps[p] * (1 + _REL_TOL) + _REL_TOL:
                    self._violate(LimitViolation(circuit, t, nxt, f"L{p + 1}", load[p], amps[p]))
            power = sum(load) * self.volts
            if watts is not None and power > watts * (1 + _REL_TOL) + _REL_TOL:
                self._violate(LimitViolation(circuit, t, nxt, "power", power, watts))

    def _violate(self, v: LimitViolation) -> None:
        self.count += 1
        if len(self.violations) < MAX_VIOLATION_RECORDS:
            self.violations.append(v)
        if self.worst is None or v.excess > self.worst.excess:
            self.worst = v

    def _outcome(self, car: _Car) -> SimulatedSession:
        need = car.need()
        return SimulatedSession(
            pile=car.pile.id,
            evse=car.evse.id,
            transaction_id=car.session.effective_transaction_id(car.evse.id),
            arrive=car.session.arrive,
            leave=car.session.leave,
            need_kwh=need,
            delivered_kwh=car.delivered,
            done_at=None if car.done_at is None else from_epoch(car.done_at),
            unmet_kwh=None if need is None else max(0.0, need - car.delivered),
        )


def _same(a: Sequence[object], b: Sequence[object]) -> bool:
    """Whether ``a`` and ``b`` hold the same objects, in the same order."""
    return len(a) == len(b) and all(map(operator.is_, a, b))


def _view(session: Session, hide: bool) -> Session:
    """The session as the controller is told it: with ``hide``, its departure an estimate."""
    if not hide or not session.departure_known:
        return session
    data: dict[str, Any] = session.model_dump(mode="python", exclude_unset=True)
    data.pop("leave", None)
    data.pop("departure_known", None)
    return Session.model_validate(data)

"""A site's electrical supply as a tree of circuits, and the piles that hang off it.

A :class:`Site` is a tree of :class:`Circuit` (grid connection -> distribution
cabinets -> feeders). Every circuit has a limit per phase in A and optionally a
total in W, both possibly varying over the day (steps at local times, e.g. an
evening peak). :class:`Pile` s (charging stations) hang off circuits; each has
its EVSEs, how its L1/L2/L3 are wired to the circuit's phases (phase rotation),
the SetChargingProfile requests it holds, and the vehicles that charge on it
(:class:`Session`: arrival, departure, phases, weight).

Everything is immutable and validated; :func:`load_site` reads the documented
JSON or TOML format (``docs/site-format.md``).
"""

from __future__ import annotations

import copy
import itertools
import re
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Annotated, Any, Literal

from dateutil import tz
from pydantic import (
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from ..errors import OcppScheduleError
from ..station._config import StationConfig
from ..wire._docstrings import DocumentedModel
from ..wire._enums import OcppVersion
from ..wire._models import ChargingProfile, Timestamp
from ..wire._payloads import _is_v21_profile, read_charging_profile
from ..wire._timestamps import FIRST_SECOND, LAST_SECOND, to_epoch

__all__ = [
    "PHASE_ROTATIONS",
    "Circuit",
    "Evse",
    "LimitStep",
    "Pile",
    "Session",
    "Site",
    "SiteError",
    "MAX_WEIGHT",
    "MIN_WEIGHT",
    "SESSION_MARGIN",
    "MAX_ENERGY_KWH",
    "MAX_PRIORITY",
    "DEFAULT_DWELL_S",
    "MAX_DWELL_S",
    "load_site",
    "site_zone",
]


class SiteError(OcppScheduleError, ValueError):
    """A site description is inconsistent (duplicate ids, a missing circuit, a bad file)."""


PHASE_ROTATIONS: dict[str, tuple[int, int, int]] = {
    "L1L2L3": (0, 1, 2),
    "L2L3L1": (1, 2, 0),
    "L3L1L2": (2, 0, 1),
    "L1L3L2": (0, 2, 1),
    "L2L1L3": (1, 0, 2),
    "L3L2L1": (2, 1, 0),
}
"""How a pile's L1, L2, L3 connect to its circuit's phases (0-based circuit phase indices)."""

MAX_AMPS = 1e9
"""Largest current (A) a site accepts anywhere (as the engine's largest limit)."""
MAX_WATTS = 1e9
"""Largest power limit (W) of a circuit."""
MIN_WEIGHT = 1e-3
"""Smallest session weight accepted: weights span at most a factor of 10^6."""
MAX_WEIGHT = 1e3
"""Largest session weight accepted."""
MAX_ENERGY_KWH = 10_000.0
"""Largest energy need (kWh) and battery capacity a session accepts."""
MAX_PRIORITY = 9
"""Largest session priority class (classes are 0 .. 9)."""
DEFAULT_DWELL_S = 4 * 3600
"""A session without ``leave`` or ``expected_dwell_s`` is expected to stay this long (4 h).

Short on purpose: a planner that expects an early departure gives the vehicle its energy
sooner, and the controller extends the estimate while the vehicle stays (docs/semantics.md)."""
MAX_DWELL_S = 30 * 86400
"""Longest ``expected_dwell_s`` a session accepts (30 days)."""
SESSION_MARGIN = 4 * 86400
"""Session times keep this far from the ends of the calendar (0001-01-01 .. 9999-12-31 UTC).

Four days: a window of whole local days around a session (the command line's default
start is the local midnight of the first arrival) then still keeps the two-day margin
that site windows need.
"""

Amps = Annotated[float, Field(ge=0, le=MAX_AMPS, allow_inf_nan=False)]
Watts = Annotated[float, Field(gt=0, le=MAX_WATTS, allow_inf_nan=False)]
PhaseAmps = tuple[Amps, Amps, Amps]
Kwh = Annotated[float, Field(gt=0, le=MAX_ENERGY_KWH, allow_inf_nan=False)]
Percent = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]

_TIMESTAMP: TypeAdapter[datetime] = TypeAdapter(Timestamp)

_ZONE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*$")


def site_zone(name: str) -> tzinfo:
    """The IANA time zone ``name`` (``"Europe/Berlin"``), or ValueError.

    Only names of the tz database are accepted: not ``""`` (dateutil's host zone),
    not paths (absolute, relative or ``:``-prefixed), not POSIX TZ strings such
    as ``"EST5"``. The same file must balance the same on every machine.
    """
    if not isinstance(name, str) or not _ZONE_NAME.match(name):
        raise ValueError(f"{name!r} is not an IANA time-zone name (such as Europe/Berlin)")
    found = tz.gettz(name)
    if not isinstance(found, tz.tzfile | tz.tzutc):
        raise ValueError(f"unknown time zone {name!r} (IANA tz database names only)")
    return found


def _phase_amps(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (value, value, value)
    return value


class _Frozen(DocumentedModel):
    model_config = ConfigDict(frozen=True, extra="forbid")  # descriptions: DocumentedModel


class LimitStep(_Frozen):
    """From ``start`` (local time of day) on, the circuit's limits are these.

    A step changes only what it names: ``amps`` or ``watts`` left out (or null)
    keep the circuit's own value. ``start`` is a wall-clock time in the site's
    zone, so it carries no UTC offset.
    """

    start: time
    """The local wall-clock time of day (``"HH:MM"``, no UTC offset) from which the step holds,
    until the next step or midnight."""
    amps: PhaseAmps | None = None
    """The limit per phase in A from ``start`` on: one number for all three phases, or
    ``[L1, L2, L3]``; absent, the circuit's ``amps`` hold."""
    watts: Watts | None = None
    """The limit on the circuit's total power (all phases) in W from ``start`` on; absent, the
    circuit's ``watts`` hold."""

    _amps = field_validator("amps", mode="before")(_phase_amps)

    @field_validator("start", mode="before")
    @classmethod
    def _time_of_day(cls, value: Any) -> Any:
        if isinstance(value, str) and value.count(":") == 1:
            return value + ":00"
        return value

    @field_validator("start", mode="after")
    @classmethod
    def _wall_clock(cls, value: time) -> time:
        if value.tzinfo is not None:
            raise ValueError(
                "a step's start is a local wall-clock time in the site's time zone;"
                " it takes no UTC offset"
            )
        return value

    @model_validator(mode="after")
    def _names_something(self) -> LimitStep:
        if self.amps is None and self.watts is None:
            raise ValueError("a step must name amps, watts or both")
        return self


class Session(_Frozen):
    """A vehicle charging on an EVSE from ``arrive`` to ``leave``.

    ``phases`` is how many phases the vehicle charges on (1, 2 or 3);
    ``max_amps`` its own limit per phase; ``min_amps`` the least useful current
    (below it the EVSE is paused rather than given a trickle); ``weight`` its
    share relative to others (2 gets twice the share of 1).

    The energy need is optional and given in one of two forms, never both:
    ``energy_kwh``, or ``soc_percent`` + ``battery_kwh`` + ``target_soc_percent``
    (:attr:`need_kwh`). ``priority`` is a class (0..9) carried for later policies.
    Without ``leave``, the departure is estimated as ``arrive`` + ``expected_dwell_s`` (or
    :data:`DEFAULT_DWELL_S`) and ``departure_known`` is False.
    """

    arrive: Timestamp
    """When the vehicle arrives and its transaction starts (RFC 3339 with an offset; held in
    UTC)."""
    leave: Timestamp
    """When the vehicle leaves and its transaction ends; after ``arrive``. Absent: ``arrive`` plus
    ``expected_dwell_s`` (or :data:`DEFAULT_DWELL_S`), and ``departure_known`` is False."""
    expected_dwell_s: Annotated[int, Field(gt=0, le=MAX_DWELL_S, strict=True)] | None = None
    """How long the vehicle is expected to stay, in seconds, when ``leave`` is unknown."""
    departure_known: bool = True
    """Whether ``leave`` is the caller's (True) or an estimate from the expected dwell (False)."""
    phases: Literal[1, 2, 3] = 3
    """How many phases the vehicle charges on: 1, 2 or 3."""
    max_amps: Amps | None = None
    """The vehicle's own limit per phase in A; absent, only the EVSE and its profiles limit it."""
    min_amps: Amps = 6.0
    """The least useful current per phase in A: below it the EVSE is paused (0 A) rather than given
    a trickle."""
    weight: Annotated[float, Field(ge=MIN_WEIGHT, le=MAX_WEIGHT, allow_inf_nan=False)] = 1.0
    """The session's share relative to others under the ``weighted`` policy (2 gets twice the share
    of 1); 0.001..1000."""
    transaction_id: str | None = None
    """The OCPP ``transactionId`` the station gave for it, unique within the pile; a send plan's
    TxProfile names it. Absent, a plan sends the session no TxProfile (its EVSE's TxDefaultProfile
    governs it, docs/semantics.md SP9); replays model the station's transaction with digits of
    ``arrive`` and the EVSE id (:meth:`effective_transaction_id`), never sent."""
    energy_kwh: Kwh | None = None
    """The energy the vehicle still needs when it arrives, in kWh (> 0, at most 10 000); absent,
    the need is unknown (or given as ``soc_percent``, ``battery_kwh``, ``target_soc_percent``)."""
    soc_percent: Percent | None = None
    """The vehicle's state of charge when it arrives, in % (0..100); with ``battery_kwh`` and
    ``target_soc_percent``, the other way to give the need."""
    battery_kwh: Kwh | None = None
    """The vehicle's usable battery capacity in kWh (> 0, at most 10 000); with ``soc_percent``."""
    target_soc_percent: Percent | None = None
    """The state of charge in % the vehicle should reach by ``leave``; above ``soc_percent``."""
    priority: Annotated[int, Field(ge=0, le=MAX_PRIORITY, strict=True)] = 0
    """The session's priority class, 0..9 (default 0): the deadline-aware policy serves a higher
    class before a lower one."""

    @model_validator(mode="before")
    @classmethod
    def _expected_leave(cls, data: Any) -> Any:
        # An unknown departure becomes arrive + the expected dwell, marked as an estimate.
        if not isinstance(data, dict) or data.get("leave") is not None:
            return data
        if data.get("departure_known") is True:
            return data  # a known departure needs its leave: the field's own error names it
        try:
            arrive = _TIMESTAMP.validate_python(data.get("arrive"))
        except ValidationError:
            return data  # the field's own error names it
        dwell = data.get("expected_dwell_s")
        if dwell is None:
            dwell = DEFAULT_DWELL_S
        if isinstance(dwell, bool) or not isinstance(dwell, int) or not 0 < dwell <= MAX_DWELL_S:
            return data  # the field's own error names it
        return {**data, "leave": arrive + timedelta(seconds=dwell), "departure_known": False}

    @field_validator("arrive", "leave", mode="after")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        # Within the calendar (with a margin for local days around it), checked on
        # the epoch, which never overflows; then compare and subtract in UTC: a
        # session built with a zone object (say dateutil's Europe/Berlin) would
        # otherwise ask the zone for its offset at every comparison.
        epoch = to_epoch(value)
        if not FIRST_SECOND + SESSION_MARGIN <= epoch <= LAST_SECOND + 1 - SESSION_MARGIN:
            raise ValueError("session times must lie within 0001-01-05 .. 9999-12-27 (UTC)")
        return value.astimezone(UTC)

    @model_validator(mode="after")
    def _order(self) -> Session:
        if self.leave <= self.arrive:
            raise ValueError("leave must be after arrive")
        if self.departure_known and self.expected_dwell_s is not None:
            raise ValueError(
                "leave and expected_dwell_s both give the departure; give one (expected_dwell_s"
                " is for a departure that is not known)"
            )
        return self

    @model_validator(mode="after")
    def _one_need(self) -> Session:
        soc = {
            "soc_percent": self.soc_percent,
            "battery_kwh": self.battery_kwh,
            "target_soc_percent": self.target_soc_percent,
        }
        given = [name for name, value in soc.items() if value is not None]
        if given and self.energy_kwh is not None:
            raise ValueError(
                f"energy_kwh and {given[0]} both give the energy need; give energy_kwh or"
                " soc_percent + battery_kwh + target_soc_percent, not both"
            )
        if given and len(given) < len(soc):
            missing = next(name for name, value in soc.items() if value is None)
            raise ValueError(
                f"{missing} is missing: soc_percent, battery_kwh and target_soc_percent"
                " give the energy need together"
            )
        if (
            self.target_soc_percent is not None
            and self.soc_percent is not None
            and self.target_soc_percent <= self.soc_percent
        ):
            raise ValueError("target_soc_percent must be above soc_percent")
        return self

    @property
    def need_kwh(self) -> float | None:
        """The energy the vehicle still needs at arrival (kWh), from either form; None if unknown.

        ``energy_kwh`` as given, else ``(target_soc_percent - soc_percent) / 100 * battery_kwh``.
        """
        if self.energy_kwh is not None:
            return self.energy_kwh
        if self.soc_percent is None or self.battery_kwh is None or self.target_soc_percent is None:
            return None
        return (self.target_soc_percent - self.soc_percent) / 100.0 * self.battery_kwh

    def effective_transaction_id(self, evse_id: int) -> str:
        """Its transaction id: its own, else its arrival (epoch s) and EVSE id as digits.

        The default is numeric, so it is also a valid OCPP 1.6 (integer) transaction id.
        """
        if self.transaction_id is not None:
            return self.transaction_id
        return f"{to_epoch(self.arrive)}{evse_id:02d}"


class Evse(_Frozen):
    """One EVSE (1.6: connector) of a pile: its hardware limit and the vehicles on it."""

    id: Annotated[int, Field(gt=0)]
    """The EVSE id (2.x ``evseId``, 1.6 ``connectorId``), > 0."""
    max_amps: Amps = 32.0
    """The EVSE's hardware limit per phase in A."""
    phases: Literal[1, 3] = 3
    """How many phases the EVSE is wired for: 1 or 3."""
    sessions: tuple[Session, ...] = ()
    """The vehicles that charge on it; they must not overlap in time."""

    @model_validator(mode="after")
    def _no_overlap(self) -> Evse:
        ordered = sorted(self.sessions, key=lambda s: s.arrive)
        for a, b in itertools.pairwise(ordered):
            if b.arrive < a.leave:
                raise ValueError(f"EVSE {self.id}: sessions overlap at {b.arrive.isoformat()}")
        return self


class Pile(_Frozen):
    """A charging station: its EVSEs, its wiring, and the profiles it already holds."""

    id: str
    """The pile's id, unique among the site's piles."""
    circuit: str
    """The id of the circuit the pile hangs off."""
    evses: tuple[Evse, ...]
    """Its EVSEs (1.6: connectors), at least one, ids unique."""
    phase_rotation: Literal["L1L2L3", "L2L3L1", "L3L1L2", "L1L3L2", "L2L1L3", "L3L2L1"] = "L1L2L3"
    """Which circuit phases the pile's L1, L2, L3 are wired to (:data:`PHASE_ROTATIONS`); a
    one-phase vehicle loads the circuit phase of the pile's L1."""
    ocpp: OcppVersion = OcppVersion.V16
    """The OCPP version the pile speaks: that of ``requests`` and of its send plans."""
    requests: tuple[dict[str, Any], ...] = Field(
        default=(), description="SetChargingProfile payloads the pile holds, in order."
    )
    config: StationConfig | None = None
    """Its station configuration (stack levels, periods, units, ...); absent, the defaults with the
    pile's EVSEs (:attr:`station_config`)."""

    @field_validator("requests", mode="after")
    @classmethod
    def _own_copy(cls, value: tuple[dict[str, Any], ...]) -> tuple[dict[str, Any], ...]:
        # The pile is frozen: it keeps its own deep copy, so a caller changing its
        # dicts afterwards cannot change a site that already validated.
        return copy.deepcopy(value)

    @model_validator(mode="after")
    def _unique_evses(self) -> Pile:
        ids = [e.id for e in self.evses]
        if len(ids) != len(set(ids)):
            raise ValueError(f"pile {self.id}: duplicate EVSE ids")
        if not ids:
            raise ValueError(f"pile {self.id}: no EVSEs")
        seen: dict[str, int] = {}
        for evse in self.evses:
            for session in evse.sessions:
                tx = session.effective_transaction_id(evse.id)
                if tx in seen:
                    raise ValueError(
                        f"pile {self.id}: transaction id {tx!r} is used by two sessions"
                        f" (EVSEs {seen[tx]} and {evse.id}); transaction ids are unique per"
                        " station"
                    )
                seen[tx] = evse.id
        return self

    @property
    def station_config(self) -> StationConfig:
        """The pile's station configuration (its EVSEs, at least)."""
        if self.config is not None:
            return self.config
        return StationConfig(evse_ids=tuple(e.id for e in self.evses))

    def circuit_phase(self, pile_phase: int) -> int:
        """The circuit phase (0-2) that the pile's phase ``pile_phase`` (0-2) is wired to."""
        return PHASE_ROTATIONS[self.phase_rotation][pile_phase]


class Circuit(_Frozen):
    """A node of the supply tree: a limit per phase (A), optionally a total (W), over the day.

    ``amps``/``watts`` hold from local midnight until the first step; each of
    ``steps`` holds from its local time of day until the next step (or
    midnight), and changes only what it names: a step without ``watts``
    keeps the circuit's ``watts``, one without ``amps`` its ``amps``.
    ``profile`` is a charging profile (OCPP 2.x ``chargingProfile`` or 1.6
    ``csChargingProfiles`` JSON, e.g. a grid operator's
    ChargingStationExternalConstraints) that lowers the limits further
    wherever it is in force: its A are per phase, its W the circuit's total.
    ``children`` are the circuits it feeds.
    """

    id: str
    """The circuit's id, unique among the site's circuits."""
    amps: PhaseAmps
    """The limit per phase in A from local midnight until the first step: one number for all three
    phases, or ``[L1, L2, L3]``."""
    watts: Watts | None = None
    """The limit on the circuit's total power (all phases) in W from local midnight until the first
    step; absent, none."""
    steps: tuple[LimitStep, ...] = ()
    """Changes of the limits at local times of day, each holding until the next step (or
    midnight)."""
    profile: ChargingProfile | None = None
    """A charging profile (2.x ``chargingProfile`` or 1.6 ``csChargingProfiles`` JSON) lowering the
    limits wherever it is in force: A per phase, W in total."""
    children: tuple[Circuit, ...] = ()
    """The circuits it feeds."""

    @field_validator("profile", mode="before")
    @classmethod
    def _read_profile(cls, value: Any) -> Any:
        if isinstance(value, dict):
            version = OcppVersion.V16 if "chargingProfileId" in value else OcppVersion.V201
            if version is OcppVersion.V201 and _is_v21_profile(value):
                version = OcppVersion.V21
            return read_charging_profile(value, version, field="profile")
        return value

    _amps = field_validator("amps", mode="before")(_phase_amps)

    def walk(self) -> Iterator[tuple[Circuit, tuple[str, ...]]]:
        """Every circuit of the subtree with its path from this one (itself included)."""
        stack: list[tuple[Circuit, tuple[str, ...]]] = [(self, (self.id,))]
        while stack:
            node, path = stack.pop()
            yield node, path
            for child in reversed(node.children):
                stack.append((child, (*path, child.id)))


class Site(_Frozen):
    """A site: its supply tree, its piles, its supply voltage and local time zone."""

    name: str = "site"
    """The site's name, shown in the output."""
    time_zone: str = "UTC"
    """The IANA time-zone name (``"Europe/Berlin"``) of the steps' local times and of the tables."""
    voltage: Annotated[float, Field(ge=1.0, le=1000.0, allow_inf_nan=False)] = 230.0
    """The line-to-neutral supply voltage in V (1..1000), for W <-> A."""
    grid: Circuit
    """The root of the supply tree: the grid connection."""
    piles: tuple[Pile, ...]
    """Every charging station (pile) of the site."""

    @model_validator(mode="after")
    def _consistent(self) -> Site:
        circuits = [c.id for c, _ in self.grid.walk()]
        if len(circuits) != len(set(circuits)):
            raise ValueError("circuit ids must be unique")
        piles = [p.id for p in self.piles]
        if len(piles) != len(set(piles)):
            raise ValueError("pile ids must be unique")
        known = set(circuits)
        for pile in self.piles:
            if pile.circuit not in known:
                raise ValueError(f"pile {pile.id} hangs off unknown circuit {pile.circuit!r}")
        return self

    @field_validator("time_zone", mode="after")
    @classmethod
    def _iana(cls, value: str) -> str:
        site_zone(value)
        return value

    @property
    def zone(self) -> tzinfo:
        """The site's time zone (its IANA ``time_zone``)."""
        return site_zone(self.time_zone)

    def paths(self) -> dict[str, tuple[str, ...]]:
        """For every circuit, the ids from the grid connection down to it."""
        return {c.id: path for c, path in self.grid.walk()}

    def circuits(self) -> dict[str, Circuit]:
        """Every circuit by id."""
        return {c.id: c for c, _ in self.grid.walk()}

    def evse_count(self) -> int:
        """How many EVSEs the site has."""
        return sum(len(p.evses) for p in self.piles)

    def sessions_between(self, start: datetime, end: datetime) -> int:
        """How many sessions overlap ``[start, end)``."""
        return sum(
            1
            for p in self.piles
            for e in p.evses
            for s in e.sessions
            if s.arrive < end and s.leave > start
        )


def load_site(path: str | Path) -> Site:
    """Read a site from a JSON or TOML file (by its extension; ``.toml`` is TOML)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise SiteError(f"cannot read {p}: {exc.strerror or exc}", field=str(p)) from None
    except UnicodeDecodeError as exc:
        raise SiteError(f"not UTF-8 text (byte {exc.start})", field=str(p), rule="UTF-8") from None
    kind = p.suffix.lstrip(".") or "JSON"
    try:
        if p.suffix.lower() == ".toml":
            data = tomllib.loads(text)
        else:
            import json

            data = json.loads(text)
    except RecursionError:
        raise SiteError("nests too deeply to be a site", field=str(p)) from None
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise SiteError(f"{p} is not valid {kind}: {exc}") from None
    try:
        return Site.model_validate(data)
    except RecursionError:
        raise SiteError("nests too deeply to be a site", field=str(p)) from None
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ")
        raise SiteError(msg, field=loc or None, rule="site format (docs/site-format.md)") from None

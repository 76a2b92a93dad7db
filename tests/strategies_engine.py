"""Hypothesis strategies: random but valid profile sets and composite queries.

Every instant is ``T0`` plus a small offset, drawn mostly from a 10-minute grid
(so that boundaries of different profiles, the window and the transaction
coincide often) and otherwise to the second. Windows last at most 2.5 h so the
per-second oracle stays cheap; recurring profiles have their ``startSchedule``
days (or weeks) before or after the window.

Only what the station rules accept is generated: first ``startPeriod`` 0 and
strictly increasing, limits >= 0, ``numberPhases`` 1..3, station max profiles
on EVSE 0 and never Relative (K01.FR.38), TxProfiles on an EVSE > 0, Recurring
with ``recurrencyKind`` and ``startSchedule``, ``validFrom`` < ``validTo``.
Some 1.6-only shapes are included on purpose: an Absolute schedule without
``startSchedule`` (A1), a Relative one with a ``startSchedule`` to ignore (A2),
TxDefaultProfiles on EVSE 0 and on an EVSE at the same stack level (G1), a
TxProfile bound to its transaction by the store rather than by the profile
(G2). Timestamps sometimes carry a fraction of a second (T2), and a profile
sometimes has a second schedule that must be ignored (rule 7).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from hypothesis import strategies as st

from ocpp_schedule import (
    ChargingLimitSource,
    ChargingProfile,
    InstalledProfile,
    StationConfig,
    Transaction,
)

T0 = 1_714_996_800  # 2024-05-06T12:00:00Z, a Monday
DAY = 86_400
WEEK = 7 * DAY
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_WINDOW = 9_000  # 2.5 h


def at(seconds: int) -> datetime:
    """The UTC datetime of epoch seconds."""
    return EPOCH + timedelta(seconds=seconds)


def epoch_of(value: datetime) -> int:
    """Whole epoch seconds of a datetime (floor)."""
    return (value - EPOCH) // timedelta(seconds=1)


def iso(seconds: int, fraction: str = "") -> str:
    """RFC 3339 text of epoch seconds, optionally with a fraction (``".75"``)."""
    return at(seconds).strftime("%Y-%m-%dT%H:%M:%S") + fraction + "Z"


# Strategies are built once: building them inside a draw costs more than drawing.
@cache
def one_of_values(*values: Any) -> st.SearchStrategy[Any]:
    return st.sampled_from(values)


@cache
def ints(low: int, high: int) -> st.SearchStrategy[int]:
    return st.integers(low, high)


@cache
def offsets(low: int = -3 * 3600, high: int = 3 * 3600) -> st.SearchStrategy[int]:
    """Seconds from T0 in [low, high]: mostly on a 10-minute grid, sometimes any second."""
    grid = st.integers(-(-low // 600), high // 600).map(lambda k: 600 * k)
    return st.one_of(grid, grid, st.integers(low, high))


BOOL = st.booleans()
STEPS = st.one_of(st.sampled_from([60, 300, 600, 900, 1200, 1800, 3600]), st.integers(1, 2400))
LIMITS = {
    "A": st.one_of(
        st.integers(0, 64).map(float),
        st.integers(0, 640).map(lambda x: x / 10),
        st.sampled_from([6.0, 10.0, 16.0, 32.0]),
        st.integers(0, 64_000).map(lambda x: x / 1000),
    ),
    "W": st.one_of(
        st.integers(0, 44_000).map(float),
        st.integers(0, 192).map(lambda k: 230.0 * k),
        st.integers(0, 440_000).map(lambda x: x / 10),
        st.sampled_from([3680.0, 7360.0, 11040.0, 12420.0, 22080.0]),
        st.integers(0, 44_000_000).map(lambda x: x / 1000),
    ),
}
PHASES = st.sampled_from([None, None, 1, 2, 3])
DURATIONS = st.one_of(st.none(), st.sampled_from([0, 600, 1800, 3600, 5400]), st.integers(1, 9000))
BEFORE_NEXT = st.one_of(st.sampled_from([600, 1800, 3600]), st.integers(1, 9000))
VALIDITY = st.one_of(st.none(), st.none(), offsets())
FRACTION = st.sampled_from(["", "", "", "", ".000", ".5", ".999999"])
RARELY = st.integers(0, 7).map(lambda x: x == 0)


@cache
def recurring_durations(recurrence: int) -> st.SearchStrategy[int | None]:
    longer = st.sampled_from([recurrence - 600, recurrence, recurrence + 3600])
    return st.one_of(DURATIONS, longer)


@st.composite
def schedules(draw: st.DrawFn, recurrence: int | None) -> dict[str, Any]:
    """One chargingSchedule without startSchedule (the caller anchors it)."""
    unit = draw(one_of_values("A", "W"))
    starts = [0]
    for _ in range(draw(ints(0, 3))):
        starts.append(starts[-1] + draw(STEPS))
    if recurrence is not None and draw(BOOL):
        # a period late in the recurrence, in force just before the next one begins
        late = recurrence - draw(BEFORE_NEXT)
        if late > starts[-1]:
            starts.append(late)
    if recurrence is not None and draw(RARELY):
        starts.append(max(starts[-1], recurrence) + draw(STEPS))  # never reached
    periods = []
    for s in starts:
        period: dict[str, Any] = {"startPeriod": s, "limit": draw(LIMITS[unit])}
        phases = draw(PHASES)
        if phases is not None:
            period["numberPhases"] = phases
        periods.append(period)
    sched: dict[str, Any] = {"chargingRateUnit": unit, "chargingSchedulePeriod": periods}
    duration = draw(DURATIONS if recurrence is None else recurring_durations(recurrence))
    if duration is not None:
        sched["duration"] = duration
    if draw(RARELY):
        sched["minChargingRate"] = draw(LIMITS[unit])  # advisory: must not change the periods
    return sched


@st.composite
def profile_json(draw: st.DrawFn, purpose: str, evse_id: int, pid: int) -> dict[str, Any]:
    """A 2.x-shaped chargingProfile (the models read 1.6 purposes as well)."""
    kinds: tuple[str, ...] = ("Absolute", "Recurring")
    if purpose in ("TxDefaultProfile", "TxProfile") or evse_id > 0:
        # anchored at the start of charging on an EVSE: never for a station-wide cap
        kinds += ("Relative", "AbsoluteWithoutStart")
    kind = draw(one_of_values(*kinds))
    prof: dict[str, Any] = {
        "id": pid,
        "stackLevel": draw(ints(0, 3)),
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": "Absolute" if kind == "AbsoluteWithoutStart" else kind,
    }
    recurrence = None
    start_schedule = None
    if kind == "Absolute":
        start_schedule = T0 + draw(offsets())
    elif kind == "Relative" and draw(RARELY):
        start_schedule = T0 + draw(offsets())  # A2 (1.6): ignored
    elif kind == "Recurring":
        which = draw(one_of_values("Daily", "Daily", "Weekly"))
        prof["recurrencyKind"] = which
        if which == "Daily":
            recurrence = DAY
            start_schedule = T0 + draw(offsets()) + DAY * draw(ints(-3, 3))
        else:
            recurrence = WEEK
            shift = draw(one_of_values(0, 0, 0, DAY, 3 * DAY, 6 * DAY))
            start_schedule = T0 + draw(offsets()) + shift + WEEK * draw(ints(-2, 2))
    sched = draw(schedules(recurrence))
    if start_schedule is not None:
        sched["startSchedule"] = iso(start_schedule, draw(FRACTION))
    prof["chargingSchedule"] = [sched]
    if draw(RARELY):  # rule 7: only the first schedule counts
        other = draw(schedules(recurrence))
        prof["chargingSchedule"] = [{"id": 1, **sched}, {"id": 2, **other}]
    valid_from = draw(VALIDITY)
    valid_to = draw(VALIDITY)
    if valid_from is not None and valid_to is not None and valid_from >= valid_to:
        valid_from, valid_to = (valid_to, valid_from) if valid_to < valid_from else (None, valid_to)
    if valid_from is not None:
        prof["validFrom"] = iso(T0 + valid_from, draw(FRACTION))
    if valid_to is not None:
        prof["validTo"] = iso(T0 + valid_to, draw(FRACTION))
    return prof


@st.composite
def installed_profiles(
    draw: st.DrawFn,
    evses: tuple[int, ...],
    tx_ids: dict[int, str],
    max_profiles: int = 6,
    extra_purposes: tuple[str, ...] = (),
) -> list[InstalledProfile]:
    """0..max_profiles valid profiles on EVSE 0 and ``evses``, with distinct ids.

    ``extra_purposes`` adds 2.1 purposes (``LocalGeneration``, ``PriorityCharging``)
    to the draw, installed on EVSE 0 or an EVSE like a TxDefaultProfile.
    """
    count = draw(ints(0, max_profiles))
    ids = draw(st.permutations(range(1, count + 1)))  # ids in random order: tie-breaks vary
    max_name = draw(one_of_values("ChargingStationMaxProfile", "ChargePointMaxProfile"))
    purposes = (
        "TxDefaultProfile",
        "TxDefaultProfile",
        "TxProfile",
        max_name,
        "External",
        *extra_purposes,
    )
    out = []
    for pid in ids:
        purpose = draw(one_of_values(*purposes))
        source = ChargingLimitSource.CSO
        bound = None
        if purpose == max_name:
            evse = 0
        elif purpose == "TxProfile":
            evse = draw(one_of_values(*evses))
        else:
            evse = draw(one_of_values(0, *evses))
        if purpose == "External":
            purpose = "ChargingStationExternalConstraints"
            source = ChargingLimitSource.EMS
        prof = draw(profile_json(purpose, evse, pid))
        if purpose == "TxProfile":
            tx_id = draw(one_of_values(tx_ids.get(evse, "tx-none"), "tx-other"))
            if draw(BOOL):
                prof["transactionId"] = tx_id
            else:  # 1.6: bound to the transaction active when it was installed (G2)
                bound = tx_id
        out.append(InstalledProfile(evse, ChargingProfile.model_validate(prof), source, bound))
    return out


TX_AGE = st.one_of(st.sampled_from([0, 600, 3600]), offsets(0, 7200))


@st.composite
def transactions(
    draw: st.DrawFn, evses: tuple[int, ...], window_start: int
) -> dict[int, Transaction]:
    """Transactions on some of ``evses``, started at or before the window start."""
    out = {}
    for e in evses:
        if draw(BOOL):
            out[e] = Transaction(f"tx-{e}", e, at(window_start - draw(TX_AGE)))
    return out


@st.composite
def configs(draw: st.DrawFn, evse_ids: tuple[int, ...] | None) -> StationConfig:
    """The default configuration mostly; sometimes another voltage, phases or defaults."""
    if not draw(st.integers(0, 3).map(lambda x: x == 0)):
        return StationConfig(evse_ids=evse_ids)
    return StationConfig(
        evse_ids=evse_ids,
        supply_voltage=draw(one_of_values(230.0, 240.0)),
        default_number_phases=draw(one_of_values(1, 3)),
        composite_schedule_default_limit_amps=draw(one_of_values(16.0, 32.0, 48.0)),
        composite_schedule_default_limit_watts=draw(one_of_values(11_040.0, 33_120.0)),
    )


@cache
def windows(max_duration: int = MAX_WINDOW) -> st.SearchStrategy[tuple[int, int]]:
    """(start, duration): starting before, inside or after the profiles' times."""
    durations = st.one_of(
        st.just(0),
        st.sampled_from([d for d in (600, 1800, 3600, 5400, 7200) if d <= max_duration]),
        st.integers(1, max_duration),
    )
    return st.tuples(offsets(-2 * 3600, 2 * 3600).map(lambda o: T0 + o), durations)


@dataclass
class Case:
    """One composite query: the profiles and the arguments to pass."""

    profiles: list[InstalledProfile]
    evse_id: int
    start: int
    duration: int
    unit: str | None
    transaction: Transaction | list[Transaction] | None
    config: StationConfig
    transactions: dict[int, Transaction] = field(default_factory=dict)

    def kwargs(self, **changes: Any) -> dict[str, Any]:
        """Keyword arguments for ``composite_schedule`` (and the oracle), with changes."""
        args = {
            "evse_id": self.evse_id,
            "start": self.start,
            "duration": self.duration,
            "unit": self.unit,
            "transaction": self.transaction,
            "config": self.config,
        }
        args.update(changes)
        return args

    def __repr__(self) -> str:
        """A readable reproduction: each profile as JSON with where it is installed."""
        lines = [
            f"Case(evse_id={self.evse_id}, start=T0{self.start - T0:+d}, "
            f"duration={self.duration}, unit={self.unit!r},"
        ]
        for e in self.profiles:
            bound = f" bound to {e.transaction_id!r}" if e.transaction_id else ""
            lines.append(f"  on EVSE {e.evse_id}{bound}: {e.profile.to_json_dict()}")
        for tx in self.transactions.values():
            lines.append(f"  {tx.id} on EVSE {tx.evse_id} from T0{epoch_of(tx.start) - T0:+d}")
        passed = self.transaction
        if isinstance(passed, list):
            passed = [tx.id for tx in passed]
        elif passed is not None:
            passed = passed.id
        lines.append(f"  transaction passed: {passed!r}")
        lines.append(f"  config: {self.config.model_dump(exclude_defaults=True)})")
        return "\n".join(lines)


@st.composite
def single_evse_cases(
    draw: st.DrawFn, max_duration: int = MAX_WINDOW, with_transaction: bool = False
) -> Case:
    """A query for EVSE 1 or 2, with profiles on EVSEs 0..2.

    ``with_transaction``: a transaction always runs on the queried EVSE, so no
    schedule is anchored at the query start.
    """
    evses = (1, 2)
    start, duration = draw(windows(max_duration))
    txs = draw(transactions(evses, start))
    evse_id = draw(one_of_values(*evses))
    if with_transaction and evse_id not in txs:
        txs[evse_id] = Transaction(f"tx-{evse_id}", evse_id, at(start - draw(TX_AGE)))
    profiles = draw(installed_profiles(evses, {e: tx.id for e, tx in txs.items()}))
    # pass every transaction as a list, or the queried EVSE's alone
    transaction: Any = list(txs.values()) or None
    if txs and draw(BOOL):
        transaction = txs.get(evse_id)
    config = draw(configs(draw(one_of_values(None, evses))))
    unit = draw(one_of_values(None, "A", "W"))
    return Case(profiles, evse_id, start, duration, unit, transaction, config, txs)


@st.composite
def station_cases(draw: st.DrawFn, max_duration: int = 3600) -> Case:
    """An EVSE-0 query on a station of 2 or 3 EVSEs (profiles on EVSEs 0..2)."""
    station = draw(one_of_values((1, 2), (1, 2, 3)))
    start, duration = draw(windows(max_duration))
    txs = draw(transactions(station, start))
    profiles = draw(installed_profiles((1, 2), {e: tx.id for e, tx in txs.items()}))
    # the configured EVSEs, or (None) those named by the profiles, else EVSE 1
    config = draw(configs(draw(one_of_values(station, station, None))))
    unit = draw(one_of_values(None, "A", "W"))
    return Case(profiles, 0, start, duration, unit, list(txs.values()) or None, config, txs)


@st.composite
def station_21_cases(draw: st.DrawFn, max_duration: int = 3600) -> Case:
    """A 2.1 station of 1..5 EVSEs for batch queries (``station_composites``).

    Profiles of every purpose, LocalGeneration and PriorityCharging included, on
    EVSE 0 and several EVSEs; transactions (some with priority charging
    activated, some with a state of charge) on some EVSEs, TxProfiles bound to
    them or to another transaction. ``evse_id`` is 0; ``transaction`` is the list.
    """
    station = tuple(range(1, draw(ints(1, 5)) + 1))
    start, duration = draw(windows(max_duration))
    txs = draw(transactions(station, start))
    for e, tx in list(txs.items()):
        if draw(BOOL):
            soc = draw(st.one_of(st.none(), st.integers(0, 100).map(float)))
            txs[e] = Transaction(
                tx.id, e, tx.start, priority_charging=draw(BOOL), state_of_charge=soc
            )
    profiles = draw(
        installed_profiles(
            station,
            {e: tx.id for e, tx in txs.items()},
            max_profiles=12,
            extra_purposes=(
                "LocalGeneration",
                "LocalGeneration",
                "LocalGeneration",
                "PriorityCharging",
                "TxProfile",
            ),
        )
    )
    next_id = len(profiles) + 1
    # often a LocalGeneration stack on EVSE 0 and on several EVSEs (each EVSE's stack is
    # then a merged list of its own), and TxProfiles for the running transactions
    for e in (0, *station):
        if draw(BOOL):
            prof = draw(profile_json("LocalGeneration", e, next_id))
            profiles.append(InstalledProfile(e, ChargingProfile.model_validate(prof)))
            next_id += 1
    for e, tx in txs.items():
        if draw(BOOL):
            prof = draw(profile_json("TxProfile", e, next_id))
            prof["transactionId"] = tx.id
            profiles.append(InstalledProfile(e, ChargingProfile.model_validate(prof)))
            next_id += 1
    config = draw(configs(draw(one_of_values(station, station, None))))
    unit = draw(one_of_values(None, "A", "W"))
    return Case(profiles, 0, start, duration, unit, list(txs.values()) or None, config, txs)

"""A CSMS on the ocpp package that checks charge points against ocpp-schedule's predictions.

    pip install 'ocpp-schedule[ocpp]'
    python examples/csms.py --port 9000 --stations 1        # then: python examples/charge_point.py

It serves OCPP 1.6, 2.0.1 and 2.1 over WebSockets (the version is the subprotocol
the charge point asks for). For each charge point that connects it waits for
the BootNotification and the transaction the station starts, discovers the
station's smart-charging limits (1.6 GetConfiguration, 2.x GetVariables, read by
``config_from_get_configuration`` / ``config_from_device_model``), then runs a
*plan*: SetChargingProfile requests (one of them a profile the station must
reject), GetCompositeSchedule queries, ClearChargingProfile requests and a
last query. For every request it also computes the answer itself with the
same library functions over a :class:`~ocpp_schedule.StationMirror` of the station
(the rules' prediction of each answer, the station's answer winning, and
``composite_schedule`` over the window the station reports).
Then it runs the *checks* over the outcome, prints a report and exits with
status 0 when every check passed.

Extending it:

- ``PLANS`` maps a name (``--plan``) to a function ``(StationInfo, now) -> Plan``.
  A plan from site load balancing (``ocpp_schedule.balance`` and
  ``ocpp_schedule.send_plan``) is one more entry: its steps are the
  send plan's ``PlanStep.request`` for this station, followed by the queries
  to read the result back.
- ``CHECKS`` maps a name (``--check``) to a function ``Outcome -> list[str]``
  (findings; empty means passed): ``prediction`` wants every answer to be exactly
  the library's, ``drift`` runs the library's drift check
  (``ocpp_schedule.check_drift``) on every composite the station reported. Each
  GetCompositeSchedule exchange carries the station's answer (``Exchange.reported``),
  the library's prediction (``Exchange.predicted``, ``Exchange.schedule``) and the
  mirror of what the station held (``Exchange.mirror``).

A balanced site (``--balance SITE_FILE``): instead of a plan, a :class:`SiteBalancer`
runs the site controller (:func:`ocpp_schedule.control`) on every StartTransaction,
MeterValues and StopTransaction (2.0.1: TransactionEvent Started, Updated with meter
values, Ended) and every ``--tick`` seconds (it re-plans when the last plan's
``resend_before`` has come), and the CSMS sends each connected pile the
SetChargingProfile requests of the EVSEs whose limits changed, in the plan's safe order.
The piles are the site file's (their ids are the stations' identities); its sessions are
ignored: the live ones come from the transactions. See docs/guides/load-balancing.md.
"""

# The ocpp package is untyped: its base classes and @on decorator are Any to mypy.
# mypy: disable-error-code="misc, untyped-decorator"

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import websockets
from ocpp.routing import after, on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v21 import ChargePoint as ChargePoint21
from ocpp.v21 import call as call21
from ocpp.v21 import call_result as result21
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from websockets.typing import Subprotocol

from ocpp_schedule import (
    ChargingProfile,
    ChargingProfilePurpose,
    ChargingRateUnit,
    ClearChargingProfileRequest,
    CompositeSchedule,
    ControlError,
    ControlResult,
    EvseMeasurement,
    OcppScheduleError,
    OcppVersion,
    ProfileStore,
    Session,
    SetChargingProfileRequest,
    Site,
    SiteState,
    StationConfig,
    StationMirror,
    StationState,
    Transaction,
    check_drift,
    composite_schedule,
    config_from_device_model,
    config_from_get_configuration,
    control,
    install,
    load_site,
    read_set_charging_profile,
    write_set_charging_profile,
)
from ocpp_schedule.station import (
    read_clear_charging_profile,
    write_clear_charging_profile,
)
from ocpp_schedule.tools.adapters import (
    CompositeAnswer,
    CompositeQuery,
    from_ocpp_clear_charging_profile_result,
    from_ocpp_get_composite_schedule_result,
    from_ocpp_set_charging_profile_result,
    ocpp_payload,
    to_ocpp_clear_charging_profile,
    to_ocpp_get_composite_schedule,
    to_ocpp_set_charging_profile,
)
from ocpp_schedule.wire import format_timestamp, parse_timestamp

VERSIONS = {"ocpp1.6": OcppVersion.V16, "ocpp2.0.1": OcppVersion.V201, "ocpp2.1": OcppVersion.V21}

# ------------------------------------------------------------------------ what it knows


@dataclass
class StationInfo:
    """What the CSMS knows about one connected station."""

    id: str
    version: OcppVersion
    config: StationConfig
    expect_transactions: int = 1
    transactions: list[Transaction] = field(default_factory=list)
    booted: bool = False
    ready: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def state(self) -> StationState:
        """The station as the library's rules see it."""
        return StationState(self.config, self.version, tuple(self.transactions))

    def update(self) -> None:
        """Mark the station ready once it booted and started the transactions expected."""
        if self.booted and len(self.transactions) >= self.expect_transactions:
            self.ready.set()


_TRANSACTION_IDS = count(1)


class _CsmsHandlers:
    """The messages a station sends: boot and transactions (both versions' names).

    With ``hub`` (a balanced site), transaction events and meter values also drive the
    site's :class:`SiteBalancer`, after the answer went out (``@after``), and the CSMS sends
    what it plans.
    """

    info: StationInfo
    hub: BalancedSite | None = None

    @property
    def _baselines(self) -> dict[int, float]:
        """Per EVSE, the energy register (kWh) at the start of its transaction."""
        baselines: dict[int, float] = self.__dict__.setdefault("_energy_baselines", {})
        return baselines

    def _now(self) -> str:
        return format_timestamp(datetime.now(UTC).replace(microsecond=0))

    def _booted(self) -> None:
        self.info.booted = True
        self.info.update()

    def _started(self, tx_id: str, evse_id: int, timestamp: str) -> None:
        tx = Transaction(tx_id, evse_id, parse_timestamp(timestamp, "timestamp"))
        self.info.transactions = [t for t in self.info.transactions if t.evse_id != evse_id]
        self.info.transactions.append(tx)
        self.info.update()

    def _stopped(self, evse_id: int) -> None:
        self.info.transactions = [t for t in self.info.transactions if t.evse_id != evse_id]

    def _evse_of(self, transaction_id: str) -> int | None:
        return next((t.evse_id for t in self.info.transactions if t.id == transaction_id), None)

    def _energy(self, evse_id: int, register_kwh: float | None) -> float | None:
        """The session's energy so far: the register minus its first reading (or meterStart)."""
        if register_kwh is None:
            return None
        return register_kwh - self._baselines.setdefault(evse_id, register_kwh)

    async def _balance_start(self, evse_id: int) -> None:
        hub = self.hub
        tx = next((t for t in self.info.transactions if t.evse_id == evse_id), None)
        if hub is not None and tx is not None:
            pile, tx_id = self.info.id, tx.id
            await hub.handle(lambda at: hub.balancer.on_start(pile, evse_id, tx_id, at))

    async def _balance_meter(self, evse_id: int | None, meter_value: Any) -> None:
        hub = self.hub
        if hub is None or evse_id is None or not meter_value:
            return
        amps, register = meter_reading(meter_value)
        energy = self._energy(evse_id, register)
        if amps is None and energy is None:
            return
        last = hub.balancer.measured.get((self.info.id, evse_id))
        kwh = energy if energy is not None else (last.energy_kwh if last else 0.0)
        pile = self.info.id
        await hub.handle(lambda at: hub.balancer.on_meter_values(pile, evse_id, amps, kwh, at))

    async def _balance_stop(self, evse_id: int | None) -> None:
        hub = self.hub
        if hub is not None and evse_id is not None:
            self._baselines.pop(evse_id, None)
            pile = self.info.id
            await hub.handle(lambda at: hub.balancer.on_stop(pile, evse_id, at))


class Csms16(_CsmsHandlers, ChargePoint16):
    """The CSMS side of an OCPP 1.6 connection."""

    @on("BootNotification")
    def on_boot_notification(self, **_: Any) -> Any:
        self._booted()
        return result16.BootNotification(current_time=self._now(), interval=300, status="Accepted")

    @on("StartTransaction")
    def on_start_transaction(self, connector_id: int, timestamp: str, **_: Any) -> Any:
        tx_id = next(_TRANSACTION_IDS)
        self._started(str(tx_id), connector_id, timestamp)
        return result16.StartTransaction(transaction_id=tx_id, id_tag_info={"status": "Accepted"})

    @after("StartTransaction")
    async def after_start_transaction(
        self, connector_id: int, meter_start: int = 0, **_: Any
    ) -> None:
        self._baselines[connector_id] = meter_start / 1000.0
        await self._balance_start(connector_id)

    @on("MeterValues")
    def on_meter_values(self, **_: Any) -> Any:
        return result16.MeterValues()

    @after("MeterValues")
    async def after_meter_values(
        self, connector_id: int, meter_value: list[dict[str, Any]], **_: Any
    ) -> None:
        await self._balance_meter(connector_id, meter_value)

    @on("StopTransaction")
    def on_stop_transaction(self, **_: Any) -> Any:
        return result16.StopTransaction()

    @after("StopTransaction")
    async def after_stop_transaction(self, transaction_id: int, **_: Any) -> None:
        evse_id = self._evse_of(str(transaction_id))
        if evse_id is not None:
            self._stopped(evse_id)
        await self._balance_stop(evse_id)


class _Csms2x(_CsmsHandlers):
    """The CSMS side of an OCPP 2.x connection (2.0.1 and 2.1 share these messages)."""

    _results: Any

    @on("BootNotification")
    def on_boot_notification(self, **_: Any) -> Any:
        self._booted()
        return self._results.BootNotification(
            current_time=self._now(), interval=300, status="Accepted"
        )

    @on("TransactionEvent")
    def on_transaction_event(
        self,
        event_type: str,
        timestamp: str,
        transaction_info: dict[str, Any],
        evse: dict[str, Any] | None = None,
        **_: Any,
    ) -> Any:
        if event_type == "Started" and evse is not None:
            self._started(transaction_info["transaction_id"], evse["id"], timestamp)
        return self._results.TransactionEvent()

    @after("TransactionEvent")
    async def after_transaction_event(
        self,
        event_type: str,
        transaction_info: dict[str, Any],
        evse: dict[str, Any] | None = None,
        meter_value: list[dict[str, Any]] | None = None,
        **_: Any,
    ) -> None:
        evse_id = (
            evse["id"] if evse is not None else self._evse_of(transaction_info["transaction_id"])
        )
        if event_type == "Started" and evse_id is not None:
            if meter_value:
                self._energy(evse_id, meter_reading(meter_value)[1])
            await self._balance_start(evse_id)
        elif event_type == "Updated":
            await self._balance_meter(evse_id, meter_value)
        elif event_type == "Ended":
            if evse_id is not None:
                self._stopped(evse_id)
            await self._balance_stop(evse_id)


class Csms201(_Csms2x, ChargePoint201):
    """The CSMS side of an OCPP 2.0.1 connection."""

    _results = result201


class Csms21(_Csms2x, ChargePoint21):
    """The CSMS side of an OCPP 2.1 connection."""

    _results = result21


CSMS_CLASSES: dict[OcppVersion, type[Any]] = {
    OcppVersion.V16: Csms16,
    OcppVersion.V201: Csms201,
    OcppVersion.V21: Csms21,
}


# ----------------------------------------------------------- configuration discovery

SMART_CHARGING_VARIABLES = ("ProfileStackLevel", "RateUnit", "PeriodsPerSchedule")
"""The SmartChargingCtrlr variables the CSMS asks a 2.x station for."""


async def discover_config(cp: Any, info: StationInfo, max_evses: int) -> list[str]:
    """Ask the station for its smart-charging limits and set ``info.config`` from them.

    1.6: GetConfiguration (every key; the library uses the ones it knows). 2.x:
    GetVariables of the SmartChargingCtrlr variables and of ``EVSE[n].SupplyPhases`` for
    n = 1..``max_evses`` (the EVSEs the station has answer, the others are unknown
    components). Returns the values the library refused (``ConfigProblem``), as text.
    """
    v = info.version
    if v is OcppVersion.V16:
        answer = await cp.call(call16.GetConfiguration(), suppress=False)
        found = config_from_get_configuration(ocpp_payload(answer, v))
    else:
        calls = call201 if v is OcppVersion.V201 else call21
        wanted = [
            {"component": {"name": "SmartChargingCtrlr"}, "variable": {"name": name}}
            for name in SMART_CHARGING_VARIABLES
        ] + [
            {"component": {"name": "EVSE", "evse": {"id": n}}, "variable": {"name": "SupplyPhases"}}
            for n in range(1, max_evses + 1)
        ]
        answer = await cp.call(calls.GetVariables(get_variable_data=wanted), suppress=False)
        found = config_from_device_model(ocpp_payload(answer, v))
    info.config = found.config
    return [str(problem) for problem in found.problems]


# ----------------------------------------------------------------------------- plans

Step = SetChargingProfileRequest | ClearChargingProfileRequest | CompositeQuery


@dataclass(frozen=True)
class Plan:
    """What to send to one station, in order."""

    steps: tuple[Step, ...]


def _profile(evse: int, data: dict[str, Any]) -> SetChargingProfileRequest:
    """A request from a profile written in the 2.x JSON shape (any version is sent from it)."""
    return SetChargingProfileRequest(
        evse_id=evse, charging_profile=ChargingProfile.model_validate(data)
    )


def _schedule(unit: str, periods: list[tuple[int, float, int | None]], **extra: Any) -> Any:
    return [
        {
            "chargingRateUnit": unit,
            "chargingSchedulePeriod": [
                {"startPeriod": s, "limit": lim, **({"numberPhases": n} if n else {})}
                for s, lim, n in periods
            ],
            **extra,
        }
    ]


def demo_plan(station: StationInfo, now: datetime) -> Plan:
    """A station max, TxDefaults on the station and on EVSE 2, a TxProfile for the
    transaction, one profile the station must reject (a station max on EVSE 1);
    composites of EVSE 1, 2 and the station; two clears; EVSE 2 again."""
    anchor = now.replace(second=0, microsecond=0)
    text = format_timestamp
    steps: list[Step] = [
        _profile(
            0,
            {
                "id": 1,
                "stackLevel": 0,
                "chargingProfilePurpose": "ChargingStationMaxProfile",
                "chargingProfileKind": "Absolute",
                "chargingSchedule": _schedule(
                    "A",
                    [(0, 32.0, None), (1800, 20.0, None), (5400, 25.0, None)],
                    startSchedule=text(anchor),
                ),
            },
        ),
        _profile(
            0,
            {
                "id": 2,
                "stackLevel": 0,
                "chargingProfilePurpose": "TxDefaultProfile",
                "chargingProfileKind": "Recurring",
                "recurrencyKind": "Daily",
                "chargingSchedule": _schedule(
                    "W",
                    [(0, 11000.0, None), (3 * 3600, 7400.0, 1)],
                    startSchedule=text(anchor - timedelta(hours=2)),
                ),
            },
        ),
        _profile(
            2,
            {
                "id": 3,
                "stackLevel": 1,
                "chargingProfilePurpose": "TxDefaultProfile",
                "chargingProfileKind": "Absolute",
                "chargingSchedule": _schedule(
                    "A", [(0, 16.0, 1)], startSchedule=text(anchor), duration=5400
                ),
            },
        ),
    ]
    for tx in station.transactions:
        steps.append(
            _profile(
                tx.evse_id,
                {
                    "id": 10 + tx.evse_id,
                    "stackLevel": 0,
                    "chargingProfilePurpose": "TxProfile",
                    "chargingProfileKind": "Relative",
                    "transactionId": tx.id,
                    "chargingSchedule": _schedule(
                        "A", [(0, 10.0, None), (600, 14.5, None)], duration=3600
                    ),
                },
            )
        )
    steps += [
        # The station must reject this one: a station max belongs on EVSE 0.
        _profile(
            1,
            {
                "id": 5,
                "stackLevel": 1,
                "chargingProfilePurpose": "ChargingStationMaxProfile",
                "chargingProfileKind": "Absolute",
                "chargingSchedule": _schedule("A", [(0, 6.0, None)], startSchedule=text(anchor)),
            },
        ),
        CompositeQuery(evse_id=1, duration=7200, charging_rate_unit=ChargingRateUnit.A),
        CompositeQuery(evse_id=2, duration=7200, charging_rate_unit=ChargingRateUnit.W),
        CompositeQuery(evse_id=0, duration=7200),
        ClearChargingProfileRequest(charging_profile_id=3),
        ClearChargingProfileRequest(
            charging_profile_purpose=ChargingProfilePurpose.TX_DEFAULT_PROFILE, stack_level=9
        ),
        CompositeQuery(evse_id=2, duration=3600),
    ]
    return Plan(tuple(steps))


Planner = Callable[[StationInfo, datetime], Plan]
PLANS: dict[str, Planner] = {"demo": demo_plan}
"""Plans by name. Site load balancing: add ``"site": site_plan`` here."""


# ------------------------------------------------------------------- running a plan


@dataclass(frozen=True)
class Exchange:
    """One request, the station's answer and the library's prediction of it (payloads).

    For GetCompositeSchedule, ``reported`` is the station's answer read by the
    library, ``schedule`` the predicted schedule (None when rejected) and ``mirror``
    what the CSMS knew the station held when it answered (a
    :class:`~ocpp_schedule.StationMirror`: the station's word, not the prediction). For
    SetChargingProfile and ClearChargingProfile, ``note`` says how the station's answer
    differs from the rules' prediction (empty when they agree).
    """

    action: str
    request: dict[str, Any]
    answer: dict[str, Any]
    predicted: dict[str, Any]
    reported: CompositeAnswer | None = None
    schedule: CompositeSchedule | None = None
    mirror: StationMirror | None = None
    note: str = ""

    def describe(self) -> str:
        """The request in short."""
        fields = _flat(self.request)
        for key in ("chargingProfile", "csChargingProfiles"):
            prof = self.request.get(key)
            if prof is not None:
                pid = prof.get("id", prof.get("chargingProfileId"))
                fields = f"{fields.split(' ')[0]} id={pid} {prof['chargingProfilePurpose']}"
        return f"{self.action:<21}{fields}"


def _flat(payload: dict[str, Any]) -> str:
    """``evseId=1 duration=60``: the scalar fields of a payload, nested ones included."""
    parts = []
    for key, value in payload.items():
        if isinstance(value, dict):
            parts.append(_flat(value))
        else:
            parts.append(f"{key}={value}")
    return " ".join(p for p in parts if p)


@dataclass
class Outcome:
    """Everything that happened with one station, and what each check found."""

    station: str
    version: OcppVersion
    transactions: tuple[Transaction, ...]
    exchanges: list[Exchange]
    store: ProfileStore
    config: StationConfig = field(default_factory=StationConfig)
    findings: dict[str, list[str]] = field(default_factory=dict)
    mirror: StationMirror | None = None

    @property
    def ok(self) -> bool:
        """True when every check passed."""
        return not any(self.findings.values())

    def composites(self) -> list[Exchange]:
        """The GetCompositeSchedule exchanges (the input of a drift check)."""
        return [e for e in self.exchanges if e.action == "GetCompositeSchedule"]


async def run_plan(cp: Any, info: StationInfo, plan: Plan) -> Outcome:
    """Send every step of ``plan`` and predict each answer with the library.

    What the station holds is kept as a :class:`~ocpp_schedule.StationMirror`: each
    request goes in with the station's answer, the station's word winning.
    """
    v = info.version
    mirror = StationMirror(info.state)
    exchanges: list[Exchange] = []
    for step in plan.steps:
        if isinstance(step, SetChargingProfileRequest):
            payload = write_set_charging_profile(step, v)
            answer = from_ocpp_set_charging_profile_result(
                await cp.call(to_ocpp_set_charging_profile(step, v), suppress=False)
            )
            # Predict from what the station reads (1.6 spells the station max differently).
            update = mirror.set_charging_profile(
                read_set_charging_profile(payload, v), answer.payload
            )
            mirror = update.mirror
            predicted = update.prediction.to_payload(v)
            exchanges.append(
                Exchange("SetChargingProfile", payload, answer.payload, predicted, note=update.note)
            )
        elif isinstance(step, ClearChargingProfileRequest):
            payload = write_clear_charging_profile(step, v)
            answer = from_ocpp_clear_charging_profile_result(
                await cp.call(to_ocpp_clear_charging_profile(step, v), suppress=False)
            )
            update = mirror.clear_charging_profile(
                read_clear_charging_profile(payload, v), answer.payload
            )
            mirror = update.mirror
            predicted = update.prediction.to_payload(v)
            exchanges.append(
                Exchange(
                    "ClearChargingProfile", payload, answer.payload, predicted, note=update.note
                )
            )
        else:
            sent_at = datetime.now(UTC)
            reported = from_ocpp_get_composite_schedule_result(
                await cp.call(to_ocpp_get_composite_schedule(step, v), suppress=False)
            )
            station_schedule = reported.schedule
            start = station_schedule.start if station_schedule is not None else sent_at
            predicted, schedule = predict_composite(mirror.store, info, step, start)
            exchanges.append(
                Exchange(
                    "GetCompositeSchedule",
                    step.to_payload(v),
                    reported.payload,
                    predicted,
                    reported=reported,
                    schedule=schedule,
                    mirror=mirror,
                )
            )
    return Outcome(
        info.id, v, tuple(info.transactions), exchanges, mirror.store, info.config, mirror=mirror
    )


def predict_composite(
    store: ProfileStore, info: StationInfo, query: CompositeQuery, start: datetime | int
) -> tuple[dict[str, Any], CompositeSchedule | None]:
    """The library's GetCompositeSchedule answer for ``query`` over the window from ``start``."""
    v = info.version
    if not info.config.knows_evse(query.evse_id):
        return CompositeAnswer.rejected(v, "UnknownEVSE").payload, None
    schedule = composite_schedule(
        store,
        evse_id=query.evse_id,
        start=start,
        duration=query.duration,
        unit=query.charging_rate_unit,
        transaction=info.transactions,
        config=info.config,
    )
    return schedule.to_payload(v), schedule


# ----------------------------------------------------------------------------- checks


def check_prediction(outcome: Outcome) -> list[str]:
    """Every answer is the library's: status and reasonCode, and composites exactly."""
    findings = []
    for i, ex in enumerate(outcome.exchanges, 1):
        if ex.action == "GetCompositeSchedule":
            if ex.answer != ex.predicted:
                findings.append(f"step {i}: {ex.describe()}: {_composite_difference(ex)}")
            continue
        got = (ex.answer.get("status"), ex.answer.get("statusInfo", {}).get("reasonCode"))
        want = (ex.predicted.get("status"), ex.predicted.get("statusInfo", {}).get("reasonCode"))
        if got != want:
            findings.append(f"step {i}: {ex.describe()}: station {got}, library {want}")
    return findings


def _composite_difference(ex: Exchange) -> str:
    if ex.answer.get("status") != ex.predicted.get("status"):
        return f"station {ex.answer.get('status')}, library {ex.predicted.get('status')}"
    reported = ex.reported.schedule if ex.reported is not None else None
    if reported is None or ex.schedule is None:
        return "the answers differ"
    mine, theirs = ex.schedule, reported
    if (mine.start, mine.duration, mine.charging_rate_unit) != (
        theirs.start,
        theirs.duration,
        theirs.charging_rate_unit,
    ):
        return "the windows or units differ"
    for a, b in zip(theirs.periods, mine.periods, strict=False):
        if a[:3] != b[:3]:
            return f"station period {a[:3]}, library period {b[:3]}"
    return f"station {len(theirs.periods)} periods, library {len(mine.periods)}"


def drift_check(outcome: Outcome) -> list[str]:
    """The library's drift check (:func:`ocpp_schedule.check_drift`) on every composite the
    station reported, against the mirror of what it held then (its profiles, transactions
    and discovered configuration): each stretch where its answer differs by more than
    0.1 A is a finding naming the profile that should govern there."""
    findings: list[str] = []
    for i, ex in enumerate(outcome.exchanges, 1):
        if ex.action != "GetCompositeSchedule" or ex.mirror is None:
            continue
        report = check_drift(ex.mirror, ex.answer)
        findings.extend(f"step {i}: {ex.describe()}: {finding}" for finding in report.findings)
    return findings


Check = Callable[[Outcome], list[str]]
CHECKS: dict[str, Check] = {"prediction": check_prediction, "drift": drift_check}
"""Checks by name (``--check``; all by default)."""


# ------------------------------------------------------------------------ a balanced site

Sends = list[tuple[str, dict[str, Any]]]
"""``(pile id, SetChargingProfile payload)`` in the plan's safe order (lower before raise)."""


class SiteBalancer:
    """The site controller driven by a CSMS's events; plain Python, no WebSockets.

    It keeps the live sessions (one per EVSE, from StartTransaction to StopTransaction) and
    the latest measurement of each EVSE, calls :func:`ocpp_schedule.control` with the last
    result as ``previous`` after each event, and returns what to send: the SetChargingProfile
    payloads of the EVSEs whose limits changed, in the plan's order. Times are the CSMS's
    clock, passed in; a time before the last plan's counts as the last plan's (control calls
    go forward in time).

    A session's departure is unknown to a CSMS: it is estimated as arrival plus
    ``expected_dwell_s`` (None: the library's default dwell), and the controller extends the
    estimate while the vehicle stays. ``needs`` may give a session's energy need at start
    (``energy_kwh=...``, or the state-of-charge fields) when the CSMS knows it.
    """

    def __init__(
        self,
        site: Site,
        *,
        policy: Any = None,
        resolution: int = 300,
        expected_dwell_s: int | None = None,
    ) -> None:
        self.site = site.model_copy(
            update={
                "piles": tuple(
                    p.model_copy(
                        update={
                            "evses": tuple(e.model_copy(update={"sessions": ()}) for e in p.evses)
                        }
                    )
                    for p in site.piles
                )
            }
        )
        self.policy = policy
        self.resolution = resolution
        self.expected_dwell_s = expected_dwell_s
        self.versions = {p.id: p.ocpp for p in site.piles}
        self.sessions: dict[tuple[str, int], Session] = {}
        self.measured: dict[tuple[str, int], EvseMeasurement] = {}
        self.last: ControlResult | None = None

    # -- events

    def on_start(
        self, pile: str, evse: int, transaction_id: str, at: datetime, **needs: Any
    ) -> Sends:
        """A transaction started: the EVSE gets a session from ``at`` (departure estimated)."""
        key = self._key(pile, evse)
        at = self._now(at)
        self.sessions[key] = Session(
            arrive=at,
            expected_dwell_s=self.expected_dwell_s,
            transaction_id=str(transaction_id),
            **needs,
        )
        self.measured.pop(key, None)
        return self._replan(at)

    def on_meter_values(
        self,
        pile: str,
        evse: int,
        amps: tuple[float, float, float] | None,
        energy_kwh: float,
        at: datetime,
        *,
        drawing: bool = True,
    ) -> Sends:
        """A meter value: the measured current per phase and the energy of the session so far.

        A vehicle that tapers draws less than its limit and gets less (the rest goes to
        others); one whose need is met, or that stopped drawing (``drawing=False``, e.g.
        SuspendedEV), leaves the sharing.
        """
        key = self._key(pile, evse)
        at = self._now(at)
        if key not in self.sessions:
            return []  # a meter value outside a transaction changes no plan
        self.measured[key] = EvseMeasurement(
            pile=pile, evse=evse, amps=amps, energy_kwh=max(0.0, energy_kwh), drawing=drawing
        )
        return self._replan(at)

    def on_stop(self, pile: str, evse: int, at: datetime) -> Sends:
        """The transaction ended: the session leaves the site; others may get its share."""
        key = self._key(pile, evse)
        at = self._now(at)
        self.measured.pop(key, None)
        if self.sessions.pop(key, None) is None:
            return []
        return self._replan(at)

    def on_tick(self, at: datetime) -> Sends:
        """Called periodically: re-plans once the last plan's ``resend_before`` has come (or,
        after a failed send made it forget its plan, at once)."""
        at = self._now(at)
        if self.last is None and not self.sessions:
            return []
        if self.last is not None and not self.last.plan.needs_resend(at):
            return []
        return self._replan(at)

    # -- the controller

    def _replan(self, at: datetime) -> Sends:
        site = self._site()
        state = SiteState(at=at, evses=tuple(self.measured.values()))
        result = control(
            site,
            state,
            policy=self.policy,
            resolution=self.resolution,
            previous=self.last,
        )
        self.last = result
        return result.plan.payloads()

    def _site(self) -> Site:
        """The site with the live sessions on their EVSEs."""
        piles = []
        for p in self.site.piles:
            evses = []
            for e in p.evses:
                live = self.sessions.get((p.id, e.id))
                evses.append(e.model_copy(update={"sessions": () if live is None else (live,)}))
            piles.append(p.model_copy(update={"evses": tuple(evses)}))
        return self.site.model_copy(update={"piles": tuple(piles)})

    def _key(self, pile: str, evse: int) -> tuple[str, int]:
        for p in self.site.piles:
            if p.id == pile and any(e.id == evse for e in p.evses):
                return (pile, evse)
        raise ControlError(
            f"pile {pile!r} EVSE {evse} is not in the site", field="pile", rule="site EVSEs"
        )

    def _now(self, at: datetime) -> datetime:
        at = at.astimezone(UTC).replace(microsecond=0)
        if self.last is not None and at < self.last.at:
            return self.last.at
        return at


def meter_reading(
    meter_value: Iterable[dict[str, Any]],
) -> tuple[tuple[float, float, float] | None, float | None]:
    """The current per phase (A) and the energy register (kWh) in a MeterValues list.

    Reads ``Current.Import`` per phase (L1, L2, L3; one without a phase counts for all three)
    and ``Energy.Active.Import.Register`` (Wh, or kWh when its unit says so); the latest
    sample of each wins. Both OCPP 1.6 (``unit``) and 2.0.1 (``unit_of_measure``) spellings.
    """
    amps: dict[int, float] = {}
    energy: float | None = None
    for entry in meter_value:
        for sample in entry.get("sampled_value", ()):
            measurand = sample.get("measurand", "Energy.Active.Import.Register")
            value = float(sample["value"])
            unit = sample.get("unit") or (sample.get("unit_of_measure") or {}).get("unit", "")
            if measurand == "Current.Import":
                phase = str(sample.get("phase", ""))[:2]
                for i, name in enumerate(("L1", "L2", "L3"), 1):
                    if phase in ("", name):
                        amps[i] = value
            elif measurand == "Energy.Active.Import.Register":
                energy = value if unit == "kWh" else value / 1000.0
    phases = (amps[1], amps[2], amps[3]) if len(amps) == 3 else None
    return phases, energy


class BalancedSite:
    """A :class:`SiteBalancer` wired to live connections: it sends what each event plans.

    Events are handled one at a time (a lock): the balancer plans, then each payload goes to
    its pile with SetChargingProfile, in the plan's order, awaiting each answer. Simplification:
    a pile that is not connected gets its payloads when it connects, while the others get
    theirs now (a plan's order keeps every prefix safe only when each pile gets its steps in
    turn; a pile that is offline keeps what it held, its last plan or that plan's safe tail).
    A send that fails stops the rest of that plan; the balancer then forgets its last plan,
    and the next event or tick sends every EVSE again.
    """

    def __init__(self, balancer: SiteBalancer) -> None:
        self.balancer = balancer
        self.connected: dict[str, tuple[Any, StationInfo]] = {}
        self.pending: dict[str, Sends] = {}
        self.exchanges: dict[str, list[Exchange]] = {}
        self.mirrors: dict[str, ProfileStore] = {}
        self.delivered: dict[str, asyncio.Event] = {}
        self.lock = asyncio.Lock()

    def _delivered(self, pile: str) -> asyncio.Event:
        return self.delivered.setdefault(pile, asyncio.Event())

    async def handle(self, event: Callable[[datetime], Sends]) -> None:
        """Run one balancer event at the CSMS's clock and send what it plans."""
        async with self.lock:
            try:
                sends = event(datetime.now(UTC))
            except OcppScheduleError as exc:
                logging.warning("balancing: %s", exc)
                return
            for pile, payload in sends:
                if pile not in self.connected:
                    self.pending.setdefault(pile, []).append((pile, payload))
                elif not await self._send(pile, payload):
                    self.balancer.last = None  # the next plan sends every EVSE
                    return

    async def connect(self, cp: Any, info: StationInfo) -> None:
        """A pile connected (booted): send what it missed."""
        async with self.lock:
            self.connected[info.id] = (cp, info)
            for pile, payload in self.pending.pop(info.id, []):
                if not await self._send(pile, payload):
                    self.balancer.last = None
                    return

    def disconnect(self, station_id: str) -> None:
        """A pile went away: plans for it wait until it connects again."""
        self.connected.pop(station_id, None)

    async def _send(self, pile: str, payload: dict[str, Any]) -> bool:
        """One SetChargingProfile; the answer and the library's prediction are kept."""
        cp, info = self.connected[pile]
        v = info.version
        try:
            request = read_set_charging_profile(payload, v)
            answer = from_ocpp_set_charging_profile_result(
                await cp.call(to_ocpp_set_charging_profile(request, v), suppress=False)
            )
        except Exception as exc:  # a lost pile or a refused message: log, never crash the CSMS
            logging.warning("balancing: sending to %s failed: %s", pile, exc)
            return False
        mirror, result = install(self.mirrors.get(pile, ProfileStore()), request, info.state)
        self.mirrors[pile] = mirror
        self.exchanges.setdefault(pile, []).append(
            Exchange("SetChargingProfile", payload, answer.payload, result.to_payload(v))
        )
        self._delivered(pile).set()
        return True

    async def ticking(self, every: float) -> None:
        """Every ``every`` seconds, ask the balancer whether the plan is due (``resend_before``)."""
        while True:
            await asyncio.sleep(every)
            await self.handle(self.balancer.on_tick)


# ------------------------------------------------------------------------------ server


async def serve(
    host: str = "127.0.0.1",
    port: int = 9000,
    *,
    stations: int = 1,
    plan: str = "demo",
    checks: Sequence[str] | None = None,
    evses: int = 2,
    expect_transactions: int = 1,
    ready_timeout: float = 10,
    response_timeout: float = 10,
    on_listen: Callable[[int], None] | None = None,
    balance: Site | SiteBalancer | None = None,
    tick: float = 30,
    hold: float | None = None,
) -> list[Outcome]:
    """Serve until ``stations`` charge points have run ``plan``; return their outcomes.

    ``port`` 0 picks a free port; ``on_listen`` is called with the port. ``checks``
    are names in ``CHECKS`` (default: all).

    With ``balance`` (a site, or a :class:`SiteBalancer` over one), no plan runs: each
    station is served for as long as it stays connected (``hold``: this many seconds after
    the first profile it was sent, then the CSMS closes), its transactions and meter values
    re-plan the site, and the balancer is asked every ``tick`` seconds whether the plan is
    due. Its outcome holds the SetChargingProfile requests it was sent, each with the
    library's prediction of its answer (check ``prediction``).
    """
    planner = PLANS[plan]
    chosen = [(name, CHECKS[name]) for name in (sorted(CHECKS) if checks is None else checks)]
    outcomes: list[Outcome] = []
    done = asyncio.Event()
    hub = None
    if balance is not None:
        hub = BalancedSite(balance if isinstance(balance, SiteBalancer) else SiteBalancer(balance))
        chosen = [("prediction", check_prediction)]
        expect_transactions = 0

    async def session(ws: Any) -> None:
        station_id = ws.request.path.strip("/") or "unnamed"
        version = VERSIONS.get(ws.subprotocol or "")
        if version is None:
            await ws.close(1002, "use subprotocol ocpp1.6, ocpp2.0.1 or ocpp2.1")
            return
        info = StationInfo(
            station_id, version, StationConfig.with_evses(evses), expect_transactions
        )
        cp = CSMS_CLASSES[version](station_id, ws, response_timeout=response_timeout)
        cp.info = info
        cp.hub = hub
        serving = asyncio.create_task(cp.start())
        if hub is not None:
            outcome = await balanced_session(hub, ws, cp, info, serving, ready_timeout, hold)
            outcomes.append(outcome)
            if len(outcomes) >= stations:
                done.set()
            return
        try:
            try:
                await asyncio.wait_for(info.ready.wait(), ready_timeout)
            except TimeoutError:
                raise TimeoutError(
                    f"no BootNotification and {expect_transactions} started transaction(s) "
                    f"within {ready_timeout} s"
                ) from None
            problems = await discover_config(cp, info, evses)
            outcome = await run_plan(cp, info, planner(info, datetime.now(UTC)))
            outcome.findings["config"] = problems
            for name, check in chosen:
                outcome.findings[name] = check(outcome)
        except Exception as exc:  # a failed session is an outcome too, never a hang
            outcome = Outcome(
                station_id, version, tuple(info.transactions), [], ProfileStore(), info.config
            )
            outcome.findings["session"] = [f"{type(exc).__name__}: {exc}"]
        finally:
            serving.cancel()
            await ws.close()
        outcomes.append(outcome)
        if len(outcomes) >= stations:
            done.set()

    async with websockets.serve(
        session, host, port, subprotocols=[Subprotocol(p) for p in VERSIONS]
    ) as server:
        bound = server.sockets[0].getsockname()[1]
        if on_listen is not None:
            on_listen(bound)
        ticker = None if hub is None else asyncio.create_task(hub.ticking(tick))
        try:
            await done.wait()
        finally:
            if ticker is not None:
                ticker.cancel()
    return outcomes


async def balanced_session(
    hub: BalancedSite,
    ws: Any,
    cp: Any,
    info: StationInfo,
    serving: asyncio.Task[Any],
    ready_timeout: float,
    hold: float | None,
) -> Outcome:
    """Serve one station of a balanced site until it leaves (or ``hold`` s after its first
    profile); its outcome: the profiles it was sent, checked against the library's answers."""
    findings: list[str] = []
    try:
        try:
            await asyncio.wait_for(info.ready.wait(), ready_timeout)
        except TimeoutError:
            raise TimeoutError(f"no BootNotification within {ready_timeout} s") from None
        await hub.connect(cp, info)
        if hold is None:
            with contextlib.suppress(websockets.ConnectionClosed):  # the station left
                await serving
        else:
            try:
                await asyncio.wait_for(hub._delivered(info.id).wait(), ready_timeout)
            except TimeoutError:
                raise TimeoutError(f"no profile sent within {ready_timeout} s") from None
            await asyncio.sleep(hold)
    except Exception as exc:  # a failed session is an outcome too, never a hang
        findings.append(f"{type(exc).__name__}: {exc}")
    finally:
        hub.disconnect(info.id)
        serving.cancel()
        await ws.close()
    outcome = Outcome(
        info.id,
        info.version,
        tuple(info.transactions),
        list(hub.exchanges.get(info.id, [])),
        hub.mirrors.get(info.id, ProfileStore()),
        info.config,
    )
    outcome.findings["prediction"] = check_prediction(outcome)
    if findings:
        outcome.findings["session"] = findings
    return outcome


def report(outcome: Outcome) -> str:
    """A readable account of one station's session: each answer, the library's, the checks."""
    lines = [f"{outcome.station} (OCPP {outcome.version.value})"]
    for tx in outcome.transactions:
        lines.append(
            f"  transaction {tx.id} on EVSE {tx.evse_id} since {format_timestamp(tx.start)}"
        )
    for ex in outcome.exchanges:
        if ex.action == "GetCompositeSchedule":
            sched = ex.reported.schedule if ex.reported else None
            got = (
                "limit/phases " + " ".join(f"{p.limit:g}/{p.number_phases}" for p in sched.periods)
                if sched
                else _status(ex.answer)
            )
            same = (
                "same as the library" if ex.answer == ex.predicted else "DIFFERS from the library"
            )
            lines.append(f"  {ex.describe()}\n      station: {got}; {same}")
        else:
            lines.append(
                f"  {ex.describe()}\n      station: {_status(ex.answer)}; "
                f"library: {_status(ex.predicted)}"
            )
    for name, findings in outcome.findings.items():
        lines.append(f"  check {name}: {'passed' if not findings else 'FAILED'}")
        lines.extend(f"    {f}" for f in findings)
    return "\n".join(lines)


def _status(payload: dict[str, Any]) -> str:
    reason = payload.get("statusInfo", {}).get("reasonCode")
    return str(payload.get("status")) + (f" ({reason})" if reason else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000, help="0: any free port")
    parser.add_argument("--stations", type=int, default=1, help="stop after N stations")
    parser.add_argument("--plan", choices=sorted(PLANS), default="demo")
    parser.add_argument(
        "--check", choices=sorted(CHECKS), action="append", help="default: every check"
    )
    parser.add_argument("--evses", type=int, default=2, help="each station's EVSEs 1..N")
    parser.add_argument(
        "--balance",
        metavar="SITE_FILE",
        help="balance this site (JSON or TOML) instead of running a plan: re-plan on every "
        "transaction event and meter value, and when the plan is due",
    )
    parser.add_argument(
        "--tick", type=float, default=30, help="with --balance: seconds between plan-due checks"
    )
    parser.add_argument("--verbose", action="store_true", help="log every OCPP message")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    try:
        site = None if args.balance is None else load_site(args.balance)
    except (OSError, OcppScheduleError) as exc:
        print(f"csms: {exc}", file=sys.stderr)
        return 2

    def listening(port: int) -> None:
        print(f"listening on ws://{args.host}:{port}", flush=True)

    outcomes = asyncio.run(
        serve(
            args.host,
            args.port,
            stations=args.stations,
            plan=args.plan,
            checks=args.check or sorted(CHECKS),
            evses=args.evses,
            on_listen=listening,
            balance=site,
            tick=args.tick,
        )
    )
    for outcome in outcomes:
        print(report(outcome))
    ok = all(o.ok for o in outcomes)
    print("all checks passed" if ok else "some checks FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

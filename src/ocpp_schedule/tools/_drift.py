"""Drift: does a charging station do what it was told?

A CSMS keeps the SetChargingProfile requests it sent; the station answers
GetCompositeSchedule with what it will actually do. :func:`check_drift`
replays the requests through the library's station-side rules (as the
``composite`` command does), computes the composite the library predicts for
the EVSE, window and unit the station answered for, and compares the two
schedules instant by instant. Each :class:`DriftFinding` is a stretch of the
window where they differ: by how much, in limit and/or phases, and which
profile the library says should govern there (the composite's provenance).

:func:`read_composite_response` reads the station's answer (OCPP 1.6
``GetCompositeSchedule.conf`` or 2.0.1/2.1 ``GetCompositeScheduleResponse``);
:func:`compare` is the pure comparison of two schedules. ``docs/drift.md``
documents the decisions (tolerance, absent ``numberPhases``, Rejected answers).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from ..engine._compile import MAX_LIMIT
from ..engine._composite import CompositeSchedule, composite_schedule
from ..engine._provenance import LimitSource
from ..errors import PayloadError, QueryError, TimestampError
from ..station._config import StationConfig
from ..station._mirror import StationMirror
from ..station._rules import RejectionReason, SetChargingProfileResult, replay
from ..station._store import ProfileStore, StationState, Transaction
from ..wire._answers import format_instant
from ..wire._enums import ChargingProfilePurpose, ChargingRateUnit, OcppVersion
from ..wire._models import SetChargingProfileRequest
from ..wire._payloads import detect_version, parse_version, read_set_charging_profile
from ..wire._timestamps import LAST_SECOND, from_epoch, parse_timestamp, to_epoch
from ._phases import all_phase_limit

__all__ = [
    "DEFAULT_TOLERANCE",
    "DriftFinding",
    "DriftReport",
    "ReportedPeriod",
    "ReportedSchedule",
    "check_drift",
    "compare",
    "read_composite_response",
]

DEFAULT_TOLERANCE = 0.1
"""The default tolerance, in amperes: the library rounds limits down to 0.1 A (or W),
stations may round to the nearest tenth or not at all, or compute in A and answer in W.
For an answer in W the default is the same current at the supply voltage and the phases
in use: ``0.1 * voltage * phases`` W (69 W at 230 V on 3 phases); see docs/drift.md."""

FindingKind = Literal["limit", "phases", "limit+phases", "missing", "rejected", "unknown-evse"]


# ----------------------------------------------------------------- the station's answer


@dataclass(frozen=True)
class ReportedPeriod:
    """One period of the station's answer; ``number_phases`` None where it gave none."""

    start_period: int
    limit: float
    number_phases: int | None = None


@dataclass(frozen=True)
class ReportedSchedule:
    """A GetCompositeSchedule answer as read: status, and for Accepted the schedule.

    ``start`` is the schedule's start, a UTC datetime (sub-second part dropped), and
    ``start_epoch`` the same in epoch seconds. For a Rejected answer the schedule fields
    are None and ``reason_code`` holds 2.x ``statusInfo.reasonCode``.
    """

    version: OcppVersion
    status: str
    evse_id: int | None = None
    start_epoch: int | None = None
    duration: int | None = None
    unit: ChargingRateUnit | None = None
    periods: tuple[ReportedPeriod, ...] = ()
    reason_code: str | None = None

    @property
    def start(self) -> datetime | None:
        """The schedule's start, a UTC datetime (None for a Rejected answer)."""
        return None if self.start_epoch is None else from_epoch(self.start_epoch)

    @property
    def accepted(self) -> bool:
        """True when the station answered with a schedule."""
        return self.status == "Accepted"


def _get(obj: Mapping[str, Any], key: str, where: str, kind: type | tuple[type, ...]) -> Any:
    path = f"{where}.{key}" if where else key
    if key not in obj:
        raise PayloadError("required field is missing", field=path, rule="GetCompositeSchedule")
    value = obj[key]
    if isinstance(value, bool) or not isinstance(value, kind):
        first = kind if isinstance(kind, type) else kind[0]
        want = {int: "an integer", str: "a string"}.get(first, "an object")
        raise PayloadError(
            f"expected {want}, got {type(value).__name__}", field=path, rule="GetCompositeSchedule"
        )
    return value


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise PayloadError(
            "expected a JSON object", field=where or None, rule="GetCompositeSchedule"
        )
    return value


def _number(period: Mapping[str, Any], key: str, where: str) -> float:
    raw_limit = _get(period, key, where, (int, float))
    if not (isinstance(raw_limit, int) or math.isfinite(raw_limit)) or not (
        -MAX_LIMIT <= raw_limit <= MAX_LIMIT
    ):
        raise PayloadError(
            f"{key} {_short(raw_limit)} is not a finite number within "
            f"-{MAX_LIMIT:g}..{MAX_LIMIT:g}",
            field=f"{where}.{key}",
            rule="docs/robustness.md: largest limit",
        )
    return float(raw_limit)


def _all_phase(
    period: Mapping[str, Any], limit: float, phases: int | None, where: str, unit_w: bool
) -> float:
    """A 2.1 period's all-phase limit: with limit_L2/limit_L3, ``limit`` is L1's and the
    all-phase limit is their sum (W) or the least (A) over the phases in use (V21-15)."""
    l2 = _number(period, "limit_L2", where) if "limit_L2" in period else None
    l3 = _number(period, "limit_L3", where) if "limit_L3" in period else None
    return all_phase_limit(limit, l2, l3, phases, unit_w)


def _periods(raw: Any, where: str, unit_w: bool = False) -> tuple[ReportedPeriod, ...]:
    if not isinstance(raw, list) or not raw:
        raise PayloadError(
            "expected a non-empty array of periods", field=where, rule="GetCompositeSchedule"
        )
    out: list[ReportedPeriod] = []
    for i, item in enumerate(raw):
        p_where = f"{where}[{i}]"
        period = _mapping(item, p_where)
        start = _get(period, "startPeriod", p_where, int)
        raw_limit = _get(period, "limit", p_where, (int, float))
        if not (isinstance(raw_limit, int) or math.isfinite(raw_limit)) or not (
            -MAX_LIMIT <= raw_limit <= MAX_LIMIT
        ):
            raise PayloadError(
                f"limit {_short(raw_limit)} is not a finite number within "
                f"-{MAX_LIMIT:g}..{MAX_LIMIT:g}",
                field=f"{p_where}.limit",
                rule="docs/robustness.md: largest limit",
            )
        limit = float(raw_limit)
        phases = period.get("numberPhases")
        if phases is not None:
            phases = _get(period, "numberPhases", p_where, int)
        limit = _all_phase(period, limit, phases, p_where, unit_w)
        if start < 0 or (out and start <= out[-1].start_period):
            raise PayloadError(
                f"startPeriod {start} does not follow {out[-1].start_period if out else 0}",
                field=f"{p_where}.startPeriod",
                rule="GetCompositeSchedule: periods in increasing order",
            )
        out.append(ReportedPeriod(start, limit, phases))
    return tuple(out)


def _short(value: float) -> str:
    """A number for a message: huge integers by their number of digits."""
    text = repr(value)
    return text if len(text) <= 24 else f"of {len(text)} digits"


def _unit(value: Any, where: str) -> ChargingRateUnit:
    try:
        return ChargingRateUnit(value)
    except ValueError:
        raise PayloadError(
            f"{value!r} is not A or W", field=where, rule="GetCompositeSchedule"
        ) from None


def read_composite_response(
    payload: Any, version: OcppVersion | str | None = None
) -> ReportedSchedule:
    """Read a GetCompositeSchedule response payload (1.6 ``.conf`` or 2.0.1/2.1).

    The version is detected when not given: ``schedule`` is 2.x, ``chargingSchedule``,
    ``connectorId`` or ``scheduleStart`` at the top is 1.6; a bare Rejected answer
    counts as 2.0.1. Keys the library does not use are ignored. Raises
    :class:`PayloadError` (with the field's path) for an answer it cannot compare.
    """
    if not isinstance(payload, Mapping):
        raise PayloadError(
            f"expected a JSON object, got {type(payload).__name__}",
            field="payload",
            rule="GetCompositeSchedule",
        )
    data = payload
    status = _get(data, "status", "", str)
    if version is not None:
        v = parse_version(version)
    elif "schedule" in data:
        v = OcppVersion.V201
    elif {"chargingSchedule", "connectorId", "scheduleStart"} & set(data):
        v = OcppVersion.V16
    else:
        v = OcppVersion.V201
    if status != "Accepted":
        info = data.get("statusInfo")
        code = info.get("reasonCode") if isinstance(info, Mapping) else None
        return ReportedSchedule(v, status, reason_code=code if isinstance(code, str) else None)
    if v is OcppVersion.V16:
        evse = _get(data, "connectorId", "", int)
        sched = _mapping(_get(data, "chargingSchedule", "", Mapping), "chargingSchedule")
        start_text = data.get("scheduleStart", sched.get("startSchedule"))
        if start_text is None:
            raise PayloadError(
                "required field is missing (nor is chargingSchedule.startSchedule given)",
                field="scheduleStart",
                rule="GetCompositeSchedule",
            )
        where = "chargingSchedule"
        duration_key = f"{where}.duration"
    else:
        sched = _mapping(_get(data, "schedule", "", Mapping), "schedule")
        evse = _get(sched, "evseId", "schedule", int)
        start_text = _get(sched, "scheduleStart", "schedule", str)
        where = "schedule"
        duration_key = "schedule.duration"
    if "duration" not in sched:
        raise PayloadError(
            "required to know the window the station answered for",
            field=duration_key,
            rule="GetCompositeSchedule",
        )
    duration = _get(sched, "duration", where, int)
    if duration < 0:
        raise PayloadError("duration is negative", field=duration_key)
    try:
        start = to_epoch(parse_timestamp(start_text, "scheduleStart"))
    except TimestampError as exc:
        raise PayloadError(exc.message, field="scheduleStart", rule=exc.rule) from None
    unit = _unit(_get(sched, "chargingRateUnit", where, str), f"{where}.chargingRateUnit")
    periods = _periods(
        sched.get("chargingSchedulePeriod"),
        f"{where}.chargingSchedulePeriod",
        unit is ChargingRateUnit.W,
    )
    return ReportedSchedule(v, status, evse, start, duration, unit, periods)


# ------------------------------------------------------------------------- findings


@dataclass(frozen=True)
class DriftFinding:
    """A stretch ``[start_period, end_period)`` (seconds from the report's start) that differs.

    ``difference`` is reported minus expected limit. ``governed_by`` is what the
    library says sets the limit there: the sources of the predicted periods that
    overlap the stretch. ``kind``: ``limit``, ``phases``, ``limit+phases``,
    ``missing`` (the station reported no period there), ``rejected`` (the station
    answered Rejected) or ``unknown-evse`` (the station answered for an EVSE the
    configuration says it lacks).
    """

    kind: FindingKind
    start_epoch: int
    """The report's start, epoch seconds (:attr:`start` as a datetime)."""
    start_period: int
    end_period: int
    expected_limit: float | None = None
    reported_limit: float | None = None
    expected_phases: int | None = None
    reported_phases: int | None = None
    governed_by: tuple[LimitSource, ...] = ()
    unit: ChargingRateUnit | None = None
    note: str = ""

    @property
    def difference(self) -> float | None:
        """Reported minus expected limit (None when either is missing)."""
        if self.expected_limit is None or self.reported_limit is None:
            return None
        return self.reported_limit - self.expected_limit

    @property
    def start(self) -> datetime:
        """The report's start (``start_period`` counts from it), a UTC datetime."""
        return from_epoch(self.start_epoch)

    @property
    def start_time(self) -> datetime:
        """Where the stretch starts, as a UTC datetime."""
        return from_epoch(self.start_epoch + self.start_period)

    @property
    def end_time(self) -> datetime:
        """Where the stretch ends, as a UTC datetime.

        A stretch that ends with the calendar (at 10000-01-01, which no datetime
        holds) raises :class:`QueryError`; ``to_dict`` and ``str`` write that end
        as ``10000-01-01T00:00:00Z``.
        """
        end = self.start_epoch + self.end_period
        if end > LAST_SECOND:
            raise QueryError(
                "the stretch ends with the calendar (10000-01-01), which no datetime holds",
                field="end_time",
            )
        return from_epoch(end)

    def to_dict(self) -> dict[str, Any]:
        """The finding as JSON data."""
        return {
            "kind": self.kind,
            "from": format_instant(self.start_epoch + self.start_period),
            "to": format_instant(self.start_epoch + self.end_period),
            "startPeriod": self.start_period,
            "endPeriod": self.end_period,
            "expectedLimit": self.expected_limit,
            "reportedLimit": self.reported_limit,
            "difference": _tidy(self.difference),
            "expectedPhases": self.expected_phases,
            "reportedPhases": self.reported_phases,
            "unit": self.unit.value if self.unit else None,
            "governedBy": [str(s) for s in self.governed_by],
            "note": self.note,
        }

    def __str__(self) -> str:
        if self.kind in ("rejected", "unknown-evse"):
            return self.note
        unit = f" {self.unit.value}" if self.unit else ""
        when = (
            f"{format_instant(self.start_epoch + self.start_period)} .. "
            f"{format_instant(self.start_epoch + self.end_period)} "
            f"(+{self.start_period}..+{self.end_period} s)"
        )
        if self.kind == "missing":
            what = f"no period reported, expected {self.expected_limit}{unit}"
        else:
            parts = []
            diff = _tidy(self.difference)
            sign = "+" if diff is not None and diff > 0 else ""
            parts.append(
                f"reported {self.reported_limit}{unit}, expected {self.expected_limit}{unit} "
                f"({sign}{diff})"
            )
            if self.kind in ("phases", "limit+phases"):
                parts.append(
                    f"reported {self.reported_phases} phase(s), expected {self.expected_phases}"
                )
            what = "; ".join(parts)
        by = "; then ".join(str(s) for s in self.governed_by) or "nothing"
        return f"{when}: {what}; should be set by {by}"


NO_LIMIT_VALUES = frozenset({-1.0})
"""Reported limits that mean "no limit" by a known convention (MicroOcpp answers -1 where
no profile is in force). Such a value agrees with a predicted stretch in which no profile
is in force (the prediction is the station's default limit); where a profile governs it is
still a difference (docs/semantics.md V21-13)."""


def _no_limit_agrees(reported: float, expected: Any) -> bool:
    """True when ``reported`` is a "no limit" convention and nothing is in force there."""
    return reported in NO_LIMIT_VALUES and all(s.kind == "default" for s in expected.sources)


def _tidy(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def compare(
    predicted: CompositeSchedule,
    reported: ReportedSchedule,
    *,
    tolerance: float | None = None,
    voltage: float = 230.0,
) -> tuple[DriftFinding, ...]:
    """Where an Accepted report differs from the predicted schedule of the same window.

    The window is ``[0, max(duration, 1))`` seconds from the report's start; limits
    differ when they are more than ``tolerance`` apart (in the report's unit; by default
    :data:`DEFAULT_TOLERANCE` A, or for W its equivalent ``0.1 * voltage * phases`` with the
    predicted phases of each stretch); phases differ when the report
    gives a ``numberPhases`` other than the predicted one (an absent one is not
    compared). Neighbouring stretches that differ in the same way form one finding.
    """
    if not isinstance(predicted, CompositeSchedule):
        raise QueryError("expected a CompositeSchedule", field="predicted")
    if not isinstance(reported, ReportedSchedule):
        raise QueryError("expected a ReportedSchedule", field="reported")
    if not reported.accepted or reported.start_epoch is None or reported.duration is None:
        raise QueryError("only an Accepted report has a schedule to compare", field="reported")
    fixed = None if tolerance is None else _tolerance(tolerance)
    volts = _voltage(voltage)
    amps_to_w = DEFAULT_TOLERANCE * volts if reported.unit is ChargingRateUnit.W else None
    end = max(reported.duration, 1)
    cuts = {0}
    cuts.update(p.start_period for p in predicted.periods if p.start_period < end)
    cuts.update(p.start_period for p in reported.periods if p.start_period < end)
    bounds = [*sorted(cuts), end]
    findings: list[DriftFinding] = []
    pi = ri = 0
    exp_periods, rep_periods = predicted.periods, reported.periods
    for lo, hi in itertools.pairwise(bounds):
        while pi + 1 < len(exp_periods) and exp_periods[pi + 1].start_period <= lo:
            pi += 1
        while ri + 1 < len(rep_periods) and rep_periods[ri + 1].start_period <= lo:
            ri += 1
        exp = exp_periods[pi]
        rep = rep_periods[ri] if rep_periods[ri].start_period <= lo else None
        kind: FindingKind | None
        if rep is None:
            kind = "missing"
        else:
            allowed = (
                fixed
                if fixed is not None
                else DEFAULT_TOLERANCE
                if amps_to_w is None
                else amps_to_w * exp.number_phases
            )
            limit_differs = abs(rep.limit - exp.limit) > allowed + 1e-9
            if limit_differs and _no_limit_agrees(rep.limit, exp):
                limit_differs = False
            phases_differ = rep.number_phases is not None and rep.number_phases != exp.number_phases
            kind = (
                "limit+phases"
                if limit_differs and phases_differ
                else "limit"
                if limit_differs
                else "phases"
                if phases_differ
                else None
            )
        if kind is None:
            continue
        finding = DriftFinding(
            kind=kind,
            start_epoch=reported.start_epoch,
            start_period=lo,
            end_period=hi,
            expected_limit=exp.limit,
            reported_limit=rep.limit if rep else None,
            expected_phases=exp.number_phases,
            reported_phases=rep.number_phases if rep else None,
            governed_by=exp.sources,
            unit=reported.unit,
        )
        last = findings[-1] if findings else None
        if (
            last is not None
            and last.end_period == lo
            and (last.kind, last.expected_limit, last.reported_limit)
            == (kind, finding.expected_limit, finding.reported_limit)
            and (last.expected_phases, last.reported_phases)
            == (finding.expected_phases, finding.reported_phases)
        ):
            sources = last.governed_by + tuple(
                s for s in finding.governed_by if s not in last.governed_by
            )
            findings[-1] = DriftFinding(
                **{**_fields(last), "end_period": hi, "governed_by": sources}
            )
        else:
            findings.append(finding)
    return tuple(findings)


def _tolerance(tolerance: object) -> float:
    """A tolerance: a finite number >= 0 (int or float, not bool), or QueryError."""
    if (
        isinstance(tolerance, bool)
        or not isinstance(tolerance, (int, float))
        or not math.isfinite(tolerance)
        or tolerance < 0
    ):
        raise QueryError("tolerance must be a finite number >= 0", field="tolerance")
    return float(tolerance)


def _voltage(voltage: object) -> float:
    if (
        isinstance(voltage, bool)
        or not isinstance(voltage, (int, float))
        or not math.isfinite(voltage)
        or voltage <= 0
    ):
        raise QueryError("voltage must be a finite number > 0", field="voltage")
    return float(voltage)


def _fields(finding: DriftFinding) -> dict[str, Any]:
    return {name: getattr(finding, name) for name in DriftFinding.__dataclass_fields__}


# --------------------------------------------------------------------------- report


@dataclass(frozen=True)
class DriftReport:
    """The outcome of :func:`check_drift`: the findings and what they were computed from.

    ``agrees`` is True when there is no finding. ``skipped`` lists the requests the
    station-side rules rejected (1-based index and answer): they are not part of
    the prediction, as they would not be on the station.
    """

    reported: ReportedSchedule
    predicted: CompositeSchedule | None
    findings: tuple[DriftFinding, ...]
    tolerance: float | None
    skipped: tuple[tuple[int, SetChargingProfileResult], ...] = field(default=())
    voltage: float = 230.0

    @property
    def agrees(self) -> bool:
        """True when the station's answer matches the prediction within the tolerance."""
        return not self.findings

    def summary(self) -> str:
        """One line: what was compared and the verdict."""
        r = self.reported
        if not r.accepted or r.start_epoch is None or r.unit is None:
            return f"the station answered {r.status}: no schedule to compare"
        head = (
            f"EVSE {r.evse_id}, {format_instant(r.start_epoch)} + {r.duration} s, "
            f"in {r.unit.value} (tolerance {self.tolerance_text()})"
        )
        if self.agrees:
            return f"{head}: the station's schedule agrees with the prediction"
        count = len(self.findings)
        return f"{head}: {count} difference{'s' if count != 1 else ''}"

    def tolerance_text(self) -> str:
        """The tolerance in words: the given one, or the per-unit default."""
        unit = self.reported.unit
        if self.tolerance is not None:
            return f"{self.tolerance:g}{' ' + unit.value if unit else ''}"
        if unit is ChargingRateUnit.W:
            per_phase = DEFAULT_TOLERANCE * self.voltage
            return f"{DEFAULT_TOLERANCE:g} A = {per_phase:g} W per phase at {self.voltage:g} V"
        return f"{DEFAULT_TOLERANCE:g} A"

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON data."""
        r = self.reported
        return {
            "agrees": self.agrees,
            "status": r.status,
            "evseId": r.evse_id,
            "scheduleStart": None if r.start_epoch is None else format_instant(r.start_epoch),
            "duration": r.duration,
            "chargingRateUnit": r.unit.value if r.unit else None,
            "tolerance": self.tolerance,
            "toleranceText": self.tolerance_text(),
            "findings": [f.to_dict() for f in self.findings],
            "skipped": [
                {"request": i, "reason": res.reason.value if res.reason else None}
                for i, res in self.skipped
            ],
        }


def _requests(
    requests: Sequence[SetChargingProfileRequest | Mapping[str, Any]],
    version: OcppVersion | str | None,
) -> tuple[list[SetChargingProfileRequest], OcppVersion]:
    for i, r in enumerate(requests):
        if not isinstance(r, (SetChargingProfileRequest, Mapping)):
            raise QueryError(
                "expected a SetChargingProfileRequest or a request payload (JSON object), "
                f"got {type(r).__name__}",
                field=f"requests[{i}]",
            )
    payloads = [r for r in requests if not isinstance(r, SetChargingProfileRequest)]
    if version is not None:
        v = parse_version(version)
    elif payloads:
        found = {detect_version(p) for p in payloads}
        if OcppVersion.V16 in found and len(found) > 1:
            raise PayloadError("the requests mix OCPP 1.6 and 2.x", field="requests")
        v = (
            OcppVersion.V21
            if OcppVersion.V21 in found
            else OcppVersion.V201
            if OcppVersion.V201 in found
            else OcppVersion.V16
        )
    else:
        v = OcppVersion.V201
    out = [
        r if isinstance(r, SetChargingProfileRequest) else read_set_charging_profile(r, v)
        for r in requests
    ]
    return out, v


def check_drift(
    requests: Sequence[SetChargingProfileRequest | Mapping[str, Any]]
    | StationMirror
    | ProfileStore,
    reported: ReportedSchedule | Mapping[str, Any],
    *,
    version: OcppVersion | str | None = None,
    transactions: Iterable[Transaction] = (),
    config: StationConfig | None = None,
    tolerance: float | None = None,
) -> DriftReport:
    """Compare a station's GetCompositeSchedule answer with what the requests predict.

    ``requests`` are the SetChargingProfile requests the station received, in order
    (payloads or models; the version is detected, or ``version``). They are replayed
    through the station-side rules with ChargingStationExternalConstraints installed
    as set locally, exactly as the ``composite`` command does; rejected ones are
    listed in ``skipped``. The prediction is the composite for the report's EVSE,
    start, duration and unit.

    ``requests`` may instead be a :class:`StationMirror` (what the CSMS knows the station
    holds, as the station answered: its store, version, configuration and transactions
    are used unless ``config``/``transactions``/``version`` are given) or a
    :class:`ProfileStore` (the installed profiles themselves; nothing is replayed and
    ``skipped`` is empty).

    A Rejected report gives one finding of kind ``rejected``; a report for an EVSE the
    configuration does not list, one of kind ``unknown-evse``. ``tolerance`` None is the
    per-unit default (:data:`DEFAULT_TOLERANCE` A, its equivalent in W).

    When the two differ and a TxProfile for the answer's EVSE (any EVSE, for EVSE 0)
    was skipped because no transaction was running there, the library cannot tell
    whether the station or the missing transaction explains the difference: it raises
    :class:`QueryError` ("cannot compare") instead of blaming another profile.
    """
    if not isinstance(reported, (ReportedSchedule, Mapping)):
        raise QueryError(
            "expected a ReportedSchedule or a GetCompositeSchedule response payload",
            field="reported",
        )
    report = (
        reported if isinstance(reported, ReportedSchedule) else read_composite_response(reported)
    )
    if isinstance(requests, StationMirror | ProfileStore):
        return _check_store_drift(
            requests,
            report,
            version=version,
            transactions=transactions,
            config=config,
            tolerance=tolerance,
        )
    if isinstance(requests, (str, bytes, Mapping)) or not isinstance(requests, Iterable):
        raise QueryError("expected a sequence of SetChargingProfile requests", field="requests")
    if isinstance(transactions, (str, bytes, Mapping)) or not isinstance(transactions, Iterable):
        raise QueryError("expected an iterable of Transaction", field="transactions")
    if config is not None and not isinstance(config, StationConfig):
        raise QueryError("expected a StationConfig", field="config")
    if tolerance is not None:
        _tolerance(tolerance)
    if version is None and not requests:
        version = report.version
    reqs, v = _requests(requests, version)
    if (v is OcppVersion.V16) != (report.version is OcppVersion.V16) and report.accepted:
        raise PayloadError(
            f"the requests are OCPP {v.value} and the report is OCPP {report.version.value}",
            field="reported",
            rule="a station speaks one version",
        )
    cfg = config or StationConfig()
    txs = tuple(transactions)
    state = StationState(cfg, v, txs)
    store = ProfileStore()
    skipped = []
    for i, (store, result) in enumerate(replay(reqs, state, local_purposes=True), 1):  # noqa: B007
        if not result.accepted:
            skipped.append((i, result))
    drift = _judge(report, store, cfg, txs, tolerance, tuple(skipped))
    if drift.findings and drift.predicted is not None:
        assert report.evse_id is not None
        _refuse_without_transaction(reqs, skipped, report.evse_id)
    return drift


def _check_store_drift(
    held: StationMirror | ProfileStore,
    report: ReportedSchedule,
    *,
    version: OcppVersion | str | None,
    transactions: Iterable[Transaction],
    config: StationConfig | None,
    tolerance: float | None,
) -> DriftReport:
    """:func:`check_drift` against what a station holds (a mirror or a store), not requests."""
    if isinstance(transactions, (str, bytes, Mapping)) or not isinstance(transactions, Iterable):
        raise QueryError("expected an iterable of Transaction", field="transactions")
    if config is not None and not isinstance(config, StationConfig):
        raise QueryError("expected a StationConfig", field="config")
    if tolerance is not None:
        _tolerance(tolerance)
    txs = tuple(transactions)
    if isinstance(held, StationMirror):
        store, cfg = held.store, config or held.config
        txs = txs or held.transactions
        v = parse_version(version) if version is not None else held.version
    else:
        store, cfg = held, config or StationConfig()
        v = parse_version(version) if version is not None else report.version
    if (v is OcppVersion.V16) != (report.version is OcppVersion.V16) and report.accepted:
        raise PayloadError(
            f"the station holds OCPP {v.value} profiles and the report is OCPP "
            f"{report.version.value}",
            field="reported",
            rule="a station speaks one version",
        )
    return _judge(report, store, cfg, txs, tolerance, ())


def _judge(
    report: ReportedSchedule,
    store: ProfileStore,
    cfg: StationConfig,
    txs: tuple[Transaction, ...],
    tolerance: float | None,
    skipped: tuple[tuple[int, SetChargingProfileResult], ...],
) -> DriftReport:
    """The drift findings of ``report`` against the composite of ``store``."""
    if not report.accepted:
        code = f" (reasonCode {report.reason_code})" if report.reason_code else ""
        note = (
            f"the station answered {report.status}{code}: a station holding these profiles "
            "answers for every EVSE it has in a unit it accepts, so nothing could be compared"
        )
        finding = DriftFinding("rejected", 0, 0, 0, note=note)
        return DriftReport(report, None, (finding,), tolerance, skipped, cfg.supply_voltage)
    assert report.evse_id is not None and report.start_epoch is not None
    assert report.duration is not None and report.unit is not None
    if not cfg.knows_evse(report.evse_id):
        note = (
            f"the station answered for EVSE {report.evse_id}, which the configuration does not "
            "have; the library would answer Rejected (K08.FR.05)"
        )
        finding = DriftFinding("unknown-evse", report.start_epoch, 0, report.duration, note=note)
        return DriftReport(report, None, (finding,), tolerance, skipped, cfg.supply_voltage)
    predicted = composite_schedule(
        store,
        evse_id=report.evse_id,
        start=report.start_epoch,
        duration=report.duration,
        unit=report.unit,
        transaction=list(txs) or None,
        config=cfg,
    )
    findings = compare(predicted, report, tolerance=tolerance, voltage=cfg.supply_voltage)
    return DriftReport(report, predicted, findings, tolerance, skipped, cfg.supply_voltage)


def _refuse_without_transaction(
    requests: Sequence[SetChargingProfileRequest],
    skipped: Sequence[tuple[int, SetChargingProfileResult]],
    evse_id: int,
) -> None:
    """ "Cannot compare" when TxProfiles that bear on the answer were skipped for want of a
    transaction: the prediction lacks them, so a difference proves nothing."""
    missing = [
        i
        for i, result in skipped
        if result.reason is RejectionReason.NO_ACTIVE_TRANSACTION
        and (evse_id == 0 or requests[i - 1].evse_id == evse_id)
    ]
    if missing:
        which = ", ".join(str(i) for i in missing)
        raise QueryError(
            f"cannot compare: the answer differs from the prediction, but TxProfile request(s) "
            f"{which} were skipped because no transaction was running; give the transaction "
            "(transactions=..., or --transaction-id and --transaction-start)",
            field="transactions",
            rule="docs/drift.md",
        )


def transaction_evse(
    requests: Sequence[SetChargingProfileRequest], transaction_id: str | None, evse_id: int
) -> int:
    """The EVSE a transaction runs on for a query of ``evse_id`` (decision C1 for EVSE 0)."""
    if evse_id > 0:
        return evse_id
    for req in requests:
        prof = req.charging_profile
        if (
            prof.charging_profile_purpose is ChargingProfilePurpose.TX_PROFILE
            and prof.transaction_id == transaction_id
            and req.evse_id > 0
        ):
            return req.evse_id
    return 1

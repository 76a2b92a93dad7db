"""The benchmark workloads W1, W2 and W3 of ../shared/reference/benchmarks.md, generated.

Each builder returns a :class:`Workload`: the OCPP 1.6 SetChargingProfile
payloads, the store they leave installed (replayed through the station-side
rules, so the benchmark measures what a station would hold), and the query.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ocpp_schedule import (
    OcppVersion,
    ProfileStore,
    StationState,
    Transaction,
    read_set_charging_profile,
    replay,
)

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _iso(seconds: int) -> str:
    return (T0 + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Workload:
    """One benchmark case: what is installed and what is asked."""

    name: str
    payloads: list[dict[str, Any]]
    evse_id: int
    duration: int
    transaction: Transaction | None = None
    unit: str = "A"
    start: datetime = T0
    store: ProfileStore = field(default_factory=ProfileStore)

    def __post_init__(self) -> None:
        state = StationState(
            version=OcppVersion.V16,
            transactions=(self.transaction,) if self.transaction else (),
        )
        requests = [read_set_charging_profile(p, "1.6") for p in self.payloads]
        store = ProfileStore()
        for store, result in replay(requests, state):  # noqa: B007
            if not result.accepted:
                raise RuntimeError(f"{self.name}: a workload request was rejected: {result}")
        self.store = store

    @property
    def input_periods(self) -> int:
        """Periods over all installed schedules (the input segments)."""
        return sum(len(e.profile.charging_schedule[0].charging_schedule_period) for e in self.store)

    def query(self) -> dict[str, Any]:
        """Keyword arguments for ``composite_schedule`` (besides the profiles)."""
        return {
            "evse_id": self.evse_id,
            "start": self.start,
            "duration": self.duration,
            "unit": self.unit,
            "transaction": self.transaction,
        }


def _request(
    connector: int,
    pid: int,
    purpose: str,
    kind: str,
    unit: str,
    periods: list[tuple[int, float]],
    *,
    stack: int = 0,
    start: int | None = None,
    duration: int | None = None,
    recurrency: str | None = None,
    transaction_id: int | None = None,
) -> dict[str, Any]:
    schedule: dict[str, Any] = {
        "chargingRateUnit": unit,
        "chargingSchedulePeriod": [{"startPeriod": s, "limit": float(v)} for s, v in periods],
    }
    if start is not None:
        schedule["startSchedule"] = _iso(start)
    if duration is not None:
        schedule["duration"] = duration
    profile: dict[str, Any] = {
        "chargingProfileId": pid,
        "stackLevel": stack,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": kind,
        "chargingSchedule": schedule,
    }
    if recurrency is not None:
        profile["recurrencyKind"] = recurrency
    if transaction_id is not None:
        profile["transactionId"] = transaction_id
    return {"connectorId": connector, "csChargingProfiles": profile}


def w1() -> Workload:
    """W1 "station day": a W station max, a daily A TxDefault, a relative TxProfile."""
    payloads = [
        _request(
            0,
            1,
            "ChargePointMaxProfile",
            "Absolute",
            "W",
            [(i * 3600, 11000 if i % 2 == 0 else 7000) for i in range(24)],
            start=0,
        ),
        _request(
            0,
            2,
            "TxDefaultProfile",
            "Recurring",
            "A",
            [(0, 32), (21600, 16), (43200, 24), (64800, 10)],
            start=0,
            recurrency="Daily",
        ),
        _request(
            1,
            3,
            "TxProfile",
            "Relative",
            "A",
            [(i * 1800, 6 + 2 * i) for i in range(10)],
            stack=1,
            transaction_id=1,
        ),
    ]
    tx = Transaction("1", 1, T0 + timedelta(hours=8))
    return Workload("W1", payloads, evse_id=1, duration=86400, transaction=tx)


def w2() -> Workload:
    """W2 "stacked week": 20 stacked absolute TxDefaults of 96 periods each."""
    payloads = [
        _request(
            1,
            k + 1,
            "TxDefaultProfile",
            "Absolute",
            "A",
            [(i * 900, ((k * 7 + i * 13) % 32) + 6) for i in range(96)],
            stack=k,
            start=k * 3600,
            duration=172800,
        )
        for k in range(20)
    ]
    return Workload("W2", payloads, evse_id=1, duration=604800)


def w3(n: int, m: int) -> Workload:
    """W3 "scaling": N stacked TxDefaults of M one-minute periods, all from the window start."""
    payloads = [
        _request(
            1,
            k + 1,
            "TxDefaultProfile",
            "Absolute",
            "A",
            [(i * 60, ((k + i) % 40) + 6) for i in range(m)],
            stack=k,
            start=0,
        )
        for k in range(n)
    ]
    return Workload(f"W3 N={n}, M={m}", payloads, evse_id=1, duration=m * 60)

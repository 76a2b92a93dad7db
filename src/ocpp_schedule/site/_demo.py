"""The embedded demo scenario: a depot of ten 22 kW piles behind a 100 kW cabinet.

Ten piles of 22 kW (32 A, three phases) hang off two feeders of 80 A per
phase behind a 100 kW distribution cabinet (145 A per phase), which the grid
connection feeds. Piles are wired with rotating phases so one-phase vehicles
do not all load L1. Every pile holds the operator's daily TxDefaultProfile
(32 A, 16 A during the 17:00-21:00 evening peak), and the cabinet itself is
limited to 75 kW during that peak. Vehicles arrive and leave through a
winter Monday (Europe/Berlin); three of them charge on one phase, one is a
fleet vehicle with twice the weight.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from dateutil import tz

from ._model import Circuit, Evse, LimitStep, Pile, Session, Site

__all__ = ["DEMO_DAY", "demo_site", "evening_peak_tx_default"]

ZONE = tz.gettz("Europe/Berlin")
DEMO_DAY = datetime(2024, 1, 15, tzinfo=ZONE)
"""Local midnight of the demo day (a Monday in winter, UTC+1)."""

_ROTATIONS = ("L1L2L3", "L2L3L1", "L3L1L2")

# (pile number, arrive "HH:MM", leave "HH:MM", phases, vehicle max A, weight)
_VISITS: tuple[tuple[int, str, str, int, float | None, float], ...] = (
    (1, "06:30", "11:15", 3, None, 1.0),
    (1, "12:00", "16:30", 3, None, 1.0),
    (2, "07:00", "17:45", 1, 16.0, 1.0),
    (3, "07:15", "12:30", 3, None, 2.0),
    (4, "07:45", "18:30", 3, None, 1.0),
    (5, "08:00", "10:30", 1, 32.0, 1.0),
    (5, "16:45", "23:30", 3, None, 1.0),
    (6, "08:30", "15:00", 3, None, 1.0),
    (7, "09:00", "19:00", 3, 24.0, 1.0),
    (8, "13:15", "22:00", 1, 20.0, 1.0),
    (9, "16:30", "23:59", 3, None, 1.0),
    (10, "17:00", "21:30", 3, None, 1.0),
    (10, "06:00", "09:00", 3, None, 1.0),
)


def _at(clock: str) -> datetime:
    hours, minutes = (int(x) for x in clock.split(":"))
    return DEMO_DAY + timedelta(hours=hours, minutes=minutes)


def evening_peak_tx_default() -> dict[str, Any]:
    """The operator's daily TxDefaultProfile (OCPP 1.6): 32 A, 16 A from 17:00 to 21:00."""
    return {
        "connectorId": 0,
        "csChargingProfiles": {
            "chargingProfileId": 1,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Recurring",
            "recurrencyKind": "Daily",
            "chargingSchedule": {
                "startSchedule": "2024-01-14T23:00:00Z",
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [
                    {"startPeriod": 0, "limit": 32.0},
                    {"startPeriod": 17 * 3600, "limit": 16.0},
                    {"startPeriod": 21 * 3600, "limit": 32.0},
                ],
            },
        },
    }


def demo_site() -> Site:
    """The demo depot, with the vehicles of its day."""
    piles = []
    for number in range(1, 11):
        sessions = tuple(
            Session(
                arrive=_at(arrive),
                leave=_at(leave),
                phases=phases,
                max_amps=max_amps,
                weight=weight,
            )
            for n, arrive, leave, phases, max_amps, weight in _VISITS
            if n == number
        )
        piles.append(
            Pile(
                id=f"P{number:02d}",
                circuit="feeder-A" if number <= 5 else "feeder-B",
                phase_rotation=_ROTATIONS[(number - 1) % 3],
                evses=(Evse(id=1, max_amps=32.0, phases=3, sessions=sessions),),
                requests=(evening_peak_tx_default(),),
            )
        )
    cabinet = Circuit(
        id="cabinet",
        amps=145.0,
        watts=100_000.0,
        steps=(
            LimitStep(start="17:00", amps=145.0, watts=75_000.0),
            LimitStep(start="21:00", amps=145.0, watts=100_000.0),
        ),
        children=(
            Circuit(id="feeder-A", amps=80.0),
            Circuit(id="feeder-B", amps=80.0),
        ),
    )
    grid = Circuit(id="grid", amps=160.0, children=(cabinet,))
    return Site(
        name="Depot Nord", time_zone="Europe/Berlin", voltage=230.0, grid=grid, piles=tuple(piles)
    )

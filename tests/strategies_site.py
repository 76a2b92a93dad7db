"""Hypothesis strategies for random sites: circuit trees, piles, sessions, operator profiles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from ocpp_schedule.site import Circuit, Evse, LimitStep, Pile, Session, Site

T0 = datetime(2024, 3, 4, tzinfo=UTC)
WINDOW = 6 * 3600
ROTATIONS = ("L1L2L3", "L2L3L1", "L3L1L2", "L1L3L2")
Draw = Any


def _amps(draw: Draw, low: int, high: int) -> tuple[float, float, float] | float:
    if draw(st.booleans()):
        return float(draw(st.integers(low, high)))
    return tuple(float(draw(st.integers(low, high))) for _ in range(3))  # type: ignore[return-value]


@st.composite
def sessions(draw: Draw) -> tuple[Session, ...]:
    out = []
    cursor = draw(st.integers(-3600, WINDOW // 2)) // 300 * 300
    for _ in range(draw(st.integers(0, 2))):
        arrive = cursor + draw(st.integers(0, 7200)) // 300 * 300
        leave = arrive + draw(st.integers(1, 16)) * 900
        out.append(
            Session(
                arrive=T0 + timedelta(seconds=arrive),
                leave=T0 + timedelta(seconds=leave),
                phases=draw(st.sampled_from([1, 2, 3, 3])),
                max_amps=draw(st.one_of(st.none(), st.sampled_from([10.0, 16.0, 20.0, 32.0]))),
                min_amps=draw(st.sampled_from([0.0, 6.0, 6.0, 8.0])),
                weight=draw(st.sampled_from([1.0, 1.0, 2.0, 0.5])),
            )
        )
        cursor = leave + 300
    return tuple(out)


def _tx_default(evse: int, level: int, limits: list[int]) -> dict[str, Any]:
    step = WINDOW // len(limits)
    return {
        "connectorId": evse,
        "csChargingProfiles": {
            "chargingProfileId": 10 + evse,
            "stackLevel": level,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": {
                "startSchedule": T0.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [
                    {"startPeriod": i * step, "limit": float(v)} for i, v in enumerate(limits)
                ],
            },
        },
    }


@st.composite
def piles(draw: Draw, number: int, circuit: str) -> Pile:
    count = draw(st.integers(1, 2))
    evses = tuple(
        Evse(
            id=i + 1,
            max_amps=draw(st.sampled_from([16.0, 32.0, 32.0])),
            phases=draw(st.sampled_from([1, 3, 3])),
            sessions=draw(sessions()),
        )
        for i in range(count)
    )
    requests = []
    if draw(st.booleans()):
        limits = draw(st.lists(st.integers(0, 32), min_size=1, max_size=4))
        requests.append(_tx_default(0, 0, limits))
    return Pile(
        id=f"P{number}",
        circuit=circuit,
        evses=evses,
        phase_rotation=draw(st.sampled_from(ROTATIONS)),
        requests=tuple(requests),
    )


@st.composite
def sites(draw: Draw) -> Site:
    feeders = []
    all_piles = []
    number = 0
    for f in range(draw(st.integers(1, 3))):
        fid = f"F{f}"
        feeders.append(Circuit(id=fid, amps=_amps(draw, 0, 80)))  # type: ignore[arg-type]
        for _ in range(draw(st.integers(1, 3))):
            number += 1
            all_piles.append(draw(piles(number, fid)))
    steps = ()
    if draw(st.booleans()):
        steps = (
            LimitStep(start="02:00", amps=_amps(draw, 10, 120)),  # type: ignore[arg-type]
            LimitStep(start="04:00", amps=_amps(draw, 10, 120)),  # type: ignore[arg-type]
        )
    watts = draw(st.one_of(st.none(), st.integers(5_000, 80_000).map(float)))
    cabinet = Circuit(
        id="cabinet",
        amps=_amps(draw, 20, 150),  # type: ignore[arg-type]
        watts=watts,
        steps=steps,
        children=tuple(feeders),
    )
    grid = Circuit(id="grid", amps=_amps(draw, 40, 200), children=(cabinet,))  # type: ignore[arg-type]
    return Site(name="random", time_zone="UTC", grid=grid, piles=tuple(all_piles))


# ------------------------------------------------------------- hostile sites (issue 11)

WEIGHTS = st.one_of(
    st.sampled_from([1e-3, 1e3, 1.0, 2.0]),
    st.floats(-3, 3).map(lambda e: 10.0**e),
).map(lambda w: min(max(w, 1e-3), 1e3))
"""Any weight in the accepted range, its ends included."""


@st.composite
def _steps(draw: Draw) -> tuple[LimitStep, ...]:
    """Up to three daily steps, each naming amps only, watts only, or both."""
    out = []
    # Quarter hours, mostly within the first hours of the day (the test window).
    quarters = st.one_of(st.integers(1, WINDOW // 900 + 4), st.integers(0, 95))
    for minute in sorted(draw(st.sets(quarters, max_size=3))):
        kind = draw(st.sampled_from(["amps", "watts", "both"]))
        fields: dict[str, Any] = {"start": f"{minute * 15 // 60:02d}:{minute * 15 % 60:02d}"}
        if kind != "watts":
            fields["amps"] = _amps(draw, 0, 120)
        if kind != "amps":
            fields["watts"] = float(draw(st.integers(2_000, 80_000)))
        out.append(LimitStep(**fields))
    return tuple(out)


def _tx_profile(evse: int, tx: str, limits: list[int], level: int) -> dict[str, Any]:
    return {
        "connectorId": evse,
        "csChargingProfiles": {
            "chargingProfileId": 100 + int(tx) % 1000,
            "stackLevel": level,
            "transactionId": int(tx),
            "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Relative",
            "chargingSchedule": {
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [
                    {"startPeriod": i * 1800, "limit": float(v)} for i, v in enumerate(limits)
                ],
                "duration": 1800 * len(limits),
            },
        },
    }


@st.composite
def hostile_piles(draw: Draw, number: int, circuit: str) -> Pile:
    """A pile whose sessions have any accepted weight and carry transaction ids, holding
    a TxDefault and TxProfiles for some of its sessions (also ones that arrive later)."""
    evses = []
    requests: list[dict[str, Any]] = []
    if draw(st.booleans()):
        requests.append(
            _tx_default(0, 0, draw(st.lists(st.integers(0, 32), min_size=1, max_size=4)))
        )
    tx = number * 100
    for i in range(draw(st.integers(1, 2))):
        plain = draw(sessions())
        own = []
        for s in plain:
            tx += 1
            fields = {
                **s.model_dump(),
                "weight": draw(WEIGHTS),
                "transaction_id": str(tx),
                # minima that are not whole tenths, as well as the usual ones
                "min_amps": draw(st.sampled_from([0.0, 6.0, 6.05, 7.33, 8.0])),
            }
            own.append(Session.model_validate(fields))
            if draw(st.integers(0, 3)) == 0:
                limits = draw(st.lists(st.integers(0, 16), min_size=1, max_size=3))
                requests.append(_tx_profile(i + 1, str(tx), limits, draw(st.integers(0, 2))))
        evses.append(
            Evse(
                id=i + 1,
                max_amps=draw(st.sampled_from([16.0, 32.0, 32.0])),
                phases=draw(st.sampled_from([1, 3, 3])),
                sessions=tuple(own),
            )
        )
    return Pile(
        id=f"P{number}",
        circuit=circuit,
        evses=tuple(evses),
        phase_rotation=draw(st.sampled_from(ROTATIONS)),
        requests=tuple(requests),
    )


@st.composite
def hostile_sites(draw: Draw) -> Site:
    """Random sites with any accepted weights, steps of every kind and held TxProfiles."""
    feeders = []
    all_piles = []
    number = 0
    for f in range(draw(st.integers(1, 3))):
        fid = f"F{f}"
        watts = draw(st.one_of(st.none(), st.integers(3_000, 40_000).map(float)))
        feeders.append(
            Circuit(id=fid, amps=_amps(draw, 0, 80), watts=watts, steps=draw(_steps()))  # type: ignore[arg-type]
        )
        for _ in range(draw(st.integers(1, 3))):
            number += 1
            all_piles.append(draw(hostile_piles(number, fid)))
    watts = draw(st.one_of(st.none(), st.integers(5_000, 80_000).map(float)))
    cabinet = Circuit(
        id="cabinet",
        amps=_amps(draw, 20, 150),  # type: ignore[arg-type]
        watts=watts,
        steps=draw(_steps()),
        children=tuple(feeders),
    )
    grid = Circuit(id="grid", amps=_amps(draw, 40, 200), children=(cabinet,))  # type: ignore[arg-type]
    return Site(name="hostile", time_zone="UTC", grid=grid, piles=tuple(all_piles))


# ------------------------------------------------------------- energy needs (issue 13)

NEEDS = st.one_of(
    st.none(),
    st.floats(0.1, 120.0).map(lambda k: {"energy_kwh": k}),
    st.tuples(st.integers(0, 90), st.integers(10, 100), st.floats(10.0, 100.0)).map(
        lambda t: {
            "soc_percent": float(min(t[0], t[1] - 1)),
            "target_soc_percent": float(t[1]),
            "battery_kwh": t[2],
        }
    ),
)
"""No need, a need in kWh, or a state of charge, battery and target (target above soc)."""


@st.composite
def sites_with_needs(draw: Draw) -> Site:
    """The random :func:`sites`, each session with an energy need in either form, or none."""
    site = draw(sites())
    piles = []
    for pile in site.piles:
        evses = []
        for evse in pile.evses:
            own = []
            for session in evse.sessions:
                need = draw(NEEDS) or {}
                own.append(Session.model_validate({**session.model_dump(), **need}))
            evses.append(evse.model_copy(update={"sessions": tuple(own)}))
        piles.append(pile.model_copy(update={"evses": tuple(evses)}))
    return site.model_copy(update={"piles": tuple(piles)})

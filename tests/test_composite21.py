"""The OCPP 2.1 composite, field by field (issue 14, items 1 and 3; docs/semantics.md V21-7..).

Each field is checked instant by instant against a small per-second evaluation
written here from the specification (ocpp-facts.md section 6), not from the engine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from helpers import at, iso, on, periods, profile, tx
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ocpp_schedule import (
    ChargingProfile,
    InstalledProfile,
    StationConfig,
    Transaction,
    composite_schedule,
    station_composites,
)
from ocpp_schedule.engine import EVSE_SUM_SOURCE

TXD = "TxDefaultProfile"
GEN = "LocalGeneration"
MAX = "ChargingStationMaxProfile"


def comp(entries, *, evse_id=1, duration=1200, **kw):
    return composite_schedule(entries, evse_id=evse_id, start=at(0), duration=duration, **kw)


# ------------------------------------------------------------- LocalGeneration (item 3)


def test_v21_7_station_local_generation_counts_once() -> None:
    """An EVSE-0 LocalGeneration adds once to the station total, not once per EVSE."""
    entries = [
        on(0, profile(1, TXD, [(0, 5000.0)], unit="W")),
        on(0, profile(2, GEN, [(0, 2000.0)], unit="W")),
    ]
    two = StationConfig(evse_ids=(1, 2))
    # each EVSE may use the station's generation ...
    assert periods(comp(entries, unit="W", config=two)) == [(0, 7000.0, 3)]
    # ... but the station draws 2 x 5000 W + 2000 W once, not 2 x 7000 W
    assert periods(comp(entries, evse_id=0, unit="W", config=two)) == [(0, 12000.0, 3)]
    batch = station_composites(entries, start=at(0), duration=1200, unit="W", config=two)
    assert periods(batch[0]) == [(0, 12000.0, 3)]
    assert periods(batch[1]) == periods(batch[2]) == [(0, 7000.0, 3)]


def test_v21_7_one_evse_station_total_equals_its_evse() -> None:
    """On a one-EVSE station the EVSE-0 answer equals EVSE 1's, generation and caps included."""
    entries = [
        on(0, profile(1, TXD, [(0, 16.0), (300, 32.0)])),
        on(0, profile(2, MAX, [(0, 25.0)])),
        on(0, profile(3, GEN, [(0, 4.0), (600, 0.0)])),
    ]
    one = StationConfig(evse_ids=(1,))
    for t in (None, tx()):
        evse1 = comp(entries, config=one, transaction=t)
        evse0 = comp(entries, evse_id=0, config=one, transaction=t)
        assert periods(evse0) == periods(evse1) == [(0, 20.0, 3), (300, 29.0, 3), (600, 25.0, 3)]


def test_v21_7_evse_own_generation_stays_with_its_evse() -> None:
    """An EVSE-specific LocalGeneration is part of that EVSE's draw in the total."""
    entries = [
        on(0, profile(1, TXD, [(0, 10.0)])),
        on(1, profile(2, GEN, [(0, 3.0)])),
    ]
    two = StationConfig(evse_ids=(1, 2))
    assert periods(comp(entries, config=two)) == [(0, 13.0, 3)]
    assert periods(comp(entries, evse_id=2, config=two)) == [(0, 10.0, 3)]
    assert periods(comp(entries, evse_id=0, config=two)) == [(0, 23.0, 3)]


# ------------------------------------------------- the 2.1 fields, second by second (item 1)

V = Fraction(230)
DEFAULT_A, DEFAULT_W = Fraction(48), Fraction(33120)
PHASED = {
    "limit": ("limit", "limit_L2", "limit_L3"),
    "dischargeLimit": ("dischargeLimit", "dischargeLimit_L2", "dischargeLimit_L3"),
    "setpoint": ("setpoint", "setpoint_L2", "setpoint_L3"),
    "setpointReactive": ("setpointReactive", "setpointReactive_L2", "setpointReactive_L3"),
}
EV_ORDER = ("PriorityCharging", "TxProfile", "TxDefaultProfile")


@dataclass(frozen=True)
class Spec:
    """One profile as the per-second evaluation reads it (Absolute schedules only)."""

    pid: int
    evse: int
    purpose: str
    stack: int
    start: int
    duration: int | None
    unit: str
    periods: tuple[dict[str, Any], ...]
    tx_id: str = "T1"

    def installed(self) -> InstalledProfile:
        data: dict[str, Any] = {
            "id": self.pid,
            "stackLevel": self.stack,
            "chargingProfilePurpose": self.purpose,
            "chargingProfileKind": "Absolute",
            "chargingSchedule": [
                {
                    "id": 1,
                    "startSchedule": iso(self.start),
                    "chargingRateUnit": self.unit,
                    "chargingSchedulePeriod": list(self.periods),
                    **({} if self.duration is None else {"duration": self.duration}),
                }
            ],
        }
        if self.purpose == "TxProfile":
            data["transactionId"] = self.tx_id
        return InstalledProfile(self.evse, ChargingProfile.model_validate(data))

    def period_at(self, t: int) -> dict[str, Any] | None:
        offset = t - self.start
        if offset < 0 or (self.duration is not None and offset >= self.duration):
            return None
        return [p for p in self.periods if p["startPeriod"] <= offset][-1]


def leading(specs: list[Spec], t: int) -> tuple[Spec, dict[str, Any]] | None:
    """The first profile of a stack (highest precedence first) whose schedule is in force."""
    for spec in specs:
        period = spec.period_at(t)
        if period is not None:
            return spec, period
    return None


def stack(specs: list[Spec], purposes: tuple[str, ...], evses: tuple[int, ...]) -> list[Spec]:
    """Highest first: purpose order, stack level, EVSE-specific before EVSE 0, higher id."""
    chosen = [s for s in specs if s.purpose in purposes and s.evse in evses]
    return sorted(
        chosen,
        key=lambda s: (-purposes.index(s.purpose), s.stack, s.evse != 0, s.pid),
        reverse=True,
    )


def toward_zero(x: Fraction) -> float:
    """0.1 steps towards zero, after removing noise below 10**-6 of a tenth."""
    tenths = math.floor(round(abs(x) * 10, 6))
    return float(Fraction(tenths if x >= 0 else -tenths, 10)) + 0.0


def per_phase(
    period: dict[str, Any], key: str, unit: str, out: str, n: int
) -> list[Fraction] | None:
    """A field per phase in the output unit; an all-phase value spread over the phases in use."""
    names = PHASED[key]
    given = [period.get(name) for name in names]
    if given[1] is None and given[2] is None:
        if given[0] is None:
            return None
        x = Fraction(str(given[0]))
        if out == "W":
            each = x / n if unit == "W" else x * V
        else:
            each = x / (V * n) if unit == "W" else x
        return [each if p < n else Fraction(0) for p in range(3)]
    l1 = Fraction(str(given[0]))
    values = [l1 if g is None else Fraction(str(g)) for g in given]
    if unit != out:
        values = [v * V if out == "W" else v / V for v in values]
    return [values[p] if p < n else Fraction(0) for p in range(3)]


@dataclass
class Exact:
    """One EVSE's composite at an instant, unrounded: per-phase values in the output unit."""

    n: int
    lim: list[Fraction]
    dis: list[Fraction] | None
    sp: list[Fraction] | None
    re: list[Fraction] | None
    mode: str | None
    phased: bool


def _limits(
    parts: list[tuple[Spec, dict[str, Any]]],
    out: str,
    n: int,
    lim: list[Fraction | None],
    dis: list[Fraction] | None,
) -> tuple[list[Fraction | None], list[Fraction] | None, bool]:
    """The least limit and the least discharge per phase over the leading periods ``parts``."""
    phased = False
    for spec, period in parts:
        own = per_phase(period, "limit", spec.unit, out, n)
        mode = period.get("operationMode")
        if own is None and mode == "Idle":
            own = [Fraction(0)] * 3  # Idle: limit 0
        if own is not None:
            phased |= "limit_L2" in period or "limit_L3" in period
            lim = [o if cur is None or o < cur else cur for o, cur in zip(own, lim, strict=True)]
        d = per_phase(period, "dischargeLimit", spec.unit, out, n)
        if d is None and mode == "Idle":
            d = [Fraction(0)] * 3
        if d is not None:
            phased |= "dischargeLimit_L2" in period or "dischargeLimit_L3" in period
            dis = d if dis is None else [max(a, b) for a, b in zip(d, dis, strict=True)]
    return lim, dis, phased


def _add_generation(
    gen: tuple[Spec, dict[str, Any]] | None, out: str, n: int, full: list[Fraction]
) -> tuple[list[Fraction], bool]:
    """LocalGeneration on top of the limits, per phase."""
    if gen is None:
        return full, False
    g = per_phase(gen[1], "limit", gen[0].unit, out, n)
    if g is None:
        return full, False
    phased = "limit_L2" in gen[1] or "limit_L3" in gen[1]
    return [a + b for a, b in zip(full, g, strict=True)], phased


def _held(
    raw_sp: list[Fraction], full: list[Fraction], dis: list[Fraction] | None
) -> list[Fraction]:
    """A setpoint held between the discharge limit and the limit, phase by phase (V2X.03/04)."""
    sp = []
    for p in range(3):
        value = raw_sp[p]
        if value > full[p]:
            value = full[p]
        elif dis is not None and value < dis[p]:
            value = dis[p]
        sp.append(value)
    return sp


def evse_exact(
    specs: list[Spec], t: int, out: str, tx: bool, evse: int = 1, generation: bool = True
) -> Exact:
    """EVSE ``evse`` at ``t``, from ocpp-facts §6 and docs/semantics.md V21-8..V21-11.

    ``generation`` False leaves LocalGeneration out (a term of the EVSE-0 sum, V21-7).
    """
    ev_purposes = EV_ORDER[1:] if tx else EV_ORDER[2:]
    ev = leading(stack(specs, ev_purposes, (0, evse)), t)
    caps = [
        leading(stack(specs, ("ChargingStationMaxProfile",), (0,)), t),
        leading(stack(specs, ("ChargingStationExternalConstraints",), (0,)), t),
        leading(stack(specs, ("ChargingStationExternalConstraints",), (evse,)), t),
    ]
    gen = leading(stack(specs, ("LocalGeneration",), (0, evse)), t) if generation else None
    parts = [x for x in (ev, *caps) if x is not None]
    n = min([3, *(p.get("numberPhases") or 3 for _, p in parts)])
    lim, dis, phased = _limits(parts, out, n, [None, None, None], None)
    default = DEFAULT_W / n if out == "W" else DEFAULT_A
    full = [x if x is not None else (default if p < n else Fraction(0)) for p, x in enumerate(lim)]
    full, gen_phased = _add_generation(gen, out, n, full)
    phased |= gen_phased
    # setpoints: the EVSE's external constraints, EVSE 0's, then the EV stack (V21-10)
    order = [caps[2], caps[1], ev]
    sp_from = next((x for x in order if x and "setpoint" in x[1]), None)
    re_from = next((x for x in order if x and "setpointReactive" in x[1]), None)
    sp = re = None
    if sp_from is not None:
        raw_sp = per_phase(sp_from[1], "setpoint", sp_from[0].unit, out, n)
        assert raw_sp is not None
        phased |= "setpoint_L2" in sp_from[1] or "setpoint_L3" in sp_from[1]
        sp = _held(raw_sp, full, dis)
    if re_from is not None:
        re = per_phase(re_from[1], "setpointReactive", re_from[0].unit, out, n)
        phased |= "setpointReactive_L2" in re_from[1] or "setpointReactive_L3" in re_from[1]
    mode_from = sp_from or ev
    mode = mode_from[1].get("operationMode") if mode_from else None
    return Exact(n, full, dis, sp, re, mode, phased)


def rounded(x: Exact, out: str, limit: Fraction | None = None) -> dict[str, Any]:
    """The answer of ``x``, rounded as the engine rounds (V21-8); ``limit`` the all-phase limit
    where it is not derived from the per-phase values."""
    n = x.n
    if limit is None or x.phased:
        used = x.lim[:n]
        limit = sum(used) if out == "W" else min(used)
    answer: dict[str, Any] = {"limit": toward_zero(limit), "numberPhases": n}
    if not x.phased and x.dis is None and x.sp is None and x.re is None and x.mode is None:
        return answer  # nothing 2.1 in force: the 2.0.1 answer
    answer["operationMode"] = x.mode or "ChargingOnly"

    def put(key: str, values: list[Fraction], least: bool | None) -> None:
        if x.phased:
            names = ("limit_L1", "limit_L2", "limit_L3") if key == "limit" else PHASED[key]
            for name, v in zip(names, values, strict=True):
                answer[name] = toward_zero(v)
        elif out == "W":
            answer[key] = toward_zero(sum(values[:n]))
        else:
            answer[key] = toward_zero(max(values[:n]) if least is False else values[0])

    if x.phased:
        put("limit", x.lim, True)
    if x.dis is not None:
        put("dischargeLimit", x.dis, False)
    if x.sp is not None:
        put("setpoint", x.sp, None)
    if x.re is not None:
        put("setpointReactive", x.re, None)
    return answer


def expected_at(specs: list[Spec], t: int, out: str, tx: bool, evse: int = 1) -> dict[str, Any]:
    """What EVSE ``evse`` answers at ``t`` (rounded)."""
    return rounded(evse_exact(specs, t, out, tx, evse), out)


def engine_at(schedule: Any, t: int) -> dict[str, Any]:
    """The engine's period at ``t``: its all-phase limit, phases and 2.1 wire fields."""
    period = schedule.period_at(t)
    answer: dict[str, Any] = {"limit": period.limit, "numberPhases": period.number_phases}
    if period.v2x is not None:
        wire = period.v2x.to_wire(period.limit)
        l1 = wire.pop("limit")
        if "limit_L2" in wire:
            answer["limit_L1"] = l1
        answer.update(wire)
    return answer


def check_every_second(specs: list[Spec], out: str, tx: bool, duration: int = 900) -> None:
    """The engine's answer equals the per-second evaluation at every second of the window."""
    entries = [s.installed() for s in specs]
    trans = Transaction("T1", 1, at(0)) if tx else None
    schedule = composite_schedule(
        entries, evse_id=1, start=at(0), duration=duration, unit=out, transaction=trans
    )
    base = schedule.start_epoch
    for t in range(duration):
        assert engine_at(schedule, base + t) == expected_at(specs, t, out, tx), f"second {t}"


def spec(pid, purpose, periods, *, evse=0, stack=0, start=0, duration=None, unit="W"):
    return Spec(pid, evse, purpose, stack, start, duration, unit, tuple(periods))


def test_v21_8_per_phase_limits_convert_per_phase() -> None:
    """Issue 14: a TxProfile of 3,680 W on each of L1/L2/L3 at 230 V is 16 A, not 5.3 A."""
    specs = [
        spec(
            1,
            "TxProfile",
            [{"startPeriod": 0, "limit": 3680, "limit_L2": 3680, "limit_L3": 3680}],
            evse=1,
        )
    ]
    check_every_second(specs, "A", tx=True)
    check_every_second(specs, "W", tx=True)
    schedule = comp([s.installed() for s in specs], transaction=tx())
    assert schedule.periods[0].limit == 16.0
    wire = schedule.to_payload("2.1")["schedule"]["chargingSchedulePeriod"][0]
    assert (wire["limit"], wire["limit_L2"], wire["limit_L3"]) == (16.0, 16.0, 16.0)
    watts = comp([s.installed() for s in specs], transaction=tx(), unit="W")
    assert watts.periods[0].limit == 11040.0  # the all-phase limit: the sum of the phases
    assert watts.to_payload("2.1")["schedule"]["chargingSchedulePeriod"][0]["limit"] == 3680.0


def test_v21_8_per_phase_limits_under_caps_and_stack_levels() -> None:
    """Per phase, the least over the Tx limit and the caps; the lowest phase is the all-phase A."""
    specs = [
        spec(
            1,
            "TxProfile",
            [{"startPeriod": 0, "limit": 20, "limit_L2": 10, "limit_L3": 16}],
            evse=1,
            unit="A",
        ),
        spec(
            2,
            "TxProfile",
            [{"startPeriod": 0, "limit": 6}],
            evse=1,
            stack=1,
            start=300,
            duration=300,
            unit="A",
        ),
        spec(
            3,
            "ChargingStationMaxProfile",
            [{"startPeriod": 0, "limit": 11040}, {"startPeriod": 450, "limit": 22080}],
        ),
        spec(4, "TxDefaultProfile", [{"startPeriod": 0, "limit": 1}], unit="A"),
    ]
    check_every_second(specs, "A", tx=True)
    check_every_second(specs, "W", tx=True)
    first = comp([s.installed() for s in specs], transaction=tx()).periods[0]
    assert first.limit == 10.0
    assert first.v2x is not None
    assert (first.v2x.limit_l1, first.v2x.limit_l2, first.v2x.limit_l3) == (16.0, 10.0, 16.0)
    assert first.v2x.source_of("limit").profile_id == 3  # L1: the station max (16 A)
    assert first.v2x.source_of("limit_L2").profile_id == 1


def test_v21_9_discharge_limits_least_discharge_wins() -> None:
    """The highest (least negative) discharge limit of the purposes in force, per stack level."""
    specs = [
        spec(
            1,
            "TxDefaultProfile",
            [
                {
                    "startPeriod": 0,
                    "limit": 11000,
                    "dischargeLimit": -9000,
                    "operationMode": "CentralSetpoint",
                    "setpoint": -8000,
                }
            ],
        ),
        spec(
            2,
            "TxDefaultProfile",
            [
                {
                    "startPeriod": 0,
                    "limit": 11000,
                    "dischargeLimit": -2000,
                    "operationMode": "CentralSetpoint",
                    "setpoint": 1000,
                }
            ],
            stack=1,
            start=600,
        ),
        spec(
            3,
            "ChargingStationExternalConstraints",
            [{"startPeriod": 0, "dischargeLimit": -4000, "operationMode": "ExternalLimits"}],
            start=200,
            duration=200,
        ),
        spec(
            4,
            "ChargingStationExternalConstraints",
            [
                {
                    "startPeriod": 0,
                    "dischargeLimit": -5000,
                    "dischargeLimit_L2": -1000,
                    "dischargeLimit_L3": -1000,
                    "limit": 20000,
                    "operationMode": "ExternalLimits",
                }
            ],
            evse=1,
            start=450,
            duration=100,
        ),
    ]
    check_every_second(specs, "W", tx=False)
    check_every_second(specs, "A", tx=False)
    schedule = comp([s.installed() for s in specs], unit="W")
    assert schedule.period_at(at(0)).v2x.discharge_limit == -9000.0
    assert schedule.period_at(at(250)).v2x.discharge_limit == -4000.0
    assert (
        schedule.period_at(at(250)).v2x.setpoint == -4000.0
    )  # V2X.04: held at the discharge limit
    assert schedule.period_at(at(250)).v2x.source_of("setpoint").profile_id == 3


def test_v21_10_setpoint_by_precedence_held_between_the_limits() -> None:
    """The external setpoint wins over the EV stack's; a setpoint is capped by the composite
    limit (V2X.03) and the discharge limit (V2X.04), LocalGeneration raising the limit."""
    specs = [
        spec(
            1,
            "TxProfile",
            [
                {
                    "startPeriod": 0,
                    "operationMode": "CentralSetpoint",
                    "setpoint": 9000,
                    "setpointReactive": 300,
                },
                {
                    "startPeriod": 400,
                    "operationMode": "CentralSetpoint",
                    "setpoint": -9000,
                    "dischargeLimit": -6000,
                },
            ],
            evse=1,
        ),
        spec(2, "ChargingStationMaxProfile", [{"startPeriod": 0, "limit": 7000}]),
        spec(
            3,
            "ChargingStationExternalConstraints",
            [
                {
                    "startPeriod": 0,
                    "operationMode": "ExternalSetpoint",
                    "setpoint": 2000,
                    "setpointReactive": -100,
                }
            ],
            start=100,
            duration=100,
        ),
        spec(4, "LocalGeneration", [{"startPeriod": 0, "limit": 1000}], start=300, duration=60),
    ]
    check_every_second(specs, "W", tx=True)
    check_every_second(specs, "A", tx=True)
    schedule = comp([s.installed() for s in specs], unit="W", transaction=tx())
    v = schedule.period_at(at(0)).v2x
    assert (v.setpoint, v.operation_mode.value, v.setpoint_reactive) == (
        7000.0,
        "CentralSetpoint",
        300.0,
    )
    assert v.source_of("setpoint").profile_id == 2  # capped: the station max set it
    v = schedule.period_at(at(150)).v2x
    assert (v.setpoint, v.operation_mode.value, v.setpoint_reactive) == (
        2000.0,
        "ExternalSetpoint",
        -100.0,
    )
    assert schedule.period_at(at(320)).v2x.setpoint == 8000.0  # 7000 + 1000 generated
    assert schedule.period_at(at(500)).v2x.setpoint == -6000.0


def test_v21_11_reactive_and_per_phase_setpoints() -> None:
    """setpointReactive is never capped; per-phase setpoints are capped phase by phase."""
    specs = [
        spec(
            1,
            "TxProfile",
            [
                {
                    "startPeriod": 0,
                    "limit": 16,
                    "limit_L2": 8,
                    "limit_L3": 16,
                    "operationMode": "CentralSetpoint",
                    "setpoint": 10,
                    "setpoint_L2": 10,
                    "setpoint_L3": -3,
                    "setpointReactive": 50,
                    "setpointReactive_L2": 60,
                    "setpointReactive_L3": 70,
                }
            ],
            evse=1,
            unit="A",
        ),
        spec(
            2,
            "ChargingStationMaxProfile",
            [
                {"startPeriod": 0, "limit": 12, "numberPhases": 3},
                {"startPeriod": 300, "limit": 12, "numberPhases": 1},
            ],
            unit="A",
        ),
    ]
    check_every_second(specs, "A", tx=True)
    check_every_second(specs, "W", tx=True)
    v = comp([s.installed() for s in specs], transaction=tx()).periods[0].v2x
    assert (v.setpoint, v.setpoint_l2, v.setpoint_l3) == (10.0, 8.0, -3.0)
    assert (v.setpoint_reactive, v.setpoint_reactive_l2, v.setpoint_reactive_l3) == (
        50.0,
        60.0,
        70.0,
    )


def test_v21_9_idle_neither_charges_nor_discharges() -> None:
    specs = [spec(1, "TxDefaultProfile", [{"startPeriod": 0, "operationMode": "Idle"}])]
    check_every_second(specs, "W", tx=False, duration=60)
    wire = comp([s.installed() for s in specs], duration=60).to_payload("2.1")
    assert wire["schedule"]["chargingSchedulePeriod"] == [
        {
            "startPeriod": 0,
            "limit": 0.0,
            "numberPhases": 3,
            "dischargeLimit": 0.0,
            "operationMode": "Idle",
        }
    ]


def test_v21_8_without_21_fields_answers_as_before() -> None:
    """A 2.1 stack without 2.1 fields: no 2.1 values, operationMode ChargingOnly on the wire."""
    specs = [spec(1, "TxDefaultProfile", [{"startPeriod": 0, "limit": 16}], unit="A")]
    check_every_second(specs, "A", tx=False, duration=60)
    schedule = comp([s.installed() for s in specs], duration=60)
    assert schedule.periods[0].v2x is None
    assert schedule.to_payload("2.1")["schedule"]["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 16.0, "numberPhases": 3, "operationMode": "ChargingOnly"}
    ]
    assert (
        "operationMode" not in schedule.to_payload("2.0.1")["schedule"]["chargingSchedulePeriod"][0]
    )


# ---------------------------------------------------------------- random 2.1 stacks

_MODES = (None, "ChargingOnly", "CentralSetpoint", "ExternalSetpoint", "ExternalLimits", "Idle")


@st.composite
def periods21(draw: st.DrawFn, unit: str, purpose: str) -> list[dict[str, Any]]:
    scale = 230 if unit == "W" else 1
    count = draw(st.integers(1, 3))
    starts = sorted(draw(st.sets(st.integers(1, 20), min_size=count - 1, max_size=count - 1)))
    out = []
    for start in [0, *(s * 30 for s in starts)]:
        mode = draw(st.sampled_from(_MODES))
        period: dict[str, Any] = {"startPeriod": start}
        if mode is not None:
            period["operationMode"] = mode
        if mode != "Idle":
            if mode in (None, "ChargingOnly") or draw(st.booleans()):
                period["limit"] = draw(st.integers(0, 64)) * scale / 2
                if purpose in ("TxProfile", "LocalGeneration") and draw(st.booleans()):
                    period["limit_L2"] = draw(st.integers(0, 64)) * scale / 2
                    if draw(st.booleans()):
                        period["limit_L3"] = draw(st.integers(0, 64)) * scale / 2
            if draw(st.booleans()):
                period["dischargeLimit"] = -draw(st.integers(0, 64)) * scale / 2
                if draw(st.booleans()):
                    period["dischargeLimit_L2"] = -draw(st.integers(0, 64)) * scale / 2
            if mode in ("CentralSetpoint", "ExternalSetpoint") and draw(st.booleans()):
                period["setpoint"] = draw(st.integers(-64, 64)) * scale / 2
                if draw(st.booleans()):
                    period["setpoint_L3"] = draw(st.integers(-64, 64)) * scale / 2
            if draw(st.integers(0, 3)) == 0:
                period["setpointReactive"] = draw(st.integers(-20, 20)) * scale / 2
            if draw(st.integers(0, 3)) == 0:
                period["numberPhases"] = draw(st.sampled_from((1, 2, 3)))
        out.append(period)
    return out


_PLACES = (
    ("TxProfile", 1),
    ("TxDefaultProfile", 0),
    ("TxDefaultProfile", 1),
    ("ChargingStationMaxProfile", 0),
    ("ChargingStationExternalConstraints", 0),
    ("ChargingStationExternalConstraints", 1),
    ("LocalGeneration", 0),
    ("LocalGeneration", 1),
)


@st.composite
def stacks21(
    draw: st.DrawFn, places: tuple[tuple[str, int], ...] = _PLACES, most: int = 6
) -> list[Spec]:
    """Random 2.1 stacks of 1..``most`` profiles at ``places`` (purpose, EVSE); a TxProfile
    on EVSE e is for transaction ``T<e>``."""
    specs = []
    used: set[tuple[str, int, int]] = set()
    for pid in range(1, draw(st.integers(1, most)) + 1):
        purpose, evse = draw(st.sampled_from(places))
        level = draw(st.integers(0, 2))
        if (purpose, evse, level) in used:
            continue
        used.add((purpose, evse, level))
        unit = draw(st.sampled_from(("A", "W")))
        start = draw(st.integers(-2, 20)) * 30
        duration = draw(st.one_of(st.none(), st.integers(1, 20).map(lambda k: k * 30)))
        periods = tuple(draw(periods21(unit, purpose)))
        specs.append(Spec(pid, evse, purpose, level, start, duration, unit, periods, f"T{evse}"))
    return specs


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stacks21(), st.sampled_from(("A", "W")), st.booleans())
def test_random_21_stacks_match_the_per_second_evaluation(specs, out, with_tx) -> None:
    """Every field of random 2.1 stacks equals the per-second evaluation, second by second."""
    check_every_second(specs, out, with_tx, duration=720)


def test_v21_12_station_total_adds_the_evses_fields_per_phase() -> None:
    """EVSE 0: each field added up per phase over the EVSEs, then the station caps per phase."""
    specs = [
        spec(
            1,
            "TxDefaultProfile",
            [
                {
                    "startPeriod": 0,
                    "limit": 11000,
                    "dischargeLimit": -5000,
                    "operationMode": "CentralSetpoint",
                    "setpoint": -4000,
                }
            ],
        ),
        spec(
            2,
            "TxProfile",
            [{"startPeriod": 0, "limit": 3680, "limit_L2": 2300, "limit_L3": 3680}],
            evse=2,
        ),
        spec(3, "ChargingStationMaxProfile", [{"startPeriod": 0, "limit": 20000}]),
    ]
    entries = [s.installed() for s in specs]
    two = StationConfig(evse_ids=(1, 2))
    trans = [Transaction("T1", 2, at(0))]
    total = comp(entries, evse_id=0, unit="W", config=two, transaction=trans, duration=60)
    # L1/L3: 11000/3 + 3680 capped by 20000/3; L2: 11000/3 + 2300; EVSE 2 discharges nothing
    assert total.to_payload("2.1")["schedule"]["chargingSchedulePeriod"] == [
        {
            "startPeriod": 0,
            "limit": 6666.6,
            "numberPhases": 3,
            "limit_L2": 5966.6,
            "limit_L3": 6666.6,
            "dischargeLimit": -1666.6,
            "dischargeLimit_L2": -1666.6,
            "dischargeLimit_L3": -1666.6,
            "operationMode": "ChargingOnly",
        }
    ]
    assert total.periods[0].v2x.source_of("limit_L2") == EVSE_SUM_SOURCE
    assert total.periods[0].v2x.source_of("limit").profile_id == 3
    batch = station_composites(
        entries, start=at(0), duration=60, unit="W", config=two, transactions=trans
    )
    assert batch[0] == total
    # both EVSEs with setpoints: the station's setpoint is their sum, in their common mode
    both = [
        *entries[:1],
        spec(
            4,
            "TxDefaultProfile",
            [{"startPeriod": 0, "operationMode": "CentralSetpoint", "setpoint": 1000}],
            evse=2,
            stack=1,
        ).installed(),
    ]
    answer = comp(both, evse_id=0, unit="W", config=two, duration=60).periods[0].v2x
    assert (answer.setpoint, answer.operation_mode.value) == (-3000.0, "CentralSetpoint")


# ------------------------------------------- EVSE 0 of a station with several EVSEs (item 3)


def _all_phase(values: list[Fraction], out: str, n: int) -> Fraction:
    """Per-phase values as the all-phase value: W their sum, A the first phase's."""
    return sum(values[:n], Fraction(0)) if out == "W" else values[0]


def station_expected_at(
    specs: list[Spec], t: int, out: str, txs: tuple[int, ...], evses: tuple[int, ...]
) -> dict[str, Any]:
    """What EVSE 0 answers at ``t`` (docs/semantics.md R2, V21-7, V21-12), from the EVSEs'
    exact values: per phase, each field added over the EVSEs (a discharge limit counts 0 for
    an EVSE without one; a setpoint or reactive setpoint only when every EVSE has one), then
    the station max and EVSE-0 external constraints as caps, every LocalGeneration on top
    (EVSE 0's once, each EVSE's own), an EVSE-0 external setpoint in place of the sum, the
    setpoint held between the limits."""
    terms = [evse_exact(specs, t, out, e in txs, e, generation=False) for e in evses]
    # the EVSEs' answers (with generation) give the setpoints, discharge limits and modes
    answers = [evse_exact(specs, t, out, e in txs, e) for e in evses]
    caps = [
        x
        for x in (
            leading(stack(specs, ("ChargingStationMaxProfile",), (0,)), t),
            leading(stack(specs, ("ChargingStationExternalConstraints",), (0,)), t),
        )
        if x is not None
    ]
    n = min([max(x.n for x in terms), *(p.get("numberPhases") or 3 for _, p in caps)])
    zero = [Fraction(0)] * 3
    lim_sum: list[Fraction | None] = [sum((x.lim[p] for x in terms), Fraction(0)) for p in range(3)]
    dis_sum = None
    if any(x.dis is not None for x in answers):
        dis_sum = [sum(((x.dis or zero)[p] for x in answers), Fraction(0)) for p in range(3)]
    lim, dis, phased = _limits(caps, out, n, lim_sum, dis_sum)
    phased |= any(x.phased for x in terms)
    full = [x if x is not None else Fraction(0) for x in lim]
    # the all-phase limit where no per-phase value takes part (R2): the sum, capped, + generation
    raw = sum((_all_phase(x.lim, out, x.n) for x in terms), Fraction(0))
    for spec, period in caps:
        own = per_phase(period, "limit", spec.unit, out, n)
        if own is None and period.get("operationMode") == "Idle":
            own = zero
        if own is not None:
            raw = min(raw, _all_phase(own, out, n))
    for where in (0, *evses):  # EVSE 0's LocalGeneration once, each EVSE's own, on top
        gen = leading(stack(specs, ("LocalGeneration",), (where,)), t)
        full, gen_phased = _add_generation(gen, out, n, full)
        phased |= gen_phased
        if gen is not None and (g := per_phase(gen[1], "limit", gen[0].unit, out, n)) is not None:
            raw += _all_phase(g, out, n)
    modes = {x.mode or "ChargingOnly" for x in answers}
    common = modes.pop() if len(modes) == 1 else None
    external = next((p for s, p in caps if s.purpose == "ChargingStationExternalConstraints"), None)
    ext_spec = next((s for s, _ in caps if s.purpose == "ChargingStationExternalConstraints"), None)
    sp = re = None
    mode = common
    if external is not None and ext_spec is not None and "setpoint" in external:
        raw_sp = per_phase(external, "setpoint", ext_spec.unit, out, n)
        assert raw_sp is not None
        phased |= "setpoint_L2" in external or "setpoint_L3" in external
        sp = _held(raw_sp, full, dis)
        mode = external.get("operationMode")
    elif all(x.sp is not None for x in answers):
        sp = _held([sum((x.sp or zero)[p] for x in answers) for p in range(3)], full, dis)
    if external is not None and ext_spec is not None and "setpointReactive" in external:
        re = per_phase(external, "setpointReactive", ext_spec.unit, out, n)
        phased |= "setpointReactive_L2" in external or "setpointReactive_L3" in external
    elif all(x.re is not None for x in answers):
        re = [sum((x.re or zero)[p] for x in answers) for p in range(3)]
    answer = rounded(Exact(n, full, dis, sp, re, mode, phased), out, raw)
    answer.setdefault("operationMode", "ChargingOnly")
    return answer


_STATION_PLACES = (
    ("TxProfile", 1),
    ("TxProfile", 2),
    ("TxDefaultProfile", 0),
    ("TxDefaultProfile", 1),
    ("TxDefaultProfile", 2),
    ("ChargingStationMaxProfile", 0),
    ("ChargingStationExternalConstraints", 0),
    ("ChargingStationExternalConstraints", 1),
    ("ChargingStationExternalConstraints", 2),
    ("LocalGeneration", 0),
    ("LocalGeneration", 1),
    ("LocalGeneration", 2),
)


def station_stacks21() -> st.SearchStrategy[list[Spec]]:
    """Random 2.1 stacks on a station with EVSEs 1 and 2 (and EVSE 0)."""
    return stacks21(_STATION_PLACES, 7)


def station_engine_at(schedule: Any, t: int) -> dict[str, Any]:
    answer = engine_at(schedule, t)
    answer.setdefault("operationMode", "ChargingOnly")
    return answer


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    station_stacks21(),
    st.sampled_from(("A", "W")),
    st.sets(st.sampled_from((1, 2))).map(lambda s: tuple(sorted(s))),
)
def test_v21_12_random_station_totals_match_the_per_second_evaluation(specs, out, txs) -> None:
    """Issue 14 item 3 on a station with two EVSEs: every second, each EVSE's answer equals
    the per-second evaluation, and EVSE 0's answer equals the per-phase sum of the EVSEs'
    exact values capped by the station-level profiles, with EVSE 0's LocalGeneration once
    (V21-7, V21-12). With one EVSE this is the one-EVSE statement (EVSE 0 = EVSE 1)."""
    entries = [s.installed() for s in specs]
    two = StationConfig(evse_ids=(1, 2))
    trans = [Transaction(f"T{e}", e, at(0)) for e in txs]
    duration = 720
    batch = station_composites(
        entries, start=at(0), duration=duration, unit=out, transactions=trans, config=two
    )
    base = batch[0].start_epoch
    for t in range(duration):
        for e in (1, 2):
            assert engine_at(batch[e], base + t) == expected_at(specs, t, out, e in txs, e), (
                f"EVSE {e}, second {t}"
            )
        expected = station_expected_at(specs, t, out, txs, (1, 2))
        assert station_engine_at(batch[0], base + t) == expected, f"EVSE 0, second {t}"
    single = comp(entries, evse_id=0, duration=duration, unit=out, transaction=trans, config=two)
    assert single == batch[0]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stacks21(), st.sampled_from(("A", "W")), st.booleans())
def test_v21_7_one_evse_station_total_equals_its_evse_for_random_21_stacks(
    specs, out, with_tx
) -> None:
    """Issue 14 item 3: on a one-EVSE station, EVSE 0 answers what EVSE 1 answers, every 2.1
    field included (the station's LocalGeneration counted once in both), except where external
    constraints on EVSE 0 and on EVSE 1 both give a setpoint or a reactive setpoint (each
    answer then takes its own level's first, V21-12) and where LocalGeneration is installed on
    both (EVSE 1 takes the leading one of the two by stack level, EVSE 0 adds the EVSE's and
    the station's, V21-7); see the tests below."""
    assume(not _external_setpoints_on_both_levels(specs))
    assume(not _generation_on_both_levels(specs))
    entries = [s.installed() for s in specs]
    one = StationConfig(evse_ids=(1,))
    trans = Transaction("T1", 1, at(0)) if with_tx else None
    evse1 = comp(entries, config=one, transaction=trans, unit=out, duration=720)
    evse0 = comp(entries, evse_id=0, config=one, transaction=trans, unit=out, duration=720)
    for t in range(0, 720, 30):
        assert station_engine_at(evse0, evse0.start_epoch + t) == station_engine_at(
            evse1, evse1.start_epoch + t
        ), t


def _external_setpoints_on_both_levels(specs: list[Spec]) -> bool:
    """True when external constraints on EVSE 0 and on EVSE 1 both carry a setpoint (or a
    reactive setpoint) somewhere."""

    def has(evse: int, key: str) -> bool:
        return any(
            s.purpose == "ChargingStationExternalConstraints"
            and s.evse == evse
            and any(key in p for p in s.periods)
            for s in specs
        )

    return any(has(0, key) and has(1, key) for key in ("setpoint", "setpointReactive"))


def _generation_on_both_levels(specs: list[Spec]) -> bool:
    """True when LocalGeneration is installed on EVSE 0 and on EVSE 1."""
    where = {s.evse for s in specs if s.purpose == "LocalGeneration"}
    return {0, 1} <= where


def test_v21_12_one_evse_station_external_setpoints_on_both_levels() -> None:
    """Where external constraints on EVSE 0 and on EVSE 1 both give a setpoint, EVSE 1 answers
    its own (the EVSE's external constraints come first, V21-10) and EVSE 0 the station's (an
    EVSE-0 external setpoint replaces the EVSEs' sum, V21-12): the one place where a one-EVSE
    station's EVSE-0 answer differs from its EVSE-1 answer."""
    specs = [
        spec(
            1,
            "ChargingStationExternalConstraints",
            [
                {
                    "startPeriod": 0,
                    "limit": 32,
                    "operationMode": "ExternalSetpoint",
                    "setpoint": 10,
                    "setpointReactive": 2,
                }
            ],
            unit="A",
        ),
        spec(
            2,
            "ChargingStationExternalConstraints",
            [
                {
                    "startPeriod": 0,
                    "limit": 32,
                    "operationMode": "ExternalSetpoint",
                    "setpoint": 6,
                    "setpointReactive": 1,
                }
            ],
            evse=1,
            unit="A",
        ),
    ]
    entries = [s.installed() for s in specs]
    one = StationConfig(evse_ids=(1,))
    evse1 = comp(entries, config=one, duration=60).periods[0].v2x
    evse0 = comp(entries, evse_id=0, config=one, duration=60).periods[0].v2x
    assert (evse1.setpoint, evse1.setpoint_reactive) == (6.0, 1.0)
    assert (evse0.setpoint, evse0.setpoint_reactive) == (10.0, 2.0)
    assert evse0.source_of("setpoint").profile_id == 1
    assert evse1.source_of("setpoint").profile_id == 2


def test_v21_7_station_caps_do_not_cap_local_generation() -> None:
    """LocalGeneration is added on top of the composite (SC.01(2.1)): an EVSE's own generation
    is not capped by the station max in the EVSE-0 total either (it was: EVSE 1 answered
    0 + 4 A while EVSE 0 answered min(4 A, 0)); a one-EVSE station answers the same on both."""
    entries = [
        on(0, profile(1, TXD, [(0, 16.0)])),
        on(0, profile(2, MAX, [(0, 10.0)])),
        on(1, profile(3, GEN, [(0, 4.0)])),
    ]
    one = StationConfig(evse_ids=(1,))
    assert periods(comp(entries, config=one)) == [(0, 14.0, 3)]
    assert periods(comp(entries, evse_id=0, config=one)) == [(0, 14.0, 3)]
    two = StationConfig(evse_ids=(1, 2))
    # EVSE 1 16 A and EVSE 2 16 A capped at 10 A, then EVSE 1's 4 A on top
    assert periods(comp(entries, evse_id=0, config=two)) == [(0, 14.0, 3)]


def test_v21_7_generation_on_both_levels() -> None:
    """EVSE 1's answer takes the leading LocalGeneration of its own and EVSE 0's stacks (by
    stack level); the station total adds EVSE 1's own and EVSE 0's once (V21-7)."""
    entries = [
        on(0, profile(1, TXD, [(0, 10.0)])),
        on(0, profile(2, GEN, [(0, 2.0)], stack=1)),
        on(1, profile(3, GEN, [(0, 3.0)])),
    ]
    one = StationConfig(evse_ids=(1,))
    assert periods(comp(entries, config=one)) == [(0, 12.0, 3)]
    assert periods(comp(entries, evse_id=0, config=one)) == [(0, 15.0, 3)]


# --------------------------------------------------- provenance of every 2.1 field (item 1)


def test_explain_names_what_set_every_21_field() -> None:
    """explain() lists, under a period with 2.1 fields, each field with its value and the
    profile that set it: the per-phase limits, discharge limits, setpoints (a held setpoint
    names the profile whose limit held it), reactive setpoints and operationMode."""
    specs = [
        spec(
            1,
            "TxProfile",
            [
                {
                    "startPeriod": 0,
                    "limit": 16,
                    "limit_L2": 8,
                    "limit_L3": 16,
                    "operationMode": "CentralSetpoint",
                    "setpoint": 10,
                    "setpoint_L2": 10,
                    "setpoint_L3": -3,
                    "dischargeLimit": -5,
                    "setpointReactive": 50,
                }
            ],
            evse=1,
            unit="A",
        ),
        spec(2, "ChargingStationMaxProfile", [{"startPeriod": 0, "limit": 12}], unit="A"),
    ]
    text = comp([s.installed() for s in specs], transaction=tx(), duration=600).explain()
    tx_src = "profile 1 (TxProfile, stack 0, EVSE 1)"
    max_src = "profile 2 (ChargingStationMaxProfile, stack 0, EVSE 0)"
    for line in (
        f"operationMode CentralSetpoint: {tx_src}",
        f"limit (L1) 12.0: {max_src}",
        f"limit_L2 8.0: {tx_src}",
        f"limit_L3 12.0: {max_src}",
        f"dischargeLimit -5.0: {tx_src}",
        f"dischargeLimit_L3 -5.0: {tx_src}",
        f"setpoint 10.0: {tx_src}",
        f"setpoint_L2 8.0: {tx_src}",
        f"setpoint_L3 -3.0: {tx_src}",
        f"setpointReactive 50.0: {tx_src}",
        f"setpointReactive_L3 50.0: {tx_src}",
    ):
        assert "    " + line in text.splitlines(), line
    # a setpoint the station max holds names the station max
    held = [
        spec(
            1,
            "TxProfile",
            [{"startPeriod": 0, "operationMode": "CentralSetpoint", "setpoint": 20}],
            evse=1,
            unit="A",
        ),
        specs[1],
    ]
    text = comp([s.installed() for s in held], transaction=tx(), duration=60).explain()
    assert f"    setpoint 12.0: {max_src}" in text.splitlines()
    # a 2.0.1-style answer has no detail lines
    plain = comp([spec(3, MAX, [{"startPeriod": 0, "limit": 12}], unit="A").installed()])
    assert len(plain.explain().splitlines()) == 4


def _field_value(v2x: Any, name: str) -> Any:
    wire = v2x.to_wire(0.0)
    if name == "limit" and v2x.limit_l1 is None:
        return None
    return wire.get(name)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(station_stacks21(), st.sampled_from(("A", "W")), st.sampled_from(((), (1,), (1, 2))))
def test_provenance_covers_every_21_field(specs, out, txs) -> None:
    """Every 2.1 field a period reports (EVSE 1, 2 and 0) names what set it, a profile of the
    right place (installed, on EVSE 0 or the queried EVSE) or the default limit or the EVSEs'
    sum, and explain() prints each of them under its period."""
    entries = [s.installed() for s in specs]
    by_id = {s.pid: s for s in specs}
    two = StationConfig(evse_ids=(1, 2))
    trans = [Transaction(f"T{e}", e, at(0)) for e in txs]
    batch = station_composites(
        entries, start=at(0), duration=720, unit=out, transactions=trans, config=two
    )
    for evse, schedule in batch.items():
        lines = schedule.explain().splitlines()
        for period in schedule.periods:
            if period.v2x is None:
                continue
            named = dict(period.v2x.sources)
            reported = {"operationMode"} | {
                n
                for n in (
                    "limit",
                    *PHASED["limit"][1:],
                    *(k for v in list(PHASED.values())[1:] for k in v),
                )
                if _field_value(period.v2x, n) is not None
            }
            assert set(named) == reported
            for name, found in named.items():
                assert found
                for src in found:
                    if src.kind == "profile":
                        owner = by_id[src.profile_id]
                        assert owner.purpose == src.purpose.value
                        assert src.evse_id == owner.evse
                        assert evse == 0 or owner.evse in (0, evse)
                    else:
                        assert src.kind in ("default", "evse_sum")
                label = "limit (L1)" if name == "limit" else name
                assert any(line.startswith(f"    {label} ") for line in lines), name


# ----------------------------------------- locally set modes (item 2, docs/semantics.md V21-21)


def test_v21_21_a_locally_set_period_without_limit_answers_no_limit() -> None:
    """LocalFrequency and LocalLoadBalancing without a limit: the 2.1 answer leaves ``limit``
    out (the station sets the power; 48 A is no expected draw); a limit that a profile gives
    (the mode's own or a cap's) is reported; the Python period keeps the default as an upper
    bound with the default source; 2.0.1 answers always carry a limit."""
    for mode in ("LocalFrequency", "LocalLoadBalancing"):
        alone = [spec(1, TXD, [{"startPeriod": 0, "operationMode": mode}], unit="A")]
        schedule = comp([s.installed() for s in alone], duration=60)
        period = schedule.to_payload("2.1")["schedule"]["chargingSchedulePeriod"][0]
        assert period == {"startPeriod": 0, "numberPhases": 3, "operationMode": mode}
        assert schedule.periods[0].limit == 48.0
        assert schedule.periods[0].source.kind == "default"
        assert "limit" in schedule.to_payload("2.0.1")["schedule"]["chargingSchedulePeriod"][0]
        capped = [*alone, spec(2, MAX, [{"startPeriod": 0, "limit": 20}], unit="A")]
        period = comp([s.installed() for s in capped], duration=60).to_payload("2.1")
        assert period["schedule"]["chargingSchedulePeriod"][0]["limit"] == 20.0
        own = [spec(1, TXD, [{"startPeriod": 0, "operationMode": mode, "limit": 10}], unit="A")]
        period = comp([s.installed() for s in own], duration=60).to_payload("2.1")
        assert period["schedule"]["chargingSchedulePeriod"][0]["limit"] == 10.0
    # CentralFrequency needs its limit (V21-1), so it always reports one
    central = [
        spec(
            1, TXD, [{"startPeriod": 0, "operationMode": "CentralFrequency", "limit": 8}], unit="A"
        )
    ]
    period = comp([s.installed() for s in central], duration=60).to_payload("2.1")
    assert period["schedule"]["chargingSchedulePeriod"][0]["limit"] == 8.0


# -------------------------------------------------- DC EVSEs: no W<->A conversion (V21-37)


def test_v21_37_a_dc_evse_is_answered_only_in_its_profiles_unit() -> None:
    """K01.FR.50 converts W<->A on AC with the line voltage and numberPhases; a DC EVSE has
    no phases and its DC voltage is unknown, so a composite that would convert is refused
    (QueryError naming ``unit``), on the EVSE, on EVSE 0 and in station_composites; in the
    profiles' unit it is answered as before, and AC EVSEs convert as before."""
    from ocpp_schedule import QueryError

    entries = [
        on(1, profile(1, TXD, [(0, 50000.0)], unit="W")),
        on(2, profile(2, TXD, [(0, 16.0)])),
    ]
    dc = StationConfig(evse_ids=(1, 2), dc_evse_ids=frozenset({1}))
    assert periods(comp(entries, config=dc, unit="W")) == [(0, 50000.0, 3)]
    for call in (
        lambda: comp(entries, config=dc, unit="A"),
        lambda: comp(entries, evse_id=0, config=dc, unit="A"),
        lambda: station_composites(entries, start=at(0), duration=60, unit="A", config=dc),
    ):
        try:
            call()
        except QueryError as exc:
            assert exc.field == "unit"
            assert exc.rule == "docs/semantics.md V21-37"
        else:
            raise AssertionError("a DC conversion was not refused")
    # EVSE 2 is AC: its A profile converts to W with its phases, as before
    assert periods(comp(entries, evse_id=2, config=dc, unit="W")) == [(0, 11040.0, 3)]
    # the same station, all AC: EVSE 1 converts with 3 phases, as before
    ac = StationConfig(evse_ids=(1, 2))
    assert periods(comp(entries, config=ac, unit="A")) == [(0, 72.4, 3)]

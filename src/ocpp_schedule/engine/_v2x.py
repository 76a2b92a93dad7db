"""The OCPP 2.1 fields of a composite: per-phase limits, discharge limits, setpoints.

The limit pipeline of :mod:`._composite` computes ``limit`` (all phases) with
the 2.0.1 rules. Where a profile in force carries 2.1 fields, this module
composes, at every elementary interval of that pipeline, the other fields with
the same precedence (the leading period of each purpose, docs/semantics.md
V21-8..V21-12):

* limits per phase: the least per phase over the EV stack and the caps, then
  LocalGeneration on top; where ``limit_L2``/``limit_L3`` take part, ``limit``
  is derived from them (A: the least phase in use, W: their sum);
* discharge limits (<= 0) per phase: the least discharge (the highest value);
* setpoint and reactive setpoint: the leading one by precedence (external
  constraints of the EVSE, then of EVSE 0, then the EV stack), the setpoint
  held between the discharge limit and the limit per phase (V2X.03/04,
  K08.FR.08);
* operationMode: the mode of the period whose setpoint is used, else the EV
  stack's.

Values are per phase in the output unit: an all-phase value is spread over the
phases in use (A: the same current on each, W: an equal share), phases not in
use carry nothing. Every reported field names what set it.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from ..wire._enums import ChargingProfilePurpose, OperationMode
from ..wire._models import V21_PERIOD_KEYS, V21_PERIOD_VALUES
from ._compile import CompiledProfile
from ._provenance import DEFAULT_SOURCE, EVSE_SUM_SOURCE, LimitSource

__all__ = ["V2xFields", "V2X_WIRE_FIELDS", "evse_fields", "station_fields", "stacks_have_v2x"]

_INF = float("inf")
_EXTERNAL = ChargingProfilePurpose.CHARGING_STATION_EXTERNAL_CONSTRAINTS
Triple = tuple[float, float, float]

V2X_WIRE_FIELDS = V21_PERIOD_KEYS
"""The 2.1 ``ChargingSchedulePeriodType`` number fields a composite period may carry."""


_NUMBER_NAMES = ("limit_l1", *V21_PERIOD_VALUES)


@dataclass(frozen=True, slots=True)
class V2xFields:
    """The 2.1 fields of one composite period, in the output unit (None: not reported).

    With per-phase values (``limit_l1`` not None) the wire ``limit``,
    ``dischargeLimit``, ``setpoint`` and ``setpointReactive`` are phase L1's
    and the ``_l2``/``_l3`` fields are given; otherwise they are all-phase
    values (A per phase, W in total). ``sources`` names, per wire field (and
    ``operationMode``), what set it, in time order when equal neighbours merged.
    """

    operation_mode: OperationMode
    limit_l1: float | None = None
    limit_l2: float | None = None
    limit_l3: float | None = None
    discharge_limit: float | None = None
    discharge_limit_l2: float | None = None
    discharge_limit_l3: float | None = None
    setpoint: float | None = None
    setpoint_l2: float | None = None
    setpoint_l3: float | None = None
    setpoint_reactive: float | None = None
    setpoint_reactive_l2: float | None = None
    setpoint_reactive_l3: float | None = None
    sources: tuple[tuple[str, tuple[LimitSource, ...]], ...] = ()

    def values(self) -> tuple[Any, ...]:
        """Everything but the sources (what decides whether two periods merge)."""
        return (self.operation_mode, *self.numbers())

    def numbers(self) -> tuple[float | None, ...]:
        """The number fields, in :data:`V2X_WIRE_FIELDS` order preceded by ``limit_l1``."""
        return (
            self.limit_l1,
            self.limit_l2,
            self.limit_l3,
            self.discharge_limit,
            self.discharge_limit_l2,
            self.discharge_limit_l3,
            self.setpoint,
            self.setpoint_l2,
            self.setpoint_l3,
            self.setpoint_reactive,
            self.setpoint_reactive_l2,
            self.setpoint_reactive_l3,
        )

    def rebuilt(
        self,
        numbers: Sequence[float | None],
        sources: tuple[tuple[str, tuple[LimitSource, ...]], ...] | None = None,
    ) -> V2xFields:
        """These fields with other numbers (in :meth:`numbers` order) and sources."""
        changes: dict[str, Any] = dict(zip(_NUMBER_NAMES, numbers, strict=True))
        return replace(self, **changes, sources=self.sources if sources is None else sources)

    def source_of(self, field: str) -> LimitSource | None:
        """What set a wire field at the start of the period (None: not reported)."""
        for name, found in self.sources:
            if name == field:
                return found[0]
        return None

    def explain_lines(self) -> tuple[str, ...]:
        """One line per reported field: its wire name, value and what set it (in time order
        when equal neighbours merged), ``operationMode`` first."""
        values: dict[str, Any] = {"operationMode": self.operation_mode.value}
        if self.limit_l1 is not None:
            values["limit"] = self.limit_l1
        for name, value in zip(V2X_WIRE_FIELDS, self.numbers()[1:], strict=True):
            if value is not None:
                values[name] = value
        lines = []
        for name, found in self.sources:
            value = values[name]
            shown = value if isinstance(value, str) else f"{value:.1f}"
            label = "limit (L1)" if name == "limit" else name
            lines.append(f"{label} {shown}: " + "; then ".join(str(s) for s in found))
        return tuple(lines)

    def to_wire(self, limit: float) -> dict[str, Any]:
        """The period's 2.1 fields as JSON (``limit`` is L1's when per-phase values are given)."""
        out: dict[str, Any] = {}
        if self.limit_l1 is not None:
            out["limit"] = self.limit_l1
        else:
            out["limit"] = limit
        for name, value in zip(V2X_WIRE_FIELDS, self.numbers()[1:], strict=True):
            if value is not None:
                out[name] = value
        out["operationMode"] = self.operation_mode.value
        return out


class _View(NamedTuple):
    """One purpose's leading period at an instant, per phase in the output unit."""

    lim: Triple | None
    lim_phased: bool
    dis: Triple | None
    dis_phased: bool
    sp: Triple | None
    sp_phased: bool
    re: Triple | None
    re_phased: bool
    mode: OperationMode | None
    src: LimitSource
    external: int  # 0: not external constraints; 1: on EVSE 0; 2: on the EVSE itself


class _Units(NamedTuple):
    out_w: bool
    voltage: float
    n: int


def stacks_have_v2x(stacks: Sequence[Sequence[CompiledProfile]]) -> bool:
    """True when a profile of one of the stacks has 2.1 fields."""
    return any(cp.v2x is not None for stack in stacks for cp in stack)


def period_index(cp: CompiledProfile, t: int, rel_anchor: int) -> int:
    """The index of ``cp``'s period in force at ``t`` (``t`` inside one of its windows)."""
    anchor = rel_anchor if cp.anchor is None else cp.anchor
    if cp.recurrence:
        anchor += ((t - anchor) // cp.recurrence) * cp.recurrence
    return bisect_right(cp.starts, t - anchor) - 1


def _spread(value: float, unit_w: bool, u: _Units) -> Triple:
    """An all-phase value as per-phase values in the output unit (unused phases: 0)."""
    if u.out_w:
        each = value / u.n if unit_w else value * u.voltage
    else:
        each = value / (u.voltage * u.n) if unit_w else value
    return (each, each if u.n > 1 else 0.0, each if u.n > 2 else 0.0)


def _phase(values: Triple, unit_w: bool, u: _Units) -> Triple:
    """Per-phase values in the output unit (unused phases: 0)."""
    if unit_w != u.out_w:
        factor = u.voltage if u.out_w else 1.0 / u.voltage
        values = (values[0] * factor, values[1] * factor, values[2] * factor)
    return (values[0], values[1] if u.n > 1 else 0.0, values[2] if u.n > 2 else 0.0)


def _both(
    value: float | None, phases: Triple | None, unit_w: bool, u: _Units
) -> tuple[Triple | None, bool]:
    if phases is not None:
        return _phase(phases, unit_w, u), True
    if value is None:
        return None, False
    return _spread(value, unit_w, u), False


def _view(seg: Any, t: int, rel: int, evse_id: int, u: _Units) -> _View | None:
    """The view of a cover segment at ``t`` (None for a filler: nothing in force)."""
    cp = seg[5]
    if not isinstance(cp, CompiledProfile):
        return None
    value, unit_w = seg[2], seg[3]
    external = 0
    if cp.purpose is _EXTERNAL:
        external = 2 if cp.evse_id and cp.evse_id == evse_id else 1
    lim = None if value == _INF else _spread(value, unit_w, u)
    if cp.v2x is None:
        return _View(lim, False, None, False, None, False, None, False, None, cp.source, external)
    idx = period_index(cp, t, rel)
    vp = cp.v2x[idx]
    lim_phased = False
    if vp.limit_phases is not None:
        # limitAtSoC caps every phase as it capped the limit (the segment's value)
        cap = value if value < cp.limits[idx] else _INF
        raw = tuple(min(x, cap) for x in vp.limit_phases)
        lim = _phase((raw[0], raw[1], raw[2]), unit_w, u)
        lim_phased = True
    dis, dis_phased = _both(vp.discharge, vp.discharge_phases, unit_w, u)
    if dis is None and vp.mode is OperationMode.IDLE:
        dis = (0.0, 0.0, 0.0)  # Idle: neither charge nor discharge (V21-9)
    sp, sp_phased = _both(vp.setpoint, vp.setpoint_phases, unit_w, u)
    re, re_phased = _both(vp.reactive, vp.reactive_phases, unit_w, u)
    return _View(
        lim, lim_phased, dis, dis_phased, sp, sp_phased, re, re_phased, vp.mode, cp.source, external
    )


def _to_all(values: Triple, u: _Units, least: bool) -> float:
    """Per-phase values as one all-phase value: W their sum; A the least (limits),
    the highest (discharge limits, ``least`` False: the least discharge) in use."""
    used = values[: u.n]
    if u.out_w:
        return sum(used)
    return min(used) if least else max(used)


class _Composed(NamedTuple):
    limit: float | None  # the all-phase limit when derived from per-phase values, else None
    limit_src: LimitSource | None
    fields: V2xFields | None


def _compose(
    views: list[_View],
    ev: _View | None,
    gen: _View | None,
    u: _Units,
    default_each: float,
    sum_setpoints: _View | None = None,
) -> _Composed:
    """The 2.1 fields at one instant from the leading periods in force (V21-8..V21-12)."""
    lim = [_INF, _INF, _INF]
    lim_src: list[LimitSource] = [DEFAULT_SOURCE] * 3
    dis: list[float] | None = None
    dis_src: list[LimitSource] = [DEFAULT_SOURCE] * 3
    phased = False
    for v in views:
        if v.lim is not None:
            phased |= v.lim_phased
            for p in range(3):
                if v.lim[p] < lim[p]:
                    lim[p] = v.lim[p]
                    lim_src[p] = v.src
        if v.dis is not None:
            phased |= v.dis_phased
            if dis is None:
                dis = list(v.dis)
                dis_src = [v.src] * 3
            else:
                for p in range(3):
                    if v.dis[p] > dis[p]:
                        dis[p] = v.dis[p]
                        dis_src[p] = v.src
    for p in range(3):
        if lim[p] == _INF:
            lim[p] = default_each if p < u.n else 0.0
    if gen is not None and gen.lim is not None:
        phased |= gen.lim_phased
        for p in range(3):
            lim[p] += gen.lim[p]
    # setpoints by precedence: the EVSE's external constraints, EVSE 0's, then the EV stack
    order = sorted((v for v in views if v.external), key=lambda v: -v.external)
    if ev is not None:
        order.append(ev)
    if sum_setpoints is not None:
        order.append(sum_setpoints)
    cand_sp = next((v for v in order if v.sp is not None), None)
    cand_re = next((v for v in order if v.re is not None), None)
    sp: list[float] | None = None
    sp_src: list[LimitSource] = [DEFAULT_SOURCE] * 3
    if cand_sp is not None and cand_sp.sp is not None:
        phased |= cand_sp.sp_phased
        sp = list(cand_sp.sp)
        sp_src = [cand_sp.src] * 3
        for p in range(3):
            if sp[p] > lim[p]:
                sp[p] = lim[p]  # V2X.03: what set the limit set the setpoint
                sp_src[p] = lim_src[p]
            elif dis is not None and sp[p] < dis[p]:
                sp[p] = dis[p]  # V2X.04
                sp_src[p] = dis_src[p]
    re: Triple | None = None
    if cand_re is not None and cand_re.re is not None:
        phased |= cand_re.re_phased
        re = cand_re.re
    mode_view = cand_sp if cand_sp is not None else ev
    if mode_view is None and sum_setpoints is not None and sum_setpoints.mode is not None:
        mode_view = sum_setpoints  # EVSE 0: the mode all EVSEs share (V21-12)
    mode = mode_view.mode if mode_view is not None else None
    if not phased and dis is None and sp is None and re is None and mode is None:
        return _Composed(None, None, None)
    sources: list[tuple[str, tuple[LimitSource, ...]]] = [
        ("operationMode", (mode_view.src if mode_view is not None and mode else DEFAULT_SOURCE,))
    ]
    kw: dict[str, Any] = {"operation_mode": mode or OperationMode.CHARGING_ONLY}
    limit: float | None = None
    limit_src: LimitSource | None = None
    if phased:
        kw.update(limit_l1=lim[0], limit_l2=lim[1], limit_l3=lim[2])
        sources += [("limit", (lim_src[0],)), ("limit_L2", (lim_src[1],))]
        sources.append(("limit_L3", (lim_src[2],)))
        limit = _to_all((lim[0], lim[1], lim[2]), u, least=True)
        used = lim[: u.n]
        limit_src = lim_src[used.index(min(used))]
    if dis is not None:
        _put(kw, sources, "discharge_limit", "dischargeLimit", dis, dis_src, phased, u, False)
    if sp is not None and cand_sp is not None:
        _put(kw, sources, "setpoint", "setpoint", sp, sp_src, phased, u, None)
    if re is not None and cand_re is not None:
        _put(
            kw,
            sources,
            "setpoint_reactive",
            "setpointReactive",
            list(re),
            [cand_re.src] * 3,
            phased,
            u,
            None,
        )
    return _Composed(limit, limit_src, V2xFields(sources=tuple(sources), **kw))


def _put(
    kw: dict[str, Any],
    sources: list[tuple[str, tuple[LimitSource, ...]]],
    attr: str,
    wire: str,
    values: list[float],
    srcs: list[LimitSource],
    phased: bool,
    u: _Units,
    least: bool | None,
) -> None:
    """Set one field (per phase, or all-phase) and its sources."""
    if phased:
        kw[attr], kw[attr + "_l2"], kw[attr + "_l3"] = values
        sources.append((wire, (srcs[0],)))
        sources.append((wire + "_L2", (srcs[1],)))
        sources.append((wire + "_L3", (srcs[2],)))
        return
    if least is None:  # setpoints: W the total over the phases in use, A phase L1's current
        kw[attr] = sum(values[: u.n]) if u.out_w else values[0]
    else:
        kw[attr] = _to_all((values[0], values[1], values[2]), u, least)
    sources.append((wire, (srcs[0],)))


def _at(cover: list[Any], ptr: int, t: int) -> tuple[int, Any]:
    """Advance ``ptr`` to the segment of ``cover`` holding ``t``; (ptr, segment or None)."""
    size = len(cover)
    while ptr < size and cover[ptr][1] <= t:
        ptr += 1
    if ptr < size and cover[ptr][0] <= t:
        return ptr, cover[ptr]
    return ptr, None


def evse_fields(
    raw: list[Any],
    ev_cover: list[Any],
    cap_covers: list[list[Any]],
    gen_cover: list[Any],
    *,
    rel: int,
    evse_id: int,
    out_w: bool,
    voltage: float,
    default_limit: float,
) -> tuple[list[Any], list[V2xFields | None]]:
    """The 2.1 fields at each interval of one EVSE's raw composite.

    Returns the raw composite with ``limit`` derived from per-phase values where
    they take part, and the fields of each interval.
    """
    out: list[Any] = []
    fields: list[V2xFields | None] = []
    covers = [ev_cover, *cap_covers, gen_cover]
    ptrs = [0] * len(covers)
    for entry in raw:
        t, n = entry[0], entry[2]
        u = _Units(out_w, voltage, n)
        found: list[_View | None] = []
        for c, cover in enumerate(covers):
            ptrs[c], seg = _at(cover, ptrs[c], t)
            found.append(None if seg is None else _view(seg, t, rel, evse_id, u))
        ev, gen = found[0], found[-1]
        views = [v for v in found[:-1] if v is not None]
        default_each = default_limit / n if out_w else default_limit
        composed = _compose(views, ev, gen, u, default_each)
        if composed.limit is not None:
            src = entry[3] if composed.limit_src is None else _Source(composed.limit_src)
            entry = (t, composed.limit, n, src, entry[4])
        out.append(entry)
        fields.append(composed.fields)
    return out, fields


class _Source:
    """A raw entry's source object for a limit derived from per-phase values."""

    __slots__ = ("source", "tx_min_rate", "unit_w")

    def __init__(self, source: LimitSource) -> None:
        self.source = source
        self.tx_min_rate: float | None = None
        self.unit_w = False


def _sum_view(
    terms: list[tuple[float, int, V2xFields | None, V2xFields | None]], u: _Units
) -> tuple[_View, _View | None]:
    """The EVSEs' values at an instant added per phase (V21-12), as one view.

    Returns the limits/discharge view and, when every EVSE has a setpoint
    (or reactive setpoint), a view holding their sum.
    """
    lim = [0.0, 0.0, 0.0]
    dis = [0.0, 0.0, 0.0]
    sp = [0.0, 0.0, 0.0]
    re = [0.0, 0.0, 0.0]
    any_dis = False
    all_sp = all_re = bool(terms)
    phased = False
    modes = {
        f.operation_mode if f is not None else OperationMode.CHARGING_ONLY for _, _, _, f in terms
    }
    for value, n_e, lf, f in terms:
        ue = _Units(u.out_w, u.voltage, n_e)
        if lf is not None and lf.limit_l1 is not None:
            phased = True
            own: Triple = (lf.limit_l1, lf.limit_l2 or 0.0, lf.limit_l3 or 0.0)
        else:
            own = _spread(value, u.out_w, ue)
        for p in range(3):
            lim[p] += own[p]
        for attr, acc, kind in (
            ("discharge_limit", dis, "d"),
            ("setpoint", sp, "s"),
            ("setpoint_reactive", re, "r"),
        ):
            trip = _field_phases(f, attr, ue) if f is not None else None
            if trip is None:
                if kind == "s":
                    all_sp = False
                elif kind == "r":
                    all_re = False
                continue
            if kind == "d":
                any_dis = True
            for p in range(3):
                acc[p] += trip[p]
    view = _View(
        (lim[0], lim[1], lim[2]),
        phased,
        (dis[0], dis[1], dis[2]) if any_dis else None,
        False,
        None,
        False,
        None,
        False,
        None,
        EVSE_SUM_SOURCE,
        0,
    )
    setpoints = None
    if all_sp or all_re or len(modes) == 1:
        setpoints = _View(
            None,
            False,
            None,
            False,
            (sp[0], sp[1], sp[2]) if all_sp else None,
            False,
            (re[0], re[1], re[2]) if all_re else None,
            False,
            modes.pop() if len(modes) == 1 else None,
            EVSE_SUM_SOURCE,
            0,
        )
    return view, setpoints


def _generation_sum(views: list[_View]) -> _View | None:
    """Several LocalGeneration views as one: their limits added per phase (V21-7)."""
    with_limit = [v for v in views if v.lim is not None]
    if len(with_limit) <= 1:
        return with_limit[0] if with_limit else None
    lim = [0.0, 0.0, 0.0]
    for v in with_limit:
        assert v.lim is not None
        for p in range(3):
            lim[p] += v.lim[p]
    first = with_limit[0]
    phased = any(v.lim_phased for v in with_limit)
    return first._replace(lim=(lim[0], lim[1], lim[2]), lim_phased=phased)


def _field_phases(f: V2xFields, attr: str, ue: _Units) -> Triple | None:
    """An EVSE's field per phase in the output unit (all-phase values spread)."""
    value = getattr(f, attr)
    if value is None:
        return None
    if f.limit_l1 is not None:
        return (value, getattr(f, attr + "_l2") or 0.0, getattr(f, attr + "_l3") or 0.0)
    return _spread(value, ue.out_w, ue)


def station_fields(
    total: list[Any],
    per_evse: list[tuple[list[Any], list[V2xFields | None] | None]],
    answers: list[tuple[list[Any], list[V2xFields | None] | None]],
    cap_covers: list[list[Any]],
    gen_covers: list[list[Any]],
    *,
    start: int,
    out_w: bool,
    voltage: float,
    default_limit: float,
) -> tuple[list[Any], list[V2xFields | None]]:
    """The 2.1 fields of the EVSE-0 total at each of its intervals (V21-12).

    ``per_evse`` are the EVSEs' composites without LocalGeneration (their limits add up);
    ``answers`` the EVSEs' own answers, whose discharge limits, setpoints and modes add up
    (a setpoint held by a limit that generation raises, as the EVSE answers it).

    ``gen_covers`` are the LocalGeneration stacks added on top (EVSE 0's and each EVSE's own,
    V21-7); their limits add up per phase.
    """
    fields: list[V2xFields | None] = []
    out: list[Any] = []
    covers = [*cap_covers, *gen_covers]
    caps = len(cap_covers)
    ptrs = [0] * len(covers)
    evse_ptrs = [0] * len(per_evse)
    answer_ptrs = [0] * len(answers)
    for entry in total:
        t, n = entry[0], entry[2]
        u = _Units(out_w, voltage, n)
        terms = []
        for j, (raw, flist) in enumerate(per_evse):
            i = evse_ptrs[j]
            while i + 1 < len(raw) and raw[i + 1][0] <= t:
                i += 1
            evse_ptrs[j] = i
            araw, alist = answers[j]
            k = answer_ptrs[j]
            while k + 1 < len(araw) and araw[k + 1][0] <= t:
                k += 1
            answer_ptrs[j] = k
            terms.append(
                (
                    raw[i][1],
                    raw[i][2],
                    None if flist is None else flist[i],
                    None if alist is None else alist[k],
                )
            )
        sum_view, setpoints = _sum_view(terms, u)
        found = []
        for c, cover in enumerate(covers):
            ptrs[c], seg = _at(cover, ptrs[c], t)
            found.append(None if seg is None else _view(seg, t, start, 0, u))
        views = [sum_view, *(v for v in found[:caps] if v is not None)]
        default_each = default_limit / n if out_w else default_limit
        gen = _generation_sum([v for v in found[caps:] if v is not None])
        composed = _compose(views, None, gen, u, default_each, setpoints)
        if composed.limit is not None:
            src = entry[3] if composed.limit_src is None else _Source(composed.limit_src)
            entry = (t, composed.limit, n, src, entry[4])
        out.append(entry)
        fields.append(composed.fields)
    return out, fields

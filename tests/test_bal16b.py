"""balance's fast paths of helper BAL16B (issue 16) give exactly the reference result.

- :func:`_floors` rounds each value as :func:`_floor_tenth` does, through a table of
  distinct values.
- :func:`_solve_limits` (limits and a paused set, no pair per EVSE) is :func:`_solve`.
- :func:`_groups`' shortcut (the grid connection can bind: one group of everything) gives
  what its union-find gives (``_ONE_GROUP`` False is the reference).
- :func:`_at_caps` (products summed in C) is the filtered sum it replaced.
- :func:`_same_runs` (edges picked by ``compress``) and :func:`_active` (run by run) equal
  their slot-by-slot references.
- The whole Allocation on random sites is the same with and without the shortcut, and
  the benchmark's site keeps the digests recorded before these changes.
"""

from __future__ import annotations

import hashlib
import operator
import sys
from pathlib import Path
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies_site import T0, hostile_sites, sites, sites_with_needs

from ocpp_schedule import EqualShare, QueryError, SafetyError, Site, balance
from ocpp_schedule.site import Circuit
from ocpp_schedule.site import _allocation as alloc
from ocpp_schedule.site import _fairshare as fair
from ocpp_schedule.site import _slotshare as slot
from ocpp_schedule.site._allocation import Allocation

HOUR = 3600
SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
SITES = st.one_of(sites(), sites_with_needs(), hostile_sites())
RESOLUTIONS = st.sampled_from([None, 300, 900])
POLICIES = st.sampled_from([None, EqualShare()])

FLOATS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6),
    st.sampled_from([0.0, -0.0, 0.1, 0.3, 2.3, 6.0, 15.99999999999, 16.0, 1e-300, 5e-324]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(FLOATS, max_size=40))
def test_property_floors_round_each_value_as_floor_tenth_does(values: list[float]) -> None:
    """The table over distinct values gives each value its own rounding, bit for bit
    (``repr``: -0.0 and 0.0 told apart), in order."""
    got = slot._floors(values)
    want = [slot._floor_tenth(v) for v in values]
    assert list(map(repr, got)) == list(map(repr, want))


def _balanced(site: Site, resolution: int | None, policy: Any) -> Allocation | None:
    try:
        return balance(site, start=T0, duration=6 * HOUR, resolution=resolution, policy=policy)
    except (SafetyError, QueryError):
        return None


@SETTINGS
@given(SITES, RESOLUTIONS, POLICIES)
def test_property_solve_limits_is_solve_and_groups_shortcut_is_the_union_find(
    site: Site, resolution: int | None, policy: Any
) -> None:
    """Every slot solved during a balance: :func:`_solve` equals :func:`_solve_limits` read
    as pairs (a paused EVSE has 0 A), and :func:`_groups` with its shortcut equals it
    without; the whole Allocation is the same with the shortcut or without."""
    seen: list[tuple[Any, ...]] = []
    real_groups = slot._groups

    def keep(active: Any, room: Any, voltage: float) -> Any:
        out = real_groups(active, room, voltage)
        with mock.patch.object(slot, "_ONE_GROUP", False):
            assert real_groups(active, room, voltage) == out
        seen.append((list(active), room, voltage))
        return out

    with mock.patch.object(slot, "_groups", keep):
        fast = _balanced(site, resolution, policy)
    with mock.patch.object(slot, "_ONE_GROUP", False):
        slow = _balanced(site, resolution, policy)
    assert fast == slow
    for active, room, voltage in seen[:5]:
        amps, paused = slot._solve_limits(active, room, voltage)
        pairs = slot._solve(active, room, voltage)
        assert list(pairs) == list(amps)
        assert pairs == {key: (x, key in paused) for key, x in amps.items()}
        assert all(amps[key] == 0.0 for key in paused)


def test_the_shortcut_is_taken_only_when_every_path_starts_at_a_binding_circuit() -> None:
    """Two roots (never from a Site, but _groups must not assume one): no shortcut."""
    d = slot._Demand

    def demand(name: str, path: tuple[str, ...]) -> Any:
        return d((name, 1), 32.0, 3, (0, 1, 2), path, 1.0, 6.0, (1.0, 0, name, 1), 0)

    room = {
        "g": ((10.0, 10.0, 10.0), None),
        "f": ((100.0, 100.0, 100.0), None),
        "h": ((100.0, 100.0, 100.0), None),
    }
    active = [demand("a", ("g", "f")), demand("b", ("h",))]
    free, groups = slot._groups(active, room, 230.0)
    assert [x.key for x in free] == [("b", 1)]
    assert {k: [x.key for x in v] for k, v in groups.items()} == {frozenset({"g"}): [("a", 1)]}
    with mock.patch.object(slot, "_ONE_GROUP", False):
        assert slot._groups(active, room, 230.0) == (free, groups)


def test_a_site_whose_grid_connection_binds_takes_the_shortcut_with_the_same_result() -> None:
    """A feeder under a smaller grid connection: the shortcut is taken, and every field of
    the Allocation is what the union-find gives (EqualShare and DeadlineAware, 3 slot sizes)."""
    from test_bal16 import _crowded

    crowded = _crowded(60)
    site = crowded.model_copy(
        update={"grid": Circuit(id="g", amps=200.0, children=(Circuit(id="f", amps=250.0),))}
    )
    taken = []
    real = slot._groups

    def spy(active: Any, room: Any, voltage: float) -> Any:
        out = real(active, room, voltage)
        with mock.patch.object(slot, "_ONE_GROUP", False):
            assert real(active, room, voltage) == out  # the same demands, circuits, order
        taken.append(not out[0] and len(out[1]) == 1 and "g" in next(iter(out[1]), ()))
        return out

    for policy in (None, EqualShare()):
        for resolution in (None, 300, 900):
            with mock.patch.object(slot, "_groups", spy):
                fast = balance(
                    site, start=T0, duration=4 * HOUR, resolution=resolution, policy=policy
                )
            with mock.patch.object(slot, "_ONE_GROUP", False):
                slow = balance(
                    site, start=T0, duration=4 * HOUR, resolution=resolution, policy=policy
                )
            assert fast == slow
            assert fast.overloads() == []
    assert sum(taken) >= 6


COEFFICIENTS = st.one_of(
    st.floats(min_value=-5.0, max_value=1e4, allow_nan=False), st.just(0.0), st.just(float("nan"))
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.floats(min_value=0.0, max_value=1e3), min_size=1, max_size=8),
    st.data(),
)
def test_property_at_caps_is_the_filtered_sum(caps: list[float], data: Any) -> None:
    """Positive coefficients: summed in C; any zero, negative or NaN: the filtered sum."""
    size = data.draw(st.integers(0, 12))
    group_i = data.draw(st.lists(st.integers(0, len(caps) - 1), min_size=size, max_size=size))
    group_c = data.draw(st.lists(COEFFICIENTS, min_size=size, max_size=size))
    want = sum(c * caps[i] for i, c in zip(group_i, group_c, strict=True) if c > 0)
    assert repr(fair._at_caps(caps, group_i, group_c)) == repr(want)


def _same_runs_reference(per_slot: list[object]) -> list[tuple[int, int]]:
    edges = [k for k in range(1, len(per_slot)) if per_slot[k] is not per_slot[k - 1]]
    return list(zip([0, *edges], [*edges, len(per_slot)], strict=True))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 3), max_size=30))
def test_property_same_runs_are_the_runs_of_one_object(picks: list[int]) -> None:
    """Runs by identity: equal but distinct objects start a new run."""
    objects = [[n] for n in range(4)]
    twin = [0]  # equal to objects[0], not the same object
    per_slot: list[object] = [twin if n == 3 else objects[n] for n in picks]
    assert alloc._same_runs(per_slot) == _same_runs_reference(per_slot)


@SETTINGS
@given(SITES, RESOLUTIONS)
def test_property_active_run_by_run_is_active_slot_by_slot(
    site: Site, resolution: int | None
) -> None:
    """:func:`_active` equals the per-slot loop it replaced (same EVSEs, entries, order)."""
    captured: list[Any] = []
    real = alloc._active

    def keep(slot_evses: Any, slots: int) -> Any:
        out = real(slot_evses, slots)
        captured.append((slot_evses, slots, out))
        return out

    with mock.patch.object(alloc, "_active", keep):
        # A share policy: a planner reads the EVSEs' runs, not _active (PLAN13B).
        _balanced(site, resolution, EqualShare())
    for slot_evses, slots, out in captured:
        want: list[tuple[list[Any], list[Any]]] = [([], []) for _ in range(slots)]
        for key, per_slot in slot_evses.items():
            for k, entry in enumerate(per_slot):
                if entry.session >= 0:
                    want[k][0].append(key)
                    want[k][1].append(entry)
        assert len(out) == len(want)
        for (keys, entries), (want_keys, want_entries) in zip(out, want, strict=True):
            assert keys == want_keys
            assert all(map(operator.is_, entries, want_entries))
            assert len(entries) == len(want_entries)


def _digest(allocation: Allocation) -> str:
    h = hashlib.sha256()
    for name in (
        "boundaries",
        "amps",
        "phases",
        "caps",
        "sessions",
        "paused",
        "loads",
        "limits",
        "watt_limits",
        "pinned",
        "phase_map",
    ):
        value = getattr(allocation, name)
        h.update(repr(sorted(value.items()) if isinstance(value, dict) else value).encode())
    h.update(allocation.policy.encode())
    return h.hexdigest()[:12]


def test_the_benchmark_site_keeps_its_digests() -> None:
    """benchmarks/balance.py's 1,000 EVSEs over a day at 900 s: every Allocation field as
    before BAL16B (and BAL16: the same digests), DeadlineAware and EqualShare."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    try:
        from balance import DAY, large_site  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    site = large_site(1000)
    for policy, want in ((None, "6dc478578201"), (EqualShare(), "0faf7562df07")):
        allocation = balance(site, start=DAY, duration=86400, resolution=900, policy=policy)
        assert _digest(allocation) == want

"""Replay in linear time (issue 17): ``replay`` works on one mutable set of indexes (a
private ``Fold``) and hands out stores built from its log when read. Its answers and stores
are those of a fold of single installs, and its work is O(N) in the requests (counted)."""

from __future__ import annotations

import pickle
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocpp_schedule import (
    ChargingProfile,
    ChargingProfilePurpose,
    InstalledProfile,
    OcppVersion,
    ProfileStore,
    SetChargingProfileRequest,
    StationConfig,
    StationState,
    Transaction,
    install,
    install_local,
    replay,
)
from ocpp_schedule.station import _rules
from ocpp_schedule.station._fold import Fold

P = ChargingProfilePurpose
T0 = datetime(2024, 1, 1, tzinfo=UTC)
TRANSACTIONS = (Transaction("tx1", 1, T0), Transaction("tx2", 2, T0))
PURPOSES = {
    OcppVersion.V16: [P.TX_DEFAULT_PROFILE, P.TX_PROFILE, P.CHARGE_POINT_MAX_PROFILE],
    OcppVersion.V201: [
        P.TX_DEFAULT_PROFILE,
        P.TX_PROFILE,
        P.CHARGING_STATION_MAX_PROFILE,
        P.CHARGING_STATION_EXTERNAL_CONSTRAINTS,
    ],
}
PURPOSES[OcppVersion.V21] = PURPOSES[OcppVersion.V201]
ALL_PURPOSES = sorted({p for ps in PURPOSES.values() for p in ps}, key=lambda p: p.value)
IDS = range(1, 9)
LEVELS = range(2)


def profile(
    pid: int,
    purpose: ChargingProfilePurpose,
    level: int,
    *,
    window: tuple[int, int] | None = None,
    phase: int | None = None,
    limit: float = 16.0,
    tx: str | None = None,
) -> ChargingProfile:
    """A one-period Absolute profile; ``window`` in hours after T0 (validFrom, validTo)."""
    period: dict[str, Any] = {"startPeriod": 0, "limit": limit}
    if phase is not None:
        period |= {"numberPhases": 1, "phaseToUse": phase}
    data: dict[str, Any] = {
        "id": pid,
        "stackLevel": level,
        "chargingProfilePurpose": purpose.value,
        "chargingProfileKind": "Absolute",
        "chargingSchedule": [
            {
                "id": 1,
                "startSchedule": T0,
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [period],
            }
        ],
    }
    if window is not None:
        data["validFrom"] = T0 + timedelta(hours=window[0])
        data["validTo"] = T0 + timedelta(hours=window[1])
    if tx is not None:
        data["transactionId"] = tx
    return ChargingProfile.model_validate(data)


@st.composite
def request(draw: st.DrawFn, version: OcppVersion) -> SetChargingProfileRequest:
    """Few ids, levels and EVSEs (replacements, conflicts); now and then invalid (EVSE 4 is
    unknown, a negative limit, a max profile off EVSE 0, a TxProfile without or with a
    foreign transaction)."""
    purpose = draw(st.sampled_from(PURPOSES[version]))
    if purpose.is_max:
        evse = draw(st.sampled_from([0, 0, 0, 1]))
    else:
        evse = draw(st.sampled_from([0, 1, 1, 2, 2, 3, 4]))
    tx = None
    if purpose is P.TX_PROFILE:
        tx = draw(st.sampled_from([f"tx{evse}", f"tx{evse}", f"tx{evse}", None, "tx9"]))
    made = profile(
        draw(st.sampled_from(IDS)),
        purpose,
        draw(st.sampled_from(LEVELS)),
        window=draw(st.sampled_from([None, (0, 2), (1, 3), (2, 4)])),
        phase=draw(st.sampled_from([None, None, 1, 2, 3])),
        limit=draw(st.sampled_from([6.0, 16.0, 16.0, 32.0, 32.0, 10.0, 8.0, -1.0])),
        tx=tx,
    )
    return SetChargingProfileRequest(evse_id=evse, charging_profile=made)


@st.composite
def case(draw: st.DrawFn) -> tuple[list[SetChargingProfileRequest], StationState, bool]:
    version = draw(st.sampled_from([OcppVersion.V16, OcppVersion.V201, OcppVersion.V21]))
    config = StationConfig.with_evses(
        3,
        max_charging_profiles_installed=draw(st.integers(2, 9)),
        ac_phase_switching_supported=draw(st.sampled_from([True, True, True, False])),
    )
    state = StationState(config, version, TRANSACTIONS)
    return draw(st.lists(request(version), min_size=2, max_size=30)), state, draw(st.booleans())


def _every_one_at_the_level(
    store: Any, evse: int, purpose: ChargingProfilePurpose, stack_level: int
) -> Any:
    """The 2.x conflict rules' candidates as they were: every profile at the level."""
    return store._level_on(purpose, stack_level, None)


def folded(
    requests: list[SetChargingProfileRequest],
    state: StationState,
    store: ProfileStore,
    local_purposes: bool,
) -> list[tuple[ProfileStore, Any]]:
    """``replay`` as it was: one :func:`install` (:func:`install_local`) after the other,
    comparing a new 2.x profile with every one at its level (no narrowing by EVSE)."""
    steps = []
    with patch.object(_rules, "_conflict_candidates", _every_one_at_the_level):
        for req in requests:
            if local_purposes and req.charging_profile.charging_profile_purpose.is_local:
                store, result = install_local(store, req, state)
            else:
                store, result = install(store, req, state)
            steps.append((store, result))
    return steps


def looks(store: ProfileStore) -> tuple[object, ...]:
    """Everything a caller can read of a store: entries in order, and every index."""
    return (
        store.entries,
        len(store),
        [store.get(pid) for pid in IDS],
        [pid in store for pid in IDS],
        [store.at_level(p, level) for p in ALL_PURPOSES for level in LEVELS],
        dict(store.by_evse()),
        ProfileStore(store.entries) == store,
    )


@st.composite
def entry(draw: st.DrawFn) -> InstalledProfile:
    """An installed profile as any store may hold it (not necessarily one the rules would
    accept next to the others: a store read back, or kept across versions)."""
    purpose = draw(st.sampled_from(ALL_PURPOSES))
    made = profile(
        draw(st.sampled_from(IDS)),
        purpose,
        draw(st.sampled_from(LEVELS)),
        window=draw(st.sampled_from([None, (0, 2), (1, 3)])),
        phase=draw(st.sampled_from([None, 1, 2, 3])),
    )
    tx = draw(st.sampled_from(["tx1", "tx2"])) if purpose is P.TX_PROFILE else None
    return InstalledProfile(draw(st.integers(0, 3)), made, transaction_id=tx)


@settings(max_examples=400, deadline=None)
@given(case(), st.integers(0, 10), st.lists(entry(), max_size=8), st.booleans())
def test_property_replay_equals_a_fold_of_single_installs(
    drawn: tuple[list[SetChargingProfileRequest], StationState, bool],
    prefix: int,
    held: list[InstalledProfile],
    read_late: bool,
) -> None:
    """Every answer (accepted, reason, rule, message, replaced) and every store (entries in
    order, lookups, level index) equal; a rejection yields the store of the step before; a
    store read after the replay went on (``read_late``) still holds its own step's value.
    The replay starts from ``held``, then the first ``prefix`` requests installed."""
    requests, state, local_purposes = drawn
    base = ProfileStore(held)
    built = folded(requests[:prefix], state, base, local_purposes)
    base = built[-1][0] if built else base
    rest = requests[prefix:]
    expected = folded(rest, state, base, local_purposes)
    got: list[tuple[ProfileStore, Any]] = []
    seen = []
    for store, result in replay(rest, state, base, local_purposes=local_purposes):
        got.append((store, result))
        if not read_late:
            seen.append(looks(store))
    if read_late:
        seen = [looks(store) for store, _ in reversed(got)][::-1]
    assert [r for _, r in got] == [r for _, r in expected]
    assert seen == [looks(store) for store, _ in expected]
    previous = base
    for store, result in got:
        if not result.accepted:
            assert store is previous
        previous = store


def test_the_first_profile_a_rule_trips_on_is_the_first_installed() -> None:
    """Entries drawn from two indexes (EVSE 0 and EVSE 1) are merged back into
    installation order: the message names the one a scan of the store meets first."""
    cap = ChargingProfilePurpose.CHARGING_STATION_EXTERNAL_CONSTRAINTS
    config = StationConfig.with_evses(2, ac_phase_switching_supported=True)
    state = StationState(config, OcppVersion.V201)
    on_evse = InstalledProfile(1, profile(1, cap, 0, phase=1))
    on_station = InstalledProfile(0, profile(2, P.CHARGING_STATION_MAX_PROFILE, 0, phase=2))
    new = SetChargingProfileRequest(
        evse_id=1, charging_profile=profile(3, P.TX_DEFAULT_PROFILE, 0, phase=3)
    )
    for held, first in (([on_evse, on_station], 1), ([on_station, on_evse], 2)):
        [(_, result)] = replay([new], state, ProfileStore(held))
        assert result == install(ProfileStore(held), new, state)[1]
        assert f"of profile {first}" in result.message


def test_threads_reading_one_store_from_replay_read_the_same() -> None:
    """A store handed out by replay is built by whichever thread reads it first; threads
    reading it at once all see the same entries and levels (built twice at worst)."""
    state = StationState(StationConfig.with_evses(50), OcppVersion.V201)
    reqs = [
        SetChargingProfileRequest(
            evse_id=1 + k % 50, charging_profile=profile(k + 1, P.TX_DEFAULT_PROFILE, k // 50)
        )
        for k in range(300)
    ]
    expected = folded(reqs, state, ProfileStore(), False)[-1][0]
    for _ in range(5):
        *_, (store, _) = replay(reqs, state)
        start = threading.Barrier(8)

        def read(found: ProfileStore = store, start: threading.Barrier = start) -> object:
            start.wait()
            return (found.at_level(P.TX_DEFAULT_PROFILE, 3), found.entries, found.get(7))

        with ThreadPoolExecutor(8) as pool:
            seen = list(pool.map(lambda _: read(), range(8)))
        want = (expected.at_level(P.TX_DEFAULT_PROFILE, 3), expected.entries, expected.get(7))
        assert all(one == want for one in seen)


def test_a_store_from_replay_pickles_built() -> None:
    state = StationState(StationConfig.with_evses(2), OcppVersion.V201)
    reqs = [
        SetChargingProfileRequest(evse_id=1, charging_profile=profile(k, P.TX_DEFAULT_PROFILE, k))
        for k in range(1, 4)
    ]
    *_, (store, _) = replay(reqs, state)
    back = pickle.loads(pickle.dumps(store))
    assert back.entries == store.entries
    assert back.at_level(P.TX_DEFAULT_PROFILE, 2) == store.at_level(P.TX_DEFAULT_PROFILE, 2)


# ------------------------------------------------------------------ counted work


def _workload(kind: str, n: int) -> tuple[list[SetChargingProfileRequest], StationState]:
    """N requests of a shape that once cost O(N) each: distinct ids and stack levels
    (``scaling``, the benchmark's), one level on N EVSEs (2.x conflicts, 1.6 replacement),
    and ``phaseToUse`` on N EVSEs under a station cap (K01.FR.141)."""
    version = OcppVersion.V16 if kind == "v16-level" else OcppVersion.V201
    config = StationConfig.with_evses(
        n,
        charge_profile_max_stack_level=n,
        max_charging_profiles_installed=n + 2,
        ac_phase_switching_supported=True,
    )
    made: list[tuple[int, ChargingProfile]] = []
    if kind == "phases":
        made.append((0, profile(n + 1, P.CHARGING_STATION_MAX_PROFILE, 0, phase=1)))
    for k in range(n):
        if kind == "scaling":
            made.append((1 + k % 50, profile(k + 1, P.TX_DEFAULT_PROFILE, k // 50)))
        else:
            phase = 1 if kind == "phases" else None
            made.append((k + 1, profile(k + 1, P.TX_DEFAULT_PROFILE, 0, phase=phase)))
    reqs = [SetChargingProfileRequest(evse_id=e, charging_profile=p) for e, p in made]
    return reqs, StationState(config, version)


def _counting(original: Callable[..., Any], counter: list[int]) -> Callable[..., Any]:
    def wrapped(self: object, *args: object) -> Iterator[InstalledProfile]:
        for found in original(self, *args):
            counter[0] += 1
            yield found

    return wrapped


@pytest.mark.parametrize("kind", ["scaling", "v2-level", "v16-level", "phases"])
def test_replay_work_is_linear_in_the_requests(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Entries copied into stores, and entries the rules are handed to compare with, over
    a replay of N requests whose final store is read: O(N), counted (a store per request,
    or a scan of the level or of every entry, made both about N^2/2)."""
    n = 400
    reqs, state = _workload(kind, n)
    copied, compared = [0], [0]
    set_entries = ProfileStore._set

    def counting_set(self: ProfileStore, by_id: dict[int, InstalledProfile]) -> None:
        copied[0] += len(by_id)
        set_entries(self, by_id)

    def counting_entries(self: ProfileStore) -> tuple[InstalledProfile, ...]:
        found: tuple[InstalledProfile, ...] = entries.fget(self)  # type: ignore[misc]
        compared[0] += len(found)
        return found

    entries, at_level = ProfileStore.entries, ProfileStore.at_level
    monkeypatch.setattr(ProfileStore, "_set", counting_set)
    monkeypatch.setattr(ProfileStore, "entries", property(counting_entries))
    monkeypatch.setattr(ProfileStore, "at_level", _counting(at_level, compared))
    for name in ("_level_on", "_phased"):
        monkeypatch.setattr(Fold, name, _counting(getattr(Fold, name), compared))
    store = ProfileStore()
    for store, result in replay(reqs, state):  # noqa: B007
        assert result.accepted
    assert len(store.entries) == len(reqs)  # read: the final store is built
    assert copied[0] <= 2 * len(reqs)
    assert compared[0] <= 3 * len(reqs), compared


def test_a_state_keeps_what_the_rules_derive_out_of_equality_and_pickles() -> None:
    """The EVSE id set and the configuration's memo key are kept beside a state's fields:
    equal states stay equal, and a pickled state carries none of it (a hash is valid only
    in the process that computed it)."""
    state = StationState(StationConfig.with_evses(3), OcppVersion.V201)
    fresh = StationState(StationConfig.with_evses(3), OcppVersion.V201)
    reqs = [SetChargingProfileRequest(evse_id=4, charging_profile=profile(1, P.TX_PROFILE, 0))]
    [(_, result)] = replay(reqs, state)
    assert not result.accepted and "_derived" in state.__dict__
    assert state == fresh and hash(state) == hash(fresh)
    back = pickle.loads(pickle.dumps(state))
    assert back == state and "_derived" not in back.__dict__

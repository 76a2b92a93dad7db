"""The store's indexes (issue 17: rules replay without scans) agree with a scan, whatever
sequence of additions, replacements and removals built the store."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ocpp_schedule import ChargingProfile, ChargingProfilePurpose, InstalledProfile, ProfileStore

PURPOSES = [
    ChargingProfilePurpose.TX_DEFAULT_PROFILE,
    ChargingProfilePurpose.TX_PROFILE,
    ChargingProfilePurpose.CHARGING_STATION_MAX_PROFILE,
]


def entry(pid: int, purpose: int, level: int, evse: int) -> InstalledProfile:
    profile = ChargingProfile.model_validate(
        {
            "id": pid,
            "stackLevel": level,
            "chargingProfilePurpose": PURPOSES[purpose].value,
            "chargingProfileKind": "Relative",
            "chargingSchedule": [
                {
                    "id": 1,
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6}],
                }
            ],
        }
    )
    return InstalledProfile(evse, profile)


ops = st.lists(
    st.one_of(
        st.tuples(
            st.just("add"),
            st.integers(1, 8),
            st.integers(0, 2),
            st.integers(0, 2),
            st.integers(0, 3),
        ),
        st.tuples(st.just("drop"), st.lists(st.integers(1, 8), max_size=3)),
        st.tuples(st.just("look"), st.integers(0, 2), st.integers(0, 2)),
    ),
    max_size=40,
)


@given(ops)
def test_property_the_indexes_agree_with_a_scan(steps: list[tuple]) -> None:  # type: ignore[type-arg]
    store = ProfileStore()
    order: list[int] = []  # installation order, as the old scan-based store kept it
    for step in steps:
        if step[0] == "add":
            _, pid, purpose, level, evse = step
            store = store.with_entry(entry(pid, purpose, level, evse))
            order = [i for i in order if i != pid] + [pid]
        elif step[0] == "drop":
            store = store.without(step[1])
            order = [i for i in order if i not in step[1]]
        else:  # build the level index now, so later steps carry it
            store.at_level(PURPOSES[step[1]], step[2])
        assert [e.id for e in store] == order
        for pid in range(1, 9):
            found = [e for e in store if e.id == pid]
            assert store.get(pid) == (found[0] if found else None)
            assert (pid in store) == bool(found)
        for purpose in PURPOSES:
            for level in range(3):
                scan = tuple(e for e in store if e.purpose is purpose and e.stack_level == level)
                assert store.at_level(purpose, level) == scan
    assert ProfileStore(store.entries) == store

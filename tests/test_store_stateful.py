"""A stateful test of the station: install, replace, clear, transactions starting and ending.

Hypothesis drives random sequences of operations against the library's pure functions and
checks, after every step, what must always hold of a station's installed profiles, plus the
effect each operation promises (a model of ids and bindings, not a second rule engine).
"""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from ocpp_schedule import (
    ChargingProfilePurpose,
    ClearChargingProfileRequest,
    OcppVersion,
    ProfileStore,
    StationConfig,
    StationState,
    Transaction,
    clear,
    composite_schedule,
    install,
    install_local,
    read_set_charging_profile,
)

P = ChargingProfilePurpose
T0 = datetime(2024, 1, 1, tzinfo=UTC)
EVSES = (1, 2)
STAMPS = ("2024-01-01T00:00:00Z", "2024-01-01T06:00:00Z", "2024-01-02T00:00:00Z")


@st.composite
def requests(draw, version: OcppVersion, transactions: dict[int, str]) -> dict:
    purpose = draw(st.sampled_from(["TxDefaultProfile", "TxProfile", "TxProfile", "Max"]))
    if purpose == "Max":
        evse = 0
    elif purpose == "TxProfile" and transactions and draw(st.integers(0, 5)):
        evse = draw(st.sampled_from(sorted(transactions)))  # mostly where one runs
    else:
        evse = draw(st.sampled_from([0, *EVSES]))
    kind = draw(st.sampled_from(["Absolute", "Recurring", "Relative"]))
    periods = [{"startPeriod": 0, "limit": float(draw(st.integers(0, 40)))}]
    if draw(st.booleans()):
        periods.append(
            {"startPeriod": draw(st.integers(1, 7200)), "limit": float(draw(st.integers(0, 40)))}
        )
    sched = {
        "chargingRateUnit": draw(st.sampled_from(["A", "W"])) if purpose != "TxProfile" else "A",
        "chargingSchedulePeriod": periods,
    }
    if kind != "Relative":
        sched["startSchedule"] = draw(st.sampled_from(STAMPS))
    prof = {"stackLevel": draw(st.integers(0, 2)), "chargingProfileKind": kind}
    if kind == "Recurring":
        prof["recurrencyKind"] = "Daily"
    if draw(st.booleans()):
        prof["validFrom"], prof["validTo"] = STAMPS[0], draw(st.sampled_from(STAMPS[1:]))
    pid = draw(st.integers(1, 8))
    tx = transactions.get(evse) if evse else None
    if purpose == "TxProfile" and draw(st.integers(0, 4)) > 0 and tx is not None:
        prof["transactionId"] = tx
    if version is OcppVersion.V16:
        if "transactionId" in prof:
            prof["transactionId"] = int(prof["transactionId"])
        name = "ChargePointMaxProfile" if purpose == "Max" else purpose
        return {
            "connectorId": evse,
            "csChargingProfiles": {
                "chargingProfileId": pid,
                "chargingProfilePurpose": name,
                **prof,
                "chargingSchedule": sched,
            },
        }
    name = "ChargingStationMaxProfile" if purpose == "Max" else purpose
    return {
        "evseId": evse,
        "chargingProfile": {
            "id": pid,
            "chargingProfilePurpose": name,
            **prof,
            "chargingSchedule": [{"id": 1, **sched}],
        },
    }


class Station(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.version = OcppVersion.V201
        self.store = ProfileStore()
        self.transactions: dict[int, str] = {}
        self.next_tx = 100
        self.config = StationConfig(
            evse_ids=EVSES, max_charging_profiles_installed=6, charge_profile_max_stack_level=2
        )

    def state(self) -> StationState:
        return StationState(
            self.config,
            self.version,
            tuple(Transaction(t, e, T0) for e, t in sorted(self.transactions.items())),
        )

    @initialize(v16=st.booleans())
    def choose_version(self, v16: bool) -> None:
        self.version = OcppVersion.V16 if v16 else OcppVersion.V201

    @rule(data=st.data())
    def set_charging_profile(self, data) -> None:
        payload = data.draw(requests(self.version, self.transactions))
        request = read_set_charging_profile(payload, self.version)
        before = self.store
        after, result = install(before, request, self.state())
        if not result.accepted:
            assert after is before
            return
        entry = after.get(request.charging_profile.id)
        assert entry is not None and entry.profile == request.charging_profile
        assert entry.evse_id == request.evse_id
        gone = {e.id for e in before} - {e.id for e in after}
        assert gone == set(result.replaced) - {request.charging_profile.id}
        if self.version is OcppVersion.V16:
            prof = request.charging_profile
            same = [
                e
                for e in after
                if e.evse_id == request.evse_id
                and e.purpose is prof.purpose
                and e.stack_level == prof.stack_level
            ]
            assert [e.id for e in same] == [prof.id]  # 1.6 replaced any other
        self.store = after

    @rule(data=st.data())
    def set_external_constraints(self, data) -> None:
        request = read_set_charging_profile(
            {
                "evseId": 0,
                "chargingProfile": {
                    "id": -data.draw(st.integers(1, 3)),
                    "stackLevel": 0,
                    "chargingProfilePurpose": "ChargingStationExternalConstraints",
                    "chargingProfileKind": "Absolute",
                    "chargingSchedule": [
                        {
                            "id": 1,
                            "startSchedule": STAMPS[0],
                            "chargingRateUnit": "A",
                            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 20.0}],
                        }
                    ],
                },
            },
            "2.0.1",
        )
        after, result = install_local(self.store, request, self.state())
        if result.accepted:
            assert after.get(request.charging_profile.id) is not None
        self.store = after

    @rule(
        pid=st.one_of(st.none(), st.integers(-3, 8)),
        evse=st.one_of(st.none(), st.sampled_from([0, *EVSES])),
        purpose=st.one_of(st.none(), st.sampled_from(list(P))),
        level=st.one_of(st.none(), st.integers(0, 2)),
    )
    def clear_profiles(self, pid, evse, purpose, level) -> None:
        request = ClearChargingProfileRequest(
            charging_profile_id=pid,
            evse_id=evse,
            charging_profile_purpose=purpose,
            stack_level=level,
        )
        before = self.store
        after, result = clear(before, request, self.version)
        removed = {e.id for e in before} - {e.id for e in after}
        assert removed == set(result.cleared)
        assert (result.status == "Accepted") == bool(removed)
        for entry in before:
            if entry.purpose.is_local:
                assert entry.id not in removed  # K10: never cleared
        self.store = after

    @rule(evse=st.sampled_from(EVSES))
    def start_transaction(self, evse: int) -> None:
        if evse not in self.transactions:
            self.transactions[evse] = str(self.next_tx)
            self.next_tx += 1

    @rule(evse=st.sampled_from(EVSES))
    def end_transaction(self, evse: int) -> None:
        tx = self.transactions.pop(evse, None)
        if tx is None:
            return
        before = self.store
        self.store = before.end_transaction(tx)
        for entry in before:
            ends = entry.purpose is P.TX_PROFILE and entry.bound_transaction_id == tx
            assert (self.store.get(entry.id) is None) == ends

    @invariant()
    def ids_are_unique_and_within_the_maximum(self) -> None:
        ids = [e.id for e in self.store]
        assert len(ids) == len(set(ids))
        assert len(ids) <= self.config.max_charging_profiles_installed

    @invariant()
    def tx_profiles_belong_to_running_transactions(self) -> None:
        running = set(self.transactions.values())
        for entry in self.store:
            if entry.purpose is P.TX_PROFILE:
                assert entry.bound_transaction_id in running
                assert self.transactions.get(entry.evse_id) == entry.bound_transaction_id

    @invariant()
    def v2_never_holds_conflicting_levels(self) -> None:
        if self.version is OcppVersion.V16:
            return
        defaults = [e for e in self.store if e.purpose is P.TX_DEFAULT_PROFILE]
        for a in defaults:
            for b in defaults:
                if a.id != b.id and a.stack_level == b.stack_level:
                    assert not ({a.evse_id, b.evse_id} >= {0} and a.evse_id != b.evse_id)

    @invariant()
    def every_evse_has_a_composite(self) -> None:
        txs = [Transaction(t, e, T0) for e, t in self.transactions.items()]
        for evse in (0, *EVSES):
            result = composite_schedule(
                self.store,
                evse_id=evse,
                start=T0,
                duration=86400,
                transaction=txs,
                config=self.config,
            )
            assert result.periods and result.periods[0].start_period == 0


TestStation = Station.TestCase
TestStation.settings = settings(max_examples=60, stateful_step_count=25, deadline=None)

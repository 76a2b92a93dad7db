"""Station capabilities (capabilities.py): check before sending, adapt to what a station takes.

``check`` must reject exactly what the library's own rules reject under the same
capabilities; ``adapt``'s output must pass ``check`` and impose the same limit at every
instant (rounded down where the station's decimals force it), which the composite
engine verifies.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from strategies import VERSIONS, assert_schema_valid, set_charging_profile
from strategies_engine import T0, profile_json

from ocpp_schedule import (
    ChargingProfile,
    ChargingRateUnit,
    OcppVersion,
    PayloadError,
    ProfileStore,
    RejectionReason,
    SetChargingProfileRequest,
    StationConfig,
    StationState,
    Transaction,
    composite_schedule,
    install,
    read_set_charging_profile,
    write_set_charging_profile,
)
from ocpp_schedule.errors import AdaptationError, VersionError
from ocpp_schedule.station import (
    OCPP16_DEFAULTS,
    OCPP21_DEFAULTS,
    OCPP201_DEFAULTS,
    StationCapabilities,
    adapt,
    check,
)

A, W = ChargingRateUnit.A, ChargingRateUnit.W
R = RejectionReason
TX = Transaction("1", 1, datetime.fromtimestamp(T0 - 600, UTC))


def config_of(caps: StationCapabilities) -> StationConfig:
    """The station configuration the capabilities describe, spelled out field by field."""
    return StationConfig(
        charging_schedule_allowed_charging_rate_unit=caps.rate_units,
        charge_profile_max_stack_level=caps.max_stack_level,
        charging_schedule_max_periods=caps.max_periods_per_schedule,
        max_charging_profiles_installed=caps.max_installed_profiles,
        limit_decimal_places=caps.limit_decimal_places,
        relative_max_profile_supported=caps.accepts_relative_max_profile,
        recurring_max_profile_supported=caps.accepts_recurring_max_profile,
        supply_voltage=caps.supply_voltage,
        default_number_phases=caps.supply_phases,
        evse_ids=caps.evse_ids,
    )


def v2(
    periods: list[tuple[int, float]],
    *,
    evse: int = 1,
    pid: int = 1,
    level: int = 0,
    purpose: str = "TxDefaultProfile",
    kind: str = "Absolute",
    unit: str = "A",
    start: str | None = "2024-05-06T12:00:00Z",
    **extra: Any,
) -> dict[str, Any]:
    sched: dict[str, Any] = {
        "id": 1,
        "chargingRateUnit": unit,
        "chargingSchedulePeriod": [{"startPeriod": s, "limit": lim} for s, lim in periods],
    }
    if start is not None:
        sched["startSchedule"] = start
    profile = {
        "id": pid,
        "stackLevel": level,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": kind,
        "chargingSchedule": [sched],
        **extra,
    }
    return {"evseId": evse, "chargingProfile": profile}


def v16(periods: list[tuple[int, float]], **kw: Any) -> dict[str, Any]:
    request = read_set_charging_profile(v2(periods, **kw), "2.0.1")
    return write_set_charging_profile(request, "1.6")


def v16_raw_limit(limit: float) -> dict[str, Any]:
    """A 1.6 payload with the given limit (one the 1.6 schema refuses is refused on reading)."""
    payload = v16([(0, 16.0)])
    payload["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] = limit
    return payload


# ------------------------------------------------------------------ the type


def test_presets_add_what_each_version_imposes() -> None:
    assert OCPP16_DEFAULTS.ocpp_version is OcppVersion.V16
    assert OCPP16_DEFAULTS.limit_decimal_places == 1  # 1.6 schema: multipleOf 0.1
    assert OCPP16_DEFAULTS.accepts_relative_max_profile
    assert OCPP201_DEFAULTS.ocpp_version is OcppVersion.V201
    assert not OCPP201_DEFAULTS.accepts_relative_max_profile  # K01.FR.38
    assert OCPP21_DEFAULTS.ocpp_version is OcppVersion.V21
    assert StationCapabilities.defaults("1.6") is OCPP16_DEFAULTS
    assert OCPP201_DEFAULTS.rate_units == {A, W}
    assert OCPP201_DEFAULTS.max_stack_level == StationConfig().charge_profile_max_stack_level


def test_capabilities_are_immutable_and_validated() -> None:
    with pytest.raises(Exception, match="frozen"):
        OCPP16_DEFAULTS.max_stack_level = 3  # type: ignore[misc]
    with pytest.raises(ValueError, match="at least one rate unit"):
        StationCapabilities(ocpp_version="2.0.1", rate_units=frozenset())
    with pytest.raises(ValueError):
        StationCapabilities(ocpp_version="2.0.1", supply_phases=4)


def test_to_config_and_back() -> None:
    caps = StationCapabilities(
        ocpp_version="1.6",
        rate_units=frozenset({A}),
        max_stack_level=3,
        max_periods_per_schedule=24,
        max_installed_profiles=8,
        limit_decimal_places=0,
        accepts_recurring_max_profile=False,
        supply_voltage=240,
        supply_phases=1,
        evse_ids=(1, 2),
    )
    assert caps.to_config() == config_of(caps)
    assert StationCapabilities.from_config(caps.to_config(), "1.6") == caps
    base = StationConfig(composite_schedule_default_limit_amps=16)
    assert caps.to_config(base).composite_schedule_default_limit_amps == 16


# ---------------------------------------------------------------------- check

_UNIT_SETS = st.sampled_from([frozenset({A, W}), frozenset({A}), frozenset({W})])


def _either(draw: st.DrawFn, generous: Any, strict: st.SearchStrategy[Any]) -> Any:
    """The generous value half of the time, so that later rules are reached too."""
    return generous if draw(st.booleans()) else draw(strict)


@st.composite
def capabilities(draw: st.DrawFn, version: str) -> StationCapabilities:
    return StationCapabilities(
        ocpp_version=version,
        rate_units=_either(draw, frozenset({A, W}), _UNIT_SETS),
        max_stack_level=_either(draw, 100, st.sampled_from([0, 1, 3])),
        max_periods_per_schedule=_either(draw, 1024, st.integers(1, 3)),
        max_installed_profiles=_either(draw, 1000, st.integers(1, 2)),
        limit_decimal_places=_either(draw, None, st.sampled_from([0, 1, 2])),
        accepts_relative_max_profile=draw(st.booleans()),
        accepts_recurring_max_profile=draw(st.booleans()),
        supply_voltage=draw(st.sampled_from([230.0, 120.0])),
        supply_phases=draw(st.sampled_from([1, 3])),
        evse_ids=_either(draw, None, st.sampled_from([(1,), (1, 2, 3)])),
    )


CHECK_TX = Transaction("7", 1, datetime(2024, 1, 1, tzinfo=UTC))


@st.composite
def plausible_payloads(draw: st.DrawFn, version: str) -> dict[str, Any]:
    """A schema-valid payload, most often with its placement made plausible.

    The payload strategies cover the schema; most of what they draw fails the first
    rules (a purpose the CSMS may not send, an EVSE the station lacks, a TxProfile
    without a transaction). Three times in four the purpose, EVSE, transaction and
    stack level are set as a CSMS would, so that the schedule rules (units,
    periods, decimals, kinds) are reached; the schedule itself stays as drawn.
    """
    payload = draw(set_charging_profile(version))
    if draw(st.integers(0, 3)) == 0:
        return payload
    v16 = version == "1.6"
    profile = payload["csChargingProfiles" if v16 else "chargingProfile"]
    purpose = profile["chargingProfilePurpose"]
    if purpose not in ("ChargePointMaxProfile", "ChargingStationMaxProfile", "TxProfile"):
        purpose = "TxDefaultProfile"
    profile["chargingProfilePurpose"] = purpose
    if purpose == "TxProfile":
        profile["transactionId"] = 7 if v16 else "7"
        evse = 1
    else:
        profile.pop("transactionId", None)
        evse = 0 if "Max" in purpose else draw(st.sampled_from([0, 1]))
    payload["connectorId" if v16 else "evseId"] = evse
    profile["stackLevel"] = draw(st.sampled_from([0, 0, 1, 4]))
    if not v16:
        profile["chargingSchedule"] = profile["chargingSchedule"][:1]
    schedule = profile["chargingSchedule"] if v16 else profile["chargingSchedule"][0]
    for period in schedule["chargingSchedulePeriod"]:
        if "limit" in period and draw(st.booleans()):
            period["limit"] = abs(period["limit"])
        if draw(st.booleans()):
            period.pop("phaseToUse", None)
    if profile["chargingProfileKind"] != "Recurring" and draw(st.booleans()):
        profile.pop("recurrencyKind", None)
    return payload


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_property_check_rejects_exactly_what_the_rules_reject(data: st.DataObject) -> None:
    version = data.draw(st.sampled_from(VERSIONS))
    caps = data.draw(capabilities(version))
    payload = data.draw(plausible_payloads(version))
    installed = data.draw(st.lists(plausible_payloads(version), max_size=1))
    transactions = data.draw(st.sampled_from([(CHECK_TX,), (CHECK_TX,), ()]))
    # the station already holds whatever of ``installed`` a generous station accepted
    generous = StationState(StationConfig(), OcppVersion(version), transactions)
    store = ProfileStore()
    for other in installed:
        store, _ = install(store, read_set_charging_profile(other, version), generous)
    try:
        request = read_set_charging_profile(payload, version)
    except PayloadError:
        with pytest.raises(PayloadError):
            check(payload, caps, store=store, transactions=transactions)
        return
    state = StationState(config_of(caps), OcppVersion(version), transactions)
    _, expected = install(store, request, state)
    got = check(payload, caps, store=store, transactions=transactions)
    assert got == expected


@pytest.mark.parametrize(
    ("caps", "payload", "reason"),
    [
        (
            OCPP201_DEFAULTS.model_copy(update={"rate_units": frozenset({W})}),
            v2([(0, 16)]),
            R.UNSUPPORTED_RATE_UNIT,
        ),
        (
            OCPP201_DEFAULTS.model_copy(update={"max_stack_level": 2}),
            v2([(0, 16)], level=3),
            R.STACK_LEVEL_OUT_OF_RANGE,
        ),
        (
            OCPP201_DEFAULTS.model_copy(update={"max_periods_per_schedule": 1}),
            v2([(0, 16), (60, 8)]),
            R.TOO_MANY_PERIODS,
        ),
        # Issue 14: a 1.6 payload with 16.25 is no 1.6 payload (multipleOf 0.1) and is
        # refused on reading (test_a_16_limit_finer_than_a_tenth_is_unreadable); a tenth
        # finer than the station's own decimals is still TooManyDecimals.
        (
            OCPP16_DEFAULTS.model_copy(update={"limit_decimal_places": 0}),
            v16_raw_limit(16.5),
            R.TOO_MANY_DECIMALS,
        ),
        (
            OCPP201_DEFAULTS.model_copy(update={"limit_decimal_places": 0}),
            v2([(0, 16.5)]),
            R.TOO_MANY_DECIMALS,
        ),
        (
            OCPP201_DEFAULTS.model_copy(update={"accepts_recurring_max_profile": False}),
            v2(
                [(0, 40)],
                evse=0,
                purpose="ChargingStationMaxProfile",
                kind="Recurring",
                recurrencyKind="Daily",
            ),
            R.UNSUPPORTED_MAX_PROFILE_KIND,
        ),
        (
            OCPP16_DEFAULTS.model_copy(update={"accepts_relative_max_profile": False}),
            v16(
                [(0, 40)], evse=0, purpose="ChargingStationMaxProfile", kind="Relative", start=None
            ),
            R.UNSUPPORTED_MAX_PROFILE_KIND,
        ),
        (
            OCPP201_DEFAULTS,
            v2([(0, 40)], evse=0, purpose="ChargingStationMaxProfile", kind="Relative", start=None),
            R.RELATIVE_MAX_PROFILE,
        ),
        (
            OCPP201_DEFAULTS.model_copy(update={"evse_ids": (1,)}),
            v2([(0, 16)], evse=2),
            R.UNKNOWN_EVSE,
        ),
    ],
)
def test_check_names_the_reason(
    caps: StationCapabilities, payload: dict[str, Any], reason: RejectionReason
) -> None:
    payload_version = "1.6" if "connectorId" in payload else caps.ocpp_version.value
    assert payload_version == caps.ocpp_version.value
    result = check(payload, caps)
    assert (result.accepted, result.reason) == (False, reason)
    assert result.message


def test_a_16_limit_finer_than_a_tenth_is_unreadable() -> None:
    """A 1.6 station validates the schema (``multipleOf 0.1``): 16.25 is a CALLERROR on the
    wire, not a Rejected, so ``check`` raises PayloadError naming the field (P1, V21-6)."""
    with pytest.raises(PayloadError) as info:
        check(v16_raw_limit(16.25), OCPP16_DEFAULTS)
    assert info.value.field == "csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0].limit"
    assert info.value.rule == "OCPP 1.6 schema: multipleOf 0.1"


def test_check_store_full_and_payloads_of_another_version() -> None:
    caps = OCPP201_DEFAULTS.model_copy(update={"max_installed_profiles": 1})
    state = StationState(caps.to_config(), OcppVersion.V201)
    store, _ = install(
        ProfileStore(), read_set_charging_profile(v2([(0, 16)], pid=1), "2.0.1"), state
    )
    assert check(v2([(0, 8)], pid=2, evse=2), caps, store=store).reason is R.STORE_FULL
    assert check(v2([(0, 8)], pid=1), caps, store=store).accepted  # replaces by id
    with pytest.raises(PayloadError):
        check(v16([(0, 16)]), OCPP201_DEFAULTS)
    model = read_set_charging_profile(
        v2([(0, 16)], transactionId="abc", purpose="TxProfile"), "2.0.1"
    )
    with pytest.raises(VersionError):
        check(model, OCPP16_DEFAULTS)


# ---------------------------------------------------------------------- adapt


def composite_of(
    payloads: tuple[dict[str, Any], ...] | list[dict[str, Any]],
    version: OcppVersion | str,
    *,
    evse: int = 1,
    unit: str = "A",
    start: int = T0 - 3 * 3600,
    duration: int = 6 * 3600,
    config: StationConfig | None = None,
) -> list[tuple[int, float, int]]:
    state = StationState(StationConfig(), OcppVersion(version), (TX,))
    store = ProfileStore()
    for payload in payloads:
        store, result = install(store, read_set_charging_profile(payload, version), state)
        assert result.accepted, str(result)
    sched = composite_schedule(
        store,
        evse_id=evse,
        start=start,
        duration=duration,
        unit=unit,
        transaction=TX,
        config=config,
    )
    return [(p.start_period, p.limit, p.number_phases) for p in sched.periods]


def test_an_acceptable_payload_is_returned_as_it_is() -> None:
    payload = v2([(0, 16.0), (3600, 8.0)])
    adapted = adapt(payload, OCPP201_DEFAULTS)
    assert adapted.changes == ()
    assert adapted.payload == payload


def test_amps_to_watts_with_voltage_and_phases() -> None:
    caps = OCPP201_DEFAULTS.model_copy(update={"rate_units": frozenset({W})})
    payload = v2([(0, 16.0), (600, 10.0)])
    payload["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"][1][
        "numberPhases"
    ] = 1
    adapted = adapt(payload, caps)
    periods = adapted.payload["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"]
    assert adapted.payload["chargingProfile"]["chargingSchedule"][0]["chargingRateUnit"] == "W"
    assert periods == [
        {"startPeriod": 0, "limit": 11040.0, "numberPhases": 3},
        {"startPeriod": 600, "limit": 2300.0, "numberPhases": 1},
    ]
    assert any("converted" in c for c in adapted.changes)
    assert composite_of(adapted.payloads, "2.0.1") == composite_of([payload], "2.0.1")


def test_watts_to_amps_rounded_down_to_the_station_decimals() -> None:
    caps = OCPP16_DEFAULTS.model_copy(update={"rate_units": frozenset({A}), "supply_voltage": 230})
    adapted = adapt(v2([(0, 10_000.0)], unit="W"), caps)  # 10 000 / 690 = 14.4927... A
    schedule = adapted.payload["csChargingProfiles"]["chargingSchedule"]
    assert schedule["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 14.4, "numberPhases": 3}
    ]
    assert adapted.changes[0] == "written in OCPP 1.6"
    assert check(adapted.payload, caps).accepted
    assert_schema_valid(adapted.payload, "1.6", "SetChargingProfile")


def test_integer_station_rounds_limits_down() -> None:
    caps = OCPP201_DEFAULTS.model_copy(update={"limit_decimal_places": 0})
    adapted = adapt(v2([(0, 16.9), (60, 7.0), (120, 0.5)]), caps)
    periods = adapted.payload["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"]
    assert [p["limit"] for p in periods] == [16.0, 7.0, 0.0]


def test_equal_neighbours_merge_to_fit_the_period_limit() -> None:
    caps = OCPP201_DEFAULTS.model_copy(
        update={"max_periods_per_schedule": 2, "limit_decimal_places": 0}
    )
    payload = v2([(0, 16.2), (600, 16.7), (1200, 8.0)])  # equal once rounded down
    adapted = adapt(payload, caps)
    periods = adapted.payload["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"]
    assert periods == [{"startPeriod": 0, "limit": 16.0}, {"startPeriod": 1200, "limit": 8.0}]
    assert "equal neighbouring periods merged" in adapted.changes


def test_periods_after_the_duration_are_dropped_to_fit() -> None:
    caps = OCPP201_DEFAULTS.model_copy(update={"max_periods_per_schedule": 2})
    payload = v2([(0, 16.0), (600, 8.0), (1200, 4.0)])
    payload["chargingProfile"]["chargingSchedule"][0]["duration"] = 1200
    adapted = adapt(payload, caps)
    assert len(adapted.payloads) == 1
    assert composite_of(adapted.payloads, "2.0.1") == composite_of([payload], "2.0.1")


def test_absolute_schedule_split_in_201_keeps_one_stack_level() -> None:
    caps = OCPP201_DEFAULTS.model_copy(update={"max_periods_per_schedule": 2})
    payload = v2([(i * 600, 10.0 + i) for i in range(5)], level=2, validTo="2024-05-06T13:30:00Z")
    adapted = adapt(payload, caps)
    profiles = [p["chargingProfile"] for p in adapted.payloads]
    assert [p["id"] for p in profiles] == [1, 2, 3]
    assert [p["stackLevel"] for p in profiles] == [2, 2, 2]
    assert [(p.get("validFrom"), p.get("validTo")) for p in profiles] == [
        (None, "2024-05-06T12:20:00Z"),
        ("2024-05-06T12:20:00Z", "2024-05-06T12:40:00Z"),
        ("2024-05-06T12:40:00Z", "2024-05-06T13:30:00Z"),
    ]
    assert [p["chargingSchedule"][0]["startSchedule"] for p in profiles] == [
        "2024-05-06T12:00:00Z",
        "2024-05-06T12:20:00Z",
        "2024-05-06T12:40:00Z",
    ]
    assert composite_of(adapted.payloads, "2.0.1") == composite_of([payload], "2.0.1")
    with pytest.raises(AdaptationError, match="split"):
        _ = adapted.payload


def test_recurring_schedule_split_takes_consecutive_stack_levels() -> None:
    caps = OCPP201_DEFAULTS.model_copy(update={"max_periods_per_schedule": 2})
    hours = [(h * 3600, float(6 + h)) for h in range(0, 24, 4)]  # 6 periods a day
    payload = v2(hours, kind="Recurring", recurrencyKind="Daily", start="2024-05-01T00:00:00Z")
    adapted = adapt(payload, caps, new_ids=[70, 71])
    profiles = [p["chargingProfile"] for p in adapted.payloads]
    assert [p["id"] for p in profiles] == [1, 70, 71]
    assert [p["stackLevel"] for p in profiles] == [0, 1, 2]
    assert [p["chargingSchedule"][0]["duration"] for p in profiles] == [28_800] * 3
    day = {"start": T0 - 12 * 3600, "duration": 2 * 86_400}
    assert composite_of(adapted.payloads, "2.0.1", **day) == composite_of([payload], "2.0.1", **day)


def test_split_refused_where_it_would_change_precedence_or_cannot_anchor() -> None:
    caps = OCPP201_DEFAULTS.model_copy(update={"max_periods_per_schedule": 2})
    hours = [(h * 3600, float(6 + h)) for h in range(0, 24, 4)]
    payload = v2(hours, kind="Recurring", recurrencyKind="Daily", start="2024-05-01T00:00:00Z")
    state = StationState(caps.to_config(), OcppVersion.V201)
    store, _ = install(
        ProfileStore(),
        read_set_charging_profile(v2([(0, 1.0)], pid=9, level=1, evse=2), "2.0.1"),
        state,
    )
    with pytest.raises(AdaptationError) as info:
        adapt(payload, caps, store=store)
    assert info.value.field == "stackLevel"
    relative = v2([(0, 16.0), (60, 8.0), (120, 4.0)], kind="Relative", start=None)
    with pytest.raises(AdaptationError) as rel:
        adapt(relative, caps)
    assert rel.value.field == "chargingSchedulePeriod"
    assert rel.value.rule == "ChargingScheduleMaxPeriods / PeriodsPerSchedule"


def test_stack_level_lowered_only_when_alone_in_its_purpose() -> None:
    caps = OCPP201_DEFAULTS.model_copy(update={"max_stack_level": 3})
    adapted = adapt(v2([(0, 16.0)], level=8), caps)
    assert adapted.payload["chargingProfile"]["stackLevel"] == 3
    state = StationState(StationConfig(), OcppVersion.V201)
    store, _ = install(
        ProfileStore(), read_set_charging_profile(v2([(0, 6.0)], pid=2, level=1), "2.0.1"), state
    )
    with pytest.raises(AdaptationError) as info:
        adapt(v2([(0, 16.0)], level=8), caps, store=store)
    assert (info.value.field, info.value.rule) == (
        "stackLevel",
        "ChargeProfileMaxStackLevel / ProfileStackLevel",
    )


def test_purpose_fallback_only_where_the_operator_allows_it() -> None:
    caps = OCPP201_DEFAULTS.model_copy(update={"accepts_recurring_max_profile": False})
    payload = v2(
        [(0, 40.0)],
        evse=0,
        purpose="ChargingStationMaxProfile",
        kind="Recurring",
        recurrencyKind="Daily",
    )
    with pytest.raises(AdaptationError) as info:
        adapt(payload, caps)
    assert info.value.rule == "StationConfig.recurring_max_profile_supported"
    assert info.value.field == "chargingProfileKind"
    assert info.value.reason == "UnsupportedMaxProfileKind"
    to_default = adapt(payload, caps, purpose_fallback=["TxDefaultProfile"])
    assert to_default.payload["chargingProfile"]["chargingProfilePurpose"] == "TxDefaultProfile"
    assert to_default.payload["evseId"] == 0
    assert composite_of(to_default.payloads, "2.0.1") == composite_of([payload], "2.0.1")
    # TxProfile only: it goes to the transaction's EVSE and names the transaction
    to_tx = adapt(payload, caps, purpose_fallback=["TxProfile"], transactions=[TX])
    assert to_tx.payload["evseId"] == 1
    assert to_tx.payload["chargingProfile"]["transactionId"] == "1"
    with pytest.raises(AdaptationError):
        adapt(payload, caps, purpose_fallback=["TxProfile"])  # no transaction


def test_version_conversions() -> None:
    # 1.6 Absolute without startSchedule is relative to the start of charging (A1)
    loose = v16([(0, 16.0), (600, 8.0)], start=None)
    to_201 = adapt(loose, OCPP201_DEFAULTS)
    assert to_201.payload["chargingProfile"]["chargingProfileKind"] == "Relative"
    assert composite_of(to_201.payloads, "2.0.1") == composite_of([loose], "1.6")
    # a 1.6 TxProfile bound by the station to the running transaction names it in 2.x
    tx16 = v16([(0, 16.0)], purpose="TxProfile")
    to_tx = adapt(tx16, OCPP201_DEFAULTS, transactions=[TX])
    assert to_tx.payload["chargingProfile"]["transactionId"] == "1"
    with pytest.raises(AdaptationError) as no_tx:
        adapt(tx16, OCPP201_DEFAULTS)
    assert (no_tx.value.field, no_tx.value.rule) == ("transactionId", "K01.FR.03")
    # 2.x features 1.6 cannot carry
    named = v2([(0, 16.0)], purpose="TxProfile", transactionId="abc")
    with pytest.raises(AdaptationError) as tx_name:
        adapt(
            named,
            OCPP16_DEFAULTS,
            transactions=[Transaction("abc", 1, datetime(2024, 1, 1, tzinfo=UTC))],
        )
    assert tx_name.value.field == "transactionId"
    phase = v2([(0, 16.0)])
    phase["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"][0].update(
        {"numberPhases": 1, "phaseToUse": 2}
    )
    with pytest.raises(AdaptationError) as ptu:
        adapt(phase, OCPP16_DEFAULTS)
    assert ptu.value.field == "chargingSchedulePeriod.phaseToUse"
    # 1.6 -> 2.0.1 -> 1.6 of a plain profile is the same payload
    plain = v16([(0, 16.0), (60, 8.5)])
    there = adapt(plain, OCPP201_DEFAULTS).payload
    assert adapt(there, OCPP16_DEFAULTS).payload == plain


def test_errors_for_the_station_state_name_the_rule() -> None:
    caps = OCPP201_DEFAULTS.model_copy(update={"evse_ids": (1,)})
    with pytest.raises(AdaptationError) as info:
        adapt(v2([(0, 16.0)], evse=3), caps)
    assert (info.value.field, info.value.rule, info.value.reason) == (
        "evseId",
        "K01.FR.28",
        "UnknownEvse",
    )


# ------------------------------------------------------- adapt, as a property

_PURPOSES = st.sampled_from(
    [
        ("TxDefaultProfile", 0),
        ("TxDefaultProfile", 1),
        ("TxProfile", 1),
        ("ChargingStationMaxProfile", 0),
    ]
)


@st.composite
def sources(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    """A profile a generous station of its version accepts, as a payload of that version."""
    purpose, evse = draw(_PURPOSES)
    data = draw(profile_json(purpose, evse, 1))
    if purpose == "TxProfile":
        data["transactionId"] = "1"
    request = SetChargingProfileRequest(
        evse_id=evse, charging_profile=ChargingProfile.model_validate(data)
    )
    version = draw(st.sampled_from(["1.6", "2.0.1"]))
    try:
        payload = write_set_charging_profile(request, version)
    except VersionError:
        version = "2.0.1"
        payload = write_set_charging_profile(request, version)
    state = StationState(StationConfig(), OcppVersion(version), (TX,))
    _, result = install(ProfileStore(), read_set_charging_profile(payload, version), state)
    assume(result.accepted)
    return payload, version


@st.composite
def stations(draw: st.DrawFn) -> StationCapabilities:
    return StationCapabilities(
        ocpp_version=draw(st.sampled_from(["1.6", "2.0.1", "2.1"])),
        rate_units=draw(_UNIT_SETS),
        max_stack_level=draw(st.integers(0, 6)),
        max_periods_per_schedule=draw(st.integers(1, 6)),
        limit_decimal_places=draw(st.sampled_from([None, None, 0, 1, 2])),
        accepts_relative_max_profile=draw(st.booleans()),
        accepts_recurring_max_profile=draw(st.booleans()),
        supply_voltage=draw(st.sampled_from([230.0, 240.0, 120.0])),
        supply_phases=draw(st.sampled_from([1, 3])),
    )


def _at(periods: list[tuple[int, float, int]], t: int) -> tuple[float, int]:
    current = periods[0]
    for p in periods:
        if p[0] > t:
            break
        current = p
    return current[1], current[2]


@settings(max_examples=250, deadline=None)
@given(sources(), stations(), st.data())
def test_property_adapt_passes_check_and_keeps_the_limit(
    source: tuple[dict[str, Any], str], caps: StationCapabilities, data: st.DataObject
) -> None:
    payload, version = source
    fallback = data.draw(
        st.sampled_from([(), ("TxDefaultProfile",), ("TxDefaultProfile", "TxProfile")])
    )
    try:
        adapted = adapt(payload, caps, transactions=[TX], purpose_fallback=fallback)
    except AdaptationError as exc:
        assert exc.field and exc.rule, str(exc)
        # the station's own refusals that no rewrite may avoid; anything else (a duplicate,
        # a period count, a unit) is a rewrite that went wrong
        assert exc.reason in (None, "UnsupportedMaxProfileKind", "RelativeMaxProfile"), str(exc)
        return
    # every payload passes check, in order, and is schema-valid for the station's version
    store = ProfileStore()
    state = StationState(caps.to_config(), caps.ocpp_version, (TX,))
    for out in adapted.payloads:
        assert check(out, caps, store=store, transactions=[TX]).accepted
        store, _ = install(store, read_set_charging_profile(out, caps.ocpp_version), state)
        name = (
            "SetChargingProfile"
            if caps.ocpp_version is OcppVersion.V16
            else "SetChargingProfileRequest"
        )
        assert_schema_valid(json.loads(json.dumps(out)), caps.ocpp_version.value, name)
    # the same limit at every instant, in the source's unit, with the station's supply
    source_request = read_set_charging_profile(payload, version)
    unit = source_request.charging_profile.charging_schedule[0].charging_rate_unit
    evse = next((r.evse_id for r in adapted.requests if r.evse_id > 0), source_request.evse_id) or 1
    supply = StationConfig(
        supply_voltage=caps.supply_voltage, default_number_phases=caps.supply_phases
    )
    before = composite_of([payload], version, evse=evse, unit=unit.value, config=supply)
    after = composite_of(
        adapted.payloads, caps.ocpp_version, evse=evse, unit=unit.value, config=supply
    )
    rounded = any("rounded" in c or "converted" in c for c in adapted.changes)
    if not rounded:
        assert after == before, adapted.changes
        return
    places = caps.limit_decimal_places
    if caps.ocpp_version is OcppVersion.V16:
        places = 1 if places is None else min(places, 1)
    step = 0.0 if places is None else 10.0**-places
    target_unit = adapted.requests[0].charging_profile.charging_schedule[0].charging_rate_unit
    if target_unit is not unit:
        step = step * caps.supply_voltage * 3 if target_unit is A else step / caps.supply_voltage
    for t in sorted({p[0] for p in before} | {p[0] for p in after}):
        (x, nx), (y, ny) = _at(before, t), _at(after, t)
        assert nx == ny, (t, before, after)
        assert y <= x + 1e-6, (t, before, after)  # rounding down never exceeds the original
        assert x - y <= step + 0.1 + 1e-6, (t, before, after, adapted.changes)


def test_adapt_keeps_the_text_of_timestamps() -> None:
    payload = v2([(0, 16.0)], validFrom="2024-05-06T12:00:00.000+02:00")
    out = adapt(payload, OCPP16_DEFAULTS).payload
    assert out["csChargingProfiles"]["validFrom"] == "2024-05-06T12:00:00.000+02:00"


def test_min_charging_rate_converted_and_rounded_up_for_16() -> None:
    caps = OCPP16_DEFAULTS.model_copy(update={"rate_units": frozenset({A})})
    payload = v2([(0, 11_040.0)], unit="W")
    payload["chargingProfile"]["chargingSchedule"][0]["minChargingRate"] = 4_200.0  # 6.086.. A
    schedule = adapt(payload, caps).payload["csChargingProfiles"]["chargingSchedule"]
    assert schedule["minChargingRate"] == 6.1
    assert schedule["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 16.0, "numberPhases": 3}
    ]
    mixed = v2([(0, 11_040.0), (60, 3_680.0)], unit="W")
    mixed["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"][1]["numberPhases"] = 1
    mixed["chargingProfile"]["chargingSchedule"][0]["minChargingRate"] = 1_000.0
    with pytest.raises(AdaptationError) as info:
        adapt(mixed, caps)
    assert (info.value.field, info.value.rule) == ("chargingSchedule.minChargingRate", "K01.FR.50")


def test_adapt_reads_the_payload_first() -> None:
    with pytest.raises(PayloadError):
        adapt({"evseId": 1}, OCPP201_DEFAULTS)
    with pytest.raises(PayloadError):
        adapt(v2([(0, 16.0)]), OCPP201_DEFAULTS, source_version="1.6")


def test_the_guides_worked_example() -> None:
    """docs/capabilities.md: six periods in W to a 1.6 station of A, 2 periods, whole amperes."""
    watts = [22_000.0, 22_000.0, 15_000.0, 11_000.0, 11_000.0, 7_400.0]
    payload = v2(
        [(3600 * i, w) for i, w in enumerate(watts)],
        evse=0,
        pid=7,
        purpose="ChargingStationMaxProfile",
        unit="W",
        start="2024-06-01T00:00:00Z",
    )
    station = StationCapabilities(
        ocpp_version="1.6",
        rate_units=frozenset({A}),
        max_periods_per_schedule=2,
        limit_decimal_places=0,
        max_stack_level=8,
    )
    assert check(payload, station.model_copy(update={"ocpp_version": OcppVersion.V201})).reason is (
        R.UNSUPPORTED_RATE_UNIT
    )
    adapted = adapt(payload, station)
    assert adapted.changes == (
        "written in OCPP 1.6",
        "W converted to A at 230 V with each period's phases (written as numberPhases)",
        "limits rounded down to 0 decimal place(s)",
        "equal neighbouring periods merged",
        "schedule split into 2 profiles",
    )
    profiles = [p["csChargingProfiles"] for p in adapted.payloads]
    assert [(p["chargingProfileId"], p["stackLevel"]) for p in profiles] == [(7, 0), (8, 1)]
    assert [
        [
            (q["startPeriod"], q["limit"], q["numberPhases"])
            for q in p["chargingSchedule"]["chargingSchedulePeriod"]
        ]
        for p in profiles
    ] == [[(0, 31.0, 3), (7200, 21.0, 3)], [(0, 15.0, 3), (7200, 10.0, 3)]]
    assert profiles[0]["chargingSchedule"]["duration"] == 10_800
    assert profiles[0]["validTo"] == profiles[1]["validFrom"] == "2024-06-01T03:00:00Z"
    state = StationState(station.to_config(), OcppVersion.V16)
    store = ProfileStore()
    for out in adapted.payloads:
        assert check(out, station, store=store).accepted
        store, _ = install(store, read_set_charging_profile(out, "1.6"), state)


def test_capabilities_need_a_version() -> None:
    """Like StationState (W3): no default version, since the rules differ between versions."""
    with pytest.raises(ValueError, match="ocpp_version"):
        StationCapabilities()  # type: ignore[call-arg]


# ------------------------------------------- issue 14 item 9: the form of a stack-level error


def _v16_request(stack: int) -> dict[str, Any]:
    return {
        "connectorId": 1,
        "csChargingProfiles": {
            "chargingProfileId": 7,
            "stackLevel": stack,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": {
                "startSchedule": "2024-01-01T00:00:00Z",
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
            },
        },
    }


def test_v21_14_a_stack_level_above_the_maximum_in_the_stations_form() -> None:
    """MicroOcpp answers a stackLevel above its maximum with a CALLERROR
    PropertyConstraintViolation; the capabilities say so and the answer is predicted so."""
    ocpp = StationCapabilities(ocpp_version=OcppVersion.V16, max_stack_level=2)
    micro = ocpp.model_copy(update={"stack_level_error": "PropertyConstraintViolation"})
    over = check(_v16_request(3), micro)
    assert over.reason is RejectionReason.STACK_LEVEL_OUT_OF_RANGE
    assert ocpp.answer(over) == {"status": "Rejected"}
    error = micro.answer(over)
    assert error["errorCode"] == "PropertyConstraintViolation"
    assert error["errorDescription"].startswith("stackLevel")
    assert error["errorDetails"] == {}
    # other answers keep their form
    assert micro.answer(check(_v16_request(2), micro)) == {"status": "Accepted"}
    bad_unit = micro.model_copy(update={"rate_units": frozenset({ChargingRateUnit.W})})
    assert bad_unit.answer(check(_v16_request(1), bad_unit)) == {"status": "Rejected"}
    with pytest.raises(ValueError):
        StationCapabilities(ocpp_version=OcppVersion.V16, stack_level_error="CallError")

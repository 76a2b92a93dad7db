"""Wire safety (issue 11): what the models, readers, rules and adapters refuse or keep apart.

One section per defect class: W3 (the version is required), W4 (unknown fields are errors;
the blobs the models do not interpret are explicit fields, round-tripped), U1 (snake_case
constructor names for every type checker), F19 (caller data deep-copied and frozen), F18b
(bounded nesting), F26 (ClearChargingProfile null and wrong types; a clear never removes a
profile its criteria do not name), U5 (1.6 decimals at validation; ``round_limits``), F24
(composite answers say why), F31 (Python-only adapter inputs), F28 (Transaction types),
F13 (StationConfig bounds).
"""

from __future__ import annotations

import copy
import importlib.util
import json
import math
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from ocpp_schedule import (
    ChargingProfile,
    ChargingProfilePurpose,
    ChargingSchedule,
    ChargingSchedulePeriod,
    ClearChargingProfileRequest,
    ConfigError,
    InstalledProfile,
    LimitAtSoC,
    OcppVersion,
    PayloadError,
    ProfileStore,
    QueryError,
    RejectionReason,
    SetChargingProfileRequest,
    StationConfig,
    StationState,
    Transaction,
    VersionError,
    check_set_charging_profile,
    clear,
    install,
    read_set_charging_profile,
    round_limits,
    write_set_charging_profile,
)
from ocpp_schedule.station import (
    read_clear_charging_profile,
    write_clear_charging_profile,
)
from ocpp_schedule.station._rules import decimal_places
from ocpp_schedule.wire import MAX_JSON_DEPTH, JsonObject
from tests.strategies import assert_schema_valid

P = ChargingProfilePurpose
T0 = "2024-01-01T00:00:00Z"
START = datetime(2024, 1, 1, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[1]


def p16(pid: int, limit: float, *, evse: int = 1, purpose: str = "TxDefaultProfile") -> Any:
    """A 1.6 SetChargingProfile payload with one Absolute schedule."""
    return {
        "connectorId": evse,
        "csChargingProfiles": {
            "chargingProfileId": pid,
            "stackLevel": 0,
            "chargingProfilePurpose": purpose,
            "chargingProfileKind": "Absolute",
            "chargingSchedule": {
                "startSchedule": T0,
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
            },
        },
    }


def p2(custom: Any = None, *, where: str = "profile", limit: float = 16.0) -> dict[str, Any]:
    """A 2.0.1 SetChargingProfile payload; ``custom`` goes as customData on ``where``."""
    period: dict[str, Any] = {"startPeriod": 0, "limit": limit}
    sched: dict[str, Any] = {
        "id": 1,
        "startSchedule": T0,
        "chargingRateUnit": "A",
        "chargingSchedulePeriod": [period],
    }
    prof: dict[str, Any] = {
        "id": 1,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": [sched],
    }
    out: dict[str, Any] = {"evseId": 1, "chargingProfile": prof}
    if custom is not None:
        {"request": out, "profile": prof, "schedule": sched, "period": period}[where][
            "customData"
        ] = custom
    return out


def nested(depth: int) -> dict[str, Any]:
    """customData nested ``depth`` objects deep (itself being level 1)."""
    top: dict[str, Any] = {"vendorId": "v"}
    cur = top
    for _ in range(depth - 1):
        cur["x"] = {}
        cur = cur["x"]
    return top


# --------------------------------------------------------------------- W3: version required


def test_w3_station_state_needs_a_version() -> None:
    with pytest.raises(VersionError) as err:
        StationState()  # type: ignore[call-overload]
    assert err.value.field == "version"
    with pytest.raises(VersionError):
        StationState(StationConfig())  # type: ignore[call-overload]
    with pytest.raises(VersionError):
        StationState(version="1.7")


def test_w3_a_16_state_judges_by_16_rules() -> None:
    """1.6: a second TxDefault on the same stack level replaces the first (2.x rejects it)."""
    state = StationState(version="1.6")
    store, first = install(ProfileStore(), read_set_charging_profile(p16(1, 16.0)), state)
    store, second = install(store, read_set_charging_profile(p16(2, 10.0)), state)
    assert first.accepted and second.accepted
    assert [e.id for e in store] == [2]
    state2 = StationState(version="2.0.1")
    two = [read_set_charging_profile(p16(i, 10.0)) for i in (1, 2)]
    store2, _ = install(ProfileStore(), two[0], state2)
    _, result = install(store2, two[1], state2)
    assert result.reason is RejectionReason.DUPLICATE_PROFILE


def test_w3_positional_and_keyword_forms() -> None:
    cfg = StationConfig(evse_ids=(1,))
    assert StationState(cfg, "1.6").version is OcppVersion.V16
    assert StationState(version=OcppVersion.V21).config == StationConfig()
    state = StationState(cfg, "2.0.1", [Transaction("t", 1, START)])
    assert state.transactions == (Transaction("t", 1, START),)
    assert state.with_transaction(Transaction("u", 1, START)).version is OcppVersion.V201


# ------------------------------------------------------------- W4: unknown fields are errors

_MODELS: list[tuple[type[Any], dict[str, Any]]] = [
    (ChargingSchedulePeriod, {"start_period": 0, "limit": 16.0}),
    (LimitAtSoC, {"soc": 80, "limit": 8.0}),
    (
        ChargingSchedule,
        {"charging_rate_unit": "A", "charging_schedule_period": [{"startPeriod": 0, "limit": 6}]},
    ),
    (ClearChargingProfileRequest, {"evse_id": 1}),
]


@pytest.mark.parametrize(("model", "fields"), _MODELS, ids=lambda m: getattr(m, "__name__", ""))
@pytest.mark.parametrize("typo", ["number_phase", "numberPhase", "custom_datas", "CustomData"])
def test_w4_unknown_fields_are_errors(model: type[Any], fields: dict[str, Any], typo: str) -> None:
    assert model(**fields) is not None
    with pytest.raises(ValidationError) as err:
        model(**fields, **{typo: 1})
    assert err.value.errors()[0]["type"] == "extra_forbidden"
    with pytest.raises(ValidationError):
        model.model_validate({**fields, typo: 1})


def test_w4_typo_is_not_accepted_then_computed_on_three_phases() -> None:
    with pytest.raises(ValidationError):
        ChargingSchedulePeriod(start_period=0, limit=16.0, number_phase=1)  # type: ignore[call-arg]
    period = ChargingSchedulePeriod(start_period=0, limit=16.0, number_phases=1)
    assert period.number_phases == 1


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
@pytest.mark.parametrize("where", ["request", "profile", "schedule", "period"])
def test_w4_custom_data_is_an_explicit_field_round_tripped(version: str, where: str) -> None:
    custom = {"vendorId": "acme", "n": [1, {"deep": None}], "f": 0.5}
    payload = p2(custom, where=where)
    request = read_set_charging_profile(payload, version)
    holder = {
        "request": request,
        "profile": request.charging_profile,
        "schedule": request.charging_profile.charging_schedule[0],
        "period": request.charging_profile.charging_schedule[0].charging_schedule_period[0],
    }[where]
    assert holder.custom_data == custom
    out = write_set_charging_profile(request, version)
    assert out == payload
    assert_schema_valid(json.loads(json.dumps(out)), version, "SetChargingProfileRequest")


def test_w4_21_blobs_are_explicit_fields_round_tripped() -> None:
    curve = [{"frequency": 50.0, "power": 1.0}]
    tariff = {"id": 1, "salesTariffEntry": [{"relativeTimeInterval": {"start": 0}}]}
    price = {"vendorId": "x"}
    payload = p2()
    sched = payload["chargingProfile"]["chargingSchedule"][0]
    sched["salesTariff"] = tariff
    sched["priceLevelSchedule"] = {"anything": [1, 2]}
    sched["absolutePriceSchedule"] = {"anything": {"a": 1}}
    sched["limitAtSoC"] = {"soc": 80, "limit": 8.0, "customData": price}
    period = sched["chargingSchedulePeriod"][0]
    period["v2xFreqWattCurve"] = curve
    period["v2xSignalWattCurve"] = [{"signal": 1, "power": 2.0}]
    request = read_set_charging_profile(payload, "2.1")
    s = request.charging_profile.charging_schedule[0]
    assert s.sales_tariff == tariff
    assert s.limit_at_soc is not None and s.limit_at_soc.custom_data == price
    assert s.charging_schedule_period[0].v2x_freq_watt_curve == tuple(JsonObject(c) for c in curve)
    assert write_set_charging_profile(request, "2.1") == payload


# ---------------------------------------------------- U1: snake_case names for every checker


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None, reason="mypy is not installed")
def test_u1_snake_case_construction_type_checks_without_the_plugin(tmp_path: Path) -> None:
    """``mypy --strict`` WITHOUT pydantic's plugin accepts the documented snake_case names and
    flags a misspelt one (dataclass_transform sees the field names, not the JSON keys)."""
    snippet = tmp_path / "snippet.py"
    snippet.write_text(
        textwrap.dedent(
            """
            from ocpp_schedule import ChargingSchedulePeriod, LimitAtSoC
            from ocpp_schedule import ClearChargingProfileRequest, SetChargingProfileRequest
            ok = ChargingSchedulePeriod(start_period=0, limit=16.0, number_phases=1)
            soc = LimitAtSoC(soc=80, limit=8.0)
            clr = ClearChargingProfileRequest(charging_profile_id=3, stack_level=0)
            typo = ChargingSchedulePeriod(start_period=0, limti=16.0)
            """
        )
    )
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\nstrict = True\n")  # no pydantic.mypy plugin
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(config),
            "--no-incremental",
            "--follow-imports=silent",
            "--cache-dir",
            str(tmp_path / "cache"),
            str(snippet),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"MYPYPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    errors = [line for line in run.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 1, run.stdout + run.stderr
    assert "snippet.py:7:" in errors[0] and '"limti"' in errors[0]


# --------------------------------------------------------- F19: caller data deep-copied, frozen


def test_f19_mutating_the_payload_after_reading_changes_nothing() -> None:
    payload = p2({"vendorId": "acme", "note": "original", "list": [1, {"a": 2}]})
    request = read_set_charging_profile(payload)
    store, _ = install(ProfileStore(), request, StationState(version="2.0.1"))
    before = write_set_charging_profile(request, "2.0.1")
    custom = payload["chargingProfile"]["customData"]
    custom["note"] = "changed"
    custom["vendorId"] = 42
    custom["list"][1]["a"] = 3
    assert request.charging_profile.custom_data == {
        "vendorId": "acme",
        "note": "original",
        "list": (1, {"a": 2}),
    }
    assert store.entries[0].profile.custom_data == request.charging_profile.custom_data
    assert write_set_charging_profile(request, "2.0.1") == before


def test_f19_held_values_are_immutable_and_output_is_a_fresh_copy() -> None:
    request = read_set_charging_profile(p2({"vendorId": "acme", "list": [1]}))
    held = request.charging_profile.custom_data
    assert isinstance(held, JsonObject)
    with pytest.raises(TypeError):
        held["vendorId"] = "x"  # type: ignore[index]
    assert isinstance(held["list"], tuple)
    out = write_set_charging_profile(request, "2.0.1")
    out["chargingProfile"]["customData"]["list"].append(2)
    assert write_set_charging_profile(request, "2.0.1")["chargingProfile"]["customData"] == {
        "vendorId": "acme",
        "list": [1],
    }
    assert hash(request) == hash(read_set_charging_profile(p2({"vendorId": "acme", "list": [1]})))


def test_f19_direct_construction_copies_too() -> None:
    mine = {"vendorId": "v", "x": [1]}
    period = ChargingSchedulePeriod(start_period=0, limit=6.0, custom_data=mine)
    mine["x"].append(2)
    assert period.custom_data == {"vendorId": "v", "x": (1,)}
    clr = ClearChargingProfileRequest(custom_data=mine)
    mine["vendorId"] = "changed"
    assert clr.custom_data is not None and clr.custom_data["vendorId"] == "v"


# ---------------------------------------------------------------- F18b: bounded nesting


@pytest.mark.parametrize("where", ["request", "profile", "schedule", "period"])
def test_f18b_custom_data_at_the_bound_reads_and_writes(where: str) -> None:
    payload = p2(nested(MAX_JSON_DEPTH), where=where)
    request = read_set_charging_profile(payload)
    assert write_set_charging_profile(request, "2.0.1") == payload


@pytest.mark.parametrize("where", ["request", "profile", "schedule", "period"])
@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 254, 5000])
def test_f18b_deeper_custom_data_is_a_payload_error_naming_the_field(
    where: str, depth: int
) -> None:
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 1000))
    with pytest.raises(PayloadError) as err:
        read_set_charging_profile(p2(nested(depth), where=where))
    assert err.value.field is not None and err.value.field.endswith("customData")
    assert str(MAX_JSON_DEPTH) in err.value.message


def test_f18b_reproduction_file() -> None:
    path = Path("/work/shared/reproductions/f18_customdata_depth.json")
    if not path.exists():
        pytest.skip("reproduction not available")
    data = json.loads(path.read_text())[0]
    with pytest.raises(PayloadError):
        read_set_charging_profile(data)
    pytest.importorskip("ocpp")
    from ocpp_schedule.tools import adapters

    with pytest.raises(PayloadError):
        adapters.from_ocpp_set_charging_profile(
            {"evse_id": 1, "charging_profile": data["chargingProfile"]}, "2.0.1"
        )


def test_f18b_adapters_bound_nesting_before_walking() -> None:
    pytest.importorskip("ocpp")
    from ocpp_schedule.tools import adapters

    deep: Any = [1]
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(PayloadError) as err:
        adapters.from_ocpp_set_charging_profile({"evse_id": 1, "charging_profile": deep}, "2.0.1")
    assert "deeper" in err.value.message
    ok = read_set_charging_profile(p2(nested(MAX_JSON_DEPTH), where="period"))
    back = adapters.from_ocpp_set_charging_profile(
        adapters.to_ocpp_set_charging_profile(ok, "2.0.1")
    )
    assert back == ok


def test_f18b_non_json_values_are_refused() -> None:
    for bad in ({"vendorId": "v", "x": float("nan")}, {"vendorId": "v", 1: 2}, {"vendorId": 1}):
        with pytest.raises(ValidationError):
            ChargingSchedulePeriod(start_period=0, custom_data=bad)


# ------------------------------------------------------------ F26: ClearChargingProfile input


@pytest.mark.parametrize(
    ("payload", "version", "field"),
    [
        ({"id": None}, "1.6", "id"),
        ({"connectorId": None}, "1.6", "connectorId"),
        ({"id": 1, "stackLevel": None}, "1.6", "stackLevel"),
        ({"chargingProfilePurpose": None}, "1.6", "chargingProfilePurpose"),
        ({"chargingProfileId": None}, "2.0.1", "chargingProfileId"),
        ({"chargingProfileCriteria": None}, "2.0.1", "chargingProfileCriteria"),
        (
            {"chargingProfileCriteria": {"evseId": None}},
            "2.0.1",
            "chargingProfileCriteria.evseId",
        ),
        (
            {"chargingProfileCriteria": {"stackLevel": 0, "chargingProfilePurpose": None}},
            "2.1",
            "chargingProfileCriteria.chargingProfilePurpose",
        ),
        ({"customData": None}, "2.1", "customData"),
    ],
)
def test_f26_null_is_a_payload_error_and_clears_nothing(
    payload: dict[str, Any], version: str, field: str
) -> None:
    with pytest.raises(PayloadError) as err:
        read_clear_charging_profile(payload, version)
    assert err.value.field == field
    assert "null" in err.value.message


@pytest.mark.parametrize(
    ("payload", "version", "field"),
    [
        ({"id": True}, "1.6", "id"),
        ({"id": 1.5}, "1.6", "id"),
        ({"connectorId": "1"}, "1.6", "connectorId"),
        ({"stackLevel": [0]}, "1.6", "stackLevel"),
        ({"chargingProfileId": "3"}, "2.0.1", "chargingProfileId"),
        ({"chargingProfileCriteria": {"evseId": False}}, "2.0.1", "chargingProfileCriteria.evseId"),
        ({"customData": {"x": 1}}, "2.0.1", "customData"),
        ({"customData": []}, "2.1", "customData"),
    ],
)
def test_f26_wrong_types_are_payload_errors(
    payload: dict[str, Any], version: str, field: str
) -> None:
    with pytest.raises(PayloadError) as err:
        read_clear_charging_profile(payload, version)
    assert err.value.field == field


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_f26_adapters_refuse_null_too(version: str) -> None:
    pytest.importorskip("ocpp")
    from ocpp_schedule.tools import adapters

    key = "id" if version == "1.6" else "charging_profile_id"
    with pytest.raises(PayloadError):
        adapters.from_ocpp_clear_charging_profile({key: None}, version)
    with pytest.raises(PayloadError):
        adapters.from_ocpp_clear_charging_profile({key: True}, version)


_PURPOSES_16 = [P.CHARGE_POINT_MAX_PROFILE, P.TX_DEFAULT_PROFILE, P.TX_PROFILE]
_PURPOSES_2 = [
    P.CHARGING_STATION_MAX_PROFILE,
    P.TX_DEFAULT_PROFILE,
    P.TX_PROFILE,
    P.CHARGING_STATION_EXTERNAL_CONSTRAINTS,
]


def _profile(pid: int, purpose: P, level: int) -> ChargingProfile:
    return ChargingProfile.model_validate(
        {
            "id": pid,
            "stackLevel": level,
            "chargingProfilePurpose": purpose.value,
            "chargingProfileKind": "Absolute",
            "chargingSchedule": [
                {
                    "id": 1,
                    "startSchedule": T0,
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
                }
            ],
        }
    )


@st.composite
def _store_and_clear(draw: Any) -> tuple[str, ProfileStore, dict[str, Any]]:
    version = draw(st.sampled_from(["1.6", "2.0.1", "2.1"]))
    purposes = _PURPOSES_16 if version == "1.6" else _PURPOSES_2
    ids = draw(st.lists(st.integers(1, 8), min_size=0, max_size=8, unique=True))
    entries = [
        InstalledProfile(
            draw(st.integers(0, 2)),
            _profile(pid, draw(st.sampled_from(purposes)), draw(st.integers(0, 2))),
        )
        for pid in ids
    ]
    maybe_id = st.none() | st.integers(1, 9)
    maybe_evse = st.none() | st.integers(0, 3)
    maybe_level = st.none() | st.integers(0, 3)
    maybe_purpose = st.none() | st.sampled_from([p.value for p in purposes])
    pid, evse, level, purpose = (
        draw(maybe_id),
        draw(maybe_evse),
        draw(maybe_level),
        draw(maybe_purpose),
    )
    if version == "1.6":
        raw = {
            "id": pid,
            "connectorId": evse,
            "stackLevel": level,
            "chargingProfilePurpose": purpose,
        }
        payload = {k: v for k, v in raw.items() if v is not None}
    else:
        crit = {"evseId": evse, "stackLevel": level, "chargingProfilePurpose": purpose}
        payload = {"chargingProfileId": pid} if pid is not None else {}
        criteria = {k: v for k, v in crit.items() if v is not None}
        if criteria:
            payload["chargingProfileCriteria"] = criteria
    return version, ProfileStore(entries), payload


def _named(entry: InstalledProfile, payload: dict[str, Any], version: str) -> bool:
    """Whether the request's own words name ``entry`` (computed from the payload, not the model).

    1.6: an id names only that profile (the other fields are ignored, errata 3.25); else
    every given criterion must hold. 2.x: every given field must hold (K10.FR.04).
    """
    if version == "1.6":
        if "id" in payload:
            return entry.id == payload["id"]
        fields = {
            "connectorId": entry.evse_id,
            "stackLevel": entry.stack_level,
            "chargingProfilePurpose": entry.purpose.value,
        }
        return all(payload[k] == v for k, v in fields.items() if k in payload)
    if "chargingProfileId" in payload and entry.id != payload["chargingProfileId"]:
        return False
    crit = payload.get("chargingProfileCriteria", {})
    fields = {
        "evseId": entry.evse_id,
        "stackLevel": entry.stack_level,
        "chargingProfilePurpose": entry.purpose.value,
    }
    return all(crit[k] == v for k, v in fields.items() if k in crit)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_store_and_clear())
def test_f26_property_a_clear_never_removes_a_profile_its_criteria_do_not_name(
    case: tuple[str, ProfileStore, dict[str, Any]],
) -> None:
    """Over generated stores and requests (1.6, 2.0.1, 2.1): whatever ``clear`` removes is
    named by the request as sent, and never an external-constraints profile; what it keeps
    is the store minus exactly what it reports; the request survives a write/read round trip."""
    version, store, payload = case
    request = read_clear_charging_profile(payload, version)
    assert read_clear_charging_profile(write_clear_charging_profile(request, version), version) == (
        request
    )
    after, result = clear(store, request, version)
    removed = {e.id for e in store} - {e.id for e in after}
    assert removed == set(result.cleared)
    for entry in store:
        if entry.id in removed:
            assert _named(entry, payload, version), (entry.id, payload)
            assert entry.purpose is not P.CHARGING_STATION_EXTERNAL_CONSTRAINTS
        elif entry.purpose is not P.CHARGING_STATION_EXTERNAL_CONSTRAINTS:
            assert not _named(entry, payload, version), (entry.id, payload)


# -------------------------------------------------------------- U5: version's decimals


def _request(limit: float, rate: float | None = None) -> SetChargingProfileRequest:
    payload = p2(limit=limit)
    if rate is not None:
        payload["chargingProfile"]["chargingSchedule"][0]["minChargingRate"] = rate
    return read_set_charging_profile(payload, "2.0.1")


def test_u5_16_state_rejects_what_the_16_writer_cannot_write() -> None:
    state = StationState(version="1.6")
    result = check_set_charging_profile(ProfileStore(), _request(22000 / 3 / 230), state)
    assert result.reason is RejectionReason.TOO_MANY_DECIMALS
    assert result.rule == "OCPP 1.6 schema: multipleOf 0.1"
    rate = check_set_charging_profile(ProfileStore(), _request(16.0, 6.05), state)
    assert rate.reason is RejectionReason.TOO_MANY_DECIMALS
    assert check_set_charging_profile(ProfileStore(), _request(31.8), state).accepted
    two = StationState(version="2.0.1")
    assert check_set_charging_profile(ProfileStore(), _request(22000 / 3 / 230), two).accepted


@settings(max_examples=200, deadline=None)
@given(
    st.floats(0, 1e6, allow_nan=False),
    st.none() | st.floats(0, 1000, allow_nan=False),
    st.sampled_from(["1.6", "2.0.1", "2.1"]),
    st.none() | st.integers(0, 3),
)
def test_u5_property_round_limits_gives_what_the_version_accepts(
    limit: float, rate: float | None, version: str, places: int | None
) -> None:
    """``round_limits`` output passes the rules' decimals check and the writer of the
    version, is never above the limit given and at most one last decimal step below it
    (float noise below 10^-6 of a step is not a digit, as in ``adapt``)."""
    request = _request(limit, rate)
    rounded = round_limits(request, version, places=places)
    sched = rounded.charging_profile.charging_schedule[0]
    new = sched.charging_schedule_period[0].limit
    assert new is not None
    allowed = 1 if version == "1.6" and places is None else places
    if version == "1.6" and places is not None:
        allowed = min(places, 1)
    if allowed is not None:
        assert decimal_places(new) <= allowed
        assert new <= limit + 1e-6 and limit - new < 10.0**-allowed + 1e-6
    else:
        assert new == limit
    state = StationState(StationConfig(limit_decimal_places=places), version)
    result = check_set_charging_profile(ProfileStore(), rounded, state)
    assert result.reason is not RejectionReason.TOO_MANY_DECIMALS, str(result)
    if version == "1.6":
        write_set_charging_profile(rounded, "1.6")
        if rate is not None:
            assert sched.min_charging_rate is not None and sched.min_charging_rate >= rate - 1e-6


def test_u5_round_limits_of_a_profile_and_a_schedule() -> None:
    request = _request(9.5652)
    profile = round_limits(request.charging_profile, "1.6")
    assert profile.charging_schedule[0].charging_schedule_period[0].limit == 9.5
    sched = round_limits(request.charging_profile.charging_schedule[0], "2.0.1", places=2)
    assert sched.charging_schedule_period[0].limit == 9.56
    with pytest.raises(TypeError):
        round_limits("x", "1.6")  # type: ignore[type-var]


# --------------------------------------------------------------- F24: answers say why


def test_f24_composite_answer_reason_codes() -> None:
    from ocpp_schedule.tools.adapters import CompositeQuery

    periods = [{"startPeriod": 3600 * h, "limit": 6.0 + h} for h in range(24)]
    payload = {
        "evseId": 1,
        "chargingProfile": {
            "id": 1,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Recurring",
            "recurrencyKind": "Daily",
            "chargingSchedule": [
                {
                    "id": 1,
                    "startSchedule": T0,
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": periods,
                }
            ],
        },
    }
    cfg = StationConfig(evse_ids=(1,))
    store, _ = install(
        ProfileStore(), read_set_charging_profile(payload), StationState(cfg, "2.0.1")
    )
    cases = {
        (1, 86400): ("Accepted", None),
        (1, 2**31 - 1): ("Rejected", "TooManyElements"),
        (2, 60): ("Rejected", "UnknownEVSE"),
        (1, -1): ("Rejected", "InvalidValue"),
    }
    for (evse, duration), (status, code) in cases.items():
        ans = CompositeQuery(evse_id=evse, duration=duration).answer(
            store, "2.0.1", start=1704067200, config=cfg
        )
        assert (ans.status, ans.reason_code) == (status, code), (evse, duration)
        if code is not None:
            assert ans.additional_info
            assert_schema_valid(ans.payload, "2.0.1", "GetCompositeScheduleResponse")
    late = CompositeQuery(evse_id=1, duration=86400).answer(
        store, "2.0.1", start=253402300000, config=cfg
    )
    assert late.reason_code == "OutOfRange"


def test_f24_composite_query_custom_data_is_frozen() -> None:
    from ocpp_schedule.tools.adapters import CompositeQuery

    mine = {"vendorId": "v", "x": [1]}
    query = CompositeQuery(evse_id=1, duration=60, custom_data=mine)
    mine["x"].append(2)
    assert query.to_payload("2.0.1")["customData"] == {"vendorId": "v", "x": [1]}
    with pytest.raises(PayloadError):
        CompositeQuery(evse_id=1, duration=60, custom_data={"vendorId": "v", "n": math.inf})


# ------------------------------------------------------- F31: Python-only adapter inputs


def _kwargs16(limit: Any) -> dict[str, Any]:
    return {
        "connector_id": 1,
        "cs_charging_profiles": {
            "charging_profile_id": 1,
            "stack_level": 0,
            "charging_profile_purpose": "TxDefaultProfile",
            "charging_profile_kind": "Absolute",
            "charging_schedule": {
                "start_schedule": T0,
                "charging_rate_unit": "A",
                "charging_schedule_period": [{"start_period": 0, "limit": limit}],
            },
        },
    }


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda k: {1: 2, **k}, id="int-key"),
        pytest.param(lambda k: {**k, ("a",): 1}, id="tuple-key"),
        pytest.param(
            lambda k: k["cs_charging_profiles"]["charging_schedule"].update({None: 1}),
            id="nested-none-key",
        ),
        pytest.param(
            lambda k: k["cs_charging_profiles"]["charging_schedule"]["charging_schedule_period"][
                0
            ].update({"limit": Decimal("sNaN")}),
            id="snan",
        ),
        pytest.param(
            lambda k: k["cs_charging_profiles"]["charging_schedule"]["charging_schedule_period"][
                0
            ].update({"limit": {1, 2}}),
            id="set-limit",
        ),
        pytest.param(
            lambda k: k["cs_charging_profiles"].update({"stack_level": b"0"}), id="bytes-level"
        ),
    ],
)
def test_f31_python_only_adapter_inputs_are_payload_errors(mutate: Any) -> None:
    pytest.importorskip("ocpp")
    from ocpp_schedule.tools import adapters

    kwargs = _kwargs16(16.0)
    replaced = mutate(kwargs)
    message = replaced if isinstance(replaced, dict) else kwargs
    with pytest.raises(PayloadError):
        adapters.from_ocpp_set_charging_profile(message, "1.6")
    good = adapters.from_ocpp_set_charging_profile(_kwargs16(Decimal("16.0")), "1.6")
    assert good.charging_profile.charging_schedule[0].charging_schedule_period[0].limit == 16.0


def test_f31_clear_and_composite_adapters_too() -> None:
    pytest.importorskip("ocpp")
    from ocpp_schedule.tools import adapters

    with pytest.raises(PayloadError):
        adapters.from_ocpp_clear_charging_profile({1: 1}, "1.6")
    with pytest.raises(PayloadError):
        adapters.from_ocpp_get_composite_schedule(
            {"connector_id": 1, "duration": Decimal("sNaN")}, "1.6"
        )


# ---------------------------------------------------------------- F28: Transaction types


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("1", "1", START), "transaction.evse_id"),
        (("1", 1.5, START), "transaction.evse_id"),
        (("1", True, START), "transaction.evse_id"),
        (("1", None, START), "transaction.evse_id"),
        (("1", 1, 1704067200), "transaction.start"),
        (("1", 1, "2024-01-01T00:00:00Z"), "transaction.start"),
        ((None, 1, START), "transaction.id"),
        ((1.5, 1, START), "transaction.id"),
        ((True, 1, START), "transaction.id"),
        (("1", 0, START), "transaction.evse_id"),
    ],
)
def test_f28_transaction_wrong_types_are_query_errors(args: tuple[Any, ...], field: str) -> None:
    with pytest.raises(QueryError) as err:
        Transaction(*args)
    assert err.value.field == field


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"priority_charging": 1}, "transaction.priority_charging"),
        ({"state_of_charge": "50"}, "transaction.state_of_charge"),
        ({"state_of_charge": math.nan}, "transaction.state_of_charge"),
        ({"state_of_charge": 101}, "transaction.state_of_charge"),
        ({"state_of_charge": True}, "transaction.state_of_charge"),
    ],
)
def test_f28_transaction_optional_fields_checked(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(QueryError) as err:
        Transaction("1", 1, START, **kwargs)
    assert err.value.field == field


def test_f28_transaction_integer_id_is_its_text() -> None:
    assert Transaction(17, 1, START).id == "17"  # type: ignore[arg-type]


# ---------------------------------------------------------------- F13: StationConfig bounds


@pytest.mark.parametrize("count", [0, -1, 1001, 10**9, 10**30])
def test_f13_evse_count_is_bounded_before_building(count: int) -> None:
    with pytest.raises(ConfigError) as err:
        StationConfig.with_evses(count)
    assert err.value.field == "evses"
    with pytest.raises(ConfigError) as err16:
        StationConfig.from_ocpp16_keys({"NumberOfConnectors": str(count)})
    assert err16.value.field == "NumberOfConnectors"


def test_f13_bounds_hold_at_their_edges() -> None:
    assert len(StationConfig.with_evses(1000).evse_ids or ()) == 1000
    assert StationConfig(supply_voltage=1.0).supply_voltage == 1.0
    assert StationConfig(supply_voltage=100_000.0).supply_voltage == 100_000.0
    assert StationConfig(composite_schedule_default_limit_amps=1e9).default_limit is not None
    with pytest.raises(ConfigError):
        StationConfig.with_evses(True)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("supply_voltage", math.inf),
        ("supply_voltage", 1e-300),
        ("supply_voltage", 1e-320),
        ("composite_schedule_default_limit_amps", math.inf),
        ("composite_schedule_default_limit_watts", 1e308),
    ],
)
def test_f13_absurd_values_are_config_errors(field: str, value: float) -> None:
    with pytest.raises(ConfigError) as err:
        StationConfig(**{field: value})
    assert err.value.field == field


def test_payload_copy_is_unchanged_by_reading() -> None:
    """Reading never changes its input either (deep copies both ways)."""
    payload = p2({"vendorId": "v", "x": [1]}, where="period")
    before = copy.deepcopy(payload)
    read_set_charging_profile(payload)
    assert payload == before


def test_capabilities_page_python_blocks_run(capsys: pytest.CaptureFixture[str]) -> None:
    """Every Python block of docs/capabilities.md runs, in order, in one namespace."""
    import re

    text = (ROOT / "docs" / "capabilities.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 3
    namespace: dict[str, Any] = {"__name__": "docs_capabilities"}
    for i, block in enumerate(blocks):
        exec(compile(block, f"capabilities.md[python block {i}]", "exec"), namespace)
    printed = capsys.readouterr().out
    assert "schedule split into 2 profiles" in printed
    assert "TooManyDecimals" in printed


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"requestId": 1, "evseId": None, "chargingProfile": {}}, "evseId"),
        ({"requestId": 1, "chargingProfile": {"stackLevel": None}}, "chargingProfile.stackLevel"),
        ({"requestId": 1, "chargingProfile": {}, "customData": {"x": 1}}, "customData"),
        ({"requestId": 1, "chargingProfile": {1: 2}}, "chargingProfile.1"),
    ],
)
def test_get_charging_profiles_reader_refuses_null_like_the_others(
    payload: dict[Any, Any], field: str
) -> None:
    """GetChargingProfiles: a null criterion would widen the answer to every profile."""
    from ocpp_schedule.station import read_get_charging_profiles

    with pytest.raises(PayloadError) as err:
        read_get_charging_profiles(payload, "2.0.1")
    assert err.value.field == field

"""send_plan's payloads written directly (helper SENDFAST2) equal the wire writer's.

A plan profile's payload is its validated JSON in the pile's version, written by
``_sendplan._written`` instead of dumping the model through the wire writer. The
reference here is the writer itself, for every version, purpose, transaction id and
limit the plan can give (and some it cannot: the 1.6 writer's errors stay its own).
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ocpp_schedule.errors import OcppScheduleError
from ocpp_schedule.site._model import Evse, Pile
from ocpp_schedule.site._sendplan import (
    FOREVER,
    P,
    SendPlanError,
    _Levels,
    _payload,
    _profile_json,
    _written,
)
from ocpp_schedule.wire._enums import OcppVersion
from ocpp_schedule.wire._models import ChargingProfile, SetChargingProfileRequest
from ocpp_schedule.wire._payloads import read_set_charging_profile, write_set_charging_profile

T0 = 1_705_302_000
_VERSIONS = st.sampled_from(list(OcppVersion))
_PURPOSES = st.sampled_from([P.TX_PROFILE, P.TX_DEFAULT_PROFILE])
_TRANSACTIONS = st.one_of(
    st.integers(-(10**6), 10**9).map(str),
    st.sampled_from(["007", "-0", "tx-1", "1.5", " 3", ""]),
    st.text(min_size=1, max_size=8),
)
_AMPS = st.one_of(
    st.integers(0, 320).map(lambda n: n / 10),  # the plan's limits: floats floored to 0.1 A
    st.floats(0, 80, allow_nan=False),  # more decimals (1.6: the writer refuses them)
    st.integers(0, 80),  # an int limit (written as an int)
)


@st.composite
def _limits(draw: st.DrawFn) -> list[tuple[int, int, Any, int]]:
    """Merged limits as ``_payload`` passes them: contiguous, the last maybe open-ended."""
    count = draw(st.integers(1, 8))
    start = T0 + draw(st.integers(0, 10**6))
    out = []
    for _ in range(count):
        length = draw(st.integers(1, 7200))
        out.append((start, start + length, draw(_AMPS), draw(st.integers(0, 3))))
        start += length
    if draw(st.booleans()):
        a, _, amps, phases = out[-1]
        out[-1] = (a, FOREVER, amps, phases)
    return out


def _reference(
    version: OcppVersion, profile: dict[str, Any]
) -> tuple[dict[str, Any] | None, SetChargingProfileRequest, str | None]:
    """The payload the wire writer writes (or its error) and the request it is read as."""
    request = SetChargingProfileRequest(
        evse_id=3, charging_profile=ChargingProfile.model_validate(profile)
    )
    try:
        return write_set_charging_profile(request, version), request, None
    except OcppScheduleError as exc:
        return None, request, exc.message


@settings(max_examples=400, deadline=None)
@given(_VERSIONS, _PURPOSES, _TRANSACTIONS, _limits(), st.integers(0, 5))
def test_written_is_the_writers_payload(
    version: OcppVersion, purpose: Any, transaction: str, limits: Any, level: int
) -> None:
    """Where ``_written`` writes a payload it is the writer's, key order included; where
    it does not (None), the writer has a value to judge (2.x never)."""
    profile = _profile_json(version, 3, purpose, level, transaction, limits)
    expected, request, _ = _reference(version, profile)
    written = _written(version, 3, profile)
    if written is None:
        assert version is OcppVersion.V16
        return
    assert written == expected
    assert list(written) == list(expected)  # the same key order as the writer's
    assert _keys(written) == _keys(expected)
    assert read_set_charging_profile(written, version) == request


def _keys(value: Any) -> Any:
    """Every dict's key order, recursively (the JSON text a CSMS sends)."""
    if isinstance(value, dict):
        return [(k, _keys(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [_keys(v) for v in value]
    return None


@settings(max_examples=200, deadline=None)
@given(_VERSIONS, _PURPOSES, _TRANSACTIONS, _limits())
def test_payload_equals_the_writer_path(
    version: OcppVersion, purpose: Any, transaction: str, limits: Any
) -> None:
    """``_payload`` gives the writer's payload and the validated request, or the writer's
    error as a SendPlanError (same message)."""
    merged = all(a[2:] != b[2:] for a, b in pairwise(limits))
    assume(merged)  # ``_payload`` merges equal neighbours first
    pile = Pile(id="p", circuit="c", ocpp=version.value, evses=(Evse(id=3, max_amps=32),))
    levels = _Levels(1, 2)
    profile = _profile_json(
        version, 3, purpose, 2 if purpose is P.TX_PROFILE else 1, transaction, limits
    )
    expected, request, error = _reference(version, profile)
    if error is not None:
        with pytest.raises(SendPlanError, match=error.split(";")[0][:30]):
            _payload(pile, pile.evses[0], purpose, limits, levels, transaction)
        return
    payload, built = _payload(pile, pile.evses[0], purpose, limits, levels, transaction)
    assert payload == expected
    assert built == request


def test_v16_payload_example() -> None:
    """One 1.6 TxProfile written directly: the 1.6 shape (example)."""
    limits = [(T0, T0 + 900, 16.0, 3), (T0 + 900, FOREVER, 6.3, 0)]
    profile = _profile_json(OcppVersion.V16, 2, P.TX_PROFILE, 1, "12", limits)
    assert _written(OcppVersion.V16, 2, profile) == {
        "connectorId": 2,
        "csChargingProfiles": {
            "stackLevel": 1,
            "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Absolute",
            "transactionId": 12,
            "chargingSchedule": {
                "startSchedule": "2024-01-15T07:00:00Z",
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [
                    {"startPeriod": 0, "limit": 16.0, "numberPhases": 3},
                    {"startPeriod": 900, "limit": 6.3},
                ],
            },
            "chargingProfileId": 2_000_000_005,
        },
    }
    # A 1.6 limit with two decimals or a transaction id that is no integer: the writer judges.
    assert _written(OcppVersion.V16, 2, {**profile, "transactionId": "tx"}) is None

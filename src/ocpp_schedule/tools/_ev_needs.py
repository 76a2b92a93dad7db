"""NotifyEVChargingNeeds (OCPP 2.0.1/2.1 K15, K17-K20): read it, answer it, use it.

* :func:`read_notify_ev_charging_needs` / :func:`write_notify_ev_charging_needs`: the
  request, exact JSON. Every key and type of the official schema is checked
  (2.0.1 AC/DC values are integers, 2.1 numbers; enums per version); the 2.1
  ``evEnergyOffer`` price/power schedules are checked at their top level and carried
  verbatim (docs/semantics.md EV-7).
* :func:`charging_needs_response`: the CSMS's status (K15.FR.03-05, K18/K19.FR.04,
  K18.FR.22/K19.FR.15): Accepted, Processing, Rejected or (ISO 15118-20) NoChargingProfile.
* :func:`check_needs_parameters` (K15.FR.06, K17.FR.06, K18.FR.06) and
  :func:`check_profile_for_needs` (K15.FR.07, K17.FR.07, K18.FR.07): what the
  station and the CSMS must send, as lists of breaches.
* :func:`ev_charging_need`: the plain values a site controller needs (energy in kWh,
  departure, phases, currents, state of charge), for building a ``Session``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from ..errors import PayloadError, QueryError, TimestampError, VersionError
from ..station._get_profiles import StatusInfo, read_status_response, write_status_response
from ..wire._enums import ChargingProfilePurpose, OcppVersion
from ..wire._models import ChargingProfile, JsonObject
from ..wire._payloads import parse_version
from ..wire._timestamps import format_timestamp, parse_timestamp

__all__ = [
    "EvChargingNeed",
    "NotifyEVChargingNeedsRequest",
    "NotifyEVChargingNeedsResponse",
    "charging_needs_response",
    "check_needs_parameters",
    "check_profile_for_needs",
    "ev_charging_need",
    "read_notify_ev_charging_needs",
    "read_notify_ev_charging_needs_response",
    "write_notify_ev_charging_needs",
    "write_notify_ev_charging_needs_response",
]

# A field: (kind, detail). Kinds: int (detail: (min, max)), num, bool, str (max length),
# time, enum (values), enums (values; array, >= 1 item), obj (an object spec), opaque.
Field = tuple[str, Any]
ObjectSpec = tuple[Mapping[str, Field], tuple[str, ...]]

_INT: Field = ("int", (None, None))
_NUM: Field = ("num", None)
_PCT: Field = ("int", (0, 100))
_CUSTOM: Field = ("custom", None)

_MODES_V201 = frozenset({"DC", "AC_single_phase", "AC_two_phase", "AC_three_phase"})
_MODES_V21 = _MODES_V201 | {
    "AC_BPT",
    "AC_BPT_DER",
    "AC_DER",
    "DC_BPT",
    "DC_ACDP",
    "DC_ACDP_BPT",
    "WPT",
}
_DER_CONTROLS = frozenset(
    [
        "EnterService",
        "FreqDroop",
        "FreqWatt",
        "FixedPFAbsorb",
        "FixedPFInject",
        "FixedVar",
        "Gradients",
        "HFMustTrip",
        "HFMayTrip",
        "HVMustTrip",
        "HVMomCess",
        "HVMayTrip",
        "LimitMaxDischarge",
        "LFMustTrip",
        "LVMustTrip",
        "LVMomCess",
        "LVMayTrip",
        "PowerMonitoringMustTrip",
        "VoltVar",
        "VoltWatt",
        "WattPF",
        "WattVar",
    ]
)
_ISLANDING = frozenset(
    [
        "NoAntiIslandingSupport",
        "RoCoF",
        "UVP_OVP",
        "UFP_OFP",
        "VoltageVectorShift",
        "ZeroCrossingDetection",
        "OtherPassive",
        "ImpedanceMeasurement",
        "ImpedanceAtFrequency",
        "SlipModeFrequencyShift",
        "SandiaFrequencyShift",
        "SandiaVoltageShift",
        "FrequencyJump",
        "RCLQFactor",
        "OtherActive",
    ]
)


def _ac(number: Field) -> ObjectSpec:
    keys = ("energyAmount", "evMinCurrent", "evMaxCurrent", "evMaxVoltage")
    return ({**dict.fromkeys(keys, number), "customData": _CUSTOM}, keys)


def _dc(number: Field) -> ObjectSpec:
    fields: dict[str, Field] = dict.fromkeys(
        ("evMaxCurrent", "evMaxVoltage", "energyAmount", "evMaxPower", "evEnergyCapacity"), number
    )
    fields.update(stateOfCharge=_PCT, fullSoC=_PCT, bulkSoC=_PCT, customData=_CUSTOM)
    return fields, ("evMaxCurrent", "evMaxVoltage")


def _per_phase(*names: str) -> dict[str, Field]:
    return {f"{n}{suffix}": _NUM for n in names for suffix in ("", "_L2", "_L3")}


_V2X: ObjectSpec = (
    {
        **_per_phase("minChargePower", "maxChargePower", "minDischargePower", "maxDischargePower"),
        **dict.fromkeys(
            (
                "minChargeCurrent",
                "maxChargeCurrent",
                "minDischargeCurrent",
                "maxDischargeCurrent",
                "minVoltage",
                "maxVoltage",
                "evTargetEnergyRequest",
                "evMinEnergyRequest",
                "evMaxEnergyRequest",
                "evMinV2XEnergyRequest",
                "evMaxV2XEnergyRequest",
            ),
            _NUM,
        ),
        "targetSoC": _PCT,
        "customData": _CUSTOM,
    },
    (),
)
_DER: ObjectSpec = (
    {
        "evSupportedDERControl": ("enums", _DER_CONTROLS),
        **_per_phase(
            "maxChargeApparentPower",
            "maxDischargeApparentPower",
            "maxChargeReactivePower",
            "minChargeReactivePower",
            "maxDischargeReactivePower",
            "minDischargeReactivePower",
        ),
        **dict.fromkeys(
            (
                "evOverExcitedMaxDischargePower",
                "evOverExcitedPowerFactor",
                "evUnderExcitedMaxDischargePower",
                "evUnderExcitedPowerFactor",
                "maxApparentPower",
                "nominalVoltage",
                "nominalVoltageOffset",
                "maxNominalVoltage",
                "minNominalVoltage",
                "evIslandingTripTime",
                "evMaximumLevel1DCInjection",
                "evDurationLevel1DCInjection",
                "evMaximumLevel2DCInjection",
                "evDurationLevel2DCInjection",
                "evReactiveSusceptance",
                "evSessionTotalDischargeEnergyAvailable",
            ),
            _NUM,
        ),
        **dict.fromkeys(
            (
                "evInverterManufacturer",
                "evInverterModel",
                "evInverterSerialNumber",
                "evInverterSwVersion",
                "evInverterHwVersion",
            ),
            ("str", 50),
        ),
        "evIslandingDetectionMethod": ("enums", _ISLANDING),
        "customData": _CUSTOM,
    },
    (),
)
_ENERGY_OFFER: ObjectSpec = (
    {"evAbsolutePriceSchedule": ("opaque", None), "evPowerSchedule": ("opaque", None)}
    | {"customData": _CUSTOM},
    ("evPowerSchedule",),
)


def _needs_spec(v: OcppVersion) -> ObjectSpec:
    if v is OcppVersion.V201:
        return (
            {
                "acChargingParameters": ("obj", _ac(_INT)),
                "dcChargingParameters": ("obj", _dc(_INT)),
                "requestedEnergyTransfer": ("enum", _MODES_V201),
                "departureTime": ("time", None),
                "customData": _CUSTOM,
            },
            ("requestedEnergyTransfer",),
        )
    return (
        {
            "acChargingParameters": ("obj", _ac(_NUM)),
            "dcChargingParameters": ("obj", _dc(_NUM)),
            "derChargingParameters": ("obj", _DER),
            "evEnergyOffer": ("obj", _ENERGY_OFFER),
            "v2xChargingParameters": ("obj", _V2X),
            "requestedEnergyTransfer": ("enum", _MODES_V21),
            "availableEnergyTransfer": ("enums", _MODES_V21),
            "controlMode": ("enum", frozenset({"ScheduledControl", "DynamicControl"})),
            "mobilityNeedsMode": ("enum", frozenset({"EVCC", "EVCC_SECC"})),
            "departureTime": ("time", None),
            "customData": _CUSTOM,
        },
        ("requestedEnergyTransfer",),
    )


def _check(value: Any, spec: ObjectSpec, where: str, rule: str) -> None:
    """Check a JSON object against a spec: known keys, required keys, each value's type."""
    if not isinstance(value, Mapping):
        raise PayloadError("expected a JSON object", field=where or None, rule=rule)
    fields, required = spec
    unknown = sorted(set(value) - set(fields), key=str)
    if unknown:
        raise PayloadError(
            f"field {unknown[0]!r} is not part of this object",
            field=_at(where, str(unknown[0])),
            rule=f"{rule}: additionalProperties false",
        )
    for key in required:
        if key not in value:
            raise PayloadError("required field is missing", field=_at(where, key), rule=rule)
    for key, item in value.items():
        _check_field(item, fields[key], _at(where, key), rule)


def _at(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _check_field(value: Any, field: Field, where: str, rule: str) -> None:
    kind, detail = field
    if value is None:
        raise PayloadError("null is not a value of any OCPP field", field=where, rule=rule)
    ok = True
    if kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
        low, high = detail
        ok = ok and (low is None or value >= low) and (high is None or value <= high)
    elif kind == "num":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif kind == "str":
        ok = isinstance(value, str) and len(value) <= detail
    elif kind == "enum":
        ok = isinstance(value, str) and value in detail
    elif kind == "enums":
        ok = isinstance(value, list) and bool(value) and all(v in detail for v in value)
    elif kind == "time":
        try:
            parse_timestamp(value, where)
        except TimestampError as exc:
            raise PayloadError(exc.message, field=where, rule=rule) from None
    elif kind == "obj":
        _check(value, detail, where, rule)
    elif kind == "custom":
        ok = isinstance(value, Mapping) and isinstance(value.get("vendorId"), str)
    else:  # opaque: an object carried verbatim
        ok = isinstance(value, Mapping)
    if not ok:
        raise PayloadError(f"{value!r} is not a valid {kind} here", field=where, rule=rule)


# ------------------------------------------------------------------------------ messages


@dataclass(frozen=True)
class NotifyEVChargingNeedsRequest:
    """A NotifyEVChargingNeeds request: the EV's needs on an EVSE, as read (checked, frozen).

    ``charging_needs`` is the ``chargingNeeds`` object as sent (a frozen
    :class:`JsonObject`, written back verbatim); :func:`ev_charging_need` gives its
    values typed. ``timestamp`` is 2.1 only (when an offline station received the needs).
    """

    evse_id: int
    charging_needs: JsonObject
    max_schedule_tuples: int | None = None
    timestamp: datetime | None = None
    custom_data: Mapping[str, Any] | None = None

    @property
    def requested_energy_transfer(self) -> str:
        """``requestedEnergyTransfer``: DC, AC_single_phase, ... (2.1: also AC_BPT, DC_BPT, ...)."""
        mode: str = self.charging_needs["requestedEnergyTransfer"]
        return mode

    @property
    def control_mode(self) -> str | None:
        """2.1 ``controlMode``: ScheduledControl or DynamicControl (ISO 15118-20); None for -2."""
        mode = self.charging_needs.get("controlMode")
        return mode if isinstance(mode, str) else None


def read_notify_ev_charging_needs(
    payload: Any, version: OcppVersion | str = OcppVersion.V201
) -> NotifyEVChargingNeedsRequest:
    """Read a NotifyEVChargingNeeds request payload (2.0.1 or 2.1; 1.6 has none)."""
    v = _v2(version)
    rule = f"OCPP {v.value} schema"
    top: dict[str, Field] = {
        "evseId": ("int", (0 if v is OcppVersion.V201 else 1, None)),
        "maxScheduleTuples": ("int", (None if v is OcppVersion.V201 else 0, None)),
        "chargingNeeds": ("obj", _needs_spec(v)),
        "customData": _CUSTOM,
    }
    if v is OcppVersion.V21:
        top["timestamp"] = ("time", None)
    _check(payload, (top, ("evseId", "chargingNeeds")), "", rule)
    if payload["evseId"] == 0:
        raise PayloadError("the EV is on an EVSE > 0", field="evseId", rule=f"{rule}: evseId")
    stamp = payload.get("timestamp")
    custom = payload.get("customData")
    return NotifyEVChargingNeedsRequest(
        evse_id=payload["evseId"],
        charging_needs=JsonObject(payload["chargingNeeds"]),
        max_schedule_tuples=payload.get("maxScheduleTuples"),
        timestamp=None if stamp is None else parse_timestamp(stamp, "timestamp"),
        custom_data=None if custom is None else JsonObject(custom),
    )


def write_notify_ev_charging_needs(
    request: NotifyEVChargingNeedsRequest, version: OcppVersion | str = OcppVersion.V201
) -> dict[str, Any]:
    """The NotifyEVChargingNeeds request payload; what the reader read it writes back exactly.

    The result is read back before it is returned, so a request that the version
    cannot carry (a 2.1 field in 2.0.1) is a :class:`VersionError`, not bad JSON.
    """
    v = _v2(version)
    out: dict[str, Any] = {
        "evseId": request.evse_id,
        "chargingNeeds": JsonObject(request.charging_needs).thaw(),
    }
    if request.max_schedule_tuples is not None:
        out["maxScheduleTuples"] = request.max_schedule_tuples
    if request.timestamp is not None:
        out["timestamp"] = format_timestamp(request.timestamp)
    if request.custom_data is not None:
        out["customData"] = JsonObject(request.custom_data).thaw()
    try:
        read_notify_ev_charging_needs(out, v)
    except PayloadError as exc:
        raise VersionError(
            f"not a NotifyEVChargingNeeds request of OCPP {v.value}: {exc.message}",
            field=exc.field,
        ) from None
    return out


NeedsStatus = Literal["Accepted", "Rejected", "Processing", "NoChargingProfile"]


@dataclass(frozen=True)
class NotifyEVChargingNeedsResponse:
    """The CSMS's answer to NotifyEVChargingNeeds."""

    status: NeedsStatus
    status_info: StatusInfo | None = None
    custom_data: Mapping[str, Any] | None = None

    def to_payload(self, version: OcppVersion | str = OcppVersion.V201) -> dict[str, Any]:
        """The response payload of ``version`` (NoChargingProfile is 2.1 only)."""
        return write_notify_ev_charging_needs_response(self, version)


def _statuses(v: OcppVersion) -> frozenset[str]:
    base = frozenset({"Accepted", "Rejected", "Processing"})
    return base | {"NoChargingProfile"} if v is OcppVersion.V21 else base


def read_notify_ev_charging_needs_response(
    payload: Any, version: OcppVersion | str = OcppVersion.V201
) -> NotifyEVChargingNeedsResponse:
    """Read a NotifyEVChargingNeeds response payload (2.0.1 or 2.1)."""
    v = _v2(version)
    status, info, custom = read_status_response(payload, v, _statuses(v), "NotifyEVChargingNeeds")
    return NotifyEVChargingNeedsResponse(_as_status(status), info, custom)


def _as_status(status: str) -> NeedsStatus:
    for known in ("Accepted", "Rejected", "Processing", "NoChargingProfile"):
        if status == known:
            return known
    raise PayloadError(f"unknown status {status!r}", field="status")  # pragma: no cover


def write_notify_ev_charging_needs_response(
    response: NotifyEVChargingNeedsResponse, version: OcppVersion | str = OcppVersion.V201
) -> dict[str, Any]:
    """The NotifyEVChargingNeeds response payload of ``version``."""
    v = _v2(version)
    if response.status not in _statuses(v):
        raise VersionError(f"OCPP {v.value} has no status {response.status!r}", field="status")
    return write_status_response(response.status, response.status_info, response.custom_data)


def _v2(version: OcppVersion | str) -> OcppVersion:
    v = parse_version(version)
    if not v.is_v2:
        raise VersionError("OCPP 1.6 has no NotifyEVChargingNeeds (no ISO 15118)", field="version")
    return v


# --------------------------------------------------------------------------------- rules


def charging_needs_response(
    request: NotifyEVChargingNeedsRequest,
    *,
    can_schedule: bool,
    needs_time: bool = False,
    accepts_energy_transfer: bool = True,
) -> NotifyEVChargingNeedsResponse:
    """The status the CSMS answers, from what it can do.

    * it does not accept ``requestedEnergyTransfer``: Rejected (K18.FR.22, K19.FR.15;
      the station then ends the transaction);
    * it will send a profile but needs time: Processing (K15.FR.05, K17.FR.05, K18.FR.05);
    * it will send a profile now: Accepted (K15.FR.03, K17.FR.03, K18.FR.03);
    * it will send none: NoChargingProfile with ISO 15118-20 (a ``controlMode`` is
      given; K18.FR.04, K19.FR.04), else Rejected (ISO 15118-2; K15.FR.04, K17.FR.04).
    """
    for name, flag in (
        ("can_schedule", can_schedule),
        ("needs_time", needs_time),
        ("accepts_energy_transfer", accepts_energy_transfer),
    ):
        if not isinstance(flag, bool):
            raise QueryError("expected True or False", field=name)
    if not accepts_energy_transfer:
        return NotifyEVChargingNeedsResponse("Rejected", StatusInfo("UnsupportedRequest"))
    if can_schedule:
        return NotifyEVChargingNeedsResponse("Processing" if needs_time else "Accepted")
    if request.control_mode is not None:
        return NotifyEVChargingNeedsResponse("NoChargingProfile")
    return NotifyEVChargingNeedsResponse("Rejected")


def check_needs_parameters(request: NotifyEVChargingNeedsRequest) -> tuple[str, ...]:
    """Breaches of the rule on which charging parameters the request carries (empty: none).

    ISO 15118-2 (no ``controlMode``): exactly one of AC and DC parameters (K15.FR.06,
    K17.FR.06). ISO 15118-20 (a ``controlMode``): V2X parameters instead of AC/DC
    (K18.FR.06, K19.FR.06).
    """
    needs = request.charging_needs
    ac, dc = "acChargingParameters" in needs, "dcChargingParameters" in needs
    v2x = "v2xChargingParameters" in needs
    if request.control_mode is not None:
        if not v2x or ac or dc:
            return (
                "K18.FR.06/K19.FR.06: ISO 15118-20 needs carry v2xChargingParameters, "
                "not AC/DC parameters",
            )
        return ()
    if ac == dc:
        return (
            "K15.FR.06/K17.FR.06: exactly one of acChargingParameters and dcChargingParameters",
        )
    return ()


def check_profile_for_needs(
    profile: ChargingProfile,
    request: NotifyEVChargingNeedsRequest,
    *,
    periods_per_schedule: int | None = None,
) -> tuple[str, ...]:
    """Breaches of K15.FR.07 / K17.FR.07 / K18.FR.07 / K19.FR.07 by the profile the CSMS sends.

    A TxProfile; at most three schedules (one with ISO 15118-20 DynamicControl,
    K17.FR.19/K19.FR.07); each with no more periods than ``maxScheduleTuples`` and
    ``periods_per_schedule`` (SmartChargingCtrlr.PeriodsPerSchedule). Empty: none.
    """
    out: list[str] = []
    if profile.charging_profile_purpose is not ChargingProfilePurpose.TX_PROFILE:
        out.append("K15.FR.07: the answer to charging needs is a TxProfile")
    most = 1 if request.control_mode == "DynamicControl" else 3
    if len(profile.charging_schedule) > most:
        out.append(
            f"K15.FR.07: at most {most} chargingSchedule, not {len(profile.charging_schedule)}"
        )
    bounds = [
        (request.max_schedule_tuples, "maxScheduleTuples"),
        (periods_per_schedule, "PeriodsPerSchedule"),
    ]
    for sched in profile.charging_schedule:
        count = len(sched.charging_schedule_period)
        for bound, name in bounds:
            if bound is not None and count > bound:
                out.append(f"K15.FR.07: schedule {sched.id} has {count} periods; {name} is {bound}")
    return tuple(out)


# ------------------------------------------------------------------------- plain values


@dataclass(frozen=True)
class EvChargingNeed:
    """What a site controller takes from the EV's charging needs, as plain values.

    ``energy_kwh``: the energy requested (kWh; None when the EV gave none). The
    ``soc_percent``/``battery_kwh``/``target_soc_percent`` form is given apart, when the
    EV sent it; a ``Session`` takes one form or the other (docs/semantics.md EV-8).
    """

    energy_kwh: float | None
    departure: datetime | None
    phases: int | None
    max_amps: float | None
    min_amps: float | None
    soc_percent: int | None
    battery_kwh: float | None
    target_soc_percent: int | None
    received: datetime | None

    @property
    def departure_known(self) -> bool:
        """True when the EV gave a departure time."""
        return self.departure is not None


_PHASES = {"AC_single_phase": 1, "AC_two_phase": 2, "AC_three_phase": 3}


def _number(obj: Any, key: str) -> float | None:
    if not isinstance(obj, Mapping):
        return None
    value = obj.get(key)
    return None if value is None else float(value)


def ev_charging_need(request: NotifyEVChargingNeedsRequest) -> EvChargingNeed:
    """The EV's energy need, departure and limits from NotifyEVChargingNeeds (Wh -> kWh).

    Energy: 2.1 ``v2xChargingParameters.evTargetEnergyRequest`` (ISO 15118-20; below 0,
    already past the target, counts as 0), else ``dcChargingParameters.energyAmount``,
    else ``acChargingParameters.energyAmount``. Phases from the AC
    ``requestedEnergyTransfer``; currents from the AC parameters (A per phase).
    """
    needs = request.charging_needs
    ac, dc = needs.get("acChargingParameters"), needs.get("dcChargingParameters")
    v2x = needs.get("v2xChargingParameters")
    wh = _number(v2x, "evTargetEnergyRequest")
    if wh is None:
        wh = _number(dc, "energyAmount")
    if wh is None:
        wh = _number(ac, "energyAmount")
    capacity = _number(dc, "evEnergyCapacity")
    departure = needs.get("departureTime")
    soc = dc.get("stateOfCharge") if isinstance(dc, Mapping) else None
    target = v2x.get("targetSoC") if isinstance(v2x, Mapping) else None
    if target is None and isinstance(dc, Mapping):
        target = dc.get("fullSoC")
    return EvChargingNeed(
        energy_kwh=None if wh is None else max(wh, 0.0) / 1000.0,
        departure=None if departure is None else parse_timestamp(departure, "departureTime"),
        phases=_PHASES.get(request.requested_energy_transfer),
        max_amps=_number(ac, "evMaxCurrent"),
        min_amps=_number(ac, "evMinCurrent"),
        soc_percent=soc,
        battery_kwh=None if capacity is None else capacity / 1000.0,
        target_soc_percent=target,
        received=request.timestamp,
    )

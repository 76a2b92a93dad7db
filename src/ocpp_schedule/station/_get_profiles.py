"""GetChargingProfiles and ReportChargingProfiles (OCPP 2.0.1/2.1 K09).

:func:`read_get_charging_profiles` reads the request into a
:class:`~ocpp_schedule.ChargingProfileCriteria`;
:func:`get_charging_profiles` answers it from a store: the response status
(``Accepted`` or ``NoProfiles``) and the ReportChargingProfiles request
payloads that follow, grouped by EVSE and limit source, ``tbc`` set on all but
the last (K09.FR.01/02). OCPP 1.6 has no such message.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import PayloadError, VersionError
from ..wire._enums import (
    PURPOSES_BY_VERSION,
    ChargingLimitSource,
    ChargingProfilePurpose,
    OcppVersion,
)
from ..wire._models import JsonObject, _thaw
from ..wire._payloads import parse_version, write_charging_profile
from ._store import ChargingProfileCriteria, InstalledProfile, ProfileStore

__all__ = [
    "GetChargingProfilesRequest",
    "GetChargingProfilesResult",
    "get_charging_profiles",
    "read_get_charging_profiles",
    "report_charging_profiles",
    "write_get_charging_profiles",
]


@dataclass(frozen=True)
class GetChargingProfilesRequest:
    """A GetChargingProfiles request: its id and the criteria to match.

    ``custom_data`` (the request's ``customData``) and ``criteria_custom_data``
    (that of ``chargingProfile``) are carried verbatim as frozen copies, so that
    :func:`write_get_charging_profiles` gives back the JSON read.
    """

    request_id: int
    criteria: ChargingProfileCriteria
    custom_data: Mapping[str, Any] | None = None
    criteria_custom_data: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        for name in ("custom_data", "criteria_custom_data"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, JsonObject):
                try:
                    frozen = JsonObject(value)
                except (ValueError, TypeError, AttributeError) as exc:
                    raise PayloadError(str(exc), field=name) from None
                object.__setattr__(self, name, frozen)


@dataclass(frozen=True)
class GetChargingProfilesResult:
    """The answer: the matching profiles and the reports that carry them."""

    profiles: tuple[InstalledProfile, ...]
    reports: tuple[dict[str, Any], ...]

    @property
    def status(self) -> str:
        """``Accepted`` when a profile matched, else ``NoProfiles`` (K09)."""
        return "Accepted" if self.profiles else "NoProfiles"

    def to_payload(self) -> dict[str, Any]:
        """The GetChargingProfiles response payload."""
        return {"status": self.status}


def _v2(version: OcppVersion | str) -> OcppVersion:
    v = parse_version(version)
    if not v.is_v2:
        raise VersionError("OCPP 1.6 has no GetChargingProfiles", field="version")
    return v


def _int(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PayloadError("expected an integer", field=field, rule="OCPP schema")
    return value


def read_get_charging_profiles(
    payload: Any, version: OcppVersion | str = OcppVersion.V201
) -> GetChargingProfilesRequest:
    """Read a GetChargingProfiles request payload (2.0.1 or 2.1)."""
    v = _v2(version)
    if not isinstance(payload, Mapping):
        raise PayloadError("a GetChargingProfiles request is a JSON object")
    _known(payload, {"requestId", "evseId", "chargingProfile", "customData"}, "")
    for key in ("requestId", "chargingProfile"):
        if key not in payload:
            raise PayloadError(
                "required field is missing", field=key, rule=f"OCPP {v.value} schema"
            )
    crit = payload["chargingProfile"]
    if not isinstance(crit, Mapping):
        raise PayloadError("expected an object", field="chargingProfile")
    allowed = {"chargingProfilePurpose", "stackLevel", "chargingProfileId", "chargingLimitSource"}
    _known(crit, allowed | {"customData"}, "chargingProfile.")
    purpose = crit.get("chargingProfilePurpose")
    if purpose is not None and purpose not in {p.value for p in PURPOSES_BY_VERSION[v]}:
        raise PayloadError(
            f"{purpose!r} is not a purpose of OCPP {v.value}",
            field="chargingProfile.chargingProfilePurpose",
            rule=f"OCPP {v.value} schema: enum",
        )
    ids = crit.get("chargingProfileId")
    if ids is not None and (not isinstance(ids, list) or not ids):
        raise PayloadError("expected a non-empty array", field="chargingProfile.chargingProfileId")
    sources = crit.get("chargingLimitSource")
    if sources is not None and (not isinstance(sources, list) or not sources):
        raise PayloadError(
            "expected a non-empty array", field="chargingProfile.chargingLimitSource"
        )
    source_enums = None if sources is None else _limit_sources(sources, v)
    evse = payload.get("evseId")
    criteria = ChargingProfileCriteria(
        evse_id=None if evse is None else _int(evse, "evseId"),
        charging_profile_id=None
        if ids is None
        else tuple(_int(i, "chargingProfile.chargingProfileId") for i in ids),
        stack_level=None
        if crit.get("stackLevel") is None
        else _int(crit["stackLevel"], "chargingProfile.stackLevel"),
        charging_profile_purpose=None if purpose is None else ChargingProfilePurpose(purpose),
        charging_limit_source=source_enums,
    )
    return GetChargingProfilesRequest(
        _int(payload["requestId"], "requestId"),
        criteria,
        custom_data=payload.get("customData"),
        criteria_custom_data=crit.get("customData"),
    )


MAX_LIMIT_SOURCE_LENGTH = 20
"""2.1 ``chargingLimitSource``: a string of at most 20 characters (OCPP 2.1 schema)."""


def _limit_sources(sources: list[Any], v: OcppVersion) -> tuple[ChargingLimitSource | str, ...]:
    """2.0.1: the enum values only; 2.1: any string of at most 20 characters (the schema's
    ``maxLength 20``), the 2.0.1 values held as enum members (docs/semantics.md V21-5)."""
    field = "chargingProfile.chargingLimitSource"
    out: list[ChargingLimitSource | str] = []
    for i, source in enumerate(sources):
        if not isinstance(source, str):
            raise PayloadError(f"item {i}: expected a string", field=field, rule="OCPP schema")
        if source in _KNOWN_SOURCES:
            out.append(ChargingLimitSource(source))
        elif v is OcppVersion.V21 and len(source) <= MAX_LIMIT_SOURCE_LENGTH:
            out.append(source)
        else:
            allowed = (
                f"a string of at most {MAX_LIMIT_SOURCE_LENGTH} characters"
                if v is OcppVersion.V21
                else f"one of {sorted(_KNOWN_SOURCES)}"
            )
            raise PayloadError(
                f"chargingLimitSource {source!r} (item {i}) is not {allowed}",
                field=field,
                rule=f"OCPP {v.value} schema",
            )
    if len(out) > 4:
        raise PayloadError(
            "at most 4 chargingLimitSource values", field=field, rule="OCPP schema: maxItems 4"
        )
    return tuple(out)


_KNOWN_SOURCES = frozenset(s.value for s in ChargingLimitSource)


def write_get_charging_profiles(
    request: GetChargingProfilesRequest, version: OcppVersion | str = OcppVersion.V201
) -> dict[str, Any]:
    """The GetChargingProfiles request payload of ``version`` (2.0.1 or 2.1).

    What :func:`read_get_charging_profiles` read it writes back exactly. A 2.1-only
    limit source cannot be written in 2.0.1 (:class:`VersionError`).
    """
    v = _v2(version)
    crit = request.criteria
    out_crit: dict[str, Any] = {}
    if crit.charging_profile_purpose is not None:
        if crit.charging_profile_purpose not in PURPOSES_BY_VERSION[v]:
            raise VersionError(
                f"OCPP {v.value} has no purpose {crit.charging_profile_purpose.value!r}",
                field="chargingProfile.chargingProfilePurpose",
            )
        out_crit["chargingProfilePurpose"] = crit.charging_profile_purpose.value
    if crit.stack_level is not None:
        out_crit["stackLevel"] = crit.stack_level
    if crit.charging_profile_id is not None:
        out_crit["chargingProfileId"] = list(crit.charging_profile_id)
    if crit.charging_limit_source is not None:
        written = [str(s) for s in crit.charging_limit_source]
        if v is OcppVersion.V201 and set(written) - _KNOWN_SOURCES:
            raise VersionError(
                f"OCPP 2.0.1 limit sources are {sorted(_KNOWN_SOURCES)}",
                field="chargingProfile.chargingLimitSource",
            )
        out_crit["chargingLimitSource"] = written
    if request.criteria_custom_data is not None:
        out_crit["customData"] = _thaw(request.criteria_custom_data)
    out: dict[str, Any] = {"requestId": request.request_id, "chargingProfile": out_crit}
    if crit.evse_id is not None:
        out["evseId"] = crit.evse_id
    if request.custom_data is not None:
        out["customData"] = _thaw(request.custom_data)
    return out


def _known(obj: Mapping[str, Any], allowed: set[str], prefix: str) -> None:
    """No unknown key, no ``null`` (read as absent it would widen the criteria), and a
    ``customData`` that is a CustomDataType object."""
    unknown = sorted(set(obj) - allowed, key=str)
    if unknown:
        raise PayloadError(
            f"field {unknown[0]!r} is not part of GetChargingProfiles",
            field=f"{prefix}{unknown[0]}",
            rule="OCPP schema: additionalProperties false",
        )
    for key, value in obj.items():
        if value is None:
            raise PayloadError(
                "null is not a value of any OCPP field; leave the field out",
                field=f"{prefix}{key}",
                rule="OCPP schema",
            )
    custom = obj.get("customData")
    if custom is not None and not (
        isinstance(custom, Mapping) and isinstance(custom.get("vendorId"), str)
    ):
        raise PayloadError(
            "customData is an object with a vendorId string",
            field=f"{prefix}customData",
            rule="OCPP schema: CustomDataType",
        )


def report_charging_profiles(
    profiles: Iterable[InstalledProfile], request_id: int, version: OcppVersion | str
) -> tuple[dict[str, Any], ...]:
    """ReportChargingProfiles request payloads for ``profiles``.

    One message per (EVSE, limit source), in EVSE order; ``tbc`` is true on
    every message but the last (K09.FR.02).
    """
    v = _v2(version)
    groups: dict[tuple[int, str], list[InstalledProfile]] = {}
    for entry in profiles:
        groups.setdefault((entry.evse_id, entry.source.value), []).append(entry)
    keys = sorted(groups)
    out = []
    for i, (evse, source) in enumerate(keys):
        message: dict[str, Any] = {
            "requestId": request_id,
            "chargingLimitSource": source,
            "evseId": evse,
            "chargingProfile": [
                write_charging_profile(e.profile, v) for e in groups[(evse, source)]
            ],
        }
        if i < len(keys) - 1:
            message["tbc"] = True
        out.append(message)
    return tuple(out)


def get_charging_profiles(
    store: ProfileStore, request: GetChargingProfilesRequest, version: OcppVersion | str
) -> GetChargingProfilesResult:
    """Answer a GetChargingProfiles request from the installed profiles (K09)."""
    found = store.query(request.criteria)
    return GetChargingProfilesResult(
        found, report_charging_profiles(found, request.request_id, version)
    )

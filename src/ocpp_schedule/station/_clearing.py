"""ClearChargingProfile: which installed profiles a request removes.

OCPP 1.6 (§5.5, §6.13, errata 3.25/3.26): an ``id`` removes that profile and
the other fields are ignored; otherwise the given ``connectorId``,
``chargingProfilePurpose`` and ``stackLevel`` are matched together; a
request with no field at all clears every profile.

OCPP 2.0.1/2.1 (K10): ``chargingProfileId`` and the criteria (``evseId``,
``chargingProfilePurpose``, ``stackLevel``) are matched together (logical
AND over the fields given, K10.FR.04). ChargingStationExternalConstraints
(and 2.1 LocalGeneration) profiles are never removed (K10.FR.03/04/08/09).

Nothing removed answers ``Unknown`` (K10.FR.01); else ``Accepted``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import ConfigDict, Field, Strict, ValidationError

from ..errors import PayloadError, VersionError
from ..wire._docstrings import DeferredModel
from ..wire._enums import PURPOSES_BY_VERSION, ChargingProfilePurpose, OcppVersion
from ..wire._models import CustomData, _thaw
from ..wire._payloads import _payload_error, parse_version
from ._store import InstalledProfile, ProfileStore

__all__ = [
    "ClearChargingProfileRequest",
    "ClearChargingProfileResult",
    "clear",
    "read_clear_charging_profile",
    "write_clear_charging_profile",
]

Int = Annotated[int, Strict()]


class ClearChargingProfileRequest(DeferredModel):
    """A ClearChargingProfile request, version-neutral; absent fields do not filter.

    Constructors take the snake_case names; ``model_validate`` also takes the
    2.x JSON keys. ``custom_data`` (the request's 2.x ``customData``) and
    ``criteria_custom_data`` (that of ``chargingProfileCriteria``) are held as
    frozen deep copies (:class:`~ocpp_schedule.wire.JsonObject`).
    """

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        validate_by_name=True,
        validate_by_alias=True,
    )  # DeferredModel: built on first use, not with the package (issue 15 item 7)

    charging_profile_id: Int | None = Field(
        default=None,
        validation_alias="chargingProfileId",
        serialization_alias="chargingProfileId",
    )
    evse_id: Int | None = Field(
        default=None, validation_alias="evseId", serialization_alias="evseId"
    )
    charging_profile_purpose: ChargingProfilePurpose | None = Field(
        default=None,
        validation_alias="chargingProfilePurpose",
        serialization_alias="chargingProfilePurpose",
    )
    stack_level: Int | None = Field(
        default=None, validation_alias="stackLevel", serialization_alias="stackLevel"
    )
    custom_data: CustomData | None = Field(
        default=None, validation_alias="customData", serialization_alias="customData"
    )
    criteria_custom_data: CustomData | None = Field(
        default=None, description="2.x customData of chargingProfileCriteria, kept verbatim"
    )
    empty_criteria: Annotated[bool, Strict()] = Field(
        default=False,
        description="2.x: the request carried an empty chargingProfileCriteria object ({}); "
        "it filters nothing and is kept only so that the writer gives the same JSON back",
    )


@dataclass(frozen=True)
class ClearChargingProfileResult:
    """The answer to a ClearChargingProfile request and the ids it removed."""

    cleared: tuple[int, ...]

    @property
    def status(self) -> str:
        """``Accepted`` when something was removed, else ``Unknown``."""
        return "Accepted" if self.cleared else "Unknown"

    def to_payload(self, version: OcppVersion | str) -> dict[str, Any]:
        """The ClearChargingProfile response payload (same shape in every version)."""
        parse_version(version)
        return {"status": self.status}


def _matches(entry: InstalledProfile, request: ClearChargingProfileRequest, v16: bool) -> bool:
    if request.charging_profile_id is not None:
        if entry.id != request.charging_profile_id:
            return False
        if v16:
            return True
    if request.evse_id is not None and entry.evse_id != request.evse_id:
        return False
    if request.charging_profile_purpose is not None and (
        entry.purpose is not request.charging_profile_purpose
    ):
        return False
    return request.stack_level is None or entry.stack_level == request.stack_level


def clear(
    store: ProfileStore, request: ClearChargingProfileRequest, version: OcppVersion | str
) -> tuple[ProfileStore, ClearChargingProfileResult]:
    """Apply a ClearChargingProfile request; return the new store and the answer."""
    v16 = parse_version(version) is OcppVersion.V16
    cleared = tuple(e.id for e in store if _matches(e, request, v16) and not e.purpose.is_local)
    return store.without(cleared), ClearChargingProfileResult(cleared)


def read_clear_charging_profile(
    payload: Any, version: OcppVersion | str
) -> ClearChargingProfileRequest:
    """Read a ClearChargingProfile request payload of the given version.

    Raises :class:`PayloadError` naming the field for anything the version's
    schema refuses: an unknown key, a ``null`` (which the schema does not
    allow; reading it as "absent" would widen the request, up to clearing
    every profile), a wrongly typed value, another version's purpose.
    """
    v = parse_version(version)
    if not isinstance(payload, Mapping):
        raise PayloadError(
            "a ClearChargingProfile request is a JSON object", rule="ClearChargingProfile"
        )
    if v is OcppVersion.V16:
        _check_object(payload, {"id", "connectorId", "chargingProfilePurpose", "stackLevel"}, "", v)
        names = {"id": "chargingProfileId", "connectorId": "evseId"}
        data = {names.get(key, key): value for key, value in payload.items()}
        where = {"chargingProfileId": "id", "evseId": "connectorId"}
    else:
        _check_object(
            payload, {"chargingProfileId", "chargingProfileCriteria", "customData"}, "", v
        )
        criteria = payload.get("chargingProfileCriteria", {})
        if not isinstance(criteria, Mapping):
            raise PayloadError(
                "expected an object",
                field="chargingProfileCriteria",
                rule=f"OCPP {v.value} schema",
            )
        _check_object(
            criteria,
            {"evseId", "chargingProfilePurpose", "stackLevel", "customData"},
            "chargingProfileCriteria",
            v,
        )
        data = {k: val for k, val in payload.items() if k != "chargingProfileCriteria"}
        data.update({k: val for k, val in criteria.items() if k != "customData"})
        if "customData" in criteria:
            data["criteria_custom_data"] = criteria["customData"]
        if "chargingProfileCriteria" in payload and not criteria:
            data["empty_criteria"] = True
        crit = "chargingProfileCriteria"
        where = {
            "evseId": f"{crit}.evseId",
            "chargingProfilePurpose": f"{crit}.chargingProfilePurpose",
            "stackLevel": f"{crit}.stackLevel",
            "criteria_custom_data": f"{crit}.customData",
        }
    purpose = data.get("chargingProfilePurpose")
    if purpose is not None and purpose not in {p.value for p in PURPOSES_BY_VERSION[v]}:
        raise PayloadError(
            f"{purpose!r} is not a purpose of OCPP {v.value}",
            field=where.get("chargingProfilePurpose", "chargingProfilePurpose"),
            rule=f"OCPP {v.value} schema: enum",
        )
    try:
        return ClearChargingProfileRequest.model_validate(data)
    except ValidationError as exc:
        error = _payload_error(exc, v)
        loc = exc.errors()[0]["loc"]
        head = str(loc[0]) if loc else ""
        rest = ".".join(str(part) for part in loc[1:])
        if head:
            name = where.get(head, head)
            error.field = f"{name}.{rest}" if rest else name
        raise error from None


def _check_object(obj: Mapping[str, Any], allowed: set[str], where: str, v: OcppVersion) -> None:
    """No unknown key and no ``null`` (the schema allows neither)."""
    _no_unknown(obj, allowed, v, where)
    for key, value in obj.items():
        if value is None:
            raise PayloadError(
                "null is not a value of any OCPP field; leave the field out",
                field=f"{where}.{key}" if where else key,
                rule=f"OCPP {v.value} schema",
            )


def _no_unknown(obj: Mapping[str, Any], allowed: set[str], v: OcppVersion, where: str) -> None:
    unknown = sorted(set(obj) - allowed, key=str)
    if unknown:
        raise PayloadError(
            f"field {unknown[0]!r} is not part of OCPP {v.value} ClearChargingProfile",
            field=f"{where}.{unknown[0]}" if where else str(unknown[0]),
            rule=f"OCPP {v.value} schema: additionalProperties false",
        )


def write_clear_charging_profile(
    request: ClearChargingProfileRequest, version: OcppVersion | str
) -> dict[str, Any]:
    """The ClearChargingProfile request payload of ``version``."""
    v = parse_version(version)
    purpose = _purpose_in(request.charging_profile_purpose, v)
    if v is OcppVersion.V16:
        out16 = {
            "id": request.charging_profile_id,
            "connectorId": request.evse_id,
            "chargingProfilePurpose": purpose,
            "stackLevel": request.stack_level,
        }
        return {k: val for k, val in out16.items() if val is not None}
    criteria = {
        "evseId": request.evse_id,
        "chargingProfilePurpose": purpose,
        "stackLevel": request.stack_level,
    }
    out: dict[str, Any] = {}
    if request.charging_profile_id is not None:
        out["chargingProfileId"] = request.charging_profile_id
    crit: dict[str, Any] = {k: val for k, val in criteria.items() if val is not None}
    if request.criteria_custom_data is not None:
        crit["customData"] = _thaw(request.criteria_custom_data)
    if crit or request.empty_criteria:
        out["chargingProfileCriteria"] = crit
    if request.custom_data is not None:
        out["customData"] = _thaw(request.custom_data)
    return out


def _purpose_in(purpose: ChargingProfilePurpose | None, v: OcppVersion) -> str | None:
    """The purpose as ``v`` spells it (the station max has one name per version)."""
    if purpose is None:
        return None
    if purpose.is_max:
        purpose = (
            ChargingProfilePurpose.CHARGE_POINT_MAX_PROFILE
            if v is OcppVersion.V16
            else ChargingProfilePurpose.CHARGING_STATION_MAX_PROFILE
        )
    if purpose not in PURPOSES_BY_VERSION[v]:
        raise VersionError(
            f"OCPP {v.value} has no purpose {purpose.value!r}; it cannot be written there",
            field="chargingProfilePurpose",
        )
    return purpose.value

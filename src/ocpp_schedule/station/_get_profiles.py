"""GetChargingProfiles and ReportChargingProfiles (OCPP 2.0.1/2.1 K09), both sides.

Station side: :func:`read_get_charging_profiles` reads the request into a
:class:`~ocpp_schedule.ChargingProfileCriteria`;
:func:`get_charging_profiles` answers it from a store: the response status
(``Accepted`` or ``NoProfiles``) and the ReportChargingProfiles request
payloads that follow, grouped by EVSE and limit source, ``tbc`` set on all but
the last (K09.FR.01/02).

CSMS side: :func:`write_get_charging_profiles` builds the request,
:func:`read_get_charging_profiles_response` reads the station's answer,
:func:`read_report_charging_profiles` reads each report and
:func:`assemble_reports` joins them (one request id, ``tbc`` on all but the
last, each profile id once) into the CSMS's view of the station's profiles.
OCPP 1.6 has no such message (it has no way to read a station's profiles).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import PayloadError, VersionError
from ..wire._enums import (
    PURPOSES_BY_VERSION,
    ChargingLimitSource,
    ChargingProfilePurpose,
    OcppVersion,
)
from ..wire._models import ChargingProfile, JsonObject, _thaw
from ..wire._payloads import parse_version, read_charging_profile, write_charging_profile
from ._store import ChargingProfileCriteria, InstalledProfile, ProfileStore

__all__ = [
    "ChargingProfilesReport",
    "GetChargingProfilesRequest",
    "GetChargingProfilesResponse",
    "GetChargingProfilesResult",
    "ReportChargingProfilesRequest",
    "ReportedProfile",
    "StatusInfo",
    "assemble_reports",
    "get_charging_profiles",
    "read_get_charging_profiles",
    "read_get_charging_profiles_response",
    "read_report_charging_profiles",
    "read_status_info",
    "report_charging_profiles",
    "report_charging_profiles_response",
    "write_get_charging_profiles",
    "write_get_charging_profiles_response",
    "write_report_charging_profiles",
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


def _limit_sources(
    sources: list[Any], v: OcppVersion, field: str = "chargingProfile.chargingLimitSource"
) -> tuple[ChargingLimitSource | str, ...]:
    """2.0.1: the enum values only; 2.1: any string of at most 20 characters (the schema's
    ``maxLength 20``), the 2.0.1 values held as enum members (docs/semantics.md V21-5)."""
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


def _known(
    obj: Mapping[str, Any], allowed: set[str], prefix: str, message: str = "GetChargingProfiles"
) -> None:
    """No unknown key, no ``null`` (read as absent it would widen the criteria), and a
    ``customData`` that is a CustomDataType object."""
    unknown = sorted(set(obj) - allowed, key=str)
    if unknown:
        raise PayloadError(
            f"field {unknown[0]!r} is not part of {message}",
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


# ------------------------------------------------------------------ the CSMS side (K09)


MAX_REASON_CODE_LENGTH = 20
"""``statusInfo.reasonCode``: at most 20 characters (2.0.1 and 2.1 schemas)."""

MAX_ADDITIONAL_INFO_LENGTH = {OcppVersion.V201: 512, OcppVersion.V21: 1024}
"""``statusInfo.additionalInfo``: at most 512 characters in 2.0.1, 1024 in 2.1."""


@dataclass(frozen=True)
class StatusInfo:
    """A 2.x ``statusInfo``: why a response has its status (``reasonCode``, free text)."""

    reason_code: str
    additional_info: str | None = None
    custom_data: Mapping[str, Any] | None = None

    def to_payload(self) -> dict[str, Any]:
        """The ``statusInfo`` JSON object."""
        out: dict[str, Any] = {"reasonCode": self.reason_code}
        if self.additional_info is not None:
            out["additionalInfo"] = self.additional_info
        if self.custom_data is not None:
            out["customData"] = _thaw(self.custom_data)
        return out


def read_status_info(value: Any, version: OcppVersion, field: str = "statusInfo") -> StatusInfo:
    """Read a 2.x ``StatusInfoType`` object (known keys, lengths, no ``null``)."""
    if not isinstance(value, Mapping):
        raise PayloadError("expected an object", field=field, rule="OCPP schema: StatusInfoType")
    _known(value, {"reasonCode", "additionalInfo", "customData"}, f"{field}.", "StatusInfoType")
    code, info = value.get("reasonCode"), value.get("additionalInfo")
    if not isinstance(code, str) or len(code) > MAX_REASON_CODE_LENGTH:
        raise PayloadError(
            f"reasonCode is required: a string of at most {MAX_REASON_CODE_LENGTH} characters",
            field=f"{field}.reasonCode",
            rule="OCPP schema: StatusInfoType",
        )
    longest = MAX_ADDITIONAL_INFO_LENGTH[version]
    if info is not None and (not isinstance(info, str) or len(info) > longest):
        raise PayloadError(
            f"additionalInfo is a string of at most {longest} characters",
            field=f"{field}.additionalInfo",
            rule=f"OCPP {version.value} schema: StatusInfoType",
        )
    custom = value.get("customData")
    return StatusInfo(code, info, None if custom is None else JsonObject(custom))


def read_status_response(
    payload: Any, version: OcppVersion, statuses: frozenset[str], message: str
) -> tuple[str, StatusInfo | None, JsonObject | None]:
    """Read a 2.x ``{status, statusInfo?, customData?}`` response: the status among ``statuses``."""
    if not isinstance(payload, Mapping):
        raise PayloadError(f"a {message} response is a JSON object")
    _known(payload, {"status", "statusInfo", "customData"}, "", f"the {message} response")
    status = payload.get("status")
    if status not in statuses:
        raise PayloadError(
            f"status {status!r} is not one of {sorted(statuses)}",
            field="status",
            rule=f"OCPP {version.value} schema: {message} status enum",
        )
    info = payload.get("statusInfo")
    custom = payload.get("customData")
    return (
        str(status),
        None if info is None else read_status_info(info, version),
        None if custom is None else JsonObject(custom),
    )


def write_status_response(
    status: str, status_info: StatusInfo | None, custom_data: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The ``{status, statusInfo?, customData?}`` JSON of a 2.x response."""
    out: dict[str, Any] = {"status": status}
    if status_info is not None:
        out["statusInfo"] = status_info.to_payload()
    if custom_data is not None:
        out["customData"] = _thaw(custom_data)
    return out


@dataclass(frozen=True)
class GetChargingProfilesResponse:
    """The station's answer to GetChargingProfiles as the CSMS reads it (K09).

    ``Accepted``: ReportChargingProfiles requests follow; ``NoProfiles``: nothing
    matched and no report follows.
    """

    status: Literal["Accepted", "NoProfiles"]
    status_info: StatusInfo | None = None
    custom_data: Mapping[str, Any] | None = None

    @property
    def reports_follow(self) -> bool:
        """True when the station will send ReportChargingProfiles (status Accepted)."""
        return self.status == "Accepted"


_GET_STATUSES = frozenset({"Accepted", "NoProfiles"})


def read_get_charging_profiles_response(
    payload: Any, version: OcppVersion | str = OcppVersion.V201
) -> GetChargingProfilesResponse:
    """Read a GetChargingProfiles response payload (2.0.1 or 2.1) on the CSMS side."""
    v = _v2(version)
    status, info, custom = read_status_response(payload, v, _GET_STATUSES, "GetChargingProfiles")
    return GetChargingProfilesResponse(
        "Accepted" if status == "Accepted" else "NoProfiles", info, custom
    )


def write_get_charging_profiles_response(
    response: GetChargingProfilesResponse, version: OcppVersion | str = OcppVersion.V201
) -> dict[str, Any]:
    """The GetChargingProfiles response payload; what the reader read it writes back exactly."""
    _v2(version)
    return write_status_response(response.status, response.status_info, response.custom_data)


@dataclass(frozen=True)
class ReportChargingProfilesRequest:
    """One ReportChargingProfiles request: profiles of one EVSE and one limit source (K09).

    ``tbc`` is the field as sent: None when absent (which means false), so that
    the writer gives back the JSON read.
    """

    request_id: int
    charging_limit_source: ChargingLimitSource | str
    evse_id: int
    charging_profile: tuple[ChargingProfile, ...]
    tbc: bool | None = None
    custom_data: Mapping[str, Any] | None = None

    @property
    def to_be_continued(self) -> bool:
        """True when more reports of this request follow (K09.FR.02; absent means false)."""
        return bool(self.tbc)


_REPORT_KEYS = {
    "requestId",
    "chargingLimitSource",
    "evseId",
    "chargingProfile",
    "tbc",
    "customData",
}


def read_report_charging_profiles(
    payload: Any, version: OcppVersion | str = OcppVersion.V201
) -> ReportChargingProfilesRequest:
    """Read a ReportChargingProfiles request payload (2.0.1 or 2.1), as the CSMS receives it.

    Every profile is read with the SetChargingProfile profile reader of that
    version (its path ``chargingProfile[i]`` in errors). 2.0.1 limit sources are
    the enum's; 2.1 allows any string of at most 20 characters (as in the request).
    """
    v = _v2(version)
    if not isinstance(payload, Mapping):
        raise PayloadError("a ReportChargingProfiles request is a JSON object")
    _known(payload, _REPORT_KEYS, "", "ReportChargingProfiles")
    for key in ("requestId", "chargingLimitSource", "evseId", "chargingProfile"):
        if key not in payload:
            raise PayloadError(
                "required field is missing", field=key, rule=f"OCPP {v.value} schema"
            )
    evse = _int(payload["evseId"], "evseId")
    if evse < 0:
        raise PayloadError("evseId is 0 (the station) or an EVSE", field="evseId", rule="K09")
    tbc = payload.get("tbc")
    if tbc is not None and not isinstance(tbc, bool):
        raise PayloadError("expected a boolean", field="tbc", rule="OCPP schema")
    profiles = payload["chargingProfile"]
    if not isinstance(profiles, list) or not profiles:
        raise PayloadError(
            "expected a non-empty array of profiles",
            field="chargingProfile",
            rule="OCPP schema: minItems 1",
        )
    source = payload["chargingLimitSource"]
    sources = (
        _limit_sources([source], v, "chargingLimitSource") if isinstance(source, str) else None
    )
    if sources is None:
        raise PayloadError("expected a string", field="chargingLimitSource", rule="OCPP schema")
    custom = payload.get("customData")
    return ReportChargingProfilesRequest(
        request_id=_int(payload["requestId"], "requestId"),
        charging_limit_source=sources[0],
        evse_id=evse,
        charging_profile=tuple(
            read_charging_profile(p, v, field=f"chargingProfile[{i}]")
            for i, p in enumerate(profiles)
        ),
        tbc=tbc,
        custom_data=None if custom is None else JsonObject(custom),
    )


def write_report_charging_profiles(
    report: ReportChargingProfilesRequest, version: OcppVersion | str = OcppVersion.V201
) -> dict[str, Any]:
    """The ReportChargingProfiles request payload; what the reader read it writes back exactly."""
    v = _v2(version)
    source = str(report.charging_limit_source)
    if v is OcppVersion.V201 and source not in _KNOWN_SOURCES:
        raise VersionError(
            f"OCPP 2.0.1 limit sources are {sorted(_KNOWN_SOURCES)}", field="chargingLimitSource"
        )
    out: dict[str, Any] = {
        "requestId": report.request_id,
        "chargingLimitSource": source,
        "evseId": report.evse_id,
        "chargingProfile": [write_charging_profile(p, v) for p in report.charging_profile],
    }
    if report.tbc is not None:
        out["tbc"] = report.tbc
    if report.custom_data is not None:
        out["customData"] = _thaw(report.custom_data)
    return out


def report_charging_profiles_response() -> dict[str, Any]:
    """The ReportChargingProfiles response payload: an empty object (the schema has no field)."""
    return {}


@dataclass(frozen=True)
class ReportedProfile:
    """A profile as a station reported it: on which EVSE, set by which source."""

    evse_id: int
    profile: ChargingProfile
    source: ChargingLimitSource | str

    def installed(self) -> InstalledProfile:
        """As an :class:`InstalledProfile`; a 2.1 free-text source is held as ``Other``."""
        source = (
            self.source
            if isinstance(self.source, ChargingLimitSource)
            else ChargingLimitSource.OTHER
        )
        return InstalledProfile(self.evse_id, self.profile, source)


@dataclass(frozen=True)
class ChargingProfilesReport:
    """The reports of one GetChargingProfiles request, assembled (K09.FR.01/02).

    ``complete`` is False while the last report read still says ``tbc``: more
    are due. ``profiles`` are in the order reported.
    """

    request_id: int
    profiles: tuple[ReportedProfile, ...]
    complete: bool

    def to_store(self) -> ProfileStore:
        """The reported profiles as a :class:`ProfileStore` (the CSMS's view of the station).

        Refused while the report is incomplete: a mirror built from part of a
        report would silently miss profiles (K09.FR.02).
        """
        if not self.complete:
            raise PayloadError(
                f"request {self.request_id}: the last report said tbc=true; more are due",
                field="tbc",
                rule="K09.FR.02",
            )
        return ProfileStore(p.installed() for p in self.profiles)


def assemble_reports(
    reports: Iterable[ReportChargingProfilesRequest],
    *,
    request_id: int | None = None,
) -> ChargingProfilesReport:
    """Assemble the ReportChargingProfiles requests of one GetChargingProfiles request.

    ``reports`` are in the order received. Every report carries the request's id
    (``request_id`` when given, else the first report's; K09.FR.01); every one
    but the last says ``tbc`` true, and none follows a report without it
    (K09.FR.02); a profile id is reported once (a station holds one profile per
    id). Each breach is a :class:`PayloadError` naming the report (``[i]``) and
    the rule. An empty sequence is an error too: after ``Accepted`` at least one
    report follows (use :attr:`GetChargingProfilesResponse.reports_follow`).
    """
    items = list(reports)
    if not items:
        raise PayloadError("no ReportChargingProfiles request to assemble", rule="K09")
    for i, report in enumerate(items):
        if not isinstance(report, ReportChargingProfilesRequest):
            raise PayloadError(
                f"expected a ReportChargingProfilesRequest, got {type(report).__name__}",
                field=f"reports[{i}]",
            )
    expected = items[0].request_id if request_id is None else _int(request_id, "request_id")
    seen: dict[int, int] = {}
    out: list[ReportedProfile] = []
    for i, report in enumerate(items):
        if report.request_id != expected:
            raise PayloadError(
                f"requestId {report.request_id} is not the request's {expected}",
                field=f"reports[{i}].requestId",
                rule="K09.FR.01",
            )
        if i > 0 and not items[i - 1].to_be_continued:
            raise PayloadError(
                "a report follows the last one (the one before had no tbc=true)",
                field=f"reports[{i}]",
                rule="K09.FR.02",
            )
        for j, profile in enumerate(report.charging_profile):
            if profile.id in seen:
                raise PayloadError(
                    f"profile {profile.id} was already reported in reports[{seen[profile.id]}]",
                    field=f"reports[{i}].chargingProfile[{j}].id",
                    rule="K01.FR.05: one profile per id",
                )
            seen[profile.id] = i
            out.append(ReportedProfile(report.evse_id, profile, report.charging_limit_source))
    return ChargingProfilesReport(expected, tuple(out), not items[-1].to_be_continued)

"""External charging limits (OCPP 2.0.1/2.1 K11, K12, K13, K27): NotifyChargingLimit and
ClearedChargingLimit, as pure readers, writers and functions.

An external control system (an EMS, the grid operator, a smart meter) sets a limit on the
station over any protocol. The station represents it as a ChargingStationExternalConstraints
profile of its own (K11.FR.06, K12.FR.05; 2.1 ``isLocalGeneration``: a LocalGeneration profile,
K27.FR.01), installed with :func:`~ocpp_schedule.station.install_local` so that the composite
respects it (K11.FR.01, K12.FR.01), and tells the CSMS with a NotifyChargingLimitRequest.
Released, the profile goes (K13.FR.01) and a ClearedChargingLimitRequest tells the CSMS
(K13.FR.02).

Station side: :func:`impose_external_limit`, :func:`release_external_limit`. CSMS side (the
mirror, on the CSMS's view of the station's store): :func:`apply_notify_charging_limit`,
:func:`apply_cleared_charging_limit`. The derived profile's id follows the recommended ranges
(:func:`external_profile_id`; docs/semantics.md EXT-2).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import Field, ValidationError, field_validator

from ..errors import ExternalLimitError, PayloadError, QueryError, VersionError
from ..wire._enums import (
    ChargingLimitSource,
    ChargingProfileKind,
    ChargingProfilePurpose,
    OcppVersion,
)
from ..wire._models import (
    Bool,
    ChargingProfile,
    ChargingSchedule,
    CustomData,
    Int,
    SetChargingProfileRequest,
)
from ..wire._models import _Model as _WireModel
from ..wire._payloads import (
    _check_keys,
    _payload_error,
    parse_version,
    read_charging_profile,
    write_charging_profile,
)
from ._get_profiles import _KNOWN_SOURCES, MAX_LIMIT_SOURCE_LENGTH
from ._rules import install_local
from ._store import InstalledProfile, ProfileStore, StationState

__all__ = [
    "MAX_LIMIT_SCHEDULES",
    "ChargingLimit",
    "ClearedChargingLimitRequest",
    "ExternalLimitRelease",
    "ExternalLimitResult",
    "NotifyChargingLimitRequest",
    "apply_cleared_charging_limit",
    "apply_notify_charging_limit",
    "external_profile_id",
    "impose_external_limit",
    "read_cleared_charging_limit",
    "read_notify_charging_limit",
    "release_external_limit",
    "write_cleared_charging_limit",
    "write_notify_charging_limit",
]

P = ChargingProfilePurpose
MAX_LIMIT_SCHEDULES = 64
"""The most ``chargingSchedule`` entries a NotifyChargingLimitRequest may have to be read at all
(the schema sets no maximum; docs/robustness.md). Each is bounded by ``MAX_READ_PERIODS``."""
MIN_PROFILE_ID = -(2**31)
"""The lowest profile id the station may derive: OCPP integers are 32-bit."""


def _known_source(value: ChargingLimitSource | str) -> ChargingLimitSource | str:
    """The 2.0.1 values as enum members, any other string as text."""
    return ChargingLimitSource(value) if value in _KNOWN_SOURCES else value


class ChargingLimit(_WireModel):
    """``ChargingLimitType``: who set the limit, and how it is meant.

    ``charging_limit_source`` is a :class:`ChargingLimitSource` for the 2.0.1 values; 2.1 allows
    any string of at most 20 characters, held as text.
    """

    charging_limit_source: ChargingLimitSource | str = Field(
        validation_alias="chargingLimitSource", serialization_alias="chargingLimitSource"
    )
    """``chargingLimitSource``: EMS, Other, SO (CSO is the CSMS's own, K11.FR.05); 2.1: any
    string of at most 20 characters."""
    is_grid_critical: Bool | None = Field(
        default=None, validation_alias="isGridCritical", serialization_alias="isGridCritical"
    )
    """``isGridCritical``: whether the limit is critical for the grid."""
    is_local_generation: Bool | None = Field(
        default=None,
        validation_alias="isLocalGeneration",
        serialization_alias="isLocalGeneration",
    )
    """2.1 ``isLocalGeneration``: the limit is extra capacity from local generation, not a
    limitation (K27)."""
    custom_data: CustomData | None = Field(
        default=None, validation_alias="customData", serialization_alias="customData"
    )
    """``customData``, carried verbatim."""

    _source = field_validator("charging_limit_source")(_known_source)

    @property
    def store_source(self) -> ChargingLimitSource:
        """The source as the store holds it: a 2.1-only string becomes ``Other`` (EXT-5)."""
        source = self.charging_limit_source
        return source if isinstance(source, ChargingLimitSource) else ChargingLimitSource.OTHER


class NotifyChargingLimitRequest(_WireModel):
    """A NotifyChargingLimitRequest (2.0.1/2.1): an external limit on an EVSE or the station.

    ``evse_id`` absent (or, 2.1, 0) means the whole station. ``charging_schedule`` is present
    when NotifyChargingLimitWithSchedules is true (K11.FR.03, K12.FR.03).
    """

    charging_limit: ChargingLimit = Field(
        validation_alias="chargingLimit", serialization_alias="chargingLimit"
    )
    """``chargingLimit``: the source and how the limit is meant."""
    evse_id: Int | None = Field(
        default=None, validation_alias="evseId", serialization_alias="evseId"
    )
    """``evseId``: the EVSE the limit is on; absent or 0: the station."""
    charging_schedule: tuple[ChargingSchedule, ...] | None = Field(
        default=None, validation_alias="chargingSchedule", serialization_alias="chargingSchedule"
    )
    """``chargingSchedule``: the limit's schedules as the external system set them."""
    custom_data: CustomData | None = Field(
        default=None, validation_alias="customData", serialization_alias="customData"
    )
    """``customData``, carried verbatim."""

    @property
    def station_evse(self) -> int:
        """The EVSE the limit is on, 0 for the station."""
        return self.evse_id or 0


class ClearedChargingLimitRequest(_WireModel):
    """A ClearedChargingLimitRequest (2.0.1/2.1): the external limit of a source is released."""

    charging_limit_source: ChargingLimitSource | str = Field(
        validation_alias="chargingLimitSource", serialization_alias="chargingLimitSource"
    )
    """``chargingLimitSource``: whose limit was released."""
    evse_id: Int | None = Field(
        default=None, validation_alias="evseId", serialization_alias="evseId"
    )
    """``evseId``: the EVSE it was on (0: the station); absent: wherever that source had one."""
    custom_data: CustomData | None = Field(
        default=None, validation_alias="customData", serialization_alias="customData"
    )
    """``customData``, carried verbatim."""

    _source = field_validator("charging_limit_source")(_known_source)


# ------------------------------------------------------------------------- readers


def _version(version: OcppVersion | str, message: str) -> OcppVersion:
    v = parse_version(version)
    if not v.is_v2:
        raise VersionError(f"OCPP 1.6 has no {message}", field="version")
    return v


def _check_source(value: Any, v: OcppVersion, field: str) -> None:
    """2.0.1: one of the enum values; 2.1: a string of at most 20 characters."""
    if not isinstance(value, str):
        return  # left to the model: "expected a string"
    if v is OcppVersion.V201 and value not in _KNOWN_SOURCES:
        raise PayloadError(
            f"{value!r} is not one of {sorted(_KNOWN_SOURCES)}",
            field=field,
            rule="OCPP 2.0.1 schema: enum",
        )
    if len(value) > MAX_LIMIT_SOURCE_LENGTH:
        raise PayloadError(
            f"at most {MAX_LIMIT_SOURCE_LENGTH} characters",
            field=field,
            rule=f"OCPP {v.value} schema: maxLength {MAX_LIMIT_SOURCE_LENGTH}",
        )


def _check_evse(value: Any, v: OcppVersion) -> None:
    if (
        v is OcppVersion.V21
        and isinstance(value, int)
        and not isinstance(value, bool)
        and value < 0
    ):
        raise PayloadError("evseId is >= 0", field="evseId", rule="OCPP 2.1 schema: minimum 0")


def _carrier(schedules: Any) -> dict[str, Any]:
    """A profile that carries ``schedules``, so the SetChargingProfile reader and writer check
    and write them (no second copy of the schedule and period rules)."""
    return {
        "id": 0,
        "stackLevel": 0,
        "chargingProfilePurpose": P.CHARGING_STATION_EXTERNAL_CONSTRAINTS.value,
        "chargingProfileKind": ChargingProfileKind.ABSOLUTE.value,
        "chargingSchedule": schedules,
    }


def _read_schedules(schedules: Any, v: OcppVersion) -> tuple[ChargingSchedule, ...]:
    if isinstance(schedules, list):
        if not schedules:
            raise PayloadError(
                "at least one schedule", field="chargingSchedule", rule="OCPP schema: minItems 1"
            )
        if len(schedules) > MAX_LIMIT_SCHEDULES:
            raise PayloadError(
                f"{len(schedules)} schedules; the library reads at most {MAX_LIMIT_SCHEDULES}",
                field="chargingSchedule",
                rule="docs/robustness.md (MAX_LIMIT_SCHEDULES)",
            )
    try:
        return read_charging_profile(_carrier(schedules), v, field="").charging_schedule
    except PayloadError as exc:
        exc.field = (exc.field or "").lstrip(".") or None
        raise


def read_notify_charging_limit(
    payload: Any, version: OcppVersion | str
) -> NotifyChargingLimitRequest:
    """Read a NotifyChargingLimitRequest payload (2.0.1 or 2.1).

    The schedules are read by the SetChargingProfile reader (the same ``ChargingScheduleType``).
    Raises :class:`PayloadError` naming the field for anything the version's schema refuses;
    a ``CSO`` source is read (the 2.0.1 schema allows it) and refused where it is applied.
    """
    v = _version(version, "NotifyChargingLimit")
    rule = f"OCPP {v.value} schema"
    top = _check_keys(
        payload,
        frozenset({"chargingLimit", "evseId", "chargingSchedule", "customData"}),
        ("chargingLimit",),
        "",
        v,
    )
    limit_keys = {"chargingLimitSource", "isGridCritical", "customData"}
    if v is OcppVersion.V21:
        limit_keys.add("isLocalGeneration")
    limit = _check_keys(
        top["chargingLimit"], frozenset(limit_keys), ("chargingLimitSource",), "chargingLimit", v
    )
    _check_source(limit["chargingLimitSource"], v, "chargingLimit.chargingLimitSource")
    _check_evse(top.get("evseId"), v)
    data = dict(top)
    if "chargingSchedule" in top:
        data["chargingSchedule"] = _read_schedules(top["chargingSchedule"], v)
    try:
        return NotifyChargingLimitRequest.model_validate(data)
    except ValidationError as exc:
        error = _payload_error(exc, v)
        error.rule = error.rule or rule
        raise error from None


def read_cleared_charging_limit(
    payload: Any, version: OcppVersion | str
) -> ClearedChargingLimitRequest:
    """Read a ClearedChargingLimitRequest payload (2.0.1 or 2.1)."""
    v = _version(version, "ClearedChargingLimit")
    top = _check_keys(
        payload,
        frozenset({"chargingLimitSource", "evseId", "customData"}),
        ("chargingLimitSource",),
        "",
        v,
    )
    _check_source(top["chargingLimitSource"], v, "chargingLimitSource")
    _check_evse(top.get("evseId"), v)
    try:
        return ClearedChargingLimitRequest.model_validate(top)
    except ValidationError as exc:
        raise _payload_error(exc, v) from None


# ------------------------------------------------------------------------- writers


def _writable_source(source: ChargingLimitSource | str, v: OcppVersion, field: str) -> str:
    if v is OcppVersion.V201 and source not in _KNOWN_SOURCES:
        raise VersionError(
            f"OCPP 2.0.1 limit sources are {sorted(_KNOWN_SOURCES)}; {source!r} is 2.1 only",
            field=field,
        )
    return str(source)


def write_notify_charging_limit(
    request: NotifyChargingLimitRequest, version: OcppVersion | str
) -> dict[str, Any]:
    """The NotifyChargingLimitRequest payload of ``version``, exactly as read.

    Raises :class:`VersionError` for what 2.0.1 cannot carry (``isLocalGeneration``, a 2.1-only
    source, a 2.1 schedule field).
    """
    v = _version(version, "NotifyChargingLimit")
    out = request.to_json_dict()
    limit = out["chargingLimit"]
    limit["chargingLimitSource"] = _writable_source(
        request.charging_limit.charging_limit_source, v, "chargingLimit.chargingLimitSource"
    )
    if v is OcppVersion.V201 and "isLocalGeneration" in limit:
        raise VersionError(
            "OCPP 2.0.1 has no isLocalGeneration", field="chargingLimit.isLocalGeneration"
        )
    if request.charging_schedule is not None:
        carrier = ChargingProfile.model_validate(_carrier(request.charging_schedule))
        out["chargingSchedule"] = write_charging_profile(carrier, v)["chargingSchedule"]
    return out


def write_cleared_charging_limit(
    request: ClearedChargingLimitRequest, version: OcppVersion | str
) -> dict[str, Any]:
    """The ClearedChargingLimitRequest payload of ``version``, exactly as read."""
    v = _version(version, "ClearedChargingLimit")
    out = request.to_json_dict()
    out["chargingLimitSource"] = _writable_source(
        request.charging_limit_source, v, "chargingLimitSource"
    )
    return out


# ------------------------------------------------------------------------- functions


@dataclass(frozen=True)
class ExternalLimitResult:
    """What imposing (or mirroring) an external limit did.

    ``accepted``: the store now holds the limit as profile ``profile_id`` (replacing
    ``replaced``). Otherwise ``store`` is the one given and ``reason``/``rule``/``message`` say
    why (a station-side rule's reasonCode, ``Disallowed``, ``SourceConflict``, ``NoSchedule``).
    ``notification`` is the NotifyChargingLimitRequest the station sends (station side only;
    whether the change is significant enough to send it, LimitChangeSignificance, is the
    caller's judgement: K11.FR.02).
    """

    store: ProfileStore
    accepted: bool
    profile_id: int | None = None
    replaced: tuple[int, ...] = ()
    notification: NotifyChargingLimitRequest | None = None
    reason: str | None = None
    rule: str | None = None
    message: str = ""


@dataclass(frozen=True)
class ExternalLimitRelease:
    """What releasing an external limit did: the profiles removed and, station side, the
    ClearedChargingLimitRequest to send (None when nothing was released)."""

    store: ProfileStore
    released: tuple[int, ...]
    notification: ClearedChargingLimitRequest | None = None


def require(value: object, kind: type, field: str) -> None:
    """A wrong Python type is a :class:`QueryError` naming the argument, not a late crash."""
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise QueryError(f"expected {kind.__name__}, got {type(value).__name__}", field=field)


def _check_not_cso(source: ChargingLimitSource | str, field: str) -> None:
    require(source, str, field)
    if source == ChargingLimitSource.CSO:
        raise ExternalLimitError(
            "an external limit is never the CSO's own: chargingLimitSource CSO is not allowed",
            field=field,
            rule="K11.FR.05/K12.FR.04",
        )


def _purpose(limit: ChargingLimit, state: StationState) -> ChargingProfilePurpose:
    """LocalGeneration for a 2.1 local-generation limit (K27.FR.01), else ExternalConstraints."""
    if not limit.is_local_generation:
        return P.CHARGING_STATION_EXTERNAL_CONSTRAINTS
    if state.version is not OcppVersion.V21:
        raise VersionError(
            "isLocalGeneration is OCPP 2.1 only", field="chargingLimit.isLocalGeneration"
        )
    if limit.charging_limit_source not in (ChargingLimitSource.EMS, ChargingLimitSource.OTHER):
        raise ExternalLimitError(
            f"a local-generation limit comes from EMS or Other, not "
            f"{limit.charging_limit_source!r}",
            field="chargingLimit.chargingLimitSource",
            rule="K27.FR.03",
        )
    return P.LOCAL_GENERATION


def external_profile_id(store: ProfileStore, state: StationState) -> int:
    """The id for a new profile of the station's own: the highest free id at or below the
    ceiling, which is MaxExternalConstraintsId in 2.1 where set (K01.FR.82, E21 K11.FR.06 note)
    and -1 otherwise (negative ids: K11.FR.06/K12.FR.05 note). At most ``len(store) + 1``
    candidates are tried."""
    limit = state.config.max_external_constraints_id
    ceiling = limit if state.version is OcppVersion.V21 and limit is not None else -1
    ceiling = min(ceiling, 2**31 - 1)
    taken = {e.id for e in store}
    pid = ceiling
    while pid in taken:
        pid -= 1
    if pid < MIN_PROFILE_ID:
        raise ExternalLimitError(
            f"no free profile id at or below {ceiling} within 32 bits",
            field="profile_id",
            rule="docs/semantics.md EXT-2",
        )
    return pid


def _own(store: ProfileStore, evse: int, purpose: ChargingProfilePurpose) -> list[InstalledProfile]:
    return [e for e in store if e.evse_id == evse and e.purpose is purpose]


def _refused(store: ProfileStore, reason: str, rule: str, message: str) -> ExternalLimitResult:
    return ExternalLimitResult(store, False, reason=reason, rule=rule, message=message)


def _install_external(
    store: ProfileStore,
    limit: NotifyChargingLimitRequest,
    state: StationState,
    *,
    profile_id: int | None,
    kind: ChargingProfileKind | None,
    now: datetime | int | None,
) -> ExternalLimitResult:
    """Install ``limit``'s one schedule as the station's own profile (the shared core).

    One profile per EVSE, purpose and source: a new limit of the same source replaces the
    previous one (E21 2.15: "can use the same chargingProfile.id"); another source's on the same
    EVSE and purpose is a conflict (EXT-3), since the composite takes the highest stack level
    of a purpose, not the least limit.
    """
    source = limit.charging_limit.store_source
    purpose = _purpose(limit.charging_limit, state)
    schedules = limit.charging_schedule or ()
    evse = limit.station_evse
    own = _own(store, evse, purpose)
    others = [e for e in own if e.source is not source]
    if others:
        return _refused(
            store,
            "SourceConflict",
            "docs/semantics.md EXT-3",
            f"EVSE {evse} already holds {purpose.value} profile {others[0].id} of source "
            f"{others[0].source.value}; a second source's would override it, not add to it",
        )
    previous = tuple(e.id for e in own)
    if profile_id is None:
        profile_id = previous[0] if previous else external_profile_id(store, state)
    schedule = schedules[0]
    if kind is None:
        kind = (
            ChargingProfileKind.ABSOLUTE
            if schedule.start_schedule is not None
            else ChargingProfileKind.RELATIVE
        )
    profile = ChargingProfile(
        id=profile_id,
        stack_level=0,
        charging_profile_purpose=purpose,
        charging_profile_kind=kind,
        charging_schedule=(schedule,),
    )
    request = SetChargingProfileRequest(evse_id=evse, charging_profile=profile)
    rest = store.without(i for i in previous if i != profile_id)
    new_store, result = install_local(rest, request, state, source=source, now=now)
    if not result.accepted:
        reason = result.reason.reason_code if result.reason else None
        return _refused(store, reason or "Rejected", result.rule or "", result.message)
    replaced = tuple(sorted({*previous, *result.replaced}))
    return ExternalLimitResult(new_store, True, profile_id, replaced)


def _one_schedule(limit: NotifyChargingLimitRequest) -> None:
    count = len(limit.charging_schedule or ())
    if count != 1:
        raise ExternalLimitError(
            f"an external limit to impose is one schedule, not {count}",
            field="chargingSchedule",
            rule="K01.FR.34",
        )


def impose_external_limit(
    store: ProfileStore,
    limit: NotifyChargingLimitRequest,
    state: StationState,
    *,
    profile_id: int | None = None,
    kind: ChargingProfileKind | None = None,
    with_schedules: bool = False,
    now: datetime | int | None = None,
) -> ExternalLimitResult:
    """Station side (K11, K12, K27): impose an external limit and say what to tell the CSMS.

    ``limit`` is the limit as the station reports it: its source, the EVSE (absent/0: the
    station) and exactly one schedule. It is installed as a ChargingStationExternalConstraints
    profile (2.1 ``isLocalGeneration``: LocalGeneration) through ``install_local``, so every
    structural rule applies and the composite honours it: no transaction charges faster
    (K11.FR.01), the station total stays within it (K12.FR.01). ``profile_id`` defaults to the
    previous profile of the same source on that EVSE, else :func:`external_profile_id`.
    ``kind`` defaults to Absolute with a ``startSchedule``, Relative without; ``now`` stamps a
    Dynamic one (K29.FR.06). The notification carries the schedule only ``with_schedules``
    (NotifyChargingLimitWithSchedules, K11.FR.03).

    2.1 with ExternalConstraintsProfileDisallowed: refused, nothing installed (K11.FR.07,
    Q06.FR.08). Raises :class:`ExternalLimitError` for a CSO source (K11.FR.05, K12.FR.04), a
    local-generation source other than EMS/Other (K27.FR.03) or not one schedule.
    """
    require(store, ProfileStore, "store")
    require(state, StationState, "state")
    require(limit, NotifyChargingLimitRequest, "limit")
    version = _version(state.version, "external charging limits")
    _check_not_cso(limit.charging_limit.charging_limit_source, "chargingLimit.chargingLimitSource")
    _one_schedule(limit)
    purpose = _purpose(limit.charging_limit, state)
    if (
        version is OcppVersion.V21
        and purpose is P.CHARGING_STATION_EXTERNAL_CONSTRAINTS
        and state.config.external_constraints_profile_disallowed
    ):
        return _refused(
            store,
            "Disallowed",
            "K11.FR.07",
            "ExternalConstraintsProfileDisallowed is true: the external limit is ignored",
        )
    result = _install_external(store, limit, state, profile_id=profile_id, kind=kind, now=now)
    if not result.accepted:
        return result
    sent = limit.model_copy(
        update={
            "evse_id": limit.evse_id or None,
            "charging_schedule": limit.charging_schedule if with_schedules else None,
        }
    )
    return ExternalLimitResult(
        result.store, True, result.profile_id, result.replaced, notification=sent
    )


def _released(
    store: ProfileStore, source: ChargingLimitSource | str, evse_id: int | None
) -> tuple[int, ...]:
    key = ChargingLimit(charging_limit_source=source).store_source
    return tuple(
        e.id
        for e in store
        if e.purpose.is_local and e.source is key and (evse_id is None or e.evse_id == evse_id)
    )


def release_external_limit(
    store: ProfileStore,
    source: ChargingLimitSource | str,
    *,
    evse_id: int = 0,
) -> ExternalLimitRelease:
    """Station side (K13): the external limit of ``source`` on ``evse_id`` (0: the station) is
    released. Its profiles (ExternalConstraints and LocalGeneration of that source on that EVSE)
    are removed, so the composite stops applying them (K13.FR.01), and the
    ClearedChargingLimitRequest to send is returned (K13.FR.02). Nothing to release: the store
    as given and no notification."""
    require(store, ProfileStore, "store")
    require(evse_id, int, "evse_id")
    _check_not_cso(source, "chargingLimitSource")
    gone = _released(store, source, evse_id)
    if not gone:
        return ExternalLimitRelease(store, ())
    notice = ClearedChargingLimitRequest(charging_limit_source=source, evse_id=evse_id)
    return ExternalLimitRelease(store.without(gone), gone, notice)


def apply_notify_charging_limit(
    view: ProfileStore,
    request: NotifyChargingLimitRequest,
    state: StationState,
    *,
    now: datetime | int | None = None,
) -> ExternalLimitResult:
    """CSMS side: a NotifyChargingLimitRequest received, applied to the CSMS's view of the
    station's store (``state``: the station's version and configuration).

    With one schedule, the view holds it as the station does (:func:`impose_external_limit`'s
    profile, same id rule), replacing the previous one of that source and EVSE. Without a
    schedule (NotifyChargingLimitWithSchedules false) or with several, the view cannot tell
    the limit: it is unchanged and the result says so (``NoSchedule``); ask the station with
    GetChargingProfiles (chargingLimitSource) instead. Raises :class:`ExternalLimitError` for a
    CSO source (K11.FR.05: a station may not send one).
    """
    require(view, ProfileStore, "view")
    require(state, StationState, "state")
    require(request, NotifyChargingLimitRequest, "request")
    _version(state.version, "NotifyChargingLimit")
    _check_not_cso(
        request.charging_limit.charging_limit_source, "chargingLimit.chargingLimitSource"
    )
    count = len(request.charging_schedule or ())
    if count != 1:
        return _refused(
            view,
            "NoSchedule",
            "docs/semantics.md EXT-6",
            f"the notification carries {count} schedules; the view holds one per source and "
            "EVSE: ask GetChargingProfiles for the station's profiles",
        )
    return _install_external(view, request, state, profile_id=None, kind=None, now=now)


def apply_cleared_charging_limit(
    view: ProfileStore, request: ClearedChargingLimitRequest
) -> ExternalLimitRelease:
    """CSMS side: a ClearedChargingLimitRequest received. The view drops the source's external
    profiles on ``evseId`` (absent: on every EVSE). Raises :class:`ExternalLimitError` for a
    CSO source."""
    require(view, ProfileStore, "view")
    require(request, ClearedChargingLimitRequest, "request")
    _check_not_cso(request.charging_limit_source, "chargingLimitSource")
    gone = _released(view, request.charging_limit_source, request.evse_id)
    return ExternalLimitRelease(view.without(gone), gone)

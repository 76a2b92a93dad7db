"""OCPP 2.1 Dynamic profiles (K28/K29) and offline validity (K01.FR.101-103), as pure functions.

A Dynamic profile has one schedule with one period whose values the CSMS replaces as it goes:
pushed with UpdateDynamicScheduleRequest (:func:`update_dynamic_schedule`) or pulled by the
station with PullDynamicScheduleUpdateRequest every ``dynUpdateInterval`` seconds
(:func:`dynamic_updates_due` says which are due, and when the next is). ``dynUpdateTime`` is
stamped on receipt and on every update; the caller passes "now", the library reads no clock
(``install(..., now=...)``). With a ``duration``, the profile lapses ``duration`` seconds after
its ``dynUpdateTime`` (K28.FR.13-15; the engine measures it so, docs/semantics.md V21-18).

Offline validity is a query-time matter: ``composite_schedule(..., offline_since=...)`` drops a
profile once the station has been offline longer than its ``maxOfflineDuration``;
:func:`drop_invalid_after_offline` removes for good, on reconnection, those whose
``invalidAfterOfflineDuration`` is true (K01.FR.102).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import Field, ValidationError

from ..errors import PayloadError, QueryError
from ..wire._enums import ChargingLimitSource, ChargingProfileKind, OcppVersion
from ..wire._models import (
    V21_PERIOD_VALUES,
    ChargingProfile,
    CustomData,
    Int,
    SetChargingProfileRequest,
    _PeriodLimit,
    _V21PeriodValues,
)
from ..wire._models import _Model as _WireModel
from ..wire._payloads import _payload_error
from ..wire._timestamps import epoch_or_datetime, from_epoch, to_epoch
from ._rules import install, install_local
from ._store import InstalledProfile, ProfileStore, StationState

__all__ = [
    "ChargingScheduleUpdate",
    "DynamicUpdatesDue",
    "UpdateDynamicScheduleRequest",
    "UpdateDynamicScheduleResult",
    "drop_invalid_after_offline",
    "dynamic_updates_due",
    "read_update_dynamic_schedule",
    "update_dynamic_schedule",
    "write_update_dynamic_schedule",
]

_UPDATE_FIELDS = ("limit", *V21_PERIOD_VALUES)
"""The period values a ChargingScheduleUpdate carries (the model's field names)."""


class ChargingScheduleUpdate(_V21PeriodValues, _PeriodLimit):
    """2.1 ``ChargingScheduleUpdateType``: the new values of a Dynamic profile's one period.

    Its twelve values are the period's own fields (``limit`` and :data:`V21_PERIOD_VALUES`,
    shared bases of :class:`ChargingSchedulePeriod`, in the same JSON key order), then
    ``customData``. Numbers keep their JSON type (an integer is written back as one, V21-6);
    ``dischargeLimit`` values are <= 0 (schema ``maximum 0``, checked by the reader).
    """

    custom_data: CustomData | None = Field(
        default=None, validation_alias="customData", serialization_alias="customData"
    )
    """``customData``, carried verbatim."""


class UpdateDynamicScheduleRequest(_WireModel):
    """2.1 UpdateDynamicScheduleRequest: new values for a Dynamic profile's one period."""

    charging_profile_id: Int = Field(
        validation_alias="chargingProfileId", serialization_alias="chargingProfileId"
    )
    """``chargingProfileId``: the Dynamic profile to update."""
    schedule_update: ChargingScheduleUpdate = Field(
        validation_alias="scheduleUpdate", serialization_alias="scheduleUpdate"
    )
    """``scheduleUpdate``: the period's new values."""
    custom_data: CustomData | None = Field(
        default=None, validation_alias="customData", serialization_alias="customData"
    )
    """``customData``, carried verbatim."""


def read_update_dynamic_schedule(payload: Any) -> UpdateDynamicScheduleRequest:
    """Read a 2.1 UpdateDynamicScheduleRequest payload.

    Raises :class:`PayloadError` naming the field for an unknown key, a ``null``, a wrong type,
    a missing required field or a positive ``dischargeLimit`` (schema ``maximum 0``).
    """
    if not isinstance(payload, Mapping):
        raise PayloadError(
            "an UpdateDynamicSchedule request is a JSON object", rule="OCPP 2.1 schema"
        )
    _no_nulls(payload, "")
    update = payload.get("scheduleUpdate")
    if isinstance(update, Mapping):
        _no_nulls(update, "scheduleUpdate")
        for key in ("dischargeLimit", "dischargeLimit_L2", "dischargeLimit_L3"):
            value = update.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
                raise PayloadError(
                    f"{value} is above the maximum 0",
                    field=f"scheduleUpdate.{key}",
                    rule="OCPP 2.1 schema: maximum 0",
                )
    try:
        return UpdateDynamicScheduleRequest.model_validate(payload)
    except ValidationError as exc:
        raise _payload_error(exc, OcppVersion.V21) from None


def _no_nulls(obj: Mapping[str, Any], where: str) -> None:
    for key, value in obj.items():
        if value is None:
            raise PayloadError(
                "null is not a value of any OCPP field; leave the field out",
                field=f"{where}.{key}" if where else str(key),
                rule="OCPP 2.1 schema",
            )


def write_update_dynamic_schedule(request: UpdateDynamicScheduleRequest) -> dict[str, Any]:
    """The request as its 2.1 JSON payload, exactly as read (numbers keep their JSON type)."""
    return request.to_json_dict()


@dataclass(frozen=True)
class UpdateDynamicScheduleResult:
    """The station's answer to an UpdateDynamicScheduleRequest.

    ``reason_code`` is the ``statusInfo.reasonCode`` of a rejection (``NotFound``: no such
    profile; ``InvalidProfile``: it is not Dynamic; else the code of the station-side rule the
    updated profile breaks); ``rule`` cites the requirement and ``message`` says what is wrong.
    """

    accepted: bool
    reason_code: str | None = None
    rule: str | None = None
    message: str = ""

    @property
    def status(self) -> str:
        """``Accepted`` or ``Rejected``, as in the response payload."""
        return "Accepted" if self.accepted else "Rejected"

    def to_payload(self) -> dict[str, Any]:
        """The UpdateDynamicScheduleResponse payload."""
        out: dict[str, Any] = {"status": self.status}
        if not self.accepted and self.reason_code is not None:
            info = f"{self.message} ({self.rule})" if self.rule else self.message
            out["statusInfo"] = {"reasonCode": self.reason_code, "additionalInfo": info[:1024]}
        return out


def update_dynamic_schedule(
    store: ProfileStore,
    request: UpdateDynamicScheduleRequest,
    now: datetime | int,
    *,
    state: StationState,
) -> tuple[ProfileStore, UpdateDynamicScheduleResult]:
    """Apply an UpdateDynamicScheduleRequest (or an accepted pull's ``scheduleUpdate``).

    The update's twelve values replace the period's (a value the update leaves out is then
    absent: the update is the period's new value set); startPeriod, numberPhases, phaseToUse,
    operationMode and the other period fields stay. The updated profile must pass every
    station-side rule ``install`` applies (``state``), else it is Rejected with that rule's
    reasonCode and the store is unchanged. Accepted: ``dynUpdateTime`` is ``now`` (K28).
    """
    _check_store(store)
    if not isinstance(request, UpdateDynamicScheduleRequest):
        raise QueryError("expected an UpdateDynamicScheduleRequest", field="request")
    if not isinstance(state, StationState):
        raise QueryError("expected a StationState", field="state")
    stamp = from_epoch(epoch_or_datetime(now, "now"))
    entry = store.get(request.charging_profile_id)
    if entry is None:
        return store, UpdateDynamicScheduleResult(
            False, "NotFound", "K28", f"no profile with id {request.charging_profile_id}"
        )
    profile = entry.profile
    if profile.charging_profile_kind is not ChargingProfileKind.DYNAMIC:
        return store, UpdateDynamicScheduleResult(
            False,
            "InvalidProfile",
            "K28",
            f"profile {profile.id} is {profile.charging_profile_kind.value}, not Dynamic",
        )
    updated = _updated_profile(profile, request.schedule_update, stamp)
    new_store, result = _reinstall(store, entry, updated, state)
    if not result.accepted:
        reason = result.reason.reason_code if result.reason else "InvalidSchedule"
        return store, UpdateDynamicScheduleResult(False, reason, result.rule, result.message)
    return new_store, UpdateDynamicScheduleResult(True)


def _updated_profile(
    profile: ChargingProfile, update: ChargingScheduleUpdate, stamp: datetime
) -> ChargingProfile:
    """The profile with its first schedule's first period's values replaced, stamped."""
    schedule = profile.charging_schedule[0]
    period = schedule.charging_schedule_period[0]
    values = {name: getattr(update, name) for name in _UPDATE_FIELDS}
    new_period = period.model_copy(update=values)
    periods = (new_period, *schedule.charging_schedule_period[1:])
    new_schedule = schedule.model_copy(update={"charging_schedule_period": periods})
    schedules = (new_schedule, *profile.charging_schedule[1:])
    return profile.model_copy(update={"charging_schedule": schedules, "dyn_update_time": stamp})


def _reinstall(
    store: ProfileStore, entry: InstalledProfile, profile: ChargingProfile, state: StationState
) -> tuple[ProfileStore, Any]:
    """Install ``profile`` in place of ``entry`` by the rules that installed it."""
    request = SetChargingProfileRequest(evse_id=entry.evse_id, charging_profile=profile)
    rest = store.without((entry.id,))
    if entry.source is ChargingLimitSource.CSO:
        return install(rest, request, state)
    return install_local(rest, request, state, source=entry.source)


@dataclass(frozen=True)
class DynamicUpdatesDue:
    """Which Dynamic profiles are due for a PullDynamicScheduleUpdateRequest, and when next.

    ``due`` are the profile ids due at the query instant (in store order); ``next_due`` is
    the earliest later instant at which another one falls due (None: none will, without
    an update).
    """

    due: tuple[int, ...]
    next_due: datetime | None


def dynamic_updates_due(store: ProfileStore, now: datetime | int) -> DynamicUpdatesDue:
    """The Dynamic profiles with a ``dynUpdateInterval`` that are due for a pull at ``now``.

    A profile is due once ``dynUpdateInterval`` seconds have passed since its
    ``dynUpdateTime`` (at ``dynUpdateTime + dynUpdateInterval`` and after); one never stamped
    (installed without ``now``) is due at once. A refused or empty pull does not stamp the
    profile, so it stays due.
    """
    _check_store(store)
    t = epoch_or_datetime(now, "now")
    due: list[int] = []
    later: list[int] = []
    for entry in store:
        profile = entry.profile
        interval = profile.dyn_update_interval
        if profile.charging_profile_kind is not ChargingProfileKind.DYNAMIC or interval is None:
            continue
        if profile.dyn_update_time is None:
            due.append(entry.id)
            continue
        at = to_epoch(profile.dyn_update_time) + interval
        if at <= t:
            due.append(entry.id)
        else:
            later.append(at)
    return DynamicUpdatesDue(tuple(due), from_epoch(min(later)) if later else None)


def drop_invalid_after_offline(
    store: ProfileStore, *, offline_since: datetime | int, online_at: datetime | int
) -> ProfileStore:
    """The store after reconnecting at ``online_at``, offline since ``offline_since``.

    K01.FR.102: a profile invalidated by the offline time (offline longer than its
    ``maxOfflineDuration``) is valid again on reconnection unless its
    ``invalidAfterOfflineDuration`` is true; those are removed. K01.FR.103: without
    ``maxOfflineDuration`` offline time changes nothing.
    """
    _check_store(store)
    since = epoch_or_datetime(offline_since, "offline_since")
    back = epoch_or_datetime(online_at, "online_at")
    if back < since:
        raise QueryError("online_at is before offline_since", field="online_at")
    gone = tuple(
        e.id
        for e in store
        if e.profile.invalid_after_offline_duration
        and e.profile.max_offline_duration is not None
        and back - since > e.profile.max_offline_duration
    )
    return store.without(gone)


def _check_store(store: object) -> None:
    """A wrong type is a :class:`QueryError` naming the field, not a late crash."""
    if not isinstance(store, ProfileStore):
        raise QueryError(f"expected a ProfileStore, got {type(store).__name__}", field="store")

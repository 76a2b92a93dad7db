"""``balance --plan-at TIME --json FILE`` writes a plan record; ``--previous FILE`` reads it.

A re-plan must know what the piles hold: the limits of the plan sent before. The file that
``balance --plan-at --json`` wrote carries, besides the limits and payloads a person reads,
a versioned ``plan`` record (``docs/guides/load-balancing.md``, "Re-planning from the
command line") holding what that plan was computed from: the site as it was then, the
window, the slot length, the policy and the instant it was sent, and a digest of the
limits it gave. ``--previous`` balances that site again with those inputs, checks that the
limits reproduce the digest (the library is deterministic; an edited file or another
library version that plans differently is refused), and gives the result to
:func:`~ocpp_schedule.send_plan` as ``previous`` with ``only_changed``: the new plan sends
only the EVSEs whose limits changed, lowering before raising against what the piles hold.

Every problem with the file is a :class:`~ocpp_schedule.PlanFileError` naming the key, and
the file's size is checked against :data:`MAX_PLAN_FILE_BYTES` before it is read.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from ..errors import OcppScheduleError, PlanFileError
from ..site._allocation import Allocation, balance
from ..site._model import Site
from ..site._planning import Planner
from ..site._policies import Policy
from ..wire._timestamps import format_timestamp, from_epoch, parse_timestamp, to_epoch
from ._common import MAX_JSON_DEPTH, json_depth

__all__ = [
    "MAX_PLAN_FILE_BYTES",
    "PLAN_FORMAT",
    "PLAN_FORMAT_VERSION",
    "PreviousPlan",
    "limits_digest",
    "plan_record",
    "previous_allocation",
    "read_previous",
]

PLAN_FORMAT = "ocpp-schedule-plan"
"""The ``plan.format`` of a plan record."""
PLAN_FORMAT_VERSION = 1
"""The ``plan.version`` this library writes and reads."""
MAX_PLAN_FILE_BYTES = 256 * 2**20
"""The largest previous-plan file read (256 MiB: the limits table of 10,000 EVSEs over a day
of 15-minute slots is about 100 MB); checked on the file's size before reading it."""

_RECORD_KEYS = frozenset(
    {"format", "version", "site", "start", "duration", "resolution", "policy", "at", "digest"}
)
_FILE_KEYS = frozenset(
    {
        "site",
        "policy",
        "evses",
        "sessions",
        "send_plan",
        "send_plan_valid_until",
        "send_plan_resend_before",
        "send_plan_warnings",
        "send_plan_sent",
        "replan_of",
        "plan",
    }
)
"""The top-level keys ``balance --json`` writes; any other is refused (unknown fields are
errors)."""


@dataclass(frozen=True)
class PreviousPlan:
    """A plan record read back: what the previous plan was computed from."""

    site: Site
    start: int
    """The previous allocation's start (epoch seconds)."""
    duration: int
    resolution: int | None
    policy: str
    at: int
    """When the previous plan was sent (epoch seconds)."""
    digest: str


def limits_digest(evses: list[dict[str, Any]]) -> str:
    """SHA-256 of the limits table (``evses`` of the JSON output), canonically serialised."""
    text = json.dumps(evses, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def plan_record(
    site: Site,
    allocation: Allocation,
    resolution: int | None,
    policy: str,
    at: int,
    evses: list[dict[str, Any]],
) -> dict[str, Any]:
    """The versioned ``plan`` record of a plan sent at ``at`` (see the module's docstring)."""
    return {
        "format": PLAN_FORMAT,
        "version": PLAN_FORMAT_VERSION,
        "site": site.model_dump(mode="json"),
        "start": format_timestamp(from_epoch(allocation.start_epoch)),
        "duration": allocation.end_epoch - allocation.start_epoch,
        "resolution": resolution,
        "policy": policy,
        "at": format_timestamp(from_epoch(at)),
        "digest": limits_digest(evses),
    }


def read_previous(path: str, policies: Mapping[str, object]) -> PreviousPlan:
    """Read and check the plan record of ``path`` (every problem a :class:`PlanFileError`)."""
    data = _load(path)
    if not isinstance(data, dict):
        raise PlanFileError("is not a JSON object", field=path)
    unknown = sorted(set(data) - _FILE_KEYS)
    if unknown:
        raise PlanFileError(f"unknown key {unknown[0]!r}", field=unknown[0])
    record = data.get("plan")
    if record is None:
        raise PlanFileError(
            "the file has no plan record: write it with balance --plan-at TIME --json FILE",
            field="plan",
        )
    if not isinstance(record, dict):
        raise PlanFileError("must be an object", field="plan")
    return _record(record, policies)


def _load(path: str) -> object:
    """The file's JSON, its size and nesting bounded before parsing."""
    try:
        size = os.stat(path).st_size
        if size > MAX_PLAN_FILE_BYTES:
            raise PlanFileError(
                f"the file has {size} bytes; at most {MAX_PLAN_FILE_BYTES}",
                field=path,
                rule="MAX_PLAN_FILE_BYTES",
            )
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as exc:
        raise PlanFileError(f"cannot read it: {exc.strerror or exc}", field=path) from None
    except UnicodeDecodeError as exc:
        raise PlanFileError(f"not UTF-8 text (byte {exc.start})", field=path) from None
    if json_depth(text) > MAX_JSON_DEPTH:
        raise PlanFileError(f"nests deeper than {MAX_JSON_DEPTH}", field=path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanFileError(f"not JSON: {exc.msg} at line {exc.lineno}", field=path) from None
    except (ValueError, RecursionError) as exc:
        raise PlanFileError(f"not usable JSON: {exc}", field=path) from None


def _record(record: dict[str, Any], policies: Mapping[str, object]) -> PreviousPlan:
    """The record's fields, each checked and named on error."""
    unknown = sorted(set(record) - _RECORD_KEYS)
    if unknown:
        raise PlanFileError("unknown key", field=f"plan.{unknown[0]}")
    missing = sorted(_RECORD_KEYS - set(record))
    if missing:
        raise PlanFileError("missing", field=f"plan.{missing[0]}")
    if record["format"] != PLAN_FORMAT:
        raise PlanFileError(f"must be {PLAN_FORMAT!r}", field="plan.format")
    if record["version"] != PLAN_FORMAT_VERSION or type(record["version"]) is not int:
        raise PlanFileError(
            f"format version {record['version']!r} is not {PLAN_FORMAT_VERSION}, the one this "
            "library reads",
            field="plan.version",
        )
    policy = record["policy"]
    if not isinstance(policy, str) or policy not in policies:
        raise PlanFileError(f"must be one of {sorted(policies)}", field="plan.policy")
    digest = record["digest"]
    if not isinstance(digest, str) or len(digest) != 64:
        raise PlanFileError("must be a SHA-256 hex digest", field="plan.digest")
    return PreviousPlan(
        site=_site(record["site"]),
        start=_instant(record["start"], "plan.start"),
        duration=_whole(record["duration"], "plan.duration", positive=True),
        resolution=None
        if record["resolution"] is None
        else _whole(record["resolution"], "plan.resolution", positive=True),
        policy=policy,
        at=_instant(record["at"], "plan.at"),
        digest=digest,
    )


def _site(value: object) -> Site:
    try:
        return Site.model_validate(value)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ")
        raise PlanFileError(msg, field=f"plan.site.{loc}" if loc else "plan.site") from None


def _instant(value: object, field: str) -> int:
    if not isinstance(value, str):
        raise PlanFileError("must be an RFC 3339 timestamp", field=field)
    try:
        return to_epoch(parse_timestamp(value))
    except OcppScheduleError as exc:
        raise PlanFileError(exc.message, field=field) from None


def _whole(value: object, field: str, *, positive: bool) -> int:
    if type(value) is not int or (positive and value <= 0):
        raise PlanFileError("must be a positive whole number of seconds", field=field)
    return value


def previous_allocation(
    previous: PreviousPlan,
    site: Site,
    at: int,
    policies: Mapping[str, Callable[[], Policy | Planner]],
    evse_rows: Callable[[Allocation], list[dict[str, Any]]],
) -> Allocation:
    """The previous plan's allocation, balanced again from its record and checked against its
    digest; refused for another site or a new plan sent before the previous one."""
    if previous.site.name != site.name:
        raise PlanFileError(
            f"the previous plan is for site {previous.site.name!r}, not {site.name!r}",
            field="plan.site.name",
        )
    if at < previous.at:
        raise PlanFileError(
            "the previous plan was sent after --plan-at: a re-plan comes later",
            field="plan.at",
        )
    allocation = balance(
        previous.site,
        start=previous.start,
        duration=previous.duration,
        resolution=previous.resolution,
        policy=policies[previous.policy](),
    )
    if limits_digest(evse_rows(allocation)) != previous.digest:
        raise PlanFileError(
            "the recorded inputs no longer give the recorded limits (the file was edited, or "
            "written by a library version that plans differently)",
            field="plan.digest",
        )
    return allocation

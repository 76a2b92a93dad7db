"""GetCompositeSchedule answers of a computed composite: the payload and the readable table.

Thin, checked entry points over :meth:`CompositeSchedule.to_payload` and
:meth:`CompositeSchedule.explain`, whose wire format lives in
:mod:`ocpp_schedule.wire` (plain data in, JSON out).
"""

from __future__ import annotations

from typing import Any

from ..errors import QueryError
from ..wire._answers import rejected_composite_response
from ..wire._enums import OcppVersion
from ._composite import CompositeSchedule

__all__ = ["composite_response", "explain_table", "rejected_composite_response"]


def _schedule(schedule: object) -> CompositeSchedule:
    if not isinstance(schedule, CompositeSchedule):
        raise QueryError(
            f"expected a CompositeSchedule, got {type(schedule).__name__}", field="schedule"
        )
    return schedule


def composite_response(schedule: CompositeSchedule, version: OcppVersion | str) -> dict[str, Any]:
    """The GetCompositeSchedule response payload with status Accepted (see ``to_payload``)."""
    return _schedule(schedule).to_payload(version)


def explain_table(schedule: CompositeSchedule) -> str:
    """A fixed-width table: each period's window, limit, phases and what set it."""
    return _schedule(schedule).explain()

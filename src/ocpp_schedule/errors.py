"""The library's exception types.

Every public entry point either returns a value or raises one of these (or
pydantic's ``ValidationError`` where a payload is first read into a model).
Each error names the field it is about and the rule that was broken, so a
caller can log it or show it without guessing.
"""

from __future__ import annotations

from typing import Any


class OcppScheduleError(Exception):
    """Base class of every error this library raises on purpose."""

    def __init__(self, message: str, *, field: str | None = None, rule: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.rule = rule

    def __str__(self) -> str:
        where = f"{self.field}: " if self.field else ""
        why = f" ({self.rule})" if self.rule else ""
        return f"{where}{self.message}{why}"


class TimestampError(OcppScheduleError, ValueError):
    """A timestamp is malformed or carries no time-zone offset."""


class PayloadError(OcppScheduleError, ValueError):
    """A JSON payload is not the OCPP message it claims to be.

    When the error comes from a field of the wrong type, ``errors`` holds
    pydantic's structured error list; otherwise it is empty.
    """

    errors: list[Any]

    def __init__(self, message: str, *, field: str | None = None, rule: str | None = None):
        super().__init__(message, field=field, rule=rule)
        self.errors = []


class VersionError(OcppScheduleError, ValueError):
    """A payload cannot be written in, or read as, the requested OCPP version."""


class InvalidProfileError(OcppScheduleError, ValueError):
    """A charging profile is given to the engine that no station would have accepted."""


class QueryError(OcppScheduleError, ValueError):
    """A composite-schedule query is malformed (negative duration, unknown EVSE, ...)."""


class ConfigError(OcppScheduleError, ValueError):
    """A station configuration value is out of range."""


class PlanError(OcppScheduleError, ValueError):
    """A local-time plan is malformed: an unknown time zone, a bad window, an empty horizon."""


class AdaptationError(OcppScheduleError, ValueError):
    """No payload the station accepts is equivalent to the one given (``capabilities.adapt``).

    ``reason`` is the station's rejection reason code (``RejectionReason`` value)
    when the error comes from a rejection, else None.
    """

    reason: str | None = None


class SafetyError(OcppScheduleError, RuntimeError):
    """A computed site result would break a limit the library promises to hold.

    Raised by ``balance`` and ``send_plan`` (and what builds on them) when the
    post-condition check finds a circuit over a phase or power limit at some
    instant, a send-plan prefix that is unsafe, or an unsafe tail after a plan
    expires. The unsafe result is never returned. ``field`` names the circuit
    (or pile) and ``rule`` the limit that would be broken.
    """


class RemoteStartError(OcppScheduleError, ValueError):
    """A RequestStartTransaction / RemoteStartTransaction cannot be built as asked.

    Raised by ``build_remote_start`` (the CSMS side) for a profile that is not a
    TxProfile (F01.FR.09; 1.6 §5.11) or that names a transaction (F01.FR.11; 1.6
    errata), and for request fields the version does not have or requires.
    """


class ExternalLimitError(OcppScheduleError, ValueError):
    """An external charging limit (K11-K13, K27) that no station may impose or report.

    A ``chargingLimitSource`` of ``CSO`` (K11.FR.05, K12.FR.04), a LocalGeneration limit from
    another source than EMS or Other (K27.FR.03), an external limit without exactly one
    schedule to install, or no free profile id left for the station's own profile.
    """


class UnknownTransactionError(QueryError):
    """A message names a transaction that the station's (or the CSMS's view of its) state
    does not hold (NotifyPriorityCharging, NotifyAllowedEnergyTransfer on the CSMS side)."""


class PlanFileError(OcppScheduleError, ValueError):
    """A previous-plan file (``balance --plan-at --json``'s output, read back with
    ``--previous``) is not usable: too large, not JSON, not a plan record of a known format
    version, a field of the wrong type or unknown, another site, a later plan, or limits
    the recorded inputs no longer reproduce. ``field`` names the offending key."""

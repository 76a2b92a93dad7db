"""The package's layout: layering contracts hold, and the public names stay importable.

``lint-imports`` (run by ``.ci/run``) checks the contracts in ``pyproject.toml``; this test
runs the same check so a local ``pytest`` catches an upward import or a cycle too.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import ocpp_schedule

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "ocpp_schedule"

PUBLIC_NAMES = {
    # 2.1 Dynamic profiles and offline validity (issue 14)
    "ChargingScheduleUpdate", "DynamicUpdatesDue", "UpdateDynamicScheduleRequest",
    "UpdateDynamicScheduleResult", "drop_invalid_after_offline", "dynamic_updates_due",
    "update_dynamic_schedule",
    # the CSMS mirror (issue 15)
    "StationMirror", "MirrorUpdate",
    # until when a limit holds (issue 15)
    "LimitHold", "next_change",
    # public timestamp helpers (issue 15)
    "format_timestamp", "parse_timestamp",
    # configuration discovery (issue 15)
    "ConfigProblem", "DiscoveredConfig", "config_from_device_model",
    "config_from_get_configuration",
    # models and enumerations (wire)
    "ChargingProfile", "ChargingSchedule", "ChargingSchedulePeriod", "LimitAtSoC",
    "SetChargingProfileRequest", "ChargingLimitSource", "ChargingProfileKind",
    "ChargingProfilePurpose", "ChargingRateUnit", "OcppVersion", "OperationMode",
    "RecurrencyKind", "detect_version", "read_charging_profile", "read_set_charging_profile",
    "write_charging_profile", "write_set_charging_profile",
    # the station
    "StationConfig", "StationState", "Transaction", "InstalledProfile", "ProfileStore",
    "ChargingProfileCriteria", "RejectionReason", "SetChargingProfileResult",
    "check_set_charging_profile", "install", "install_local", "replay",
    "ClearChargingProfileRequest", "ClearChargingProfileResult", "clear",
    "StationCapabilities", "Adaptation", "adapt", "round_limits",
    "OCPP16_DEFAULTS", "OCPP201_DEFAULTS", "OCPP21_DEFAULTS",
    # the engine
    "CompositePeriod", "CompositeSchedule", "LimitSource", "ProfilePeriod", "V2xFields",
    "composite_schedule", "expand_profile", "limit_at", "station_composites",
    # the site
    "Site", "Circuit", "Pile", "Evse", "Session", "LimitStep", "load_site", "balance",
    "Allocation", "EqualShare", "Weighted", "DeadlineAware", "send_plan", "SendPlan", "site_report",
    "SiteReport", "SessionOutcome", "session_outcomes", "LimitsAt", "limits_at",
    "ExactOptimiser",
    "control", "ControlResult", "ControlError", "EvseMeasurement", "SiteState", "MeasurementFlag",
    "SessionControl", "simulate", "SimulationResult", "SimulatedSession", "VehicleModel",
    "LimitViolation", "StepRecord",
    # tools
    "LocalTimePlan", "LocalWindow", "PlannedProfiles", "Weekday", "EVERY_DAY", "WEEKDAYS",
    "WEEKEND", "plan_profiles", "DriftFinding", "DriftReport", "ReportedSchedule",
    "check_drift", "read_composite_response",
    # errors
    "OcppScheduleError", "PayloadError", "TimestampError", "VersionError",
    "InvalidProfileError", "QueryError", "ConfigError", "PlanError", "AdaptationError",
    "SafetyError", "SiteError", "SendPlanError", "PlotUnavailable", "MissingExtraError",
    "OptimiserUnavailable",
    # RequestStartTransaction / RemoteStartTransaction with a profile (issue 14 item 6)
    "RemoteStartReason", "RemoteStartResult", "RemoteStartTransactionRequest",
    "RequestStartTransactionRequest", "build_remote_start", "check_remote_start",
    "install_remote_start", "read_remote_start_transaction", "read_request_start_transaction",
    "write_remote_start_transaction", "write_request_start_transaction", "RemoteStartError",
    "__version__",
    # external limits, priority charging, allowed energy transfer (issue 14 item 6)
    "ChargingLimit", "ClearedChargingLimitRequest", "ExternalLimitError", "ExternalLimitRelease",
    "ExternalLimitResult", "NotifyChargingLimitRequest", "UnknownTransactionError",
    "apply_cleared_charging_limit", "apply_notify_charging_limit", "external_profile_id",
    "impose_external_limit", "read_cleared_charging_limit", "read_notify_charging_limit",
    "release_external_limit", "write_cleared_charging_limit", "write_notify_charging_limit",
    "NotifyPriorityChargingRequest", "PriorityChargingResult", "UsePriorityChargingRequest",
    "apply_notify_priority_charging", "has_priority_profile", "read_notify_priority_charging",
    "read_use_priority_charging", "request_priority_charging_locally", "use_priority_charging",
    "write_notify_priority_charging", "write_use_priority_charging",
    "DischargingPeriod", "EnergyTransferMode", "NotifyAllowedEnergyTransferRequest",
    "NotifyAllowedEnergyTransferResult", "discharging_periods", "notify_allowed_energy_transfer",
    "read_notify_allowed_energy_transfer", "without_discharge",
    "write_notify_allowed_energy_transfer",
    "PlanFileError",
}  # fmt: skip


def test_the_public_names_are_pinned() -> None:
    """Every name users import from ``ocpp_schedule`` stays there (a removal is a break)."""
    assert set(ocpp_schedule.__all__) == PUBLIC_NAMES
    for name in PUBLIC_NAMES:
        assert getattr(ocpp_schedule, name) is not None


def test_every_error_class_is_a_library_error_or_documented_builtin() -> None:
    for name in PUBLIC_NAMES:
        obj = getattr(ocpp_schedule, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, ocpp_schedule.OcppScheduleError) or name == "MissingExtraError"


def test_only_the_package_face_sits_at_the_top() -> None:
    top = {p.name for p in PACKAGE.iterdir() if p.is_file()}
    assert top == {"__init__.py", "__main__.py", "errors.py", "py.typed"}
    rooms = {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert rooms == {"wire", "station", "engine", "site", "tools", "cli"}


@pytest.mark.parametrize("room", ["wire", "station", "engine", "site", "tools", "cli"])
def test_each_room_says_what_it_is_for_and_hides_its_modules(room: str) -> None:
    package = importlib.import_module(f"ocpp_schedule.{room}")
    assert package.__doc__ and len(package.__doc__) > 80
    public_modules = {"fleet", "adapters"}  # documented as public modules
    for path in (PACKAGE / room).glob("*.py"):
        assert (
            path.name == "__init__.py" or path.stem.startswith("_") or (path.stem in public_modules)
        ), f"{path} should be private (a leading underscore) or documented as public"
    for name in package.__all__:
        assert getattr(package, name) is not None


@pytest.mark.skipif(shutil.which("lint-imports") is None, reason="import-linter not installed")
def test_layering_contracts_hold() -> None:
    """wire <- station <- engine <- site | tools <- cli, errors at the bottom, no cycles."""
    result = subprocess.run(
        [shutil.which("lint-imports") or "lint-imports", "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": str(Path(sys.executable).parent)},
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "3 kept, 0 broken" in result.stdout


def test_the_flat_module_paths_of_0_1_still_import() -> None:
    """``from ocpp_schedule.allocation import balance`` and the like keep working (aliases)."""
    for old, new in ocpp_schedule.MOVED_MODULES.items():
        module = importlib.import_module(f"ocpp_schedule.{old}")
        assert module is importlib.import_module(f"ocpp_schedule.{new}")
    from ocpp_schedule.allocation import balance
    from ocpp_schedule.responses import composite_response, rejected_composite_response
    from ocpp_schedule.store import StationState
    from ocpp_schedule.timelines import pile_store, session_transaction

    assert balance is ocpp_schedule.balance and StationState is ocpp_schedule.StationState
    assert callable(composite_response) and callable(rejected_composite_response)
    assert callable(pile_store) and callable(session_transaction)


def test_importing_the_package_loads_no_site_tools_cli_fleet_or_station_messages() -> None:
    """issue 15 item 7: what the hot path does not need loads on first use. Counted in a
    fresh interpreter (modules loaded, not time; tests/test_import_time.py bounds the rest).
    Of the station, only the configuration and the profile store load with the package."""
    code = (
        "import sys, ocpp_schedule as o\n"
        "heavy = sorted(m for m in sys.modules if m.startswith(('ocpp_schedule.site',"
        " 'ocpp_schedule.tools', 'ocpp_schedule.cli', 'ocpp_schedule.engine.fleet',"
        " 'ocpp_schedule.engine._service', 'ocpp_schedule.station._')))\n"
        "heavy = [m for m in heavy if m not in"
        " ('ocpp_schedule.station._config', 'ocpp_schedule.station._store')]\n"
        "assert not heavy, heavy\n"
        "assert o.balance.__module__.startswith('ocpp_schedule.site')\n"
        "assert 'ocpp_schedule.site' in sys.modules\n"
        "assert 'balance' in dir(o) and 'install' in dir(o)\n"
        "assert o.install.__module__ == 'ocpp_schedule.station._rules'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]

"""The command line: validate and composite, their outputs and their errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ocpp_schedule.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "requests-1.6.json"
TX = ["--transaction-id", "1", "--transaction-start", "2024-01-01T08:00:00Z"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path: Path, data: Any, name: str = "r.json") -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def test_validate_example_mixes_valid_invalid_and_replacing(capsys) -> None:
    code, out, err = run(capsys, "validate", str(EXAMPLE), *TX)
    assert code == 0
    assert err == ""
    lines = out.splitlines()
    assert lines[:4] == ["Accepted"] * 4  # the 4th replaces the 2nd (same level and purpose)
    assert lines[4].startswith("Rejected: FirstPeriodNotZero (OCPP 1.6 §7.13)")
    assert lines[5].startswith("Rejected: MaxProfileNotOnStation")
    assert lines[6].startswith("Rejected: UnknownTransaction")
    assert lines[7].startswith("Rejected: MissingRecurrencyKind")
    assert len(lines) == 8


def test_validate_without_transaction_rejects_tx_profile(capsys) -> None:
    code, out, _ = run(capsys, "validate", str(EXAMPLE))
    assert code == 0
    assert out.splitlines()[2].startswith("Rejected: NoActiveTransaction (OCPP 1.6 §3.13.1)")


V201 = [
    {
        "evseId": 0,
        "chargingProfile": {
            "id": 10,
            "stackLevel": 0,
            "chargingProfilePurpose": "ChargingStationMaxProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": [
                {
                    "id": 1,
                    "startSchedule": "2024-01-01T00:00:00Z",
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 40.0}],
                }
            ],
        },
    },
    {
        "evseId": 0,
        "chargingProfile": {
            "id": 11,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": [
                {
                    "id": 1,
                    "startSchedule": "2024-01-01T00:00:00Z",
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [
                        {"startPeriod": 0, "limit": 32.0},
                        {"startPeriod": 1800, "limit": 16.0},
                    ],
                }
            ],
        },
    },
    {
        "evseId": 1,
        "chargingProfile": {
            "id": 12,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": [
                {
                    "id": 1,
                    "startSchedule": "2024-01-01T00:00:00Z",
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 8.0}],
                }
            ],
        },
    },
    {
        "evseId": 0,
        "chargingProfile": {
            "id": -1,
            "stackLevel": 0,
            "chargingProfilePurpose": "ChargingStationExternalConstraints",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": [
                {
                    "id": 1,
                    "startSchedule": "2024-01-01T00:30:00Z",
                    "chargingRateUnit": "W",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 13800.0}],
                }
            ],
        },
    },
]


def test_validate_v201_rejects_duplicate_and_external_constraints(capsys, tmp_path) -> None:
    code, out, _ = run(capsys, "validate", write(tmp_path, V201))
    assert code == 0
    lines = out.splitlines()
    assert lines[:2] == ["Accepted", "Accepted"]
    assert lines[2].startswith("Rejected: DuplicateTxDefaultOnEvse (K01.FR.53)")
    assert lines[3].startswith("Rejected: PurposeSetLocallyOnly (K01.FR.22)")


def test_composite_v16_json(capsys) -> None:
    code, out, err = run(
        capsys,
        "composite",
        str(EXAMPLE),
        "--evse",
        "1",
        "--start",
        "2024-01-01T00:00:00Z",
        "--duration",
        "86400",
        *TX,
    )
    assert code == 0
    assert "request 5 skipped: Rejected: FirstPeriodNotZero" in err
    answer = json.loads(out)
    assert answer == {
        "status": "Accepted",
        "connectorId": 1,
        "scheduleStart": "2024-01-01T00:00:00Z",
        "chargingSchedule": {
            "duration": 86400,
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [
                # 22 000 W / 690 = 31.88 -> 31.8 (station max) under the 32 A default
                {"startPeriod": 0, "limit": 31.8, "numberPhases": 3},
                # 07:00 TxDefault (profile 4, which replaced profile 2) drops to 16 A
                {"startPeriod": 25200, "limit": 16.0, "numberPhases": 3},
                # 08:00 the transaction's TxProfile: 10 A, then 20 A on one phase
                {"startPeriod": 28800, "limit": 10.0, "numberPhases": 3},
                {"startPeriod": 32400, "limit": 20.0, "numberPhases": 1},
            ],
        },
    }


def test_composite_explain_names_the_profiles(capsys) -> None:
    code, out, _ = run(
        capsys,
        "composite",
        str(EXAMPLE),
        "--evse",
        "1",
        "--start",
        "2024-01-01T00:00:00Z",
        "--duration",
        "86400",
        *TX,
        "--explain",
    )
    assert code == 0
    assert "profile 1 (ChargePointMaxProfile, stack 0, EVSE 0)" in out
    assert "profile 3 (TxProfile, stack 1, EVSE 1)" in out
    assert "31.8" in out


def test_composite_v201_station_total_with_external_constraints(capsys, tmp_path) -> None:
    path = write(tmp_path, V201)
    code, out, err = run(
        capsys,
        "composite",
        path,
        "--evse",
        "0",
        "--start",
        "2024-01-01T00:00:00Z",
        "--duration",
        "3600",
        "--evses",
        "2",
    )
    assert code == 0
    assert "request 3 skipped" in err  # K01.FR.53 duplicate
    schedule = json.loads(out)["schedule"]
    assert schedule["evseId"] == 0 and schedule["chargingRateUnit"] == "A"
    # EVSE 1 and 2: 32 A each (TxDefault on EVSE 0) under the 40 A station max; sum 64 -> 40.
    # From 00:30 the external constraint (13 800 W = 20 A) caps each EVSE and the total;
    # each EVSE's TxDefault is 16 A by then: sum 32 -> 20.
    assert schedule["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 40.0, "numberPhases": 3},
        {"startPeriod": 1800, "limit": 20.0, "numberPhases": 3},
    ]


def test_composite_unknown_evse_answers_rejected(capsys, tmp_path) -> None:
    code, out, err = run(
        capsys,
        "composite",
        write(tmp_path, V201[:2]),
        "--evse",
        "3",
        "--start",
        "2024-01-01T00:00:00Z",
        "--duration",
        "60",
        "--evses",
        "2",
    )
    assert code == 0
    assert json.loads(out) == {"status": "Rejected", "statusInfo": {"reasonCode": "UnknownEVSE"}}
    assert "no EVSE 3" in err


def test_composite_options_voltage_phases_default_limit(capsys, tmp_path) -> None:
    code, out, _ = run(
        capsys,
        "composite",
        write(tmp_path, []),
        "--evse",
        "1",
        "--start",
        "2024-01-01T00:00:00Z",
        "--duration",
        "60",
        "--unit",
        "W",
        "--default-limit",
        "7400",
        "--ocpp",
        "2.0.1",
    )
    assert code == 0
    assert json.loads(out)["schedule"]["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 7400.0, "numberPhases": 3}
    ]
    body = [
        {
            "connectorId": 1,
            "csChargingProfiles": {
                "chargingProfileId": 1,
                "stackLevel": 0,
                "chargingProfilePurpose": "TxDefaultProfile",
                "chargingProfileKind": "Absolute",
                "chargingSchedule": {
                    "startSchedule": "2024-01-01T00:00:00Z",
                    "chargingRateUnit": "W",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7200.0}],
                },
            },
        }
    ]
    code, out, _ = run(
        capsys,
        "composite",
        write(tmp_path, body),
        "--evse",
        "1",
        "--start",
        "2024-01-01T00:00:00Z",
        "--duration",
        "60",
        "--voltage",
        "120",
        "--phases",
        "2",
    )
    assert code == 0  # 7200 W / (120 V x 2) = 30 A
    assert json.loads(out)["chargingSchedule"]["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 30.0, "numberPhases": 2}
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[1", "is not JSON"),
        ('{"connectorId": 1}', "expected a JSON array"),
        ('"text"', "is not a JSON array"),
        ('[{"foo": 1}]', "request 1: not a SetChargingProfile request"),
        ("[42]", "request 1: a SetChargingProfile request is a JSON object"),
        (
            json.dumps(
                [
                    {
                        "connectorId": 1,
                        "csChargingProfiles": {
                            "chargingProfileId": 1,
                            "stackLevel": 0,
                            "chargingProfilePurpose": "TxDefaultProfile",
                            "chargingProfileKind": "Absolute",
                            "chargingSchedule": {
                                "startSchedule": "2024-01-01T00:00:00",
                                "chargingRateUnit": "A",
                                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 1}],
                            },
                        },
                    }
                ]
            ),
            "csChargingProfiles.chargingSchedule.startSchedule: timestamp",
        ),
        (json.dumps([V201[0], {"connectorId": 1, "csChargingProfiles": {}}]), "mixes OCPP 1.6"),
    ],
)
def test_bad_files_exit_2_with_one_line(capsys, tmp_path, content, message) -> None:
    for command in (["validate"], ["composite"]):
        extra = (
            []
            if command == ["validate"]
            else ["--evse", "1", "--start", "2024-01-01T00:00:00Z", "--duration", "60"]
        )
        code, out, err = run(capsys, *command, write(tmp_path, content), *extra)
        assert code == 2
        assert out == ""
        assert message in err
        assert err.count("\n") == 1
        assert "Traceback" not in err


def test_bad_options_exit_2(capsys, tmp_path) -> None:
    path = write(tmp_path, [])
    cases = [
        ["validate", str(tmp_path / "missing.json")],
        ["validate", path, "--transaction-id", "1"],
        ["validate", path, "--transaction-id", "1", "--transaction-start", "2024-01-01T00:00:00"],
        ["composite", path, "--evse", "1", "--start", "yesterday", "--duration", "60"],
        ["composite", path, "--evse", "1", "--start", "2024-01-01T00:00:00Z", "--duration", "-1"],
        [
            "composite",
            path,
            "--evse",
            "1",
            "--start",
            "2024-01-01T00:00:00Z",
            "--duration",
            "60",
            "--voltage",
            "0",
        ],
    ]
    for argv in cases:
        code, _, err = run(capsys, *argv)
        assert code == 2, argv
        assert err.startswith("ocpp-schedule: error: ")
        assert "Traceback" not in err


def test_python_dash_m_runs_the_cli() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ocpp_schedule", "validate", str(EXAMPLE), *TX],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0
    assert proc.stdout.splitlines()[0] == "Accepted"


@pytest.mark.parametrize(
    "argv",
    [
        [
            "composite",
            "x.json",
            "--evse",
            "1",
            "--start",
            "2024-01-01T00:00:00Z",
            "--duration",
            "x",
        ],
        ["nope"],
        ["validate"],
        ["check", "a.json", "b.json", "--tolerance", "abc"],
    ],
)
def test_usage_errors_are_one_line(capsys, argv) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "error:" in err and "--help" in err


def test_control_characters_stay_on_one_line(capsys, tmp_path) -> None:
    path = write(tmp_path, [{"evseId": None, "\n": None}])
    code, _, err = run(capsys, "validate", path)
    assert code == 2 and err.count("\n") == 1 and "\\n" in err


# ----------------------------------------------------- issue 11: hostile files and options

COMPOSITE = ["--evse", "1", "--start", "2024-01-01T00:00:00Z", "--duration", "60"]
W_REQUEST = [
    {
        "connectorId": 1,
        "csChargingProfiles": {
            "chargingProfileId": 1,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": {
                "startSchedule": "2024-01-01T00:00:00Z",
                "chargingRateUnit": "W",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11040}],
            },
        },
    }
]


def _one_line_exit_2(code: int, out: str, err: str) -> None:
    assert code == 2, err
    assert err.startswith("ocpp-schedule: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err


def _every_subcommand(path: str) -> list[list[str]]:
    reported = path
    return [
        ["validate", path],
        ["composite", path, *COMPOSITE],
        ["check", path, reported],
        ["balance", path, "--start", "2024-01-01T00:00:00Z"],
        ["report", path, "--start", "2024-01-01T00:00:00Z"],
    ]


@pytest.mark.parametrize(
    ("content", "what"),
    [
        ("[" * 100_000 + "]" * 100_000, "deep JSON array (F18)"),
        ('{"a":' * 50_000 + "1" + "}" * 50_000, "deep JSON object (F18)"),
        ('[{"connectorId": 1, "x": "\xff\xfe"}]'.encode("latin-1"), "not UTF-8 (F23)"),
        (b"\xef\xbb\xbf[]\xc3", "truncated UTF-8 (F23)"),
        ("[" + "9" * 5000 + "]", "an integer of 5000 digits"),
        ("a = " + "[" * 5000 + "]" * 5000 + "\n", "deep TOML (F18)"),
    ],
)
def test_hostile_files_exit_2_with_one_line_in_every_subcommand(
    capsys, tmp_path, content: str | bytes, what: str
) -> None:
    """F18a, F23: deeply nested JSON/TOML, text that is not UTF-8 and huge numbers are bad
    input in every subcommand: exit 2 and one line, never a RecursionError or
    UnicodeDecodeError traceback (``check`` must not exit 1, its 'differs' status)."""
    path = tmp_path / ("in.toml" if "TOML" in what else "in.json")
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    for argv in _every_subcommand(str(path)):
        _one_line_exit_2(*run(capsys, *argv))


def test_json_depth_is_counted_without_recursion() -> None:
    """F18a: the nesting check is a linear scan that skips brackets inside strings."""
    from ocpp_schedule.cli._common import MAX_JSON_DEPTH, json_depth

    assert json_depth('[{"a": "[[[[\\"[["}]') == 2
    assert json_depth("[" * 10**6) == 10**6
    assert MAX_JSON_DEPTH >= 16  # real payloads (customData included) nest less deep


@pytest.mark.parametrize(
    "option",
    [
        ["--default-limit", "inf"],
        ["--default-limit", "1e308"],
        ["--default-limit", "nan"],
        ["--default-limit", "-1"],
        ["--voltage", "inf"],
        ["--voltage", "1e-300"],
        ["--voltage", "1e-320"],
        ["--voltage", "nan"],
        ["--voltage", "0"],
        ["--evses", "1000000000"],
        ["--evses", "0"],
        ["--phases", "4"],
    ],
)
def test_numeric_options_are_checked_before_anything_is_built(
    capsys, tmp_path, monkeypatch, option: list[str]
) -> None:
    """F13 (CLI): --default-limit, --voltage and --evses must be finite and within their
    documented ranges; they are checked before any file is read or configuration built."""
    import ocpp_schedule.cli._common as common

    def no_reading(path: str) -> Any:
        raise AssertionError("a file was read before the options were checked")

    monkeypatch.setattr(common, "load_json", no_reading)
    path = write(tmp_path, W_REQUEST)
    for argv in (["composite", path, *COMPOSITE, *option], ["validate", path, *option]):
        if argv[0] == "validate" and option[0] not in ("--evses",):
            continue
        _one_line_exit_2(*run(capsys, *argv))


def test_engine_never_reads_an_overflow_as_no_limit() -> None:
    """F13: a configuration whose voltage would overflow A/W conversions is refused by the
    engine itself (QueryError), not answered with the default limit."""
    from ocpp_schedule import QueryError, StationConfig, composite_schedule
    from ocpp_schedule.engine._composite import ENGINE_VOLTAGE_RANGE
    from ocpp_schedule.station import InstalledProfile
    from ocpp_schedule.wire import read_set_charging_profile

    profile = read_set_charging_profile(W_REQUEST[0], "1.6").charging_profile
    low, high = ENGINE_VOLTAGE_RANGE
    for voltage in (1e-320, 1e-300, low / 2, high * 2, float("inf")):
        try:
            config = StationConfig(supply_voltage=voltage)
        except Exception:  # the configuration may refuse it first (ConfigError)
            continue
        with pytest.raises(QueryError, match="supply voltage"):
            composite_schedule(
                [InstalledProfile(1, profile)], evse_id=1, start=0, duration=60, config=config
            )


@pytest.mark.parametrize(
    "limit",
    ["1" + "0" * 340, "1e400", "-1e400", "1000000001", "1e10", "-2e9"],
)
def test_check_refuses_a_reported_limit_beyond_the_bound(capsys, tmp_path, limit: str) -> None:
    """F15: a reported limit beyond the documented 10^9 bound (a huge JSON integer, or a float
    that overflows to infinity) is bad input: exit 2 with one line, never a traceback and
    never exit 1 ('differs')."""
    requests = write(tmp_path, W_REQUEST)
    reported = (
        '{"status": "Accepted", "connectorId": 1, "scheduleStart": "2024-01-01T00:00:00Z", '
        '"chargingSchedule": {"duration": 60, "chargingRateUnit": "W", '
        f'"chargingSchedulePeriod": [{{"startPeriod": 0, "limit": {limit}}}]}}}}'
    )
    code, out, err = run(capsys, "check", requests, write(tmp_path, reported, "rep.json"))
    _one_line_exit_2(code, out, err)
    assert "limit" in err

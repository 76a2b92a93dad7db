"""Drift check (drift.py, cli_check.py): a station's composite against the library's prediction.

An exact copy of the predicted answer must agree; a planted one-period difference must
be found, with its window, its size and the profile that should govern there, in OCPP
1.6 and 2.0.1, through the function and the command line.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies_engine import single_evse_cases

from ocpp_schedule import (
    OcppVersion,
    PayloadError,
    StationConfig,
    Transaction,
    composite_schedule,
)
from ocpp_schedule.cli import main
from ocpp_schedule.tools import (
    DEFAULT_TOLERANCE,
    ReportedSchedule,
    check_drift,
    compare,
    read_composite_response,
)
from ocpp_schedule.wire import parse_timestamp

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_16 = ROOT / "examples" / "requests-1.6.json"
TX16 = Transaction("1", 1, parse_timestamp("2024-01-01T08:00:00Z"))
START = "2024-01-02T00:00:00Z"
START16 = "2024-01-01T00:00:00Z"  # the example's transaction starts at 08:00 that day


def v201_requests() -> list[dict[str, Any]]:
    """A TxDefault of 32 A with 16 A from 17:00 to 21:00 UTC daily, under a 40 A station max."""
    return [
        {
            "evseId": 0,
            "chargingProfile": {
                "id": 1,
                "stackLevel": 0,
                "chargingProfilePurpose": "TxDefaultProfile",
                "chargingProfileKind": "Recurring",
                "recurrencyKind": "Daily",
                "chargingSchedule": [
                    {
                        "id": 1,
                        "startSchedule": "2024-01-01T00:00:00Z",
                        "chargingRateUnit": "A",
                        "chargingSchedulePeriod": [
                            {"startPeriod": 0, "limit": 32.0},
                            {"startPeriod": 61200, "limit": 16.0},
                            {"startPeriod": 75600, "limit": 32.0},
                        ],
                    }
                ],
            },
        },
        {
            "evseId": 0,
            "chargingProfile": {
                "id": 2,
                "stackLevel": 0,
                "chargingProfilePurpose": "ChargingStationMaxProfile",
                "chargingProfileKind": "Absolute",
                "chargingSchedule": [
                    {
                        "id": 1,
                        "startSchedule": "2024-01-02T00:00:00Z",
                        "chargingRateUnit": "A",
                        "chargingSchedulePeriod": [
                            {"startPeriod": 0, "limit": 40.0},
                            {"startPeriod": 64800, "limit": 10.0, "numberPhases": 1},
                            {"startPeriod": 68400, "limit": 40.0},
                        ],
                    }
                ],
            },
        },
    ]


def predicted_payload(version: str, **kw: Any) -> dict[str, Any]:
    """The library's own answer for EVSE 1 over a day (the report a faithful station gives)."""
    requests = v201_requests() if version != "1.6" else json.loads(EXAMPLE_16.read_text())
    report = check_drift(
        requests,
        {
            "status": "Accepted",
            "schedule": {
                "evseId": 1,
                "duration": 86_400,
                "scheduleStart": START,
                "chargingRateUnit": kw.get("unit", "A"),
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 0.0}],
            },
        }
        if version != "1.6"
        else {
            "status": "Accepted",
            "connectorId": 1,
            "scheduleStart": START16,
            "chargingSchedule": {
                "duration": 86_400,
                "chargingRateUnit": kw.get("unit", "A"),
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 0.0}],
            },
        },
        transactions=[TX16] if version == "1.6" else [],
    )
    assert report.predicted is not None
    return report.predicted.to_payload(version)


def periods_of(payload: dict[str, Any]) -> list[dict[str, Any]]:
    inner = payload["schedule"] if "schedule" in payload else payload["chargingSchedule"]
    result: list[dict[str, Any]] = inner["chargingSchedulePeriod"]
    return result


# ----------------------------------------------------------------- the function


@pytest.mark.parametrize("version", ["2.0.1", "1.6"])
def test_an_exact_copy_agrees(version: str) -> None:
    requests = v201_requests() if version == "2.0.1" else json.loads(EXAMPLE_16.read_text())
    reported = predicted_payload(version)
    assert len(periods_of(reported)) >= 3  # a schedule worth comparing
    report = check_drift(requests, reported, transactions=[TX16] if version == "1.6" else [])
    assert report.agrees
    assert report.findings == ()
    assert "agrees" in report.summary()


def test_a_planted_one_period_difference_is_found_201() -> None:
    reported = predicted_payload("2.0.1")
    periods = periods_of(reported)
    assert [(p["startPeriod"], p["limit"], p["numberPhases"]) for p in periods] == [
        (0, 32.0, 3),
        (61200, 16.0, 3),
        (64800, 10.0, 1),
        (68400, 16.0, 3),
        (75600, 32.0, 3),
    ]
    periods[3]["limit"] = 20.0  # 19:00-21:00: the station allows 20 A instead of 16 A
    report = check_drift(v201_requests(), reported)
    assert not report.agrees
    (finding,) = report.findings
    assert finding.kind == "limit"
    assert (finding.start_period, finding.end_period) == (68400, 75600)
    assert finding.start_time == parse_timestamp("2024-01-02T19:00:00Z")
    assert finding.end_time == parse_timestamp("2024-01-02T21:00:00Z")
    assert (finding.expected_limit, finding.reported_limit, finding.difference) == (16.0, 20.0, 4.0)
    assert [s.profile_id for s in finding.governed_by] == [1]
    assert "profile 1 (TxDefaultProfile, stack 0, EVSE 0)" in str(finding)
    assert "1 difference" in report.summary()


def test_a_planted_one_period_difference_is_found_16() -> None:
    reported = predicted_payload("1.6")
    periods = periods_of(reported)
    periods[1]["limit"] = periods[1]["limit"] + 3.0
    requests = json.loads(EXAMPLE_16.read_text())
    report = check_drift(requests, reported, transactions=[TX16])
    (finding,) = report.findings
    assert finding.start_period == periods[1]["startPeriod"]
    assert finding.end_period == periods[2]["startPeriod"]
    assert finding.difference == pytest.approx(3.0)
    assert finding.governed_by  # the profile(s) the library says set it
    assert all(s.kind == "profile" for s in finding.governed_by)
    # the example holds requests a station rejects: they are reported, not predicted
    assert [i for i, _ in report.skipped] == [5, 6, 7, 8]


def test_phases_differ_and_an_absent_number_of_phases_is_not_compared() -> None:
    reported = predicted_payload("2.0.1")
    periods = periods_of(reported)
    periods[2]["numberPhases"] = 3  # the 1-phase cap reported on 3 phases
    for p in periods[3:]:
        del p["numberPhases"]
    report = check_drift(v201_requests(), reported)
    (finding,) = report.findings
    assert finding.kind == "phases"
    assert (finding.expected_phases, finding.reported_phases) == (1, 3)
    assert [s.profile_id for s in finding.governed_by] == [2]
    periods[2]["limit"] = 12.0
    (both,) = check_drift(v201_requests(), reported).findings
    assert both.kind == "limit+phases"


def test_tolerance() -> None:
    reported = predicted_payload("2.0.1")
    periods_of(reported)[0]["limit"] = 32.1
    assert DEFAULT_TOLERANCE == 0.1
    assert check_drift(v201_requests(), reported).agrees
    assert not check_drift(v201_requests(), reported, tolerance=0.05).agrees
    periods_of(reported)[0]["limit"] = 32.2
    assert not check_drift(v201_requests(), reported).agrees


def test_periods_are_compared_by_instant_not_by_list() -> None:
    reported = predicted_payload("2.0.1")
    periods = periods_of(reported)
    # a station that does not merge equal neighbours: the same schedule in more periods
    periods.insert(1, {"startPeriod": 3600, "limit": 32.0, "numberPhases": 3})
    assert check_drift(v201_requests(), reported).agrees


def test_neighbouring_stretches_that_differ_alike_form_one_finding() -> None:
    reported = predicted_payload("2.0.1")
    periods_of(reported)[:] = [{"startPeriod": 0, "limit": 32.0, "numberPhases": 3}]
    findings = check_drift(v201_requests(), reported).findings
    assert [(f.start_period, f.end_period, f.expected_limit, f.kind) for f in findings] == [
        (61200, 64800, 16.0, "limit"),
        (64800, 68400, 10.0, "limit+phases"),
        (68400, 75600, 16.0, "limit"),
    ]


def test_a_report_that_starts_late_is_missing_its_head() -> None:
    reported = predicted_payload("2.0.1")
    periods_of(reported)[0]["startPeriod"] = 600
    (finding,) = check_drift(v201_requests(), reported).findings
    assert (finding.kind, finding.start_period, finding.end_period) == ("missing", 0, 600)
    assert "no period reported" in str(finding)


def test_a_rejected_report_is_a_difference() -> None:
    rejected = {"status": "Rejected", "statusInfo": {"reasonCode": "UnknownEVSE"}}
    report = check_drift(v201_requests(), rejected)
    assert not report.agrees
    (finding,) = report.findings
    assert finding.kind == "rejected"
    assert "UnknownEVSE" in str(finding)
    assert report.predicted is None
    assert check_drift(json.loads(EXAMPLE_16.read_text()), {"status": "Rejected"}).findings


def test_a_report_for_an_evse_the_station_lacks() -> None:
    reported = predicted_payload("2.0.1")
    reported["schedule"]["evseId"] = 4
    report = check_drift(v201_requests(), reported, config=StationConfig.with_evses(2))
    (finding,) = report.findings
    assert finding.kind == "unknown-evse"
    assert "K08.FR.05" in str(finding)


def test_the_station_total_names_the_sum_and_the_cap() -> None:
    report = check_drift(
        v201_requests(),
        {
            "status": "Accepted",
            "schedule": {
                "evseId": 0,
                "duration": 86_400,
                "scheduleStart": START,
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 99.0}],
            },
        },
        config=StationConfig.with_evses(2),
    )
    kinds = {s.kind for f in report.findings for s in f.governed_by}
    assert kinds == {"evse_sum", "profile"}  # 2 x 32 A capped at 40 A, then the EVSEs' sum


def test_reading_a_16_answer_with_the_start_inside_the_schedule() -> None:
    """Some 1.6 stations put the start in chargingSchedule.startSchedule (before errata 3.57)."""
    payload = predicted_payload("1.6")
    payload["chargingSchedule"]["startSchedule"] = payload.pop("scheduleStart")
    reported = read_composite_response(payload)
    assert reported.version is OcppVersion.V16
    assert reported.start_epoch == parse_timestamp(START16).timestamp()
    report = check_drift(json.loads(EXAMPLE_16.read_text()), reported, transactions=[TX16])
    assert report.agrees


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda p: p["schedule"].pop("duration"), "schedule.duration"),
        (lambda p: p["schedule"].update(chargingRateUnit="kW"), "schedule.chargingRateUnit"),
        (lambda p: p["schedule"].update(evseId="1"), "schedule.evseId"),
        (lambda p: p["schedule"].update(scheduleStart="2024-01-02T00:00:00"), "scheduleStart"),
        (
            lambda p: p["schedule"]["chargingSchedulePeriod"][1].update(startPeriod=0),
            "schedule.chargingSchedulePeriod[1].startPeriod",
        ),
        (
            lambda p: p["schedule"]["chargingSchedulePeriod"][0].pop("limit"),
            "schedule.chargingSchedulePeriod[0].limit",
        ),
        (
            lambda p: p["schedule"].update(chargingSchedulePeriod=[]),
            "schedule.chargingSchedulePeriod",
        ),
        (lambda p: p.pop("status"), "status"),
    ],
)
def test_unreadable_reports_name_the_field(mutate: Any, field: str) -> None:
    payload = predicted_payload("2.0.1")
    mutate(payload)
    with pytest.raises(PayloadError) as info:
        read_composite_response(payload)
    assert info.value.field == field


def test_requests_and_report_of_different_versions() -> None:
    with pytest.raises(PayloadError, match="one version"):
        check_drift(v201_requests(), predicted_payload("1.6"))


def test_compare_needs_an_accepted_report_and_a_sane_tolerance() -> None:
    report = check_drift(v201_requests(), predicted_payload("2.0.1"))
    assert report.predicted is not None
    from ocpp_schedule import QueryError

    with pytest.raises(QueryError):
        compare(report.predicted, ReportedSchedule(OcppVersion.V201, "Rejected"))
    with pytest.raises(QueryError):
        compare(report.predicted, report.reported, tolerance=-1)


# --------------------------------------------------------------------- property


@settings(max_examples=100, deadline=None)
@given(single_evse_cases(max_duration=3600), st.sampled_from(["1.6", "2.0.1"]), st.data())
def test_property_exact_copy_agrees_and_a_planted_change_is_found(case, version, data) -> None:
    predicted = composite_schedule(case.profiles, **case.kwargs())
    payload = predicted.to_payload(version)
    assert compare(predicted, read_composite_response(payload)) == ()
    planted = copy.deepcopy(payload)
    periods = periods_of(planted)
    k = data.draw(st.integers(0, len(periods) - 1))
    # above the default tolerance: 0.1 A, or in W 0.1 A at the voltage and phases (<= 72 W)
    in_w = predicted.charging_rate_unit.value == "W"
    delta = data.draw(st.sampled_from([-500.0, 100.0, 700.0] if in_w else [-5.0, 0.5, 7.0]))
    periods[k]["limit"] = round(periods[k]["limit"] + delta, 1)
    findings = compare(predicted, read_composite_response(planted))
    end = periods[k + 1]["startPeriod"] if k + 1 < len(periods) else max(predicted.duration, 1)
    assert [(f.start_period, f.end_period, f.kind) for f in findings] == [
        (periods[k]["startPeriod"], end, "limit")
    ]
    assert findings[0].difference == pytest.approx(delta, abs=0.051)
    assert findings[0].governed_by == predicted.periods[k].sources


# -------------------------------------------------------------- command line


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path: Path, data: Any, name: str) -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


TX_ARGS = ["--transaction-id", "1", "--transaction-start", "2024-01-01T08:00:00Z"]


@pytest.mark.parametrize("version", ["2.0.1", "1.6"])
def test_cli_exact_copy_exits_0_and_planted_difference_exits_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, version: str
) -> None:
    if version == "1.6":
        requests, tx = str(EXAMPLE_16), TX_ARGS
    else:
        requests, tx = write(tmp_path, v201_requests(), "requests.json"), []
    exact = predicted_payload(version)
    code, out, err = run(capsys, "check", requests, write(tmp_path, exact, "exact.json"), *tx)
    assert code == 0, err
    assert "agrees" in out
    planted = copy.deepcopy(exact)
    periods_of(planted)[1]["limit"] += 4.0
    code, out, err = run(capsys, "check", requests, write(tmp_path, planted, "drift.json"), *tx)
    assert code == 1, err
    lines = out.splitlines()
    assert "1 difference" in lines[0]
    assert len(lines) == 2
    assert "expected" in lines[1] and "(+4.0)" in lines[1]
    assert "should be set by profile" in lines[1]
    code, out, _ = run(capsys, "check", requests, str(tmp_path / "drift.json"), *tx, "--json")
    assert code == 1
    data = json.loads(out)
    assert data["agrees"] is False
    assert [f["difference"] for f in data["findings"]] == [4.0]
    code, _, _ = run(
        capsys, "check", requests, str(tmp_path / "drift.json"), *tx, "--tolerance", "4"
    )
    assert code == 0


def test_cli_reports_skipped_requests_on_stderr(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    exact = write(tmp_path, predicted_payload("1.6"), "exact.json")
    code, _, err = run(capsys, "check", str(EXAMPLE_16), exact, *TX_ARGS)
    assert code == 0
    assert err.count("skipped") == 4


def test_cli_rejected_report_exits_1(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    requests = write(tmp_path, v201_requests(), "requests.json")
    rejected = write(tmp_path, {"status": "Rejected"}, "rejected.json")
    code, out, _ = run(capsys, "check", requests, rejected)
    assert code == 1
    assert "Rejected" in out


@pytest.mark.parametrize(
    ("reported", "extra", "message"),
    [
        ("{not json", [], "is not JSON"),
        ({"status": "Accepted", "schedule": {"evseId": 1}}, [], "schedule.scheduleStart"),
        ([1, 2], [], "expected a JSON object"),
        ("1.6-answer", [], "one version"),
        ("exact", ["--tolerance", "-1"], "--tolerance"),
        ("exact", ["--transaction-id", "7"], "go together"),
        ("exact", ["--evses", "0"], "--evses"),
        ("exact", ["--voltage", "0"], "--voltage"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    reported: Any,
    extra: list[str],
    message: str,
) -> None:
    requests = write(tmp_path, v201_requests(), "requests.json")
    if reported == "exact":
        reported = predicted_payload("2.0.1")
    elif reported == "1.6-answer":
        reported = predicted_payload("1.6")
    path = write(tmp_path, reported, "reported.json")
    code, out, err = run(capsys, "check", requests, path, *extra)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert message in err
    assert "Traceback" not in err


def test_cli_missing_requests_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    reported = write(tmp_path, predicted_payload("2.0.1"), "reported.json")
    code, _, err = run(capsys, "check", str(tmp_path / "none.json"), reported)
    assert code == 2
    assert "cannot read" in err


def test_cli_default_limit_is_in_the_reports_unit(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    empty = write(tmp_path, [], "empty.json")
    report = {
        "status": "Accepted",
        "schedule": {
            "evseId": 1,
            "duration": 600,
            "scheduleStart": START,
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000.0, "numberPhases": 3}],
        },
    }
    path = write(tmp_path, report, "w.json")
    assert run(capsys, "check", empty, path)[0] == 1  # the default is 33 120 W
    assert run(capsys, "check", empty, path, "--default-limit", "11000")[0] == 0


def test_the_guides_worked_example(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """docs/drift.md: the answer it shows, the output it shows, exit 1."""
    import re

    page = (ROOT / "docs" / "drift.md").read_text()
    reported = json.loads(re.findall(r"```json\n(.*?)```", page, re.S)[0])
    console = re.findall(r"```console\n(.*?)```", page, re.S)[0].splitlines()
    requests = v201_requests()
    cap = requests[1]["chargingProfile"]["chargingSchedule"][0]
    cap["chargingSchedulePeriod"] = [{"startPeriod": 0, "limit": 40.0}]  # the page's 40 A max
    argv = console[0].removeprefix("$ ").split()
    assert argv[:2] == ["ocpp-schedule", "check"]
    paths = [write(tmp_path, requests, argv[2]), write(tmp_path, reported, argv[3])]
    code, out, err = run(capsys, "check", *paths)
    assert (code, err) == (int(console[-1]), "")
    assert out.splitlines() == console[1:3]


# ------------------------------------------------- issue 11: tolerance per unit, cannot compare


def _w_answer(limit: float, phases: int = 3) -> dict[str, Any]:
    return {
        "status": "Accepted",
        "schedule": {
            "evseId": 1,
            "duration": 3600,
            "scheduleStart": "2024-01-02T00:00:00Z",
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit, "numberPhases": phases}],
        },
    }


@pytest.mark.parametrize(
    ("voltage", "phases", "inside", "outside"),
    [(230.0, 3, 69.0, 69.5), (230.0, 1, 23.0, 23.5), (120.0, 3, 36.0, 36.5)],
)
def test_default_tolerance_in_w_is_a_tenth_of_an_ampere(
    voltage: float, phases: int, inside: float, outside: float
) -> None:
    """check tolerance: the default is 0.1 A, and for an answer in W its equivalent at the
    supply voltage and the phases in use (0.1 x V x phases), not 0.1 W; an explicit
    tolerance stays in the answer's unit."""
    config = StationConfig(supply_voltage=voltage, default_number_phases=phases)
    expected = 32.0 * voltage * phases  # the 32 A default of the requests, in W
    requests = v201_requests()[:1]
    for delta, agrees in ((inside, True), (outside, False), (1.0, True), (-inside, True)):
        report = check_drift(requests, _w_answer(expected + delta, phases), config=config)
        assert report.agrees is agrees, (delta, report.findings)
    assert not check_drift(
        requests, _w_answer(expected + 1.0, phases), config=config, tolerance=0.5
    ).agrees
    assert "W per phase" in check_drift(requests, _w_answer(expected), config=config).summary()


def _tx_profile_request() -> dict[str, Any]:
    return {
        "evseId": 1,
        "chargingProfile": {
            "id": 7,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Relative",
            "transactionId": "tx-1",
            "chargingSchedule": [
                {
                    "id": 1,
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10.0}],
                }
            ],
        },
    }


def test_skipped_tx_profiles_make_a_difference_uncomparable(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """check 'cannot compare': the station answers 10 A (its TxProfile); without the
    transaction the TxProfile is skipped and the prediction is the 32 A default. That is
    not blamed on a profile: QueryError / exit 2 'cannot compare'. With the transaction
    the two agree."""
    from ocpp_schedule import QueryError

    requests = [*v201_requests()[:1], _tx_profile_request()]
    answer = _w_answer(10.0)
    answer["schedule"]["chargingRateUnit"] = "A"
    with pytest.raises(QueryError, match="cannot compare"):
        check_drift(requests, answer)
    tx = Transaction("tx-1", 1, parse_timestamp("2024-01-02T00:00:00Z"))
    assert check_drift(requests, answer, transactions=[tx]).agrees
    paths = [write(tmp_path, requests, "r.json"), write(tmp_path, answer, "a.json")]
    code, out, err = run(capsys, "check", *paths)
    assert code == 2 and out == "" and err.count("\n") == 1 and "cannot compare" in err
    # agreeing anyway: the skipped TxProfile is only listed
    answer["schedule"]["chargingSchedulePeriod"][0]["limit"] = 32.0
    report = check_drift(requests, answer)
    assert report.agrees and [i for i, _ in report.skipped] == [2]


# ----------------------------------- issue 14 item 9: a known "no limit" convention (V21-13)


def test_v21_13_minus_one_means_no_limit_where_nothing_is_in_force() -> None:
    """MicroOcpp answers -1 where no profile is in force: no difference there; where a
    profile governs, -1 is still one."""
    requests = [
        {
            "evseId": 1,
            "chargingProfile": {
                "id": 1,
                "stackLevel": 0,
                "chargingProfilePurpose": "TxDefaultProfile",
                "chargingProfileKind": "Absolute",
                "chargingSchedule": [
                    {
                        "id": 1,
                        "startSchedule": "2024-01-02T06:00:00Z",
                        "duration": 3600,
                        "chargingRateUnit": "A",
                        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
                    }
                ],
            },
        }
    ]

    def report(limits: list[tuple[int, float]]) -> dict[str, Any]:
        return {
            "status": "Accepted",
            "schedule": {
                "evseId": 1,
                "duration": 86_400,
                "scheduleStart": START,
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": s, "limit": v} for s, v in limits],
            },
        }

    agreeing = report([(0, -1), (21_600, 16.0), (25_200, -1)])
    assert check_drift(requests, agreeing).agrees
    wrong = check_drift(requests, report([(0, -1)]))
    (finding,) = wrong.findings
    assert (finding.start_period, finding.end_period) == (21_600, 25_200)
    assert (finding.expected_limit, finding.reported_limit) == (16.0, -1.0)
    # -2 is no known convention
    assert not check_drift(requests, report([(0, -2), (21_600, 16.0), (25_200, -2)])).agrees


def test_v21_15_a_per_phase_answer_is_compared_by_its_all_phase_limit() -> None:
    """A 2.1 answer with limit_L2/limit_L3 (``limit`` is L1's) agrees with the prediction."""
    requests = [
        {
            "evseId": 1,
            "chargingProfile": {
                "id": 1,
                "stackLevel": 0,
                "chargingProfilePurpose": "TxProfile",
                "chargingProfileKind": "Absolute",
                "transactionId": "T1",
                "chargingSchedule": [
                    {
                        "id": 1,
                        "startSchedule": START,
                        "chargingRateUnit": "W",
                        "chargingSchedulePeriod": [
                            {"startPeriod": 0, "limit": 3680, "limit_L2": 2300, "limit_L3": 3680}
                        ],
                    }
                ],
            },
        }
    ]
    tx = [Transaction("T1", 1, parse_timestamp(START))]
    for unit in ("A", "W"):
        reported = check_drift(
            requests,
            {
                "status": "Accepted",
                "schedule": {
                    "evseId": 1,
                    "duration": 3600,
                    "scheduleStart": START,
                    "chargingRateUnit": unit,
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 0.0}],
                },
            },
            transactions=tx,
        ).predicted
        assert reported is not None
        answer = reported.to_payload("2.1")
        assert "limit_L2" in answer["schedule"]["chargingSchedulePeriod"][0]
        assert check_drift(requests, answer, transactions=tx).agrees


def _snake(data: Any) -> Any:
    """Keys as the ``ocpp`` package's dataclasses name them (limit_L2 -> limit_l2)."""
    import re

    if isinstance(data, dict):
        return {re.sub(r"(?<!^)(?=[A-Z])", "_", k).lower(): _snake(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_snake(v) for v in data]
    return data


@pytest.mark.parametrize("version", ["2.0.1", "1.6"])
@pytest.mark.parametrize("form", ["frame", "snake", "snake-frame"])
def test_cli_reads_ocpp_j_frames_and_snake_case_answers(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, version: str, form: str
) -> None:
    """issue 15: `check` takes what a CSMS logs: an OCPP-J CALLRESULT frame, or the ocpp
    package's snake_case answer; the requests may be CALL frames."""
    if version == "1.6":
        requests, tx = str(EXAMPLE_16), TX_ARGS
        framed = [
            [2, f"m{i}", "SetChargingProfile", p]
            for i, p in enumerate(json.loads(EXAMPLE_16.read_text()))
        ]
    else:
        requests, tx = write(tmp_path, v201_requests(), "requests.json"), []
        framed = [[2, f"m{i}", "SetChargingProfile", p] for i, p in enumerate(v201_requests())]
    exact = predicted_payload(version)
    planted = copy.deepcopy(exact)
    periods_of(planted)[1]["limit"] += 4.0
    for answer, expected in ((exact, 0), (planted, 1)):
        body = _snake(answer) if form.startswith("snake") else answer
        data = [3, "uid-1", body] if form.endswith("frame") else body
        reported = write(tmp_path, data, "reported.json")
        code, _, err = run(capsys, "check", requests, reported, *tx)
        assert code == expected, err
        code, _, err = run(capsys, "check", write(tmp_path, framed, "framed.json"), reported, *tx)
        assert code == expected, err


def test_cli_a_callerror_or_a_wrong_frame_is_one_line_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    requests = write(tmp_path, v201_requests(), "requests.json")
    for data, words in (
        ([4, "uid", "NotSupported", "no", {}], "CALLERROR"),
        ([2, "uid", "GetCompositeSchedule", {}], "CALLRESULT"),
    ):
        code, out, err = run(capsys, "check", requests, write(tmp_path, data, "r.json"))
        assert code == 2 and out == "" and words in err and len(err.splitlines()) == 1
    code, _, err = run(
        capsys, "validate", write(tmp_path, [[2, "x", "ClearChargingProfile", {}]], "q.json")
    )
    assert code == 2 and "SetChargingProfile CALL frame" in err

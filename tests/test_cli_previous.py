"""``balance --plan-at TIME --json FILE`` and ``--previous FILE`` (issue 15, item 5).

The file records, in a versioned ``plan`` record, what the plan was computed from; a
re-plan balances that again, checks it reproduces the recorded limits, and sends only the
EVSEs whose limits changed, lowering before raising against what the piles hold. Every
problem with the file is a :class:`PlanFileError`: exit 2, one line naming the key.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ocpp_schedule
from ocpp_schedule import PlanFileError, balance, send_plan
from ocpp_schedule.cli import _previous, main
from ocpp_schedule.site._model import load_site
from ocpp_schedule.site._planner import DeadlineAware

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "site.json"
FIRST = "2024-06-03T10:00:00+02:00"
LATER = "2024-06-03T12:00:00+02:00"


def _plan_file(tmp_path: Path, at: str = FIRST, site: Path = EXAMPLE, name: str = "p1") -> Path:
    out = tmp_path / f"{name}.json"
    assert main(["balance", str(site), "--plan-at", at, "--json", str(out)]) == 0
    return out


def _site_where_cp3_leaves_early(tmp_path: Path) -> Path:
    data = json.loads(EXAMPLE.read_text())
    for pile in data["piles"]:
        if pile["id"] == "CP-3":
            for session in pile["evses"][0]["sessions"]:
                session["leave"] = "2024-06-03T12:30:00+02:00"
    path = tmp_path / "site3.json"
    path.write_text(json.dumps(data))
    return path


def _fails(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    """Run ``argv``, expecting exit 2 and one line on stderr; return that line."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    return err


def test_the_plan_record_is_versioned_and_written_only_with_plan_at(tmp_path: Path) -> None:
    record = json.loads(_plan_file(tmp_path).read_text())["plan"]
    assert record["format"] == "ocpp-schedule-plan" and record["version"] == 1
    assert record["at"] == "2024-06-03T08:00:00Z" and record["policy"] == "deadline"
    assert record["resolution"] == 900 and record["duration"] == 86400
    assert ocpp_schedule.Site.model_validate(record["site"]) == load_site(EXAMPLE)
    plain = tmp_path / "plain.json"
    assert main(["balance", str(EXAMPLE), "--json", str(plain)]) == 0
    assert "plan" not in json.loads(plain.read_text())


def test_a_replan_of_an_unchanged_site_sends_nothing_and_chains(tmp_path: Path) -> None:
    first = _plan_file(tmp_path)
    second = tmp_path / "p2.json"
    argv = ["balance", str(EXAMPLE), "--plan-at", LATER, "--previous", str(first)]
    assert main([*argv, "--json", str(second)]) == 0
    data = json.loads(second.read_text())
    assert data["send_plan"] == [] and data["send_plan_sent"] == []
    assert data["replan_of"] == "2024-06-03T08:00:00Z"
    assert data["plan"]["at"] == "2024-06-03T10:00:00Z"
    third = tmp_path / "p3.json"
    later = ["balance", str(EXAMPLE), "--plan-at", "2024-06-03T13:00:00+02:00"]
    assert main([*later, "--previous", str(second), "--json", str(third)]) == 0
    assert json.loads(third.read_text())["send_plan"] == []


def test_a_replan_sends_what_changed_lowering_first_as_the_library_does(tmp_path: Path) -> None:
    first = _plan_file(tmp_path)
    changed = _site_where_cp3_leaves_early(tmp_path)
    out = tmp_path / "p2.json"
    argv = ["balance", str(changed), "--plan-at", LATER, "--previous", str(first)]
    assert main([*argv, "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    sent = [(s["pile"], s["evse"]) for s in data["send_plan_sent"]]
    assert sent and len(sent) < 4
    phases = [s["phase"] for s in data["send_plan"]]
    assert phases == sorted(phases, key=["lower", "raise"].index)
    old = balance(load_site(EXAMPLE), start=1717365600, duration=86400, policy=DeadlineAware())
    new = balance(load_site(changed), start=1717365600, duration=86400, policy=DeadlineAware())
    plan = send_plan(new, at=1717408800, previous=old, only_changed=True)
    assert list(plan.sent) == sent
    assert [s["payload"] for s in data["send_plan"]] == [p for _, p in plan.payloads()]


@settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(hours=st.integers(min_value=0, max_value=12))
def test_property_a_replan_of_the_same_site_changes_nothing(tmp_path: Path, hours: int) -> None:
    first = _plan_file(tmp_path, name=f"first{hours}")
    at = f"2024-06-03T{10 + hours:02d}:00:00+02:00"
    out = tmp_path / f"again{hours}.json"
    argv = ["balance", str(EXAMPLE), "--plan-at", at, "--previous", str(first)]
    assert main([*argv, "--json", str(out)]) == 0
    assert json.loads(out.read_text())["send_plan"] == []


def _edited(tmp_path: Path, change: Any) -> Path:
    path = _plan_file(tmp_path)
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))
    return path


def _set(key: str, value: object) -> Any:
    return lambda data: data["plan"].__setitem__(key, value)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.pop("plan"), "plan:"),
        (lambda d: d.__setitem__("plan", 3), "plan:"),
        (lambda d: d.__setitem__("extra", 1), "extra:"),
        (_set("extra", 1), "plan.extra:"),
        (lambda d: d["plan"].pop("digest"), "plan.digest:"),
        (_set("format", "other"), "plan.format:"),
        (_set("version", 2), "plan.version:"),
        (_set("version", True), "plan.version:"),
        (_set("policy", "fastest"), "plan.policy:"),
        (_set("duration", -5), "plan.duration:"),
        (_set("duration", 86400.0), "plan.duration:"),
        (_set("resolution", "900"), "plan.resolution:"),
        (_set("at", "yesterday"), "plan.at:"),
        (_set("start", 1717365600), "plan.start:"),
        (_set("digest", "0" * 64), "plan.digest:"),
        (lambda d: d["plan"]["site"].__setitem__("voltage", "high"), "plan.site.voltage:"),
        (lambda d: d["plan"]["site"].__setitem__("name", "Elsewhere"), "plan.site.name:"),
        (_set("at", "2024-06-03T11:00:00Z"), "plan.at:"),
    ],
)
def test_a_bad_previous_file_is_one_line_naming_the_key(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, change: Any, field: str
) -> None:
    path = _edited(tmp_path, change)
    capsys.readouterr()
    argv = ["balance", str(EXAMPLE), "--plan-at", LATER, "--previous", str(path)]
    assert f"error: {field}" in _fails(capsys, argv)


def test_an_edited_limit_is_caught_by_the_digest(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    def louder(data: dict[str, Any]) -> None:
        data["plan"]["site"]["grid"]["amps"] = 80  # the record's site no longer gives its limits

    path = _edited(tmp_path, louder)
    capsys.readouterr()
    argv = ["balance", str(EXAMPLE), "--plan-at", LATER, "--previous", str(path)]
    assert "plan.digest: the recorded inputs no longer give" in _fails(capsys, argv)


def test_files_that_are_not_plans(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = ["balance", str(EXAMPLE), "--plan-at", LATER, "--previous"]
    assert "cannot read it" in _fails(capsys, [*argv, str(tmp_path / "missing.json")])
    junk = tmp_path / "junk.json"
    junk.write_text("{not json")
    assert "not JSON" in _fails(capsys, [*argv, str(junk)])
    junk.write_bytes(b'{"plan": "\xff"}')
    assert "not UTF-8" in _fails(capsys, [*argv, str(junk)])
    junk.write_text("[" * 200 + "]" * 200)
    assert "nests deeper" in _fails(capsys, [*argv, str(junk)])
    junk.write_text("[]")
    assert "is not a JSON object" in _fails(capsys, [*argv, str(junk)])
    big = _plan_file(tmp_path)
    monkeypatch.setattr(_previous, "MAX_PLAN_FILE_BYTES", 1000)
    capsys.readouterr()
    assert "MAX_PLAN_FILE_BYTES" in _fails(capsys, [*argv, str(big)])


def test_previous_needs_plan_at(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = _plan_file(tmp_path)
    capsys.readouterr()
    line = _fails(capsys, ["balance", str(EXAMPLE), "--previous", str(path)])
    assert "--previous needs --plan-at" in line


def test_the_error_is_typed_and_exported() -> None:
    assert issubclass(PlanFileError, ocpp_schedule.OcppScheduleError)
    assert "PlanFileError" in ocpp_schedule.__all__

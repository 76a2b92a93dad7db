"""The command line's operator outputs (issue 15, item 5).

``--version``; ``validate --strict``; ``report --json``; ``--plan-at`` printing the steps;
tables within 100 columns unless ``--wide``; sessions listed in time order.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from ocpp_schedule.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = str(ROOT / "examples" / "site.json")
REQUESTS = str(ROOT / "examples" / "requests-1.6.json")


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("ocpp-schedule ") and out.strip().split()[-1][0].isdigit()


def test_validate_strict_numbers_lines_and_exits_1_on_a_rejection(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["validate", REQUESTS]) == 0
    plain = capsys.readouterr().out.splitlines()
    assert main(["validate", REQUESTS, "--strict"]) == 1
    strict = capsys.readouterr().out.splitlines()
    assert strict == [f"{i}: {line}" for i, line in enumerate(plain, 1)]
    accepted = [json.loads(Path(REQUESTS).read_text())[0]]
    ok = tmp_path / "ok.json"
    ok.write_text(json.dumps(accepted))
    assert main(["validate", str(ok), "--strict"]) == 0
    assert capsys.readouterr().out == "1: Accepted\n"


def test_report_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", EXAMPLE, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["site"] == "Office car park"
    assert {p["pile"] for p in data["piles"]} == {"CP-1", "CP-2", "CP-3"}
    assert set(data["circuits"]) == {"connection", "sub-distribution"}
    first = data["piles"][0]
    assert len(first["peak_amps"]) == 3 and first["peak_at"].endswith("Z")
    for rows in data["circuits"].values():
        starts = [row["from"] for row in rows]
        assert starts == sorted(starts)
    assert data["overloads"] == sorted(data["overloads"], key=lambda o: (o["from"], o["to"]))


def _busy_site(tmp_path: Path, piles: int = 24) -> str:
    """The example with ``piles`` piles, each EVSE with six sessions listed out of order."""
    site: dict[str, Any] = json.loads(Path(EXAMPLE).read_text())
    template = site["piles"][2]
    site["piles"] = []
    hours = [17, 8, 20, 11, 14, 6]  # out of order on purpose
    for n in range(piles):
        pile = copy.deepcopy(template)
        pile["id"] = f"PILE-{n:02d}"
        pile["evses"][0]["sessions"] = [
            {
                "arrive": f"2024-06-03T{h:02d}:00:00+02:00",
                "leave": f"2024-06-03T{h + 2:02d}:00:00+02:00",
                "phases": 3,
            }
            for h in hours
        ]
        site["piles"].append(pile)
    path = tmp_path / "busy.json"
    path.write_text(json.dumps(site))
    return str(path)


def test_tables_fit_100_columns_and_wide_shows_everything(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = _busy_site(tmp_path)
    assert main(["balance", path, "--plan-at", "2024-06-03T17:00:00+02:00"]) == 0
    narrow = capsys.readouterr().out
    assert max(len(line) for line in narrow.splitlines()) <= 100
    assert "more" in narrow  # six sessions do not fit: the rest is counted
    assert main(["balance", path, "--wide"]) == 0
    wide = capsys.readouterr().out
    row = next(line for line in wide.splitlines() if line.startswith("PILE-00/1"))
    times = [
        "06:00-08:00",
        "08:00-10:00",
        "11:00-13:00",
        "14:00-16:00",
        "17:00-19:00",
        "20:00-22:00",
    ]
    positions = [row.index(t) for t in times]
    assert positions == sorted(positions)  # every session, in time order
    assert "L3L1L2" in wide and "L3L1L2" not in narrow  # the wiring is a wide-only column


def test_narrow_vehicles_are_in_time_order(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = _busy_site(tmp_path, piles=2)
    assert main(["balance", path]) == 0
    row = next(
        line for line in capsys.readouterr().out.splitlines() if line.startswith("PILE-00/1")
    )
    assert row.index("06:00-08:00") < row.index("08:00-10:00")


def test_plan_at_prints_each_step(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    argv = ["balance", EXAMPLE, "--plan-at", "2024-06-03T17:00:00+02:00", "--json", str(out)]
    assert main(argv) == 0
    text = capsys.readouterr().out
    table = text[text.index("#  pile") :]
    lines = table.splitlines()
    assert "purpose" in lines[0] and "step" in lines[0]
    steps = json.loads(out.read_text())["send_plan"]
    assert len(lines) - 2 >= len(steps) > 0
    for n, (line, step) in enumerate(zip(lines[2:], steps, strict=False), 1):
        cells = line.split()
        assert cells[0] == str(n) and cells[1] == step["pile"] and cells[2] == str(step["evse"])
        assert step["phase"] in cells
        assert "A@+0:00" in line


def test_snake_case_keys_become_the_schema_keys() -> None:
    from ocpp_schedule.cli._common import camel_case_keys

    data = {
        "evse_id": 1,
        "schedule": {
            "charging_schedule_period": [
                {"start_period": 0, "limit": 6, "limit_l2": 7, "setpoint_reactive_l3": 1}
            ],
            "custom_data": {"vendor_id": "x", "keep_me": 1},
        },
        "limit_L2": 3,
    }
    assert camel_case_keys(data) == {
        "evseId": 1,
        "schedule": {
            "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": 6, "limit_L2": 7, "setpointReactive_L3": 1}
            ],
            "customData": {"vendor_id": "x", "keep_me": 1},
        },
        "limit_L2": 3,
    }

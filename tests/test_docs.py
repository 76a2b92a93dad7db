"""The documentation's code runs and shows what it prints.

The quick start (``docs/index.md``) is followed as a new user would: its JSON saved
as ``requests.json``, its command run, its Python run; the output the page shows
must be the output they give. Each guide's Python blocks run top to bottom in one
namespace, and the handlers they only define are called here.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import io
import re
import shlex
import sys
from pathlib import Path
from typing import Any

import pytest
from ocpp.charge_point import camel_to_snake_case

from ocpp_schedule import OcppVersion, ProfileStore, StationConfig, StationState
from ocpp_schedule.cli import main as cli_main
from ocpp_schedule.tools.adapters import ocpp_payload

DOCS = Path(__file__).resolve().parent.parent / "docs"
EXAMPLES = DOCS.parent / "examples"


def _blocks(page: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", (DOCS / page).read_text(), re.S)


def _run_blocks(page: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": f"docs_{Path(page).stem}"}
    blocks = _blocks(page, "python")
    assert blocks, page
    for i, block in enumerate(blocks):
        exec(compile(block, f"{page}[python block {i}]", "exec"), namespace)
    return namespace


def test_quick_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (requests,) = _blocks("index.md", "json")
    (tmp_path / "requests.json").write_text(requests)
    monkeypatch.chdir(tmp_path)
    shown = _blocks("index.md", "text")[0]
    command = next(b for b in _blocks("index.md", "sh") if "composite" in b)
    argv = shlex.split(command)
    assert argv[0] == "ocpp-schedule"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli_main(argv[1:]) == 0
    assert out.getvalue() == shown
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        _run_blocks("index.md")
    printed = out.getvalue()
    assert printed.startswith("Accepted\nAccepted\n" + shown)
    assert "'limit': 32.0, 'numberPhases': 1" in printed


def _charge_point() -> Any:
    spec = importlib.util.spec_from_file_location("docs_charge_point", EXAMPLES / "charge_point.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


class _StationLink:
    """Stands in for a connected ``ocpp`` ChargePoint: ``call`` goes to the example station."""

    def __init__(self, station: Any) -> None:
        self.station = station

    async def call(self, message: Any, suppress: bool = True) -> Any:
        kwargs = camel_to_snake_case(ocpp_payload(message))  # what a handler receives
        handler = {
            "SetChargingProfile": self.station.set_charging_profile,
            "GetCompositeSchedule": self.station.get_composite_schedule,
        }[type(message).__name__]
        return handler(kwargs)


def test_csms_guide() -> None:
    ns = _run_blocks("guides/csms.md")
    state = ns["state"]
    station = _charge_point().SmartCharging(state.version, state.config, clock=lambda: ns["now"])
    station.transactions = state.transactions
    store, answer, reported = asyncio.run(
        ns["send_and_check"](
            _StationLink(station), ns["tx_profile"](12.5, ns["tx"]), state, ProfileStore()
        )
    )
    assert answer.accepted
    assert [e.id for e in store] == [e.id for e in station.store] == [100]
    assert reported.schedule is not None
    assert reported.schedule.limit_at(ns["now"]) == 12.5


def test_firmware_guide() -> None:
    ns = _run_blocks("guides/firmware.md")
    handlers = ns["Handlers"]()
    handlers.version = OcppVersion.V16
    handlers.store = ProfileStore()
    handlers.state = StationState(StationConfig(), OcppVersion.V16)
    result = handlers.on_set_charging_profile(
        connector_id=0,
        cs_charging_profiles={
            "charging_profile_id": 1,
            "stack_level": 0,
            "charging_profile_purpose": "ChargePointMaxProfile",
            "charging_profile_kind": "Absolute",
            "charging_schedule": {
                "start_schedule": "2024-03-01T00:00:00Z",
                "charging_rate_unit": "A",
                "charging_schedule_period": [{"start_period": 0, "limit": 16.0}],
            },
        },
    )
    assert type(result).__module__ == "ocpp.v16.call_result"
    assert result.status == "Accepted"
    assert [e.id for e in handlers.store] == [1]


def test_load_balancing_guide() -> None:
    ns = _run_blocks("guides/load-balancing.md")
    assert ns["plan"].steps


def test_the_site_lists_every_page_and_every_public_name() -> None:
    """A page missing from the nav, or an export missing from the API reference, is found here
    (``mkdocs build --strict`` only notes the first and cannot see the second)."""
    import ocpp_schedule

    nav = set(re.findall(r":\s*([\w/.-]+\.md)\s*$", (DOCS.parent / "mkdocs.yml").read_text(), re.M))
    pages = {str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md")}
    assert pages - nav == set(), "add these pages to the nav in mkdocs.yml"
    assert nav - pages == set()
    api = "".join(p.read_text() for p in (DOCS / "api").glob("*.md"))
    documented = set(re.findall(r"^::: ocpp_schedule\.(\w+)$", api, re.M))
    missing = set(ocpp_schedule.__all__) - documented - {"__version__"}
    assert not missing, f"add to a page of docs/api/: {sorted(missing)}"
    targets = re.findall(r"^::: ([\w.]+)$", api, re.M)
    assert len(targets) == len(set(targets)), "an object is documented twice"
    assert not [t for t in targets if "._" in t], "the reference shows public paths only"


def test_readme_quick_start_runs(capsys) -> None:
    """README's quick start runs as written and prints what it says."""
    import re

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    code = re.search(r"## Quick start\n\n```python\n(.*?)```", readme, re.S)
    assert code is not None
    exec(compile(code.group(1), "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert out.startswith("Accepted\n")
    assert "profile 1 (TxDefaultProfile, stack 0, EVSE 0)" in out
    assert "'limit': 10.0" in out


def test_readme_opens_with_the_two_commands() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    block = readme.split("```sh\n", 1)[1].split("```", 1)[0].splitlines()
    assert block[0] == "python -m pip install -e . && ocpp-schedule demo"
    assert block[1] == "python -m pip install -e '.[dev]' && python -m pytest"
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()
    assert "python -m pytest" in ci


def _pages_with_python() -> list[str]:
    return sorted(
        str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md") if "```python\n" in p.read_text()
    )


@pytest.mark.parametrize("page", _pages_with_python())
def test_every_python_block_of_every_page_runs(
    page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every Python block of every docs page runs, top to bottom in one namespace per page,
    in a fresh directory holding the quick start's ``requests.json`` (nothing is skipped)."""
    (requests,) = _blocks("index.md", "json")
    (tmp_path / "requests.json").write_text(requests)
    monkeypatch.chdir(tmp_path)
    with contextlib.redirect_stdout(io.StringIO()):
        _run_blocks(page)


def test_the_drift_page_prints_its_worked_example() -> None:
    """docs/drift.md's Python block reproduces the console example's summary line."""
    console = _blocks("drift.md", "console")[0].splitlines()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        _run_blocks("drift.md")
    lines = out.getvalue().splitlines()
    assert lines[0] == console[1]
    assert lines[1] == "limit 2024-01-02 17:00:00+00:00 2024-01-02 21:00:00+00:00 4.0"

"""Issue 13, items 4 and 7: a send plan's own validity, and the limits at one instant.

``SendPlan.valid_until_epoch`` is the allocation's end (then every EVSE holds its safe tail);
``resend_before`` is when the next plan is due (docs/semantics.md SP7);
``limits_at(allocation, at)`` and ``ocpp-schedule balance --at TIME`` give every EVSE's
limit and every circuit's load at one instant.
"""

from __future__ import annotations

import contextlib
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies_site import T0, WINDOW, sites

from ocpp_schedule import (
    Allocation,
    OcppScheduleError,
    QueryError,
    SendPlanError,
    balance,
    limits_at,
    load_site,
    send_plan,
)
from ocpp_schedule.cli import main
from ocpp_schedule.site import DEMO_DAY, MIN_RESEND_MARGIN, RESEND_FRACTION, demo_site

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = str(ROOT / "examples" / "site.json")
HOUR = 3600
DAY_START = "2024-06-03T00:00:00+02:00"  # the example site's local midnight


@pytest.fixture(scope="module")
def morning() -> Allocation:
    """The demo site balanced over six hours from 06:00."""
    return balance(demo_site(), start=DEMO_DAY + timedelta(hours=6), duration=6 * HOUR)


# ------------------------------------------------------------------ valid_until, resend_before


def test_valid_until_is_the_end_of_the_allocation_window(morning: Allocation) -> None:
    plan = send_plan(morning)
    assert plan.valid_until_epoch == morning.end_epoch == morning.start_epoch + 6 * HOUR
    later = send_plan(morning, at=morning.start_epoch + 2 * HOUR)
    assert later.valid_until_epoch == morning.end_epoch


def test_default_margin_is_a_tenth_of_the_span_but_at_least_300_s(morning: Allocation) -> None:
    """SP7: six hours left -> 36 min before the end; 20 min left -> 300 s before it."""
    assert (MIN_RESEND_MARGIN, RESEND_FRACTION) == (300, 10)
    plan = send_plan(morning)
    assert plan.resend_before_epoch == morning.end_epoch - 6 * HOUR // 10
    late = send_plan(morning, at=morning.end_epoch - 20 * 60)
    assert late.resend_before_epoch == morning.end_epoch - 300


def test_resend_before_is_never_before_the_moment_of_sending(morning: Allocation) -> None:
    at = morning.end_epoch - 120  # two minutes left: less than the 300 s minimum margin
    assert send_plan(morning, at=at).resend_before_epoch == at
    assert (
        send_plan(morning, resend_margin=10 * 24 * HOUR).resend_before_epoch == morning.start_epoch
    )


def test_a_custom_margin(morning: Allocation) -> None:
    assert send_plan(morning, resend_margin=900).resend_before_epoch == morning.end_epoch - 900
    assert send_plan(morning, resend_margin=0).resend_before_epoch == morning.end_epoch


@pytest.mark.parametrize("margin", [-1, 1.5, True, "300", 300.0])
def test_a_bad_margin_is_a_typed_error_naming_the_field(
    morning: Allocation, margin: object
) -> None:
    with pytest.raises(SendPlanError) as info:
        send_plan(morning, resend_margin=margin)  # type: ignore[arg-type]
    assert info.value.field == "resend_margin"
    assert isinstance(info.value, OcppScheduleError)
    assert "SP7" in (info.value.rule or "")


def test_needs_resend_before_and_after(morning: Allocation) -> None:
    plan = send_plan(morning, resend_margin=600)
    due = plan.resend_before_epoch
    assert not plan.needs_resend(plan.at_epoch)
    assert not plan.needs_resend(due - 1)
    assert plan.needs_resend(due)
    assert plan.needs_resend(plan.valid_until_epoch + 1)
    assert plan.needs_resend(datetime.fromtimestamp(due, UTC))
    assert not plan.needs_resend(datetime.fromtimestamp(due - 1, UTC))
    with pytest.raises(OcppScheduleError):
        plan.needs_resend(datetime(2024, 1, 1))  # no time zone: refused, not guessed


# ------------------------------------------------------------------ the command line


def test_cli_prints_and_writes_both_instants(capsys, tmp_path: Path) -> None:
    out = tmp_path / "limits.json"
    argv = ["balance", EXAMPLE, "--plan-at", "2024-06-03T18:00:00+02:00", "--json", str(out)]
    assert main(argv) == 0
    text = capsys.readouterr().out
    # window: local midnight to midnight; six hours left -> 36 minutes before its end
    assert (
        "valid until 2024-06-04 00:00 CEST (then every EVSE holds its safe tail)\n"
        "send the next plan before 2024-06-03 23:24 CEST"
    ) in text
    data = json.loads(out.read_text())
    assert data["send_plan_valid_until"] == "2024-06-03T22:00:00Z"
    assert data["send_plan_resend_before"] == "2024-06-03T21:24:00Z"
    assert data["send_plan"]


def test_cli_without_a_plan_writes_no_instants(capsys, tmp_path: Path) -> None:
    out = tmp_path / "limits.json"
    assert main(["balance", EXAMPLE, "--json", str(out)]) == 0
    assert "valid until" not in capsys.readouterr().out
    data = json.loads(out.read_text())
    assert data["send_plan"] == []
    assert data["send_plan_valid_until"] is None and data["send_plan_resend_before"] is None


# ------------------------------------------------------------------ limits at one instant


def _rows(text: str) -> dict[str, list[str]]:
    return {line.split()[0]: line.split() for line in text.splitlines() if line.strip()}


def test_cli_at_prints_the_limits_of_that_slot(capsys) -> None:
    at = "2024-06-03T18:07:00+02:00"
    argv = ["balance", EXAMPLE, "--start", DAY_START, "--duration", "86400", "--at", at]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert text.startswith("limits at 2024-06-03 18:07:00 CEST (slot 18:00-18:15)\n")
    assert "kWh max" not in text  # the slot tables are replaced, not repeated
    allocation = balance(
        load_site(EXAMPLE), start=datetime.fromisoformat(DAY_START), duration=86400
    )
    k = next(i for i, (a, b) in enumerate(allocation.slots()) if a <= 1717430820 < b)
    rows = _rows(text)
    for (pile, evse), amps in allocation.amps.items():
        row = rows[f"{pile}/{evse}"]
        assert float(row[2]) == pytest.approx(amps[k], abs=0.05)
        assert int(row[3]) == allocation.phases[(pile, evse)][k]
    for circuit, loads in allocation.loads.items():
        shown = [float(x) for x in rows[circuit][1:6:2]]
        assert shown == pytest.approx(list(loads[k]), abs=0.05)


def test_cli_without_at_keeps_its_tables(capsys) -> None:
    assert main(["balance", EXAMPLE, "--start", DAY_START, "--duration", "86400"]) == 0
    text = capsys.readouterr().out
    assert "kWh max" in text and "limits at" not in text


@pytest.mark.parametrize(
    ("at", "message"),
    [
        ("2024-06-04T00:00:00+02:00", "outside the allocation's window"),  # the end: excluded
        ("2024-06-02T23:59:59+02:00", "outside the allocation's window"),
        ("tomorrow", "--at"),
    ],
)
def test_cli_at_outside_the_window_is_one_line_exit_2(capsys, at: str, message: str) -> None:
    argv = ["balance", EXAMPLE, "--start", DAY_START, "--duration", "86400", "--at", at]
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and message in captured.err
    assert "Traceback" not in captured.err and captured.out == ""


def test_limits_at_outside_the_window_is_a_query_error(morning: Allocation) -> None:
    for t in (morning.start_epoch - 1, morning.end_epoch, morning.end_epoch + HOUR):
        with pytest.raises(QueryError) as info:
            limits_at(morning, t)
        assert info.value.field == "at"
    view = limits_at(morning, morning.end_epoch - 1)
    assert view.end_epoch == morning.end_epoch


# ------------------------------------------------------------------ properties


def _expected_resend(at: int, end: int, margin: int | None) -> int:
    """SP7 written out again: the margin or max(300 s, a tenth of what is left), never before at."""
    if margin is None:
        margin = max(300, (end - at) // 10)
    return max(at, end - margin)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sites(),
    st.integers(0, 4),
    st.integers(1, 6),
    st.sampled_from([None, 900]),
    st.floats(0, 1, exclude_max=True),
    st.one_of(st.none(), st.integers(0, 10 * HOUR)),
)
def test_property_at_le_resend_before_le_valid_until(
    site, offset, hours, resolution, where, margin
) -> None:
    allocation = balance(
        site, start=T0 + timedelta(hours=offset), duration=hours * HOUR, resolution=resolution
    )
    at = allocation.start_epoch + int(where * (allocation.end_epoch - allocation.start_epoch))
    plan = send_plan(allocation, at=at, resend_margin=margin)
    assert (
        plan.at_epoch <= plan.resend_before_epoch <= plan.valid_until_epoch == allocation.end_epoch
    )
    assert plan.resend_before_epoch == _expected_resend(at, allocation.end_epoch, margin)
    assert plan.needs_resend(plan.resend_before_epoch)
    assert not plan.needs_resend(plan.resend_before_epoch - 1)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sites(),
    st.sampled_from([None, 900, 1234]),
    st.lists(
        st.one_of(st.integers(0, WINDOW - 1), st.integers(0, WINDOW // 300 - 1).map((300).__mul__))
    ),
)
def test_property_limits_at_are_the_slot_values(site, resolution, instants) -> None:
    """At any instant, limits_at reports the allocation's values in the slot that holds it.

    Random instants, and every slot's first and last second (where an off-by-one hides).
    """
    allocation = balance(site, start=T0, duration=WINDOW, resolution=resolution)
    edges = [t for a, b in allocation.slots() for t in (a, b - 1)]
    for t in [*edges, *(allocation.start_epoch + offset for offset in instants)]:
        view = limits_at(allocation, t)
        assert view.start_epoch <= t < view.end_epoch
        for key in allocation.amps:  # merged pieces: an independent way to the same value
            piece = next(p for p in allocation.evse_periods(key) if p[0] <= t < p[1])
            assert (view.amps[key], view.phases[key]) == (piece[2], piece[3])
        slot = next(k for k, (a, b) in enumerate(allocation.slots()) if a <= t < b)
        assert (view.start_epoch, view.end_epoch) == allocation.slots()[slot]
        for circuit, loads in allocation.loads.items():
            assert view.loads[circuit] == loads[slot]
            assert view.limits[circuit] == allocation.limits[circuit][slot]


def test_the_guide_prints_what_its_comments_say() -> None:
    """docs/guides/load-balancing.md's validity example: each print's ``# ...`` is its output."""
    guide = (ROOT / "docs" / "guides" / "load-balancing.md").read_text()
    blocks = [b.split("```", 1)[0] for b in guide.split("```python\n")[1:]]
    (code,) = [b for b in blocks if "limits_at(" in b]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "load-balancing.md", "exec"), {})
    said = [line.split("  # ", 1)[1] for line in code.splitlines() if line.startswith("print(")]
    assert out.getvalue().splitlines() == said

"""The plan's picture scales (issue 15, item 6): circuits against their limits above a
heat-map of EVSE x time; legends outside the axes; a power limit drawn as power (kW)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from ocpp_schedule.site import DEMO_DAY, balance, demo_site, plot_allocation
from ocpp_schedule.site._plot import MAX_CIRCUIT_PANELS, _figure, _pyplot

pytest.importorskip("matplotlib")

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from balance import large_site


def _allocation(evses: int) -> Any:
    site = demo_site() if evses == 10 else large_site(evses)
    return balance(site, start=DEMO_DAY, duration=86400, resolution=1800)


def _overlaps(a: Any, b: Any) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


@pytest.mark.parametrize("evses", [10, 75])
def test_legends_never_cover_data_and_power_is_drawn_in_kw(evses: int) -> None:
    plt = _pyplot()
    allocation = _allocation(evses)
    fig = _figure(plt, allocation)
    try:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        data_axes = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
        legends = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
        assert legends
        for legend in legends:
            box = legend.get_window_extent(renderer)
            for ax in data_axes:
                assert not _overlaps(box, ax.get_window_extent(renderer)), ax.get_title()
        power_axes = [ax for ax in fig.axes if ax.get_ylabel() == "kW"]
        assert power_axes  # the cabinet's power limit is drawn as power
        titles = [ax.get_title(loc="left") for ax in fig.axes]
        assert any(t.startswith("EVSE limits") for t in titles)
        if len(allocation.loads) > MAX_CIRCUIT_PANELS:
            assert any(t.startswith("every circuit") for t in titles)
    finally:
        plt.close(fig)


def test_the_heat_map_labels_stay_few_at_200_evses(tmp_path: Path) -> None:
    plt = _pyplot()
    allocation = _allocation(200)
    fig = _figure(plt, allocation)
    try:
        heat = next(ax for ax in fig.axes if ax.get_title(loc="left").startswith("EVSE limits"))
        assert len(heat.get_yticks()) <= 40
    finally:
        plt.close(fig)
    out = plot_allocation(allocation, tmp_path / "plan.png")
    assert out.stat().st_size > 10_000

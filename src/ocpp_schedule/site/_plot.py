"""Plot an allocation: circuit loads per phase against their limits, and each EVSE's limit.

Needs matplotlib (the optional extra ``plot``); without it :func:`plot_allocation`
raises :class:`PlotUnavailable` with the command that installs it.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from ..errors import OcppScheduleError
from ..wire._timestamps import from_epoch
from ._allocation import Allocation

__all__ = ["PlotUnavailable", "plot_allocation"]


class PlotUnavailable(OcppScheduleError, RuntimeError):
    """matplotlib is not installed."""


def _pyplot() -> Any:
    """matplotlib.pyplot with a file backend, or :class:`PlotUnavailable`."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise PlotUnavailable(
            "plotting needs matplotlib: python -m pip install 'ocpp-schedule[plot]'",
            field="--plot",
        ) from None
    return plt


MAX_LABELLED_EVSES = 40
"""Above this many EVSEs the heat-map labels every n-th row only, so labels never overlap."""


def plot_allocation(allocation: Allocation, path: str | Path) -> Path:
    """Draw the allocation to an image file (PNG by extension); returns the path.

    Above: one panel per circuit, its load per phase (A) against each phase's limit, and,
    where the circuit has a power limit, its power (kW, on its own axis) against that
    limit, drawn as power; with more than :data:`MAX_CIRCUIT_PANELS` circuits, panels for
    the first two and a heat-map of every circuit's load as a share of its limit. Below:
    a heat-map of every EVSE's limit (A per phase) over time, paused slots hatched and
    slots without a vehicle left blank; it stays legible from a handful of EVSEs to
    hundreds. Legends sit outside the axes, so they never
    cover data.
    """
    plt = _pyplot()
    fig = _figure(plt, allocation)
    out = Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def _figure(plt: Any, allocation: Allocation) -> Any:
    """The figure :func:`plot_allocation` saves (kept apart so tests can inspect it)."""
    site = allocation.site
    circuits = list(allocation.loads)
    panels = circuits if len(circuits) <= MAX_CIRCUIT_PANELS else circuits[:2]
    many = len(circuits) > MAX_CIRCUIT_PANELS
    keys = sorted(allocation.amps)
    heat_height = min(12.0, max(2.2, 0.14 * len(keys)))
    heights = [2.3] * len(panels) + ([min(6.0, max(1.6, 0.2 * len(circuits)))] if many else [])
    heights.append(heat_height)
    fig, axes = plt.subplots(
        len(heights),
        1,
        figsize=(12, sum(heights) + 1.2),
        sharex=True,
        gridspec_kw={"height_ratios": heights},
        squeeze=False,
    )
    edges = [from_epoch(t).astimezone(site.zone) for t in allocation.boundaries]
    for ax, circuit in zip(axes[: len(panels), 0], panels, strict=True):
        _circuit_panel(ax, allocation, circuit, edges)
    if many:
        _utilisation_map(axes[len(panels), 0], allocation, circuits, edges)
    _heat_map(axes[-1, 0], allocation, keys, edges)
    dates: Any = importlib.import_module("matplotlib.dates")
    axes[-1, 0].xaxis.set_major_formatter(dates.DateFormatter("%H:%M", tz=site.zone))
    axes[-1, 0].set_xlabel(f"local time ({site.time_zone})")
    fig.suptitle(f"{site.name}: balanced limits ({allocation.policy}), {len(keys)} EVSEs")
    fig.tight_layout(rect=(0.0, 0.0, 1.0, 1.0 - 0.5 / sum(heights)))
    return fig


MAX_CIRCUIT_PANELS = 4
"""Up to this many circuits each get a panel; with more, the first two (the grid and its
first level) do, and every circuit's utilisation is drawn as one heat-map row."""


def _utilisation_map(
    ax: Any, allocation: Allocation, circuits: list[str], edges: list[Any]
) -> None:
    """Per circuit and slot, the most loaded phase's share of its limit (%), and of a power
    limit where the circuit has one: the higher of the two."""
    dates: Any = importlib.import_module("matplotlib.dates")
    volts = allocation.site.voltage
    rows = []
    for circuit in circuits:
        row = []
        for load, limit, watts in zip(
            allocation.loads[circuit],
            allocation.limits[circuit],
            allocation.watt_limits[circuit],
            strict=True,
        ):
            shares = [load[p] / limit[p] * 100 if limit[p] > 0 else 0.0 for p in range(3)]
            if watts:
                shares.append(sum(load) * volts / watts * 100)
            row.append(max(shares))
        rows.append(row)
    mesh = ax.pcolormesh(
        dates.date2num(edges),
        list(range(len(circuits) + 1)),
        rows,
        cmap="magma",
        shading="flat",
        vmin=0,
        vmax=100,
    )
    ax.set_ylim(len(circuits), 0)
    step = max(1, -(-len(circuits) // MAX_LABELLED_EVSES))
    ticks = list(range(0, len(circuits), step))
    ax.set_yticks([t + 0.5 for t in ticks])
    ax.set_yticklabels([circuits[t] for t in ticks], fontsize=7)
    ax.set_title(
        "every circuit: load as % of its limit (most loaded phase, or power)",
        loc="left",
        fontsize=10,
    )
    bar = ax.figure.colorbar(mesh, cax=ax.inset_axes((1.01, 0.0, 0.012, 1.0)))
    bar.set_label("% of limit")


_PHASE_COLORS = ("tab:brown", "tab:gray", "tab:purple")


def _circuit_panel(ax: Any, allocation: Allocation, circuit: str, edges: list[Any]) -> None:
    """A circuit's load per phase against its phase limits; its power against a W limit."""
    loads, limits = allocation.loads[circuit], allocation.limits[circuit]
    for p in range(3):
        color, width = (
            _PHASE_COLORS[p],
            2.6 - 0.8 * p,
        )  # wider underneath: equal phases stay visible
        ax.stairs(
            [load[p] for load in loads],
            edges,
            label=f"L{p + 1}",
            color=color,
            linewidth=width,
            baseline=None,
        )
        ax.stairs(
            [limit[p] for limit in limits],
            edges,
            color=color,
            linestyle="--",
            linewidth=width * 0.6,
            baseline=None,
            label="limit per phase (dashed)" if p == 2 else None,
        )
    ax.set_ylabel("A per phase")
    ax.set_ylim(bottom=0)
    ax.set_title(f"circuit {circuit}", loc="left", fontsize=10)
    handles, labels = ax.get_legend_handles_labels()
    watts = allocation.watt_limits[circuit]
    if any(w is not None for w in watts):
        volts = allocation.site.voltage
        power = ax.twinx()
        power.stairs(
            [sum(load) * volts / 1000 for load in loads],
            edges,
            color="tab:orange",
            linewidth=1.2,
            label="power",
            baseline=None,
        )
        power.stairs(
            [w / 1000 if w is not None else float("nan") for w in watts],
            edges,
            color="red",
            linestyle=":",
            linewidth=2,
            label="power limit",
            baseline=None,
        )
        power.set_ylabel("kW")
        power.set_ylim(bottom=0)
        more_h, more_l = power.get_legend_handles_labels()
        handles, labels = handles + more_h, labels + more_l
    ax.legend(
        handles, labels, loc="upper left", bbox_to_anchor=(1.06, 1.0), fontsize=7, frameon=False
    )


def _heat_map(ax: Any, allocation: Allocation, keys: list[Any], edges: list[Any]) -> None:
    """Every EVSE's limit (A per phase) per slot; blank without a vehicle, hatched if paused."""
    dates: Any = importlib.import_module("matplotlib.dates")
    x = dates.date2num(edges)
    rows = []
    for key in keys:
        present = allocation.sessions[key]
        rows.append(
            [
                a if s >= 0 else float("nan")
                for a, s in zip(allocation.amps[key], present, strict=True)
            ]
        )
    y = list(range(len(keys) + 1))
    mesh = ax.pcolormesh(x, y, rows, cmap="viridis", shading="flat", vmin=0)
    for row, key in enumerate(keys):
        paused = allocation.paused[key]
        for i, flag in enumerate(paused):
            if flag:
                ax.add_patch(_hatch(x[i], row, x[i + 1] - x[i]))
    ax.set_ylim(len(keys), 0)
    step = max(1, -(-len(keys) // MAX_LABELLED_EVSES))
    ticks = list(range(0, len(keys), step))
    ax.set_yticks([t + 0.5 for t in ticks])
    ax.set_yticklabels(
        [f"{keys[t][0]}/{keys[t][1]}" for t in ticks], fontsize=6 if len(keys) > 20 else 8
    )
    ax.set_title(
        "EVSE limits (A per phase; blank: no vehicle, hatched: paused)", loc="left", fontsize=10
    )
    bar = ax.figure.colorbar(mesh, cax=ax.inset_axes((1.01, 0.0, 0.012, 1.0)))
    bar.set_label("A per phase")


def _hatch(x: float, row: int, width: float) -> Any:
    patches: Any = importlib.import_module("matplotlib.patches")
    return patches.Rectangle(
        (x, row), width, 1, fill=False, hatch="////", edgecolor="white", linewidth=0
    )

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


def plot_allocation(allocation: Allocation, path: str | Path) -> Path:
    """Draw the allocation to an image file (PNG by extension); returns the path."""
    plt = _pyplot()
    site = allocation.site
    zone = site.zone
    edges = [from_epoch(t).astimezone(zone) for t in allocation.boundaries]
    circuits = list(allocation.loads)
    fig, axes = plt.subplots(
        len(circuits) + 1, 1, figsize=(11, 2.4 * (len(circuits) + 1)), sharex=True
    )
    colors = ("tab:brown", "tab:gray", "tab:purple")
    for ax, circuit in zip(axes, circuits, strict=False):
        loads = allocation.loads[circuit]
        limits = allocation.limits[circuit]
        for p in range(3):
            values = [load[p] for load in loads]
            ax.stairs(
                values, edges, label=f"L{p + 1}", color=colors[p], linewidth=1.4, baseline=None
            )
        lowest = [min(limit) for limit in limits]
        ax.stairs(lowest, edges, color="red", linestyle="--", label="limit", baseline=None)
        watts = allocation.watt_limits[circuit]
        if any(w is not None for w in watts):
            as_amps = [w / (3 * site.voltage) if w is not None else float("nan") for w in watts]
            ax.stairs(
                as_amps,
                edges,
                color="orange",
                linestyle=":",
                linewidth=2,
                label="power limit / (3 x V)",
                baseline=None,
            )
        ax.set_ylabel("A")
        ax.set_title(f"circuit {circuit}", loc="left", fontsize=10)
        ax.legend(loc="upper right", fontsize=7, ncol=4)
    ax = axes[-1]
    for key, amps in sorted(allocation.amps.items()):
        ax.stairs(list(amps), edges, label=f"{key[0]}/{key[1]}", linewidth=1.0, baseline=None)
    ax.set_ylabel("A per phase")
    ax.set_title("EVSE limits", loc="left", fontsize=10)
    dates: Any = importlib.import_module("matplotlib.dates")
    ax.xaxis.set_major_formatter(dates.DateFormatter("%H:%M", tz=zone))
    ax.set_xlabel(f"local time ({site.time_zone})")
    ax.legend(loc="upper right", fontsize=6, ncol=5)
    fig.suptitle(f"{site.name}: balanced limits ({allocation.policy})")
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out

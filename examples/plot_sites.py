"""Draw the balanced plan of sites of 10, 50 and 200 EVSEs (the pictures in the docs).

    python -m pip install -e '.[plot]'
    python examples/plot_sites.py [--out docs/images]

The 10-EVSE site is the embedded demo (``ocpp-schedule demo``); the 50- and 200-EVSE sites
are ``benchmarks/balance.py``'s generated workplace sites (feeders of 25 piles of 22 kW
behind cabinets with an evening step). Each picture shows the circuits' loads per phase
against their limits (and power against a power limit, in kW) above a heat-map of every
EVSE's limit over the day.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ocpp_schedule.site import DEMO_DAY, balance, demo_site, plot_allocation

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from balance import large_site


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/images", help="directory for the PNG files")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for size, site in ((10, demo_site()), (50, large_site(50)), (200, large_site(200))):
        allocation = balance(site, start=DEMO_DAY, duration=86400, resolution=900)
        path = plot_allocation(allocation, out / f"plan-{size}-evses.png")
        print(f"{size} EVSEs: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

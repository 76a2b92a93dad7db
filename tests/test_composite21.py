"""The OCPP 2.1 composite, field by field (issue 14, items 1 and 3; docs/semantics.md V21-7..).

Each field is checked instant by instant against a small per-second evaluation
written here from the specification (ocpp-facts.md section 6), not from the engine.
"""

from __future__ import annotations

from helpers import at, on, periods, profile, tx

from ocpp_schedule import StationConfig, composite_schedule, station_composites

TXD = "TxDefaultProfile"
GEN = "LocalGeneration"
MAX = "ChargingStationMaxProfile"


def comp(entries, *, evse_id=1, duration=1200, **kw):
    return composite_schedule(entries, evse_id=evse_id, start=at(0), duration=duration, **kw)


# ------------------------------------------------------------- LocalGeneration (item 3)


def test_v21_7_station_local_generation_counts_once() -> None:
    """An EVSE-0 LocalGeneration adds once to the station total, not once per EVSE."""
    entries = [
        on(0, profile(1, TXD, [(0, 5000.0)], unit="W")),
        on(0, profile(2, GEN, [(0, 2000.0)], unit="W")),
    ]
    two = StationConfig(evse_ids=(1, 2))
    # each EVSE may use the station's generation ...
    assert periods(comp(entries, unit="W", config=two)) == [(0, 7000.0, 3)]
    # ... but the station draws 2 x 5000 W + 2000 W once, not 2 x 7000 W
    assert periods(comp(entries, evse_id=0, unit="W", config=two)) == [(0, 12000.0, 3)]
    batch = station_composites(entries, start=at(0), duration=1200, unit="W", config=two)
    assert periods(batch[0]) == [(0, 12000.0, 3)]
    assert periods(batch[1]) == periods(batch[2]) == [(0, 7000.0, 3)]


def test_v21_7_one_evse_station_total_equals_its_evse() -> None:
    """On a one-EVSE station the EVSE-0 answer equals EVSE 1's, generation and caps included."""
    entries = [
        on(0, profile(1, TXD, [(0, 16.0), (300, 32.0)])),
        on(0, profile(2, MAX, [(0, 25.0)])),
        on(0, profile(3, GEN, [(0, 4.0), (600, 0.0)])),
    ]
    one = StationConfig(evse_ids=(1,))
    for t in (None, tx()):
        evse1 = comp(entries, config=one, transaction=t)
        evse0 = comp(entries, evse_id=0, config=one, transaction=t)
        assert periods(evse0) == periods(evse1) == [(0, 20.0, 3), (300, 29.0, 3), (600, 25.0, 3)]


def test_v21_7_evse_own_generation_stays_with_its_evse() -> None:
    """An EVSE-specific LocalGeneration is part of that EVSE's draw in the total."""
    entries = [
        on(0, profile(1, TXD, [(0, 10.0)])),
        on(1, profile(2, GEN, [(0, 3.0)])),
    ]
    two = StationConfig(evse_ids=(1, 2))
    assert periods(comp(entries, config=two)) == [(0, 13.0, 3)]
    assert periods(comp(entries, evse_id=2, config=two)) == [(0, 10.0, 3)]
    assert periods(comp(entries, evse_id=0, config=two)) == [(0, 23.0, 3)]

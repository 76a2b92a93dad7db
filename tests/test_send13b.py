"""The warm send plan's fast paths (issues 13, 16, helper SEND13B) against their references.

- the loads after some EVSEs change, as the loads before plus their differences
  (``_Loads.changed``), against summing every EVSE's new pieces afresh (``_Loads.fill``):
  the same floats, cell by cell; and ``fill`` by groups of pile circuit and phases against
  the exact sum of every piece (tests/test_send16.py's reference, kept);
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from test_send16 import _exact, _members, _snap

from ocpp_schedule.site._plancheck import _Loads
from ocpp_schedule.site._timelines import Piece


@st.composite
def _moves(draw: st.DrawFn) -> tuple[Any, list[int], list[Any], list[Any]]:
    """A site's EVSEs before (``members``) and the same EVSEs after, some with new pieces."""
    site, grid, members = draw(_members())
    _, _, others = draw(_members())
    after = []
    for k, (pile, pieces) in enumerate(members):
        if draw(st.booleans()):
            # new pieces: another draw's pieces for some EVSE, or none at all
            replacement = others[k % len(others)][1] if others else []
            after.append((pile, replacement))
        else:
            after.append((pile, pieces))
    return site, grid, members, after


@settings(max_examples=200, deadline=None)
@given(_moves())
def test_changed_is_fill_of_the_new_pieces(case: Any) -> None:
    """The loads before plus the moved EVSEs' differences equal the new pieces summed afresh
    (the same floats, also where a row becomes or stays all zero), and are exact."""
    site, grid, before, after = case
    grid = _snap(grid, [*before, *after])
    base = _Loads(site, grid)
    base.fill(before)
    moves = [
        (pile, old, new)
        for (pile, old), (_, new) in zip(before, after, strict=True)
        if old is not new
    ]
    changed = base.changed(moves)
    fresh = _Loads(site, grid)
    fresh.fill(after)
    assert changed.amps == fresh.amps
    exact = _exact(site, grid, after)
    for circuit, rows in exact.items():
        for p in range(3):
            assert changed.amps[circuit][p] == [float(x) for x in rows[p]]


def test_changed_aligns_the_denominators() -> None:
    """Loads whose caps need 2^-1 plus a change whose caps need 2^-2 (and the reverse):
    the two exact sums are brought to one denominator before they are added."""
    from test_sendwarm import _small_site

    site = _small_site()
    pile = site.piles[0]
    grid = [0, 10, 20]
    for old_cap, new_cap in ((0.5, 0.25), (0.25, 0.5), (3.0, 0.75)):
        before = [(pile, [Piece(0, 20, old_cap, 3, -1)]), (pile, [Piece(0, 10, 1.5, 1, -1)])]
        after = [(pile, [Piece(0, 20, old_cap, 3, -1)]), (pile, [Piece(0, 20, new_cap, 2, -1)])]
        base = _Loads(site, grid)
        base.fill(before)
        changed = base.changed([(pile, before[1][1], after[1][1])])
        fresh = _Loads(site, grid)
        fresh.fill(after)
        assert changed.amps == fresh.amps, (old_cap, new_cap)

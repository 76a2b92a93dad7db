"""send_plan's fast paths (issue 16, helper SEND16) against their reference paths.

Each fast path is checked against what it replaces, on random input:

- the post-condition's loads summed exactly by difference rows (``_Loads.fill``) against
  the exact sum of every piece, and against the piece-by-piece additions (``_Loads.add``)
  within rounding;
"""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st
from strategies_site import sites

from ocpp_schedule.site import Site
from ocpp_schedule.site._plancheck import _Loads
from ocpp_schedule.site._timelines import Piece

# ------------------------------------------------------------------ exact loads


_CAPS = st.one_of(
    st.integers(-4, 64).map(float),
    st.floats(-1.0, 80.0, allow_nan=False, allow_infinity=False),
    st.sampled_from([0.1, 0.2, 0.3, 6.1, 10.3, 1e-9, 5e-324, 1e-300, 31.7]),
)


@st.composite
def _members(draw: st.DrawFn) -> tuple[Site, list[int], list[tuple[object, list[Piece]]]]:
    site = draw(sites())
    grid = sorted(set(draw(st.lists(st.integers(0, 50), min_size=2, max_size=12))))
    if len(grid) < 2:
        grid = [0, 10]
    members = []
    for pile in site.piles:
        for _ in pile.evses:
            pieces = []
            cursor = draw(st.integers(grid[0] - 5, grid[-1]))
            for _ in range(draw(st.integers(0, 4))):
                length = draw(st.integers(1, 20))
                pieces.append(
                    Piece(
                        cursor,
                        cursor + length,
                        draw(_CAPS),
                        draw(st.integers(0, 3)),
                        -1,
                    )
                )
                cursor += length + draw(st.integers(0, 5))
            members.append((pile, pieces))
    return site, grid, members


def _exact(site: Site, grid: list[int], members) -> dict[str, list[list[Fraction]]]:
    """Every cell's load as the exact sum of the pieces that cover it."""
    paths = site.paths()
    size = len(grid) - 1
    out = {c: [[Fraction(0)] * size for _ in range(3)] for c in paths}
    for pile, pieces in members:
        for piece in pieces:
            if piece.cap <= 0 or piece.phases <= 0:
                continue
            for i in range(size):
                # a cell is covered when the piece starts at or before it and ends after it
                if piece.start <= grid[i] and grid[i] < piece.end:
                    for circuit in paths[pile.circuit]:
                        for p in range(piece.phases):
                            out[circuit][pile.circuit_phase(p)][i] += Fraction(piece.cap)
    return out


def _snap(grid: list[int], members):
    """The pieces with ends on grid points (as the check's grid is built from them)."""
    points = set(grid)
    for _, pieces in members:
        for piece in pieces:
            points.update((piece.start, piece.end))
    return sorted(points)


@settings(max_examples=150, deadline=None)
@given(_members())
def test_fill_is_the_exact_sum_rounded_once(case) -> None:
    """``fill`` gives every cell the exact sum of its pieces, rounded once to a float."""
    site, grid, members = case
    grid = _snap(grid, members)
    loads = _Loads(site, grid)
    loads.fill(members)
    exact = _exact(site, grid, members)
    for circuit, rows in exact.items():
        for p in range(3):
            assert loads.amps[circuit][p] == [float(x) for x in rows[p]], (circuit, p)


@settings(max_examples=150, deadline=None)
@given(_members())
def test_fill_matches_the_piece_by_piece_additions(case) -> None:
    """The piece-by-piece additions (the reference path) agree within float rounding."""
    site, grid, members = case
    grid = _snap(grid, members)
    fast = _Loads(site, grid)
    fast.fill(members)
    slow = _Loads(site, grid)
    for pile, pieces in members:
        slow.add(pile, pieces, 1.0)
    for circuit in fast.amps:
        for p in range(3):
            for a, b in zip(fast.amps[circuit][p], slow.amps[circuit][p], strict=True):
                assert abs(a - b) <= 1e-9 * max(1.0, abs(b))

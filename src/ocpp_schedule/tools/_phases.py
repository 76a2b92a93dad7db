"""The all-phase limit of a per-phase 2.1 period, shared by the answer readers.

OCPP 2.1 §2.18: where a period gives ``limit_L2``/``limit_L3``, ``limit`` is
phase L1's; otherwise it is the all-phase value. The engine derives its
all-phase limit from per-phase values as the least phase in use (A, a current
per phase) or their sum (W) (docs/semantics.md V21-8); the drift check
(V21-15) and ``CompositeAnswer.schedule`` read an answer the same way.
"""

from __future__ import annotations


def all_phase_limit(
    l1: float, l2: float | None, l3: float | None, phases: int | None, unit_w: bool
) -> float:
    """The all-phase limit of a period whose ``limit`` is ``l1`` and L2/L3 are as given.

    Without L2 and L3, ``l1`` is already the all-phase value. A missing L2 or
    L3 is L1's. Only the phases in use (``numberPhases``, 3 when absent or out
    of 1..3) count: their sum in W, the least in A.
    """
    if l2 is None and l3 is None:
        return l1
    values = [l1, l1 if l2 is None else l2, l1 if l3 is None else l3]
    used = values[: phases if phases in (1, 2, 3) else 3]
    return sum(used) if unit_w else min(used)

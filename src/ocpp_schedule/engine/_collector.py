"""Pausing Python's cyclic garbage collector around work that makes no reference cycles.

Each full collection walks every tracked object resident in the process. Work that
allocates many objects that survive young collections (a fleet shard's pass, a send
plan over a site already holding the previous plan and the memos) sets off several full
collections, each over the whole heap, though reference counting frees everything it
drops. Pausing the collector for such work changes no result, only when the process
next scans its heap (docs/performance.md: FLEET17, SENDWARM).
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

__all__ = ["collector_paused", "pauses_collector"]

_P = ParamSpec("_P")
_R = TypeVar("_R")


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while the block runs, then restore it.

    Only for work measured to make no reference cycles (a collection after it finds
    none), so nothing it drops waits for the collector. The collector is enabled again
    only if it was enabled before (the caller, or an enclosing pause, may have paused it),
    also when the block raises.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def pauses_collector(work: Callable[_P, _R]) -> Callable[_P, _R]:
    """``work`` run under :func:`collector_paused` (its name, docstring and signature kept):
    for a whole public entry point, such as ``balance`` (docs/performance.md, BAL16C)."""

    @functools.wraps(work)
    def paused(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with collector_paused():
            return work(*args, **kwargs)

    return paused

"""gateway.heap: the serving process's start-up state is frozen out of the collector."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from gateway.heap import OLDER_THRESHOLDS, YOUNG_THRESHOLD, resettle_heap, settle_heap


@pytest.fixture
def restored_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_settle_heap_freezes_what_is_alive_and_raises_the_thresholds(restored_gc: None) -> None:
    kept = [{"start-up": i} for i in range(1000)]  # alive at start-up: must be frozen
    gc.unfreeze()
    assert settle_heap() == (YOUNG_THRESHOLD, *OLDER_THRESHOLDS)
    assert gc.get_freeze_count() >= len(kept)
    assert gc.get_threshold() == (YOUNG_THRESHOLD, *OLDER_THRESHOLDS)
    assert YOUNG_THRESHOLD > 700  # above CPython's default, or the setting does nothing


def test_cycles_made_after_settling_are_still_collected(restored_gc: None) -> None:
    settle_heap()
    node = _Node()
    node.peer = node  # a cycle: reference counting alone never frees it
    ref = weakref.ref(node)
    del node
    gc.collect()
    assert ref() is None


class _Node:
    peer: object = None


def test_resettle_heap_lets_objects_frozen_before_a_swap_be_collected(restored_gc: None) -> None:
    """A schema frozen at start and replaced by a catalog swap must become collectable."""

    class Replaced:
        cycle: object = None

    old = Replaced()
    old.cycle = old  # a cycle: only the collector frees it
    ref = weakref.ref(old)
    settle_heap()
    del old
    gc.collect()
    assert ref() is not None  # frozen: no collection sees it
    resettle_heap()
    assert ref() is None

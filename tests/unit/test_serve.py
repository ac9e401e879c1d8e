"""emulator.serve: what every command line sets up in its process before it serves."""

from __future__ import annotations

import gc

from emulator.serve import YOUNG_COLLECTION_THRESHOLD, collect_garbage_less_often


def test_the_young_generation_is_collected_less_often_and_the_older_ones_as_before() -> None:
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 11, 12)
        collect_garbage_less_often()
        assert gc.get_threshold() == (YOUNG_COLLECTION_THRESHOLD, 11, 12)
        assert YOUNG_COLLECTION_THRESHOLD > 700
        assert gc.isenabled(), "cycles are still collected"
    finally:
        gc.set_threshold(*before)

"""Shared hypothesis settings for the fuzz folder: bounded so the folder runs in seconds.

``FUZZ_EXAMPLES`` raises the example count for a longer, deliberate run
(``FUZZ_EXAMPLES=5000 pytest tests/fuzz``); ``make test`` keeps the default.
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

__all__ = ["FUZZ", "json_values", "text_or_bytes"]

FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "100")),
    deadline=None,  # a shared 2-core machine: bound by example count, not wall clock
    database=None,  # no .hypothesis folder left in the work tree
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

_scalars = (st.none() | st.booleans() | st.integers()
            | st.floats(allow_nan=False, allow_infinity=False) | st.text())

json_values: st.SearchStrategy[Any] = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12,
)
"""Any JSON value (no NaN or Infinity: the wire format has neither)."""

text_or_bytes = st.one_of(st.text(), st.binary())

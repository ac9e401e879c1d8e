"""One time unit for every wait in the tests, scaled for slow machines (websockets' ``MS``)."""

import os

__all__ = ["TIMEOUT"]

TIMEOUT: float = 10.0 * float(os.environ.get("TEST_TIMEOUT_SCALE", "1"))
"""Seconds any single wait may take before the test fails."""

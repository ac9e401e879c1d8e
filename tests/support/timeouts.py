"""One time unit for every wait in the tests, scaled for slow machines (websockets' ``MS``)."""

import os

__all__ = ["STOP_TIMEOUT", "TIMEOUT"]

SCALE = float(os.environ.get("TEST_TIMEOUT_SCALE", "1"))
TIMEOUT: float = 10.0 * SCALE
"""Seconds any single wait may take before the test fails."""
STOP_TIMEOUT: float = 5.0 * SCALE
"""Seconds a command-line entry point may take to stop after SIGINT or SIGTERM."""

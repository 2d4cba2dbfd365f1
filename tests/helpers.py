"""Helpers shared by the test modules (fixtures stay in conftest.py)."""

from __future__ import annotations

import os

from core.clock import ManualClock, parse_instant

# The suite never reads the real clock: every runtime starts at TEST_NOW, a plain Wednesday
# afternoon unless CAMET_TEST_NOW says otherwise. `make test` reruns the tests marked `clock`
# at a month end, a year end and a leap day.
TEST_NOW = os.environ.get("CAMET_TEST_NOW", "").strip() or "2026-11-18T15:30:00-03:00"
TEST_TZ = "America/Argentina/Buenos_Aires"


def frozen_test_clock() -> ManualClock:
    """A frozen clock at TEST_NOW (a TEST_NOW without offset is plant time in Buenos Aires)."""
    return ManualClock(parse_instant(TEST_NOW, TEST_TZ))

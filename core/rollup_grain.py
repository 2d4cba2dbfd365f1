"""The time grain of the rollups and the bins of their weight histogram (pure, no database).

ROLLUP_GRAIN is 5 minutes. The demo plant's shifts start on the hour (06:00, 14:00, 22:00) and
its planned breaks start and end on multiples of five minutes (10:00–10:20, 18:00–18:20,
02:00–02:20), so every shift start and every break edge falls on a bucket edge: a shift or
break filter selects whole buckets and the rollups answer it exactly. 15 minutes would split
a break ending at 10:20; 1 minute would multiply the rows by five for no filter that needs
it. Buckets are aligned to the hour in plant local time (`detections.ts` is naive plant time),
so they need no timezone.

The histogram counts weights by their deviation from the product's nominal weight, in percent:
`dev = (weight − nominal) × 100 / nominal`. HIST_EDGES_PCT are the edges −10, −9, …, +10:
bin 0 is dev < −10 (open-ended), bin k (1…20) is edges[k−1] ≤ dev < edges[k], bin 21 is
dev ≥ +10 (open-ended): 22 counts in all. A weight equal to an edge goes to the bin above it.
The SQL that fills `rollups.hist` (core/rollup_sql.py) computes `dev` with the same operations
in the same order, so `hist_bin` here and the database agree to the last bit.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

ROLLUP_GRAIN = timedelta(minutes=5)
GRAIN_SECONDS = int(ROLLUP_GRAIN.total_seconds())

HIST_LOW_PCT = -10
HIST_HIGH_PCT = 10
HIST_STEP_PCT = 1
HIST_EDGES_PCT: tuple[int, ...] = tuple(range(HIST_LOW_PCT, HIST_HIGH_PCT + 1, HIST_STEP_PCT))
HIST_BINS = len(HIST_EDGES_PCT) + 1  # the inner bins plus the two open-ended ones

if 3600 % GRAIN_SECONDS:
    raise ValueError("ROLLUP_GRAIN must divide one hour so buckets align to the hour")


def floor_to_grain(ts: datetime) -> datetime:
    """Start of the bucket holding `ts` (same naive plant-time convention as detections.ts)."""
    into_hour = ts.minute * 60 + ts.second
    return ts.replace(minute=0, second=0, microsecond=0) + timedelta(
        seconds=into_hour - into_hour % GRAIN_SECONDS)


def ceil_to_grain(ts: datetime) -> datetime:
    """The first bucket edge at or after `ts`."""
    start = floor_to_grain(ts)
    return start if start == ts else start + ROLLUP_GRAIN


def deviation_pct(weight: float, nominal: float) -> float:
    """Deviation from nominal in percent, computed exactly as the SQL does."""
    return (weight - nominal) * 100.0 / nominal


def hist_bin(weight: float, nominal: float) -> int:
    """The histogram bin (0…HIST_BINS−1) of one weight for a product of that nominal weight."""
    dev = deviation_pct(weight, nominal)
    if dev < HIST_LOW_PCT:
        return 0
    if dev >= HIST_HIGH_PCT:
        return HIST_BINS - 1
    return math.floor((dev - HIST_LOW_PCT) / HIST_STEP_PCT) + 1


def empty_hist() -> list[int]:
    """A histogram with every bin at zero."""
    return [0] * HIST_BINS

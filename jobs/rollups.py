"""The rollups job: the rollups room's incremental run (rollups/job.py), every 5 minutes."""

from __future__ import annotations

from datetime import timedelta

from core.runtime import Runtime
from jobs.registry import job
from rollups.job import roll_tenant


@job("rollups", every=timedelta(minutes=5),
     description="counts and weight sums per line, 5-minute bucket, product and status (rollups)")
def rollups_job(rt: Runtime, slug: str) -> int:
    """Incremental rollups of one tenant; returns the rollup rows written."""
    return sum(r.rows for r in roll_tenant(rt, slug))

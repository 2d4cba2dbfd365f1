"""The gap-analysis job: the stops room's incremental run (stops/job.py), every 5 minutes."""

from __future__ import annotations

from datetime import timedelta

from core.runtime import Runtime
from jobs.registry import job
from stops.job import analyse_tenant


@job("gap-analysis", every=timedelta(minutes=5),
     description="stops and micro-stops per line and shift instance (stops table)")
def gap_analysis_job(rt: Runtime, slug: str) -> int:
    """Incremental gap analysis of one tenant; returns the stop rows written."""
    return sum(r.rows for r in analyse_tenant(rt, slug))

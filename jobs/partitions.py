"""The partitions job: monthly partitions ahead of the data (core/partition_upkeep.py), every 6 hours."""

from __future__ import annotations

import logging
from datetime import timedelta

from core.partition_upkeep import maintain_tenant
from core.runtime import Runtime
from jobs.registry import job

log = logging.getLogger(__name__)


@job("partitions", every=timedelta(hours=6),
     description="monthly partitions ahead of the data, rows moved out of pmax (MySQL)")
def partitions_job(rt: Runtime, slug: str) -> int:
    """Partition maintenance of one tenant; returns the partitions created or dropped."""
    changes = maintain_tenant(rt, slug)
    if not changes:
        log.info("partitions: nothing to do for %s (SQLite or no line tables)", slug)
    return sum(len(v) for v in changes.values())

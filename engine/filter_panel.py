"""The tenant's filter definitions, ready to render, and the `Filters` rows that were skipped.

A row that cannot be used is reported, never fatal; each report is complete (row id, class name,
param, reason) and the caller decides how much of it its audience may see.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.runtime import Runtime
from filters import load_filter_set


@dataclass(frozen=True)
class FilterPanel:
    """What the dashboard's filter panel needs, in display order."""

    filters: list[dict[str, Any]]
    skipped: list[dict[str, Any]]
    timezone: str
    metadata_version: int


def filter_panel(rt: Runtime, tenant: str) -> FilterPanel:
    """Filter definitions (options from the metadata cache, defaults) and the skipped rows."""
    with rt.db.tenant(tenant) as conn:
        meta = rt.meta.get(tenant, conn=conn)
        filter_set = load_filter_set(conn, meta, rt.clock)
    return FilterPanel(filters=filter_set.describe(), skipped=[e.to_dict() for e in filter_set.errors],
                       timezone=meta.timezone, metadata_version=meta.version)

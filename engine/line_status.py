"""Every active line's status now, with its times sent as RFC 3339 date-times.

The detections store plant-local times; the answer carries the plant's UTC offset
(`2026-11-18T15:29:54-03:00`) so an API client can compare them.
"""

from __future__ import annotations

from typing import Any

from core.clock import plant_now
from core.runtime import Runtime
from core.timeutil import with_plant_offset
from query.line_status import RATE_WINDOW_MIN, line_statuses


def lines_status_now(rt: Runtime, tenant: str) -> dict[str, Any]:
    """The plant's time now, its zone, the rate window and one status per active line."""
    with rt.db.tenant(tenant) as conn:
        meta = rt.meta.get(tenant, conn)
        lines = line_statuses(conn, meta, rt.clock)
    tz = meta.timezone
    return {
        "now": with_plant_offset(plant_now(rt.clock, tz).replace(microsecond=0), tz),
        "timezone": tz,
        "rate_window_min": RATE_WINDOW_MIN,
        "lines": [{**item, "since": with_plant_offset(item["since"], tz),
                   "last_detection": with_plant_offset(item["last_detection"], tz)} for item in lines],
    }

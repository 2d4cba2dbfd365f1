"""Admin API for the plant's lines: list, add, edit (name, area, ideal rate, thresholds, active).

Lines are never deleted here: their detections, stops and imports point at them. A line that
stops producing is deactivated (`active: false`). A new line gets its detections table at once.
Changed thresholds mark the line's stops for re-analysis (the loader's `apply_plant`).
"""

from __future__ import annotations

from app_fastapi.admin.plant_bodies import LineBody
from app_fastapi.admin.plant_coded import CodedKind, coded_router
from core import schema_tenant as t
from core.detection_tables import ensure_line_table
from core.runtime import Runtime
from identity.engine_tokens import Principal
from ingest.plant_rows import Row, line_rows


def _detections_table(rt: Runtime, principal: Principal, row: Row) -> None:
    """DDL commits on MySQL, so the table is made after the audited change, in its own unit."""
    with rt.db.tenant(principal.tenant) as conn:
        ensure_line_table(conn, row["id"], today=rt.clock.now_utc().date())


router = coded_router(CodedKind("lines", "lines", t.lines, line_rows, LineBody, "línea", "una línea", "line"),
                      after_create=_detections_table)

"""Gap-analysis bookkeeping shared by writers: mark production dates for re-analysis.

CSV imports of history, threshold changes and calendar changes call `mark_dirty` inside their
own transaction; the gap-analysis job (jobs/gap_job.py) starts its next run at the earliest
dirty date, so `stops` always equals a recomputation from the raw detections.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from core.schema_tenant import stops_state

FROM_START = date(1970, 1, 1)  # "everything": the job clamps it to the line's first detection


def mark_dirty(conn: Connection, line_ids: Iterable[int], from_date: date) -> None:
    """Ask for re-analysis of `line_ids` from production date `from_date` on."""
    c = stops_state.c
    for line_id in sorted(set(line_ids)):
        row = conn.execute(select(c.dirty_from).where(c.line_id == line_id)).first()
        if row is None:
            conn.execute(insert(stops_state).values(line_id=line_id, next_date=None, dirty_from=from_date))
        elif row.dirty_from is None or from_date < row.dirty_from:
            conn.execute(update(stops_state).where(c.line_id == line_id).values(dirty_from=from_date))

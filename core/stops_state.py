"""Gap-analysis bookkeeping shared by writers: mark production dates for re-analysis.

Writers of detections (through core/derived_state.py), threshold changes and calendar changes
call `mark_dirty` inside their own transaction; the gap-analysis job (stops/job.py) starts
its next chunk at the earliest dirty date, so `stops` always equals a recomputation from the
raw detections.

A mark only ever moves `dirty_from` earlier, in one conditional UPDATE (the database compares
under the row lock, so two writers marking at once keep the earlier date). The job locks the
same row at the start of each chunk and clears the mark in the chunk that folds it in, so a
mark made while a run is under way is never lost: either the chunk sees the writer's rows, or
the writer's mark lands after the chunk's commit and the next chunk (or run) starts there.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import Table, case, insert, or_, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql.dml import Insert

from core.schema_tenant import stops_state

FROM_START = date(1970, 1, 1)  # "everything": the job clamps it to the line's first detection


def insert_ignore(conn: Connection, table: Table) -> Insert:
    """INSERT that leaves an existing row with the same key alone (both backends)."""
    return insert(table).prefix_with("OR IGNORE" if conn.dialect.name == "sqlite" else "IGNORE")


def ensure_row(conn: Connection, line_id: int) -> None:
    """The line's state row (never analysed: no watermark), created at most once under races;
    made with the line's table, so writers' marks find it and only UPDATE."""
    conn.execute(insert_ignore(conn, stops_state).values(line_id=line_id, next_date=None, dirty_from=None))


def mark_dirty(conn: Connection, line_ids: Iterable[int], from_date: date) -> None:
    """Ask for re-analysis of `line_ids` from production date `from_date` on."""
    c = stops_state.c
    earlier = or_(c.dirty_from.is_(None), c.dirty_from > from_date)
    for line_id in sorted(set(line_ids)):
        mark = update(stops_state).where(c.line_id == line_id).values(
            dirty_from=case((earlier, from_date), else_=c.dirty_from))
        # The UPDATE write-locks the row at once (an INSERT IGNORE first would take a read lock
        # that two concurrent writers could not both upgrade); only a line never analysed nor
        # marked lacks its row, and gets it here.
        if not conn.execute(mark).rowcount:
            ensure_row(conn, line_id)
            conn.execute(mark)

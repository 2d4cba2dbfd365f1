"""Rollup bookkeeping shared by writers: mark buckets of a line for re-aggregation.

Writers of detections (ingestion batches, CSV imports) call `mark_rollups_dirty` in their own
transaction BEFORE inserting, with the earliest and latest timestamps they write; a change of
nominal weights calls `mark_products_dirty`. A line keeps one dirty range: a new mark widens it
to cover both (the hull), so the job redoes the touched buckets and at most those between.

The rollup job (rollups/job.py) locks the same `rollups_state` row at the start of each
chunk, so a writer and the job take the row in the same order and never miss each other:
either the writer's rows are visible to the chunk, or the writer commits after the chunk and
finds `rolled_until` already past its rows, and marks them.

A mark is kept only when it starts below rolled_until: later buckets are aggregated by the
job's normal forward run anyway.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.engine import Connection

from core.rollup_grain import ROLLUP_GRAIN, floor_to_grain
from core.schema_tenant import rollups, rollups_state


def mark_rollups_dirty(conn: Connection, line_id: int, earliest_ts: datetime, latest_ts: datetime) -> None:
    """Ask for the buckets of `line_id` holding earliest_ts … latest_ts to be redone.

    The UPDATE matches the line's state row whatever the mark, so it always locks that row
    (InnoDB keeps the lock to commit; SQLite takes the database write lock).
    """
    first, until = floor_to_grain(earliest_ts), floor_to_grain(latest_ts) + ROLLUP_GRAIN
    c = rollups_state.c
    late = c.rolled_until > first
    lower = and_(late, or_(c.dirty_from.is_(None), c.dirty_from > first))
    higher = and_(late, or_(c.dirty_until.is_(None), c.dirty_until < until))
    conn.execute(update(rollups_state).where(c.line_id == line_id).values(
        dirty_from=case((lower, first), else_=c.dirty_from),
        dirty_until=case((higher, until), else_=c.dirty_until)))


def mark_products_dirty(conn: Connection, product_ids: Iterable[int]) -> list[int]:
    """Mark, on every line, the rolled-up buckets holding these products (their nominal weight
    changed: under/over counts and histograms depend on it); returns the lines marked."""
    ids = sorted(set(product_ids))
    if not ids or not conn.dialect.has_table(conn, rollups.name):
        return []
    r = rollups.c
    spans = conn.execute(select(r.line_id, func.min(r.bucket_start), func.max(r.bucket_start))
                         .where(r.product_id.in_(ids)).group_by(r.line_id).order_by(r.line_id)).all()
    for line_id, first, last in spans:
        mark_rollups_dirty(conn, line_id, first, last)
    return [line_id for line_id, _, _ in spans]

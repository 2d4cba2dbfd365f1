"""One step for every writer of detections: mark what is derived from them for recomputation.

Derived data (the rollups and the gap analysis's stops) must always equal a recomputation from
the raw detections. Every path that writes detections (the CSV import of the command line and
of browser uploads, the ingestion API's batches, any future writer) calls
`mark_detections_written` in the transaction that writes them, BEFORE inserting, with the
earliest and latest timestamps it writes. It marks:

- the rollup buckets from the earliest to the latest row (core/rollups_state.py), first: the
  rollup job locks the same row before it reads detections, so writers and the job take their
  locks in the same order;
- the gap analysis from the production date before the earliest row (core/stops_state.py):
  the analysis keeps its watermark per production date, and a detection at 03:00 belongs to a
  night shift that started the day before; one day earlier is a safe bound whatever the plant's
  production-day start (core/production_days.py).

A write that turns out to add nothing (a resent batch) costs at most a redo of those dates.
Edits of what derived data is computed with (thresholds, the calendar, nominal weights, the
history start) mark through the same two modules, rollups first as here, from
ingest/plant_metadata.py, ingest/plant_settings.py and the admin plant routes.

`bump_derived_version` counts rewrites of derived data the dashboards read directly (the gap
analysis's stops), so the result cache's data watermark moves when a job corrects them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from core.rollups_state import mark_rollups_dirty
from core.schema_tenant import meta_state
from core.stops_state import insert_ignore, mark_dirty

DERIVED_VERSION = "derived_version"  # meta_state key

DAY = timedelta(days=1)


def stops_dirty_from(earliest_ts: datetime) -> date:
    """The first production date whose stops a detection at `earliest_ts` can change."""
    return earliest_ts.date() - DAY


def mark_detections_written(conn: Connection, line_id: int, earliest_ts: datetime,
                            latest_ts: datetime) -> None:
    """Mark the rollups and the stops that rows of `line_id` in [earliest_ts, latest_ts] change
    (the caller's transaction, before it inserts them)."""
    mark_rollups_dirty(conn, line_id, earliest_ts, latest_ts)
    mark_dirty(conn, [line_id], stops_dirty_from(earliest_ts))


def ensure_derived_version(conn: Connection) -> None:
    """Create the rewrite counter once, in its own short transaction (before a run's chunks)."""
    conn.execute(insert_ignore(conn, meta_state).values(key=DERIVED_VERSION, value=0))


def bump_derived_version(conn: Connection) -> None:
    """Count one rewrite of derived data (the caller's transaction). A plain UPDATE takes the
    row's write lock at once, so two chunks never deadlock upgrading a read lock."""
    m = meta_state.c
    conn.execute(update(meta_state).where(m.key == DERIVED_VERSION).values(value=m.value + 1))


def derived_version_query():  # noqa: ANN201 - a scalar subquery
    """The rewrite count as a scalar subquery (NULL before the first rewrite)."""
    return select(meta_state.c.value).where(meta_state.c.key == DERIVED_VERSION).scalar_subquery()

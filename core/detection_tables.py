"""Create each line's detections table and keep its monthly partitions ahead of the data."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import Index, MetaData
from sqlalchemy.engine import Connection

from core import partitions
from core.db import is_mysql
from core.schema_tenant import detections_table, detections_table_name, stops_state
from core.stops_state import ensure_row

MONTHS_AHEAD = 2


def wanted_months(data_months: Iterable[date], today: date) -> list[date]:
    """The months that hold data, plus `today`'s month and the next two."""
    months = {partitions.month_start(m) for m in data_months}
    for n in range(MONTHS_AHEAD + 1):
        months.add(partitions.add_months(today, n))
    return sorted(months)


def ensure_line_table(
    conn: Connection, line_id: int, data_months: Iterable[date] = (), *, today: date
) -> list[str]:
    """Create the line's table if missing and add partitions for the months given; the line's
    gap-analysis state row exists from then on (writers' marks then only UPDATE it).

    `today` is the plant's date from the injected clock: partitions are kept ahead of it.

    Returns the partition names created (always empty on SQLite). On MySQL this DDL commits
    implicitly, so callers run it outside the transaction that writes rows.
    """
    months = wanted_months(data_months, today)
    name = detections_table_name(line_id)
    if conn.dialect.has_table(conn, stops_state.name):
        ensure_row(conn, line_id)
    if is_mysql(conn.engine.url):
        if not conn.dialect.has_table(conn, name):
            partitions.create_partitioned(conn, detections_table(line_id), months)
            return [partitions.partition_name(m) for m in months]
        return partitions.ensure_months(conn, name, months)
    table = detections_table(line_id, MetaData())  # the Index below attaches to it
    table.create(conn, checkfirst=True)
    Index(f"ix_{name}_ts", table.c.ts).create(conn, checkfirst=True)
    return []

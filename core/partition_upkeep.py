"""Partition maintenance: every detection table, and `rollups`, keep monthly partitions ahead.

MySQL/MariaDB only: for each line table and the rollups table (by bucket_start), the current
month and the next `CAMET_PARTITION_MONTHS_AHEAD` months exist; rows that landed in `pmax`
(data beyond the last month) get the months that hold them created (not the empty ones
between), which REORGANIZE moves out of `pmax`; with `CAMET_PARTITION_RETENTION_MONTHS` > 0,
monthly partitions wholly older than that many months are dropped (off by default, and the
same months for rollups and detections). Running it twice changes nothing. On SQLite there is nothing to do.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import text
from sqlalchemy.engine import Connection

from core import partitions as p
from core import schema_tenant as t
from core.clock import plant_today
from core.commit_guard import checkpoint
from core.db import is_mysql
from core.runtime import Runtime


def pmax_months(conn: Connection, table_name: str, column: str = "ts") -> list[date]:
    """The months that hold rows sitting in the catch-all partition (by the partitioning
    column): only those, never every month between its first and last row."""
    return p.months_holding(conn, table_name, column, partition=p.CATCH_ALL)


def drop_older_than(conn: Connection, table_name: str, cutoff: date) -> list[str]:
    """Drop monthly partitions whose whole month is before `cutoff` (retention)."""
    dropped = []
    for name in p.existing_partitions(conn, table_name):
        month = p._month_of(name)
        if month is not None and p.add_months(month, 1) <= cutoff:
            conn.execute(text(f"ALTER TABLE `{table_name}` DROP PARTITION {name}"))
            dropped.append(name)
    return dropped


def maintain_table(conn: Connection, table_name: str, today: date, ahead: int, retention: int,
                   column: str = "ts") -> list[str]:
    """Create missing months (ahead and for rows in pmax), apply retention; returns changes."""
    wanted = [p.add_months(today, n) for n in range(ahead + 1)] + pmax_months(conn, table_name, column)
    changes = p.ensure_months(conn, table_name, wanted)
    if retention > 0:
        cutoff = p.add_months(today, -retention)
        changes += [f"-{name}" for name in drop_older_than(conn, table_name, cutoff)]
    return changes


def maintain_tenant(rt: Runtime, slug: str) -> dict[str, list[str]]:
    """Partition changes per detection table, and of `rollups`, of one tenant (empty on SQLite)."""
    meta = rt.meta.get(slug)
    today = plant_today(rt.clock, meta.timezone)
    out: dict[str, list[str]] = {}
    with rt.db.tenant(slug) as conn:
        if not is_mysql(conn.engine.url):
            return out
        names = [t.detections_table_name(i) for i in sorted(meta.lines)]
        for name in names:
            if conn.dialect.has_table(conn, name):
                checkpoint()  # DDL commits by itself: prove the lock before each table
                out[name] = maintain_table(conn, name, today, rt.settings.partition_months_ahead,
                                           rt.settings.partition_retention_months)
        if conn.dialect.has_table(conn, t.rollups.name):
            checkpoint()
            out[t.rollups.name] = maintain_table(
                conn, t.rollups.name, today, rt.settings.partition_months_ahead,
                rt.settings.partition_retention_months, "bucket_start")
    return out

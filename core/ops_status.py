"""What the operations page shows of a tenant's data: partitions and freshness per line.

Read-only and cheap: one information_schema query per line table on MySQL (partition names,
bounds and InnoDB's estimated row counts) and one MAX(ts) per line on the (ts, seq) primary key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection

from core.clock import Clock, plant_now
from core.db import is_mysql
from core.metadata_cache import TenantMeta
from core.schema_tenant import detections_table, detections_table_name


@dataclass(frozen=True)
class PartitionInfo:
    name: str
    bound: str  # the VALUES LESS THAN expression
    rows: int  # InnoDB's estimate


@dataclass(frozen=True)
class LinePartitions:
    line_code: str
    table: str
    partitions: list[PartitionInfo]


@dataclass(frozen=True)
class LineFreshness:
    line_code: str
    line_name: str
    last_detection: datetime | None  # plant local time, as stored
    age_s: float | None  # plant time now minus the last detection


def partition_status(conn: Connection, meta: TenantMeta) -> list[LinePartitions] | None:
    """Each line table's partitions, or None where partitions do not exist (SQLite)."""
    if not is_mysql(conn.engine.url):
        return None
    out = []
    for line in sorted(meta.lines.values(), key=lambda ln: ln.code):
        name = detections_table_name(line.id)
        rows = conn.execute(text(
            "SELECT PARTITION_NAME, PARTITION_DESCRIPTION, TABLE_ROWS FROM information_schema.PARTITIONS "
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = :t AND PARTITION_NAME IS NOT NULL "
            "ORDER BY PARTITION_ORDINAL_POSITION"), {"t": name}).all()
        infos = [PartitionInfo(r[0], str(r[1]), int(r[2] or 0)) for r in rows]
        out.append(LinePartitions(line.code, name, infos))
    return out


def freshness(conn: Connection, meta: TenantMeta, clock: Clock) -> list[LineFreshness]:
    """The last detection of every line (None when it has none yet) and how old it is."""
    now = plant_now(clock, meta.timezone)
    out = []
    for line in sorted(meta.lines.values(), key=lambda ln: ln.code):
        table = detections_table(line.id)
        last = None
        if conn.dialect.has_table(conn, table.name):
            last = conn.execute(select(func.max(table.c.ts))).scalar()
        if isinstance(last, str):  # SQLite hands back text for an aggregate
            last = datetime.fromisoformat(last)
        age = (now - last).total_seconds() if last is not None else None
        out.append(LineFreshness(line.code, line.name, last, age))
    return out

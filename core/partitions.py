"""Monthly RANGE partitions of the detection tables on MySQL/MariaDB.

Layout: `p0 VALUES LESS THAN (0)` (empty, so automatic pruning never scans a real partition
by default), one `pYYYYMM` per month, and `pmax VALUES LESS THAN MAXVALUE`. Missing months are
added by splitting the partition whose range holds them, so data is never moved by hand.
On SQLite none of this applies; callers check `is_mysql` first.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import Table, text
from sqlalchemy.engine import Connection
from sqlalchemy.schema import CreateTable

FIRST = "p0"
CATCH_ALL = "pmax"


def month_start(d: date) -> date:
    return date(d.year, d.month, 1)


def add_months(d: date, n: int) -> date:
    """First day of the month `n` months after `d`'s month."""
    index = d.year * 12 + (d.month - 1) + n
    return date(index // 12, index % 12 + 1, 1)


def partition_name(month: date) -> str:
    """`p202611` for November 2026; the query builder routes by this name."""
    return f"p{month.year:04d}{month.month:02d}"


def months_between(first: date, last: date) -> list[date]:
    """Every month start from `first`'s month to `last`'s month, inclusive."""
    out, cur = [], month_start(first)
    while cur <= month_start(last):
        out.append(cur)
        cur = add_months(cur, 1)
    return out


def months_holding(conn: Connection, table_name: str, column: str = "ts", *, since: date | None = None,
                   until: date | None = None, partition: str | None = None) -> list[date]:
    """The months in which the table (or one partition of it) holds rows, from `since`'s month
    through `until`'s: one index seek per month found and one more, never one per empty month,
    so a row from 1999 and one from 2030 cost three seeks, not 360 months."""
    where = f" PARTITION ({partition})" if partition else ""
    query = text(f"SELECT MIN({column}) FROM `{table_name}`{where} WHERE {column} >= :lo")
    months: list[date] = []
    cursor = month_start(since) if since is not None else date(1, 1, 1)
    while until is None or cursor <= until:
        found = conn.execute(query, {"lo": cursor}).scalar()
        if found is None or (until is not None and found.date() > until):
            break
        months.append(month_start(found.date()))
        cursor = add_months(found.date(), 1)
    return months


def _definition(month: date) -> str:
    bound = add_months(month, 1).isoformat()
    return f"PARTITION {partition_name(month)} VALUES LESS THAN (TO_DAYS('{bound}'))"


def create_partitioned(conn: Connection, table: Table, months: Iterable[date], *, column: str = "ts") -> None:
    """CREATE TABLE ... PARTITION BY RANGE (TO_DAYS(column)) with the given months."""
    ddl = str(CreateTable(table, if_not_exists=True).compile(dialect=conn.dialect)).rstrip()
    parts = [f"PARTITION {FIRST} VALUES LESS THAN (0)"]
    parts += [_definition(m) for m in sorted({month_start(m) for m in months})]
    parts.append(f"PARTITION {CATCH_ALL} VALUES LESS THAN MAXVALUE")
    conn.execute(text(f"{ddl} PARTITION BY RANGE (TO_DAYS({column})) ({', '.join(parts)})"))


def existing_partitions(conn: Connection, table_name: str) -> list[str]:
    """Partition names of a table in order; empty when it is not partitioned."""
    rows = conn.execute(
        text(
            "SELECT PARTITION_NAME FROM information_schema.PARTITIONS "
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = :t AND PARTITION_NAME IS NOT NULL "
            "ORDER BY PARTITION_ORDINAL_POSITION"
        ),
        {"t": table_name},
    ).scalars()
    return list(rows)


def _month_of(name: str) -> date | None:
    if len(name) == 7 and name[0] == "p" and name[1:].isdigit():
        return date(int(name[1:5]), int(name[5:7]), 1)
    return None


def ensure_months(conn: Connection, table_name: str, months: Iterable[date]) -> list[str]:
    """Add missing monthly partitions; returns the names created."""
    current = existing_partitions(conn, table_name)
    if not current:
        return []
    have = {m for m in (_month_of(n) for n in current) if m is not None}
    wanted = sorted({month_start(m) for m in months} - have)
    if not wanted:
        return []
    created: list[str] = []
    # Each partition holds the months below its bound and above the previous bound.
    bounded = sorted(have)
    for name in current:
        if name == FIRST:
            continue
        upper = _month_of(name)
        lower = max((m for m in bounded if upper is None or m < upper), default=None)
        inside = [
            m for m in wanted
            if (upper is None or m < upper) and (lower is None or m > lower)
        ]
        if not inside:
            continue
        if upper is None:
            keep = f"PARTITION {CATCH_ALL} VALUES LESS THAN MAXVALUE"
        else:
            keep = _definition(upper)
        parts = ", ".join([_definition(m) for m in inside] + [keep])
        conn.execute(text(f"ALTER TABLE `{table_name}` REORGANIZE PARTITION {name} INTO ({parts})"))
        created += [partition_name(m) for m in inside]
    return created

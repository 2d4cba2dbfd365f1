"""Turn the active filters' fragments into one SELECT over the selected lines' detection tables.

The fragments are combined with AND: their line sets and time windows intersect, their
predicates are applied to every line table. Several lines become one `UNION ALL` statement, each
branch with a literal `line_id`. Only the source columns the caller needs are selected. On MySQL
each branch names the monthly partitions the window touches (`PARTITION (p202610, p202611)`),
computed from the table's real partition list, so a month without its own partition still
routes to the partition that holds it; SQLite gets the same statement without the hint.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Double,
    Select,
    SmallInteger,
    Table,
    and_,
    false,
    func,
    literal,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.dialects.mysql.pymysql import MySQLDialect_pymysql
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.visitors import iterate

from core import partitions as parts
from core.errors import InvalidDefinition
from core.metadata_cache import TenantMeta
from core.query_state import PartitionCache
from core.schema_tenant import detections_table
from query.columns import ordered_sources
from query.spec import SqlFragment
from query.sql_time import in_ranges


@dataclass(frozen=True)
class DetectionQuery:
    """The planned read: one SELECT per line (combined with UNION ALL) and what it returns."""

    branches: tuple[Select, ...]
    columns: tuple[str, ...]
    line_ids: tuple[int, ...]
    window: tuple[datetime, datetime] | None
    limit: int | None = None
    partitions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def statement(self) -> Select | CompoundSelect:
        """The single statement for drivers that bind parameters (top-level UNION ALL)."""
        stmt: Select | CompoundSelect = (
            self.branches[0] if len(self.branches) == 1 else union_all(*self.branches)
        )
        return stmt.limit(self.limit) if self.limit is not None else stmt

    def branch_statements(self) -> list[Select]:
        """One SELECT per line WITHOUT the limit, for readers that count rows themselves.

        ConnectorX wraps each statement in `SELECT COUNT(*) FROM (...)` first; with a LIMIT
        inside, MariaDB materialises that derived table (1.7-1.9x slower at 3.8 M rows, see
        bench/bench_extract.py --cx-limit). Wrapping the UNION in a derived table would be
        materialised too, so the lines stay separate statements.
        """
        return list(self.branches)

    def count_statements(self) -> list[Select]:
        """One SELECT COUNT(*) per line over the same rows: MariaDB materialises a UNION ALL
        wrapped in an outer COUNT(*), while a count per table is a plain (index) scan."""
        return [select(func.count()).select_from(b.subquery("c")) for b in self.branches]


def resolve_line_ids(meta: TenantMeta, fragments: Iterable[SqlFragment]) -> tuple[int, ...]:
    """Lines to read: the intersection of the fragments' line sets, or every active line."""
    chosen: set[int] | None = None
    for frag in fragments:
        if frag.line_ids is not None:
            ids = {int(i) for i in frag.line_ids}
            chosen = ids if chosen is None else chosen & ids
    if chosen is None:
        return tuple(sorted(i for i, line in meta.lines.items() if line.active))
    return tuple(sorted(i for i in chosen if i in meta.lines))


def time_window(fragments: Iterable[SqlFragment]) -> tuple[datetime, datetime] | None:
    """The intersection of the fragments' [start, end) windows; None when none restricts time."""
    start: datetime | None = None
    end: datetime | None = None
    for frag in fragments:
        if frag.time_range is None:
            continue
        lo, hi = frag.time_range
        start = lo if start is None else max(start, lo)
        end = hi if end is None else min(end, hi)
    if start is None or end is None:
        return None
    return start, end


def time_ranges(
    fragments: Iterable[SqlFragment], window: tuple[datetime, datetime] | None
) -> list[tuple[datetime, datetime]] | None:
    """The `ts` ranges all ranged fragments allow, clipped to the window; None when none has ranges."""
    chosen: list[tuple[datetime, datetime]] | None = None
    for frag in fragments:
        if frag.time_ranges is None:
            continue
        ranges = sorted(frag.time_ranges)
        chosen = ranges if chosen is None else _intersect(chosen, ranges)
    if chosen is None or window is None:
        return chosen
    return _intersect(chosen, [window])


def _intersect(
    a: Sequence[tuple[datetime, datetime]], b: Sequence[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    """Intersection of two sorted lists of disjoint [start, end) ranges."""
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo < hi:
            out.append((lo, hi))
        if a[i][1] <= b[j][1]:
            i += 1
        else:
            j += 1
    return out


def is_empty_window(window: tuple[datetime, datetime] | None) -> bool:
    return window is not None and window[0] >= window[1]


def _days(window: tuple[datetime, datetime]) -> tuple[date, date]:
    """First and last calendar day holding instants of the half-open window."""
    return window[0].date(), (window[1] - timedelta(microseconds=1)).date()


def touched_partitions(
    existing: Sequence[str], window: tuple[datetime, datetime] | None
) -> tuple[str, ...] | None:
    """Partitions of `existing` (in order) whose range meets the window; None = no hint."""
    if not existing or window is None or is_empty_window(window):
        return None
    first_day, last_day = _days(window)
    out: list[str] = []
    lower: date | None = None
    for name in existing:
        if name == parts.FIRST:
            continue
        if name == parts.CATCH_ALL:
            upper = None
        else:
            month = _month_of(name)
            if month is None:
                return None
            upper = parts.add_months(month, 1)
        if (upper is None or first_day < upper) and (lower is None or last_day >= lower):
            out.append(name)
        lower = upper
    return tuple(out) or None


def _month_of(name: str) -> date | None:
    """`p202611` → 2026-11-01; None for any other name."""
    if len(name) == 7 and name[0] == "p" and name[1:].isdigit() and 1 <= int(name[5:]) <= 12:
        return date(int(name[1:5]), int(name[5:]), 1)
    return None


def route_partitions(
    conn: Connection,
    cache: PartitionCache,
    line_ids: Sequence[int],
    window: tuple[datetime, datetime] | None,
) -> dict[str, tuple[str, ...]]:
    """For each line table, the partitions to name (tables without a useful hint are absent);
    `cache` is the runtime's (rt.query_state.partitions)."""
    routed: dict[str, tuple[str, ...]] = {}
    if window is None:
        return routed
    for line_id in line_ids:
        name = detections_table(line_id).name
        chosen = touched_partitions(cache.get(conn, name, window), window)
        if chosen is not None:
            routed[name] = chosen
    return routed


def _selected(table: Table, name: str, line_id: int) -> ColumnElement:
    """One column of a raw read. `weight_g` is read as a DOUBLE (`+ 0e0`; SQLAlchemy drops a
    CAST to DOUBLE on MySQL): a MySQL FLOAT travels the text protocol (PyMySQL, mysqlclient)
    with 6 significant digits, so 141559.45 g would arrive as 141559; as a double it is exact."""
    if name == "line_id":
        return literal(line_id, SmallInteger).label("line_id")
    if name == "weight_g":
        return (table.c.weight_g + literal_column("0e0", Double)).label("weight_g")
    return table.c[name]


def _branch(
    table: Table,
    line_id: int,
    columns: Sequence[str],
    window: tuple[datetime, datetime] | None,
    fragments: Sequence[SqlFragment],
    partition_names: Sequence[str] | None,
    ranges: Sequence[tuple[datetime, datetime]] | None = None,
) -> Select:
    cols = [_selected(table, c, line_id) for c in columns]
    stmt = select(*cols)
    conds = branch_conditions(table, window, fragments, ranges)
    if conds:
        stmt = stmt.where(and_(*conds))
    return with_partitions(stmt, table, partition_names)


def branch_conditions(
    table: Table,
    window: tuple[datetime, datetime] | None,
    fragments: Sequence[SqlFragment],
    ranges: Sequence[tuple[datetime, datetime]] | None = None,
) -> list[ColumnElement[bool]]:
    """The WHERE terms of one line's read: the shift ranges or the window, then predicates."""
    conds: list[ColumnElement[bool]] = []
    if ranges is not None:
        # Only the ranges (already inside the window): ANDing the window too would make SQLite
        # scan the whole window instead of one index range per shift instance.
        conds.append(in_ranges(table.c.ts, ranges) if ranges else false())
    elif window is not None:
        conds += [table.c.ts >= window[0], table.c.ts < window[1]]
    conds += [
        f.predicate(table) for f in fragments
        if f.predicate is not None and not restates_time_range(f, table)
    ]
    return conds


def with_partitions(stmt: Select, table: Table, partition_names: Sequence[str] | None) -> Select:
    """The statement naming the table's routed partitions on MySQL/MariaDB (no-op elsewhere)."""
    if not partition_names:
        return stmt
    # Table and partition names come from code; the alias keeps the table name so every
    # column reference stays valid and SQL parsers that need an alias accept it.
    hint = f"PARTITION ({', '.join(partition_names)}) AS {table.name}"
    return stmt.with_hint(table, hint, "mysql").with_hint(table, hint, "mariadb")


def restates_time_range(fragment: SqlFragment, table: Table) -> bool:
    """True when the predicate only repeats the fragment's own [start, end) on `ts` (the date
    filter's): the window, the intersection of every time_range, already emits it once."""
    if fragment.time_range is None or fragment.predicate is None:
        return False
    lo, hi = fragment.time_range
    return bool(fragment.predicate(table).compare(and_(table.c.ts >= lo, table.c.ts < hi)))


def build_query(
    line_ids: Sequence[int],
    sources: Iterable[str],
    fragments: Sequence[SqlFragment],
    *,
    partitions: Mapping[str, Sequence[str]] | None = None,
    limit: int | None = None,
) -> DetectionQuery:
    """The read for `line_ids` selecting `sources` (canonical order), filtered by `fragments`."""
    if not line_ids:
        raise InvalidDefinition("build_query needs at least one line")
    columns = ordered_sources(set(sources)) or ("line_id",)
    window = time_window(fragments)
    ranges = time_ranges(fragments, window)
    routed = {k: tuple(v) for k, v in (partitions or {}).items()}
    branches = []
    for line_id in line_ids:
        table = detections_table(line_id)
        branches.append(
            _branch(table, line_id, columns, window, fragments, routed.get(table.name), ranges)
        )
    return DetectionQuery(tuple(branches), columns, tuple(line_ids), window, limit, routed)


_LITERAL_DIALECT = MySQLDialect_pymysql(paramstyle="named")
_INLINE_TYPES = (bool, int, float, Decimal, datetime, date)


def _check_inline(value: object) -> None:
    if isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            _check_inline(item)
    elif value is not None and not isinstance(value, _INLINE_TYPES):
        raise InvalidDefinition(f"refusing to inline a {type(value).__name__} value into SQL")


def render_literal_mysql(stmt: Select | CompoundSelect) -> str:
    """MySQL SQL with values inlined by SQLAlchemy's literal renderers.

    Only numbers, dates and booleans (the filters' validated values) may be inlined; any text
    value is refused, so nothing typed by a user can reach a reader that cannot bind.
    """
    for node in iterate(stmt):
        if isinstance(node, BindParameter):
            _check_inline(node.effective_value)
    return str(stmt.compile(dialect=_LITERAL_DIALECT, compile_kwargs={"literal_binds": True}))

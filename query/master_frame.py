"""Build the master DataFrame of one dashboard run: plan, guard, read, enrich.

    fragments ─▶ lines + window ─▶ partition routing (MySQL) ─▶ row budget check
              ─▶ fastest installed reader ─▶ compact base frame ─▶ enrich (TenantMeta)

Raises TooManyRows (413) when the selection exceeds `settings.max_rows` (checked before
reading: on MySQL from the planner's estimate, then an exact COUNT only when the estimate comes
near the limit; on SQLite from an index-only count of the window, then a bounded exact count;
and again while reading, which never goes past max_rows + 1 rows) and QueryTimeout (504) when
the database works longer than `settings.query_timeout_s`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import ClauseElement

from core.db import is_mysql
from core.memory import trim_heap
from core.runtime import Runtime
from core.schema_tenant import detections_table
from query.builder import (
    DetectionQuery,
    build_query,
    is_empty_window,
    resolve_line_ids,
    route_partitions,
    time_window,
)
from query.columns import check_columns, ordered_sources, source_columns_for
from query.enrich import enrich
from query.readers import ReadContext, automatic_readers, read_with_fallback, select_reader
from query.readers.base import empty_frame, too_many_rows
from query.readers.deadline import dashboard_wait, statement_deadline
from query.spec import SqlFragment

ESTIMATE_SHARE = 0.5
"""Run an exact COUNT when the planner's row estimate passes this share of max_rows."""


@dataclass
class MasterFrame:
    """The enriched frame plus what it cost; `timings` has query, fetch, dataframe, joins."""

    frame: pd.DataFrame
    rows: int
    timings: dict[str, float]
    reader: str
    line_ids: tuple[int, ...] = ()
    partitions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


class Explain(Executable, ClauseElement):
    """`EXPLAIN [PARTITIONS] <select>` with the select's bound parameters."""

    inherit_cache = False

    def __init__(self, stmt: ClauseElement, partitions: bool = False) -> None:
        self.stmt = stmt
        self.partitions = partitions


@compiles(Explain)
def _compile_explain(element: Explain, compiler, **kw) -> str:  # noqa: ANN001, ANN003 - SQLAlchemy hook
    keyword = "EXPLAIN PARTITIONS " if element.partitions else "EXPLAIN "
    return keyword + compiler.process(element.stmt, **kw)


def explain_rows(conn: Connection, query: DetectionQuery) -> list[dict]:
    """The MySQL EXPLAIN rows of the query's statement, with the `partitions` column.

    MariaDB shows that column only for `EXPLAIN PARTITIONS`; MySQL 8 always shows it.
    """
    mariadb = bool(getattr(conn.dialect, "is_mariadb", False))
    result = conn.execute(Explain(query.statement(), partitions=mariadb))
    return [dict(row._mapping) for row in result]


def _check_budget(conn: Connection, query: DetectionQuery, max_rows: int, timeout_s: float) -> None:
    """TooManyRows before reading, from EXPLAIN's estimate and, near the limit, a COUNT."""
    estimate = sum(int(r.get("rows") or 0) for r in explain_rows(conn, query))
    if estimate <= max_rows * ESTIMATE_SHARE:
        return
    with statement_deadline(timeout_s, conn):
        # One count per table: MariaDB materialises a UNION ALL wrapped in COUNT(*).
        count = sum(int(conn.execute(stmt).scalar() or 0) for stmt in query.count_statements())
    if count > max_rows:
        raise too_many_rows(max_rows, count)


def _check_budget_sqlite(
    conn: Connection, query: DetectionQuery, max_rows: int, timeout_s: float
) -> None:
    """SQLite: an index-only count of the window bounds the rows; only past max_rows is the
    exact (LIMIT-bounded) count with every predicate run."""
    upper = 0
    for line_id in query.line_ids:
        table = detections_table(line_id)
        stmt = select(func.count()).select_from(table)
        if query.window is not None:
            stmt = stmt.where(table.c.ts >= query.window[0], table.c.ts < query.window[1])
        upper += int(conn.execute(stmt).scalar() or 0)
    if upper <= max_rows:
        return
    bounded = select(func.count()).select_from(query.statement().subquery("b"))
    with statement_deadline(timeout_s, conn):
        count = int(conn.execute(bounded).scalar() or 0)
    if count > max_rows:
        raise too_many_rows(max_rows)


def _empty(meta_columns: frozenset[str], sources: set[str], meta, reader: str) -> MasterFrame:  # noqa: ANN001
    base = empty_frame(ordered_sources(sources) or ("line_id",))
    frame = enrich(base, meta, meta_columns)
    zero = {"query": 0.0, "fetch": 0.0, "dataframe": 0.0, "joins": 0.0}
    return MasterFrame(frame, 0, zero, reader)


def build_master_frame(
    rt: Runtime,
    slug: str,
    fragments: Sequence[SqlFragment],
    columns: set[str] | frozenset[str],
    *,
    reader: str | None = None,
) -> MasterFrame:
    """The master DataFrame with exactly `columns` for the rows the fragments select.

    `reader` forces one reader (benchmarks, tests); by default the fastest installed one whose
    waits are bounded is used, falling back to the next when it fails to work with this server.
    """
    wanted = check_columns(columns)
    sources = source_columns_for(wanted)
    meta = rt.meta.get(slug)
    url = make_url(rt.db.tenant_url(slug))
    backend = "mysql" if is_mysql(url) else "sqlite"
    candidates = [type(select_reader(backend, reader))] if reader else automatic_readers(backend)
    line_ids = resolve_line_ids(meta, fragments)
    window = time_window(fragments)
    if not line_ids or is_empty_window(window):
        return _empty(wanted, sources, meta, candidates[0].name)
    settings = rt.settings
    t0 = time.perf_counter()
    routed: dict[str, tuple[str, ...]] = {}
    mariadb = True
    with dashboard_wait(settings.query_timeout_s), rt.db.tenant(slug) as conn:
        mariadb = bool(getattr(conn.dialect, "is_mariadb", False))
        if backend == "mysql":
            routed = route_partitions(conn, rt.query_state.partitions, line_ids, window)
        query = build_query(
            line_ids, sources, list(fragments), partitions=routed, limit=settings.max_rows + 1
        )
        if backend == "mysql":
            _check_budget(conn, query, settings.max_rows, settings.query_timeout_s)
        else:
            _check_budget_sqlite(conn, query, settings.max_rows, settings.query_timeout_s)
    planned = time.perf_counter() - t0
    ctx = ReadContext(
        query=query,
        url=url,
        connect=lambda: rt.db.tenant(slug),
        timeout_s=settings.query_timeout_s,
        max_rows=settings.max_rows,
        mariadb=mariadb,
        engines=rt.query_state.engines,
        guard=rt.db.guard,
    )
    with dashboard_wait(settings.query_timeout_s):
        result, used = read_with_fallback(candidates, ctx, key=str(url), failures=rt.query_state.failures)
    rows, read_timings, base = result.rows, result.timings, result.frame
    del result
    t1 = time.perf_counter()
    trim_heap()  # hand the readers' wide buffers back before enrichment allocates
    frame = enrich(base, meta, wanted)
    del base
    joins = time.perf_counter() - t1
    timings = {
        "query": planned + read_timings.get("query", 0.0),
        "fetch": read_timings.get("fetch", 0.0),
        "dataframe": read_timings.get("dataframe", 0.0),
        "joins": joins,
    }
    return MasterFrame(frame, rows, timings, used, query.line_ids, routed)

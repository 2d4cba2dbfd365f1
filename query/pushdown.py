"""SQL aggregate push-down: the grained frame computed by a GROUP BY in the database.

Each selected line's table is grouped by the source keys the layout's dimensions come from
(`line_id` as a literal, `product_id`, `status`) and, when a time dimension is asked, by a time
bucket index: floor(seconds since 1970 / bucket). The bucket is the coarsest number of minutes
that divides the day and every boundary the asked time dimensions depend on (the hour, the
production day start, shift starts and ends), so every detection of a bucket gets the same
`hour_start`, `production_day` and shift columns as its bucket start: the enrichment then runs
over the groups, not the detections, and the frame is the one raw rows grouped in pandas give.
Filters, partition routing and the statement deadline are the raw read's own. When weights are
asked, the line table is LEFT JOINed to `products` for the nominal measures (under nominal,
giveaway), with the rollup job's own expressions (core/rollup_sql.py).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    SmallInteger,
    and_,
    cast,
    func,
    literal,
    select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from core.db import is_mysql
from core.metadata_cache import TenantMeta
from core.rollup_sql import giveaway_sql, under_nominal_sql
from core.runtime import Runtime
from core.schema_tenant import detections_table, products
from query.builder import (
    DetectionQuery,
    branch_conditions,
    build_query,
    is_empty_window,
    resolve_line_ids,
    route_partitions,
    time_ranges,
    time_window,
    with_partitions,
)
from query.columns import MASTER_COLUMNS, source_columns_for
from query.enrich import MINUTES_PER_DAY, enrich
from query.grain import MEASURES, WEIGHT_MEASURES
from query.readers.deadline import dashboard_wait, statement_deadline
from query.spec import SqlFragment

HOUR_DIMENSIONS = frozenset({"hour_start"})
DAY_DIMENSIONS = frozenset({"production_day"})
SHIFT_DIMENSIONS = frozenset({"shift_id", "shift_code", "shift_name", "shift_date"})
TIME_DIMENSIONS = HOUR_DIMENSIONS | DAY_DIMENSIONS | SHIFT_DIMENSIONS


def bucket_minutes(meta: TenantMeta, dims: Iterable[str]) -> int | None:
    """Minutes per time bucket the dimensions can be derived from; None when none needs time."""
    dims = set(dims)
    if not dims & TIME_DIMENSIONS:
        return None
    edges = [MINUTES_PER_DAY]
    if dims & HOUR_DIMENSIONS:
        edges.append(60)
    if dims & (DAY_DIMENSIONS | SHIFT_DIMENSIONS):
        edges.append(int(meta.day_offset.total_seconds()) // 60)
    if dims & SHIFT_DIMENSIONS:
        for shift in meta.shifts.values():
            edges += [shift.start_minute, shift.end_minute]
    return math.gcd(*edges)


class bucket_index(FunctionElement[int]):  # noqa: N801 - reads like a SQL function
    """floor(seconds since 1970-01-01 of a DATETIME / (60 * minutes)), an integer."""

    type = Integer()
    inherit_cache = False
    name = "bucket_index"

    def __init__(self, expr: ColumnElement[Any], minutes: int) -> None:
        if not isinstance(minutes, int) or isinstance(minutes, bool) or not 0 < minutes <= MINUTES_PER_DAY:
            raise ValueError(f"invalid bucket of {minutes!r} minutes")
        self.seconds = 60 * minutes  # an int from code, inlined so SELECT and GROUP BY match
        super().__init__(expr)


def _arg(element: bucket_index, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(next(iter(element.clauses)), **kw)


@compiles(bucket_index, "sqlite")
def _bucket_sqlite(element: bucket_index, compiler: SQLCompiler, **kw: Any) -> str:
    # unixepoch() (SQLite 3.38+) reads the ISO text as wall time and truncates to whole seconds:
    # exact, and about 3x cheaper than strftime('%s').
    return f"(unixepoch({_arg(element, compiler, **kw)}) / {element.seconds})"


@compiles(bucket_index, "mysql")
@compiles(bucket_index, "mariadb")
def _bucket_mysql(element: bucket_index, compiler: SQLCompiler, **kw: Any) -> str:
    arg = _arg(element, compiler, **kw)
    return f"(TIMESTAMPDIFF(SECOND, '1970-01-01 00:00:00', {arg}) DIV {element.seconds})"


@dataclass(frozen=True)
class GroupSpec:
    """The grain one read groups to: the layout's dimensions, whether weights are summed, and
    the time bucket (minutes, None without time dimensions)."""

    dims: frozenset[str]
    weights: bool
    minutes: int | None

    @classmethod
    def of(cls, meta: TenantMeta, dims: Iterable[str], weights: bool) -> GroupSpec:
        dims = frozenset(dims)
        return cls(dims, weights, bucket_minutes(meta, dims))

    def keys(self) -> tuple[str, ...]:
        """Source keys the statements group by and return first: line_id, product_id?, status?,
        bucket?; the measures follow (units, then the weight measures when asked)."""
        keys = source_keys(self.dims)
        return (*keys, "bucket") if self.minutes is not None else keys


@dataclass(frozen=True)
class AggregateRead:
    """The GROUP BY statements of one read and the grain they group to."""

    statements: tuple[Select, ...]
    spec: GroupSpec


def source_keys(dims: Iterable[str]) -> tuple[str, ...]:
    sources: set[str] = set()
    for name in dims:
        sources |= MASTER_COLUMNS[name]
    return ("line_id", *(k for k in ("product_id", "status") if k in sources))


def build_aggregate(
    query: DetectionQuery, fragments: Sequence[SqlFragment], spec: GroupSpec
) -> AggregateRead:
    """One GROUP BY per line branch of the planned raw read (same WHERE and partition hints)."""
    keys, weights, minutes = source_keys(spec.dims), spec.weights, spec.minutes
    window = time_window(fragments)
    ranges = time_ranges(fragments, window)
    statements = []
    for line_id in query.line_ids:
        table = detections_table(line_id)
        cols: list[Any] = [literal(line_id, SmallInteger).label("line_id")]
        groups: list[Any] = []
        for key in keys[1:]:
            cols.append(table.c[key])
            groups.append(table.c[key])
        if minutes is not None:
            bucket = bucket_index(table.c.ts, minutes)
            cols.append(bucket.label("bucket"))
            groups.append(bucket)
        cols.append(func.count().label("units"))
        source: Any = table
        if weights:
            w, nominal = table.c.weight_g, products.c.nominal_weight_g
            # MySQL computes FLOAT arithmetic in double precision; SQLite stores REAL doubles.
            cols += [func.count(w).label("weight_n"), func.sum(w).label("weight_sum_g"),
                     func.sum(w * w).label("weight_sumsq_g2"),
                     func.min(w).label("weight_min_g"), func.max(w).label("weight_max_g"),
                     cast(func.sum(under_nominal_sql(w, nominal)), Integer).label("under_nominal_n"),
                     func.sum(giveaway_sql(w, nominal)).label("giveaway_sum_g")]
            source = table.outerjoin(products, products.c.id == table.c.product_id)
        stmt = select(*cols).select_from(source)
        conds = branch_conditions(table, window, fragments, ranges)
        if conds:
            stmt = stmt.where(and_(*conds))
        if groups:
            stmt = stmt.group_by(*groups)
        statements.append(with_partitions(stmt, table, query.partitions.get(table.name)))
    return AggregateRead(tuple(statements), spec)


def measure_columns(table: Any, weights: bool) -> list[Any]:
    """SUM/MIN/MAX of the measures over rollup rows (whose columns carry the measure names)."""
    cols = [func.sum(table.c.units).label("units")]
    if weights:
        cols += [func.sum(table.c.weight_n).label("weight_n"),
                 func.sum(table.c.weight_sum_g).label("weight_sum_g"),
                 func.sum(table.c.weight_sumsq_g2).label("weight_sumsq_g2"),
                 func.min(table.c.weight_min_g).label("weight_min_g"),
                 func.max(table.c.weight_max_g).label("weight_max_g"),
                 func.sum(table.c.under_nominal_n).label("under_nominal_n"),
                 func.sum(table.c.giveaway_sum_g).label("giveaway_sum_g")]
    return cols


def groups_frame(spec: GroupSpec, rows: Sequence[Any], meta: TenantMeta) -> pd.DataFrame:
    """Grouped rows (keys then measures, as GroupSpec.keys says) as a grained frame: the
    dimensions enriched from the keys, then the measures."""
    names = [*spec.keys(), "units", *(m for m in MEASURES if m in WEIGHT_MEASURES and spec.weights)]
    raw = pd.DataFrame.from_records(list(rows), columns=names) if rows else pd.DataFrame(
        {n: np.empty(0, dtype=np.int64) for n in names})
    base = pd.DataFrame({"line_id": raw["line_id"].to_numpy(dtype=np.int64)})
    for key in ("product_id", "status"):
        if key in raw:
            base[key] = raw[key].to_numpy(dtype=np.int64)
    if spec.minutes is not None:
        ms = raw["bucket"].to_numpy(dtype=np.int64) * (spec.minutes * 60_000)
        base["ts"] = ms.view("datetime64[ms]")
    out = enrich(base, meta, spec.dims)
    out["units"] = raw["units"].to_numpy(dtype=np.int64)
    if spec.weights:
        out["weight_n"] = raw["weight_n"].to_numpy(dtype=np.int64)
        for name in ("weight_sum_g", "weight_sumsq_g2", "weight_min_g", "weight_max_g"):
            out[name] = pd.to_numeric(raw[name], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        empty = out["weight_n"].to_numpy() == 0
        out.loc[empty, ["weight_sum_g", "weight_sumsq_g2"]] = 0.0
        out["under_nominal_n"] = raw["under_nominal_n"].to_numpy(dtype=np.int64)
        out["giveaway_sum_g"] = pd.to_numeric(raw["giveaway_sum_g"]).to_numpy(dtype=np.float64)
    return out


def read_groups(
    rt: Runtime, slug: str, fragments: Sequence[SqlFragment], spec: GroupSpec
) -> pd.DataFrame | None:
    """The grouped detections the fragments select (None when they select no line or time)."""
    meta = rt.meta.get(slug)
    line_ids = resolve_line_ids(meta, fragments)
    window = time_window(fragments)
    if not line_ids or is_empty_window(window) or time_ranges(fragments, window) == []:
        return None
    mysql = is_mysql(make_url(rt.db.tenant_url(slug)))
    with dashboard_wait(rt.settings.query_timeout_s), rt.db.tenant(slug) as conn:
        routed = route_partitions(conn, rt.query_state.partitions, line_ids, window) if mysql else {}
        query = build_query(line_ids, source_columns_for(spec.dims), list(fragments), partitions=routed)
        agg = build_aggregate(query, fragments, spec)
        with statement_deadline(rt.settings.query_timeout_s, conn):
            rows = [tuple(r) for stmt in agg.statements for r in conn.execute(stmt)]
    return groups_frame(spec, rows, meta)

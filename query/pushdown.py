"""SQL aggregate push-down: the grained frame computed by a GROUP BY in the database.

Each selected line's table is grouped by the source keys the layout's dimensions come from
(`line_id` as a literal, `product_id`, `status`) and, when a time dimension is asked, by a time
bucket index: floor(seconds since 1970 / bucket). The bucket is the coarsest number of minutes
that divides the day and every boundary the asked time dimensions depend on (the hour, the
production day start, shift starts and ends), so every detection of a bucket gets the same
`hour_start`, `production_day` and shift columns as its bucket start: the enrichment then runs
over the groups, not the detections, and the frame is the one raw rows grouped in pandas give.
Filters, partition routing and the statement deadline are the raw read's own.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import ColumnElement, Integer, MetaData, Select, SmallInteger, and_, func, literal, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from core.metadata_cache import TenantMeta
from core.schema_tenant import detections_table
from query.builder import DetectionQuery, branch_conditions, time_ranges, time_window, with_partitions
from query.columns import MASTER_COLUMNS
from query.enrich import MINUTES_PER_DAY, enrich
from query.grain import MEASURES, WEIGHT_MEASURES
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
class AggregateRead:
    """What the GROUP BY statement groups by and returns."""

    statements: tuple[Select, ...]
    keys: tuple[str, ...]  # source keys: line_id, product_id?, status?, bucket?
    weights: bool
    minutes: int | None


def _source_keys(dims: Iterable[str]) -> tuple[str, ...]:
    sources: set[str] = set()
    for name in dims:
        sources |= MASTER_COLUMNS[name]
    return ("line_id", *(k for k in ("product_id", "status") if k in sources))


def build_aggregate(
    query: DetectionQuery,
    fragments: Sequence[SqlFragment],
    dims: Iterable[str],
    weights: bool,
    minutes: int | None,
) -> AggregateRead:
    """One GROUP BY per line branch of the planned raw read (same WHERE and partition hints)."""
    keys = _source_keys(dims)
    window = time_window(fragments)
    ranges = time_ranges(fragments, window)
    statements = []
    md = MetaData()
    for line_id in query.line_ids:
        table = detections_table(line_id, md)
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
        if weights:
            w = table.c.weight_g
            # MySQL computes FLOAT arithmetic in double precision; SQLite stores REAL doubles.
            cols += [func.count(w).label("weight_n"), func.sum(w).label("weight_sum_g"),
                     func.sum(w * w).label("weight_sumsq_g2"),
                     func.min(w).label("weight_min_g"), func.max(w).label("weight_max_g")]
        stmt = select(*cols).select_from(table)
        conds = branch_conditions(table, window, fragments, ranges)
        if conds:
            stmt = stmt.where(and_(*conds))
        if groups:
            stmt = stmt.group_by(*groups)
        statements.append(with_partitions(stmt, table, query.partitions.get(table.name)))
    with_bucket = (*keys, "bucket") if minutes is not None else keys
    return AggregateRead(tuple(statements), with_bucket, weights, minutes)


def groups_frame(
    read: AggregateRead, rows: Sequence[Any], meta: TenantMeta, dims: Iterable[str]
) -> pd.DataFrame:
    """The grouped rows as a grained frame: `dims` (enriched from the keys) + measures."""
    names = [*read.keys, "units", *(m for m in MEASURES if m in WEIGHT_MEASURES and read.weights)]
    raw = pd.DataFrame.from_records(list(rows), columns=names) if rows else pd.DataFrame(
        {n: np.empty(0, dtype=np.int64) for n in names})
    base = pd.DataFrame({"line_id": raw["line_id"].to_numpy(dtype=np.int64)})
    for key in ("product_id", "status"):
        if key in raw:
            base[key] = raw[key].to_numpy(dtype=np.int64)
    if read.minutes is not None:
        ms = raw["bucket"].to_numpy(dtype=np.int64) * (read.minutes * 60_000)
        base["ts"] = ms.view("datetime64[ms]")
    out = enrich(base, meta, frozenset(dims))
    out["units"] = raw["units"].to_numpy(dtype=np.int64)
    if read.weights:
        out["weight_n"] = raw["weight_n"].to_numpy(dtype=np.int64)
        for name in ("weight_sum_g", "weight_sumsq_g2", "weight_min_g", "weight_max_g"):
            out[name] = pd.to_numeric(raw[name], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        empty = out["weight_n"].to_numpy() == 0
        out.loc[empty, ["weight_sum_g", "weight_sumsq_g2"]] = 0.0
    return out

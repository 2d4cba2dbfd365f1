"""Dialect-aware SQL time expressions, compiled per backend by SQLAlchemy.

`in_ranges(col, ranges)` keeps rows inside a list of [start, end) timestamp ranges (shift
instances): sargable, so the `ts` index and partition pruning do the work.
`minute_of_day(col)` is the local time of day of a DATETIME column in minutes after midnight
(0..1439), only for the shift filter's fallback (no date window, or a huge selection).
MySQL/MariaDB use HOUR()/MINUTE(); SQLite stores DATETIME as ISO text, so it reads the hour and
minute with strftime().
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Integer, bindparam
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import NullType


class minute_of_day(FunctionElement[int]):  # noqa: N801 - reads like a SQL function
    """Minutes after local midnight of a DATETIME expression."""

    type = Integer()
    inherit_cache = True
    name = "minute_of_day"

    def __init__(self, expr: ColumnElement[Any]) -> None:
        super().__init__(expr)


def _arg(element: minute_of_day, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(next(iter(element.clauses)), **kw)


@compiles(minute_of_day)
def _minute_of_day_default(element: minute_of_day, compiler: SQLCompiler, **kw: Any) -> str:
    arg = _arg(element, compiler, **kw)
    return f"(EXTRACT(HOUR FROM {arg}) * 60 + EXTRACT(MINUTE FROM {arg}))"


@compiles(minute_of_day, "mysql")
@compiles(minute_of_day, "mariadb")
def _minute_of_day_mysql(element: minute_of_day, compiler: SQLCompiler, **kw: Any) -> str:
    arg = _arg(element, compiler, **kw)
    return f"(HOUR({arg}) * 60 + MINUTE({arg}))"


@compiles(minute_of_day, "sqlite")
def _minute_of_day_sqlite(element: minute_of_day, compiler: SQLCompiler, **kw: Any) -> str:
    arg = _arg(element, compiler, **kw)
    return (
        f"(CAST(strftime('%H', {arg}) AS INTEGER) * 60 + CAST(strftime('%M', {arg}) AS INTEGER))"
    )


# Detection timestamps are DATETIME(3) on MySQL (core.schema_tenant.Timestamp): the last instant
# before `end` is `end - 1 ms`, so [start, end) is exactly BETWEEN start AND end - 1 ms there.
MYSQL_TICK = timedelta(milliseconds=1)


class in_ranges(ColumnElement[bool]):  # noqa: N801 - reads like a SQL predicate
    """`col` lies in one of the sorted, disjoint [start, end) ranges (an OR of index ranges).

    SQLite gets `col >= a AND col < b` terms (its planner turns the OR into one index search
    per range). MySQL/MariaDB re-check the whole OR on every row they read, so they get the
    cheaper `col BETWEEN a AND b - 1 ms` terms (same rows, same range access and pruning).
    The terms are built when the statement is compiled, for that dialect only.
    """

    type = NullType()  # a Boolean type would make SQLAlchemy append "= 1" in a WHERE clause
    inherit_cache = False

    def __init__(self, expr: ColumnElement[Any], ranges: Sequence[tuple[datetime, datetime]]) -> None:
        if not all(isinstance(v, datetime) for r in ranges for v in r):
            raise TypeError("in_ranges takes datetime bounds only")
        self.expr = expr
        self.ranges = tuple(ranges)

    def get_children(self, **kw: Any) -> tuple[ColumnElement[Any], ...]:
        return (self.expr,)


def _bound(element: in_ranges, compiler: SQLCompiler, value: datetime, **kw: Any) -> str:
    return compiler.process(bindparam(None, value, type_=element.expr.type), **kw)


@compiles(in_ranges)
def _in_ranges_default(element: in_ranges, compiler: SQLCompiler, **kw: Any) -> str:
    col = compiler.process(element.expr, **kw)
    terms = (
        f"{col} >= {_bound(element, compiler, lo, **kw)} AND {col} < {_bound(element, compiler, hi, **kw)}"
        for lo, hi in element.ranges
    )
    return f"({' OR '.join(terms)})"


@compiles(in_ranges, "mysql")
@compiles(in_ranges, "mariadb")
def _in_ranges_mysql(element: in_ranges, compiler: SQLCompiler, **kw: Any) -> str:
    col = compiler.process(element.expr, **kw)
    terms = (
        f"{col} BETWEEN {_bound(element, compiler, lo, **kw)} "
        f"AND {_bound(element, compiler, hi - MYSQL_TICK, **kw)}"
        for lo, hi in element.ranges
    )
    return f"({' OR '.join(terms)})"

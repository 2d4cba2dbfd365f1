"""Dialect-aware SQL time expressions, compiled per backend by SQLAlchemy.

`minute_of_day(col)` is the local time of day of a DATETIME column in minutes after midnight
(0..1439). MySQL/MariaDB use HOUR()/MINUTE(); SQLite stores DATETIME as ISO text, so it reads
the hour and minute with strftime(). Shift filters compare it with bound integers.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


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

"""ConnectorX (Rust): reads straight into numpy-backed pandas columns, the fastest MySQL path.

ConnectorX takes a SQL string, so the statement is rendered by SQLAlchemy's MySQL dialect with
the filters' typed, validated values inlined (`literal_binds`); raw input never reaches it.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from core.errors import CametError
from core.query_builder import render_literal_mysql
from core.readers.base import (
    SOURCE_DTYPES,
    BaseReader,
    ReadContext,
    ReadResult,
    empty_frame,
    is_timeout_error,
    query_timeout,
    too_many_rows,
)


def connectorx_url(ctx: ReadContext) -> str:
    """The tenant URL in ConnectorX's form (mysql://user:pass@host:port/db)."""
    return ctx.url.set(drivername="mysql", query={}).render_as_string(hide_password=False)


class ConnectorXReader(BaseReader):
    name = "connectorx"
    rank = 10
    backends = frozenset({"mysql"})

    @classmethod
    def installed(cls) -> bool:
        try:
            import connectorx  # noqa: F401
        except ImportError:
            return False
        return True

    def read(self, ctx: ReadContext) -> ReadResult:
        """One ConnectorX call; the session time limit is set before the query runs."""
        import connectorx as cx

        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        sql = render_literal_mysql(ctx.query.wrapped_statement())
        limit = f"SET SESSION max_statement_time = {float(ctx.timeout_s):.3f}"
        timings["query"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        try:
            with warnings.catch_warnings():
                # ConnectorX 0.4 builds frames through a pandas internal that pandas 3 deprecates.
                warnings.simplefilter("ignore", category=Warning)
                raw = cx.read_sql(connectorx_url(ctx), sql, pre_execution_query=[limit])
        except CametError:
            raise
        except Exception as exc:
            if is_timeout_error(exc):
                raise query_timeout(ctx.timeout_s) from None
            raise
        timings["fetch"] = time.perf_counter() - t1
        t2 = time.perf_counter()
        rows = len(raw)
        if rows > ctx.max_rows:
            raise too_many_rows(ctx.max_rows)
        columns = ctx.query.columns
        if rows == 0:
            frame = empty_frame(columns)
        else:
            for name in columns:
                raw[name] = _compact(name, raw[name].to_numpy())
            frame = raw[list(columns)]
        timings["dataframe"] = time.perf_counter() - t2
        return ReadResult(frame, rows, timings)


def _compact(name: str, values: np.ndarray) -> np.ndarray:
    return values.astype(SOURCE_DTYPES[name], copy=False)

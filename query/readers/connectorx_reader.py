"""ConnectorX (Rust): reads straight into numpy-backed pandas columns, the fastest MySQL path.

ConnectorX takes SQL strings, so each line's SELECT is rendered by SQLAlchemy's MySQL dialect
with the filters' typed, validated values inlined (`literal_binds`, text values refused);
raw input never reaches it. ConnectorX's parser rejects a top-level UNION, and a UNION inside
a derived table is materialised by MariaDB, so the lines are read as a list of queries
(BRANCHES_PER_CALL per ConnectorX call) and concatenated.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from query.builder import render_literal_mysql
from query.readers.base import SOURCE_DTYPES, BaseReader, ReadContext, ReadResult, assemble, too_many_rows
from query.readers.deadline import deadline_sql, statement_deadline

BRANCHES_PER_CALL = 1  # one server connection at a time; parallel reads lost on 2 cores


def connectorx_url(ctx: ReadContext) -> str:
    """The tenant URL in ConnectorX's form (mysql://user:pass@host:port/db)."""
    return ctx.url.set(drivername="mysql", query={}).render_as_string(hide_password=False)


class ConnectorXReader(BaseReader):
    name = "connectorx"
    rank = 10
    backends = frozenset({"mysql"})
    driver_module = "connectorx"

    def read(self, ctx: ReadContext) -> ReadResult:
        """ConnectorX calls over the line branches (no LIMIT: ConnectorX's own COUNT(*) over a
        limited statement makes MariaDB materialise it; rows are checked after each branch and
        the budget was checked before); the session time limit is set first."""
        timings: dict[str, float] = {"query": 0.0, "fetch": 0.0, "dataframe": 0.0}
        t0 = time.perf_counter()
        sqls = [render_literal_mysql(stmt) for stmt in ctx.query.branch_statements()]
        pre = [deadline_sql(ctx.mariadb, ctx.timeout_s)[0]]
        timings["query"] = time.perf_counter() - t0
        columns = ctx.query.columns
        chunks: list[list[np.ndarray]] = []
        rows = 0
        for i in range(0, len(sqls), BRANCHES_PER_CALL):
            group = sqls[i:i + BRANCHES_PER_CALL]
            t1 = time.perf_counter()
            raw = _read(connectorx_url(ctx), group, pre, ctx.timeout_s)
            t2 = time.perf_counter()
            rows += len(raw)
            if rows > ctx.max_rows:
                raise too_many_rows(ctx.max_rows)
            if len(raw):
                # Convert and drop one wide column at a time to keep the peak low.
                chunks.append([_compact(name, raw.pop(name).to_numpy()) for name in columns])
            del raw
            timings["fetch"] += t2 - t1
            timings["dataframe"] += time.perf_counter() - t2
        t3 = time.perf_counter()
        frame = assemble(columns, chunks)
        timings["dataframe"] += time.perf_counter() - t3
        return ReadResult(frame, rows, timings)


def _read(url: str, sqls: list[str], pre: list[str], timeout_s: float):  # noqa: ANN202 - pandas frame
    import connectorx as cx

    with statement_deadline(timeout_s), warnings.catch_warnings():
        # ConnectorX 0.4 builds frames through a pandas internal that pandas 3 deprecates.
        warnings.simplefilter("ignore", category=Warning)
        return cx.read_sql(url, sqls if len(sqls) > 1 else sqls[0], pre_execution_query=pre)


def _compact(name: str, values: np.ndarray) -> np.ndarray:
    return values.astype(SOURCE_DTYPES[name], copy=False)

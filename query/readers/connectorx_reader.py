"""ConnectorX (Rust): reads straight into numpy-backed pandas columns, the fastest MySQL path.

ConnectorX takes SQL strings, so each line's SELECT is rendered by SQLAlchemy's MySQL dialect
with the filters' typed, validated values inlined (`literal_binds`, text values refused);
raw input never reaches it. ConnectorX's parser rejects a top-level UNION, and a UNION inside
a derived table is materialised by MariaDB, so the lines are read as a list of queries
(BRANCHES_PER_CALL per ConnectorX call) and concatenated.

ConnectorX has no client-side read timeout (its URL takes none), and it holds the GIL, stalling
every thread of the process, while it connects (its pool retries a server that does not answer
for 30 s) and while it waits for the server's first answer (measured: a read waiting 3 s on a
table lock let other threads run 14 times in 4.6 s instead of 46). No thread or timeout can
bound that from Python, so dashboards never choose this reader (`bounded_waits = False`): it
runs only when named (benchmarks). Even then a read is bounded where it can be: the server's
circuit is checked first, each call runs in a worker thread that is abandoned once the read's
budget has passed (the thread ends when the server answers or drops the connection), and
connection errors are DatabaseUnavailable.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from core.db import server_of
from core.db_budget import current_wait_s
from core.db_errors import UNAVAILABLE_MESSAGE
from core.errors import DatabaseUnavailable
from query.builder import render_literal_mysql
from query.readers.base import (
    SOURCE_DTYPES,
    BaseReader,
    ReadContext,
    ReadResult,
    assemble,
    reader_registry,
    too_many_rows,
)
from query.readers.deadline import deadline_sql, statement_deadline

BRANCHES_PER_CALL = 1  # one server connection at a time; parallel reads lost on 2 cores
# What ConnectorX (r2d2 + the Rust mysql crate) says when the server cannot be reached or drops
# the connection; lower case.
CONNECTION_FAILURES = ("timed out waiting for connection", "connection refused", "server disconnected",
                       "ioerror", "broken pipe", "connection reset", "could not connect")


def connectorx_url(ctx: ReadContext) -> str:
    """The tenant URL in ConnectorX's form (mysql://user:pass@host:port/db)."""
    return ctx.url.set(drivername="mysql", query={}).render_as_string(hide_password=False)


@reader_registry.register
class ConnectorXReader(BaseReader):
    name = "connectorx"
    rank = 10
    backends = frozenset({"mysql"})
    driver_module = "connectorx"
    bounded_waits = False

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
            raw = _guarded_read(ctx, group, pre)
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


def _guarded_read(ctx: ReadContext, sqls: list[str], pre: list[str]):  # noqa: ANN202 - pandas frame
    """One ConnectorX call within the read's budget, or DatabaseUnavailable."""
    server = server_of(ctx.url)
    circuit = ctx.guard.circuit
    if circuit is not None:
        circuit.before_connect(server)
    wait_s = current_wait_s(ctx.guard.long_wait_s)
    try:
        with statement_deadline(ctx.timeout_s):
            return _abandon_after(wait_s, lambda: _read(connectorx_url(ctx), sqls, pre))
    except TimeoutError:
        cause = f"ConnectorX read had no answer after {wait_s:g} s (its thread is left to end on its own)"
    except RuntimeError as exc:
        text = str(exc)
        if not any(m in text.lower() for m in CONNECTION_FAILURES):
            raise
        cause = f"ConnectorX: {text.splitlines()[0][:200]}"
    if circuit is not None:
        circuit.failed(server, cause)
    raise DatabaseUnavailable(UNAVAILABLE_MESSAGE, retry_after_s=ctx.guard.retry_s, cause=cause)


def _abandon_after(wait_s: float, call: Callable[[], Any]) -> Any:  # noqa: ANN401 - the call's result
    """`call()` in a worker thread; past `wait_s` it is left to finish on its own (the server
    answers or drops the connection some day) and TimeoutError is raised now."""
    outcome: dict[str, Any] = {}
    done = threading.Event()

    def work() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - handed over to the waiting thread
            outcome["error"] = exc
        finally:
            done.set()

    threading.Thread(target=work, name="camet-connectorx", daemon=True).start()
    if not done.wait(wait_s):
        raise TimeoutError(wait_s)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _read(url: str, sqls: list[str], pre: list[str]):  # noqa: ANN202 - pandas frame
    import connectorx as cx

    with warnings.catch_warnings():
        # ConnectorX 0.4 builds frames through a pandas internal that pandas 3 deprecates.
        warnings.simplefilter("ignore", category=Warning)
        return cx.read_sql(url, sqls if len(sqls) > 1 else sqls[0], pre_execution_query=pre)


def _compact(name: str, values: np.ndarray) -> np.ndarray:
    return values.astype(SOURCE_DTYPES[name], copy=False)

"""Shared MySQL/MariaDB plumbing for readers that stream through a SQLAlchemy connection."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from core.errors import CametError
from query.readers.base import (
    ReadContext,
    ReadResult,
    is_timeout_error,
    query_timeout,
    stream_cursor,
    timeout_sql,
)


def timeout_statements(conn: Connection, timeout_s: float) -> tuple[str, str]:
    """(set, reset) SQL for a per-session statement time limit on this connection's server."""
    return timeout_sql(bool(getattr(conn.dialect, "is_mariadb", False)), timeout_s)


def stream_mysql(
    conn: Connection,
    ctx: ReadContext,
    before: Callable[[Any], Any],
    after: Callable[[Any, Any], None],
) -> ReadResult:
    """Execute the query with an unbuffered cursor and a server time limit, stream it in chunks.

    `before(dbapi_connection)` switches the driver to its unbuffered cursor class (and may turn
    off datetime conversion); it returns a token that `after(dbapi_connection, token)` uses to
    restore it. The rows are then read straight from the DBAPI cursor: SQLAlchemy's default
    result strategy does not prefetch, so nothing is skipped.
    """
    set_sql, reset_sql = timeout_statements(conn, ctx.timeout_s)
    timings: dict[str, float] = {}
    driver = conn.connection.dbapi_connection
    conn.execute(text(set_sql))
    token = before(driver)
    try:
        t0 = time.perf_counter()
        result = conn.execute(ctx.query.statement())
        timings["query"] = time.perf_counter() - t0
        try:
            return stream_cursor(result.cursor, ctx, timings)
        finally:
            _close_quietly(result)
    except CametError:
        raise
    except Exception as exc:
        if is_timeout_error(exc):
            raise query_timeout(ctx.timeout_s) from None
        raise
    finally:
        after(driver, token)
        with contextlib.suppress(Exception):  # the connection is closed right after anyway
            conn.execute(text(reset_sql))


def _close_quietly(result: Any) -> None:
    with contextlib.suppress(Exception):  # a cancelled stream may leave the cursor unusable
        result.close()

"""Shared MySQL/MariaDB plumbing for readers that stream through a SQLAlchemy connection."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Connection

from query.readers.base import ReadContext, ReadResult, execute_and_stream
from query.readers.deadline import statement_deadline


def stream_mysql(
    conn: Connection,
    ctx: ReadContext,
    before: Callable[[Any], Any],
    after: Callable[[Any, Any], None],
) -> ReadResult:
    """Execute the query with an unbuffered cursor under the statement deadline, in chunks.

    `before(dbapi_connection)` switches the driver to its unbuffered cursor class (and may turn
    off datetime conversion); it returns a token that `after(dbapi_connection, token)` uses to
    restore it. The rows are then read straight from the DBAPI cursor: SQLAlchemy's default
    result strategy does not prefetch, so nothing is skipped.
    """
    driver = conn.connection.dbapi_connection
    with statement_deadline(ctx.timeout_s, conn):
        token = before(driver)
        try:
            return execute_and_stream(conn, ctx, close=_close_quietly)
        finally:
            after(driver, token)


def _close_quietly(result: Any) -> None:
    with contextlib.suppress(Exception):  # a cancelled stream may leave the cursor unusable
        result.close()

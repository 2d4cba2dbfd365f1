"""SQLite (the embedded default): stream the stdlib cursor, parse timestamps in one numpy call."""

from __future__ import annotations

import time
from typing import Any

from core.errors import CametError
from query.readers.base import (
    BaseReader,
    ReadContext,
    ReadResult,
    is_timeout_error,
    query_timeout,
    stream_cursor,
)

PROGRESS_STEPS = 20_000


class SQLiteReader(BaseReader):
    name = "sqlite"
    rank = 10
    backends = frozenset({"sqlite"})

    def read(self, ctx: ReadContext) -> ReadResult:
        """Run on the tenant's SQLite file; a progress handler cancels past the time limit."""
        timings: dict[str, float] = {}
        with ctx.connect() as conn:
            driver: Any = conn.connection.dbapi_connection
            deadline = time.monotonic() + ctx.timeout_s
            driver.set_progress_handler(lambda: int(time.monotonic() > deadline), PROGRESS_STEPS)
            try:
                t0 = time.perf_counter()
                result = conn.execute(ctx.query.statement())
                timings["query"] = time.perf_counter() - t0
                try:
                    return stream_cursor(result.cursor, ctx, timings)
                finally:
                    result.close()
            except CametError:
                raise
            except Exception as exc:
                if is_timeout_error(exc):
                    raise query_timeout(ctx.timeout_s) from None
                raise
            finally:
                driver.set_progress_handler(None, 0)

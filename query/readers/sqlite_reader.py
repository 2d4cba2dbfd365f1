"""SQLite (the embedded default): stream the stdlib cursor, parse timestamps in one numpy call."""

from __future__ import annotations

import time

from query.readers.base import BaseReader, ReadContext, ReadResult, reader_registry, stream_cursor
from query.readers.deadline import statement_deadline


@reader_registry.register
class SQLiteReader(BaseReader):
    name = "sqlite"
    rank = 10
    backends = frozenset({"sqlite"})

    def read(self, ctx: ReadContext) -> ReadResult:
        """Run on the tenant's SQLite file under the statement deadline (a progress handler)."""
        timings: dict[str, float] = {}
        with ctx.connect() as conn, statement_deadline(ctx.timeout_s, conn):
            t0 = time.perf_counter()
            result = conn.execute(ctx.query.statement())
            timings["query"] = time.perf_counter() - t0
            try:
                return stream_cursor(result.cursor, ctx, timings)
            finally:
                result.close()

"""SQLite (the embedded default): stream the stdlib cursor, parse timestamps in one numpy call."""

from __future__ import annotations

from query.readers.base import BaseReader, ReadContext, ReadResult, execute_and_stream, reader_registry
from query.readers.deadline import statement_deadline


@reader_registry.register
class SQLiteReader(BaseReader):
    name = "sqlite"
    rank = 10
    backends = frozenset({"sqlite"})

    def read(self, ctx: ReadContext) -> ReadResult:
        """Run on the tenant's SQLite file under the statement deadline (a progress handler)."""
        with ctx.connect() as conn, statement_deadline(ctx.timeout_s, conn):
            return execute_and_stream(conn, ctx)

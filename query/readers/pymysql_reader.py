"""PyMySQL: pure Python, works on every host; the fallback MySQL reader."""

from __future__ import annotations

from typing import Any

from query.readers._mysql_session import stream_mysql
from query.readers.base import BaseReader, ReadContext, ReadResult, reader_registry


def _unbuffered(driver: Any) -> tuple[Any, dict]:
    """Stream with SSCursor and let DATETIME arrive as text (one vectorised parse beats a
    datetime object per value)."""
    from pymysql.constants import FIELD_TYPE
    from pymysql.cursors import SSCursor

    saved = (driver.cursorclass, driver.decoders)
    driver.cursorclass = SSCursor
    driver.decoders = {**driver.decoders, FIELD_TYPE.DATETIME: None}
    return saved


def _restore(driver: Any, saved: tuple[Any, dict]) -> None:
    driver.cursorclass, driver.decoders = saved


@reader_registry.register
class PyMySQLReader(BaseReader):
    name = "pymysql"
    rank = 90
    backends = frozenset({"mysql"})
    driver_module = "pymysql"

    def read(self, ctx: ReadContext) -> ReadResult:
        """Stream through the tenant's own PyMySQL connection."""
        with ctx.connect() as conn:
            return stream_mysql(conn, ctx, before=_unbuffered, after=_restore)

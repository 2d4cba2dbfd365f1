"""PyMySQL: pure Python, works on every host; the fallback MySQL reader."""

from __future__ import annotations

from typing import Any

from core.readers._mysql_session import stream_mysql
from core.readers.base import BaseReader, ReadContext, ReadResult


def _raw_datetimes(driver: Any) -> dict:
    """Let DATETIME values arrive as text: one vectorised parse beats a datetime per value."""
    from pymysql.constants import FIELD_TYPE

    saved = driver.decoders
    driver.decoders = {**saved, FIELD_TYPE.DATETIME: None}
    return saved


def _restore(driver: Any, saved: dict) -> None:
    driver.decoders = saved


class PyMySQLReader(BaseReader):
    name = "pymysql"
    rank = 90
    backends = frozenset({"mysql"})

    @classmethod
    def installed(cls) -> bool:
        try:
            import pymysql  # noqa: F401
        except ImportError:
            return False
        return True

    def read(self, ctx: ReadContext) -> ReadResult:
        """Stream through the tenant's own PyMySQL connection."""
        with ctx.connect() as conn:
            return stream_mysql(conn, ctx, before=_raw_datetimes, after=_restore)

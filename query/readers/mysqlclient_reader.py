"""mysqlclient (C extension): about 2-3× faster than PyMySQL where a wheel exists.

Its connections are bounded like PyMySQL's (core/db.py `guard_mysql_engine`): read and write
timeouts from the read's budget, in whole seconds as the C library takes them, and the server's
circuit before each connect.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from core.db import guard_mysql_engine
from query.readers._mysql_session import stream_mysql
from query.readers.base import BaseReader, ReadContext, ReadResult, reader_registry


def _conversions() -> dict[Any, Any]:
    """mysqlclient's converters with DATETIME left as text (parsed later in one numpy call)."""
    from MySQLdb import converters
    from MySQLdb.constants import FIELD_TYPE

    conv = dict(converters.conversions)
    conv.pop(FIELD_TYPE.DATETIME, None)
    return conv


def _unbuffered(driver: Any) -> Any:
    """Stream with mysqlclient's SSCursor (rows stay on the server until fetched)."""
    from MySQLdb.cursors import SSCursor

    saved = driver.cursorclass
    driver.cursorclass = SSCursor
    return saved


def _restore(driver: Any, saved: Any) -> None:
    driver.cursorclass = saved


def _engine(ctx: ReadContext) -> Engine:
    """A NullPool engine on the same database through the mysqlclient driver (kept by the runtime)."""
    target = ctx.url.set(drivername="mysql+mysqldb")
    args = {"conv": _conversions(), "charset": "utf8mb4",
            "connect_timeout": max(1, math.ceil(ctx.guard.connect_timeout_s))}
    return ctx.engines.get(target.render_as_string(hide_password=False), lambda: guard_mysql_engine(
        create_engine(target, poolclass=NullPool, connect_args=args), ctx.guard, whole_seconds=True,
    ))


@reader_registry.register
class MySQLClientReader(BaseReader):
    name = "mysqlclient"
    rank = 50
    backends = frozenset({"mysql"})
    driver_module = "MySQLdb"

    def read(self, ctx: ReadContext) -> ReadResult:
        """Stream through a mysqlclient connection opened for this read."""
        with _engine(ctx).connect() as conn:
            return stream_mysql(conn, ctx, before=_unbuffered, after=_restore)

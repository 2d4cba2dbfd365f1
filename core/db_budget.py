"""How long one unit of database work waits for the server: client-side socket timeouts.

A server that hangs (stopped, an unplugged host, a full network path) answers nothing, so the
server's own statement limit (`max_statement_time`) cannot fire; only the client can stop
waiting. Every connection gets its wait when it opens (engines use NullPool: one connection per
unit of work), from the budget of the code that opens it:

    a web request (engine route or page)   CAMET_DB_TIMEOUT_S                  default 10 s
    a dashboard read inside a request      CAMET_QUERY_TIMEOUT_S + a fifth     default 36 s
                                           of it (at least 1 s), so the server cancels first
    the health check                       HEALTH_WAIT_S                       1 s
    everything else: jobs, commands,       CAMET_DB_LONG_TIMEOUT_S             default 1800 s
    background imports, seed-demo, LOAD DATA, rollup backfills

MySQL drivers get it as their read and write timeout (also the wait for the server's greeting:
a connect to a stopped server hangs there, after the TCP connect succeeded); SQLite as its
busy timeout, capped at SQLITE_MAX_BUSY_S. Code outside a request (threads, the scheduler, the
CLI) starts with no budget set and so gets the long one: only requests are short by default.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token

HEALTH_WAIT_S = 1.0
SQLITE_MAX_BUSY_S = 10.0  # a locked SQLite file: never wait longer than before budgets existed

_budget: ContextVar[float | None] = ContextVar("camet_db_budget", default=None)


def dashboard_wait_s(query_timeout_s: float) -> float:
    """The client's wait for a dashboard query: the server's statement limit plus a margin."""
    return query_timeout_s + max(1.0, query_timeout_s / 5)


def current_wait_s(default_s: float) -> float:
    """The budget of the running code, or `default_s` (the long one) when none is set."""
    value = _budget.get()
    return default_s if value is None else value


def begin(seconds: float) -> Token[float | None]:
    """Set the budget until `end(token)` (frameworks whose request hooks come in pairs)."""
    return _budget.set(float(seconds))


def end(token: Token[float | None]) -> None:
    try:
        _budget.reset(token)
    except ValueError:  # an abandoned request coroutine closed later, from another context:
        pass  # that context never had the budget, so there is nothing to undo


@contextmanager
def waiting_up_to(seconds: float) -> Iterator[None]:
    """Connections opened inside wait at most `seconds` for each answer of the server."""
    token = begin(seconds)
    try:
        yield
    finally:
        end(token)


def mysql_wait_args(seconds: float, *, whole_seconds: bool = False) -> dict[str, float | int]:
    """read/write timeouts of a MySQL driver; mysqlclient wants whole seconds (rounded up)."""
    value: float | int = max(1, math.ceil(seconds)) if whole_seconds else seconds
    return {"read_timeout": value, "write_timeout": value}


def sqlite_busy_s(seconds: float) -> float:
    """SQLite's wait for a lock another connection holds."""
    return min(seconds, SQLITE_MAX_BUSY_S)

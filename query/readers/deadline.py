"""One statement-deadline mechanism for every reader and for the row-budget counts.

`statement_deadline(timeout_s, conn)` limits the statements run inside the block and turns the
database's cancellation into QueryTimeout (504):

- MySQL/MariaDB: a per-session `max_statement_time` (MariaDB) or `max_execution_time` (MySQL);
  the server kills the statement (errno 1969 / 3024, or 1317 after KILL QUERY);
- SQLite: a progress handler that interrupts the statement past the deadline;
- no connection (ConnectorX opens its own): only the translation; the reader sends
  `deadline_sql(...)[0]` as its pre-execution query.

The session setting is reset when the block ends (quietly: the connection closes right after).

The server can only cancel what it runs: a server that hangs answers nothing. So connections
opened inside `dashboard_wait(timeout_s)` also stop waiting on the client side, a margin after
the server's limit (core/db_budget.py), which ends in DatabaseUnavailable (503).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from core.db_budget import dashboard_wait_s, waiting_up_to
from core.errors import CametError, QueryTimeout

TIMEOUT_ERRNOS = {1969, 3024, 1317}  # MariaDB max_statement_time, MySQL max_execution_time, KILL
PROGRESS_STEPS = 20_000  # SQLite VM steps between two deadline checks


def deadline_sql(mariadb: bool, timeout_s: float) -> tuple[str, str]:
    """(set, reset) SQL for a per-session statement time limit on MariaDB or MySQL."""
    if mariadb:
        return (f"SET SESSION max_statement_time = {float(timeout_s):.3f}",
                "SET SESSION max_statement_time = DEFAULT")
    return (f"SET SESSION max_execution_time = {int(timeout_s * 1000)}",
            "SET SESSION max_execution_time = DEFAULT")


def query_timeout(timeout_s: float) -> QueryTimeout:
    """The 504 error that asks the user to narrow the selection."""
    return QueryTimeout(
        f"La consulta tardó más de {timeout_s:g} s y se canceló. "
        "Acotá el rango de fechas o elegí menos líneas.",
        details={"timeout_s": timeout_s},
    )


def is_timeout_error(exc: BaseException) -> bool:
    """True for a driver error that means 'statement cancelled for time'."""
    orig = getattr(exc, "orig", None) or exc
    args = getattr(orig, "args", ())
    if args and isinstance(args[0], int) and args[0] in TIMEOUT_ERRNOS:
        return True
    message = str(orig)
    return "max_statement_time" in message or "interrupted" in message.lower()


def _install(conn: Connection, timeout_s: float) -> Callable[[], Any]:
    """Set the limit on this connection; returns what undoes it."""
    if conn.dialect.name == "sqlite":
        driver: Any = conn.connection.dbapi_connection
        deadline = time.monotonic() + timeout_s
        driver.set_progress_handler(lambda: int(time.monotonic() > deadline), PROGRESS_STEPS)
        return lambda: driver.set_progress_handler(None, 0)
    set_sql, reset_sql = deadline_sql(bool(getattr(conn.dialect, "is_mariadb", False)), timeout_s)
    conn.execute(text(set_sql))
    return lambda: conn.execute(text(reset_sql))


@contextlib.contextmanager
def statement_deadline(timeout_s: float, conn: Connection | None = None) -> Iterator[None]:
    """Statements inside run at most `timeout_s` on `conn`; a cancellation raises QueryTimeout."""
    undo = _install(conn, timeout_s) if conn is not None else None
    try:
        yield
    except CametError:
        raise
    except Exception as exc:
        if is_timeout_error(exc):
            raise query_timeout(timeout_s) from None
        raise
    finally:
        if undo is not None:
            with contextlib.suppress(Exception):  # a cancelled statement may leave it unusable
                undo()


def dashboard_wait(timeout_s: float) -> contextlib.AbstractContextManager[None]:
    """Connections opened inside wait for each answer of the server as long as a dashboard query
    may run (`timeout_s`) plus a margin, so the server's own cancellation (504) comes first."""
    return waiting_up_to(dashboard_wait_s(timeout_s))

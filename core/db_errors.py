"""Which database errors mean "the database does not answer", and what a client is told then.

A lost connection, a connect that fails or times out, a client read timeout, a locked or
missing SQLite file: all become DatabaseUnavailable, a 503 with Retry-After and one Spanish
message that names nothing (no URL, user, host, port, database or file). The cause is kept for
the operator: the log and the command line.
"""

from __future__ import annotations

import sqlite3

import pymysql

from core.errors import DatabaseUnavailable

UNAVAILABLE_MESSAGE = "La base de datos no responde en este momento. Volvé a intentar en unos segundos."

# MySQL/MariaDB server and client-library error numbers for a server that cannot be reached,
# went away or stopped answering in time. Not here: a statement the server cancelled for time
# (1969, 3024: a QueryTimeout), deadlocks and lock waits (the server answers).
MYSQL_UNAVAILABLE = frozenset({
    1040,  # too many connections
    1053,  # server shutdown in progress
    1927,  # connection was killed (MariaDB)
    2002,  # cannot connect through the socket
    2003,  # cannot connect (refused, or timed out, also waiting for a stopped server's greeting)
    2005,  # unknown host
    2006,  # server has gone away
    2013,  # lost connection during query (also the client's read/write timeout)
    2055,  # lost connection, extended
})
SQLITE_UNAVAILABLE = ("database is locked", "unable to open database file", "disk i/o error",
                      "readonly database")


def unavailable_cause(exc: BaseException) -> str | None:
    """One line saying why the database does not answer when `exc` (a SQLAlchemy error or a raw
    driver error) means that; None for every other error (bad SQL, constraints, cancellations)."""
    if isinstance(exc, DatabaseUnavailable):
        return exc.cause or exc.message
    orig = getattr(exc, "orig", None) or exc  # SQLAlchemy's DBAPIError wraps the driver's error
    if isinstance(orig, DatabaseUnavailable):
        return orig.cause or orig.message
    if isinstance(orig, sqlite3.OperationalError):
        text = str(orig)
        return f"sqlite: {text}" if any(m in text.lower() for m in SQLITE_UNAVAILABLE) else None
    mysqlclient = type(orig).__module__.startswith(("MySQLdb", "_mysql"))
    if not (isinstance(orig, pymysql.err.Error) or mysqlclient):
        return None
    args = getattr(orig, "args", ())
    errno = args[0] if args and isinstance(args[0], int) else None
    detail = str(args[1]) if len(args) > 1 else str(orig)
    if type(orig).__name__ == "InterfaceError":  # PyMySQL: a connection the server closed earlier
        return f"connection closed ({detail or 'no detail'})"
    if errno in MYSQL_UNAVAILABLE or getattr(exc, "connection_invalidated", False):
        return f"MySQL error {errno}: {detail}"
    return None


def as_unavailable(exc: BaseException, retry_after_s: int) -> DatabaseUnavailable | None:
    """The client-safe DatabaseUnavailable for `exc`, or None when `exc` means something else."""
    if isinstance(exc, DatabaseUnavailable):
        return exc
    cause = unavailable_cause(exc)
    if cause is None:
        return None
    return DatabaseUnavailable(UNAVAILABLE_MESSAGE, retry_after_s=retry_after_s, cause=cause)

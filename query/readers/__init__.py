"""Readers that turn a planned query into the base DataFrame, fastest installed first.

    BaseReader (base.py), each subclass registered in `reader_registry` by its `name`
    ├── ConnectorXReader   MySQL, Rust, SQL rendered with literal binds      (rank 10)
    ├── MySQLClientReader  MySQL, C driver, streamed with bound parameters   (rank 50)
    ├── PyMySQLReader      MySQL, pure Python, always available (fallback)   (rank 90)
    └── SQLiteReader       SQLite, stdlib                                    (rank 10)

Dashboards choose among `automatic_readers`: those whose wait for the server is bounded.
ConnectorX is not one of them (it holds the GIL while it connects and while it waits for its
first answer, so a server that hangs would stall every thread of the process); it runs only
when named (benchmarks, `reader=`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from core.db_errors import as_unavailable
from core.errors import CametError, InvalidDefinition
from core.query_state import ReaderFailures
from query.readers import (  # noqa: F401  (registration)
    connectorx_reader,
    mysqlclient_reader,
    pymysql_reader,
    sqlite_reader,
)
from query.readers.base import BaseReader, ReadContext, ReadResult, reader_registry

log = logging.getLogger(__name__)


def available_readers(backend: str) -> list[type[BaseReader]]:
    """Installed readers for 'mysql' or 'sqlite', fastest first."""
    found = [r for r in reader_registry if backend in r.backends and r.installed()]
    return sorted(found, key=lambda r: r.rank)


def automatic_readers(backend: str) -> list[type[BaseReader]]:
    """The installed readers a dashboard may use unasked: their waits are bounded, fastest first."""
    return [r for r in available_readers(backend) if r.bounded_waits]


def read_with_fallback(
    candidates: Sequence[type[BaseReader]], ctx: ReadContext, key: str, failures: ReaderFailures
) -> tuple[ReadResult, str]:
    """Read with the first candidate that works; a reader that fails for another reason than
    the guards (e.g. a driver that cannot talk to this server) is logged, recorded in `failures`
    (skipped for its cooldown on this database `key`), and the next one is tried. The last
    candidate's error is raised as is. A database that does not answer is no reader's fault:
    that is DatabaseUnavailable at once, without trying (and waiting on) the next reader."""
    names = set(failures.usable(key, [c.name for c in candidates]))
    usable = [c for c in candidates if c.name in names] or list(candidates)
    for i, cls in enumerate(usable):
        try:
            return cls().read(ctx), cls.name
        except CametError:
            raise
        except Exception as exc:
            unavailable = as_unavailable(exc, ctx.guard.retry_s)
            if unavailable is not None:
                raise unavailable from None
            if i == len(usable) - 1:
                raise
            log.warning("reader %s failed (%s: %s); falling back to %s",
                        cls.name, type(exc).__name__, str(exc)[:200], usable[i + 1].name)
            failures.record(key, cls.name)
    raise AssertionError("unreachable")


def select_reader(backend: str, preferred: str | None = None) -> BaseReader:
    """The named reader if given (ValueError when unknown or not installed), else the fastest."""
    choices = available_readers(backend)
    if preferred is not None:
        for cls in choices:
            if cls.name == preferred:
                return cls()
        names = ", ".join(c.name for c in choices)
        raise InvalidDefinition(f"reader {preferred!r} is not available for {backend} (have: {names})")
    if not choices:
        raise InvalidDefinition(f"no reader installed for {backend}")
    return choices[0]()


__all__ = [
    "BaseReader", "ReadContext", "ReadResult", "automatic_readers", "available_readers",
    "read_with_fallback", "reader_registry", "select_reader",
]

"""Readers that turn a planned query into the base DataFrame, fastest installed first.

    BaseReader (base.py)
    ├── ConnectorXReader   MySQL, Rust, SQL rendered with literal binds      (rank 10)
    ├── MySQLClientReader  MySQL, C driver, streamed with bound parameters   (rank 50)
    ├── PyMySQLReader      MySQL, pure Python, always available (fallback)   (rank 90)
    └── SQLiteReader       SQLite, stdlib                                    (rank 10)
"""

from __future__ import annotations

from core.readers.base import BaseReader, ReadContext, ReadResult
from core.readers.connectorx_reader import ConnectorXReader
from core.readers.mysqlclient_reader import MySQLClientReader
from core.readers.pymysql_reader import PyMySQLReader
from core.readers.sqlite_reader import SQLiteReader

READERS: tuple[type[BaseReader], ...] = (
    ConnectorXReader, MySQLClientReader, PyMySQLReader, SQLiteReader,
)


def available_readers(backend: str) -> list[type[BaseReader]]:
    """Installed readers for 'mysql' or 'sqlite', fastest first."""
    found = [r for r in READERS if backend in r.backends and r.installed()]
    return sorted(found, key=lambda r: r.rank)


def select_reader(backend: str, preferred: str | None = None) -> BaseReader:
    """The named reader if given (ValueError when unknown or not installed), else the fastest."""
    choices = available_readers(backend)
    if preferred is not None:
        for cls in choices:
            if cls.name == preferred:
                return cls()
        names = ", ".join(c.name for c in choices)
        raise ValueError(f"reader {preferred!r} is not available for {backend} (have: {names})")
    if not choices:
        raise ValueError(f"no reader installed for {backend}")
    return choices[0]()


__all__ = [
    "READERS", "BaseReader", "ReadContext", "ReadResult", "available_readers", "select_reader",
]

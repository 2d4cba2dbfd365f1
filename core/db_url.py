"""Database URLs: which ones the product accepts, and how to print them without the password.

Its own module so settings can validate a URL without importing the DatabaseManager.
"""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from core.errors import DatabaseConfigError

SUPPORTED_DRIVERS = {"sqlite", "sqlite+pysqlite", "mysql+pymysql", "mariadb+pymysql"}


def parse_db_url(raw: str) -> URL:
    """Validate a database URL; only SQLite files and MySQL/MariaDB through PyMySQL."""
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError):
        raise DatabaseConfigError(
            f"invalid database URL {redact(raw)!r}: expected sqlite:///path.db "
            "or mysql+pymysql://user:pass@host:3306/db"
        ) from None
    if url.drivername in {"mysql", "mariadb"}:
        url = url.set(drivername="mysql+pymysql")
    if url.drivername not in SUPPORTED_DRIVERS:
        raise DatabaseConfigError(
            f"unsupported database driver {url.drivername!r}: use sqlite:/// or mysql+pymysql://"
        )
    if is_mysql(url) and not url.database:
        raise DatabaseConfigError(f"database URL {redact(raw)!r} names no database")
    if url.drivername.startswith("sqlite") and url.database in (None, "", ":memory:"):
        raise DatabaseConfigError("SQLite URLs must name a file: sqlite:///var/x.db")
    return url


def is_mysql(url: URL | str) -> bool:
    """True for MySQL/MariaDB URLs (partitions, LOAD DATA, server-side cursors)."""
    name = (make_url(url) if isinstance(url, str) else url).get_backend_name()
    return name in {"mysql", "mariadb"}


def redact(raw: str) -> str:
    """A URL safe to print: the password replaced."""
    try:
        return make_url(raw).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "<unparseable URL>"

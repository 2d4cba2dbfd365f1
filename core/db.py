"""DatabaseManager: one central database and one database per tenant, without pooling.

Shared hosting allows few connections, so every engine uses `NullPool`: a connection is opened
for one unit of work and closed right after. Engines are cached (per URL); connections never.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Literal

from sqlalchemy import create_engine, event, select, text
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from core.db_url import SUPPORTED_DRIVERS as SUPPORTED_DRIVERS
from core.db_url import is_mysql as is_mysql
from core.db_url import parse_db_url
from core.db_url import redact as redact
from core.errors import DatabaseUnavailable, NotFound
from core.file_modes import private_sqlite_file
from core.settings import Settings


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001 - DBAPI hook signature
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    """`engine.execution_options(sqlite_begin="IMMEDIATE")` opens its transactions with the
    database's write lock, so a read-check-write cannot race another writer (pysqlite itself
    only ever sends a deferred BEGIN, and only before the first write)."""
    mode = conn.get_execution_options().get("sqlite_begin")
    if mode in ("IMMEDIATE", "EXCLUSIVE"):
        conn.exec_driver_sql(f"BEGIN {mode}")


LOOPBACK_HOSTS = {"127.0.0.1", "::1", "localhost", None, ""}
TlsMode = Literal["auto", "disabled", "required"]


@lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    """One verified client TLS context per process (building one costs ~60 ms)."""
    return ssl.create_default_context()


def mysql_tls_args(url: URL, mode: TlsMode = "auto") -> dict[str, object]:
    """PyMySQL TLS arguments: TLS to remote servers, none on loopback.

    PyMySQL's default ("preferred") builds a new SSL context on every connection, ~40-60 ms
    that a NullPool engine would pay per unit of work; ssl_* options in the URL win.
    """
    if any(key.startswith("ssl") for key in url.query):
        return {}
    if mode == "disabled" or (mode == "auto" and url.host in LOOPBACK_HOSTS):
        return {"ssl_disabled": True}
    if mode == "required":
        return {"ssl": _tls_context()}
    return {}


def build_engine(url: URL | str, *, tls: TlsMode = "auto") -> Engine:
    """An engine without a pool; MySQL gets utf8mb4 and LOCAL INFILE for bulk loads."""
    url = parse_db_url(url) if isinstance(url, str) else url
    if url.drivername.startswith("sqlite"):
        private_sqlite_file(Path(url.database))
        engine = create_engine(url, poolclass=NullPool, connect_args={"timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    connect_args = {"charset": "utf8mb4", "local_infile": True, "connect_timeout": 5,
                    **mysql_tls_args(url, tls)}
    return create_engine(url, poolclass=NullPool, connect_args=connect_args)


class DatabaseManager:
    """Engines for the central DB and each tenant DB; thread-safe, cached per URL."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.central_url = parse_db_url(settings.resolved_central_db_url())
        self._engines: dict[str, Engine] = {}
        self._tenant_urls: dict[str, str] = {}
        self._lock = threading.Lock()

    def engine_for(self, url: URL | str) -> Engine:
        """The cached engine of one URL."""
        key = url.render_as_string(hide_password=False) if isinstance(url, URL) else url
        with self._lock:
            engine = self._engines.get(key)
            if engine is None:
                engine = self._engines[key] = build_engine(url, tls=self.settings.db_tls)
            return engine

    @property
    def central_engine(self) -> Engine:
        return self.engine_for(self.central_url)

    def tenant_url(self, slug: str) -> str:
        """The tenant's DB URL from the central `tenants` table (cached per process)."""
        cached = self._tenant_urls.get(slug)
        if cached is not None:
            return cached
        from core.schema_central import tenants

        with self.central() as conn:
            row = conn.execute(
                select(tenants.c.db_url).where(tenants.c.slug == slug, tenants.c.active.is_(True))
            ).first()
        if row is None:
            raise NotFound(f"unknown tenant {slug!r}")
        self._tenant_urls[slug] = row.db_url
        return row.db_url

    def tenant_engine(self, slug: str) -> Engine:
        return self.engine_for(self.tenant_url(slug))

    def forget_tenant(self, slug: str) -> None:
        """Drop a cached tenant URL (after a tenant is changed or removed)."""
        self._tenant_urls.pop(slug, None)

    @contextmanager
    def central(self) -> Iterator[Connection]:
        """One transaction on the central DB; the connection closes on exit."""
        with transaction(self.central_engine) as conn:
            yield conn

    @contextmanager
    def tenant(self, slug: str) -> Iterator[Connection]:
        """One transaction on a tenant DB; the connection closes on exit."""
        with transaction(self.tenant_engine(slug)) as conn:
            yield conn

    def ping(self, engine: Engine) -> bool:
        """True when the database answers a trivial query."""
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except SQLAlchemyError:
            return False

    def dispose(self) -> None:
        """Forget every engine (tests, after fork)."""
        with self._lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()
            self._tenant_urls.clear()


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """engine.begin() that turns 'cannot connect' into DatabaseUnavailable with one clear line."""
    try:
        conn_cm = engine.begin()
        conn = conn_cm.__enter__()
    except OperationalError as exc:
        raise DatabaseUnavailable(
            f"database {engine.url.render_as_string(hide_password=True)} is unreachable: "
            f"{_short(exc)}"
        ) from None
    try:
        yield conn
    except BaseException as exc:
        conn_cm.__exit__(type(exc), exc, exc.__traceback__)
        raise
    else:
        conn_cm.__exit__(None, None, None)


def _short(exc: OperationalError) -> str:
    orig = getattr(exc, "orig", None)
    args = getattr(orig, "args", ())
    if len(args) >= 2:
        return str(args[1])
    return str(orig or exc).splitlines()[0]

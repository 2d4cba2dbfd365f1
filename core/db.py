"""DatabaseManager: one central database and one database per tenant, without pooling.

Shared hosting allows few connections, so every engine uses `NullPool`: a connection is opened
for one unit of work and closed right after. Engines are cached (per URL); connections never.
Each connection waits for the server at most its unit of work's budget (core/db_budget.py), and
a MySQL server that failed to answer is not tried again for a few seconds (core/db_circuit.py).
"""

from __future__ import annotations

import math
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import create_engine, event, select, text
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from core.db_budget import current_wait_s, mysql_wait_args, sqlite_busy_s
from core.db_circuit import DatabaseCircuit, DatabaseCircuitOpen
from core.db_errors import UNAVAILABLE_MESSAGE, unavailable_cause
from core.db_url import SUPPORTED_DRIVERS as SUPPORTED_DRIVERS
from core.db_url import is_mysql as is_mysql
from core.db_url import parse_db_url
from core.db_url import redact as redact
from core.errors import DatabaseUnavailable, NotFound
from core.file_modes import private_sqlite_file
from core.settings import Settings


@dataclass
class DbGuard:
    """What bounds every connection of one runtime: the connect timeout, the wait outside
    requests (core/db_budget.py), and the servers' circuits (None: no circuit)."""

    connect_timeout_s: float = 3.0
    long_wait_s: float = 1800.0
    retry_s: int = 5
    circuit: DatabaseCircuit | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> DbGuard:
        return cls(connect_timeout_s=settings.db_connect_timeout_s, long_wait_s=settings.db_long_timeout_s,
                   retry_s=settings.db_retry_s, circuit=DatabaseCircuit(settings.db_retry_s))


def server_of(url: URL) -> str:
    """`host:port` of a MySQL URL: the key of its server's circuit (for logs, never clients)."""
    return f"{url.host or 'localhost'}:{url.port or 3306}"


def guard_mysql_engine(engine: Engine, guard: DbGuard, *, whole_seconds: bool = False) -> Engine:
    """Bound every connection of a MySQL engine (PyMySQL, or mysqlclient with `whole_seconds`):
    connecting (TCP, the server's greeting, authentication) within the connect timeout, then
    read/write timeouts from the running code's budget; the circuit before each connect, and
    failures that mean "no answer" recorded in the circuit."""
    server = server_of(engine.url)
    circuit = guard.circuit

    @event.listens_for(engine, "do_connect")
    def _bounded_connect(dialect: Any, _record: Any, cargs: Any, cparams: dict[str, Any]) -> Any:  # noqa: ANN401
        if circuit is not None:
            circuit.before_connect(server)
        wait_s = current_wait_s(guard.long_wait_s)
        connect_s = min(guard.connect_timeout_s, wait_s)  # never longer than the whole budget
        if whole_seconds:  # mysqlclient: its connect timeout also bounds the greeting
            cparams.update(mysql_wait_args(wait_s, whole_seconds=True))
            cparams["connect_timeout"] = max(1, math.ceil(connect_s))
            return None
        # PyMySQL waits for the greeting and authenticates under its read/write timeouts: connect
        # under the connect timeout, then give the open connection the statement wait (PyMySQL
        # reads these two attributes before every read and write; it has no public setter).
        cparams.update(mysql_wait_args(connect_s), connect_timeout=connect_s)
        connection = dialect.loaded_dbapi.connect(*cargs, **cparams)
        connection._read_timeout = connection._write_timeout = wait_s
        return connection

    if circuit is not None:
        @event.listens_for(engine, "connect")
        def _answered(_dbapi_conn: Any, _record: Any) -> None:
            circuit.succeeded(server)

        @event.listens_for(engine, "handle_error")
        def _no_answer(context: Any) -> None:
            failure = context.original_exception
            cause = None if isinstance(failure, DatabaseCircuitOpen) else unavailable_cause(failure)
            if cause is not None:
                circuit.failed(server, cause)

    return engine


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001 - DBAPI hook signature
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
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


def build_engine(url: URL | str, *, tls: TlsMode = "auto", guard: DbGuard | None = None) -> Engine:
    """An engine without a pool; MySQL gets utf8mb4 and LOCAL INFILE for bulk loads. Its
    connections wait for the server as long as the budget of the code opening them allows
    (SQLite: for a lock), and a `guard` with a circuit fails them at once while it is open."""
    url = parse_db_url(url) if isinstance(url, str) else url
    guard = guard or DbGuard()
    if url.drivername.startswith("sqlite"):
        private_sqlite_file(Path(url.database))
        engine = create_engine(url, poolclass=NullPool)

        @event.listens_for(engine, "do_connect")
        def _lock_wait(_dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
            cparams["timeout"] = sqlite_busy_s(current_wait_s(guard.long_wait_s))

        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    connect_args = {"charset": "utf8mb4", "local_infile": True, "connect_timeout": guard.connect_timeout_s,
                    **mysql_tls_args(url, tls)}
    return guard_mysql_engine(create_engine(url, poolclass=NullPool, connect_args=connect_args), guard)


class DatabaseManager:
    """Engines for the central DB and each tenant DB; thread-safe, cached per URL."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.central_url = parse_db_url(settings.resolved_central_db_url())
        self.guard = DbGuard.from_settings(settings)
        self._engines: dict[str, Engine] = {}
        self._tenant_urls: dict[str, str] = {}
        self._lock = threading.Lock()

    def engine_for(self, url: URL | str) -> Engine:
        """The cached engine of one URL."""
        key = url.render_as_string(hide_password=False) if isinstance(url, URL) else url
        with self._lock:
            engine = self._engines.get(key)
            if engine is None:
                engine = self._engines[key] = build_engine(url, tls=self.settings.db_tls, guard=self.guard)
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
        with transaction(self.central_engine, retry_after_s=self.guard.retry_s) as conn:
            yield conn

    @contextmanager
    def tenant(self, slug: str) -> Iterator[Connection]:
        """One transaction on a tenant DB; the connection closes on exit."""
        with transaction(self.tenant_engine(slug), retry_after_s=self.guard.retry_s) as conn:
            yield conn

    def known_down(self, url: URL) -> bool:
        """Whether connects to this MySQL database's server fail at once right now (its
        circuit is open and no retry is due); always False for SQLite."""
        return is_mysql(url) and self.guard.circuit is not None and self.guard.circuit.is_open(server_of(url))

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
def transaction(engine: Engine, *, retry_after_s: int = 5) -> Iterator[Connection]:
    """engine.begin() that turns 'cannot connect' into DatabaseUnavailable: a message that names
    nothing for clients, the URL (without password) and the driver's reason as its cause."""
    try:
        conn_cm = engine.begin()
        conn = conn_cm.__enter__()
    except OperationalError as exc:
        raise DatabaseUnavailable(
            UNAVAILABLE_MESSAGE, retry_after_s=retry_after_s,
            cause=f"database {engine.url.render_as_string(hide_password=True)} is unreachable: {_short(exc)}",
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

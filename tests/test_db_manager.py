"""DatabaseManager: URL validation, NullPool behaviour, connections returned to the server."""

from __future__ import annotations

import os

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.pool import NullPool

from app_fastapi.main import create_app
from core.db import build_engine, parse_db_url
from core.errors import DatabaseConfigError, DatabaseUnavailable


@pytest.mark.parametrize("raw, message", [
    ("postgresql://u@h/db", "unsupported database driver"),
    ("not a url", "invalid database URL"),
    ("mysql+pymysql://root@127.0.0.1:3306", "names no database"),
    ("sqlite://", "SQLite URLs must name a file"),
])
def test_bad_urls_are_rejected_clearly(raw, message):
    with pytest.raises(DatabaseConfigError, match=message):
        parse_db_url(raw)


def test_plain_mysql_url_uses_pymysql():
    assert parse_db_url("mysql://u:p@h/db").drivername == "mysql+pymysql"


def test_engines_have_no_pool_and_are_cached_per_tenant(runtime, plant_tenant):
    engine = runtime.db.tenant_engine(plant_tenant)
    assert isinstance(engine.pool, NullPool)
    assert runtime.db.tenant_engine(plant_tenant) is engine
    assert isinstance(runtime.db.central_engine.pool, NullPool)


def test_unreachable_server_is_a_clear_error(runtime):
    """Clients get a message that names nothing; the operator's cause names the server."""
    engine = build_engine("mysql+pymysql://root@127.0.0.1:1/none")
    with pytest.raises(DatabaseUnavailable) as err:
        from core.db import transaction

        with transaction(engine):
            pass
    assert err.value.message.startswith("La base de datos no responde")
    assert "127.0.0.1" not in str(err.value.to_dict()) and "root" not in str(err.value.to_dict())
    assert "mysql+pymysql://root@127.0.0.1:1/none is unreachable" in err.value.cause
    assert err.value.retry_after_s >= 1


def server_connections(url: str, prefix: str) -> tuple[int, int]:
    """(Threads_connected of the whole server, connections using this test's databases)."""
    engine = build_engine(url)
    try:
        with engine.connect() as conn:
            total = int(conn.execute(text("SHOW STATUS LIKE 'Threads_connected'")).one()[1]) - 1
            ours = conn.execute(text(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB LIKE :p"
            ), {"p": prefix + "%"}).scalar()
            return total, int(ours)
    finally:
        engine.dispose()


@pytest.mark.serial
@pytest.mark.parametrize("backend", [pytest.param("mysql", marks=pytest.mark.mysql)])
def test_connections_return_to_baseline_after_200_requests(mysql_url, runtime):
    """Each request opens and closes its own connection: the server count does not grow."""
    prefix = runtime.db.central_url.database
    client = TestClient(create_app(runtime))
    before, ours_before = server_connections(mysql_url, prefix)
    for _ in range(200):
        response = client.get("/api/v1/health")
        assert response.json()["status"] == "ok"
    after, ours_after = server_connections(mysql_url, prefix)
    assert ours_before == ours_after == 0
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        # `make test` runs this test alone (marker `serial`), so the server-wide count is
        # meaningful; under parallel workers other tests' connections move it.
        assert after == before, (before, after)


def test_tls_arguments_by_host_and_mode():
    from core.db import mysql_tls_args

    local = parse_db_url("mysql+pymysql://u@127.0.0.1/db")
    remote = parse_db_url("mysql+pymysql://u@db.example.com/db")
    assert mysql_tls_args(local) == {"ssl_disabled": True}
    assert mysql_tls_args(remote) == {}
    assert mysql_tls_args(remote, "disabled") == {"ssl_disabled": True}
    ctx = mysql_tls_args(remote, "required")["ssl"]
    assert ctx is mysql_tls_args(local, "required")["ssl"]  # one context per process
    explicit = parse_db_url("mysql+pymysql://u@127.0.0.1/db?ssl_ca=/etc/ca.pem")
    assert mysql_tls_args(explicit, "disabled") == {}

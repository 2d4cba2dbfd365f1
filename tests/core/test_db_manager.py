"""DatabaseManager: URL validation, NullPool behaviour, connections returned to the server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.pool import NullPool

from app_fastapi.main import create_app
from core import migrations
from core.db import build_engine, parse_db_url
from core.errors import DatabaseConfigError, DatabaseUnavailable
from core.runtime import build_runtime
from tests.helpers import frozen_test_clock, make_settings


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


@pytest.fixture
def own_mysql_user(mysql_url: str) -> Iterator[tuple[str, str]]:
    """A MariaDB user of this test alone, owning one central database: (user, its central URL).

    Counting PROCESSLIST rows of this user measures this test's connections only, whatever
    else uses the same server at the time."""
    name = f"ct_{uuid.uuid4().hex[:10]}"
    password = uuid.uuid4().hex
    root = build_engine(parse_db_url(mysql_url).set(database="mysql"))
    try:
        with root.begin() as conn:
            conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
            conn.execute(text(f"CREATE USER '{name}'@'%' IDENTIFIED BY '{password}'"))
            conn.execute(text(f"GRANT ALL PRIVILEGES ON `{name}`.* TO '{name}'@'%'"))
        url = parse_db_url(mysql_url).set(username=name, password=password, database=name)
        yield name, url.render_as_string(hide_password=False)
    finally:
        with root.begin() as conn:
            conn.execute(text(f"DROP USER IF EXISTS '{name}'@'%'"))
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        root.dispose()


def connections_of(mysql_url: str, user: str) -> int:
    """Server connections open under `user` (the counting connection is root's, not counted)."""
    engine = build_engine(mysql_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = :u"
            ), {"u": user}).scalar())
    finally:
        engine.dispose()


@pytest.mark.mysql
def test_connections_return_to_baseline_after_200_requests(mysql_url, own_mysql_user, tmp_path):
    """Each request opens and closes its own connection: this installation's count stays 0,
    even while other clients use the same server."""
    user, central_url = own_mysql_user
    settings, _ = make_settings("sqlite", tmp_path / "var", central_db_url=central_url)
    runtime = build_runtime(settings, clock=frozen_test_clock())
    try:
        migrations.upgrade_central(runtime.db.central_engine)
        client = TestClient(create_app(runtime))
        assert connections_of(mysql_url, user) == 0
        for _ in range(200):
            response = client.get("/api/v1/health")
            assert response.json()["status"] == "ok"
        assert connections_of(mysql_url, user) == 0
    finally:
        runtime.close()


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

"""Layered fixtures: backend → settings → runtime → tenant with plant → seeded demo data.

Every database test runs on SQLite and on MariaDB (`backend` is parametrised). The MariaDB
half needs CAMET_TEST_MYSQL_URL (the Makefile sets it); without it those tests skip, and with
`--require-mysql` (used by .ci/run) a missing server fails the run instead.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from core import migrations
from core.clock import ManualClock
from core.db import build_engine, parse_db_url
from core.runtime import Runtime, build_runtime, set_runtime
from core.settings import PROJECT_ROOT, Settings, load_settings
from tests.helpers import frozen_test_clock

MYSQL_URL = os.environ.get("CAMET_TEST_MYSQL_URL", "").strip()
DEMO_PLANT = PROJECT_ROOT / "config" / "demo_plant.yml"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--require-mysql", action="store_true", help="fail instead of skipping MariaDB tests")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "mysql: runs against MariaDB/MySQL")
    config.addinivalue_line("markers", "browser: drives headless Chromium")
    config.addinivalue_line("markers", "serial: measures the whole DB server; `make test` runs it alone")
    config.addinivalue_line("markers", "clock: depends on the date; `make test` reruns it at edge dates")


def _mysql_or_skip(request: pytest.FixtureRequest) -> str:
    if not MYSQL_URL:
        if request.config.getoption("--require-mysql"):
            pytest.fail("CAMET_TEST_MYSQL_URL is not set but --require-mysql was given")
        pytest.skip("CAMET_TEST_MYSQL_URL not set")
    return MYSQL_URL


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def backend(request: pytest.FixtureRequest) -> str:
    """'sqlite' or 'mysql'; every test using a database runs once per backend."""
    if request.param == "mysql":
        _mysql_or_skip(request)
    return request.param


@pytest.fixture
def mysql_url(request: pytest.FixtureRequest) -> str:
    """The MariaDB URL for tests that only make sense on MySQL."""
    return _mysql_or_skip(request)


def drop_mysql_databases(prefix: str) -> None:
    server = build_engine(parse_db_url(MYSQL_URL).set(database="mysql"))
    try:
        with server.begin() as conn:
            names = conn.execute(text("SHOW DATABASES")).scalars().all()
            for name in names:
                if name == prefix or name.startswith(prefix + "_"):
                    conn.execute(text(f"DROP DATABASE `{name}`"))
    finally:
        server.dispose()


def make_settings(backend: str, var_dir: Path, **overrides: object) -> tuple[Settings, str | None]:
    """Settings for one isolated installation; returns the MySQL DB prefix to drop, if any."""
    prefix = None
    central = ""
    if backend == "mysql":
        prefix = f"ct_{uuid.uuid4().hex[:10]}"
        central = parse_db_url(MYSQL_URL).set(database=prefix).render_as_string(hide_password=False)
        from ingest.tenants import ensure_database

        ensure_database(central)
    values: dict[str, object] = {
        "env": "test",
        "var_dir": var_dir,
        "central_db_url": central,
        "secret_key": "test-secret-key-" + "x" * 32,
        "jwt_secret": "test-jwt-secret-" + "y" * 32,
    }
    values.update(overrides)
    return load_settings(**values), prefix


@pytest.fixture
def settings(backend: str, tmp_path: Path) -> Settings:
    s, prefix = make_settings(backend, tmp_path / "var")
    yield s
    if prefix:
        drop_mysql_databases(prefix)


@pytest.fixture
def clock() -> ManualClock:
    """The injected clock of this test's runtime; tests move it with set()/advance()."""
    return frozen_test_clock()


@pytest.fixture
def runtime(settings: Settings, clock: ManualClock) -> Runtime:
    """Services of one installation with the central schema created."""
    rt = build_runtime(settings, clock=clock)
    migrations.upgrade_central(rt.db.central_engine)
    set_runtime(rt)
    yield rt
    set_runtime(None)
    rt.db.dispose()


@pytest.fixture
def plant_tenant(runtime: Runtime) -> str:
    """Tenant 'acme' with the demo plant's metadata and empty detection tables."""
    from ingest.plant_metadata import load_plant_file
    from ingest.tenants import create_tenant

    create_tenant(runtime.db, "acme", name="ACME Foods", timezone="America/Argentina/Buenos_Aires")
    load_plant_file(runtime.db, "acme", DEMO_PLANT, today=runtime.clock.now_utc().date())
    return "acme"


DEMO_TEST_ROWS = 60_000


@pytest.fixture
def demo_tenant(runtime: Runtime) -> str:
    """Tenant 'demo' as `manage.py seed-demo` builds it, with 60k detections spread over the last day.

    Includes the default Filters, Widget_catalog and layout, and user demo / demo-camet (admin).
    """
    from cli.demo import seed_demo_tenant

    seed_demo_tenant(runtime, days=1, rows=DEMO_TEST_ROWS, quiet=True)
    return "demo"


# --- auth (helper S): two tenants with users, tokens and app factories ---------------------

AUTH_PASSWORD = "clave-de-prueba-123"


class AuthWorld:
    """Tenants 'acme' (users ana=admin, vic=viewer) and 'zeta' (zed=admin), one password."""

    password = AUTH_PASSWORD

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.ids: dict[str, int] = {}
        self.tenant_of = {"ana": "acme", "vic": "acme", "zed": "zeta"}
        self.role_of = {"ana": "admin", "vic": "viewer", "zed": "admin"}

    def token(self, username: str, **kwargs: object) -> str:
        from identity.engine_tokens import Principal, issue_token

        principal = Principal(self.ids[username], username, self.tenant_of[username], self.role_of[username])
        return issue_token(self.runtime.settings, principal, **kwargs)

    def auth(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(username)}"}


@pytest.fixture
def auth_world(runtime: Runtime) -> AuthWorld:
    """Two tenants with the demo plant and three users (real Argon2 hashes)."""
    from identity.users import create_user
    from ingest.plant_metadata import load_plant_file
    from ingest.tenants import create_tenant

    world = AuthWorld(runtime)
    for slug, name in (("acme", "ACME Foods"), ("zeta", "Zeta Corp")):
        create_tenant(runtime.db, slug, name=name)
        load_plant_file(runtime.db, slug, DEMO_PLANT, today=runtime.clock.now_utc().date())
    for username, tenant in world.tenant_of.items():
        world.ids[username] = create_user(runtime.db, tenant=tenant, username=username,
                                          password=AUTH_PASSWORD, role=world.role_of[username])
    return world


@pytest.fixture
def engine_app(runtime: Runtime):
    """The FastAPI engine bound to the test runtime."""
    from app_fastapi.main import create_app

    return create_app(runtime)


@pytest.fixture
def flask_app(runtime: Runtime, engine_app):
    """The Flask page server with an in-process engine client on the test's engine."""
    from a2wsgi import ASGIMiddleware

    from app_flask.engine_client import EngineClient
    from app_flask.factory import create_app

    client = EngineClient(wsgi_app=ASGIMiddleware(engine_app))
    app = create_app(runtime, engine=client)
    yield app
    client.close()

"""Layered fixtures: backend → settings → runtime → tenant with plant → seeded demo data.

Every database test runs on SQLite and on MariaDB (`backend` is parametrised). The MariaDB
half needs CAMET_TEST_MYSQL_URL (the Makefile sets it); without it those tests skip, and with
`--require-mysql` (used by .ci/run) a missing server fails the run instead.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from core import migrations
from core.clock import ManualClock
from core.runtime import Runtime, build_runtime
from core.settings import PROJECT_ROOT, Settings
from tests.helpers import (  # noqa: F401 - re-exported for modules that still import them from here
    AUTH_PASSWORD,
    DEMO_PLANT,
    DEMO_TEST_ROWS,
    MYSQL_URL,
    AuthWorld,
    drop_mysql_databases,
    frozen_test_clock,
    make_settings,
    reused_password_hashes,
)
from tests.installation_templates import drop_templates, seeded
from tests.servers import WSGI_SERVERS

# Test installations are thrown away: in memory, their SQLite commits cost no disk flushes.
# pytest's numbered folders under this root are safe for concurrent sessions.
if "PYTEST_DEBUG_TEMPROOT" not in os.environ and os.access("/dev/shm", os.W_OK):
    os.environ["PYTEST_DEBUG_TEMPROOT"] = "/dev/shm"


# A finished test's MariaDB databases are dropped on this thread while the next test runs: a
# DROP DATABASE waits for the server's disk, and every name is unique to its test.
_DROPPER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="drop-test-dbs")
_DROPS: list[Future[None]] = []


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--require-mysql", action="store_true", help="fail instead of skipping MariaDB tests")
    parser.addoption("--clock-edges", default="", metavar="INSTANTS",
                     help="also run every non-browser `clock` test at each of these instants "
                          "(space-separated ISO 8601), in the same session")
    parser.addoption("--only-clock-edges", action="store_true",
                     help="with --clock-edges: only the edge runs, not the ordinary date")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "mysql: runs against MariaDB/MySQL")
    config.addinivalue_line("markers", "browser: drives headless Chromium")
    config.addinivalue_line("markers", "clock: depends on the date; `make test` reruns it at edge dates")
    config.addinivalue_line("markers", "settings(**overrides): setting overrides for the `settings` fixture")
    config.addinivalue_line("markers", "mariadbd_args(*args): server options of the `private_mysql` fixture")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A `clock` test runs once per clock edge (the `clock_edge` fixture sets CAMET_TEST_NOW)."""
    edges = metafunc.config.getoption("--clock-edges").split()
    definition = metafunc.definition
    if not edges or not definition.get_closest_marker("clock") or definition.get_closest_marker("browser"):
        return
    instants = edges if metafunc.config.getoption("--only-clock-edges") else [None, *edges]
    metafunc.parametrize("clock_edge", instants, indirect=True,
                         ids=[f"at-{edge}" if edge else "ordinary-date" for edge in instants])


@pytest.fixture(autouse=True)
def clock_edge(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str | None:
    """The clock edge this test runs at, if any: CAMET_TEST_NOW for its whole duration, so its
    clocks and the processes it starts see the same instant as a session started with it."""
    edge = getattr(request, "param", None)
    if edge:
        monkeypatch.setenv("CAMET_TEST_NOW", edge)
    return edge


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


@pytest.fixture
def settings_factory(backend: str, tmp_path: Path) -> Iterator[Callable[..., Settings]]:
    """Builds settings of isolated installations (own var dir and databases), with overrides."""
    prefixes: list[str | None] = []

    def make(**overrides: object) -> Settings:
        var_dir = tmp_path / ("var" if not prefixes else f"var{len(prefixes)}")
        built, prefix = make_settings(backend, var_dir, **overrides)
        prefixes.append(prefix)
        return built

    yield make
    for prefix in prefixes:
        if prefix:
            _DROPS.append(_DROPPER.submit(drop_mysql_databases, prefix))


@pytest.fixture
def settings(request: pytest.FixtureRequest, settings_factory: Callable[..., Settings]) -> Settings:
    """This test's installation; `@pytest.mark.settings(name=value)` overrides fields."""
    marker = request.node.get_closest_marker("settings")
    return settings_factory(**(marker.kwargs if marker else {}))


@pytest.fixture(params=WSGI_SERVERS)
def wsgi_kind(request: pytest.FixtureRequest) -> str:
    """The WSGI server of a Passenger-mode test: waitress, and wsgiref (empty CONTENT_LENGTH)."""
    return request.param


@pytest.fixture
def clock() -> ManualClock:
    """The injected clock of this test's runtime; tests move it with set()/advance()."""
    return frozen_test_clock()


@pytest.fixture(scope="session", autouse=True)
def _worker_cleanup() -> Iterator[None]:
    """At the worker's end: its template installations (tests/installation_templates.py) and the
    finished tests' MariaDB databases are dropped; a drop that failed fails the session here."""
    yield
    drop_templates()
    _DROPPER.shutdown(wait=True)
    for done in _DROPS:
        done.result()


@pytest.fixture
def runtime(settings: Settings, clock: ManualClock) -> Runtime:
    """Services of one installation with the central schema created."""
    rt = build_runtime(settings, clock=clock)
    migrations.upgrade_central(rt.db.central_engine)
    yield rt
    rt.close()


@pytest.fixture
def plant_tenant(runtime: Runtime) -> str:
    """Tenant 'acme' with the demo plant's metadata and empty detection tables."""
    from core.tenants import create_tenant
    from ingest.plant_metadata import load_plant_file

    def build(rt: Runtime) -> str:
        create_tenant(rt.db, "acme", name="ACME Foods", timezone="America/Argentina/Buenos_Aires")
        load_plant_file(rt.db, "acme", DEMO_PLANT, today=rt.clock.now_utc().date())
        return "acme"

    return seeded(runtime, "plant_tenant", build)


@pytest.fixture
def demo_tenant(runtime: Runtime) -> str:
    """Tenant 'demo' as `manage.py seed-demo` builds it, with 60k detections spread over the last day.

    Includes the default Filters, Widget_catalog and layout, and user demo / demo-camet (admin).
    """
    from cli.demo import seed_demo_tenant

    def build(rt: Runtime) -> str:
        with reused_password_hashes():
            seed_demo_tenant(rt, days=1, rows=DEMO_TEST_ROWS, quiet=True, rollups=False)
        return "demo"

    return seeded(runtime, "demo_tenant", build)


@pytest.fixture
def auth_world(runtime: Runtime) -> AuthWorld:
    """Two tenants with the demo plant and three users (real Argon2 hashes)."""
    from core.tenants import create_tenant
    from identity.users import create_user
    from ingest.plant_metadata import load_plant_file

    world = AuthWorld(runtime)

    def build(rt: Runtime) -> dict[str, int]:
        for slug, name in (("acme", "ACME Foods"), ("zeta", "Zeta Corp")):
            create_tenant(rt.db, slug, name=name)
            load_plant_file(rt.db, slug, DEMO_PLANT, today=rt.clock.now_utc().date())
        ids = {}
        with reused_password_hashes():
            for username, tenant in world.tenant_of.items():
                ids[username] = create_user(rt.db, tenant=tenant, username=username,
                                            password=AUTH_PASSWORD, role=world.role_of[username])
        return ids

    world.ids.update(seeded(runtime, "auth_world", build))
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


@pytest.fixture(scope="session")
def private_mariadb_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where this worker's private MariaDB servers and their installation template live."""
    return tmp_path_factory.mktemp("mariadbd")


@pytest.fixture
def private_mysql(request: pytest.FixtureRequest, private_mariadb_root: Path):
    """A private `mariadbd` of this test alone (own port and data dir) that it may freeze, kill
    and restart; `@pytest.mark.mariadbd_args("--wait-timeout=8")` adds server options."""
    from tests.private_mariadb import available, private_mariadb

    if not available():
        if request.config.getoption("--require-mysql"):
            pytest.fail("mariadbd / mariadb-install-db are not installed but --require-mysql was given")
        pytest.skip("mariadbd not installed")
    marker = request.node.get_closest_marker("mariadbd_args")
    with private_mariadb(private_mariadb_root, extra_args=tuple(marker.args) if marker else ()) as server:
        yield server


@pytest.fixture
def cli_env(settings: Settings) -> dict[str, str]:
    """The environment of a `manage.py` run on this test's installation (tests.cli_support.manage)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMET_")}
    env.update(CAMET_VAR_DIR=str(settings.var_dir), CAMET_CENTRAL_DB_URL=settings.central_db_url,
               CAMET_ENV="test", PYTHONPATH=str(PROJECT_ROOT))
    return env

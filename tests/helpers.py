"""Helpers shared by the test modules (fixtures stay in conftest.py)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text

from core.clock import ManualClock, parse_instant
from core.db import build_engine, parse_db_url
from core.runtime import Runtime
from core.settings import PROJECT_ROOT, Settings, load_settings

# The suite never reads the real clock: every runtime starts at suite_now(), a plain Wednesday
# afternoon unless CAMET_TEST_NOW says otherwise. `make test` also runs the tests marked `clock`
# at a month end, a year end and a leap day (conftest.py, --clock-edges).
ORDINARY_NOW = "2026-11-18T15:30:00-03:00"
TEST_TZ = "America/Argentina/Buenos_Aires"

MYSQL_URL = os.environ.get("CAMET_TEST_MYSQL_URL", "").strip()
# Redis database 15 is the tests' own (README, Tests); production defaults use 0.
REDIS_URL = os.environ.get("CAMET_TEST_REDIS_URL", "").strip() or "redis://127.0.0.1:6379/15"
DEMO_PLANT = PROJECT_ROOT / "config" / "demo_plant.yml"
DEMO_TEST_ROWS = 60_000
AUTH_PASSWORD = "clave-de-prueba-123"


def suite_now() -> str:
    """The instant test clocks start at: CAMET_TEST_NOW, read when asked (a clock-edge test sets
    it for its own duration), else ORDINARY_NOW."""
    return os.environ.get("CAMET_TEST_NOW", "").strip() or ORDINARY_NOW


def frozen_test_clock() -> ManualClock:
    """A frozen clock at suite_now() (an instant without offset is plant time in Buenos Aires)."""
    return ManualClock(parse_instant(suite_now(), TEST_TZ))


_FIXTURE_HASHES: dict[str, str] = {}


@contextmanager
def reused_password_hashes() -> Iterator[None]:
    """Users made by fixtures get a real Argon2id hash (the product's parameters) computed once
    per worker and password instead of once per user: one hash costs ~0.15 s of CPU and the
    fixtures create hundreds of users. Users a test creates itself are hashed as in production."""
    from identity import users

    real = users.hash_password

    def once(password: str) -> str:
        if password not in _FIXTURE_HASHES:
            _FIXTURE_HASHES[password] = real(password)
        return _FIXTURE_HASHES[password]

    users.hash_password = once
    try:
        yield
    finally:
        users.hash_password = real


def drop_mysql_databases(prefix: str) -> None:
    """Drop the test's MariaDB databases: the central one and its `<prefix>_<slug>` tenants."""
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
        from core.tenants import ensure_database

        ensure_database(central)
    values: dict[str, object] = {
        "env": "test",
        "var_dir": var_dir,
        "central_db_url": central,
        "secret_key": "test-secret-key-" + "x" * 32,
        "jwt_secret": "test-jwt-secret-" + "y" * 32,
        "redis_url": REDIS_URL,
    }
    values.update(overrides)
    return load_settings(**values), prefix


class AuthWorld:
    """Tenants 'acme' (users ana=admin, vic=viewer) and 'zeta' (zed=admin), one password."""

    password = AUTH_PASSWORD

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.ids: dict[str, int] = {}
        self.tenant_of = {"ana": "acme", "vic": "acme", "zed": "zeta"}
        self.role_of = {"ana": "admin", "vic": "viewer", "zed": "admin"}

    def token(self, username: str, **kwargs: object) -> str:
        """An engine token of one of the world's users."""
        from identity.engine_tokens import Principal, issue_token

        principal = Principal(self.ids[username], username, self.tenant_of[username], self.role_of[username])
        return issue_token(self.runtime.settings, principal, **kwargs)

    def auth(self, username: str) -> dict[str, str]:
        """The Authorization header of one of the world's users."""
        return {"Authorization": f"Bearer {self.token(username)}"}

"""An installation for database fault tests: the demo tenant on SQLite files or on a private
MariaDB (tests/private_mariadb.py), with short database timeouts, and ways to break it for real.

SQLite files live in their own directory (not in var/, which also holds sessions and secrets),
so `break_database()` can take the files away without touching anything else; on MariaDB it
SIGKILLs the server. `restore_database()` undoes either.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

from core import migrations
from core.runtime import Runtime, build_runtime
from core.settings import load_settings
from tests.helpers import frozen_test_clock, reused_password_hashes
from tests.private_mariadb import PrivateMariaDB

# Short waits so that each fault test takes seconds: how long a request waits for the database,
# a connect, a dashboard query, and how long a failed server is left alone before a retry.
SHORT_WAITS = {"db_timeout_s": 1.0, "db_connect_timeout_s": 1.0, "query_timeout_s": 1.0, "db_retry_s": 1}
DEMO_PASSWORD = "demo-camet"


@dataclass
class Installation:
    """One installation's runtime, where its databases live, and the strings no client may see."""

    runtime: Runtime
    server: PrivateMariaDB | None
    db_dir: Path
    secrets: list[str] = field(default_factory=list)

    @property
    def backend(self) -> str:
        return "mysql" if self.server else "sqlite"

    def break_database(self) -> None:
        """MariaDB: SIGKILL the server; SQLite: move the database files' directory away."""
        if self.server is not None:
            self.server.kill()
        else:
            self.db_dir.rename(self.db_dir.with_name(self.db_dir.name + "-gone"))

    def restore_database(self) -> None:
        if self.server is not None:
            if self.server.process is None:
                self.server.start()
            else:
                self.server.thaw()
        else:
            gone = self.db_dir.with_name(self.db_dir.name + "-gone")
            if gone.exists():
                gone.rename(self.db_dir)

    def api_token(self, base_url: str) -> str:
        """A bearer token of the demo admin, asked for through the engine API."""
        answer = httpx.post(base_url + "/api/v1/auth/token", timeout=30,
                            json={"tenant": "demo", "username": "demo", "password": DEMO_PASSWORD})
        assert answer.status_code == 200, answer.text
        return answer.json()["access_token"]

    def token_of(self, username: str = "demo") -> str:
        """A bearer token signed for a demo user, made without the API (its limits may be down)."""
        from identity.engine_tokens import Principal, issue_token
        from identity.users import find_user

        user = find_user(self.runtime.db, tenant="demo", username=username)
        assert user is not None
        principal = Principal(user.id, user.username, user.tenant, user.role, user.credential_version)
        return issue_token(self.runtime.settings, principal)

    def leaks(self, text: str) -> list[str]:
        """The installation's private strings (database user, host, port, names, paths) in `text`."""
        return [s for s in self.secrets if s and s in text]


@contextmanager
def installation(backend: str, tmp_path: Path, server: PrivateMariaDB | None,
                 rows: int = 3000, **overrides: object) -> Iterator[Installation]:
    """The demo tenant (user demo / demo-camet, admin) with SHORT_WAITS and `overrides`."""
    db_dir = tmp_path / "databases"
    db_dir.mkdir()
    if backend == "mysql":
        assert server is not None
        central = server.url("camet_central")
        server.execute("CREATE DATABASE IF NOT EXISTS camet_central")
        tenant_url = None
    else:
        central = f"sqlite:///{db_dir / 'central.db'}"
        tenant_url = f"sqlite:///{db_dir / 'tenant_demo.db'}"
    values: dict[str, object] = {
        "env": "test", "var_dir": tmp_path / "var", "central_db_url": central,
        "secret_key": "test-secret-key-" + "x" * 32, "jwt_secret": "test-jwt-secret-" + "y" * 32,
        "result_cache_ttl_s": 0, **SHORT_WAITS, **overrides,
    }
    settings = load_settings(**values)
    rt = build_runtime(settings, clock=frozen_test_clock())
    migrations.upgrade_central(rt.db.central_engine)
    from cli.demo import seed_demo_tenant

    with reused_password_hashes():
        seed_demo_tenant(rt, days=1, rows=rows, db_url=tenant_url, quiet=True, rollups=False)
    url = make_url(central)
    secrets = [str(db_dir), "camet_central", "tenant_demo"]
    if server is not None:
        secrets += [f":{server.port}", str(server.port), "127.0.0.1", "root@", "pymysql"]
    secrets += [url.username] if url.username else []
    inst = Installation(rt, server, db_dir, [s for s in secrets if s])
    try:
        yield inst
    finally:
        inst.restore_database()
        rt.close()
        shutil.rmtree(db_dir.with_name(db_dir.name + "-gone"), ignore_errors=True)

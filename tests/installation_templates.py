"""Seeded installations built once per worker and copied into each test's own databases.

Seeding a tenant costs seconds (the demo tenant: 60k generated rows and a gap analysis; every
tenant: its schema and the plant YAML), and hundreds of tests start from the same state. The
first test of a worker that asks for a state builds it in a template installation with the same
settings and clock instant; every test then gets a copy in its own databases: SQLite files
through the backup API, MariaDB tables through their `SHOW CREATE TABLE` (keys, foreign keys and
partitions included) and `INSERT … SELECT` into databases under the test's own prefix, which the
test drops as before. A test whose installation is not fresh, or whose clock is not a manual one,
builds the state itself.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, inspect, select, text, update

from core import migrations
from core.clock import ManualClock
from core.db import build_engine, is_mysql, parse_db_url
from core.runtime import Runtime, build_runtime
from core.schema_central import schema_version, tenants
from core.tenants import default_tenant_url, ensure_database
from tests.helpers import MYSQL_URL, drop_mysql_databases

_DB_SUFFIXES = (".db", ".db-wal", ".db-shm")  # SQLite files, copied through the backup API


@dataclass
class _Template:
    runtime: Runtime
    result: Any
    prefix: str | None


_TEMPLATES: dict[tuple, _Template] = {}


def seeded(rt: Runtime, name: str, build: Callable[[Runtime], Any]) -> Any:
    """`build(rt)`'s state in `rt`, copied from this worker's template; returns build's result."""
    clock = rt.clock
    if type(clock) is not ManualClock or not _is_fresh(rt):
        return build(rt)
    settings = rt.settings.model_dump(exclude={"var_dir", "central_db_url"})
    key = (name, rt.db.central_url.get_backend_name(), clock.now_utc(), repr(sorted(settings.items())))
    template = _TEMPLATES.get(key)
    if template is None:
        template = _TEMPLATES[key] = _build_template(rt, build)
    _copy_installation(template.runtime, rt)
    return template.result


def drop_templates() -> None:
    """Close this worker's template installations and drop their MariaDB databases."""
    while _TEMPLATES:
        _key, template = _TEMPLATES.popitem()
        template.runtime.close()
        if template.prefix:
            drop_mysql_databases(template.prefix)
        shutil.rmtree(template.runtime.settings.var_dir.parent, ignore_errors=True)


def _build_template(rt: Runtime, build: Callable[[Runtime], Any]) -> _Template:
    root = tempfile.mkdtemp(prefix="camet-template-", dir=os.environ.get("PYTEST_DEBUG_TEMPROOT"))
    var_dir = Path(root) / "var"
    prefix = None
    central = ""
    if is_mysql(rt.db.central_url):
        prefix = f"ct_{uuid.uuid4().hex[:10]}"
        central = parse_db_url(MYSQL_URL).set(database=prefix).render_as_string(hide_password=False)
        ensure_database(central)
    settings = rt.settings.model_copy(update={"var_dir": var_dir, "central_db_url": central})
    settings._generated = {}
    template_rt = build_runtime(settings, clock=ManualClock(rt.clock.now_utc()))
    migrations.upgrade_central(template_rt.db.central_engine)
    result = build(template_rt)
    return _Template(template_rt, result, prefix)


def _is_fresh(rt: Runtime) -> bool:
    """Only the central schema exists: nothing a copy would overwrite."""
    engine = rt.db.central_engine
    with engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            if table == schema_version.name:
                continue
            if conn.execute(text(f"SELECT 1 FROM {_quoted(conn, table)} LIMIT 1")).first():
                return False
    return True


def _copy_installation(source: Runtime, target: Runtime) -> None:
    with source.db.central() as conn:
        tenant_urls = dict(conn.execute(select(tenants.c.slug, tenants.c.db_url)).all())
    _copy_database(source.db.central_engine, target.db.central_engine)
    for slug, url in tenant_urls.items():
        if url != default_tenant_url(source.db, slug):
            raise AssertionError(f"template tenant {slug!r} has its own database URL: not copied")
        new_url = default_tenant_url(target.db, slug)
        _copy_database(source.db.engine_for(url), _created(new_url))
        with target.db.central() as conn:
            conn.execute(update(tenants).where(tenants.c.slug == slug).values(db_url=new_url))
        target.db.forget_tenant(slug)
        target.meta.invalidate(slug)
    _copy_files(source.settings.var_dir, target.settings.var_dir)


def _created(url: str) -> Engine:
    ensure_database(url)
    return build_engine(parse_db_url(url))


def _copy_database(source: Engine, target: Engine) -> None:
    if is_mysql(source.url):
        _copy_mysql(source, target)
    else:
        _copy_sqlite(Path(source.url.database), Path(target.url.database))
    target.dispose()


def _copy_sqlite(source: Path, target: Path) -> None:
    """Page by page through SQLite's backup API (the WAL's content included)."""
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _copy_mysql(source: Engine, target: Engine) -> None:
    """Tables as the template has them, then their rows; the target's own rows are replaced."""
    source_db = source.url.database
    with target.begin() as conn:
        conn.execute(text("SET FOREIGN_KEY_CHECKS=0"))
        existing = set(inspect(conn).get_table_names())
        names = conn.execute(text(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = :db AND table_type = 'BASE TABLE'"), {"db": source_db}).scalars().all()
        for name in names:
            if name in existing:
                conn.execute(text(f"DELETE FROM `{name}`"))
            else:
                ddl = conn.execute(text(f"SHOW CREATE TABLE `{source_db}`.`{name}`")).one()[1]
                conn.exec_driver_sql(ddl)
            conn.execute(text(f"INSERT INTO `{name}` SELECT * FROM `{source_db}`.`{name}`"))
        conn.execute(text("SET FOREIGN_KEY_CHECKS=1"))


def _copy_files(source: Path, target: Path) -> None:
    """Files the build left in var/ besides its databases (the demo ingest key)."""
    for path in source.rglob("*"):
        if not path.is_file() or path.suffix in _DB_SUFFIXES:
            continue
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        if not destination.exists():
            shutil.copy2(path, destination)


def _quoted(conn: Any, table: str) -> str:
    return conn.dialect.identifier_preparer.quote(table)

"""Explicit, versioned schema changes for the central and tenant databases.

Each database keeps its applied version in `schema_version`. A migration is a numbered function
appended to its list; `upgrade` runs the ones not yet applied, in order, so `init-db` is
idempotent and later releases change the schema in reviewed steps (no autogeneration).
Detection tables are created per line by `ingest.plant_metadata`, not here: their number follows the data.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import MetaData, Table, func, insert, select
from sqlalchemy.engine import Connection, Engine

from core import schema_central, schema_tenant
from core.db import transaction

Migration = Callable[[Connection], None]


def _create_all(md: MetaData) -> Migration:
    def step(conn: Connection) -> None:
        md.create_all(conn, checkfirst=True)

    return step


CENTRAL: list[Migration] = [_create_all(schema_central.metadata)]


def _tenant_v1(conn: Connection) -> None:
    schema_tenant.metadata.create_all(conn, checkfirst=True)
    if conn.execute(select(schema_tenant.meta_state.c.key)).first() is None:
        conn.execute(insert(schema_tenant.meta_state).values(key="metadata_version", value=1))


def _tenant_external_credentials(conn: Connection) -> None:
    schema_tenant.external_credentials.create(conn, checkfirst=True)


TENANT: list[Migration] = [_tenant_v1, _tenant_external_credentials]


def current_version(conn: Connection, version_table: Table) -> int:
    """The highest applied version, 0 for an empty database."""
    if not conn.dialect.has_table(conn, version_table.name):
        return 0
    return conn.execute(select(func.max(version_table.c.version))).scalar() or 0


def _upgrade(engine: Engine, steps: list[Migration], version_table: Table) -> list[int]:
    applied: list[int] = []
    with transaction(engine) as conn:
        version_table.create(conn, checkfirst=True)
        start = current_version(conn, version_table)
        for number, step in enumerate(steps[start:], start=start + 1):
            step(conn)
            conn.execute(insert(version_table).values(version=number, applied_at=datetime.now()))
            applied.append(number)
    return applied


def upgrade_central(engine: Engine) -> list[int]:
    """Bring the central database to the latest version; returns the versions applied."""
    return _upgrade(engine, CENTRAL, schema_central.schema_version)


def upgrade_tenant(engine: Engine) -> list[int]:
    """Bring one tenant database to the latest version; returns the versions applied."""
    return _upgrade(engine, TENANT, schema_tenant.schema_version)
